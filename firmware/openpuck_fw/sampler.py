# The sampler: a hardware timer reads the IMU and the force pad into a ring
# buffer. The timer callback allocates nothing: it stores the timer tick,
# the 12 raw IMU bytes and the raw force reading in preallocated arrays. When
# the ring is full the sample is dropped and counted; the next stored sample
# carries a gap mark so the main loop ends its batch there.
from array import array

from micropython import const

RING_SIZE = const(128)     # 0.64 s at 200 Hz
_IMU_BYTES = const(12)


class Sampler:
    def __init__(self, hw, imu, force, ring_size=RING_SIZE, timer_id=-1):
        self._hw = hw
        self.imu = imu
        self.force = force
        self.size = ring_size
        self.imu_data = bytearray(ring_size * _IMU_BYTES)
        mv = memoryview(self.imu_data)
        self._slots = [mv[i * _IMU_BYTES:(i + 1) * _IMU_BYTES] for i in range(ring_size)]
        self.ticks = array("i", [0] * ring_size)
        self.force_raw = array("i", [0] * ring_size)
        self.gap = bytearray(ring_size)
        self.busy_us = 0       # time in the timer callback, wrapping at 2**30 (no big ints)
        self.head = 0          # written only by the timer callback
        self.tail = 0          # written only by the main loop
        self.dropped = 0       # samples the ring could not take, since boot
        self.read_errors = 0   # I2C or ADC failures (also dropped)
        self._gap_pending = 0
        self._ticks_us = hw.ticks_us
        self._timer_id = timer_id
        self._timer = None
        self.rate_hz = 0
        self._cb = self._tick  # bind once: referencing a method allocates
        self._zero = bytearray(_IMU_BYTES)

    def _tick(self, _timer):
        h = self.head
        nxt = h + 1
        if nxt == self.size:
            nxt = 0
        if nxt == self.tail:
            self.dropped += 1
            self._gap_pending = 1
            return
        t0 = self._ticks_us()
        self.ticks[h] = t0
        try:
            if self.imu is not None:
                self.imu.read_into(self._slots[h])
            if self.force is not None:
                self.force_raw[h] = self.force.read_raw()
        except OSError:
            self.read_errors += 1
            self.dropped += 1
            self._gap_pending = 1
            self.busy_us = (self.busy_us + self._hw.ticks_diff(self._ticks_us(), t0)) & 0x3FFFFFFF
            return
        self.gap[h] = self._gap_pending
        self._gap_pending = 0
        self.head = nxt
        self.busy_us = (self.busy_us + self._hw.ticks_diff(self._ticks_us(), t0)) & 0x3FFFFFFF

    def start(self, rate_hz):
        self.stop()
        self.tail = self.head
        self._gap_pending = 1   # a new run never continues the previous batch
        self.rate_hz = rate_hz
        t = self._hw.Timer(self._timer_id)
        t.init(mode=self._hw.Timer.PERIODIC, freq=rate_hz, callback=self._cb)
        self._timer = t

    def stop(self):
        if self._timer is not None:
            self._timer.deinit()
            self._timer = None
        self.rate_hz = 0

    def running(self):
        return self._timer is not None

    def available(self):
        n = self.head - self.tail
        return n + self.size if n < 0 else n

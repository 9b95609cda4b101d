# The sampler: a hardware timer reads the IMU and the force pad into a ring
# buffer. The timer callback allocates nothing: it stores the timer tick,
# the 12 raw IMU bytes and the raw force reading in preallocated arrays. When
# the ring is full the sample is dropped and counted; the next stored sample
# carries a gap mark so the main loop ends its batch there.
#
# The sample clock: each sample's time is its tick's place on a grid of
# exact periods (the rp2 alarm pool keeps a periodic timer's ticks exactly
# 1e6 // rate_hz us apart, as the virtual puck's clock does), not the moment
# its callback ran. On rp2 a soft timer's callback waits in MicroPython's
# scheduler queue: behind a garbage collection several run late, back to
# back, and read as a burst; on the grid they keep their periods, so the
# host's batch times (first sample's time + n periods) stay true.
#
# A tick that never came (the scheduler queue was full) is found from the
# same grid: callbacks a whole number of periods late. A burst's callbacks
# are late by less and less; lost ticks leave every later callback late by
# the same count. So when two callbacks half a period or more apart are as
# late, that many ticks were lost: counted in `dropped`
# (status.dropped_samples) and `skipped`, the grid moves on past them and
# the sample carries a gap mark (the host sees a hole of that many samples).
from array import array

from micropython import const

RING_SIZE = const(128)     # 0.64 s at 200 Hz
_IMU_BYTES = const(12)
_TICKS_MASK = const(0x3FFFFFFF)   # ticks_us wraps at 2**30


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
        self.dropped = 0       # samples not taken since boot: ring full, read errors, ticks skipped
        self.skipped = 0       # ticks the timer never delivered (also in dropped)
        self.period_us = 0
        self._grid = 0         # the sample clock: the last tick's time
        self._t_prev = 0       # when the last callback ran
        self._late = 0         # whole periods the last callback came after its tick
        self.read_errors = 0   # I2C or ADC failures (also dropped)
        self._gap_pending = 0
        self._ticks_us = hw.ticks_us
        self._timer_id = timer_id
        self._timer = None
        self.rate_hz = 0
        self._cb = self._tick  # bind once: referencing a method allocates
        self._zero = bytearray(_IMU_BYTES)

    def _tick(self, _timer):
        t_in = self._ticks_us()
        p = self.period_us
        g = (self._grid + p) & _TICKS_MASK     # this tick's place on the sample clock
        late = 0
        if p:   # 0 only for a callback called by hand before start()
            late = self._hw.ticks_diff(t_in, g) // p
            if late < 0:
                late = 0
            elif late and late == self._late and self._hw.ticks_diff(t_in, self._t_prev) >= (p >> 1):
                # as late as the callback before, and not in a burst with it: ticks lost
                self.skipped += late
                self.dropped += late
                g = (g + late * p) & _TICKS_MASK
                self._gap_pending = 1
                late = 0
        self._late = late
        self._grid = g
        self._t_prev = t_in
        h = self.head
        nxt = h + 1
        if nxt == self.size:
            nxt = 0
        if nxt == self.tail:
            self.dropped += 1
            self._gap_pending = 1
            return
        self.ticks[h] = g
        try:
            if self.imu is not None:
                self.imu.read_into(self._slots[h])
            if self.force is not None:
                self.force_raw[h] = self.force.read_raw()
        except OSError:
            self.read_errors += 1
            self.dropped += 1
            self._gap_pending = 1
            self.busy_us = (self.busy_us + self._hw.ticks_diff(self._ticks_us(), t_in)) & 0x3FFFFFFF
            return
        self.gap[h] = self._gap_pending
        self._gap_pending = 0
        self.head = nxt
        self.busy_us = (self.busy_us + self._hw.ticks_diff(self._ticks_us(), t_in)) & 0x3FFFFFFF

    def start(self, rate_hz):
        self.stop()
        self.tail = self.head
        self._gap_pending = 1   # a new run never continues the previous batch
        self.rate_hz = rate_hz
        self.period_us = 1000000 // rate_hz
        self._late = 0
        self._grid = self._ticks_us() & _TICKS_MASK   # the first tick is due one period from now
        self._t_prev = self._grid
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

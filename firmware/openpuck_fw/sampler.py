# The sampler: a hardware timer reads the IMU and the force pad into a ring
# buffer. The timer callback allocates nothing: it stores the timer tick,
# the 12 raw IMU bytes and the raw force reading in preallocated arrays. When
# the ring is full the sample is dropped and counted; the next stored sample
# carries a gap mark so the main loop ends its batch there.
#
# A tick the timer never delivers is counted too, from the sample clock: on
# rp2 a soft timer's tick is lost when MicroPython's scheduler queue is full
# (a garbage collection, a burst of host input). Each callback knows the
# time its tick was due; one that comes half a period or more late may be a
# late tick or the one after a lost tick. It is taken as lost ticks only when
# the next callback is as late too (a late tick is followed by an on-time
# one), so lateness alone is never counted. Those ticks go into `dropped`
# (status.dropped_samples) and `skipped`. Until the next callback tells, such
# a sample is held back from the main loop; then it either carries a gap
# mark (the first after a hole) or takes its tick's time on the grid (late).
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
        self._due = 0          # when the next tick is due on the sample clock
        self._late = 0         # whole periods the last callback came late by, not yet counted
        self._held = 0         # 1: the sample at head is written, not yet given to the main loop
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
        half = p >> 1
        lag = self._hw.ticks_diff(t_in, self._due)
        late = 0
        lost = 0
        if lag >= half and p:   # p is 0 only for a callback called by hand before start()
            late = (lag + half) // p
            lost = late if late < self._late else self._late
            if lost > 0:   # late at two callbacks running: those ticks never came
                self.skipped += lost
                self.dropped += lost
                late -= lost
                lag -= lost * p
        if self._held:
            # this callback tells what the held sample was: the first after
            # lost ticks (it opens a batch) or a late tick (it goes on the grid,
            # so the host's batch times stay right)
            h = self.head
            if lost > 0:
                self.gap[h] = 1
            else:
                self.ticks[h] = (self._due - p) & _TICKS_MASK
            self.head = h + 1 if h + 1 < self.size else 0
            self._held = 0
        self._late = late
        if lag < half:
            self._due = t_in   # on time: the grid follows the timer (no drift from rounding)
        self._due = (self._due + p) & _TICKS_MASK
        h = self.head
        nxt = h + 1
        if nxt == self.size:
            nxt = 0
        if nxt == self.tail:
            self.dropped += 1
            self._gap_pending = 1
            return
        t0 = t_in
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
        if late > 0:
            self._held = 1   # late or after a loss: held back until the next callback tells
        else:
            self.head = nxt
        self.busy_us = (self.busy_us + self._hw.ticks_diff(self._ticks_us(), t0)) & 0x3FFFFFFF

    def start(self, rate_hz):
        self.stop()
        self.tail = self.head
        self._gap_pending = 1   # a new run never continues the previous batch
        self.rate_hz = rate_hz
        self.period_us = 1000000 // rate_hz
        self._late = 0
        self._held = 0
        self._due = (self._ticks_us() + self.period_us) & _TICKS_MASK
        t = self._hw.Timer(self._timer_id)
        t.init(mode=self._hw.Timer.PERIODIC, freq=rate_hz, callback=self._cb)
        self._timer = t

    def stop(self):
        if self._timer is not None:
            self._timer.deinit()
            self._timer = None
            # the last callback was late and no tick came after it to tell a
            # late tick from a lost one: counted, as the host sees a hole there
            self.skipped += self._late
            self.dropped += self._late
            self._late = 0
            if self._held:
                h = self.head
                self.gap[h] = 1
                self.head = h + 1 if h + 1 < self.size else 0
                self._held = 0
        self.rate_hz = 0

    def running(self):
        return self._timer is not None

    def available(self):
        n = self.head - self.tail
        return n + self.size if n < 0 else n

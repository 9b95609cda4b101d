# Virtual time of the virtual puck: the clock, the timers it fires and the
# watchdog it checks.
#
# - Virtual microseconds: real time x speed, or (speed = inf) as fast as the
#   firmware runs: wait() then jumps straight to the next timer tick.
#   Ticks wrap at 2**30 like a board's.
# - Timers fire from wait() at each due tick, with the clock pinned at the
#   tick's time, as an interrupt would preempt the main loop.
# - The watchdog: on_watchdog() is called once it has gone unfed past its
#   timeout (the hardware layer exits the process: the board resets).
import sys
import time

from micropython import const

TICKS_MASK = const((1 << 30) - 1)
_TICKS_PERIOD = const(1 << 30)
_TICKS_HALF = const(1 << 29)
_FAST_TICKS_PER_WAIT = const(4)   # at speed inf: timer ticks per idle of the main loop


def ticks_diff(a, b):
    d = (a - b) & TICKS_MASK
    return d - _TICKS_PERIOD if d >= _TICKS_HALF else d


class Clock:
    """Virtual time at `speed` times real time (float("inf"): as fast as the
    firmware runs). Timers are objects with period_us, due_us and
    callback(timer); the watchdog an object with timeout_us and fed_us."""

    def __init__(self, speed, on_watchdog):
        if not speed > 0:
            raise ValueError("clock speed %r: give a factor above 0, or inf" % (speed,))
        self.speed = speed
        self.fast = speed == float("inf")
        self.on_watchdog = on_watchdog
        self.virt_us = 0          # virtual time at the last sync
        self._real_last = time.ticks_us()
        self._pinned = -1         # >= 0 while a timer callback runs
        self.timers = []
        self.wdt = None
        self.ready = False
        self.skip_every = 0       # > 0: every that many-th timer tick is lost (the skip_ticks fault)
        self.ticks_due = 0        # timer ticks that came due, delivered or not
        self.ticks_skipped = 0

    def _sync(self):
        r = time.ticks_us()
        d = time.ticks_diff(r, self._real_last)
        self._real_last = r
        if not self.fast and d > 0:
            self.virt_us += int(d * self.speed)

    def now_us(self):
        if self._pinned >= 0:
            return self._pinned
        self._sync()
        return self.virt_us

    def sleep_ms(self, ms):
        # busy time in the firmware (e.g. a reset settling): no timer fires meanwhile
        if self.fast:
            self.virt_us += ms * 1000
        else:
            time.sleep_ms(ms)

    def start(self, timer):
        """Schedule timer's first tick one period from now."""
        timer.due_us = self.now_us() + timer.period_us
        self.timers.append(timer)

    def stop(self, timer):
        if timer in self.timers:
            self.timers.remove(timer)

    def _advance_real(self, poller, timeout_ms):
        """Wait for input up to timeout_ms real ms; in fast mode add the real time waited."""
        r0 = time.ticks_us()
        if timeout_ms > 0:
            poller.poll(timeout_ms)
        if self.fast:
            self.virt_us += time.ticks_diff(time.ticks_us(), r0)
            self._real_last = time.ticks_us()

    def _next_due(self):
        due = -1
        for t in self.timers:
            if due < 0 or t.due_us < due:
                due = t.due_us
        return due

    def fire_until(self, until_us, max_fires):
        """Fire the timer ticks due up to until_us (at most max_fires), earliest
        first, each with the clock pinned at its time; the number fired."""
        fired = 0
        while fired < max_fires:
            nxt = None
            for t in self.timers:
                if t.due_us <= until_us and (nxt is None or t.due_us < nxt.due_us):
                    nxt = t
            if nxt is None:
                break
            self._pinned = nxt.due_us
            nxt.due_us += nxt.period_us
            fired += 1
            self.ticks_due += 1
            if self.skip_every and self.ticks_due % self.skip_every == 0:
                self._pinned = -1
                self.ticks_skipped += 1
                continue
            try:
                nxt.callback(nxt)
            finally:
                self._pinned = -1
            self.check_wdt()
        return fired

    def wait(self, poller, timeout_ms):
        """The firmware is idle: let time pass (timer interrupts included) until input or timeout."""
        if not self.ready:
            self.ready = True
            sys.stderr.write("sim: ready\n")   # the launcher waits for this line
        self.check_wdt()
        if self.fast:
            if poller.poll(0):
                return
            if self._next_due() < 0:
                self._advance_real(poller, timeout_ms)
                return
            for _ in range(_FAST_TICKS_PER_WAIT):
                due = self._next_due()
                if due < 0:
                    break
                if due > self.virt_us:
                    self.virt_us = due
                self.fire_until(self.virt_us, 1)
            return
        now = self.now_us()
        due = self._next_due()
        wait_ms = timeout_ms
        if due >= 0:
            ahead_ms = int((due - now) / self.speed / 1000)
            if ahead_ms < wait_ms:
                wait_ms = ahead_ms
        if wait_ms > 0:
            poller.poll(wait_ms)
        self.fire_until(self.now_us(), 10000)

    def check_wdt(self):
        w = self.wdt
        if w is not None and self.now_us() - w.fed_us > w.timeout_us:
            sys.stderr.write("sim: watchdog expired, resetting\n")
            self.on_watchdog()

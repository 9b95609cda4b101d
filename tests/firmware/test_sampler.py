# The sampler counts every tick that gave no sample: a full ring, a read
# error, and a tick the timer never delivered (rp2's soft timer loses one
# when MicroPython's scheduler queue is full). A late tick is not a lost one.
# The timer here is driven by hand on a clock the test sets.
import micropython
from fwtest import check, done, eq
from openpuck_fw.sampler import Sampler

P = 5000   # us: 200 Hz
WRAP = 1 << 30


class Hw:
    """The few hw names the sampler uses, on a clock the test sets."""

    def __init__(self, t0=1000000):
        self.now = t0

    def ticks_us(self):
        return self.now % WRAP

    def ticks_diff(self, a, b):
        d = (a - b) % WRAP
        return d - WRAP if d >= WRAP // 2 else d

    class Timer:
        PERIODIC = 1

        def __init__(self, _id):
            pass

        def init(self, mode, freq, callback):
            pass

        def deinit(self):
            pass


class Imu:
    def read_into(self, buf):
        pass


class Force:
    def read_raw(self):
        return 1234


def sampler(t0=1000000, ring=512):
    hw = Hw(t0)
    s = Sampler(hw, Imu(), Force(), ring_size=ring)
    s.start(200)
    return s, hw


def run(s, hw, offsets):
    """A callback at each time (us after start); the main loop takes every sample."""
    start = hw.now
    for off in offsets:
        hw.now = start + off
        s._cb(None)
    marks = []
    times.clear()
    while s.tail != s.head:
        marks.append(s.gap[s.tail])
        times.append(hw.ticks_diff(s.ticks[s.tail], start % WRAP))
        s.tail = (s.tail + 1) % s.size
    return marks


times = []   # the samples' times of the last run, us after start


def grid(n, skip=(), late=None, jitter=0):
    """Tick times k * P for k in 1..n, without the ticks in skip; late: {k: us}."""
    out = []
    for k in range(1, n + 1):
        if k in skip:
            continue
        out.append(k * P + (late or {}).get(k, 0) + (jitter if k % 2 else -jitter))
    return out


s, hw = sampler()
marks = run(s, hw, grid(400))
eq("on time: nothing dropped", (s.dropped, s.skipped), (0, 0))
eq("on time: only the first sample opens a batch", sum(marks), 1)

s, hw = sampler()
marks = run(s, hw, grid(400, jitter=2000))
eq("jitter under half a period is not a loss", (s.dropped, s.skipped), (0, 0))

s, hw = sampler()
marks = run(s, hw, grid(400, late={k: 4000 for k in range(1, 401)}))
eq("...nor is a steady lateness under a period", (s.skipped, sum(marks)), (0, 1))

s, hw = sampler()
marks = run(s, hw, grid(100, skip=(10,)))
eq("a lost tick is counted", (s.dropped, s.skipped), (1, 1))
eq("a batch opens after the hole", [i for i, m in enumerate(marks) if m], [0, 10])
eq("the host sees a hole of one sample there", times[10] - times[9], 2 * P)
check("sample times only go forward", all(times[i] < times[i + 1] for i in range(len(times) - 1)))

s, hw = sampler()
run(s, hw, grid(100, skip=(10, 11, 12, 50)))
eq("lost ticks in a row are each counted", s.skipped, 4)

s, hw = sampler()
marks = run(s, hw, grid(100, skip=(40, 41), late={42: 2000}))
eq("lost ticks before a late one", s.skipped, 2)

# behind a garbage collection (8 ms) a soft timer's callbacks run late, back
# to back: every tick came, none is counted, and the samples keep their
# ticks' times (the host's batch times stay on the grid)
s, hw = sampler()
late = grid(100)
late[19] = 20 * P + 8000
late[20] = 20 * P + 8100
marks = run(s, hw, late)
eq("late, not lost: nothing counted", (s.dropped, s.skipped), (0, 0))
eq("late, not lost: no batch ends there", [i for i, m in enumerate(marks) if m], [0])
eq("every sample has its tick's time", times, [k * P for k in range(1, 101)])

# a 100 ms stall: 20 ticks due, the scheduler queue holds 8, which run back
# to back after it; the other 12 were lost
s, hw = sampler()
stall = [k * P for k in range(1, 20)] + [20 * P + 97000 + i * 100 for i in range(8)]
stall += [k * P + 50 for k in range(40, 80)]
marks = run(s, hw, stall)
eq("a stall past the queue: the ticks lost counted", s.skipped, 12)
eq("...the host sees a hole of as many", (times[-1] - times[0]) // P + 1, len(times) + 12)
check("...and times only go forward", all(times[i] < times[i + 1] for i in range(len(times) - 1)))

s, hw = sampler(t0=WRAP - 3 * P)
run(s, hw, grid(20, skip=(8,)))
eq("across the 2**30 wrap of ticks_us", s.skipped, 1)

s, hw = sampler(ring=8)
run(s, hw, [])
start = hw.now
for k in range(1, 21):
    if k != 15:
        hw.now = start + k * P
        s._cb(None)
eq("ring full and lost ticks both in dropped", (s.dropped, s.skipped), (12 + 1, 1))


def allocates_nothing(s, hw, times):
    lock = getattr(micropython, "heap_lock", None)   # CPython, the oracle, has none: nothing to check
    start = hw.now
    if lock:
        lock()
    try:
        for off in times:
            hw.now = start + off
            s._cb(None)
        return True
    except MemoryError:
        return False
    finally:
        if lock:
            micropython.heap_unlock()


s, hw = sampler()
check("counting lost ticks allocates nothing", allocates_nothing(s, hw, grid(60, skip=(5, 6, 30))))
eq("...and counts them", s.skipped, 3)
done()

# The hardware layer of the virtual puck: the names of openpuck_fw/hw.py
# (I2C, ADC, Pin, PWM, Timer, WDT, ticks_*, sleep_ms, reset, wait, ...)
# wired on the models of a Pico W puck (boards/pico_w.py):
#   boards/sim_clock.py     virtual time, its timers and the watchdog
#   boards/sim_feed.py      the motion source on motion time
#   boards/sim_lsm6dsox.py  the IMU's registers, on the I2C bus
#   boards/sim_fsr.py       the force pad's divider, on ADC0
# setup() makes all of them afresh and returns them (a Sim); the peripherals
# made afterwards are wired to that Sim.
#
# reset() exits with code 75, an expired watchdog with 76; the launcher
# (openpuck.device.sim) restarts the firmware on the same pseudo-terminal.
import sys
import time

from micropython import const
from openpuck_fw import msgtable as mt

from boards import pico_w, sim_clock
from boards.sim_clock import TICKS_MASK, Clock
from boards.sim_feed import MotionFeed
from boards.sim_fsr import FSRModel
from boards.sim_lsm6dsox import LSM6DSOXModel

EXIT_SOFT_RESET = const(75)
EXIT_WATCHDOG = const(76)
# no_imu: nothing answers on the IMU's address. skip_ticks: every SKIP_EVERY-th
# timer tick is lost, as the rp2 port loses a soft timer's tick when
# MicroPython's scheduler queue is full (the firmware must count each one).
# flash_full: the flash has FLASH_ROOM bytes left: a file written through
# flash_open takes that many, then its writes fail with ENOSPC, as littlefs's do.
# small_log: the puck's event log (openpuck_fw/eventlog.py) may take SMALL_LOG
# bytes only, so that it fills within a few sets while the config has room.
FAULTS = ("no_imu", "skip_ticks", "flash_full", "small_log")
SKIP_EVERY = const(50)
FLASH_ROOM = const(16)
SMALL_LOG = const(600)
_ENOSPC = const(28)

IS_SIM = True
BOOT_WINDOW_MS = 0
bootloader = None   # the virtual puck has no bootloader: reboot(mode=bootloader) is refused


def _exit(code):
    try:
        sys.stdout.buffer.flush()
    except (AttributeError, OSError):
        pass
    sys.exit(code)


def _watchdog_expired():
    _exit(EXIT_WATCHDOG)


class Sim:
    """All the state of the virtual hardware: the clock (with its timers and
    watchdog), the motion feed, the I2C devices by address (imu: the
    LSM6DSOX, None under the no_imu fault), the force pad, the PWM outputs
    by pin id, the reset cause and the unique id."""

    def __init__(self, speed, motion, faults, unique, reset_cause):
        for f in faults:
            if f not in FAULTS:
                raise ValueError("sim fault %r: not one of %s" % (f, ", ".join(FAULTS)))
        if not mt.RESET_CAUSE_POWER_ON <= reset_cause <= mt.RESET_CAUSE_BROWN_OUT:
            raise ValueError("reset cause %r: not an enums.reset_cause value (0..3)" % (reset_cause,))
        self.clock = Clock(speed, _watchdog_expired)
        if "skip_ticks" in faults:
            self.clock.skip_every = SKIP_EVERY
        self.feed = MotionFeed(self.clock, motion)
        self.faults = faults
        self.devices = {}
        self.imu = None
        if "no_imu" not in faults:
            self.imu = LSM6DSOXModel(pico_w.IMU_AXES, self.feed)
            self.devices[pico_w.IMU_ADDR] = self.imu
        self.fsr = FSRModel(pico_w.FSR_R_FIXED_OHM, pico_w.FSR_VREF_MV)
        self.flash_room = FLASH_ROOM if "flash_full" in faults else -1   # -1: room enough
        self.pwm = {}
        self.unique = unique
        self.reset_cause = reset_cause
        self.heap_every_ms = 0    # report the heap every that many real ms (0: never)
        self.heap_last_ms = time.ticks_ms()

    def force_n(self):
        """The force on the pad now: the motion feed held on the IMU's ODR grid,
        so that a sample's force and motion come from one reading."""
        imu = self.imu
        return self.feed.sample(imu.odr_hz() if imu is not None else 0)[6]


_sim = Sim(1.0, None, (), b"SIM-PUCK", mt.RESET_CAUSE_POWER_ON)


def setup(speed=1.0, motion=None, faults=(), unique=b"SIM-PUCK", reset_cause=mt.RESET_CAUSE_POWER_ON,
          heap_ms=0):
    """Start the virtual hardware afresh and return its state (a Sim).

    speed: virtual time per real time (float("inf"): as fast as the firmware
    runs); motion: a source of boards/sim_motion.py, or None (lying still);
    faults: names from FAULTS; reset_cause: what reset_cause() reports;
    heap_ms: report the heap every that many real ms (_heap_report)."""
    global _sim
    _sim = Sim(speed, motion, tuple(faults), unique, reset_cause)
    _sim.heap_every_ms = heap_ms
    _sim.heap_last_ms = time.ticks_ms()
    return _sim


def clock():
    return _sim.clock


ticks_diff = sim_clock.ticks_diff


def ticks_us():
    return _sim.clock.now_us() & TICKS_MASK


def ticks_ms():
    return (_sim.clock.now_us() // 1000) & TICKS_MASK


def sleep_ms(ms):
    _sim.clock.sleep_ms(ms)


def wait(poller, timeout_ms):
    _sim.clock.wait(poller, timeout_ms)
    if _sim.heap_every_ms:
        _heap_report()


def _heap_report():
    """For the command fuzzer and leak hunts (OPENPUCK_SIM_HEAP_MS): every
    heap_every_ms real ms, at the main loop's idle point, a full collection and
    "sim: heap alloc=BYTES free=BYTES" on stderr (the launcher's log). Off by
    default: the collection is not the firmware's."""
    now = time.ticks_ms()
    if time.ticks_diff(now, _sim.heap_last_ms) < _sim.heap_every_ms:
        return
    _sim.heap_last_ms = now
    import gc
    gc.collect()
    sys.stderr.write("sim: heap alloc=%d free=%d\n" % (gc.mem_alloc(), gc.mem_free()))


def reset():
    _exit(EXIT_SOFT_RESET)


def reset_cause():
    return _sim.reset_cause


def unique_id():
    return _sim.unique


class _FileOnFullFlash:
    """A file being written on a flash with `room` bytes left."""

    def __init__(self, f, room):
        self._f = f
        self._room = room

    def write(self, data):
        if len(data) > self._room:
            if self._room:
                self._f.write(data[:self._room])   # what fitted stays: a torn file
            self._room = 0
            raise OSError(_ENOSPC, "no space left")
        self._room -= len(data)
        return self._f.write(data)

    def flush(self):
        self._f.flush()

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def flash_open(path, mode="rb"):
    """open() on the puck's flash (the state folder); under the flash_full fault a
    file opened for writing takes FLASH_ROOM bytes, then fails with ENOSPC."""
    f = open(path, mode)
    if "w" in mode and _sim.flash_room >= 0:
        return _FileOnFullFlash(f, _sim.flash_room)
    return f


# ---------------------------------------------------------------- peripherals
class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, pin_id, mode=-1, pull=-1, value=None):
        self.id = pin_id
        self._v = value or 0

    def value(self, v=None):
        if v is None:
            return self._v
        self._v = 1 if v else 0
        return None

    def init(self, *args, **kw):
        pass


class PWM:
    """A PWM output; the Sim's pwm holds the last one made on each pin."""

    def __init__(self, pin, freq=0, duty_u16=0):
        self.pin = pin
        self._freq = freq
        self._duty = duty_u16
        _sim.pwm[pin.id] = self

    def freq(self, f=None):
        if f is None:
            return self._freq
        self._freq = f
        return None

    def duty_u16(self, d=None):
        if d is None:
            return self._duty
        self._duty = d
        return None

    def deinit(self):
        self._duty = 0


class Timer:
    PERIODIC = 1
    ONE_SHOT = 0

    def __init__(self, timer_id=-1, **kw):
        self.id = timer_id
        self.callback = None
        self.period_us = 0
        self.due_us = 0
        self._clock = None
        if kw:
            self.init(**kw)

    def init(self, mode=1, freq=-1, period=-1, callback=None, hard=False):
        self.deinit()
        self.period_us = int(1000000 / freq) if freq > 0 else int(period) * 1000
        if self.period_us <= 0:
            raise ValueError("timer: freq %r Hz / period %r ms gives no period" % (freq, period))
        self.callback = callback
        self._clock = _sim.clock
        self._clock.start(self)

    def deinit(self):
        if self._clock is not None:
            self._clock.stop(self)
            self._clock = None


class WDT:
    def __init__(self, id=0, timeout=5000):
        self._clock = _sim.clock
        self.timeout_us = timeout * 1000
        self.fed_us = self._clock.now_us()
        self._clock.wdt = self

    def feed(self):
        self.fed_us = self._clock.now_us()


class I2C:
    """The bus of the Sim it was made in: its devices answer by address."""

    def __init__(self, bus_id=0, scl=None, sda=None, freq=400000, timeout=50000):
        self.bus_id = bus_id
        self._devices = _sim.devices

    def _dev(self, addr):
        d = self._devices.get(addr)
        if d is None:
            raise OSError(19)   # ENODEV: no acknowledge
        return d

    def scan(self):
        return sorted(self._devices)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        self._dev(addr).write(memaddr, buf)

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        return bytes(self._dev(addr).read(memaddr, nbytes))

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        data = self._dev(addr).read(memaddr, len(buf))
        for i in range(len(buf)):
            buf[i] = data[i]


class ADC:
    """An ADC input of the Sim it was made in: the force pad on pico_w.FSR_ADC_PIN, 0 elsewhere."""

    def __init__(self, pin):
        self.pin = pin.id if isinstance(pin, Pin) else pin
        self._sim = _sim

    def read_u16(self):
        if self.pin != pico_w.FSR_ADC_PIN:
            return 0
        s = self._sim
        return s.fsr.read_u16(s.force_n())

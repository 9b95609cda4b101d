# The hardware layer of the virtual puck: the names of openpuck_fw/hw.py
# (I2C, ADC, Pin, PWM, Timer, WDT, ticks_*, reset, wait) backed by models.
#
# - Clock: virtual microseconds. Real time x speed, or (speed = inf) as fast
#   as the firmware runs: wait() then jumps straight to the next timer tick.
#   ticks_us/ticks_ms wrap at 2**30 like a board's.
# - Timer: fires from wait() at each due tick, with the clock pinned at the
#   tick's time, as an interrupt would preempt the main loop.
# - I2C: a register model of the LSM6DSOX (WHO_AM_I, CTRL1_XL/CTRL2_G/
#   CTRL3_C set range and rate, STATUS_REG, data registers 0x22..0x2D) whose
#   data comes from a motion source, sampled at the configured ODR and turned
#   into raw counts with the configured range.
# - ADC: the FSR divider: force -> resistance -> volts -> 12-bit reading,
#   returned by read_u16 as the RP2040 does.
# - WDT: resets the process (exit code 76) if not fed within its timeout.
# - reset(): exit code 75; the launcher (openpuck.sim) restarts the firmware
#   on the same pseudo-terminal.
import sys
import time

from micropython import const

from boards import pico_w

EXIT_SOFT_RESET = const(75)
EXIT_WATCHDOG = const(76)
_TICKS_PERIOD = const(1 << 30)
_TICKS_MASK = const((1 << 30) - 1)
_TICKS_HALF = const(1 << 29)
_FAST_TICKS_PER_WAIT = const(4)   # at speed inf: timer ticks per idle of the main loop

IS_SIM = True
BOOT_WINDOW_MS = 0
RESET_POWER_ON = 0
RESET_SOFT = 1
RESET_WATCHDOG = 2
RESET_BROWN_OUT = 3

# FSR physics of the modelled pad (the board's calibration table was made from it)
FSR_K_OHM_N = 300000.0      # R_fsr = K / F
FSR_R_OPEN_OHM = 10000000.0  # no touch


def ticks_diff(a, b):
    d = (a - b) & _TICKS_MASK
    return d - _TICKS_PERIOD if d >= _TICKS_HALF else d


def ticks_add(a, d):
    return (a + d) & _TICKS_MASK


class Clock:
    def __init__(self, speed):
        self.speed = speed
        self.fast = speed == float("inf")
        self.virt_us = 0          # virtual time at the last sync
        self._real_last = time.ticks_us()
        self._pinned = -1         # >= 0 while a timer callback runs
        self.timers = []
        self.wdt = None
        self.ready = False

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

    def _fire_until(self, until_us, max_fires):
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
            try:
                nxt.callback(nxt)
            finally:
                self._pinned = -1
            fired += 1
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
                self._fire_until(self.virt_us, 1)
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
        self._fire_until(self.now_us(), 10000)

    def check_wdt(self):
        w = self.wdt
        if w is not None and self.now_us() - w.fed_us > w.timeout_us:
            sys.stderr.write("sim: watchdog expired, resetting\n")
            _exit(EXIT_WATCHDOG)


# ---------------------------------------------------------------- settings
_clock = Clock(1.0)
_motion = None
_faults = ()
_unique = b"SIM-PUCK"


def setup(speed=1.0, motion=None, faults=(), unique=b"SIM-PUCK", heap_ms=0):
    global _clock, _motion, _faults, _unique, _heap_every_ms
    _clock = Clock(speed)
    _motion = motion
    _faults = faults
    _unique = unique
    _heap_every_ms = heap_ms


def clock():
    return _clock


def ticks_us():
    return _clock.now_us() & _TICKS_MASK


def ticks_ms():
    return (_clock.now_us() // 1000) & _TICKS_MASK


def sleep_ms(ms):
    # busy time in the firmware (e.g. a reset settling): no timer fires meanwhile
    if _clock.fast:
        _clock.virt_us += ms * 1000
    else:
        time.sleep_ms(ms)


def wait(poller, timeout_ms):
    _clock.wait(poller, timeout_ms)
    if _heap_every_ms:
        _heap_report()


# Heap report (OPENPUCK_SIM_HEAP_MS, for the command fuzzer and leak hunts):
# every that many real milliseconds, at the idle point of the main loop, a
# full collection and "sim: heap alloc=BYTES free=BYTES" on stderr (the
# launcher's log). Off by default: the collection is not the firmware's.
_heap_every_ms = 0
_heap_last_ms = time.ticks_ms()


def _heap_report():
    global _heap_last_ms
    now = time.ticks_ms()
    if time.ticks_diff(now, _heap_last_ms) < _heap_every_ms:
        return
    _heap_last_ms = now
    import gc
    gc.collect()
    sys.stderr.write("sim: heap alloc=%d free=%d\n" % (gc.mem_alloc(), gc.mem_free()))


def _exit(code):
    try:
        sys.stdout.buffer.flush()
    except (AttributeError, OSError):
        pass
    sys.exit(code)


def reset():
    _exit(EXIT_SOFT_RESET)


bootloader = None   # the virtual puck has no bootloader: reboot(mode=bootloader) is refused


_RESET_CAUSE = 0


def set_reset_cause(c):
    global _RESET_CAUSE
    _RESET_CAUSE = c


def reset_cause():
    return _RESET_CAUSE


def unique_id():
    return _unique


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
    instances: dict = {}

    def __init__(self, pin, freq=0, duty_u16=0):
        self.pin = pin
        self._freq = freq
        self._duty = duty_u16
        PWM.instances[pin.id] = self

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
        if kw:
            self.init(**kw)

    def init(self, mode=1, freq=-1, period=-1, callback=None, hard=False):
        self.deinit()
        self.period_us = int(1000000 / freq) if freq > 0 else int(period) * 1000
        if self.period_us <= 0:
            raise ValueError("timer period")
        self.callback = callback
        self.due_us = _clock.now_us() + self.period_us
        _clock.timers.append(self)

    def deinit(self):
        if self in _clock.timers:
            _clock.timers.remove(self)


class WDT:
    def __init__(self, id=0, timeout=5000):
        self.timeout_us = timeout * 1000
        self.fed_us = _clock.now_us()
        _clock.wdt = self

    def feed(self):
        self.fed_us = _clock.now_us()


class _MotionClock:
    """Motion time runs while the accelerometer is on (ODR != 0): the patient
    starts when the puck starts streaming, and pauses when it stops."""

    def __init__(self):
        self.acc_us = 0
        self.since_us = -1

    def run(self, on):
        now = _clock.now_us()
        if on and self.since_us < 0:
            self.since_us = now
        elif not on and self.since_us >= 0:
            self.acc_us += now - self.since_us
            self.since_us = -1

    def us(self):
        if self.since_us < 0:
            return self.acc_us
        return self.acc_us + _clock.now_us() - self.since_us


_motion_clock = _MotionClock()
_REST = (0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)
_last_key = -1
_last_sample = _REST


def motion_sample(odr_hz):
    """The motion source at the current motion time, held at the ODR grid."""
    global _last_key, _last_sample
    t_us = _motion_clock.us()
    k = t_us * odr_hz // 1000000 if odr_hz else -2
    if k != _last_key:
        _last_key = k
        if _motion is None:
            _last_sample = _REST
        else:
            t_s = (k * 1000000 // odr_hz) / 1e6 if odr_hz else t_us / 1e6
            _last_sample = _motion.sample(t_s)
    return _last_sample


# accel sensitivity (ng/LSB) by FS_XL bits; gyro (udps/LSB) by FS_G|FS_125 bits
_ACCEL_NG = {0b00: 61000, 0b10: 122000, 0b11: 244000, 0b01: 488000}
_GYRO_UDPS = {0b001: 4375, 0b000: 8750, 0b010: 17500, 0b100: 35000, 0b110: 70000,
              0b011: 4375, 0b101: 4375, 0b111: 4375}
_ODR_HZ = (0, 12, 26, 52, 104, 208, 416, 833, 1666, 3332, 6664)


def _clamp16(v):
    v = int(v + 0.5) if v >= 0 else -int(-v + 0.5)
    return 32767 if v > 32767 else (-32768 if v < -32768 else v)


class LSM6DSOXModel:
    """Register model of the LSM6DSOX as seen over I2C."""

    def __init__(self, axes):
        self.axes = axes
        self.regs = bytearray(128)
        self._reset()
        self.reads = 0

    def _reset(self):
        r = self.regs
        for i in range(len(r)):
            r[i] = 0
        r[0x0F] = 0x6C          # WHO_AM_I
        r[0x12] = 0x04          # CTRL3_C: IF_INC at reset
        _motion_clock.run(False)
        self._last_read_key = -1

    def odr_hz(self):
        return _ODR_HZ[self.regs[0x10] >> 4] if (self.regs[0x10] >> 4) < len(_ODR_HZ) else 0

    def write(self, reg, data):
        for b in data:
            if reg == 0x12 and b & 0x01:      # SW_RESET: registers to defaults, bit self-clears
                self._reset()
            else:
                self.regs[reg & 0x7F] = b
                if reg == 0x10:
                    _motion_clock.run((b >> 4) != 0)
            if self.regs[0x12] & 0x04:
                reg += 1

    def _data_bytes(self):
        odr = self.odr_hz()
        s = motion_sample(odr)
        a_ng = _ACCEL_NG[(self.regs[0x10] >> 2) & 0x3]
        g_udps = _GYRO_UDPS[(self.regs[0x11] >> 1) & 0x7]
        out = bytearray(12)
        # chip axis a carries sign * puck axis i
        chip_a = [0.0, 0.0, 0.0]
        chip_g = [0.0, 0.0, 0.0]
        for i in range(3):
            a, sign = self.axes[i]
            chip_a[a] = s[i] * sign
            chip_g[a] = s[3 + i] * sign
        vals = (chip_g[0] * 1e6 / g_udps, chip_g[1] * 1e6 / g_udps, chip_g[2] * 1e6 / g_udps,
                chip_a[0] * 1e9 / a_ng, chip_a[1] * 1e9 / a_ng, chip_a[2] * 1e9 / a_ng)
        for j in range(6):
            v = _clamp16(vals[j]) & 0xFFFF
            out[2 * j] = v & 0xFF
            out[2 * j + 1] = v >> 8
        return out

    def read(self, reg, n):
        out = bytearray(n)
        data = None
        for j in range(n):
            r = reg & 0x7F
            if 0x22 <= r <= 0x2D:
                if data is None:
                    data = self._data_bytes()
                    odr = self.odr_hz()
                    self._last_read_key = _motion_clock.us() * odr // 1000000 if odr else -1
                out[j] = data[r - 0x22]
            elif r == 0x1E:
                odr = self.odr_hz()
                key = _motion_clock.us() * odr // 1000000 if odr else -1
                out[j] = 0x03 if odr and key != self._last_read_key else 0
            else:
                out[j] = self.regs[r]
            if self.regs[0x12] & 0x04:
                reg += 1
        self.reads += 1
        return out


_devices: dict = {}


class I2C:
    def __init__(self, bus_id=0, scl=None, sda=None, freq=400000, timeout=50000):
        self.bus_id = bus_id
        if not _devices and "no_imu" not in _faults:
            _devices[pico_w.IMU_ADDR] = LSM6DSOXModel(pico_w.IMU_AXES)

    def _dev(self, addr):
        d = _devices.get(addr)
        if d is None:
            raise OSError(19)   # ENODEV: no acknowledge
        return d

    def scan(self):
        return sorted(_devices)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        self._dev(addr).write(memaddr, buf)

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        return bytes(self._dev(addr).read(memaddr, nbytes))

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        data = self._dev(addr).read(memaddr, len(buf))
        for i in range(len(buf)):
            buf[i] = data[i]


class ADC:
    """The FSR divider on ADC0 of the modelled Pico W."""

    def __init__(self, pin):
        self.pin = pin.id if isinstance(pin, Pin) else pin
        self._noise = 12345

    def read_u16(self):
        if self.pin != pico_w.FSR_ADC_PIN:
            return 0
        f = motion_sample(_devices_odr())[6]
        r_fsr = FSR_K_OHM_N / f if f > 0 else FSR_R_OPEN_OHM
        if r_fsr > FSR_R_OPEN_OHM:
            r_fsr = FSR_R_OPEN_OHM
        rf = pico_w.FSR_R_FIXED_OHM
        v = pico_w.FSR_VREF_MV / 1000 * rf / (rf + r_fsr)
        code = int(v / (pico_w.FSR_VREF_MV / 1000) * 4095 + 0.5)
        # +-1 LSB of converter noise
        self._noise = (self._noise * 1103515245 + 12345) & 0x7FFFFFFF
        code += (self._noise >> 16) % 3 - 1
        code = 0 if code < 0 else (4095 if code > 4095 else code)
        return (code << 4) | (code >> 8)


def _devices_odr():
    d = _devices.get(pico_w.IMU_ADDR)
    return d.odr_hz() if d is not None else 0


def motion_ended():
    return _motion is not None and getattr(_motion, "ended", False)


# runs on: micropython
# The virtual puck's clock on its own (timers, waits, the watchdog), and the
# hardware layer that wires the models: setup() starts everything afresh and
# returns it, so nothing of a first run reaches a second.
from boards import pico_w, sim_hw
from boards.sim_clock import TICKS_MASK, Clock, ticks_diff
from boards.sim_fsr import FSRModel
from fwtest import check, done, eq, raises
from openpuck_fw import msgtable as mt
from openpuck_fw.drivers.lsm6dsox import LSM6DSOX

INF = float("inf")


class Poller:
    def __init__(self):
        self.pending = False

    def poll(self, timeout_ms=-1):
        return [1] if self.pending else []


class Tick:
    """A timer as the clock sees it; records the clock at each callback."""

    def __init__(self, clock, period_us, log):
        self.period_us = period_us
        self.due_us = 0
        self.clock = clock
        self.log = log

    def callback(self, t):
        self.log.append((self.period_us, self.clock.now_us()))


# ---------------------------------------------------------------- the clock
expired = []
c = Clock(INF, lambda: expired.append(c.now_us()))
log = []
a = Tick(c, 5000, log)
b = Tick(c, 7000, log)
c.start(a)
c.start(b)
eq("first ticks one period out", (a.due_us, b.due_us), (5000, 7000))
p = Poller()
c.wait(p, 20)
eq("an idle wait at speed inf fires four ticks, in time order, clock pinned to each",
   log, [(5000, 5000), (7000, 7000), (5000, 10000), (7000, 14000)])
eq("and leaves the clock at the last", c.now_us(), 14000)
check("the first wait marks the firmware ready", c.ready)
p.pending = True
c.wait(p, 20)
eq("input waiting: no time passes", (len(log), c.now_us()), (4, 14000))
c.stop(b)
c.stop(b)                         # stopping twice is harmless
del log[:]
eq("fire_until fires what is due", c.fire_until(30000, 100), 4)
eq("only the timers still running, each with the clock pinned to its tick", log,
   [(5000, 15000), (5000, 20000), (5000, 25000), (5000, 30000)])
eq("the clock itself stays", c.now_us(), 14000)
c.sleep_ms(3)
eq("busy time at speed inf", c.now_us(), 17000)


class Dog:
    timeout_us = 100000
    fed_us = 0


c.wdt = Dog()
c.check_wdt()
eq("a fed watchdog keeps quiet", expired, [])
c.virt_us = 100001
c.check_wdt()
eq("an unfed one expires", expired, [100001])
for bad in (0, -1.0, float("nan")):
    e = raises("speed %r refused" % (bad,), ValueError, Clock, bad, None)
    check("the error names speed %r" % (bad,), e is not None and str(e).startswith("clock speed %r:" % (bad,)), e)
eq("ticks wrap at 2**30", ticks_diff(3, TICKS_MASK - 1), 5)
eq("ticks_diff is signed", ticks_diff(TICKS_MASK - 1, 3), -5)

# ---------------------------------------------------------------- setup(): a first run ...
sim1 = sim_hw.setup(INF, None, (), b"PUCK-ONE", mt.RESET_CAUSE_WATCHDOG)
board = pico_w.make(sim_hw, name="sim", config_path=None, ble=False)
board.imu.reset()
board.imu.configure(4, 500, 416)
t = sim_hw.Timer(-1)
t.init(mode=sim_hw.Timer.PERIODIC, freq=200, callback=lambda _t: None)
wdt = sim_hw.WDT(timeout=4000)
sim1.clock.wait(Poller(), 20)
for _ in range(3):
    board.force.adc.read_u16()      # the first run's pad noise moves on
eq("first run: the reset cause given", sim_hw.reset_cause(), mt.RESET_CAUSE_WATCHDOG)
eq("first run: the unique id given", sim_hw.unique_id(), b"PUCK-ONE")
check("first run: time has passed", sim1.clock.now_us() > 0)
check("first run: motion time runs", sim1.feed.us() > 0)
eq("first run: the IMU configured", sim1.imu.regs[0x10] >> 4, 6)
check("first run: a timer and a watchdog", len(sim1.clock.timers) == 1 and sim1.clock.wdt is wdt)
check("first run: the board's PWM outputs", pico_w.BUZZER in sim1.pwm and pico_w.LED_R in sim1.pwm)

# ... and a second finds nothing of it
sim2 = sim_hw.setup(INF)
check("a new Sim", sim2 is not sim1 and sim_hw.clock() is sim2.clock)
eq("no timers, no watchdog, time from 0", (sim2.clock.timers, sim2.clock.wdt, sim2.clock.now_us()), ([], None, 0))
check("not ready until the firmware idles", not sim2.clock.ready)
eq("motion time from 0", (sim2.feed.us(), sim2.feed.since_us), (0, -1))
check("a fresh IMU", sim2.imu is not sim1.imu and sim2.devices == {pico_w.IMU_ADDR: sim2.imu})
eq("at its reset values", (sim2.imu.regs[0x0F], sim2.imu.regs[0x10], sim2.imu.regs[0x12]), (0x6C, 0, 0x04))
eq("no PWM outputs", sim2.pwm, {})
eq("reset cause back to power-on", sim_hw.reset_cause(), mt.RESET_CAUSE_POWER_ON)
eq("unique id back to the default", sim_hw.unique_id(), b"SIM-PUCK")
t.deinit()
eq("a timer of the first run stops on its own clock", (sim1.clock.timers, sim2.clock.timers), ([], []))
i2c = sim_hw.I2C(0)
imu = LSM6DSOX(i2c, pico_w.IMU_ADDR)
check("the second run's IMU answers", imu.identify())
adc = sim_hw.ADC(sim_hw.Pin(pico_w.FSR_ADC_PIN))
pad = FSRModel(pico_w.FSR_R_FIXED_OHM, pico_w.FSR_VREF_MV)
eq("a fresh pad: its converter noise from the start", [adc.read_u16() for _ in range(8)],
   [pad.read_u16(0.0) for _ in range(8)])
eq("ADC inputs without the pad read 0", sim_hw.ADC(sim_hw.Pin(27)).read_u16(), 0)

# ---------------------------------------------------------------- faults and bad input
sim3 = sim_hw.setup(INF, None, ["no_imu"])
i2c = sim_hw.I2C(0)
eq("no_imu: nothing on the bus", (i2c.scan(), sim3.imu), ([], None))
e = raises("no_imu: reads are not acknowledged", OSError, i2c.readfrom_mem, pico_w.IMU_ADDR, 0x0F, 1)
eq("ENODEV", e.args[0] if e is not None else None, 19)
check("no_imu: the pad still reads", sim_hw.ADC(sim_hw.Pin(pico_w.FSR_ADC_PIN)).read_u16() > 0)
e = raises("an unknown fault", ValueError, sim_hw.setup, INF, None, ("no_imu", "no_fsr"))
check("the error names it", e is not None and "'no_fsr'" in str(e), e)
e = raises("an unknown reset cause", ValueError, sim_hw.setup, INF, None, (), b"X", 9)
check("the error names it", e is not None and str(e).startswith("reset cause 9:"), e)
e = raises("a timer without a period", ValueError, sim_hw.Timer(-1).init, 1, 0, 0)
check("the error names freq and period", e is not None and "freq 0" in str(e) and "period 0" in str(e), e)
done()

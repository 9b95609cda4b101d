# The virtual puck's models on their own, without the hardware layer that
# wires them: the motion feed on a hand-set clock, the LSM6DSOX register
# model on that feed, the FSR divider and converter. Pure logic: MicroPython
# and CPython.
from boards.sim_feed import REST, MotionFeed
from boards.sim_fsr import FSRModel
from boards.sim_lsm6dsox import WHO_AM_I_VALUE, LSM6DSOXModel
from fwtest import check, done, eq, raises


class HandClock:
    """A clock that moves only when the test moves it."""

    def __init__(self):
        self.t = 0

    def now_us(self):
        return self.t


class Source:
    """A motion source that records when it is asked."""

    def __init__(self, reading):
        self.reading = reading
        self.asked = []

    def sample(self, t_s):
        self.asked.append(t_s)
        return self.reading


def s16(b, i):
    v = b[i] | (b[i + 1] << 8)
    return v - 65536 if v >= 32768 else v


# ---------------------------------------------------------------- motion feed
clock = HandClock()
src = Source((0.1, 0.2, 0.9, 1.0, 2.0, 3.0, 4.0))
feed = MotionFeed(clock, src)
clock.t = 5000000
eq("motion time waits for the IMU", feed.us(), 0)
feed.run(True)
clock.t += 2000000
feed.run(True)                      # already running: no restart
eq("motion time runs while on", feed.us(), 2000000)
feed.run(False)
clock.t += 7000000
eq("and pauses while off", feed.us(), 2000000)
feed.run(True)
clock.t += 500000
eq("and resumes where it stopped", feed.us(), 2500000)
eq("the source's reading", feed.sample(104), src.reading)
eq("asked at the ODR grid point", src.asked, [2.5])
clock.t += 1000                     # still inside the same 104 Hz period
feed.sample(104)
eq("held within one ODR period", len(src.asked), 1)
clock.t += 9000
feed.sample(104)
eq("asked again in the next period", len(src.asked), 2)
eq("no source: lying still, flat", MotionFeed(clock).sample(104), REST)

# ---------------------------------------------------------------- LSM6DSOX
clock = HandClock()
src = Source((0.0, 0.5, 1.0, 10.0, -20.0, 100.0, 0.0))
feed = MotionFeed(clock, src)
imu = LSM6DSOXModel(((0, 1), (1, 1), (2, 1)), feed)
eq("WHO_AM_I", imu.read(0x0F, 1)[0], WHO_AM_I_VALUE)
eq("CTRL3_C at reset: IF_INC", imu.read(0x12, 1)[0], 0x04)
eq("off at reset", (imu.odr_hz(), imu.read(0x1E, 1)[0]), (0, 0))
# CTRL1_XL and CTRL2_G in one auto-incremented write: 416 Hz, +-4 g, +-500 dps
imu.write(0x10, bytes([(6 << 4) | (0b10 << 2), (6 << 4) | (0b010 << 1)]))
eq("auto-increment writes", (imu.regs[0x10], imu.regs[0x11]), (0x68, 0x64))
eq("ODR", imu.odr_hz(), 416)
clock.t += 1000000
eq("the accelerometer on runs motion time", feed.us(), 1000000)
eq("new data", imu.read(0x1E, 1)[0], 0x03)
d = imu.read(0x22, 12)
eq("gyro counts at 500 dps", [s16(d, 0), s16(d, 2), s16(d, 4)], [571, -1143, 5714])
eq("accel counts at 4 g", [s16(d, 6), s16(d, 8), s16(d, 10)], [0, 4098, 8197])
eq("read: no new data", imu.read(0x1E, 1)[0], 0)
clock.t += 2000                     # a 416 Hz period is 2.4 ms
eq("same period: still none", imu.read(0x1E, 1)[0], 0)
clock.t += 1000
eq("next period: new data", imu.read(0x1E, 1)[0], 0x03)
eq("one byte at a time reads the same", bytes(imu.read(0x22, 1)) + bytes(imu.read(0x23, 1)), bytes(d[:2]))
imu.write(0x12, bytes([0x00]))      # IF_INC off: every byte from one register
eq("without IF_INC a read repeats its register", list(imu.read(0x0F, 3)), [WHO_AM_I_VALUE] * 3)
imu.write(0x12, bytes([0x04]))
imu.write(0x11, bytes([(6 << 4) | (0b001 << 1)]))   # +-125 dps
eq("gz at 125 dps", s16(imu.read(0x22, 12), 4), 22857)
src.reading = (0.0, 0.0, 9.0, 0.0, 0.0, 0.0, 0.0)
clock.t += 3000
eq("clamped to int16", s16(imu.read(0x22, 12), 10), 32767)
src.reading = (0.0, 0.0, -9.0, 0.0, 0.0, 0.0, 0.0)
clock.t += 3000
eq("clamped to int16 below", s16(imu.read(0x22, 12), 10), -32768)
imu.write(0x12, bytes([0x01]))      # SW_RESET
eq("SW_RESET: registers to defaults", (imu.regs[0x10], imu.regs[0x11], imu.regs[0x12], imu.regs[0x0F]),
   (0, 0, 0x04, WHO_AM_I_VALUE))
t_reset = feed.us()
clock.t += 1000000
eq("SW_RESET stops motion time", feed.us(), t_reset)
imu.write(0x10, bytes([(6 << 4) | (0b10 << 2)]))
clock.t += 3000
imu.read(0x22, 12)
imu.write(0x10, bytes([0x00]))      # accelerometer off
clock.t += 3000
eq("off: never new data", imu.read(0x1E, 1)[0], 0)

# puck axes onto chip axes: puck x on chip y, puck y on -chip x
clock = HandClock()
feed = MotionFeed(clock, Source((0.25, 0.5, 1.0, 10.0, 20.0, 30.0, 0.0)))
imu = LSM6DSOXModel(((1, 1), (0, -1), (2, 1)), feed)
imu.write(0x10, bytes([(4 << 4) | (0b00 << 2), (4 << 4) | (0b000 << 1)]))   # 104 Hz, 2 g, 250 dps
d = imu.read(0x22, 12)
eq("accel on the chip's axes", [s16(d, 6), s16(d, 8), s16(d, 10)], [-8197, 4098, 16393])
eq("gyro on the chip's axes", [s16(d, 0), s16(d, 2), s16(d, 4)], [-2286, 1143, 3429])

# ---------------------------------------------------------------- FSR
pad = FSRModel(10000, 3300)
eq("no touch: the open pad's leak", pad.code(0.0), 4)
eq("25 N: 12 kOhm against 10 kOhm", pad.code(25.0), 1861)
eq("a pad never below its open resistance", pad.code(0.01), pad.code(0.0))
codes = [pad.code(f) for f in (0.5, 1.0, 5.0, 25.0, 100.0, 500.0)]
check("code rises with force", all(codes[i] < codes[i + 1] for i in range(len(codes) - 1)), codes)
check("and stays below full scale", codes[-1] < 4095, codes)
seen = set()
for _ in range(60):
    u16 = pad.read_u16(25.0)
    c = u16 >> 4
    check("12 bits scaled to 16 as the RP2040 does", u16 & 0xF == c >> 8, u16)
    seen.add(c - 1861)
eq("+-1 LSB of converter noise, all three", sorted(seen), [-1, 0, 1])
eq("same seed, same noise", [FSRModel(10000, 3300).read_u16(5.0) for _ in range(2)],
   [FSRModel(10000, 3300).read_u16(5.0) for _ in range(2)])
e = raises("a divider without its resistor", ValueError, FSRModel, 0, 3300)
check("the error names the value", e is not None and "r_fixed_ohm 0" in str(e), e)
done()

# runs on: micropython
# Drivers against the virtual puck's models: the LSM6DSOX driver on the I2C
# register model, the FSR driver on the modelled divider, the HX711 driver
# on a pin-level model of the chip.
from boards import pico_w, sim_hw
from fwtest import check, done, eq
from openpuck_fw.drivers import lsm6dsox as L
from openpuck_fw.drivers.fsr import FSR
from openpuck_fw.drivers.hx711 import HX711


class Still:
    """Motion source: a fixed reading."""

    def __init__(self, s):
        self.s = s

    def sample(self, t):
        return self.s


sim = sim_hw.setup(float("inf"), Still((0.0, 0.5, 1.0, 10.0, -20.0, 100.0, 25.0)))
i2c = sim_hw.I2C(0)
eq("scan finds the IMU", i2c.scan(), [pico_w.IMU_ADDR])
imu = L.LSM6DSOX(i2c, pico_w.IMU_ADDR)
check("identify", imu.identify())
check("wrong address does not identify", not L.LSM6DSOX(i2c, 0x6B).identify())
imu.reset()
imu.configure(4, 500, 416)
regs = sim.devices[pico_w.IMU_ADDR].regs
eq("CTRL1_XL", regs[L.CTRL1_XL], (6 << 4) | (0b10 << 2))
eq("CTRL2_G", regs[L.CTRL2_G], (6 << 4) | (0b010 << 1))
eq("CTRL3_C BDU|IF_INC", regs[L.CTRL3_C], 0x44)
buf = bytearray(12)
check("data ready", imu.data_ready())
imu.read_into(buf)
check("read clears data ready", not imu.data_ready())


def s16(b, i):
    v = b[i] | (b[i + 1] << 8)
    return v - 65536 if v >= 32768 else v


# +-4 g: 0.122 mg/LSB; +-500 dps: 17.5 mdps/LSB
eq("az 1 g at 4 g", s16(buf, 10), 8197)
eq("ay 0.5 g", s16(buf, 8), 4098)
eq("gx 10 dps", s16(buf, 0), 571)
eq("gz 100 dps", s16(buf, 4), 5714)
imu.configure(2, 2000, 208)
imu.read_into(buf)
eq("az 1 g at 2 g", s16(buf, 10), 16393)
eq("gz 100 dps at 2000 dps", s16(buf, 4), 1429)
imu.configure(16, 125, 104)
imu.read_into(buf)
eq("az 1 g at 16 g", s16(buf, 10), 2049)
eq("gz 100 dps saturates at 125 dps", s16(buf, 4), 22857)
eq("odr for 200 Hz", L.odr_for_rate(200), 416)
eq("odr for 25 Hz", L.odr_for_rate(25), 52)

# force pad: divider model -> 12-bit ADC -> calibration table
adc = sim_hw.ADC(sim_hw.Pin(pico_w.FSR_ADC_PIN))
fsr = FSR(adc, pico_w.FSR_TABLE, pico_w.FSR_VREF_MV)
mn = fsr.raw_to_mn(fsr.read_raw())
check("25 N reads within 2 %", abs(mn - 25000) < 500, mn)
eq("table ends", (fsr.mv_to_mn(0), fsr.mv_to_mn(4000)), (0, 500000))
eq("interpolates", fsr.mv_to_mn(1410), 22500)
for newtons in (1.0, 5.0, 60.0, 150.0):
    sim_hw.setup(float("inf"), Still((0.0, 0.0, 1.0, 0.0, 0.0, 0.0, newtons)))
    adc = sim_hw.ADC(sim_hw.Pin(pico_w.FSR_ADC_PIN))
    mn = FSR(adc, pico_w.FSR_TABLE).raw_to_mn(adc.read_u16())
    check("%g N within 3 %% + 0.1 N" % newtons, abs(mn - newtons * 1000) < newtons * 30 + 100, mn)
fsr.tare(adc.read_u16())
check("tare zeroes", fsr.raw_to_mn(adc.read_u16()) < 1500)


class HX711Model:
    """DOUT/PD_SCK of an HX711 holding one conversion; counts clock pulses."""

    def __init__(self, value):
        self.value24 = value & 0xFFFFFF
        self.pulses = 0
        self.sck_level = 0
        outer = self

        class Dout:
            def value(self):
                i = outer.pulses
                if i == 0 or i > 24:
                    return 0      # ready (low) before reading
                return (outer.value24 >> (24 - i)) & 1

        class Sck:
            def value(self, v=None):
                if v and not outer.sck_level:
                    outer.pulses += 1
                outer.sck_level = 1 if v else 0

        self.dout = Dout()
        self.sck = Sck()


for value, gain, pulses in ((123456, 128, 25), (-5, 32, 26), (-8388608, 64, 27), (8388607, 128, 25)):
    m = HX711Model(value)
    hx = HX711(m.dout, m.sck, gain=gain)
    m.pulses = 0
    eq("hx711 reads %d" % value, hx.read_raw(), value)
    eq("hx711 gain %d pulses" % gain, m.pulses, pulses)
hx = HX711(HX711Model(0).dout, HX711Model(0).sck, mn_per_count_x1000=354)
eq("hx711 scale", hx.raw_to_mn(1000000), 354000)
done()

# LSM6DSOX accelerometer + gyroscope, register level, over machine.I2C.
# Datasheet DS13341 (ST): register map section 9, sensitivities table 2.
from micropython import const

WHO_AM_I = const(0x0F)
WHO_AM_I_VALUE = const(0x6C)
CTRL1_XL = const(0x10)   # ODR_XL[7:4] FS_XL[3:2] LPF2_XL_EN[1]
CTRL2_G = const(0x11)    # ODR_G[7:4] FS_G[3:2] FS_125[1]
CTRL3_C = const(0x12)    # BOOT[7] BDU[6] H_LACTIVE[5] PP_OD[4] SIM[3] IF_INC[2] SW_RESET[0]
CTRL3_BDU = const(0x40)
CTRL3_IF_INC = const(0x04)
CTRL3_SW_RESET = const(0x01)
STATUS_REG = const(0x1E)  # TDA[2] GDA[1] XLDA[0]
STATUS_XLDA = const(0x01)
STATUS_GDA = const(0x02)
OUTX_L_G = const(0x22)    # gx gy gz ax ay az: 12 bytes, little-endian int16
OUTX_L_A = const(0x28)
DATA_SIZE = const(12)

ADDR_DEFAULT = const(0x6A)  # SA0 low; 0x6B with SA0 high

# ODR codes (bits 7:4 of CTRL1_XL and CTRL2_G), high-performance mode
ODR_CODES = {0: 0, 12: 1, 26: 2, 52: 3, 104: 4, 208: 5, 416: 6, 833: 7, 1666: 8, 3332: 9, 6664: 10}
ODR_HZ = (0, 12.5, 26, 52, 104, 208, 416, 833, 1666, 3332, 6664)

# full scale -> (FS bits in CTRL1_XL[3:2], sensitivity in micro-g per LSB x1000 = ng/LSB)
ACCEL_FS = {2: (0b00, 61000), 4: (0b10, 122000), 8: (0b11, 244000), 16: (0b01, 488000)}
# full scale -> (FS bits in CTRL2_G[3:1] incl. FS_125, sensitivity in micro-dps per LSB)
GYRO_FS = {125: (0b001, 4375), 250: (0b000, 8750), 500: (0b010, 17500),
           1000: (0b100, 35000), 2000: (0b110, 70000)}


def scales(accel_range_g, gyro_range_dps):
    """(ng per LSB, micro-dps per LSB) of the samples at these full scales."""
    return ACCEL_FS[accel_range_g][1], GYRO_FS[gyro_range_dps][1]


def odr_for_rate(rate_hz):
    """The smallest ODR at least twice the sampling rate (the sampler reads the latest value)."""
    for hz in (26, 52, 104, 208, 416, 833):
        if hz >= 2 * rate_hz:
            return hz
    return 833


class LSM6DSOX:
    def __init__(self, i2c, addr=ADDR_DEFAULT):
        self.i2c = i2c
        self.addr = addr
        self._b1 = bytearray(1)
        self.accel_range_g = 4
        self.gyro_range_dps = 500
        self.odr_hz = 0

    def _w(self, reg, value):
        self._b1[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._b1)

    def _r(self, reg):
        self.i2c.readfrom_mem_into(self.addr, reg, self._b1)
        return self._b1[0]

    def identify(self):
        """True if the chip answers with the LSM6DSOX WHO_AM_I value."""
        try:
            return self._r(WHO_AM_I) == WHO_AM_I_VALUE
        except OSError:
            return False

    def reset(self, sleep_ms=None):
        self._w(CTRL3_C, CTRL3_SW_RESET)
        for _ in range(100):
            if not self._r(CTRL3_C) & CTRL3_SW_RESET:
                break
            if sleep_ms:
                sleep_ms(1)
        self._w(CTRL3_C, CTRL3_BDU | CTRL3_IF_INC)

    def configure(self, accel_range_g, gyro_range_dps, odr_hz):
        """Set ranges and output data rate (0 = power-down)."""
        if accel_range_g not in ACCEL_FS or gyro_range_dps not in GYRO_FS or odr_hz not in ODR_CODES:
            raise ValueError
        odr = ODR_CODES[odr_hz] << 4
        self._w(CTRL3_C, CTRL3_BDU | CTRL3_IF_INC)
        self._w(CTRL1_XL, odr | (ACCEL_FS[accel_range_g][0] << 2))
        self._w(CTRL2_G, odr | (GYRO_FS[gyro_range_dps][0] << 1))
        self.accel_range_g = accel_range_g
        self.gyro_range_dps = gyro_range_dps
        self.odr_hz = odr_hz

    # scales of the raw counts
    def accel_ng_per_lsb(self):
        return ACCEL_FS[self.accel_range_g][1]

    def gyro_udps_per_lsb(self):
        return GYRO_FS[self.gyro_range_dps][1]

    def data_ready(self):
        return self._r(STATUS_REG) & (STATUS_XLDA | STATUS_GDA) == (STATUS_XLDA | STATUS_GDA)

    def read_into(self, buf):
        """Read gx gy gz ax ay az (12 bytes, int16 little-endian) into buf. No allocation."""
        self.i2c.readfrom_mem_into(self.addr, OUTX_L_G, buf)

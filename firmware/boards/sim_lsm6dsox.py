# Register model of the LSM6DSOX as seen over I2C (datasheet DS13341): the
# part of the chip the firmware's driver uses. WHO_AM_I; CTRL1_XL/CTRL2_G
# set range and rate; CTRL3_C holds IF_INC (auto-increment) and SW_RESET;
# STATUS_REG says new data; the data registers 0x22..0x2D hold the motion
# feed (boards/sim_feed.py) sampled at the configured ODR, in raw counts at
# the configured range, on the chip's axes.
#
# Kept apart from the driver's tables on purpose: the model is what the
# driver is tested against.
from micropython import const

_WHO_AM_I = const(0x0F)
_CTRL1_XL = const(0x10)
_CTRL2_G = const(0x11)
_CTRL3_C = const(0x12)
_STATUS_REG = const(0x1E)
_OUTX_L_G = const(0x22)
_OUTZ_H_A = const(0x2D)
_IF_INC = const(0x04)
_SW_RESET = const(0x01)
WHO_AM_I_VALUE = const(0x6C)

# accel sensitivity (ng/LSB) by FS_XL bits; gyro (udps/LSB) by FS_G|FS_125 bits
_ACCEL_NG = {0b00: 61000, 0b10: 122000, 0b11: 244000, 0b01: 488000}
_GYRO_UDPS = {0b001: 4375, 0b000: 8750, 0b010: 17500, 0b100: 35000, 0b110: 70000,
              0b011: 4375, 0b101: 4375, 0b111: 4375}
_ODR_HZ = (0, 12, 26, 52, 104, 208, 416, 833, 1666, 3332, 6664)


def _clamp16(v):
    v = int(v + 0.5) if v >= 0 else -int(-v + 0.5)
    return 32767 if v > 32767 else (-32768 if v < -32768 else v)


class LSM6DSOXModel:
    """The chip's registers. axes: for puck axis i, (chip axis, sign), as the
    board file's IMU_AXES. feed: a MotionFeed (run(on), us(), sample(odr_hz));
    the model runs its motion time while the accelerometer is on."""

    def __init__(self, axes, feed):
        self.axes = axes
        self.feed = feed
        self.regs = bytearray(128)
        self._reset()

    def _reset(self):
        r = self.regs
        for i in range(len(r)):
            r[i] = 0
        r[_WHO_AM_I] = WHO_AM_I_VALUE
        r[_CTRL3_C] = _IF_INC
        self.feed.run(False)
        self._last_read_key = -1

    def odr_hz(self):
        code = self.regs[_CTRL1_XL] >> 4
        return _ODR_HZ[code] if code < len(_ODR_HZ) else 0

    def write(self, reg, data):
        for b in data:
            if reg == _CTRL3_C and b & _SW_RESET:      # registers to defaults, the bit self-clears
                self._reset()
            else:
                self.regs[reg & 0x7F] = b
                if reg == _CTRL1_XL:
                    self.feed.run((b >> 4) != 0)
            if self.regs[_CTRL3_C] & _IF_INC:
                reg += 1

    def _data_bytes(self):
        s = self.feed.sample(self.odr_hz())
        a_ng = _ACCEL_NG[(self.regs[_CTRL1_XL] >> 2) & 0x3]
        g_udps = _GYRO_UDPS[(self.regs[_CTRL2_G] >> 1) & 0x7]
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

    def _odr_key(self):
        # which ODR period the motion time is in; -1 while off
        odr = self.odr_hz()
        return self.feed.us() * odr // 1000000 if odr else -1

    def read(self, reg, n):
        out = bytearray(n)
        data = None
        for j in range(n):
            r = reg & 0x7F
            if _OUTX_L_G <= r <= _OUTZ_H_A:
                if data is None:
                    data = self._data_bytes()
                    self._last_read_key = self._odr_key()
                out[j] = data[r - _OUTX_L_G]
            elif r == _STATUS_REG:
                # XLDA|GDA while the current ODR period's data is unread
                key = self._odr_key()
                out[j] = 0x03 if key >= 0 and key != self._last_read_key else 0
            else:
                out[j] = self.regs[r]
            if self.regs[_CTRL3_C] & _IF_INC:
                reg += 1
        return out

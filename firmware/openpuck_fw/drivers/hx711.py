# HX711 24-bit load-cell amplifier, bit-banged on two pins (DOUT in, PD_SCK out).
# Datasheet (Avia Semiconductor): DOUT goes low when a conversion is ready;
# 24 clock pulses shift the two's-complement value out MSB first, then 1..3
# extra pulses choose the next channel and gain (1: A x128, 2: B x32, 3: A x64).
# Keep PD_SCK high > 60 us and the chip powers down.
from micropython import const

GAIN_PULSES = {128: 1, 32: 2, 64: 3}
_NOT_READY = const(-0x800001)


class HX711:
    NOT_READY = _NOT_READY

    def __init__(self, dout, sck, gain=128, mn_per_count_x1000=1000, zero=0):
        """mn_per_count_x1000: calibration, millinewtons per 1000 counts."""
        self.dout = dout
        self.sck = sck
        self.sck.value(0)
        self._pulses = GAIN_PULSES[gain]
        self.scale = mn_per_count_x1000
        self.zero = zero
        self.last = 0

    def ready(self):
        return self.dout.value() == 0

    def read_raw(self):
        """One conversion (or the last one if none is ready). Interrupt safe, no allocation."""
        if self.dout.value():
            return self.last
        sck = self.sck
        dout = self.dout
        v = 0
        for _ in range(24):
            sck.value(1)
            sck.value(0)
            v = (v << 1) | dout.value()
        for _ in range(self._pulses):
            sck.value(1)
            sck.value(0)
        if v & 0x800000:
            v -= 0x1000000
        self.last = v
        return v

    def raw_to_mn(self, raw):
        f = (raw - self.zero) * self.scale // 1000
        return f if f > 0 else 0

    def tare(self, raw):
        self.zero = raw

    def power_down(self):
        self.sck.value(1)

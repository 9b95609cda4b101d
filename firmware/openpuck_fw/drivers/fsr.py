# Force-sensing resistor through a voltage divider on an ADC pin.
#
#   Vref --[ FSR ]--+--[ R_fixed ]-- GND        V_adc = Vref * R_fixed / (R_fixed + R_fsr)
#                   +-- ADC pin
#
# A calibration table maps the divider voltage to newtons, piecewise linear
# (measured per pad with known weights; the board file holds it). read_raw()
# is safe in an interrupt: one ADC read, no allocation. Conversion to force
# happens outside the interrupt, in integers.


class FSR:
    def __init__(self, adc, table_mv_mn, vref_mv=3300):
        """table_mv_mn: ((millivolts, millinewtons), ...) sorted by voltage."""
        self.adc = adc
        self.vref_mv = vref_mv
        self._mv = [int(p[0]) for p in table_mv_mn]
        self._mn = [int(p[1]) for p in table_mv_mn]
        if len(self._mv) < 2 or any(self._mv[i] >= self._mv[i + 1] for i in range(len(self._mv) - 1)):
            raise ValueError("calibration table must rise in voltage")
        self.offset_mn = 0
        self.max_mn = self._mn[-1]
        self._last_raw = -1     # a pad at rest reads the same few values: keep the last answer
        self._last_mn = 0

    def read_raw(self):
        return self.adc.read_u16()

    def raw_to_mv(self, raw):
        return raw * self.vref_mv // 65535

    def mv_to_mn(self, mv):
        xs = self._mv
        ys = self._mn
        if mv <= xs[0]:
            return ys[0]
        n = len(xs)
        if mv >= xs[n - 1]:
            return ys[n - 1]
        lo = 0
        hi = n - 1
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if xs[mid] <= mv:
                lo = mid
            else:
                hi = mid
        return ys[lo] + (ys[hi] - ys[lo]) * (mv - xs[lo]) // (xs[hi] - xs[lo])

    def raw_to_mn(self, raw):
        """Force in millinewtons from a raw reading, after the tare offset; never negative."""
        if raw == self._last_raw:
            return self._last_mn
        f = self.mv_to_mn(raw * self.vref_mv // 65535) - self.offset_mn
        if f < 0:
            f = 0
        self._last_raw = raw
        self._last_mn = f
        return f

    def tare(self, raw):
        self.offset_mn = self.mv_to_mn(self.raw_to_mv(raw))
        self._last_raw = -1

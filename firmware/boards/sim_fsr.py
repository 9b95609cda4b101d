# The force pad of the virtual puck on its ADC input: an FSR from Vref to the
# pin, a fixed resistor from the pin to ground, a 12-bit converter with
# +-1 LSB of noise, read as machine.ADC.read_u16 scales it on the RP2040.
K_OHM_N = 300000.0          # R_fsr = K / F: the modelled pad (the board's calibration table was made from it)
R_OPEN_OHM = 10000000.0     # no touch


class FSRModel:
    """The divider and the converter: force in newtons -> ADC reading."""

    def __init__(self, r_fixed_ohm, vref_mv, seed=12345):
        if not r_fixed_ohm > 0 or not vref_mv > 0:
            raise ValueError("FSR divider: r_fixed_ohm %r and vref_mv %r must be above 0" % (r_fixed_ohm, vref_mv))
        self.r_fixed_ohm = r_fixed_ohm
        self.vref_mv = vref_mv
        self._noise = seed

    def code(self, force_n):
        """The noiseless 12-bit conversion of the divider at force_n."""
        r_fsr = K_OHM_N / force_n if force_n > 0 else R_OPEN_OHM
        if r_fsr > R_OPEN_OHM:
            r_fsr = R_OPEN_OHM
        rf = self.r_fixed_ohm
        v = self.vref_mv / 1000 * rf / (rf + r_fsr)
        return int(v / (self.vref_mv / 1000) * 4095 + 0.5)

    def read_u16(self, force_n):
        """One conversion at force_n, 12 bits scaled to 16 as the RP2040 returns it."""
        code = self.code(force_n)
        self._noise = (self._noise * 1103515245 + 12345) & 0x7FFFFFFF
        code += (self._noise >> 16) % 3 - 1
        code = 0 if code < 0 else (4095 if code > 4095 else code)
        return (code << 4) | (code >> 8)

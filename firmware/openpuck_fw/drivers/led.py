# RGB LED on three PWM pins (common cathode; common_anode=True inverts).


class RGBLed:
    def __init__(self, pwm_r, pwm_g, pwm_b, common_anode=False):
        self._pwms = (pwm_r, pwm_g, pwm_b)
        self._invert = common_anode
        for p in self._pwms:
            p.freq(1000)
        self.rgb = (0, 0, 0)
        self.set(0, 0, 0)

    def set(self, r, g, b):
        self.rgb = (r, g, b)
        for p, v in zip(self._pwms, (r, g, b)):
            duty = v * 257  # 0..255 -> 0..65535
            p.duty_u16(65535 - duty if self._invert else duty)

    def off(self):
        self.set(0, 0, 0)

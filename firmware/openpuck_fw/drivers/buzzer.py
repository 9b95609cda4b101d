# Piezo buzzer on one PWM pin: a square wave at the tone frequency, half duty.

MIN_FREQ_HZ = 100
MAX_FREQ_HZ = 8000


class Buzzer:
    def __init__(self, pwm):
        self.pwm = pwm
        self.freq_hz = 0
        pwm.duty_u16(0)

    def tone(self, freq_hz):
        if freq_hz < MIN_FREQ_HZ or freq_hz > MAX_FREQ_HZ:
            raise ValueError
        self.pwm.freq(freq_hz)
        self.pwm.duty_u16(32768)
        self.freq_hz = freq_hz

    def off(self):
        self.pwm.duty_u16(0)
        self.freq_hz = 0

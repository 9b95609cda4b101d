# Feedback on the LED and the buzzer, without blocking the main loop: each
# pattern is a list of steps that tick() plays against the clock.
#   rep           (a movement that reached the target) green flash, one 2 kHz beep
#   partial rep   amber flash, no sound
#   grip          blue flash, one 1.5 kHz beep (not when a rep ended with it:
#                 the rep's feedback is the one the patient needs)
from micropython import const

FEEDBACK_LED = const(1)
FEEDBACK_BUZZER = const(2)

# (r, g, b, duration_ms)
_LED_REP = ((0, 160, 0, 200),)
_LED_PARTIAL = ((160, 90, 0, 200),)
_LED_GRIP = ((0, 0, 180, 200),)
# (freq_hz or 0 for silence, duration_ms)
_TONE_REP = ((2000, 60),)
_TONE_GRIP = ((1500, 60),)


class _Player:
    """Plays (value, duration_ms) steps on an output; `apply(value or None)`."""

    def __init__(self, apply, ticks_ms, ticks_diff):
        self._apply = apply
        self._ticks_ms = ticks_ms
        self._diff = ticks_diff
        self._steps: tuple = ()
        self._i = 0
        self._start_ms = 0
        self._dur_ms = 0
        self.active = False

    def play(self, steps):
        self._steps = steps
        self._i = 0
        self.active = True
        self._enter()

    def hold(self, value, duration_ms):
        """A single value; duration 0 = until changed."""
        if duration_ms:
            self.play(((value, duration_ms),))
        else:
            self.active = False
            self._apply(value)

    def _enter(self):
        step = self._steps[self._i]
        self._apply(step[0])
        self._start_ms = self._ticks_ms()
        self._dur_ms = step[1]

    def ms_left(self, limit):
        """Milliseconds until the step playing now ends, at most limit (limit when none plays)."""
        if not self.active:
            return limit
        left = self._dur_ms - self._diff(self._ticks_ms(), self._start_ms)
        return 0 if left < 0 else (left if left < limit else limit)

    def tick(self):
        if not self.active:
            return
        if self._diff(self._ticks_ms(), self._start_ms) < self._dur_ms:
            return
        self._i += 1
        if self._i >= len(self._steps):
            self.active = False
            self._apply(None)
            return
        self._enter()


class Feedback:
    def __init__(self, led, buzzer, ticks_ms, ticks_diff, enabled=3):
        self.led = led
        self.buzzer = buzzer
        self.enabled = enabled
        self.base_rgb = (0, 0, 0)   # colour between patterns (set by the led command)
        self._led = _Player(self._set_led, ticks_ms, ticks_diff)
        self._tone = _Player(self._set_tone, ticks_ms, ticks_diff)

    def _set_led(self, v):
        if self.led is None:
            return
        if v is None:
            v = self.base_rgb
        self.led.set(v[0], v[1], v[2])

    def _set_tone(self, v):
        if self.buzzer is None:
            return
        if v:
            self.buzzer.tone(v)
        else:
            self.buzzer.off()

    def _pattern(self, leds, tones):
        if leds and self.enabled & FEEDBACK_LED and self.led is not None:
            self._led.play(tuple(((s[0], s[1], s[2]), s[3]) for s in leds))
        if tones and self.enabled & FEEDBACK_BUZZER and self.buzzer is not None:
            self._tone.play(tones)

    def rep(self):
        self._pattern(_LED_REP, _TONE_REP)

    def partial(self):
        self._pattern(_LED_PARTIAL, None)

    def grip(self):
        self._pattern(_LED_GRIP, _TONE_GRIP)

    # host commands: always obeyed, whatever the feedback setting
    def set_led(self, r, g, b, duration_ms):
        if duration_ms == 0:
            self.base_rgb = (r, g, b)
        self._led.hold((r, g, b), duration_ms)

    def beep(self, freq_hz, duration_ms):
        self._tone.play(((freq_hz, duration_ms),))

    def tick(self):
        self._led.tick()
        self._tone.tick()

    def wait_ms(self, limit):
        """How long the main loop may sleep (at most limit) before tick() has a step to end."""
        return self._tone.ms_left(self._led.ms_left(limit))

    def led_rgb(self):
        return self.led.rgb if self.led is not None else None

    def off(self):
        self._led.active = False
        self._tone.active = False
        self._set_led(None)
        self._set_tone(0)

# What the virtual puck's sensor models sense: a motion source
# (boards/sim_motion.py) read on motion time, shared by the IMU and the force
# pad so that one sample feeds both.
REST = (0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)   # lying still, flat, untouched


class MotionFeed:
    """The motion source on motion time. Motion time runs only while the
    accelerometer is on (ODR != 0): the patient starts when the puck starts
    streaming, and pauses when it stops. source: an object with
    sample(t_s) -> (ax, ay, az, gx, gy, gz, force), or None (REST);
    clock: an object with now_us()."""

    def __init__(self, clock, source=None):
        self.clock = clock
        self.source = source
        self.acc_us = 0          # motion time before the current run
        self.since_us = -1       # clock time the current run began; -1 paused
        self._key = -1
        self._sample = REST

    def run(self, on):
        now = self.clock.now_us()
        if on and self.since_us < 0:
            self.since_us = now
        elif not on and self.since_us >= 0:
            self.acc_us += now - self.since_us
            self.since_us = -1

    def us(self):
        """Motion time in microseconds."""
        if self.since_us < 0:
            return self.acc_us
        return self.acc_us + self.clock.now_us() - self.since_us

    def sample(self, odr_hz):
        """The source at the current motion time, held on the ODR grid (odr_hz
        0: the sensor is off; the reading taken then holds). The source is
        asked once per grid step, however many reads the step sees: a
        source may be stateful (noise, a recording read forward)."""
        t_us = self.us()
        k = t_us * odr_hz // 1000000 if odr_hz else -2
        if k != self._key:
            self._key = k
            if self.source is None:
                self._sample = REST
            else:
                t_s = (k * 1000000 // odr_hz) / 1e6 if odr_hz else t_us / 1e6
                self._sample = self.source.sample(t_s)
        return self._sample

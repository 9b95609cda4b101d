# Calibration: calibrate rest (the gyro's bias) and force_zero (the pad's
# tare) average CAL_SAMPLES samples taken while the puck lies still; the
# command is answered when they are in. What it learns stays in RAM (the
# gyro bias on the App, the tare in the force driver), as it always has: a
# puck calibrates again after a reset, and nothing of it is in the config
# file.
from micropython import const

from openpuck_fw import msgtable as mt

CAL_SAMPLES = const(100)
CAL_STILL_UDPS = const(3000000)    # gyro spread above 3 dps: the puck moved during calibrate
CAL_RATE_HZ = const(200)           # the sampler's rate for a calibration outside a stream


class Calibration:
    """One calibration in progress: which (enums.calibrate_what), the command
    to answer (cmd_type, seq), and the sums and spreads of its samples."""

    def __init__(self, what, cmd_type, seq):
        self.what = what
        self.cmd_type = cmd_type
        self.seq = seq
        self.n = 0
        self.gyro_sum = [0, 0, 0]
        self.gyro_min = [32767, 32767, 32767]
        self.gyro_max = [-32768, -32768, -32768]
        self.force_sum = 0

    def add(self, gx, gy, gz, force_raw):
        """Take one sample (raw gyro counts, before any bias; the force
        driver's raw reading); True once CAL_SAMPLES are in."""
        self._axis(0, gx)   # one call per axis: no tuple to iterate, nothing allocated per sample
        self._axis(1, gy)
        self._axis(2, gz)
        self.force_sum += force_raw
        self.n += 1
        return self.n >= CAL_SAMPLES

    def _axis(self, k, g):
        self.gyro_sum[k] += g
        if g < self.gyro_min[k]:
            self.gyro_min[k] = g
        if g > self.gyro_max[k]:
            self.gyro_max[k] = g

    def spread(self):
        """The largest max - min of a gyro axis, in counts."""
        lo = self.gyro_min
        hi = self.gyro_max
        return max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])

    def gyro_bias(self):
        """The mean gyro counts per axis."""
        n = self.n
        return [self.gyro_sum[0] // n, self.gyro_sum[1] // n, self.gyro_sum[2] // n]

    def force_zero(self):
        """The mean raw force reading (the tare)."""
        return self.force_sum // self.n


def begin(app, what, cmd_type, seq):
    """Start calibrating; the sampler runs for it if no stream does."""
    app.cal = Calibration(what, cmd_type, seq)
    if not app.sampler.running():
        app.imu_rate(CAL_RATE_HZ)
        app.sampler.start(CAL_RATE_HZ)


def cancel(app):
    """End a calibration in progress, unfinished: its command is nacked busy
    (try again). A calibration needs the sampler, which a stop stops: it must
    not stay pending, or every later start, calibrate and set_config would be
    refused busy."""
    c = app.cal
    if c is None:
        return
    app.cal = None
    app.nack(c.cmd_type, c.seq, mt.NACK_ERROR_BUSY)


def finish(app, c):
    """The last sample is in: stop the sampler (unless a stream runs), keep
    what was learnt, answer the command."""
    app.cal = None
    if not app.streaming:
        app.sampler.stop()
        app.imu_rate(0)
    if c.what == mt.CALIBRATE_WHAT_REST:
        udps = app.imu.gyro_udps_per_lsb() if app.imu else 1
        if c.spread() * udps > CAL_STILL_UDPS:
            app.nack(c.cmd_type, c.seq, mt.NACK_ERROR_BUSY)
            app.log(mt.LOG_LEVEL_WARNING, "calibrate rest: the puck moved; hold it still")
            return
        app.gyro_bias = c.gyro_bias()
    if app.force is not None:
        app.force.tare(c.force_zero())
    app.ack(c.cmd_type, c.seq)

# Calibration state: a calibration in progress is a Calibration with named
# fields (which, the command to answer, sums and spreads), complete after
# CAL_SAMPLES samples. Pure logic: MicroPython and CPython.
from fwtest import check, done, eq
from openpuck_fw import msgtable as mt
from openpuck_fw.calibration import CAL_SAMPLES, Calibration

c = Calibration(mt.CALIBRATE_WHAT_REST, mt.T_CALIBRATE, 7)
eq("it names what it calibrates and the command it answers", (c.what, c.cmd_type, c.seq),
   (mt.CALIBRATE_WHAT_REST, mt.T_CALIBRATE, 7))
eq("nothing in yet", (c.n, c.gyro_sum, c.force_sum), (0, [0, 0, 0], 0))
done_at = [c.add(10 + (i % 3), -4, 2 * (i % 2), 1000 + i) for i in range(CAL_SAMPLES)]
eq("complete at the last sample, not before", (done_at[-1], any(done_at[:-1])), (True, False))
eq("the gyro bias: each axis' mean", c.gyro_bias(), [sum(10 + (i % 3) for i in range(CAL_SAMPLES)) // CAL_SAMPLES,
                                                     -4, sum(2 * (i % 2) for i in range(CAL_SAMPLES)) // CAL_SAMPLES])
eq("the spread: the widest axis' max - min", c.spread(), 2)
eq("the axes' extremes", (c.gyro_min, c.gyro_max), ([10, -4, 0], [12, -4, 2]))
eq("the force zero: the mean raw reading", c.force_zero(), sum(1000 + i for i in range(CAL_SAMPLES)) // CAL_SAMPLES)
f = Calibration(mt.CALIBRATE_WHAT_FORCE_ZERO, mt.T_CALIBRATE, 8)
check("a calibration of its own each time", f.n == 0 and f.gyro_sum is not c.gyro_sum)
done()

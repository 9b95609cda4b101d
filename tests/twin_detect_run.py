# Runs the MicroPython twin of the detector over one recording.
#   micropython tests/twin_detect_run.py FIRMWARE_DIR SAMPLES.bin CONFIG [--c EXERCISE_ID [DIR]]
# --c: the C detector (module opdetect: built into this micropython, or
# DIR/opdetect.mpy) through its make_detector() with the catalogue defaults,
# the config's target and scales, instead of the twin.
# SAMPLES.bin: records of struct "<I6hH" (t_us, ax..gz, force) in raw counts.
# CONFIG: the op_detect_config_t fields, comma separated, in CONFIG_FIELDS order.
# Prints one line per event: kind,count,t_start,t_peak,t_end,amplitude,hold
# (after the last sample, op_detect_finish()), then "samples N us X".
# --trace: instead, the twin's state() after every sample (its events popped)
# and once more after finish() (its events popped), one comma-separated line each
# (tests/test_twin_parity.py compares them with op_detect_state()).
import gc
import struct
import sys
import time

sys.path.insert(0, sys.argv[1])
from openpuck_fw import detect  # noqa: E402

vals = [int(v) for v in sys.argv[3].split(",")]
cfg = {}
for i in range(len(detect.CONFIG_FIELDS)):
    cfg[detect.CONFIG_FIELDS[i]] = vals[i]
if "--c" in sys.argv:
    i = sys.argv.index("--c")
    if len(sys.argv) > i + 2:
        sys.path.insert(0, sys.argv[i + 2])
    import opdetect  # noqa: E402
    d = opdetect.make_detector(int(sys.argv[i + 1]), cfg["target_milli"], 0, 0, 0, cfg["accel_lsb_per_g"],
                               cfg["gyro_lsb_per_dps_x1000"], cfg["force_mn_per_lsb"])
else:
    d = detect.Detector(cfg)
if "--trace" in sys.argv:
    with open(sys.argv[2], "rb") as f:
        buf = f.read()
    for i in range(len(buf) // 18):
        r = struct.unpack_from("<I6hH", buf, i * 18)
        if d.push(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]):
            while d.pop() is not None:
                pass
        print(",".join(str(v) for v in d.state()))
    d.finish()  # its events popped, as the C side's Detector.finish() pops them
    while d.pop() is not None:
        pass
    print(",".join(str(v) for v in d.state()))
    sys.exit(0)
out = []
push = d.push
pop = d.pop
unpack = struct.unpack_from
n = 0
us = 0
# Read and unpack in blocks outside the timed loop: the unix port's
# struct.unpack_from alone costs more than the detector, so "us" is the
# twin's own time (push and pop), the figure a board's budget needs.
with open(sys.argv[2], "rb") as f:
    while True:
        buf = f.read(18 * 512)
        if not buf:
            break
        rows = [unpack("<I6hH", buf, i * 18) for i in range(len(buf) // 18)]
        gc.collect()  # the unpacking's garbage is not the twin's cost
        t0 = time.ticks_us() if hasattr(time, "ticks_us") else int(time.time() * 1e6)
        for r in rows:
            if push(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]):
                e = pop()
                while e is not None:
                    out.append(e)
                    e = pop()
        t1 = time.ticks_us() if hasattr(time, "ticks_us") else int(time.time() * 1e6)
        us += t1 - t0
        n += len(rows)
d.finish()
e = pop()
while e is not None:
    out.append(e)
    e = pop()
for e in out:
    print(",".join(str(x) for x in e))
print("samples %d us %d" % (n, us))

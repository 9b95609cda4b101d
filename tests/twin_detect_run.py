# Runs the MicroPython twin of the detector over one recording.
#   micropython tests/twin_detect_run.py FIRMWARE_DIR SAMPLES.bin CONFIG [--bench]
# SAMPLES.bin: records of struct "<I6hH" (t_us, ax..gz, force) in raw counts.
# CONFIG: the op_detect_config_t fields, comma separated, in CONFIG_FIELDS order.
# Prints one line per event: kind,count,t_start,t_peak,t_end,amplitude,hold
# (after the last sample, op_detect_finish()), then "samples N us X".
import struct
import sys
import time

sys.path.insert(0, sys.argv[1])
from openpuck_fw import detect  # noqa: E402

vals = [int(v) for v in sys.argv[3].split(",")]
cfg = {}
for i in range(len(detect.CONFIG_FIELDS)):
    cfg[detect.CONFIG_FIELDS[i]] = vals[i]
d = detect.Detector(cfg)
with open(sys.argv[2], "rb") as f:
    buf = f.read()
n = len(buf) // 18
out = []
push = d.push
pop = d.pop
unpack = struct.unpack_from
t0 = time.ticks_us() if hasattr(time, "ticks_us") else int(time.time() * 1e6)
for i in range(n):
    t, ax, ay, az, gx, gy, gz, fo = unpack("<I6hH", buf, i * 18)
    if push(t, ax, ay, az, gx, gy, gz, fo):
        e = pop()
        while e is not None:
            out.append(e)
            e = pop()
t1 = time.ticks_us() if hasattr(time, "ticks_us") else int(time.time() * 1e6)
d.finish()
e = pop()
while e is not None:
    out.append(e)
    e = pop()
for e in out:
    print(",".join(str(x) for x in e))
print("samples %d us %d" % (n, t1 - t0))

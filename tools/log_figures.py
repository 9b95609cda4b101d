"""Figures of the puck's own log (issue 23) on the virtual puck.

    python tools/log_figures.py [--records 3000]

1. append: records per second the log (firmware/openpuck_fw/eventlog.py)
   takes under MicroPython's unix port, each flushed as the firmware does,
   and what one costs against a 200 Hz sample period (5 ms). The unix port
   writes the host's filesystem, not littlefs on the RP2040's flash: on a
   puck a flush rewrites a 4 KiB block (and stalls interrupts): measure it
   on the emulated Pico before quoting a puck figure.
2. download: bytes and records per second of ``Puck.log_pull`` over the
   virtual puck's serial link (a pseudo-terminal), from a log of --records
   records written beforehand into the puck's flash folder.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

APPEND = """
import sys, time
from openpuck_fw import eventlog as el
log = el.EventLog(sys.argv[1])
n = int(sys.argv[2])
payload = bytes(23)   # a rep's payload
t0 = time.ticks_us()
for i in range(n):
    log.append(3, i, payload)
dt = time.ticks_diff(time.ticks_us(), t0)
print(n, dt)
"""


def append_rate(n: int) -> tuple[float, float]:
    """(records per second, microseconds per record) of n appends under MicroPython."""
    from openpuck.device.sim import micropython_command
    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / "append.py"
        script.write_text(APPEND)
        env = dict(os.environ, MICROPYPATH=str(ROOT / "firmware"))
        out = subprocess.run(micropython_command() + [str(script), d + "/oplog", str(n)],
                             capture_output=True, text=True, env=env, check=True, timeout=600).stdout
    k, us = (int(x) for x in out.split())
    return k / (us / 1e6), us / k


def download_rate(n: int, speed: float) -> tuple[int, float, float]:
    """(bytes, bytes per second, records per second) of pulling n records over the virtual serial link."""
    import openpuck
    from openpuck.device.sim import VirtualPuck
    sys.path.insert(0, str(ROOT / "firmware"))
    sys.path.insert(0, str(ROOT / "tests" / "firmware" / "cpython"))   # micropython.const for CPython
    from openpuck_fw import eventlog as el
    with tempfile.TemporaryDirectory() as d:
        log = el.EventLog(d + "/oplog", max_bytes=1 << 30)
        for i in range(n):
            log.append(3, i, bytes(23))
        log._close()
        size = log.bytes
        with VirtualPuck(speed=speed, state_dir=d) as vp, openpuck.connect(f"serial:{vp.port}") as p:
            t0 = time.monotonic()
            recs = p.log_pull(0)
            dt = time.monotonic() - t0
    return size, size / dt, len(recs) / dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=3000, help="records appended and downloaded")
    ap.add_argument("--speed", type=float, default=1.0,
                    help="the virtual puck's clock: 1 real time (its main loop waits as a puck's does), "
                         "inf as fast as it runs")
    a = ap.parse_args()
    rate, us = append_rate(a.records)
    print(f"append (MicroPython unix port, flush per record): {rate:.0f} records/s, "
          f"{us:.0f} us per record ({us / 5000:.1%} of a 200 Hz sample period)")
    size, bps, rps = download_rate(a.records, a.speed)
    print(f"download over the virtual serial link (speed {a.speed:g}): {size} bytes of {a.records} records: "
          f"{bps:.0f} bytes/s, {rps:.0f} records/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

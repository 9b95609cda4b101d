"""openpuck sim: start a virtual puck and print its port."""
from __future__ import annotations

import argparse
import sys
import time

PATIENT_NAME = "patient"   # openpuck.device.sim.PATIENT (not imported here: --help stays fast)
HELP = "start a virtual puck (the real firmware on MicroPython) and print its port"
DESCRIPTION = """\
Start a virtual puck: the puck firmware, unchanged, on MicroPython's unix
port, with the sensors fed from a recording (a samples CSV) or a built-in
scenario. It serves a pseudo-terminal that any serial program opens like a
puck's USB port. The recording plays from the moment a host starts
streaming. Runs until Ctrl-C."""
EPILOG = """\
examples:
  openpuck sim rec.csv                       real time; prints e.g. /dev/pts/4
  openpuck sim --scenario grip10 --speed max as fast as the host reads
  openpuck sim --list-scenarios
  openpuck stream serial:/dev/pts/4          in another terminal
"""


def parse_speed(text: str) -> float:
    if text in ("max", "inf"):
        return float("inf")
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a speed: {text!r} (a factor like 2, or max)") from None
    if not v > 0:
        raise argparse.ArgumentTypeError("speed must be above 0")
    return v


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("recording", nargs="?", help="samples CSV to play (docs/csv-format.md)")
    p.add_argument("--scenario", help="a built-in scenario instead of a recording (--list-scenarios), "
                   f"or {PATIENT_NAME}: does whatever exercise the host sets")
    p.add_argument("--speed", type=parse_speed, default=1.0,
                   help="1 = real time (default), N times faster, or max")
    p.add_argument("--list-scenarios", action="store_true", help="list the built-in scenarios and exit")
    p.add_argument("--state-dir", help="keep the puck's flash (its config) in this directory")


def run(args: argparse.Namespace) -> int:
    from ..device import sim
    from . import CliError

    if args.list_scenarios:
        for name, s in sim.scenarios().items():
            print(f"{name:8s} {s['exercise']:14s} {s['duration_s']:5.1f} s  reps={s['reps']} "
                  f"partial={s['partial_reps']} grips={s['grips']}  {s['description']}")
        # no script, so no counts: the firmware's catalogue does not hold it
        print(f"{sim.PATIENT:8s} {'(as set)':14s} {'open':>7s}  a patient who does whatever exercise "
              "the host sets, for as long as it streams (home programmes)")
        return 0
    if args.recording and args.scenario:
        raise CliError("give a recording or --scenario, not both")
    puck = sim.start(recording=args.recording, scenario=args.scenario, speed=args.speed,
                     state_dir=args.state_dir, echo_log=True)
    try:
        print(puck.port, flush=True)
        what = args.recording or (f"scenario {args.scenario}" if args.scenario else "a puck lying still")
        speed = "real time" if args.speed == 1 else ("max speed" if args.speed == float("inf")
                                                      else f"{args.speed:g}x real time")
        print(f"virtual puck on {puck.port}: {what} at {speed} (starts when a host starts "
              f"streaming). Ctrl-C to stop.", file=sys.stderr, flush=True)
        while puck.alive:
            time.sleep(0.2)
        print(f"the virtual puck stopped (exit {puck.returncode})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130       # as every command interrupted by Ctrl-C
    finally:
        puck.stop()

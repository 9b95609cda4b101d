"""openpuck record: save a puck's raw bytes to a crash-safe recording."""
from __future__ import annotations

import sys
import time

from . import CliError

HELP = "record a puck's raw wire bytes to a crash-safe .opr file"
DESCRIPTION = """\
Connect to a puck, start the exercise and append every byte of the link
(both directions, with host timestamps) to FILE. The file is flushed every
0.5 s, so a crash or kill -9 loses at most the last half second; replay,
export and plot read it later, with today's or tomorrow's decoder.
Stop with Ctrl-C or --seconds."""
EPILOG = """\
examples:
  openpuck record /dev/ttyACM0 -o session.opr
  openpuck record sim:?speed=max -o sim.opr --seconds 20 --exercise grip_squeeze
  openpuck record ble:OpenPuck-1A2B -o clinic.opr --exercise arm_raise --target 60
  openpuck replay session.opr                  then look at what was recorded
"""


def add_arguments(p) -> None:
    p.add_argument("url", help="the puck: serial:PORT, a port path, ble:NAME, sim:[...]")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="recording to write (.opr)")
    p.add_argument("--seconds", metavar="N", help="stop after N seconds (default: Ctrl-C)")
    add_session_arguments(p)
    p.add_argument("--fsync", action="store_true", help="force each flush to disk (survives power loss)")


def add_session_arguments(p) -> None:
    p.add_argument("--exercise", default="grip_squeeze", help="exercise to count (default grip_squeeze)")
    p.add_argument("--target", default=None, metavar="VALUE|auto",
                   help="target in N or degrees, or 'auto' (default: the exercise's default)")
    p.add_argument("--rate", default=200, metavar="HZ", help="sample rate: 25, 50, 100 or 200 (default 200)")
    p.add_argument("--no-start", action="store_true", help="do not send start (just listen)")


def check_session_arguments(args) -> None:
    """Check --exercise, --target, --rate and --seconds before anything connects."""
    from .. import validate
    from ..exercises import get, names
    try:
        ex = get(args.exercise)
    except KeyError:
        raise CliError(f"--exercise {args.exercise!r}: one of {', '.join(names())}") from None
    args.target = validate.target(args.target, ex.unit, "--target")
    args.rate = validate.rate_hz(args.rate, "--rate")
    args.seconds = validate.seconds("--seconds", getattr(args, "seconds", None))


def start_session(puck, args) -> None:
    if not args.no_start:
        puck.start(exercise=args.exercise, target=args.target, rate_hz=args.rate)


def run(args) -> int:
    import openpuck
    check_session_arguments(args)
    t0 = time.monotonic()
    reps = [0]
    interrupted = False
    with openpuck.connect(args.url, record=args.output, fsync=args.fsync) as puck:
        puck.on("rep", lambda ev: reps.__setitem__(0, reps[0] + 1))
        start_session(puck, args)
        tty = sys.stderr.isatty()
        try:
            while not puck.wait_closed(0):
                left = None if args.seconds is None else args.seconds - (time.monotonic() - t0)
                if left is not None and left <= 0:
                    break
                time.sleep(min(0.5, left) if left is not None else 0.5)
                if tty:
                    rec = puck._recorder
                    kb = (rec.bytes_written / 1024) if rec else 0
                    print(f"\rrecording {args.output}: {time.monotonic() - t0:6.1f} s  "
                          f"{kb:8.1f} kB  reps {reps[0]}", end="", file=sys.stderr, flush=True)
        except KeyboardInterrupt:   # the usual way to stop: still close the file and sum up
            interrupted = True
        if puck.closed_reason is not None:
            raise CliError(str(puck.closed_reason))
        c = puck.counters
    if tty:
        print(file=sys.stderr)
    print(f"recorded {time.monotonic() - t0:.1f} s to {args.output}: {c['samples']} samples, "
          f"{reps[0]} reps, {c['lost_frames']} frames lost, {c['gaps']} gaps")
    return 130 if interrupted else 0   # 130: interrupted by Ctrl-C, as every command

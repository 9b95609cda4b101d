"""openpuck record: save a puck's raw bytes to a crash-safe recording."""
from __future__ import annotations

import sys
import time

from ..device.decoder import DeviceSpan
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
    p.add_argument("--seconds", metavar="N",
                   help="stop after N seconds of the puck's time, as stream does: a virtual puck at "
                        "speed 2 stops after N/2 s here (default: Ctrl-C)")
    add_session_arguments(p)
    p.add_argument("--fsync", action="store_true", help="force each flush to disk (survives power loss)")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists (default: refuse)")


def add_session_arguments(p) -> None:
    p.add_argument("--exercise", default="grip_squeeze", help="exercise to count (default grip_squeeze)")
    p.add_argument("--target", default=None, metavar="VALUE|auto",
                   help="target in N, degrees or mm, or 'auto' (default: the exercise's default)")
    p.add_argument("--rate", default=200, metavar="HZ", help="sample rate: 25, 50, 100 or 200 (default 200)")
    p.add_argument("--no-start", action="store_true", help="do not send start (just listen)")
    p.add_argument("--watch", action="store_true",
                   help="start with the puck's own rate and exercise (no --exercise, --target, "
                        "--rate): what a host without the owner key may do on a paired puck")


def check_session_arguments(args) -> None:
    """Check --exercise, --target, --rate and --seconds before anything connects."""
    from ..exercises import get, names
    from ..offline import validate
    try:
        ex = get(args.exercise)
    except KeyError:
        raise CliError(f"--exercise {args.exercise!r}: one of {', '.join(names())}") from None
    args.target = validate.target(args.target, ex.unit, "--target")
    args.rate = validate.rate_hz(args.rate, "--rate")
    args.seconds = validate.seconds("--seconds", getattr(args, "seconds", None))


def start_session(puck, args) -> None:
    if getattr(args, "watch", False) and not args.no_start:
        puck.watch()
    elif not args.no_start:
        puck.start(exercise=args.exercise, target=args.target, rate_hz=args.rate)


class _DeviceTime(DeviceSpan):
    """The span of device time the puck has sent samples for; ``reached`` is
    set once it covers ``seconds``."""

    def __init__(self, seconds: float | None) -> None:
        import threading
        super().__init__()
        self.seconds = seconds
        self.reached = threading.Event()

    def __call__(self, block) -> None:  # noqa: ANN001 - a SampleBlock
        super().__call__(block)
        if self.seconds is not None and self.span >= self.seconds:
            self.reached.set()


def run(args) -> int:
    from ..device.puck import connect
    check_session_arguments(args)
    t0 = time.monotonic()
    reps = [0]
    interrupted = False
    device = _DeviceTime(args.seconds)
    # --seconds counts the puck's time: a virtual puck at speed=max runs far ahead of this clock
    host_limit = None if args.seconds is None else args.seconds * 10 + 30
    puck = connect(args.url, record=args.output, fsync=args.fsync, overwrite=args.force)
    recorder = puck.recorder
    with puck:
        puck.on("rep", lambda ev: reps.__setitem__(0, reps[0] + 1))
        puck.on("samples", device)
        start_session(puck, args)
        tty = sys.stderr.isatty()
        try:
            while not puck.wait_closed(0):
                if recorder is not None and recorder.error is not None:
                    break   # nothing more can be kept: stop the puck, say so below
                if device.reached.wait(0.1):
                    puck.stop()   # at once: a virtual puck at full speed runs far ahead
                    break
                if host_limit is not None and time.monotonic() - t0 > host_limit:
                    raise CliError(f"the puck sent {device.span:.1f} s of samples in "
                                   f"{time.monotonic() - t0:.0f} s; stopped waiting for {args.seconds:g} s")
                if tty:
                    rec = puck.recorder
                    kb = (rec.bytes_written / 1024) if rec else 0
                    print(f"\rrecording {args.output}: {device.span:6.1f} s  "
                          f"{kb:8.1f} kB  reps {reps[0]}", end="", file=sys.stderr, flush=True)
        except KeyboardInterrupt:   # the usual way to stop: still close the file and sum up
            interrupted = True
        if puck.closed_reason is not None:
            raise CliError(str(puck.closed_reason))
    c = puck.counters   # after close: everything the file holds, and nothing more
    if recorder is not None and recorder.error is not None:
        raise CliError(f"{args.output}: recording stopped after {recorder.bytes_written} bytes: "
                       f"{recorder.error.strerror or recorder.error} (what was written is kept "
                       f"and readable; free some space and record again)")
    if tty:
        print(file=sys.stderr)
    print(f"recorded {device.span:.1f} s of the puck's time ({time.monotonic() - t0:.1f} s here) to "
          f"{args.output}: {c['samples']} samples, {reps[0]} reps, {c['lost_frames']} frames lost, "
          f"{c['gaps']} gaps")
    return 130 if interrupted else 0   # 130: interrupted by Ctrl-C, as every command

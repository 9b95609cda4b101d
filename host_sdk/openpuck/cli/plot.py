"""openpuck plot: a session as a picture."""
from __future__ import annotations

import sys

from . import CliError

HELP = "plot a recording: signals with reps and grips marked (PNG)"
DESCRIPTION = """\
Draw FILE's accelerometer, gyroscope, force and exercise signal, with reps
(green), partial reps (orange), grips (blue) and gaps (grey) marked, each
rep's amplitude and duration below (the trend over the session), and the
session summary in the title. --from/--to show a time window, on the
recording's own clock (--from 300 draws from 300 s). FILE is a recording (.opr), raw wire bytes
(.bin) or a samples CSV (then the SDK detector finds the reps)."""
EPILOG = """\
examples:
  openpuck plot session.opr -o session.png
  openpuck plot ../shared/data/synthetic-dev/arm_raise-1005.csv --exercise arm_raise -o arm.png
  openpuck plot session.opr -o session.svg --title "Mrs. K, week 3"
  openpuck plot hour.opr -o minute5.png --from 300 --to 360    one minute of an hour
"""


def add_arguments(p) -> None:
    p.add_argument("file", help="recording (.opr), wire bytes (.bin) or samples CSV")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png", help="image to write (.png, .svg, .pdf)")
    p.add_argument("--exercise", help="exercise (for a CSV, and for the signal panel)")
    p.add_argument("--target", help="target for a CSV's detector (N, degrees or mm, or auto)")
    p.add_argument("--title", help="title instead of the summary")
    p.add_argument("--from", dest="t_from", metavar="S", help="start S seconds after the first sample")
    p.add_argument("--to", dest="t_to", metavar="S", help="end S seconds after the first sample")


def _window(args, duration: float) -> tuple[float, float]:
    from ..offline import validate
    a = validate.number("--from", args.t_from, 0.0, duration, "s") if args.t_from is not None else 0.0
    z = validate.number("--to", args.t_to, 0.0, None, "s", above=True) if args.t_to is not None else duration
    if z <= a:
        raise CliError(f"--to ({z:g} s) must come after --from ({a:g} s)")
    return a, z


def run(args) -> int:
    import os

    from ..exercises import names
    from ..offline.plot import plot_session
    from ..offline.recording import RecordingError, load_session
    if args.exercise and args.exercise not in names():
        raise CliError(f"--exercise {args.exercise!r}: one of {', '.join(names())}")
    ext = os.path.splitext(args.output)[1].lower()
    if ext not in (".png", ".svg", ".pdf", ".jpg", ".jpeg"):
        raise CliError(f"{args.output}: give a .png, .svg or .pdf name")
    try:
        s = load_session(args.file, exercise=args.exercise, target=args.target)
    except RecordingError as e:
        raise CliError(str(e)) from None
    for w in s.warnings:
        print(f"openpuck plot: warning: {w}", file=sys.stderr)
    if len(s.samples) == 0:
        raise CliError(f"{args.file}: no samples to plot")
    if args.t_from is not None or args.t_to is not None:
        s = s.window(*_window(args, s.duration))
    plot_session(s, args.output, exercise=args.exercise, title=args.title)
    sm = s.summary()
    print(f"{args.output}: {sm['reps']} reps, {sm['grips']} grips, {sm['duration_s']:.1f} s")
    return 0

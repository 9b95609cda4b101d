"""openpuck detect: count reps, partial reps and grips in a recorded CSV."""
from __future__ import annotations

import argparse
import json
import sys

from ..device.events import Grip, PartialRep, Rep
from ..exercises import CATALOGUE
from ..exercises import get as get_exercise
from ..offline.detect import detect, explain
from . import CliError

HELP = "count reps in a recording (CSV) with the puck's own detector"
DESCRIPTION = """\
Run the puck's rep detector (the C core, bit for bit what the puck runs) over
a samples CSV (25 to 200 Hz, gaps allowed), or over the samples of a
recording (.opr) or a wire capture, and print the reps, partial reps and the
session figures. Without --target the target is learned from the
first reps of the set (auto), as on the puck.
"""
EPILOG = "exercises:\n" + "\n".join(
    f"  {e.name:<20} {e.signal:<8} default target {e.target:g} {e.unit}" for e in CATALOGUE) + """

examples:
  openpuck detect rec.csv --exercise grip_squeeze
  openpuck detect rec.csv --exercise arm_raise --target 60 --json
  openpuck detect rec.csv --exercise row --explain why.png
      a plot of the signal the detector counted, its rest, the ON / OFF / END
      levels, the target (given or learned), the level a partial rep reaches
      and each rep: where a count is wrong, it shows why
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("csv", metavar="FILE", help="samples CSV (t_s,ax_g,...,force_n), .opr recording or wire bytes")
    p.add_argument("--exercise", "-e", required=True, help="exercise name (see below)")
    p.add_argument("--target", "-t", default=None,
                   help="the patient's target in N, degrees or mm, or 'auto' (the default)")
    p.add_argument("--json", action="store_true",
                   help='print one JSON object {"exercise","target","count","partial","reps"}')
    p.add_argument("--explain", metavar="PLOT.png", default=None,
                   help="also plot what the detector saw: signal, rest, ON/OFF/END, target, reps (needs matplotlib)")


def run(args: argparse.Namespace) -> int:
    try:
        ex = get_exercise(args.exercise)
    except KeyError as e:
        raise CliError(str(e)) from None
    from ..offline import validate
    from ..offline.recording import load_session, open_source
    target = validate.target(args.target, ex.unit, "--target")
    src = open_source(args.csv)
    samples = src.samples if src.kind == "csv" else load_session(args.csv).samples
    for w in src.warnings():
        print(f"openpuck detect: warning: {w}", file=sys.stderr)
    try:
        if args.explain:
            from ..errors import OpenPuckError
            from ..offline.plot import plot_explain
            why = explain(samples, exercise=ex, target=target)
            det = why.detection
            try:
                plot_explain(why, args.explain, title=str(args.csv))
            except OpenPuckError as e:
                raise CliError(str(e)) from None
            except OSError as e:
                raise CliError(f"--explain: cannot write {args.explain}: {e.strerror or e}") from None
        else:
            det = detect(samples, exercise=ex, target=target)
    except ValueError as e:  # DetectError and CSV problems are OpenPuckErrors too
        raise CliError(str(e)) from None
    if args.json:
        print(json.dumps(det.as_json()))
        return 0
    if args.explain:
        print(f"explain: wrote {args.explain}")
    s = det.summary()
    unit = det.unit
    tgt = f"{det.target:g} {unit}" if det.target else "not learned (too few clear reps)"
    print(f"{ex.name}: {s['reps']} reps, {s['partial_reps']} partial, {s['grips']} grips"
          f" (target {tgt}{', auto' if det.auto else ''})")
    grips = 0
    for ev in det.events:
        hold_s = getattr(ev, "hold_s", 0.0)
        hold = f"  hold {hold_s:.2f} s" if hold_s else ""
        if isinstance(ev, Grip):
            grips += 1
            print(f"  grip    {grips:>3}  {ev.t_start:8.2f} .. {ev.t_end:8.2f} s"
                  f"  {'':>15}  {ev.peak_force:7.1f} N{hold}")
        elif isinstance(ev, (Rep, PartialRep)):
            kind = "rep" if isinstance(ev, Rep) else "partial"
            print(f"  {kind:<7} {ev.count:>3}  {ev.t_start:8.2f} .. {ev.t_end:8.2f} s"
                  f"  peak {ev.t_peak:8.2f} s  {ev.amplitude:7.1f} {unit}{hold}")
    if s["reps"]:
        print(f"mean amplitude {s['mean_amplitude']:.1f} {unit}, best {s['best_amplitude']:.1f} {unit},"
              f" mean rep {s['mean_rep_duration_s']:.2f} s, time under tension"
              f" {s['time_under_tension_s']:.1f} s, {s['reps_per_minute']:.1f} reps/min")
    return 0

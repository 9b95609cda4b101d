"""openpuck demo: a virtual puck plays a set of reps; each is counted live."""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from .. import exercises
from ..clinic.units import amount
from ..device.decoder import DeviceSpan
from ..device.events import Grip, Log, PartialRep, Rep, Target
from ..offline import validate
from ..offline.summary import summarise

HELP = "a short home-programme session on a virtual puck (no hardware needed)"
DESCRIPTION = """\
A short home-programme session on a virtual puck (the puck firmware on
MicroPython's unix port), through the SDK's public API, the code that runs a
real puck: two exercises of two sets each. The virtual patient does what
the puck is set to; each rep is counted live, the target moves between sets
(most attempts, not all, should reach it), every rep goes into a history
database, the puck flashes and beeps at the end of a set and a personal best,
and a report for a therapist is written at the end (its path is printed).

With --scenario, the older demo: one set of a built-in scenario whose true
counts are known, checked against them (exit 0 when they match)."""
EPILOG = """\
examples:
  openpuck demo                      about a minute in real time
  openpuck demo --speed max          as fast as possible
  openpuck demo --scenario grip10    one scenario, its counts checked
"""

DEMO_PROGRAMME = """\
name = "Demo: hand and wrist"
patient_note = "Squeeze the pad, then bend the wrist up and down."

[[exercise]]
name = "grip_squeeze"
puck = "right_hand"
sets = 2
reps = 5
rest_s = 3
target = 15

[[exercise]]
name = "wrist_flexion"
puck = "right_hand"
sets = 2
reps = 4
rest_s = 3
target = "auto"
"""

RATE_HZ = 200


def add_arguments(p: argparse.ArgumentParser) -> None:
    from .sim import parse_speed
    p.add_argument("--scenario", default=None,
                   help="one set of a built-in scenario, counts checked (openpuck sim --list-scenarios)")
    p.add_argument("--speed", type=parse_speed, default=1.0, help="1 = real time (default), N, or max")
    p.add_argument("--target", help="with --scenario: target per rep in N, degrees or mm, or 'auto' "
                                    "(default: the scenario's)")
    p.add_argument("--db", help="the demo's history database (default: a new one in a temporary folder)")


def line(ev: Any, clock: DeviceSpan, out: TextIO) -> None:
    t = ev.t - (clock.first or 0.0)
    if isinstance(ev, Rep):
        hold = f"  held {ev.hold_s:.1f} s" if ev.hold_s else ""
        what, amp, more = f"rep {ev.count:<3d}", amount(ev.amplitude, ev.unit), f"{ev.duration:.1f} s{hold}"
    elif isinstance(ev, PartialRep):
        what, amp, more = (f"partial {ev.count:<3d}", amount(ev.amplitude, ev.unit),
                           "short of the target: a partial rep")
    else:
        what, amp, more = "grip", amount(ev.peak_force, "N"), f"held {ev.hold_s:.1f} s"
    print(f"  {t:6.1f}  {what:12s} {amp:>9s}   {more}", file=out, flush=True)


def summary(events: list, clock: DeviceSpan, dropped: Any, ex: Any, target: Any, truth: dict[str, Any],
            out: TextIO) -> bool:
    s = summarise(events, exercise=ex.name, unit=ex.unit, target=target if target != "auto" else None)
    ok = (s["reps"], s["partial_reps"], s["grips"]) == (truth["reps"], truth["partial_reps"], truth["grips"])
    print(f"\nsession summary: {ex.name}", file=out)
    print(f"  reps              {s['reps']:4d}   (the scenario has {truth['reps']})", file=out)
    print(f"  partial reps      {s['partial_reps']:4d}   (the scenario has {truth['partial_reps']})", file=out)
    print(f"  grips             {s['grips']:4d}   (the scenario has {truth['grips']})", file=out)
    if s["reps"]:
        print(f"  amplitude         mean {amount(s['mean_amplitude'], ex.unit)}, "
              f"best {amount(s['best_amplitude'], ex.unit)}", file=out)
        print(f"  rep duration      mean {s['mean_rep_duration_s']:.2f} s", file=out)
        print(f"  time under tension {s['time_under_tension_s']:.1f} s", file=out)
        print(f"  reps per minute   {s['reps_per_minute']:.1f}", file=out)
    print(f"  samples           {clock.samples} received over {clock.span:.1f} s, "
          f"{dropped} dropped by the puck", file=out)
    print("the counts match the scenario." if ok else "the counts DIFFER from the scenario.", file=out)
    return ok


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """The demo through the SDK's public API: what the README shows an app doing."""
    out = out or sys.stdout
    if args.scenario is None:
        return run_programme(args, out)
    return run_scenario(args, out)


def run_programme(args: argparse.Namespace, out: TextIO) -> int:
    """A short programme session: counted live, progressed, stored, reported."""
    import tempfile
    from pathlib import Path

    from ..clinic import programme, programme_file
    from ..clinic.history import History
    from ..clinic.programme_view import printer
    from ..device.puck import connect
    from . import CliError
    if args.target is not None:
        raise CliError("--target goes with --scenario; the programme sets its own targets")
    plan = programme_file.loads(DEMO_PROGRAMME, source="the demo programme")
    db = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix="openpuck-demo-")) / "history.sqlite3"
    speed = "max" if args.speed == float("inf") else f"{args.speed:g}"
    print(f"OpenPuck demo: {plan.name}, on a virtual puck (the puck firmware on MicroPython) whose "
          f"patient does what it is set to; {'max speed' if speed == 'max' else speed + 'x real time'}.\n",
          file=out, flush=True)
    with connect(f"sim:?scenario=patient&speed={speed}") as puck, History(db) as history:
        report = programme.run(plan, {"right_hand": puck}, "demo", history, on_event=printer(out),
                               rest_scale=1.0 if speed != "max" else 0.0)
        bests = ", ".join(f"{ex} {amount(a, u)}" for ex, a, u in report.personal_bests)
        print(f"\npersonal bests: {bests}" if bests else "", file=out)
        where = _report(history, db, out)
    print(f"history: {db}" + (f"\nreport: {where}" if where else ""), file=out)
    return 0


def _report(history, db, out: TextIO):
    """The therapist's report of the demo patient, beside the database (None if reports are not available)."""
    try:
        from ..clinic.report import write_report
    except ImportError:
        return None
    return write_report(history, "demo", db.with_name("report.html"))


def run_scenario(args: argparse.Namespace, out: TextIO) -> int:
    """One set of a scenario with known counts: counted live, checked against them."""
    from ..device import sim
    from ..device.puck import connect
    from . import CliError
    catalogue = sim.scenarios()
    if args.scenario not in catalogue:
        raise CliError(f"unknown scenario {args.scenario!r}; known: {', '.join(sorted(catalogue))}")
    sc = catalogue[args.scenario]
    ex = exercises.get(sc["exercise"])
    target = validate.target(args.target, ex.unit, "--target")
    if target is None:
        target = sc["target"]
    speed_txt = "real time" if args.speed == 1 else ("max speed" if args.speed == float("inf")
                                                      else f"{args.speed:g}x")
    print(f"OpenPuck demo: a virtual puck (the puck firmware on MicroPython) plays "
          f"'{args.scenario}': {sc['description']}.", file=out)
    shown = "learned from the first reps" if target == "auto" else amount(float(target), ex.unit)
    print(f"exercise {ex.name} ({ex.motion}), target {shown}, {RATE_HZ} Hz, "
          f"{sc['duration_s']:.0f} s at {speed_txt}.\n", file=out, flush=True)
    speed = "max" if args.speed == float("inf") else f"{args.speed:g}"
    clock = DeviceSpan()
    events: list = []
    with connect(f"sim:?scenario={args.scenario}&speed={speed}") as puck:
        puck.on("samples", clock)
        puck.start(exercise=ex.name, target=target, rate_hz=RATE_HZ)
        print(f"  {'t (s)':>6s}  {'event':12s} {'amplitude':>9s}", file=out, flush=True)
        limit = time.monotonic() + sc["duration_s"] / args.speed + 30
        while clock.first is None or clock.span < sc["duration_s"]:
            if time.monotonic() > limit:
                raise CliError("the virtual puck stopped streaming")
            for ev in puck.events(timeout=0.2):
                if isinstance(ev, (Rep, PartialRep, Grip)):
                    events.append(ev)
                    line(ev, clock, out)
                elif isinstance(ev, Log) and ev.level in ("warning", "error"):
                    print(f"  puck says: {ev.text}", file=out)
                elif isinstance(ev, Target) and target == "auto" and ev.value is not None:
                    print(f"  {ev.t - (clock.first or 0.0):6.1f}  {'target':12s} {amount(ev.value, ev.unit):>9s}"
                          f"   learned by the puck from the reps", file=out, flush=True)
                if clock.first is not None and clock.span >= sc["duration_s"]:
                    break
        puck.stop()
        for ev in puck.events(timeout=0.3):   # what the puck sent before the stop took
            if isinstance(ev, (Rep, PartialRep, Grip)):
                events.append(ev)
                line(ev, clock, out)
        status = puck.get_status()
    return 0 if summary(events, clock, status.dropped_samples if status else "?", ex, target, sc, out) else 1

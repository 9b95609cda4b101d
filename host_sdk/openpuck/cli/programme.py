"""openpuck programme: run a home programme on one or two pucks, or check one."""
from __future__ import annotations

import argparse
import shlex
import sys

from . import CliError

HELP = "run a home programme (a therapist's TOML file) on one or two pucks, or check one"
DESCRIPTION = """\
A home programme is a TOML file a therapist writes: exercises in order, sets,
reps or seconds per set, rests, targets and how they move (docs/programmes.md;
examples in programmes/). `run` does one session: set by set it tells the
puck what to count, shows the count live, rests, and moves the target so
that most attempts, not all, reach it. Every rep goes into the patient's
history as it happens (see `openpuck history` and `openpuck report`), with
the raw recording of each set beside it. `check` reads a programme and says
what is wrong, line by line, or what a session would do."""
EPILOG = """\
examples:
  openpuck programme check programmes/hand_arm.toml
  openpuck programme run programmes/hand_arm.toml --puck /dev/ttyACM0 --patient anna
  openpuck programme run programmes/massed_practice.toml --patient anna \\
      --puck left_hand=/dev/ttyACM0 --puck right_hand=/dev/ttyACM1
  openpuck programme run programmes/leg.toml --patient test \\
      --puck "sim:?scenario=patient&speed=max" --puck "sim:?scenario=patient&speed=max" --rest-scale 0

--puck takes ROLE=URL (roles: left_hand, right_hand, left_foot, right_foot) or
just URL: plain URLs go to the programme's roles in the order it first names
them. The virtual puck's "patient" scenario does whatever exercise it is set to.
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = sub.add_parser("run", help="one session of a programme", description=DESCRIPTION,
                         epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("file", metavar="FILE.toml", help="the programme")
    run.add_argument("--puck", action="append", default=[], metavar="[ROLE=]URL",
                     help="a puck; once per puck the programme uses")
    run.add_argument("--patient", required=True, metavar="ID",
                     help='whose session: letters, digits, spaces, - _ and . (quote a name with spaces: '
                          '--patient "Anna Smith")')
    run.add_argument("--db", metavar="PATH", help="the history database (default: the user's data folder)")
    run.add_argument("--rest-scale", default="1", metavar="F",
                     help="multiply every rest by F (0 skips rests: demos and tests; default 1)")
    run.add_argument("--no-feedback", action="store_true", help="no lights and beeps on the puck")
    run.add_argument("--pull-log", action="store_true",
                     help="first put the sets each puck counted while no host listened into the history "
                          "(its own log: openpuck log pull --patient)")
    out = run.add_mutually_exclusive_group()
    out.add_argument("--plain", action="store_true", help="one line per event, no live view")
    out.add_argument("--json", action="store_true", help="one JSON object per event per line")
    check = sub.add_parser("check", help="read a programme and say what a session would do",
                           description="Read FILE.toml with the rules of `run` and print the plan, "
                                       "or each mistake with its line.")
    check.add_argument("file", metavar="FILE.toml", help="the programme")


def assign_pucks(specs: list[str], roles: list[str]) -> dict[str, str]:
    """--puck values to {role: url}: ROLE=URL as given, plain URLs in role order."""
    from ..clinic.programme_file import ROLES
    given: dict[str, str] = {}
    plain: list[str] = []
    for spec in specs:
        head, sep, tail = spec.partition("=")
        if sep and head in ROLES:
            if head in given:
                raise CliError(f"--puck {head}=... given twice")
            given[head] = tail
        elif sep and "?" not in head and ":" not in head and "/" not in head:
            raise CliError(f"--puck {spec}: {head!r} is not a role ({', '.join(ROLES)})")
        else:
            plain.append(spec)
    free = [r for r in roles if r not in given]
    if len(plain) > len(free):
        raise CliError(f"{len(specs)} pucks given, the programme uses {len(roles)} ({', '.join(roles)})")
    given.update(zip(free, plain))
    missing = [r for r in roles if r not in given]
    if missing:
        raise CliError(f"the programme needs a puck for {', '.join(missing)}: --puck {missing[0]}=URL")
    extra = [r for r in given if r not in roles]
    if extra:
        raise CliError(f"--puck {extra[0]}: the programme uses no {extra[0]} ({', '.join(roles)})")
    return given


def run(args: argparse.Namespace) -> int:
    from ..clinic import programme_file
    plan = programme_file.load(args.file)
    if args.action == "check":
        return _check(plan)
    return _run(args, plan)


def _check(plan) -> int:
    from ..exercises import get
    print(f"{plan.source}: {plan.name}, {len(plan.exercises)} exercises")
    for i, ex in enumerate(plan.exercises):
        goal = f"{ex.reps} reps" if ex.reps is not None else f"{ex.seconds:g} s"
        pucks = " + ".join(ex.pucks) + (f" ({ex.mode})" if ex.mode else "")
        lock = f", opens after {plan.rule_for(i).unlock_sessions} good sessions of the one before" \
            if ex.unlock_after else ""
        print(f"  {i + 1}. {ex.exercise}: {ex.sets} x {goal}, rest {ex.rest_s:g} s, "
              f"{_target(ex.target, get(ex.exercise).unit)}, {pucks}{lock}")
    return 0


def _target(target: float | str, unit: str) -> str:
    """How a programme's target reads: a number with its unit, or where it comes from."""
    from ..clinic.units import amount
    if target == "auto":
        return "target: learned from the first reps"
    if target == "last":
        return "target: the last session's, moved by the progression (learned at the first session)"
    return f"target {amount(float(target), unit, digits=1)}"


def _run(args: argparse.Namespace, plan) -> int:
    from ..clinic import programme
    from ..clinic.history import History, check_patient
    from ..clinic.programme import ProgrammeEvent
    from ..clinic.programme_view import ProgrammeView, plain_line, printer
    from ..device.puck import Puck, connect
    from ..offline import validate
    args.patient = check_patient(args.patient)
    rest_scale = validate.number("--rest-scale", args.rest_scale, 0.0, 10.0)
    roles = list(dict.fromkeys(r for ex in plan.exercises for r in ex.pucks))
    urls = assign_pucks(args.puck, roles)
    for url in urls.values():
        if url.strip().lower().startswith("replay:"):
            raise CliError(f"--puck {url}: a recording plays back, it cannot be set an exercise; "
                           f"a programme needs a live puck (sim:, serial:, ble:)")
    live = not (args.plain or args.json) and sys.stdout.isatty()
    if live:
        from ..device.live import _rich
        from ..errors import OpenPuckError
        try:
            _rich()
        except OpenPuckError as e:
            print(f"openpuck programme: {e}; showing one line per event", file=sys.stderr)
            live = False
    pucks: dict[str, Puck] = {}
    shown = printer(sys.stdout, as_json=args.json)
    try:
        for role in roles:
            pucks[role] = connect(urls[role])
        with History(args.db) as history:
            if live:
                report = _live(plan, pucks, args, history, rest_scale, ProgrammeView)
            else:
                report = programme.run(plan, pucks, args.patient, history, rest_scale=rest_scale,
                                       feedback=not args.no_feedback, on_event=shown,
                                       pull_log=getattr(args, "pull_log", False))
            db = history.path
    finally:
        for p in pucks.values():
            p.close()
    if not args.json:
        if live:     # the plain lines had the session's end line; the live view has none
            print(plain_line(ProgrammeEvent("session_end", report=report)))
        print(f"history: {db}; the therapist's report: "
              f"openpuck report --patient {shlex.quote(args.patient)} -o report.html")
    _sync_after(db, sys.stderr if args.json else sys.stdout)
    return 0


def _sync_after(db, out) -> None:
    """With a clinic configured (openpuck sync --server ...), send the session there
    now. Offline or refused, the session stays in the outbox for the next sync: a
    line says so, and the run still succeeds (the session is saved)."""
    from ..clinic import sync
    from ..clinic.history import History
    if not sync.config_path().exists():
        return
    try:
        with History(db) as history:
            r = sync.sync(history, sync.load_config())
        print(f"clinic: sent {r.sent} records ({r.new_events} new reps, partial reps and grips)", file=out)
    except sync.SyncError as e:
        print(f"clinic: not sent now ({e})", file=out)


def _live(plan, pucks, args, history, rest_scale, view_cls):
    from rich.console import Console
    from rich.live import Live

    from ..clinic import programme
    view = view_cls(f"{plan.name}: {args.patient}")
    with Live(view.render(), console=Console(), refresh_per_second=8, transient=False) as live:
        def show(ev):
            view.update(ev)
            live.update(view.render())
        return programme.run(plan, pucks, args.patient, history, rest_scale=rest_scale,
                             feedback=not args.no_feedback, on_event=show,
                             pull_log=getattr(args, "pull_log", False))

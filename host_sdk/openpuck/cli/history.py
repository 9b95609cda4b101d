"""openpuck history: a patient's history, as a table or as JSON."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

HELP = "a patient's history: reps per day and exercise, sessions, personal bests (or list the patients)"
DESCRIPTION = """\
Read the home-programme history (every session, set and rep, kept as it
happened) and print it. With --patient: per day and exercise the sets, reps,
partial reps, success rate (reps / attempts), mean and best amplitude (N, or
degrees shown as °), reps per minute and time under tension; then every
session, and each exercise's personal best. Without --patient: the patients
in the database, with their sessions.

The database is history.sqlite3 in the data folder ($OPENPUCK_DATA_DIR, else
~/.local/share/openpuck on Linux); --db reads another. Nothing is written,
except with --repair: a database that fails SQLite's check (every command
refuses it, and says so) is moved aside, kept whole beside it as
history.sqlite3.damaged-<date>-<time>, and a new, empty history starts.
--json prints one JSON object for scripts; its keys stay as they are
(docs/programmes.md, "Report")."""
EPILOG = """\
examples:
  openpuck history                                     who is in the history
  openpuck history --patient anna                      anna's days, sessions and personal bests
  openpuck history --patient anna --json > anna.json   the same for a script
  openpuck history --patient anna --json | jq '.daily[] | select(.exercise == "grip_squeeze") | .reps'
  openpuck history --db /mnt/clinic/history.sqlite3    a clinic's shared database
  OPENPUCK_DATA_DIR=/mnt/clinic openpuck history --patient anna
  openpuck report --patient anna -o anna.html          the therapist's report, with plots
  openpuck history --repair                            move a damaged database aside, start a new one
"""

#: the JSON's version: bumped only if a key changes meaning or goes
JSON_VERSION = 1


def add_arguments(p) -> None:
    p.add_argument("--patient", metavar="ID", help="the patient's name or id (as the programme stored it)")
    p.add_argument("--json", action="store_true", help="one JSON object instead of tables")
    p.add_argument("--db", metavar="PATH", help="the history database, or its folder "
                                                "(default: history.sqlite3 in the data folder)")
    p.add_argument("--repair", action="store_true",
                   help="a damaged database: move it aside (kept) and start a new, empty one")


def _iso(t: float | None) -> str | None:
    """Unix s as local time with its UTC offset (a script can compare them)."""
    return None if t is None else dt.datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _patients(h, as_json: bool) -> int:
    rows = []
    for name in h.patients():
        ss = h.sessions(name)
        rows.append({"patient": name, "sessions": len(ss),
                     "first_day": dt.date.fromtimestamp(ss[0].started_at).isoformat(),
                     "last_day": dt.date.fromtimestamp(ss[-1].started_at).isoformat()})
    if as_json:
        print(json.dumps({"version": JSON_VERSION, "database": str(h.path), "patients": rows}, indent=1))
        return 0
    print(f"database: {h.path}")
    if not rows:
        print("no patients yet: a patient appears after the first session of a programme")
        return 0
    width = max(len("patient"), *(len(r["patient"]) for r in rows))
    print(f"{'patient':<{width}}  sessions  first day   last day")
    for r in rows:
        print(f"{r['patient']:<{width}}  {r['sessions']:>8}  {r['first_day']}  {r['last_day']}")
    print("\nopenpuck history --patient ID: one patient's days, sessions and personal bests")
    return 0


def as_json(data: Any, database: str) -> dict[str, Any]:
    """The --json object for a patient (a ReportData)."""
    return {
        "version": JSON_VERSION,
        "database": database,
        "patient": data.patient,
        "first_day": data.first_day.isoformat() if data.first_day else None,
        "last_day": data.last_day.isoformat() if data.last_day else None,
        "days_in_range": len(data.days),
        "days_practised": [d.isoformat() for d in data.days_practised],
        "programmes": data.programmes,
        "totals": {"sessions": len(data.sessions), "sets": data.sets, "reps": data.reps,
                   "partial_reps": data.partial_reps, "success_rate": _r(data.success_rate)},
        "exercises": [{
            "exercise": e.exercise, "pucks": list(e.pucks), "mode": e.mode, "name": e.name, "unit": e.unit, "sessions": e.sessions, "sets": e.sets, "reps": e.reps,
            "partial_reps": e.partial_reps, "success_rate": _r(e.success_rate), "target": _r(e.target),
            "latest_day": e.latest_day.isoformat() if e.latest_day else None,
            "latest_mean_amplitude": _r(e.latest_mean),
            "personal_best": None if e.best is None else {
                "amplitude": _r(e.best.amplitude), "unit": e.best.unit, "at": _iso(e.best.at),
                "day": dt.date.fromtimestamp(e.best.at).isoformat(), "session_id": e.best.session_id,
                "set_id": e.best.set_id},
        } for e in data.exercises],
        "daily": [{
            "day": r.day.isoformat(), "exercise": r.exercise, "pucks": list(r.pucks), "mode": r.mode,
            "name": data.name_of(r), "unit": r.unit, "sets": r.sets, "reps": r.reps,
            "partial_reps": r.partial_reps, "success_rate": _r(r.success_rate),
            "mean_amplitude": _r(r.mean_amplitude), "best_amplitude": _r(r.best_amplitude),
            "reps_per_minute": _r(r.reps_per_minute), "time_under_tension_s": _r(r.time_under_tension_s),
        } for r in data.daily],
        "sessions": [{
            "id": s.id, "programme": s.programme, "started_at": _iso(s.started_at), "ended_at": _iso(s.ended_at),
            "exercises": list(s.exercises), "sets": s.sets, "reps": s.reps, "partial_reps": s.partial_reps,
            "success_rate": _r(s.success_rate), "logged_sets": s.logged_sets, "source": s.source,
        } for s in data.sessions],
    }


def _table(head: list[str], rows: list[list[str]], align: str) -> None:
    """Print columns aligned as ``align`` says, a character a column: ``<`` left
    (text), ``>`` right (numbers)."""
    widths = [max(len(c) for c in col) for col in zip(head, *rows)]
    for row in [head, *rows]:
        cells = [c.ljust(w) if a == "<" else c.rjust(w) for c, w, a in zip(row, widths, align)]
        print("  ".join(cells).rstrip())


def _text(data: Any, database: str) -> None:
    from ..clinic.units import amount, percent
    from ._history_db import plural
    first, last = data.first_day, data.last_day
    print(f"{data.patient}: {plural(len(data.sessions), 'session')} from {first} to {last}, practised on "
          f"{len(data.days_practised)} of {plural(len(data.days), 'day')}; {plural(data.reps, 'rep')}, "
          f"{data.partial_reps} partial ({percent(data.success_rate)} success)")
    print(f"programme{'s' if len(data.programmes) > 1 else ''}: {', '.join(data.programmes)}")
    print(f"database: {database}\n")
    print("per day and exercise")
    _table(["day", "exercise", "sets", "reps", "partial", "success", "mean", "best", "reps/min", "tension"],
           [[r.day.isoformat(), data.name_of(r), str(r.sets), str(r.reps), str(r.partial_reps),
             percent(r.success_rate), amount(r.mean_amplitude, r.unit), amount(r.best_amplitude, r.unit),
             "–" if r.reps_per_minute is None else f"{r.reps_per_minute:.1f}", f"{r.time_under_tension_s:.1f} s"]
            for r in data.daily], "<<>>>>>>>>")
    print("\nsessions")
    rows = []
    for s in data.sessions:
        start = dt.datetime.fromtimestamp(s.started_at)
        length = "not ended" if s.ended_at is None else f"{(s.ended_at - s.started_at) / 60:.0f} min"
        rows.append([str(s.id), start.date().isoformat(), start.strftime("%H:%M"), length, str(s.sets),
                     str(s.reps), str(s.partial_reps), percent(s.success_rate), s.source, s.programme])
    _table(["id", "date", "start", "length", "sets", "reps", "partial", "success", "from", "programme"], rows,
           "><<>>>>><<")
    if any(s.logged_sets for s in data.sessions):
        print("from \"puck log\": reps the puck counted while no host listened, pulled later (openpuck log pull)")
    print("\npersonal bests")
    _table(["exercise", "best rep", "day", "session"],
           [[e.name, amount(e.best.amplitude, e.best.unit), dt.date.fromtimestamp(e.best.at).isoformat(),
             str(e.best.session_id)] if e.best else [e.name, "–", "–", "–"] for e in data.exercises], "<><>")


def _repair(db: str | None) -> int:
    """Move a damaged database aside and start a new one; a sound one is left alone."""
    from ..clinic.history import DamagedHistory, History, set_aside
    from . import CliError
    from ._history_db import database_path
    path = database_path(db)
    if not path.is_file():
        raise CliError(f"no history database at {path}: nothing to repair")
    try:
        History(path).close()
    except DamagedHistory as e:
        problem = e.problem
        aside = set_aside(path)
        History(path).close()
        print(f"{path} was damaged ({problem}): moved it to {aside} (kept whole) and started a new, empty "
              f"history at {path}.\nTo save what can be saved from the old one: sqlite3 {aside} .recover")
        return 0
    print(f"{path} passes SQLite's check: nothing to repair")
    return 0


def run(args) -> int:
    from ..clinic.report_data import gather
    from ._history_db import known_patient, open_history
    if args.repair:
        if args.patient is not None or args.json:
            from . import CliError
            raise CliError("--repair goes alone (with --db at most): it reads no patient")
        return _repair(args.db)
    with open_history(args.db) as h:
        if args.patient is None:
            return _patients(h, args.json)
        data = gather(h, known_patient(h, args.patient))
        if args.json:
            print(json.dumps(as_json(data, str(h.path)), indent=1, ensure_ascii=False))
        else:
            _text(data, str(h.path))
    return 0

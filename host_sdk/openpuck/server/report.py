"""A patient's report from the server's data: the very report ``openpuck report``
makes at home (:mod:`openpuck.clinic.report`), drawn from the clinic's copy.

The patient's sessions, sets and events are written into a temporary home
history (same tables, the server's ids) and the home report's own code reads
it, so there is one definition of every figure and plot.
"""
from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from ..clinic.history import History
from ..clinic.history_rows import FIGURES
from .models import Event, ExerciseSet, Patient, Session

_SET_COLUMNS = ("id", "session_id", "exercise", "set_index", "target", "unit", "pucks", "mode", "started_at",
                "ended_at", *FIGURES)
_EVENT_COLUMNS = ("id", "set_id", "kind", "puck", "count", "t", "t_start", "t_peak", "t_end", "amplitude", "unit",
                  "hold_s", "uncertain", "host_time")


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def patient_report(db: Db, patient_id: int, *, title: str | None = None, now: dt.datetime | None = None) -> str:
    """The report page (HTML) of a patient, from the clinic database."""
    from ..clinic.report import render
    from ..clinic.report_data import gather
    patient = db.get(Patient, patient_id)
    if patient is None:
        raise ValueError(f"there is no patient {patient_id}")
    sessions = db.scalars(select(Session).where(Session.patient_id == patient_id).order_by(Session.id)).all()
    ids = [s.id for s in sessions]
    sets = db.scalars(select(ExerciseSet).where(ExerciseSet.session_id.in_(ids)).order_by(ExerciseSet.id)).all()
    events = db.scalars(select(Event).where(Event.set_id.in_([s.id for s in sets])).order_by(Event.id)).all()
    with tempfile.TemporaryDirectory(prefix="openpuck-report-") as tmp, \
            History(Path(tmp) / "history.sqlite3") as h:
        with h._write("copy the clinic's records of the patient") as con:
            con.executemany(_insert("session", ("id", "patient", "programme", "started_at", "ended_at")),
                            [(s.id, patient.home_name, s.programme, s.started_at, s.ended_at) for s in sessions])
            con.executemany(_insert("exercise_set", _SET_COLUMNS),
                            [tuple(getattr(s, c) for c in _SET_COLUMNS) for s in sets])
            con.executemany(_insert("event", _EVENT_COLUMNS),
                            [tuple(int(e.uncertain) if c == "uncertain" else getattr(e, c) for c in _EVENT_COLUMNS)
                             for e in events])
        return render(gather(h, patient.home_name), title=title, now=now)

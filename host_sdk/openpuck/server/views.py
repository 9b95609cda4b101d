"""What a therapist reads: the clinic's patients with their figures, a patient's sets.

The figures are the home history's (a set's reps, partial reps, ...; success
rate = reps / (reps + partial reps)), summed by the database, so SQLite and
PostgreSQL give the same (tests/test_server_pg.py). As at home, a set never
ended (still running, or cut short) counts the reps and partial reps stored
for it; its other figures stay empty.

Adherence is counted as the home report counts practice: a day practised is
a calendar day (the server's local time) with at least one attempt, a rep or
a partial rep; a session opened and left without one is not practice. A
patient who has not practised for :data:`STOPPED_AFTER_DAYS` days (or never
has) is flagged ``stopped``.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session as Db

from ..clinic.history_rows import FIGURES
from ..offline.summary import success_rate
from .models import Event, ExerciseSet, Patient, Session

#: the window adherence is counted over: this many calendar days, today included
ADHERENCE_DAYS = 14
#: flag a patient who has not practised for this many days
STOPPED_AFTER_DAYS = 3


def _counted() -> tuple[Any, Any, Any]:
    """Per set: its reps and partial reps, stored or (never ended) counted from its events."""
    events = (select(Event.set_id,
                     func.sum(case((Event.kind == "rep", 1), else_=0)).label("reps"),
                     func.sum(case((Event.kind == "partial_rep", 1), else_=0)).label("partial_reps"))
              .group_by(Event.set_id).subquery())
    reps = func.coalesce(ExerciseSet.reps, events.c.reps, 0)
    partial = func.coalesce(ExerciseSet.partial_reps, events.c.partial_reps, 0)
    return events, reps, partial


def _practice(db: Db, clinic_id: int, today: dt.date) -> dict[int, tuple[int, float | None]]:
    """Per patient: days practised in the adherence window, and the start of the last set with an attempt."""
    events, reps, partial = _counted()
    practised = (select(Session.patient_id, ExerciseSet.started_at)
                 .join(Session, Session.id == ExerciseSet.session_id)
                 .join(Patient, Patient.id == Session.patient_id)
                 .outerjoin(events, events.c.set_id == ExerciseSet.id)
                 .where(Patient.clinic_id == clinic_id, reps + partial > 0))
    sub = practised.subquery()
    last = dict(db.execute(select(sub.c.patient_id, func.max(sub.c.started_at))
                           .group_by(sub.c.patient_id)).tuples().all())
    first_day = today - dt.timedelta(days=ADHERENCE_DAYS - 1)
    since = dt.datetime.combine(first_day, dt.time()).timestamp()
    days: dict[int, set[dt.date]] = {}
    for pid, started in db.execute(practised.where(ExerciseSet.started_at >= since)).tuples():
        day = dt.date.fromtimestamp(started)
        if day <= today:
            days.setdefault(pid, set()).add(day)
    return {pid: (len(days.get(pid, ())), at) for pid, at in last.items()}


def patient_list(db: Db, clinic_id: int, now: float | None = None) -> list[dict[str, Any]]:
    """Each patient of the clinic, by home name: sessions, sets, reps and partial reps, success rate,
    last session; days practised of the last :data:`ADHERENCE_DAYS` (``adherence``: their share), the
    last practice, and ``stopped`` (no practice for :data:`STOPPED_AFTER_DAYS` days). ``now``: Unix s."""
    today = dt.date.fromtimestamp(time.time() if now is None else now)
    practice = _practice(db, clinic_id, today)
    sessions = (select(Session.patient_id, func.count(Session.id).label("sessions"),
                       func.max(Session.started_at).label("last_session_at"))
                .group_by(Session.patient_id).subquery())
    events, reps, partial = _counted()
    sets = (select(Session.patient_id, func.count(ExerciseSet.id).label("sets"),
                   func.sum(reps).label("reps"), func.sum(partial).label("partial_reps"))
            .join(Session, Session.id == ExerciseSet.session_id)
            .outerjoin(events, events.c.set_id == ExerciseSet.id).group_by(Session.patient_id).subquery())
    rows = db.execute(
        select(Patient.id, Patient.home_name, func.coalesce(sessions.c.sessions, 0), sessions.c.last_session_at,
               func.coalesce(sets.c.sets, 0), func.coalesce(sets.c.reps, 0), func.coalesce(sets.c.partial_reps, 0))
        .outerjoin(sessions, sessions.c.patient_id == Patient.id)
        .outerjoin(sets, sets.c.patient_id == Patient.id)
        .where(Patient.clinic_id == clinic_id).order_by(Patient.home_name)).tuples().all()
    return [{"id": pid, "patient": name, "sessions": int(n_sessions), "last_session_at": last,
             "sets": int(n_sets), "reps": int(reps), "partial_reps": int(partial),
             "success_rate": success_rate(int(reps), int(partial)), **_adherence(practice.get(pid), today)}
            for pid, name, n_sessions, last, n_sets, reps, partial in rows]


def _adherence(practice: tuple[int, float | None] | None, today: dt.date) -> dict[str, Any]:
    n_days, last = practice if practice is not None else (0, None)
    idle = None if last is None else (today - dt.date.fromtimestamp(last)).days
    return {"days_practised": n_days, "adherence": n_days / ADHERENCE_DAYS, "last_practice_at": last,
            "stopped": idle is None or idle >= STOPPED_AFTER_DAYS}


def sets_of(db: Db, patient_id: int) -> list[dict[str, Any]]:
    """A patient's sets, oldest first, with the home history's figures."""
    events, reps, partial = _counted()
    rows = db.execute(select(ExerciseSet, Session.local_id, Session.programme, reps, partial)
                      .join(Session, Session.id == ExerciseSet.session_id)
                      .outerjoin(events, events.c.set_id == ExerciseSet.id)
                      .where(Session.patient_id == patient_id)
                      .order_by(ExerciseSet.started_at, ExerciseSet.id)).tuples().all()
    return [{"session": session_local, "programme": programme, "exercise": s.exercise, "set_index": s.set_index,
             "target": s.target, "unit": s.unit, "pucks": json.loads(s.pucks), "mode": s.mode,
             "started_at": s.started_at, "ended_at": s.ended_at, **{f: getattr(s, f) for f in FIGURES},
             "reps": int(n_reps), "partial_reps": int(n_partial)}
            for s, session_local, programme, n_reps, n_partial in rows]

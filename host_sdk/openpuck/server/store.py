"""What the server does with its database: the clinic's records (clinics,
therapists, patients, installations, programmes) and the homes' uploads.

Uploads are idempotent: a session or a set is inserted or brought up to date
(an ended_at, a learned target, the figures written when it ended), an event
is inserted once; each keyed by (installation, home session, home id).
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as Db

from ..clinic.history_files import check_patient
from ..clinic.history_rows import FIGURES
from . import auth
from .models import Clinic, Event, ExerciseSet, Installation, Login, Patient, Programme, Session, Therapist

LOGIN_S = 12 * 3600.0
#: rows per INSERT: PostgreSQL takes at most 65535 parameters in one statement
ROWS_PER_INSERT = 1000


class StoreError(ValueError):
    """A request the database cannot take as it is (the message says what to change)."""


# --- the clinic's records ---

def add_clinic(db: Db, name: str) -> Clinic:
    clinic = Clinic(name=name)
    db.add(clinic)
    db.flush()
    return clinic


def clinic_named(db: Db, name: str) -> Clinic:
    clinic = db.scalar(select(Clinic).where(Clinic.name == name))
    if clinic is None:
        raise StoreError(f"there is no clinic {name!r} (openpuck clinic add-clinic makes one)")
    return clinic


def add_therapist(db: Db, clinic: Clinic, email: str, password: str) -> Therapist:
    therapist = Therapist(clinic_id=clinic.id, email=email.strip().lower(),
                          password_hash=auth.hash_password(password))
    db.add(therapist)
    db.flush()
    return therapist


def add_patient(db: Db, clinic: Clinic, home_name: str) -> Patient:
    patient = Patient(clinic_id=clinic.id, home_name=check_patient(home_name))
    db.add(patient)
    db.flush()
    return patient


def patient_of(db: Db, clinic: Clinic, home_name: str) -> Patient:
    patient = db.scalar(select(Patient).where(Patient.clinic_id == clinic.id, Patient.home_name == home_name))
    if patient is None:
        raise StoreError(f"clinic {clinic.name!r} has no patient {home_name!r} (add-patient adds one)")
    return patient


def issue_installation(db: Db, patient: Patient) -> tuple[Installation, str]:
    """A new installation (home computer) for ``patient``; returns it and its token, which is not kept."""
    token = auth.new_token(auth.INSTALLATION_PREFIX)
    inst = Installation(patient_id=patient.id, token_hash=auth.token_hash(token), created_at=time.time())
    db.add(inst)
    db.flush()
    return inst, token


def revoke_installation(db: Db, installation_id: int) -> Installation:
    inst = db.get(Installation, installation_id)
    if inst is None:
        raise StoreError(f"there is no installation {installation_id}")
    if inst.revoked_at is None:
        inst.revoked_at = time.time()
    return inst


def installation_by_token(db: Db, token: str) -> Installation | None:
    """The installation whose token this is, if not revoked."""
    inst = db.scalar(select(Installation).where(Installation.token_hash == auth.token_hash(token)))
    return inst if inst is not None and inst.revoked_at is None else None


def login(db: Db, email: str, password: str) -> str | None:
    """A login token for a therapist whose password matches, else None."""
    therapist = db.scalar(select(Therapist).where(Therapist.email == email.strip().lower()))
    if therapist is None:
        auth.check_password(auth.DUMMY_HASH, password)
        return None
    if not auth.check_password(therapist.password_hash, password):
        return None
    token = auth.new_token(auth.LOGIN_PREFIX)
    db.add(Login(therapist_id=therapist.id, token_hash=auth.token_hash(token), expires_at=time.time() + LOGIN_S))
    return token


def therapist_by_token(db: Db, token: str) -> Therapist | None:
    row = db.scalar(select(Login).where(Login.token_hash == auth.token_hash(token)))
    if row is None or row.expires_at < time.time():
        return None
    return db.get(Therapist, row.therapist_id)


def assign_programme(db: Db, patient: Patient, toml_text: str, therapist: Therapist | None = None) -> Programme:
    """Store a programme file as the patient's next version, once it loads as one."""
    from ..clinic import programme_file
    try:
        plan = programme_file.loads(toml_text)
    except programme_file.ProgrammeError as e:
        raise StoreError(f"not a programme file: {e}") from None
    last = db.scalar(select(func.max(Programme.version)).where(Programme.patient_id == patient.id)) or 0
    prog = Programme(patient_id=patient.id, version=last + 1, name=plan.name, toml=toml_text,
                     assigned_at=time.time(), therapist_id=therapist.id if therapist else None)
    db.add(prog)
    db.flush()
    return prog


def current_programme(db: Db, patient_id: int) -> Programme | None:
    return db.scalar(select(Programme).where(Programme.patient_id == patient_id)
                     .order_by(Programme.version.desc()).limit(1))


# --- uploads ---

def _insert(db: Db, table: Any) -> Any:
    name = db.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise StoreError(f"the clinic server runs on PostgreSQL or SQLite, not {name}")


_SET_FIELDS = ("exercise", "set_index", "target", "unit", "mode", "started_at", "ended_at", *FIGURES)
_EVENT_FIELDS = ("kind", "puck", "count", "t", "t_start", "t_peak", "t_end", "amplitude", "unit", "hold_s",
                 "uncertain", "host_time")


def upload(db: Db, inst: Installation, patient: Patient, sessions: Sequence[dict[str, Any]],
           sets: Sequence[dict[str, Any]], events: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Store a batch from a home history (its rows as ``openpuck sync`` sends them);
    returns how many events were new. A set's session and an event's set must
    be in this batch or an earlier one."""
    for s in sessions:
        if s["patient"] != patient.home_name:
            raise StoreError(f"session {s['id']} is of another patient than this installation's: an "
                             "installation uploads only its own patient's sessions")
    if sessions:
        stmt = _insert(db, Session)
        rows = [{"installation_id": inst.id, "local_id": s["id"], "patient_id": patient.id,
                 "programme": s["programme"], "started_at": s["started_at"], "ended_at": s["ended_at"]}
                for s in sessions]
        for i in range(0, len(rows), ROWS_PER_INSERT):
            db.execute(stmt.values(rows[i:i + ROWS_PER_INSERT]).on_conflict_do_update(
                index_elements=["installation_id", "local_id"],
                set_={"programme": stmt.excluded.programme, "ended_at": stmt.excluded.ended_at}))
    session_ids = _ids(db, Session, inst, {s["session_id"] for s in sets}, "session")
    if sets:
        stmt = _insert(db, ExerciseSet)
        rows = [{"installation_id": inst.id, "session_local_id": s["session_id"], "local_id": s["id"],
                 "session_id": session_ids[s["session_id"]], "pucks": json.dumps(list(s["pucks"])),
                 **{f: s.get(f) for f in _SET_FIELDS}} for s in sets]
        for i in range(0, len(rows), ROWS_PER_INSERT):
            db.execute(stmt.values(rows[i:i + ROWS_PER_INSERT]).on_conflict_do_update(
                index_elements=["installation_id", "session_local_id", "local_id"],
                set_={f: getattr(stmt.excluded, f) for f in ("target", "ended_at", *FIGURES)}))
    new = 0
    if events:
        set_ids = _set_ids(db, inst, {(e["session_id"], e["set_id"]) for e in events})
        stmt = _insert(db, Event)
        rows = [{"installation_id": inst.id, "session_local_id": e["session_id"], "local_id": e["id"],
                 "set_id": set_ids[(e["session_id"], e["set_id"])], **{f: e.get(f) for f in _EVENT_FIELDS}}
                for e in events]
        for i in range(0, len(rows), ROWS_PER_INSERT):
            new += len(db.execute(stmt.values(rows[i:i + ROWS_PER_INSERT]).on_conflict_do_nothing(
                index_elements=["installation_id", "session_local_id", "local_id"]).returning(Event.id)).all())
    return {"sessions": len(sessions), "sets": len(sets), "events": len(events), "new_events": new}


def _ids(db: Db, model: Any, inst: Installation, local_ids: set[int], what: str) -> dict[int, int]:
    if not local_ids:
        return {}
    found: dict[int, int] = dict(db.execute(select(model.local_id, model.id).where(
        model.installation_id == inst.id, model.local_id.in_(local_ids))).tuples().all())
    missing = sorted(local_ids - found.keys())
    if missing:
        raise StoreError(f"{what} {missing[0]} is not on the server: upload it before what it holds")
    return found


def _set_ids(db: Db, inst: Installation, keys: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    rows = db.execute(select(ExerciseSet.session_local_id, ExerciseSet.local_id, ExerciseSet.id).where(
        ExerciseSet.installation_id == inst.id,
        ExerciseSet.local_id.in_({k[1] for k in keys}))).tuples().all()
    found = {(s, loc): i for s, loc, i in rows}
    missing = sorted(keys - found.keys())
    if missing:
        raise StoreError(f"set {missing[0][1]} of session {missing[0][0]} is not on the server: "
                         "upload it before its events")
    return found


"""The clinic server's HTTP API (FastAPI), version 1.

Homes authenticate with their installation token, therapists with the token
``POST /api/v1/login`` gives; both as ``Authorization: Bearer <token>``.

=========================================  =============  ==============================================
``GET  /api/v1/installation``              installation   who this installation is, its programme version
``POST /api/v1/upload``                    installation   sessions, sets, events (idempotent)
``GET  /api/v1/programme``                 installation   the programme the therapist assigned (TOML)
``POST /api/v1/login``                     (password)     a therapist's login token
``GET  /api/v1/patients``                  therapist      the clinic's patients, with their figures
``GET  /api/v1/patients/{id}/sets``        therapist      one patient's sets with their figures
``GET  /api/v1/patients/{id}/report``      therapist      the patient's report (HTML), as at home
``PUT  /api/v1/patients/{id}/programme``   therapist      assign a programme (TOML text)
=========================================  =============  ==============================================

A patient's data is reached only through a therapist of their own clinic
(another clinic's patient is a 404, as a patient that does not exist); a
revoked or unknown token is a 401. The log says what happened (an upload of
so many events from installation N), never a patient's name or data.
"""
# no `from __future__ import annotations`: FastAPI reads the endpoints' annotations,
# which name dependencies defined inside create_app
import functools
import logging
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session as Db

from . import db as dbmod
from . import store
from .models import Installation, Patient, Therapist

log = logging.getLogger("openpuck.server")
MAX_RECORDS = 5000


class SessionIn(BaseModel):
    id: int
    patient: str = Field(max_length=64)
    programme: str
    started_at: float
    ended_at: float | None = None


class SetIn(BaseModel):
    id: int
    session_id: int
    exercise: str = Field(max_length=64)
    set_index: int
    target: float | None = None
    unit: str = Field(max_length=16)
    pucks: list[str]
    mode: str | None = Field(default=None, max_length=16)
    started_at: float
    ended_at: float | None = None
    reps: int | None = None
    partial_reps: int | None = None
    grips: int | None = None
    mean_amplitude: float | None = None
    best_amplitude: float | None = None
    time_under_tension_s: float | None = None
    active_s: float | None = None


class EventIn(BaseModel):
    id: int
    session_id: int
    set_id: int
    kind: Literal["rep", "partial_rep", "grip"]
    puck: str = Field(max_length=64)
    count: int | None = None
    t: float
    t_start: float | None = None
    t_peak: float | None = None
    t_end: float | None = None
    amplitude: float | None = None
    unit: str | None = Field(default=None, max_length=16)
    hold_s: float | None = None
    uncertain: bool
    host_time: float | None = None


class UploadIn(BaseModel):
    sessions: list[SessionIn] = []
    sets: list[SetIn] = []
    events: list[EventIn] = []


class LoginIn(BaseModel):
    email: str
    password: str


class ProgrammeIn(BaseModel):
    toml: str


def _bearer(request: Request) -> str:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "no token: send Authorization: Bearer <token>",
                            headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def _released(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """The endpoint, giving its session's connection back before it returns (in
    its own thread: see create_app)."""
    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        finally:
            db = kwargs.get("db")
            if db is not None:
                db.close()
    return run


def create_app(engine: Engine) -> FastAPI:
    """The API on ``engine``'s database (which must be migrated: openpuck.server.db.migrate)."""
    make_session = dbmod.sessions(engine)
    app = FastAPI(title="OpenPuck clinic", version="1", docs_url=None, redoc_url=None)

    def database() -> Iterator[Db]:
        # a writing endpoint commits before it answers, so a home that got its 200
        # may forget what it sent; anything uncommitted is rolled back on close
        with make_session() as db:
            yield db

    DbDep = Annotated[Db, Depends(database)]

    # FastAPI runs each sync dependency, the endpoint and the session's teardown in
    # threads of one pool (40): a request that kept its connection between them
    # could hold the whole connection pool while every thread waited for a
    # connection (fastapi issue 3205; 500 homes at once deadlocked until the pool
    # timed out). So the token lookups end their transaction (expire_on_commit=False
    # keeps what they loaded) and each endpoint closes its session (_released).
    def installation(request: Request, db: DbDep) -> Installation:
        try:
            inst = store.installation_by_token(db, _bearer(request))
        finally:
            db.commit()
        if inst is None:
            log.info("refused an installation token (unknown or revoked)")
            raise HTTPException(401, "this installation's token is unknown or revoked: ask the clinic for a new one",
                                headers={"WWW-Authenticate": "Bearer"})
        return inst

    def therapist(request: Request, db: DbDep) -> Therapist:
        try:
            who = store.therapist_by_token(db, _bearer(request))
        finally:
            db.commit()
        if who is None:
            raise HTTPException(401, "not logged in, or the login expired: POST /api/v1/login",
                                headers={"WWW-Authenticate": "Bearer"})
        return who

    InstDep = Annotated[Installation, Depends(installation)]
    TherapistDep = Annotated[Therapist, Depends(therapist)]

    def own_patient(db: Db, who: Therapist, patient_id: int) -> Patient:
        patient = db.get(Patient, patient_id)
        if patient is None or patient.clinic_id != who.clinic_id:
            raise HTTPException(404, f"no patient {patient_id} in your clinic")
        return patient

    @app.exception_handler(SQLAlchemyError)
    async def _database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        # the class and SQLSTATE only: PostgreSQL's message quotes the row's values (a
        # duplicate key's DETAIL), which are patients' data
        state = getattr(getattr(exc, "orig", None), "sqlstate", None)
        log.error("database error on %s %s: %s (SQLSTATE %s)", request.method, request.url.path,
                  type(exc).__name__, state)
        return JSONResponse({"detail": f"the clinic database failed ({type(exc).__name__}); try again later"},
                            status_code=503)

    @app.exception_handler(store.StoreError)
    async def _store_error(request: Request, exc: store.StoreError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.get("/api/v1/installation")
    @_released
    def whoami(db: DbDep, inst: InstDep) -> dict[str, Any]:
        patient = db.get(Patient, inst.patient_id)
        assert patient is not None
        prog = store.current_programme(db, patient.id)
        return {"installation": inst.id, "patient": patient.home_name,
                "programme_version": prog.version if prog else None}

    @app.post("/api/v1/upload")
    @_released
    def upload(batch: UploadIn, db: DbDep, inst: InstDep) -> dict[str, int]:
        n = len(batch.sessions) + len(batch.sets) + len(batch.events)
        if n > MAX_RECORDS:
            raise HTTPException(413, f"{n} records in one upload; send at most {MAX_RECORDS} at a time")
        patient = db.get(Patient, inst.patient_id)
        assert patient is not None
        counts = store.upload(db, inst, patient, [s.model_dump() for s in batch.sessions],
                              [s.model_dump() for s in batch.sets], [e.model_dump() for e in batch.events])
        db.commit()
        log.info("installation %d uploaded %d sessions, %d sets, %d events (%d new)", inst.id,
                 counts["sessions"], counts["sets"], counts["events"], counts["new_events"])
        return counts

    @app.get("/api/v1/programme")
    @_released
    def programme(db: DbDep, inst: InstDep) -> dict[str, Any]:
        prog = store.current_programme(db, inst.patient_id)
        if prog is None:
            raise HTTPException(404, "no programme assigned to this patient yet")
        return {"version": prog.version, "name": prog.name, "toml": prog.toml, "assigned_at": prog.assigned_at}

    @app.post("/api/v1/login")
    @_released
    def login(body: LoginIn, db: DbDep) -> dict[str, str]:
        token = store.login(db, body.email, body.password)
        if token is None:
            log.info("a failed therapist login")
            raise HTTPException(401, "wrong e-mail or password")
        db.commit()
        return {"token": token}

    @app.get("/api/v1/patients")
    @_released
    def patients(db: DbDep, who: TherapistDep) -> list[dict[str, Any]]:
        from .views import patient_list
        return patient_list(db, who.clinic_id)

    @app.get("/api/v1/patients/{patient_id}/sets")
    @_released
    def patient_sets(patient_id: int, db: DbDep, who: TherapistDep) -> list[dict[str, Any]]:
        from .views import sets_of
        return sets_of(db, own_patient(db, who, patient_id).id)

    @app.get("/api/v1/patients/{patient_id}/report", response_class=HTMLResponse)
    @_released
    def patient_report(patient_id: int, db: DbDep, who: TherapistDep) -> HTMLResponse:
        from .report import patient_report
        return HTMLResponse(patient_report(db, own_patient(db, who, patient_id).id))

    @app.put("/api/v1/patients/{patient_id}/programme")
    @_released
    def assign(patient_id: int, body: ProgrammeIn, db: DbDep, who: TherapistDep) -> dict[str, Any]:
        prog = store.assign_programme(db, own_patient(db, who, patient_id), body.toml, who)
        db.commit()
        log.info("therapist %d assigned programme version %d to patient %d", who.id, prog.version, patient_id)
        return {"version": prog.version, "name": prog.name}

    return app


def app_from_environment() -> FastAPI:
    """The app on $OPENPUCK_CLINIC_DB (what ``openpuck clinic serve`` runs in each worker)."""
    eng = dbmod.engine()
    dbmod.check_current(eng)
    return create_app(eng)

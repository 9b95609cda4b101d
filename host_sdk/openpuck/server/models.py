"""The clinic database's tables, as SQLAlchemy 2 models.

The schema itself is made by the Alembic migrations in
``openpuck/server/migrations/versions`` (never edit a shipped one: add the
next); tests/test_server_schema.py checks that the migrated tables and these
models agree. Times are Unix seconds (the home history's); the figures of a
set are the home history's columns (:data:`openpuck.clinic.history_rows.FIGURES`).

Each uploaded record is keyed by its installation, the home session it
belongs to and its id in the home history (``local_id``): the unique
constraints make an upload repeated, or cut and repeated, store it once.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Clinic(Base):
    __tablename__ = "clinic"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Therapist(Base):
    __tablename__ = "therapist"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))     # argon2id, with its salt and parameters


class Login(Base):
    """A therapist's logged-in session: the bearer token's SHA-256, never the token."""
    __tablename__ = "login"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[float] = mapped_column(Float)


class Patient(Base):
    """A patient of one clinic; ``home_name`` is the name the home history files
    their sessions under (a pseudonym is enough)."""
    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("clinic_id", "home_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    home_name: Mapped[str] = mapped_column(String(64))


class Installation(Base):
    """One home computer of one patient, with the SHA-256 of its token (the token
    is random, so a plain digest cannot be reversed; it is looked up by it)."""
    __tablename__ = "installation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Programme(Base):
    """A programme file (TOML, openpuck.clinic.programme_file) assigned to a
    patient; the highest version is the current one."""
    __tablename__ = "programme"
    __table_args__ = (UniqueConstraint("patient_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    toml: Mapped[str] = mapped_column(Text)
    assigned_at: Mapped[float] = mapped_column(Float)
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("therapist.id"), nullable=True)


class Session(Base):
    __tablename__ = "session"
    __table_args__ = (UniqueConstraint("installation_id", "local_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installation.id"))
    local_id: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    programme: Mapped[str] = mapped_column(Text)
    started_at: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class ExerciseSet(Base):
    __tablename__ = "exercise_set"
    __table_args__ = (UniqueConstraint("installation_id", "session_local_id", "local_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installation.id"))
    session_local_id: Mapped[int] = mapped_column(Integer)
    local_id: Mapped[int] = mapped_column(Integer)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id"), index=True)
    exercise: Mapped[str] = mapped_column(String(64))
    set_index: Mapped[int] = mapped_column(Integer)
    target: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(16))
    pucks: Mapped[str] = mapped_column(Text)            # JSON list of puck roles, as at home
    mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    started_at: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    reps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    partial_reps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    grips: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mean_amplitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    best_amplitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    time_under_tension_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    active_s: Mapped[float | None] = mapped_column(Float, nullable=True)


class Event(Base):
    """A rep, partial rep or grip, as the home history's ``event`` table."""
    __tablename__ = "event"
    __table_args__ = (UniqueConstraint("installation_id", "session_local_id", "local_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installation.id"))
    session_local_id: Mapped[int] = mapped_column(Integer)
    local_id: Mapped[int] = mapped_column(Integer)
    set_id: Mapped[int] = mapped_column(ForeignKey("exercise_set.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    puck: Mapped[str] = mapped_column(String(64))
    count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    t: Mapped[float] = mapped_column(Float)
    t_start: Mapped[float | None] = mapped_column(Float, nullable=True)
    t_peak: Mapped[float | None] = mapped_column(Float, nullable=True)
    t_end: Mapped[float | None] = mapped_column(Float, nullable=True)
    amplitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str | None] = mapped_column(String(16), nullable=True)
    hold_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    uncertain: Mapped[bool] = mapped_column(Boolean)
    host_time: Mapped[float | None] = mapped_column(Float, nullable=True)

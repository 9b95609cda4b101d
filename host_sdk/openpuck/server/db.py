"""The clinic database: its URL, its engine, and its Alembic migrations.

A URL is SQLAlchemy's: ``postgresql+psycopg://user@host/dbname`` for a
clinic (a ``postgresql://`` one gets psycopg 3), ``sqlite:///path`` for a
try-out on one machine. ``OPENPUCK_CLINIC_DB`` gives the default.
"""
from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from ..errors import OpenPuckError

ENV_DB = "OPENPUCK_CLINIC_DB"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class DatabaseError(OpenPuckError):
    """The clinic database cannot be reached, or is not at the schema this code needs."""


def database_url(url: str | None = None) -> str:
    """``url``, else $OPENPUCK_CLINIC_DB; psycopg 3 for a bare ``postgresql://``."""
    url = url or os.environ.get(ENV_DB)
    if not url:
        raise DatabaseError(f"no clinic database: give --db URL or set {ENV_DB} "
                            "(postgresql+psycopg://user@host/dbname, or sqlite:///clinic.sqlite3 to try it out)")
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def engine(url: str | None = None, **kwargs: object) -> Engine:
    """An engine for the clinic database (SQLite gets its foreign keys enforced). Its
    errors never quote the statement's parameters: those are patients' data, and
    an error's text ends up in a log."""
    eng = create_engine(database_url(url), **{"hide_parameters": True, **kwargs})  # type: ignore[arg-type]
    if eng.dialect.name == "sqlite":
        @event.listens_for(eng, "connect")
        def _foreign_keys(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API objects
            dbapi_conn.execute("PRAGMA foreign_keys = ON")
    return eng


def sessions(eng: Engine) -> sessionmaker:
    return sessionmaker(eng, expire_on_commit=False)


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head() -> str:
    """The newest migration's revision."""
    rev = ScriptDirectory.from_config(_config()).get_current_head()
    assert rev is not None
    return rev


def current(eng: Engine) -> str | None:
    """The revision the database is at (None: empty)."""
    try:
        with eng.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as e:
        raise DatabaseError(f"cannot reach the clinic database {eng.url!r}: {e.__class__.__name__}: "
                            f"{str(e).splitlines()[0]}") from None


def migrate(eng: Engine, revision: str = "head") -> str | None:
    """Bring the database to ``revision`` (default the newest), each migration in a transaction; returns it."""
    cfg = _config()
    try:
        with eng.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except SQLAlchemyError as e:
        raise DatabaseError(f"migrating the clinic database {eng.url!r} failed: {e.__class__.__name__}: "
                            f"{str(e).splitlines()[0]}") from None
    return current(eng)


def check_current(eng: Engine) -> None:
    """Raise :class:`DatabaseError` unless the database is at the newest migration."""
    have, want = current(eng), head()
    if have != want:
        raise DatabaseError(f"the clinic database {eng.url!r} is at schema {have or 'none (empty)'}, this "
                            f"server needs {want}: run `openpuck clinic migrate` first")

"""The clinic server: many patients' histories on PostgreSQL, behind an HTTP API.

Its own extra (``pip install openpuck[clinic]``): FastAPI, SQLAlchemy 2 with
Alembic migrations, psycopg 3, argon2-cffi, fhir.resources. The tables keep
the local history's meaning (:mod:`openpuck.clinic.history`: sessions, sets
and their reps, partial reps and grips), each row keyed by the installation
(home computer) and the home history's own ids, so an upload repeated or
cut and repeated stores each record once. docs/clinic.md tells how a clinic
runs it. Nothing here is imported by ``import openpuck``; call
:func:`require` before importing the modules below it.
"""
from __future__ import annotations

import importlib

from ..errors import OpenPuckError

EXTRA = "pip install openpuck[clinic]"
#: the modules the server needs, by the name pip knows
_NEEDED = {"fastapi": "fastapi", "uvicorn": "uvicorn", "sqlalchemy": "sqlalchemy", "alembic": "alembic",
           "psycopg": "psycopg", "argon2": "argon2-cffi", "fhir.resources": "fhir.resources"}


class ServerUnavailable(OpenPuckError):
    """The clinic extra is not installed."""


def require(*extra: str) -> None:
    """Raise :class:`ServerUnavailable` naming the missing package and ``pip install
    openpuck[clinic]`` unless the server's packages (and ``extra`` modules) import."""
    for module in (*_NEEDED, *extra):
        try:
            importlib.import_module(module)
        except ImportError as e:
            raise ServerUnavailable(f"the clinic server needs the Python package "
                                    f"{_NEEDED.get(module, module)} ({e}): {EXTRA}") from None

"""What ``openpuck history`` and ``openpuck report`` share: finding the
history database without creating one, and naming the patient right.

Not a command (it is not in ``COMMANDS``).
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path

from ..clinic.history import ENV_DATA_DIR, FILE_NAME, History, check_patient, default_path
from . import CliError

#: at most this many names in an error message; `openpuck history` lists them all
LIST_AT_MOST = 20


def database_path(db: str | None) -> Path:
    """``--db``: a database file, or a folder holding ``history.sqlite3``;
    None: the data folder's (``$OPENPUCK_DATA_DIR``, else the platform's)."""
    if db is None:
        return default_path()
    p = Path(db).expanduser()
    return p / FILE_NAME if p.is_dir() else p


def open_history(db: str | None) -> History:
    """The history at ``--db`` (or the default place). A missing file is an
    error, not an empty history: History() would create one, and a typo in
    --db would then look like a patient without sessions."""
    path = database_path(db)
    if not path.is_file():
        where = ("--db" if db is not None else
                 f"${ENV_DATA_DIR}" if os.environ.get(ENV_DATA_DIR) else "the data folder")
        raise CliError(f"no history database at {path} ({where}); it is made when a patient runs the first "
                       f"session of a programme. Give --db PATH (or set {ENV_DATA_DIR}) to read one elsewhere")
    return History(path)


def plural(n: int, word: str) -> str:
    """``1 session``, ``2 sessions``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:LIST_AT_MOST])
    more = len(names) - LIST_AT_MOST
    return shown + (f" and {more} more (openpuck history lists them all)" if more > 0 else "")


def known_patient(h: History, patient: str) -> str:
    """``patient`` as stored, or a CliError naming the patients there are."""
    p = check_patient(patient)
    names = h.patients()
    if p in names:
        return p
    if not names:
        raise CliError(f"no patient {p!r}: {h.path} has no sessions yet")
    close = difflib.get_close_matches(p, names, n=1) or [n for n in names if n.lower() == p.lower()]
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise CliError(f"no patient {p!r} in {h.path}; {hint}patients: {_names(names)}")

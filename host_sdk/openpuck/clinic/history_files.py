"""Where the history lives on disk, and who may read it.

The data folder (:func:`data_dir`), the database's default path, each set's
recording path, the patient's name as it may name a folder, the privacy of
the files (0700 folders, 0600 files: patient data), the check a file passes
before it is written to, moving a damaged file aside, and the per-patient
session lock. :mod:`openpuck.clinic.history`
re-exports the public names.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs

from ..errors import OpenPuckError
from ..offline import validate

FILE_NAME = "history.sqlite3"
RECORDINGS = "recordings"
#: the environment variable that moves the data folder (tests, a clinic's shared drive)
ENV_DATA_DIR = "OPENPUCK_DATA_DIR"
_SHOWN_PROBLEMS = 20     # quick_check stops there: the first one is what the message shows


class HistoryError(OpenPuckError):
    """The history database could not be opened, read or written; the message names the file."""


class DamagedHistory(HistoryError):
    """The database failed SQLite's check when opened; nothing was written to it.
    :func:`set_aside` (``openpuck history --repair``) moves it out of the way."""

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.problem = problem        #: what SQLite found, in its words


class SessionRunning(OpenPuckError):
    """Another program runs a session for the same patient in the same data folder."""


def data_dir() -> Path:
    """The user's OpenPuck data folder: ``$OPENPUCK_DATA_DIR`` if set, else the
    platform's (``~/.local/share/openpuck`` on Linux, ``%LOCALAPPDATA%\\openpuck``
    on Windows, ``~/Library/Application Support/openpuck`` on macOS)."""
    env = os.environ.get(ENV_DATA_DIR)
    return Path(env) if env else Path(platformdirs.user_data_dir("openpuck", appauthor=False))


def _private_dirs(folder: Path, *, tighten: bool = False) -> None:
    """Make ``folder`` and its missing parents readable by the user only
    (0700: patient data); ``tighten``: an existing ``folder`` too."""
    missing = []
    p = folder
    while not p.exists() and p.parent != p:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            d.mkdir(mode=0o700)
    for d in missing + ([folder] if tighten and folder not in missing else []):
        with contextlib.suppress(OSError):    # mkdir's mode goes through the umask; a folder not ours stays
            os.chmod(d, 0o700)


def _private_file(path: Path) -> None:
    """Create ``path`` readable by the user only (0600) if it is not there, and
    tighten it (and SQLite's -wal and -shm beside it) if it is: SQLite gives
    those the database's mode."""
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):    # missing, or another user's file read through a group
            if p.stat().st_mode & 0o077:
                os.chmod(p, 0o600)


def set_aside(path: str | os.PathLike) -> Path:
    """Move a damaged history database (with its -wal and -shm, which hold
    committed writes) to ``<name>.damaged-<date>-<time>`` beside it; returns
    that path. Nothing is deleted: ``sqlite3 <it> .recover`` may save most of it."""
    src = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = src.with_name(f"{src.name}.damaged-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = src.with_name(f"{src.name}.damaged-{stamp}-{n}")
    try:
        os.replace(src, aside)
        for suffix in ("-wal", "-shm"):
            side = src.with_name(src.name + suffix)
            if side.exists():
                os.replace(side, aside.with_name(aside.name + suffix))
    except OSError as e:
        raise HistoryError(f"{src}: cannot move it aside to {aside}: {e.strerror or e}") from None
    return aside


def default_path() -> Path:
    """Where :class:`History` keeps its database when given no path."""
    return data_dir() / FILE_NAME


def check_patient(patient: str) -> str:
    """A patient's name or id as it may be stored and used in a folder name:
    letters, digits, spaces, ``-``, ``_`` and ``.``, not starting with a dot."""
    if not isinstance(patient, str) or not patient.strip():
        raise validate.InvalidValue(f"patient must be a name or an id, got {patient!r}")
    p = patient.strip()
    bad = sorted({c for c in p if not (c.isalnum() or c in " -_.")})
    if bad or p.startswith(".") or len(p) > 100:
        raise validate.InvalidValue(f"patient {patient!r} cannot name a folder: use letters, digits, spaces, "
                                    f"'-', '_' and '.' (not first), at most 100 characters"
                                    + (f"; not {' '.join(bad)}" if bad else ""))
    return p


def recording_path(patient: str, session_id: int, set_id: int, folder: str | os.PathLike | None = None) -> Path:
    """``<folder>/recordings/<patient>/<session>/<set>.opr``: where a set's raw
    recording goes (``folder``: the database's, default :func:`data_dir`)."""
    root = Path(folder) if folder is not None else data_dir()
    return root / RECORDINGS / check_patient(patient) / str(int(session_id)) / f"{int(set_id)}.opr"


def _try_lock(f: Any) -> bool:
    """Take ``f``'s exclusive lock without waiting; False when another holds it."""
    try:
        import fcntl
    except ImportError:       # Windows: lock a byte past the text, so the pid stays readable
        import msvcrt
        try:
            f.seek(1 << 16)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
            return True
        except OSError:
            return False
        finally:
            f.seek(0)
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


@contextlib.contextmanager
def session_lock(folder: Path, patient: str, what: str = "a session") -> Iterator[None]:
    """Hold while a session of ``patient`` runs: one at a time per patient and
    data folder, so that two runs do not count each other's sessions (and
    open a locked exercise on the first day). The lock is
    ``locks/<patient>.lock`` in ``folder``; the system releases it when
    the process ends, however it ends. Raises :class:`SessionRunning`
    naming the other program's pid."""
    patient = check_patient(patient)
    path = folder / "locks" / f"{patient}.lock"
    try:
        _private_dirs(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise HistoryError(f"{path}: cannot make the lock of {patient}'s sessions: {e.strerror or e}") from None
    with os.fdopen(fd, "r+", encoding="utf-8") as f:
        if not _try_lock(f):
            other = f.read().strip() or "another program"
            raise SessionRunning(f"{patient} has a session running already ({other}; lock {path}): one "
                                 f"session per patient at a time; wait for it to end, or stop it")
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}, {what}, since {time.strftime('%Y-%m-%d %H:%M')}\n")
        f.flush()
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                f.seek(0)
                f.truncate()
                f.flush()
            # closing the file releases the lock


def quick_check(db: sqlite3.Connection, path: Path) -> None:
    """SQLite's quick_check of the database at ``path`` before anything is
    written: a damaged file is refused whole (:class:`DamagedHistory`), not
    written into until a write fails."""
    repair = (f"`openpuck history --repair --db {path}` moves it aside, keeping it, and starts "
              f"a new history")
    try:
        # quick_check gives "ok", or problems a row each (some rows hold several lines)
        problems = [line for r in db.execute(f"PRAGMA quick_check({_SHOWN_PROBLEMS})").fetchall()
                    for line in str(r[0]).splitlines() if line and not line.startswith("*** ")]
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            raise
        problems = [str(e)]
    except sqlite3.DatabaseError as e:
        if "not a database" in str(e):    # a wrong --db as likely as a damaged history
            raise DamagedHistory(f"{path}: cannot use it as the history database: {e}; if it is "
                                 f"the history, it is damaged: {repair}", str(e)) from None
        problems = [str(e)]
    if problems != ["ok"]:
        more = len(problems) - 1
        at_least = "at least " if len(problems) >= _SHOWN_PROBLEMS else ""
        problem = problems[0] + (f", and {at_least}{more} more problem{'s' if more > 1 else ''}"
                                 if more else "")
        raise DamagedHistory(f"{path}: damaged ({problem}); nothing was written to it. {repair}", problem)


def journal_mode_wal(db: sqlite3.Connection, timeout_s: float) -> str:
    """Switch ``db`` to WAL; returns the journal mode now in force. The switch needs
    the file to itself and SQLite answers "locked" at once, without waiting
    out the busy timeout, while another connection opens it: so retry."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return str(db.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)

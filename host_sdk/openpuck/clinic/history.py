"""The patient's history: every session, set and rep, kept as it happens.

One SQLite database in the user's data folder (``history.sqlite3`` in
:func:`data_dir`), with each set's raw ``.opr`` recording beside it under
``recordings/<patient>/<session>/<set>.opr``::

    with History() as h:
        session = h.start_session("anna", "Hand and arm")
        s = h.start_set(session, "grip_squeeze", 1, 20.0, "N", ["right_hand"])
        for ev in puck.events():                  # each rep is on disk when add_event returns
            if ev.kind in ("rep", "partial_rep", "grip"):
                h.add_event(s, ev, "right_hand")
        h.end_set(s)                              # the summary from the stored events
        h.end_session(session)

Nothing is lost: the database is in WAL mode with ``synchronous = FULL``, so
each write is committed to the disk when its call returns, and a process
killed mid-set (even with SIGKILL) leaves every rep it had written readable;
only ``ended_at`` stays empty. A write that fails raises :class:`HistoryError`
naming the file; nothing fails silently. The schema is versioned
(:mod:`openpuck.clinic.history_schema`); an older file is migrated when opened.
A file that fails SQLite's quick_check is refused before anything is
written to it (:class:`DamagedHistory`; :func:`set_aside` moves it out of
the way). Patient data is private: the data folder 0700, its files 0600.

Each set's figures (:class:`openpuck.offline.summary.SetSummary`: reps,
partial reps, grips, mean and best amplitude, time under tension, active
time) are stored in typed columns when it ends; success rate and reps per
minute follow from them by the one definition. Readers give what a report
and the progression need: :meth:`History.daily` (per exercise and day, the
sets' figures pooled), :meth:`History.set_history` (for
:mod:`openpuck.clinic.progression`), :meth:`History.last_target`,
:meth:`History.personal_best`.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..device.events import Event, Grip, PartialRep, Rep
from ..offline import validate
from ..offline.summary import SetSummary
from . import history_schema
from .history_files import (  # noqa: F401
    ENV_DATA_DIR,
    FILE_NAME,
    RECORDINGS,
    DamagedHistory,
    HistoryError,
    SessionRunning,
    _private_dirs,
    _private_file,
    check_patient,
    data_dir,
    default_path,
    journal_mode_wal,
    quick_check,
    recording_path,
    session_lock,
    set_aside,
)
from .history_reads import HistoryReads
from .history_rows import (  # noqa: F401
    FIGURES,
    DailyRow,
    PersonalBest,
    SessionRow,
    SetRow,
    StoredEvent,
    daily_rows,
    event_columns,
    stored_event,
    stored_figures,
    which_sets,
)

_STORED = (Rep, PartialRep, Grip)
_recording_path = recording_path    # start_set's parameter of the same name hides it


def _unix(value: float | dt.datetime | None) -> float:
    if value is None:
        return time.time()
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return validate.number("time", value)


def _json(value: Any) -> Any:
    """json.dumps' fallback: numpy numbers and arrays, sets, tuples."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")



class History(HistoryReads):
    """The history database (module docstring). Usable from several threads;
    close it (or use ``with``) when done."""

    def __init__(self, path: str | os.PathLike | None = None, *, timeout_s: float = 5.0) -> None:
        """Open (or create) the database at ``path`` (default :func:`default_path`),
        bringing an older schema up to date. ``timeout_s``: how long a write
        waits for another program writing the same file."""
        self.path = (Path(path) if path is not None else default_path()).absolute()
        self._lock = threading.RLock()
        try:
            # the default data folder is tightened even when it exists (an install before
            # 0700); a folder the user named is left as it is (a clinic's shared drive)
            _private_dirs(self.path.parent, tighten=self.path.parent == data_dir().absolute())
            if not self.path.parent.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        except OSError as e:
            raise HistoryError(f"{self.path}: cannot make its folder: {e.strerror or e}") from None
        _private_file(self.path)
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None,
                                       check_same_thread=False)
        except sqlite3.Error as e:
            raise HistoryError(f"{self.path}: cannot open it: {e}") from None
        try:
            quick_check(self._db, self.path)
            # WAL: readers (a report) never block the writer; FULL: each commit is
            # on the disk when it returns, so a power cut loses nothing written either
            mode = journal_mode_wal(self._db, timeout_s)
            if mode != "wal":
                raise HistoryError(f"{self.path}: cannot use write-ahead logging there (journal mode "
                                   f"{mode}): keep the history on a local disk")
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA foreign_keys = ON")
            history_schema.migrate(self._db)
        except HistoryError:
            self._db.close()
            raise
        except history_schema.SchemaError as e:
            self._db.close()
            raise HistoryError(f"{self.path}: {e}") from None
        except sqlite3.Error as e:
            self._db.close()
            raise HistoryError(f"{self.path}: cannot use it as the history database: {e}") from None
        except BaseException:
            self._db.close()
            raise

    @contextlib.contextmanager
    def session_lock(self, patient: str, what: str = "a session") -> Iterator[None]:
        """Hold while a session of ``patient`` runs: one at a time per patient and
        data folder (:func:`~openpuck.clinic.history_files.session_lock`). Raises
        :class:`SessionRunning` naming the other program's pid."""
        with session_lock(self.data_dir, patient, what):
            yield

    @property
    def data_dir(self) -> Path:
        """The folder the database is in; recordings go under it."""
        return self.path.parent

    @property
    def schema_version(self) -> int:
        with self._lock:
            return history_schema.version(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction; any failure becomes a HistoryError naming the file and what was lost."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as e:
                try:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass            # the first error is the one to report
                if isinstance(e, sqlite3.Error):
                    hint = (": another program is writing it; close it and try again"
                            if "locked" in str(e) or "busy" in str(e) else "")
                    raise HistoryError(f"{self.path}: could not {what}: {e}{hint}") from e
                raise

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as e:
                raise HistoryError(f"{self.path}: could not read it: {e}") from e

    # --- writing, as it happens ---

    def start_session(self, patient: str, programme_name: str,
                      started_at: float | dt.datetime | None = None) -> int:
        """A new session (``started_at``: Unix s or a datetime; default now); returns its id."""
        patient = check_patient(patient)
        at = _unix(started_at)
        with self._write(f"start a session for {patient}") as db:
            cur = db.execute("INSERT INTO session (patient, programme, started_at) VALUES (?, ?, ?)",
                             (patient, str(programme_name), at))
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def start_set(self, session_id: int, exercise: str, set_index: int, target: float | str | None,
                  unit: str, pucks: Sequence[str] | str, recording_path: str | os.PathLike | None = None,
                  *, mode: str | None = None, started_at: float | dt.datetime | None = None) -> int:
        """A new set of ``exercise`` in a session; returns its id.

        ``target``: a number in ``unit``, or None / "auto" (store the learned
        one at :meth:`end_set`). ``pucks``: the roles of the pucks it uses.
        ``recording_path``: where its ``.opr`` is; None: the default place
        (:func:`recording_path`), whose folder this makes; read it back from
        :meth:`recording_of`. ``mode``: two pucks, "bilateral" or "alternate"."""
        roles = (pucks,) if isinstance(pucks, str) else tuple(pucks)
        if not roles or not all(isinstance(r, str) and r for r in roles):
            raise validate.InvalidValue(f"pucks must name one or more puck roles, got {pucks!r}")
        tgt = None if target is None or target == "auto" else validate.number("target", target, 0.0, above=True)
        at = _unix(started_at)
        what = f"start set {set_index} of {exercise} in session {session_id}"
        with self._write(what) as db:
            row = db.execute("SELECT patient FROM session WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                raise sqlite3.IntegrityError(f"there is no session {session_id} (start_session gives the id)")
            cur = db.execute(
                "INSERT INTO exercise_set (session_id, exercise, set_index, target, unit, pucks, mode, "
                "started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, str(exercise), int(set_index), tgt, str(unit), json.dumps(list(roles)), mode, at))
            set_id = int(cur.lastrowid)  # type: ignore[arg-type]
            path = (Path(recording_path) if recording_path is not None
                    else _recording_path(row[0], session_id, set_id, self.data_dir))
            if recording_path is None:
                try:
                    _private_dirs(path.parent)
                    if not path.parent.is_dir():
                        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
                except OSError as e:
                    raise sqlite3.OperationalError(f"cannot make the recordings folder {path.parent}: "
                                                   f"{e.strerror or e}") from None
            db.execute("UPDATE exercise_set SET recording_path = ? WHERE id = ?", (self._relative(path), set_id))
        return set_id

    def add_event(self, set_id: int, event: Event, puck_role: str) -> int:
        """Store a Rep, PartialRep or Grip from the puck ``puck_role``; it is on the
        disk when this returns. Returns the event's row id."""
        if not isinstance(event, _STORED):
            raise TypeError(f"the history keeps reps, partial reps and grips, not {event.kind} events: "
                            f"pass only those")
        if not isinstance(puck_role, str) or not puck_role:
            raise validate.InvalidValue(f"puck_role must name the puck the event came from, got {puck_role!r}")
        row = event_columns(event)
        with self._write(f"record a {event.kind} of set {set_id}") as db:
            try:
                cur = db.execute(
                    "INSERT INTO event (set_id, kind, puck, count, t_start, t_peak, t_end, amplitude, unit, "
                    "hold_s, t, uncertain, host_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (set_id, event.kind, puck_role, *row, event.t, int(bool(event.uncertain)), event.host_time))
            except sqlite3.IntegrityError as e:
                if "FOREIGN KEY" in str(e):
                    raise sqlite3.IntegrityError(f"there is no set {set_id} (start_set gives the id)") from None
                raise
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def end_set(self, set_id: int, ended_at: float | dt.datetime | None = None,
                summary: dict[str, Any] | None = None) -> None:
        """Close a set, storing its figures (:class:`~openpuck.offline.summary.SetSummary`
        of its stored events) in the set's typed columns. ``summary``: the JSON
        kept beside them, a JSON-ready dict; None: the figures' own
        (:meth:`SetSummary.to_dict`). A numeric ``summary["target"]`` fills in
        a target learned during the set."""
        at = _unix(ended_at)
        row = self._set_row(set_id)
        learned = summary.get("target") if summary is not None else None
        learned = learned if isinstance(learned, (int, float)) else None
        figures = SetSummary.of([e.event for e in self.events(set_id)], exercise=row.exercise, unit=row.unit,
                                target=row.target if row.target is not None else learned)
        try:
            text = json.dumps(figures.to_dict() if summary is None else summary, default=_json, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise validate.InvalidValue(f"the summary of set {set_id} cannot be stored as JSON: {e}") from None
        with self._write(f"end set {set_id}") as db:
            cur = db.execute("UPDATE exercise_set SET ended_at = ?, summary = ?, target = COALESCE(target, ?), "
                             + ", ".join(f"{c} = ?" for c in FIGURES) + " WHERE id = ?",
                             (at, text, learned, *(getattr(figures, c) for c in FIGURES), set_id))
            if cur.rowcount == 0:
                raise sqlite3.IntegrityError(f"there is no set {set_id}")

    def end_session(self, session_id: int, ended_at: float | dt.datetime | None = None) -> None:
        """Close a session."""
        at = _unix(ended_at)
        with self._write(f"end session {session_id}") as db:
            if db.execute("UPDATE session SET ended_at = ? WHERE id = ?", (at, session_id)).rowcount == 0:
                raise sqlite3.IntegrityError(f"there is no session {session_id}")

    def _relative(self, path: Path) -> str:
        """A recording inside the data folder is stored relative to it, so the
        folder can be moved or restored from a backup whole."""
        p = path.absolute()
        try:
            return str(p.relative_to(self.data_dir))
        except ValueError:
            return str(p)

"""The reading half of a history file: patients, sessions, sets, events and
the figures the programme, the report and the CLI read
(:class:`~openpuck.clinic.history.History` is it with the writing half)."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..offline.summary import SetSummary
from .history_files import HistoryError, check_patient
from .history_rows import (
    DailyRow,
    PersonalBest,
    SessionRow,
    SetRow,
    StoredEvent,
    daily_rows,
    stored_event,
    stored_figures,
    which_sets,
)
from .progression import SetResult


class HistoryReads:
    """Queries over a history file's tables; the file and its connection are History's."""

    path: Path

    if TYPE_CHECKING:
        @property
        def data_dir(self) -> Path: ...

        def _read(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]: ...


    def patients(self) -> list[str]:
        """Every patient with a session, by name."""
        return [r[0] for r in self._read("SELECT DISTINCT patient FROM session ORDER BY patient")]

    def sessions(self, patient: str) -> list[SessionRow]:
        """A patient's sessions, oldest first."""
        return [SessionRow(r["id"], r["patient"], r["programme"], r["started_at"], r["ended_at"])
                for r in self._read("SELECT * FROM session WHERE patient = ? ORDER BY started_at, id",
                                    (check_patient(patient),))]

    _SETS = "SELECT s.* FROM exercise_set s "

    def _set(self, r: sqlite3.Row) -> SetRow:
        rec = r["recording_path"]
        figures = stored_figures(r)
        if figures is None:     # never ended (still running, or cut short): its stored events still count
            figures = SetSummary.of([e.event for e in self.events(r["id"])], exercise=r["exercise"],
                                    unit=r["unit"], target=r["target"])
        return SetRow(r["id"], r["session_id"], r["exercise"], r["set_index"], r["target"], r["unit"],
                      tuple(json.loads(r["pucks"])), r["mode"],
                      (self.data_dir / rec) if rec is not None else None,   # an absolute one stays as it is
                      r["started_at"], r["ended_at"],
                      json.loads(r["summary"]) if r["summary"] is not None else None, figures,
                      source=r["source"])

    def sets(self, session_id: int) -> list[SetRow]:
        """A session's sets in the order they started."""
        return [self._set(r) for r in self._read(self._SETS + "WHERE s.session_id = ? "
                                                 "ORDER BY s.started_at, s.id", (session_id,))]

    def _set_row(self, set_id: int) -> SetRow:
        rows = self._read(self._SETS + "WHERE s.id = ?", (set_id,))
        if not rows:
            raise HistoryError(f"{self.path}: there is no set {set_id}")
        return self._set(rows[0])

    def recording_of(self, set_id: int) -> Path | None:
        """Where the set's ``.opr`` recording is (or goes)."""
        return self._set_row(set_id).recording_path

    def events(self, set_id: int) -> list[StoredEvent]:
        """A set's reps, partial reps and grips as they were added, each with its puck."""
        rows = self._read("SELECT e.*, s.exercise FROM event e JOIN exercise_set s ON s.id = e.set_id "
                          "WHERE e.set_id = ? ORDER BY e.id", (set_id,))
        return [stored_event(r) for r in rows]

    def set_history(self, patient: str, exercise: str, *, pucks: Sequence[str] | str | None = None,
                    mode: str | None = None) -> list[SetResult]:
        """Every set of ``exercise`` the patient did, oldest first, as
        :mod:`openpuck.clinic.progression` takes them. Give a programme entry's
        ``pucks`` and ``mode`` to keep, say, the left hand's grip apart from
        the right's and from a bilateral squeeze."""
        which, args = which_sets(pucks, mode)
        rows = self._read(self._SETS + "JOIN session ss ON ss.id = s.session_id "
                          f"WHERE ss.patient = ? AND s.exercise = ?{which} "
                          "ORDER BY ss.started_at, ss.id, s.started_at, s.id",
                          (check_patient(patient), exercise, *args))
        return [SetResult(s.session_id, s.target, s.reps, s.partial_reps, s.started_at)
                for s in map(self._set, rows)]

    def last_target(self, patient: str, exercise: str, *, pucks: Sequence[str] | str | None = None,
                    mode: str | None = None) -> float | None:
        """The target of the patient's latest set of ``exercise`` that had one."""
        which, args = which_sets(pucks, mode)
        rows = self._read("SELECT s.target FROM exercise_set s JOIN session ss ON ss.id = s.session_id "
                          f"WHERE ss.patient = ? AND s.exercise = ? AND s.target IS NOT NULL{which} "
                          "ORDER BY s.started_at DESC, s.id DESC LIMIT 1",
                          (check_patient(patient), exercise, *args))
        return rows[0][0] if rows else None

    def personal_best(self, patient: str, exercise: str, *, pucks: Sequence[str] | str | None = None,
                      mode: str | None = None) -> PersonalBest | None:
        """The patient's largest rep of ``exercise`` (range of motion or force), and when."""
        which, args = which_sets(pucks, mode)
        rows = self._read("SELECT e.amplitude, e.unit, s.started_at, s.session_id, s.id "
                          "FROM event e JOIN exercise_set s ON s.id = e.set_id "
                          "JOIN session ss ON ss.id = s.session_id "
                          f"WHERE ss.patient = ? AND s.exercise = ? AND e.kind = 'rep'{which} "
                          "ORDER BY e.amplitude DESC, e.id LIMIT 1", (check_patient(patient), exercise, *args))
        return PersonalBest(*rows[0]) if rows else None

    def daily(self, patient: str) -> list[DailyRow]:
        """Per day (local date) and exercise with its pucks and mode, each
        day's sets' stored figures pooled (:func:`~openpuck.clinic.history_rows.daily_rows`):
        sessions cut short still count. Sorted by day, then exercise, pucks and mode."""
        rows = self._read(self._SETS + "JOIN session ss ON ss.id = s.session_id WHERE ss.patient = ? "
                          "ORDER BY s.started_at, s.id", (check_patient(patient),))
        return daily_rows(map(self._set, rows))

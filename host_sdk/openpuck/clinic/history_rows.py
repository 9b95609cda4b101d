"""What :class:`~openpuck.clinic.history.History` reads out: typed rows.

A set's figures are a :class:`~openpuck.offline.summary.SetSummary` (stored
in the set's typed columns at ``end_set``); a day's are its sets' pooled
(:meth:`SetSummary.pool`), so a set, a day, the report and the progression
all figure success, reps per minute and time under tension by the one
definition in :mod:`openpuck.offline.summary`.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..device.events import Event, Grip, PartialRep, Rep
from ..offline.summary import SetSummary

#: the typed columns a set's figures are stored in (history_schema migration 2)
FIGURES = ("reps", "partial_reps", "grips", "mean_amplitude", "best_amplitude", "time_under_tension_s",
           "active_s")


def stored_figures(r: sqlite3.Row) -> SetSummary | None:
    """A set row's figures from its typed columns; None when it never ended (no figures stored)."""
    if r["reps"] is None:
        return None
    return SetSummary(**{c: r[c] for c in FIGURES}, exercise=r["exercise"], unit=r["unit"], target=r["target"])


def which_sets(pucks: Sequence[str] | str | None, mode: str | None) -> tuple[str, list[Any]]:
    """SQL that narrows sets (``s``) to these pucks and this mode (each only when given)."""
    sql, args = "", []
    if pucks is not None:
        sql += " AND s.pucks = ?"
        args.append(json.dumps([pucks] if isinstance(pucks, str) else list(pucks)))
    if mode is not None:
        sql += " AND s.mode = ?"
        args.append(mode)
    return sql, args


@dataclass(frozen=True)
class SessionRow:
    id: int
    patient: str
    programme: str
    started_at: float             #: Unix s
    ended_at: float | None        #: None: still running, or the process died


@dataclass(frozen=True)
class SetRow:
    id: int
    session_id: int
    exercise: str
    set_index: int
    target: float | None          #: None: an auto target not learned
    unit: str
    pucks: tuple[str, ...]
    mode: str | None
    recording_path: Path | None
    started_at: float
    ended_at: float | None
    summary: dict[str, Any] | None   #: the JSON end_set stored
    #: the set's figures: the typed columns end_set stored, or (a set never ended) from its stored events
    figures: SetSummary
    #: None: counted live; "puck_log": some or all of its reps pulled from the puck's own log
    #: (done while no host listened: openpuck.clinic.history_log)
    source: str | None = None

    @property
    def reps(self) -> int:
        return self.figures.reps

    @property
    def partial_reps(self) -> int:
        return self.figures.partial_reps

    @property
    def success_rate(self) -> float | None:
        return self.figures.success_rate


@dataclass(frozen=True)
class StoredEvent:
    id: int
    set_id: int
    puck: str                     #: the role of the puck it came from
    event: Event                  #: a Rep, PartialRep or Grip, as given to add_event


def event_columns(event: Event) -> tuple[Any, ...]:
    """A Rep's, PartialRep's or Grip's (count, t_start, t_peak, t_end, amplitude,
    unit, hold_s) columns of the event table (a grip's amplitude: its peak force)."""
    if isinstance(event, Grip):
        return (None, event.t_start, None, event.t_end, event.peak_force, "N", event.hold_s)
    return (event.count, event.t_start, event.t_peak, event.t_end, event.amplitude,  # type: ignore[attr-defined]
            event.unit, getattr(event, "hold_s", None))  # type: ignore[attr-defined]


def stored_event(r: sqlite3.Row) -> StoredEvent:
    """An event row (with its set's ``exercise``) as the Rep, PartialRep or Grip it was."""
    common = dict(t=r["t"], uncertain=bool(r["uncertain"]), host_time=r["host_time"],
                  t_start=r["t_start"], t_end=r["t_end"])
    ev: Event
    if r["kind"] == "grip":
        ev = Grip(**common, peak_force=r["amplitude"], hold_s=r["hold_s"])
    elif r["kind"] == "rep":
        ev = Rep(**common, exercise=r["exercise"], count=r["count"], t_peak=r["t_peak"],
                 amplitude=r["amplitude"], unit=r["unit"], hold_s=r["hold_s"])
    else:
        ev = PartialRep(**common, exercise=r["exercise"], count=r["count"], t_peak=r["t_peak"],
                        amplitude=r["amplitude"], unit=r["unit"])
    return StoredEvent(r["id"], r["set_id"], r["puck"], ev)


@dataclass(frozen=True)
class DailyRow:
    """One exercise, done with these pucks in this mode, on one day (local
    date of the sets' start), its sets' figures pooled (:meth:`SetSummary.pool`):
    a one-foot press and alternate foot taps are two rows, as the progression
    keeps them apart."""

    day: dt.date
    exercise: str
    reps: int
    partial_reps: int
    mean_amplitude: float | None  #: of the reps, in unit (range of motion or force); None with no rep
    best_amplitude: float | None
    reps_per_minute: float | None  #: the sets' reps over their active times summed (first rep start to last rep end)
    time_under_tension_s: float   #: the reps' durations summed
    success_rate: float | None    #: reps / (reps + partial reps), over all the day's attempts
    unit: str
    sets: int
    pucks: tuple[str, ...] = ()   #: the roles of the pucks, as the sets stored them
    mode: str | None = None       #: two pucks: "bilateral" or "alternate"

    @property
    def key(self) -> tuple[str, tuple[str, ...], str | None]:
        """(exercise, pucks, mode): what the runner's progression and personal bests go by."""
        return (self.exercise, self.pucks, self.mode)

    @classmethod
    def of(cls, day: dt.date, exercise: str, pucks: tuple[str, ...], mode: str | None, unit: str,
           sets: list[SetSummary]) -> DailyRow:
        """The row of these sets (done that day that way), their figures pooled."""
        f = SetSummary.pool(sets)
        return cls(day=day, exercise=exercise, reps=f.reps, partial_reps=f.partial_reps,
                   mean_amplitude=f.mean_amplitude, best_amplitude=f.best_amplitude,
                   reps_per_minute=f.reps_per_minute, time_under_tension_s=f.time_under_tension_s,
                   success_rate=f.success_rate, unit=unit, sets=len(sets), pucks=pucks, mode=mode)


def daily_rows(sets: Iterable[SetRow]) -> list[DailyRow]:
    """Per day (local date of each set's start) and exercise with its pucks and
    mode, sorted by day, then exercise, pucks and mode."""
    days: dict[tuple[dt.date, str, tuple[str, ...], str], tuple[str, list[SetSummary]]] = {}
    for s in sets:
        # mode "" for none: the key sorts; a foot press and foot taps never share a mean
        key = (dt.date.fromtimestamp(s.started_at), s.exercise, s.pucks, s.mode or "")
        days.setdefault(key, (s.unit, []))[1].append(s.figures)
    return [DailyRow.of(day, exercise, pucks, mode or None, unit, figures)
            for (day, exercise, pucks, mode), (unit, figures) in sorted(days.items())]


@dataclass(frozen=True)
class PersonalBest:
    amplitude: float
    unit: str
    at: float                     #: Unix s: the start of the set it was in
    session_id: int
    set_id: int

"""What the therapist's report shows, read from the history in one place.

:func:`gather` turns a patient's :class:`~openpuck.clinic.history.History` into a
:class:`ReportData`: plain numbers, no HTML and no plotting, so the
report's figures (:mod:`openpuck.clinic.report_plots`), its page
(:mod:`openpuck.clinic.report`) and the ``openpuck history`` command all count the
same way. Every count comes from the sets' stored figures (as
:meth:`History.daily`; a set cut short from its stored reps), and every
success rate is :func:`openpuck.offline.summary.success_rate` of the pooled
reps and partial reps, as the history's and the progression's.

An exercise is counted per catalogue exercise, pucks and mode (the key the
programme runner moves targets and keeps personal bests by): a one-foot
press and alternate foot taps of ``foot_press`` are two rows, two plots and
two targets, named ``foot_press (right_foot)`` and ``foot_press (left_foot
+ right_foot, alternate)``; an exercise done one way only keeps its plain name.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..offline.summary import success_rate
from .history import DailyRow, History, PersonalBest, check_patient
from .history_log import LOGGED
from .progression import ProgressionRule

#: (exercise, pucks, mode): one way of doing a catalogue exercise
Key = tuple[str, tuple[str, ...], "str | None"]


def way_name(exercise: str, pucks: tuple[str, ...], mode: str | None) -> str:
    """``foot_press (left_foot + right_foot, alternate)``: an exercise and the way it was done."""
    return f"{exercise} ({' + '.join(pucks)}{', ' + mode if mode else ''})"


@dataclass(frozen=True)
class SessionLine:
    """One session: when, which programme, and what it held."""

    id: int
    programme: str
    started_at: float               #: Unix s
    ended_at: float | None          #: None: not ended (cut short, or still running)
    exercises: tuple[str, ...]      #: in the order they were done, each once
    sets: int
    reps: int
    partial_reps: int
    #: its sets with reps logged on the puck while no host listened (pulled later: openpuck log pull)
    logged_sets: int = 0

    @property
    def success_rate(self) -> float | None:
        return success_rate(self.reps, self.partial_reps)

    @property
    def source(self) -> str:
        """Where its reps came from: "live", "puck log" (sets done with the host away) or
        "live + puck log" (sets the host left before their end, completed from the log)."""
        if not self.logged_sets:
            return "live"
        return "puck log" if self.programme == LOGGED else "live + puck log"


@dataclass(frozen=True)
class TargetPoint:
    """One set's target: the progression's trace."""

    session_id: int
    set_id: int
    exercise: str
    set_index: int
    started_at: float               #: Unix s: the set's start
    target: float | None            #: None: an auto target never learned
    unit: str
    pucks: tuple[str, ...] = ()
    mode: str | None = None

    @property
    def key(self) -> Key:
        return (self.exercise, self.pucks, self.mode)


@dataclass(frozen=True)
class ExerciseSummary:
    """An exercise, done with these pucks in this mode, over the whole history
    (one row of the report's summary table)."""

    exercise: str                   #: the catalogue name
    unit: str
    sessions: int                   #: sessions with at least one set of it
    sets: int
    reps: int
    partial_reps: int
    best: PersonalBest | None       #: the largest rep ever, and when
    latest_day: dt.date | None      #: the last day with a rep of it
    latest_mean: float | None       #: that day's mean amplitude
    target: float | None            #: the latest set's target (None: none learned yet)
    pucks: tuple[str, ...] = ()
    mode: str | None = None
    name: str = ""                  #: the exercise, with its pucks and mode when it was done more ways than one

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.exercise)

    @property
    def key(self) -> Key:
        return (self.exercise, self.pucks, self.mode)

    @property
    def success_rate(self) -> float | None:
        return success_rate(self.reps, self.partial_reps)


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows for one patient (see :func:`gather`)."""

    patient: str
    sessions: list[SessionLine]                 #: oldest first
    daily: list[DailyRow]                       #: History.daily: by day, then exercise
    exercises: list[ExerciseSummary]            #: in the order first done
    targets: list[TargetPoint]                  #: every set, oldest first
    rule: ProgressionRule                       #: its success band is the one drawn
    attempts_by_day: dict[dt.date, int] = field(default_factory=dict)   #: reps + partial reps per day

    @property
    def empty(self) -> bool:
        """No session at all: the report says so instead of drawing nothing."""
        return not self.sessions

    @property
    def programmes(self) -> list[str]:
        """The programmes the sessions ran, in the order first run."""
        return list(dict.fromkeys(s.programme for s in self.sessions))

    @property
    def first_day(self) -> dt.date | None:
        days = [dt.date.fromtimestamp(s.started_at) for s in self.sessions] + [r.day for r in self.daily]
        return min(days) if days else None

    @property
    def last_day(self) -> dt.date | None:
        days = [dt.date.fromtimestamp(s.started_at) for s in self.sessions] + [r.day for r in self.daily]
        return max(days) if days else None

    @property
    def days(self) -> list[dt.date]:
        """Every calendar day from the first to the last session, practised or not."""
        if self.first_day is None or self.last_day is None:
            return []
        n = (self.last_day - self.first_day).days + 1
        return [self.first_day + dt.timedelta(days=i) for i in range(n)]

    @property
    def days_practised(self) -> list[dt.date]:
        """Days with at least one attempt (a rep or a partial rep) of any exercise:
        a session opened and left without a single attempt is not practice."""
        return sorted(d for d, n in self.attempts_by_day.items() if n > 0)

    @property
    def reps(self) -> int:
        return sum(e.reps for e in self.exercises)

    @property
    def partial_reps(self) -> int:
        return sum(e.partial_reps for e in self.exercises)

    @property
    def sets(self) -> int:
        return sum(s.sets for s in self.sessions)

    @property
    def success_rate(self) -> float | None:
        return success_rate(self.reps, self.partial_reps)

    def exercise(self, name: str) -> ExerciseSummary:
        """By its name (``foot_press (right_foot)``), or its catalogue name: the first way it was done."""
        for e in self.exercises:
            if e.name == name:
                return e
        for e in self.exercises:
            if e.exercise == name:
                return e
        raise KeyError(name)

    def name_of(self, row: DailyRow | TargetPoint) -> str:
        """The name of the exercise a day's row or a target is of."""
        return next((e.name for e in self.exercises if e.key == row.key), row.exercise)

    def daily_of(self, exercise: str | ExerciseSummary) -> list[DailyRow]:
        """The days of one way of doing an exercise (an ExerciseSummary), or of
        every way (a catalogue name)."""
        if isinstance(exercise, ExerciseSummary):
            return [r for r in self.daily if r.key == exercise.key]
        return [r for r in self.daily if r.exercise == exercise]


def gather(history: History, patient: str, *, rule: ProgressionRule | None = None) -> ReportData:
    """Read everything the report shows about ``patient`` from ``history``.
    A patient with no session gives an empty :class:`ReportData`, not an error
    (the caller decides whether an unknown name is a mistake). ``rule``: the
    progression rule whose success band is drawn (default: the defaults, 70-90%)."""
    patient = check_patient(patient)
    sessions: list[SessionLine] = []
    targets: list[TargetPoint] = []
    per_ex: dict[Key, dict] = {}
    for s in history.sessions(patient):
        sets = history.sets(s.id)
        for st in sets:
            e = per_ex.setdefault((st.exercise, st.pucks, st.mode),
                                  dict(unit=st.unit, sessions=set(), sets=0, reps=0, partials=0))
            e["sessions"].add(s.id)
            e["sets"] += 1
            e["reps"] += st.reps
            e["partials"] += st.partial_reps
            targets.append(TargetPoint(s.id, st.id, st.exercise, st.set_index, st.started_at, st.target, st.unit,
                                       st.pucks, st.mode))
        sessions.append(SessionLine(
            s.id, s.programme, s.started_at, s.ended_at,
            tuple(dict.fromkeys(st.exercise for st in sets)), len(sets),
            sum(st.reps for st in sets), sum(st.partial_reps for st in sets),
            sum(st.source is not None for st in sets)))
    daily = history.daily(patient)
    attempts: dict[dt.date, int] = {}
    for r in daily:
        attempts[r.day] = attempts.get(r.day, 0) + r.reps + r.partial_reps
    summaries = []
    ways: dict[str, int] = {}
    for name, _, _ in per_ex:
        ways[name] = ways.get(name, 0) + 1
    for key, e in per_ex.items():
        name, pucks, mode = key
        with_reps = [r for r in daily if r.key == key and r.reps]
        last = with_reps[-1] if with_reps else None
        ex_targets = [t.target for t in targets if t.key == key and t.target is not None]
        summaries.append(ExerciseSummary(
            exercise=name, unit=e["unit"], sessions=len(e["sessions"]), sets=e["sets"], reps=e["reps"],
            partial_reps=e["partials"], best=history.personal_best(patient, name, pucks=pucks, mode=mode),
            latest_day=last.day if last else None, latest_mean=last.mean_amplitude if last else None,
            target=ex_targets[-1] if ex_targets else None, pucks=pucks, mode=mode,
            name=way_name(name, pucks, mode) if ways[name] > 1 else name))
    return ReportData(patient, sessions, daily, summaries, targets, rule or ProgressionRule(), attempts)

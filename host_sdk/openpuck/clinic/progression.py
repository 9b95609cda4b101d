"""Progression: the next target from how often the last attempts reached it.

Pure functions, no I/O. The rule keeps success high but not perfect:

- success = reps / (reps + partial reps), the share of attempts that reached
  the target (a partial rep is an attempt that did not):
  :func:`openpuck.offline.summary.success_rate`, the one definition the
  history and the report use too;
- above ``success_high`` (default 90%): the target was too easy, raise it by
  ``step_up`` (5%);
- below ``success_low`` (70%): too hard, lower it by ``step_down`` (10%);
- in the band (both edges included): keep it;
- fewer than ``min_attempts`` attempts: too little to judge, keep it;
- always within ``min_target`` .. ``max_target``.

The steps are asymmetric on purpose: a run of failures is what makes people
stop, so the rule backs off faster than it climbs.

Within a session, :func:`next_target` moves the next set's target from the
set just done. Between sessions, :func:`session_target` moves the last
session's *starting* target by the whole session's success, so warm-up and
fatigue within a session do not carry over to the next day.

An exercise that the programme unlocks after N sessions (:func:`unlocked`)
opens once N sessions of the exercise before it reached ``success_low`` or
more, counted over the whole history (not necessarily in a row); once open
it stays open.

Why this band: in 2,581 FitMi home users, those whose first-week success was
"high but not perfect" kept exercising longest (Ramos Muñoz et al., Front
Neurol 2022, "Dosage, engagement..."). The 70-90% defaults are OpenPuck's
choice in that spirit, not figures from the paper; a programme file can set
its own (docs/programmes.md).
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import OpenPuckError
from ..offline import validate
from ..offline.summary import success_rate

Decision = Literal["up", "stay", "down", "too_few"]

#: comparisons at the band's edges forgive float noise: 9/10 is "in the band" at 0.9
_EPS = 1e-9


class NoHistory(OpenPuckError, ValueError):
    """session_target was given no set with a target and no default to fall back on."""


@dataclass(frozen=True)
class ProgressionRule:
    """How targets move (module docstring). Targets are in the exercise's
    unit (N or degrees); ``min_target``/``max_target`` default to the widest
    range any unit allows, so a programme sets them per exercise."""

    success_low: float = 0.7      #: below this share of attempts reaching the target: lower it
    success_high: float = 0.9     #: above this: raise it
    step_up: float = 0.05         #: fraction of the target added when raising
    step_down: float = 0.10       #: fraction of the target taken off when lowering
    min_target: float = 1.0       #: never below (the exercise's unit)
    max_target: float = 500.0     #: never above
    unlock_sessions: int = 3      #: sessions at or above success_low that open the next exercise
    min_attempts: int = 5         #: fewer attempts than this in a set (or session): no change

    def __post_init__(self) -> None:
        # messages start with the field's name: programme_file finds its line by it
        validate.number("success_low", self.success_low, 0.0, 1.0, above=True)
        validate.number("success_high", self.success_high, 0.0, 1.0, above=True)
        if self.success_low >= self.success_high:
            raise validate.InvalidValue(f"success_low must be below success_high, got "
                                        f"{self.success_low:g} and {self.success_high:g}")
        validate.number("step_up", self.step_up, 0.0, 1.0)
        validate.number("step_down", self.step_down, 0.0, 0.9)
        validate.number("min_target", self.min_target, 0.0, above=True)
        validate.number("max_target", self.max_target, 0.0, above=True)
        if self.min_target > self.max_target:
            raise validate.InvalidValue(f"min_target must be at most max_target, got "
                                        f"{self.min_target:g} and {self.max_target:g}")
        validate.whole("unlock_sessions", self.unlock_sessions, 1, 1000)
        validate.whole("min_attempts", self.min_attempts, 1, 1000)

    def clamp(self, target: float) -> float:
        """``target`` within min_target .. max_target."""
        return min(max(target, self.min_target), self.max_target)


@dataclass(frozen=True)
class SetResult:
    """One set as progression sees it (what :meth:`openpuck.clinic.history.History.set_history` returns)."""

    session: Hashable             #: the session it belongs to (its id)
    target: float | None          #: the target it ran at; None: an auto target never learned
    reps: int
    partial_reps: int
    started_at: float = 0.0       #: Unix s


def decide(reps: int, partial_reps: int, rule: ProgressionRule) -> Decision:
    """What the rule does with these attempts: "up", "stay", "down", or
    "too_few" (fewer than ``rule.min_attempts``: keep the target)."""
    reps = validate.whole("reps", reps, 0, None)
    partial_reps = validate.whole("partial_reps", partial_reps, 0, None)
    if reps + partial_reps < rule.min_attempts:
        return "too_few"
    s = success_rate(reps, partial_reps)
    assert s is not None            # at least min_attempts (>= 1) attempts
    if s > rule.success_high + _EPS:
        return "up"
    if s < rule.success_low - _EPS:
        return "down"
    return "stay"


def next_target(current: float, reps: int, partials: int, rule: ProgressionRule) -> float:
    """The next set's target after a set at ``current`` with ``reps`` reps and
    ``partials`` partial reps (module docstring), within the rule's limits."""
    current = validate.number("current target", current, 0.0, above=True)
    step = {"up": 1.0 + rule.step_up, "down": 1.0 - rule.step_down}.get(decide(reps, partials, rule), 1.0)
    # rounded to 1e-6 of the unit (below any sensor's resolution): 20 x 1.05 is 21, not 21.000000000000004
    return round(rule.clamp(current * step), 6)


@dataclass(frozen=True)
class SessionResult:
    """A session's sets pooled: the target it started at and every attempt at a target."""

    session: Hashable
    start_target: float
    reps: int
    partial_reps: int

    @property
    def success_rate(self) -> float | None:
        """The session's pooled success (:func:`openpuck.offline.summary.success_rate`)."""
        return success_rate(self.reps, self.partial_reps)


def sessions(history: Sequence[SetResult]) -> list[SessionResult]:
    """The history's sessions in order (``history`` oldest first), each with
    its sets pooled. Sets with no target (an auto target never learned) are
    left out: their attempts were not measured against a target."""
    pooled: dict[Hashable, SessionResult] = {}
    for s in history:
        if s.target is None:
            continue
        was = pooled.get(s.session)
        pooled[s.session] = (SessionResult(s.session, s.target, s.reps, s.partial_reps) if was is None
                             else SessionResult(s.session, was.start_target, was.reps + s.reps,
                                                was.partial_reps + s.partial_reps))
    return list(pooled.values())


def session_target(history_of_sets: Sequence[SetResult], rule: ProgressionRule,
                   default: float | None = None) -> float:
    """The next session's starting target: the last session's starting target,
    moved by the success of all its sets together (module docstring).

    With no set that had a target, ``default`` (the programme's or the
    catalogue's target) within the rule's limits; with no default either,
    :class:`NoHistory`."""
    done = sessions(history_of_sets)
    if not done:
        if default is None:
            raise NoHistory("no set with a target in the history: give a default target "
                            "(the programme's or the exercise's) for the first session")
        return round(rule.clamp(validate.number("default target", default, 0.0, above=True)), 6)
    last = done[-1]
    return next_target(last.start_target, last.reps, last.partial_reps, rule)


def good_sessions(history: Sequence[SetResult], rule: ProgressionRule) -> int:
    """How many sessions had at least ``rule.min_attempts`` attempts and a
    success rate of ``rule.success_low`` or more (in the band or above it)."""
    return sum(1 for s in sessions(history)
               if s.reps + s.partial_reps >= rule.min_attempts
               and (s.success_rate or 0.0) >= rule.success_low - _EPS)


def unlocked(history: Sequence[SetResult], rule: ProgressionRule) -> bool:
    """Whether the exercise after the one whose ``history`` this is opens:
    ``rule.unlock_sessions`` good sessions (:func:`good_sessions`), in a row
    or not. History only grows, so once open it stays open."""
    return good_sessions(history, rule) >= rule.unlock_sessions

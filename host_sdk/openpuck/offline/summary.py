"""The figures of a set of reps (../shared/exercises.md), from its events.

One definition of each clinical figure, for every place that sums sets up:
:func:`openpuck.detect`'s :class:`~openpuck.offline.detect.Detection`, a
decoded recording (:class:`~openpuck.offline.recording.Session`), the demo,
the command line, the history database (which stores a :class:`SetSummary`'s
counts and times in typed columns), the report and the progression.

- **success rate**: reps / (reps + partial reps), the share of attempts that
  reached the target (a partial rep is an attempt that did not); None with no
  attempt. Over several sets: their reps over their attempts (not a mean of
  the sets' rates), :func:`success_rate`;
- **reps per minute**: 60 x reps / active time, where a set's active time is
  from its first rep's start to its last rep's end; over several sets: their
  reps over their active times summed (:func:`reps_per_minute`);
- **time under tension**: the reps' durations summed;
- **mean / best amplitude**: of the reps, in the exercise's unit.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..device.events import Event, Grip, PartialRep, Rep


def success_rate(reps: int, partial_reps: int) -> float | None:
    """reps / (reps + partial reps): the share of attempts that reached the
    target; None with no attempt. The one definition (module docstring)."""
    attempts = reps + partial_reps
    return reps / attempts if attempts else None


def reps_per_minute(reps: int, active_s: float) -> float | None:
    """60 x reps / active time (s); None with no active time. The one definition."""
    return 60.0 * reps / active_s if active_s > 0 else None


@dataclass(frozen=True)
class SetSummary:
    """A set's figures (module docstring), or several sets' pooled (:meth:`pool`).

    The stored fields are counts and times; every rate is a property computed
    from them by the module's one definition, so a set, a day and a whole
    history are figured the same way."""

    reps: int = 0                     #: reps that reached the target
    partial_reps: int = 0             #: attempts that did not
    grips: int = 0
    mean_amplitude: float | None = None   #: of the reps, in unit; None with no rep
    best_amplitude: float | None = None
    time_under_tension_s: float = 0.0  #: the reps' durations summed
    active_s: float = 0.0             #: earliest rep start to latest rep end (summed over pooled sets)
    exercise: str | None = None
    unit: str | None = None
    target: float | None = None

    @classmethod
    def of(cls, events: Iterable[Event], *, exercise: str | None = None, unit: str | None = None,
           target: float | None = None) -> SetSummary:
        """Sum up one set from its events. ``exercise`` and ``unit`` default to the first rep's."""
        evs = list(events)
        reps = [e for e in evs if isinstance(e, Rep)]
        amps = [float(r.amplitude) for r in reps]
        return cls(
            reps=len(reps), partial_reps=sum(1 for e in evs if isinstance(e, PartialRep)),
            grips=sum(1 for e in evs if isinstance(e, Grip)),
            mean_amplitude=sum(amps) / len(amps) if amps else None, best_amplitude=max(amps) if amps else None,
            time_under_tension_s=float(sum(r.duration for r in reps)),
            active_s=float(max(r.t_end for r in reps) - min(r.t_start for r in reps)) if reps else 0.0,
            exercise=exercise if exercise is not None else (reps[0].exercise if reps else None),
            unit=unit if unit is not None else (reps[0].unit if reps else None), target=target)

    @classmethod
    def pool(cls, summaries: Iterable[SetSummary]) -> SetSummary:
        """Several sets as one: counts and times summed, the mean amplitude over
        all their reps, the best the largest; exercise, unit and target the
        first set's. Its rates are then the pooled ones (module docstring)."""
        ss = list(summaries)
        reps = sum(s.reps for s in ss)
        amp_sum = sum(s.mean_amplitude * s.reps for s in ss if s.reps and s.mean_amplitude is not None)
        bests = [s.best_amplitude for s in ss if s.best_amplitude is not None]
        first = ss[0] if ss else cls()
        return cls(reps=reps, partial_reps=sum(s.partial_reps for s in ss), grips=sum(s.grips for s in ss),
                   mean_amplitude=amp_sum / reps if reps else None, best_amplitude=max(bests) if bests else None,
                   time_under_tension_s=sum(s.time_under_tension_s for s in ss),
                   active_s=sum(s.active_s for s in ss), exercise=first.exercise, unit=first.unit,
                   target=first.target)

    @property
    def successful_reps(self) -> int:
        """Attempts that reached the target: the reps."""
        return self.reps

    @property
    def attempts(self) -> int:
        return self.reps + self.partial_reps

    @property
    def success_rate(self) -> float | None:
        return success_rate(self.reps, self.partial_reps)

    @property
    def reps_per_minute(self) -> float | None:
        return reps_per_minute(self.reps, self.active_s)

    @property
    def mean_rep_duration_s(self) -> float | None:
        return self.time_under_tension_s / self.reps if self.reps else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``--json``, the history's ``summary`` column): the
        keys it has always had, with 0.0 for an amplitude, duration or rate
        there is none of, plus ``active_s``."""
        return {
            "exercise": self.exercise, "unit": self.unit, "target": self.target,
            "reps": self.reps, "partial_reps": self.partial_reps, "grips": self.grips,
            "mean_amplitude": self.mean_amplitude or 0.0, "best_amplitude": self.best_amplitude or 0.0,
            "mean_rep_duration_s": self.mean_rep_duration_s or 0.0,
            "time_under_tension_s": self.time_under_tension_s,
            "reps_per_minute": self.reps_per_minute or 0.0,
            "success_rate": self.success_rate,
            "active_s": self.active_s,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SetSummary:
        """Back from :meth:`to_dict` (or an older summary without ``active_s``:
        then it comes from the reps per minute). Other keys are ignored."""
        reps = int(d.get("reps") or 0)
        active = d.get("active_s")
        if active is None:
            rpm = d.get("reps_per_minute") or 0.0
            active = 60.0 * reps / rpm if rpm > 0 else 0.0
        has_reps = reps > 0
        target = d.get("target")
        return cls(exercise=d.get("exercise"), unit=d.get("unit"),
                   target=float(target) if isinstance(target, (int, float)) else None, reps=reps, partial_reps=int(d.get("partial_reps") or 0), grips=int(d.get("grips") or 0),
                   mean_amplitude=float(d.get("mean_amplitude") or 0.0) if has_reps else None,
                   best_amplitude=float(d.get("best_amplitude") or 0.0) if has_reps else None,
                   time_under_tension_s=float(d.get("time_under_tension_s") or 0.0), active_s=float(active))


def summarise(events: Iterable[Event], *, exercise: str | None = None, unit: str | None = None,
              target: float | None = None) -> dict[str, Any]:
    """:meth:`SetSummary.of` as its JSON-ready dict (:meth:`SetSummary.to_dict`):
    reps, partial reps, grips, mean and best amplitude, mean rep duration,
    time under tension, reps per minute (0 with no active time), success rate
    (None with no attempt) and active time."""
    return SetSummary.of(events, exercise=exercise, unit=unit, target=target).to_dict()

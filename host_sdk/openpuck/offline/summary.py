"""The figures of a set of reps (../shared/exercises.md), from its events.

One function for every place that sums a set up: :func:`openpuck.detect`'s
:class:`~openpuck.offline.detect.Detection`, a decoded recording
(:class:`~openpuck.offline.recording.Session`), the demo and the command line.
"""
from __future__ import annotations

from typing import Any, Iterable

from ..device.events import Event, Grip, PartialRep, Rep


def summarise(events: Iterable[Event], *, exercise: str | None = None, unit: str | None = None,
              target: float | None = None) -> dict[str, Any]:
    """Reps, partial reps and grips of a set, and:

    - ``mean_amplitude``, ``best_amplitude``: of the reps, in ``unit``;
    - ``mean_rep_duration_s`` and ``time_under_tension_s`` (the reps' durations summed);
    - ``reps_per_minute``: the reps over the span from the first rep's start to
      the last rep's end (0 with fewer than two reps' worth of span);
    - ``success_rate``: reps / (reps + partial reps), the share of attempts
      that reached the target (None with no attempt).

    ``exercise`` and ``unit`` default to the first rep's."""
    evs = list(events)
    reps = [e for e in evs if isinstance(e, Rep)]
    partials = [e for e in evs if isinstance(e, PartialRep)]
    grips = [e for e in evs if isinstance(e, Grip)]
    amps = [r.amplitude for r in reps]
    durs = [r.duration for r in reps]
    span = (reps[-1].t_end - reps[0].t_start) if reps else 0.0
    attempts = len(reps) + len(partials)
    return {
        "exercise": exercise if exercise is not None else (reps[0].exercise if reps else None),
        "unit": unit if unit is not None else (reps[0].unit if reps else None),
        "target": target,
        "reps": len(reps), "partial_reps": len(partials), "grips": len(grips),
        "mean_amplitude": sum(amps) / len(amps) if amps else 0.0,
        "best_amplitude": max(amps) if amps else 0.0,
        "mean_rep_duration_s": sum(durs) / len(durs) if durs else 0.0,
        "time_under_tension_s": float(sum(durs)),
        "reps_per_minute": 60.0 * len(reps) / span if span > 0 else 0.0,
        "success_rate": len(reps) / attempts if attempts else None,
    }

"""What the programme runner tells an app, and what it gives back.

:class:`ProgrammeEvent` (each step, in order, to ``on_event``), a set's
:class:`SetOutcome` and the session's :class:`SessionReport`; the puck's
feedback patterns; and the runner's own helpers that hold no puck: a set's
event queue and time line (:class:`_SetCounter`) and error notes.
:mod:`openpuck.clinic.programme` re-exports the public names.
"""
from __future__ import annotations

import dataclasses
import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..device.decoder import DeviceSpan
from ..device.events import Event
from ..errors import OpenPuckError
from ..offline.summary import SetSummary

#: the puck's feedback patterns: (r, g, b, s) flashes and (Hz, s) tones
SET_DONE = ([(0, 255, 0, 0.25)], [(1800, 0.12), (2400, 0.12)])
WOO_HOO = ([(0, 255, 0, 0.15), (0, 80, 255, 0.15), (255, 255, 255, 0.3)],
           [(1568, 0.1), (1976, 0.1), (2349, 0.1), (3136, 0.25)])


class ProgrammeError(OpenPuckError):
    """A programme cannot run as given (a puck missing for a role, ...)."""


@dataclass
class ProgrammeEvent:
    """What the runner tells an app, in order. ``kind``:

    - ``"session_start"``: the session begins (``programme``, ``session``: the
      patient's session number of this programme, ``note``: the programme's
      patient_note, the safety line shown before the first set);
    - ``"exercise"``: the next exercise (``exercise``, ``placement``, ``note``);
    - ``"locked"``: an exercise skipped until the one before it goes well;
    - ``"set_start"``: a set begins (``target`` or None for a learned one,
      ``reps_goal`` or ``seconds_goal``);
    - ``"attempt"``: a rep or partial rep (``event``, ``puck``, ``reps_done``);
    - ``"set_end"``: the set's ``summary`` (a :class:`~openpuck.offline.summary.SetSummary`;
      ``summary.to_dict()`` for JSON);
    - ``"personal_best"``: a rep larger than any before (``event``; ``pucks``
      and ``mode`` say which best: one per exercise, pucks and mode);
    - ``"rest"``: ``seconds_left`` of a rest, once a second (``next_exercise``:
      the exercise after the rest when it is another one);
    - ``"session_end"``: the session's ``report``."""

    kind: str
    exercise: str = ""
    exercise_index: int = 0
    set_index: int = 0
    sets: int = 0
    target: float | None = None
    unit: str = ""
    reps_goal: int | None = None
    seconds_goal: float | None = None
    reps_done: int = 0
    partials_done: int = 0
    seconds_done: float = 0.0
    seconds_left: float = 0.0
    puck: str = ""
    event: Event | None = None
    summary: SetSummary | None = None
    placement: str = ""
    note: str = ""
    report: Any = None
    programme: str = ""
    session: int = 0
    pucks: tuple[str, ...] = ()
    mode: str = ""
    next_exercise: str = ""


@dataclass
class SetOutcome:
    """One set done: what it asked and what came of it."""

    exercise: str
    set_index: int
    target: float | None          #: the target it ran at (learned, for auto), None if never learned
    summary: SetSummary           #: its figures, as the history stores them
    recordings: list[Path]
    personal_best: bool = False


@dataclass
class SessionReport:
    """A session done: its history id, its number and every set."""

    session_id: int                 #: the history database's id
    patient: str
    programme: str
    sets: list[SetOutcome] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)
    #: (exercise, amplitude, unit): the session's latest best of each exercise (and pucks and mode)
    personal_bests: list[tuple[str, float, str]] = field(default_factory=list)
    number: int = 0                 #: the patient's session of this programme: 1 for the first

    @property
    def reps(self) -> int:
        return sum(s.summary.reps for s in self.sets)


class _SetCounter:
    """A set's events from its pucks' reader threads, in arrival order, and
    each puck's device time (for timed sets)."""

    def __init__(self, roles: list[str]) -> None:
        self.q: queue.Queue = queue.Queue()
        self.reps = {r: 0 for r in roles}
        self.spans = {r: DeviceSpan() for r in roles}
        #: the target each puck last told (its unit; None: an auto target not learned yet)
        self.targets: dict[str, float | None] = {}

    def event(self, role: str) -> Callable[[Any], None]:
        return lambda ev: self.q.put((role, ev))

    def samples(self, role: str) -> Callable[[Any], None]:
        return self.spans[role]

    def aligned(self, role: str, ev: Event) -> Event:
        """With two pucks, one time line: each puck's device time (two clocks
        that know nothing of each other) becomes seconds since that puck's
        first sample of the set; both were started at the same moment."""
        t0 = self.spans[role].first
        if len(self.reps) < 2 or t0 is None:
            return ev
        shift = {f: getattr(ev, f) - t0 for f in ("t", "t_start", "t_peak", "t_end")
                 if getattr(ev, f, None) is not None}
        return dataclasses.replace(ev, **shift)

    def seconds(self) -> float:
        """The puck's time since the set started (the first puck's, for two)."""
        spans = [s.span for s in self.spans.values() if s.first is not None]
        return min(spans) if spans else 0.0


def _text(e: BaseException) -> str:
    """An error as one line that names its file."""
    if isinstance(e, OSError) and e.filename and e.strerror:
        return f"{e.filename}: {e.strerror}"
    return str(e)


def _then(first: BaseException, cleanup: Callable[[], None]) -> None:
    """Run ``cleanup`` while ``first`` is on its way up; a failure of the
    cleanup is noted on ``first`` (shown after it) instead of hiding it."""
    try:
        cleanup()
    except Exception as second:   # noqa: BLE001 - any of it is the second error, not the first
        note = f"then, cleaning up: {_text(second)}"
        if hasattr(first, "add_note"):
            first.add_note(note)
        else:   # Python 3.10
            first.__notes__ = [*getattr(first, "__notes__", []), note]  # type: ignore[attr-defined]

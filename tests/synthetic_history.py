"""A synthetic home programme written through History, for the report and CLI tests.

Two weeks of "Hand and arm" for anna (Monday 3 to Sunday 16 March 2025,
local time), and one session for ben. :func:`build` returns every set as it
was written, so a test can work out the figures it expects by its own
arithmetic rather than by asking the code under test:

- anna practised on 10 of the 14 days (``PRACTISED``); on ``OPENED_ONLY``
  she opened a session, started a set and did not make a single attempt
  (it counts as a session, not as a day practised); on ``TWICE`` she did two
  sessions; the last session was cut short (its second set and the session
  never ended);
- grip_squeeze is in N, wrist_flexion and forearm_rotation in degrees;
  forearm_rotation opens from day 4 on;
- amplitudes and targets rise with the day, so the plots have a trend.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from openpuck.clinic.history import History
from openpuck.device.events import PartialRep, Rep

FIRST_DAY = dt.date(2025, 3, 3)           # a Monday
LAST_DAY = dt.date(2025, 3, 16)           # a Sunday
PRACTISED = [0, 1, 2, 4, 5, 7, 8, 9, 11, 13]  # day offsets with attempts
OPENED_ONLY = 3                           # a session with a set and no attempt
TWICE = 7                                 # two sessions that day
PROGRAMME = "Hand and arm"


@dataclass(frozen=True)
class WrittenSet:
    patient: str
    day: dt.date
    session: int                          #: the session id History gave
    exercise: str
    unit: str
    target: float
    reps: tuple[float, ...]               #: each rep's amplitude
    partials: tuple[float, ...]           #: each partial rep's amplitude
    ended: bool
    started_at: float                     #: Unix s


def _at(day: dt.date, hour: int, minute: int = 0) -> float:
    return dt.datetime(day.year, day.month, day.day, hour, minute).timestamp()


def _write_set(out: list[WrittenSet], h: History, patient: str, session: int, day: dt.date, start: float,
               exercise: str, unit: str, index: int, target: float, reps: list[float], partials: list[float],
               *, end: bool = True) -> None:
    s = h.start_set(session, exercise, index, target, unit, ["right_hand"], started_at=start)
    t = 0.0
    for i, amp in enumerate(reps):      # a rep every 3 s, 1.2 s long
        h.add_event(s, Rep(t=t + 1.2, exercise=exercise, count=i + 1, t_start=t, t_peak=t + 0.6, t_end=t + 1.2,
                           amplitude=amp, unit=unit, hold_s=0.5 if unit == "N" else 0.0), "right_hand")
        t += 3.0
    for amp in partials:
        h.add_event(s, PartialRep(t=t + 0.8, exercise=exercise, count=len(reps), t_start=t, t_peak=t + 0.4,
                                  t_end=t + 0.8, amplitude=amp, unit=unit), "right_hand")
        t += 3.0
    if end:
        h.end_set(s, start + t + 5.0)
    out.append(WrittenSet(patient, day, session, exercise, unit, target, tuple(reps), tuple(partials), end, start))


def _anna_session(out: list[WrittenSet], h: History, k: int, hour: int, *, cut_short: bool = False) -> None:
    day = FIRST_DAY + dt.timedelta(days=k)
    start = _at(day, hour)
    session = h.start_session("anna", PROGRAMME, start)
    minute = 0
    # (exercise, unit, first set's target, first rep's amplitude, a shift that varies the partial reps)
    plan = [("grip_squeeze", "N", 15.0 + k, 18.0 + 0.5 * k, 0),
            ("wrist_flexion", "deg", 25.0 + k, 30.0 + 1.5 * k, 1)]
    if k >= 4:
        plan.append(("forearm_rotation", "deg", 40.0 + 2 * k, 45.0 + 2.0 * k, 2))
    for exercise, unit, target, base, shift in plan:
        for index in (1, 2):
            n = 8 + (k + index) % 3
            reps = [round(base + 0.4 * i + (index - 1), 2) for i in range(n)]
            partials = [round(0.6 * target, 2)] * ((k + index + shift) % 4)
            last = cut_short and exercise == plan[-1][0] and index == 2
            _write_set(out, h, "anna", session, day, start + 60 * minute, exercise, unit, index,
                       target + index - 1, reps, partials, end=not last)
            minute += 3
            if last:
                return                  # the session is never ended
    h.end_session(session, start + 60 * (minute + 1))


def build(path: Path) -> list[WrittenSet]:
    """Write the whole synthetic history into a new database at ``path``;
    returns every set written, in order."""
    out: list[WrittenSet] = []
    with History(path) as h:
        for k in PRACTISED:
            _anna_session(out, h, k, 10, cut_short=(k == PRACTISED[-1]))
            if k == TWICE:
                _anna_session(out, h, k, 18)
        day = FIRST_DAY + dt.timedelta(days=OPENED_ONLY)
        session = h.start_session("anna", PROGRAMME, _at(day, 11))
        h.start_set(session, "grip_squeeze", 1, 18.0, "N", ["right_hand"], started_at=_at(day, 11, 1))
        out.append(WrittenSet("anna", day, session, "grip_squeeze", "N", 18.0, (), (), False, _at(day, 11, 1)))
        h.end_session(session, _at(day, 11, 5))
        day = FIRST_DAY + dt.timedelta(days=2)
        ben = h.start_session("ben", "Leg", _at(day, 9))
        _write_set(out, h, "ben", ben, day, _at(day, 9), "foot_press", "N", 1, 60.0, [70.0, 72.0, 75.0], [30.0])
        h.end_session(ben, _at(day, 9, 10))
    return out


def of(sets: list[WrittenSet], patient: str = "anna", exercise: str | None = None) -> list[WrittenSet]:
    """The sets of ``patient`` (and ``exercise``) among ``sets``, in the order written."""
    return [w for w in sets if w.patient == patient and (exercise is None or w.exercise == exercise)]

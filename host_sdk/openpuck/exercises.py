"""The exercise catalogue (protocol/exercises.toml) and the signals it counts
with, for the whole SDK: every module that needs an exercise, a signal, their
names or units asks here.

>>> from openpuck import exercises
>>> exercises.get("grip_squeeze").target, exercises.get("grip_squeeze").unit
(30.0, 'N')
>>> exercises.name_of(5), exercises.unit_of(5)
('arm_raise', 'deg')
"""
from __future__ import annotations

from .errors import OpenPuckError
from .protocol._table import CATALOGUE, SIGNAL_UNITS, Exercise, Signal

__all__ = ["CATALOGUE", "SIGNALS", "UNITS", "Exercise", "Signal", "UnknownExercise", "get", "name_of",
           "names", "unit_of"]

#: the signals' names in wire order (enums.signal of protocol/messages.toml)
SIGNALS: tuple[str, ...] = tuple(s.label for s in Signal)
#: signal name -> the unit of its values (N, deg)
UNITS: dict[str, str] = dict(SIGNAL_UNITS)

_BY_NAME = {e.name: e for e in CATALOGUE}
_BY_ID = {e.id: e for e in CATALOGUE}


class UnknownExercise(OpenPuckError, KeyError):
    """An exercise name or id that is not in the catalogue."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def names() -> list[str]:
    """Every exercise name, in catalogue order."""
    return [e.name for e in CATALOGUE]


def get(exercise: str | int | Exercise) -> Exercise:
    """An exercise by name or id; UnknownExercise lists the valid names."""
    if isinstance(exercise, Exercise):
        return exercise
    found = _BY_ID.get(exercise) if isinstance(exercise, int) else _BY_NAME.get(str(exercise).strip())
    if found is None:
        raise UnknownExercise(f"unknown exercise {exercise!r}; choose one of: {', '.join(names())}")
    return found


def name_of(exercise_id: int) -> str:
    """The name of a wire exercise id; ``exercise_<id>`` for an id this SDK does
    not know (a newer puck's), so that its events still read."""
    e = _BY_ID.get(exercise_id)
    return e.name if e is not None else f"exercise_{exercise_id}"


def unit_of(exercise_id: int) -> str:
    """The unit (N, deg) of a wire exercise id's values; ``""`` for an unknown id."""
    e = _BY_ID.get(exercise_id)
    return e.unit if e is not None else ""

"""The exercise catalogue (protocol/exercises.toml), for the SDK.

>>> from openpuck import exercises
>>> exercises.get("grip_squeeze").target, exercises.get("grip_squeeze").unit
(30.0, 'N')
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import OpenPuckError
from .protocol._table import EXERCISES as _TABLE

SIGNALS = ("force", "tilt", "heading", "rotation")
UNITS = {"force": "N", "tilt": "deg", "heading": "deg", "rotation": "deg"}


class UnknownExercise(OpenPuckError, KeyError):
    """An exercise name or id that is not in the catalogue."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0] if self.args else ""


@dataclass(frozen=True)
class Exercise:
    id: int
    name: str
    signal: str        # force, tilt, heading or rotation
    target: float      # default target, in unit
    on: float          # ON fraction of the target
    off: float         # OFF fraction of the target
    min_rep_s: float
    max_rep_s: float
    placement: str
    motion: str
    joint_axis: str | None = None   #: angle exercises: horizontal, vertical or tilted
    lever_arm_m: tuple[float, float] = (0.0, 0.0)   #: the puck's distance from the joint axis

    @property
    def unit(self) -> str:
        """N for force, deg for the angle signals."""
        return UNITS[self.signal]

    @property
    def signal_id(self) -> int:
        return SIGNALS.index(self.signal)


CATALOGUE: tuple[Exercise, ...] = tuple(
    Exercise(e["id"], e["name"], e["signal"], float(e["target"]), float(e["on"]), float(e["off"]),
             float(e["min_rep_s"]), float(e["max_rep_s"]), e.get("placement", ""), e.get("motion", ""),
             e.get("joint_axis"), tuple(float(v) for v in e.get("lever_arm_m", (0.0, 0.0))))
    for e in _TABLE)
_BY_NAME = {e.name: e for e in CATALOGUE}
_BY_ID = {e.id: e for e in CATALOGUE}


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

"""Numbers from users, checked in one place for the command line and the SDK.

Every check takes what the user typed (a str from the command line, or a
number from code) and returns the value to use, or raises
:class:`InvalidValue`, whose message names the value, what is allowed and
the unit: ``target must be between 1 and 500 N, got -3``.
"""
from __future__ import annotations

import math
from typing import Any

from ..errors import OpenPuckError

#: what a target may be, by unit: 1 N to the force pad's 500 N; 1 to 360
#: degrees; 5 mm to 2 m of travel (reach, table_slide)
TARGET_RANGE = {"N": (1.0, 500.0), "deg": (1.0, 360.0), "mm": (5.0, 2000.0)}
_UNIT_WORD = {"deg": "degrees", "mm": "millimetres"}


class InvalidValue(OpenPuckError, ValueError):
    """A number a user gave that cannot be used; the message says what is allowed."""


def _as_float(what: str, value: Any) -> float:
    if isinstance(value, bool):
        raise InvalidValue(f"{what} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidValue(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise InvalidValue(f"{what} must be a finite number, got {value}")
    return v


def number(what: str, value: Any, lo: float | None = None, hi: float | None = None, unit: str = "",
           *, above: bool = False) -> float:
    """A finite number within [lo, hi] (above=True: strictly more than lo)."""
    try:
        v = _as_float(what, value)
    except InvalidValue:
        if lo is None or hi is None or isinstance(value, bool) or not _is_number(str(value)):
            raise
        v = math.inf   # nan or inf: say the range, as for any number outside it
    u = f" {_UNIT_WORD.get(unit, unit)}" if unit else ""
    low_ok = lo is None or (v > lo if above else v >= lo) and math.isfinite(v)
    if not low_ok or (hi is not None and v > hi):
        if lo is not None and hi is not None and not above:
            raise InvalidValue(f"{what} must be between {lo:g} and {hi:g}{u}, got {value}")
        if lo is not None and hi is not None:
            raise InvalidValue(f"{what} must be more than {lo:g} and at most {hi:g}{u}, got {value}")
        if lo is not None:
            raise InvalidValue(f"{what} must be {'more than' if above else 'at least'} {lo:g}{u}, got {value}")
        raise InvalidValue(f"{what} must be at most {hi:g}{u}, got {value}")
    return v


def whole(what: str, value: Any, lo: int, hi: int | None) -> int:
    """A whole number within [lo, hi] (hi None: no upper limit): ``sets must
    be a whole number from 1 to 50, got 0``. 3.0 is 3; 2.5 and True are refused."""
    span = f"from {lo} to {hi}" if hi is not None else f"of at least {lo}"
    try:
        v = _as_float(what, value)
    except InvalidValue:
        raise InvalidValue(f"{what} must be a whole number {span}, got {value!r}") from None
    if not v.is_integer() or v < lo or (hi is not None and v > hi):
        raise InvalidValue(f"{what} must be a whole number {span}, got {value}")
    return int(v)


def seconds(what: str, value: Any) -> float | None:
    """A duration: None (no limit) or a finite number of seconds above 0."""
    if value is None:
        return None
    return number(what, value, 0.0, None, "s", above=True)


def timeout(what: str, value: Any) -> float | None:
    """A wait: None (for ever) or a finite number of seconds, 0 or more."""
    if value is None:
        return None
    return number(what, value, 0.0, None, "s")


def target(value: Any, unit: str, what: str = "target") -> float | str | None:
    """An exercise target: None (the exercise's default), "auto" (learned
    from the first reps) or a number of ``unit`` (N, deg or mm) in TARGET_RANGE."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    lo, hi = TARGET_RANGE[unit]
    try:
        return number(what, value, lo, hi, unit)
    except InvalidValue as e:
        if isinstance(value, str) and not _is_number(value):
            raise InvalidValue(f"{what} must be a number of {_UNIT_WORD.get(unit, unit)} or 'auto', "
                               f"got {value!r}") from None
        raise e from None


def choice(what: str, value: Any, allowed: tuple, unit: str = "") -> int:
    """An integer that must be one of ``allowed`` (e.g. the sample rates)."""
    u = f" {unit}" if unit else ""
    options = ", ".join(str(a) for a in allowed)
    try:
        v = _as_float(what, value)
    except InvalidValue:
        raise InvalidValue(f"{what} must be one of {options}{u}, got {value!r}") from None
    if v not in allowed:
        raise InvalidValue(f"{what} must be one of {options}{u}, got {value}")
    return int(v)


def rate_hz(value: Any, what: str = "rate") -> int:
    """A sample rate the puck streams at (the start command's values in the message table)."""
    from ..protocol import SPECS
    allowed = tuple(SPECS["start"].field("rate_hz")["values"])
    return choice(what, value, allowed, "Hz")


#: what set_config may hold for the keys whose values are a short list. The puck's
#: rule is firmware/openpuck_fw/config.py valid(); tests/test_sdk_puck.py checks the two agree.
CONFIG_CHOICES = {"accel_range_g": ((2, 4, 8, 16), "g"), "gyro_range_dps": ((125, 250, 500, 1000, 2000), "dps"),
                  "ble_enabled": ((0, 1), "")}


def config_value(key: str, value: Any) -> int:
    """A value ``set_config`` may send for ``key``, checked by the puck's rule
    (the message table's limits, the exercise table, the ranges the IMU has),
    so a value the puck would refuse never leaves the host."""
    from ..protocol import SPECS, ConfigKey
    what = f"set_config {key}"
    keys = [k.label for k in ConfigKey]
    if key not in keys:
        raise InvalidValue(f"{what}: unknown config key (one of {', '.join(keys)})")
    if key == "device_name":
        raise InvalidValue(f"{what}: the puck's name is not a number and cannot be set this way")
    if key == "rate_hz":
        return rate_hz(value, what)
    if key in CONFIG_CHOICES:
        allowed, unit = CONFIG_CHOICES[key]
        return choice(what, value, allowed, unit)
    if key == "exercise":
        from ..exercises import CATALOGUE
        ids = sorted(e.id for e in CATALOGUE)
        v = whole(what, value, min(ids), max(ids))
        if v not in ids:
            raise InvalidValue(f"{what} must be an exercise id ({', '.join(map(str, ids))}), got {value}")
        return v
    if key == "target":   # milli-units of the exercise's signal, as set_exercise's target field
        f = SPECS["set_exercise"].field("target")
        return whole(f"{what} (milli-units; 0 = auto)", value, int(f.get("min", 0)), int(f["max"]))
    if key == "feedback":
        return whole(f"{what} (bit 0 LED, bit 1 buzzer)", value, 0, 3)
    raise InvalidValue(f"{what}: no rule for this key")   # a key added to the table without one here


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True

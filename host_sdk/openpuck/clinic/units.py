"""How amounts read for people: ``deg`` as ° (32.5°), newtons with a space (21.0 N).

The SDK stores units as the events carry them (``"N"``, ``"deg"``); reports
and command output show them through these two functions so that every
place writes them alike.
"""
from __future__ import annotations

_SYMBOLS = {"deg": "°", "N": "N"}


def symbol(unit: str) -> str:
    """The unit as printed: ``deg`` is ``°``; any other unit as it is."""
    return _SYMBOLS.get(unit, unit)


def amount(value: float | None, unit: str, digits: int = 1, *, none: str = "–") -> str:
    """``value`` with its unit (``"32.5°"``, ``"21.0 N"``); ``none`` for None."""
    if value is None:
        return none
    s = symbol(unit)
    text = f"{value:.{digits}f}"
    if not s:
        return text
    return text + s if s == "°" else f"{text} {s}"


def percent(share: float | None, *, none: str = "–") -> str:
    """A share 0..1 as a whole percent (``0.875`` is ``"88%"``); ``none`` for None."""
    return none if share is None else f"{100.0 * share:.0f}%"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 day``, ``2 days`` (``many``: the plural when it is not ``word`` + s)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"

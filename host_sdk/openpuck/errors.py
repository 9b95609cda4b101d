"""The one exception type of the C core, and its status codes as an IntEnum.

``Status`` is ``op_status_t`` of c_core/op_status.h, name for name (OK,
ERR_ARG, ERR_SPACE, ERR_COBS, ERR_CRC, ERR_TRUNCATED, ERR_OVERSIZE,
ERR_VERSION, ERR_LENGTH, ERR_CONFIG, ERR_RANGE), through the table that
tools/gen_tables.py reads from the header.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    #: Status codes returned by every c_core function.
    from .protocol._table import Status


def _status_enum() -> type[Status]:
    # imported on first use: the generated table lives in the protocol package,
    # which imports this module for OpenPuckError, so a top-level import here
    # would be an import cycle
    from .protocol._table import Status
    return Status


def __getattr__(name: str) -> Any:
    if name == "Status":
        return _status_enum()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class OpenPuckError(Exception):
    """Base class of every error the SDK raises on purpose."""


class CoreError(OpenPuckError):
    """A c_core function returned a status other than OK."""

    def __init__(self, status: int, what: str = "") -> None:
        self.status = _status_enum()(status)
        super().__init__(f"{what}: {self.status.name}" if what else self.status.name)


def check(status: int, what: str = "") -> int:
    """Return ``status`` if it is not an error, else raise :class:`CoreError`."""
    if status < 0:
        raise CoreError(status, what)
    return status


def needs(what: str, package: str, extra: str) -> str:
    """The message for a missing optional package, with both ways to get it:
    from the package index, and from a checkout of the repository."""
    return (f"{what} needs {package}: pip install {package} (or, in an OpenPuck checkout, "
            f"pip install '.[{extra}]')")

"""The one exception type of the C core, and its status codes as an IntEnum.

``Status`` mirrors ``op_status_t`` in c_core/op_status.h value for value
(tests/test_status_mirror.py checks it).
"""
from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """Status codes returned by every c_core function."""

    OK = 0
    ERR_ARG = -1
    ERR_SPACE = -2
    ERR_COBS = -3
    ERR_CRC = -4
    ERR_TRUNCATED = -5
    ERR_OVERSIZE = -6
    ERR_VERSION = -7
    ERR_LENGTH = -8
    ERR_CONFIG = -9
    ERR_RANGE = -10


class OpenPuckError(Exception):
    """Base class of every error the SDK raises on purpose."""


class CoreError(OpenPuckError):
    """A c_core function returned a status other than OK."""

    def __init__(self, status: int, what: str = "") -> None:
        self.status = Status(status)
        super().__init__(f"{what}: {self.status.name}" if what else self.status.name)


def check(status: int, what: str = "") -> int:
    """Return ``status`` if it is not an error, else raise :class:`CoreError`."""
    if status < 0:
        raise CoreError(status, what)
    return status

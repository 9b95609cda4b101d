"""The transport interface every URL scheme implements.

A transport moves raw wire bytes between the host and one puck; it knows
nothing of frames or messages (the :class:`openpuck.StreamDecoder` does).
Laid out like bleak's backends: this abstract base, one module per scheme
with the same shape (``open_url(url, path, params)`` at module level).

Blocking, thread-safe enough for one reader thread and any number of
writers (``write`` is serialised by the transport).
"""
from __future__ import annotations

import abc
import threading
import urllib.parse
from typing import Any

from ...errors import OpenPuckError


class TransportError(OpenPuckError):
    """A transport could not be opened, or failed in a way a retry will not fix."""


class ConnectionLost(TransportError):
    """The link went away (cable pulled, BLE out of range). Reopening may work."""


class EndOfStream(TransportError):
    """A finite source (a replay) has no more bytes."""


class ReadOnlyError(TransportError):
    """The transport cannot send commands (a replay)."""


class Transport(abc.ABC):
    """Raw bytes to and from one puck.

    Subclasses implement :meth:`_open`, :meth:`_close`, :meth:`read` and
    :meth:`_write`. ``read`` blocks at most ``timeout`` seconds and returns
    ``b""`` when nothing came; it raises :class:`ConnectionLost` when the link
    dropped and :class:`EndOfStream` when a finite source is exhausted.
    """

    #: the scheme this transport serves (``serial``, ``ble``...)
    scheme = ""
    #: True when commands cannot be sent (replays)
    readonly = False
    #: True when :meth:`reopen` after :class:`ConnectionLost` can work
    reconnectable = True

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_open = False
        self._wlock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------
    def open(self) -> Transport:
        if not self.is_open:
            self._open()
            self.is_open = True
        return self

    def close(self) -> None:
        if self.is_open:
            self.is_open = False
            self._close()

    def reopen(self) -> None:
        """Close what is left of a dropped link and open it again."""
        try:
            self.close()
        except Exception:  # noqa: BLE001 - the old link is gone anyway
            pass
        self.open()

    def __enter__(self) -> Transport:
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- data -----------------------------------------------------------------
    @abc.abstractmethod
    def read(self, timeout: float = 0.1) -> bytes:
        """Bytes from the puck, waiting at most ``timeout`` s; b"" if none."""

    def write(self, data: bytes) -> None:
        """Send bytes to the puck (whole frames, serialised between threads)."""
        if self.readonly:
            raise ReadOnlyError(f"{self.url}: read-only, commands cannot be sent")
        if not self.is_open:
            raise ConnectionLost(f"{self.url}: not connected")
        with self._wlock:
            self._write(bytes(data))

    @abc.abstractmethod
    def _open(self) -> None: ...

    @abc.abstractmethod
    def _close(self) -> None: ...

    @abc.abstractmethod
    def _write(self, data: bytes) -> None: ...

    def describe(self) -> str:
        """One line for humans: what this transport is connected to."""
        return self.url

    def __repr__(self) -> str:
        state = "open" if self.is_open else "closed"
        return f"<{type(self).__name__} {self.url!r} {state}>"


def split_url(url: str) -> tuple[str, str, dict[str, str]]:
    """``"scheme:rest?a=1&b=2"`` -> ``("scheme", "rest", {"a": "1", "b": "2"})``.

    ``scheme://rest`` is accepted as well as ``scheme:rest``. Query values are
    percent-decoded; a key given twice is refused (which one was meant?).
    """
    scheme, sep, rest = url.partition(":")
    if not sep:
        raise TransportError(f"{url!r}: no scheme (expected e.g. serial:/dev/ttyACM0)")
    if rest.startswith("//"):
        rest = rest[2:]
    path, _, query = rest.partition("?")
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True) if query else []
    params: dict[str, str] = {}
    for k, v in pairs:
        if k in params:
            raise TransportError(f"{url!r}: {k!r} is given twice ({params[k]!r} and {v!r}); give it once")
        params[k] = v
    return scheme.lower(), urllib.parse.unquote(path), params


def check_params(url: str, params: dict[str, str], allowed: set[str]) -> None:
    """Refuse unknown query parameters with a message naming the allowed ones."""
    bad = sorted(set(params) - allowed)
    if bad:
        ok = ", ".join(sorted(allowed)) or "none"
        raise TransportError(f"{url!r}: unknown option {bad[0]!r} (allowed: {ok})")


def parse_speed(url: str, value: str | None, default: float = 1.0) -> float:
    """``"2"`` -> 2.0, ``"max"``/``"inf"`` -> inf."""
    if value is None or value == "":
        return default
    if value.lower() in ("max", "inf"):
        return float("inf")
    try:
        v = float(value)
    except ValueError:
        raise TransportError(f"{url!r}: speed {value!r} is not a number or 'max'") from None
    if not v > 0:
        raise TransportError(f"{url!r}: speed must be > 0")
    return v

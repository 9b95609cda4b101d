"""``replay:`` a recording played back as a read-only puck.

URL grammar::

    replay:FILE.opr[?speed=N|max]      a recording made by `openpuck record`
    replay:FILE.bin                    raw wire bytes (e.g. `openpuck encode`), no timing

``speed`` 1 (the default) paces the bytes as they were recorded, 10 ten
times faster, ``max`` as fast as they can be read. The puck's bytes come
back exactly as recorded; commands cannot be sent (``Puck.start``/``stop``
are accepted and do nothing, other commands raise
:class:`~openpuck.device.transports.ReadOnlyError`). A disconnect noted in the
recording is played back as one (:class:`ConnectionLost`, then the replay
resumes), so the gap handling is the same as it was live. At the end,
:class:`EndOfStream`.
"""
from __future__ import annotations

import time

from ...errors import OpenPuckError
from ...offline.recording import IN, NOTE, Source, open_source
from .base import ConnectionLost, EndOfStream, Transport, TransportError, check_params, parse_speed


class ReplayTransport(Transport):
    scheme = "replay"
    readonly = True

    def __init__(self, url: str, path: str, speed: float = 1.0) -> None:
        super().__init__(url)
        self.path = path
        self.speed = speed
        #: (recording s, bytes the puck sent or the disconnect to raise there)
        self._items: list[tuple[float, bytes | ConnectionLost]] = []
        self._i = 0
        self._t_wall0: float | None = None
        self._t_rec0 = 0.0
        self.header: dict = {}
        self.source: Source | None = None   #: the recording, once open

    def _open(self) -> None:
        if self._items or self._i:
            return  # reopen after a played-back disconnect: carry on
        try:
            src = open_source(self.path, want=("recording", "wire"))
        except OpenPuckError as e:
            raise TransportError(str(e)) from None
        self.source = src
        for c in src.chunks:
            if c.direction == IN:
                self._items.append((c.t, c.data))
            elif c.direction == NOTE and c.note().get("kind") == "disconnect":
                self._items.append((c.t, ConnectionLost(f"{self.path}: recorded disconnect")))
        self.header = src.header or {}
        if self._items:
            self._t_rec0 = self._items[0][0]

    def _close(self) -> None:
        pass

    def read(self, timeout: float = 0.1) -> bytes:
        if self._i >= len(self._items):
            raise EndOfStream(f"{self.path}: end of recording")
        now = time.monotonic()
        if self._t_wall0 is None:
            self._t_wall0 = now
        out = bytearray()
        while self._i < len(self._items):
            t, item = self._items[self._i]
            due = self._t_wall0 + (t - self._t_rec0) / self.speed if self.speed != float("inf") else now
            if due > now:
                if out:
                    break
                time.sleep(min(timeout, due - now))
                now = time.monotonic()
                if due > now:
                    return b""
            if isinstance(item, Exception):
                if out:
                    break
                self._i += 1
                raise item
            out += item
            self._i += 1
            if len(out) >= 65536:
                break
        return bytes(out)

    def _write(self, data: bytes) -> None:  # pragma: no cover - write() refuses first
        raise AssertionError

    @property
    def progress(self) -> float:
        """Fraction of the recording played, 0..1."""
        return self._i / len(self._items) if self._items else 1.0

    def describe(self) -> str:
        sp = "max" if self.speed == float("inf") else f"{self.speed:g}x"
        return f"replay of {self.path} at {sp}"


def open_url(url: str, path: str, params: dict[str, str]) -> Transport:
    check_params(url, params, {"speed"})
    if not path:
        raise TransportError(f"{url!r}: no file (e.g. replay:session.opr)")
    return ReplayTransport(url, path, parse_speed(url, params.get("speed"), 1.0))

"""``loop:`` an in-memory link, for tests and for fakes of a puck.

URL grammar::

    loop:            an echo loop: bytes written come back to read
    loop:NAME        the host end of a link to the device registered as NAME
                     (see :func:`register`); each open makes a new link

A device registered under NAME is any callable taking the device end of a
fresh link (a :class:`LoopEnd`); it is called on every open, so a fake puck
sees each reconnect. :meth:`LoopEnd.break_link` drops the link from either
side: the other end reads what was already sent, then gets
:class:`~openpuck.device.transports.ConnectionLost`.

    a, b = loop.pair()          # two connected ends, no registry
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from .base import ConnectionLost, Transport, TransportError, check_params

_registry: dict[str, Callable[[LoopEnd], None]] = {}
_reg_lock = threading.Lock()


class _Pipe:
    """One direction of a link: a byte buffer with a condition variable."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.cond = threading.Condition()
        self.broken = False

    def put(self, data: bytes) -> None:
        with self.cond:
            if self.broken:
                raise ConnectionLost("loop: link broken")
            self.buf += data
            self.cond.notify_all()

    def get(self, timeout: float | None, max_bytes: int = 65536) -> bytes:
        with self.cond:
            if not self.buf and not self.broken:
                self.cond.wait(timeout)
            if self.buf:
                out = bytes(self.buf[:max_bytes])
                del self.buf[:max_bytes]
                return out
            if self.broken:
                raise ConnectionLost("loop: link broken")
            return b""

    def break_(self) -> None:
        with self.cond:
            self.broken = True
            self.cond.notify_all()


class LoopEnd(Transport):
    """One end of an in-memory link."""

    scheme = "loop"

    def __init__(self, url: str, rx: _Pipe, tx: _Pipe,
                 on_open: Callable[[LoopEnd], None] | None = None) -> None:
        super().__init__(url)
        self._rx, self._tx = rx, tx
        self._on_open = on_open
        self.peer: LoopEnd | None = None

    def _open(self) -> None:
        if self._on_open is not None:       # a registered device: new link per open
            dev = _connect(self.url, self._on_open)
            self._rx, self._tx, self.peer = dev._tx, dev._rx, dev
            dev.peer = self

    def _close(self) -> None:
        if self._on_open is not None:
            self.break_link()

    def read(self, timeout: float = 0.1) -> bytes:
        return self._rx.get(timeout)

    def _write(self, data: bytes) -> None:
        self._tx.put(data)

    def break_link(self) -> None:
        """Drop the link both ways (a pulled cable)."""
        self._rx.break_()
        self._tx.break_()

    @property
    def broken(self) -> bool:
        return self._rx.broken or self._tx.broken


def pair(url: str = "loop:pair") -> tuple[LoopEnd, LoopEnd]:
    """Two connected, already open ends: what one writes the other reads."""
    p1, p2 = _Pipe(), _Pipe()
    a, b = LoopEnd(url, p1, p2), LoopEnd(url, p2, p1)
    a.peer, b.peer = b, a
    a.is_open = b.is_open = True
    return a, b


def _connect(url: str, device: Callable[[LoopEnd], None]) -> LoopEnd:
    host, dev = pair(url)
    device(dev)
    return dev


def register(name: str, device: Callable[[LoopEnd], None]) -> None:
    """Make ``loop:NAME`` connect to ``device`` (called with the device end on every open)."""
    with _reg_lock:
        _registry[name] = device


def unregister(name: str) -> None:
    with _reg_lock:
        _registry.pop(name, None)


def open_url(url: str, path: str, params: dict[str, str]) -> Transport:
    check_params(url, params, set())
    if not path:
        p = _Pipe()
        return LoopEnd(url, p, p)   # echo
    with _reg_lock:
        device = _registry.get(path)
    if device is None:
        raise TransportError(f"{url!r}: no loop device registered as {path!r}")
    return LoopEnd(url, _Pipe(), _Pipe(), on_open=device)

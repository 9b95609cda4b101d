"""``spy:`` wrap any other transport and log both directions with timestamps.

URL grammar::

    spy:URL[?log=FILE&format=hex|opr]

    spy:serial:/dev/ttyACM0                 hex dump to stderr
    spy:sim:?scenario=grip10&log=wire.txt   hex dump to wire.txt
    spy:serial:/dev/ttyACM0?log=s.opr&format=opr   a recording of both directions

The options ``log`` and ``format`` are the spy's; every other option is passed
on to the wrapped URL. The owner key of a ``pair`` command is never written
(zeroed, :func:`openpuck.protocol.signing.redact`): a log is made to be shared. The text log has one line per chunk::

    +12.345678 RX  17 | 0a 01 ...     (RX puck to host, TX host to puck)

In the manner of pyserial's ``spy://``: what QA wants when a rig misbehaves.
"""
from __future__ import annotations

import sys
import threading
import time
import urllib.parse
from typing import TextIO

from ...offline.recording import IN, OUT, Recorder
from ...protocol.signing import redact
from .base import Transport, TransportError


class SpyTransport(Transport):
    scheme = "spy"

    def __init__(self, url: str, inner: Transport, log: str | None, fmt: str = "hex") -> None:
        super().__init__(url)
        self.inner = inner
        self.readonly = inner.readonly
        self.reconnectable = inner.reconnectable
        self._log_path, self._fmt = log, fmt
        self._out: TextIO | None = None
        self._rec: Recorder | None = None
        self._t0 = time.monotonic()
        self._llock = threading.Lock()

    def _open(self) -> None:
        if self._out is None and self._rec is None:
            if self._fmt == "opr":
                if not self._log_path:
                    raise TransportError(f"{self.url!r}: format=opr needs log=FILE")
                self._rec = Recorder(self._log_path, url=self.inner.url)
            elif self._log_path:
                try:
                    self._out = open(self._log_path, "a", buffering=1)
                except OSError as e:
                    raise TransportError(f"{self._log_path}: {e.strerror}") from None
            else:
                self._out = sys.stderr
        self._line("--", b"", f"open {self.inner.url}")
        try:
            self.inner.open()
        except Exception as e:
            self._line("--", b"", f"open failed: {e}")
            raise
        if self._rec:
            self._rec.note("connect", url=self.inner.url)

    def _close(self) -> None:
        self.inner.close()
        self._line("--", b"", "close")
        if self._rec:
            self._rec.close()
            self._rec = None
        if self._out is not None and self._out is not sys.stderr:
            self._out.close()
        self._out = None

    def reopen(self) -> None:
        self._line("--", b"", "reopen")
        if self._rec:
            self._rec.note("disconnect")
        self.inner.reopen()
        self.is_open = True

    def read(self, timeout: float = 0.1) -> bytes:
        try:
            data = self.inner.read(timeout)
        except Exception as e:
            self._line("--", b"", f"{type(e).__name__}: {e}")
            raise
        if data:
            self._line("RX", data)
            if self._rec:
                self._rec.write(IN, data)
        return data

    def _write(self, data: bytes) -> None:
        shown = redact(data)
        self._line("TX", shown)
        if self._rec:
            self._rec.write(OUT, shown)
        self.inner.write(data)

    def _line(self, what: str, data: bytes, text: str = "") -> None:
        out = self._out
        if out is None:
            return
        t = time.monotonic() - self._t0
        body = text or data.hex(" ")
        with self._llock:
            try:
                out.write(f"+{t:.6f} {what} {len(data):4d} | {body}\n")
            except (OSError, ValueError):
                pass

    def describe(self) -> str:
        return f"spy on {self.inner.describe()}"


def open_url(url: str, path: str, params: dict[str, str]) -> Transport:
    from . import open_transport
    own = {k: params.pop(k) for k in ("log", "format") if k in params}
    fmt = own.get("format", "hex")
    if fmt not in ("hex", "opr"):
        raise TransportError(f"{url!r}: format must be hex or opr")
    if not path:
        raise TransportError(f"{url!r}: nothing to spy on (e.g. spy:serial:/dev/ttyACM0)")
    inner_url = path + ("?" + urllib.parse.urlencode(params) if params else "")
    if inner_url.startswith("spy:"):
        raise TransportError(f"{url!r}: a spy cannot wrap a spy")
    return SpyTransport(url, open_transport(inner_url, _open=False), own.get("log"), fmt)

"""Crash-safe recordings of a puck's raw wire bytes (``.opr`` files).

A recording keeps the bytes exactly as they crossed the link, so every later
decoder, detector or bug fix can be run on it again. The file is append-only:

    header   magic  b"OPUCKREC"  (8 bytes)
             version  u16 le = 1
             json_len u32 le, then json_len bytes of UTF-8 JSON:
                 {"version": 1, "start_time": unix seconds, "url": "...",
                  "flush_interval_s": 0.5, "fsync": false, "openpuck": "0.1.0"}
    chunk*   direction u8   1 = puck to host, 2 = host to puck, 3 = note (JSON)
             t_us      i64 le  host time since start_time, microseconds (monotonic)
             length    u32 le
             data      length bytes
             crc32     u32 le  binascii.crc32 of the 13 header bytes and data

Crash safety: the writer buffers in memory and writes the buffer out with one
``write()`` at least every ``flush_interval_s`` (default
:data:`FLUSH_INTERVAL_S` = 0.5 s) from its own thread. A process killed with
``kill -9`` therefore loses at most the last 0.5 s; everything flushed is in
the operating system's hands and survives the process. ``fsync=True`` also
forces it to the disk on each flush (survives power loss, costs disk
wear). A reader stops cleanly at a torn last chunk (short or bad CRC) and
reports it in :attr:`Recording.truncated`.

Notes (direction 3) mark what the bytes cannot say: ``{"kind": "connect"}``,
``{"kind": "disconnect"}``, ``{"kind": "stop"}``.

Reading any input file and decoding it whole (:func:`open_source`,
:func:`load_session`, :class:`Session`) is in :mod:`openpuck.offline.session_load`;
those names are importable from here too.
"""
from __future__ import annotations

import binascii
import contextlib
import errno
import json
import os
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .._version import __version__
from ..errors import OpenPuckError

MAGIC = b"OPUCKREC"
VERSION = 1
FLUSH_INTERVAL_S = 0.5
IN, OUT, NOTE = 1, 2, 3
_HEAD = struct.Struct("<8sHI")
_CHUNK = struct.Struct("<BqI")
_CRC = struct.Struct("<I")


class RecordingError(OpenPuckError):
    """A file that is not an OpenPuck recording, or one this SDK cannot read."""


@dataclass
class Chunk:
    direction: int   #: IN, OUT or NOTE
    t: float         #: host seconds since the recording's start_time
    data: bytes

    def note(self) -> dict:
        """A note's JSON object ({} for other chunks); RecordingError when it is not one."""
        if self.direction != NOTE:
            return {}
        try:
            note = json.loads(self.data.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            note = None
        if not isinstance(note, dict):
            raise RecordingError(f"a note at {self.t:.3f} s is not a JSON object")
        return note


class Recorder:
    """Append raw wire bytes to a recording file; thread-safe.

        with Recorder("session.opr", url="serial:/dev/ttyACM0") as rec:
            rec.write(IN, data)
    """

    def __init__(self, path: str | os.PathLike, url: str = "", *,
                 flush_interval: float = FLUSH_INTERVAL_S, fsync: bool = False,
                 extra: dict | None = None, overwrite: bool = False, private: bool = False) -> None:
        """Create ``path`` (an existing file is kept, RecordingError, unless
        ``overwrite``) and write the header. ``private``: mode 0600, readable
        by the user only (a patient's recording); else the umask's. A file
        that cannot be created or take its header (a full disk) is removed
        and named in the RecordingError."""
        self.path = Path(path)
        self.flush_interval = float(flush_interval)
        self.fsync = fsync
        self.start_time = time.time()
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._buf = bytearray()
        self.bytes_written = 0
        self.received = 0               #: bytes from the puck (direction IN) so far
        self.error: OSError | None = None   #: what stopped the recording (a full disk), if anything
        self.lost = 0                   #: bytes not written because of it
        self._closed = False
        header = {"version": VERSION, "start_time": self.start_time, "url": url,
                  "flush_interval_s": self.flush_interval, "fsync": fsync,
                  "openpuck": __version__}
        if extra:
            header.update(extra)
        js = json.dumps(header).encode()
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL) | getattr(os, "O_BINARY", 0)
        try:
            self._f: BinaryIO = open(self.path, "wb" if overwrite else "xb", buffering=0,
                                     opener=lambda p, _: os.open(p, flags, 0o600 if private else 0o666))
        except FileExistsError:
            raise RecordingError(f"{self.path}: already exists; give another name, or overwrite it "
                                 f"on purpose (record --force, Recorder(overwrite=True))") from None
        except OSError as e:
            raise RecordingError(f"{self.path}: cannot create ({e.strerror}){_hint(e)}") from None
        try:
            if private and hasattr(os, "fchmod"):
                os.fchmod(self._f.fileno(), 0o600)   # a file overwritten keeps its mode otherwise
            head = _HEAD.pack(MAGIC, VERSION, len(js)) + js
            n = self._f.write(head)
            if n is not None and n < len(head):   # a short write: the disk is full
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self._sync()
        except OSError as e:
            # a header-less file is no recording: leave nothing that looks like one
            with contextlib.suppress(OSError):
                self._f.close()
            with contextlib.suppress(OSError):
                self.path.unlink()
            raise RecordingError(f"{self.path}: cannot write its header ({e.strerror or e}){_hint(e)}; "
                                 f"nothing was recorded") from None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._flusher, name=f"openpuck-rec-{self.path.name}",
                                        daemon=True)
        self._thread.start()

    def now(self) -> float:
        return time.monotonic() - self._t0

    def write(self, direction: int, data: bytes, t: float | None = None) -> None:
        if not data or self._closed:
            return
        if self.error is not None:
            self.lost += len(data)
            return
        t_us = int(round((self.now() if t is None else t) * 1e6))
        if direction == IN:
            self.received += len(data)
        head = _CHUNK.pack(direction, t_us, len(data))
        crc = binascii.crc32(data, binascii.crc32(head))
        with self._lock:
            self._buf += head
            self._buf += data
            self._buf += _CRC.pack(crc)

    def note(self, kind: str, **info: Any) -> None:
        self.write(NOTE, json.dumps({"kind": kind, **info}).encode())

    def flush(self) -> None:
        """Write what is buffered. A failure (a full disk) stops the recording:
        :attr:`error` says why, :attr:`lost` counts what was not written, and
        everything written before stays readable (a torn last chunk at most)."""
        with self._lock:
            if not self._buf or self.error is not None:
                return
            data = bytes(self._buf)
            self._buf.clear()
            written = 0
            try:
                n = self._f.write(data)
                written = len(data) if n is None else n
                if written < len(data):   # a short write: the disk is full
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                self._sync()
            except OSError as e:
                self.error = e
                self.lost += len(data) - written
            self.bytes_written += written

    def _sync(self) -> None:
        if self.fsync:
            os.fsync(self._f.fileno())

    def _flusher(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self.flush()
            if self.error is not None:
                return

    def close(self) -> None:
        if self._closed:
            return
        self._stop.set()
        self._thread.join()
        self.flush()
        self._closed = True
        try:
            self._f.close()
        except OSError as e:   # the last bytes could not reach the disk
            self.error = self.error or e

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _hint(e: OSError) -> str:
    return ": free some space on that disk, or record elsewhere" if e.errno in (errno.ENOSPC, errno.EDQUOT) else ""


class Recording:
    """A recording file opened for reading.

    ``header`` the JSON header; :meth:`chunks` the chunks in order;
    ``truncated`` becomes True when a torn or damaged tail was skipped
    (``tail_bytes`` says how many bytes).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        try:
            self._data = self.path.read_bytes()
        except OSError as e:
            raise RecordingError(f"{self.path}: {e.strerror}") from None
        if len(self._data) < _HEAD.size or self._data[:8] != MAGIC:
            raise RecordingError(f"{self.path}: not an OpenPuck recording (no OPUCKREC header)")
        _, version, n = _HEAD.unpack_from(self._data)
        if version != VERSION:
            raise RecordingError(f"{self.path}: recording version {version}, this SDK reads {VERSION}")
        if _HEAD.size + n > len(self._data):
            raise RecordingError(f"{self.path}: damaged header (the file ends inside it)")
        try:
            self.header: dict = json.loads(self._data[_HEAD.size:_HEAD.size + n])
        except ValueError:
            raise RecordingError(f"{self.path}: damaged header") from None
        if (not isinstance(self.header, dict) or not isinstance(self.header.get("url", ""), str)
                or type(self.header.get("start_time", 0.0)) not in (int, float)):
            raise RecordingError(f"{self.path}: damaged header (not an object with a url and a start_time)")
        self._start = _HEAD.size + n
        self.truncated = False
        self.tail_bytes = 0

    @property
    def url(self) -> str:
        return self.header.get("url", "")

    @property
    def start_time(self) -> float:
        return float(self.header.get("start_time", 0.0))

    def chunks(self) -> Iterator[Chunk]:
        d, pos = self._data, self._start
        while pos < len(d):
            if pos + _CHUNK.size > len(d):
                break
            direction, t_us, n = _CHUNK.unpack_from(d, pos)
            end = pos + _CHUNK.size + n
            if direction not in (IN, OUT, NOTE) or end + _CRC.size > len(d):
                break
            data = d[pos + _CHUNK.size:end]
            if binascii.crc32(data, binascii.crc32(d[pos:pos + _CHUNK.size])) != _CRC.unpack_from(d, end)[0]:
                break
            yield Chunk(direction, t_us * 1e-6, bytes(data))
            pos = end + _CRC.size
        if pos < len(d):
            self.truncated = True
            self.tail_bytes = len(d) - pos

    def inbound(self) -> bytes:
        """Every byte the puck sent, concatenated."""
        return b"".join(c.data for c in self.chunks() if c.direction == IN)

    @property
    def duration(self) -> float:
        last = 0.0
        for c in self.chunks():
            last = c.t
        return last


def is_recording(path: str | os.PathLike) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(8) == MAGIC
    except OSError:
        return False


#: moved to :mod:`openpuck.offline.session_load`, still importable from here;
#: loaded on first use, since session_load imports this module
_SESSION_NAMES = ("Session", "Source", "open_source", "load_session",
                  "_starts_with_csv_header", "_wrong_kind", "_target_sent", "_load_csv")


def __getattr__(name: str) -> Any:
    if name in _SESSION_NAMES:
        from . import session_load
        return getattr(session_load, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The puck's own event log, from the host (protocol/spec.md section 10).

The puck appends every event (reps, partial reps, grips, targets, the start
and end of each set, each boot) to a log on its flash, so what it counts
while no host listens is kept. A host lists it, reads it from a sequence
number on (a download cut anywhere resumes from the next record it has not
stored), stores the records, and only then confirms them, which lets the
puck delete them::

    with openpuck.connect("serial:/dev/ttyACM0") as puck:
        store = LogStore.for_puck(puck.serial)
        puck.log_pull(store.next_seq(), on_records=store.add)
        puck.log_confirm(store.last_seq())

A record is named for good by (puck serial, boot, seq): :class:`LogStore`
keeps one line per record and never stores a record twice.
"""
from __future__ import annotations

import binascii
import json
import logging
import os
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import protocol
from ..errors import OpenPuckError
from .link import Link

log = logging.getLogger("openpuck")

HEAD = struct.Struct("<BBIII")   # size, type, boot, seq, t_ms
CRC_SIZE = 4
#: the message types a record may carry (its payload is that message's)
RECORD_TYPES = ("rep", "partial_rep", "grip", "target", "set_start", "set_end", "boot", "time_mark")


@dataclass(frozen=True)
class LogRecord:
    """One record of the puck's log: which boot and sequence number, the
    device time (ms since that boot), the message it carries and its wire
    field values (as in :func:`openpuck.protocol.decode`)."""

    boot: int
    seq: int
    t_ms: int
    type: str
    fields: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The record as a JSON object (bytes fields as hex)."""
        f = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in self.fields.items()}
        return {"boot": self.boot, "seq": self.seq, "t_ms": self.t_ms, "type": self.type, "fields": f}


@dataclass(frozen=True)
class LogInfo:
    """What the puck's log holds (its answer to log_list, log_confirm, log_clear)."""

    boot_id: int
    segments: int
    first_seq: int
    next_seq: int
    bytes: int
    free_bytes: int
    not_kept: int
    torn: int

    @property
    def records(self) -> int:
        """Records held: first_seq .. next_seq - 1 (torn ones included)."""
        return max(0, self.next_seq - self.first_seq)

    @property
    def full(self) -> bool:
        """The puck stopped logging: its share of the flash is used (records are counted in not_kept)."""
        return self.free_bytes == 0


def parse_records(data: bytes) -> tuple[list[LogRecord], int]:
    """(the whole records ``data`` starts with, the bytes after them that make
    no whole record: a record torn by a power cut, or damaged)."""
    out: list[LogRecord] = []
    o = 0
    while o + HEAD.size + CRC_SIZE <= len(data):
        size, tid, boot, seq, t_ms = HEAD.unpack_from(data, o)
        end = o + HEAD.size + size + CRC_SIZE
        if end > len(data) or binascii.crc32(data[o:end - CRC_SIZE]) != struct.unpack_from("<I", data, end - 4)[0]:
            break
        spec = protocol.BY_ID.get(tid)
        name = spec.name if spec is not None else None
        fields: dict[str, Any] = {}
        if name in RECORD_TYPES:
            try:
                fields = protocol.decode_payload(name, data[o + HEAD.size:end - CRC_SIZE])
            except protocol.ProtocolError:
                name = None   # whole, but not the payload its type says: named by its id, kept raw
        if name not in RECORD_TYPES:
            fields = {"payload": bytes(data[o + HEAD.size:end - CRC_SIZE])}
        out.append(LogRecord(boot, seq, t_ms, name or f"0x{tid:02x}", fields))
        o = end
    return out, len(data) - o


class LogCommands(Link):
    """The log commands of a puck (blocking; :class:`~openpuck.device.puck.Puck` has them)."""

    def log_list(self) -> LogInfo:
        """What the puck's log holds: segments, sequence numbers, bytes, free room, records not kept."""
        m = self._command("log_list", expect="log_info")
        assert m is not None   # with expect=, the answer or CommandTimeout
        return LogInfo(**{k: int(v) for k, v in m.fields.items()})

    def log_read(self, from_seq: int = 0) -> tuple[list[LogRecord], int]:
        """(the records from ``from_seq`` on that fit one frame, the from_seq to ask
        next); no records: the log holds none from there on."""
        from_seq = _seq("log_read: from_seq", from_seq)
        m = self._command("log_read", expect="log_data", match=lambda m: m["from_seq"] == from_seq,
                          from_seq=from_seq)
        assert m is not None
        recs, _ = parse_records(bytes(m["data"]))
        return recs, int(m["next_seq"])

    def log_pull(self, from_seq: int = 0, *,
                 on_records: Callable[[list[LogRecord]], Any] | None = None) -> list[LogRecord]:
        """Every record from ``from_seq`` on, oldest first, read chunk by chunk.
        ``on_records(records)`` is called with each chunk as it comes (store it
        there: a download cut by a lost link resumes from the next sequence
        number not stored, and loses nothing)."""
        out: list[LogRecord] = []
        seq = _seq("log_pull: from_seq", from_seq)
        while True:
            recs, nxt = self.log_read(seq)
            if not recs:
                return out
            out.extend(recs)
            if on_records is not None:
                on_records(recs)
            seq = nxt

    def log_confirm(self, upto_seq: int) -> LogInfo:
        """Tell the puck this host has stored every record up to ``upto_seq``: it may
        delete them (whole segments; all of them once every record is confirmed). Signed on an owned puck."""
        m = self._command("log_confirm", expect="log_info", upto_seq=_seq("log_confirm: upto_seq", upto_seq))
        assert m is not None
        return LogInfo(**{k: int(v) for k, v in m.fields.items()})

    def mark_time(self, unix_s: float | None = None) -> LogInfo:
        """Give the puck this host's wall-clock time (Unix s, default now): it logs it
        as a ``time_mark`` record, which dates every record of its current boot
        (spec.md section 10). Returns what the log holds; its ``boot_id`` names the
        boot now dated. Signed on an owned puck. :func:`~openpuck.connect` sends one
        (``mark_time=False`` not)."""
        t = time.time() if unix_s is None else unix_s
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t < 2.8e11:
            raise OpenPuckError(f"mark_time: {unix_s!r} is not a Unix time in s (a number after 1970)")
        m = self._command("mark_time", expect="log_info", unix_ms=int(round(t * 1000)))
        assert m is not None
        return LogInfo(**{k: int(v) for k, v in m.fields.items()})

    def _mark_time_on_connect(self) -> None:
        """mark_time, where this host may: a puck without a log (older firmware), or
        owned by another host (nothing is signed for it), stays undated by this connection."""
        info = self.session.info
        if info is not None and "persistent_config" not in info.capabilities:
            return   # no flash state, no log: nothing to date (and no command timeout to wait out)
        try:
            self.mark_time()
        except OpenPuckError as e:
            log.info("openpuck: %s: no time mark (%s): its log's records of this boot stay undated "
                     "unless a host that may marks them", self.url, e)

    def log_clear(self) -> LogInfo:
        """Delete every record of the puck's log, downloaded or not. Signed on an owned puck."""
        m = self._command("log_clear", expect="log_info")
        assert m is not None
        return LogInfo(**{k: int(v) for k, v in m.fields.items()})


def _seq(what: str, seq: int) -> int:
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= 0xFFFFFFFF:
        raise OpenPuckError(f"{what}: {seq!r} is not a sequence number (an integer 0..4294967295)")
    return seq


class LogStore:
    """The records pulled from one puck, one JSON line each, in ``path``:
    keyed by (boot, seq) (the file is the puck's: its serial names it), so a
    record pulled twice is stored once. Each :meth:`add` is on the disk
    (fsync) when it returns: only then may the puck be told to delete."""

    def __init__(self, path: str | os.PathLike[str], serial: str = "") -> None:
        self.path = Path(path)
        self.serial = serial
        self._keys: set[tuple[int, int]] = set()
        self._max_seq = -1
        if self.path.exists():
            for line in self.path.read_text("utf-8").splitlines():
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                    self._note(int(r["boot"]), int(r["seq"]))
                except (ValueError, KeyError, TypeError):
                    # a line cut by a crash of this host: the record comes again on the next pull
                    continue

    @classmethod
    def for_puck(cls, serial: str, folder: str | os.PathLike[str] | None = None) -> LogStore:
        """The store of the puck with this serial: ``puck-logs/SERIAL.jsonl`` in
        ``folder`` (default: the OpenPuck data folder, ``$OPENPUCK_DATA_DIR``)."""
        if not serial or any(c in serial for c in "/\\:") or serial.startswith("."):
            raise OpenPuckError(f"log store: puck serial {serial!r} cannot name a file")
        if folder is None:
            from ..clinic.history_files import data_dir
            folder = data_dir()
        d = Path(folder) / "puck-logs"
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        return cls(d / f"{serial}.jsonl", serial)

    def _note(self, boot: int, seq: int) -> None:
        self._keys.add((boot, seq))
        self._max_seq = max(self._max_seq, seq)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def next_seq(self) -> int:
        """Where a pull resumes: one past the newest record stored (0: none yet)."""
        return self._max_seq + 1

    def last_seq(self) -> int:
        """The newest sequence number stored (-1: none)."""
        return self._max_seq

    def add(self, records: Iterable[LogRecord]) -> int:
        """Store the records not stored yet; returns how many were new."""
        lines = []
        for r in records:
            if (r.boot, r.seq) in self._keys:
                continue
            self._note(r.boot, r.seq)
            row = r.as_json()
            if self.serial:
                row["serial"] = self.serial
            lines.append(json.dumps(row, sort_keys=True) + "\n")
        new = len(lines)
        if lines:
            with open(self.path, "a+b") as f:
                f.seek(0, os.SEEK_END)
                if f.tell():
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":
                        lines.insert(0, "\n")   # after a line a crash cut short
                f.write("".join(lines).encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
        return new

    def records(self) -> list[dict[str, Any]]:
        """Every record stored, as JSON objects, in sequence order."""
        rows = []
        for line in self.path.read_text("utf-8").splitlines() if self.path.exists() else []:
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
        return sorted(rows, key=lambda r: (r.get("seq", 0), r.get("boot", 0)))

"""Any input file read one way (:func:`open_source`: an ``.opr`` recording,
raw wire bytes or a samples CSV) and decoded whole into a :class:`Session`
(:func:`load_session`). The ``.opr`` format itself, its writer and its reader
are in :mod:`openpuck.offline.recording`, which names these too.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .recording import IN, NOTE, OUT, Chunk, Recording, RecordingError, is_recording

__all__ = ["Session", "Source", "open_source", "load_session"]


@dataclass
class Session:
    """A whole recording decoded: what :func:`load_session` returns."""

    path: str
    samples: Any                 #: one SampleBlock with every sample
    events: list                 #: Rep, PartialRep, Grip, Status, Log, Gap... in order
    info: Any = None             #: DeviceInfo or None
    counters: dict | None = None
    header: dict | None = None
    truncated: bool = False
    source: str = "recording"    #: "recording", "wire" (raw bytes) or "csv"
    warnings: list = field(default_factory=list)   #: lines to show the user (a torn tail)
    #: the target the set ran at, in the exercise's unit: the host's (its last set_exercise),
    #: else for an auto target the last the puck told (its target events, its status);
    #: None: not learned, or unknown
    target: float | None = None
    #: a window's (:meth:`window`): its recording's first sample time, where plots start their clock
    origin: float | None = None

    def of(self, kind: str) -> list:
        return [e for e in self.events if e.kind == kind]

    @property
    def duration(self) -> float:
        t = self.samples.t
        return float(t[-1] - t[0]) if len(t) > 1 else 0.0

    def window(self, start: float | None = None, end: float | None = None) -> Session:
        """The part from ``start`` to ``end`` seconds after the first sample:
        its samples, and the events that overlap it. It keeps the recording's
        first sample time as ``origin``."""
        import numpy as np

        from ..device.decoder import SampleBlock
        t = self.samples.t
        t0 = float(t[0]) if len(t) else 0.0
        a = t0 + (start if start is not None else -np.inf)
        z = t0 + (end if end is not None else np.inf)
        keep = (t >= a) & (t <= z)
        s = self.samples
        raw = s.raw[keep] if s.raw is not None else None
        part = SampleBlock(t[keep], s.accel[keep], s.gyro[keep], s.force[keep], raw)

        def overlaps(e: Any) -> bool:
            lo = getattr(e, "t_start", None)
            hi = getattr(e, "t_end", None)
            lo = e.t if lo is None else lo
            hi = e.t if hi is None else hi
            return hi >= a and lo <= z
        events = [e for e in self.events if overlaps(e)]
        return Session(self.path, part, events, self.info, self.counters, self.header, self.truncated,
                       self.source, list(self.warnings), self.target,
                       self.origin if self.origin is not None else (t0 if len(t) else None))

    def summary(self) -> dict:
        """The set's figures (:func:`openpuck.offline.summary.summarise`), with the
        recording's: uncertain events, gaps, duration and samples."""
        from .summary import summarise
        d = summarise(self.events, target=self.target)
        d.update(uncertain=sum(1 for e in self.events if e.uncertain and e.kind != "gap"),
                 gaps=len(self.of("gap")), duration_s=self.duration, samples=len(self.samples))
        return d


@dataclass
class Source:
    """A file as every command reads it (:func:`open_source`): an ``.opr``
    recording, raw wire bytes, or a samples CSV."""

    path: Path
    kind: str                      #: "recording", "wire" or "csv"
    header: dict | None = None     #: a recording's JSON header
    chunks: list = field(default_factory=list)   #: a recording's Chunks (wire: one IN chunk per 64 kB)
    samples: Any = None            #: a CSV's SampleBlock (float64)
    truncated: bool = False        #: a torn last chunk was skipped
    tail_bytes: int = 0

    def inbound(self) -> bytes:
        """Every byte the puck sent, concatenated."""
        return b"".join(c.data for c in self.chunks if c.direction == IN)

    def warnings(self) -> list[str]:
        """What a reader should tell the user, one line each."""
        if self.truncated:
            return [f"{self.path}: a torn last chunk was skipped ({self.tail_bytes} bytes: "
                    "the writer stopped mid-flush); everything before it was read"]
        return []


def open_source(path: str | os.PathLike, *, want: tuple[str, ...] = ("recording", "wire", "csv")) -> Source:
    """Read a file with the rules every command shares (replay, export, plot,
    decode, detect, sim, encode): the same file is accepted or refused the
    same way everywhere, with the same message.

    - a recording (OPUCKREC header) must hold at least one puck frame;
    - raw wire bytes must hold at least one puck frame;
    - a samples CSV must pass :func:`openpuck.offline.csvio.read_csv` and hold two
      samples or more;
    - ``want`` names the kinds the caller can use; another kind is refused
      with what to do instead."""
    from ..device.decoder import StreamDecoder
    from . import csvio
    p = Path(path)
    if not p.exists():
        raise RecordingError(f"{p}: no such file")
    if not p.is_file():
        raise RecordingError(f"{p}: not a file")
    if is_recording(p):
        kind = "recording"
    elif p.suffix.lower() == ".csv" or _starts_with_csv_header(p):
        kind = "csv"
    else:
        kind = "wire"
    if kind not in want:
        raise RecordingError(_wrong_kind(p, kind, want))
    if kind == "csv":
        samples = csvio.read_csv(p)
        if len(samples) < 2:
            raise csvio.CsvError(f"{p}: {len(samples)} samples; a recording needs two or more")
        return Source(p, "csv", samples=samples)
    if kind == "recording":
        rec = Recording(p)
        src = Source(p, "recording", header=rec.header, chunks=list(rec.chunks()))
        src.truncated, src.tail_bytes = rec.truncated, rec.tail_bytes
    else:
        data = p.read_bytes()
        if not data:
            raise RecordingError(f"{p}: empty file")
        src = Source(p, "wire", chunks=[Chunk(IN, 0.0, data[i:i + (1 << 16)])
                                        for i in range(0, len(data), 1 << 16)])
    dec = StreamDecoder()
    for c in src.chunks:
        if c.direction == IN:
            dec.feed(c.data)
            if dec.counters.frames:
                break
    if not dec.counters.frames:
        if kind == "recording":
            raise RecordingError(f"{p}: the recording holds no frame from the puck "
                                 f"(it stopped before the puck said anything)")
        raise RecordingError(f"{p}: no OpenPuck frame in it (not an .opr recording, a puck byte "
                             f"stream or a samples CSV)")
    return src


def _starts_with_csv_header(p: Path) -> bool:
    from .csvio import HEADER
    with open(p, "rb") as f:
        head = f.read(len(HEADER) + 3)
    return head.lstrip(b"\xef\xbb\xbf").startswith(HEADER.encode())


def _wrong_kind(p: Path, kind: str, want: tuple[str, ...]) -> str:
    what = {"recording": "an .opr recording", "wire": "raw wire bytes", "csv": "a samples CSV"}[kind]
    instead = {"recording": "replay, export, plot or detect it", "wire": "decode, replay or plot it",
               "csv": "detect, plot or encode it, or play it with openpuck sim"}[kind]
    return f"{p}: {what}, which this command does not read ({instead})"


def load_session(path: str | os.PathLike, *, exercise: str | None = None, target: Any = None,
                 progress: Any = None) -> Session:
    """Decode a recording (``.opr``), raw wire bytes (``.bin``) or a samples CSV
    (read by :func:`open_source`'s rules).

    For a CSV there are no puck events: the SDK's detector
    (:func:`openpuck.detect`) finds them, for ``exercise`` (default
    grip_squeeze) and ``target``. ``progress(done, total)`` is called as
    chunks are decoded.
    """
    from ..device.decoder import SampleBlock
    from ..device.session_decoder import SessionDecoder
    src = open_source(path)
    p = src.path
    if src.kind == "csv":
        return _load_csv(src, exercise or "grip_squeeze", target)
    sd = SessionDecoder(hold_s=0.0)
    blocks: list[SampleBlock] = []
    events: list[Any] = []
    sent: float | None = None   # the target of the host's last set_exercise

    def take(items: list) -> None:
        for it in items:
            (blocks if isinstance(it, SampleBlock) else events).append(it)

    for i, c in enumerate(src.chunks):
        if c.direction == IN:
            take(sd.feed(c.data, c.t)[0])
        elif c.direction == OUT:
            sent = _target_sent(c.data, sent)
        elif c.direction == NOTE:
            kind = c.note().get("kind")
            if kind == "disconnect":
                sd.link_lost(c.t)
            elif kind == "connect":
                take(sd.link_restored(c.t, True))
        if progress and i % 256 == 0:
            progress(i, len(src.chunks))
    take(sd.finish())
    return Session(str(p), SampleBlock.concat(blocks), events, sd.info, sd.counters, src.header,
                   src.truncated, src.kind, src.warnings(), sent if sent is not None else sd.target)


def _target_sent(data: bytes, target: float | None) -> float | None:
    """The target of the last set_exercise among the host's frames in ``data``
    (None for an auto target), else ``target`` unchanged."""
    from .. import protocol
    for frame in bytes(data).split(b"\x00"):
        if not frame:
            continue
        try:
            m = protocol.decode(frame + b"\x00")
        except Exception:  # noqa: BLE001 - a host frame the reader need not understand
            continue
        if m.type == "set_exercise":
            scale = protocol.SPECS["set_exercise"].field("target").get("scale", 1)
            target = m["target"] * scale if m["target"] else None
    return target


def _load_csv(src: Source, exercise: str, target: Any) -> Session:
    import numpy as np

    from ..device.decoder import SampleBlock
    from .detect import detect
    a = src.samples
    s = SampleBlock(a.t, a.accel.astype(np.float32), a.gyro.astype(np.float32), a.force.astype(np.float32))
    det = detect(a, exercise=exercise, target=target)
    return Session(str(src.path), s, list(det.events), None, {"samples": len(s)}, None, False, "csv",
                   target=det.target)

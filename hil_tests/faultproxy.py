"""A byte-level fault-injection relay between a puck's port and the SDK.

    with FaultProxy("/dev/pts/7") as proxy:          # the puck's port (sim pty or a board)
        puck = openpuck.connect("serial:" + proxy.port)  # the SDK opens the proxy's pty
        proxy.arm(FaultPlan(seed=1, every=7, kinds=("flip", "drop", "dup")))
        ...                                          # stream for a while
        proxy.disarm()
        proxy.ledger.lost_seqs                       # exactly the frames the host must miss

The relay opens the puck's port, makes a pseudo-terminal of its own and
copies bytes both ways in one thread. Puck-to-host bytes are cut into frames
at each 0x00; each whole frame is read (type, seq, number of samples) before
it is forwarded, so the ledger knows exactly which frames a fault destroyed.
While a plan is armed, chosen frames are damaged in one of these ways:

=============  ======================================================  =========
kind           what happens to the frame                              lost
=============  ======================================================  =========
``flip``       one bit of one byte inside the frame is inverted        this one
``drop``       1 to 3 bytes inside the frame are removed               this one
``dup``        1 to 3 bytes inside the frame are sent twice            this one
``drop_delim`` its closing 0x00 is removed: it merges with the next    this one and the next
``delay``      sent in two parts with a pause between (``delay_s``)    none
``dup_frame``  the whole frame is sent twice                           none (a duplicate)
=============  ======================================================  =========

A CRC-32 lets a damaged frame through with a chance of 2**-32, so "lost" is
exact for test purposes. Host-to-puck bytes are relayed untouched, a whole
frame at a time, and read the same way (``ledger.down``); :meth:`FaultProxy.inject_down` writes raw
bytes to the puck (a malformed command), and :meth:`FaultProxy.wait_up`
waits for a puck-to-host message the relay has seen (its answer).

Only complete frames seen after :meth:`arm` are ever damaged, never the first
frame after the relay starts (it may be the tail of an earlier one).
"""
from __future__ import annotations

import collections
import os
import pty
import random
import select
import struct
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field

from openpuck import protocol

LOSSY_KINDS = ("flip", "drop", "dup", "drop_delim")
HARMLESS_KINDS = ("delay", "dup_frame")
FAULT_KINDS = LOSSY_KINDS + HARMLESS_KINDS

#: frames damaged by default: the streaming ones. Answers to commands (ack,
#: nack, pong, config, device_info) are spared so a test can still talk to
#: the puck while faults are armed, unless it asks for them.
DEFAULT_TYPES = frozenset({"samples", "status", "log", "rep", "partial_rep", "grip"})

_SAMPLES_ID = protocol.SPECS["samples"].id
_MAX_PENDING = 256 * 1024   # stop reading the puck while this much waits for the host


@dataclass(frozen=True)
class FaultPlan:
    """Which frames to damage and how.

    ``every``: damage every N-th eligible frame (deterministic), or
    ``probability``: damage each eligible frame with this chance (seeded).
    ``kinds`` are drawn in turn (``every``) or at random (``probability``).
    ``types`` limits the eligible frames to these message types.
    ``max_faults`` stops damaging after that many faults.
    """

    kinds: tuple[str, ...] = LOSSY_KINDS
    every: int | None = 10
    probability: float | None = None
    seed: int = 0
    types: frozenset[str] = DEFAULT_TYPES
    max_faults: int | None = None
    delay_s: float = 0.05

    def __post_init__(self) -> None:
        bad = [k for k in self.kinds if k not in FAULT_KINDS]
        if bad or not self.kinds:
            raise ValueError(f"fault kinds {bad or '()'}: choose from {FAULT_KINDS}")
        if (self.every is None) == (self.probability is None):
            raise ValueError("give exactly one of every= and probability=")
        if self.every is not None and self.every < 2:
            raise ValueError("every must be 2 or more (a fault needs clean frames around it)")


@dataclass(frozen=True)
class Frame:
    """One puck-to-host frame as the relay saw it before any damage."""

    index: int                  # frames since the relay started, from 0
    type: str | None            # None: not a readable frame (garbage, a partial frame)
    seq: int | None
    n_samples: int = 0
    message: protocol.Message | None = None   # decoded, for every type but samples
    t: float = 0.0              # time.monotonic() when the relay read it


@dataclass(frozen=True)
class Fault:
    """One fault the relay made. ``lost`` are the frames it destroys."""

    kind: str
    frame: Frame
    lost: tuple[Frame, ...]


@dataclass
class Ledger:
    """Exact bookkeeping of what the relay saw and did."""

    frames_up: int = 0
    frames_down: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    unreadable_up: int = 0
    samples_up: int = 0
    faults: list[Fault] = field(default_factory=list)
    by_type: collections.Counter = field(default_factory=collections.Counter)
    down: list[Frame] = field(default_factory=list)

    @property
    def lost(self) -> list[Frame]:
        out: dict[int, Frame] = {}
        for f in self.faults:
            for fr in f.lost:
                out[fr.index] = fr
        return [out[i] for i in sorted(out)]

    @property
    def lost_seqs(self) -> list[int]:
        return [f.seq for f in self.lost]

    @property
    def lost_frames(self) -> int:
        return len(self.lost)

    @property
    def lost_samples(self) -> int:
        return sum(f.n_samples for f in self.lost)

    @property
    def duplicated(self) -> list[Frame]:
        return [f.frame for f in self.faults if f.kind == "dup_frame"]

    def count(self, kind: str) -> int:
        return sum(1 for f in self.faults if f.kind == kind)

    def summary(self) -> dict:
        """The figures of a run: faults by kind and what they cost."""
        return {"frames": self.frames_up, "faults": len(self.faults),
                **{k: self.count(k) for k in FAULT_KINDS if self.count(k)},
                "lost_frames": self.lost_frames, "lost_samples": self.lost_samples}


def read_frame(index: int, wire: bytes, now: float = 0.0) -> Frame:
    """What a wire frame (COBS bytes, without the 0x00) is; never raises."""
    try:
        body = protocol.cobs_decode(wire)
    except Exception:
        return Frame(index, None, None, t=now)
    if len(body) < protocol.HEADER_SIZE + protocol.CRC_SIZE:
        return Frame(index, None, None, t=now)
    if struct.unpack_from("<I", body, len(body) - 4)[0] != protocol.crc32(body[:-4]):
        return Frame(index, None, None, t=now)
    version, type_id, seq = struct.unpack_from("<BBH", body)
    spec = protocol.BY_ID.get(type_id)
    if version != protocol.VERSION or spec is None:
        return Frame(index, None, seq, t=now)
    if type_id == _SAMPLES_ID:
        # t0_us:u32 period_us:u16 n:u8 then the records
        n = body[protocol.HEADER_SIZE + 6] if len(body) > protocol.HEADER_SIZE + 6 + 4 else 0
        return Frame(index, spec.name, seq, n_samples=n, t=now)
    try:
        msg = protocol.decode_body(body, check_crc=False)
    except protocol.ProtocolError:
        msg = None
    return Frame(index, spec.name, seq, message=msg, t=now)


class FaultInjector:
    """The pure part of the relay: frames in, damaged bytes out, ledger kept.

    ``feed(data)`` takes puck-to-host bytes in any chunking and returns a list
    of ``(delay_before_s, bytes)`` to send in order. Tested on its own against
    a byte stream made with :func:`openpuck.protocol.encode`.
    """

    def __init__(self, ledger: Ledger | None = None) -> None:
        self.ledger = ledger or Ledger()
        self.plan: FaultPlan | None = None
        self._rng = random.Random(0)
        self._buf = bytearray()
        self._eligible = 0
        self._kind_turn = 0
        self._merge_next: Fault | None = None   # drop_delim: the next frame dies too
        self._on_frame: list[Callable[[Frame], None]] = []
        self._lock = threading.Lock()

    def arm(self, plan: FaultPlan) -> None:
        with self._lock:
            self.plan = plan
            self._rng = random.Random(plan.seed)
            self._eligible = 0
            self._kind_turn = 0

    def disarm(self) -> None:
        with self._lock:
            self.plan = None

    def on_frame(self, fn: Callable[[Frame], None]) -> None:
        self._on_frame.append(fn)

    def feed(self, data: bytes, now: float | None = None) -> list[tuple[float, bytes]]:
        now = time.monotonic() if now is None else now
        led = self.ledger
        led.bytes_up += len(data)
        out: list[tuple[float, bytes]] = []
        self._buf += data
        start = 0
        while True:
            end = self._buf.find(b"\x00", start)
            if end < 0:
                break
            wire = bytes(self._buf[start:end])
            start = end + 1
            if not wire:
                out.append((0.0, b"\x00"))   # idle/sync zero: pass it on
                continue
            out.extend(self._frame(wire, now))
        del self._buf[:start]
        return out

    def _frame(self, wire: bytes, now: float) -> list[tuple[float, bytes]]:
        led = self.ledger
        fr = read_frame(led.frames_up, wire, now)
        led.frames_up += 1
        if fr.type is None:
            led.unreadable_up += 1
        else:
            led.by_type[fr.type] += 1
            led.samples_up += fr.n_samples
        for fn in self._on_frame:
            fn(fr)
        with self._lock:
            if self._merge_next is not None:
                # the previous frame lost its 0x00: this one is swallowed with it
                prev = self._merge_next
                self._merge_next = None
                led.faults[-1] = Fault(prev.kind, prev.frame, prev.lost + (fr,))
                return [(0.0, wire + b"\x00")]
            kind = self._choose(fr)
            if kind is None:
                return [(0.0, wire + b"\x00")]
            return self._damage(kind, fr, wire)

    def _choose(self, fr: Frame) -> str | None:
        plan = self.plan
        if plan is None or fr.type is None or fr.index == 0 or fr.type not in plan.types:
            return None
        if plan.max_faults is not None and len(self.ledger.faults) >= plan.max_faults:
            return None
        self._eligible += 1
        if plan.every is not None:
            if self._eligible % plan.every:
                return None
            kind = plan.kinds[self._kind_turn % len(plan.kinds)]
            self._kind_turn += 1
            return kind
        if self._rng.random() >= plan.probability:
            return None
        return self._rng.choice(plan.kinds)

    def _damage(self, kind: str, fr: Frame, wire: bytes) -> list[tuple[float, bytes]]:
        rng, led = self._rng, self.ledger
        b = bytearray(wire)
        if kind == "flip":
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
            out = [(0.0, bytes(b) + b"\x00")]
        elif kind == "drop":
            k = min(len(b), rng.randint(1, 3))
            i = rng.randrange(len(b) - k + 1)
            del b[i:i + k]
            out = [(0.0, bytes(b) + b"\x00")]
        elif kind == "dup":
            k = min(len(b), rng.randint(1, 3))
            i = rng.randrange(len(b) - k + 1)
            b[i:i] = b[i:i + k]
            out = [(0.0, bytes(b) + b"\x00")]
        elif kind == "drop_delim":
            out = [(0.0, bytes(b))]
        elif kind == "delay":
            i = rng.randrange(1, len(b) + 1)
            out = [(0.0, bytes(b[:i])), (self.plan.delay_s, bytes(b[i:]) + b"\x00")]
        else:  # dup_frame
            out = [(0.0, bytes(b) + b"\x00"), (0.0, bytes(b) + b"\x00")]
        fault = Fault(kind, fr, (fr,) if kind in LOSSY_KINDS else ())
        led.faults.append(fault)
        if kind == "drop_delim":
            self._merge_next = fault
        return out


class FaultProxy:
    """A relay thread between ``upstream`` (the puck's port) and a pty of its own.

    ``upstream`` is a device path opened with pyserial (``baudrate`` for real
    UARTs; ignored by USB CDC and ptys). ``.port`` is the path the SDK opens.
    """

    def __init__(self, upstream: str, baudrate: int = 921600) -> None:
        import serial  # pyserial, an SDK dependency

        self.upstream = upstream
        self._ser = serial.Serial(upstream, baudrate=baudrate, timeout=0)
        self._up_fd = self._ser.fileno()
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        self.ledger = Ledger()
        self.injector = FaultInjector(self.ledger)
        self._seen: collections.deque[Frame] = collections.deque(maxlen=4096)
        self._cv = threading.Condition()
        self.injector.on_frame(self._remember)
        self._down_buf = bytearray()
        self._to_host: collections.deque[list] = collections.deque()  # [not_before, bytes]
        self._pending = 0
        self._to_puck = bytearray()
        self._wake_r, self._wake_w = os.pipe()
        self._stop = False
        self.upstream_closed = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"faultproxy {upstream}",
                                        daemon=True)
        self._thread.start()

    # --- control ------------------------------------------------------------
    def arm(self, plan: FaultPlan) -> None:
        self.injector.arm(plan)

    def disarm(self) -> None:
        self.injector.disarm()

    def inject_down(self, data: bytes) -> None:
        """Write raw bytes to the puck, as if the host had sent them."""
        with self._cv:
            self._to_puck += data
        os.write(self._wake_w, b"x")

    def wait_up(self, pred: Callable[[Frame], bool], timeout: float = 5.0,
                since: int = 0) -> Frame | None:
        """The first puck-to-host frame (index >= since) for which ``pred`` holds."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for f in self._seen:
                    if f.index >= since and pred(f):
                        return f
                left = deadline - time.monotonic()
                if left <= 0 or self._stop:
                    return None
                self._cv.wait(left)

    def close(self) -> None:
        if self._stop:
            return
        self._stop = True
        os.write(self._wake_w, b"x")
        self._thread.join(5)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._ser.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- the relay ----------------------------------------------------------
    def _remember(self, fr: Frame) -> None:
        with self._cv:
            self._seen.append(fr)
            self._cv.notify_all()

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as e:  # reported to the test through .error
            self.error = e
        finally:
            with self._cv:
                self._cv.notify_all()

    def _loop(self) -> None:
        up, master = self._up_fd, self._master
        while not self._stop:
            now = time.monotonic()
            rd = [self._wake_r, master]
            if not self.upstream_closed and self._pending < _MAX_PENDING:
                rd.append(up)
            wr = []
            timeout = 0.5
            if self._to_host:
                wait = self._to_host[0][0] - now
                if wait <= 0:
                    wr.append(master)
                else:
                    timeout = min(timeout, wait)
            with self._cv:
                if self._to_puck and not self.upstream_closed:
                    wr.append(up)
            r, w, _ = select.select(rd, wr, [], timeout)
            if self._wake_r in r:
                os.read(self._wake_r, 4096)
            if up in r:
                try:
                    data = os.read(up, 65536)
                except OSError:
                    data = b""
                if not data:
                    self.upstream_closed = True
                else:
                    now = time.monotonic()
                    for delay, chunk in self.injector.feed(data, now):
                        if not chunk:
                            continue
                        # a delay holds back this chunk and everything after it
                        nb = now + delay
                        if self._to_host and self._to_host[-1][0] > nb:
                            nb = self._to_host[-1][0]
                        self._to_host.append([nb, chunk])
                        self._pending += len(chunk)
            if master in r:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    data = b""
                if data:
                    self._host_bytes(data)
            if master in w:
                self._flush_to_host()
            if up in w:
                with self._cv:
                    try:
                        n = os.write(up, bytes(self._to_puck))
                    except BlockingIOError:
                        n = 0
                    del self._to_puck[:n]

    def _flush_to_host(self) -> None:
        now = time.monotonic()
        while self._to_host and self._to_host[0][0] <= now:
            item = self._to_host[0]
            try:
                n = os.write(self._master, item[1])
            except (BlockingIOError, OSError):
                return
            self._pending -= n
            if n < len(item[1]):
                item[1] = item[1][n:]
                return
            self._to_host.popleft()

    def _host_bytes(self, data: bytes) -> None:
        """Host bytes go on to the puck a whole frame at a time, so that an
        injected frame never lands inside one of the host's."""
        led = self.ledger
        led.bytes_down += len(data)
        self._down_buf += data
        whole = bytearray()
        while True:
            end = self._down_buf.find(b"\x00")
            if end < 0:
                break
            wire = bytes(self._down_buf[:end])
            del self._down_buf[:end + 1]
            whole += wire + b"\x00"
            if wire:
                led.down.append(read_frame(led.frames_down, wire, time.monotonic()))
                led.frames_down += 1
        if whole:
            with self._cv:
                self._to_puck += whole

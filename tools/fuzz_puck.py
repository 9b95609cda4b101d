"""Command fuzz against the virtual puck: random and mutated host frames over
the link while the puck streams.

    python tools/fuzz_puck.py --seconds 60        # prints a report, exit 1 on a finding
    python tools/fuzz_puck.py --frames 2000 --json report.json

What must hold, whatever the host sends (each broken rule is a finding):
- answers: every intact command frame (CRC good, version 1) gets exactly one
  ack or nack naming its type and seq, and nothing else is answered;
  damaged frames and garbage are dropped (counted in status.rx_errors);
- the stream goes on: samples keep coming (never 2 s without), and no
  internal error (a nack `internal` or an error log) nor traceback;
- no reset: the firmware process never restarts, the puck's frame seq never
  restarts, status.uptime_ms only grows and reset_cause stays power_on;
- the heap stays flat: the firmware's heap after a full collection (the
  virtual puck's heap report, heap_report_ms) grows by no more than
  HEAP_SLACK bytes from the first quarter of the run to the last.

The host sends batches of frames (each after a 0x00, so a damaged frame
cannot swallow the next) and waits for the answers of a batch before the
next. Frames: commands with random field values in their wire types
(checked=False: outside what the puck accepts too), intact frames with
mutated type and payload bytes, frames with a bad CRC or bad COBS, bare
garbage and over-long frames. Two commands are never sent intact: `stop`
and `reboot` with mode 0 (a puck obeying them stops streaming or resets,
as it should).
"""
from __future__ import annotations

import argparse
import json
import random
import struct
import sys
import time
import zlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from openpuck import StreamDecoder, protocol  # noqa: E402
from openpuck.device import sim  # noqa: E402
from openpuck.protocol import Message  # noqa: E402

NACK = {v: k for k, v in protocol.ENUMS["nack_error"].items()}
LOG_ERROR = protocol.ENUMS["log_level"]["error"]
STOP = protocol.SPECS["stop"].id
REBOOT = protocol.SPECS["reboot"].id
PAIR = protocol.SPECS["pair"].id
COMMANDS = [s for s in protocol.SPECS.values() if s.dir == "down"]
RANGES = {"u8": (0, 0xFF), "i8": (-0x80, 0x7F), "u16": (0, 0xFFFF), "i16": (-0x8000, 0x7FFF),
          "u32": (0, 0xFFFFFFFF), "i32": (-0x80000000, 0x7FFFFFFF), "u64": (0, 2**64 - 1)}
HEAP_SLACK = 4096        # bytes: a leak of one byte per frame shows after a few thousand frames
STALL_S = 2.0            # longest time without samples
ANSWER_TIMEOUT_S = 10.0


@dataclass
class Report:
    seconds: float = 0.0
    frames: int = 0                  # frames and garbage bursts sent
    intact: int = 0                  # of them intact command frames (an answer is due)
    bytes: int = 0
    acks: int = 0
    nacks: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    samples: int = 0
    statuses: int = 0
    rx_errors: int = 0               # the puck's count at the last status
    dropped_samples: int = 0
    uptime_ms: tuple = (0, 0)        # first and last status
    heap: list = field(default_factory=list)   # (alloc, free) after collection
    heap_growth: int = 0
    restarts: int = 0
    findings: list = field(default_factory=list)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["nacks"] = dict(self.nacks)
        d["kinds"] = dict(self.kinds)
        d["heap"] = {"reports": len(self.heap), "first": self.heap[0] if self.heap else None,
                     "last": self.heap[-1] if self.heap else None,
                     "max_alloc": max((a for a, _ in self.heap), default=None)}
        return d


# ---------------------------------------------------------------- checks
def heap_growth(alloc: list[int]) -> int:
    """Bytes the heap grew over a run: the largest allocation of the last
    quarter of the reports less the largest of the first quarter (after
    start-up allocations settled); 0 for fewer than 8 reports."""
    if len(alloc) < 8:
        return 0
    q = len(alloc) // 4
    return max(alloc[-q:]) - max(alloc[q:2 * q])


def answer_findings(due: dict[int, int], answers: list[Message]) -> list[str]:
    """due: seq -> command type of the intact frames of a batch. Every one must
    have exactly one ack or nack with its seq and type, and no answer may
    name anything else."""
    out = []
    got = Counter((m["cmd_seq"], m["cmd_type"]) for m in answers)
    for seq, t in due.items():
        n = got.pop((seq, t), 0)
        if n != 1:
            out.append(f"command type 0x{t:02x} seq {seq}: {n} answers, not 1")
    for (seq, t), n in got.items():
        out.append(f"{n} answer(s) to type 0x{t:02x} seq {seq}, which was not sent intact")
    return out


# ---------------------------------------------------------------- frames
class Frames:
    """The fuzz inputs: (wire bytes, (seq, type) when an answer is due)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seq = 0

    def _next_seq(self) -> int:
        self.seq = (self.seq + 1) & 0xFFFF
        return self.seq

    def _random_fields(self, spec) -> dict:
        r = self.rng
        out = {}
        for f in spec.fields:
            if f["type"] == "bytes":   # a key: its size, or any length
                n = f.get("size", 32) if r.random() < 0.7 else r.randrange(0, 64)
                out[f["name"]] = bytes(r.randrange(256) for _ in range(n))
                continue
            lo, hi = RANGES[f["type"]]
            allowed = protocol.codec.allowed_values(f)
            pick = r.random()
            if allowed and pick < 0.5:
                out[f["name"]] = r.choice(allowed)
            elif pick < 0.75:
                out[f["name"]] = r.choice((lo, hi, 0, 1, lo + 1, hi - 1, f.get("min", lo), f.get("max", hi)))
            else:
                out[f["name"]] = r.randint(lo, hi)
        return out

    @staticmethod
    def _dangerous(body: bytes) -> bool:
        """A stop, a reboot the virtual puck would obey (mode 0), or a pair
        (it would make the puck owned: from then on every command but the
        owner's signed ones is refused, and the fuzz would test only that)."""
        return (body[1] in (STOP, PAIR)
                or (body[1] == REBOOT and len(body) > 8 and body[4] == 0))

    def _seal(self, body: bytearray) -> tuple[bytes, tuple[int, int] | None]:
        seq = self._next_seq()
        body[2:4] = struct.pack("<H", seq)
        body += struct.pack("<I", zlib.crc32(bytes(body)))
        wire = protocol.cobs_encode(bytes(body))
        due = (seq, body[1]) if body[0] == protocol.VERSION and 8 <= len(body) <= protocol.MAX_BODY else None
        return wire, due

    def command(self) -> tuple[bytes, tuple[int, int] | None]:
        """A command of any type with random field values."""
        while True:
            spec = self.rng.choice(COMMANDS)
            body = bytearray(protocol.encode_body(spec.name, 0, checked=False, **self._random_fields(spec))[:-4])
            if not self._dangerous(body + b"\0\0\0\0"):
                return self._seal(body)

    def mutated(self) -> tuple[bytes, tuple[int, int] | None]:
        """A command whose type, length or payload bytes were changed, sent intact."""
        r = self.rng
        while True:
            spec = r.choice(COMMANDS)
            body = bytearray(protocol.encode_body(spec.name, 0, checked=False, **self._random_fields(spec))[:-4])
            for _ in range(r.randint(1, 3)):
                op = r.randrange(5)
                if op == 0:
                    body[1] = r.randrange(256)                     # any type: up, unknown, command
                elif op == 1 and len(body) > 4:
                    i = r.randrange(4, len(body))
                    body[i] = r.randrange(256)
                elif op == 2:
                    del body[r.randrange(4, len(body) + 1):]       # short payloads
                elif op == 3:
                    body += bytes(r.randrange(256) for _ in range(r.randint(1, 40)))   # long ones
                elif r.random() < 0.1:
                    body[0] = r.randrange(256)                     # another protocol version
            if len(body) >= 4 and not self._dangerous(body + b"\0\0\0\0"):
                return self._seal(body)

    def damaged(self) -> tuple[bytes, None]:
        """A frame with a bad CRC, a bad COBS code or cut short."""
        r = self.rng
        wire, _ = self.command()
        w = bytearray(wire)
        op = r.randrange(3)
        if op == 0:  # flip a bit of the body: the CRC fails (COBS may too)
            i = r.randrange(len(w))
            w[i] ^= 1 << r.randrange(8)
            if w[i] == 0:
                w[i] = 0x55
        elif op == 1:  # a COBS code that runs past the end
            w[0] = min(255, len(w) + r.randint(1, 5))
        else:  # cut short
            w = w[:r.randrange(1, len(w))]
        return bytes(w), None

    def garbage(self) -> tuple[bytes, None]:
        """Random bytes, 0x00 included (many empty and broken frames)."""
        r = self.rng
        return bytes(r.randrange(256) for _ in range(r.randint(1, 64))), None

    def oversized(self) -> tuple[bytes, None]:
        """Longer than the longest frame, no delimiter inside."""
        r = self.rng
        return bytes(r.randrange(1, 256) for _ in range(r.randint(530, 1200))), None

    def next(self) -> tuple[str, bytes, tuple[int, int] | None]:
        kind = self.rng.choices(("command", "mutated", "damaged", "garbage", "oversized"),
                                weights=(30, 35, 18, 14, 3))[0]
        wire, due = getattr(self, kind)()
        return kind, wire, due


# ---------------------------------------------------------------- the run
class Link:
    def __init__(self, port: str) -> None:
        import serial
        self.s = serial.Serial(port, timeout=0.02)
        self.dec = StreamDecoder()
        self.answers: list[Message] = []
        self.last_sample = time.monotonic()
        self.samples = 0
        self.longest_gap = 0.0
        self.status: list[Message] = []
        self.other: list[Message] = []

    def pump(self, seconds: float, until=None) -> None:
        end = time.monotonic() + seconds
        while True:
            data = self.s.read(self.s.in_waiting or 1)
            now = time.monotonic()
            for it in self.dec.feed(data):
                if isinstance(it, Message):
                    if it.type in ("ack", "nack"):
                        self.answers.append(it)
                    elif it.type == "status":
                        self.status.append(it)
                    else:
                        self.other.append(it)
                else:
                    self.samples += len(it)
                    self.longest_gap = max(self.longest_gap, now - self.last_sample)
                    self.last_sample = now
            if (until is not None and until()) or now > end:
                return


def run(seconds: float | None = 60.0, frames: int | None = None, seed: int = 1, speed: float = 1.0,
        batch: int = 24, heap_ms: int = 250, detector: str = "auto", log=print) -> Report:
    """Fuzz a fresh virtual puck for `seconds` or `frames` (whichever ends
    first); return what was sent, seen and found."""
    rng = random.Random(seed)
    gen = Frames(rng)
    rep = Report()
    t0 = time.monotonic()
    with sim.start(scenario="still", speed=speed, heap_report_ms=heap_ms, detector=detector) as vp:
        link = Link(vp.port)
        link.s.write(protocol.encode("start", 0, rate_hz=200, channels=7))
        link.pump(10, lambda: link.samples > 200)
        if link.samples == 0:
            rep.findings.append("the puck did not stream after start")
            return rep
        link.answers.clear()
        link.longest_gap = 0.0
        next_log = time.monotonic() + 10
        while ((seconds is None or time.monotonic() - t0 < seconds)
               and (frames is None or rep.frames < frames)):
            due: dict[int, int] = {}
            out = bytearray()
            for _ in range(batch):
                kind, wire, d = gen.next()
                rep.kinds[kind] += 1
                rep.frames += 1
                out += b"\x00" + wire + (b"\x00" if kind != "oversized" else b"")
                if d is not None:
                    due[d[0]] = d[1]
            out += b"\x00"
            rep.intact += len(due)
            rep.bytes += len(out)
            link.s.write(bytes(out))

            def answered(due: list = due) -> bool:
                seqs = {m["cmd_seq"] for m in link.answers}
                return all(s in seqs for s in due)
            link.pump(ANSWER_TIMEOUT_S, answered)
            link.pump(0.01)  # a second answer to one command would come now
            for m in link.answers:
                if m.type == "ack":
                    rep.acks += 1
                else:
                    rep.nacks[NACK.get(m["error"], str(m["error"]))] += 1
                    if m["error"] == protocol.ENUMS["nack_error"]["internal"]:
                        rep.findings.append(f"nack internal to command type 0x{m['cmd_type']:02x}")
            probs = answer_findings(due, link.answers)
            if probs:
                rep.findings += probs[:5]
                rep.findings.append("batch: " + bytes(out).hex())
            link.answers.clear()
            if time.monotonic() - link.last_sample > STALL_S:
                rep.findings.append(f"no samples for {time.monotonic() - link.last_sample:.1f} s")
            if not vp.alive or vp.restarts:
                rep.findings.append(f"the puck restarted or stopped (restarts {vp.restarts}, "
                                    f"exit {vp.returncode})")
            if rep.findings:
                break
            if log and time.monotonic() > next_log:
                next_log += 10
                log(f"#{rep.frames}\tframes, {rep.intact} answered, {link.samples} samples, "
                    f"{rep.frames / (time.monotonic() - t0):.0f} frames/s")
        # the end: the puck's own account, then the checks over the whole run
        link.pump(1.5)
        rep.seconds = time.monotonic() - t0
        rep.samples = link.samples
        rep.restarts = vp.restarts
        st = link.status
        rep.statuses = len(st)
        if st:
            rep.rx_errors = st[-1]["rx_errors"]
            rep.dropped_samples = st[-1]["dropped_samples"]
            rep.uptime_ms = (st[0]["uptime_ms"], st[-1]["uptime_ms"])
            ups = [m["uptime_ms"] for m in st]
            if any(b < a for a, b in zip(ups, ups[1:])):
                rep.findings.append("status.uptime_ms went back: a reset")
            if any(m["reset_cause"] != sim.RESET_POWER_ON for m in st):
                rep.findings.append("status.reset_cause is not power_on")
        elif rep.seconds > 3:
            rep.findings.append("no status message while streaming")
        if link.longest_gap > STALL_S:
            rep.findings.append(f"samples stalled for {link.longest_gap:.1f} s")
        c = link.dec.counters
        if c.seq_resets:
            rep.findings.append(f"the puck's frame seq restarted {c.seq_resets} time(s)")
        if c.errors:
            rep.findings.append(f"the puck's own frames were damaged: {c.as_dict()}")
        for m in link.other:
            if m.type == "log" and m["level"] >= LOG_ERROR:
                rep.findings.append(f"error log: {m['text']}")
        tail = vp.log_tail(200)
        if "Traceback" in tail or "crash:" in tail:
            rep.findings.append("the firmware logged a crash:\n" + tail[-1500:])
        rep.heap = vp.heap_reports()
        rep.heap_growth = heap_growth([a for a, _ in rep.heap])
        if rep.heap_growth > HEAP_SLACK:
            rep.findings.append(f"the heap grew by {rep.heap_growth} bytes "
                                f"({rep.heap[0][0]} -> {rep.heap[-1][0]} allocated)")
        if len(rep.heap) < 2 and rep.seconds > 2 * heap_ms / 1000 + 1:
            rep.findings.append("no heap reports from the virtual puck")
        link.s.close()
    return rep


def summary(rep: Report) -> str:
    rate = rep.frames / rep.seconds if rep.seconds else 0.0
    heap = (f"{rep.heap[0][0]} -> {rep.heap[-1][0]} bytes (+{rep.heap_growth} over the run, "
            f"{len(rep.heap)} reports)" if rep.heap else "no reports")
    lines = [
        f"frames sent      {rep.frames} in {rep.seconds:.0f} s ({rate:.0f}/s, {rep.bytes} bytes): "
        + ", ".join(f"{k} {v}" for k, v in sorted(rep.kinds.items())),
        f"answers          {rep.acks} acks, {sum(rep.nacks.values())} nacks for {rep.intact} intact "
        "commands: " + ", ".join(f"{k} {v}" for k, v in sorted(rep.nacks.items())),
        f"puck             rx_errors {rep.rx_errors}, {rep.samples} samples "
        f"(dropped {rep.dropped_samples}), {rep.statuses} statuses, uptime "
        f"{rep.uptime_ms[0]}..{rep.uptime_ms[1]} ms, restarts {rep.restarts}",
        f"heap             {heap}",
        f"findings         {len(rep.findings)}",
    ]
    lines += [f"  - {f}" for f in rep.findings]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, help="time budget (default 60 unless --frames)")
    ap.add_argument("--frames", type=int, help="frames to send")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--speed", type=float, default=1.0, help="virtual puck speed (1.0: real time)")
    ap.add_argument("--json", type=Path, help="write the report as JSON")
    args = ap.parse_args(argv)
    if args.seconds is None and args.frames is None:
        args.seconds = 60.0
    try:
        sim.micropython_command()
    except sim.SimUnavailable as e:
        print(f"fuzz_puck: {e}", file=sys.stderr)
        return 2
    rep = run(args.seconds, args.frames, args.seed, args.speed)
    print(summary(rep))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rep.as_dict(), indent=1))
    return 1 if rep.findings else 0


if __name__ == "__main__":
    sys.exit(main())

"""Fuzzing of the host SDK in Python: the codec, the stream decoder, the
recording reader (.opr, load_session), the CSV reader and the reader of the
puck's own log (its records as log_read downloads them).

    python tools/pyfuzz.py codec --seconds 60        # one target for a time
    python tools/pyfuzz.py all --runs 3000           # every target, a short pass
    python tools/pyfuzz.py recording path/to/crash   # replay inputs (a regression)

Engine: atheris (libFuzzer for Python, coverage-guided: its cov/ft figures)
when it is installed (the test extras install it on Linux x86-64), else a
plain mutator (seeds, bit flips, inserts, deletes, splices) with the same
targets, properties and output, so the fuzz runs on any machine.

Each target is a function of one bytes input that raises on a broken
property; anything it raises is a crash, and the input is saved
(--artifacts) to be committed under tests/fuzz_regress/<target>/, which
tests/test_fuzz.py replays. The properties are written at each target.
"""
from __future__ import annotations

import argparse
import atexit
import json
import math
import random
import shutil
import struct
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGRESS = ROOT / "tests" / "fuzz_regress"
sys.path.insert(0, str(ROOT / "tools"))

try:
    import atheris  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the machine
    atheris = None

if atheris is not None:
    with atheris.instrument_imports(include=["openpuck"]):
        import numpy as np

        from openpuck import protocol
        from openpuck.device.decoder import DEFAULT_SCALES, PyStreamDecoder, SampleBlock, StreamDecoder
        from openpuck.device.puck_log import parse_records
        from openpuck.errors import OpenPuckError
        from openpuck.offline.csvio import HEADER as CSV_HEADER
        from openpuck.offline.csvio import CsvError, read_csv
        from openpuck.offline.recording import NOTE, Recording, RecordingError, load_session
        from openpuck.protocol import ProtocolError
else:
    import numpy as np

    from openpuck import protocol
    from openpuck.device.decoder import DEFAULT_SCALES, PyStreamDecoder, SampleBlock, StreamDecoder
    from openpuck.device.puck_log import parse_records
    from openpuck.errors import OpenPuckError
    from openpuck.offline.csvio import HEADER as CSV_HEADER
    from openpuck.offline.csvio import CsvError, read_csv
    from openpuck.offline.recording import NOTE, Recording, RecordingError, load_session
    from openpuck.protocol import ProtocolError

import fuzz_seeds  # noqa: E402  (tools/)

# where the file targets write their input (one file, rewritten each time):
# main() puts it under --work; imported (tests), a temporary folder
_TMP: Path | None = None


class PropertyFailed(AssertionError):
    """A target's property did not hold."""


def need(cond: bool, what: str) -> None:
    if not cond:
        raise PropertyFailed(what)


def _same(a, b) -> bool:
    """Equal values, NaN equal to NaN (f32 fields may carry any bits)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


# ---------------------------------------------------------------- codec
def _frame_of(data: bytes) -> bytes:
    """Byte 0 bit 0 set: the rest is a body without its CRC, sent as an
    intact frame (so mutations reach the payload decoder behind the CRC);
    clear: the rest is a frame as it came off the wire."""
    if not data:
        return b""
    if data[0] & 1:
        body = data[1:1 + protocol.MAX_BODY]
        if len(body) >= 1 and not data[0] & 2:
            body = bytes([protocol.VERSION]) + body[1:]
        return protocol.cobs_encode(body + struct.pack("<I", zlib.crc32(body))) + b"\x00"
    return data[1:]


def target_codec(data: bytes) -> None:
    """protocol.decode of any frame returns a Message or raises ProtocolError
    (nothing else); what it returns encodes again (checked=False: the
    puck's own checks aside) and decodes to the same message; physical()
    takes it."""
    frame = _frame_of(data)
    try:
        msg = protocol.decode(frame)
    except ProtocolError:
        return
    need(msg.type in protocol.SPECS and 0 <= msg.seq <= 0xFFFF, "decoded type and seq")
    protocol.physical(msg, DEFAULT_SCALES)
    fields = dict(msg.fields)
    spec = protocol.SPECS[msg.type]
    wire = protocol.encode(msg.type, msg.seq, checked=False, **fields)
    again = protocol.decode(wire)
    need(again.type == msg.type and again.seq == msg.seq, "round trip type and seq")
    for k, v in msg.fields.items():
        need(_same(again.fields[k], v), f"round trip of {msg.type}.{k}")
    if spec.repeat is not None:
        need(len(msg.fields[spec.repeat["name"]]) == msg.fields[spec.repeat["count"]], "record count")


# ---------------------------------------------------------------- stream decoder
def _chunks(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out, pos = [], 0
    while pos < len(data):
        k = rng.choice((1, 2, 3, rng.randint(1, 16), rng.randint(1, 600)))
        out.append(data[pos:pos + k])
        pos += k
    return out


def _merged(items: list) -> list:
    """Messages as they are, consecutive sample blocks joined (where a block
    ends depends on buffer sizes, not on the stream)."""
    out: list = []
    for it in items:
        if isinstance(it, SampleBlock):
            if out and isinstance(out[-1], list):
                out[-1].append(it)
            else:
                out.append([it])
        else:
            out.append(it)
    return [SampleBlock.concat(x) if isinstance(x, list) else x for x in out]


def _decoder_stream(data: bytes) -> bytes:
    """Byte 0 bit 0 set: the rest is records [len u8][body without CRC]
    sent as intact frames (as in _frame_of); clear: the rest is the stream."""
    if not data[0] & 1:
        return data[1:]
    frames = bytearray()
    pos = 1
    while pos < len(data):
        n = data[pos]
        frames += _frame_of(b"\x01" + data[pos + 1:pos + 1 + n])
        pos += 1 + n
    return bytes(frames)


def _decode_both(data: bytes):
    c, py = StreamDecoder(keep_raw=True), PyStreamDecoder(keep_raw=True)
    ci, pi = [], []
    for ch in _chunks(_decoder_stream(data), data[0]):
        ci += c.feed(ch)
        pi += py.feed(ch)
    c.finish()
    py.finish()
    return c, py, ci, pi


def target_decoder(data: bytes) -> None:
    """StreamDecoder (the C core through cffi) and PyStreamDecoder (the
    reference) fed the same bytes in the same chunks give the same messages,
    the same samples bit for bit and the same counters."""
    if not data:
        return
    c, py, ci, pi = _decode_both(data)
    need(c.counters.as_dict() == py.counters.as_dict(),
         f"counters C {c.counters.as_dict()} != Python {py.counters.as_dict()}")
    a, b = _merged(ci), _merged(pi)
    need(len(a) == len(b), "item count")
    for x, y in zip(a, b):
        need(type(x) is type(y), "item kinds")
        if isinstance(x, SampleBlock):
            for k in ("t", "accel", "gyro", "force"):
                need(np.array_equal(getattr(x, k), getattr(y, k)), f"samples {k}")
            need(x.raw.tobytes() == y.raw.tobytes(), "raw counts")
            need(bool(np.isfinite(x.t).all()), "finite times")
        else:
            need(x.type == y.type and x.seq == y.seq and _same(list(x.fields.items()),
                                                               list(y.fields.items())), "messages")


# ---------------------------------------------------------------- recordings
_HEAD = struct.Struct("<8sHI")
_CHUNK = struct.Struct("<BqI")


def _build_recording(data: bytes) -> bytes:
    """Byte 0 bit 0 set: the rest is [json_len u8][header JSON][chunks of
    [direction u8][t_ms u16][len u8][data]] written as a recording with
    good CRCs (mutations then reach the chunk and note readers and the
    session decoder); clear: the rest is the file as it is."""
    if not data or not data[0] & 1:
        return data[1:]
    n = data[1] if len(data) > 1 else 0
    js = data[2:2 + n]
    out = bytearray(_HEAD.pack(b"OPUCKREC", 1, len(js)) + js)
    pos = 2 + n
    while pos + 4 <= len(data):
        d, t, k = data[pos], data[pos + 1] | data[pos + 2] << 8, data[pos + 3]
        body = data[pos + 4:pos + 4 + k]
        head = _CHUNK.pack(d, t * 1000, len(body))
        out += head + body + struct.pack("<I", zlib.crc32(body, zlib.crc32(head)))
        pos += 4 + k
    return bytes(out)


def _write(data: bytes, suffix: str) -> Path:
    global _TMP
    if _TMP is None:
        _TMP = Path(tempfile.mkdtemp(prefix="openpuck-pyfuzz-"))
        atexit.register(shutil.rmtree, _TMP, True)
    p = _TMP / f"input{suffix}"
    p.write_bytes(data)
    return p


def target_recording(data: bytes) -> None:
    """A recording file, whatever its bytes: Recording() raises only
    RecordingError; its header is a JSON object; chunks() yields chunks of a
    known direction and stops at damage, which it reports (truncated,
    tail_bytes: the bytes not read); load_session() returns a Session or
    raises RecordingError."""
    raw = _build_recording(data)
    path = _write(raw, ".opr")
    try:
        rec = Recording(path)
    except RecordingError:
        rec = None
    if rec is not None:
        need(isinstance(rec.header, dict), "header is a JSON object")
        need(isinstance(rec.url, str), "url is a string")
        need(isinstance(rec.start_time, float), "start_time is a number")
        used = 0
        for ch in rec.chunks():
            need(ch.direction in (1, 2, 3), "chunk direction")
            used += _CHUNK.size + len(ch.data) + 4
            if ch.direction == NOTE:
                try:
                    need(isinstance(ch.note(), dict), "a note is a JSON object")
                except RecordingError:
                    pass
        need(rec.truncated == (rec.tail_bytes > 0), "truncated iff tail bytes")
        need(rec._start + used + rec.tail_bytes == len(raw), "chunks and tail cover the file")
    try:
        s = load_session(path)
    except RecordingError:
        return
    need(len(s.samples.t) == len(s.samples.accel) == len(s.samples.force), "session samples")
    need(s.truncated == (rec is not None and rec.truncated), "session truncated flag")


# ---------------------------------------------------------------- CSV
def target_csv(data: bytes) -> None:
    """A CSV file, whatever its bytes: read_csv() returns samples (t
    increasing, every value finite, columns of one length) or raises
    CsvError; load_session() of it (which also runs the detector) returns a
    Session or raises one of the SDK's errors (OpenPuckError)."""
    if data[:1] == b"\x01":  # the header, then the fuzz bytes as lines
        data = CSV_HEADER.encode() + b"\n" + data[1:]
    else:
        data = data[1:]
    path = _write(data, ".csv")
    try:
        s = read_csv(path)
    except CsvError:
        return
    n = len(s.t)
    need(s.accel.shape == (n, 3) and s.gyro.shape == (n, 3) and s.force.shape == (n,), "shapes")
    need(bool(np.isfinite(s.t).all() and np.isfinite(s.accel).all() and np.isfinite(s.gyro).all()
              and np.isfinite(s.force).all()), "finite values")
    need(n < 2 or bool((np.diff(s.t) > 0).all()), "t increases")
    try:
        load_session(path)
    except OpenPuckError:  # e.g. DetectError: no samples
        pass


# ---------------------------------------------------------------- the puck's log
_FW_LOG = None


def _firmware_log():
    """The firmware's own reader of log records (firmware/openpuck_fw/eventlog.py, run by CPython)."""
    global _FW_LOG
    if _FW_LOG is None:
        for p in (ROOT / "tests" / "firmware" / "cpython", ROOT / "firmware"):
            if str(p) not in sys.path:
                sys.path.append(str(p))
        from openpuck_fw import eventlog  # type: ignore[import-not-found]
        _FW_LOG = eventlog
    return _FW_LOG


def _build_log(data: bytes) -> bytes:
    """Byte 0 bit 0 set: the rest is [size u8][type u8][payload] chunks made into
    records with good CRCs (boot and seq from the chunk's place), the last cut
    where the input ends, as a power cut leaves it."""
    out = bytearray()
    i, seq = 1, 0
    while i + 2 <= len(data):
        size, tid = data[i], data[i + 1]
        pl = data[i + 2:i + 2 + size]
        r = struct.pack("<BBIII", len(pl), tid, seq // 5, seq, seq * 7) + pl
        out += r + struct.pack("<I", zlib.crc32(r))
        i += 2 + size
        seq += 1
    return bytes(out)


def target_puck_log(data: bytes) -> None:
    """The records of the puck's log, whatever the bytes: parse_records
    returns whole records and the torn tail and raises nothing; records
    and tail cover the bytes; each record's payload decodes as its type (or
    the type is named by its id); the firmware's reader
    (openpuck_fw.eventlog.records) finds the same records and tail."""
    raw = _build_log(data) if data[:1] and data[0] & 1 else data[1:]
    recs, tail = parse_records(raw)
    need(0 <= tail <= len(raw), "tail within the bytes")
    fw, fw_tail = _firmware_log().records(bytearray(raw))
    need(fw_tail == tail and [s for s, _, _ in fw] == [r.seq for r in recs], "firmware and host agree")
    need(sum(b - a for _, a, b in fw) + tail == len(raw), "records and tail cover the bytes")
    for r in recs:
        need(isinstance(r.fields, dict) and isinstance(r.type, str), "a record's type and fields")


# ---------------------------------------------------------------- seeds
def _seeds_puck_log() -> list[bytes]:
    rep = protocol.encode_payload("rep", exercise=1, count=3, t_start_us=1, t_peak_us=2, t_end_us=3,
                                  amplitude=25000, hold_ms=600)
    end = protocol.encode_payload("set_end", exercise=1, reps=3, partial_reps=0, dropped_samples=0,
                                  link_dropped_samples=9, t_us=4)
    chunks = bytes([len(rep), 0x03]) + rep + bytes([len(end), 0x0F]) + end + bytes([5, 0x10, 0, 1, 0, 0, 1])
    return [b"\x01" + chunks, b"\x01" + chunks[:-3], b"\x00" + _build_log(b"\x01" + chunks)[:-2]]


def _seeds_codec() -> list[bytes]:
    frames = fuzz_seeds.example_frames()
    bodies = [protocol.cobs_decode(f[:-1])[:-4] for f in frames]
    return [b"\x00" + f for f in frames] + [b"\x01" + b for b in bodies]


def _seeds_decoder() -> list[bytes]:
    session = b"".join(fuzz_seeds._session_frames())
    wrap = b"".join(fuzz_seeds._session_frames(seq0=65533, t0=0xFFFF_FF00 - 300_000))
    every = b"".join(fuzz_seeds.example_frames("up"))
    recs = bytearray(b"\x01")
    for f in fuzz_seeds._session_frames(n_frames=3):
        body = protocol.cobs_decode(f[:-1])[:-4]
        if len(body) < 256:
            recs += bytes([len(body)]) + body
    return [b"\x00" + session, b"\x06" + wrap, b"\x02" + every, bytes(recs)]


def _seeds_recording() -> list[bytes]:
    frames = b"".join(fuzz_seeds._session_frames(n_frames=2))
    js = json.dumps({"version": 1, "start_time": 1.5, "url": "sim:"}).encode()
    built = bytearray(b"\x01" + bytes([len(js)]) + js)
    note = json.dumps({"kind": "connect"}).encode()
    built += bytes([3, 0, 0, len(note)]) + note
    for i in range(0, len(frames), 200):
        part = frames[i:i + 200]
        built += bytes([1, i // 200, 0, len(part)]) + part
    built += bytes([2, 9, 0, 6]) + b"\x03\x01\x02\x03\x04\x00"
    disc = json.dumps({"kind": "disconnect"}).encode()
    built += bytes([3, 10, 0, len(disc)]) + disc
    return [bytes(built), b"\x00" + _build_recording(bytes(built)), b"\x00OPUCKREC\x01\x00\x02\x00\x00\x00{}"]


def _seeds_csv() -> list[bytes]:
    rows = "\n".join(f"{i * 0.005:.3f},0.010,-0.020,1.000,0.500,-0.250,0.000,{2 + i % 7:.2f}"
                     for i in range(40))
    header = CSV_HEADER + "\n"
    return [b"\x00" + (header + rows + "\n").encode(), b"\x01" + rows.encode(),
            b"\x00" + header.encode(), b"\x01" + b"0,1,2,3,4,5,6,7\n1,nan,2,3,4,5,6,7\n"]


TARGETS: dict[str, tuple[Callable[[bytes], None], Callable[[], list[bytes]]]] = {
    "codec": (target_codec, _seeds_codec),
    "decoder": (target_decoder, _seeds_decoder),
    "recording": (target_recording, _seeds_recording),
    "csv": (target_csv, _seeds_csv),
    "puck_log": (target_puck_log, _seeds_puck_log),
}


# longest input per target (atheris): a few frames are enough for the decoder,
# whose Python reference reads byte by byte
MAX_LEN = {"codec": 1024, "decoder": 1024}


# ---------------------------------------------------------------- engines
def _mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        pos = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[pos % len(b)] ^= 1 << rng.randrange(8)
        elif op == 1 and b:
            b[pos % len(b)] = rng.choice((0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)))
        elif op == 2:
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3 and b:
            del b[pos:pos + rng.randint(1, 16)]
        elif op == 4 and pool:
            other = rng.choice(pool)
            i = rng.randrange(len(other) + 1)
            b[pos:] = other[i:]
        elif op == 5 and b:
            i = rng.randrange(len(b))
            b[pos:pos] = b[i:i + rng.randint(1, 32)]
        elif op == 6 and len(b) >= 4:
            i = rng.randrange(len(b) - 3)
            b[i:i + 4] = struct.pack("<I", rng.choice((0, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000,
                                                       rng.getrandbits(32))))
    return bytes(b[:8192])


def _save(artifacts: Path, name: str, data: bytes) -> Path:
    artifacts.mkdir(parents=True, exist_ok=True)
    p = artifacts / f"{name}-crash-{zlib.crc32(data):08x}"
    p.write_bytes(data)
    return p


def run_plain(name: str, seconds: float | None, runs: int | None, artifacts: Path, seed: int) -> int:
    """The built-in mutator: libFuzzer-like output lines, no coverage figure."""
    fn, seeds = TARGETS[name]
    rng = random.Random(seed)
    pool = list(seeds())
    t0 = time.monotonic()
    n = 0
    for s in pool:
        fn(s)
        n += 1
    print(f"#{n}\tINITED plain mutator seed {seed}: {len(pool)} seeds", flush=True)
    while (runs is None or n < runs) and (seconds is None or time.monotonic() - t0 < seconds):
        data = _mutate(rng, rng.choice(pool), pool)
        try:
            fn(data)
        except Exception as e:  # noqa: BLE001 - any exception is a finding
            p = _save(artifacts, name, data)
            print(f"==ERROR: {name}: {type(e).__name__}: {e}\nTest unit written to {p}", flush=True)
            import traceback
            traceback.print_exc()
            return 1
        n += 1
        if len(pool) < 512 and rng.random() < 0.01:
            pool.append(data)  # keep some variety to mutate further
    dt = time.monotonic() - t0
    print(f"#{n}\tDONE   cov: - ft: - corp: {len(pool)} exec/s: {int(n / max(dt, 1e-9))}", flush=True)
    print(f"Done {n} runs in {int(dt)} second(s)", flush=True)
    return 0


def run_atheris(name: str, seconds: float | None, runs: int | None, artifacts: Path,
                corpus: Path, extra: list[str]) -> int:
    fn, seeds = TARGETS[name]
    corpus.mkdir(parents=True, exist_ok=True)
    for i, s in enumerate(seeds()):
        (corpus / f"seed-{i}").write_bytes(s)
    artifacts.mkdir(parents=True, exist_ok=True)
    argv = [sys.argv[0], str(corpus), f"-artifact_prefix={artifacts}/{name}-",
            "-print_final_stats=1", f"-max_len={MAX_LEN.get(name, 4096)}", "-timeout=20",
            "-rss_limit_mb=4096"]
    if seconds is not None:
        argv.append(f"-max_total_time={int(math.ceil(seconds))}")
    if runs is not None:
        argv.append(f"-runs={runs}")
    atheris.Setup(argv + extra, fn)
    atheris.Fuzz()  # exits the process with libFuzzer's status
    return 0  # pragma: no cover


def replay(name: str, paths: list[Path]) -> int:
    fn, _ = TARGETS[name]
    files = [f for p in paths for f in (sorted(x for x in p.iterdir() if not x.name.startswith("."))
                                        if p.is_dir() else [p])]
    for f in files:
        fn(f.read_bytes())
    print(f"{name}: {len(files)} inputs ok")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("target", choices=[*TARGETS, "all"])
    ap.add_argument("inputs", nargs="*", type=Path, help="replay these files or folders instead of fuzzing")
    ap.add_argument("--seconds", type=float, help="time budget per target")
    ap.add_argument("--runs", type=int, help="inputs per target")
    ap.add_argument("--engine", choices=("auto", "atheris", "plain"), default="auto")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "fuzz" / "py",
                    help="corpus (atheris) and crash inputs go under here")
    ap.add_argument("--seed", type=int, default=1, help="plain mutator's random seed")
    args, extra = ap.parse_known_args(argv)
    global _TMP
    _TMP = args.work / "tmp"
    _TMP.mkdir(parents=True, exist_ok=True)
    import warnings
    warnings.simplefilter("ignore", UserWarning)  # numpy.loadtxt: "input contained no data"
    names = list(TARGETS) if args.target == "all" else [args.target]
    if args.inputs:
        return max(replay(n, args.inputs) for n in names)
    if args.seconds is None and args.runs is None:
        args.seconds = 60.0
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if atheris is not None else "plain"
    if engine == "atheris" and atheris is None:
        print("pyfuzz: atheris is not installed (pip install atheris)", file=sys.stderr)
        return 2
    if engine == "atheris":
        if len(names) > 1:  # atheris.Fuzz() ends the process: one target per process
            import subprocess
            rc = 0
            for n in names:
                cmd = [sys.executable, __file__, n, "--engine", "atheris", "--work", str(args.work)]
                cmd += ["--seconds", str(args.seconds)] if args.seconds is not None else []
                cmd += ["--runs", str(args.runs)] if args.runs is not None else []
                print(f"== pyfuzz {n}", flush=True)
                rc |= subprocess.call(cmd + extra)
            return rc
        return run_atheris(names[0], args.seconds, args.runs, args.work / "crashes",
                           args.work / "corpus" / names[0], extra)
    rc = 0
    for n in names:
        print(f"== pyfuzz {n} (plain mutator)", flush=True)
        rc |= run_plain(n, args.seconds, args.runs, args.work / "crashes", args.seed)
    return rc


if __name__ == "__main__":
    sys.exit(main())

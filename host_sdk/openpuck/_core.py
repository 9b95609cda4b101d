"""The only module that touches the cffi ``lib`` of the C core.

Everything else in the SDK calls the functions here; C status codes become
:class:`openpuck.errors.CoreError`. Sections: framing (CRC, COBS, stream
decoder) and detection. Keep each wrapper small: argument checks, buffers,
one call into C.
"""
from __future__ import annotations

from typing import Any

from ._openpuck_core import ffi, lib  # noqa: F401  (the one import of lib)
from .errors import check  # noqa: F401

# ---------------------------------------------------------------- framing

MAX_BODY = lib.OP_MAX_BODY
SAMPLE_SIZE = lib.OP_SAMPLE_SIZE
SAMPLES_MAX_N = lib.OP_SAMPLES_MAX_N
SIDE_HEAD = lib.OP_SIDE_HEAD
STOP_DONE, STOP_DEVICE_INFO = lib.OP_STOP_DONE, lib.OP_STOP_DEVICE_INFO
COUNTER_NAMES = ("frames", "samples", "crc_errors", "cobs_errors", "oversize", "truncated",
                 "version_errors", "malformed", "lost_frames", "seq_resets",
                 "duplicates")


def crc32(data: bytes, crc: int = 0) -> int:
    """CRC-32/ISO-HDLC by the C core (equals binascii.crc32)."""
    return lib.op_crc32(crc, ffi.from_buffer(data), len(data))


def crc32_impl() -> str:
    """Which CRC the core runs on long inputs: "pclmul" (the host-only x86-64
    CRC, c_core/host/op_crc32_x86.c) or "table" (the portable slicing-by-16)."""
    active = getattr(lib, "op_crc32_accel_active", None)
    return "pclmul" if active is not None and active() else "table"


def cobs_encode(data: bytes) -> bytes:
    n = len(data)
    out = ffi.new("uint8_t[]", n + n // 254 + 1)
    out_len = ffi.new("size_t *")
    check(lib.op_cobs_encode(ffi.from_buffer(data), n, out, len(out), out_len), "cobs_encode")
    return ffi.buffer(out, out_len[0])[:]


def cobs_decode(data: bytes) -> bytes:
    """Decode one COBS frame (no final 0x00); CoreError (status ERR_COBS) if it is not COBS."""
    n = len(data)
    out = ffi.new("uint8_t[]", max(n, 1))
    out_len = ffi.new("size_t *")
    check(lib.op_cobs_decode(ffi.from_buffer(data), n, out, len(out), out_len), "cobs_decode")
    return ffi.buffer(out, out_len[0])[:]


def frame_encode(type_id: int, seq: int, payload: bytes) -> bytes:
    """One whole wire frame built by the C encoder (the firmware's)."""
    n = len(payload)
    cap = 4 + n + 4
    cap += cap // 254 + 2
    out = ffi.new("uint8_t[]", cap)
    out_len = ffi.new("size_t *")
    check(lib.op_frame_encode(type_id, seq, ffi.from_buffer(payload), n, out, cap, out_len),
          "frame_encode")
    return ffi.buffer(out, out_len[0])[:]


def frame_check(body: bytes) -> int:
    """Status of a decoded body (OK, ERR_OVERSIZE, ERR_TRUNCATED, ERR_CRC, ERR_VERSION)."""
    return lib.op_frame_check(ffi.from_buffer(body), len(body))


class Stream:
    """The C stream decoder's state, and one call to decode bytes into arrays."""

    def __init__(self, accel_scale: float, gyro_scale: float, force_scale: float) -> None:
        self._st = ffi.new("op_stream_t *")
        lib.op_stream_init(self._st, accel_scale, gyro_scale, force_scale)
        self._out = ffi.new("op_stream_out_t *")
        self._side = bytearray(16384)
        self._side_c = ffi.from_buffer(self._side)
        self._out.side = self._side_c
        self._out.side_cap = len(self._side)

    def set_scales(self, accel: float, gyro: float, force: float) -> None:
        self._st.accel_scale, self._st.gyro_scale, self._st.force_scale = accel, gyro, force

    @property
    def pending(self) -> int:
        return self._st.pending_len

    def counters(self) -> dict[str, int]:
        c = self._st.c
        return {k: getattr(c, k) for k in COUNTER_NAMES}

    def bind(self, t, accel, gyro, force, raw) -> None:
        """Point the output at caller arrays (numpy, C-contiguous), from sample 0."""
        o = self._out
        self._keep = (t, accel, gyro, force, raw)
        o.t_s = ffi.from_buffer("double[]", t)
        o.accel = ffi.from_buffer("float[]", accel)
        o.gyro = ffi.from_buffer("float[]", gyro)
        o.force = ffi.from_buffer("float[]", force)
        o.raw = ffi.NULL if raw is None else ffi.from_buffer("uint8_t[]", raw)
        o.n_cap = len(t)
        o.n = 0

    def feed(self, data, start: int) -> tuple[int, int, int, bytes]:
        """Decode data[start:] until done or a stop; returns (consumed, n_out, stop, side)."""
        o = self._out
        o.side_len = 0
        buf = ffi.from_buffer(data)
        check(lib.op_stream_feed(self._st, buf + start, len(data) - start, o), "stream_feed")
        side = bytes(self._side[:o.side_len]) if o.side_len else b""
        return o.consumed, o.n, o.stop, side

    def reset_partial(self) -> int:
        """Drop an unfinished frame; return how many bytes it held."""
        n = self._st.pending_len
        self._st.pending_len = 0
        return n

# ---------------------------------------------------------------- detection

# op_detect_config_t's fields, in order, from the struct itself (the same as
# protocol._table.DETECT_CONFIG_FIELDS, which tools/gen_tables.py reads from the
# header; importing the protocol package here would be an import cycle:
# protocol.framing imports this module)
CONFIG_FIELDS: tuple[str, ...] = tuple(name for name, _ in ffi.typeof("op_detect_config_t").fields)
DETECT_QUEUE = lib.OP_DETECT_QUEUE


def detect_config_default(exercise_id: int) -> dict:
    """The C core's default config of an exercise, as a dict."""
    cfg = ffi.new("op_detect_config_t *")
    check(lib.op_detect_config_default(cfg, exercise_id), "detect_config_default")
    return {k: getattr(cfg, k) for k in CONFIG_FIELDS}


def detect_check(config: dict) -> int:
    """Status of op_detect_check() for a config dict (missing fields are 0)."""
    cfg = ffi.new("op_detect_config_t *")
    for k, v in config.items():
        setattr(cfg, k, v)
    return lib.op_detect_check(cfg)


class Detector:
    """One op_detect_t: push raw-count arrays, get event tuples back."""

    def __init__(self, config: dict) -> None:
        cfg = ffi.new("op_detect_config_t *")
        for k, v in config.items():
            setattr(cfg, k, v)
        self._d = ffi.new("op_detect_t *")
        check(lib.op_detect_init(self._d, cfg), "detect_init")
        self._ev = ffi.new("op_detect_event_t *")
        self._cap = 0
        self._out: Any = None   # op_detect_event_t[_cap], made by run()

    @staticmethod
    def _tuple(e: Any) -> tuple:
        return (e.kind, e.count, e.t_start_us, e.t_peak_us, e.t_end_us, e.amplitude_milli, e.hold_ms)

    def push(self, t_us: int, ax: int, ay: int, az: int, gx: int, gy: int, gz: int, force: int) -> int:
        return lib.op_detect_push(self._d, t_us & 0xFFFFFFFF, ax, ay, az, gx, gy, gz, force)

    def pop(self) -> tuple | None:
        return self._tuple(self._ev) if lib.op_detect_pop(self._d, self._ev) else None

    def run(self, t_us, imu, force) -> list[tuple]:
        """t_us uint32[n], imu int16[n, 6] (C-contiguous), force int32[n]."""
        n = len(t_us)
        cap = min(4096, n // 8 + DETECT_QUEUE + 8)
        if cap > self._cap:
            self._out = ffi.new("op_detect_event_t[]", cap)
            self._cap = cap
        n_out = ffi.new("size_t *")
        pt = ffi.from_buffer("uint32_t[]", t_us)
        pi = ffi.from_buffer("int16_t[]", imu)
        pf = ffi.from_buffer("int32_t[]", force)
        events: list[tuple] = []
        i = 0
        while i < n:
            done = lib.op_detect_run(self._d, pt + i, pi + 6 * i, pf + i, n - i, self._out, self._cap, n_out)
            events.extend(self._tuple(self._out[j]) for j in range(n_out[0]))
            i += done
        return events

    def trace(self, t_us, imu, force) -> tuple[list[tuple], Any]:
        """run(), sample by sample, with what the counting rule saw after each
        sample: (n, 8) int64 rows of signal, rest, on, off, end, target (milli
        units), phase and side (op_detect_probe). For --explain; slower than run()."""
        import numpy as np
        n = len(t_us)
        rows = np.zeros((n, 8), dtype=np.int64)
        p = ffi.new("op_detect_probe_t *")
        events: list[tuple] = []
        for i in range(n):
            ax, ay, az, gx, gy, gz = (int(v) for v in imu[i])
            if self.push(int(t_us[i]), ax, ay, az, gx, gy, gz, int(force[i])):
                while (e := self.pop()) is not None:
                    events.append(e)
            lib.op_detect_probe(self._d, p)
            rows[i] = (p.signal, p.rest, p.on, p.off, p.end, p.target, p.phase, p.side)
        return events, rows

    def state(self) -> tuple[int, ...]:
        """The detector's whole state now (op_detect_state()), in the order of
        protocol/detector.toml's [state] fields: for the twin's parity test."""
        out = ffi.new("int64_t[]", lib.OP_DETECT_STATE_N)
        lib.op_detect_state(self._d, out)
        return tuple(out)

    def finish(self) -> list[tuple]:
        lib.op_detect_finish(self._d)
        out = []
        while lib.op_detect_pop(self._d, self._ev):
            out.append(self._tuple(self._ev))
        return out

    def calibrate_target(self) -> None:
        lib.op_detect_calibrate(self._d)

    @property
    def target_milli(self) -> int:
        return lib.op_detect_target(self._d)

"""The only module that touches the cffi ``lib`` of the C core.

Everything else in the SDK calls the functions here; C status codes become
:class:`openpuck.errors.CoreError`. Sections: framing (CRC, COBS, stream
decoder) and detection. Keep each wrapper small: argument checks, buffers,
one call into C.
"""
from __future__ import annotations

from ._openpuck_core import ffi, lib  # noqa: F401  (the one import of lib)
from .errors import check  # noqa: F401

# ---------------------------------------------------------------- framing

MAX_BODY = lib.OP_MAX_BODY
WIRE_MAX = lib.OP_WIRE_MAX
SAMPLE_SIZE = lib.OP_SAMPLE_SIZE
SAMPLES_MAX_N = lib.OP_SAMPLES_MAX_N
SIDE_HEAD = lib.OP_SIDE_HEAD
STOP_DONE, STOP_DEVICE_INFO, STOP_SPACE = lib.OP_STOP_DONE, lib.OP_STOP_DEVICE_INFO, lib.OP_STOP_SPACE
COUNTER_NAMES = ("frames", "samples", "crc_errors", "cobs_errors", "oversize", "truncated",
                 "version_errors", "malformed", "lost_frames", "seq_resets")


def crc32(data: bytes, crc: int = 0) -> int:
    """CRC-32/ISO-HDLC by the C core (equals binascii.crc32)."""
    return lib.op_crc32(crc, ffi.from_buffer(data), len(data))


def cobs_encode(data: bytes) -> bytes:
    n = len(data)
    out = ffi.new("uint8_t[]", n + n // 254 + 1)
    out_len = ffi.new("size_t *")
    check(lib.op_cobs_encode(ffi.from_buffer(data), n, out, len(out), out_len), "cobs_encode")
    return ffi.buffer(out, out_len[0])[:]


def cobs_decode(data: bytes) -> bytes:
    """Decode one COBS frame (no final 0x00); ValueError (a CoreError) if it is not COBS."""
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

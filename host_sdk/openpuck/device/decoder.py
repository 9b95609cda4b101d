"""StreamDecoder: bytes from a puck, in any chunking, to messages and sample blocks.

    dec = StreamDecoder()
    for item in dec.feed(chunk):
        if isinstance(item, SampleBlock):
            ...  # item.t (s), item.accel (g), item.gyro (dps), item.force (N)
        else:
            ...  # a protocol.Message: events, status, log, acks
    print(dec.counters.as_dict())

The per-byte work (finding frames, COBS, CRC, unpacking samples into the
arrays) is done by the C core; Python sees only the frames that are not
samples. :class:`PyStreamDecoder` (:mod:`openpuck.device.decoder_reference`,
importable from here too) is the same decoder in plain Python: the reference
the C path is tested against, slow.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from dataclasses import fields as dc_fields
from typing import Any

import numpy as np

from .. import protocol
from ..protocol import codec

#: scales used until the first device_info arrives (the LSM6DSOX at +/-4 g and
#: +/-500 dps, force 0.05 N/LSB: the quantisation of the shared CSV format)
DEFAULT_SCALES = {"accel_g_per_lsb": 1 / 8192, "gyro_dps_per_lsb": 1 / 65.536,
                  "force_n_per_lsb": 0.05}

#: numpy layout of one sample record on the wire
RAW_DTYPE = np.dtype([("ax", "<i2"), ("ay", "<i2"), ("az", "<i2"), ("gx", "<i2"),
                      ("gy", "<i2"), ("gz", "<i2"), ("force", "<u2")])

_SAMPLES_ID = protocol.SPECS["samples"].id
_DEVICE_INFO_ID = protocol.SPECS["device_info"].id
_MAX_N = (protocol.MAX_BODY - 8 - 7) // 14
#: a frame repeated whole up to this many frames behind the expected seq is a duplicate
DUP_WINDOW = 8
_MAX_WIRE = protocol.MAX_BODY + (protocol.MAX_BODY + 253) // 254  # COBS of a max body, no 0x00


@dataclass
class Counters:
    """What the decoder saw. ``frames`` counts intact frames (valid COBS and
    CRC, version 1), including those then counted as ``unknown_types``,
    ``malformed`` or ``duplicates``. ``lost_frames`` counts frames missing
    from seq gaps; ``duplicates`` counts frames repeated whole on the link
    (the seq and CRC of one of the last :data:`DUP_WINDOW` accepted frames),
    which are dropped; ``seq_resets`` counts the other seq jumps backwards or
    by 32768 or more (a rebooted puck), which are not counted as lost."""

    frames: int = 0
    samples: int = 0
    crc_errors: int = 0
    cobs_errors: int = 0
    oversize: int = 0
    truncated: int = 0
    version_errors: int = 0
    unknown_types: int = 0
    malformed: int = 0
    lost_frames: int = 0
    seq_resets: int = 0
    duplicates: int = 0
    bytes: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in dc_fields(self)}

    @property
    def errors(self) -> int:
        """Frames damaged or skipped: every counter of trouble except lost_frames."""
        return (self.crc_errors + self.cobs_errors + self.oversize + self.truncated
                + self.version_errors + self.unknown_types + self.malformed)


class SampleBlock:
    """Consecutive samples in physical units.

    ``t`` float64 seconds of device time, unwrapped on the host (monotonic
    across the 2^32 us wrap of t0_us); ``accel`` (n, 3) float32 g; ``gyro``
    (n, 3) float32 deg/s; ``force`` (n,) float32 N; ``raw`` the wire counts as
    a structured array of :data:`RAW_DTYPE` when the decoder keeps them, else
    None.
    """

    __slots__ = ("t", "accel", "gyro", "force", "raw")

    def __init__(self, t: np.ndarray, accel: np.ndarray, gyro: np.ndarray, force: np.ndarray,
                 raw: np.ndarray | None = None) -> None:
        self.t, self.accel, self.gyro, self.force, self.raw = t, accel, gyro, force, raw

    def __len__(self) -> int:
        return len(self.t)

    def __repr__(self) -> str:
        if len(self.t):
            return f"SampleBlock(n={len(self.t)}, t={self.t[0]:.6f}..{self.t[-1]:.6f} s)"
        return "SampleBlock(n=0)"

    @staticmethod
    def concat(blocks: list[SampleBlock]) -> SampleBlock:
        """One block holding every sample of ``blocks``, in order."""
        if not blocks:
            return SampleBlock(np.empty(0), np.empty((0, 3), np.float32),
                               np.empty((0, 3), np.float32), np.empty(0, np.float32))
        raw = None
        if all(b.raw is not None for b in blocks):
            raw = np.concatenate([b.raw for b in blocks])
        return SampleBlock(np.concatenate([b.t for b in blocks]),
                           np.concatenate([b.accel for b in blocks]),
                           np.concatenate([b.gyro for b in blocks]),
                           np.concatenate([b.force for b in blocks]), raw)


class DeviceSpan:
    """The device time a stream of sample blocks covers: pass it as a
    ``samples`` handler, read ``first``, ``last``, ``samples`` and ``span``
    from any thread."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.last = 0.0
        self.samples = 0

    def __call__(self, block: SampleBlock) -> None:
        if len(block):
            # last before first: a reader that sees first set never sees a stale last
            self.last = float(block.t[-1])
            if self.first is None:
                self.first = float(block.t[0])
            self.samples += len(block)

    @property
    def span(self) -> float:
        """Seconds from the first sample seen to the last; 0.0 before any."""
        return self.last - self.first if self.first is not None else 0.0


Item = protocol.Message | SampleBlock


def _decode_other(body: bytes, scales: dict[str, float]) -> tuple[protocol.Message | None, str | None]:
    """A CRC-checked body that is not a sample batch, as a Message, or (None,
    the counter it goes to) when it is skipped. A device_info updates
    ``scales`` in place: the samples after it are read with its scales."""
    try:
        msg = protocol.decode_body(body, check_crc=False)
    except codec.UnknownType:
        return None, "unknown_types"
    except protocol.ProtocolError:
        return None, "malformed"
    if msg.type == "device_info":
        for k in DEFAULT_SCALES:
            v = msg.fields[k]
            if v > 0 and np.isfinite(v):
                scales[k] = v
    return msg, None


def __getattr__(name: str) -> Any:
    # moved to decoder_reference, still importable from here; loaded on first
    # use, since decoder_reference imports this module
    if name == "PyStreamDecoder":
        from .decoder_reference import PyStreamDecoder
        return PyStreamDecoder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class StreamDecoder:
    """Bytes of one direction of the wire, in any chunking, to messages and sample blocks.

    ``feed(data)`` returns the items completed by ``data`` in wire order:
    :class:`openpuck.protocol.Message` for every frame that is not samples,
    and one :class:`SampleBlock` per run of consecutive sample frames.
    ``counters`` tells what was seen, damaged and lost. ``keep_raw=True``
    also keeps the wire counts (``SampleBlock.raw``).
    """

    def __init__(self, keep_raw: bool = False) -> None:
        from .. import _core
        self._core = _core.Stream(*DEFAULT_SCALES.values())
        self._space = _core.SAMPLES_MAX_N
        self._stop_info = _core.STOP_DEVICE_INFO
        self._stop_done = _core.STOP_DONE
        self.keep_raw = keep_raw
        self.scales = dict(DEFAULT_SCALES)
        self._unknown = 0
        self._malformed = 0
        self._truncated = 0
        self._bytes = 0

    @property
    def counters(self) -> Counters:
        c = Counters(**self._core.counters(), bytes=self._bytes)
        c.unknown_types += self._unknown
        c.malformed += self._malformed
        c.truncated += self._truncated
        return c

    def _alloc(self, nbytes: int):
        # At most 35 samples per frame of at least 17 + 14 * 35 bytes (header,
        # t0/period/n, CRC, a COBS code and the 0x00), plus room for the C
        # decoder's one-frame margin. One allocation for every column: one
        # page-in instead of five, and the allocator reuses it whole.
        cap = (nbytes + self._core.pending) * _MAX_N // (17 + 14 * _MAX_N) + self._space + 1
        raw_size = cap * RAW_DTYPE.itemsize if self.keep_raw else 0
        buf = np.empty(36 * cap + raw_size, np.uint8)
        arrays = (buf[:8 * cap].view(np.float64),
                  buf[8 * cap:20 * cap].view(np.float32).reshape(cap, 3),
                  buf[20 * cap:32 * cap].view(np.float32).reshape(cap, 3),
                  buf[32 * cap:36 * cap].view(np.float32),
                  buf[36 * cap:] if self.keep_raw else None)
        self._core.bind(*arrays)
        return arrays

    def feed(self, data: bytes | bytearray | memoryview) -> list[Item]:
        """Decode ``data`` (any chunk of the stream); return messages and sample blocks."""
        n = len(data)
        if n == 0:
            return []
        self._bytes += n
        arrays = self._alloc(n)
        items: list[Item] = []
        start = blk = 0
        while True:
            consumed, n_out, stop, side = self._core.feed(data, start)
            start += consumed
            pos = 0
            while pos < len(side):
                idx, blen = struct.unpack_from("<IH", side, pos)
                body = side[pos + 6:pos + 6 + blen]
                pos += 6 + blen
                if idx > blk:
                    items.append(self._block(arrays, blk, idx))
                    blk = idx
                msg = self._message(body)
                if msg is not None:
                    items.append(msg)
            if stop == self._stop_done:
                break
            if stop != self._stop_info and len(arrays[0]) - n_out < self._space:
                if n_out > blk:
                    items.append(self._block(arrays, blk, n_out))
                arrays = self._alloc(n - start)
                blk = 0
        if n_out > blk:
            items.append(self._block(arrays, blk, n_out))
        return items

    def _block(self, arrays, a: int, b: int) -> SampleBlock:
        t, accel, gyro, force, raw = arrays
        if raw is not None:
            raw = raw[a * RAW_DTYPE.itemsize:b * RAW_DTYPE.itemsize].view(RAW_DTYPE)
        return SampleBlock(t[a:b], accel[a:b], gyro[a:b], force[a:b], raw)

    def _message(self, body: bytes) -> protocol.Message | None:
        msg, skipped = _decode_other(body, self.scales)
        if skipped == "unknown_types":
            self._unknown += 1
        elif skipped == "malformed":
            self._malformed += 1
        elif msg is not None and msg.type == "device_info":
            self._core.set_scales(*self.scales.values())
        return msg

    def finish(self) -> None:
        """End of stream: an unfinished frame left over counts as truncated."""
        if self._core.reset_partial():
            self._truncated += 1

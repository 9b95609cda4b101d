"""PyStreamDecoder: the stream decoder of :mod:`openpuck.device.decoder` in
plain Python, byte by byte. It is the reference the C path
(:class:`~openpuck.device.decoder.StreamDecoder`) is tested and fuzzed
against: the same items and counters for the same bytes in any chunking. Slow.
"""
from __future__ import annotations

import struct

import numpy as np

from .. import protocol
from ..protocol.framing import _py_cobs_decode
from .decoder import (
    _MAX_N,
    _MAX_WIRE,
    _SAMPLES_ID,
    DEFAULT_SCALES,
    DUP_WINDOW,
    RAW_DTYPE,
    Counters,
    Item,
    SampleBlock,
    _decode_other,
)

__all__ = ["PyStreamDecoder"]


class PyStreamDecoder:
    """The stream decoder in plain Python: the reference for the C path."""

    def __init__(self, keep_raw: bool = False) -> None:
        self.counters = Counters()
        self.keep_raw = keep_raw
        self.scales = dict(DEFAULT_SCALES)
        self._buf = bytearray()
        self._dropping = False
        self._next_seq: int | None = None
        self._recent: dict[int, tuple[int, int]] = {}  # seq % DUP_WINDOW -> (seq, crc)
        self._t_last: int | None = None   # last t0_us seen (u32)
        self._t_unwrapped = 0             # its unwrapped value

    # --- seq and time bookkeeping (the C decoder does both in op_frame.c) ----
    def _seq(self, seq: int, crc: int) -> bool:
        """Seq accounting; True when the frame is a duplicate (to be dropped)."""
        c = self.counters
        slot = seq % DUP_WINDOW
        if self._next_seq is not None:
            gap = (seq - self._next_seq) & 0xFFFF
            if gap >= 0x8000:
                back = (self._next_seq - seq) & 0xFFFF
                if back <= DUP_WINDOW and self._recent.get(slot) == (seq, crc):
                    c.duplicates += 1
                    return True
                c.seq_resets += 1
                self._recent.clear()
            else:
                c.lost_frames += gap
        self._recent[slot] = (seq, crc)
        self._next_seq = (seq + 1) & 0xFFFF
        return False

    def _unwrap(self, t0: int) -> int:
        if self._t_last is None:
            self._t_unwrapped = t0
        else:
            d = (t0 - self._t_last) & 0xFFFFFFFF
            if d >= 0x80000000:
                d -= 0x100000000
            self._t_unwrapped += d
        self._t_last = t0
        return self._t_unwrapped

    def _message(self, body: bytes) -> protocol.Message | None:
        msg, skipped = _decode_other(body, self.scales)
        if skipped:
            setattr(self.counters, skipped, getattr(self.counters, skipped) + 1)
        return msg

    # --- the reference frame loop -------------------------------------------
    def feed(self, data: bytes) -> list[Item]:
        """Decode ``data`` (any chunk of the stream); return messages and sample blocks."""
        c = self.counters
        c.bytes += len(data)
        out: list[Item] = []
        samples: list[tuple[np.ndarray, np.ndarray]] = []  # (t_us, raw) per frame
        for b in bytes(data):
            if b != 0:
                if self._dropping:
                    continue
                self._buf.append(b)
                if len(self._buf) > _MAX_WIRE:
                    c.oversize += 1
                    self._dropping = True
                    self._buf.clear()
                continue
            if self._dropping:
                self._dropping = False
                continue
            frame = bytes(self._buf)
            self._buf.clear()
            if not frame:
                continue  # empty frame: idle or a sync 0x00
            item = self._frame(frame)
            if item is None:
                continue
            if isinstance(item, tuple):
                samples.append(item)
                continue
            if samples:  # scaled before a device_info can change the scales
                out.append(self._block(samples))
                samples = []
            msg = self._message(item)
            if msg is not None:
                out.append(msg)
        if samples:
            out.append(self._block(samples))
        return out

    def _frame(self, frame: bytes):
        c = self.counters
        try:
            body = _py_cobs_decode(frame)
        except ValueError:
            c.cobs_errors += 1
            return None
        if len(body) > protocol.MAX_BODY:
            c.oversize += 1
            return None
        if len(body) < 8:
            c.truncated += 1
            return None
        crc = struct.unpack_from("<I", body, len(body) - 4)[0]
        if protocol.crc32(body[:-4]) != crc:
            c.crc_errors += 1
            return None
        if body[0] != protocol.VERSION:
            c.version_errors += 1
            return None
        c.frames += 1
        if self._seq(body[2] | body[3] << 8, crc):
            return None
        if body[1] != _SAMPLES_ID:
            return body
        payload = body[4:-4]
        if len(payload) < 7:
            c.malformed += 1
            return None
        t0, period, n = struct.unpack_from("<IHB", payload)
        if n > _MAX_N or len(payload) < 7 + 14 * n:
            c.malformed += 1
            return None
        c.samples += n
        start = self._unwrap(t0)
        if n == 0:
            return None  # no samples: nothing to put out (as the C decoder)
        t_us = start + period * np.arange(n, dtype=np.int64)
        raw = np.frombuffer(payload, RAW_DTYPE, n, 7)
        return (t_us, raw)

    def _block(self, samples: list[tuple[np.ndarray, np.ndarray]]) -> SampleBlock:
        t_us = np.concatenate([s[0] for s in samples])
        raw = np.concatenate([s[1] for s in samples])
        a, g, f = (np.float32(self.scales[k]) for k in DEFAULT_SCALES)
        accel = np.stack([raw["ax"], raw["ay"], raw["az"]], axis=1).astype(np.float32) * a
        gyro = np.stack([raw["gx"], raw["gy"], raw["gz"]], axis=1).astype(np.float32) * g
        force = raw["force"].astype(np.float32) * f
        return SampleBlock(t_us * 1e-6, accel, gyro, force, raw if self.keep_raw else None)

    def finish(self) -> None:
        """End of stream: an unfinished frame left over counts as truncated."""
        if self._buf:
            self.counters.truncated += 1
        self._buf.clear()
        self._dropping = False

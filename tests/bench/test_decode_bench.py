"""The puck-hour (../shared/workloads.md): one puck, one hour at 200 Hz, decoded.

720,000 samples, generated seeded here, framed as the firmware frames them
(20 samples per frame, 100 ms of latency at 200 Hz). Measured in one run:

- ours: ``StreamDecoder().feed(wire)`` to physical numpy arrays;
- the hand-written decoder: per frame, the ``cobs`` C extension,
  ``binascii.crc32`` and ``struct``, the way one writes it without a core;
- the copy ceiling: the same samples as packed 18-byte records (no framing,
  no checks) copied by numpy into 8 columns.

Floors (issue 2): ours >= 30x the hand-written decoder and >= 1/4 of the
ceiling in samples/s; peak Python memory <= 2 x (decoded arrays + input);
wire cost <= 16 bytes per sample, framing included.
"""
from __future__ import annotations

import binascii
import statistics
import struct
import time
import tracemalloc

import numpy as np
import pytest
from cobs import cobs

from openpuck import StreamDecoder, protocol
from openpuck.device.decoder import SampleBlock

RATE_HZ = 200
N = 3600 * RATE_HZ
PER_FRAME = 20


def puck_hour_counts(seed: int = 1, n: int = N) -> np.ndarray:
    """(n, 7) raw counts: slow sinusoids plus noise, force a press every few seconds."""
    rng = np.random.default_rng(seed)
    N = n  # noqa: N806
    t = np.arange(N) / RATE_HZ
    out = np.empty((N, 7), np.int32)
    for ch in range(6):
        f = rng.uniform(0.05, 0.5)
        amp = 4000 if ch < 3 else 3000
        out[:, ch] = amp * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) + rng.normal(0, 40, N)
    out[:, 2] += 8192  # gravity on z
    out[:, 6] = np.clip(300 * (np.sin(2 * np.pi * 0.2 * t) > 0.6) + rng.normal(20, 5, N), 0, 65535)
    return out


def frame_puck_hour(counts: np.ndarray) -> bytes:
    parts = [protocol.encode("device_info", seq=0, fw_major=0, fw_minor=1, fw_patch=0,
                             protocol_version=1, capabilities=0x3F, accel_range_g=4,
                             gyro_range_dps=500, force_max_n=3000, accel_g_per_lsb=1 / 8192,
                             gyro_dps_per_lsb=1 / 65.536, force_n_per_lsb=0.05,
                             max_rate_hz=200, rates_hz=0x1F, board="bench", serial="0")]
    period = 1_000_000 // RATE_HZ
    N = len(counts)  # noqa: N806
    recs = counts.astype("<i2")
    recs[:, 6] = counts[:, 6].astype("<u2").view("<i2")
    raw = recs.tobytes()
    for k, i in enumerate(range(0, N, PER_FRAME)):
        n = min(PER_FRAME, N - i)
        payload = struct.pack("<IHB", (i * period) & 0xFFFFFFFF, period, n) + raw[i * 14:(i + n) * 14]
        body = struct.pack("<BBH", 1, 2, (k + 1) & 0xFFFF) + payload
        parts.append(cobs.encode(body + struct.pack("<I", binascii.crc32(body))) + b"\0")
    return b"".join(parts)


def ceiling_records(counts: np.ndarray) -> bytes:
    dt = np.dtype([("t", "<u4")] + [(c, "<i2") for c in ("ax", "ay", "az", "gx", "gy", "gz")]
                  + [("force", "<u2")])
    rec = np.empty(N, dt)
    rec["t"] = np.arange(N) * 5000
    for i, c in enumerate(dt.names[1:]):
        rec[c] = counts[:, i]
    return rec.tobytes()


CEIL_DT = np.dtype([("t", "<u4")] + [(c, "<i2") for c in ("ax", "ay", "az", "gx", "gy", "gz")]
                   + [("force", "<u2")])


def decode_ceiling(buf: bytes) -> list[np.ndarray]:
    rec = np.frombuffer(buf, CEIL_DT)
    return [rec[name].copy() for name in CEIL_DT.names]


_HEAD = struct.Struct("<BBHIHB")


def decode_hand_written(wire: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: cobs C extension, binascii.crc32, struct. Raw counts and t in us."""
    t_out: list[int] = []
    vals: list[int] = []
    for f in wire.split(b"\0"):
        if not f:
            continue
        try:
            body = cobs.decode(f)
        except cobs.DecodeError:
            continue
        if len(body) < 8 or binascii.crc32(body[:-4]) != struct.unpack_from("<I", body, len(body) - 4)[0]:
            continue
        if body[1] != 2:
            continue
        _, _, _, t0, period, n = _HEAD.unpack_from(body)
        t_out.extend(t0 + i * period for i in range(n))
        vals.extend(struct.unpack_from("<" + "hhhhhhH" * n, body, 11))
    return np.array(t_out), np.array(vals).reshape(-1, 7)


def decode_ours(wire: bytes) -> list:
    return StreamDecoder().feed(wire)


def median_rate(fn, arg, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - t0)
    return N / statistics.median(times)


@pytest.fixture(scope="module")
def workload():
    counts = puck_hour_counts()
    return counts, frame_puck_hour(counts), ceiling_records(counts)


def test_decode_puck_hour(benchmark, workload):
    counts, wire, ceil_buf = workload

    # correctness first: every sample, in physical units
    items = decode_ours(wire)
    blk = SampleBlock.concat([b for b in items if isinstance(b, SampleBlock)])
    assert len(blk) == N
    assert np.array_equal(np.rint(blk.accel / np.float32(1 / 8192)).astype(int), counts[:, :3])
    assert np.array_equal(blk.force, counts[:, 6].astype(np.float32) * np.float32(0.05))
    assert blk.t[-1] == pytest.approx((N - 1) * 0.005)

    # peak memory of one decode against 2 x (decoded arrays + input)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    items = decode_ours(wire)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    decoded = sum(a.nbytes for b in items if isinstance(b, SampleBlock)
                  for a in (b.t, b.accel, b.gyro, b.force))
    del items
    budget = 2 * (decoded + len(wire))

    benchmark.pedantic(decode_ours, args=(wire,), rounds=15, iterations=1, warmup_rounds=2)
    ours = N / benchmark.stats.stats.median
    hand = median_rate(decode_hand_written, wire, 3)
    ceiling = median_rate(decode_ceiling, ceil_buf, 15)
    per_sample = len(wire) / N
    figures = {"ours_samples_per_s": ours, "hand_written_samples_per_s": hand,
               "numpy_ceiling_samples_per_s": ceiling, "wire_bytes_per_sample": per_sample,
               "peak_mb": peak / 1e6, "peak_budget_mb": budget / 1e6,
               "x_hand_written": ours / hand, "fraction_of_ceiling": ours / ceiling}
    benchmark.extra_info.update(figures)
    print(f"\npuck-hour decode ({N} samples, {len(wire) / 1e6:.1f} MB on the wire):")
    print(f"  ours          {ours / 1e6:8.2f} M samples/s")
    print(f"  hand-written  {hand / 1e6:8.2f} M samples/s   (ours = {ours / hand:.0f}x)")
    print(f"  numpy ceiling {ceiling / 1e6:8.2f} M samples/s   (ours = {ours / ceiling:.2f} of it)")
    print(f"  wire cost     {per_sample:8.2f} bytes/sample ({PER_FRAME} samples per frame)")
    print(f"  peak memory   {peak / 1e6:8.1f} MB (budget {budget / 1e6:.1f} MB)")

    assert per_sample <= 16
    assert peak <= budget
    assert ours >= 30 * hand
    assert ours >= ceiling / 4

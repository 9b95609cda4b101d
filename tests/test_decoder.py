"""StreamDecoder: any chunking, damage costs only the frames it touches and
is counted exactly, seq gaps are lost frames, device time is unwrapped, and
samples come out in physical units. The C path and the pure-Python reference
path must agree on everything."""
from __future__ import annotations

import random

import numpy as np
import pytest

from openpuck import StreamDecoder, protocol
from openpuck.device.decoder import DeviceSpan, PyStreamDecoder, SampleBlock

DECODERS = [StreamDecoder, PyStreamDecoder]
INFO = dict(fw_major=1, fw_minor=0, fw_patch=0, protocol_version=1, capabilities=3,
            accel_range_g=16, gyro_range_dps=2000, force_max_n=3000,
            accel_g_per_lsb=1 / 2048, gyro_dps_per_lsb=1 / 16.384, force_n_per_lsb=0.05,
            max_rate_hz=200, rates_hz=0x1F, board="test", serial="1")


def make_frames(k: int, rng: random.Random, first_seq: int = 0) -> list[bytes]:
    """k frames: mostly sample batches, some events and status; seq counts up."""
    frames = []
    t = 0
    for i in range(k):
        seq = (first_seq + i) & 0xFFFF
        r = rng.random()
        if r < 0.8:
            n = rng.randint(1, 35)
            recs = [tuple(rng.randint(-32768, 32767) for _ in range(6)) + (rng.randint(0, 65535),)
                    for _ in range(n)]
            frames.append(protocol.encode("samples", seq, t0_us=t & 0xFFFFFFFF, period_us=5000, samples=recs))
            t += 5000 * n
        elif r < 0.9:
            frames.append(protocol.encode("rep", seq, exercise=1, count=i, t_start_us=1, t_peak_us=2,
                                          t_end_us=3, amplitude=-5, hold_ms=0))
        else:
            frames.append(protocol.encode("log", seq, level=1, text="x" * rng.randint(0, 200)))
    return frames


def run(cls, wire: bytes, rng: random.Random | None = None):
    d = cls(keep_raw=True)
    items = []
    if rng is None:
        items = d.feed(wire)
    else:
        pos = 0
        while pos < len(wire):
            c = rng.choice([1, 5, 17, 300, 4096])
            items += d.feed(wire[pos:pos + c])
            pos += c
    return d, items


def summary(items):
    out = []
    for it in items:
        if isinstance(it, SampleBlock):
            out += [("s", tuple(int(x) for x in r)) for r in it.raw]
        else:
            out.append((it.type, it.seq))
    return out


def intact_summary(frames, keep):
    out = []
    for i, f in enumerate(frames):
        if i in keep:
            m = protocol.decode(f)
            if m.type == "samples":
                out += [("s", r) for r in m.fields["samples"]]
            else:
                out.append((m.type, m.seq))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_any_chunking_gives_the_same_items(seed):
    rng = random.Random(seed)
    frames = make_frames(60, rng)
    wire = b"".join(frames)
    whole = summary(run(StreamDecoder, wire)[1])
    assert whole == intact_summary(frames, set(range(60)))
    for cls in DECODERS:
        d, items = run(cls, wire, rng)
        assert summary(items) == whole
        assert d.counters.frames == 60 and d.counters.errors == 0 and d.counters.lost_frames == 0


def damage(frames, rng, kind):
    """Damage some frames (never the last) without touching any 0x00; return the
    wire and the indices of the touched frames."""
    touched = set(rng.sample(range(len(frames) - 1), 5))
    out = []
    for i, f in enumerate(frames):
        f = bytearray(f)
        if i in touched:
            at = rng.randrange(len(f) - 1)
            if kind == "flip":
                bit = 1 << rng.randrange(8)
                if f[at] ^ bit == 0:
                    bit = 1 << ((bit.bit_length()) % 8)
                f[at] ^= bit
            elif kind == "drop":
                del f[at]
            else:
                f.insert(at, rng.randrange(1, 256))
        out.append(bytes(f))
    return b"".join(out), touched


@pytest.mark.parametrize("kind", ["flip", "drop", "insert"])
@pytest.mark.parametrize("seed", range(5))
def test_damage_loses_only_the_touched_frames_and_counts_them(kind, seed):
    rng = random.Random(seed)
    frames = make_frames(80, rng)
    wire, touched = damage(frames, rng, kind)
    keep = set(range(80)) - touched
    results = []
    for cls in DECODERS:
        d, items = run(cls, wire, random.Random(seed))
        assert summary(items) == intact_summary(frames, keep)
        c = d.counters
        assert c.frames == 75
        assert c.crc_errors + c.cobs_errors + c.truncated == 5
        assert c.lost_frames == 5 and c.seq_resets == 0
        results.append(c.as_dict())
    assert results[0] == results[1]  # C and Python count the same


def test_a_lost_delimiter_merges_two_frames_into_one_error():
    frames = make_frames(10, random.Random(1))
    wire = b"".join(frames[:3]) + frames[3][:-1] + b"".join(frames[4:])
    for cls in DECODERS:
        d, items = run(cls, wire)
        c = d.counters
        assert c.frames == 8 and c.lost_frames == 2
        assert c.crc_errors + c.cobs_errors + c.oversize == 1
        assert summary(items) == intact_summary(frames, set(range(10)) - {3, 4})


def test_garbage_between_frames_is_counted_and_resynchronised():
    frames = make_frames(4, random.Random(2))
    wire = frames[0] + bytes(range(1, 200)) * 5 + b"\x00" + b"".join(frames[1:])
    for cls in DECODERS:
        d, items = run(cls, wire, random.Random(3))
        assert d.counters.oversize == 1 and d.counters.frames == 4
        assert summary(items) == intact_summary(frames, {0, 1, 2, 3})


def test_seq_gaps_wraps_and_resets():
    ack = lambda s: protocol.encode("ack", s, cmd_type=1, cmd_seq=1)  # noqa: E731
    for cls in DECODERS:
        d = cls()
        d.feed(ack(65534) + ack(65535) + ack(0) + ack(3))   # wraps cleanly, then 2 lost
        assert (d.counters.lost_frames, d.counters.seq_resets) == (2, 0)
        assert d.feed(ack(3)) == []                         # a duplicate: dropped, not 65535 lost
        d.feed(ack(40000))                                  # a jump of >= 32768: a reset
        assert (d.counters.lost_frames, d.counters.seq_resets, d.counters.duplicates) == (2, 1, 1)


def test_a_frame_repeated_whole_is_dropped_as_a_duplicate():
    def smp(seq, t0):
        return protocol.encode("samples", seq, t0_us=t0, period_us=5000, samples=[(seq,) * 7] * 2)
    frames = [smp(s, 10000 * s) for s in range(20)]
    # 5 repeated at once, 9 repeated 3 frames late: both dropped
    wire = b"".join(frames[:6]) + frames[5] + b"".join(frames[6:12]) + frames[9] + b"".join(frames[12:])
    # the same seq with other content (another t0) is a discontinuity, and so
    # is a repeat further back than DUP_WINDOW
    wire += smp(19, 999_000) + smp(20, 1_000_000) + frames[5]
    for cls in DECODERS:
        d, items = run(cls, wire, random.Random(4))
        c = d.counters
        t = SampleBlock.concat([b for b in items if isinstance(b, SampleBlock)]).t
        assert c.duplicates == 2 and c.seq_resets == 2 and c.lost_frames == 0
        assert c.frames == 25 and c.samples == 2 * 23 == len(t)
        assert np.all(np.diff(t[:40]) > 0)


def test_device_time_is_unwrapped_across_2_to_the_32():
    wire = b"".join(protocol.encode("samples", i, t0_us=(4294967296 - 10000 + 10000 * i) & 0xFFFFFFFF,
                                    period_us=5000, samples=[(0,) * 7] * 2) for i in range(4))
    for cls in DECODERS:
        d, items = run(cls, wire, random.Random(0))
        t = SampleBlock.concat([b for b in items if isinstance(b, SampleBlock)]).t
        assert np.allclose(np.diff(t), 0.005)
        assert t[0] == pytest.approx((4294967296 - 10000) * 1e-6)


def test_samples_in_physical_units_with_the_latest_device_info():
    rec = (2048, -2048, 1024, 16384, -164, 0, 200)
    wire = (protocol.encode("samples", 0, t0_us=0, period_us=5000, samples=[rec])
            + protocol.encode("device_info", 1, **INFO)
            + protocol.encode("samples", 2, t0_us=5000, period_us=5000, samples=[rec]))
    for cls in DECODERS:
        d, items = run(cls, wire)
        before, info, after = items
        assert info.type == "device_info"
        # before any device_info: the default scales (1/8192 g, 1/65.536 dps, 0.05 N)
        assert before.accel[0].tolist() == [0.25, -0.25, 0.125]
        assert after.accel[0].tolist() == [1.0, -1.0, 0.5]
        assert after.gyro[0].tolist() == pytest.approx([1000.0, -10.009765625, 0.0])
        assert after.force[0] == pytest.approx(10.0)
        assert after.accel.dtype == np.float32 and after.t.dtype == np.float64
        assert after.accel.shape == (1, 3) and after.force.shape == (1,)


def test_an_unfinished_frame_at_the_end_counts_as_truncated():
    wire = protocol.encode("ack", 0, cmd_type=1, cmd_seq=1)
    for cls in DECODERS:
        d = cls()
        assert d.feed(wire[:-3]) == []
        d.finish()
        assert d.counters.truncated == 1


def test_many_device_infos_in_one_feed():
    # the C decoder stops after each device_info so the scales are applied in order
    wire = b""
    for i in range(50):
        info = dict(INFO, accel_g_per_lsb=1.0 / (i + 1))
        wire += protocol.encode("device_info", 2 * i, **info)
        wire += protocol.encode("samples", 2 * i + 1, t0_us=i, period_us=1, samples=[(1,) + (0,) * 6])
    for cls in DECODERS:
        d, items = run(cls, wire)
        blocks = [b for b in items if isinstance(b, SampleBlock)]
        assert [float(b.accel[0, 0]) for b in blocks] == [np.float32(1.0 / (i + 1)) for i in range(50)]


def test_puck_minute_decodes_exactly():
    """The benchmark's workload, one minute of it (tests/bench measures the hour)."""
    from tests.bench.test_decode_bench import frame_puck_hour, puck_hour_counts
    counts = puck_hour_counts(n=12000)
    wire = frame_puck_hour(counts)
    d = StreamDecoder()
    items = d.feed(wire)
    blk = SampleBlock.concat([b for b in items if isinstance(b, SampleBlock)])
    assert len(blk) == 12000 and d.counters.samples == 12000 and d.counters.errors == 0
    assert np.array_equal(np.rint(blk.accel * 8192).astype(int), counts[:, :3])
    assert np.array_equal(np.rint(blk.gyro * 65.536).astype(int), counts[:, 3:6])
    assert np.allclose(blk.t, np.arange(12000) * 0.005)
    assert len(wire) / 12000 <= 16


def _block(t: list[float]) -> SampleBlock:
    n = len(t)
    return SampleBlock(np.array(t, float), np.zeros((n, 3), np.float32),
                       np.zeros((n, 3), np.float32), np.zeros(n, np.float32))


def test_device_span_covers_first_to_last_sample_and_ignores_empty_blocks():
    span = DeviceSpan()
    assert (span.first, span.samples, span.span) == (None, 0, 0.0)
    span(_block([]))
    assert span.first is None
    span(_block([10.0, 10.005]))
    span(_block([]))
    span(_block([10.010, 10.015, 12.5]))
    assert (span.first, span.last, span.samples) == (10.0, 12.5, 5)
    assert span.span == pytest.approx(2.5)

"""The fault-injection relay itself, against a fake byte stream (no puck needed).

The stream is made with openpuck.protocol.encode and read back with
openpuck.StreamDecoder, so these tests also pin down what "exactly the frames
lost" means for the SDK's decoder: its lost_frames counter must equal the
relay's ledger, whatever the fault.
"""
from __future__ import annotations

import os
import pty
import select
import time
import tty

import pytest

from openpuck import protocol

from .faultproxy import FAULT_KINDS, FaultInjector, FaultPlan, FaultProxy, read_frame

pytestmark = pytest.mark.selftest


def fake_stream(n_frames: int, seed: int = 0) -> list[bytes]:
    """Sample frames with a status frame every 10th, one seq counter for all."""
    frames = []
    t = 1_000_000
    for seq in range(n_frames):
        if seq % 10 == 5:
            frames.append(protocol.encode("status", seq=seq, battery_mv=3900, battery_pct=80,
                                          dropped_samples=0, uptime_ms=seq, streaming=1,
                                          exercise=1, reps=0, partial_reps=0, rx_errors=0,
                                          reset_cause=0, cpu_load=10,
                                          link_dropped_samples=0, link_dropped_frames=0, target=0))
            continue
        n = 5 + (seq + seed) % 30
        recs = [((i * 7) % 100, -i, 8192, i, 0, -3, 80 + i) for i in range(n)]
        frames.append(protocol.encode("samples", seq=seq, t0_us=t, period_us=5000, n=n,
                                      samples=recs))
        t += n * 5000
    return frames


def decode_all(chunks: list[bytes]):
    import openpuck

    dec = openpuck.StreamDecoder()
    samples = 0
    for c in chunks:
        for item in dec.feed(c):
            if not isinstance(item, protocol.Message):
                samples += len(item)
    return dec.counters, samples


def run_injector(plan: FaultPlan | None, frames: list[bytes], chunk: int = 61):
    """Faults armed for all but the last 5 frames (a loss shows only when a later
    frame arrives: the host counts seq gaps)."""
    inj = FaultInjector()
    out = []
    for part, armed in ((frames[:-5], plan is not None), (frames[-5:], False)):
        if armed:
            inj.arm(plan)
        else:
            inj.disarm()
        wire = b"".join(part)
        for i in range(0, len(wire), chunk):
            out.extend(b for _, b in inj.feed(wire[i:i + chunk], now=0.0))
    return inj.ledger, out


def test_read_frame_knows_type_seq_and_sample_count():
    fr = read_frame(3, fake_stream(2)[1][:-1])
    assert (fr.index, fr.type, fr.seq, fr.n_samples) == (3, "samples", 1, 6)
    fr = read_frame(0, protocol.encode("ack", seq=9, cmd_type=0x46, cmd_seq=4)[:-1])
    assert fr.type == "ack" and fr.message.fields == {"cmd_type": 0x46, "cmd_seq": 4}
    assert read_frame(0, b"\x05garbage").type is None


def test_unarmed_relay_is_transparent():
    frames = fake_stream(200)
    ledger, out = run_injector(None, frames)
    assert b"".join(out) == b"".join(frames)
    assert ledger.frames_up == 200 and ledger.faults == [] and ledger.unreadable_up == 0


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_kind_loses_exactly_what_the_ledger_says(kind):
    frames = fake_stream(400)
    ledger, out = run_injector(FaultPlan(kinds=(kind,), every=9, seed=3), frames)
    counters, samples = decode_all(out)
    assert len(ledger.faults) > 30
    expect_lost = {"drop_delim": 2}.get(kind, 1) * len(ledger.faults) if kind not in (
        "delay", "dup_frame") else 0
    assert ledger.lost_frames == expect_lost
    assert counters.lost_frames == ledger.lost_frames
    # a frame repeated whole is dropped by the SDK as a duplicate: its samples come once
    assert samples == ledger.samples_up - ledger.lost_samples
    assert counters.duplicates == len(ledger.duplicated)
    assert counters.seq_resets == 0


def test_mixed_random_faults_are_booked_exactly():
    frames = fake_stream(3000, seed=1)
    plan = FaultPlan(kinds=FAULT_KINDS, every=None, probability=0.05, seed=42)
    ledger, out = run_injector(plan, frames, chunk=997)
    counters, samples = decode_all(out)
    assert counters.lost_frames == ledger.lost_frames > 50
    assert samples == ledger.samples_up - ledger.lost_samples
    assert counters.duplicates == len(ledger.duplicated) and counters.seq_resets == 0
    assert set(ledger.lost_seqs) == {f.seq for f in ledger.lost}


def test_only_listed_types_are_damaged_and_max_faults_holds():
    frames = fake_stream(500)
    ledger, _ = run_injector(FaultPlan(types=frozenset({"status"}), every=2, max_faults=7),
                             frames)
    assert len(ledger.faults) == 7
    assert {f.frame.type for f in ledger.faults} == {"status"}


def test_plan_rejects_nonsense():
    with pytest.raises(ValueError):
        FaultPlan(kinds=("melt",))
    with pytest.raises(ValueError):
        FaultPlan(every=None, probability=None)
    with pytest.raises(ValueError):
        FaultPlan(every=1)


def _read_until_quiet(fd: int, quiet_s: float = 0.3, limit_s: float = 10.0) -> bytes:
    out = bytearray()
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], quiet_s)
        if not r:
            break
        out += os.read(fd, 65536)
    return bytes(out)


def test_relay_over_ptys_books_faults_and_passes_commands_both_ways():
    # the fake puck: a pty whose master we write frames to; the relay opens its slave
    pm, ps = pty.openpty()
    tty.setraw(ps)
    frames = fake_stream(600)
    with FaultProxy(os.ttyname(ps)) as proxy:
        host = os.open(proxy.port, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(host)
        try:
            proxy.arm(FaultPlan(kinds=("flip", "drop", "drop_delim", "delay", "dup_frame"),
                                every=11, delay_s=0.01))
            got = bytearray()
            for i in range(0, len(frames), 50):
                os.write(pm, b"".join(frames[i:i + 50]))
                got += _read_until_quiet(host, 0.05, 2.0)
            proxy.disarm()
            got += _read_until_quiet(host)
            counters, samples = decode_all([bytes(got)])
            assert proxy.error is None
            assert proxy.ledger.frames_up == 600
            assert counters.lost_frames == proxy.ledger.lost_frames > 0
            # host to puck: relayed untouched and read; inject_down writes raw bytes
            cmd = protocol.encode("ping", seq=1, host_time_us=5)
            os.write(host, cmd)
            assert _read_until_quiet(pm) == cmd
            proxy.inject_down(b"\x01\x02\x00")
            assert _read_until_quiet(pm) == b"\x01\x02\x00"
            assert [(f.type, f.seq) for f in proxy.ledger.down] == [("ping", 1)]
            # wait_up finds a frame the relay saw
            os.write(pm, protocol.encode("pong", seq=600, host_time_us=5, device_time_us=9))
            fr = proxy.wait_up(lambda f: f.type == "pong", timeout=2)
            assert fr is not None and fr.message.fields["device_time_us"] == 9
        finally:
            os.close(host)
    os.close(pm)
    os.close(ps)

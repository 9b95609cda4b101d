"""Recordings: append-only raw wire bytes that survive a crash, and replay."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import openpuck
from openpuck import protocol
from openpuck.device.events import Gap, Rep
from openpuck.offline.recording import IN, NOTE, OUT, Recorder, Recording, RecordingError
from tests.test_sdk_fakepuck import FakePuck


def test_header_and_chunks_round_trip(tmp_path):
    p = tmp_path / "a.opr"
    with Recorder(p, url="serial:/dev/ttyACM0") as rec:
        rec.write(IN, b"\x01\x02\x00", t=0.25)
        rec.write(OUT, b"\x03\x00", t=0.5)
        rec.note("disconnect", reason="test")
    r = Recording(p)
    assert r.header["url"] == "serial:/dev/ttyACM0"
    assert r.header["flush_interval_s"] == 0.5 and r.header["version"] == 1
    chunks = list(r.chunks())
    assert [(c.direction, c.t, c.data) for c in chunks[:2]] == [(IN, 0.25, b"\x01\x02\x00"),
                                                               (OUT, 0.5, b"\x03\x00")]
    assert chunks[2].direction == NOTE and chunks[2].note() == {"kind": "disconnect", "reason": "test"}
    assert r.inbound() == b"\x01\x02\x00" and not r.truncated


def test_a_torn_tail_is_skipped_and_reported(tmp_path):
    p = tmp_path / "a.opr"
    with Recorder(p) as rec:
        for i in range(10):
            rec.write(IN, bytes([i + 1]) * 100)
    data = p.read_bytes()
    p.write_bytes(data[:-50])            # the last chunk half written
    r = Recording(p)
    assert len(list(r.chunks())) == 9 and r.truncated and r.tail_bytes > 0


def test_not_a_recording_is_a_clear_error(tmp_path):
    p = tmp_path / "x.opr"
    p.write_bytes(b"hello world")
    with pytest.raises(RecordingError, match="not an OpenPuck recording"):
        Recording(p)


def test_survives_kill_9_up_to_the_last_flush(tmp_path):
    """A writer killed with SIGKILL leaves a file readable up to its last
    flush: the recorder flushes while it runs (every flush_interval_s), not
    only at close."""
    p = tmp_path / "crash.opr"
    ready = tmp_path / "ready"
    code = textwrap.dedent(f"""
        import time, pathlib
        from openpuck.offline.recording import Recorder, IN
        rec = Recorder({str(p)!r}, url="loop:x")
        i = 0
        t0 = time.monotonic()
        while True:
            rec.write(IN, i.to_bytes(4, "little") * 8)
            i += 1
            if i == 200:
                pathlib.Path({str(ready)!r}).write_text("go")
            time.sleep(0.002)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        while not ready.exists():
            assert proc.poll() is None
            time.sleep(0.05)
        flushed = len(list(Recording(p).chunks()))
        while len(list(Recording(p).chunks())) <= flushed:     # a flush with the writer still running
            assert proc.poll() is None
            time.sleep(0.05)
        flushed = len(list(Recording(p).chunks()))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    r = Recording(p)
    chunks = list(r.chunks())
    # everything up to the last flush is there, in order, with no hole
    values = [int.from_bytes(c.data[:4], "little") for c in chunks]
    assert values == list(range(len(values)))
    assert len(values) >= max(200, flushed), "what was flushed before the kill is still there"


class ReplayClock:
    """The replay transport's view of time: sleeping moves it on at once."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept += s
        self.now += s


def replay_clock(monkeypatch) -> ReplayClock:
    import openpuck.device.transports.replay as replay
    clock = ReplayClock()
    monkeypatch.setattr(replay, "time", clock)
    return clock


def test_puck_records_both_directions_and_replay_gives_the_same_events(tmp_path, monkeypatch):
    fake = FakePuck("rec1")
    path = tmp_path / "s.opr"
    try:
        with openpuck.connect(fake.url, record=str(path)) as puck:
            puck.start(exercise="grip_squeeze", target=25.0)
            live = [e for e in puck.events(duration=1.3) if isinstance(e, Rep)]
    finally:
        fake.close()
    r = Recording(path)
    dirs = {c.direction for c in r.chunks()}
    assert dirs == {IN, OUT, NOTE}
    sent = [protocol.decode(f + b"\x00").type
            for c in r.chunks() if c.direction == OUT for f in c.data.split(b"\x00")[:-1]]
    assert "set_exercise" in sent and "start" in sent
    clock = replay_clock(monkeypatch)
    with openpuck.connect(f"replay:{path}?speed=max") as puck:
        puck.start()       # accepted and ignored on a replay
        with pytest.raises(openpuck.device.transports.ReadOnlyError):
            puck.led(1, 2, 3)
        replayed = [e for e in puck.events(timeout=5) if isinstance(e, Rep)]
        assert puck.info.serial == "FAKE0001"
    assert clock.slept == 0, "speed=max never waits for the recorded time"
    assert [(r.count, r.t_start, r.amplitude) for r in replayed][:len(live)] == \
        [(r.count, r.t_start, r.amplitude) for r in live]


def test_replay_at_real_speed_takes_the_recorded_time(tmp_path, monkeypatch):
    p = tmp_path / "t.opr"
    frames = [protocol.encode("log", seq=i, level=1, text=f"m{i}") for i in range(3)]
    with Recorder(p) as rec:
        for i, f in enumerate(frames):
            rec.write(IN, f, t=0.3 * i)
    clock = replay_clock(monkeypatch)
    with openpuck.connect(f"replay:{p}") as puck:
        texts = [e.text for e in puck.events(timeout=3)]
    assert texts == ["m0", "m1", "m2"]
    assert clock.slept == pytest.approx(0.6), "the frames come 0.3 s apart, as recorded"


def test_a_recorded_disconnect_replays_as_a_gap(tmp_path):
    fake = FakePuck("rec2")
    path = tmp_path / "d.opr"
    try:
        with openpuck.connect(fake.url, record=str(path)) as puck:
            puck.start()
            time.sleep(0.4)
            fake.break_mid_frame()
            list(puck.events(duration=1.0))
    finally:
        fake.close()
    with openpuck.connect(f"replay:{path}?speed=max") as puck:
        evs = list(puck.events(timeout=5))
        c = puck.counters
    gaps = [e for e in evs if isinstance(e, Gap) and e.reason == "disconnected"]
    assert len(gaps) == 1 and c["partial_frames"] == 1 and c["crc_errors"] == 0

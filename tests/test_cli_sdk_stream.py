"""openpuck stream (live view, --json, --lsl) and openpuck scan."""
from __future__ import annotations

import importlib
import json
import time
import types

import pytest

import openpuck
from openpuck.cli import main
from tests.test_sdk_fakepuck import FakePuck


@pytest.fixture
def fake():
    f = FakePuck(f"stream{time.monotonic_ns()}")
    yield f
    f.close()


def test_stream_json_prints_one_event_per_line(fake, capsys):
    assert main(["stream", fake.url, "--json", "--seconds", "1.4", "--target", "25"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    kinds = [d["kind"] for d in lines]
    assert "rep" in kinds and "grip" in kinds and "status" not in kinds
    rep = next(d for d in lines if d["kind"] == "rep")
    assert rep["amplitude"] == pytest.approx(20.0) and rep["exercise"] == "grip_squeeze"


def test_stream_plain_lines(fake, capsys):
    assert main(["stream", fake.url, "--plain", "--seconds", "1.2"]) == 0
    cap = capsys.readouterr()
    assert " rep #1 " in cap.out and "samples" in cap.err


def test_live_view_renders_values_reps_rate_and_loss(fake):
    from rich.console import Console

    from openpuck.device.live import LiveView
    with openpuck.connect(fake.url) as puck:
        view = LiveView(puck)
        puck.start()
        time.sleep(1.3)
        con = Console(record=True, width=110, force_terminal=False)
        con.print(view.render())
    text = con.export_text()
    for word in ("accel", "gyro", "force", "reps", "grips", "rate", "loss", "FAKE0001"):
        assert word in text
    assert "+1.000" in text and "frames lost" in text
    assert 150 < view.rate_hz < 260


class FakeLsl:
    """Just what openpuck.device.lsl uses of pylsl."""

    def __init__(self):
        self.outlets = []

    def local_clock(self):
        return time.monotonic() + 1000.0

    class _Desc:
        def append_child(self, name):
            return FakeLsl._Desc()

        def append_child_value(self, k, v):
            return self

    def StreamInfo(self, name, type_, n, rate, fmt, source_id):
        info = types.SimpleNamespace(name=lambda: name, type=type_, n=n, rate=rate, fmt=fmt,
                                     source_id=source_id)
        info.desc = lambda: FakeLsl._Desc()
        return info

    def StreamOutlet(self, info, chunk_size=0, max_buffered=360):
        out = types.SimpleNamespace(info=info, chunks=[], samples=[], get_info=lambda: info)
        out.push_chunk = lambda data, ts: out.chunks.append((data, ts))
        out.push_sample = lambda data, ts=None: out.samples.append((data, ts))
        self.outlets.append(out)
        return out


def test_lsl_outlets_push_samples_and_events_with_device_timestamps(fake):
    from openpuck.device.lsl import LslOutlets
    lsl = FakeLsl()
    with openpuck.connect(fake.url) as puck:
        outs = LslOutlets.for_puck(puck, rate_hz=200, pylsl=lsl)
        puck.start()
        time.sleep(1.3)
    s_out, e_out = lsl.outlets
    assert s_out.info.type == "IMU" and s_out.info.n == 7 and s_out.info.rate == 200
    assert s_out.info.source_id == "openpuck-FAKE0001-samples"
    assert e_out.info.type == "Markers" and e_out.info.fmt == "string" and e_out.info.rate == 0
    rows = [r for data, _ in s_out.chunks for r in data]
    stamps = [t for _, ts in s_out.chunks for t in ts]
    assert len(rows) == outs.pushed_samples > 150 and len(rows[0]) == 7
    assert rows[0][2] == pytest.approx(1.0)
    # stamps are the samples' device times mapped to LSL's clock: 5 ms apart, near "now"
    d = [b - a for a, b in zip(stamps, stamps[1:])]
    assert min(d) == pytest.approx(0.005, abs=1e-4) and max(d) == pytest.approx(0.005, abs=1e-4)
    assert abs(stamps[-1] - lsl.local_clock()) < 2.0
    evs = [json.loads(data[0]) for data, _ in e_out.samples]
    assert "rep" in [e["kind"] for e in evs]
    assert all(ts is not None for _, ts in e_out.samples)


def test_stream_lsl_uses_the_outlets(fake, monkeypatch, capsys):
    lsl = FakeLsl()
    import openpuck.device.lsl as lslmod
    monkeypatch.setattr(lslmod, "_pylsl", lambda: lsl)
    assert main(["stream", fake.url, "--lsl", "--plain", "--seconds", "1.0"]) == 0
    assert "LSL: streams 'OpenPuck FAKE0001 samples'" in capsys.readouterr().err
    assert lsl.outlets[0].chunks


def test_stream_lsl_without_pylsl_is_a_clear_error(monkeypatch, capsys):
    import builtins
    real = builtins.__import__

    def no_pylsl(name, *a, **kw):
        if name == "pylsl":
            raise ImportError(name)
        return real(name, *a, **kw)
    monkeypatch.setattr(builtins, "__import__", no_pylsl)
    assert main(["stream", "sim:", "--lsl"]) == 2
    err = capsys.readouterr().err
    assert "pip install pylsl" in err and "pip install '.[lsl]'" in err   # from an index, from a checkout


def test_real_pylsl_outlet_is_seen_by_an_inlet(fake):
    pylsl = pytest.importorskip("pylsl")
    try:
        pylsl.local_clock()
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"liblsl not loadable: {e}")
    from openpuck.device.lsl import LslOutlets
    with openpuck.connect(fake.url) as puck:
        LslOutlets.for_puck(puck, rate_hz=200)
        found = pylsl.resolve_byprop("source_id", "openpuck-FAKE0001-samples", timeout=5)
        assert found, "the samples stream is not visible on the network"
        inlet = pylsl.StreamInlet(found[0])
        inlet.open_stream(timeout=5)
        puck.start()
        rows = []
        deadline = time.monotonic() + 5
        while len(rows) < 50 and time.monotonic() < deadline:
            data, ts = inlet.pull_chunk(timeout=0.5)
            rows += data
        inlet.close_stream()
    assert len(rows) >= 50 and rows[0][2] == pytest.approx(1.0)


def test_scan_lists_usb_pucks_by_vendor_id(monkeypatch, capsys):
    from serial.tools import list_ports_common
    sc = importlib.import_module("openpuck.device.scan")

    def port(dev, vid, pid):
        p = list_ports_common.ListPortInfo(dev, skip_link_detection=True)
        p.vid, p.pid, p.product, p.serial_number = vid, pid, "Board in FS mode", "E66138"
        return p
    ports = [port("/dev/ttyACM0", 0x2E8A, 0x0005), port("/dev/ttyUSB0", 0x10C4, 0xEA60),
             port("/dev/ttyACM1", 0x303A, 0x4001)]
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: ports)
    found = sc.scan(ble=False)
    assert [f.url for f in found] == ["serial:/dev/ttyACM0", "serial:/dev/ttyACM1"]
    assert "2E8A:0005 Raspberry Pi" in found[0].detail
    assert main(["scan", "--no-ble", "--first"]) == 0
    assert capsys.readouterr().out.strip() == "serial:/dev/ttyACM0"


def test_scan_without_bluetooth_still_lists_usb_and_says_why(monkeypatch, capsys):
    sc = importlib.import_module("openpuck.device.scan")
    monkeypatch.setattr(sc, "scan_serial", lambda: [])

    def no_ble(timeout):
        raise OSError("[Errno 2] No such file or directory")
    monkeypatch.setattr(sc, "scan_ble", no_ble)
    assert main(["scan"]) == 0
    cap = capsys.readouterr()
    assert "no puck found" in cap.out and "BLE skipped: no Bluetooth adapter" in cap.err


@pytest.mark.parametrize("cmd", ["stream", "scan", "plot"])
def test_help_has_examples(cmd, capsys):
    with pytest.raises(SystemExit):
        main([cmd, "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and f"openpuck {cmd}" in out


def test_live_view_shows_the_pucks_rate_not_the_speed_its_samples_arrive_at():
    """A virtual puck at speed 2 (or max) sends its 200 Hz faster than real
    time: the view says 200 Hz, by the puck's clock, whatever the arrival."""
    import numpy as np

    from openpuck.device.decoder import SampleBlock
    from openpuck.device.live import LiveView
    handlers = {}
    stub = types.SimpleNamespace(on=lambda kind, cb: handlers.setdefault(kind, cb), url="sim:")
    view = LiveView(stub)
    for i in range(40):     # 4 s of the puck's time at 200 Hz, handed over at once
        t = (i * 20 + np.arange(20)) / 200.0
        handlers["samples"](SampleBlock(t, np.zeros((20, 3), np.float32), np.zeros((20, 3), np.float32),
                                        np.zeros(20, np.float32)))
    assert view.rate_hz == pytest.approx(200.0, rel=1e-6)


def test_live_view_shows_the_target_the_puck_counts_against():
    import types

    from rich.console import Console

    from openpuck.device.events import Target
    from openpuck.device.live import LiveView
    handlers = {}
    stub = types.SimpleNamespace(on=lambda kind, cb: handlers.setdefault(kind, cb), url="sim:", connected=True,
                                 info=None, counters={}, status=None, clock=types.SimpleNamespace(synced=False))
    view = LiveView(stub)

    def shown() -> str:
        con = Console(record=True, width=110, force_terminal=False)
        con.print(view.render())
        return con.export_text()
    assert "target" not in shown(), "nothing said yet"
    handlers["*"](Target(t=0.0, exercise="wrist_flexion", value=None, unit="deg", source="learned"))
    assert "being learned from the first reps" in shown()
    handlers["*"](Target(t=4.2, exercise="wrist_flexion", value=38.25, unit="deg", source="learned"))
    assert "38.2 deg (learned)" in shown()


def test_stream_prints_the_target_the_puck_learned(capsys):
    from openpuck.device import sim
    try:
        sim.micropython_command()
    except sim.SimUnavailable as e:
        pytest.skip(str(e))
    assert main(["stream", "sim:?scenario=grip10&speed=max", "--json", "--seconds", "12",
                 "--target", "auto"]) == 0
    told = [d for d in map(json.loads, capsys.readouterr().out.splitlines()) if d["kind"] == "target"]
    assert told[0]["value"] is None and told[0]["source"] == "learned"
    # learned at 40% of the patient's typical squeeze: the squeezes are of 25 N
    assert any(d["value"] and 8 < d["value"] < 13 and d["unit"] == "N" for d in told[1:]), told


def test_stream_seconds_counts_the_pucks_time_as_record_does(capsys):
    """At speed=max the whole 33 s grip10 scenario plays in a few seconds here:
    --seconds 10 must stop after 10 s of the puck's time, a few reps in."""
    from openpuck.device import sim
    try:
        sim.micropython_command()
    except sim.SimUnavailable as e:
        pytest.skip(str(e))
    assert main(["stream", "sim:?scenario=grip10&speed=max", "--json", "--seconds", "10",
                 "--target", "20"]) == 0
    reps = [d for d in map(json.loads, capsys.readouterr().out.splitlines()) if d["kind"] == "rep"]
    assert 0 < len(reps) < 10


@pytest.mark.parametrize("cmd", ["stream", "record"])
def test_seconds_help_says_it_is_the_pucks_time(cmd, capsys):
    with pytest.raises(SystemExit):
        main([cmd, "--help"])
    assert "of the puck's time" in " ".join(capsys.readouterr().out.split())

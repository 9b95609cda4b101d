"""The SDK against the virtual puck: the real firmware on MicroPython's unix port."""
from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import openpuck
from openpuck.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _sim_available() -> str | None:
    try:
        from openpuck.device import sim
        sim.micropython_command()
    except Exception as e:  # noqa: BLE001
        return str(e)
    return None


_why = _sim_available()
pytestmark = pytest.mark.skipif(_why is not None, reason=f"no virtual puck: {_why}")


def _python_block(md: Path, after: str | None = None) -> str:
    text = md.read_text()
    if after is not None:
        text = text[text.index(after):]
    m = re.search(r"```python\n(.*?)```", text, re.S)
    assert m, f"no python example in {md}"
    return m.group(1)


def test_the_ten_line_example_of_docs_sdk_runs_as_written():
    code = _python_block(ROOT / "docs" / "sdk.md", "## Ten lines")
    assert len(code.strip().splitlines()) <= 10
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("connected to sim firmware")
    assert [ln.split(":")[0] for ln in lines[1:]] == [f"rep {i}" for i in range(1, 11)]


def test_the_asyncio_example_of_docs_sdk_runs_as_written():
    code = _python_block(ROOT / "docs" / "sdk.md", "### asyncio")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert [ln.split(":")[0] for ln in out.stdout.splitlines()] == [f"rep {i}" for i in range(1, 11)]


def test_the_readme_example_runs_as_written():
    readme = ROOT / "README.md"
    if "```python" not in readme.read_text():
        pytest.skip("README has no python example")
    code = _python_block(readme)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "rep 10:" in out.stdout


def test_info_commands_and_clock_sync():
    with openpuck.connect("sim:?scenario=still") as puck:
        assert puck.info.board == "sim" and puck.info.protocol_version == 1
        assert 200 in puck.info.rates_hz
        rtt = min(puck.ping() for _ in range(5))
        assert rtt < 0.05
        host, err = puck.clock.to_host(puck.clock.best.device)
        assert err <= puck.clock.rtt / 2 + 1e-6 and err < 0.025
        assert puck.get_config("rate_hz") in (25, 50, 100, 200)
        puck.led(0, 255, 0, duration=0.2)
        with pytest.raises(openpuck.OpenPuckError, match=r"start: rate_hz must be one of 25, 50, "
                                                          r"100, 200 Hz, got 123"):
            puck.start(rate_hz=123)
        with pytest.raises(openpuck.OpenPuckError, match=r"start: target must be between 1 and 500 N, "
                                                          r"got inf"):
            puck.start(target=float("inf"))
        st = puck.get_status()
        assert st.streaming is False and st.reset_cause == "power_on"


def test_scenario_reps_counted_with_samples_on_one_time_line():
    with openpuck.connect("sim:?scenario=grip10&speed=max") as puck:
        blocks = []
        puck.on("samples", blocks.append)
        puck.start(exercise="grip_squeeze", target=20.0)
        reps = []
        for ev in puck.events(timeout=10):
            if ev.kind == "rep":
                reps.append(ev)
                if ev.count == 10:
                    break
        c = puck.counters
    assert [r.count for r in reps] == list(range(1, 11))
    assert all(r.unit == "N" and 20 < r.amplitude < 30 and not r.uncertain for r in reps)
    s = openpuck.SampleBlock.concat(blocks)
    assert len(s) > 1000 and (s.t[1:] > s.t[:-1]).all()
    assert c["crc_errors"] == 0 and c["lost_frames"] == 0


def test_record_replay_export_plot_of_a_sim_session(tmp_path, capsys):
    rec, csv, js, png = (tmp_path / n for n in ("s.opr", "s.csv", "s.json", "s.png"))
    assert main(["record", "sim:?scenario=grip10&speed=max", "-o", str(rec), "--seconds", "34",
                 "--target", "20"]) == 0   # the whole scenario (33 s of the puck's time)
    assert "recorded" in capsys.readouterr().out
    assert main(["replay", str(rec), "--speed", "max", "--json", "--only", "rep"]) == 0
    reps = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["count"] for r in reps] == list(range(1, 11))
    assert main(["export", str(rec), "--csv", str(csv), "--events", str(js)]) == 0
    doc = json.loads(js.read_text())
    assert doc["summary"]["reps"] == 10 and doc["summary"]["grips"] == 10
    assert doc["device"]["board"] == "sim"
    # the exported CSV is a valid samples CSV: the SDK detector counts the same reps
    det = openpuck.detect(str(csv), exercise="grip_squeeze", target=20.0)
    assert det.count == 10
    assert main(["plot", str(rec), "-o", str(png)]) == 0
    assert png.stat().st_size > 20_000


@pytest.mark.parametrize("target", ["20", "auto"])
def test_export_carries_the_target_the_recording_was_made_with(tmp_path, capsys, target):
    # the host's, or for an auto target the one the puck told last (None: not learned)
    rec, js = tmp_path / "s.opr", tmp_path / "s.json"
    assert main(["record", "sim:?scenario=grip10&speed=max", "-o", str(rec), "--seconds", "3",
                 "--target", target]) == 0
    assert main(["export", str(rec), "--events", str(js)]) == 0
    doc = json.loads(js.read_text())
    told = [e for e in doc["events"] if e["kind"] == "target"]
    assert [e["source"] for e in told[:1]] == ["set" if target == "20" else "learned"]
    if target == "20":
        assert told[-1]["value"] == doc["summary"]["target"] == 20.0
    else:
        assert doc["summary"]["target"] == told[-1]["value"]


def test_asyncio_against_the_virtual_puck():
    async def run():
        async with openpuck.connect_async("sim:?scenario=grip10&speed=max") as puck:
            await puck.start(exercise="grip_squeeze", target=20.0)
            n = 0
            async for ev in puck.events(timeout=10):
                if ev.kind == "rep":
                    n = ev.count
                    if n == 10:
                        break
            return n
    assert asyncio.run(run()) == 10


def test_two_virtual_pucks_at_once():
    with openpuck.connect("sim:?scenario=grip10&speed=max") as a, \
            openpuck.connect("sim:?scenario=wrist8&speed=max") as b:
        ra, rb = [], []
        a.on("rep", ra.append)
        b.on("rep", rb.append)
        a.start(exercise="grip_squeeze", target=20.0)
        b.start(exercise="wrist_flexion", target=30.0)   # the bends are of 40 degrees
        deadline = time.monotonic() + 20
        while (len(ra) < 10 or len(rb) < 8) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert len(ra) == 10 and len(rb) == 8
    assert {r.unit for r in ra} == {"N"} and {r.unit for r in rb} == {"deg"}


def test_spy_on_the_virtual_puck_logs_both_directions(tmp_path):
    log = tmp_path / "wire.txt"
    with openpuck.connect(f"spy:sim:?scenario=still&log={log}") as puck:
        puck.ping()
    text = log.read_text()
    assert " TX " in text and " RX " in text


def test_stream_json_against_the_virtual_puck(capsys):
    assert main(["stream", "sim:?scenario=grip10&speed=max", "--json", "--seconds", "34",
                 "--target", "20"]) == 0   # the whole scenario (33 s of the puck's time)
    reps = [d for d in map(json.loads, capsys.readouterr().out.splitlines()) if d["kind"] == "rep"]
    assert len(reps) == 10

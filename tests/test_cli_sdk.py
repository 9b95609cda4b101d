"""The SDK's commands: record, replay, export (plot, stream, scan elsewhere)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from openpuck.cli import main
from openpuck.offline.recording import Recording
from tests.test_sdk_fakepuck import FakePuck


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A 2 s recording of a fake puck (four grips)."""
    fake = FakePuck("cli-rec")
    path = tmp_path_factory.mktemp("rec") / "s.opr"
    try:
        assert main(["record", fake.url, "-o", str(path), "--seconds", "2.2", "--target", "25"]) == 0
    finally:
        fake.close()
    return path


def test_record_writes_a_recording_with_both_directions(recorded, capsys):
    r = Recording(recorded)
    assert r.header["url"] == "loop:cli-rec"
    assert {c.direction for c in r.chunks()} == {1, 2, 3}


def test_replay_prints_the_reps(recorded, capsys):
    assert main(["replay", str(recorded), "--speed", "max"]) == 0
    out = capsys.readouterr().out
    assert out.count(" rep #") >= 3 and "20.0 N" in out and "grip" in out
    assert out.strip().splitlines()[-1].startswith("-- ")


def test_replay_json_lines(recorded, capsys):
    assert main(["replay", str(recorded), "--speed", "max", "--json", "--only", "rep"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines and all(d["kind"] == "rep" for d in lines)
    assert [d["count"] for d in lines] == list(range(1, len(lines) + 1))
    assert lines[0]["unit"] == "N" and lines[0]["uncertain"] is False


def test_export_csv_in_the_samples_format_and_events_json(recorded, tmp_path, capsys):
    csv, js = tmp_path / "o.csv", tmp_path / "o.json"
    assert main(["export", str(recorded), "--csv", str(csv), "--events", str(js)]) == 0
    lines = csv.read_text().splitlines()
    assert lines[0] == "t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps,force_n"
    data = np.loadtxt(csv, delimiter=",", skiprows=1)
    assert data.shape[1] == 8 and len(data) > 300
    assert np.allclose(np.diff(data[:, 0]), 0.005, atol=2e-6)
    assert np.allclose(data[:, 3], 1.0) and data[:, 7].max() == pytest.approx(20.0, abs=0.05)
    # force keeps the 0.05 N quantisation exactly as text
    assert all(abs(v * 20 - round(v * 20)) < 1e-6 for v in data[:, 7])
    doc = json.loads(js.read_text())
    assert doc["summary"]["reps"] >= 3 and doc["device"]["serial"] == "FAKE0001"
    assert doc["url"] == "loop:cli-rec"
    assert {e["kind"] for e in doc["events"]} >= {"rep", "grip"}


@pytest.mark.parametrize("argv, msg", [
    (["replay", "/nonexistent.opr"], "no such file"),
    (["export", "/nonexistent.opr", "--csv", "x.csv"], "no such file"),
    (["export", "x.opr"], "nothing to do"),
    (["record", "serial:/dev/ttyNOPE", "-o", "{tmp}/x.opr", "--seconds", "1"], "cannot open"),
    (["record", "bogus:thing", "-o", "{tmp}/x.opr"], "unknown transport"),
])
def test_errors_are_one_line_and_nonzero(argv, msg, capsys, tmp_path):
    assert main([a.format(tmp=tmp_path) for a in argv]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and msg in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "x.opr").exists(), "a failed connect leaves no recording behind"


def test_record_keeps_an_existing_recording_unless_told_to_overwrite(tmp_path, capsys):
    out = tmp_path / "session.opr"
    out.write_bytes(b"precious")
    assert main(["record", "sim:?scenario=still&speed=max", "-o", str(out), "--seconds", "1"]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == b"precious"
    assert main(["record", "sim:?scenario=still&speed=max", "-o", str(out), "--seconds", "1", "--force"]) == 0
    assert out.read_bytes()[:8] == b"OPUCKREC"


def test_export_of_a_file_that_is_not_a_recording(tmp_path, capsys):
    p = tmp_path / "junk.opr"
    p.write_bytes(b"\x01\x02\x03" * 100)
    assert main(["export", str(p), "--csv", str(tmp_path / "o.csv")]) != 0
    assert "no OpenPuck frame in it" in capsys.readouterr().err


@pytest.mark.parametrize("cmd", ["record", "replay", "export"])
def test_help_teaches_with_examples(cmd):
    out = subprocess.run([sys.executable, "-m", "openpuck", cmd, "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "examples:" in out and f"openpuck {cmd}" in out

"""`openpuck encode` and `openpuck decode`: CSV -> bin -> CSV keeps every
sample within quantisation; bad input gives one line on stderr, never a
traceback."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from openpuck import protocol
from openpuck.cli import main
from openpuck.offline.csvio import read_csv

DATA = Path(__file__).resolve().parent / "data"
RECORDINGS = sorted(DATA.glob("*.csv"))


@pytest.mark.parametrize("csv", RECORDINGS, ids=[p.stem for p in RECORDINGS])
@pytest.mark.parametrize("batch", [35, 20])
def test_round_trip_keeps_every_sample_within_quantisation(tmp_path, capsys, csv, batch):
    bin_, back = tmp_path / "rec.bin", tmp_path / "back.csv"
    assert main(["encode", str(csv), "-o", str(bin_), "--batch", str(batch)]) == 0
    assert main(["decode", str(bin_), "--csv", str(back), "--json"]) == 0
    counters = json.loads(capsys.readouterr().out.splitlines()[-1])
    a, b = read_csv(csv), read_csv(back)
    assert counters["samples"] == len(a) == len(b)
    assert counters["lost_frames"] == counters["crc_errors"] == counters["cobs_errors"] == 0
    info = protocol.decode(bin_.read_bytes().split(b"\x00", 1)[0] + b"\x00").fields
    assert np.array_equal(a.t, b.t)
    # half a count of the chosen range, plus the CSV's last printed decimal
    assert np.abs(a.accel - b.accel).max() <= info["accel_g_per_lsb"] / 2 + 5e-6
    assert np.abs(a.gyro - b.gyro).max() <= info["gyro_dps_per_lsb"] / 2 + 5e-4
    assert np.abs(a.force - b.force).max() <= 0.025 + 5e-3
    assert bin_.stat().st_size / len(a) <= 16


def test_ranges_fit_the_data(tmp_path):
    # the UCI recordings reach about 5 g and 600 dps: +/-8 g and +/-1000 dps
    csv = DATA / "uci-s2-elbow_flexion-test-e8.csv"
    rec = read_csv(csv)
    assert main(["encode", str(csv), "-o", str(tmp_path / "x.bin")]) == 0
    info = protocol.decode((tmp_path / "x.bin").read_bytes().split(b"\x00", 1)[0] + b"\x00").fields
    assert np.abs(rec.accel).max() <= info["accel_range_g"]
    assert np.abs(rec.gyro).max() <= info["gyro_range_dps"]


def test_gaps_start_a_new_batch_at_the_true_time(tmp_path):
    t = [0.0, 0.005, 0.010, 0.025, 0.030]  # two samples dropped after 0.010
    csv = tmp_path / "gap.csv"
    csv.write_text("t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps,force_n\n"
                   + "".join(f"{x:.3f},0,0,1,0,0,0,0\n" for x in t))
    assert main(["encode", str(csv), "-o", str(tmp_path / "g.bin")]) == 0
    assert main(["decode", str(tmp_path / "g.bin"), "--csv", str(tmp_path / "g2.csv")]) == 0
    assert np.allclose(read_csv(tmp_path / "g2.csv").t, t)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "openpuck", *args], capture_output=True, text=True)


@pytest.mark.parametrize("content, words", [
    (b"time,ax\n1,2\n", "header"),
    (b"t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps,force_n\n0,1,2,3,4,5,6,x\n", "line 2"),
    (b"t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps,force_n\n0,1,2\n", "line 2"),
    (b"t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps,force_n\n0.1,0,0,0,0,0,0,0\n0.0,0,0,0,0,0,0,0\n", "increase"),
    (b"t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps,force_n\n0,40,0,0,0,0,0,0\n", "16 g"),
    (b"\xff\xfe\x00binary", "text"),
])
def test_encode_bad_input_is_one_line_and_nonzero(tmp_path, content, words):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    r = run_cli("encode", str(p), "-o", str(tmp_path / "o.bin"))
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert words in r.stderr


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (b"t_s,ax_g\n0,1\n" * 50, "no OpenPuck frame"),
])
def test_decode_bad_input_is_one_line_and_nonzero(tmp_path, content, words):
    p = tmp_path / "bad.bin"
    p.write_bytes(content)
    r = run_cli("decode", str(p))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and words in r.stderr


def test_missing_file_is_one_line(tmp_path):
    for cmd in ("encode", "decode"):
        r = run_cli(cmd, str(tmp_path / "nope"))
        assert r.returncode != 0 and "Traceback" not in r.stderr
        assert "nope" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_help_teaches_with_examples():
    for cmd in ("encode", "decode"):
        r = run_cli(cmd, "--help")
        assert r.returncode == 0 and "examples:" in r.stdout and f"openpuck {cmd}" in r.stdout


def test_decode_json_has_the_counters(tmp_path, capsys):
    bin_ = tmp_path / "x.bin"
    main(["encode", str(RECORDINGS[0]), "-o", str(bin_)])
    wire = bytearray(bin_.read_bytes())
    wire[200] ^= 0x04  # damage one frame
    bin_.write_bytes(bytes(wire))
    capsys.readouterr()
    assert main(["decode", str(bin_), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for k in ("frames", "samples", "lost_frames", "crc_errors", "cobs_errors", "seq_resets",
              "duplicates"):
        assert k in out
    assert out["duplicates"] == out["seq_resets"] == 0
    assert out["crc_errors"] + out["cobs_errors"] == 1 and out["lost_frames"] == 1

"""One reader, one set of rules: every command that reads a file (replay,
export, plot, decode, detect, encode, sim) accepts or refuses the same file
the same way, with the same message (recording.open_source)."""
from __future__ import annotations

from pathlib import Path

import pytest

from openpuck import protocol
from openpuck.cli import main
from openpuck.device import sim
from openpuck.offline.recording import Recorder, open_source

HEADER = "t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps,force_n\n"
ROW = "{t},0,0,1,0,0,0,0\n"


def csv(path: Path, body: str) -> Path:
    path.write_text(HEADER + body)
    return path


BAD_CSV = {
    "header_only": ("", "0 samples; a recording needs two or more"),
    "one_sample": (ROW.format(t=0), "1 samples; a recording needs two or more"),
    "nan": (ROW.format(t=0) + "0.01,nan,0,1,0,0,0,0\n", "line 3: a value is not a finite number"),
    "same_time": (ROW.format(t=0) + ROW.format(t=0), "line 3: t_s must increase"),
    "out_of_range": (ROW.format(t=0) + "0.01,40,0,1,0,0,0,0\n", "line 3: ax_g 40 is beyond the sensor's +-16 g"),
    "short_row": (ROW.format(t=0) + "0.01,0,0\n", "line 3: expected 8 values, got 3"),
}

# commands that read a samples CSV, and how each is called
CSV_READERS = {
    "detect": lambda p, tmp: ["detect", str(p), "--exercise", "grip_squeeze"],
    "encode": lambda p, tmp: ["encode", str(p), "-o", str(tmp / "o.bin")],
    "plot": lambda p, tmp: ["plot", str(p), "-o", str(tmp / "o.png")],
}
# commands that read a recording or wire bytes
REC_READERS = {
    "replay": lambda p, tmp: ["replay", str(p), "--speed", "max"],
    "export": lambda p, tmp: ["export", str(p), "--csv", str(tmp / "o.csv")],
    "plot": lambda p, tmp: ["plot", str(p), "-o", str(tmp / "o.png")],
    "decode": lambda p, tmp: ["decode", str(p)],
    "detect": lambda p, tmp: ["detect", str(p), "--exercise", "grip_squeeze"],
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_a_bad_csv_is_refused_by_every_command_with_the_same_message(case, tmp_path, capsys):
    body, says = BAD_CSV[case]
    p = csv(tmp_path / f"{case}.csv", body)
    messages = set()
    for name, argv in CSV_READERS.items():
        assert main(argv(p, tmp_path)) == 2, name
        err = capsys.readouterr().err
        assert says in err, (name, err)
        messages.add(err.split("error: ", 1)[1])
    with pytest.raises(sim.SimError) as e:   # the virtual puck refuses it before starting
        sim.check_recording(p)
    messages.add(str(e.value) + "\n")
    assert len(messages) == 1, messages


def _empty_recording(path: Path) -> Path:
    Recorder(path, url="sim:").close()
    return path


def _torn_recording(path: Path) -> Path:
    with Recorder(path, url="sim:") as rec:
        rec.write(1, protocol.encode("log", 1, level=1, text="hello"))
    data = path.read_bytes()
    path.write_bytes(data + data[-20:-3])   # a chunk cut off mid-write
    return path


BAD_REC = {
    "empty_recording": (_empty_recording, "the recording holds no frame from the puck"),
    "garbage_opr": (lambda p: (p.write_bytes(b"\x01\x02\x03" * 100), p)[1], "no OpenPuck frame in it"),
    "empty_bin": (lambda p: (p.write_bytes(b""), p)[1], "empty file"),
    "missing": (lambda p: p, "no such file"),
}


@pytest.mark.parametrize("case", sorted(BAD_REC))
def test_a_bad_recording_is_refused_by_every_command_with_the_same_message(case, tmp_path, capsys):
    make, says = BAD_REC[case]
    p = make(tmp_path / f"{case}.opr")
    messages = set()
    for name, argv in REC_READERS.items():
        assert main(argv(p, tmp_path)) == 2, name
        err = capsys.readouterr().err
        assert says in err, (name, err)
        messages.add(err.split("error: ", 1)[1])
    assert len(messages) == 1, messages


def test_a_torn_recording_is_read_up_to_the_tear_and_every_reader_says_so(tmp_path, capsys):
    p = _torn_recording(tmp_path / "torn.opr")
    src = open_source(p)
    assert src.truncated and src.tail_bytes == 17
    for name in ("replay", "export", "decode", "detect"):
        main(REC_READERS[name](p, tmp_path))
        err = capsys.readouterr().err
        assert "a torn last chunk was skipped (17 bytes" in err, (name, err)


def test_a_csv_with_a_byte_order_mark_and_crlf_lines_is_read_everywhere(tmp_path):
    p = tmp_path / "excel.csv"
    p.write_bytes(("\ufeff" + HEADER + ROW.format(t=0) + ROW.format(t=0.01)).replace("\n", "\r\n")
                  .encode("utf-8"))
    assert len(open_source(p).samples) == 2
    assert sim.check_recording(p) == p.resolve()
    assert main(["encode", str(p), "-o", str(tmp_path / "o.bin")]) == 0


def test_each_command_says_which_kind_of_file_it_reads(tmp_path, capsys):
    p = csv(tmp_path / "rec.csv", ROW.format(t=0) + ROW.format(t=0.01))
    assert main(["replay", str(p)]) == 2
    assert "a samples CSV, which this command does not read (detect, plot or encode it" in capsys.readouterr().err
    rec = _torn_recording(tmp_path / "r.opr")
    assert main(["encode", str(rec)]) == 2
    assert "an .opr recording, which this command does not read" in capsys.readouterr().err

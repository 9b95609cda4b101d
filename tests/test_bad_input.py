"""Nothing a user types or a link does crashes, hangs or loses data: each
case found by trying the commands and the SDK as a new user would, with
the answer it must give now (issue 12)."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

import openpuck
from openpuck.cli import main
from openpuck.device.events import Log
from openpuck.device.transports import TransportError
from openpuck.offline import recording, validate
from tests.test_sdk_fakepuck import FakePuck
from tests.toolchain import as_a_terminal_starts_it, signal_state

SIM = "sim:?scenario=grip10&speed=max"


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


# ------------------------------------------------------------ numbers from users
@pytest.mark.parametrize("argv,says", [
    (["stream", SIM, "--target", "inf", "--plain"], "--target must be between 1 and 500 N, got inf"),
    (["stream", SIM, "--target", "-3", "--plain"], "--target must be between 1 and 500 N, got -3"),
    (["stream", SIM, "--seconds", "inf", "--plain"], "--seconds must be a finite number, got inf"),
    (["stream", SIM, "--seconds", "nan", "--plain"], "--seconds must be a finite number, got nan"),
    (["record", SIM, "-o", "{tmp}/r.opr", "--target", "inf"], "--target must be between 1 and 500 N"),
    (["record", SIM, "-o", "{tmp}/r.opr", "--seconds", "nan"], "--seconds must be a finite number"),
    (["record", SIM, "-o", "{tmp}/r.opr", "--rate", "7"], "--rate must be one of 25, 50, 100, 200 Hz, got 7"),
    (["demo", "--scenario", "demo", "--target", "inf"], "--target must be between 1 and 360 degrees, got inf"),
    (["demo", "--scenario", "demo", "--target", "nan"], "--target must be between 1 and 360 degrees, got nan"),
    (["demo", "--scenario", "demo", "--target", "0"], "--target must be between 1 and 360 degrees, got 0"),
    (["demo", "--target", "20"], "--target goes with --scenario"),
    (["scan", "--timeout", "-1", "--no-ble"], "--timeout must be more than 0 s, got -1"),
    (["replay", "{tmp}/r.opr", "--only", "nonsense"], "no such file"),
])
def test_bad_numbers_are_one_line_naming_the_range_and_unit(argv, says, capsys, tmp_path, monkeypatch):
    def no_connect(*a, **k):
        raise AssertionError("connected to a puck before refusing the command line")
    monkeypatch.setattr(openpuck, "connect", no_connect)
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    assert says in one_error_line(capsys)
    assert not (tmp_path / "r.opr").exists(), "nothing is written for a refused command"


def test_replay_refuses_an_unknown_event_kind(capsys, tmp_path):
    rec = tmp_path / "s.opr"
    assert main(["record", SIM, "-o", str(rec), "--seconds", "2"]) == 0
    capsys.readouterr()
    assert main(["replay", str(rec), "--only", "nonsense"]) == 2
    assert "--only nonsense: not an event kind (kinds: rep, partial_rep, grip" in one_error_line(capsys)


def test_the_sdk_checks_the_same_numbers_with_the_same_words():
    fake = FakePuck("bad-input")
    try:
        with openpuck.connect(fake.url) as puck:
            with pytest.raises(openpuck.OpenPuckError, match="start: target must be between 1 and 500 N, got inf"):
                puck.start(target=float("inf"))
            with pytest.raises(openpuck.OpenPuckError, match="start: rate_hz must be one of 25, 50, 100, 200 Hz"):
                puck.start(rate_hz=7)
            puck.start(exercise="grip_squeeze")
            with pytest.raises(openpuck.OpenPuckError, match="calibrate rest: the puck is streaming; stop it first"):
                puck.calibrate("rest")
        with pytest.raises(validate.InvalidValue, match="timeout must be more than 0 s, got -1"):
            openpuck.connect(fake.url, timeout=-1)
        with pytest.raises(validate.InvalidValue, match="reconnect_timeout must be at least 0 s"):
            openpuck.connect(fake.url, reconnect_timeout=-5)
    finally:
        fake.close()


def test_every_user_facing_check_raises_an_openpuck_error():
    for bad in (lambda: validate.target("x", "N"), lambda: validate.seconds("s", "nan"),
                lambda: validate.rate_hz(7), lambda: validate.timeout("t", -1)):
        with pytest.raises(openpuck.OpenPuckError):
            bad()


def test_a_url_key_given_twice_is_refused():
    with pytest.raises(TransportError, match="'speed' is given twice"):
        openpuck.connect("sim:?speed=max&speed=2")


def test_a_command_that_gets_no_answer_names_the_puck():
    fake = FakePuck("silent-one")
    try:
        with openpuck.connect(fake.url, timeout=0.3) as puck:
            fake.silent = True
            with pytest.raises(openpuck.CommandTimeout, match=r"no answer .* \(puck loop:silent-one\)"):
                puck.get_info()
    finally:
        fake.close()


# ------------------------------------------------------------ nothing hangs
def test_events_with_a_timeout_end_once_only_status_keeps_coming():
    """After its scenario the virtual puck streams rest and a status each
    device-second, at full speed: events(timeout=) must still end."""
    with openpuck.connect(SIM) as puck:
        puck.start(exercise="grip_squeeze", target=20.0)
        kinds = [ev.kind for ev in puck.events(timeout=2.0)]   # a hang here is the failure
    assert kinds.count("rep") == 10 and "status" in kinds


def test_record_seconds_count_the_pucks_time_and_its_summary_is_the_files(tmp_path, capsys):
    rec = tmp_path / "s.opr"
    assert main(["record", SIM, "-o", str(rec), "--seconds", "20"]) == 0
    said = capsys.readouterr().out
    assert "recorded 2" in said and "of the puck's time" in said
    samples = int(said.split(" samples")[0].rsplit(" ", 1)[1])
    s = recording.load_session(rec)
    assert 20.0 <= s.duration < 21.0, "a full-speed virtual puck is stopped within a second of --seconds"
    assert len(s.samples) == samples, "record's summary and a replay of the file agree"


def test_ctrl_c_ends_record_with_130_and_a_complete_file(tmp_path):
    rec = tmp_path / "s.opr"
    p = subprocess.Popen([sys.executable, "-m", "openpuck", "record", "sim:?scenario=grip10", "-o", str(rec)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=as_a_terminal_starts_it)
    try:
        deadline = time.monotonic() + 30
        while (not rec.exists() or rec.stat().st_size < 2000) and time.monotonic() < deadline:
            time.sleep(0.1)
        state = signal_state(p.pid)
        p.send_signal(signal.SIGINT)
        try:
            out, _ = p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail(f"no exit 20 s after SIGINT; its signals: {state}")
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130 and "recorded" in out
    s = recording.load_session(rec)
    assert len(s.samples) > 0 and not s.truncated


# ------------------------------------------------------------ links
def test_a_dropped_link_is_announced_at_once_and_its_return_too():
    fake = FakePuck("drop-announce")
    try:
        with openpuck.connect(fake.url) as puck:
            puck.start(exercise="grip_squeeze", target=22.0)
            time.sleep(0.3)
            fake.break_mid_frame()
            logs = [ev.text for ev in puck.events(duration=1.5) if isinstance(ev, Log)]
    finally:
        fake.close()
    assert any("lost" in t and "reconnecting for up to 60 s" in t for t in logs), logs
    assert any("back after" in t for t in logs), logs


def test_stream_without_rich_on_a_terminal_falls_back_to_plain_lines(monkeypatch, capsys):
    from openpuck.device import live
    from openpuck.errors import OpenPuckError

    def no_rich():
        raise OpenPuckError("the live view needs rich: pip install rich")
    monkeypatch.setattr(live, "_rich", no_rich)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["stream", SIM, "--seconds", "10"]) == 0   # the puck's time: a few reps
    out, err = capsys.readouterr()
    assert "showing one line per event" in err and " s  " in out


def test_detect_reads_a_recording(tmp_path, capsys):
    rec = tmp_path / "s.opr"
    assert main(["record", SIM, "-o", str(rec), "--seconds", "34", "--target", "20"]) == 0
    capsys.readouterr()
    assert main(["detect", str(rec), "--exercise", "grip_squeeze", "--target", "20", "--json"]) == 0
    import json
    assert json.loads(capsys.readouterr().out)["count"] == 10


def test_a_programme_nested_1000_deep_is_one_line(tmp_path, capsys):
    f = tmp_path / "deep.toml"
    f.write_text('name = "x"\nexercise = ' + "[" * 1000 + "]" * 1000 + "\n")
    assert main(["programme", "check", str(f)]) == 2
    assert f"{f}: not a programme: arrays or tables nested too deep" in one_error_line(capsys)

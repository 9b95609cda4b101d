"""The suite's own tools: --puck specs, rig files, the run summary (no puck needed)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from .report import RunSummary
from .targets import NEEDS, RigError, load_rig, parse_spec, resolve

pytestmark = pytest.mark.selftest
RIGS = Path(__file__).parent / "rigs"


@pytest.mark.parametrize("spec, kind, url", [
    ("sim", "sim", "sim:"),
    ("serial:/dev/ttyACM0", "serial", "serial:/dev/ttyACM0"),
    ("/dev/ttyUSB1", "serial", "serial:/dev/ttyUSB1"),
    ("serial:/dev/ttyUSB1?baud=921600", "serial", "serial:/dev/ttyUSB1?baud=921600"),
    ("ble:AA:BB:CC:DD:EE:FF", "ble", "ble:AA:BB:CC:DD:EE:FF"),
])
def test_puck_specs(spec, kind, url):
    t = parse_spec(spec)
    assert (t.kind, t.url) == (kind, url)
    if kind == "serial":
        assert t.port.startswith("/dev/tty") and t.baud in (115200, 921600)


@pytest.mark.parametrize("spec", ["", "tcp:1.2.3.4", "ble:", "serial:", "sim:nope.csv",
                                  "sim:?speed=max", "serial:/dev/ttyUSB1?parity=E"])
def test_bad_specs_are_usage_errors(spec):
    with pytest.raises(RigError):
        parse_spec(spec)


def test_the_sim_lacks_only_radio_and_real_sensors():
    t = parse_spec("sim")
    lacking = {n for n in NEEDS if t.lacks(n)}
    assert lacking == {"radio", "real_sensors"}
    assert "pseudo-terminal" in t.lacks("radio")


def test_the_emulated_pico_skips_wall_clock_latencies_and_says_why():
    t = parse_spec("rp2040")
    assert {n for n in NEEDS if t.lacks(n)} == {"radio", "real_sensors", "real_time"}
    assert "slower than the wall clock" in t.lacks("real_time")


def test_a_serial_board_without_a_rig_file_skips_what_needs_the_rig():
    t = parse_spec("serial:/dev/ttyACM0")
    assert {n for n in NEEDS if t.lacks(n)} == {"radio", "real_sensors", "motion", "replug",
                                                "watchdog"}
    assert "[actuator]" in t.lacks("motion")
    assert parse_spec("ble:OpenPuck-1").lacks("byte_stream")


def test_every_example_rig_file_loads():
    files = sorted(RIGS.glob("*.toml"))
    assert len(files) >= 3
    for t in resolve([], [str(RIGS)]):
        assert t.rig_file and t.name
    pico = load_rig(RIGS / "bench-pico-usb.toml")
    assert (pico.kind, pico.board, pico.firmware) == ("serial", "pico_w", "0.1.0")
    assert pico.caps["real_sensors"] and pico.lacks("motion") and not pico.lacks("replug")
    assert pico.budget("ping_p95_ms", 50) == 20.0
    arm = load_rig(RIGS / "arm-rig-esp32-ble.toml")
    assert arm.kind == "ble" and not arm.lacks("motion") and "grip10" in arm.actuator["scenarios"]


def test_rig_file_mistakes_are_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[rig]\nport = "/dev/ttyACM0"\nfirmware = "v1"\n')
    with pytest.raises(RigError, match="MAJOR.MINOR.PATCH"):
        load_rig(bad)
    bad.write_text('[rig]\nport = "/dev/ttyACM0"\n[capabilities]\nteleport = true\n')
    with pytest.raises(RigError, match="teleport"):
        load_rig(bad)
    bad.write_text('[rig]\nboard = "pico_w"\n')
    with pytest.raises(RigError, match="puck"):
        load_rig(bad)


def test_two_pucks_with_one_name_get_distinct_names():
    assert [t.name for t in resolve(["sim", "sim"], [])] == ["sim-1", "sim-2"]


class _Report:
    def __init__(self, nodeid, when, outcome, props=(), longrepr=None):
        self.nodeid, self.when, self.outcome = nodeid, when, outcome
        self.user_properties = list(props)
        self.duration = 0.5
        self.longrepr = longrepr
        self.failed, self.skipped = outcome == "failed", outcome == "skipped"


def test_summary_gathers_outcomes_figures_and_devices(tmp_path):
    s = RunSummary(command="pytest hil_tests --puck=sim")
    s.targets["sim"] = parse_spec("sim").describe()
    dev = {"firmware": "0.1.0", "board": "sim", "serial": "X", "capabilities": ["imu"]}
    fig = json.dumps({"value": {"p50": 0.3, "p95": 1.2}, "unit": "ms", "note": ""})
    s.add_report(_Report("t::a", "call", "passed",
                         [("hil:puck", "sim"), ("hil:ping_rtt", fig), ("hil:device", json.dumps(dev))]))
    s.add_report(_Report("t::b", "setup", "skipped", [("hil:puck", "sim")],
                         ("f", 1, "Skipped: the virtual puck has no radio")))
    md, js = s.write(tmp_path)
    text = md.read_text()
    assert "PASS" in text and "| sim | ping_rtt | p50 0.3, p95 1.2 ms |" in text
    assert "the virtual puck has no radio" in text and "0.1.0" in text
    assert json.loads(js.read_text())["counts"] == {"passed": 1, "skipped": 1}


def test_a_summary_with_puck_tests_but_no_puck_says_no_puck_tested(tmp_path):
    s = RunSummary(command="pytest hil_tests")
    s.add_report(_Report("t::self", "call", "passed"))
    s.add_report(_Report("t::stream", "setup", "skipped", [("hil:wants_puck", "1")],
                         ("f", 1, "Skipped: no puck configured")))
    assert s.verdict() == "NO PUCK TESTED"
    md, js = s.write(tmp_path)
    assert md.read_text().startswith("# OpenPuck HIL run ") and ": NO PUCK TESTED\n" in md.read_text()
    assert "no puck given" in json.loads(js.read_text())["no_puck"]


def test_a_summary_of_an_unreachable_puck_names_it_and_why(tmp_path):
    s = RunSummary(command="pytest hil_tests --puck=serial:/dev/ttyACM9")
    s.targets["bench"] = parse_spec("serial:/dev/ttyACM9", name="bench").describe()
    s.unreachable["bench"] = "/dev/ttyACM9: cannot open (No such file or directory)"
    text = s.markdown()
    assert ": UNREACHABLE\n" in text and "bench (serial:/dev/ttyACM9): /dev/ttyACM9: cannot open" in text


def test_a_summary_of_self_tests_only_without_a_puck_passes():
    s = RunSummary(command="pytest hil_tests/test_suite_tools.py")
    s.add_report(_Report("t::self", "call", "passed"))
    assert s.verdict() == "PASS" and s.no_puck() is None


def _run_suite(tmp_path, *args):
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k not in ("OPENPUCK_HIL_PUCK", "OPENPUCK_HIL_RIG")}
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "hil_tests/test_handshake.py", "--hil-report-dir", str(tmp_path), *args],
                         cwd=root, env=env, capture_output=True, text=True, timeout=300)
    return out.returncode, out.stdout + out.stderr, (tmp_path / "summary.md")


@pytest.mark.parametrize("args, verdict, says", [
    ((), "NO PUCK TESTED", "no puck given"),
    (("--puck=serial:/dev/openpuck-no-such-port",), "UNREACHABLE", "/dev/openpuck-no-such-port"),
])
def test_a_run_that_tested_no_puck_fails_and_its_summary_says_so(tmp_path, args, verdict, says):
    code, output, md = _run_suite(tmp_path, *args)
    assert code == 3, output
    assert f"{verdict}: " in output and says in output
    text = md.read_text()
    assert text.splitlines()[0].endswith(f": {verdict}") and says in text

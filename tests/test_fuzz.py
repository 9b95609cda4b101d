"""Fuzzing, the short pass of `make test` (`make fuzz` is the long one,
docs/fuzzing.md):

- the C core's libFuzzer harnesses (c_core/fuzz/) build with clang under
  ASan and UBSan and run a few thousand inputs each without a finding;
- the Python fuzz (tools/pyfuzz.py) runs each target without a finding, and
  every input a fuzzer ever found (tests/fuzz_regress/, c_core/fuzz/regress/)
  still passes its target's properties; the detector's regression inputs
  give the MicroPython twin the C core's events, field for field;
- the command fuzz against the virtual puck (tools/fuzz_puck.py) runs a few
  seconds: every intact command answered once, streaming on, no reset, the
  heap flat; and the checks behind it do flag what they look for.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.toolchain import need_tool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import fuzz_seeds  # noqa: E402
import pyfuzz  # noqa: E402

C_HARNESSES = sorted(p.stem.removeprefix("fuzz_") for p in (ROOT / "c_core" / "fuzz").glob("fuzz_*.c"))
C_RUNS = 3000


# ---------------------------------------------------------------- C, libFuzzer
@pytest.fixture(scope="module")
def c_fuzzers(tmp_path_factory) -> Path:
    need_tool("clang", "clang libclang-rt-14-dev")
    build = tmp_path_factory.mktemp("fuzz-build")
    r = subprocess.run(["make", "-s", "-C", str(ROOT / "c_core"), f"BUILD={build}", "fuzz-build"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, ("the harnesses must build with clang -fsanitize=fuzzer,address,undefined "
                               "(Debian: libclang-rt-14-dev has libFuzzer)\n" + r.stdout + r.stderr)
    return build / "fuzz"


@pytest.mark.slow
@pytest.mark.toolchain
@pytest.mark.parametrize("name", C_HARNESSES)
def test_c_harness_runs_its_seeds_and_thousands_of_mutations_without_a_finding(c_fuzzers, name, tmp_path):
    exe = c_fuzzers / f"fuzz_{name}"
    # the first folder gets what libFuzzer learns: a scratch one, the seeds stay as committed
    r = subprocess.run([str(exe), str(tmp_path), str(ROOT / "c_core" / "fuzz" / "corpus" / name),
                        f"-runs={C_RUNS}", "-seed=1", "-max_len=2048", "-timeout=20",
                        f"-artifact_prefix={tmp_path}/", "-print_final_stats=1"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-4000:]
    assert f"Done {C_RUNS} runs" in r.stderr
    assert "cov: " in r.stderr


def test_the_committed_seeds_are_what_tools_fuzz_seeds_makes():
    assert fuzz_seeds.main(["--check"]) == 0, "run: python tools/fuzz_seeds.py"


# ---------------------------------------------------------------- Python
@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(pyfuzz.TARGETS))
def test_python_fuzz_target_runs_without_a_finding(target, tmp_path):
    """A short pass through the engine `make fuzz` uses (atheris when installed)."""
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "pyfuzz.py"), target, "--runs", "1500",
                        "--work", str(tmp_path)], capture_output=True, text=True, timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    assert "Done 1500 runs" in out, out[-2000:]


@pytest.mark.parametrize("target", sorted(pyfuzz.TARGETS))
def test_every_input_a_python_fuzzer_found_still_passes(target):
    folder = ROOT / "tests" / "fuzz_regress" / target
    found = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    fn, seeds = pyfuzz.TARGETS[target]
    for data in [p.read_bytes() for p in found] + seeds():
        fn(data)


def test_the_python_fuzz_saves_and_reports_an_input_that_breaks_a_property(tmp_path, monkeypatch, capsys):
    def broken(data: bytes) -> None:
        pyfuzz.need(b"\xff" not in data, "no 0xff")
    monkeypatch.setitem(pyfuzz.TARGETS, "broken", (broken, lambda: [b"\x00\x01"]))
    assert pyfuzz.run_plain("broken", seconds=20, runs=None, artifacts=tmp_path, seed=3) == 1
    saved = list(tmp_path.glob("broken-crash-*"))
    assert len(saved) == 1 and b"\xff" in saved[0].read_bytes()
    assert "PropertyFailed: no 0xff" in capsys.readouterr().out


# ---------------------------------------------------------------- C and twin
def _twin():
    sys.path.insert(0, str(ROOT / "tests" / "firmware" / "cpython"))   # micropython.const
    sys.path.insert(0, str(ROOT / "firmware"))
    from openpuck_fw import detect
    return detect


def _events(det, samples, finish) -> list[tuple]:
    out = []
    for t, ax, ay, az, gx, gy, gz, f, calibrate, fin in samples:
        if calibrate:
            det.calibrate_target()
        det.push(t, ax, ay, az, gx, gy, gz, f)
        while (e := det.pop()) is not None:
            out.append(tuple(e))
        if fin:
            finish(det)
            while (e := det.pop()) is not None:
                out.append(tuple(e))
    finish(det)
    while (e := det.pop()) is not None:
        out.append(tuple(e))
    return out


def test_detector_fuzz_inputs_give_the_twin_the_same_events_as_the_c_core():
    """The fixes fuzz_detect led to (c_core/fuzz/regress/detect/) are in both
    detectors: C (through the SDK) and the firmware's MicroPython twin."""
    from openpuck import _core
    twin = _twin()
    inputs = sorted((ROOT / "c_core" / "fuzz" / "regress" / "detect").glob("[!.]*"))
    inputs += sorted((ROOT / "c_core" / "fuzz" / "corpus" / "detect").glob("[!.]*"))
    assert len(inputs) >= 3
    for p in inputs:
        cfg, samples = fuzz_seeds.parse_detect_input(p.read_bytes(), lambda c: _core.detect_check(c) == 0)
        c_ev = _events(_core.Detector(cfg), samples, lambda d: _core.lib.op_detect_finish(d._d))
        t_ev = _events(twin.Detector(dict(cfg)), samples, lambda d: d.finish())
        assert c_ev == t_ev, p.name


# ---------------------------------------------------------------- virtual puck
@pytest.fixture(scope="module")
def _micropython() -> None:
    from openpuck.device import sim
    try:
        sim.micropython_command()
    except sim.SimUnavailable as e:
        pytest.skip(str(e))


@pytest.mark.slow
def test_command_fuzz_against_the_streaming_virtual_puck_finds_nothing(_micropython):
    import fuzz_puck
    rep = fuzz_puck.run(seconds=8, seed=7, heap_ms=200, log=None)
    assert rep.findings == [], fuzz_puck.summary(rep)
    assert rep.intact > 50 and rep.acks + sum(rep.nacks.values()) == rep.intact
    assert rep.kinds["garbage"] and rep.kinds["damaged"] and rep.kinds["mutated"]
    assert rep.rx_errors > 0            # the damage was seen and dropped
    assert rep.samples > 100 and rep.restarts == 0      # 25 to 200 Hz: random starts change the rate
    assert len(rep.heap) >= 8


def test_a_set_exercise_the_detector_refuses_is_nacked_and_changes_nothing(_micropython):
    """fuzz_puck's finding: on_pct 10 with the exercise's default off_pct (25)
    passed the command check, failed in the detector (nack internal) with the
    puck's thresholds already changed; the next start then failed too and the
    puck stopped streaming."""
    import fuzz_puck

    from openpuck import protocol
    from openpuck.device import sim
    with sim.start(scenario="still", speed=1.0) as vp:
        link = fuzz_puck.Link(vp.port)
        link.s.write(protocol.encode("start", 1, rate_hz=200, channels=7))
        link.s.write(protocol.encode("get_status", 2))
        link.pump(10, lambda: link.samples > 100 and link.status)
        before = link.status[-1]["exercise"]
        ex = 4 if before == 3 else 3   # any: every default off_pct is 20 or 25 %
        link.s.write(protocol.encode("set_exercise", 3, checked=False, exercise=ex, target=0,
                                     on_pct=10, off_pct=0))
        link.s.write(protocol.encode("start", 4, rate_hz=100, channels=7))
        link.s.write(protocol.encode("get_status", 5))
        link.pump(10, lambda: len(link.answers) >= 5 and len(link.status) >= 2)
        link.pump(0.2)
        answers = [(m.type, m["cmd_seq"], m.fields.get("error")) for m in link.answers]
        assert answers == [("ack", 1, None), ("ack", 2, None),
                           ("nack", 3, protocol.ENUMS["nack_error"]["out_of_range"]),
                           ("ack", 4, None), ("ack", 5, None)]
        assert link.status[-1]["exercise"] == before and link.status[-1]["streaming"] == 1
        n = link.samples
        time.sleep(0.5)
        link.pump(0.5)
        assert link.samples - n > 50, "the puck must stream after the refused set_exercise"
        link.s.close()


def test_the_heap_check_flags_growth_and_not_noise():
    import fuzz_puck
    flat = [115000 + (i * 37) % 300 for i in range(40)]     # collection noise
    leak = [115000 + 16 * 25 * i for i in range(40)]         # 16 bytes kept per command, 25 per report
    assert fuzz_puck.heap_growth(flat) <= 300
    assert fuzz_puck.heap_growth(leak) > fuzz_puck.HEAP_SLACK


def test_the_answer_check_flags_a_missing_a_double_and_a_stray_answer():
    import fuzz_puck

    from openpuck.protocol import Message

    def ans(seq, t, kind="ack"):
        return Message(kind, 0, {"cmd_type": t, "cmd_seq": seq})
    due = {1: 0x40, 2: 0x42, 3: 0x46}
    assert fuzz_puck.answer_findings(due, [ans(1, 0x40), ans(2, 0x42, "nack"), ans(3, 0x46)]) == []
    found = fuzz_puck.answer_findings(due, [ans(1, 0x40), ans(1, 0x40), ans(3, 0x46), ans(9, 0x41)])
    assert any("seq 1: 2 answers" in f for f in found)
    assert any("seq 2: 0 answers" in f for f in found)
    assert any("seq 9, which was not sent intact" in f for f in found)

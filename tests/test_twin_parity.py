"""The MicroPython twin (firmware/openpuck_fw/detect.py) gives exactly the C
core's state after every sample and so its events, field for field, under the
real MicroPython unix port.

Every recording in ../shared/data (with the truth target and with auto) and
in tests/data (auto) is quantised to raw counts, written as a compact binary
file and run through the twin in one micropython process per recording. The
state trace (op_detect_state() against the twin's state()) names the first
sample where the two part, the field and both values.

MicroPython is found on PATH, beside sys.executable or in .venv
(tests/toolchain.py); without it these tests skip, or fail under
OPENPUCK_REQUIRE_TOOLCHAIN=1."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from openpuck import _core, exercises
from openpuck.offline.detect import DetectError, choose_scales, make_config, quantise, read_csv
from tests.toolchain import micropython_command

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "twin_detect_run.py"
SHARED = ROOT.parent / "shared" / "data"
REC = np.dtype([("t", "<u4"), ("imu", "<i2", 6), ("f", "<u2")])
STATE_FIELDS = tuple(tomllib.loads((ROOT / "protocol" / "detector.toml").read_text())["state"]["fields"])


def micropython() -> list[str]:
    """The MicroPython unix port's command (skip, or fail in CI, without it)."""
    return micropython_command()


def run_both(arrays: dict, exercise: str, target, tmp: Path, fw: Path = ROOT / "firmware",
             **overrides) -> tuple[list, list, int]:
    """(C events, twin events, twin microseconds) for one recording; fw: the
    folder the twin (openpuck_fw/detect.py or .mpy) is imported from."""
    scales = choose_scales(arrays["accel"], arrays["gyro"])
    cfg = make_config(exercises.get(exercise), target, scales=scales, **overrides)
    t_us, imu, force = quantise(arrays, scales)
    det = _core.Detector(cfg)
    c_events = det.run(t_us, imu, force) + det.finish()
    rec = np.zeros(len(t_us), dtype=REC)
    rec["t"], rec["imu"], rec["f"] = t_us, imu, force
    rec.tofile(tmp)
    conf = ",".join(str(cfg[k]) for k in _core.CONFIG_FIELDS)
    r = subprocess.run(micropython() + [str(RUNNER), str(fw), str(tmp), conf],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.strip().splitlines()
    twin = [tuple(int(x) for x in line.split(",")) for line in lines[:-1]]
    return c_events, twin, int(lines[-1].split()[-1])


def cases() -> list:
    out = []
    for csv in sorted((ROOT / "tests" / "data").glob("*.csv")):
        truth = csv.with_name(csv.stem + ".truth.json")
        ex = json.loads(truth.read_text())["exercise"] if truth.exists() else None
        if ex:
            out.append(pytest.param(csv, ex, "auto", id=f"tests-data-{csv.stem}-auto"))
    if SHARED.is_dir():
        for truth in sorted(SHARED.glob("*/*.truth.json")):
            csv = truth.with_name(truth.name[:-len(".truth.json")] + ".csv")
            t = json.loads(truth.read_text())
            out.append(pytest.param(csv, t["exercise"], None, id=f"{csv.parent.name}-{csv.stem}"))
    return out


def _one(case, tmp: Path, fw: Path):
    csv, exercise, target = case
    arrays = read_csv(csv)
    results = []
    targets = [target] if target else ["auto", json.loads(csv.with_name(csv.stem + ".truth.json").read_text())["target"]]
    for i, tg in enumerate(targets):
        c, tw, us = run_both(arrays, exercise, tg, tmp.with_suffix(f".{i}.bin"), fw)
        results.append((csv.name, tg, c, tw, us, len(arrays["t"])))
    return results


def native_twin(tmp: Path) -> Path:
    """A firmware folder whose twin is machine code: detect.py through
    `mpy-cross -X emit=native -march=x64`, as tools/build_firmware.py builds it per board."""
    sys.path.insert(0, str(ROOT / "tools"))
    import build_firmware
    fw = tmp / "native-fw"
    (fw / "openpuck_fw").mkdir(parents=True)
    for name in ("__init__.py", "msgtable.py"):
        (fw / "openpuck_fw" / name).write_bytes((ROOT / "firmware" / "openpuck_fw" / name).read_bytes())
    rel = Path("openpuck_fw/detect.py")
    errors: list[str] = []
    ok = build_firmware._compile(build_firmware.mpy_cross(), ROOT / "firmware" / rel, rel,
                                 fw / rel.with_suffix(".mpy"), build_firmware.NATIVE[rel.as_posix()] + ["-march=x64"],
                                 errors)
    assert ok, errors
    return fw


@pytest.mark.slow
@pytest.mark.parametrize("build", ["bytecode", "native"])
def test_twin_gives_the_c_events_on_every_recording(tmp_path, build):
    """The twin as source (bytecode) and as the native-emitter .mpy a board gets."""
    micropython()
    all_cases = [p.values for p in cases()]
    if not all_cases:
        pytest.skip("no recordings (tests/data or ../shared/data)")
    fw = ROOT / "firmware" if build == "bytecode" else native_twin(tmp_path)
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        futures = [pool.submit(_one, case, tmp_path / f"rec{i}", fw) for i, case in enumerate(all_cases)]
        results = [r for f in futures for r in f.result()]
    mismatches = [f"{name} target={tg}: C {len(c)} events, twin {len(tw)}; first difference "
                  f"{next(((a, b) for a, b in zip(c, tw) if a != b), None)}"
                  for name, tg, c, tw, _, _ in results if c != tw]
    assert not mismatches, "\n".join(mismatches)
    assert sum(len(c) for _, _, c, _, _, _ in results) > 0
    us = sum(r[4] for r in results)
    n = sum(r[5] for r in results)
    print(f"\ntwin ({build}) on the MicroPython unix port: {n} samples, {us / n:.2f} us per sample")


def test_twin_matches_c_on_edge_cases(tmp_path):
    """Wrapping device time, big gaps, saturated sensors, a calibration-free
    start in motion: still the same events."""
    micropython()
    rng = np.random.default_rng(7)
    n = 6000
    t = np.cumsum(rng.choice([0.005, 0.005, 0.005, 0.25], size=n))
    ang = np.radians(60) * np.clip(np.sin(t * 0.9), 0, None) ** 2
    accel = np.column_stack([np.zeros(n), np.sin(ang), np.cos(ang)]) + rng.normal(0, 0.05, (n, 3))
    accel[100:120] = 7.9  # saturation
    gyro = np.column_stack([np.gradient(np.degrees(ang), t), np.zeros(n), np.zeros(n)]) + rng.normal(0, 20, (n, 3))
    force = np.abs(20 * np.sin(t * 0.5)) ** 3 / 400 + rng.normal(0, 0.3, n)
    arrays = {"t": t + 4294.0, "accel": accel, "gyro": gyro, "force": force}
    # both signals the detector computes: rotation and force
    for ex in ("arm_raise", "trunk_rotation", "shoulder_rotation", "grip_squeeze"):
        scales = choose_scales(accel, gyro)
        cfg = make_config(exercises.get(ex), "auto", scales=scales)
        t_us, imu, fo = quantise(arrays, scales)
        t_us = (t_us.astype(np.int64) + 4_290_000_000) & 0xFFFFFFFF  # wraps inside the recording
        t_us = t_us.astype(np.uint32)
        det = _core.Detector(cfg)
        c = det.run(t_us, imu, fo) + det.finish()
        rec = np.zeros(n, dtype=REC)
        rec["t"], rec["imu"], rec["f"] = t_us, imu, fo
        path = tmp_path / f"{ex}.bin"
        rec.tofile(path)
        conf = ",".join(str(cfg[k]) for k in _core.CONFIG_FIELDS)
        r = subprocess.run(micropython() + [str(RUNNER), str(ROOT / "firmware"), str(path), conf],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        twin = [tuple(int(x) for x in line.split(",")) for line in r.stdout.strip().splitlines()[:-1]]
        assert twin == c, ex


@pytest.mark.parametrize("scenario,exercise", [("slow_weak", "grip_squeeze"), ("bumps", "grip_squeeze"),
                                               ("back_to_back", "shoulder_rotation"), ("trimmed", "row"),
                                               ("trimmed", "arm_raise")])
def test_twin_matches_c_on_the_synthetic_scenarios(tmp_path, scenario, exercise):
    micropython()
    sys.path.insert(0, str(ROOT / "tools"))
    import synth
    arrays, truth = synth.generate(8001, exercise, "hard", 40, scenario)
    for i, tg in enumerate(("auto", truth["target"])):
        c, tw, _ = run_both(arrays, exercise, tg, tmp_path / f"s{i}.bin")
        assert tw == c and c, (scenario, exercise, tg)


def test_twin_takes_the_c_defaults_of_every_catalogue_exercise():
    """The twin's defaults come from the firmware table (msgtable.py), the C
    core's from op_messages.h: the same numbers for every id."""
    code = ("import sys\nsys.path.insert(0, {!r})\nfrom openpuck_fw import detect\n"
            "for i in {!r}:\n    c = detect.config_default(i)\n"
            "    print(i, ','.join(str(c[k]) for k in detect.CONFIG_FIELDS))\n".format(str(ROOT / "firmware"), [e.id for e in exercises.CATALOGUE]))
    r = subprocess.run(micropython() + ["-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    twin = {int(i): conf for i, conf in (line.split() for line in r.stdout.split("\n") if line)}
    c = {e.id: ",".join(str(_core.detect_config_default(e.id)[k]) for k in _core.CONFIG_FIELDS)
         for e in exercises.CATALOGUE}
    assert twin == c


@pytest.mark.slow
def test_twin_matches_c_on_every_catalogue_exercise(tmp_path):
    """The synthetic set of every exercise (tests/test_catalogue.py), with its
    truth target and with auto."""
    micropython()
    from tests.test_catalogue import synthetic_set

    def one(i: int, name: str) -> list[str]:
        arrays, truth = synthetic_set(name)
        bad = []
        for j, tg in enumerate(("auto", truth["target"])):
            c, tw, _ = run_both(arrays, name, tg, tmp_path / f"{i}.{j}.bin")
            if tw != c or not c:
                bad.append(f"{name} target={tg}: C {len(c)} events, twin {len(tw)}; first difference "
                           f"{next(((a, b) for a, b in zip(c, tw) if a != b), None)}")
        return bad
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        futures = [pool.submit(one, i, name) for i, name in enumerate(exercises.names())]
        bad = [b for f in futures for b in f.result()]
    assert not bad, "\n".join(bad)


def first_difference(c_rows: list[tuple], twin_rows: list[tuple], t_us) -> str | None:
    """None when the traces agree, else where they first part: the sample
    (its index and time; the last row is after finish()), the field and both values."""
    for i, (c, tw) in enumerate(zip(c_rows, twin_rows)):
        if c != tw:
            k = next(j for j in range(len(STATE_FIELDS)) if j >= len(c) or j >= len(tw) or c[j] != tw[j])
            where = "after finish()" if i >= len(t_us) else f"sample {i} (t_us={int(t_us[i])})"
            name = STATE_FIELDS[k] if k < len(STATE_FIELDS) else f"#{k}"
            return (f"{where}: {name}: C {c[k] if k < len(c) else 'missing'}, "
                    f"twin {tw[k] if k < len(tw) else 'missing'}")
    if len(c_rows) != len(twin_rows):
        return f"C {len(c_rows)} state rows, twin {len(twin_rows)}"
    return None


def trace_both(arrays: dict, exercise: str, target, tmp: Path, fw: Path = ROOT / "firmware") -> str | None:
    """first_difference() of the C's and the twin's state after every sample."""
    scales = choose_scales(arrays["accel"], arrays["gyro"])
    cfg = make_config(exercises.get(exercise), target, scales=scales)
    t_us, imu, force = quantise(arrays, scales)
    det = _core.Detector(cfg)
    c_rows = []
    for i in range(len(t_us)):
        if det.push(int(t_us[i]), *(int(v) for v in imu[i]), int(force[i])):
            while det.pop() is not None:
                pass
        c_rows.append(det.state())
    det.finish()
    c_rows.append(det.state())
    rec = np.zeros(len(t_us), dtype=REC)
    rec["t"], rec["imu"], rec["f"] = t_us, imu, force
    rec.tofile(tmp)
    conf = ",".join(str(cfg[k]) for k in _core.CONFIG_FIELDS)
    r = subprocess.run(micropython() + [str(RUNNER), str(fw), str(tmp), conf, "--trace"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    twin_rows = [tuple(int(x) for x in line.split(",")) for line in r.stdout.split()]
    return first_difference(c_rows, twin_rows, t_us)


def test_the_state_fields_are_the_same_in_the_c_the_twin_and_detector_toml():
    code = ("import sys\nsys.path.insert(0, {!r})\nfrom openpuck_fw import detect\n"
            "print(','.join(detect.STATE_FIELDS))\n"
            "print(len(detect.make_twin(1).state()), len(detect.make_twin(5).state()))\n".format(str(ROOT / "firmware")))
    r = subprocess.run(micropython() + ["-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    names, lengths = r.stdout.split()[0], r.stdout.split()[1:]
    assert tuple(names.split(",")) == STATE_FIELDS
    assert lengths == [str(len(STATE_FIELDS))] * 2
    assert _core.lib.OP_DETECT_STATE_N == len(STATE_FIELDS)
    assert len(_core.Detector(_core.detect_config_default(1)).state()) == len(STATE_FIELDS)


def _trace_cases() -> list:
    """Every recording of tests/data, auto and with its truth target, and a
    synthetic grip set (force: the other signal)."""
    out = []
    for csv in sorted((ROOT / "tests" / "data").glob("*.csv")):
        truth = json.loads(csv.with_name(csv.stem + ".truth.json").read_text())
        for tg in ("auto", truth.get("target")):
            if tg:
                out.append(pytest.param(csv.name, truth["exercise"], tg, id=f"{csv.stem}-{tg}"))
    out.append(pytest.param("synth:grip_squeeze", "grip_squeeze", "auto", id="synth-grip_squeeze-auto"))
    # rows whose forearm twists twice per movement: the hand's velocity and
    # the one-movement-one-rep rule (tools/rows.py)
    for sc in ("double_twist", "double_twist_fast"):
        out.append(pytest.param(f"rows:{sc}", "row", "auto", id=f"rows-{sc}-auto"))
    return out


def _arrays(name: str, exercise: str) -> dict:
    if name.startswith("rows:"):
        sys.path.insert(0, str(ROOT / "tools"))
        import rows
        return rows.generate(7004, name[5:])[0]
    if name.startswith("synth:"):
        sys.path.insert(0, str(ROOT / "tools"))
        import synth
        return synth.generate(8001, exercise, "hard", 20, "bumps")[0]
    return read_csv(ROOT / "tests" / "data" / name)


@pytest.mark.parametrize("name,exercise,target", _trace_cases())
def test_the_twin_has_the_c_state_after_every_sample(tmp_path, name, exercise, target):
    """Not only the same events: the same state, field for field, after every sample."""
    micropython()
    diff = trace_both(_arrays(name, exercise), exercise, target, tmp_path / "rec.bin")
    assert diff is None, f"{name} target={target}: the twin parts from the C at {diff}"


def test_the_trace_names_the_first_sample_field_and_values_where_a_twin_parts(tmp_path):
    """A twin whose turn rule differs by one percent (a hand edit the generator
    would undo) is caught at the sample it first changes, by name."""
    micropython()
    fw = tmp_path / "fw"
    shutil.copytree(ROOT / "firmware" / "openpuck_fw", fw / "openpuck_fw")
    twin = fw / "openpuck_fw" / "detect.py"
    text = twin.read_text()
    assert "_TURN_PCT = const(35)" in text
    twin.write_text(text.replace("_TURN_PCT = const(35)", "_TURN_PCT = const(20)"))
    csv = sorted((ROOT / "tests" / "data").glob("*.csv"))[0]
    exercise = json.loads(csv.with_name(csv.stem + ".truth.json").read_text())["exercise"]
    diff = trace_both(read_csv(csv), exercise, "auto", tmp_path / "rec.bin", fw)
    assert diff is not None and diff.startswith("sample ") and ": phase: C " in diff, diff


def test_first_difference_reports_sample_time_field_and_both_values():
    rows = [tuple(range(len(STATE_FIELDS)))] * 3
    other = rows[:1] + [tuple(v + (k == 4) for k, v in enumerate(rows[0]))] + rows[2:]
    assert first_difference(rows, rows, [10, 20]) is None
    assert first_difference(rows, other, [10, 20]) == f"sample 1 (t_us=20): {STATE_FIELDS[4]}: C 4, twin 5"
    assert first_difference(rows, rows[:2], [10, 20]) == "C 3 state rows, twin 2"


@pytest.mark.parametrize("signal", ["tilt", "heading"])
def test_the_reserved_signals_are_refused_by_the_c_and_the_twin(signal):
    """tilt and heading stay on the wire's enum (reserved) but no detector computes them."""
    sig = exercises.SIGNALS.index(signal)
    cfg = _core.detect_config_default(exercises.get("arm_raise").id)
    cfg["signal"] = sig
    assert _core.detect_check(cfg) != 0
    with pytest.raises(DetectError):
        make_config(exercises.get("arm_raise"), "auto", signal=sig)
    code = (f"import sys\nsys.path.insert(0, {str(ROOT / 'firmware')!r})\nfrom openpuck_fw import detect\n"
            f"c = detect.config_default(5)\nprint(detect.check(c))\nc['signal'] = {sig:d}\nprint(detect.check(c))\n")
    r = subprocess.run(micropython() + ["-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["True", "False"]


# op_detect.c's functions the twin has under another name, or not at all
# (the header comment of detect.py says the same)
TWIN_NAME = {"op_detect_calibrate": "calibrate_target", "op_detect_target": "target_milli",
             "mul12_clamp30_slow": None, "op_detect_probe": None, "op_detect_run": None}


def test_the_twin_has_the_c_functions_in_the_c_order():
    """A diff of op_detect.c maps onto a diff of the twin: the same functions,
    the same order (static foo -> _foo, op_detect_foo -> foo, op_foo -> foo)."""
    import re
    c_src = (ROOT / "c_core" / "op_detect.c").read_text()
    # definitions: a line that starts with a type (not indented, not a #define) and ends in {
    c_names = re.findall(r"^[A-Za-z_][\w ]*?[\s*](\w+)\([^;{}]*\)\s*\{", c_src, re.M)
    static = set(re.findall(r"^static\s+(?:inline\s+)?[\w ]+?[\s*](\w+)\(", c_src, re.M))
    want = []
    for name in c_names:
        twin = TWIN_NAME.get(name, "_" + name if name in static else re.sub(r"^op_(detect_)?", "", name))
        if twin:
            want.append(twin)
    twin_src = (ROOT / "firmware" / "openpuck_fw" / "detect.py").read_text()
    got = re.findall(r"^def (\w+)\(", twin_src.split("\nclass Detector")[0], re.M)
    assert "op_detect_push" in c_names and "count_tick" in c_names, c_names
    assert got == want


def _no_sim_lookup(monkeypatch, tmp_path: Path, env: str | None) -> Path:
    """No micropython through openpuck.sim, none in the project; the
    interpreter lives in tmp_path/bin."""
    from openpuck.device import sim
    from tests import toolchain

    def unavailable() -> list[str]:
        raise sim.SimUnavailable("none")
    monkeypatch.setattr(sim, "micropython_command", unavailable)
    monkeypatch.setattr(toolchain, "ROOT", tmp_path / "project")
    (tmp_path / "bin").mkdir()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    if env is None:
        monkeypatch.delenv("OPENPUCK_REQUIRE_TOOLCHAIN", raising=False)
    else:
        monkeypatch.setenv("OPENPUCK_REQUIRE_TOOLCHAIN", env)
    return tmp_path / "bin"


def test_micropython_beside_the_interpreter_is_found(monkeypatch, tmp_path):
    bindir = _no_sim_lookup(monkeypatch, tmp_path, None)
    exe = bindir / "micropython"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    assert micropython_command() == [str(exe)]


def test_micropython_in_the_project_venv_is_found(monkeypatch, tmp_path):
    _no_sim_lookup(monkeypatch, tmp_path, None)
    exe = tmp_path / "project" / ".venv" / "bin" / "micropython"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    assert micropython_command() == [str(exe)]


@pytest.mark.parametrize("env,outcome", [(None, pytest.skip.Exception), ("1", pytest.fail.Exception)])
def test_no_micropython_skips_or_fails_when_the_toolchain_is_required(monkeypatch, tmp_path, env, outcome):
    _no_sim_lookup(monkeypatch, tmp_path, env)
    with pytest.raises(outcome, match="no MicroPython unix port"):
        micropython_command()

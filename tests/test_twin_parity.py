"""The MicroPython twin (firmware/openpuck_fw/detect.py) gives exactly the C
core's events, field for field, under the real MicroPython unix port.

Every recording in ../shared/data (with the truth target and with auto) and
in tests/data (auto) is quantised to raw counts, written as a compact binary
file and run through the twin in one micropython process per recording."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from openpuck import _core, exercises
from openpuck.offline.detect import choose_scales, make_config, quantise, read_csv

ROOT = Path(__file__).resolve().parent.parent
MICROPYTHON = ROOT / ".venv" / "bin" / "micropython"
RUNNER = ROOT / "tests" / "twin_detect_run.py"
SHARED = ROOT.parent / "shared" / "data"
REC = np.dtype([("t", "<u4"), ("imu", "<i2", 6), ("f", "<u2")])


def micropython() -> str:
    if MICROPYTHON.exists():
        return str(MICROPYTHON)
    pytest.skip("no MicroPython unix port at .venv/bin/micropython (make venv)")


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
    r = subprocess.run([micropython(), str(RUNNER), str(fw), str(tmp), conf],
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
    # every signal: the catalogue's (rotation, force) and the ones a config may choose
    for ex, sig in (("arm_raise", None), ("arm_raise", "tilt"), ("trunk_rotation", "heading"),
                    ("shoulder_rotation", None), ("grip_squeeze", None)):
        scales = choose_scales(accel, gyro)
        over = {"signal": exercises.SIGNALS.index(sig)} if sig else {}
        cfg = make_config(exercises.get(ex), "auto", scales=scales, **over)
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
        r = subprocess.run([micropython(), str(RUNNER), str(ROOT / "firmware"), str(path), conf],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        twin = [tuple(int(x) for x in line.split(",")) for line in r.stdout.strip().splitlines()[:-1]]
        assert twin == c, (ex, sig)


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
    code = ("import sys\nsys.path.insert(0, %r)\nfrom openpuck_fw import detect\n"
            "for i in %r:\n    c = detect.config_default(i)\n"
            "    print(i, ','.join(str(c[k]) for k in detect.CONFIG_FIELDS))\n"
            % (str(ROOT / "firmware"), [e.id for e in exercises.CATALOGUE]))
    r = subprocess.run([micropython(), "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    twin = {int(i): conf for i, conf in (line.split() for line in r.stdout.split("\n") if line)}
    c = {e.id: ",".join(str(_core.detect_config_default(e.id)[k]) for k in _core.CONFIG_FIELDS)
         for e in exercises.CATALOGUE}
    assert twin == c


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

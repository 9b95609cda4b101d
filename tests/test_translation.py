"""The translation signal (protocol/detector.toml; issue 22 item 1): the
displacement of the puck along the movement's own axis, in mm, from the
accelerometer less the fused gravity estimate, held at 0 while still; and the
exercises that count with it, reach and table_slide.

tests/test_twin_parity.py checks the MicroPython twin against the C, state
after every sample, on the reach and table_slide recordings of tests/data.
The synthetic floors below are measured (docs/exercises.md): translation
counts less exactly than the angle exercises, which tests/test_catalogue.py
holds to exact counts."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from openpuck import _core, exercises, protocol
from openpuck.offline.detect import choose_scales, detect, make_config, quantise, read_csv

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import synth  # noqa: E402

STATE_FIELDS = tuple(tomllib.loads((ROOT / "protocol" / "detector.toml").read_text())["state"]["fields"])
TRANSLATION = ("reach", "table_slide")


def still_puck(seconds: float, rate: float, tilt_deg: float, seed: int) -> dict:
    """A puck lying still, tilted, with an accelerometer bias (|a| is not 1 g),
    a gyro bias and noise, in the device's units."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    tilt = np.radians(tilt_deg)
    gravity = np.array([np.sin(tilt), 0.0, np.cos(tilt)])
    accel = gravity + np.array([0.02, -0.015, 0.01]) + rng.normal(0, 0.003, (n, 3))
    gyro = np.array([0.8, -1.2, 0.5]) + rng.normal(0, 0.3, (n, 3))
    return {"t": np.arange(n) / rate, "accel": np.rint(accel * 8192) / 8192,
            "gyro": np.rint(gyro * 65.536) / 65.536, "force": np.full(n, 2.0)}


@pytest.mark.parametrize("exercise", TRANSLATION)
@pytest.mark.parametrize("tilt_deg", [0.0, 35.0])
def test_a_still_puck_has_no_translation(exercise, tilt_deg):
    arrays = still_puck(30.0, 100.0, tilt_deg, seed=int(tilt_deg))
    scales = choose_scales(arrays["accel"], arrays["gyro"])
    det = _core.Detector(make_config(exercises.get(exercise), "auto", scales=scales))
    t_us, imu, force = quantise(arrays, scales)
    pos, vel = STATE_FIELDS.index("ang"), STATE_FIELDS.index("u_e")
    worst = 0
    for i in range(len(t_us)):
        det.push(int(t_us[i]), *(int(v) for v in imu[i]), int(force[i]))
        state = det.state()
        worst = max(worst, abs(state[pos]))
    assert worst == 0 and state[vel] == 0, worst   # um and um/s: not a micrometre
    assert detect(arrays, exercise=exercise).count == 0


# The synthetic recordings' reps reach 70-130% of their goal (truth "target"):
# a rep reaches the target it counts against (ON = the target), so half the
# goal is the target they all reach, as in tests/test_catalogue.py.


@pytest.mark.parametrize("name", ["reach-2501", "table_slide-2512"])
def test_a_synthetic_reach_and_slide_count_their_reps_in_mm(name):
    csv = ROOT / "tests" / "data" / f"{name}.csv"
    truth = json.loads(csv.with_name(f"{name}.truth.json").read_text())
    arrays = read_csv(csv)
    for target in (truth["target"] / 2, "auto"):
        det = detect(arrays, exercise=truth["exercise"], target=target)
        assert det.count == truth["count"], target
        assert all(r.t_start - 0.5 <= p <= r.t_end + 0.5 for r, p in zip(det.reps, truth["peak_times_s"])), target
    # mm: the movement's size, shrunk (the leak that holds the drift takes some)
    det = detect(arrays, exercise=truth["exercise"], target=truth["target"] / 2)
    assert all(0.4 * truth["target"] <= r.amplitude <= 1.5 * truth["target"] for r in det.reps)
    assert det.reps[0].unit == "mm"


def floor_sets(target_of) -> list[tuple]:
    """(exercise, scenario, seed, counted, truth) for seeds 100-109, 45 s,
    normal mode, plain and back to back, each translation exercise."""
    got = []
    for name in TRANSLATION:
        for scenario in ("", "back_to_back"):
            for seed in range(100, 110):
                arrays, truth = synth.generate(seed, name, "normal", 45.0, scenario)
                got.append((name, scenario, seed, detect(arrays, exercise=name, target=target_of(truth)).count,
                            truth["count"]))
    return got


@pytest.mark.slow
@pytest.mark.parametrize("target, exact_min, near_min", [("half the goal", 24, 35), ("auto", 21, 28)])
def test_translation_floor_on_synthetic_sets(target, exact_min, near_min):
    # measured (docs/exercises.md, Known limits): of 40 sets, 24 exact and 35
    # within one against half the goal (a target the reps reach; 25 before the
    # side of an auto target's first rep was told at 1.5 floors, which made
    # table_slide-2512 count), 21 and 28 with the auto target; the hard mode
    # counts worse
    got = floor_sets((lambda truth: truth["target"] / 2) if target == "half the goal" else (lambda truth: "auto"))
    exact = sum(g[3] == g[4] for g in got)
    near = sum(abs(g[3] - g[4]) <= 1 for g in got)
    assert exact >= exact_min and near >= near_min, (exact, near, [g for g in got if g[3] != g[4]])


def test_the_new_exercises_are_in_every_table():
    c_table = (ROOT / "c_core" / "op_messages.h").read_text()
    fw_table = (ROOT / "firmware" / "openpuck_fw" / "msgtable.py").read_text()
    assert protocol.ENUMS["signal"]["translation"] == 4 and protocol.SIGNAL_UNITS["translation"] == "mm"
    for name in TRANSLATION:
        e = exercises.get(name)
        assert (e.signal, e.unit, e.joint_axis) == ("translation", "mm", None)
        assert f"X({e.id}, {name}, OP_SIGNAL_TRANSLATION, {e.target!r}," in c_table
        assert f"{e.id}: ('{name}', 4, {e.target!r}," in fw_table
        cfg = _core.detect_config_default(e.id)
        assert cfg["signal"] == 4 and _core.detect_check(cfg) == 0
        assert cfg["auto_floor_milli"] == int(e.target * 1000) // 4   # 50 mm: drift makes 25 mm bumps


def test_a_config_with_a_signal_past_translation_is_refused():
    cfg = _core.detect_config_default(exercises.get("reach").id)
    assert _core.detect_check(dict(cfg, signal=5)) != 0

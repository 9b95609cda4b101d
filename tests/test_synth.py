"""The synthesiser (tools/synth.py) and a floor on harder data than the dev set.

Fixed seeds in hard mode (100/200 Hz, dropped samples and bursts, 4-6 Hz
tremor, gyro bias of several dps drifting), short recordings, every exercise,
in memory: runs without ../shared, in a few seconds. The floor catches a
detector change that only fits the dev recordings."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from openpuck.offline.detect import detect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import accuracy  # noqa: E402
import synth  # noqa: E402

SEEDS = range(9000, 9024)   # 2-3 of each of the first ten exercises (synth.SEEDED)
DURATION = 45.0


@pytest.fixture(scope="module")
def hard_set():
    return [synth.generate(seed, mode="hard", duration=DURATION) for seed in SEEDS]


def test_synth_is_deterministic_and_in_the_device_format():
    a1, t1 = synth.generate(9001, mode="hard", duration=20)
    a2, t2 = synth.generate(9001, mode="hard", duration=20)
    assert t1 == t2 and all(np.array_equal(a1[k], a2[k]) for k in ("t", "accel", "gyro", "force"))
    assert np.all(np.diff(a1["t"]) > 0)
    assert np.allclose(a1["accel"] * 8192, np.rint(a1["accel"] * 8192))
    assert np.allclose(a1["gyro"] * 65.536, np.rint(a1["gyro"] * 65.536))
    assert np.allclose(a1["force"] / 0.05, np.rint(a1["force"] / 0.05))
    assert t1["count"] == len(t1["peak_times_s"]) and t1["hard"]


def test_synth_writes_csv_and_truth_the_detector_reads(tmp_path):
    assert synth.main([str(tmp_path), "--seeds", "9002", "--mode", "hard", "--duration", "15"]) == 0
    (csv,) = tmp_path.glob("*.csv")
    det = detect(csv, exercise=csv.stem.rsplit("-", 1)[0])
    assert det.exercise in synth.EXERCISES
    assert (tmp_path / (csv.stem + ".truth.json")).exists()


def test_still_tilt_at_rest_is_gravity_and_a_rep_turns_it_by_its_amplitude():
    arrays, truth = synth.generate(9004, exercise="arm_raise", mode="normal", duration=30)
    det = detect(arrays, exercise="arm_raise", target=truth["target"] * accuracy.TRUTH_REACH)
    amps = [r.amplitude / truth["target"] for r in det.reps]
    assert amps and all(0.6 < a < 1.45 for a in amps)   # scripted 0.7-1.3 of the target


@pytest.mark.parametrize("mode", ["truth", "auto"])
def test_hard_synthetic_floor(hard_set, mode):
    got = []
    for arrays, truth in hard_set:
        target = truth["target"] * accuracy.TRUTH_REACH if mode == "truth" else "auto"
        det = detect(arrays, exercise=truth["exercise"], target=target)
        got.append((truth["exercise"], truth["seed"], det.count, truth["count"]))
    exact = sum(g == t for _, _, g, t in got) / len(got)
    pm1 = sum(abs(g - t) <= 1 for _, _, g, t in got) / len(got)
    wrong = [x for x in got if x[2] != x[3]]
    assert exact >= 0.95, wrong
    assert pm1 >= 0.95, wrong


# What real sets showed the counter needs (issue 9), as synthetic scenarios:
# the first ten exercises, auto target, a few fixed seeds each (the later
# ones: tests/test_catalogue.py).
SCENARIO_SEEDS = range(8000, 8003)


def scenario_results(scenario: str, exercises) -> list[tuple]:
    got = []
    for ex in exercises:
        for seed in SCENARIO_SEEDS:
            arrays, truth = synth.generate(seed, ex, "normal", 60, scenario)
            det = detect(arrays, exercise=ex, target="auto")
            got.append((ex, seed, det.count, truth["count"], len(det.partials)))
    return got


@pytest.mark.parametrize("scenario", ["back_to_back", "trimmed", "bumps"])
def test_scenarios_are_counted_exactly_with_auto_target(scenario):
    # back to back: no pause between reps; trimmed: the first rep starts the
    # recording and the last one ends it; bumps: movement before the set must
    # not become the target
    got = scenario_results(scenario, synth.SEEDED)
    wrong = [g for g in got if g[2] != g[3]]
    assert len(wrong) <= len(got) // 20, wrong
    assert all(abs(g[2] - g[3]) <= 1 for g in got), wrong


def test_slow_weak_squeezes_are_reps_not_absorbed_into_the_rest():
    # 3-9 N targets, rising over 1.5-3 s and held: the rest must not follow them
    got = []
    for ex in ("grip_squeeze", "foot_press"):
        for seed in range(8000, 8010):
            arrays, truth = synth.generate(seed, ex, "normal", 60, "slow_weak")
            det = detect(arrays, exercise=ex, target="auto")
            got.append((ex, seed, det.count, truth["count"], len(det.partials)))
    wrong = [g for g in got if g[2] != g[3]]
    assert len(wrong) <= 2, wrong
    assert all(g[2] + g[4] >= g[3] - 1 for g in got), wrong   # never nothing


def test_a_seed_picks_one_of_the_first_ten_exercises_however_the_catalogue_grows():
    # the floors above and tools/loso.py's tables were made by seed: a new
    # exercise must not change what a seed generates (it is made by name)
    assert synth.SEEDED == ["grip_squeeze", "foot_press", "wrist_flexion", "forearm_rotation", "arm_raise",
                            "elbow_flexion", "ankle_dorsiflexion", "trunk_rotation", "row", "shoulder_rotation"]
    picked = [synth.generate(seed, duration=6)[1]["exercise"] for seed in range(9000, 9020, 2)]
    assert picked == synth.SEEDED   # seeds 2k and 2k+1 make SEEDED[k % 10]


def test_the_catalogue_and_the_synthesiser_name_the_same_exercises():
    from openpuck import exercises
    assert set(synth.NAMES) == set(exercises.names())


def test_an_unknown_scenario_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="back_to_back"):
        synth.generate(8000, "row", "normal", 20, "sideways")

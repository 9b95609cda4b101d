"""The exercise catalogue (protocol/exercises.toml): its breadth, the names
../shared/exercises.md fixes, its table in docs/exercises.md, and a synthetic
set of every exercise that the C detector counts exactly.

The synthetic sets are made by name (tools/synth.py: a seed alone picks only
one of the first ten exercises) from fixed seeds, in memory, in a few
seconds. Only arm_raise, elbow_flexion, row and shoulder_rotation have real
recordings (../shared/data); every other exercise is checked on synthetic
recordings only, and docs/exercises.md says so (checked below).
tests/test_twin_parity.py runs the same sets through the MicroPython twin."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from openpuck import exercises
from openpuck.offline.detect import DetectError, detect
from tests.toolchain import SHARED, need_shared

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import synth  # noqa: E402

# seeds of each exercise's sets: base + catalogue id
SET_SEEDS = {"normal": 4000, "hard": 4100}
DURATION = 45.0


def synthetic_set(name: str, mode: str = "normal"):
    """(arrays, truth) of the fixed synthetic set of an exercise."""
    return synth.generate(SET_SEEDS[mode] + exercises.get(name).id, name, mode, DURATION)


# ids 1-10 are on the wire and in stored recordings: they never change
FIRST_TEN = {1: "grip_squeeze", 2: "foot_press", 3: "wrist_flexion", 4: "forearm_rotation", 5: "arm_raise",
             6: "elbow_flexion", 7: "ankle_dorsiflexion", 8: "trunk_rotation", 9: "row", 10: "shoulder_rotation"}
# named by ../shared/exercises.md (real recordings are judged under these names):
# placement and default target (degrees)
REFERENCE_FIVE = {
    "knee_extension": ("strapped on the shin, seated", 60.0),
    "trunk_flexion": ("held at the chest, seated", 30.0),
    "leg_raise": ("strapped on the shin, lying on the back", 45.0),
    "hip_abduction": ("strapped on the shin, lying on the side", 30.0),
    "hip_extension": ("strapped on the shin, lying face down", 20.0),
}
REGIONS = {"hand", "wrist", "forearm", "elbow", "shoulder", "trunk", "hip", "knee", "ankle"}


def test_the_first_ten_keep_their_ids_and_new_ones_follow():
    ids = [e.id for e in exercises.CATALOGUE]
    assert {e.id: e.name for e in exercises.CATALOGUE if e.id <= 10} == FIRST_TEN
    assert ids == list(range(1, len(ids) + 1))   # new ids after, no gaps
    assert len(set(exercises.names())) == len(ids)


def test_at_least_twenty_exercises_each_with_placement_motion_and_a_modest_default():
    assert len(exercises.CATALOGUE) >= 20
    for e in exercises.CATALOGUE:
        assert e.placement and e.motion, e.name
        if e.signal == "force":
            assert 5 <= e.target <= 200 and e.unit == "N", e.name
        elif e.signal == "translation":   # the hand travels: no joint axis, mm
            assert 100 <= e.target <= 400 and e.unit == "mm" and e.joint_axis is None, e.name
        else:   # degrees; under 20 a set's first small reps can go uncounted (docs/exercises.md)
            assert e.signal == "rotation" and 20 <= e.target <= 90, e.name
            assert e.joint_axis in ("horizontal", "vertical", "tilted"), e.name


@pytest.mark.parametrize("name", list(REFERENCE_FIVE))
def test_the_five_names_of_the_reference_are_angle_exercises_with_its_placement_and_target(name):
    e = exercises.get(name)
    placement, target = REFERENCE_FIVE[name]
    assert (e.placement, e.target) == (placement, target)
    # the reference says tilt; rotation is the project's angle signal, pulled
    # toward gravity about a horizontal axis, where it is the tilt
    assert (e.signal, e.joint_axis) == ("rotation", "horizontal")


def test_every_named_exercise_of_the_shared_reference_has_its_placement_and_target():
    text = need_shared("exercises.md").read_text()
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.split("## The exercises")[1].split("##")[0].splitlines() if line.startswith("| ")]
    rows = [r for r in rows if r[0] != "name"]
    assert len(rows) >= 15
    for name, placement, _motion, _signal, target in rows:
        e = exercises.get(name)
        assert e.placement == placement.replace("°", " degrees"), name
        m = re.fullmatch(r"([\d.]+) ?(N|°)", target)
        if m:   # else "the project's choice"
            assert e.target == float(m.group(1)) and (m.group(2) == "N") == (e.signal == "force"), name


# the angle and force exercises; the translation ones (reach, table_slide)
# are held to their own, looser floors in tests/test_translation.py
EXACT = [e.name for e in exercises.CATALOGUE if e.signal != "translation"]


@pytest.mark.parametrize("mode", list(SET_SEEDS))
@pytest.mark.parametrize("name", EXACT)
def test_every_angle_and_force_exercise_counts_its_synthetic_set_exactly(name, mode):
    # normal: 200 Hz, mild tremor; hard: dropped samples, 4-6 Hz tremor, a
    # drifting gyro bias of several dps, the puck any way round on the limb
    arrays, truth = synthetic_set(name, mode)
    assert truth["count"] >= 3
    # the recording's reps reach 70-130% of its goal: half of it is a target they reach
    for target in (truth["target"] / 2, "auto"):
        det = detect(arrays, exercise=name, target=target)
        assert det.count == truth["count"], (target, [round(r.t_peak, 2) for r in det.reps], truth["peak_times_s"])
        # each rep is its scripted rep (the truth peak is the middle of a hold of up to 2 s)
        assert all(r.t_start - 0.5 <= p <= r.t_end + 0.5 for r, p in zip(det.reps, truth["peak_times_s"])), target


@pytest.mark.parametrize("signal", ["tilt", "heading"])
def test_the_reserved_signals_count_nothing_a_config_asking_for_one_is_refused(signal):
    # the reference's tilt is rotation about a horizontal axis (above); the
    # wire keeps tilt and heading as reserved values of enums.signal
    arrays, _truth = synthetic_set("knee_extension")
    with pytest.raises(DetectError, match="op_detect_check"):
        detect(arrays, exercise="knee_extension", signal=exercises.SIGNALS.index(signal))


# the later exercises in synth's scenarios (tests/test_synth.py has the first ten)
LATER = [name for name in EXACT if exercises.get(name).id > 10]
SCENARIO_SEEDS = range(8000, 8003)


@pytest.mark.parametrize("scenario", ["back_to_back", "trimmed", "bumps"])
def test_the_later_exercises_in_the_scenarios_with_auto_target(scenario):
    got = []
    for name in LATER:
        for seed in SCENARIO_SEEDS:
            arrays, truth = synth.generate(seed, name, "normal", 60, scenario)
            got.append((name, seed, detect(arrays, exercise=name, target="auto").count, truth["count"]))
    wrong = [g for g in got if g[2] != g[3]]
    assert all(abs(g[2] - g[3]) <= 1 for g in got), wrong
    # trimmed (a set that starts mid-rep) costs the 20-degree exercises their
    # first rep now and then, as it does ankle_dorsiflexion: the rotation axis
    # is learned from rates above 8 dps and a small first rep gives it little
    # (measured: 5 of 42, all seed 8002; docs/exercises.md)
    assert len(wrong) <= (len(got) // 8 if scenario == "trimmed" else len(got) // 20), wrong


def doc_rows() -> dict[str, dict]:
    """docs/exercises.md's catalogue table, by exercise name."""
    text = (ROOT / "docs" / "exercises.md").read_text()
    lines = [ln for ln in text.splitlines() if ln.startswith("| ")]
    head = [c.strip() for c in lines[0].strip("| ").split("|")]
    rows = {}
    for ln in lines[1:]:
        cells = dict(zip(head, (c.strip() for c in ln.strip().strip("|").split("|"))))
        if cells.get("exercise", "").startswith("`"):
            rows[cells["exercise"].strip("`")] = cells
    return rows


def test_the_docs_table_gives_every_exercise_as_the_catalogue_does():
    rows = doc_rows()
    assert list(rows) == exercises.names()
    regions = set()
    for e in exercises.CATALOGUE:
        r = rows[e.name]
        unit = {"force": " N", "translation": " mm"}.get(e.signal, "°")
        assert (r["id"], r["placement"], r["motion"], r["signal"], r["default target"]) == \
               (str(e.id), e.placement, e.motion, e.signal, f"{e.target:g}{unit}"), e.name
        parts = set(r["body part"].split(", "))
        assert parts <= REGIONS, e.name
        regions |= parts
    assert regions == REGIONS


def test_the_docs_say_real_only_for_exercises_with_real_recordings():
    need_shared("data")
    real = set()
    for truth in SHARED.glob("data/real-*/*.truth.json"):
        real.add(json.loads(truth.read_text())["exercise"])
    said = {name for name, r in doc_rows().items() if r["checked on"].startswith("real")}
    assert said == real
    assert all(r["checked on"] == "synthetic only" for name, r in doc_rows().items() if name not in real)

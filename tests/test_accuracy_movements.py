"""The per-movement accuracy report and the sets whose amplitude changes.

tools/synth.py's fatigue, mixed and tired_grip scenarios script every
movement and say which reach the target (reps), which come back short of it
(partial reps) and which are neither (the ball taken up); tools/movements.py
scores a detection movement by movement; tools/loso.py writes the report of
`make accuracy`, one line per catalogue exercise. Runs without ../shared, on
a few short recordings made here, so the tools cannot rot unnoticed. The one
floor is one today's detector meets (every movement of a mixed set seen, with
the target given).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from openpuck import exercises
from openpuck.device.events import PartialRep, Rep
from openpuck.offline.detect import Detection

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import accuracy  # noqa: E402
import loso  # noqa: E402
import movements  # noqa: E402
import synth  # noqa: E402

SEEDS = range(8100, 8104)   # not the report's seeds (7000-)


def move(kind: str, t0: float, amplitude: float = 10.0) -> dict:
    return {"kind": kind, "t_start": t0, "t_peak": t0 + 1.0, "t_end": t0 + 2.0, "amplitude": amplitude}


def event(cls, t_peak: float):
    extra = {"hold_s": 0.0} if cls is Rep else {}
    return cls(t=t_peak + 1, exercise="arm_raise", count=1, t_start=t_peak - 1, t_peak=t_peak, t_end=t_peak + 1,
               amplitude=10.0, unit="deg", **extra)


def detection(*events) -> Detection:
    return Detection(exercise="arm_raise", signal="rotation", unit="deg", target=20.0, auto=False,
                     events=list(events))


def truth_of(moves: list[dict]) -> dict:
    return {"movements": moves, "count": sum(m["kind"] == "rep" for m in moves),
            "partial_reps": sum(m["kind"] == "partial" for m in moves), "target": 20.0}


def test_a_movement_detected_as_a_rep_or_a_partial_is_seen_whichever_it_is():
    truth = truth_of([move("rep", 0), move("partial", 5)])
    # the partial movement counted as a rep: seen, but the counts are wrong
    s = movements.score_set(detection(event(Rep, 1.0), event(Rep, 6.0)), truth)
    assert s["seen"] and s["missed"] == [] and s["extra"] == 0
    assert (s["reps"], s["truth_reps"], s["partials"], s["truth_partials"]) == (2, 1, 0, 1)
    s = movements.score_set(detection(event(Rep, 1.0), event(PartialRep, 6.0)), truth)
    assert s["seen"] and (s["reps"], s["partials"]) == (1, 1)


def test_a_small_rep_that_vanishes_is_missed_and_the_set_is_not_all_seen():
    truth = truth_of([move("rep", 0), move("rep", 5), move("partial", 10)])
    s = movements.score_set(detection(event(Rep, 1.0), event(Rep, 6.0)), truth)
    assert not s["seen"] and s["missed"] == [2] and s["movements"] == 3


def test_the_ball_taken_up_or_one_movement_counted_twice_is_an_extra_event():
    truth = truth_of([move("bump", 0, 2.0), move("rep", 5)])
    s = movements.score_set(detection(event(PartialRep, 1.0), event(Rep, 5.6), event(Rep, 6.4)), truth)
    assert s["seen"] and s["extra"] == 2   # the bump's partial, the second half of the rep
    assert movements.score_set(detection(event(Rep, 20.0), event(Rep, 6.0)), truth)["extra"] == 1


def test_a_detection_is_matched_to_the_nearest_movement_within_half_a_second_of_its_span():
    moves = [move("rep", 0), move("rep", 2.2)]   # back to back: the spans nearly touch
    assert movements.match(moves, [event(Rep, 2.1), event(Rep, 3.3)]) == [0, 1]
    assert movements.match(moves, [event(Rep, 4.9)]) == [None]


@pytest.mark.parametrize("scenario", synth.AMPLITUDE_SCENARIOS)
def test_no_scripted_movement_is_within_the_margin_of_the_target(scenario):
    for seed in SEEDS:
        _arrays, truth = synth.generate(seed, "grip_squeeze", "normal", None, scenario)
        for m in truth["movements"]:
            share = m["amplitude"] / truth["target"]
            assert m["kind"] == "bump" or abs(share - 1) >= synth.TARGET_MARGIN - 1e-3, (seed, m)   # rounded
            assert (m["kind"] == "rep") == (share >= 1.0), (seed, m)
        assert truth["count"] == len(truth["peak_times_s"]) == sum(m["kind"] == "rep" for m in truth["movements"])
        assert truth["partial_reps"] == sum(m["kind"] == "partial" for m in truth["movements"])


def test_a_mixed_set_is_3_full_then_3_fast_then_3_small_reps():
    for seed in SEEDS:
        _arrays, truth = synth.generate(seed, "arm_raise", "normal", None, "mixed")
        ms = truth["movements"]
        assert [m["kind"] for m in ms] == ["rep"] * 6 + ["partial"] * 3
        length = [m["t_end"] - m["t_start"] for m in ms]
        assert max(length[3:6]) < min(length[:3])   # the fast ones are faster
        assert all(0.3 <= m["amplitude"] / truth["target"] < 0.85 for m in ms[6:])


def test_a_fatigue_set_starts_above_the_target_and_ends_short_of_it():
    for seed in SEEDS:
        _arrays, truth = synth.generate(seed, "elbow_flexion", "normal", None, "fatigue")
        ms = truth["movements"]
        assert 8 <= len(ms) <= 15 and ms[0]["kind"] == "rep" and ms[-1]["kind"] == "partial"
        assert ms[-1]["amplitude"] < 0.65 * ms[0]["amplitude"]


def test_a_tired_grip_has_the_ball_taken_up_and_a_short_spike_which_are_neither_rep_nor_partial():
    for seed in SEEDS:
        _arrays, truth = synth.generate(seed, "grip_squeeze", "normal", None, "tired_grip")
        ms = truth["movements"]
        bumps = [i for i, m in enumerate(ms) if m["kind"] == "bump"]
        assert bumps[0] == 0 and len(bumps) == 2 and 1 < bumps[1] < len(ms) - 1   # the spike between squeezes
        assert ms[bumps[1]]["t_end"] - ms[bumps[1]]["t_start"] <= 0.2
        assert truth["count"] + truth["partial_reps"] == len(ms) - 2


def test_every_movement_of_a_mixed_set_is_seen_with_the_target_given_in_90_percent_of_sets():
    # today's detector: 95 % (seeds 7000-7009, docs/accuracy.md); issue 22's floor for held-out sets
    rows = movements.run(SEEDS[:2], scenarios=["mixed"], modes=["target"])
    assert len(rows) == 2 * len(synth.NAMES)
    not_seen = [(r["exercise"], r["seed"], r["missed"]) for r in rows if not r["seen"]]
    assert len(not_seen) <= len(rows) // 10, not_seen


def write_real_like(out: Path) -> None:
    """Three sets of two people, with no per-rep truth: two whole sets and a
    recording cut into two protocol blocks."""
    for subject, seed in ((1, 8100), (2, 8101)):
        arrays, truth = synth.generate(seed, "arm_raise", "normal", 30)
        synth.write(out / "real-x", f"x-s{subject}-FEL", arrays,
                    {"exercise": "arm_raise", "target": None, "count": truth["count"], "subject": subject})
    arrays, truth = synth.generate(8102, "arm_raise", "normal", 40)
    mid = 20.0
    windows = [{"from_s": 0, "to_s": mid, "kind": "correct", "count": int(sum(p < mid for p in truth["peak_times_s"]))},
               {"from_s": mid, "to_s": None, "kind": "too_fast",
                "count": int(sum(p >= mid for p in truth["peak_times_s"]))}]
    synth.write(out / "real-y", "y-s1-arm_raise", arrays,
                {"exercise": "arm_raise", "target": truth["target"], "count": truth["count"], "subject": 1,
                 "windows": windows})
    arrays, truth = synth.generate(8103, "grip_squeeze", "normal", 20)
    synth.write(out / "synthetic-x", "grip_squeeze-8103", arrays, truth)


def test_the_report_has_a_line_for_every_catalogue_exercise_and_the_mixed_and_fatigue_tables(tmp_path):
    write_real_like(tmp_path)
    text, rows = loso.report(tmp_path, scenario_seeds=range(7000, 7001), movement_seeds=range(7000, 7001),
                             mode_seeds=range(5000, 5001), only=["arm_raise", "grip_squeeze"])
    assert {r["person"] for r in rows} == {"real-x/s1", "real-x/s2", "real-y/s1"}
    assert len(rows) == 4   # two whole sets and two blocks
    table = text.split("## By movement (catalogue exercise)")[1].split("\n## ")[0]
    lines = {ln.split(" | ")[0].strip("| "): ln for ln in table.splitlines() if ln.startswith("| ")}
    assert set(exercises.names()) <= set(lines)
    assert lines["arm_raise"].split(" | ")[1] == "4"     # its real sets
    assert lines["foot_press"].split(" | ")[1] == "-"    # no real set, no synthetic run asked for
    for sc in ("| fatigue | target |", "| mixed | auto |", "| tired_grip | target |"):
        assert sc in text
    assert "What is tuned on what" in text and "Per fold" in text


def test_the_tools_make_accuracy_runs_answer_on_a_small_data_set(tmp_path, capsys):
    write_real_like(tmp_path)
    assert accuracy.main(["--data", str(tmp_path)]) == 0
    assert movements.main(["--seeds", "7000", "--exercise", "pinch", "--json"]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out[out.index("[\n"):])
    assert {r["scenario"] for r in rows} == set(synth.AMPLITUDE_SCENARIOS)
    assert {r["mode"] for r in rows} == {"target", "auto"}


def test_a_block_of_small_reps_counted_as_reps_and_partials_is_every_movement_seen():
    # a low-amplitude block of 10: 9 reps and 1 partial under the config the
    # other person favours; the partials come from that same config
    sets = [dict(person=p, truth=10, name=p, set="x", exercise="e", movement="low") for p in ("a", "b")]
    cfgs = [loso.DEFAULT, {"still_mdps": 3000, "hyst_pct": 5}]
    rows = loso.loso(sets, cfgs, {0: [9, 10], 1: [8, 8]}, {0: [1, 0], 1: [2, 2]})
    assert [(r["got"], r["partials"]) for r in rows] == [(9, 1), (10, 0)]
    table = loso.group_table(rows, "movement", "movement", with_partials=True)
    assert table[2] == "| low | 2 | 1 (50%) | 2 (100%) | 2 (100%) | 9+1 10 (10) |"

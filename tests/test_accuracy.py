"""Accuracy floors on the labelled recordings of ../shared/data (tools/accuracy.py).

Floors, so accuracy cannot silently regress:
- synthetic-dev with the truth target: exact count in >= 95% of recordings,
  within +-1 in all of them; with --target auto: exact in >= 95%, +-1 in >= 97%.
- real-uci-physio: the correct block (first window) counted exactly 10 in >= 14
  of 15 sessions with the truth target, and in >= 13 with auto.
- real-uci-physio cut into its protocol blocks (correct, too_fast,
  low_amplitude), each block run as a set of its own with --target auto
  (tools/accuracy.py's third table): floors per block kind and overall
  (BLOCK_FLOORS, BLOCK_ALL_FLOOR).
- every real set (real-spar-dev and the real-uci-physio blocks) counted
  leave-one-subject-out (tools/loso.py, what `make accuracy` writes to
  docs/accuracy.md): floors per exercise and overall, at what was measured
  (LOSO_FLOORS), not at a number chosen to pass.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import accuracy  # noqa: E402
import loso  # noqa: E402

from tests.toolchain import need_shared  # noqa: E402


@pytest.fixture(autouse=True)
def shared_data():
    need_shared("data")
CACHE: dict = {}
# block kind: (exact, +-1) of 15 sessions, at least
BLOCK_FLOORS = {"correct": (14, 15), "too_fast": (14, 15), "low_amplitude": (13, 15)}
BLOCK_ALL_FLOOR = (42, 45)  # of 45


def results(mode: str, set_name: str) -> list[dict]:
    res = [r for r in accuracy.evaluate(mode, cache=CACHE) if r["set"] == set_name]
    if not res:
        pytest.skip(f"no {set_name} recordings")
    return res


def shares(res: list[dict]) -> tuple[float, float]:
    exact = sum(r["got"] == r["truth"] for r in res) / len(res)
    pm1 = sum(abs(r["got"] - r["truth"]) <= 1 for r in res) / len(res)
    return exact, pm1


def test_synthetic_dev_with_truth_target_is_exact_in_95_percent_and_within_one_in_all():
    res = results("truth", "synthetic-dev")
    exact, pm1 = shares(res)
    assert exact >= 0.95, accuracy.details(res)
    assert pm1 == 1.0, accuracy.details(res)


def test_synthetic_dev_with_auto_target_is_exact_in_95_percent():
    res = results("auto", "synthetic-dev")
    exact, pm1 = shares(res)
    assert exact >= 0.95, accuracy.details(res)
    assert pm1 >= 0.97, accuracy.details(res)


def test_synthetic_dev_counts_almost_no_reps_in_rest():
    res = results("truth", "synthetic-dev")
    assert sum(r["false"] for r in res) <= 2, accuracy.details(res)


def test_real_uci_correct_block_counts_exactly_10_in_14_of_15_sessions():
    res = results("truth", "real-uci-physio")
    assert sum(r["got"] == r["truth"] for r in res) >= 14, accuracy.details(res)


def test_real_uci_correct_block_with_auto_target():
    res = results("auto", "real-uci-physio")
    assert sum(r["got"] == r["truth"] for r in res) >= 13, accuracy.details(res)
    assert all(abs(r["got"] - r["truth"]) <= 1 for r in res), accuracy.details(res)


def test_real_uci_blocks_as_separate_sets_with_auto_target():
    res = [r for r in accuracy.evaluate_blocks(cache=CACHE) if r["set"] == "real-uci-physio"]
    if not res:
        pytest.skip("no real-uci-physio recordings")
    for kind, (f_exact, f_pm1) in BLOCK_FLOORS.items():
        rs = [r for r in res if r["block"] == kind]
        assert sum(r["got"] == r["truth"] for r in rs) >= f_exact, (kind, accuracy.block_details(res))
        assert sum(abs(r["got"] - r["truth"]) <= 1 for r in rs) >= f_pm1, (kind, accuracy.block_details(res))
    assert sum(r["got"] == r["truth"] for r in res) >= BLOCK_ALL_FLOOR[0], accuracy.block_details(res)
    assert sum(abs(r["got"] - r["truth"]) <= 1 for r in res) >= BLOCK_ALL_FLOOR[1], accuracy.block_details(res)


# exercise: (exact, +-1, sets), leave-one-subject-out, measured 2026-12-02
LOSO_FLOORS = {"arm_raise": (31, 35, 35), "elbow_flexion": (27, 30, 30), "row": (16, 20, 20),
               "shoulder_rotation": (15, 20, 20)}
LOSO_ALL_FLOOR = (89, 105, 105)


@pytest.fixture(scope="module")
def loso_rows():
    need_shared("data")
    return loso.loso_rows()


def test_real_sets_leave_one_subject_out_per_exercise(loso_rows):
    wrong = [f"{r['name']}: {r['got']} of {r['truth']}" for r in loso_rows if r["got"] != r["truth"]]
    for ex, (f_exact, f_pm1, n) in LOSO_FLOORS.items():
        rs = [r for r in loso_rows if r["exercise"] == ex]
        assert len(rs) == n, (ex, len(rs))
        assert sum(r["got"] == r["truth"] for r in rs) >= f_exact, (ex, wrong)
        assert sum(abs(r["got"] - r["truth"]) <= 1 for r in rs) >= f_pm1, (ex, wrong)


def test_real_sets_leave_one_subject_out_overall(loso_rows):
    wrong = [f"{r['name']}: {r['got']} of {r['truth']}" for r in loso_rows if r["got"] != r["truth"]]
    f_exact, f_pm1, n = LOSO_ALL_FLOOR
    assert len(loso_rows) == n
    assert sum(r["got"] == r["truth"] for r in loso_rows) >= f_exact, wrong
    assert sum(abs(r["got"] - r["truth"]) <= 1 for r in loso_rows) >= f_pm1, wrong


def test_loso_chooses_each_persons_constants_without_that_person():
    # config 0 counts a's two sets right, config 1 counts b's and c's: each
    # person is scored with what the others favour, a's own fit never helps a
    sets = [dict(person=p, truth=10, name=p, set="x", exercise="e", movement="m") for p in ("a", "a", "b", "c")]
    cfgs = [loso.DEFAULT, {"still_mdps": 3000, "hyst_pct": 5}]
    counts = {0: [10, 10, 9, 9], 1: [9, 9, 10, 10]}
    rows = loso.loso(sets, cfgs, counts)
    chosen = {r["person"]: r["config"] for r in rows}
    assert chosen == {"a": cfgs[1], "b": cfgs[0], "c": cfgs[0]}
    assert [r["got"] for r in rows] == [9, 9, 9, 9]

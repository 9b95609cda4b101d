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
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import accuracy  # noqa: E402

pytestmark = pytest.mark.skipif(not accuracy.DATA.is_dir(), reason="../shared/data is absent")
CACHE: dict = {}
# block kind: (exact, +-1) of 15 sessions, at least
BLOCK_FLOORS = {"correct": (14, 15), "too_fast": (14, 15), "low_amplitude": (14, 15)}
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

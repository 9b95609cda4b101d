"""Accuracy floors on the labelled recordings of ../shared/data (tools/accuracy.py).

Floors, so accuracy cannot silently regress:
- synthetic-dev with the truth target: exact count in >= 95% of recordings,
  within +-1 in all of them; with --target auto: exact in >= 95%, +-1 in >= 97%.
- real-uci-physio: the correct block (first window) counted exactly 10 in >= 14
  of 15 sessions with the truth target, and in >= 13 with auto.
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

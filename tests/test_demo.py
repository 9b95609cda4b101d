"""`make demo` = `openpuck demo`: a virtual puck plays a scenario with known
counts; the demo counts them live and exactly."""
from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest

from openpuck import sim


@pytest.fixture(scope="module", autouse=True)
def _need_micropython() -> None:
    try:
        sim.micropython_command()
    except sim.SimUnavailable as e:
        pytest.skip(str(e))


def run_demo(*args: str) -> tuple[int, str]:
    from openpuck.cli import build_parser
    a = build_parser().parse_args(["demo", *args])
    out = io.StringIO()
    code = a._run(a, out=out)
    return code, out.getvalue()


@pytest.mark.parametrize("scenario,reps,partials,grips", [
    ("demo", 6, 2, 3), ("grip10", 10, 0, 10), ("wrist8", 8, 0, 0), ("row10", 10, 0, 0),
    ("rotation10", 10, 0, 0)])
def test_demo_counts_exactly(scenario: str, reps: int, partials: int, grips: int) -> None:
    code, out = run_demo("--scenario", scenario, "--speed", "max")
    assert code == 0, out
    lines = out.splitlines()
    assert len([x for x in lines if re.match(r"\s+[\d.]+\s+rep \d", x)]) == reps
    assert len([x for x in lines if re.match(r"\s+[\d.]+\s+partial \d", x)]) == partials
    assert len([x for x in lines if re.match(r"\s+[\d.]+\s+grip ", x)]) == grips
    assert re.search(rf"reps\s+{reps}\s", out) and "the counts match the scenario." in out
    assert re.search(r"\d+ received over [\d.]+ s, 0 dropped by the puck", out)


def test_demo_events_are_live_and_in_time_order() -> None:
    code, out = run_demo("--speed", "max")
    times = [float(m.group(1)) for m in re.finditer(r"^\s+([\d.]+)\s+(?:rep|partial|grip)", out, re.M)]
    assert code == 0 and times == sorted(times) and len(times) == 11
    assert re.search(r"rep 1\s+39\.\d°", out)


def test_make_demo_entry_point_runs_as_a_command() -> None:
    r = subprocess.run([sys.executable, "-m", "openpuck", "demo", "--speed", "max"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "session summary" in r.stdout

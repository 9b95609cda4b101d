"""`make demo` = `openpuck demo`: a virtual puck plays a scenario with known
counts; the demo counts them live and exactly."""
from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest


@pytest.fixture(scope="module", autouse=True)
def _need_micropython(need_micropython) -> None:
    """Every test here runs the virtual puck."""


def run_demo(*args: str) -> tuple[int, str]:
    from openpuck.cli import build_parser
    a = build_parser().parse_args(["demo", *args])
    out = io.StringIO()
    code = a._run(a, out=out)
    return code, out.getvalue()


@pytest.mark.parametrize("scenario,reps,partials,grips", [
    ("demo", 6, 2, 3), ("grip10", 10, 0, 10), ("wrist8", 8, 0, 0), ("row10", 10, 0, 0),
    ("rotation10", 10, 0, 0), ("reach8", 8, 0, 0)])
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
    code, out = run_demo("--scenario", "demo", "--speed", "max")
    times = [float(m.group(1)) for m in re.finditer(r"^\s+([\d.]+)\s+(?:rep|partial|grip)", out, re.M)]
    assert code == 0 and times == sorted(times) and len(times) == 11
    assert re.search(r"rep 1\s+(3[6-9]|4[0-2])\.\d°", out)   # a 40 degree bend


def test_demo_with_an_auto_target_shows_the_target_the_puck_learned() -> None:
    code, out = run_demo("--scenario", "grip10", "--speed", "max", "--target", "auto")
    learned = re.findall(r"^\s+([\d.]+)\s+target\s+([\d.]+) N\s+learned by the puck", out, re.M)
    assert code == 0 and learned, out
    assert all(8 < float(v) <= 13 for _, v in learned), "40% of the 25 N squeezes"


def test_make_demo_entry_point_runs_as_a_command(tmp_path) -> None:
    """`make demo`: a short programme session, ending with a personal best,
    the history it wrote and the therapist's report."""
    db = tmp_path / "h.sqlite3"
    r = subprocess.run([sys.executable, "-m", "openpuck", "demo", "--speed", "max", "--db", str(db)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert out.count("set 1 of 2") == 2 and out.count("set 2 of 2") == 2
    assert "personal best! " in out and "woo hoo" in out
    # the session's latest best of each exercise, once each: a best superseded later is not listed
    assert re.search(r"^personal bests: grip_squeeze [\d.]+ N, wrist_flexion [\d.]+°$", out, re.M), out
    assert out.count(" done: ") == 4 + 1, "four sets and the session, each told once"
    assert "session 1 done:" in out
    assert f"history: {db}" in out
    report = db.with_name("report.html")
    assert f"report: {report}" in out and report.read_text().count("<svg") >= 3
    from openpuck.clinic.history import History
    with History(db) as h:
        (session,) = h.sessions("demo")
        sets = h.sets(session.id)
    assert [s.exercise for s in sets] == ["grip_squeeze"] * 2 + ["wrist_flexion"] * 2
    assert sum(s.reps for s in sets) >= 18 and all(s.ended_at for s in sets)

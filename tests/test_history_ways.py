"""One catalogue exercise done in different ways is counted apart (issue 20,
item 14): after programmes/leg.toml, one-foot presses of about 190 N and
alternate foot taps of about 45 N are two rows, two plots and two targets,
in History.daily(), `openpuck history` and the report, as the runner keeps
their progression and personal bests apart."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from openpuck.cli import main
from openpuck.clinic.history import History
from openpuck.clinic.report import write_report
from openpuck.clinic.report_data import gather
from openpuck.device.events import Rep
from tests.test_cli_history import cells, section
from tests.test_report import Page, summary_rows

DAY = dt.date(2025, 3, 3)
PRESS = ("foot_press", ("right_foot",), None)
TAPS = ("foot_press", ("left_foot", "right_foot"), "alternate")
PRESSES = [185.0, 190.0, 205.1, 180.0]     # N: a one-foot press
TAP_FORCES = [44.0, 46.0, 45.0, 47.0, 43.0, 45.0]   # N: a tap


def _at(hour: int, minute: int = 0) -> float:
    return dt.datetime(DAY.year, DAY.month, DAY.day, hour, minute).timestamp()


def _set(h: History, session: int, way, target: float, forces: list[float], start: float) -> None:
    exercise, pucks, mode = way
    s = h.start_set(session, exercise, 1, target, "N", pucks, mode=mode, started_at=start)
    for i, f in enumerate(forces):
        h.add_event(s, Rep(t=i * 2.0 + 1.0, exercise=exercise, count=i + 1, t_start=i * 2.0, t_peak=i * 2.0 + 0.5,
                           t_end=i * 2.0 + 1.0, amplitude=f, unit="N", hold_s=0.5), pucks[i % len(pucks)])
    h.end_set(s, ended_at=start + 60)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("ways") / "history.sqlite3"
    with History(path) as h:
        session = h.start_session("anna", "Leg", started_at=_at(10))
        _set(h, session, PRESS, 180.0, PRESSES, _at(10, 1))
        _set(h, session, TAPS, 42.0, TAP_FORCES, _at(10, 10))
        h.end_session(session, ended_at=_at(10, 30))
    return path


def test_daily_keeps_one_row_per_exercise_pucks_and_mode(db):
    with History(db) as h:
        rows = {r.key: r for r in h.daily("anna")}
    assert set(rows) == {PRESS, TAPS}
    assert rows[PRESS].mean_amplitude == pytest.approx(sum(PRESSES) / len(PRESSES))
    assert rows[PRESS].best_amplitude == 205.1 and rows[PRESS].reps == 4
    assert rows[TAPS].mean_amplitude == pytest.approx(sum(TAP_FORCES) / len(TAP_FORCES))
    assert rows[TAPS].best_amplitude == 47.0 and rows[TAPS].reps == 6


def test_the_report_data_has_a_summary_target_and_best_per_way(db):
    with History(db) as h:
        data = gather(h, "anna")
    by_key = {e.key: e for e in data.exercises}
    assert set(by_key) == {PRESS, TAPS}
    press, taps = by_key[PRESS], by_key[TAPS]
    assert (press.name, taps.name) == ("foot_press (right_foot)", "foot_press (left_foot + right_foot, alternate)")
    assert (press.target, taps.target) == (180.0, 42.0)
    assert (press.best.amplitude, taps.best.amplitude) == (205.1, 47.0)
    assert taps.latest_mean == pytest.approx(45.0)
    assert [r.key for r in data.daily_of(taps)] == [TAPS]


def test_openpuck_history_shows_each_way_on_its_own_row(db, capsys):
    assert main(["history", "--db", str(db), "--patient", "anna"]) == 0
    out = capsys.readouterr().out
    _, *rows = section(out, "per day and exercise")
    got = {c[1]: (c[3], c[6], c[7]) for c in map(cells, rows)}
    assert got == {"foot_press (right_foot)": ("4", "190.0 N", "205.1 N"),
                   "foot_press (left_foot + right_foot, alternate)": ("6", "45.0 N", "47.0 N")}
    _, *bests = section(out, "personal bests")
    assert [cells(b)[:2] for b in bests] == [["foot_press (right_foot)", "205.1 N"],
                                             ["foot_press (left_foot + right_foot, alternate)", "47.0 N"]]
    assert main(["history", "--db", str(db), "--patient", "anna", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(d["exercise"], d["pucks"], d["mode"], d["reps"]) for d in doc["daily"]] == [
        ("foot_press", ["left_foot", "right_foot"], "alternate", 6), ("foot_press", ["right_foot"], None, 4)]
    assert [(e["name"], e["target"]) for e in doc["exercises"]] == [
        ("foot_press (right_foot)", 180.0), ("foot_press (left_foot + right_foot, alternate)", 42.0)]


def test_the_report_has_a_row_a_panel_and_a_target_per_way(db, tmp_path):
    out = tmp_path / "anna.html"
    with History(db) as h:
        write_report(h, "anna", out)
    page = Page(out.read_text(encoding="utf-8"))
    rows = summary_rows(page)
    assert set(rows) == {"foot_press (right_foot)", "foot_press (left_foot + right_foot, alternate)"}
    assert rows["foot_press (right_foot)"]["Target now"] == "180.0 N"
    assert rows["foot_press (left_foot + right_foot, alternate)"]["Target now"] == "42.0 N"
    assert rows["foot_press (right_foot)"]["Best rep (date)"].startswith("205.1 N")
    text = page.all_text
    assert "foot press (right foot): mean 190.0 N" in text
    assert "foot press (left foot + right foot, alternate): mean 45.0 N" in text
    assert "foot press (left foot + right foot, alternate): 42.0 N at the first set" in text

"""Each clinical figure has one definition (openpuck.offline.summary): the
history's sets and days, the report, the progression and the command line's
--json give the same success rate, reps per minute and time under tension for
the same sets."""
from __future__ import annotations

import datetime as dt

import pytest

from openpuck.cli.history import as_json
from openpuck.clinic import progression
from openpuck.clinic.history import History
from openpuck.clinic.report_data import gather
from openpuck.device.events import Grip, PartialRep, Rep
from openpuck.offline.summary import SetSummary, reps_per_minute, success_rate, summarise

MONDAY = dt.datetime(2025, 3, 3, 10, 0).timestamp()
DAY = 86_400.0


def rep(count: int, t0: float, t1: float, amp: float) -> Rep:
    return Rep(t=t1, exercise="grip_squeeze", count=count, t_start=t0, t_peak=(t0 + t1) / 2, t_end=t1,
               amplitude=amp, unit="N")


def partial(count: int, t0: float, t1: float) -> PartialRep:
    return PartialRep(t=t1, exercise="grip_squeeze", count=count, t_start=t0, t_peak=(t0 + t1) / 2, t_end=t1,
                      amplitude=8.0, unit="N")


#: (day, session, how the set ends, its events): "end" (end_set works the summary out), "given" (a
#: runner's own summary JSON, as programme.run passes), "cut" (the process died: no end_set)
SETS = [
    (0, 0, "end", [rep(1, 0.0, 1.0, 20.0), rep(2, 3.0, 4.5, 24.0), partial(3, 6.0, 6.5), rep(4, 8.0, 10.0, 26.0)]),
    (0, 0, "given", [rep(1, 0.0, 2.0, 22.0), partial(2, 3.0, 3.5), partial(3, 5.0, 5.5), rep(3, 6.0, 7.0, 21.0),
                     Grip(t=9.0, t_start=8.0, t_end=9.0, peak_force=30.0, hold_s=0.5)]),
    (0, 1, "cut", [rep(1, 0.0, 1.0, 25.0), rep(2, 2.0, 3.5, 27.0)]),
    (1, 2, "end", [rep(1, 0.0, 1.0, 23.0), rep(2, 4.0, 5.0, 23.5), rep(3, 8.0, 9.0, 24.5), partial(4, 10.0, 11.0),
                   rep(5, 12.0, 13.0, 25.0), rep(6, 14.0, 15.0, 26.0)]),
    (1, 2, "end", [partial(1, 0.0, 1.0), partial(2, 2.0, 3.0)]),
]


@pytest.fixture
def filled(tmp_path):
    with History(tmp_path / "h.sqlite3") as h:
        sessions: dict[int, int] = {}
        for n, (day, session, how, events) in enumerate(SETS):
            if session not in sessions:
                sessions[session] = h.start_session("anna", "Hand", MONDAY + day * DAY + session * 3600)
            s = h.start_set(sessions[session], "grip_squeeze", n, 20.0, "N", ["right_hand"],
                            started_at=MONDAY + day * DAY + session * 3600 + n * 60)
            for ev in events:
                h.add_event(s, ev, "right_hand")
            if how == "given":
                h.end_set(s, summary={**summarise(events, target=20.0), "note": "from the runner"})
            elif how == "end":
                h.end_set(s)
        yield h


def expected(indices: list[int]) -> SetSummary:
    return SetSummary.pool(SetSummary.of(SETS[i][3], target=20.0) for i in indices)


def figures(x) -> tuple:
    return (x.success_rate, x.reps_per_minute, x.time_under_tension_s)


def test_the_history_s_days_pool_the_sets_figures(filled):
    daily = filled.daily("anna")
    assert [r.day for r in daily] == [dt.date.fromtimestamp(MONDAY), dt.date.fromtimestamp(MONDAY + DAY)]
    for row, sets in zip(daily, ([0, 1, 2], [3, 4])):
        want = expected(sets)
        assert figures(row) == pytest.approx(figures(want))
        assert (row.reps, row.partial_reps, row.sets) == (want.reps, want.partial_reps, len(sets))
    assert daily[0].success_rate == success_rate(7, 3) and daily[1].success_rate == success_rate(5, 3)
    # over a day: its sets' reps over their active times summed, not a mean of the sets' rates
    assert daily[0].reps_per_minute == pytest.approx(reps_per_minute(7, 10.0 + 7.0 + 3.5))
    assert daily[0].time_under_tension_s == pytest.approx(1.0 + 1.5 + 2.0 + 2.0 + 1.0 + 1.0 + 1.5)


def test_every_set_reads_the_figures_of_its_events(filled):
    rows = [st for s in filled.sessions("anna") for st in filled.sets(s.id)]
    assert [figures(r.figures) for r in rows] == [figures(expected([i])) for i in range(len(SETS))]
    for r in rows:
        if r.summary is not None:      # the JSON beside the columns says the same
            assert (r.summary["success_rate"], r.summary["time_under_tension_s"]) == \
                (r.success_rate, r.figures.time_under_tension_s)
            assert r.summary["reps_per_minute"] == pytest.approx(r.figures.reps_per_minute or 0.0)


def test_report_progression_and_history_give_the_same_success(filled):
    data = gather(filled, "anna")
    pooled = expected(list(range(len(SETS))))
    assert data.success_rate == data.exercise("grip_squeeze").success_rate == pooled.success_rate
    done = progression.sessions(filled.set_history("anna", "grip_squeeze"))
    assert [s.success_rate for s in done] == [s.success_rate for s in data.sessions] == \
        [expected(ix).success_rate for ix in ([0, 1], [2], [3, 4])]
    assert [figures(r) for r in data.daily] == [figures(r) for r in filled.daily("anna")]


def test_the_json_of_the_command_line_gives_the_history_s_figures(filled):
    doc = as_json(gather(filled, "anna"), "h.sqlite3")
    for d, r in zip(doc["daily"], filled.daily("anna")):
        assert (d["success_rate"], d["reps_per_minute"], d["time_under_tension_s"]) == \
            tuple(round(x, 6) for x in figures(r))
    assert doc["totals"]["success_rate"] == round(expected(list(range(len(SETS)))).success_rate, 6)


def test_a_set_summary_keeps_its_json_keys_and_comes_back_from_them():
    s = SetSummary.of(SETS[0][3], target=20.0)
    d = s.to_dict()
    assert list(d) == ["exercise", "unit", "target", "reps", "partial_reps", "grips", "mean_amplitude",
                       "best_amplitude", "mean_rep_duration_s", "time_under_tension_s", "reps_per_minute",
                       "success_rate", "active_s"]
    assert SetSummary.from_dict(d) == s
    old = {k: v for k, v in d.items() if k != "active_s"}     # a summary stored before active_s
    assert SetSummary.from_dict(old).reps_per_minute == pytest.approx(s.reps_per_minute)
    empty = SetSummary.of([])
    assert (empty.success_rate, empty.reps_per_minute, empty.mean_amplitude) == (None, None, None)
    assert (empty.to_dict()["reps_per_minute"], empty.to_dict()["mean_amplitude"]) == (0.0, 0.0)

"""The history database: every session, set and rep kept as it happens,
read back whole, summed per exercise and day, and never failing silently."""
from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from openpuck.clinic import history as history_mod
from openpuck.clinic import history_schema
from openpuck.clinic.history import History, HistoryError, data_dir, default_path, recording_path
from openpuck.clinic.progression import ProgressionRule, SetResult, session_target
from openpuck.device.events import Gap, Grip, PartialRep, Rep, Status
from openpuck.errors import OpenPuckError
from openpuck.offline.validate import InvalidValue

MONDAY = dt.datetime(2025, 3, 3, 10, 0).timestamp()      # local time: days are local dates
TUESDAY = dt.datetime(2025, 3, 4, 9, 30).timestamp()


def rep(count: int, t_start: float, amplitude: float, duration: float = 1.0, *, exercise: str = "grip_squeeze",
        unit: str = "N", hold_s: float = 0.4, uncertain: bool = False) -> Rep:
    return Rep(t=t_start + duration, exercise=exercise, count=count, t_start=t_start,
               t_peak=t_start + duration / 2, t_end=t_start + duration, amplitude=amplitude, unit=unit,
               hold_s=hold_s, uncertain=uncertain, host_time=MONDAY + t_start)


def partial(count: int, t_start: float, amplitude: float, *, exercise: str = "grip_squeeze",
            unit: str = "N") -> PartialRep:
    return PartialRep(t=t_start + 0.5, exercise=exercise, count=count, t_start=t_start, t_peak=t_start + 0.25,
                      t_end=t_start + 0.5, amplitude=amplitude, unit=unit)


@pytest.fixture
def h(tmp_path):
    with History(tmp_path / "history.sqlite3") as hist:
        yield hist


def a_set(h: History, session: int, reps: list[float], partials: int = 0, *, exercise: str = "grip_squeeze",
          target: float | None = 20.0, unit: str = "N", pucks=("right_hand",), at: float = MONDAY,
          index: int = 1, end: bool = True, mode: str | None = None) -> int:
    """A set whose reps peak at ``reps``, one every 3 s, then ``partials`` partial reps."""
    s = h.start_set(session, exercise, index, target, unit, pucks, mode=mode, started_at=at)
    for i, amp in enumerate(reps):
        h.add_event(s, rep(i + 1, 3.0 * i, amp, exercise=exercise, unit=unit), pucks[i % len(pucks)])
    for i in range(partials):
        h.add_event(s, partial(i + 1, 100.0 + i, 5.0, exercise=exercise, unit=unit), pucks[0])
    if end:
        h.end_set(s, at + 60)
    return s


# --- where it lives ---

def test_the_data_folder_is_the_platforms_unless_the_environment_moves_it(monkeypatch, tmp_path):
    monkeypatch.delenv("OPENPUCK_DATA_DIR", raising=False)
    assert data_dir().name == "openpuck"
    monkeypatch.setenv("OPENPUCK_DATA_DIR", str(tmp_path / "clinic"))
    assert default_path() == tmp_path / "clinic" / "history.sqlite3"
    with History() as hist:
        assert hist.path == tmp_path / "clinic" / "history.sqlite3" and hist.path.exists()


def test_it_is_in_wal_mode(h):
    db = sqlite3.connect(h.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert h.schema_version == len(history_schema.MIGRATIONS)


def test_recordings_go_beside_the_database(h):
    session = h.start_session("anna", "Hand and arm", MONDAY)
    s = h.start_set(session, "grip_squeeze", 1, 20.0, "N", ["right_hand"])
    path = h.recording_of(s)
    assert path == h.path.parent / "recordings" / "anna" / str(session) / f"{s}.opr"
    assert path == recording_path("anna", session, s, h.path.parent)
    assert path.parent.is_dir()                       # ready for the recorder
    raw = sqlite3.connect(h.path).execute("SELECT recording_path FROM exercise_set").fetchone()[0]
    assert raw == f"recordings/anna/{session}/{s}.opr"   # relative: the folder can move whole


def test_a_recording_elsewhere_is_kept_as_given(h, tmp_path):
    session = h.start_session("anna", "p")
    s = h.start_set(session, "grip_squeeze", 1, 20.0, "N", ["right_hand"], tmp_path / "elsewhere" / "x.opr")
    assert h.recording_of(s) == tmp_path / "elsewhere" / "x.opr"


@pytest.mark.parametrize("patient", ["", "  ", "../evil", "a/b", "a\\b", ".hidden", "x" * 101, 7])
def test_a_patient_name_that_cannot_name_a_folder_is_refused(h, patient):
    with pytest.raises(InvalidValue, match="patient"):
        h.start_session(patient, "p")


def test_patient_names_may_be_names():
    assert history_mod.check_patient(" Anna Müller-Ölz 2 ") == "Anna Müller-Ölz 2"


# --- written as it happens, read back whole ---

def test_each_rep_is_readable_by_another_reader_as_soon_as_it_is_added(h):
    session = h.start_session("anna", "Hand and arm", MONDAY)
    s = h.start_set(session, "grip_squeeze", 1, 20.0, "N", ["right_hand"], started_at=MONDAY)
    with History(h.path) as reader:
        for i in range(1, 4):
            h.add_event(s, rep(i, 3.0 * i, 20.0 + i), "right_hand")
            assert [e.event.count for e in reader.events(s)] == list(range(1, i + 1))


def test_events_come_back_as_they_went_in_with_their_puck(h):
    session = h.start_session("anna", "p", MONDAY)
    s = h.start_set(session, "grip_squeeze", 1, 20.0, "N", ["left_hand", "right_hand"], mode="bilateral")
    sent = [(rep(1, 0.0, 24.5, uncertain=True), "left_hand"), (rep(1, 0.1, 22.0), "right_hand"),
            (partial(1, 3.0, 6.0), "left_hand"),
            (Grip(t=1.2, t_start=0.2, t_end=1.2, peak_force=23.0, hold_s=0.5, host_time=None), "right_hand")]
    for ev, puck in sent:
        h.add_event(s, ev, puck)
    got = h.events(s)
    assert [(e.event, e.puck) for e in got] == sent
    assert all(e.set_id == s for e in got)


def test_only_reps_partial_reps_and_grips_are_kept(h):
    s = h.start_set(h.start_session("anna", "p"), "grip_squeeze", 1, 20.0, "N", ["right_hand"])
    with pytest.raises(TypeError, match="not status events"):
        h.add_event(s, Status(t=1.0, battery_v=3.9, battery_pct=80, dropped_samples=0, uptime_s=1.0,
                              streaming=True, exercise="grip_squeeze", reps=0, partial_reps=0, rx_errors=0,
                              reset_cause="power_on"), "right_hand")
    with pytest.raises(TypeError, match="not gap events"):
        h.add_event(s, Gap(t=1.0, t_start=0.5, t_end=1.0, reason="lost_frames"), "right_hand")


def test_sessions_and_sets_read_back(h):
    first = h.start_session("anna", "Hand and arm", MONDAY)
    a = a_set(h, first, [21.0, 22.0, 23.0], partials=1, index=1)
    b = a_set(h, first, [19.0], index=2, pucks=("left_hand", "right_hand"), mode="alternate", end=False)
    h.end_session(first, MONDAY + 900)
    h.start_session("anna", "Hand and arm", TUESDAY)
    h.start_session("ben", "Leg", MONDAY)

    assert [(x.id, x.programme, x.started_at, x.ended_at) for x in h.sessions("anna")] == \
        [(first, "Hand and arm", MONDAY, MONDAY + 900), (first + 1, "Hand and arm", TUESDAY, None)]
    assert h.patients() == ["anna", "ben"]
    sa, sb = h.sets(first)
    assert (sa.id, sa.exercise, sa.set_index, sa.target, sa.unit, sa.pucks, sa.mode, sa.reps, sa.partial_reps) == \
        (a, "grip_squeeze", 1, 20.0, "N", ("right_hand",), None, 3, 1)
    assert sa.ended_at == MONDAY + 60 and sa.summary["reps"] == 3 and sa.summary["partial_reps"] == 1
    assert (sb.id, sb.pucks, sb.mode, sb.reps, sb.ended_at, sb.summary) == \
        (b, ("left_hand", "right_hand"), "alternate", 1, None, None)


def test_end_set_sums_the_set_up_from_its_stored_events(h):
    s = a_set(h, h.start_session("anna", "p", MONDAY), [20.0, 30.0], partials=2)
    summary = h.sets(1)[0].summary
    assert (summary["reps"], summary["partial_reps"], summary["best_amplitude"], summary["mean_amplitude"],
            summary["success_rate"], summary["target"]) == (2, 2, 30.0, 25.0, 0.5, 20.0)
    assert summary["exercise"] == "grip_squeeze" and s == 1


def test_end_set_keeps_the_callers_summary_and_a_learned_target(h):
    session = h.start_session("anna", "p", MONDAY)
    s = h.start_set(session, "wrist_flexion", 1, "auto", "deg", ["right_hand"])
    assert h.sets(session)[0].target is None
    h.end_set(s, MONDAY + 60, {"reps": 0, "target": 37.5, "note": ("a", "b")})
    row = h.sets(session)[0]
    assert row.target == 37.5 and row.summary == {"reps": 0, "target": 37.5, "note": ["a", "b"]}


# --- what progression and the report read ---

def test_set_history_is_what_progression_takes(h):
    s1 = h.start_session("anna", "p", MONDAY)
    a_set(h, s1, [25.0] * 10, index=1, target=20.0)
    a_set(h, s1, [25.0] * 10, index=2, target=21.0, at=MONDAY + 120)
    a_set(h, s1, [25.0] * 10, index=1, exercise="wrist_flexion", unit="deg", target=30.0, at=MONDAY + 240)
    s2 = h.start_session("anna", "p", TUESDAY)
    a_set(h, s2, [25.0] * 8, partials=2, target=21.0, at=TUESDAY)
    hist = h.set_history("anna", "grip_squeeze")
    assert hist == [SetResult(s1, 20.0, 10, 0, MONDAY), SetResult(s1, 21.0, 10, 0, MONDAY + 120),
                    SetResult(s2, 21.0, 8, 2, TUESDAY)]
    assert session_target(hist, ProgressionRule()) == 21.0        # 80% on Tuesday: keep
    assert h.set_history("ben", "grip_squeeze") == []


def test_histories_of_the_same_exercise_are_kept_apart_by_puck_and_mode(h):
    s = h.start_session("anna", "p", MONDAY)
    a_set(h, s, [10.0] * 5, target=8.0, pucks=("left_hand",))
    a_set(h, s, [30.0] * 5, target=25.0, pucks=("right_hand",), at=MONDAY + 100)
    a_set(h, s, [6.0] * 6, target=5.0, pucks=("left_hand", "right_hand"), mode="alternate", at=MONDAY + 200)
    a_set(h, s, [20.0] * 6, target=15.0, pucks=("left_hand", "right_hand"), mode="bilateral", at=MONDAY + 300)
    assert len(h.set_history("anna", "grip_squeeze")) == 4
    assert [x.target for x in h.set_history("anna", "grip_squeeze", pucks=["left_hand"])] == [8.0]
    assert [x.target for x in h.set_history("anna", "grip_squeeze", pucks=("left_hand", "right_hand"),
                                            mode="bilateral")] == [15.0]
    assert h.last_target("anna", "grip_squeeze") == 15.0
    assert h.last_target("anna", "grip_squeeze", pucks="right_hand") == 25.0
    assert h.personal_best("anna", "grip_squeeze", pucks=("left_hand",)).amplitude == 10.0


def test_last_target_skips_sets_whose_target_was_never_learned(h):
    s = h.start_session("anna", "p", MONDAY)
    a_set(h, s, [25.0], target=22.0)
    a_set(h, s, [], target=None, at=MONDAY + 100, end=False)
    assert h.last_target("anna", "grip_squeeze") == 22.0
    assert h.last_target("anna", "foot_press") is None


def test_personal_best_is_the_largest_rep_not_a_partial_or_a_grip(h):
    s1 = h.start_session("anna", "p", MONDAY)
    a_set(h, s1, [20.0, 31.5, 25.0], partials=1)
    s2 = h.start_session("anna", "p", TUESDAY)
    best_set = a_set(h, s2, [28.0, 31.5], at=TUESDAY)      # a tie: the first one stands
    g = h.start_set(s2, "grip_squeeze", 2, 20.0, "N", ["right_hand"], started_at=TUESDAY + 100)
    h.add_event(g, Grip(t=1.0, t_start=0.0, t_end=1.0, peak_force=99.0, hold_s=1.0), "right_hand")
    pb = h.personal_best("anna", "grip_squeeze")
    assert (pb.amplitude, pb.unit, pb.session_id, pb.at) == (31.5, "N", s1, MONDAY)
    assert best_set != pb.set_id
    assert h.personal_best("anna", "wrist_flexion") is None


def test_daily_figures_per_exercise_and_day(h):
    s1 = h.start_session("anna", "p", MONDAY)
    # two sets of grip on Monday: reps every 3 s lasting 1 s each
    a_set(h, s1, [20.0, 22.0, 24.0], partials=1, index=1)              # span 0..7 s
    a_set(h, s1, [30.0, 26.0], partials=0, index=2, at=MONDAY + 120)   # span 0..4 s
    a_set(h, s1, [40.0], exercise="wrist_flexion", unit="deg", at=MONDAY + 240)
    s2 = h.start_session("anna", "p", TUESDAY)
    a_set(h, s2, [], partials=3, at=TUESDAY)                          # only partial reps

    monday_grip, monday_wrist, tuesday_grip = h.daily("anna")
    assert (monday_grip.day, monday_grip.exercise, monday_grip.unit, monday_grip.sets) == \
        (dt.date(2025, 3, 3), "grip_squeeze", "N", 2)
    assert (monday_grip.reps, monday_grip.partial_reps) == (5, 1)
    assert monday_grip.mean_amplitude == pytest.approx(24.4)
    assert monday_grip.best_amplitude == 30.0
    assert monday_grip.reps_per_minute == pytest.approx(60 * 5 / 11)   # 5 reps over 7 s + 4 s
    assert monday_grip.time_under_tension_s == pytest.approx(5.0)
    assert monday_grip.success_rate == pytest.approx(5 / 6)
    # one rep of 1 s: its own span, as summarise takes it
    assert (monday_wrist.exercise, monday_wrist.reps, monday_wrist.unit, monday_wrist.reps_per_minute) == \
        ("wrist_flexion", 1, "deg", 60.0)
    assert (tuesday_grip.day, tuesday_grip.reps, tuesday_grip.partial_reps, tuesday_grip.success_rate,
            tuesday_grip.mean_amplitude, tuesday_grip.best_amplitude, tuesday_grip.time_under_tension_s) == \
        (dt.date(2025, 3, 4), 0, 3, 0.0, None, None, 0.0)
    assert h.daily("ben") == []


def test_daily_counts_sets_that_were_never_ended(h):
    s = h.start_session("anna", "p", MONDAY)
    a_set(h, s, [20.0, 21.0], end=False)
    assert h.daily("anna")[0].reps == 2


def test_two_puck_reps_count_together_and_keep_their_puck(h):
    s = h.start_session("anna", "p", MONDAY)
    st = a_set(h, s, [6.0, 7.0, 6.5, 7.5], pucks=("left_hand", "right_hand"), mode="alternate", target=5.0)
    assert [e.puck for e in h.events(st)] == ["left_hand", "right_hand", "left_hand", "right_hand"]
    assert h.daily("anna")[0].reps == 4


# --- failures are loud and name the file ---

def test_a_write_that_cannot_happen_raises_naming_the_file(tmp_path):
    path = tmp_path / "history.sqlite3"
    with History(path, timeout_s=0.2) as h:
        s = h.start_set(h.start_session("anna", "p"), "grip_squeeze", 1, 20.0, "N", ["right_hand"])
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")             # another program holds the write lock
        with pytest.raises(HistoryError) as e:
            h.add_event(s, rep(1, 0.0, 21.0), "right_hand")
        assert str(path) in str(e.value) and "record a rep of set 1" in str(e.value)
        assert "another program is writing it" in str(e.value)
        other.execute("ROLLBACK")
        h.add_event(s, rep(1, 0.0, 21.0), "right_hand")       # and it goes on once the lock is gone
        assert len(h.events(s)) == 1
    assert issubclass(HistoryError, OpenPuckError)


def test_writes_to_sessions_and_sets_that_do_not_exist_are_refused_by_id(h):
    with pytest.raises(HistoryError, match=r"start set 1 of grip_squeeze in session 5: there is no session 5"):
        h.start_set(5, "grip_squeeze", 1, 20.0, "N", ["right_hand"])
    with pytest.raises(HistoryError, match=r"record a rep of set 9: there is no set 9"):
        h.add_event(9, rep(1, 0.0, 20.0), "right_hand")
    with pytest.raises(HistoryError, match="there is no set 9"):
        h.end_set(9, summary={})
    with pytest.raises(HistoryError, match="end session 3: there is no session 3"):
        h.end_session(3)
    assert h.sessions("anna") == []


def test_a_file_that_is_not_a_database_is_refused_by_name(tmp_path):
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is a shopping list, not a database" * 50)
    with pytest.raises(HistoryError, match=rf"{path}: cannot use it as the history database: "):
        History(path)


def test_a_folder_that_cannot_be_made_is_named(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(HistoryError, match="cannot make its folder"):
        History(tmp_path / "file" / "history.sqlite3")


def test_a_summary_that_is_not_json_is_refused_before_anything_is_written(h):
    s = h.start_set(h.start_session("anna", "p"), "grip_squeeze", 1, 20.0, "N", ["right_hand"])
    with pytest.raises(InvalidValue, match="summary of set 1 cannot be stored as JSON"):
        h.end_set(s, summary={"when": object()})
    assert h.sets(1)[0].ended_at is None


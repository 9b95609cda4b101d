"""The history database's schema: versioned with PRAGMA user_version and an
ordered list of migrations; an older file is brought up to date, keeping its
data, and a newer one is refused rather than misread."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from openpuck.clinic import history_schema
from openpuck.clinic.history import History, HistoryError
from openpuck.device.events import Rep

#: schema 1, table by table: what readers outside the SDK (a report, a clinic's export) may rely on
SCHEMA_1 = {
    "session": ["id", "patient", "programme", "started_at", "ended_at"],
    "exercise_set": ["id", "session_id", "exercise", "set_index", "target", "unit", "pucks", "mode",
                     "recording_path", "started_at", "ended_at", "summary"],
    "event": ["id", "set_id", "kind", "puck", "count", "t", "t_start", "t_peak", "t_end", "amplitude", "unit",
              "hold_s", "uncertain", "host_time"],
}

#: schema 2: each set's figures (openpuck.offline.summary.SetSummary) in typed columns
SCHEMA_2 = {**SCHEMA_1, "exercise_set": SCHEMA_1["exercise_set"] + [
    "reps", "partial_reps", "grips", "mean_amplitude", "best_amplitude", "time_under_tension_s", "active_s"]}
#: schema 3: the outbox of `openpuck sync` (what the clinic server does not have yet)
SCHEMA_3 = {**SCHEMA_2, "outbox": ["id", "kind", "row_id"]}
#: schema 4: where a set or an event came from (NULL: live; "puck_log") and which record of the puck's log it is
_FROM_LOG = ["source", "puck_serial", "puck_boot", "log_seq"]
SCHEMA_4 = {**SCHEMA_3, "exercise_set": SCHEMA_3["exercise_set"] + _FROM_LOG,
            "event": SCHEMA_3["event"] + _FROM_LOG}
LATEST = len(history_schema.MIGRATIONS)

#: a later migration, as the next one to ship would be written (for the tests only)
ADD_PLACE = ("ALTER TABLE session ADD COLUMN place TEXT",
             "UPDATE session SET place = 'home'")


def columns(path, table: str) -> list[str]:
    return [r[1] for r in sqlite3.connect(path).execute(f"PRAGMA table_info({table})")]


def version_of(path) -> int:
    return sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]


def a_current_file(path) -> int:
    with History(path) as h:
        s = h.start_set(h.start_session("anna", "Hand and arm", 1_741_000_000.0), "grip_squeeze", 1, 20.0, "N",
                        ["right_hand"])
        h.add_event(s, Rep(t=1.0, exercise="grip_squeeze", count=1, t_start=0.0, t_peak=0.5, t_end=1.0,
                           amplitude=24.0, unit="N"), "right_hand")
        return s


def test_a_new_file_gets_the_latest_schema(tmp_path):
    path = tmp_path / "h.sqlite3"
    History(path).close()
    assert version_of(path) == LATEST == 4
    for table, cols in SCHEMA_4.items():
        assert columns(path, table) == cols


def test_an_empty_database_of_version_0_is_migrated(tmp_path):
    path = tmp_path / "h.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE unrelated (x)")      # a database, schema 0
    with History(path) as h:
        assert h.schema_version == LATEST
        assert h.sessions("anna") == []


def test_an_older_schema_is_migrated_and_keeps_its_data(tmp_path, monkeypatch):
    path = tmp_path / "h.sqlite3"
    set_id = a_current_file(path)
    assert version_of(path) == LATEST
    monkeypatch.setattr(history_schema, "MIGRATIONS", [*history_schema.MIGRATIONS, ADD_PLACE])
    with History(path) as h:
        assert h.schema_version == LATEST + 1
        assert [e.event.amplitude for e in h.events(set_id)] == [24.0]
        assert h.sessions("anna")[0].programme == "Hand and arm"
    assert "place" in columns(path, "session")
    assert sqlite3.connect(path).execute("SELECT place FROM session").fetchall() == [("home",)]


def test_a_migration_in_python_gets_the_connection(tmp_path, monkeypatch):
    path = tmp_path / "h.sqlite3"
    a_current_file(path)
    seen = []
    monkeypatch.setattr(history_schema, "MIGRATIONS",
                        [*history_schema.MIGRATIONS, lambda db: seen.append(db.execute("SELECT count(*) FROM event")
                                                                            .fetchone()[0])])
    History(path).close()
    assert seen == [1] and version_of(path) == LATEST + 1


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "h.sqlite3"
    set_id = a_current_file(path)
    broken = ("ALTER TABLE session ADD COLUMN place TEXT", "UPDATE no_such_table SET x = 1")
    monkeypatch.setattr(history_schema, "MIGRATIONS", [*history_schema.MIGRATIONS, broken])
    with pytest.raises(HistoryError) as e:
        History(path)
    assert str(e.value).startswith(f"{path}: migration {LATEST + 1} (schema {LATEST} to {LATEST + 1}) failed: "
                                   f"no such table: no_such_table")
    assert f"left at schema {LATEST}" in str(e.value)
    assert version_of(path) == LATEST and "place" not in columns(path, "session")   # rolled back whole
    monkeypatch.undo()
    with History(path) as h:
        assert len(h.events(set_id)) == 1


def test_a_file_from_a_newer_openpuck_is_refused_not_misread(tmp_path):
    path = tmp_path / "h.sqlite3"
    History(path).close()
    sqlite3.connect(path, isolation_level=None).execute("PRAGMA user_version = 7")
    with pytest.raises(HistoryError, match=rf"schema version 7, written by a newer OpenPuck; this one knows up "
                                           rf"to {LATEST}: upgrade openpuck"):
        History(path)
    assert version_of(path) == 7


def test_writers_opening_a_new_file_at_once_all_open_it_and_migrate_it_once(tmp_path):
    # the switch to WAL is retried while another opener holds the file (SQLite
    # says "locked" there without waiting), and each migration step re-reads
    # the version inside its own write transaction, so a later opener finds the work done
    errors: list[BaseException] = []
    for n in range(20):
        path = tmp_path / f"h{n}.sqlite3"
        start = threading.Barrier(3)

        def open_it(start: threading.Barrier = start, path=path) -> None:
            start.wait()
            try:
                History(path).close()
            except BaseException as e:   # noqa: BLE001 - collected for the assertion
                errors.append(e)

        threads = [threading.Thread(target=open_it) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert version_of(path) == LATEST
    assert errors == []


def a_schema_1_file(path) -> tuple[int, int]:
    """A database as OpenPuck wrote it at schema 1 (its migration, its rows, the
    summary JSON of that time): an ended set of 3 reps and a partial rep, and a
    set cut short (no end) of 2 reps. Returns the two sets' ids."""
    db = sqlite3.connect(path, isolation_level=None)
    assert history_schema.migrate(db, history_schema.MIGRATIONS[:1]) == 1
    db.execute("INSERT INTO session (id, patient, programme, started_at) VALUES (1, 'anna', 'Hand', 1741000000)")
    old_summary = ('{"exercise": "grip_squeeze", "unit": "N", "target": 20.0, "reps": 3, "partial_reps": 1, '
                   '"grips": 0, "mean_amplitude": 24.0, "best_amplitude": 28.0, "mean_rep_duration_s": 1.5, '
                   '"time_under_tension_s": 4.5, "reps_per_minute": 18.0, "success_rate": 0.75}')
    for set_id, ended, summary in ((1, 1741000060.0, old_summary), (2, None, None)):
        db.execute("INSERT INTO exercise_set (id, session_id, exercise, set_index, target, unit, pucks, started_at, "
                   "ended_at, summary) VALUES (?, 1, 'grip_squeeze', ?, 20.0, 'N', '[\"right_hand\"]', ?, ?, ?)",
                   (set_id, set_id, 1741000000.0 + set_id, ended, summary))
    events = [(1, "rep", 1, 0.0, 1.0, 20.0), (1, "rep", 2, 3.0, 5.0, 24.0), (1, "partial_rep", 3, 6.0, 7.0, 9.0),
              (1, "rep", 4, 8.5, 10.0, 28.0), (2, "rep", 1, 0.0, 2.0, 30.0), (2, "rep", 2, 4.0, 6.0, 10.0)]
    for set_id, kind, count, t0, t1, amp in events:
        db.execute("INSERT INTO event (set_id, kind, puck, count, t, t_start, t_peak, t_end, amplitude, unit, "
                   "uncertain) VALUES (?, ?, 'right_hand', ?, ?, ?, ?, ?, ?, 'N', 0)",
                   (set_id, kind, count, t1, t0, (t0 + t1) / 2, t1, amp))
    db.close()
    return 1, 2


def test_a_schema_1_file_gets_its_sets_figures_in_typed_columns(tmp_path):
    from openpuck.offline.summary import SetSummary
    path = tmp_path / "h.sqlite3"
    ended, cut_short = a_schema_1_file(path)
    with History(path) as h:
        assert h.schema_version == LATEST
        rows = {s.id: s for s in h.sets(1)}
        stored = {s: h.events(s) for s in (ended, cut_short)}
    row = sqlite3.connect(path).execute(
        "SELECT reps, partial_reps, grips, mean_amplitude, best_amplitude, time_under_tension_s, active_s "
        "FROM exercise_set WHERE id = ?", (ended,)).fetchone()
    assert row == (3, 1, 0, 24.0, 28.0, 4.5, 10.0), "back-filled from the set's stored events"
    figures = SetSummary.of([e.event for e in stored[ended]], exercise="grip_squeeze", unit="N", target=20.0)
    assert rows[ended].figures == figures
    assert (figures.success_rate, figures.reps_per_minute, figures.time_under_tension_s) == (0.75, 18.0, 4.5)
    assert rows[ended].summary["success_rate"] == figures.success_rate, "the old JSON says the same"
    # a set never ended keeps empty columns (it had no end to store them at) and counts from its events
    assert sqlite3.connect(path).execute("SELECT reps FROM exercise_set WHERE id = ?", (cut_short,)).fetchone() \
        == (None,)
    assert (rows[cut_short].reps, rows[cut_short].figures.best_amplitude, rows[cut_short].figures.active_s) \
        == (2, 30.0, 6.0)


def test_an_older_file_queues_everything_it_holds_for_the_clinic_parents_first(tmp_path):
    path = tmp_path / "h.sqlite3"
    a_schema_1_file(path)
    History(path).close()
    queued = sqlite3.connect(path).execute("SELECT kind, row_id FROM outbox ORDER BY id").fetchall()
    assert queued == [("session", 1), ("set", 1), ("set", 2)] + [("event", i) for i in range(1, 7)]


def test_every_write_queues_what_it_wrote_in_the_outbox(tmp_path):
    path = tmp_path / "h.sqlite3"
    set_id = a_current_file(path)
    with History(path) as h:
        h.end_set(set_id)
    kinds = [k for (k,) in sqlite3.connect(path).execute("SELECT kind FROM outbox ORDER BY id")]
    # the set is queued again when its recording's path is stored and when it ends
    assert kinds == ["session", "set", "set", "event", "set"]

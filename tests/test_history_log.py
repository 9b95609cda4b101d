"""Sets the puck counted while no host listened, pulled from its log into the
patient's history (issue 23, openpuck.clinic.history_log): dated by the time a
host gave the puck, marked as logged on the puck, a rep received live and
pulled again stored once, a pull repeated storing nothing new, and a boot no
host saw left undated and out of the history."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from openpuck.clinic.history import History
from openpuck.clinic.history_log import LOGGED, SOURCE, import_log
from openpuck.device.events import Rep
from openpuck.device.puck_log import LogRecord

SERIAL = "OP-TEST-1"
MARK = 1_765_170_000.0          # the host's wall clock when it connected (Unix s)
MARK_MS = 2_000                 # the device time the mark came at (ms since the puck started)


def rep(boot: int, seq: int, count: int, end_ms: int) -> LogRecord:
    us = end_ms * 1000
    return LogRecord(boot, seq, end_ms, "rep", dict(exercise=1, count=count, t_start_us=us - 900_000,
                                                    t_peak_us=us - 400_000, t_end_us=us, amplitude=31_500,
                                                    hold_ms=600))


def a_set(boot: int, first_seq: int, start_ms: int, reps: int, *, mark: float | None = MARK) -> list[LogRecord]:
    """One boot's records: its start, a host's time mark (None: none), a grip set of ``reps`` reps."""
    recs = [LogRecord(boot, first_seq, 0, "boot", dict(reset_cause=0, torn=0, fw_major=0, fw_minor=1, fw_patch=0))]
    if mark is not None:
        recs.append(LogRecord(boot, first_seq + 1, MARK_MS, "time_mark", dict(unix_ms=int(mark * 1000))))
    s = first_seq + len(recs)
    recs.append(LogRecord(boot, s, start_ms, "set_start", dict(exercise=1, target=20_000, rate_hz=200,
                                                               t_us=start_ms * 1000)))
    recs += [rep(boot, s + i, i, start_ms + 2000 * i) for i in range(1, reps + 1)]
    end_ms = start_ms + 2000 * reps + 500
    recs.append(LogRecord(boot, s + reps + 1, end_ms, "set_end", dict(
        exercise=1, reps=reps, partial_reps=0, dropped_samples=0, link_dropped_samples=9000, t_us=end_ms * 1000)))
    return recs


def rows(h: History, sql: str) -> list[sqlite3.Row]:
    return h._read(sql)


def test_a_set_done_with_the_host_away_is_in_the_history_dated_and_marked(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as h:
        done = import_log(h, "anna", SERIAL, a_set(0, 0, start_ms=62_000, reps=3))
        (session,) = h.sessions("anna")
        (s,) = h.sets(session.id)
        events = h.events(s.id)
    assert (done.sets_added, done.events_added, done.undated) == (1, 3, ())
    assert session.programme == LOGGED
    assert s.source == SOURCE and (s.exercise, s.reps, s.target) == ("grip_squeeze", 3, 20.0)
    assert s.started_at == pytest.approx(MARK + 60.0), "dated: the mark's wall clock + the device time since it"
    assert s.ended_at == pytest.approx(MARK + 60.0 + 6.5)
    assert [e.event.count for e in events] == [1, 2, 3]
    assert events[0].event.host_time == pytest.approx(MARK + 62.0)
    assert events[0].event.amplitude == pytest.approx(31.5)


def test_a_rep_received_live_and_pulled_from_the_log_is_one_rep(tmp_path: Path) -> None:
    recs = a_set(0, 0, start_ms=62_000, reps=4)
    with History(tmp_path / "h.sqlite3") as h:
        session = h.start_session("anna", "Hand", started_at=MARK + 59)
        set_id = h.start_set(session, "grip_squeeze", 1, 20.0, "N", ["right_hand"], started_at=MARK + 60)
        # the first rep came live (device s as the stream unwraps them), then the tablet went to sleep
        first = rep(0, 3, 1, 64_000).fields
        h.add_event(set_id, Rep(t=64.0, exercise="grip_squeeze", count=1, t_start=first["t_start_us"] / 1e6,
                                t_peak=first["t_peak_us"] / 1e6, t_end=64.0, amplitude=31.5, unit="N",
                                hold_s=0.6, host_time=MARK + 62.03), "right_hand")
        done = import_log(h, "anna", SERIAL, recs)
        (s,) = h.sets(session)
        counts = [e.event.count for e in h.events(set_id)]
        live = rows(h, "SELECT source, puck_serial, log_seq FROM event ORDER BY id")[0]
        assert [x.id for x in h.sessions("anna")] == [session], "no session of its own: it is the live set"
    assert (done.sets_added, done.sets_completed, done.events_added, done.events_known) == (0, 1, 3, 1)
    assert counts == [1, 2, 3, 4] and s.reps == 4, "the live rep is stored once"
    assert s.source == SOURCE and s.ended_at == pytest.approx(MARK + 68.5)
    assert (live["source"], live["puck_serial"], live["log_seq"]) == (None, SERIAL, 3)


def test_a_live_rep_of_a_two_puck_set_on_the_runner_s_time_line_is_one_rep_too(tmp_path: Path) -> None:
    recs = a_set(0, 0, start_ms=62_000, reps=2)
    with History(tmp_path / "h.sqlite3") as h:
        session = h.start_session("anna", "Both hands", started_at=MARK + 59)
        set_id = h.start_set(session, "grip_squeeze", 1, 20.0, "N", ["left_hand", "right_hand"],
                             mode="bilateral", started_at=MARK + 60)
        # two pucks: the runner stores seconds since each puck's first sample of the set (here 61.5 s)
        h.add_event(set_id, Rep(t=64.0 - 61.5, exercise="grip_squeeze", count=1, t_start=63.1 - 61.5,
                                t_peak=63.6 - 61.5, t_end=64.0 - 61.5, amplitude=31.5, unit="N", hold_s=0.6,
                                host_time=MARK + 62.0), "right_hand")
        done = import_log(h, "anna", SERIAL, recs)
        events = h.events(set_id)
    assert (done.sets_added, done.events_added, done.events_known) == (0, 1, 1)
    assert [e.event.count for e in events] == [1, 2]
    assert [e.puck for e in events] == ["right_hand", "right_hand"], "the logged rep is the same puck's"
    assert events[1].event.t_end == pytest.approx(66.0 - 61.5), "on the set's time line, as the live rep"


def test_importing_the_same_records_again_stores_nothing_new(tmp_path: Path) -> None:
    recs = a_set(0, 0, start_ms=62_000, reps=3)
    with History(tmp_path / "h.sqlite3") as h:
        import_log(h, "anna", SERIAL, recs)
        before = [tuple(r) for r in rows(h, "SELECT * FROM outbox")]
        again = import_log(h, "anna", SERIAL, [r.as_json() for r in recs])   # as the LogStore keeps them
        after = [tuple(r) for r in rows(h, "SELECT * FROM outbox")]
        more = import_log(h, "anna", SERIAL, recs + a_set(1, len(recs), start_ms=30_000, reps=2, mark=MARK + 3600))
        sets = [s for x in h.sessions("anna") for s in h.sets(x.id)]
    assert (again.sets_added, again.events_added, again.events_known) == (0, 0, 3)
    assert after == before, "nothing written: the clinic sync has nothing new to send"
    assert (more.sets_added, more.events_added) == (1, 2), "a later boot's set comes in on its own"
    assert [s.reps for s in sets] == [3, 2]


def test_a_boot_no_host_saw_stays_undated_and_out_of_the_history(tmp_path: Path) -> None:
    recs = a_set(0, 0, start_ms=62_000, reps=2) + a_set(1, 7, start_ms=9_000, reps=3, mark=None)
    with History(tmp_path / "h.sqlite3") as h:
        done = import_log(h, "anna", SERIAL, recs)
        sets = [s for x in h.sessions("anna") for s in h.sets(x.id)]
    ((boot, seq, exercise, reps),) = [(u.boot, u.seq, u.exercise, u.reps) for u in done.undated]
    assert (boot, seq, exercise, reps) == (1, 8, "grip_squeeze", 3)
    assert [s.reps for s in sets] == [2], "no made-up date: only the marked boot's set is in the history"


def openpuck_cli(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OPENPUCK_DATA_DIR=str(data))
    return subprocess.run([sys.executable, "-m", "openpuck", *args], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.mark.usefixtures("need_micropython")
def test_a_set_finished_with_the_host_away_shows_in_openpuck_history(tmp_path: Path) -> None:
    import openpuck
    from openpuck.device.sim import VirtualPuck
    from tests.test_puck_log import kinds, on_flash, wait_for

    data = tmp_path / "data"
    # speed 10: the puck's clock runs on while no host reads (at speed max it would wait for one)
    with VirtualPuck(scenario="grip10", speed=10.0, state_dir=tmp_path / "puck") as vp:
        url = f"serial:{vp.port}"
        with History(data / "history.sqlite3") as h:
            p = openpuck.connect(url, reconnect=False)   # gives the puck this host's time
            session = h.start_session("anna", "Hand and arm")
            set_id = h.start_set(session, "grip_squeeze", 1, 20.0, "N", ["right_hand"])
            p.start(exercise="grip_squeeze", target=20.0)
            first = next(ev for ev in p.events(timeout=60) if ev.kind == "rep")
            h.add_event(set_id, first, "right_hand")
            p.streaming = False   # the tablet vanishes mid-set: nothing more is read, not even a stop
            p.close()
        wait_for("the puck counts the set on alone", lambda: len(kinds(on_flash(vp), "rep")) == 10)
        with openpuck.connect(url) as q:
            q.stop()
        pulled = openpuck_cli("log", "pull", url, "--patient", "anna", data=data)
        again = openpuck_cli("log", "pull", url, "--patient", "anna", "--json", data=data)
    assert pulled.returncode == 0, pulled.stderr
    print(pulled.stdout)
    assert "0 sets done with the host away, 1 live set completed, 19 reps, partial reps and grips added, 1 already there" in pulled.stdout
    assert json.loads(again.stdout)["history"]["events_added"] == 0, "a pull repeated stores nothing new"
    with History(data / "history.sqlite3") as h:
        (s,) = h.sets(session)
        counts = [e.event.count for e in h.events(set_id) if e.event.kind == "rep"]
    assert s.source == "puck_log" and s.reps == 10 and counts == list(range(1, 11))
    shown = openpuck_cli("history", "--patient", "anna", data=data)
    assert shown.returncode == 0, shown.stderr
    print(shown.stdout)
    assert "live + puck log  Hand and arm" in shown.stdout and "pulled later" in shown.stdout


@pytest.mark.usefixtures("need_micropython")
def test_a_set_done_while_the_host_was_away_throughout_is_a_logged_session(tmp_path: Path) -> None:
    import openpuck
    from openpuck.device.sim import VirtualPuck
    from tests.test_puck_log import kinds, on_flash, wait_for

    data = tmp_path / "data"

    def a_set_alone(url: str, mark_time: bool, reps: int) -> None:
        p = openpuck.connect(url, reconnect=False, mark_time=mark_time)
        p.start(exercise="grip_squeeze", target=20.0)
        p.streaming = False   # the host goes before any rep: the puck counts the whole set alone
        p.close()
        wait_for("the puck counts the set alone", lambda: len(kinds(on_flash(vp), "rep")) == reps)
        with openpuck.connect(url, mark_time=mark_time) as q:
            q.stop()

    with VirtualPuck(scenario="grip10", speed=10.0, state_dir=tmp_path / "puck") as vp:
        url = f"serial:{vp.port}"
        # a host that gives the puck no time (an SDK before time marks): this puck start is never dated
        a_set_alone(url, False, 10)
        with openpuck.connect(url, mark_time=False) as q:
            q.reboot()
        wait_for("the puck restarts", lambda: vp.restarts == 1)
        a_set_alone(url, True, 20)
        pulled = openpuck_cli("log", "pull", url, "--patient", "anna", data=data)
    assert pulled.returncode == 0, pulled.stderr
    print(pulled.stdout)
    assert "1 set done with the host away, 0 live sets completed, 20 reps, partial reps and grips added" \
        in pulled.stdout
    assert "not dated, not in the history: grip_squeeze set of puck start 0" in pulled.stdout
    with History(data / "history.sqlite3") as h:
        (session,) = h.sessions("anna")
        (s,) = h.sets(session.id)
    assert session.programme == LOGGED and s.source == SOURCE and s.reps == 10
    shown = openpuck_cli("history", "--patient", "anna", data=data)
    print(shown.stdout)
    assert f"puck log  {LOGGED}" in shown.stdout


class LoggingPuck:
    """A puck whose log holds these records (the SDK's log calls, no link)."""

    serial = SERIAL

    def __init__(self, recs: list[LogRecord]) -> None:
        self.recs, self.confirmed = recs, None

    def log_list(self):
        from openpuck.device.puck_log import LogInfo
        return LogInfo(boot_id=0, segments=1, first_seq=0, next_seq=len(self.recs), bytes=1, free_bytes=1,
                       not_kept=0, torn=0)

    def log_pull(self, from_seq, on_records):
        on_records([r for r in self.recs if r.seq >= from_seq])

    def log_confirm(self, upto):
        self.confirmed = upto


def test_the_sdk_pulls_into_the_history_and_confirms_only_once_stored(tmp_path: Path) -> None:
    from openpuck.clinic.history_log import pull_into_history
    puck = LoggingPuck(a_set(0, 0, start_ms=62_000, reps=3))
    with History(tmp_path / "h.sqlite3") as h:
        done = pull_into_history(puck, h, "anna")
        again = pull_into_history(puck, h, "anna")
        (session,) = h.sessions("anna")
    assert (done.sets_added, done.events_added, again.events_added) == (1, 3, 0)
    assert puck.confirmed == 6 and session.programme == LOGGED
    assert (tmp_path / "puck-logs" / f"{SERIAL}.jsonl").is_file(), "the records are kept beside the history"


def test_the_programme_runner_pulls_each_puck_s_log_first_when_asked(tmp_path: Path) -> None:
    from openpuck.clinic.programme import Runner
    from openpuck.clinic.programme_file import load
    plan = load(Path(__file__).resolve().parent.parent / "programmes" / "hand_arm.toml")
    puck = LoggingPuck(a_set(0, 0, start_ms=62_000, reps=3))
    pucks = {role: puck for ex in plan.exercises for role in ex.pucks}
    with History(tmp_path / "h.sqlite3") as h:
        runner = Runner(plan, pucks, "anna", h, pull_log=True)
        assert runner.pull_log and not Runner(plan, pucks, "anna", h).pull_log, "asked for only"
        runner._pull_logs()
        (session,) = h.sessions("anna")
    assert session.programme == LOGGED and puck.confirmed == 6

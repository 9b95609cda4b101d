"""The puck's own event log on the virtual puck (issue 23, protocol/spec.md
section 10): a set done while the host is away is kept rep by rep, a
download cut anywhere resumes with nothing lost or doubled, a record torn by
a power cut is skipped and counted, a reboot moves the boot id, a full log
stops, counts what it did not keep and says so."""
from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

import openpuck
from openpuck.device.puck_log import LogRecord, LogStore, parse_records
from openpuck.device.sim import VirtualPuck
from openpuck.device.transports import ConnectionLost

pytestmark = pytest.mark.usefixtures("need_micropython")
MAX = float("inf")


def one_set(puck: openpuck.Puck, reps: int = 10) -> None:
    """A grip set of the grip10 scenario, stopped once its reps came live."""
    puck.start(exercise="grip_squeeze", target=20.0)
    n = 0
    for ev in puck.events(timeout=60):
        # this set's reps count from 1: a rep the last set counted before its stop
        # (a slow host) may still wait in the queue
        n += ev.kind == "rep" and ev.count == n + 1
        if n == reps:
            break
    puck.stop()
    assert n == reps


def on_flash(vp: VirtualPuck) -> list[LogRecord]:
    """The records in the virtual puck's flash folder, read as the files are now."""
    out: list[LogRecord] = []
    for seg in sorted((vp.state_dir / "oplog").glob("*.seg")):
        out += parse_records(seg.read_bytes())[0]
    return out


def wait_for(what: str, cond, timeout_s: float = 120.0) -> None:
    """Poll cond() until it holds; fail naming what never happened."""
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(0.05)


def kinds(recs: list[LogRecord], kind: str) -> list[LogRecord]:
    return [r for r in recs if r.type == kind]


def test_a_set_done_while_the_host_is_away_is_kept_rep_by_rep(tmp_path: Path) -> None:
    # speed 10: the puck's clock runs on while no host reads (at speed max it would wait for one)
    with VirtualPuck(scenario="grip10", speed=10.0, state_dir=tmp_path / "puck") as vp:
        p = openpuck.connect(f"serial:{vp.port}", reconnect=False)
        p.start(exercise="grip_squeeze", target=20.0)
        next(ev for ev in p.events(timeout=60) if ev.kind == "rep")
        p.streaming = False   # the tablet vanishes: nothing more is sent, not even a stop
        p.close()
        wait_for("the puck counts the set on alone", lambda: len(kinds(on_flash(vp), "rep")) == 10)
        with openpuck.connect(f"serial:{vp.port}") as q:
            status = q.get_status()
            assert status is not None and status.streaming and status.reps == 10
            q.stop()
            recs = q.log_pull(0)
    assert [r.fields["count"] for r in kinds(recs, "rep")] == list(range(1, 11))
    assert len(kinds(recs, "grip")) == 10
    (start,), (end,) = kinds(recs, "set_start"), kinds(recs, "set_end")
    assert (start.fields["exercise"], start.fields["target"], start.fields["rate_hz"]) == (1, 20000, 200)
    assert end.fields["reps"] == 10
    assert end.fields["link_dropped_samples"] > 0, "the host read nothing while away: the log says so"
    assert [r.seq for r in recs] == list(range(len(recs)))
    assert {r.boot for r in recs} == {0}


class Cutter:
    """A pull's chunk handler whose link is cut at random: before the chunk
    is stored (it is lost with the link) or after."""

    def __init__(self, rng: random.Random, store: LogStore) -> None:
        self.rng, self.store, self.cuts = rng, store, 0

    def __call__(self, recs: list[LogRecord]) -> None:
        r = self.rng.random()
        if r < 0.2:
            self.cuts += 1
            raise ConnectionLost("cut before the chunk was stored")
        self.store.add(recs)
        if r < 0.4:
            self.cuts += 1
            raise ConnectionLost("cut after the chunk was stored")


def test_a_pull_cut_at_random_points_resumes_with_nothing_lost_or_doubled(tmp_path: Path) -> None:
    with VirtualPuck(scenario="patient", speed=MAX, state_dir=tmp_path / "puck") as vp:
        with openpuck.connect(f"serial:{vp.port}") as p:
            one_set(p)
            one_set(p)
            serial = p.serial
            whole = p.log_pull(0)
        assert len(whole) > 40
        for seed in range(3):
            store = LogStore(tmp_path / f"pull-{seed}.jsonl", serial)
            cut = Cutter(random.Random(seed), store)
            while True:
                try:
                    with openpuck.connect(f"serial:{vp.port}") as p:
                        p.log_pull(store.next_seq(), on_records=cut)
                    break
                except ConnectionLost:
                    continue
            cuts = cut.cuts
            assert cuts > 0
            rows = store.records()
            assert [(r["boot"], r["seq"]) for r in rows[:len(whole)]] == [(r.boot, r.seq) for r in whole]
            assert [r["fields"] for r in rows[:len(whole)]] == [r.as_json()["fields"] for r in whole]
            assert {r["type"] for r in rows[len(whole):]} <= {"time_mark"}, "each connection's time mark"
            assert store.add(whole) == 0, "a record pulled twice is stored once"


def test_a_record_torn_by_a_power_cut_is_skipped_counted_and_the_boot_id_moves(tmp_path: Path) -> None:
    state = tmp_path / "puck"
    with VirtualPuck(scenario="grip10", speed=MAX, state_dir=state) as vp:
        with openpuck.connect(f"serial:{vp.port}") as p:
            one_set(p, reps=3)
            before = p.log_pull(0)
    # the power went while the next record was written: its first bytes only are on the flash
    newest = sorted((state / "oplog").glob("*.seg"))[-1]
    with open(newest, "ab") as f:
        f.write(bytes([23, 3, 0, 0, 0, 0]) + before[-1].seq.to_bytes(4, "little")[:3])
    with VirtualPuck(scenario="grip10", speed=MAX, state_dir=state) as vp:
        with openpuck.connect(f"serial:{vp.port}") as p:
            info = p.log_list()
            one_set(p, reps=2)
            after = p.log_pull(0)
    assert (info.boot_id, info.torn) == (1, 1)
    assert after[:len(before)] == before, "nothing before the torn record is lost"
    boot = after[len(before)]
    assert (boot.type, boot.boot, boot.seq, boot.fields["torn"]) == ("boot", 1, before[-1].seq + 1, 1)
    assert [r.fields["count"] for r in kinds(after, "rep")] == [1, 2, 3, 1, 2]
    assert {r.boot for r in after[len(before):]} == {1}


def test_a_reboot_between_sets_moves_the_boot_id_and_the_seqs_run_on(tmp_path: Path) -> None:
    with VirtualPuck(scenario="grip10", speed=MAX, state_dir=tmp_path / "puck") as vp:
        with openpuck.connect(f"serial:{vp.port}") as p:
            one_set(p, reps=2)
            p.reboot()
        wait_for("the puck restarts", lambda: vp.restarts == 1)
        with openpuck.connect(f"serial:{vp.port}") as p:
            one_set(p, reps=2)
            recs = p.log_pull(0)
            info = p.log_list()
    boots = kinds(recs, "boot")
    assert [(b.boot, b.fields["reset_cause"]) for b in boots] == [(0, 0), (1, 1)]
    assert [r.seq for r in recs] == list(range(len(recs)))
    ends = kinds(recs, "set_end")
    assert [(e.boot, e.fields["reps"]) for e in ends] == [(0, 2), (1, 2)]
    assert (info.boot_id, info.next_seq) == (1, len(recs))


def test_a_full_log_stops_counts_what_it_did_not_keep_and_tells_the_host(tmp_path: Path) -> None:
    with VirtualPuck(scenario="patient", speed=MAX, state_dir=tmp_path / "puck", faults=("small_log",)) as vp:
        with openpuck.connect(f"serial:{vp.port}") as p:
            one_set(p)   # every rep still counted live
            full = p.log_list()
            kept = p.log_pull(0)
            freed = p.log_confirm(kept[-1].seq)
            one_set(p, reps=2)
            again = p.log_pull(freed.next_seq)
            last = p.log_list()
    assert full.full and full.free_bytes == 0 and full.not_kept > 0
    assert [r.seq for r in kept] == list(range(full.next_seq)), "a record not kept takes no seq"
    assert not freed.full and freed.free_bytes > 0 and freed.records == 0
    assert [r.fields["count"] for r in kinds(again, "rep")] == [1, 2], "logging goes on once room is freed"
    assert (again[0].type, again[0].seq) == ("set_start", kept[-1].seq + 1)
    assert last.not_kept == full.not_kept


def test_flash_full_the_puck_counts_on_and_says_nothing_was_kept(tmp_path: Path) -> None:
    with VirtualPuck(scenario="grip10", speed=MAX, state_dir=tmp_path / "puck", faults=("flash_full",)) as vp:
        with openpuck.connect(f"serial:{vp.port}") as p:
            one_set(p, reps=3)
            info = p.log_list()
            recs = p.log_pull(0)
    assert info.full and info.not_kept >= 3 + 3 and recs == []


def test_the_store_keeps_one_line_per_record_and_survives_a_line_cut_short(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    store = LogStore(path, "PUCK1")
    recs = [LogRecord(0, i, i * 10, "rep", {"count": i}) for i in range(5)]
    assert store.add(recs[:3]) == 3 and store.add(recs) == 2 and store.add(recs) == 0
    with open(path, "a") as f:
        f.write('{"boot": 0, "seq": 5, "t')   # this host crashed while writing
    store = LogStore(path, "PUCK1")
    assert (len(store), store.next_seq()) == (5, 5), "the cut line comes again on the next pull"
    assert store.add([LogRecord(0, 5, 50, "rep", {"count": 5})]) == 1
    assert [r["seq"] for r in LogStore(path).records()] == [0, 1, 2, 3, 4, 5]
    with pytest.raises(openpuck.OpenPuckError, match="cannot name a file"):
        LogStore.for_puck("../x", tmp_path)


def test_the_asyncio_face_lists_and_pulls_the_same_log(tmp_path: Path) -> None:
    import asyncio

    with VirtualPuck(scenario="grip10", speed=MAX, state_dir=tmp_path / "puck") as vp:
        with openpuck.connect(f"serial:{vp.port}") as p:
            one_set(p, reps=2)
            want = p.log_pull(0)

        async def pull() -> tuple:
            async with openpuck.connect_async(f"serial:{vp.port}") as a:
                return await a.log_list(), await a.log_pull(0)
        info, got = asyncio.run(pull())
    assert got[:len(want)] == want
    (mark,) = got[len(want):]
    assert mark.type == "time_mark", "a connection adds its time mark only"
    assert (info.first_seq, info.next_seq) == (0, len(want) + 1)


def test_every_connection_dates_the_boot_it_finds_and_a_puck_restart_is_dated_again(tmp_path: Path) -> None:
    with VirtualPuck(scenario="grip10", speed=MAX, state_dir=tmp_path / "puck") as vp:
        with openpuck.connect(f"serial:{vp.port}", mark_time=False) as p:
            assert kinds(on_flash(vp), "time_mark") == [], "mark_time=False: this connection gives no time"
        t0 = time.time()
        with openpuck.connect(f"serial:{vp.port}") as p:
            (mark,) = kinds(on_flash(vp), "time_mark")
            p.reboot()
            wait_for("the puck restarts", lambda: vp.restarts == 1)
            wait_for("the host dates the new boot",
                     lambda: {r.boot for r in kinds(on_flash(vp), "time_mark")} == {0, 1})
        with openpuck.connect(f"serial:{vp.port}", mark_time=False) as p:
            info = p.mark_time(t0 + 3600.0)
    assert mark.boot == 0 and t0 - 1 <= mark.fields["unix_ms"] / 1000 <= time.time() + 1
    assert info.boot_id == 1, "mark_time answers which boot it dated"

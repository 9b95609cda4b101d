"""`openpuck log list|pull|clear` on the virtual puck (issue 23)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import openpuck
from openpuck.device.sim import VirtualPuck

pytestmark = pytest.mark.usefixtures("need_micropython")


def cli(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OPENPUCK_DATA_DIR=str(data))
    return subprocess.run([sys.executable, "-m", "openpuck", "log", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_help_teaches_what_the_log_is_and_how_a_pull_resumes(tmp_path: Path) -> None:
    r = cli("--help", data=tmp_path)
    assert r.returncode == 0
    for words in ("no host listened", "starts again where it stopped", "--keep", "--yes", "examples:"):
        assert words in r.stdout


def test_clear_without_yes_changes_nothing_and_says_how(tmp_path: Path) -> None:
    r = cli("clear", "sim:", data=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "--yes" in r.stderr and "log pull" in r.stderr


def test_pull_stores_each_record_once_confirms_and_list_tells(tmp_path: Path) -> None:
    with VirtualPuck(scenario="grip10", speed=float("inf"), state_dir=tmp_path / "puck") as vp:
        url = f"serial:{vp.port}"
        with openpuck.connect(url) as p:
            p.start(exercise="grip_squeeze", target=20.0)
            next(ev for ev in p.events(timeout=60) if ev.kind == "rep" and ev.count == 3)
            p.stop()
            serial = p.serial
        listed = json.loads(cli("list", url, "--json", data=tmp_path).stdout)
        first = cli("pull", url, "--json", "--keep", data=tmp_path)
        second = cli("pull", url, "--json", data=tmp_path)
        after = json.loads(cli("list", url, "--json", data=tmp_path).stdout)
        cleared = cli("clear", url, "--yes", data=tmp_path)
    # every connection (this test's, list's, each pull's) gives the puck its time: one time_mark record
    n = listed["records"]
    assert n == listed["next_seq"] > 8 and not listed["full"] and listed["not_kept"] == 0
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert (a["new"], a["stored"], a["confirmed_upto"]) == (n + 1, n + 1, None)
    assert f"pulled {n + 1} records" in first.stderr
    assert (b["new"], b["stored"], b["confirmed_upto"]) == (1, n + 2, n + 1)
    store = Path(b["path"])
    assert store == tmp_path / "puck-logs" / f"{serial}.jsonl"
    rows = [json.loads(line) for line in store.read_text().splitlines()]
    assert [r["seq"] for r in rows] == list(range(n + 2))
    assert {r["serial"] for r in rows} == {serial}
    assert [r["fields"]["count"] for r in rows if r["type"] == "rep"] == [1, 2, 3]
    assert [r["type"] for r in rows].count("time_mark") == 4
    assert after["records"] == 1 and after["next_seq"] == n + 3, "confirmed: deleted (but list's mark), seqs run on"
    assert cleared.returncode == 0 and cleared.stdout.startswith("cleared: 0 records")


class FlakyPuck:
    """A puck whose link drops after every chunk of a pull (three records a chunk)."""

    serial = "FLAKY1"

    def __init__(self, n: int) -> None:
        from openpuck.device.puck_log import LogRecord
        self.recs = [LogRecord(2, i, i, "rep", {"count": i + 1}) for i in range(n)]
        self.drops = 0
        self.confirmed: int | None = None

    def _info(self, first: int):
        from openpuck.device.puck_log import LogInfo
        return LogInfo(boot_id=2, segments=1, first_seq=first, next_seq=len(self.recs), bytes=99,
                       free_bytes=1000, not_kept=0, torn=0)

    def log_list(self):
        return self._info(0)

    def log_pull(self, from_seq, on_records):
        from openpuck.device.transports import ConnectionLost
        chunk = [r for r in self.recs if r.seq >= from_seq][:3]
        if chunk:
            on_records(chunk)
        if chunk and chunk[-1].seq < len(self.recs) - 1:
            self.drops += 1
            raise ConnectionLost("the link dropped")
        return chunk

    def log_confirm(self, upto):
        self.confirmed = upto
        return self._info(upto + 1)


def test_a_pull_resumes_after_each_drop_and_confirms_only_what_it_stored(tmp_path, monkeypatch, capsys):
    import argparse

    from openpuck.cli import log as log_cli
    monkeypatch.setattr(log_cli.time, "sleep", lambda s: None)   # the backoff between attempts
    puck = FlakyPuck(10)
    args = argparse.Namespace(out=str(tmp_path / "p.jsonl"), keep=False, json=True, url="flaky:")
    assert log_cli._pull(puck, args) == 0
    out = json.loads(capsys.readouterr().out)
    assert puck.drops == 3 and (out["new"], out["stored"], out["confirmed_upto"]) == (10, 10, 9)
    assert puck.confirmed == 9
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert [r["seq"] for r in rows] == list(range(10))


def test_a_pull_that_keeps_failing_says_where_it_stopped_and_confirms_nothing(tmp_path, monkeypatch):
    import argparse

    from openpuck.cli import CliError
    from openpuck.cli import log as log_cli
    monkeypatch.setattr(log_cli.time, "sleep", lambda s: None)
    puck = FlakyPuck(40)
    args = argparse.Namespace(out=str(tmp_path / "p.jsonl"), keep=False, json=False, url="flaky:")
    with pytest.raises(CliError, match=r"failed 6 times .* run the pull again to go on from seq 18"):
        log_cli._pull(puck, args)
    assert puck.confirmed is None


def test_a_pull_from_a_puck_whose_log_restarted_is_refused_not_merged(tmp_path, monkeypatch):
    import argparse

    from openpuck.cli import CliError
    from openpuck.cli import log as log_cli
    from openpuck.device.puck_log import LogRecord, LogStore
    LogStore(tmp_path / "p.jsonl", "FLAKY1").add([LogRecord(0, i, 0, "rep", {}) for i in range(50)])
    puck = FlakyPuck(10)   # seqs 0..9: its flash was wiped since
    args = argparse.Namespace(out=str(tmp_path / "p.jsonl"), keep=False, json=False, url="flaky:")
    with pytest.raises(CliError, match="the puck's log restarted .* --out FILE"):
        log_cli._pull(puck, args)
    assert puck.confirmed is None and len(LogStore(tmp_path / "p.jsonl")) == 50

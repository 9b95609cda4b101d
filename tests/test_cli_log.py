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
    assert listed["records"] == listed["next_seq"] > 8 and not listed["full"] and listed["not_kept"] == 0
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert (a["new"], a["stored"], a["confirmed_upto"]) == (listed["records"], listed["records"], None)
    assert f"pulled {listed['records']} records" in first.stderr
    assert (b["new"], b["stored"], b["confirmed_upto"]) == (0, listed["records"], listed["records"] - 1)
    store = Path(b["path"])
    assert store == tmp_path / "puck-logs" / f"{serial}.jsonl"
    rows = [json.loads(line) for line in store.read_text().splitlines()]
    assert [r["seq"] for r in rows] == list(range(listed["records"]))
    assert {r["serial"] for r in rows} == {serial}
    assert [r["fields"]["count"] for r in rows if r["type"] == "rep"] == [1, 2, 3]
    assert after["records"] == 0 and after["next_seq"] == listed["next_seq"], "confirmed: deleted, seqs run on"
    assert cleared.returncode == 0 and cleared.stdout.startswith("cleared: 0 records")

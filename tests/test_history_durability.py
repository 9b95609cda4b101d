"""Nothing written is lost when the writing process dies: a process that is
SIGKILLed mid-set leaves every rep it had committed readable, and the file
sound for the next session."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from openpuck.clinic.history import History

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

WRITER = textwrap.dedent("""
    import sys, time
    from openpuck.device.events import Rep, PartialRep
    from openpuck.clinic.history import History

    h = History(sys.argv[1])
    session = h.start_session("anna", "Hand and arm", 1_741_000_000.0)
    s = h.start_set(session, "grip_squeeze", 1, 20.0, "N", ["left_hand", "right_hand"], mode="alternate")
    print("set", s, flush=True)
    n = 0
    while True:                      # a set that never ends: the parent kills it
        n += 1
        t = 0.5 * n
        puck = "left_hand" if n % 2 else "right_hand"
        if n % 5 == 0:
            h.add_event(s, PartialRep(t=t + 0.2, exercise="grip_squeeze", count=n // 5, t_start=t,
                                      t_peak=t + 0.1, t_end=t + 0.2, amplitude=6.0, unit="N"), puck)
        else:
            h.add_event(s, Rep(t=t + 0.4, exercise="grip_squeeze", count=n, t_start=t, t_peak=t + 0.2,
                               t_end=t + 0.4, amplitude=20.0 + n, unit="N", hold_s=0.1), puck)
        print(n, flush=True)         # printed only once add_event returned: committed
        time.sleep(0.002)
""")


def test_every_rep_written_before_a_sigkill_is_read_back(tmp_path):
    path = tmp_path / "history.sqlite3"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = proc.stdout.readline().split()
        assert first[:1] == ["set"], proc.stderr.read()
        set_id = int(first[1])
        deadline = time.monotonic() + 60
        committed = 0
        while committed < 40 and time.monotonic() < deadline:
            committed = int(proc.stdout.readline())
        assert committed >= 40, "the writer was too slow"
        proc.send_signal(signal.SIGKILL)       # mid-set, quite possibly mid-write
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert (tmp_path / "history.sqlite3-wal").exists()     # the reps are in the write-ahead log

    with History(path) as h:
        events = h.events(set_id)
        assert len(events) >= committed             # at most the one in flight is beyond what was printed
        for n, stored in enumerate(events[:committed], 1):
            expect_partial = n % 5 == 0
            assert stored.event.kind == ("partial_rep" if expect_partial else "rep")
            assert stored.puck == ("left_hand" if n % 2 else "right_hand")
            assert stored.event.t_start == 0.5 * n
            if not expect_partial:
                assert (stored.event.count, stored.event.amplitude) == (n, 20.0 + n)
        (row,) = h.sets(h.sessions("anna")[0].id)
        assert row.ended_at is None and row.summary is None          # it never ended...
        assert row.reps + row.partial_reps == len(events)             # ...but nothing in it is lost
        assert h.daily("anna")[0].reps == row.reps
        assert h.sessions("anna")[0].ended_at is None
        # and the next session goes on in the same file
        s2 = h.start_session("anna", "Hand and arm")
        h.end_session(s2)
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"

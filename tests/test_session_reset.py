"""A puck that restarts while the link stays up: the session decoder notices
(its seq restarts, or its uptime goes back), reports a Gap "puck_reset" and
starts a new time line (device time since the restart)."""
from __future__ import annotations

import numpy as np
import pytest

from openpuck import protocol
from openpuck.device.decoder import SampleBlock
from openpuck.device.events import Gap, Rep
from openpuck.device.session_decoder import SessionDecoder


def _samples(seq, t0_us, n=20):
    return protocol.encode("samples", seq, t0_us=t0_us, period_us=5000, samples=[(0,) * 7] * n)


def _rep(seq, t_start_us, t_end_us):
    return protocol.encode("rep", seq, exercise=1, count=1, t_start_us=t_start_us,
                           t_peak_us=t_start_us, t_end_us=t_end_us, amplitude=20000, hold_ms=0)


def test_a_seq_restart_is_a_puck_reset_with_a_gap_and_a_new_time_line():
    s = SessionDecoder(hold_s=10.0)
    t0 = 3_000_000_000
    before = b"".join(_samples(100 + i, t0 + 100_000 * i) for i in range(10))
    # a rep ending after the last sample: held, and its samples never come
    before += _rep(110, t0 + 900_000, t0 + 1_200_000)
    items, _ = s.feed(before, now=0.0)
    assert not s.take_reset()
    # the puck restarts: seq from 0 (its boot log), device time from ~0; its
    # samples come once the host has started it again
    items, _ = s.feed(protocol.encode("log", 0, level=1, text="boot"), now=1.0)
    assert s.take_reset() and not s.take_reset()
    after = b"".join(_samples(1 + i, 50_000 + 100_000 * i) for i in range(5))
    items += s.feed(after, now=1.5)[0]
    reps = [e for e in items if isinstance(e, Rep)]
    assert len(reps) == 1 and reps[0].uncertain
    gaps = [e for e in items if isinstance(e, Gap)]
    assert [g.reason for g in gaps] == ["puck_reset"]
    assert gaps[0].samples_missing is None
    assert gaps[0].t_start == (t0 + 900_000 + 19 * 5000) * 1e-6
    assert gaps[0].t_end == pytest.approx(0.05, abs=1e-9)
    t = SampleBlock.concat([b for b in items if isinstance(b, SampleBlock)]).t
    assert t[0] == pytest.approx(0.05, abs=1e-9) and np.all(np.diff(t) > 0)
    c = s.counters
    assert c["puck_resets"] == 1 and c["seq_resets"] == 1 and c["lost_frames"] == 0
    # an event of the new time line that began before its first sample is uncertain
    items, _ = s.feed(_rep(5, 10_000, 200_000), now=2.0)
    assert [e.uncertain for e in items if isinstance(e, Rep)] == [True]


def test_uptime_going_back_is_a_puck_reset():
    def status(seq, uptime_ms):
        return protocol.encode("status", seq, battery_mv=0, battery_pct=0, dropped_samples=0,
                               uptime_ms=uptime_ms, streaming=0, exercise=1, reps=0,
                               partial_reps=0, rx_errors=0, reset_cause=2, cpu_load=0xFFFF,
                               link_dropped_samples=0, link_dropped_frames=0, target=0)
    s = SessionDecoder()
    s.feed(status(1, 60_000) + status(2, 61_000), now=0.0)
    assert not s.take_reset()
    s.feed(status(3, 500), now=1.0)   # seq carries on (e.g. a puck that keeps it), uptime back
    assert s.take_reset()
    gaps = s.reset_gap()
    assert [g.reason for g in gaps] == ["puck_reset"] and gaps[0].samples_missing is None
    assert s.counters["puck_resets"] == 1


def test_a_disconnect_across_a_restart_has_unknown_samples_missing():
    s = SessionDecoder()
    s.feed(b"".join(_samples(100 + i, 9_000_000 + 100_000 * i) for i in range(5)), now=0.0)
    s.link_lost(1.0)
    s.link_restored(2.0, streaming=True)
    items, _ = s.feed(b"".join(_samples(i, 40_000 + 100_000 * i) for i in range(3)), now=2.5)
    gaps = [e for e in items if isinstance(e, Gap)]
    assert [g.reason for g in gaps] == ["disconnected"]
    assert gaps[0].samples_missing is None
    assert not s.take_reset()     # the reconnect restores the session, not the reset path

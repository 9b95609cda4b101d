"""The gap-and-reset tracker on its own: sample blocks and link events in,
Gap events out, and all it knows in one TrackerState."""
from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from openpuck.device.decoder import SampleBlock
from openpuck.device.events import Gap, Rep
from openpuck.device.gap_tracker import GapCounters, GapTracker, OpenGap, TrackerState

PERIOD = 0.005
U32_S = (1 << 32) * 1e-6


def block(t0: float, n: int = 20) -> SampleBlock:
    t = t0 + PERIOD * np.arange(n)
    return SampleBlock(t, np.zeros((n, 3), np.float32), np.zeros((n, 3), np.float32),
                       np.zeros(n, np.float32))


def feed(tr: GapTracker, b: SampleBlock, seq_resets: int = 0) -> tuple[list[Gap], SampleBlock]:
    out = tr.samples(b, seq_resets)
    assert isinstance(out[-1], SampleBlock), "the block always comes last"
    return out[:-1], out[-1]


def rep(t_start: float, t_end: float) -> Rep:
    return Rep(t=t_end, exercise="grip_squeeze", count=1, t_start=t_start, t_peak=t_start,
               t_end=t_end, amplitude=20.0, unit="N")


def test_a_new_tracker_knows_nothing():
    assert GapTracker().state == TrackerState()
    assert GapTracker().counters == {"partial_frames": 0, "disconnects": 0, "gaps": 0,
                                     "samples_missing": 0, "uncertain_events": 0,
                                     "puck_resets": 0}


def test_consecutive_blocks_set_the_time_line_and_make_no_gap():
    tr = GapTracker()
    assert feed(tr, block(1.0))[0] == []
    assert feed(tr, block(1.1))[0] == []
    assert tr.state.last_t == pytest.approx(1.1 + 19 * PERIOD)
    assert tr.state.period == pytest.approx(PERIOD)
    assert tr.state.counters == GapCounters()


def test_samples_missing_between_blocks_are_a_gap_and_an_unsure_stretch():
    tr = GapTracker()
    feed(tr, block(1.0))                       # ends at 1.095
    gaps, _ = feed(tr, block(1.2))             # 1.100 .. 1.195 missing: 20 samples
    assert gaps == [Gap(t=1.2, t_start=pytest.approx(1.095), t_end=1.2, reason="dropped_samples",
                        samples_missing=20, uncertain=True)]
    assert list(tr.state.unsure) == [(pytest.approx(1.095), 1.2)]
    assert (tr.state.counters.gaps, tr.state.counters.samples_missing) == (1, 20)


def test_lost_frames_make_a_gap_around_the_latest_sample():
    tr = GapTracker()
    assert tr.lost_frames(3) is None            # no sample yet: nowhere to put it
    feed(tr, block(1.0))
    assert tr.lost_frames(0) is None
    g = tr.lost_frames(3)
    assert (g.reason, g.frames_lost, g.t_end) == ("lost_frames", 3, pytest.approx(1.095))
    assert g.t_start == pytest.approx(1.095 - 36 * PERIOD)
    assert tr.state.counters.gaps == 1


def test_a_disconnect_opens_a_gap_that_the_first_samples_after_it_close():
    tr = GapTracker()
    feed(tr, block(1.0))
    tr.link_lost(now=50.0, partial_frame=True)
    assert tr.state.open_gap == OpenGap("disconnected", host_start=50.0,
                                        t_start=pytest.approx(1.095))
    assert (tr.state.counters.disconnects, tr.state.counters.partial_frames) == (1, 1)
    assert tr.link_restored(now=52.5, samples_expected=True) == []
    gaps, _ = feed(tr, block(2.0))
    assert gaps[0] == Gap(t=2.0, t_start=pytest.approx(1.095), t_end=2.0, reason="disconnected",
                          samples_missing=180, host_duration=2.5, uncertain=True)
    assert tr.state.open_gap is None


def test_a_disconnect_with_no_samples_expected_is_reported_when_the_link_is_back():
    tr = GapTracker()
    feed(tr, block(1.0))
    tr.link_lost(now=50.0, partial_frame=False)
    [g] = tr.link_restored(now=51.0, samples_expected=False)
    assert (g.reason, g.t_end, g.samples_missing, g.host_duration) == ("disconnected", None, 0, 1.0)
    assert tr.state.counters.partial_frames == 0 and tr.state.open_gap is None


def test_restoring_a_link_that_was_never_lost_reports_nothing():
    assert GapTracker().link_restored(now=1.0, samples_expected=False) == []


def test_a_new_decoder_after_a_partial_frame_is_put_back_on_the_time_line():
    # a fresh stream decoder unwraps the first time it sees afresh: after the
    # wrap of the device clock that is a whole 2^32 us away from the session's
    tr = GapTracker()
    feed(tr, block(U32_S + 1.0))
    tr.link_lost(now=10.0, partial_frame=True)
    tr.link_restored(now=11.0, samples_expected=True)
    gaps, b = feed(tr, block(1.5))
    assert b.t[0] == pytest.approx(U32_S + 1.5)
    assert gaps[0].samples_missing == 80


def test_a_puck_reset_ends_the_time_line():
    tr = GapTracker()
    feed(tr, block(1.0))
    feed(tr, block(1.2))
    tr.unwrap(1_000_000)
    tr.puck_reset(now=7.0)
    s = tr.state
    assert s.open_gap == OpenGap("puck_reset", host_start=7.0, host_end=7.0,
                                 t_start=pytest.approx(1.295), restarted=True)
    assert (s.last_t, s.ref_us, s.uptime_ms, s.unsure) == (None, None, None, deque())
    assert s.rebase and s.counters.puck_resets == 1
    assert tr.take_reset() and not tr.take_reset()


def test_after_a_reset_samples_are_device_time_since_the_restart():
    tr = GapTracker()
    feed(tr, block(U32_S + 100.0))   # the decoder's time line had wrapped once
    tr.puck_reset(now=7.0)
    # the decoder unwraps the restarted clock against the old line: one turn on
    gaps, b = feed(tr, block(U32_S + 0.05))
    assert b.t[0] == pytest.approx(0.05)
    assert [(g.reason, g.samples_missing, g.t_end) for g in gaps] == [
        ("puck_reset", None, pytest.approx(0.05))]
    assert not tr.state.rebase
    # anything before the first sample of the new time line is unsure
    assert tr.state.unsure[0] == (float("-inf"), pytest.approx(0.05))


def test_a_reset_while_nothing_streams_is_reported_on_demand():
    tr = GapTracker()
    assert tr.reset_gap() == []
    tr.puck_reset(now=3.0)
    [g] = tr.reset_gap()
    assert (g.reason, g.samples_missing, g.t_start, g.t_end) == ("puck_reset", None, None, None)
    assert tr.reset_gap() == []


def test_a_reset_within_a_disconnect_is_covered_by_the_disconnect_gap():
    tr = GapTracker()
    feed(tr, block(9.0))
    tr.link_lost(now=1.0, partial_frame=False)
    tr.puck_reset(now=1.5)
    assert tr.state.open_gap.reason == "disconnected" and tr.state.open_gap.restarted
    assert not tr.take_reset(), "the reconnect restores the session, not the reset path"
    assert tr.reset_gap() == []


def test_a_seq_restart_seen_with_the_samples_after_a_disconnect_is_a_reset():
    tr = GapTracker()
    feed(tr, block(9.0))
    tr.link_lost(now=1.0, partial_frame=False)
    tr.link_restored(now=2.0, samples_expected=True)
    [g], _ = feed(tr, block(0.04), seq_resets=1)
    assert (g.reason, g.samples_missing) == ("disconnected", None)
    assert tr.state.counters.puck_resets == 1 and tr.state.seq_resets_seen == 1


def test_a_seq_restart_is_new_once():
    tr = GapTracker()
    assert not tr.seq_restarted(0)
    assert tr.seq_restarted(1) and not tr.seq_restarted(1)
    assert tr.seq_restarted(3)


def test_uptime_going_back_more_than_a_second_is_a_restart():
    tr = GapTracker()
    assert not tr.uptime_went_back(60_000)     # nothing to compare with yet
    tr.note_uptime(60_000)
    assert not tr.uptime_went_back(59_500)     # status jitter
    assert tr.uptime_went_back(58_999)
    tr.note_uptime(500)
    assert tr.state.uptime_ms == 500


def test_an_event_overlapping_a_gap_is_uncertain_and_counted():
    tr = GapTracker()
    feed(tr, block(1.0))
    feed(tr, block(1.2))                     # gap 1.095 .. 1.2
    over, near, clear = rep(0.9, 1.1), rep(1.205, 1.4), rep(1.3, 1.5)
    for ev in (over, near, clear):
        tr.judge(ev)
    # padded by two sample periods: 1.205 is within 2 x 5 ms of the gap's end
    assert (over.uncertain, near.uncertain, clear.uncertain) == (True, True, False)
    assert tr.state.counters.uncertain_events == 2


def test_unwrap_picks_the_time_nearest_the_latest_sample():
    tr = GapTracker()
    feed(tr, block(U32_S - 0.5))             # just before the device clock wraps
    assert tr.unwrap(100_000) == pytest.approx(U32_S + 0.1)
    assert tr.unwrap((1 << 32) - 600_000) == pytest.approx(U32_S - 0.6)

"""Faults on the link: the SDK resynchronises and reports exactly the frames lost.

The fault relay (faultproxy.py) sits between the puck's port and the SDK,
damages chosen frames (bit flips, dropped, duplicated and delayed bytes, a
lost frame delimiter) and books exactly which frames the host cannot get
back. The SDK must count those frames and no others, report the samples they
carried as gaps, and deliver every other sample once, in order.
"""
from __future__ import annotations

import numpy as np
import pytest

from .faultproxy import LOSSY_KINDS, FaultPlan
from .rig import MAX_SPEED, Probe

PLANS = {
    # every 7th streaming frame, the lossy kinds and delays in turn
    "every7": FaultPlan(kinds=LOSSY_KINDS + ("delay",), every=7, seed=1, delay_s=0.02),
    # 3 % of streaming frames at random, any lossy kind
    "random3pct": FaultPlan(kinds=LOSSY_KINDS + ("delay",), every=None, probability=0.03,
                            seed=2, delay_s=0.02),
}


@pytest.mark.needs("byte_stream")
@pytest.mark.parametrize("plan", list(PLANS))
def test_sdk_reports_exactly_the_frames_the_link_lost(hil, hil_settings, hil_figures, plan):
    with hil.open(speed=MAX_SPEED, proxy=True) as s:
        puck, relay = s.puck, s.proxy
        probe = Probe().attach(puck)
        st0 = puck.get_status()
        puck.start(exercise="grip_squeeze", rate_hz=200)
        assert probe.wait_more_samples(200, timeout=15)
        relay.arm(PLANS[plan])
        span0 = probe.span()
        limit = hil_settings.fault_s / 20 + 30 if s.vpuck is not None else hil_settings.fault_s * 1.5 + 15
        assert probe.wait_span(span0 + hil_settings.fault_s, timeout=limit)
        relay.disarm()
        # clean frames after the last fault: a loss shows only when the next frame comes
        assert probe.wait_more_samples(400, timeout=15), "no samples after the faults stopped"
        puck.stop()
        st1 = puck.get_status()
        led = relay.ledger
        c = puck.counters
        t = probe.t()
        gaps = probe.events("gap")
    assert relay.error is None, f"the relay failed: {relay.error!r}"
    assert led.faults, "no faults were made"
    assert st1.dropped_samples == st0.dropped_samples, "the puck itself dropped samples"
    # exactly the frames lost
    assert c["lost_frames"] == led.lost_frames, (
        f"SDK counted {c['lost_frames']} lost frames, the link lost {led.lost_frames}")
    lost_gaps = [g for g in gaps if g.reason == "lost_frames"]
    assert sum(g.frames_lost for g in lost_gaps) == led.lost_frames
    # exactly the samples those frames carried, reported as gaps in the samples
    missing = sum(g.samples_missing for g in gaps if g.reason == "dropped_samples")
    assert missing == led.lost_samples, (
        f"SDK reported {missing} samples missing, the lost frames carried {led.lost_samples}")
    assert c["samples_missing"] == led.lost_samples
    # every other sample arrived once, in order, evenly spaced where nothing was lost
    assert np.all(np.diff(t) > 0), "samples out of order or repeated"
    dt = np.diff(t)
    assert np.allclose(dt[dt < 1.5 / 200], 1 / 200, atol=2e-6)
    assert c["samples"] == probe.n_samples
    assert not [g for g in gaps if g.reason == "disconnected"]
    hil_figures(f"faults_{plan}", {**led.summary(), "lost_frames_sdk": c["lost_frames"]},
                note="relay ledger vs SDK counters")


@pytest.mark.needs("byte_stream")
def test_a_frame_repeated_whole_is_delivered_once(hil, hil_figures):
    with hil.open(speed=MAX_SPEED, proxy=True) as s:
        puck, relay = s.puck, s.proxy
        probe = Probe().attach(puck)
        puck.start(exercise="grip_squeeze", rate_hz=200)
        assert probe.wait_more_samples(200, timeout=15)
        relay.arm(FaultPlan(kinds=("dup_frame",), every=7, seed=3, max_faults=20))
        assert probe.wait(lambda p: len(relay.ledger.faults) >= 20, timeout=30)
        relay.disarm()
        assert probe.wait_more_samples(400, timeout=15)
        t = probe.t()
        c = puck.counters
    assert c["lost_frames"] == 0 and c["seq_resets"] == 0
    assert c["duplicates"] == relay.ledger.count("dup_frame")
    assert np.all(np.diff(t) > 0), (
        f"{int(np.sum(np.diff(t) <= 0))} of 20 repeated frames reached the application again")

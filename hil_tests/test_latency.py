"""Latency: ping round trips, and how long a rep takes to reach the application.

Both run in real time (the sim at speed 1), since a latency is a wall-clock
figure. Budgets default to what a patient notices (a rep shown more than
half a second late feels broken) and can be tightened per rig in [budgets]:
``ping_p95_ms`` and ``rep_latency_max_ms``.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

from .rig import Probe, percentiles

PING_P95_MS = {"sim": 50.0, "serial": 50.0, "ble": 250.0}
REP_LATENCY_MAX_MS = {"sim": 600.0, "serial": 600.0, "ble": 1000.0}


@pytest.mark.needs("real_time")
@pytest.mark.parametrize("load", ["idle", "streaming_200hz"])
def test_ping_round_trip_percentiles(hil, hil_target, hil_settings, hil_figures, load):
    with hil.open(speed=1.0) as s:
        puck = s.puck
        if load != "idle":
            puck.start(exercise="grip_squeeze", rate_hz=200)
            time.sleep(0.5)
        rtts = [puck.ping() * 1e3 for _ in range(hil_settings.pings)]
        if load != "idle":
            puck.stop()
    p = percentiles(rtts)
    hil_figures(f"ping_rtt_{load}", {k: round(v, 3) if isinstance(v, float) else v
                                     for k, v in p.items()}, unit="ms")
    budget = hil_target.budget("ping_p95_ms", PING_P95_MS[hil_target.kind])
    assert p["p95"] <= budget, f"ping p95 {p['p95']:.1f} ms over the budget of {budget:g} ms"


@pytest.mark.needs("motion", "real_time")
def test_rep_reaches_the_app_soon_after_it_ends(hil, hil_target, hil_settings, hil_figures):
    """From the end of a rep in the recording to the Rep event in the application.

    The end is found in the samples the host received, by the counting rule
    (../shared/exercises.md): the first sample after the peak back within
    OFF x target of rest (grip: OFF = 0.2). It is mapped to host time through
    the SDK's ping-based clock sync, whose error bound is reported too.
    """
    n_reps, target, off = (3 if hil_settings.short else 10), 20.0, 0.2
    with hil.open(scenario="grip10", speed=1.0) as s:
        puck = s.puck
        probe = Probe().attach(puck)
        for _ in range(5):
            puck.ping()   # a few fresh exchanges for the clock sync
        puck.start(exercise="grip_squeeze", target=target, rate_hz=200)
        s.play()
        assert probe.wait(lambda p: sum(a.event.kind == "rep" for a in p.arrivals) >= n_reps,
                          timeout=n_reps * 4 + 15), "reps did not arrive"
        t = probe.t()
        force = np.concatenate([b.force for b in list(probe.blocks)])
        rest = float(np.median(force[t < t[0] + 0.5]))
        lat, err, skew = [], [], []
        for a in probe.arrivals_of("rep")[:n_reps]:
            rep = a.event
            back = np.nonzero((t >= rep.t_peak) & (force - rest <= off * target))[0]
            assert back.size, f"rep {rep.count}: the force never came back to rest"
            t_end = float(t[back[0]])
            host_end, bound = puck.clock.to_host(t_end)
            lat.append((a.host_s - host_end) * 1e3)
            err.append(bound * 1e3)
            skew.append((rep.t_end - t_end) * 1e3)
    p = percentiles(lat)
    hil_figures("rep_event_latency", {k: round(v, 1) if isinstance(v, float) else v
                                      for k, v in p.items()}, unit="ms",
                note=f"end of rep in the samples to host arrival; clock-sync bound "
                     f"+/-{max(err):.2f} ms; puck t_end - recording end "
                     f"{min(skew):.0f}..{max(skew):.0f} ms")
    assert min(lat) > -max(err) - 1.0, "a rep arrived before it ended: clock sync is off"
    budget = hil_target.budget("rep_latency_max_ms", REP_LATENCY_MAX_MS[hil_target.kind])
    assert p["max"] <= budget, f"rep latency max {p['max']:.0f} ms over {budget:g} ms"

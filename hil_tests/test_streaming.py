"""Streaming integrity: nothing lost on a clean link, time monotonic, the rate right.

Two runs:

* at maximum speed for ``--hil-duration`` device seconds (on the sim:
  ``speed=inf``, the virtual clock runs as fast as the host reads, so the rate
  is measured in *device* time: wall time says nothing about it there; a
  board streams in real time anyway);
* in real time, where the rate is also measured against the host's wall
  clock: device time over arrival time between the least-delayed blocks at
  the start and the end of the run (see clock_ratio), so a late delivery
  on a busy host does not count.
"""
from __future__ import annotations

import time

import numpy as np

from .rig import MAX_SPEED, Probe

TOLERANCE = 0.005   # +/-0.5 % of the configured rate


def _stream(puck, rate: int, seconds: float, wall_limit: float):
    probe = Probe().attach(puck)
    st0 = puck.get_status()
    t_wall = time.monotonic()
    puck.start(exercise="grip_squeeze", rate_hz=rate)
    ok = probe.wait_span(seconds, timeout=wall_limit)
    wall = time.monotonic() - t_wall
    puck.stop()
    probe.detach()
    st1 = puck.get_status()
    assert ok, f"only {probe.span():.1f} of {seconds:g} device s arrived in {wall_limit:g} s"
    return probe, st0, st1, wall


def _check_integrity(puck, probe, st0, st1, rate):
    t = probe.t()
    c = puck.counters
    assert c["lost_frames"] == 0, f"{c['lost_frames']} frames lost on a clean link"
    for k in ("crc_errors", "cobs_errors", "oversize", "truncated", "malformed", "seq_resets"):
        assert c[k] == 0, f"{k} = {c[k]} on a clean link"
    assert st1.dropped_samples == st0.dropped_samples, "the puck's sampler dropped samples"
    gaps = probe.events("gap")
    assert not gaps, f"gaps reported on a clean link: {gaps[:3]}"
    dt = np.diff(t)
    assert np.all(dt > 0), f"time goes backwards or stands still at {np.nonzero(dt <= 0)[0][:5]}"
    period = 1.0 / rate
    assert np.allclose(dt, period, rtol=0, atol=2e-6), (
        f"uneven sample spacing: {dt.min() * 1e3:.3f}..{dt.max() * 1e3:.3f} ms")
    rate_dev = (len(t) - 1) / (t[-1] - t[0])
    assert abs(rate_dev / rate - 1) <= TOLERANCE, f"device-time rate {rate_dev:.3f} Hz"
    return t, rate_dev


def test_streaming_at_max_speed_loses_nothing(hil, hil_settings, hil_figures, stream_rate):
    """Parametrized by the plugin: 200 Hz in the short run, every rate in the full one."""
    rate = stream_rate
    secs = hil_settings.stream_s
    with hil.open(speed=MAX_SPEED) as s:
        limit = secs / 20 + 30 if s.vpuck is not None else secs * 1.2 + 15
        probe, st0, st1, wall = _stream(s.puck, rate, secs, limit)
        t, rate_dev = _check_integrity(s.puck, probe, st0, st1, rate)
    clock = "device time; the sim ran at maximum speed" if s.vpuck is not None else "device time"
    hil_figures(f"stream_{rate}hz", {"samples": len(t), "device_s": round(float(t[-1] - t[0]), 2),
                                     "wall_s": round(wall, 2), "rate_hz": round(rate_dev, 4),
                                     "lost_frames": 0}, note=clock)


def test_streaming_in_real_time_keeps_the_wall_clock_rate(hil, hil_settings, hil_figures):
    rate = 200
    secs = 5.0 if hil_settings.short else min(60.0, hil_settings.stream_s)
    with hil.open(speed=1.0) as s:
        probe, st0, st1, wall = _stream(s.puck, rate, secs, secs * 1.5 + 10)
        t, rate_dev = _check_integrity(s.puck, probe, st0, st1, rate)
        # device time of each block's last sample against its arrival on the host
        dev = np.array([b.t[-1] for b in probe.blocks])
        arr = np.array(probe.block_arrivals)
    slope = clock_ratio(dev, arr)
    rate_wall = rate * slope
    assert abs(slope - 1) <= TOLERANCE, (
        f"device clock runs at {slope:.5f} x the host's: {rate_wall:.2f} Hz in wall time")
    lag = (arr - arr[0]) - (dev - dev[0]) / slope
    hil_figures("stream_realtime_200hz", {"samples": len(t), "wall_s": round(wall, 2),
                                          "rate_device_hz": round(rate_dev, 4),
                                          "rate_wall_hz": round(rate_wall, 3),
                                          "arrival_jitter_ms": round(float(np.std(lag)) * 1e3, 2)},
                note="rate in wall time: device time over host arrival time")



def clock_ratio(dev: np.ndarray, arr: np.ndarray) -> float:
    """Device seconds per host second, robust to delivery delays.

    A block can arrive late (batching, a busy host) but never early, so in
    the first and the last fifth of the run the block with the smallest
    arrival lag is the one delayed least: the slope between those two is
    the clock ratio (the minimum filter of NTP), to within their jitter over
    the run's length.
    """
    k = max(1, len(dev) // 5)
    lag = arr - dev
    a = int(np.argmin(lag[:k]))
    z = len(dev) - k + int(np.argmin(lag[-k:]))
    return float((dev[z] - dev[a]) / (arr[z] - arr[a]))

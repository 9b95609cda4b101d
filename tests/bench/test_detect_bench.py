"""The puck-hour through the detector: 720,000 samples (one hour at 200 Hz),
generated seeded here (reps every 5 s with rests, noise, tremor, a gyro bias,
a force pad), quantised once, then counted by the C core through one cffi
call per block, for each signal kind (force, tilt, heading).

Floor (issue 3): >= 20 M samples/s on the host. Speed is reported by
pytest-benchmark (`make bench`); the floor is checked on the median."""
from __future__ import annotations

import numpy as np
import pytest

from openpuck import _core, exercises
from openpuck.offline.detect import choose_scales, make_config, quantise

N = 720_000
RATE = 200.0
FLOOR = 20e6


@pytest.fixture(scope="module")
def puck_hour():
    rng = np.random.default_rng(2024)
    t = np.arange(N) / RATE
    phase = (t % 5.0) / 2.0
    bump = np.where(phase < 1.0, np.sin(np.pi * np.clip(phase, 0, 1)) ** 2, 0.0)
    ang = np.radians(60) * bump
    accel = np.column_stack([np.zeros(N), np.sin(ang), np.cos(ang)]) + rng.normal(0, 0.01, (N, 3))
    rate = np.gradient(np.degrees(ang), t)
    gyro = np.column_stack([rate, 0.5 * rate, 0.8 * rate]) + rng.normal(0, 1.0, (N, 3)) + 1.5
    force = 4 + 25 * bump + rng.normal(0, 0.2, N)
    arrays = {"t": t, "accel": accel, "gyro": gyro, "force": force}
    scales = choose_scales(accel, gyro)
    return quantise(arrays, scales), scales


@pytest.mark.parametrize("exercise", ["grip_squeeze", "arm_raise", "trunk_rotation"])
def test_detect_puck_hour(benchmark, puck_hour, exercise):
    (t_us, imu, force), scales = puck_hour
    cfg = make_config(exercises.get(exercise), "auto", scales=scales)

    def run():
        d = _core.Detector(cfg)
        return d.run(t_us, imu, force) + d.finish()
    events = benchmark(run)
    assert sum(1 for e in events if e[0] == 1) > 600  # 720 reps in the hour
    median = benchmark.stats.stats.median
    benchmark.extra_info["samples_per_s"] = N / median
    print(f"\npuck-hour detect, {exercise}: {N / median / 1e6:.1f} M samples/s")
    assert N / median >= FLOOR, f"{N / median / 1e6:.1f} M samples/s"

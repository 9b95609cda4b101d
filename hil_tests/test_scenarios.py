"""Rep and grip scenarios with exact expected counts.

On the virtual puck these are its built-in scenarios (a known movement
played through the sensor models); on a board they need the rig's actuator
to play the same movement (declare it in the rig file's [actuator]); a
person cannot be scheduled into a nightly run, so without one they skip.
"""
from __future__ import annotations

import pytest

import openpuck.device.sim

from .rig import MAX_SPEED, Probe

# scenario -> (exercise, target, expected reps, partial reps, grips): the specification
EXPECTED = {
    "grip3": ("grip_squeeze", 20.0, 3, 0, 3),
    "grip10": ("grip_squeeze", 20.0, 10, 0, 10),
    "wrist8": ("wrist_flexion", 30.0, 8, 0, 0),      # a rep reaches the target: bends of 40
    "row10": ("row", 22.0, 10, 0, 0),
    "rotation10": ("shoulder_rotation", 45.0, 10, 0, 0),
    "demo": ("wrist_flexion", 30.0, 6, 2, 3),
    "still": ("grip_squeeze", 20.0, 0, 0, 0),
}
TAIL_S = 3.0   # device seconds after the movement for the last event


@pytest.mark.needs("motion")
@pytest.mark.parametrize("scenario", list(EXPECTED))
def test_scenario_gives_exact_counts(hil, hil_target, hil_figures, scenario):
    exercise, target, reps, partial, grips = EXPECTED[scenario]
    if hil_target.actuator and scenario not in hil_target.actuator["scenarios"]:
        pytest.skip(f"the rig's actuator cannot play {scenario!r} "
                    f"(it plays {', '.join(hil_target.actuator['scenarios'])})")
    with hil.open(scenario=scenario, speed=MAX_SPEED) as s:
        puck = s.puck
        probe = Probe().attach(puck)
        puck.start(exercise=exercise, target=target, rate_hz=200)
        if s.vpuck is not None or s.pico is not None:   # the scenario plays as the puck streams
            duration = openpuck.device.sim.scenarios()[scenario]["duration_s"]
            assert probe.wait_span(duration + TAIL_S, timeout=120), "the scenario did not play out"
        else:
            proc = s.play()
            proc.wait(timeout=600)
            t_end = probe.span() + TAIL_S
            probe.wait_span(t_end, timeout=TAIL_S + 10)
        status = puck.get_status()
        got_reps = probe.events("rep")
        got_partial = probe.events("partial_rep")
        got_grips = probe.events("grip")
        gaps = probe.events("gap")
    hil_figures(f"scenario_{scenario}", {"reps": len(got_reps), "partial": len(got_partial),
                                         "grips": len(got_grips)},
                note=f"expected {reps}/{partial}/{grips}")
    assert not gaps, f"gaps during the scenario: {gaps[:3]}"
    assert (len(got_reps), len(got_partial), len(got_grips)) == (reps, partial, grips)
    assert [r.count for r in got_reps] == list(range(1, reps + 1)), "rep counts not 1..N"
    assert [r.count for r in got_partial] == list(range(1, partial + 1))
    assert (status.reps, status.partial_reps) == (reps, partial), "the puck's own tally differs"
    assert all(r.exercise == exercise for r in got_reps + got_partial)
    assert not any(e.uncertain for e in got_reps + got_partial + got_grips)
    for r in got_reps:
        assert r.t_start < r.t_peak < r.t_end
        # a full rep reaches ON x target: 40 % for force, 50 % for tilt
        assert r.amplitude >= (0.4 if r.unit == "N" else 0.5) * target

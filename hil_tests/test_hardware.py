"""What only hardware has: a radio, and real sensor chips.

These skip on the virtual puck, whose link is a pseudo-terminal and whose
sensors are register models replaying a movement: there is no radio to
scan for and no chip noise or bias to measure.
"""
from __future__ import annotations

import numpy as np
import pytest

import openpuck

from .rig import Probe


@pytest.mark.needs("radio")
def test_puck_advertises_over_ble(puck, hil_target):
    """The puck is found by a BLE scan (Nordic UART service) under its address or name.

    The rig's ``radio`` capability names it (``radio = "OpenPuck-1A2B"``) when
    the suite talks to the puck over USB; a ble: target is looked for by its own address.
    """
    assert "ble" in puck.info.capabilities, "the puck does not report a BLE radio"
    want = hil_target.address or hil_target.caps.get("radio")
    found = openpuck.scan(ble=True, serial=False, timeout=8.0)
    names = {f.address.lower() for f in found} | {f.name.lower() for f in found}
    if isinstance(want, str):
        assert want.lower() in names, f"{want} not advertising; found {sorted(names)}"
    else:
        assert found, "no puck advertising the Nordic UART service"


@pytest.mark.needs("real_sensors")
def test_sensors_at_rest_are_within_datasheet_limits(puck, hil_figures):
    """The puck lies still on the bench: gravity reads 1 g, the gyroscope's
    bias after a rest calibration is small, the noise is the chip's, the force
    pad reads zero after a tare. Limits from the LSM6DSOX datasheet (accel
    noise density 70 ug/sqrt(Hz); gyro zero-rate level +/-1 dps after
    calibration; rms noise 3.8 mdps/sqrt(Hz)) with margin."""
    puck.calibrate("rest")
    puck.calibrate("force_zero")
    probe = Probe().attach(puck)
    puck.start(exercise="grip_squeeze", rate_hz=100)
    assert probe.wait_span(5.0, timeout=15)
    puck.stop()
    accel = np.concatenate([b.accel for b in probe.blocks]).astype(float)
    gyro = np.concatenate([b.gyro for b in probe.blocks]).astype(float)
    force = np.concatenate([b.force for b in probe.blocks]).astype(float)
    g = np.linalg.norm(accel.mean(axis=0))
    acc_noise_mg = float(accel.std(axis=0).max() * 1e3)
    gyro_bias = float(np.abs(gyro.mean(axis=0)).max())
    gyro_noise = float(gyro.std(axis=0).max())
    hil_figures("sensors_at_rest", {"gravity_g": round(float(g), 4),
                                    "accel_noise_mg": round(acc_noise_mg, 2),
                                    "gyro_bias_dps": round(gyro_bias, 3),
                                    "gyro_noise_dps": round(gyro_noise, 3),
                                    "force_n": round(float(force.mean()), 2)})
    assert abs(g - 1.0) < 0.05, f"gravity reads {g:.3f} g"
    assert acc_noise_mg < 5.0
    assert gyro_bias < 1.0 and gyro_noise < 0.5
    assert abs(force.mean()) < 0.5 and force.std() < 0.5

"""Handshake and device info: the puck says who it is, and it is what the rig expects."""
from __future__ import annotations

import math
import re

import pytest

from openpuck import protocol

CAPABILITIES = set(protocol.ENUMS["capability"])


def test_connect_gives_device_info_of_protocol_1(puck, hil_target):
    info = puck.info
    assert info is not None, "no device_info after connect (get_info unanswered)"
    assert info.protocol_version == protocol.VERSION
    assert re.fullmatch(r"\d+\.\d+\.\d+", info.firmware), info.firmware
    assert info.board and info.serial, "board and serial must not be empty"
    assert set(info.capabilities) <= CAPABILITIES
    assert {"imu", "force"} & set(info.capabilities), "a puck senses motion or force"
    assert {"usb", "ble"} & set(info.capabilities), "a puck has a link"


def test_firmware_and_board_are_what_the_rig_expects(puck, hil_target):
    if not (hil_target.firmware or hil_target.board):
        pytest.skip("the target names no expected firmware or board (set firmware = and "
                    "board = in its rig file)")
    if hil_target.firmware:
        assert puck.info.firmware == hil_target.firmware, (
            f"firmware {puck.info.firmware} on the puck, the rig expects {hil_target.firmware}")
    if hil_target.board:
        assert puck.info.board == hil_target.board, (
            f"board {puck.info.board}, the rig expects {hil_target.board}")


def test_sample_scales_match_the_ranges(puck):
    """The scales tell the host how to read samples; they must fit the ranges."""
    i = puck.info
    for v in (i.accel_g_per_lsb, i.gyro_dps_per_lsb, i.force_n_per_lsb):
        assert math.isfinite(v) and v > 0
    assert i.accel_range_g in (2, 4, 8, 16)
    assert i.gyro_range_dps in (125, 250, 500, 1000, 2000)
    # full scale spread over the int16 counts: within 25 % (chips round their sensitivity)
    assert 0.8 < i.accel_g_per_lsb * 32768 / i.accel_range_g < 1.25
    assert 0.8 < i.gyro_dps_per_lsb * 32768 / i.gyro_range_dps < 1.25
    assert i.force_max_n > 0 and i.force_n_per_lsb * 65535 >= i.force_max_n


def test_rates_offered_include_those_the_protocol_requires(puck):
    i = puck.info
    assert {25, 50, 100, 200} <= set(i.rates_hz)
    assert i.max_rate_hz >= 200


def test_get_info_answers_what_connect_saw(puck):
    before = puck.info.as_dict()
    assert puck.get_info().as_dict() == before


def test_get_status_reports_an_idle_healthy_puck(puck):
    s = puck.get_status()
    assert s is not None and not s.streaming
    assert s.uptime_s > 0
    assert s.reset_cause in ("power_on", "soft", "watchdog", "brown_out")
    assert 0 <= s.battery_pct <= 100

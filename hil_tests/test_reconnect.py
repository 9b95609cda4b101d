"""Unplug and replug, reboots and watchdog resets: the SDK gets the puck back.

A pulled cable closes the port and, on USB power, reboots the puck. The SDK
must notice, reconnect with backoff, restart the session it had (exercise,
rate) without the application doing anything, report the hole as a Gap
event, and carry on streaming.
"""
from __future__ import annotations

import os
import signal
import time

import pytest

import openpuck

from .rig import Cable, Probe

pytestmark = pytest.mark.destructive


@pytest.fixture
def cable(hil_target, tmp_path):
    c = Cable(hil_target, tmp_path)
    yield c
    c.close()


@pytest.mark.needs("replug")
def test_unplug_replug_reconnects_and_reports_the_gap(cable, hil_figures):
    off_s = 1.5
    with openpuck.connect(cable.url, **cable.connect_options) as puck:
        probe = Probe().attach(puck)
        puck.start(exercise="wrist_flexion", rate_hz=100)
        assert probe.wait_more_samples(100, timeout=10)
        n_before = probe.n_samples
        t_pull = time.monotonic()
        cable.cycle(off_s)
        assert probe.wait(lambda p: any(a.event.kind == "gap" for a in p.arrivals)
                          and sum(len(b) for b in p.blocks) >= n_before + 200, timeout=30), (
            "streaming did not resume after replug")
        back_s = probe.block_arrivals[_first_after(probe, n_before)] - t_pull
        gap = probe.events("gap")[0]
        st = puck.get_status()
        assert puck.reconnects == 1
    assert gap.reason == "disconnected"
    assert gap.host_duration >= off_s * 0.9, f"gap of {gap.host_duration:.2f} s for {off_s} s off"
    assert st.streaming and st.exercise == "wrist_flexion", "the session was not restored"
    assert st.reset_cause == "power_on", "a replugged puck boots cold"
    hil_figures("replug", {"off_s": off_s, "link_down_s": round(gap.host_duration, 2),
                           "streaming_again_after_s": round(back_s, 2),
                           "reconnects": 1},
                note="cable pulled, puck power-cycled; SDK backoff 0.1 s doubling")


def _first_after(probe, n: int) -> int:
    total = 0
    for i, b in enumerate(probe.blocks):
        total += len(b)
        if total > n:
            return i
    return len(probe.blocks) - 1


# keys set to values other than the defaults (see firmware config.DEFAULTS)
PERSISTED = {"rate_hz": 50, "accel_range_g": 8, "gyro_range_dps": 1000, "exercise": 3,
             "target": 35000, "feedback": 1}


@pytest.mark.needs("reboot")
@pytest.mark.parametrize("how", ["reboot", "power_cycle"])
def test_config_persists_across_a_restart(hil_target, cable, how):
    if how == "power_cycle" and hil_target.lacks("replug"):
        pytest.skip(hil_target.lacks("replug"))
    with openpuck.connect(cable.url, **cable.connect_options) as puck:
        assert "persistent_config" in puck.info.capabilities, (
            "the puck does not report the persistent_config capability")
        old = {k: puck.get_config(k) for k in PERSISTED}
        try:
            for k, v in PERSISTED.items():
                assert puck.set_config(k, v) == v
            if how == "reboot":
                puck.reboot()
            else:
                cable.cycle(0.5)
            _wait_back(puck, 20)
            got = {k: puck.get_config(k) for k in PERSISTED}
            assert got == PERSISTED
            assert puck.info.accel_range_g == 8 and puck.info.gyro_range_dps == 1000, (
                "device_info does not reflect the persisted ranges")
        finally:
            for k, v in old.items():
                puck.set_config(k, v)


def _wait_back(puck, timeout: float) -> None:
    """Until the puck answers again after a restart (the SDK reconnects if the
    link dropped), at most ``timeout`` seconds of the puck's time."""
    from . import rig
    time.sleep(0.3)
    end = time.monotonic() + timeout * rig.SLOWDOWN
    last = None
    while time.monotonic() < end:
        try:
            puck.get_info()
            return
        except openpuck.errors.OpenPuckError as e:
            last = e
            time.sleep(0.2)
    raise AssertionError(f"the puck did not come back within {timeout:g} s ({last})")


@pytest.mark.needs("watchdog")
def test_watchdog_reset_recovers(hil, hil_target, hil_figures):
    """The firmware hangs (on the sim: its process is frozen past the 4 s
    watchdog timeout; on a rig: its ``watchdog`` debug command); the watchdog
    resets the puck, which comes back with reset_cause = watchdog and
    streams again when asked."""
    with hil.open(speed=1.0) as s:
        puck = s.puck
        probe = Probe().attach(puck)
        puck.start(exercise="grip_squeeze", rate_hz=200)
        assert probe.wait_more_samples(100, timeout=10)
        _hang(s, hil_target)
        t0 = time.monotonic()
        _wait_back(puck, 30)
        back_s = time.monotonic() - t0
        st = puck.get_status()
        assert st.reset_cause == "watchdog"
        assert st.uptime_s < back_s + 5, "the puck did not restart"
        if not st.streaming:      # the link stayed up, so the session is the app's to restart
            puck.start(exercise="grip_squeeze", rate_hz=200)
        assert probe.wait_more_samples(200, timeout=10), "no streaming after the watchdog reset"
        assert puck.counters["seq_resets"] >= 1, "the SDK did not notice the puck restarting"
    hil_figures("watchdog_recovery", {"answering_after_s": round(back_s, 2)},
                note="end of the hang to the puck answering (polled after a 0.3 s settle)")


def _hang(s, target) -> None:
    if s.pico is not None:    # the emulated Pico: the core spins with interrupts off
        s.pico.hang()
        return
    if s.vpuck is not None:
        pid = s.vpuck.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(5.0)      # watchdog timeout 4 s on every board file
        finally:
            os.kill(pid, signal.SIGCONT)
        return
    import shlex
    import subprocess
    subprocess.run(shlex.split(str(target.caps["watchdog"])), check=True, timeout=60)


@pytest.mark.needs("watchdog")
def test_sdk_restores_the_session_after_a_reset_on_a_live_link(hil, hil_target):
    with hil.open(speed=1.0) as s:
        puck = s.puck
        probe = Probe().attach(puck)
        puck.start(exercise="grip_squeeze", rate_hz=200)
        assert probe.wait_more_samples(100, timeout=10)
        _hang(s, hil_target)
        resumed = probe.wait_more_samples(200, timeout=6)
        gaps = probe.events("gap")
        c = puck.counters
    assert resumed, "streaming did not resume by itself after the reset"
    assert gaps, "no gap reported for the reset"
    assert [g.reason for g in gaps] == ["puck_reset"]
    assert gaps[0].samples_missing is None, "device time restarted: the count is unknown"
    assert c["puck_resets"] == 1 and c["seq_resets"] >= 1

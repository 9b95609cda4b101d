"""The puck's own event log (protocol/spec.md section 10), through the SDK.

Every rep the puck sends live is also on its flash, in the same order with
the same counts, between a set_start and a set_end that tally the set; a
reboot between sets moves the boot id and loses nothing. On a board (and
the emulated Pico) the log outlives the test: each test reads only the
records from the sequence number the log had reached when it began.
"""
from __future__ import annotations

import time

import pytest

import openpuck.device.sim

from .rig import MAX_SPEED, Probe

SCENARIO = "grip3"
TAIL_S = 3.0   # device seconds after the movement for the last event


def _needs_a_log(puck) -> None:
    if "persistent_config" not in puck.info.capabilities:
        pytest.skip("the puck has no flash state (no persistent_config): it keeps no log")


@pytest.mark.needs("motion")
def test_the_log_holds_every_rep_the_puck_sent_live(hil, hil_target, hil_figures):
    if hil_target.actuator and SCENARIO not in hil_target.actuator["scenarios"]:
        pytest.skip(f"the rig's actuator cannot play {SCENARIO!r}")
    with hil.open(scenario=SCENARIO, speed=MAX_SPEED) as s:
        puck = s.puck
        _needs_a_log(puck)
        before = puck.log_list()
        probe = Probe().attach(puck)
        puck.start(exercise="grip_squeeze", target=20.0, rate_hz=200)
        if s.vpuck is not None or s.pico is not None:
            duration = openpuck.device.sim.scenarios()[SCENARIO]["duration_s"]
            assert probe.wait_span(duration + TAIL_S, timeout=120), "the scenario did not play out"
        else:
            s.play().wait(timeout=600)
            probe.wait_span(probe.span() + TAIL_S, timeout=TAIL_S + 10)
        puck.stop()
        t0 = time.monotonic()
        recs = puck.log_pull(before.next_seq)
        pull_s = time.monotonic() - t0
        after = puck.log_list()
    live = probe.events("rep")
    logged = [r for r in recs if r.type == "rep"]
    ends = [r for r in recs if r.type == "set_end"]
    hil_figures("event_log", {"records": len(recs), "pull_s": round(pull_s, 3),
                              "records_per_s": round(len(recs) / pull_s) if pull_s > 0 else None,
                              "log_bytes": after.bytes, "free_bytes": after.free_bytes},
                note="log_pull of one set's records over the link")
    assert after.not_kept == 0 and not after.full, "the log ran out of room during one set"
    assert [r.type for r in recs[:1]] == ["set_start"]
    assert [r.fields["count"] for r in logged] == [e.count for e in live] == [1, 2, 3]
    assert len([r for r in recs if r.type == "grip"]) == len(probe.events("grip"))
    assert [e.fields["reps"] for e in ends] == [3], "the set_end tallies the set"
    assert [r.seq for r in recs] == list(range(before.next_seq, after.next_seq))


@pytest.mark.destructive
@pytest.mark.needs("reboot")
def test_a_reboot_between_sets_moves_the_boot_id_and_loses_nothing(hil):
    from .test_reconnect import _wait_back
    with hil.open() as s:
        puck = s.puck
        _needs_a_log(puck)
        before = puck.log_list()
        for n in range(2):
            puck.start(exercise="grip_squeeze", target=20.0, rate_hz=100)
            Probe().attach(puck).wait_more_samples(50, timeout=30)
            puck.stop()
            if n == 0:
                puck.reboot()
                _wait_back(puck, 30)
        recs = puck.log_pull(before.next_seq)
        after = puck.log_list()
    b = before.boot_id
    assert [(r.type, r.boot) for r in recs if r.type in ("set_start", "set_end", "boot")] == [
        ("set_start", b), ("set_end", b), ("boot", b + 1), ("set_start", b + 1), ("set_end", b + 1)]
    boot = next(r for r in recs if r.type == "boot")
    assert boot.fields["reset_cause"] == 1, "a reboot asked for is a soft reset"
    assert after.boot_id == b + 1
    assert [r.seq for r in recs] == list(range(before.next_seq, after.next_seq))

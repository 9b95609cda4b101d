"""The Puck API against a fake puck on an in-memory link: commands and their
acks, events in physical units, samples as numpy, callbacks, clock sync,
gaps, reconnects, asyncio, two pucks at once."""
from __future__ import annotations

import asyncio
import re
import time

import numpy as np
import pytest

import openpuck
from openpuck.device.events import Gap, Grip, Rep
from tests.test_sdk_fakepuck import FakePuck

_n = iter(range(10**6))


@pytest.fixture
def fake():
    f = FakePuck(f"puck{next(_n)}")
    yield f
    f.close()


def test_connect_asks_the_puck_who_it_is_and_syncs_the_clock(fake):
    with openpuck.connect(fake.url) as puck:
        assert puck.info.serial == "FAKE0001"
        assert puck.info.accel_g_per_lsb == pytest.approx(1 / 8192)
        assert puck.info.rates_hz == (25, 50, 100, 200, 400)
        assert "force" in puck.info.capabilities
        assert puck.clock.synced
        rtt = puck.ping()
        assert 0 < rtt < 1.0
        before = time.monotonic()
        device_s = fake.device_us() * 1e-6
        after = time.monotonic()
        host, err = puck.clock.to_host(device_s)
        assert before - err - 0.01 <= host <= after + err + 0.01


def test_start_sends_exercise_and_target_then_streams_events_in_physical_units(fake):
    before = time.time()
    with openpuck.connect(fake.url) as puck:
        puck.start(exercise="grip_squeeze", target=25.0, rate_hz=200)
        reps = [ev for ev in puck.events(duration=1.6) if isinstance(ev, Rep)]
    after = time.time()
    sent = {m.type: m for m in fake.received}
    assert sent["set_exercise"]["exercise"] == 1 and sent["set_exercise"]["target"] == 25000
    assert sent["start"]["rate_hz"] == 200 and sent["start"]["channels"] == 7
    assert len(reps) >= 2
    r = reps[0]
    assert r.exercise == "grip_squeeze" and r.unit == "N"
    assert r.amplitude == pytest.approx(20.0)
    assert r.hold_s == pytest.approx(0.1)
    assert r.t_start < r.t_peak < r.t_end and r.duration == pytest.approx(0.25, abs=0.01)
    assert not r.uncertain
    assert r.host_time is not None and before - 1 <= r.host_time <= after + 1


def test_target_auto_sends_zero_and_none_sends_the_catalogue_default(fake):
    with openpuck.connect(fake.url) as puck:
        puck.start(exercise="grip_squeeze", target="auto")
        puck.stop()
        puck.start(exercise="wrist_flexion")
    targets = [m["target"] for m in fake.received if m.type == "set_exercise"]
    assert targets == [0, 40000]


def test_a_nack_raises_a_clear_error_naming_the_command_and_the_code(fake):
    fake.nack["buzzer"] = "unsupported"
    with openpuck.connect(fake.url) as puck:
        with pytest.raises(openpuck.CommandError, match=r"buzzer: refused by the puck: unsupported \(code 5\)"):
            puck.buzzer(2000, 0.1)
        puck.led(0, 255, 0, duration=0.5)   # the puck carries on
    led = [m for m in fake.received if m.type == "led"][0]
    assert (led["r"], led["g"], led["b"], led["duration_ms"]) == (0, 255, 0, 500)


def test_config_round_trip(fake):
    with openpuck.connect(fake.url) as puck:
        assert puck.get_config("rate_hz") == 200
        assert puck.set_config("rate_hz", 100) == 100
        with pytest.raises(openpuck.errors.OpenPuckError, match="unknown config key"):
            puck.get_config("colour")


@pytest.mark.parametrize("key, value, says", [
    ("rate_hz", 7, "set_config rate_hz must be one of 25, 50, 100, 200 Hz, got 7"),
    ("accel_range_g", 3, "set_config accel_range_g must be one of 2, 4, 8, 16 g, got 3"),
    ("exercise", 99, "set_config exercise must be a whole number from 1 to"),
    ("target", -5, "must be a whole number from 0 to 10000000, got -5"),
    ("feedback", 2.5, "feedback (bit 0 LED, bit 1 buzzer) must be a whole number from 0 to 3, got 2.5"),
    ("device_name", 1, "not a number"),
])
def test_set_config_refuses_what_the_puck_would_before_sending_it(fake, key, value, says):
    with openpuck.connect(fake.url) as puck:
        with pytest.raises(openpuck.offline.validate.InvalidValue, match=re.escape(says)):
            puck.set_config(key, value)
    assert not [m for m in fake.received if m.type == "set_config"]


def test_set_configs_rule_is_the_pucks(tmp_path):
    """The SDK's check and the firmware's config.valid() agree on every key
    over a spread of values (the firmware's module, run by CPython)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    values = [-1, 0, 1, 2, 3, 4, 7, 8, 16, 24, 25, 50, 100, 125, 200, 250, 400, 500, 1000, 2000,
              20000, 10_000_000, 10_000_001]
    keys = [k for k in openpuck.protocol.ENUMS["config_key"] if k != "device_name"]
    code = ("import json, sys; from openpuck_fw import config, msgtable as mt; "
            "print(json.dumps({k: [config.valid(getattr(mt, 'CONFIG_KEY_' + k.upper()), v) "
            f"for v in {values!r}] for k in {keys!r}}}))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(root / "firmware"), str(root / "tests" / "firmware" / "cpython")]))
    fw = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                   text=True, check=True).stdout)

    def sdk(k, v):
        try:
            openpuck.offline.validate.config_value(k, v)
            return True
        except openpuck.offline.validate.InvalidValue:
            return False
    assert {k: [sdk(k, v) for v in values] for k in keys} == fw


def test_a_silent_puck_times_out_with_the_command_named(fake):
    with openpuck.connect(fake.url, timeout=0.3) as puck:
        fake.silent = True
        with pytest.raises(openpuck.CommandTimeout, match="calibrate: no answer"):
            puck.calibrate("rest")


def test_samples_are_numpy_blocks_on_one_time_line(fake):
    with openpuck.connect(fake.url) as puck:
        puck.start()
        blocks = []
        for b in puck.samples(timeout=1.0):
            blocks.append(b)
            if sum(len(x) for x in blocks) >= 100:
                break
    s = openpuck.SampleBlock.concat(blocks)
    assert s.accel.shape == (len(s), 3) and s.accel.dtype == np.float32
    assert np.allclose(s.accel[:, 2], 1.0)
    assert np.allclose(np.diff(s.t), 0.005, atol=1e-6)


def test_callbacks_see_reps_and_every_event(fake):
    got, every = [], []
    with openpuck.connect(fake.url) as puck:
        puck.on("rep", got.append)
        puck.on("*", every.append)
        puck.on("grip", lambda ev: 1 / 0)   # a broken callback does not stop the others
        puck.start()
        time.sleep(1.3)
        errors = puck.counters["callback_errors"]
    assert got and all(isinstance(e, Rep) for e in got)
    assert any(isinstance(e, Grip) for e in every)
    assert errors >= 1


def test_device_time_is_unwrapped_across_the_32_bit_wrap():
    fake = FakePuck("wrap", t0_us=(1 << 32) - 300_000)   # wraps 0.3 s after start
    try:
        with openpuck.connect(fake.url) as puck:
            puck.start()
            evs = list(puck.events(duration=1.4))
            blocks = list(puck.samples(timeout=0.01))
        s = openpuck.SampleBlock.concat(blocks)
        assert np.all(np.diff(s.t) > 0)
        assert s.t[-1] > 4294.967296
        reps = [e for e in evs if isinstance(e, Rep)]
        assert reps and all(r.t_start < r.t_end for r in reps)
        assert all(abs(r.t_end - s.t[-1]) < 2.0 for r in reps)
    finally:
        fake.close()


def test_dropped_samples_make_a_gap_and_the_rep_over_it_is_uncertain(fake):
    with openpuck.connect(fake.url) as puck:
        puck.start()
        t_now = fake.device_us() * 1e-6
        # drop the samples of the middle of the next bump
        nxt = (t_now // 0.5 + 1) * 0.5
        fake.skip_samples = (nxt + 0.05, nxt + 0.15)
        evs = list(puck.events(duration=nxt - t_now + 0.8))
    gaps = [e for e in evs if isinstance(e, Gap)]
    reps = [e for e in evs if isinstance(e, Rep)]
    assert gaps and gaps[0].reason == "dropped_samples" and gaps[0].samples_missing >= 10
    over = [r for r in reps if r.t_start <= gaps[0].t_end and r.t_end >= gaps[0].t_start]
    clear = [r for r in reps if r not in over]
    assert over and all(r.uncertain for r in over)
    assert clear and not any(r.uncertain for r in clear)


def test_reconnect_resumes_the_session_and_reports_the_gap(fake):
    with openpuck.connect(fake.url) as puck:
        puck.start(exercise="grip_squeeze", target=22.0)
        time.sleep(0.4)
        fake.break_mid_frame()
        evs = list(puck.events(duration=1.5))
        c = puck.counters
    gaps = [e for e in evs if isinstance(e, Gap) and e.reason == "disconnected"]
    assert len(gaps) == 1 and gaps[0].host_duration > 0 and gaps[0].t_end > gaps[0].t_start
    assert fake.connections == 2
    # the session was sent again on the new link
    assert [m["target"] for m in fake.received if m.type == "set_exercise"] == [22000, 22000]
    assert c["partial_frames"] == 1 and c["reconnects"] == 1 and c["crc_errors"] == 0
    assert any(isinstance(e, Rep) and e.t_start > gaps[0].t_end for e in evs)


def test_no_reconnect_means_events_end_with_connection_lost(fake):
    with openpuck.connect(fake.url, reconnect=False) as puck:
        puck.start()
        fake.break_mid_frame()
        with pytest.raises(openpuck.ConnectionLost):
            for _ in puck.events(timeout=2):
                pass


def test_two_pucks_at_once_each_with_its_own_thread():
    a, b = FakePuck("twoA", serial="A"), FakePuck("twoB", serial="B", peak_n=10.0)
    try:
        with openpuck.connect(a.url) as pa, openpuck.connect(b.url) as pb:
            assert (pa.info.serial, pb.info.serial) == ("A", "B")
            pa.start()
            pb.start()
            ra, rb = [], []
            pa.on("rep", ra.append)
            pb.on("rep", rb.append)
            time.sleep(1.2)
            assert pa._thread is not pb._thread
        assert ra and rb
        assert {r.amplitude for r in ra} == {20.0} and {r.amplitude for r in rb} == {10.0}
    finally:
        a.close()
        b.close()


def test_asyncio_api(fake):
    async def main():
        async with openpuck.connect_async(fake.url) as puck:
            assert puck.info.serial == "FAKE0001"
            await puck.start(exercise="grip_squeeze", target=25.0)
            reps = []
            async for ev in puck.events(timeout=2):
                if ev.kind == "rep":
                    reps.append(ev)
                    if len(reps) == 2:
                        break
            rtt = await puck.ping()
            return reps, rtt
    reps, rtt = asyncio.run(main())
    assert [r.count for r in reps] == [1, 2] and rtt < 1


def test_unknown_exercise_and_bad_target_are_refused_before_sending(fake):
    with openpuck.connect(fake.url) as puck:
        with pytest.raises(openpuck.errors.OpenPuckError, match="unknown exercise 'juggling'"):
            puck.start(exercise="juggling")
        with pytest.raises(openpuck.errors.OpenPuckError, match="target"):
            puck.start(target=-3)
    assert not [m for m in fake.received if m.type == "set_exercise"]

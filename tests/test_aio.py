"""AsyncPuck: every command of the Puck as a typed, documented coroutine,
and the state of the Puck as properties; against the virtual puck and the
fake puck."""
from __future__ import annotations

import asyncio
import inspect

import pytest

import openpuck
from openpuck.device.aio import AsyncPuck
from openpuck.device.puck import Puck
from openpuck.offline.recording import Recording
from tests.test_sdk_fakepuck import FakePuck
from tests.test_sdk_sim import _why as _no_sim

COMMANDS = ("start", "stop", "ping", "led", "buzzer", "calibrate", "get_config", "set_config",
            "reboot", "get_info", "get_status", "record", "stop_recording", "watch", "pair", "unpair")
PROPERTIES = ("info", "status", "counters", "clock", "url", "connected", "streaming")
GRIP10 = "sim:?scenario=grip10&speed=max"

needs_sim = pytest.mark.skipif(_no_sim is not None, reason=f"no virtual puck: {_no_sim}")


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_is_a_documented_coroutine_taking_what_the_puck_takes(name):
    method = getattr(AsyncPuck, name)
    assert inspect.iscoroutinefunction(method)
    assert inspect.getdoc(method)
    theirs, ours = inspect.signature(getattr(Puck, name)), inspect.signature(method)
    assert ours.parameters == theirs.parameters
    assert ours.return_annotation == theirs.return_annotation != inspect.Signature.empty


@pytest.mark.parametrize("name", PROPERTIES)
def test_the_state_of_the_puck_is_documented_typed_properties(name):
    prop = inspect.getattr_static(AsyncPuck, name)
    assert isinstance(prop, property) and prop.__doc__
    assert inspect.signature(prop.fget).return_annotation != inspect.Signature.empty


def test_before_it_is_open_an_async_puck_says_how_to_open_it():
    puck = openpuck.connect_async("sim:?scenario=still")
    assert (puck.url, puck.connected, puck.streaming) == ("sim:?scenario=still", False, False)
    with pytest.raises(openpuck.ConnectionLost, match=r"ping: sim:\?scenario=still is not open "
                                                      r"yet \(use `async with"):
        asyncio.run(puck.ping())
    with pytest.raises(openpuck.ConnectionLost, match="info: .* not open yet"):
        _ = puck.info


@needs_sim
def test_commands_against_the_virtual_puck(tmp_path):
    rec = tmp_path / "s.opr"

    async def run():
        async with openpuck.connect_async(GRIP10) as puck:
            assert puck.connected and puck.url.startswith("sim:")
            assert puck.info.board == "sim"
            info = await puck.get_info()
            assert info.serial == puck.info.serial and 200 in info.rates_hz
            assert 0 < await puck.ping() < 1.0 and puck.clock.synced
            assert await puck.set_config("rate_hz", 100) == 100
            assert await puck.get_config("rate_hz") == 100
            assert await puck.set_config("rate_hz", 200) == 200
            await puck.led(0, 255, 0, duration=0.1)
            await puck.buzzer(2000, 0.01)
            await puck.calibrate("rest")
            st = await puck.get_status()
            assert st is puck.status and st.streaming is False
            recorder = await puck.record(str(rec))
            with pytest.raises(openpuck.OpenPuckError, match="start: rate_hz must be one of 25, 50, 100, 200 Hz"):
                await puck.start(rate_hz=123)   # refused before anything is sent
            assert not puck.streaming
            await puck.start(exercise="grip_squeeze", target=20.0)
            assert puck.streaming
            counts = []
            async for ev in puck.events(timeout=10):
                if ev.kind == "rep":
                    counts.append(ev.count)
                    if ev.count == 10:
                        break
            await puck.stop()
            await puck.stop_recording()
            assert recorder.bytes_written > 0
            assert not puck.streaming
            return counts, puck.counters
    counts, counters = asyncio.run(run())
    assert counts == list(range(1, 11))
    assert counters["crc_errors"] == counters["lost_frames"] == 0
    assert sum(len(c.data) for c in Recording(rec).chunks()) > 0


@needs_sim
def test_samples_come_as_an_async_iterator():
    async def run():
        async with openpuck.connect_async(GRIP10) as puck:
            await puck.start(exercise="grip_squeeze", target=20.0)
            n = 0
            async for block in puck.samples(timeout=10):
                n += len(block)
                if n >= 1000:
                    return n
    assert asyncio.run(run()) >= 1000


def test_reboot_and_a_refusal_through_the_fake_puck():
    fake = FakePuck("aio-reboot")
    fake.nack["calibrate"] = "bad_state"

    async def run():
        async with openpuck.connect_async(fake.url) as puck:
            await puck.start()
            with pytest.raises(openpuck.CommandError, match="calibrate: refused by the puck: bad_state"):
                await puck.calibrate("target_rep")
            await puck.reboot("bootloader")
            return puck.streaming
    try:
        assert asyncio.run(run()) is False
    finally:
        fake.close()
    assert [m["mode"] for m in fake.received if m.type == "reboot"] == [1]

"""One device API: :class:`Puck` and :class:`AsyncPuck` are two faces of one
command layer (openpuck.device.commands). They have the same commands, taking
the same arguments; on the virtual puck they give the same answers, refuse the
same input with the same words, and give the same events for the same
scenario, ended the same way by ``events(timeout=...)``."""
from __future__ import annotations

import asyncio
import inspect

import pytest

import openpuck
from openpuck.device.aio import AsyncPuck
from openpuck.device.commands import COMMANDS
from openpuck.device.puck import Puck
from tests.test_sdk_fakepuck import FakePuck
from tests.test_sdk_sim import _why as _no_sim

GRIP10 = "sim:?scenario=grip10&speed=max"
#: what each face has besides the commands: opening, closing and consuming
NOT_COMMANDS = {"open", "close", "on", "off", "events", "samples", "wait_closed"}

needs_sim = pytest.mark.skipif(_no_sim is not None, reason=f"no virtual puck: {_no_sim}")


def _public_methods(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")
            and inspect.isfunction(inspect.getattr_static(cls, name))}


@pytest.mark.parametrize("face", [Puck, AsyncPuck])
def test_each_face_has_exactly_the_commands_of_the_command_layer(face):
    assert _public_methods(face) - NOT_COMMANDS == set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_async_command_is_the_pucks_command_not_a_copy(name):
    ours, theirs = getattr(AsyncPuck, name), getattr(Puck, name)
    assert ours.__wrapped__ is theirs
    assert inspect.signature(ours) == inspect.signature(theirs)
    assert inspect.getdoc(ours) == inspect.getdoc(theirs)


@pytest.mark.parametrize("name", ["events", "samples"])
def test_the_events_and_samples_take_the_same_arguments_on_both_faces(name):
    ours, theirs = inspect.signature(getattr(AsyncPuck, name)), inspect.signature(getattr(Puck, name))
    assert ours.parameters == theirs.parameters


def _refusals(call) -> list[str]:
    """What each of a few bad inputs raises, refused before anything is sent."""
    said = []
    for name, args, kwargs in [("start", (), {"rate_hz": 123}), ("start", ("juggling",), {}),
                               ("calibrate", ("nap",), {}), ("get_config", ("colour",), {}),
                               ("reboot", ("sideways",), {})]:
        with pytest.raises(openpuck.OpenPuckError) as e:
            call(name, *args, **kwargs)
        said.append(str(e.value))
    return said


def _news(events: list) -> list[tuple]:
    """What the puck measured in a set's reps and grips (their times are host
    times, mapped by the clock sync, so they are left out)."""
    return [(e.kind, e.count, round(e.amplitude, 3), e.hold_s) if e.kind == "rep"
            else (e.kind, round(e.peak_force, 3), e.hold_s) for e in events if e.kind in ("rep", "grip")]


@needs_sim
def test_the_same_commands_answer_the_same_on_both_faces():
    def script(call, info):
        return {"board": info.board, "firmware": info.firmware, "rates": info.rates_hz,
                "set": call("set_config", "rate_hz", 100), "get": call("get_config", "rate_hz"),
                "back": call("set_config", "rate_hz", 200),
                "led": call("led", 0, 255, 0, duration=0.1), "buzzer": call("buzzer", 2000, 0.01),
                "calibrate": call("calibrate", "rest"),
                "status": call("get_status").streaming, "refusals": _refusals(call)}

    with openpuck.connect(GRIP10) as puck:
        blocking = script(lambda name, *a, **kw: getattr(puck, name)(*a, **kw), puck.info)

    async def run():
        async with openpuck.connect_async(GRIP10) as apuck:
            loop = asyncio.get_running_loop()

            def call(name, *a, **kw):
                # the script is synchronous: run each coroutine to its end on this loop's
                # worker, as the blocking face would
                return asyncio.run_coroutine_threadsafe(getattr(apuck, name)(*a, **kw), loop).result()
            return await asyncio.to_thread(script, call, apuck.info)
    assert asyncio.run(run()) == blocking


@needs_sim
def test_the_same_scenario_gives_the_same_events_and_a_timeout_ends_both_faces():
    # after its scenario the virtual puck streams rest and a status each device-second,
    # at full speed: events(timeout=) ends once only those keep coming, on both faces
    with openpuck.connect(GRIP10) as puck:
        puck.start(exercise="grip_squeeze", target=20.0)
        blocking = list(puck.events(timeout=2.0))

    async def run():
        async with openpuck.connect_async(GRIP10) as puck:
            await puck.start(exercise="grip_squeeze", target=20.0)
            return [ev async for ev in puck.events(timeout=2.0)]

    async def bounded():
        # a guard against a hang, far above the run's length: it is the failure, not a timing
        try:
            return await asyncio.wait_for(run(), 300)
        except asyncio.TimeoutError:
            pytest.fail("AsyncPuck.events(timeout=2.0) never ended while status events kept coming")
    awaited = asyncio.run(bounded())
    for evs in (blocking, awaited):
        kinds = [e.kind for e in evs]
        assert kinds.count("rep") == 10 and "status" in kinds
    assert _news(awaited) == _news(blocking)


def test_events_with_a_duration_end_on_both_faces_on_a_quiet_link():
    fake = FakePuck("one-api-duration")

    async def run():
        async with openpuck.connect_async(fake.url) as puck:
            return [ev async for ev in puck.events(duration=0.3)]
    try:
        with openpuck.connect(fake.url) as puck:
            assert list(puck.events(duration=0.3)) == []
        assert asyncio.run(run()) == []
    finally:
        fake.close()


@pytest.mark.parametrize("bad", [{"timeout": -1}, {"duration": "soon"}])
def test_events_refuse_the_same_bad_window_on_both_faces(bad):
    fake = FakePuck(f"one-api-bad-{next(iter(bad))}")

    async def run():
        async with openpuck.connect_async(fake.url) as puck:
            async for _ in puck.events(**bad):
                pass
    try:
        with openpuck.connect(fake.url) as puck:
            with pytest.raises(openpuck.OpenPuckError) as blocking:
                next(iter(puck.events(**bad)))
        with pytest.raises(openpuck.OpenPuckError) as awaited:
            asyncio.run(run())
        assert str(awaited.value) == str(blocking.value)
    finally:
        fake.close()


def test_a_link_lost_for_good_ends_the_events_with_the_same_error_on_both_faces():
    def blocking(fake: FakePuck) -> list:
        with openpuck.connect(fake.url, reconnect=False) as puck:
            puck.start(exercise="grip_squeeze", target=20.0)
            seen = []
            for ev in puck.events():
                seen.append(ev)
                if ev.kind == "rep":
                    fake.close()
            return seen

    async def awaited(fake: FakePuck) -> list:
        async with openpuck.connect_async(fake.url, reconnect=False) as puck:
            await puck.start(exercise="grip_squeeze", target=20.0)
            seen = []
            async for ev in puck.events():
                seen.append(ev)
                if ev.kind == "rep":
                    fake.close()
            return seen

    said = []
    for face, run in [("blocking", blocking), ("async", lambda f: asyncio.run(awaited(f)))]:
        fake = FakePuck(f"one-api-lost-{face}")
        try:
            with pytest.raises(openpuck.ConnectionLost) as e:
                run(fake)
        finally:
            fake.close()
        said.append(str(e.value).replace(fake.url, "URL"))
    assert said[0] == said[1] and "link lost" in said[0]


@pytest.fixture(scope="module")
def grip10_recording(tmp_path_factory):
    if _no_sim is not None:
        pytest.skip(f"no virtual puck: {_no_sim}")
    path = tmp_path_factory.mktemp("one-api") / "grip10.opr"
    with openpuck.connect(GRIP10, record=str(path)) as puck:
        puck.start(exercise="grip_squeeze", target=20.0)
        assert sum(ev.kind == "rep" for ev in puck.events(timeout=2.0)) == 10
    return path


def test_a_consumer_that_reads_late_gets_the_newest_events_and_the_same_drops_on_both_faces(
        grip10_recording):
    url = f"replay:{grip10_recording}?speed=max"
    with openpuck.connect(url, max_queue=3) as puck:
        assert puck.wait_closed(timeout=120), "the replay ended"
        blocking = (list(puck.events()), puck.counters)

    async def run():
        async with openpuck.connect_async(url, max_queue=3) as puck:
            assert await asyncio.to_thread(puck.puck.wait_closed, 120), "the replay ended"
            return [ev async for ev in puck.events()], puck.counters
    awaited = asyncio.run(run())
    for evs, counters in (blocking, awaited):
        assert len(evs) == 3 and counters["events_dropped"] > 0
    assert [type(e) for e in awaited[0]] == [type(e) for e in blocking[0]]
    for name in ("events_dropped", "sample_blocks_dropped"):
        assert awaited[1][name] == blocking[1][name]

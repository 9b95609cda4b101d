"""The target the puck counts against reaches the host: each stream starts
with a target event, an auto target is told once the puck has learned it
(after the reps that taught it), ``Puck.target`` and ``AsyncPuck.target``
follow it, and ``get_config("target")`` answers the target in use, not 0."""
from __future__ import annotations

import asyncio

import pytest

import openpuck
from openpuck.device.events import Rep, Status, Target
from openpuck.device.session_decoder import SessionDecoder
from openpuck.protocol import encode

GRIP10 = "sim:?scenario=grip10&speed=max"
WRIST8 = "sim:?scenario=wrist8&speed=max"


@pytest.fixture(scope="module")
def _sim(need_micropython) -> None:
    """The virtual puck runs the real firmware."""


def _until_learned(events) -> tuple[list, Target]:
    """The events up to the first target event with a value."""
    seen = []
    for ev in events:
        seen.append(ev)
        if isinstance(ev, Target) and ev.value is not None:
            return seen, ev
    pytest.fail(f"no learned target among {[e.kind for e in seen]}")


@pytest.mark.usefixtures("_sim")
def test_an_auto_target_appears_on_the_host_once_learned_and_get_config_answers_it():
    with openpuck.connect(WRIST8) as puck:
        puck.start(exercise="wrist_flexion", target="auto")
        seen, learned = _until_learned(puck.events(timeout=30))
        first = next(e for e in seen if isinstance(e, Target))
        assert (first.value, first.source, first.unit) == (None, "learned", "deg"), "the stream starts not knowing it"
        reps = [e for e in seen if isinstance(e, Rep)]
        assert reps, "learned from reps: they come first"
        assert learned.t >= reps[-1].t_end - 1e-6 and learned.source == "learned"
        assert 15 < learned.value < 25, "half of the 40 degree wrist bends"
        assert puck.target == pytest.approx(learned.value)
        assert puck.get_config("target") == round(learned.value * 1000)
        st = puck.get_status()
        assert isinstance(st, Status) and st.target == pytest.approx(learned.value)


@pytest.mark.usefixtures("_sim")
def test_a_target_the_host_sets_is_told_back_as_set():
    with openpuck.connect(GRIP10) as puck:
        puck.start(exercise="grip_squeeze", target=18.5)
        first = next(e for e in puck.events(timeout=30) if isinstance(e, Target))
        assert (first.value, first.source, first.unit) == (pytest.approx(18.5), "set", "N")
        assert puck.target == pytest.approx(18.5)
        assert puck.get_config("target") == 18500


@pytest.mark.usefixtures("_sim")
def test_the_async_face_follows_the_target_too():
    async def run() -> tuple[float | None, float | None, int]:
        async with openpuck.connect_async(GRIP10) as puck:
            before = puck.target
            await puck.start(exercise="grip_squeeze", target="auto")
            async for ev in puck.events(timeout=30):
                if isinstance(ev, Target) and ev.value is not None:
                    return before, puck.target, await puck.get_config("target")
        pytest.fail("no learned target")
    before, learned, answered = asyncio.run(asyncio.wait_for(run(), 300))
    assert before is None and learned is not None and answered == round(learned * 1000)


STATUS = dict(battery_mv=0, battery_pct=0, dropped_samples=0, uptime_ms=1000, streaming=1, exercise=1,
              reps=0, partial_reps=0, rx_errors=0, reset_cause=0, cpu_load=10, link_dropped_samples=0,
              link_dropped_frames=0)


@pytest.mark.usefixtures("_sim")
def test_a_recording_of_an_auto_set_keeps_the_target_the_puck_told(tmp_path):
    from openpuck.offline.session_load import load_session
    path = tmp_path / "set.opr"
    with openpuck.connect(WRIST8, record=str(path)) as puck:
        puck.start(exercise="wrist_flexion", target="auto")
        _, learned = _until_learned(puck.events(timeout=30))
        puck.stop()
        last = puck.target
    s = load_session(path)
    told = [e.value for e in s.events if isinstance(e, Target)]
    assert learned.value in told and told[-1] == last
    assert s.target == pytest.approx(last), "the set's target: the one the puck counted against at its end"
    assert s.summary()["target"] == pytest.approx(last)


def test_the_session_knows_the_target_from_the_latest_target_message_or_status():
    s = SessionDecoder(hold_s=0)
    assert s.target is None
    s.feed(encode("target", 0, exercise=1, target=21_000, source=1, t_us=5))
    assert s.target == pytest.approx(21.0) and s.target_event is not None
    # a status says it too: a host that lost the target message learns it there
    s.feed(encode("status", 1, **STATUS, target=23_500))
    assert s.target == pytest.approx(23.5)
    s.feed(encode("target", 2, exercise=1, target=0, source=2, t_us=6))
    assert s.target is None, "a calibration rep awaited: not known"


def test_a_puck_that_restarts_has_no_target_until_it_tells_one_again():
    s = SessionDecoder(hold_s=0)
    s.feed(encode("target", 500, exercise=1, target=21_000, source=1, t_us=5))
    assert s.target == pytest.approx(21.0)
    s.feed(encode("log", 0, level=1, text="boot"))   # its seq restarted: it rebooted
    assert s.counters["puck_resets"] == 1
    assert s.target is None and s.target_event is None

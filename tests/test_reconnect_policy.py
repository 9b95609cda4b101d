"""The reconnect policy on its own: backoff between attempts, the deadline,
and what is sent again once the link or a restarted puck is back."""
from __future__ import annotations

import pytest

from openpuck import protocol
from openpuck.device.events import Status
from openpuck.device.reconnect import ReconnectPolicy, StreamSettings, samples_expected, still_streaming, to_resend

GRIP = StreamSettings(exercise=1, target=25_000, on_pct=0, off_pct=0, rate_hz=200, channels=7)


def waits(outage, now: float = 0.0, n: int = 10) -> list[float | None]:
    return [outage.wait_after_failure(now) for _ in range(n)]


def test_waits_start_at_a_tenth_of_a_second_and_double_up_to_five():
    outage = ReconnectPolicy(timeout=None).outage(lost_at=0.0)
    assert waits(outage) == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0, 5.0]


def test_it_gives_up_when_the_next_wait_would_end_past_the_deadline():
    outage = ReconnectPolicy(timeout=1.0).outage(lost_at=100.0)
    now, got = 100.0, []
    while (w := outage.wait_after_failure(now)) is not None:
        got.append(w)
        now += w
    assert got == [0.1, 0.2, 0.4]       # 100.7 + 0.8 is past 101.0
    assert now == pytest.approx(100.7)


def test_a_timeout_of_none_never_gives_up():
    outage = ReconnectPolicy(timeout=None).outage(lost_at=0.0)
    got = [outage.wait_after_failure(hours * 3600.0) for hours in range(1000)]   # 41 days
    assert None not in got and got[-1] == 5.0


def test_a_timeout_of_zero_gives_up_after_the_first_attempt():
    assert ReconnectPolicy(timeout=0.0).outage(lost_at=5.0).wait_after_failure(5.0) is None


def test_each_outage_starts_again_from_the_first_wait():
    policy = ReconnectPolicy(timeout=60.0)
    waits(policy.outage(0.0), n=8)
    assert policy.outage(10.0).wait_after_failure(10.0) == 0.1


def test_the_waits_must_grow_from_a_positive_start():
    with pytest.raises(ValueError, match="first_wait"):
        ReconnectPolicy(first_wait=0.0)
    with pytest.raises(ValueError, match="max_wait"):
        ReconnectPolicy(first_wait=2.0, max_wait=1.0)


def test_a_session_is_started_by_set_exercise_then_start():
    assert GRIP.commands() == [
        ("set_exercise", {"exercise": 1, "target": 25_000, "on_pct": 0, "off_pct": 0}),
        ("start", {"rate_hz": 200, "channels": 7}),
    ]
    for name, fields in GRIP.commands():   # what the wire takes, field for field
        assert protocol.decode(protocol.encode(name, 1, **fields)).fields == fields


def test_the_streaming_session_is_sent_again_when_the_link_is_back():
    assert to_resend(streaming=True, settings=GRIP, readonly=False) is GRIP


@pytest.mark.parametrize("streaming, settings, readonly", [
    (False, GRIP, False),    # stopped: nothing to restore
    (True, None, False),     # never started through this Puck
    (True, GRIP, True),      # a replay cannot be sent to
])
def test_nothing_is_sent_again_otherwise(streaming, settings, readonly):
    assert to_resend(streaming, settings, readonly) is None


def test_samples_are_expected_after_an_outage_when_streaming_or_replaying():
    assert samples_expected(streaming=True, readonly=False)
    assert samples_expected(streaming=False, readonly=True)
    assert not samples_expected(streaming=False, readonly=False)


def _status(streaming: bool, exercise: str) -> Status:
    return Status(t=0.0, battery_v=0.0, battery_pct=0, dropped_samples=0, uptime_s=1.0,
                  streaming=streaming, exercise=exercise, reps=0, partial_reps=0, rx_errors=0,
                  reset_cause="soft")


def test_a_puck_that_still_streams_the_exercise_after_a_suspected_reset_is_left_be():
    assert still_streaming(_status(True, "grip_squeeze"), GRIP)
    assert not still_streaming(_status(False, "grip_squeeze"), GRIP)
    assert not still_streaming(_status(True, "foot_press"), GRIP)
    assert not still_streaming(None, GRIP)

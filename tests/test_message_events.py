"""The mapping from one decoded message to one event: physical units through
the message table's scales, device times through the given unwrap, and no
event for the messages that are not events."""
from __future__ import annotations

import pytest

from openpuck import protocol
from openpuck.device.events import Config, Grip, Log, PartialRep, Rep, Status, Target
from openpuck.device.message_events import S_PER_MS, V_PER_MV, event_from_message
from openpuck.device.session_decoder import SessionDecoder


def _msg(name: str, **fields) -> protocol.Message:
    return protocol.decode(protocol.encode(name, 1, **fields))


def _seconds(us: int) -> float:
    return us * 1e-6


def _field(message: str, name: str) -> dict:
    return next(f for f in protocol.SPECS[message].fields if f["name"] == name)


REP = dict(exercise=1, count=3, t_start_us=1_000_000, t_peak_us=1_200_000, t_end_us=1_500_000,
           amplitude=21_500, hold_ms=310)


def test_a_rep_is_in_physical_units_with_its_times_unwrapped():
    ev = event_from_message(_msg("rep", **REP), _seconds, latest_t=None)
    assert ev == Rep(t=1.5, exercise="grip_squeeze", count=3, t_start=1.0, t_peak=1.2, t_end=1.5,
                     amplitude=pytest.approx(21.5), unit="N", hold_s=pytest.approx(0.31))
    assert not ev.uncertain and ev.host_time is None


def test_times_go_through_the_unwrap_the_caller_gives():
    seen = []

    def unwrap(us: int) -> float:
        seen.append(us)
        return 1000.0 + us * 1e-6

    ev = event_from_message(_msg("rep", **REP), unwrap, latest_t=None)
    assert sorted(seen) == [1_000_000, 1_200_000, 1_500_000]
    assert (ev.t_start, ev.t_peak, ev.t_end, ev.t) == (1001.0, 1001.2, 1001.5, 1001.5)


def test_an_angle_exercise_reports_degrees():
    ev = event_from_message(_msg("partial_rep", exercise=3, count=2, t_start_us=0,
                                 t_peak_us=100_000, t_end_us=400_000, amplitude=-12_250),
                            _seconds, latest_t=None)
    assert isinstance(ev, PartialRep)
    assert (ev.exercise, ev.unit, ev.amplitude) == ("wrist_flexion", "deg", pytest.approx(-12.25))


def test_a_grip_scales_its_peak_force_by_the_table():
    ev = event_from_message(_msg("grip", t_start_us=2_000_000, t_end_us=2_400_000,
                                 peak_force=2_345, hold_ms=150), _seconds, latest_t=None)
    assert ev == Grip(t=2.4, t_start=2.0, t_end=2.4, peak_force=pytest.approx(23.45),
                      hold_s=pytest.approx(0.15))


def test_a_scale_changed_in_the_message_table_changes_the_amplitude(monkeypatch):
    before = event_from_message(_msg("rep", **REP), _seconds, latest_t=None).amplitude
    monkeypatch.setitem(_field("rep", "amplitude"), "scale", 0.01)
    after = event_from_message(_msg("rep", **REP), _seconds, latest_t=None).amplitude
    assert (before, after) == (pytest.approx(21.5), pytest.approx(215.0))


def test_a_scale_changed_in_the_message_table_changes_the_peak_force(monkeypatch):
    monkeypatch.setitem(_field("grip", "peak_force"), "scale", 0.1)
    ev = event_from_message(_msg("grip", t_start_us=0, t_end_us=1, peak_force=100, hold_ms=0),
                            _seconds, latest_t=None)
    assert ev.peak_force == pytest.approx(10.0)


def test_ms_and_mv_are_unit_conversions_not_table_scales():
    assert S_PER_MS == V_PER_MV == 1e-3
    for message, name in (("rep", "hold_ms"), ("status", "uptime_ms"), ("status", "battery_mv")):
        assert "scale" not in _field(message, name)


STATUS = dict(battery_mv=3_950, battery_pct=80, dropped_samples=4, uptime_ms=61_500, streaming=1,
              exercise=2, reps=7, partial_reps=1, rx_errors=0, reset_cause=2,
              cpu_load=125, link_dropped_samples=60, link_dropped_frames=1, target=30_500)


def test_a_status_takes_the_time_of_the_latest_sample():
    ev = event_from_message(_msg("status", **STATUS), _seconds, latest_t=12.5)
    assert ev == Status(t=12.5, battery_v=pytest.approx(3.95), battery_pct=80, dropped_samples=4,
                        uptime_s=pytest.approx(61.5), streaming=True, exercise="foot_press",
                        reps=7, partial_reps=1, rx_errors=0, reset_cause="watchdog",
                        cpu_load=pytest.approx(0.125), link_dropped_samples=60, link_dropped_frames=1,
                        target=pytest.approx(30.5))


def test_a_status_without_a_target_says_none_an_auto_target_not_learned():
    assert event_from_message(_msg("status", **{**STATUS, "target": 0}), _seconds, latest_t=1.0).target is None


TARGET = dict(exercise=6, target=38_250, source=1, t_us=2_500_000)


def test_a_target_message_is_a_target_event_in_the_exercises_unit_at_its_own_time():
    ev = event_from_message(_msg("target", **TARGET), _seconds, latest_t=9.0)
    assert ev == Target(t=2.5, exercise="elbow_flexion", value=pytest.approx(38.25), unit="deg", source="learned")


@pytest.mark.parametrize(("source", "name"), [(0, "set"), (1, "learned"), (2, "calibrated"), (7, "7")])
def test_a_targets_source_is_named_as_messages_toml_names_it(source: int, name: str):
    assert event_from_message(_msg("target", **{**TARGET, "source": source}), _seconds, None).source == name


def test_a_target_not_known_yet_is_none():
    assert event_from_message(_msg("target", **{**TARGET, "target": 0}), _seconds, None).value is None


def test_a_status_before_any_sample_takes_the_uptime_as_its_time():
    ev = event_from_message(_msg("status", **STATUS), _seconds, latest_t=None)
    assert ev.t == pytest.approx(61.5)


def test_unknown_enum_values_are_named_by_their_number():
    ev = event_from_message(_msg("status", **{**STATUS, "reset_cause": 9, "exercise": 77}),
                            _seconds, latest_t=None)
    assert (ev.reset_cause, ev.exercise) == ("9", "exercise_77")
    assert event_from_message(_msg("log", level=9, text="x"), _seconds, None).level == "9"
    assert event_from_message(_msg("config", key=99, value=1), _seconds, None).key == "99"


def test_a_log_and_a_config_take_the_latest_sample_time_or_zero():
    log = event_from_message(_msg("log", level=2, text="battery low"), _seconds, latest_t=3.0)
    assert log == Log(t=3.0, level="warning", text="battery low")
    cfg = event_from_message(_msg("config", key=1, value=100), _seconds, latest_t=None)
    assert cfg == Config(t=0.0, key="rate_hz", value=100)


@pytest.mark.parametrize("name, fields", [
    ("ack", dict(cmd_type=64, cmd_seq=3)),
    ("nack", dict(cmd_type=64, cmd_seq=3, error=4, detail=0)),
    ("pong", dict(host_time_us=1, device_time_us=2)),
    ("stop", {}),
])
def test_messages_that_are_no_events_map_to_none(name, fields):
    assert event_from_message(_msg(name, **fields), _seconds, latest_t=1.0) is None


def test_live_decoding_follows_the_table_scale(monkeypatch):
    monkeypatch.setitem(_field("rep", "amplitude"), "scale", 0.01)
    items, _ = SessionDecoder(hold_s=0.0).feed(protocol.encode("rep", 1, **REP), now=0.0)
    assert [ev.amplitude for ev in items] == [pytest.approx(215.0)]

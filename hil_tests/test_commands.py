"""Every command is acked; malformed and out-of-range ones are nacked while streaming goes on.

The SDK raises CommandError on a nack and CommandTimeout when nothing comes,
so "acked" is simply "did not raise". Malformed frames the SDK would never
send are written raw through its transport, and the puck's answers read
from the SDK's recording of the link.
"""
from __future__ import annotations

import re
import struct
import time

import pytest

import openpuck
from openpuck import CommandError, protocol
from openpuck.offline.recording import Recording

from . import rig
from .rig import Probe

NACK = protocol.ENUMS["nack_error"]
INT_KEYS = [k for k in protocol.ENUMS["config_key"] if k != "device_name"]


def _calibrate(p, what):
    p.calibrate(what)


def _after(p, act):
    act(p)
    return p.get_status()


# name -> (what to do on an idle puck: acked, it raises nothing; what must then hold)
COMMANDS = {
    "get_info": (lambda p: p.get_info(), lambda p, info: info.protocol_version == protocol.VERSION
                 and info.board and info.serial),
    "get_status": (lambda p: p.get_status(), lambda p, st: st.uptime_s > 0 and not st.streaming),
    "ping": (lambda p: p.ping(), lambda p, rtt: 0 < rtt < 5 and p.clock.synced),
    "get_config": (lambda p: {k: p.get_config(k) for k in INT_KEYS},
                   lambda p, cfg: cfg["rate_hz"] in (25, 50, 100, 200) and cfg["feedback"] in range(4)),
    "set_config": (lambda p: p.set_config("feedback", p.get_config("feedback")),
                   lambda p, v: v == p.get_config("feedback")),
    "set_exercise+start": (lambda p: _after(p, lambda q: q.start(exercise="wrist_flexion", target=30.0,
                                                                 rate_hz=100)),
                           lambda p, st: st.streaming and st.exercise == "wrist_flexion"),
    "stop": (lambda p: _after(p, lambda q: (q.start(), q.stop())), lambda p, st: not st.streaming),
    "calibrate_rest": (lambda p: _after(p, lambda q: q.calibrate("rest")), lambda p, st: not st.streaming),
    "calibrate_force_zero": (lambda p: _after(p, lambda q: q.calibrate("force_zero")),
                             lambda p, st: not st.streaming),
    "calibrate_target_rep": (lambda p: _after(p, lambda q: q.calibrate("target_rep")),
                             lambda p, st: st.reset_cause in protocol.ENUMS["reset_cause"]),
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_is_acked_and_does_what_it_says(puck, name):
    act, holds = COMMANDS[name]
    result = act(puck)
    assert holds(puck, result), f"{name}: acked, but afterwards {result!r}"


@pytest.mark.parametrize("part", ["led", "buzzer"])
def test_feedback_commands_acked_or_refused_as_unsupported(puck, part):
    """A board without the part says so (nack unsupported); with it, it obeys."""
    has = part in puck.info.capabilities
    act = (lambda: puck.led(0, 40, 0, duration=0.05)) if part == "led" else (
        lambda: puck.buzzer(2000, duration=0.01))
    if has:
        act()
    else:
        with pytest.raises(CommandError) as e:
            act()
        assert e.value.code == NACK["unsupported"]


def test_get_config_returns_what_set_config_set(puck):
    old = puck.get_config("feedback")
    try:
        for v in (0, 1, 3):
            assert puck.set_config("feedback", v) == v
            assert puck.get_config("feedback") == v
    finally:
        puck.set_config("feedback", old)


# -------------------------------------------------------- refused by the SDK's API
# each: (what to do while streaming, nack error, field index (1-based, 0 = none))
REFUSED = {
    "set_exercise_off_above_on": (lambda p: p.start(on_pct=40, off_pct=50), "out_of_range", 4),
    "get_config_device_name": (lambda p: p.get_config("device_name"), "unsupported", 1),
    "set_config_rate_while_streaming": (lambda p: p.set_config("rate_hz", 100), "bad_state", 1),
}


def test_refused_commands_are_nacked_while_streaming_goes_on(puck, hil_figures):
    probe = Probe().attach(puck)
    puck.start(exercise="grip_squeeze", rate_hz=200)
    assert probe.wait_more_samples(50, timeout=10), "no samples after start"
    wrong = []
    for name, (act, error, detail) in REFUSED.items():
        try:
            act(puck)
        except CommandError as e:
            if (e.error, e.detail) != (error, detail):
                wrong.append(f"{name}: nack {e.error} field {e.detail}, expected {error} "
                             f"field {detail}")
        else:
            wrong.append(f"{name}: acked, expected nack {error}")
        # a refused start left the previous session running: restart it as it was
        if name.startswith(("start", "set_exercise")):
            puck.start(exercise="grip_squeeze", rate_hz=200)
    assert not wrong, "\n".join(wrong)
    assert probe.wait_more_samples(200, timeout=10), "streaming stopped after the nacks"
    c = puck.counters
    assert c["lost_frames"] == 0 and c["crc_errors"] == 0
    hil_figures("nacks_checked", len(REFUSED), note="refused commands while streaming")


# -------------------------------------------------------- outside the message table's checks
# what the table (protocol/messages.toml) says a puck refuses: the SDK refuses
# it before sending; sent anyway (unchecked, below), the puck nacks it
OUT_OF_TABLE = {
    "start_rate_123": (lambda p: p.start(rate_hz=123), "start: rate_hz must be one of 25, 50, 100, 200 Hz, got 123"),
    "start_no_channels": (lambda p: p.start(channels=()), "start.channels: 0"),
    "set_exercise_on_150pct": (lambda p: p.start(on_pct=150), "set_exercise.on_pct: 150"),
    "buzzer_50hz": (lambda p: p.buzzer(50, 0.1), "buzzer.freq_hz: 50"),
    "buzzer_0ms": (lambda p: p.buzzer(2000, 0.0), "buzzer.duration_ms: 0"),
    "set_config_rate_123": (lambda p: p.set_config("rate_hz", 123),
                            "set_config rate_hz must be one of 25, 50, 100, 200 Hz, got 123"),
}


def test_the_sdk_refuses_what_the_message_table_forbids_before_sending(puck):
    rx0 = puck.get_status().rx_errors
    for _name, (act, says) in OUT_OF_TABLE.items():
        with pytest.raises(openpuck.OpenPuckError, match=re.escape(says)):
            act(puck)
    st = puck.get_status()
    assert st.rx_errors == rx0 and not st.streaming, "nothing reached the puck"


def test_calibrating_rest_while_streaming_is_refused_with_what_to_do_and_the_puck_agrees(puck, tmp_path):
    """The SDK says to stop first; sent anyway, the puck refuses it too (bad_state)."""
    puck.start(exercise="grip_squeeze", rate_hz=200)
    with pytest.raises(openpuck.OpenPuckError, match=r"calibrate rest: the puck is streaming; stop it first"):
        puck.calibrate("rest")
    wire = tmp_path / "wire.opr"
    rec = puck.record(str(wire), flush_interval=0.1)
    frame = protocol.encode("calibrate", 0xF0AA, what=protocol.ENUMS["calibrate_what"]["rest"])
    puck.transport.write(frame)
    ans = _answers(rec, wire, {0xF0AA}, timeout=5).get(0xF0AA)
    puck.stop_recording()
    assert ans is not None and ans.type == "nack" and ans["error"] == NACK["bad_state"]


# -------------------------------------------------------- malformed frames, raw
def raw_frame(type_id: int, payload: bytes, seq: int, version: int = 1,
              crc_ok: bool = True) -> bytes:
    body = struct.pack("<BBH", version, type_id, seq) + payload
    crc = protocol.crc32(body) ^ (0 if crc_ok else 0xDEADBEEF)
    return protocol.cobs_encode(body + struct.pack("<I", crc)) + b"\x00"


T = {n: s.id for n, s in protocol.SPECS.items()}

# name -> (frame, nack error, detail); seqs from 0xF000 never clash with the SDK's
MALFORMED_NACKED = {
    "unknown_type_0x7f": (raw_frame(0x7F, b"", 0xF001), "unknown_type", 0),
    "up_type_sent_down": (raw_frame(T["ack"], b"\x40\x01\x00", 0xF002), "unknown_type", 0),
    "start_too_short": (raw_frame(T["start"], b"\xc8", 0xF003), "bad_length", 0),
    "set_exercise_empty": (raw_frame(T["set_exercise"], b"", 0xF004), "bad_length", 0),
    "set_exercise_99": (raw_frame(T["set_exercise"], struct.pack("<BIBB", 99, 0, 0, 0), 0xF005),
                        "out_of_range", 1),
    "calibrate_what_9": (raw_frame(T["calibrate"], b"\x09", 0xF006), "out_of_range", 1),
    "reboot_mode_7": (raw_frame(T["reboot"], b"\x07", 0xF007), "out_of_range", 1),
    "get_config_key_99": (raw_frame(T["get_config"], b"\x63", 0xF008), "out_of_range", 1),
    # what the SDK would refuse (OUT_OF_TABLE), sent unchecked: the puck checks it too
    "start_rate_123": (protocol.encode("start", 0xF009, checked=False, rate_hz=123, channels=7),
                       "out_of_range", 1),
    "start_no_channels": (protocol.encode("start", 0xF00A, checked=False, rate_hz=200, channels=0),
                          "out_of_range", 2),
    "set_exercise_on_150pct": (protocol.encode("set_exercise", 0xF00B, checked=False, exercise=1, target=0,
                                               on_pct=150, off_pct=0), "out_of_range", 3),
    "buzzer_50hz": (protocol.encode("buzzer", 0xF00C, checked=False, freq_hz=50, duration_ms=100),
                    "out_of_range", 1),
    "buzzer_0ms": (protocol.encode("buzzer", 0xF00D, checked=False, freq_hz=2000, duration_ms=0),
                   "out_of_range", 2),
}

# frames the puck cannot read at all: no answer, counted in status.rx_errors
MALFORMED_SILENT = {
    "bad_crc": raw_frame(T["ping"], struct.pack("<Q", 1), 0xF101, crc_ok=False),
    "version_2": raw_frame(T["ping"], struct.pack("<Q", 1), 0xF102, version=2),
    "bad_cobs": b"\x09\x01\x02\x00",
    "too_short": protocol.cobs_encode(b"\x01\x46") + b"\x00",
}


def test_malformed_frames_are_nacked_or_counted_while_streaming_goes_on(puck, tmp_path,
                                                                       hil_figures):
    """Raw frames go out through the SDK's transport (``puck.transport.write``);
    the puck's answers, which the SDK drops (no command of its own waits for
    them), are read back from the SDK's own recording of the link
    (``puck.record``). Both work on every link, BLE included."""
    probe = Probe().attach(puck)
    puck.start(exercise="grip_squeeze", rate_hz=200)
    assert probe.wait_more_samples(50, timeout=10)
    rx0 = puck.get_status().rx_errors
    wire = tmp_path / "wire.opr"
    rec = puck.record(str(wire), flush_interval=0.1)
    want = {}
    for name, (frame, error, detail) in MALFORMED_NACKED.items():
        seq = struct.unpack_from("<H", protocol.cobs_decode(frame[:-1]), 2)[0]
        want[seq] = (name, error, detail)
        puck.transport.write(frame)
    answers = _answers(rec, wire, set(want), timeout=5)
    for frame in MALFORMED_SILENT.values():
        puck.transport.write(frame)
    wrong = []
    for seq, (name, error, detail) in want.items():
        ans = answers.get(seq)
        if ans is None:
            wrong.append(f"{name}: no answer")
        elif ans.type != "nack" or (ans["error"], ans["detail"]) != (NACK[error], detail):
            wrong.append(f"{name}: {ans.type} {ans.fields}, expected nack {error} field {detail}")
    assert not wrong, "\n".join(wrong)
    assert probe.wait_more_samples(200, timeout=10), "streaming stopped after bad frames"
    st = puck.get_status()
    puck.stop_recording()
    assert st.streaming
    assert st.rx_errors - rx0 == len(MALFORMED_SILENT), "rx_errors must count each bad frame"
    assert puck.counters["lost_frames"] == 0
    assert puck.ping() < 5
    hil_figures("malformed_frames_checked", len(MALFORMED_NACKED) + len(MALFORMED_SILENT))


def _answers(rec, path, seqs: set, timeout: float) -> dict:
    """ack/nack messages answering ``seqs``, read from the SDK's recording."""
    end = time.monotonic() + timeout
    found: dict = {}
    while True:
        rec.flush()
        for piece in Recording(path).inbound().split(b"\x00"):
            try:
                m = protocol.decode(piece)
            except protocol.ProtocolError:
                continue   # empty, or the tail of a frame cut by the recording's start
            if m.type in ("ack", "nack") and m["cmd_seq"] in seqs:
                found[m["cmd_seq"]] = m
        if len(found) == len(seqs) or time.monotonic() > end:
            return found
        time.sleep(0.1)


@pytest.mark.needs("reboot")
@pytest.mark.destructive
def test_reboot_is_acked_and_the_puck_comes_back(hil, hil_target):
    with hil.open() as s:
        puck = s.puck
        logs = "persistent_config" in puck.info.capabilities
        boot0 = puck.log_list().boot_id if logs else None
        up0 = puck.get_status().uptime_s
        puck.reboot()
        deadline_ok = _wait(lambda: puck.connected and _status_or_none(puck) is not None, 20)
        assert deadline_ok, "the puck did not come back after reboot"
        st = puck.get_status()
        assert st.reset_cause == "soft"
        if logs:
            assert puck.log_list().boot_id == boot0 + 1, "the puck booted once"
        if not hil_target.lacks("real_time"):
            # the emulated Pico's time may run faster than the wall clock while it sleeps
            assert st.uptime_s < up0 + 20


def _status_or_none(puck):
    try:
        return puck.get_status()
    except openpuck.errors.OpenPuckError:
        return None


def _wait(pred, timeout: float) -> bool:
    """pred() came true within ``timeout`` seconds of the puck's time (rig.SLOWDOWN)."""
    end = time.monotonic() + timeout * rig.SLOWDOWN
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False

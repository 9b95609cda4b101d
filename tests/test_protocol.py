"""openpuck.protocol encodes and decodes every message of messages.toml.

Hypothesis draws every field of every message within its wire type; the
frame must decode to the same values, and the C encoder must give the same
bytes. Malformed input raises ProtocolError naming the message and field.
"""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openpuck import _core, protocol
from openpuck.protocol import ProtocolError, codec

RANGES = {"u8": (0, 2**8 - 1), "i8": (-2**7, 2**7 - 1), "u16": (0, 2**16 - 1),
          "i16": (-2**15, 2**15 - 1), "u32": (0, 2**32 - 1), "i32": (-2**31, 2**31 - 1),
          "u64": (0, 2**64 - 1)}


def value_strategy(t: str, f: dict | None = None):
    """Any value of wire type t; within the field's checks (values, enum, min/max) when it has them."""
    f = f or {}
    allowed = codec.allowed_values(f)
    if allowed is not None:
        return st.sampled_from(allowed)
    if t == "f32":
        return st.floats(width=32, allow_nan=False)
    if t == "str":
        return st.text(max_size=60)
    if t == "bytes":
        if "size" in f:
            return st.binary(min_size=f["size"], max_size=f["size"])
        return st.binary(max_size=60)
    lo, hi = RANGES[t]
    return st.integers(f.get("min", lo), f.get("max", hi))


def message_strategy(name: str):
    spec = protocol.SPECS[name]
    fields = {f["name"]: value_strategy(f["type"], f) for f in spec.fields}
    if spec.repeat is not None:
        count = spec.repeat["count"]
        fields.pop(count)
        rec = st.tuples(*(value_strategy(f["type"]) for f in spec.repeat["fields"]))
        fields[spec.repeat["name"]] = st.lists(rec, max_size=35)
    return st.fixed_dictionaries(fields)


@pytest.mark.parametrize("name,fields,says", [
    ("start", dict(rate_hz=7, channels=7), "start.rate_hz: 7 is not one the puck accepts (25, 50, 100, 200)"),
    ("start", dict(rate_hz=200, channels=0), "start.channels: 0 out of range (1..7)"),
    ("set_exercise", dict(exercise=200, target=0, on_pct=0, off_pct=0), "set_exercise.exercise: 200"),
    ("set_exercise", dict(exercise=1, target=10_000_001, on_pct=0, off_pct=0), "(0..10000000)"),
    ("buzzer", dict(freq_hz=50, duration_ms=100), "buzzer.freq_hz: 50 out of range (100..8000)"),
    ("reboot", dict(mode=9), "reboot.mode: 9 is not one the puck accepts (0, 1)"),
    ("pair", dict(key=bytes(16)), "pair.key: 16 bytes, the puck accepts exactly 32"),
])
def test_commands_outside_the_tables_checks_are_refused_before_sending(name, fields, says):
    with pytest.raises(ProtocolError) as e:
        protocol.encode(name, 1, **fields)
    assert says in str(e.value)


@pytest.mark.parametrize("name", protocol.NAMES)
def test_round_trip_every_message(name):
    @settings(max_examples=60, deadline=None)
    @given(message_strategy(name), st.integers(0, 65535))
    def check(fields, seq):
        wire = protocol.encode(name, seq, **dict(fields))
        assert wire.endswith(b"\x00") and b"\x00" not in wire[:-1]
        msg = protocol.decode(wire)
        assert msg.type == name and msg.seq == seq
        spec = protocol.SPECS[name]
        for k, v in fields.items():
            assert msg.fields[k] == v, k
        if spec.repeat is not None:
            assert msg.fields[spec.repeat["count"]] == len(fields[spec.repeat["name"]])
        # the C encoder (the firmware's) gives the same bytes
        payload = protocol.encode_payload(name, **dict(fields))
        assert _core.frame_encode(spec.id, seq, payload) == wire
    check()


def test_samples_accept_an_integer_array():
    np = pytest.importorskip("numpy")
    recs = np.array([[1, -2, 3, -4, 5, -6, 65535]] * 4)
    wire = protocol.encode("samples", 9, t0_us=1, period_us=5000, samples=recs)
    assert protocol.decode(wire).fields["samples"] == [(1, -2, 3, -4, 5, -6, 65535)] * 4
    assert wire == protocol.encode("samples", 9, t0_us=1, period_us=5000,
                                   samples=[tuple(r) for r in recs.tolist()])


@pytest.mark.parametrize("call, words", [
    (lambda: protocol.encode("nope"), ["nope"]),
    (lambda: protocol.encode("ack", cmd_type=1), ["ack.cmd_seq", "missing"]),
    (lambda: protocol.encode("ack", cmd_type=256, cmd_seq=0), ["ack.cmd_type", "256", "u8"]),
    (lambda: protocol.encode("ack", cmd_type=-1, cmd_seq=0), ["ack.cmd_type"]),
    (lambda: protocol.encode("ack", cmd_type=1.5, cmd_seq=0), ["ack.cmd_type", "integer"]),
    (lambda: protocol.encode("ack", cmd_type=1, cmd_seq=0, bogus=1), ["ack", "bogus"]),
    (lambda: protocol.encode("ack", seq=70000, cmd_type=1, cmd_seq=0), ["seq"]),
    (lambda: protocol.encode("log", level=1, text="x" * 256), ["log.text", "255"]),
    (lambda: protocol.encode("log", level=1, text=5), ["log.text", "str"]),
    (lambda: protocol.encode("samples", t0_us=0, period_us=1, samples=[(1, 2, 3)]), ["samples.samples[0]", "7"]),
    (lambda: protocol.encode("samples", t0_us=0, period_us=1, samples=[(0,) * 6 + (-1,)]), ["samples.samples[0].force"]),
    (lambda: protocol.encode("samples", t0_us=0, period_us=1, n=2, samples=[(0,) * 7]), ["samples.n", "2"]),
    (lambda: protocol.encode("samples", t0_us=0, period_us=1, samples=[(0,) * 7] * 36), ["samples", "512"]),
])
def test_bad_fields_raise_a_clear_error(call, words):
    with pytest.raises(ProtocolError) as e:
        call()
    for w in words:
        assert w in str(e.value)


def _body(type_id, payload, version=1):
    import binascii
    b = struct.pack("<BBH", version, type_id, 0) + payload
    return b + struct.pack("<I", binascii.crc32(b))


@pytest.mark.parametrize("body, words", [
    (_body(0x08, b"\x01"), ["ack.cmd_seq", "too short"]),
    (_body(0x07, b"\x01\x05ab"), ["log.text", "past the payload end"]),
    (_body(0x07, b"\x01\x02\xff\xff"), ["log.text", "UTF-8"]),
    (_body(0x02, struct.pack("<IHB", 0, 1, 2) + bytes(14)), ["samples.samples", "n=2"]),
    (_body(0x7E, b""), ["unknown message type 0x7e"]),
    (_body(0x08, b"\x01\x00\x00", version=2), ["version 2"]),
    (b"\x01\x08\x00", ["shorter"]),
    (_body(0x08, b"\x01\x00\x00")[:-1] + b"\x00", ["CRC"]),
])
def test_bad_bodies_raise_a_clear_error(body, words):
    with pytest.raises(ProtocolError) as e:
        protocol.decode_body(body)
    for w in words:
        assert w in str(e.value)


def test_physical_units_use_the_table_scales():
    msg = protocol.decode(protocol.encode("grip", t_start_us=0, t_end_us=1, peak_force=3150, hold_ms=5))
    assert protocol.physical(msg)["peak_force"] == pytest.approx(31.5)
    s = protocol.decode(protocol.encode("samples", t0_us=0, period_us=1, samples=[(8192, 0, 0, 0, 0, 0, 20)]))
    phys = protocol.physical(s, {"accel_g_per_lsb": 1 / 8192, "gyro_dps_per_lsb": 1, "force_n_per_lsb": 0.05})
    assert phys["samples"][0][0] == 1.0 and phys["samples"][0][6] == pytest.approx(1.0)
    with pytest.raises(ProtocolError, match="accel_g_per_lsb"):
        protocol.physical(s)


def test_spec_documents_every_message_and_field():
    from pathlib import Path
    spec = (Path(__file__).resolve().parent.parent / "protocol/spec.md").read_text("utf-8")
    for m in protocol.MESSAGES:
        assert f"### 0x{m['id']:02X} `{m['name']}`" in spec
        for f in m["fields"] + m.get("repeat", {}).get("fields", []):
            assert f"`{f['name']}`" in spec


@pytest.mark.parametrize("frame", [b"\x05ab\x00", b"\x02a\x00b\x00"])
def test_a_frame_that_is_not_cobs_raises_a_protocol_error(frame):
    with pytest.raises(ProtocolError, match="not a valid COBS frame"):
        protocol.decode(frame)

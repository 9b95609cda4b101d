"""Only the owner commands the puck (protocol/spec.md section 9).

Pair the puck over USB, then play a stranger on the same link: unsigned,
replayed (a signed frame the SDK sent, captured from its recording and sent
again) and forged (a tag bit flipped, a field changed after signing, another
key) state-changing commands are each nacked with the right error while the
owner's stream goes on; read-only commands still work unsigned, and so does
a reader's start at the puck's own rate; the owner's signed commands work;
unpair opens the puck again.

The stranger's frames go out raw through the SDK's transport and the puck's
answers are read from the SDK's recording of the link (as in
test_commands.py). Pairing needs the USB link (``needs("usb")``); a rig that
reaches its puck over BLE only skips these tests, saying so. A puck that is
already paired is left as it was: with its owner key in this host's key
store the test pairs a key of its own and gives the puck back to that key at
the end; without it the test skips (it will not unpair someone else's puck).
"""
from __future__ import annotations

import os
import struct

import pytest

from openpuck import protocol
from openpuck.device.keys import KeyStore
from openpuck.offline.recording import OUT, Recording
from openpuck.protocol import signing

from .rig import Probe
from .test_commands import _answers

NACK = protocol.ENUMS["nack_error"]
T = {n: s.id for n, s in protocol.SPECS.items()}

pytestmark = [pytest.mark.needs("usb")]


@pytest.fixture
def owner(hil, tmp_path, monkeypatch):
    """A connected puck paired with a fresh key in a key store of this test;
    afterwards the puck is open again, or back with its former owner key."""
    real = KeyStore()                              # the host's own store, before the test's
    monkeypatch.setenv("OPENPUCK_CONFIG_DIR", str(tmp_path / "keys"))
    with hil.open() as session:
        puck = session.puck
        if "signing" not in puck.info.capabilities:
            pytest.fail(f"firmware {puck.info.firmware} has no 'signing' capability: it cannot "
                        "check signatures (update the puck's firmware)")
        former = None
        if puck.owned:
            former = real.get(puck.serial)
            if former is None:
                pytest.skip(f"puck {puck.serial} is paired with a key this host does not hold "
                            f"({real.folder / 'keys'}); unpair it over USB (openpuck unpair "
                            f"{puck.url}) to let the suite pair it")
            KeyStore().put(puck.serial, former)
            puck._load_key()
        puck.pair()
        try:
            yield session
        finally:
            if former is not None:
                puck.pair(former)                  # signed with the test's key: back to its owner
                real.put(puck.serial, former)
            else:
                puck.unpair()


def _seq(frame: bytes) -> int:
    return struct.unpack_from("<H", protocol.cobs_decode(frame[:-1]), 2)[0]


def _resign(frame: bytes, change) -> bytes:
    """A frame's body changed by ``change(bytearray)`` (header and payload,
    trailer included), with its CRC made right again."""
    body = bytearray(protocol.cobs_decode(frame[:-1])[:-4])
    change(body)
    return protocol.cobs_encode(bytes(body) + protocol.crc32(bytes(body)).to_bytes(4, "little")) + b"\x00"


def _outbound(rec, path, type_id: int) -> list[bytes]:
    """The frames of ``type_id`` the SDK sent, from its recording (whole frames, 0x00 included)."""
    rec.flush()
    data = b"".join(c.data for c in Recording(path).chunks() if c.direction == OUT)
    out = []
    for piece in data.split(b"\x00"):
        try:
            if piece and protocol.cobs_decode(piece)[1] == type_id:
                out.append(piece + b"\x00")
        except protocol.ProtocolError:
            continue
    return out


def _expect(puck, rec, path, sent: dict[int, tuple[str, str]], timeout: float = 5) -> list[str]:
    """Compare the answers to ``sent`` (seq -> (name, "ack" or a nack error)); the mismatches."""
    got = _answers(rec, path, set(sent), timeout)
    wrong = []
    for seq, (name, want) in sent.items():
        a = got.get(seq)
        if a is None:
            wrong.append(f"{name}: no answer")
        elif want == "ack" and a.type != "ack":
            wrong.append(f"{name}: nack {a['error']}, expected ack")
        elif want != "ack" and (a.type != "nack" or a["error"] != NACK[want]):
            wrong.append(f"{name}: {a.type} {a.fields}, expected nack {want}")
    return wrong


def test_an_owned_puck_refuses_the_unsigned_replayed_and_forged_while_its_stream_goes_on(
        owner, tmp_path, hil_figures):
    puck = owner.puck
    assert puck.owned and puck.has_key
    probe = Probe().attach(puck)
    wire = tmp_path / "wire.opr"
    rec = puck.record(str(wire), flush_interval=0.1)
    puck.start(exercise="grip_squeeze", rate_hz=200)      # the owner's session, signed
    assert probe.wait_more_samples(50, timeout=10), "no samples after the owner's start"
    puck.led(0, 20, 0, duration=0.05)                     # signed: to be captured and replayed
    puck.set_config("feedback", puck.get_config("feedback"))
    led = _outbound(rec, wire, T["led"])[-1]
    setc = _outbound(rec, wire, T["set_config"])[-1]
    other_key = os.urandom(32)
    seq = iter(range(0xE000, 0xF000))
    frames: dict[int, tuple[str, str, bytes]] = {}

    def unsigned(name, **fields):
        s = next(seq)
        frames[s] = (f"unsigned {name}", "unauthenticated", protocol.encode(name, s, **fields))

    unsigned("led", r=255, g=0, b=0, duration_ms=100)
    unsigned("buzzer", freq_hz=2000, duration_ms=20)
    unsigned("set_config", key=protocol.ENUMS["config_key"]["feedback"], value=0)
    unsigned("set_exercise", exercise=1, target=1000, on_pct=0, off_pct=0)
    unsigned("calibrate", what=protocol.ENUMS["calibrate_what"]["target_rep"])
    unsigned("reboot", mode=0)
    unsigned("start", rate_hz=100, channels=7)            # new settings: the owner's only
    # replayed: the very bytes the SDK sent, and a new frame on the owner's link with an old timestamp
    s = next(seq)
    old_ts = signing.trailer_of(protocol.cobs_decode(led[:-1])).timestamp
    frames[s] = ("led with an old timestamp", "replayed", signing.encode_signed(
        "led", s, sign_key=KeyStore().get(puck.serial), link_id=puck.link_id, timestamp=old_ts,
        r=0, g=0, b=50, duration_ms=10))
    # forged: another key; a tag bit flipped; a field changed after signing
    s = next(seq)
    frames[s] = ("led signed with another key", "unauthenticated", signing.encode_signed(
        "led", s, sign_key=other_key, link_id=puck.link_id, timestamp=signing.now(),
        r=255, g=255, b=255, duration_ms=100))
    s = next(seq)
    good = signing.encode_signed("buzzer", s, sign_key=KeyStore().get(puck.serial), link_id=puck.link_id,
                                 timestamp=puck.signing_clock.next(), freq_hz=3000, duration_ms=20)

    def flip_tag(b):
        b[-1] ^= 0x80

    frames[s] = ("buzzer with a tag bit flipped", "unauthenticated", _resign(good, flip_tag))

    def brighter(b):
        b[4] = 0xFF                                        # led.r, after the owner signed it

    frames[_seq(setc)] = ("set_config sent again", "replayed", setc)
    # the captured led, sent again and changed, shares its seq: each goes alone
    groups = [frames, {_seq(led): ("led sent again", "replayed", led)},
              {_seq(led): ("led changed after signing", "unauthenticated", _resign(led, brighter))}]
    wrong = []
    for i, group in enumerate(groups):
        path = tmp_path / f"answers-{i}.opr"
        r = puck.record(str(path), flush_interval=0.1)
        for _, _, f in group.values():
            puck.transport.write(f)
        wrong += _expect(puck, r, path, {k: (n, w) for k, (n, w, _) in group.items()})
    assert not wrong, "\n".join(wrong)
    assert probe.wait_more_samples(200, timeout=10), "the owner's stream stopped after the refusals"
    st = puck.get_status()
    assert st.streaming and st.exercise == "grip_squeeze"
    assert puck.counters["lost_frames"] == 0
    hil_figures("signing_refusals_checked", sum(len(g) for g in groups))


def test_reading_stays_open_and_the_owners_signed_commands_work(owner, tmp_path):
    puck = owner.puck
    wire = tmp_path / "wire.opr"
    rec = puck.record(str(wire), flush_interval=0.1)
    rate = puck.get_config("rate_hz")
    sent = {}
    for s, name, fields in ((0xE101, "ping", {"host_time_us": 1}), (0xE102, "get_status", {}),
                            (0xE103, "get_info", {}), (0xE104, "get_config", {"key": 1}),
                            (0xE105, "start", {"rate_hz": rate, "channels": 7}),   # a reader's start
                            (0xE106, "stop", {})):                                 # its own stream
        puck.transport.write(protocol.encode(name, s, **fields))
        sent[s] = (f"unsigned {name}", "ack")
        if name == "start":
            assert not _expect(puck, rec, wire, {s: sent[s]}), "a reader's start at the puck's own rate"
    wrong = _expect(puck, rec, wire, sent)
    assert not wrong, "\n".join(wrong)
    # the owner's commands, signed by the SDK: acked (they would raise otherwise)
    puck.led(0, 0, 30, duration=0.05)
    if "buzzer" in puck.info.capabilities:
        puck.buzzer(2500, 0.01)
    old = puck.get_config("feedback")
    assert puck.set_config("feedback", 1 if old != 1 else 3) in (1, 3)
    puck.set_config("feedback", old)
    puck.calibrate("target_rep")
    puck.start(exercise="wrist_flexion", target=30.0, rate_hz=100)
    assert puck.get_status().exercise == "wrist_flexion"
    puck.stop()


def test_unpair_returns_the_puck_to_open_mode(owner, tmp_path):
    puck = owner.puck
    puck.unpair()
    assert not puck.owned and not puck.has_key
    assert KeyStore().get(puck.serial) is None
    wire = tmp_path / "wire.opr"
    rec = puck.record(str(wire), flush_interval=0.1)
    puck.transport.write(protocol.encode("led", 0xE201, r=0, g=10, b=0, duration_ms=20))
    assert not _expect(puck, rec, wire, {0xE201: ("unsigned led once open", "ack")})
    puck.pair()                                            # the fixture gives the puck back as it was
    assert puck.owned


def test_a_strangers_stop_cannot_end_the_owners_calibration(owner, tmp_path):
    puck = owner.puck
    what = "force_zero" if "force" in puck.info.capabilities else "rest"
    wire = tmp_path / "wire.opr"
    rec = puck.record(str(wire), flush_interval=0.1)
    cal = signing.encode_signed("calibrate", 0xE301, sign_key=KeyStore().get(puck.serial),
                                link_id=puck.link_id, timestamp=puck.signing_clock.next(),
                                what=protocol.ENUMS["calibrate_what"][what])
    puck.transport.write(cal + protocol.encode("stop", 0xE302))   # the stop lands mid-calibration
    wrong = _expect(puck, rec, wire, {0xE302: ("unsigned stop during a calibration", "unauthenticated"),
                                      0xE301: (f"the owner's calibrate {what}", "ack")})
    assert not wrong, "\n".join(wrong)
    puck.start(exercise="grip_squeeze", rate_hz=200)       # not `busy`: the calibration ended cleanly
    puck.stop()

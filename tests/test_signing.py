"""Only the owner commands the puck (protocol/spec.md section 9), on the host.

The golden signed vectors (made by tools/gen_vectors.py with hashlib and
struct, not our codec) against the SDK's signer and verifier; which commands
the table says need signing; the key store and the signing clock; then the
SDK's Puck against the virtual puck running the real firmware: pairing,
signed commands, a host without the key refused with what to do, reading
still open, a reboot's replay mark crossed by itself, unpairing, and
pairing refused over BLE before anything is sent. The puck proves it holds
the key before the host signs anything for it; a fake puck that cannot gets
nothing signed, and one that answers `replayed` cannot move the host's
clock. Pairing again starts the key's timestamps afresh. The owner key never
reaches a recording or a spy log.
"""
from __future__ import annotations

import hmac
import json
import os
import stat
import time
from pathlib import Path

import pytest

import openpuck
from openpuck import CommandError, protocol
from openpuck.cli import main as cli_main
from openpuck.device.keys import KeyStore, KeyStoreError, SigningClock
from openpuck.errors import OpenPuckError
from openpuck.protocol import signing
from tests.test_sdk_fakepuck import FakePuck
from tests.test_sdk_sim import _why as _no_sim

ROOT = Path(__file__).resolve().parent.parent
SIGNED = [json.loads(line) for line in (ROOT / "protocol/vectors/signed.jsonl").read_text().splitlines()]
OWNER = bytes.fromhex(SIGNED[0]["key"])
needs_sim = pytest.mark.skipif(_no_sim is not None, reason=f"no virtual puck: {_no_sim}")


def _fields(v: dict) -> dict:
    f = dict(v["fields"])
    for fd in protocol.SPECS[v["type"]].fields:
        if fd["type"] == "bytes":
            f[fd["name"]] = bytes.fromhex(f[fd["name"]])
    return f


def _body(wire_hex: str) -> bytes:
    return protocol.cobs_decode(bytes.fromhex(wire_hex)[:-1])


# ------------------------------------------------------------------ the vectors
SIGNED_ONLY = [v for v in SIGNED if v["key"] is not None]


@pytest.mark.parametrize("v", SIGNED_ONLY, ids=[v["name"] for v in SIGNED_ONLY])
def test_the_sdk_tags_what_the_independent_generator_tags(v):
    key = bytes.fromhex(v["key"])
    assert signing.tag(key, bytes.fromhex(v["signed_bytes"])) == bytes.fromhex(v["tag"])
    t = signing.trailer_of(_body(v["wire"]))
    assert (t.link_id, t.timestamp) == (v["link_id"], v["timestamp"])
    forged_or_changed = v["answer"] == "unauthenticated"
    assert (signing.verify(_body(v["wire"]), OWNER) is None) == forged_or_changed


UNCHANGED = [v for v in SIGNED_ONLY if not v["name"].endswith(("bad_tag", "changed_after_signing"))]


@pytest.mark.parametrize("v", UNCHANGED, ids=[v["name"] for v in UNCHANGED])
def test_the_sdk_signs_a_command_to_the_vectors_exact_bytes(v):
    wire = signing.encode_signed(v["type"], v["seq"], sign_key=bytes.fromhex(v["key"]), link_id=v["link_id"],
                                 timestamp=v["timestamp"], **_fields(v))
    assert wire.hex() == v["wire"]


@pytest.mark.parametrize("v", SIGNED, ids=[v["name"] for v in SIGNED])
def test_a_signed_command_decodes_as_its_message_the_trailer_ignored(v):
    m = protocol.decode(bytes.fromhex(v["wire"]))
    if not v["name"].endswith("changed_after_signing"):
        assert (m.type, m.seq, m.fields) == (v["type"], v["seq"], _fields(v))


def test_the_vectors_cover_every_verdict_and_the_trailer_is_13_bytes():
    assert {v["answer"] for v in SIGNED} == {"ack", "unauthenticated", "replayed", "bad_state"}
    v = SIGNED[0]
    pl = _body(v["wire"])[4:-4]
    assert len(pl) == len(protocol.encode_payload(v["type"], **_fields(v))) + signing.TRAILER_SIZE == 5 + 13
    # what the tag covers: the header, the fields, link id and timestamp; not the tag, not the CRC
    assert bytes.fromhex(v["signed_bytes"]) == _body(v["wire"])[:-4 - 6]


def test_any_bit_changed_in_a_signed_body_fails_the_tag():
    body = _body(SIGNED[0]["wire"])[:-4]
    for i in range(len(body)):
        for bit in range(8):
            b = bytearray(body)
            b[i] ^= 1 << bit
            b = bytes(b) + protocol.crc32(bytes(b)).to_bytes(4, "little")
            assert signing.verify(b, OWNER) is None, (i, bit)


PROOFS = [json.loads(line) for line in (ROOT / "protocol/vectors/proof.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("v", PROOFS, ids=[v["name"] for v in PROOFS])
def test_the_sdk_checks_a_proof_as_the_independent_generator_makes_it(v):
    key, nonce = bytes.fromhex(v["key"]), bytes.fromhex(v["nonce"])
    assert signing.proof(key, nonce, v["newest"]) == bytes.fromhex(v["tag"])
    m = protocol.decode(bytes.fromhex(v["proof_wire"]))
    assert (m.type, m["nonce"], m["newest"], m["tag"]) == ("proof", nonce, v["newest"], bytes.fromhex(v["tag"]))
    assert protocol.decode(bytes.fromhex(v["challenge_wire"]))["nonce"] == nonce


def test_the_tag_is_an_hmac_not_a_hash_of_key_and_message():
    msg = bytes.fromhex(SIGNED[0]["signed_bytes"])
    assert signing.tag(OWNER, msg) == hmac.new(OWNER, msg, "sha256").digest()[:6]
    import hashlib
    assert signing.tag(OWNER, msg) != hashlib.sha256(OWNER + msg).digest()[:6]


# ------------------------------------------------------------------ the table
def test_the_table_says_which_commands_an_owned_puck_checks():
    policy = {n: signing.policy(n) for n, s in protocol.SPECS.items() if s.dir == "down"}
    assert {n for n, p in policy.items() if p is True} == {
        "set_exercise", "calibrate", "led", "buzzer", "set_config", "reboot", "pair", "log_confirm",
        "log_clear", "mark_time"}
    assert {n for n, p in policy.items() if p == "reader"} == {"start", "stop"}
    assert {n for n, p in policy.items() if p == "off_usb"} == {"unpair"}
    assert {n for n, p in policy.items() if p is None} == {"ping", "get_info", "get_status", "get_config",
                                                          "challenge", "log_list", "log_read"}
    assert [n for n in policy if signing.usb_only(n)] == ["pair"]
    assert protocol.ENUMS["nack_error"]["unauthenticated"] and protocol.ENUMS["nack_error"]["replayed"]
    assert signing.TRAILER_SIZE == 1 + 6 + signing.TAG_SIZE == 13 and signing.KEY_SIZE == 32


def test_timestamps_are_mavlinks_10_us_units_since_2015():
    assert signing.timestamp_of(1420070400) == 0
    assert signing.timestamp_of(1420070401.5) == 150_000
    assert signing.TIMESTAMP_MAX > signing.now() > signing.timestamp_of(1735689600)


# ------------------------------------------------------------------ key store and clock
def test_keys_are_kept_per_serial_readable_by_the_user_only(tmp_path):
    ks = KeyStore(tmp_path)
    assert ks.get("E661A4D1") is None
    p = ks.put("E661A4D1", OWNER)
    assert ks.get("E661A4D1") == OWNER and ks.serials() == ["E661A4D1"]
    if os.name == "posix":
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert ks.delete("E661A4D1") and ks.get("E661A4D1") is None and not ks.delete("E661A4D1")


@pytest.mark.parametrize("serial", ["", "../etc/passwd", "a/b", "x" * 65])
def test_a_serial_that_cannot_name_a_key_file_is_refused(tmp_path, serial):
    with pytest.raises(KeyStoreError, match="cannot name a key file"):
        KeyStore(tmp_path).put(serial, OWNER)


def test_a_damaged_key_file_says_what_to_do(tmp_path):
    ks = KeyStore(tmp_path)
    ks.put("P1", OWNER)
    ks.path_of("P1").write_text("not hex\n")
    with pytest.raises(KeyStoreError, match="pair the puck again over USB"):
        ks.get("P1")


def test_the_key_store_defaults_to_OPENPUCK_CONFIG_DIR(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENPUCK_CONFIG_DIR", str(tmp_path / "cfg"))
    assert KeyStore().folder == tmp_path / "cfg" and SigningClock().folder == tmp_path / "cfg"


def test_the_signing_clock_never_repeats_across_restarts_even_with_the_clock_set_back(tmp_path, monkeypatch):
    a = SigningClock(tmp_path)
    first = [a.next() for _ in range(50)]
    assert first == sorted(set(first))
    assert abs(first[0] - signing.now()) < 100_000 * 60          # wall time, within a minute
    monkeypatch.setattr(signing, "now", lambda: signing.timestamp_of(1420070400 + 86400))  # 2015-01-02
    b = SigningClock(tmp_path)                                     # a new process
    assert b.next() == first[-1] + 1
    assert b.advance_to(first[-1] + signing.BOOT_STEP) == first[-1] + signing.BOOT_STEP - 1
    assert b.next() == first[-1] + signing.BOOT_STEP
    assert b.advance_to(5) == first[-1] + signing.BOOT_STEP and b.next() == first[-1] + signing.BOOT_STEP + 1


# ------------------------------------------------------------------ BLE refused before sending
def test_pairing_over_ble_is_refused_before_anything_is_sent(tmp_path):
    fake = FakePuck("sign-ble")
    try:
        with openpuck.connect(fake.url, ping_interval=0) as puck:
            puck.transport.scheme = "ble"      # as a BLE transport says
            sent = len(fake.received)
            with pytest.raises(OpenPuckError, match="USB only"):
                puck.pair()
            assert len(fake.received) == sent
    finally:
        fake.close()


def test_the_cli_refuses_to_pair_over_ble_naming_the_usb_cable(capsys):
    assert cli_main(["pair", "ble:OpenPuck-1A2B"]) == 2
    err = capsys.readouterr().err
    assert "BLE link" in err and "USB cable only" in err and "openpuck pair /dev/ttyACM0" in err


# ------------------------------------------------------------------ against the virtual puck
@pytest.fixture
def vpuck(tmp_path):
    import openpuck.device.sim
    vp = openpuck.device.sim.start(speed=float("inf"), state_dir=tmp_path / "flash")
    yield vp
    vp.stop()


def _connect(vp, folder: Path, monkeypatch):
    monkeypatch.setenv("OPENPUCK_CONFIG_DIR", str(folder))
    return openpuck.connect("serial:" + vp.port, ping_interval=0, timeout=3.0)


@needs_sim
def test_owner_and_stranger_against_the_real_firmware(vpuck, tmp_path, monkeypatch):
    owner_dir, stranger_dir = tmp_path / "owner", tmp_path / "stranger"
    with _connect(vpuck, owner_dir, monkeypatch) as puck:
        assert not puck.owned and "signing" in puck.info.capabilities
        puck.led(0, 30, 0, duration=0.05)                       # open: anyone, unsigned
        puck.pair()
        assert puck.owned and puck.has_key
        assert KeyStore(owner_dir).get(puck.serial) is not None
        puck.led(0, 30, 0, duration=0.05)                       # signed now
        assert puck.set_config("feedback", 1) == 1
        puck.start(exercise="wrist_flexion", target=30.0, rate_hz=100)
        assert puck.get_status().exercise == "wrist_flexion"
        puck.stop()
    with _connect(vpuck, stranger_dir, monkeypatch) as other:
        assert other.owned and not other.has_key
        for act in (lambda: other.led(255, 0, 0), lambda: other.set_config("feedback", 0),
                    lambda: other.calibrate("target_rep"), lambda: other.reboot(),
                    lambda: other.start(exercise="grip_squeeze")):
            with pytest.raises(CommandError) as e:
                act()
            assert e.value.error == "unauthenticated"
            assert "holds no key" in str(e.value) and "puck.watch()" in str(e.value)
        assert other.get_config("feedback") == 1                 # reading stays open
        with pytest.raises(CommandError, match="unauthenticated"):
            other.pair()                                         # taking it over needs unpair first
        other.watch()                                            # the puck's own rate and exercise
        st = other.get_status()
        assert st.streaming and st.exercise == "wrist_flexion"
        assert sum(len(b) for b in _take(other.samples(timeout=3), 5)) > 0
        other.stop()                                             # its own stream
        with pytest.raises(CommandError, match="unauthenticated"):
            other.start(rate_hz=100)                             # new settings need the owner
    # a host holding a stale key (the puck was paired again elsewhere): the puck
    # cannot prove it holds that key, so nothing is signed for it, and the host is told so
    KeyStore(stranger_dir).put(KeyStore(owner_dir).serials()[0], bytes(32))
    with _connect(vpuck, stranger_dir, monkeypatch) as other:
        with pytest.raises(OpenPuckError, match="did not prove that it holds this host's owner key") as e:
            other.led(1, 1, 1)
        assert "its proof does not verify" in str(e.value) and "openpuck pair serial:PORT" in str(e.value)
        other.unpair()                                           # over USB: anyone may
        assert not other.owned and not other.has_key
        other.led(1, 1, 1, duration=0.01)                        # open again


def _take(it, n):
    out = []
    for x in it:
        out.append(x)
        if len(out) >= n:
            break
    return out


@needs_sim
def test_after_a_reboot_the_owner_crosses_the_replay_mark_by_itself(vpuck, tmp_path, monkeypatch):
    with _connect(vpuck, tmp_path / "owner", monkeypatch) as puck:
        puck.pair()
        puck.led(0, 0, 20, duration=0.01)
        led_ts = puck.signing_clock.last()
        puck.reboot()
        vpuck.wait_ready(20)
        deadline = 40
        import time
        t_end = time.monotonic() + deadline
        while time.monotonic() < t_end:
            try:
                puck.get_status()
                break
            except OpenPuckError:
                time.sleep(0.2)
        puck.led(0, 0, 20, duration=0.01)      # refused `replayed` once, then signed past the mark
        # the puck's proof gave its floor (the mark, a boot step past the reboot's timestamp)
        assert puck.signing_clock.last() > led_ts + signing.BOOT_STEP
        assert puck.owned


@needs_sim
def test_the_cli_pairs_and_unpairs(vpuck, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENPUCK_CONFIG_DIR", str(tmp_path / "cli"))
    assert cli_main(["pair", "serial:" + vpuck.port]) == 0
    out = capsys.readouterr().out
    assert "paired puck" in out and str(tmp_path / "cli") in out
    assert len(KeyStore(tmp_path / "cli").serials()) == 1
    # another computer (no key): streaming with its own settings is refused, --watch reads
    monkeypatch.setenv("OPENPUCK_CONFIG_DIR", str(tmp_path / "other"))
    assert cli_main(["stream", "serial:" + vpuck.port, "--plain", "--seconds", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "unauthenticated" in err and "--watch" in err
    assert cli_main(["stream", "serial:" + vpuck.port, "--watch", "--json", "--seconds", "0.5"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("OPENPUCK_CONFIG_DIR", str(tmp_path / "cli"))
    assert cli_main(["unpair", "serial:" + vpuck.port]) == 0
    assert "is open" in capsys.readouterr().out
    assert KeyStore(tmp_path / "cli").serials() == []


# ------------------------------------------------------------------ who the puck is
_CAPS = protocol.ENUMS["capability"]


class OwnedFake(FakePuck):
    """A device that says it is the owned puck ``serial``. It proves the key
    only when it is given ``key`` (then it is, for the host, the real puck,
    whose newest accepted timestamp is ``newest``)."""

    def __init__(self, name: str, *, key: bytes | None = None, newest: int = 0, **kw) -> None:
        super().__init__(name, **kw)
        self.key, self.newest = key, newest
        self.challenges = 0

    def device_info(self, end=None) -> None:
        self.send("device_info", end, fw_major=0, fw_minor=1, fw_patch=0, protocol_version=1,
                  capabilities=0x3F | _CAPS["signing"] | _CAPS["owned"], accel_range_g=4,
                  gyro_range_dps=500, force_max_n=500, accel_g_per_lsb=1 / 8192,
                  gyro_dps_per_lsb=1 / 65.536, force_n_per_lsb=0.05, max_rate_hz=400, rates_hz=0x1F,
                  board="fake", serial=self.serial)

    def _handle(self, m, end) -> None:
        if m.type != "challenge" or m.type in self.nack:
            return super()._handle(m, end)
        self.challenges += 1
        self.send("ack", end, cmd_type=protocol.SPECS["challenge"].id, cmd_seq=m.seq)
        tag = signing.proof(self.key, m["nonce"], self.newest) if self.key else os.urandom(signing.PROOF_SIZE)
        self.send("proof", end, nonce=m["nonce"], newest=self.newest, tag=tag)


@pytest.fixture
def owner_store(tmp_path, monkeypatch):
    """This host's config folder, holding OWNER as the key of puck P1."""
    monkeypatch.setenv("OPENPUCK_CONFIG_DIR", str(tmp_path / "host"))
    KeyStore(tmp_path / "host").put("P1", OWNER)
    return tmp_path / "host"


def _signed_out(path: Path, type_name: str) -> list[bytes]:
    """Bodies of the ``type_name`` frames a recording's host sent that carry a tag under OWNER."""
    from openpuck.offline.recording import OUT, Recording
    data = b"".join(c.data for c in Recording(path).chunks() if c.direction == OUT)
    out = []
    for piece in data.split(b"\x00"):
        try:
            body = protocol.cobs_decode(piece) if piece else b""
        except protocol.ProtocolError:
            continue
        if len(body) > 1 and body[1] == protocol.SPECS[type_name].id and signing.verify(body, OWNER):
            out.append(body)
    return out


@pytest.mark.parametrize("answer", ["a proof under another key", "nack unknown_type"])
def test_a_device_claiming_the_serial_that_cannot_prove_the_key_gets_nothing_signed(owner_store, answer):
    fake = OwnedFake("sign-impostor", serial="P1")
    if answer.startswith("nack"):
        fake.nack["challenge"] = "unknown_type"     # firmware that cannot prove anything
    try:
        with openpuck.connect(fake.url, ping_interval=0, timeout=1.0) as puck:
            assert puck.owned and puck.has_key
            for act in (lambda: puck.led(1, 2, 3), lambda: puck.set_config("feedback", 0),
                        lambda: puck.calibrate("target_rep"), puck.reboot):
                with pytest.raises(OpenPuckError) as e:
                    act()
                msg = str(e.value)
                assert "puck P1 at loop:sign-impostor did not prove that it holds this host's owner key" in msg
                assert "Pair the puck again over its USB cable" in msg
            assert not [m for m in fake.received if m.type in ("led", "set_config", "calibrate", "reboot")]
    finally:
        fake.close()


def test_the_puck_that_proves_the_key_gets_the_signed_commands_and_is_asked_again_after_a_reconnect(
        owner_store):
    fake = OwnedFake("sign-real", serial="P1", key=OWNER, newest=signing.now() - 100_000)
    try:
        with openpuck.connect(fake.url, ping_interval=0, timeout=1.0, reconnect_timeout=5) as puck:
            puck.led(1, 2, 3)
            assert [m.type for m in fake.received].count("led") == 1 and fake.challenges == 1
            fake.break_mid_frame()
            while fake.connections < 2:
                time.sleep(0.02)
            while True:
                try:
                    puck.led(3, 2, 1)
                    break
                except OpenPuckError:
                    time.sleep(0.05)
            assert fake.challenges == 2
    finally:
        fake.close()


def test_a_puck_that_says_it_is_open_gets_nothing_signed_even_when_this_host_holds_a_key(owner_store, tmp_path):
    fake = FakePuck("sign-open", serial="P1")      # no `owned` capability
    try:
        with openpuck.connect(fake.url, ping_interval=0, timeout=1.0, record=str(tmp_path / "w.opr")) as puck:
            assert not puck.owned and not puck.has_key
            puck.led(1, 2, 3)
        assert _signed_out(tmp_path / "w.opr", "led") == []
        assert [m.type for m in fake.received].count("led") == 1
    finally:
        fake.close()


# ------------------------------------------------------------------ clocks far ahead
def test_a_replayed_answer_never_moves_the_hosts_clock(owner_store):
    # the real puck's proof says where it stands; `replayed` nacks (which anyone on
    # the link could forge) do not push this host's clock
    fake = OwnedFake("sign-replayed", serial="P1", key=OWNER, newest=signing.now() - 100_000)
    fake.nack["led"] = "replayed"
    try:
        with openpuck.connect(fake.url, ping_interval=0, timeout=1.0) as puck:
            for _ in range(5):
                with pytest.raises(CommandError) as e:
                    puck.led(1, 2, 3)
                assert e.value.error == "replayed" and "pair it again over USB" in str(e.value)
            assert puck.signing_clock.last() - signing.now() < signing.BOOT_STEP
    finally:
        fake.close()


def test_a_puck_proving_a_timestamp_days_ahead_is_refused_naming_the_clocks(owner_store):
    ahead = signing.now() + 2 * 86400 * 100_000
    fake = OwnedFake("sign-ahead", serial="P1", key=OWNER, newest=ahead)
    try:
        with openpuck.connect(fake.url, ping_interval=0, timeout=1.0) as puck:
            with pytest.raises(OpenPuckError, match=r"2\.0 days ahead of this host's clock") as e:
                puck.led(1, 2, 3)
            assert "Check the clocks" in str(e.value) and "openpuck unpair serial:PORT" in str(e.value)
            assert puck.signing_clock.last() < ahead
            assert "led" not in [m.type for m in fake.received]
    finally:
        fake.close()


@needs_sim
def test_one_timestamp_at_2_48_locks_the_key_out_until_the_owner_pairs_again(vpuck, tmp_path, monkeypatch):
    with _connect(vpuck, tmp_path / "owner", monkeypatch) as puck:
        puck.pair()
        real_next = puck.signing_clock.next
        monkeypatch.setattr(puck.signing_clock, "next", lambda: signing.TIMESTAMP_MAX)
        puck.led(0, 0, 20, duration=0.01)            # signed at 2^48 - 1: accepted
        monkeypatch.setattr(puck.signing_clock, "next", real_next)
        with pytest.raises(OpenPuckError, match="days ahead of this host's clock"):
            puck.led(0, 0, 20, duration=0.01)        # the puck proves 2^48 - 1: refused, named
        puck.unpair()                                # over USB: unsigned
        puck.pair()                                  # a new key, since this host's clock
        puck.led(0, 20, 0, duration=0.01)
        assert puck.set_config("feedback", 1) == 1
        assert puck.signing_clock.last() < signing.now() + signing.BOOT_STEP


# ------------------------------------------------------------------ the key in shared files
@needs_sim
def test_pairing_writes_no_key_to_a_recording_or_a_spy_log(vpuck, tmp_path, monkeypatch):
    key = bytes(range(1, 33))                        # no zero byte: COBS keeps it in one piece
    monkeypatch.setenv("OPENPUCK_CONFIG_DIR", str(tmp_path / "cfg"))
    log, opr, spy_opr = tmp_path / "spy.txt", tmp_path / "rec.opr", tmp_path / "spy.opr"
    with openpuck.connect(f"spy:serial:{vpuck.port}?log={log}", ping_interval=0, timeout=3.0,
                          record=str(opr)) as puck:
        puck.pair(key)
        puck.led(0, 9, 0, duration=0.01)
        assert puck.owned
    with openpuck.connect(f"spy:serial:{vpuck.port}?log={spy_opr}&format=opr", ping_interval=0,
                          timeout=3.0) as puck:
        puck.pair(os.urandom(32).replace(b"\x00", b"\x01"))     # handed on, signed with `key`
        puck.unpair()
    from openpuck.offline.recording import OUT, Recording
    for path in (opr, spy_opr):
        raw = path.read_bytes()
        assert key not in raw, path
        sent = b"".join(c.data for c in Recording(path).chunks() if c.direction == OUT)
        pairs = [protocol.decode(p + b"\x00") for p in sent.split(b"\x00")
                 if p and protocol.cobs_decode(p)[1] == protocol.SPECS["pair"].id]
        assert pairs and all(m["key"] == bytes(32) for m in pairs), path   # there, key zeroed
    text = log.read_text()
    assert key.hex(" ") not in text and "4c" in text


@needs_sim
def test_only_the_owner_dates_an_owned_puck_s_log(vpuck, tmp_path, monkeypatch):
    owner_dir, stranger_dir = tmp_path / "owner", tmp_path / "stranger"
    with _connect(vpuck, owner_dir, monkeypatch) as puck:
        puck.pair()
    with _connect(vpuck, owner_dir, monkeypatch) as puck:       # signs its mark on connect
        marks = [r for r in puck.log_pull(0) if r.type == "time_mark"]
    with _connect(vpuck, stranger_dir, monkeypatch) as other:   # connects all the same, marks nothing
        with pytest.raises(CommandError, match="unauthenticated"):
            other.mark_time()
        after = [r for r in other.log_pull(0) if r.type == "time_mark"]
    assert len(marks) == 2, "the open puck's first connection, then the owner's, signed"
    assert after == marks, "a stranger cannot misdate the patient's sets"

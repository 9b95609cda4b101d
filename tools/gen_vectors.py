"""Write the golden vectors protocol/vectors/*.jsonl.

The bytes are built here by independent means: payload layouts written out
by hand as struct formats (not read from messages.toml), ``binascii.crc32``
and the ``cobs`` package, never the OpenPuck codec. tests/test_vectors.py
replays every vector through the C decoder and the Python codec.

    python tools/gen_vectors.py          # rewrite the files
    python tools/gen_vectors.py --check  # exit 1 if they are stale

valid.jsonl:  {"name", "wire", "type", "seq", "fields"}
errors.jsonl: {"name", "wire", "error"}; error is the StreamDecoder counter
              the frame lands in: crc_errors, cobs_errors, truncated,
              oversize, version_errors, unknown_types or malformed.
signed.jsonl: signed commands (spec.md section 9), to be sent in file order,
              over USB, to a puck just paired with OWNER_KEY (its config
              rate_hz the default 200, not streaming, replay state fresh):
              {"name", "wire", "type", "seq", "fields", "key" (hex of the
              key that signed it, null when unsigned), "link_id",
              "timestamp", "signed_bytes" (hex of exactly what HMAC-SHA-256
              authenticates under the key: version, type, seq, fields,
              link_id, timestamp), "tag" (hex), "answer" ("ack" or the nack
              error)}. The tag is computed here with CPython's hmac module and
              struct (the firmware writes HMAC from hashlib itself).
proof.jsonl:  a puck's proof that it holds the key (spec.md section 9.6):
              {"name", "key", "nonce", "newest", "message" (hex of what the
              HMAC authenticates: label, nonce, newest as u64le), "tag" (hex,
              the first 16 bytes), "challenge_wire", "proof_wire"}.
"""
from __future__ import annotations

import argparse
import binascii
import hmac
import json
import struct
import sys
from pathlib import Path

from cobs import cobs

OUT = Path(__file__).resolve().parent.parent / "protocol" / "vectors"

# name: (id, [(field, struct letter or 'str')...]); written from spec.md by hand
LAYOUTS = {
    "device_info": (0x01, [("fw_major", "B"), ("fw_minor", "B"), ("fw_patch", "B"),
                           ("protocol_version", "B"), ("capabilities", "I"),
                           ("accel_range_g", "B"), ("gyro_range_dps", "H"), ("force_max_n", "H"),
                           ("accel_g_per_lsb", "f"), ("gyro_dps_per_lsb", "f"),
                           ("force_n_per_lsb", "f"), ("max_rate_hz", "H"), ("rates_hz", "B"),
                           ("board", "str"), ("serial", "str")]),
    "samples": (0x02, [("t0_us", "I"), ("period_us", "H"), ("n", "B")]),
    "rep": (0x03, [("exercise", "B"), ("count", "H"), ("t_start_us", "I"), ("t_peak_us", "I"),
                   ("t_end_us", "I"), ("amplitude", "i"), ("hold_ms", "I")]),
    "partial_rep": (0x04, [("exercise", "B"), ("count", "H"), ("t_start_us", "I"),
                           ("t_peak_us", "I"), ("t_end_us", "I"), ("amplitude", "i")]),
    "grip": (0x05, [("t_start_us", "I"), ("t_end_us", "I"), ("peak_force", "H"), ("hold_ms", "I")]),
    "status": (0x06, [("battery_mv", "H"), ("battery_pct", "B"), ("dropped_samples", "I"),
                      ("uptime_ms", "I"), ("streaming", "B"), ("exercise", "B"), ("reps", "H"),
                      ("partial_reps", "H"), ("rx_errors", "H"), ("reset_cause", "B"),
                      ("cpu_load", "H"), ("link_dropped_samples", "I"), ("link_dropped_frames", "H"),
                      ("target", "I")]),
    "log": (0x07, [("level", "B"), ("text", "str")]),
    "ack": (0x08, [("cmd_type", "B"), ("cmd_seq", "H")]),
    "nack": (0x09, [("cmd_type", "B"), ("cmd_seq", "H"), ("error", "B"), ("detail", "B")]),
    "pong": (0x0A, [("host_time_us", "Q"), ("device_time_us", "I")]),
    "config": (0x0B, [("key", "B"), ("value", "i")]),
    "proof": (0x0C, [("nonce", "bytes"), ("newest", "Q"), ("tag", "bytes")]),
    "target": (0x0D, [("exercise", "B"), ("target", "I"), ("source", "B"), ("t_us", "I")]),
    "set_start": (0x0E, [("exercise", "B"), ("target", "I"), ("rate_hz", "H"), ("t_us", "I")]),
    "set_end": (0x0F, [("exercise", "B"), ("reps", "H"), ("partial_reps", "H"), ("dropped_samples", "I"),
                       ("link_dropped_samples", "I"), ("t_us", "I")]),
    "boot": (0x10, [("reset_cause", "B"), ("torn", "H"), ("fw_major", "B"), ("fw_minor", "B"),
                    ("fw_patch", "B")]),
    "log_info": (0x11, [("boot_id", "I"), ("segments", "H"), ("first_seq", "I"), ("next_seq", "I"),
                        ("bytes", "I"), ("free_bytes", "I"), ("not_kept", "I"), ("torn", "H")]),
    "log_data": (0x12, [("from_seq", "I"), ("next_seq", "I"), ("data", "bytes")]),
    "time_mark": (0x13, [("unix_ms", "Q")]),
    "start": (0x40, [("rate_hz", "H"), ("channels", "B")]),
    "stop": (0x41, []),
    "set_exercise": (0x42, [("exercise", "B"), ("target", "I"), ("on_pct", "B"), ("off_pct", "B")]),
    "calibrate": (0x43, [("what", "B")]),
    "led": (0x44, [("r", "B"), ("g", "B"), ("b", "B"), ("duration_ms", "H")]),
    "buzzer": (0x45, [("freq_hz", "H"), ("duration_ms", "H")]),
    "ping": (0x46, [("host_time_us", "Q")]),
    "get_config": (0x47, [("key", "B")]),
    "set_config": (0x48, [("key", "B"), ("value", "i")]),
    "reboot": (0x49, [("mode", "B")]),
    "get_info": (0x4A, []),
    "get_status": (0x4B, []),
    "pair": (0x4C, [("key", "bytes"), ("since", "Q")]),
    "unpair": (0x4D, []),
    "challenge": (0x4E, [("nonce", "bytes")]),
    "log_list": (0x4F, []),
    "log_read": (0x50, [("from_seq", "I")]),
    "log_confirm": (0x51, [("upto_seq", "I")]),
    "log_clear": (0x52, []),
    "mark_time": (0x53, [("unix_ms", "Q")]),
}
SAMPLE = "<hhhhhhH"


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def payload(name: str, fields: dict) -> bytes:
    out = b""
    for f, kind in LAYOUTS[name][1]:
        if kind in ("str", "bytes"):
            raw = fields[f].encode("utf-8") if kind == "str" else bytes.fromhex(fields[f])
            out += bytes([len(raw)]) + raw
        else:
            out += struct.pack("<" + kind, fields[f])
    if name == "samples":
        out += b"".join(struct.pack(SAMPLE, *s) for s in fields["samples"])
    return out


def log_record(type_id: int, boot: int, seq: int, t_ms: int, pl: bytes) -> bytes:
    """A record of the puck's log (spec.md section 10): size, type, boot, seq, t_ms, payload, CRC-32."""
    r = struct.pack("<BBIII", len(pl), type_id, boot, seq, t_ms) + pl
    return r + struct.pack("<I", binascii.crc32(r))


def body(type_id: int, seq: int, pl: bytes, version: int = 1) -> bytes:
    b = struct.pack("<BBH", version, type_id, seq) + pl
    return b + struct.pack("<I", binascii.crc32(b))


def wire(b: bytes) -> str:
    return (cobs.encode(b) + b"\x00").hex()


DEVICE_INFO = dict(fw_major=0, fw_minor=1, fw_patch=2, protocol_version=1, capabilities=0x01FF,
                   accel_range_g=4, gyro_range_dps=500, force_max_n=3000,
                   accel_g_per_lsb=f32(1 / 8192), gyro_dps_per_lsb=f32(1 / 65.536),
                   force_n_per_lsb=f32(0.05), max_rate_hz=400, rates_hz=0x1F,
                   board="pico_w", serial="E661A4D1234567")


def valid() -> list[dict]:
    cases = [
        ("device_info", 0, DEVICE_INFO),
        ("device_info_empty_strings", 1, dict(DEVICE_INFO, board="", serial="", capabilities=0)),
        ("device_info_utf8", 2, dict(DEVICE_INFO, board="sim", serial="puck-é✓")),
        ("samples_one", 3, dict(t0_us=0, period_us=5000, n=1, samples=[[0, 0, 8192, 0, 0, 0, 0]])),
        ("samples_extremes", 4, dict(t0_us=0xFFFFFFFF, period_us=0xFFFF, n=3, samples=[
            [-32768, 32767, -1, 1, -256, 256, 65535], [0, 0, 0, 0, 0, 0, 0],
            [32767, -32768, 255, -255, 0x7F00, -0x7F00, 1]])),
        ("samples_20", 5, dict(t0_us=123456789, period_us=5000, n=20, samples=[
            [i * 100 - 1000, -i, 8192 + i, i * 3, -i * 3, 0, i * 10] for i in range(20)])),
        ("samples_35_max", 6, dict(t0_us=1, period_us=10000, n=35, samples=[
            [(i * 977) % 65536 - 32768, i + 1, i + 2, i + 3, i + 4, i + 5, 65535 - i]
            for i in range(35)])),
        ("samples_empty", 7, dict(t0_us=5, period_us=5000, n=0, samples=[])),
        ("rep", 8, dict(exercise=6, count=3, t_start_us=1000000, t_peak_us=1500000,
                        t_end_us=2100000, amplitude=-87250, hold_ms=0)),
        ("partial_rep", 9, dict(exercise=5, count=1, t_start_us=10, t_peak_us=20, t_end_us=30,
                                amplitude=21000)),
        ("grip", 10, dict(t_start_us=4000000000, t_end_us=4100000000, peak_force=3150,
                          hold_ms=1250)),
        ("status", 11, dict(battery_mv=3712, battery_pct=64, dropped_samples=2, uptime_ms=3600000,
                            streaming=1, exercise=1, reps=12, partial_reps=2, rx_errors=0,
                            reset_cause=2, cpu_load=73,
                            link_dropped_samples=140, link_dropped_frames=1, target=21500)),
        ("log", 12, dict(level=2, text="imu: FIFO overrun")),
        ("log_empty", 13, dict(level=0, text="")),
        ("ack", 14, dict(cmd_type=0x40, cmd_seq=3)),
        ("nack", 15, dict(cmd_type=0x45, cmd_seq=65535, error=5, detail=0)),
        ("pong", 16, dict(host_time_us=2**64 - 1, device_time_us=4294967295)),
        ("config", 17, dict(key=5, value=-1)),
        ("proof", 18, dict(nonce=bytes(range(16)).hex(), newest=2**48 - 1, tag=bytes(range(16, 32)).hex())),
        ("target", 19, dict(exercise=6, target=38250, source=1, t_us=4294967295)),
        ("target_not_learned_yet", 20, dict(exercise=1, target=0, source=1, t_us=0)),
        ("target_set_by_the_host", 21, dict(exercise=1, target=10000000, source=0, t_us=5000)),
        ("target_calibrated", 22, dict(exercise=5, target=1, source=2, t_us=123456789)),
        ("set_start", 23, dict(exercise=1, target=0, rate_hz=200, t_us=5000)),
        ("set_end", 24, dict(exercise=1, reps=10, partial_reps=1, dropped_samples=2,
                             link_dropped_samples=3000, t_us=4294967295)),
        ("boot", 25, dict(reset_cause=2, torn=1, fw_major=0, fw_minor=1, fw_patch=2)),
        ("log_info", 26, dict(boot_id=7, segments=3, first_seq=100, next_seq=350, bytes=9876,
                              free_bytes=121196, not_kept=0, torn=1)),
        ("log_data", 27, dict(from_seq=100, next_seq=102, data=(
            log_record(0x03, 7, 100, 1000, payload("rep", dict(
                exercise=1, count=1, t_start_us=1000000, t_peak_us=1500000, t_end_us=2100000,
                amplitude=25000, hold_ms=600)))
            + log_record(0x0F, 7, 101, 2500, payload("set_end", dict(
                exercise=1, reps=1, partial_reps=0, dropped_samples=0, link_dropped_samples=0,
                t_us=2500000)))).hex())),
        ("log_data_empty", 28, dict(from_seq=350, next_seq=350, data="")),
        ("time_mark", 29, dict(unix_ms=1765170000123)),
        ("start", 0, dict(rate_hz=200, channels=7)),
        ("stop", 1, {}),
        ("set_exercise", 2, dict(exercise=1, target=30000, on_pct=40, off_pct=20)),
        ("calibrate", 3, dict(what=0)),
        ("led", 4, dict(r=255, g=0, b=128, duration_ms=500)),
        ("buzzer", 5, dict(freq_hz=2000, duration_ms=150)),
        ("ping", 6, dict(host_time_us=1700000000123456)),
        ("get_config", 7, dict(key=1)),
        ("set_config", 8, dict(key=1, value=100)),
        ("reboot", 9, dict(mode=1)),
        ("get_info", 10, {}),
        ("get_status", 11, {}),
        ("pair", 12, dict(key=bytes(range(0x10, 0x30)).hex(), since=31561920000000)),
        ("unpair", 13, {}),
        ("challenge", 14, dict(nonce=bytes(range(0xF0, 0x100)).hex())),
        ("log_list", 15, {}),
        ("log_read", 16, dict(from_seq=4294967295)),
        ("log_confirm", 17, dict(upto_seq=349)),
        ("log_clear", 18, {}),
        ("mark_time", 19, dict(unix_ms=1765170000123)),
        ("ack_seq_wraps", 65535, dict(cmd_type=0x4B, cmd_seq=0)),
        ("ack_zero_in_every_byte", 0, dict(cmd_type=0, cmd_seq=0)),
    ]
    out = []
    for name, seq, fields in cases:
        # the longest type name the case is named after (log_info, not log)
        mtype = max((t for t in LAYOUTS if name == t or name.startswith(t + "_")), key=len)
        tid = LAYOUTS[mtype][0]
        out.append({"name": name, "wire": wire(body(tid, seq, payload(mtype, fields))),
                    "type": mtype, "seq": seq, "fields": fields})
    # a long run of non-zero bytes: COBS blocks of 254 (0xff codes)
    text = "".join(chr(0x41 + i % 26) for i in range(300))
    out.append({"name": "log_long_text", "wire": wire(body(0x07, 99, payload("log", dict(level=1, text=text[:255])))),
                "type": "log", "seq": 99, "fields": {"level": 1, "text": text[:255]}})
    # bytes after the last known field are ignored (fields may be appended in v1)
    out.append({"name": "ack_with_appended_field", "seq": 20, "type": "ack",
                "wire": wire(body(0x08, 20, payload("ack", dict(cmd_type=1, cmd_seq=2)) + b"\x07\x08")),
                "fields": {"cmd_type": 1, "cmd_seq": 2}})
    return out


def errors() -> list[dict]:
    ack = body(0x08, 1, payload("ack", dict(cmd_type=0x40, cmd_seq=3)))
    bad_crc = bytearray(ack)
    bad_crc[-1] ^= 0x01
    flipped = bytearray(ack)
    flipped[4] ^= 0x80
    enc = bytearray(cobs.encode(ack))
    enc[0] = len(enc) + 3  # the first code byte points past the end of the frame
    big = body(0x07, 1, bytes([1, 255]) + b"x" * 255 + bytes(248))  # 513-byte body
    big_nz = body(0x07, 1, b"\x01" * 505)                            # 513 bytes, no zeros
    samples_36 = body(0x02, 1, struct.pack("<IHB", 0, 5000, 36) + bytes(14 * 36))[:0]
    rows = [
        ("bad_crc_last_byte", bytes(bad_crc), "crc_errors"),
        ("bad_crc_payload_bit", bytes(flipped), "crc_errors"),
        ("truncated_7_bytes", ack[:7], "truncated"),
        ("truncated_1_byte", ack[:1], "truncated"),
        ("truncated_empty_body", b"", "truncated"),
        ("oversize_513_with_zeros", big, "oversize"),
        ("oversize_513_no_zeros", big_nz, "oversize"),
        ("version_2", body(0x08, 1, payload("ack", dict(cmd_type=1, cmd_seq=1)), version=2), "version_errors"),
        ("version_0", body(0x08, 1, payload("ack", dict(cmd_type=1, cmd_seq=1)), version=0), "version_errors"),
        ("unknown_type_0x7f", body(0x7F, 1, b"\x01\x02\x03"), "unknown_types"),
        ("unknown_type_0x00", body(0x00, 1, b""), "unknown_types"),
        ("ack_payload_short", body(0x08, 1, b"\x40\x03"), "malformed"),
        ("log_str_past_end", body(0x07, 1, b"\x01\x09abc"), "malformed"),
        ("log_str_not_utf8", body(0x07, 1, b"\x01\x02\xff\xfe"), "malformed"),
        ("samples_n_past_end", body(0x02, 1, struct.pack("<IHB", 0, 5000, 3) + bytes(14 * 2)), "malformed"),
        ("samples_n_36", body(0x02, 1, struct.pack("<IHB", 0, 5000, 36) + bytes(14 * 35)), "malformed"),
        ("samples_no_header", body(0x02, 1, b"\x00\x00"), "malformed"),
    ]
    del samples_36
    out = [{"name": n, "wire": wire(b), "error": e} for n, b, e in rows]
    out.append({"name": "cobs_code_past_end", "wire": (bytes(enc) + b"\x00").hex(), "error": "cobs_errors"})
    out.append({"name": "cobs_code_past_end_by_one", "wire": "05010203" + "00", "error": "cobs_errors"})
    return out


# ------------------------------------------------------------------ signing
# spec.md section 9, written out by hand: the trailer is link_id (u8),
# timestamp (u48, little-endian, 10 us since 2015-01-01T00:00:00Z) and a tag
# of 6 bytes, appended to the payload; tag = HMAC-SHA-256(key, version, type,
# seq, fields, link_id, timestamp)[:6]; the CRC-32 then covers the tag.
OWNER_KEY = bytes.fromhex("5a" * 8 + "a5" * 8 + "0123456789abcdef" * 2)
OTHER_KEY = bytes(range(32))
T0 = (1735689600 - 1420070400) * 100_000     # 2025-01-01T00:00:00Z in 10 us units
WINDOW = 6_000_000                            # 60 s: a new link may lag the newest timestamp this much


def signed_body(type_id: int, seq: int, pl: bytes, key: bytes, link_id: int, ts: int) -> tuple[bytes, bytes, bytes]:
    """(body, signed_bytes, tag) of a signed command."""
    head = struct.pack("<BBH", 1, type_id, seq) + pl + struct.pack("<B", link_id) + struct.pack("<Q", ts)[:6]
    tag = hmac.new(key, head, "sha256").digest()[:6]
    b = head + tag
    return b + struct.pack("<I", binascii.crc32(b)), head, tag


def signed() -> list[dict]:
    rows = []
    seq = [100]

    def add(name, mtype, fields, answer, key=OWNER_KEY, link_id=1, ts=None, mangle=None):
        tid = LAYOUTS[mtype][0]
        pl = payload(mtype, fields)
        s = seq[0]
        seq[0] += 1
        row = {"name": name, "type": mtype, "seq": s, "fields": fields}
        if key is None:
            b = body(tid, s, pl)
            row.update(key=None, link_id=None, timestamp=None, signed_bytes=None, tag=None)
        else:
            b, head, tag = signed_body(tid, s, pl, key, link_id, ts)
            row.update(key=key.hex(), link_id=link_id, timestamp=ts, signed_bytes=head.hex(),
                       tag=tag.hex())
        if mangle is not None:   # change a byte of the signed body, then make the CRC right again
            m = bytearray(b[:-4])
            mangle(m)
            b = bytes(m) + struct.pack("<I", binascii.crc32(bytes(m)))
        row["wire"] = wire(b)
        row["answer"] = answer
        rows.append(row)

    def again(name, of, answer):
        """The very bytes of an earlier vector, sent again."""
        rows.append(dict(next(r for r in rows if r["name"] == of), name=name, answer=answer))

    def flip_tag(m):
        m[-1] ^= 0x01

    def flip_field(m):
        m[4] ^= 0x40   # the first payload byte (led.r)

    led = dict(r=0, g=64, b=0, duration_ms=200)
    add("led_signed", "led", led, "ack", ts=T0)
    again("led_replayed", "led_signed", "replayed")
    add("set_config_signed", "set_config", dict(key=7, value=1), "ack", ts=T0 + 1)
    add("led_same_link_older_timestamp", "led", led, "replayed", ts=T0)
    add("led_same_link_equal_timestamp", "led", led, "replayed", ts=T0 + 1)
    add("buzzer_bad_tag", "buzzer", dict(freq_hz=2000, duration_ms=50), "unauthenticated",
        ts=T0 + 2, mangle=flip_tag)
    add("led_field_changed_after_signing", "led", led, "unauthenticated", ts=T0 + 3, mangle=flip_field)
    add("buzzer_wrong_key", "buzzer", dict(freq_hz=2000, duration_ms=50), "unauthenticated",
        key=OTHER_KEY, ts=T0 + 4)
    add("set_exercise_unsigned", "set_exercise", dict(exercise=1, target=20000, on_pct=0, off_pct=0),
        "unauthenticated", key=None)
    add("calibrate_unsigned", "calibrate", dict(what=2), "unauthenticated", key=None)
    add("reboot_unsigned", "reboot", dict(mode=0), "unauthenticated", key=None)
    add("pair_unsigned_when_owned", "pair", dict(key=OTHER_KEY.hex(), since=0), "unauthenticated", key=None)
    add("challenge_when_owned", "challenge", dict(nonce=NONCE.hex()), "ack", key=None)
    add("start_unsigned_other_rate", "start", dict(rate_hz=100, channels=7), "unauthenticated", key=None)
    add("get_status_unsigned", "get_status", {}, "ack", key=None)
    add("ping_unsigned", "ping", dict(host_time_us=5), "ack", key=None)
    add("set_exercise_link_2", "set_exercise", dict(exercise=1, target=20000, on_pct=0, off_pct=0),
        "ack", link_id=2, ts=T0 - 100)   # a new link: behind link 1, but within the window
    add("led_link_3_too_far_behind", "led", led, "replayed", link_id=3, ts=T0 + 1 - WINDOW - 1)
    add("led_link_3_at_the_window", "led", led, "ack", link_id=3, ts=T0 + 1 - WINDOW)
    add("led_link_2_after_link_1", "led", led, "ack", link_id=2, ts=T0 - 99)
    add("log_read_unsigned", "log_read", dict(from_seq=0), "ack", key=None)   # reading stays open
    add("log_clear_unsigned", "log_clear", {}, "unauthenticated", key=None)
    add("log_confirm_unsigned", "log_confirm", dict(upto_seq=10), "unauthenticated", key=None)
    add("log_confirm_signed", "log_confirm", dict(upto_seq=10), "ack", ts=T0 + 5)
    add("mark_time_unsigned", "mark_time", dict(unix_ms=1765170000123), "unauthenticated", key=None)
    add("mark_time_signed", "mark_time", dict(unix_ms=1765170000123), "ack", ts=T0 + 6)
    add("start_unsigned_own_rate", "start", dict(rate_hz=200, channels=7), "ack", key=None)
    add("stop_unsigned_own_stream", "stop", {}, "ack", key=None)
    add("unpair_unsigned_over_usb", "unpair", {}, "ack", key=None)
    add("led_unsigned_once_open", "led", led, "ack", key=None)
    add("challenge_once_open", "challenge", dict(nonce=NONCE.hex()), "bad_state", key=None)
    return rows


# a proof (spec.md section 9.6): the first 16 bytes of HMAC-SHA-256(key,
# "OpenPuck proof" || nonce (16 bytes) || newest (u64le))
PROOF_LABEL = b"OpenPuck proof"
NONCE = bytes.fromhex("00112233445566778899aabbccddeeff")


def proofs() -> list[dict]:
    rows = []
    for i, (name, key, nonce, newest) in enumerate((
            ("fresh_pair", OWNER_KEY, NONCE, 0),
            ("after_commands", OWNER_KEY, NONCE, T0 + 1),
            ("other_nonce", OWNER_KEY, bytes(16), T0 + 1),
            ("other_key", OTHER_KEY, NONCE, T0 + 1),
            ("newest_48_bits", OWNER_KEY, NONCE, 2**48 - 1))):
        msg = PROOF_LABEL + nonce + struct.pack("<Q", newest)
        tag = hmac.new(key, msg, "sha256").digest()[:16]
        rows.append({"name": name, "key": key.hex(), "nonce": nonce.hex(), "newest": newest,
                     "message": msg.hex(), "tag": tag.hex(),
                     "challenge_wire": wire(body(0x4E, 200 + i, payload("challenge", dict(nonce=nonce.hex())))),
                     "proof_wire": wire(body(0x0C, 300 + i, payload("proof", dict(
                         nonce=nonce.hex(), newest=newest, tag=tag.hex()))))})
    return rows


def render() -> dict[Path, str]:
    def lines(rows):
        return "".join(json.dumps(r, ensure_ascii=False, separators=(", ", ": ")) + "\n" for r in rows)
    return {OUT / "valid.jsonl": lines(valid()), OUT / "errors.jsonl": lines(errors()),
            OUT / "signed.jsonl": lines(signed()), OUT / "proof.jsonl": lines(proofs())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 if a vector file is stale")
    args = ap.parse_args(argv)
    stale = []
    for path, text in render().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            if args.check:
                stale.append(path.name)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                print(f"wrote {path}")
    if stale:
        print("stale: " + ", ".join(stale) + " (run python tools/gen_vectors.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

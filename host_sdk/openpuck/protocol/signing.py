"""Command signing (protocol/spec.md section 9), after MAVLink 2 message signing.

A signed command is its payload with a 13-byte trailer appended::

    link_id:u8  timestamp:u48 (little-endian, 10 us since 2015-01-01 UTC)  tag:6

    tag = HMAC-SHA-256(key, version, type, seq || fields || link_id || timestamp)[:6]

i.e. over every body byte before the tag; the frame's CRC-32 then covers the
tag. An owned puck proves it holds the key by answering a ``challenge`` with
a ``proof`` (:func:`proof`), which also tells the newest timestamp it accepted. The numbers come from ``[signing]`` in
protocol/messages.toml, which commands need it from each message's
``signed`` there.

    >>> frame = encode_signed("led", 7, sign_key=k, link_id=1, timestamp=now(),
    ...                       r=0, g=64, b=0, duration_ms=200)
"""
from __future__ import annotations

import binascii
import hashlib
import hmac
import struct
import time
from dataclasses import dataclass
from typing import Any

from . import _table
from .codec import CRC_SIZE, HEADER, HEADER_SIZE, SPECS, VERSION, ProtocolError, encode_payload
from .framing import cobs_decode, cobs_encode

SIGNING: dict[str, Any] = _table.SIGNING
TRAILER_SIZE: int = SIGNING["trailer_size"]
TAG_SIZE: int = SIGNING["tag_size"]
KEY_SIZE: int = SIGNING["key_size"]
UNIT_US: int = SIGNING["timestamp_unit_us"]
EPOCH_UNIX: int = SIGNING["timestamp_epoch_unix"]
WINDOW: int = SIGNING["window"]
BOOT_STEP: int = SIGNING["boot_step"]
NONCE_SIZE: int = SIGNING["nonce_size"]
PROOF_SIZE: int = SIGNING["proof_size"]
PROOF_LABEL: bytes = SIGNING["proof_label"].encode("ascii")
TIMESTAMP_MAX = 2**48 - 1

__all__ = ["SIGNING", "TRAILER_SIZE", "TAG_SIZE", "KEY_SIZE", "BOOT_STEP", "WINDOW", "Trailer",
           "policy", "usb_only", "timestamp_of", "now", "tag", "sign_payload", "encode_signed",
           "trailer_of", "verify", "NONCE_SIZE", "PROOF_SIZE", "proof", "redact"]


def policy(name: str) -> bool | str | None:
    """What an owned puck asks of command ``name``: True (always signed),
    ``"reader"`` (start/stop: signed unless a reader's), ``"off_usb"``
    (signed unless over USB), or None (never: anyone may send it)."""
    spec = SPECS.get(name)
    if spec is None:
        raise ProtocolError(f"unknown message {name!r}")
    return _MESSAGE[name].get("signed")


def usb_only(name: str) -> bool:
    """True for a command the puck accepts over USB only (pair)."""
    return bool(_MESSAGE[name].get("usb_only"))


_MESSAGE = {m["name"]: m for m in _table.MESSAGES}


def timestamp_of(unix_s: float) -> int:
    """The signing timestamp of a Unix time: 10 us units since 2015-01-01 UTC."""
    return int(round((unix_s - EPOCH_UNIX) * 1_000_000 / UNIT_US))


def now() -> int:
    """The signing timestamp of the wall clock now (not monotonic: see openpuck.device.keys.SigningClock)."""
    return timestamp_of(time.time())


def _check_key(key: bytes) -> bytes:
    if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_SIZE:
        raise ProtocolError(f"signing key: expected {KEY_SIZE} bytes, got "
                            f"{len(key) if isinstance(key, (bytes, bytearray)) else type(key).__name__}")
    return bytes(key)


def tag(key: bytes, signed_bytes: bytes) -> bytes:
    """The 6-byte tag of ``signed_bytes`` (every body byte before the tag) under ``key``."""
    return hmac.new(_check_key(key), bytes(signed_bytes), hashlib.sha256).digest()[:TAG_SIZE]


def proof(key: bytes, nonce: bytes, newest: int) -> bytes:
    """What an owned puck answers to a challenge with ``nonce``: the first
    PROOF_SIZE bytes of HMAC-SHA-256(key, PROOF_LABEL || nonce || newest:u64le).
    The label never starts a signed body (its first byte is the version), so
    no proof is ever a command's tag."""
    msg = PROOF_LABEL + bytes(nonce) + struct.pack("<Q", newest)
    return hmac.new(_check_key(key), msg, hashlib.sha256).digest()[:PROOF_SIZE]


def redact(data: bytes) -> bytes:
    """``data`` (wire bytes) with the key of every whole ``pair`` frame in it
    zeroed and its CRC made right again: what logs and recordings keep, so a
    file made to be shared never holds an owner key. Other bytes stay as they
    are. A pair frame cut across two writes is not recognised (the SDK writes
    whole frames)."""
    data = bytes(data)
    out = bytearray()
    start = 0
    while True:
        end = data.find(b"\x00", start)
        if end < 0:
            out += data[start:]
            return bytes(out)
        out += _redact_frame(data[start:end]) + b"\x00"
        start = end + 1


def _redact_frame(piece: bytes) -> bytes:
    """One COBS-encoded frame (without its 0x00): a pair's with its key zeroed, else as it is."""
    try:
        body = cobs_decode(piece) if piece else b""
    except Exception:  # noqa: BLE001 - not a frame: kept as it is
        return piece
    if len(body) < HEADER_SIZE + CRC_SIZE or body[1] != _PAIR_ID:
        return piece
    b = bytearray(body[:-CRC_SIZE])
    if len(b) > HEADER_SIZE:
        key = slice(HEADER_SIZE + 1, min(len(b), HEADER_SIZE + 1 + b[HEADER_SIZE]))
        b[key] = bytes(len(b[key]))
    return cobs_encode(bytes(b) + struct.pack("<I", binascii.crc32(bytes(b))))


_PAIR_ID = SPECS["pair"].id


def sign_payload(type_id: int, seq: int, payload: bytes, *, key: bytes, link_id: int,
                 timestamp: int) -> bytes:
    """``payload`` with its signature trailer appended."""
    if not 0 <= link_id <= 0xFF:
        raise ProtocolError(f"signing: link_id {link_id} must be 0..255")
    if not 0 <= timestamp <= TIMESTAMP_MAX:
        raise ProtocolError(f"signing: timestamp {timestamp} must fit 48 bits")
    head = bytes([link_id]) + struct.pack("<Q", timestamp)[:6]
    signed = HEADER.pack(VERSION, type_id, seq) + bytes(payload) + head
    return bytes(payload) + head + tag(key, signed)


def encode_signed(name: str, seq: int = 0, *, sign_key: bytes, link_id: int, timestamp: int,
                  checked: bool = True, **fields: Any) -> bytes:
    """One whole wire frame of command ``name`` with its signature trailer,
    signed with ``sign_key`` (``key`` is a field of set_config and pair)."""
    spec = SPECS.get(name)
    if spec is None:
        raise ProtocolError(f"unknown message {name!r}")
    if not isinstance(seq, int) or not 0 <= seq <= 0xFFFF:
        raise ProtocolError(f"{name}: seq {seq!r} must be an integer 0..65535")
    pl = sign_payload(spec.id, seq, encode_payload(name, checked=checked, **fields), key=sign_key,
                      link_id=link_id, timestamp=timestamp)
    body = HEADER.pack(VERSION, spec.id, seq) + pl
    return cobs_encode(body + struct.pack("<I", binascii.crc32(body))) + b"\x00"


@dataclass(frozen=True)
class Trailer:
    """The signature trailer of a body: its link id, timestamp and tag, and
    ``signed_bytes``, what the tag is computed over (after the key)."""

    link_id: int
    timestamp: int
    tag: bytes
    signed_bytes: bytes


def trailer_of(body: bytes) -> Trailer | None:
    """The trailer of a COBS-decoded body (CRC included), or None when the
    payload is too short to hold one. Whether it is one is for the tag to say."""
    body = bytes(body)
    end = len(body) - CRC_SIZE
    start = end - TRAILER_SIZE
    if start < HEADER_SIZE:
        return None
    lo, hi = struct.unpack_from("<IH", body, start + 1)
    return Trailer(body[start], lo | (hi << 32), body[end - TAG_SIZE:end], body[:end - TAG_SIZE])


def verify(body: bytes, key: bytes) -> Trailer | None:
    """The trailer of a body whose tag verifies under ``key``, else None."""
    t = trailer_of(body)
    if t is None or not hmac.compare_digest(tag(key, t.signed_bytes), t.tag):
        return None
    return t

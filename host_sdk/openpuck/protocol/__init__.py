"""OpenPuck wire protocol v1: encode and decode every message of messages.toml.

    >>> from openpuck import protocol
    >>> wire = protocol.encode("ack", seq=7, cmd_type=0x40, cmd_seq=3)
    >>> protocol.decode(wire)
    Message(type='ack', seq=7, fields={'cmd_type': 64, 'cmd_seq': 3})

See protocol/spec.md for the envelope and the message table.
"""
from __future__ import annotations

from ._table import ENUMS, EXERCISES, MESSAGES, PROTOCOL
from .codec import (BY_ID, CRC_SIZE, HEADER_SIZE, MAX_BODY, NAMES, SPECS, VERSION, Message,
                    ProtocolError, UnknownType, VersionError, decode, decode_body,
                    decode_payload, encode, encode_body, encode_payload, physical)
from .framing import cobs_decode, cobs_encode, crc32

__all__ = [
    "ENUMS", "EXERCISES", "MESSAGES", "PROTOCOL", "BY_ID", "CRC_SIZE", "HEADER_SIZE", "MAX_BODY",
    "NAMES", "SPECS", "VERSION", "Message", "ProtocolError", "UnknownType", "VersionError",
    "decode", "decode_body", "decode_payload", "encode", "encode_body", "encode_payload",
    "physical", "cobs_decode", "cobs_encode", "crc32",
]

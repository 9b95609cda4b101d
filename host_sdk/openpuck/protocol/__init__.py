"""OpenPuck wire protocol v1: encode and decode every message of messages.toml.

    >>> from openpuck import protocol
    >>> wire = protocol.encode("ack", seq=7, cmd_type=0x40, cmd_seq=3)
    >>> protocol.decode(wire)
    Message(type='ack', seq=7, fields={'cmd_type': 64, 'cmd_seq': 3})
    >>> protocol.TYPES["rep"].field("hold_ms").unit, protocol.ResetCause(2).label
    ('ms', 'watchdog')

The table is generated from protocol/*.toml (tools/gen_tables.py): typed as
:data:`TYPES` / :data:`MESSAGE_TYPES` (frozen dataclasses) and one enum per
``enums.*`` table (:class:`NackError`, :class:`Signal`, ... ; bit sets such as
:class:`Capability` are IntFlags), and as plain dicts (:data:`ENUMS`,
:data:`MESSAGES`, :data:`EXERCISES`). See protocol/spec.md for the envelope.
"""
from __future__ import annotations

from ._table import (
    ENUMS,
    EXERCISES,
    MESSAGE_TYPES,
    MESSAGES,
    PROTOCOL,
    SIGNAL_UNITS,
    CalibrateWhat,
    Capability,
    Channel,
    ConfigKey,
    EventKind,
    Field,
    LogLevel,
    MessageType,
    NackError,
    RateHz,
    RebootMode,
    Repeat,
    ResetCause,
    Signal,
    TargetSource,
    label,
)
from .codec import (
    BY_ID,
    CRC_SIZE,
    HEADER_SIZE,
    MAX_BODY,
    NAMES,
    SPECS,
    VERSION,
    Message,
    ProtocolError,
    UnknownType,
    VersionError,
    decode,
    decode_body,
    decode_payload,
    encode,
    encode_body,
    encode_payload,
    physical,
)
from .framing import cobs_decode, cobs_encode, crc32

#: every message type by name
TYPES: dict[str, MessageType] = {m.name: m for m in MESSAGE_TYPES}

__all__ = [
    "ENUMS", "EXERCISES", "MESSAGES", "PROTOCOL", "BY_ID", "CRC_SIZE", "HEADER_SIZE", "MAX_BODY",
    "NAMES", "SPECS", "VERSION", "Message", "ProtocolError", "UnknownType", "VersionError",
    "decode", "decode_body", "decode_payload", "encode", "encode_body", "encode_payload",
    "physical", "cobs_decode", "cobs_encode", "crc32",
    "MESSAGE_TYPES", "TYPES", "Field", "MessageType", "Repeat", "SIGNAL_UNITS", "label",
    "CalibrateWhat", "Capability", "Channel", "ConfigKey", "EventKind", "LogLevel", "NackError", "RateHz",
    "RebootMode", "ResetCause", "Signal", "TargetSource",
]

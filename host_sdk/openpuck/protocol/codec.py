"""Table-driven encoder and decoder of every message of protocol/messages.toml.

The layouts come from the generated ``_table.py``; nothing here names a
message except through the table. Fields are wire values (integers as sent,
floats for f32); see :func:`physical` for units.
"""
from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass, field
from typing import Any

from ..errors import OpenPuckError
from . import _table
from .framing import cobs_decode, cobs_encode

VERSION: int = _table.PROTOCOL["version"]
MAX_BODY: int = _table.PROTOCOL["max_body"]
HEADER = struct.Struct("<BBH")          # version, type, seq
CRC = struct.Struct("<I")
HEADER_SIZE = HEADER.size
CRC_SIZE = CRC.size

_FMT = {"u8": "B", "i8": "b", "u16": "H", "i16": "h", "u32": "I", "i32": "i",
        "u64": "Q", "f32": "f"}
_RANGE = {"u8": (0, 0xFF), "i8": (-0x80, 0x7F), "u16": (0, 0xFFFF), "i16": (-0x8000, 0x7FFF),
          "u32": (0, 0xFFFFFFFF), "i32": (-0x80000000, 0x7FFFFFFF), "u64": (0, 2**64 - 1)}


class ProtocolError(OpenPuckError, ValueError):
    """A message that cannot be encoded or a body that cannot be decoded."""


@dataclass
class Message:
    """One decoded message: its name, sequence number and wire values."""

    type: str
    seq: int
    fields: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]


class _Spec:
    """Compiled layout of one message type."""

    def __init__(self, m: dict) -> None:
        self.id: int = m["id"]
        self.name: str = m["name"]
        self.dir: str = m["dir"]
        self.doc: str = m.get("doc", "")
        self.fields: list[dict] = m["fields"]
        # runs of fixed-size fields packed with one struct, separated by str/bytes
        self.runs: list[tuple[str, Any]] = []
        fixed: list[dict] = []
        for f in self.fields:
            if f["type"] in ("str", "bytes"):
                if fixed:
                    self.runs.append(("fixed", (struct.Struct("<" + "".join(_FMT[x["type"]] for x in fixed)), fixed)))
                    fixed = []
                self.runs.append((f["type"], f))
            else:
                fixed.append(f)
        if fixed:
            self.runs.append(("fixed", (struct.Struct("<" + "".join(_FMT[x["type"]] for x in fixed)), fixed)))
        self._by_name = {f["name"]: f for f in self.fields}
        self.repeat: dict | None = m.get("repeat")
        if self.repeat is not None:
            rf = self.repeat["fields"]
            self.rec = struct.Struct("<" + "".join(_FMT[x["type"]] for x in rf))
            self.rec_names = tuple(x["name"] for x in rf)
            self.rec_types = tuple(x["type"] for x in rf)


    def field(self, name: str) -> dict:
        """The table's entry of field ``name`` (type, unit, scale, checks, unknown...)."""
        return self._by_name[name]


SPECS: dict[str, _Spec] = {m["name"]: _Spec(m) for m in _table.MESSAGES}
BY_ID: dict[int, _Spec] = {s.id: s for s in SPECS.values()}
NAMES: tuple[str, ...] = tuple(SPECS)


def _check_value(msg: str, f: dict, value: Any, checked: bool = True) -> Any:
    t = f["type"]
    where = f"{msg}.{f['name']}"
    if t == "f32":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ProtocolError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if t in ("str", "bytes"):
        if t == "str":
            if not isinstance(value, str):
                raise ProtocolError(f"{where}: expected a str, got {value!r}")
            raw = value.encode("utf-8")
        else:
            if not isinstance(value, (bytes, bytearray, memoryview)):
                raise ProtocolError(f"{where}: expected bytes, got {value!r}")
            raw = bytes(value)
        if len(raw) > 255:
            raise ProtocolError(f"{where}: {len(raw)} bytes, at most 255")
        if checked and "size" in f and len(raw) != f["size"]:
            raise ProtocolError(f"{where}: {len(raw)} bytes, the puck accepts exactly {f['size']}")
        return raw
    try:
        iv = int(value)
    except (TypeError, ValueError):
        raise ProtocolError(f"{where}: expected an integer, got {value!r}") from None
    if iv != value:
        raise ProtocolError(f"{where}: expected an integer, got {value!r}")
    lo, hi = _RANGE[t]
    if not lo <= iv <= hi:
        raise ProtocolError(f"{where}: {iv} out of range for {t} ({lo}..{hi})")
    if not checked:
        return iv
    allowed = allowed_values(f)
    if allowed is not None and iv not in allowed:
        raise ProtocolError(f"{where}: {iv} is not one the puck accepts ({', '.join(map(str, allowed))})")
    if ("min" in f or "max" in f) and not f.get("min", lo) <= iv <= f.get("max", hi):
        raise ProtocolError(f"{where}: {iv} out of range ({f.get('min', lo)}..{f.get('max', hi)})")
    return iv


def allowed_values(f: dict) -> tuple[int, ...] | None:
    """The values a command field may hold (its `values` or `enum` in the table), or None."""
    if "values" in f:
        return tuple(f["values"])
    if "enum" in f:
        if f["enum"] == "exercise":
            return tuple(e["id"] for e in _table.EXERCISES)
        return tuple(_table.ENUMS[f["enum"]].values())
    return None


def encode_payload(name: str, *, checked: bool = True, **fields: Any) -> bytes:
    """The payload of message ``name`` (no header, no CRC).

    checked=False skips the table's checks of what a puck accepts (values,
    enum, min/max), not the wire types: for testing that a puck refuses."""
    spec = SPECS.get(name)
    if spec is None:
        raise ProtocolError(f"unknown message {name!r}")
    records = None
    if spec.repeat is not None:
        rname, cname = spec.repeat["name"], spec.repeat["count"]
        if rname not in fields:
            raise ProtocolError(f"{name}.{rname}: missing")
        records = fields.pop(rname)
        try:
            count = len(records)
        except TypeError:
            raise ProtocolError(f"{name}.{rname}: expected a list of records") from None
        if cname not in fields:
            fields[cname] = count
        elif fields[cname] != count:
            raise ProtocolError(f"{name}.{cname}: says {fields[cname]} but {rname} holds {count}")
    known = {f["name"] for f in spec.fields}
    extra = set(fields) - known
    if extra:
        raise ProtocolError(f"{name}: unknown field(s) {', '.join(sorted(extra))}")
    out = bytearray()
    for kind, item in spec.runs:
        if kind == "fixed":
            st, fl = item
            vals = []
            for f in fl:
                if f["name"] not in fields:
                    raise ProtocolError(f"{name}.{f['name']}: missing")
                vals.append(_check_value(name, f, fields[f["name"]], checked))
            out += st.pack(*vals)
        else:
            f = item
            if f["name"] not in fields:
                raise ProtocolError(f"{name}.{f['name']}: missing")
            raw = _check_value(name, f, fields[f["name"]], checked)
            out.append(len(raw))
            out += raw
    if records is not None:
        out += _pack_records(spec, records)
    return bytes(out)


def _pack_records(spec: _Spec, records: Any) -> bytes:
    import numpy as np  # a dependency; imported late: most messages have no records
    if spec.repeat is None:
        raise ProtocolError(f"{spec.name}: has no records")
    rname = spec.repeat["name"]
    if isinstance(records, np.ndarray):
        width = len(spec.rec_names)
        if records.ndim != 2 or records.shape[1] != width:
            raise ProtocolError(f"{spec.name}.{rname}: expected shape (n, {width}), got {records.shape}")
        if records.dtype.kind not in "iu":
            raise ProtocolError(f"{spec.name}.{rname}: expected integer counts, got {records.dtype}")
        dt = np.dtype([(n, "<" + {"i16": "i2", "u16": "u2", "i8": "i1", "u8": "u1", "i32": "i4",
                                  "u32": "u4"}[t]) for n, t in zip(spec.rec_names, spec.rec_types)])
        out = np.empty(len(records), dt)
        for i, (n, t) in enumerate(zip(spec.rec_names, spec.rec_types)):
            lo, hi = _RANGE[t]
            col = records[:, i]
            if len(col) and (col.min() < lo or col.max() > hi):
                raise ProtocolError(f"{spec.name}.{rname}[].{n}: value out of range for {t} ({lo}..{hi})")
            out[n] = col
        return out.tobytes()
    buf = bytearray()
    rf = spec.repeat["fields"]
    for i, rec in enumerate(records):
        try:
            rec = tuple(rec)
        except TypeError:
            raise ProtocolError(f"{spec.name}.{rname}[{i}]: expected a {len(rf)}-tuple") from None
        if len(rec) != len(rf):
            raise ProtocolError(f"{spec.name}.{rname}[{i}]: expected {len(rf)} values, got {len(rec)}")
        buf += spec.rec.pack(*(_check_value(f"{spec.name}.{rname}[{i}]", f, v) for f, v in zip(rf, rec)))
    return bytes(buf)


def encode_body(name: str, seq: int = 0, *, checked: bool = True, **fields: Any) -> bytes:
    """The body of a frame: header, payload and CRC (before COBS)."""
    spec = SPECS.get(name)
    if spec is None:
        raise ProtocolError(f"unknown message {name!r}")
    if not isinstance(seq, int) or not 0 <= seq <= 0xFFFF:
        raise ProtocolError(f"{name}: seq {seq!r} must be an integer 0..65535")
    body = HEADER.pack(VERSION, spec.id, seq) + encode_payload(name, checked=checked, **fields)
    if len(body) + CRC_SIZE > MAX_BODY:
        raise ProtocolError(f"{name}: body of {len(body) + CRC_SIZE} bytes exceeds {MAX_BODY}")
    return body + CRC.pack(binascii.crc32(body))


def encode(name: str, seq: int = 0, *, checked: bool = True, **fields: Any) -> bytes:
    """One whole wire frame of message ``name``: COBS(body) and the final 0x00.

    A command field outside what the table says a puck accepts raises
    ProtocolError naming the allowed values; checked=False sends it anyway
    (to test that a puck refuses it)."""
    return cobs_encode(encode_body(name, seq, checked=checked, **fields)) + b"\x00"


def decode_payload(spec: _Spec | str, payload: bytes | memoryview) -> dict[str, Any]:
    """Wire values of a payload; trailing bytes after the last known field are ignored."""
    if isinstance(spec, str):
        spec = SPECS[spec]
    p = bytes(payload)
    out: dict[str, Any] = {}
    pos = 0
    for kind, item in spec.runs:
        if kind == "fixed":
            st, fl = item
            if pos + st.size > len(p):
                missing = _first_missing(fl, len(p) - pos)
                raise ProtocolError(f"{spec.name}.{missing}: payload too short "
                                    f"({len(p)} bytes)")
            for f, v in zip(fl, st.unpack_from(p, pos)):
                out[f["name"]] = v
            pos += st.size
        else:
            f = item
            if pos >= len(p):
                raise ProtocolError(f"{spec.name}.{f['name']}: payload too short ({len(p)} bytes)")
            n = p[pos]
            if pos + 1 + n > len(p):
                raise ProtocolError(f"{spec.name}.{f['name']}: length {n} runs past the payload end")
            raw = p[pos + 1:pos + 1 + n]
            if f["type"] == "str":
                try:
                    out[f["name"]] = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise ProtocolError(f"{spec.name}.{f['name']}: not valid UTF-8") from None
            else:
                out[f["name"]] = raw
            pos += 1 + n
    if spec.repeat is not None:
        rname, cname = spec.repeat["name"], spec.repeat["count"]
        count = out[cname]
        size = spec.rec.size
        if pos + count * size > len(p):
            raise ProtocolError(f"{spec.name}.{rname}: {cname}={count} records need "
                                f"{count * size} bytes, {len(p) - pos} left")
        out[rname] = [spec.rec.unpack_from(p, pos + i * size) for i in range(count)]
    return out


def _first_missing(fl: list[dict], avail: int) -> str:
    size = 0
    for f in fl:
        size += struct.calcsize("<" + _FMT[f["type"]])
        if size > avail:
            return f["name"]
    return fl[-1]["name"]  # pragma: no cover


class UnknownType(ProtocolError):
    """A message type this SDK does not know (skipped and counted by StreamDecoder)."""


class VersionError(ProtocolError):
    """A protocol version this SDK does not speak (skipped and counted by StreamDecoder)."""


def decode_body(body: bytes | memoryview, check_crc: bool = True) -> Message:
    """A COBS-decoded body (header, payload, CRC) as a :class:`Message`.

    The CRC is checked again unless ``check_crc`` is False.
    """
    body = bytes(body)
    if len(body) < HEADER_SIZE + CRC_SIZE:
        raise ProtocolError(f"body of {len(body)} bytes is shorter than header + CRC (8)")
    if len(body) > MAX_BODY:
        raise ProtocolError(f"body of {len(body)} bytes exceeds {MAX_BODY}")
    if check_crc:
        (crc,) = CRC.unpack_from(body, len(body) - CRC_SIZE)
        if crc != binascii.crc32(body[:-CRC_SIZE]):
            raise ProtocolError("CRC mismatch")
    version, type_id, seq = HEADER.unpack_from(body)
    if version != VERSION:
        raise VersionError(f"protocol version {version}, this SDK speaks {VERSION}")
    spec = BY_ID.get(type_id)
    if spec is None:
        raise UnknownType(f"unknown message type 0x{type_id:02x}")
    return Message(spec.name, seq, decode_payload(spec, body[HEADER_SIZE:-CRC_SIZE]))


def decode(frame: bytes) -> Message:
    """One whole wire frame (COBS, with or without the final 0x00) as a Message."""
    frame = bytes(frame)
    if frame.endswith(b"\x00"):
        frame = frame[:-1]
    try:
        body = cobs_decode(frame)
    except (ValueError, OpenPuckError) as e:  # the C core raises CoreError, the reference ValueError
        raise ProtocolError(f"not a valid COBS frame ({len(frame)} bytes): {e}") from e
    return decode_body(body)


def physical(msg: Message, scales: dict[str, float] | None = None) -> dict[str, Any]:
    """Field values in their units (wire x scale). Named scales (e.g.
    ``accel_g_per_lsb``) come from ``scales`` (the latest device_info fields)."""
    spec = SPECS[msg.type]
    out = dict(msg.fields)

    def scale_of(f: dict) -> float | None:
        s = f.get("scale")
        if s is None:
            return None
        if isinstance(s, str):
            if scales is None or s not in scales:
                raise ProtocolError(f"{msg.type}.{f['name']}: scale {s} unknown (no device_info yet)")
            return float(scales[s])
        return float(s)

    for f in spec.fields:
        s = scale_of(f)
        if s is not None:
            out[f["name"]] = msg.fields[f["name"]] * s
    if spec.repeat is not None:
        ss = [scale_of(f) for f in spec.repeat["fields"]]
        out[spec.repeat["name"]] = [tuple(v * s if s is not None else v for v, s in zip(rec, ss))
                                    for rec in msg.fields[spec.repeat["name"]]]
    return out


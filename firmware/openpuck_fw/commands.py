# Parsing and checking host-to-puck commands. Pure logic (MicroPython and
# CPython): parse() returns the field values or raises Nack with the error
# code of enums.nack_error and, in `detail`, the 1-based index of the
# offending field (0 when no single field is at fault). What each field may
# hold comes from the message table (msgtable.CHECKS); only the rules that
# tie fields together, or to the config, are written here.
import struct

from openpuck_fw import msgtable as mt
from openpuck_fw.config import DEFAULTS, valid


class Nack(Exception):
    def __init__(self, error, detail=0):
        super().__init__(error, detail)
        self.error = error
        self.detail = detail


_FMT = {"u8": "<B", "i8": "<b", "u16": "<H", "i16": "<h", "u32": "<I", "i32": "<i",
        "u64": "<Q", "f32": "<f"}


def parse(type_id, payload):
    """Field values of a command as a tuple, checked; raise Nack if refused."""
    lay = mt.LAYOUT.get(type_id)
    if lay is None or lay[mt.LAY_DIR] != "down":
        raise Nack(mt.NACK_ERROR_UNKNOWN_TYPE)
    fmt = lay[mt.LAY_FMT]
    if fmt is None:   # a bytes field (pair.key): field by field
        values = _parse_var(lay[mt.LAY_TYPES], payload)
    else:
        size = struct.calcsize(fmt)
        if len(payload) < size:
            raise Nack(mt.NACK_ERROR_BAD_LENGTH)
        # fields appended in a later minor version are ignored
        values = struct.unpack(fmt, payload[:size])
    check(type_id, values)
    return values


def _parse_var(types, payload):
    out = []
    pos = 0
    n = len(payload)
    for t in types:
        if t == "str" or t == "bytes":   # u8 length, then the bytes (kept raw)
            if pos >= n or pos + 1 + payload[pos] > n:
                raise Nack(mt.NACK_ERROR_BAD_LENGTH)
            k = payload[pos]
            out.append(bytes(payload[pos + 1:pos + 1 + k]))
            pos += 1 + k
        else:
            f = _FMT[t]
            size = struct.calcsize(f)
            if pos + size > n:
                raise Nack(mt.NACK_ERROR_BAD_LENGTH)
            out.append(struct.unpack_from(f, payload, pos)[0])
            pos += size
    return tuple(out)


def min_size(type_id):
    """The fewest payload bytes a command's fields take (a str or bytes field: its length byte)."""
    lay = mt.LAYOUT.get(type_id)
    if lay is None:
        return 0
    if lay[mt.LAY_FMT] is not None:
        return struct.calcsize(lay[mt.LAY_FMT])
    return sum(1 if t in ("str", "bytes") else struct.calcsize(_FMT[t]) for t in lay[mt.LAY_TYPES])


def check(type_id, v):
    for c in mt.CHECKS.get(type_id, ()):
        i = c[mt.CHK_FIELD]
        allowed = c[mt.CHK_VALUES]
        bounds = c[mt.CHK_BOUNDS]
        x = v[i]
        if isinstance(x, bytes):   # a bytes field's bounds are its length
            x = len(x)
        if (allowed is not None and x not in allowed) or (bounds is not None and not bounds[0] <= x <= bounds[1]):
            raise Nack(mt.NACK_ERROR_OUT_OF_RANGE, i + 1)
    if type_id == mt.T_SET_EXERCISE:
        on_pct = v[2] or thresholds(v[0])[0]
        if v[3] and v[3] >= on_pct:    # OFF must lie below ON
            raise Nack(mt.NACK_ERROR_OUT_OF_RANGE, 4)
    elif type_id == mt.T_GET_CONFIG:
        if v[0] == mt.CONFIG_KEY_DEVICE_NAME:
            raise Nack(mt.NACK_ERROR_UNSUPPORTED, 1)
        if v[0] not in DEFAULTS:
            raise Nack(mt.NACK_ERROR_OUT_OF_RANGE, 1)
    elif type_id == mt.T_SET_CONFIG:
        if v[0] == mt.CONFIG_KEY_DEVICE_NAME:
            raise Nack(mt.NACK_ERROR_UNSUPPORTED, 1)
        if v[0] not in DEFAULTS:
            raise Nack(mt.NACK_ERROR_OUT_OF_RANGE, 1)
        if not valid(v[0], v[1]):
            raise Nack(mt.NACK_ERROR_OUT_OF_RANGE, 2)


def thresholds(exercise_id):
    """Default (on_pct, off_pct) of an exercise."""
    e = mt.EXERCISES[exercise_id]
    return int(e[mt.EX_ON] * 100 + 0.5), int(e[mt.EX_OFF] * 100 + 0.5)

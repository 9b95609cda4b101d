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


def parse(type_id, payload):
    """Field values of a command as a tuple, checked; raise Nack if refused."""
    lay = mt.LAYOUT.get(type_id)
    if lay is None or lay[1] != "down":
        raise Nack(mt.NACK_ERROR_UNKNOWN_TYPE)
    fmt = lay[2]
    if fmt is None:  # no command carries a str
        raise Nack(mt.NACK_ERROR_UNKNOWN_TYPE)
    size = struct.calcsize(fmt)
    if len(payload) < size:
        raise Nack(mt.NACK_ERROR_BAD_LENGTH)
    # fields appended in a later minor version are ignored
    values = struct.unpack(fmt, payload[:size])
    check(type_id, values)
    return values


def check(type_id, v):
    for i, allowed, bounds in mt.CHECKS.get(type_id, ()):
        x = v[i]
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
    return int(e[3] * 100 + 0.5), int(e[4] * 100 + 0.5)

# Command parsing: every host-to-puck message, short payloads, unknown types
# and out-of-range fields. Pure logic: MicroPython and CPython.
import struct

from fwtest import check, done, eq
from openpuck_fw import msgtable as mt
from openpuck_fw.commands import Nack, min_size, parse


def nack_of(t, payload):
    try:
        parse(t, payload)
    except Nack as e:
        return (e.error, e.detail)
    return None


OK = None
R = mt.NACK_ERROR_OUT_OF_RANGE
good = {
    mt.T_START: struct.pack("<HB", 200, 7),
    mt.T_STOP: b"",
    mt.T_SET_EXERCISE: struct.pack("<BIBB", 3, 40000, 0, 0),
    mt.T_CALIBRATE: struct.pack("<B", 0),
    mt.T_LED: struct.pack("<BBBH", 1, 2, 3, 0),
    mt.T_BUZZER: struct.pack("<HH", 2000, 100),
    mt.T_PING: struct.pack("<Q", 2 ** 63 + 5),
    mt.T_GET_CONFIG: struct.pack("<B", 1),
    mt.T_SET_CONFIG: struct.pack("<Bi", 1, 100),
    mt.T_REBOOT: struct.pack("<B", 0),
    mt.T_GET_INFO: b"",
    mt.T_GET_STATUS: b"",
    mt.T_PAIR: b"\x20" + bytes(range(32)) + struct.pack("<Q", 2 ** 48 - 1),
    mt.T_UNPAIR: b"",
    mt.T_CHALLENGE: b"\x10" + bytes(range(16)),
    mt.T_LOG_LIST: b"",
    mt.T_LOG_READ: struct.pack("<I", 7),
    mt.T_LOG_CONFIRM: struct.pack("<I", 2 ** 32 - 1),
    mt.T_LOG_CLEAR: b"",
    mt.T_MARK_TIME: struct.pack("<Q", 1765170000123),
}
for t, p in good.items():
    eq("accepts %s" % mt.LAYOUT[t][0], nack_of(t, p), OK)
    if p:
        eq("short %s" % mt.LAYOUT[t][0], nack_of(t, p[:-1]), (mt.NACK_ERROR_BAD_LENGTH, 0))
    eq("appended bytes ignored %s" % mt.LAYOUT[t][0], nack_of(t, p + b"\x01\x02"), OK)
eq("ping value", parse(mt.T_PING, good[mt.T_PING]), (2 ** 63 + 5,))

eq("pair value: the key's bytes, since", parse(mt.T_PAIR, good[mt.T_PAIR]), (bytes(range(32)), 2 ** 48 - 1))
eq("challenge value: the nonce", parse(mt.T_CHALLENGE, good[mt.T_CHALLENGE]), (bytes(range(16)),))

for t in (0x00, 0x3F, 0x5F, 0x7F, 0xFF, mt.T_REP, mt.T_ACK, mt.T_SAMPLES):
    eq("unknown type 0x%02x" % t, nack_of(t, b"\x00" * 8), (mt.NACK_ERROR_UNKNOWN_TYPE, 0))

cases = [
    ("rate 150", mt.T_START, struct.pack("<HB", 150, 7), (R, 1)),
    ("rate 0", mt.T_START, struct.pack("<HB", 0, 7), (R, 1)),
    ("rate 400", mt.T_START, struct.pack("<HB", 400, 7), (R, 1)),
    ("no channels", mt.T_START, struct.pack("<HB", 100, 0), (R, 2)),
    ("unknown channel bit", mt.T_START, struct.pack("<HB", 100, 9), (R, 2)),
    ("rate 25", mt.T_START, struct.pack("<HB", 25, 4), OK),
    ("exercise 0", mt.T_SET_EXERCISE, struct.pack("<BIBB", 0, 0, 0, 0), (R, 1)),
    ("exercise 200", mt.T_SET_EXERCISE, struct.pack("<BIBB", 200, 0, 0, 0), (R, 1)),
    ("auto target", mt.T_SET_EXERCISE, struct.pack("<BIBB", 1, 0, 0, 0), OK),
    ("huge target", mt.T_SET_EXERCISE, struct.pack("<BIBB", 1, 2 ** 32 - 1, 0, 0), (R, 2)),
    ("on 101", mt.T_SET_EXERCISE, struct.pack("<BIBB", 1, 1000, 101, 0), (R, 3)),
    ("off >= on", mt.T_SET_EXERCISE, struct.pack("<BIBB", 1, 1000, 30, 30), (R, 4)),
    ("off >= default on", mt.T_SET_EXERCISE, struct.pack("<BIBB", 1, 1000, 0, 100), (R, 4)),
    ("on/off given", mt.T_SET_EXERCISE, struct.pack("<BIBB", 1, 1000, 60, 30), OK),
    ("calibrate 3", mt.T_CALIBRATE, struct.pack("<B", 3), (R, 1)),
    ("buzzer 99 Hz", mt.T_BUZZER, struct.pack("<HH", 99, 100), (R, 1)),
    ("buzzer 8001 Hz", mt.T_BUZZER, struct.pack("<HH", 8001, 100), (R, 1)),
    ("buzzer 0 ms", mt.T_BUZZER, struct.pack("<HH", 1000, 0), (R, 2)),
    ("buzzer 5001 ms", mt.T_BUZZER, struct.pack("<HH", 1000, 5001), (R, 2)),
    ("get unknown key", mt.T_GET_CONFIG, struct.pack("<B", 99), (R, 1)),
    ("get device_name", mt.T_GET_CONFIG, struct.pack("<B", 6), (mt.NACK_ERROR_UNSUPPORTED, 1)),
    ("set rate 300", mt.T_SET_CONFIG, struct.pack("<Bi", 1, 300), (R, 2)),
    ("set accel 3 g", mt.T_SET_CONFIG, struct.pack("<Bi", 2, 3), (R, 2)),
    ("set gyro 2000", mt.T_SET_CONFIG, struct.pack("<Bi", 3, 2000), OK),
    ("set exercise 8", mt.T_SET_CONFIG, struct.pack("<Bi", 4, 8), OK),
    ("set negative target", mt.T_SET_CONFIG, struct.pack("<Bi", 5, -5), (R, 2)),
    ("set feedback 4", mt.T_SET_CONFIG, struct.pack("<Bi", 7, 4), (R, 2)),
    ("set ble 2", mt.T_SET_CONFIG, struct.pack("<Bi", 8, 2), (R, 2)),
    ("set key 0", mt.T_SET_CONFIG, struct.pack("<Bi", 0, 1), (R, 1)),
    ("reboot mode 2", mt.T_REBOOT, struct.pack("<B", 2), (R, 1)),
    ("pair key of 31 bytes", mt.T_PAIR, b"\x1f" + bytes(31 + 8), (R, 1)),
    ("pair key of 33 bytes", mt.T_PAIR, b"\x21" + bytes(33 + 8), (R, 1)),
    ("pair since past 48 bits", mt.T_PAIR, b"\x20" + bytes(32) + struct.pack("<Q", 2 ** 48), (R, 2)),
    ("pair without since", mt.T_PAIR, b"\x20" + bytes(32), (mt.NACK_ERROR_BAD_LENGTH, 0)),
    ("challenge nonce of 15 bytes", mt.T_CHALLENGE, b"\x0f" + bytes(15), (R, 1)),
    ("pair key length past the end", mt.T_PAIR, b"\x20" + bytes(31), (mt.NACK_ERROR_BAD_LENGTH, 0)),
    ("pair empty", mt.T_PAIR, b"", (mt.NACK_ERROR_BAD_LENGTH, 0)),
    ("mark_time 0", mt.T_MARK_TIME, struct.pack("<Q", 0), (R, 1)),
    ("mark_time past 48 bits", mt.T_MARK_TIME, struct.pack("<Q", 2 ** 48), (R, 1)),
]
for name, t, p, want in cases:
    eq(name, nack_of(t, p), want)
# the fewest bytes each command's fields take: a signature trailer starts after them
eq("min_size start", min_size(mt.T_START), 3)
eq("min_size stop", min_size(mt.T_STOP), 0)
eq("min_size pair: the key's length byte and since", min_size(mt.T_PAIR), 9)
check("every down message covered", all(t in good for t, lay in mt.LAYOUT.items() if lay[mt.LAY_DIR] == "down"))
# dispatch: one handler per command, keyed by the generated command ids
from openpuck_fw.dispatch import HANDLERS  # noqa: E402

eq("a handler for every down message, none for an up message",
   sorted(HANDLERS), sorted(t for t, lay in mt.LAYOUT.items() if lay[mt.LAY_DIR] == "down"))
check("each handler is a function of its own", len(set(HANDLERS.values())) == len(HANDLERS))
done()

# Frames through the firmware codec, and the golden vectors of
# protocol/vectors/*.jsonl replayed through it. Pure logic: MicroPython and CPython.
import json
import struct

from fwtest import check, done, eq, hexs, unhex
from openpuck_fw import msgtable as mt
from openpuck_fw.commands import Nack, parse
from openpuck_fw.protocol import ERROR, FRAME, NONE, Encoder, FrameDecoder

NAMES = {}
for tid, lay in mt.LAYOUT.items():
    NAMES[lay[0]] = tid


def unpack_payload(tid, payload):
    """Field values of any message from its payload (str fields included)."""
    lay = mt.LAYOUT[tid]
    fmts = {"u8": "<B", "i8": "<b", "u16": "<H", "i16": "<h", "u32": "<I", "i32": "<i",
            "u64": "<Q", "f32": "<f"}
    out = []
    o = 0
    for t in lay[4]:
        if t == "str" or t == "bytes":
            n = payload[o]
            raw = bytes(payload[o + 1:o + 1 + n])
            out.append(raw.decode() if t == "str" else raw)
            o += 1 + n
        else:
            out.append(struct.unpack_from(fmts[t], payload, o)[0])
            o += struct.calcsize(fmts[t])
    return out, o


def feed_all(dec, wire):
    results = []
    for b in wire:
        r = dec.feed_byte(b)
        if r != NONE:
            results.append(r)
    return results


# -- round trip: the encoder's frames come back through the decoder
enc = Encoder()
dec = FrameDecoder()
w = enc.message(mt.T_ACK, 0x40, 7)
eq("ack frame ends with 0", w[-1], 0)
eq("ack decodes", feed_all(dec, w), [FRAME])
eq("ack type", dec.type, mt.T_ACK)
eq("ack payload", struct.unpack("<BH", dec.payload), (0x40, 7))
w2 = enc.message(mt.T_ACK, 0x41, 8)
feed_all(dec, w2)
eq("seq increments", dec.seq, 1)

# a corrupted frame is counted and the next good one still decodes
bad = bytearray(w)
bad[5] ^= 0x80  # never makes a 0x00
eq("bad crc is an error", feed_all(dec, bytes(bad) + w), [ERROR, FRAME])
eq("rx_errors counts it", dec.rx_errors, 1)
# an empty frame (a lone delimiter) is a resync, not an error
eq("lone zero", feed_all(dec, b"\x00\x00"), [])
# garbage longer than any frame is dropped up to the next delimiter
eq("oversize", feed_all(dec, b"\x01" * 700 + b"\x00" + w), [ERROR, FRAME])
eq("rx_errors after oversize", dec.rx_errors, 2)

# samples frame from packed rows
rows = bytearray(14 * 3)
for i in range(3):
    struct.pack_into(mt.SAMPLE_FMT, rows, 14 * i, i, -i, 8192, 0, 1, -1, 65535)
sf = bytes(enc.samples_frame(0xFFFFFFF0, 5000, 3, rows, len(rows)))
eq("samples decodes", feed_all(dec, sf), [FRAME])
eq("samples head", struct.unpack_from("<IHB", dec.payload), (0xFFFFFFF0, 5000, 3))
eq("samples row 2", struct.unpack_from(mt.SAMPLE_FMT, dec.payload, 7 + 28), (2, -2, 8192, 0, 1, -1, 65535))

# -- golden vectors
n_valid = 0
with open("protocol/vectors/valid.jsonl") as f:
    for line in f:
        v = json.loads(line)
        name = v["name"]
        wire = unhex(v["wire"])
        d = FrameDecoder()
        if feed_all(d, wire) != [FRAME]:
            check("vector " + name + " decodes", False)
            continue
        tid = NAMES[v["type"]]
        eq("vector %s type" % name, d.type, tid)
        eq("vector %s seq" % name, d.seq, v["seq"])
        fields = v["fields"]
        lay = mt.LAYOUT[tid]
        if lay[1] == "down":
            try:
                got = parse(tid, d.payload)
                # a bytes field is hex in the vectors (spec.md section 8)
                eq("vector %s fields" % name, list(got),
                   [unhex(fields[k]) if t == "bytes" else fields[k] for k, t in zip(lay[3], lay[4])])
            except Nack as e:
                # the vectors hold any wire value; the puck may refuse a value it does not allow
                check("vector %s refused only out of range" % name, e.error == mt.NACK_ERROR_OUT_OF_RANGE
                      or e.error == mt.NACK_ERROR_UNSUPPORTED)
        else:
            got, used = unpack_payload(tid, d.payload)
            # a bytes field is hex in the vectors (spec.md section 8)
            want = [unhex(fields[k]) if t == "bytes" else fields[k] for k, t in zip(lay[3], lay[4])]
            eq("vector %s fields" % name, got, want)
            # the puck's encoder gives the same bytes (unless the vector appends unknown fields)
            e = Encoder()
            e.seq = v["seq"]
            if tid == mt.T_SAMPLES:
                rows = bytearray(14 * fields["n"])
                for i, s in enumerate(fields["samples"]):
                    struct.pack_into(mt.SAMPLE_FMT, rows, 14 * i, *s)
                again = bytes(e.samples_frame(fields["t0_us"], fields["period_us"], fields["n"], rows, len(rows)))
            else:
                again = e.message(tid, *want)
            if used == len(d.payload) and tid != mt.T_SAMPLES or tid == mt.T_SAMPLES:
                eq("vector %s re-encodes" % name, hexs(again), v["wire"])
        n_valid += 1
check("valid vectors read", n_valid >= 30)

n_err = 0
with open("protocol/vectors/errors.jsonl") as f:
    for line in f:
        v = json.loads(line)
        name = v["name"]
        kind = v["error"]
        d = FrameDecoder()
        res = feed_all(d, unhex(v["wire"]))
        if kind in ("unknown_types", "malformed"):
            # a well-formed frame; the command layer refuses it (with a nack)
            if res == [FRAME]:
                try:
                    parse(d.type, d.payload)
                    refused = mt.LAYOUT.get(d.type, ("", "down"))[1] == "up"
                except Nack:
                    refused = True
                check("vector %s refused" % name, refused)
            else:
                check("vector %s counted" % name, res == [ERROR] and d.rx_errors == 1, repr(res))
        else:
            check("vector %s is an error" % name, FRAME not in res and d.rx_errors == 1,
                  "%r rx_errors=%d" % (res, d.rx_errors))
        n_err += 1
check("error vectors read", n_err >= 10)
done()

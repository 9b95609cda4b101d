# COBS and CRC-32 of the firmware codec. Pure logic: MicroPython and CPython.
from fwtest import Lcg, check, done, eq, hexs, raises
from openpuck_fw.protocol import cobs_decode, cobs_encode, cobs_encode_into, crc32, frame_encode_into

# CRC-32/ISO-HDLC check value
eq("crc check value", crc32(b"123456789") & 0xFFFFFFFF, 0xCBF43926)
eq("crc empty", crc32(b"") & 0xFFFFFFFF, 0)

# COBS: the examples of the original paper / Wikipedia
cases = [
    (b"\x00", "010100"),
    (b"\x00\x00", "01010100"),
    (b"\x00\x11\x00", "0102110100"),
    (b"\x11\x22\x00\x33", "0311220233" + "00"),
    (b"\x11\x22\x33\x44", "051122334400"),
    (b"\x11\x00\x00\x00", "0211010101" + "00"),
]
for raw, want in cases:
    eq("encode " + hexs(raw), hexs(cobs_encode(raw)), want)
    eq("decode " + hexs(raw), cobs_decode(cobs_encode(raw)[:-1]), raw)

# runs around the 254-byte block limit: canonical form, no empty last block
run254 = bytes(range(1, 255))
enc = cobs_encode(run254)
eq("254 run length", len(enc), 256)
eq("254 run head", enc[0], 0xFF)
eq("254 run tail", enc[-1], 0)
run255 = bytes(range(1, 256))
enc = cobs_encode(run255)
eq("255 run", hexs(enc[:1]) + hexs(enc[255:]), "ff02ff00")
eq("0 + 254 run", hexs(cobs_encode(b"\x00" + run254)[:2]), "01ff")

# round trips of pseudo-random data with many zeros
rng = Lcg(42)
ok = True
for trial in range(200):
    n = rng.next(600)
    data = bytes(0 if rng.next(4) == 0 else rng.next(256) for _ in range(n))
    enc = cobs_encode(data)
    if 0 in enc[:-1] or enc[-1] != 0 or cobs_decode(enc[:-1]) != data:
        ok = False
        print("round trip failed at", trial, n)
        break
check("random round trips", ok)

# the encoder the frames use (viper machine code under MicroPython, where the
# port has a native emitter) gives the reference encoder's bytes
rng = Lcg(7)
same = True
for trial in range(300):
    n = rng.next(520) if trial > 3 else (0, 1, 254, 255)[trial]
    src = bytearray(0 if rng.next(3) == 0 else rng.next(256) for _ in range(n))
    if trial % 50 == 1:
        src = bytearray(1 + rng.next(255) for _ in range(n))   # long runs without zeros
    a = bytearray(n + n // 254 + 2)
    b = bytearray(n + n // 254 + 2)
    if cobs_encode_into(src, n, a) != frame_encode_into(src, n, b) or a != b:
        same = False
        print("frame encoder differs at", trial, n)
        break
check("frame encoder = reference encoder", same)

# malformed COBS is refused
raises("zero inside", ValueError, cobs_decode, b"\x03\x01\x00")
raises("code past end", ValueError, cobs_decode, b"\x05\x01\x02")
done()

# Command signing on the puck (protocol/spec.md section 9): the tag of every
# golden vector, the trailer's parts, the replay rule, the persisted mark
# across a reboot, the owner key in the config file. Pure logic: MicroPython
# and CPython. argv[1]: an empty scratch directory (the puck's flash).
import json
import struct
import sys

from fwtest import check, done, eq, raises, unhex
from openpuck_fw import config as cf
from openpuck_fw import msgtable as mt
from openpuck_fw import signing
from openpuck_fw.commands import min_size
from openpuck_fw.protocol import cobs_decode

VECTORS = [json.loads(line) for line in open("protocol/vectors/signed.jsonl").read().splitlines()]
OWNER = unhex(VECTORS[0]["key"])

check("this port has hashlib.sha256", signing.AVAILABLE)

# every signed vector: the puck's tag of its signed bytes is the vector's tag,
# and the trailer splits into the vector's link id and timestamp
n_signed = 0
for v in VECTORS:
    if v["key"] is None:
        continue
    n_signed += 1
    key = unhex(v["key"])
    eq(v["name"] + ": tag of signed_bytes", signing.tag(key, unhex(v["signed_bytes"])), unhex(v["tag"]))
    body = cobs_decode(unhex(v["wire"])[:-1])
    t, seq, payload = body[1], body[2] | (body[3] << 8), body[4:-4]
    got = signing.split(t, seq, payload, OWNER, min_size(t))
    if v["answer"] == "unauthenticated":   # a changed byte or another key: no owner's tag
        eq(v["name"] + ": the tag does not verify", got, None)
        continue
    check(v["name"] + ": the tag verifies", got is not None)
    if got is not None:
        eq(v["name"] + ": link id and timestamp", got[1:], (v["link_id"], v["timestamp"]))
        eq(v["name"] + ": the fields before the trailer", len(got[0]), len(payload) - mt.SIGN_TRAILER_SIZE)
        eq(v["name"] + ": signed bytes = header + payload up to the tag",
           struct.pack("<BBH", 1, t, seq) + payload[:-mt.SIGN_TAG_SIZE], unhex(v["signed_bytes"]))
check("vectors hold signed commands", n_signed >= 10, n_signed)

# HMAC-SHA-256 written from hashlib (RFC 2104) against RFC 4231's test cases 2
# (a short key) and 6 (a key longer than the block: hashed first)
eq("RFC 4231 case 2", signing.hmac_sha256(b"Jefe", b"what do ya want for nothing?"),
   unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
eq("RFC 4231 case 6", signing.hmac_sha256(b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First"),
   unhex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"))
eq("the pads follow the key", signing.hmac_sha256(b"Jefe", b"x") != signing.hmac_sha256(b"Jeff", b"x"), True)

# the proof of the key: every golden vector (CPython's hmac)
PROOFS = [json.loads(line) for line in open("protocol/vectors/proof.jsonl").read().splitlines()]
for v in PROOFS:
    eq(v["name"] + ": proof tag", signing.proof(unhex(v["key"]), unhex(v["nonce"]), v["newest"]), unhex(v["tag"]))
    eq(v["name"] + ": what it authenticates", mt.SIGN_PROOF_LABEL + unhex(v["nonce"]) + struct.pack("<Q", v["newest"]),
       unhex(v["message"]))
check("no proof message starts like a signed body (the version byte)", mt.SIGN_PROOF_LABEL[0] != mt.PROTOCOL_VERSION)

# what split refuses: no key, a payload too short for fields + trailer, any changed byte
v = VECTORS[0]
body = cobs_decode(unhex(v["wire"])[:-1])
payload = body[4:-4]
eq("no owner key: nothing verifies", signing.split(body[1], 100, payload, None, 5), None)
eq("fields + trailer need more bytes", signing.split(body[1], 100, payload[1:], OWNER, 5), None)
eq("another seq: the tag does not verify", signing.split(body[1], 101, payload, OWNER, 5), None)
eq("another type: the tag does not verify", signing.split(mt.T_BUZZER, 100, payload, OWNER, 4), None)
bad = 0
for i in range(len(payload)):
    p = bytearray(payload)
    p[i] ^= 0x04
    if signing.split(body[1], 100, bytes(p), OWNER, 5) is not None:
        bad += 1
eq("every changed payload byte (fields, link id, timestamp, tag) is caught", bad, 0)
eq("same: equal", signing.same(b"abc", b"abc"), True)
eq("same: differs in the last byte", signing.same(b"abc", b"abd"), False)
eq("same: differs in length", signing.same(b"abc", b"ab"), False)

# the replay rule
T = 31561920000000
r = signing.Replay()
check("fresh puck: any timestamp on a new link", r.fresh(1, T))
eq("the first accepted timestamp sets the mark a boot step ahead", r.accept(1, T), T + mt.SIGN_BOOT_STEP)
check("same link, same timestamp: refused", not r.fresh(1, T))
check("same link, older: refused", not r.fresh(1, T - 1))
check("same link, newer: accepted", r.fresh(1, T + 1))
eq("below the mark: nothing to persist", r.accept(1, T + 1), None)
check("a new link may lag the newest by the window", r.fresh(2, T + 1 - mt.SIGN_WINDOW))
check("a new link lagging more than the window: refused", not r.fresh(2, T - mt.SIGN_WINDOW))
r.accept(2, T - 50)
check("each link has its own counter", r.fresh(2, T - 49) and not r.fresh(2, T - 50))
eq("the mark is written again only when a timestamp reaches it",
   r.accept(1, T + mt.SIGN_BOOT_STEP), T + 2 * mt.SIGN_BOOT_STEP)
# more links than the puck keeps: the stalest is forgotten, and its timestamps stay refused
r = signing.Replay()
for link in range(mt.SIGN_LINKS):
    r.accept(link, T + 1000 * link)
eq("links kept", len(r.last), mt.SIGN_LINKS)
r.accept(200, T + 100000)
eq("still at most SIGN_LINKS links", len(r.last), mt.SIGN_LINKS)
check("the stalest link is the one forgotten", 0 not in r.last and 200 in r.last)
check("a forgotten link cannot be replayed", not r.fresh(0, T))
eq("the floor took the forgotten link's last timestamp", r.floor, T)
check("a forgotten link goes on above it", r.fresh(0, T + 1))

# the owner key and the mark in the config file; a reboot keeps both
path = sys.argv[1] + "/openpuck.cfg"
c = cf.Config(path)
eq("a new puck is open", c.owner_key, None)
o = signing.Owner(c)
check("open: not owned", not o.owned())
o.pair(OWNER)
check("paired: owned", o.owned())
c2 = cf.Config(path)
eq("the owner key survives a reboot", c2.owner_key, OWNER)
v = VECTORS[0]
body = cobs_decode(unhex(v["wire"])[:-1])
verdict, fields = o.check(body[1], 100, body[4:-4], min_size(body[1]))
eq("the owner's led: accepted", verdict, signing.OK)
eq("its fields, without the trailer", fields, struct.pack("<BBBH", 0, 64, 0, 200))
eq("the mark is in flash before the command is obeyed", cf.Config(path).sign_mark,
   v["timestamp"] + mt.SIGN_BOOT_STEP)
eq("sent again: replayed", o.check(body[1], 100, body[4:-4], min_size(body[1]))[0], signing.REPLAYED)
eq("unsigned: bad", o.check(mt.T_LED, 3, struct.pack("<BBBH", 1, 2, 3, 0), 5)[0], signing.BAD)
# reboot: the same frame, on a link the new boot has never seen, is still refused
o2 = signing.Owner(cf.Config(path))
eq("after a reboot: the captured frame is refused", o2.check(body[1], 100, body[4:-4], 5)[0],
   signing.REPLAYED)
check("after a reboot: a timestamp just below the mark is refused",
      not o2.replay.fresh(9, v["timestamp"] + mt.SIGN_BOOT_STEP))
check("after a reboot: above the mark is accepted",
      o2.replay.fresh(9, v["timestamp"] + mt.SIGN_BOOT_STEP + 1))
o2.unpair()
c3 = cf.Config(path)
eq("unpaired: the key is gone from flash", c3.owner_key, None)
eq("unpaired: the mark stays (the floor never goes back)", c3.sign_mark, v["timestamp"] + mt.SIGN_BOOT_STEP)
check("the key is nowhere in the file once unpaired", OWNER not in open(path, "rb").read())
# a mark that cannot be saved (the flash full): the command is refused and
# the replay state stays as it was, so nothing is obeyed above the stored mark
path = sys.argv[1] + "/full.cfg"
o = signing.Owner(cf.Config(path))
o.pair(OWNER)


def led_at(ts, link=1):
    pl = struct.pack("<BBBH", 0, 64, 0, 200) + struct.pack("<B", link) + struct.pack("<Q", ts)[:6]
    head = struct.pack("<BBH", 1, mt.T_LED, 5) + pl
    return pl + signing.tag(OWNER, head)


o = signing.Owner(cf.Config(path))
eq("led at T: accepted, mark saved", o.check(mt.T_LED, 5, led_at(T), 5)[0], signing.OK)
stored = cf.Config(path).sign_mark
eq("the stored mark", stored, T + mt.SIGN_BOOT_STEP)


def full():
    raise OSError(28)


o.config.save = full
raises("a timestamp that reaches the mark, the flash full: OSError", OSError, o.check, mt.T_LED, 5,
       led_at(stored + 5), 5)
eq("the mark in RAM is the stored one", (o.replay.mark, o.config.sign_mark), (stored, stored))
eq("the link's last timestamp did not move", o.replay.last[1], T)
raises("the next one above the stored mark: refused too (it needs the save)", OSError, o.check, mt.T_LED, 5,
       led_at(stored + 6), 5)
del o.config.save
eq("the flash writable again: the same timestamp is accepted",
   o.check(mt.T_LED, 5, led_at(stored + 5), 5)[0], signing.OK)
eq("...its mark stored first", cf.Config(path).sign_mark, stored + 5 + mt.SIGN_BOOT_STEP)

# far-future timestamps: pairing starts the new key's replay state at the
# pair's `since`, so one signed timestamp at 2^48 - 1 (or a host clock years
# ahead) locks nothing out once the owner pairs again
path = sys.argv[1] + "/future.cfg"
o = signing.Owner(cf.Config(path))
o.pair(OWNER, T)
eq("pair: floor, newest and mark are since", (o.replay.floor, o.replay.newest, o.replay.mark), (T, T, T))
eq("...and the mark is stored with the key", (cf.Config(path).owner_key, cf.Config(path).sign_mark), (OWNER, T))
check("pair: a timestamp at since is refused", not o.replay.fresh(1, T))
check("pair: above since is accepted", o.replay.fresh(1, T + 1))
eq("a signed timestamp at 2^48 - 1: accepted", o.check(mt.T_LED, 5, led_at(2 ** 48 - 1), 5)[0], signing.OK)
eq("then the owner's next one, on another link: replayed", o.check(mt.T_LED, 5, led_at(T + 10, 2), 5)[0],
   signing.REPLAYED)
o.unpair()
NEW = bytes(range(100, 132))
o.pair(NEW, T + 20)
eq("paired again (a new key, since the host's clock): the owner's commands are accepted",
   signing.Owner(cf.Config(path)).replay.fresh(1, T + 21) and o.replay.fresh(1, T + 21), True)
eq("...after a reboot too", signing.Owner(cf.Config(path)).replay.newest, T + 20)
o.pair(OWNER, T + 30)
eq("a key paired again: its old frames up to since stay refused",
   o.check(mt.T_LED, 5, led_at(T + 25), 5)[0], signing.REPLAYED)
eq("...and it signs on above since", o.check(mt.T_LED, 5, led_at(T + 31), 5)[0], signing.OK)
newest, tag = o.proof(bytes(16))
eq("the proof names the newest accepted timestamp", newest, T + 31)
eq("...under the owner key", tag, signing.proof(OWNER, bytes(16), T + 31))

# a version 1 file (before signing) still loads: open, mark 0
with open(path, "wb") as f:
    f.write(b"OPC1\x01" + struct.pack("<Bi", mt.CONFIG_KEY_RATE_HZ, 100)
            + struct.pack("<I", cf.crc32(b"OPC1\x01" + struct.pack("<Bi", mt.CONFIG_KEY_RATE_HZ, 100)) & 0xFFFFFFFF))
c4 = cf.Config(path)
eq("a version 1 file: its values", c4.get(mt.CONFIG_KEY_RATE_HZ), 100)
eq("a version 1 file: open, mark 0", (c4.owner_key, c4.sign_mark), (None, 0))
done()

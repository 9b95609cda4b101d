# Command signing on the puck (protocol/spec.md section 9, after MAVLink 2
# message signing): the signature trailer, the replay rule and the proof of
# the key. Pure logic: MicroPython and CPython.
#
# A signed command's payload ends with a 13-byte trailer:
#     link_id:u8  timestamp:u48 (little-endian)  tag:6 bytes
# tag = the first 6 bytes of HMAC-SHA-256(key, every body byte before the tag)
#     = HMAC(key, version type seq || fields || link_id || timestamp)[:6]
# The frame's CRC-32 follows the tag and covers it. HMAC is written here from
# hashlib (RFC 2104): MicroPython has no hmac module.
#
# The replay rule (Replay below): a timestamp is accepted when it is newer
# than the last one accepted on its link id; on a link id the puck does not
# keep, when it is above the floor (the persisted mark at boot, raised when a
# link id is forgotten) and at most `window` behind the newest accepted one.
# Every accepted timestamp stays below the mark persisted in flash (written
# only when a timestamp reaches it, then `boot_step` ahead), so after a
# reboot no timestamp accepted before it can be accepted again. Pairing
# starts the new key's replay state at the pair's `since`.
import struct

from micropython import const

from openpuck_fw import msgtable as mt

try:
    import hashlib
    _sha256 = hashlib.sha256
except (ImportError, AttributeError):  # a port without hashlib.sha256: the puck cannot be paired (docs/security.md)
    _sha256 = None  # type: ignore[assignment,misc]

AVAILABLE = _sha256 is not None

# verdicts of Owner.check
OK = const(0)
BAD = const(1)         # no trailer, or a tag that does not verify with the owner key
REPLAYED = const(2)    # a good tag on a timestamp the replay rule refuses

_TS_OFF = const(1)                  # timestamp offset in the trailer
_TAG_OFF = const(7)                 # tag offset in the trailer


_BLOCK = const(64)                  # SHA-256's block size, HMAC's pad length
_pads_of = {}  # type: dict  # the last key -> its (inner, outer) pads


def _pads(key):
    """HMAC's (key ^ ipad, key ^ opad) blocks of `key`, computed once per key.
    MicroPython's sha256 objects have no copy(), so the hashed pad states
    cannot be kept: each HMAC hashes the two 64-byte blocks again."""
    key = bytes(key)
    p = _pads_of.get(key)
    if p is None:
        k = key if len(key) <= _BLOCK else _sha256(key).digest()
        k = k + bytes(_BLOCK - len(k))
        p = (bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k))
        _pads_of.clear()
        _pads_of[key] = p
    return p


def hmac_sha256(key, msg):
    """HMAC-SHA-256 of `msg` under `key` (RFC 2104), all 32 bytes."""
    ipad, opad = _pads(key)
    h = _sha256(ipad)
    h.update(msg)
    o = _sha256(opad)
    o.update(h.digest())
    return o.digest()


def tag(key, signed):
    """The 6-byte tag of `signed` (every body byte before the tag) under `key`."""
    return hmac_sha256(key, signed)[:mt.SIGN_TAG_SIZE]


def proof(key, nonce, newest):
    """The proof that the puck holds `key`: for a challenge's `nonce` and the
    newest timestamp the puck accepted. Its message starts with the label,
    never with a body's version byte, so no proof is ever a command's tag."""
    return hmac_sha256(key, mt.SIGN_PROOF_LABEL + bytes(nonce) + struct.pack("<Q", newest))[:mt.SIGN_PROOF_SIZE]


def same(a, b):
    """a == b in a time that does not depend on where they differ."""
    if len(a) != len(b):
        return False
    r = 0
    for i in range(len(a)):
        r |= a[i] ^ b[i]
    return r == 0


def split(type_id, seq, payload, key, min_fields):
    """(fields, link_id, timestamp) of a payload whose trailer's tag verifies
    under `key`, else None. `min_fields`: the fewest bytes the message's
    fields take (a shorter rest holds no trailer)."""
    n = len(payload) - mt.SIGN_TRAILER_SIZE
    if key is None or _sha256 is None or n < min_fields:
        return None
    t = n + _TAG_OFF
    signed = struct.pack("<BBH", mt.PROTOCOL_VERSION, type_id, seq) + bytes(payload[:t])
    if not same(tag(key, signed), payload[t:]):
        return None
    lo, hi = struct.unpack_from("<IH", payload, n + _TS_OFF)
    return bytes(payload[:n]), payload[n], lo + (hi << 32)


class Replay:
    """The replay rule's state: per kept link id its last accepted timestamp,
    the floor for the others, the newest timestamp, the persisted mark."""

    def __init__(self, mark=0):
        self.last = {}
        self.floor = mark
        self.newest = mark
        self.mark = mark

    def fresh(self, link, ts):
        """Whether timestamp `ts` on `link` may be accepted."""
        last = self.last.get(link)
        if last is not None:
            return ts > last
        return ts > self.floor and ts >= self.newest - mt.SIGN_WINDOW

    def mark_for(self, ts):
        """The mark to persist before `ts` may be accepted (it reaches the
        one stored), else None. Nothing changes until accept()."""
        return ts + mt.SIGN_BOOT_STEP if ts >= self.mark else None

    def accept(self, link, ts):
        """Note `ts` accepted on `link` (its mark_for(), if any, already
        persisted). Returns the new mark, else None."""
        last = self.last
        if link not in last and len(last) >= mt.SIGN_LINKS:
            old = min(last, key=lambda k: last[k])   # forget the stalest link...
            if last[old] > self.floor:               # ...and keep its timestamps refused
                self.floor = last[old]
            del last[old]
        last[link] = ts
        if ts > self.newest:
            self.newest = ts
        if ts >= self.mark:
            self.mark = ts + mt.SIGN_BOOT_STEP
            return self.mark
        return None


class Owner:
    """The owner key (in the persistent config) and the replay state."""

    def __init__(self, config):
        self.config = config
        self.replay = Replay(config.sign_mark)

    def owned(self):
        return self.config.owner_key is not None

    def check(self, type_id, seq, payload, min_fields):
        """(verdict, fields): OK with the payload before the trailer (its
        timestamp now used up), REPLAYED, or BAD with the payload as it came.
        Raises OSError when the new mark cannot be saved (the command must
        then be refused: obeying it could let it be replayed after a reboot)."""
        r = split(type_id, seq, payload, self.config.owner_key, min_fields)
        if r is None:
            return BAD, payload
        fields, link, ts = r
        if not self.replay.fresh(link, ts):
            return REPLAYED, fields
        # the mark goes to flash first; only then does the replay state move,
        # so a failed save leaves everything as stored (the next command
        # above the stored mark needs the save again)
        mark = self.replay.mark_for(ts)
        if mark is not None:
            self.config.set_sign_mark(mark)
        self.replay.accept(link, ts)
        return OK, fields

    def pair(self, key, since=0):
        """Make `key` the owner key, its replay state starting afresh at
        `since` (floor, newest and mark; no link kept): frames signed with
        another key never verify under this one, and those of this key up
        to `since` stay refused. Saved with the key before it is used."""
        self.config.set_owner(bytes(key), since)
        self.replay = Replay(since)

    def proof(self, nonce):
        """(newest accepted timestamp, proof tag) for a challenge's nonce."""
        newest = self.replay.newest
        return newest, proof(self.config.owner_key, nonce, newest)

    def unpair(self):
        self.config.set_owner(None)

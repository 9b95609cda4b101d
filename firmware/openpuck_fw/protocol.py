# The wire protocol on the puck: COBS framing, CRC-32, message encoding and
# the command-frame decoder. Layouts come from msgtable (generated from
# protocol/messages.toml). Pure logic: runs on MicroPython and on CPython.
import struct

from micropython import const

from openpuck_fw import msgtable as mt

try:
    from binascii import crc32
except ImportError:  # a port built without binascii.crc32
    _CRC_TABLE = None

    def crc32(data, crc=0):  # type: ignore[misc]
        global _CRC_TABLE
        if _CRC_TABLE is None:
            t = []
            for i in range(256):
                c = i
                for _ in range(8):
                    c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
                t.append(c)
            _CRC_TABLE = t
        table = _CRC_TABLE
        crc ^= 0xFFFFFFFF
        for b in data:
            crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
        return crc ^ 0xFFFFFFFF


_HEADER_SIZE = const(4)      # version, type, seq:u16
_CRC_SIZE = const(4)
MIN_BODY = const(8)
MAX_FRAME = const(520)       # COBS(512 bytes) + overhead + the 0x00


def cobs_encode_into(src, n, dst):
    """COBS-encode src[:n] into dst, append the 0x00 delimiter; return the length.

    dst must hold n + n // 254 + 2 bytes. Canonical form: a 254-byte run that
    ends the data is not followed by an empty block.
    """
    code_i = 0
    o = 1
    code = 1
    i = 0
    while i < n:
        b = src[i]
        i += 1
        if b == 0:
            dst[code_i] = code
            code_i = o
            o += 1
            code = 1
        else:
            dst[o] = b
            o += 1
            code += 1
            if code == 0xFF and i < n:
                dst[code_i] = code
                code_i = o
                o += 1
                code = 1
    dst[code_i] = code
    dst[o] = 0
    return o + 1


def _cobs_encoder():
    """The viper COBS encoder where the port runs it (cobs_viper.py), else cobs_encode_into."""
    import sys
    if sys.implementation.name != "micropython":
        return cobs_encode_into, False
    try:
        from openpuck_fw.cobs_viper import cobs_encode_into as fast
    except Exception:  # noqa: BLE001 - no native emitter, or an .mpy built for another architecture
        return cobs_encode_into, False
    return fast, True


frame_encode_into, FRAMING_NATIVE = _cobs_encoder()


def cobs_encode(data):
    """COBS-encode bytes; the result ends with the 0x00 delimiter."""
    n = len(data)
    dst = bytearray(n + n // 254 + 2)
    k = cobs_encode_into(data, n, dst)
    return bytes(dst[:k])


def cobs_decode_into(src, n, dst):
    """Decode COBS src[:n] (no delimiter) into dst; return the length or -1."""
    i = 0
    o = 0
    cap = len(dst)
    while i < n:
        code = src[i]
        if code == 0:
            return -1
        i += 1
        end = i + code - 1
        if end > n:
            return -1
        while i < end:
            b = src[i]
            if b == 0 or o >= cap:
                return -1
            dst[o] = b
            o += 1
            i += 1
        if code != 0xFF and i < n:
            if o >= cap:
                return -1
            dst[o] = 0
            o += 1
    return o


def cobs_decode(data):
    """Decode one COBS block (without its 0x00); raise ValueError if malformed."""
    dst = bytearray(len(data))
    k = cobs_decode_into(data, len(data), dst)
    if k < 0:
        raise ValueError("bad COBS")
    return bytes(dst[:k])


class Encoder:
    """Builds whole wire frames for puck-to-host messages.

    The sample frame path works in preallocated buffers; other messages are
    rare and may allocate.
    """

    def __init__(self):
        self.seq = 0
        self._body = bytearray(mt.MAX_BODY)
        self._out = bytearray(MAX_FRAME)
        self._out_mv = memoryview(self._out)
        self._body_mv = memoryview(self._body)

    def _next_seq(self):
        s = self.seq
        self.seq = (s + 1) & 0xFFFF
        return s

    def take_back(self):
        """The last frame was never sent: the next one takes its seq, so the
        host sees no frame missing."""
        self.seq = (self.seq - 1) & 0xFFFF

    def _finish(self, body_len):
        """Append the CRC to the body held in self._body; return a memoryview of the frame."""
        body = self._body
        c = crc32(self._body_mv[:body_len]) & 0xFFFFFFFF
        struct.pack_into("<I", body, body_len, c)
        k = frame_encode_into(body, body_len + _CRC_SIZE, self._out)
        return self._out_mv[:k]

    def _header(self, type_id):
        struct.pack_into("<BBH", self._body, 0, mt.PROTOCOL_VERSION, type_id, self._next_seq())

    def frame(self, type_id, payload):
        """Frame bytes for a message with the given payload (a copy, safe to keep)."""
        n = len(payload)
        self._header(type_id)
        self._body[_HEADER_SIZE:_HEADER_SIZE + n] = payload
        return bytes(self._finish(_HEADER_SIZE + n))

    def message(self, type_id, *values):
        """Frame bytes for a fixed-layout message from its field values in table order."""
        lay = mt.LAYOUT[type_id]
        fmt = lay[mt.LAY_FMT]
        if fmt is None:
            return self.frame(type_id, pack_var(lay[mt.LAY_TYPES], values))
        return self.frame(type_id, struct.pack(fmt, *values))

    def samples_frame(self, t0_us, period_us, n, data, data_len):
        """A samples frame; data[:data_len] holds n packed samples (mt.SAMPLE_FMT).

        Returns a memoryview into the encoder's buffer, valid until the next call.
        """
        self._header(mt.T_SAMPLES)
        struct.pack_into(mt.SAMPLES_HEAD, self._body, _HEADER_SIZE, t0_us & 0xFFFFFFFF, period_us, n)
        o = _HEADER_SIZE + 7
        self._body_mv[o:o + data_len] = data[:data_len]
        return self._finish(o + data_len)


def pack_var(types, values):
    """Pack a payload that holds str fields (u8 length + UTF-8)."""
    out = bytearray()
    fmts = {"u8": "<B", "i8": "<b", "u16": "<H", "i16": "<h", "u32": "<I",
            "i32": "<i", "u64": "<Q", "f32": "<f"}
    for t, v in zip(types, values):
        if t == "str" or t == "bytes":
            b = v.encode() if isinstance(v, str) else bytes(v)
            b = b[:255]
            out.append(len(b))
            out.extend(b)
        else:
            out.extend(struct.pack(fmts[t], v))
    return bytes(out)


# results of FrameDecoder.feed_byte
NONE = const(0)
FRAME = const(1)
ERROR = const(2)


class FrameDecoder:
    """Collects bytes up to each 0x00 and checks the frame.

    feed_byte() returns NONE (frame not complete), FRAME (self.type, self.seq,
    self.payload are set) or ERROR (COBS, length, CRC or version; counted in
    self.rx_errors). Oversized frames are dropped up to the next 0x00.
    """

    def __init__(self):
        self._buf = bytearray(MAX_FRAME)
        self._body = bytearray(MAX_FRAME)
        self._n = 0
        self._overflow = False
        self.rx_errors = 0
        self.type = 0
        self.seq = 0
        self.payload = b""

    def feed_byte(self, b):
        if b != 0:
            if self._n < MAX_FRAME:
                self._buf[self._n] = b
                self._n += 1
            else:
                self._overflow = True
            return NONE
        n = self._n
        self._n = 0
        if self._overflow:
            self._overflow = False
            self.rx_errors += 1
            return ERROR
        if n == 0:
            return NONE  # an empty frame (two delimiters): a resync, not an error
        k = cobs_decode_into(self._buf, n, self._body)
        if k < MIN_BODY or k > mt.MAX_BODY:
            self.rx_errors += 1
            return ERROR
        body = self._body
        want = body[k - 4] | (body[k - 3] << 8) | (body[k - 2] << 16) | (body[k - 1] << 24)
        if crc32(memoryview(body)[:k - 4]) & 0xFFFFFFFF != want:
            self.rx_errors += 1
            return ERROR
        if body[0] != mt.PROTOCOL_VERSION:
            self.rx_errors += 1
            return ERROR
        self.type = body[1]
        self.seq = body[2] | (body[3] << 8)
        self.payload = bytes(body[_HEADER_SIZE:k - 4])
        return FRAME

    def feed(self, data):
        """Feed many bytes; return a list of (type, seq, payload) of good frames."""
        out = []
        for b in data:
            if self.feed_byte(b) == FRAME:
                out.append((self.type, self.seq, self.payload))
        return out

# Persistent configuration: a small binary file written atomically.
#
# File layout (version 2):
#   b"OPC2" | count:u8 | count x (key:u8, value:i32le)
#   | owner_len:u8 (0: open, 32: owned) | owner key | sign_mark:u64le | crc32:u32le
# (CRC-32 of every byte before it). Version 1 files (b"OPC1", the entries
# and the CRC only) are still read: an open puck, mark 0. The owner key is
# the signing secret (protocol/spec.md section 9): it never leaves the puck
# (not in get_config, not in a log). sign_mark is the replay rule's
# persisted high-water mark (openpuck_fw/signing.py). A save writes PATH.tmp, then renames it
# over PATH; after a power cut the loader finds either the old file or the
# new one complete, never a torn one (a torn .tmp fails its CRC and is
# ignored). Values out of range in a file are replaced by their defaults.
# A save that fails (the flash full: OSError ENOSPC) leaves the stored file
# as it was, removes its partial .tmp (which would hold the space) and puts
# the values in RAM back to the stored ones: the change is refused whole.
import struct

from micropython import const

from openpuck_fw import msgtable as mt
from openpuck_fw.protocol import crc32

_MAGIC = b"OPC2"
_MAGIC_V1 = b"OPC1"
_ENTRY_SIZE = const(5)
ENOSPC = const(28)   # errno of a full filesystem, on MicroPython's ports as on Linux

ACCEL_RANGES_G = (2, 4, 8, 16)
GYRO_RANGES_DPS = (125, 250, 500, 1000, 2000)

DEFAULTS = {
    mt.CONFIG_KEY_RATE_HZ: 200,
    mt.CONFIG_KEY_ACCEL_RANGE_G: 4,
    mt.CONFIG_KEY_GYRO_RANGE_DPS: 500,
    mt.CONFIG_KEY_EXERCISE: 1,
    mt.CONFIG_KEY_TARGET: 0,          # milli-units; 0 = auto target
    mt.CONFIG_KEY_FEEDBACK: 3,        # bit 0 LED, bit 1 buzzer
    mt.CONFIG_KEY_BLE_ENABLED: 1,
}


def valid(key, value):
    """True if value is allowed for key (an integer key of enums.config_key)."""
    if key == mt.CONFIG_KEY_RATE_HZ:
        return value in mt.START_RATE_HZ_VALUES
    if key == mt.CONFIG_KEY_ACCEL_RANGE_G:
        return value in ACCEL_RANGES_G
    if key == mt.CONFIG_KEY_GYRO_RANGE_DPS:
        return value in GYRO_RANGES_DPS
    if key == mt.CONFIG_KEY_EXERCISE:
        return value in mt.EXERCISES
    if key == mt.CONFIG_KEY_TARGET:
        return mt.SET_EXERCISE_TARGET_MIN <= value <= mt.SET_EXERCISE_TARGET_MAX
    if key == mt.CONFIG_KEY_FEEDBACK:
        return 0 <= value <= 3
    if key == mt.CONFIG_KEY_BLE_ENABLED:
        return value in (0, 1)
    return False


def encode(values, owner=None, sign_mark=0):
    keys = sorted(values)
    body = bytearray(_MAGIC)
    body.append(len(keys))
    for k in keys:
        body.extend(struct.pack("<Bi", k, values[k]))
    owner = owner or b""
    body.append(len(owner))
    body.extend(owner)
    body.extend(struct.pack("<Q", sign_mark))
    body.extend(struct.pack("<I", crc32(body) & 0xFFFFFFFF))
    return bytes(body)


def decode_all(data):
    """(values, owner key or None, sign_mark) from file bytes, or None if
    the file is torn or corrupt."""
    if len(data) < 9 or data[:4] not in (_MAGIC, _MAGIC_V1):
        return None
    n = data[4]
    end = 5 + n * _ENTRY_SIZE
    owner = None
    mark = 0
    if data[:4] == _MAGIC:
        if len(data) < end + 1:
            return None
        k = data[end]
        if k not in (0, mt.SIGN_KEY_SIZE) or len(data) != end + 1 + k + 8 + 4:
            return None
        if k:
            owner = bytes(data[end + 1:end + 1 + k])
        mark = struct.unpack_from("<Q", data, end + 1 + k)[0]
        crc_at = end + 1 + k + 8
    else:
        crc_at = end
    if len(data) != crc_at + 4:
        return None
    if crc32(data[:crc_at]) & 0xFFFFFFFF != struct.unpack_from("<I", data, crc_at)[0]:
        return None
    out = {}
    for i in range(n):
        key, v = struct.unpack_from("<Bi", data, 5 + i * _ENTRY_SIZE)
        out[key] = v
    return out, owner, mark


def decode(data):
    """Values from file bytes, or None if the file is torn or corrupt."""
    r = decode_all(data)
    return None if r is None else r[0]


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


class Config:
    """The values in force, loaded from and saved to `path` (None: RAM only)."""

    def __init__(self, path=None, os_mod=None, open_fn=open):
        if os_mod is None:
            import os as os_mod
        self._os = os_mod
        self._open = open_fn   # tests give a filesystem that fills up
        self.path = path
        self.values = dict(DEFAULTS)
        self.owner_key = None     # the signing secret: None while the puck is open
        self.sign_mark = 0
        self.loaded_from = "defaults"
        if path:
            self.load()

    def load(self):
        self.values = dict(DEFAULTS)
        self.owner_key = None
        self.sign_mark = 0
        self.loaded_from = "defaults"
        for p in (self.path, self.path + ".tmp"):
            data = _read(p)
            if data is None:
                continue
            r = decode_all(data)
            if r is None:
                continue
            vals, self.owner_key, self.sign_mark = r
            for k, v in vals.items():
                if k in DEFAULTS and valid(k, v):
                    self.values[k] = v
            self.loaded_from = p
            return True
        return False

    def get(self, key):
        return self.values[key]

    def set(self, key, value, persist=True):
        """Set a value; raise ValueError if invalid, OSError if it cannot be
        saved (then the value in RAM stays the stored one)."""
        if key not in DEFAULTS or not valid(key, value):
            raise ValueError(key)
        old = self.values[key]
        self.values[key] = value
        if persist:
            try:
                self.save()
            except OSError:
                self.values[key] = old
                raise

    def set_owner(self, key, sign_mark=None):
        """Store the owner key (32 bytes), or None to open the puck, and the
        new key's mark if given; saved at once (on OSError RAM stays as stored)."""
        if key is not None and len(key) != mt.SIGN_KEY_SIZE:
            raise ValueError("owner key")
        old = self.owner_key, self.sign_mark
        self.owner_key = key
        if sign_mark is not None:
            self.sign_mark = sign_mark
        try:
            self.save()
        except OSError:
            self.owner_key, self.sign_mark = old
            raise

    def set_sign_mark(self, mark):
        """Store the replay rule's high-water mark; saved at once (on OSError
        the mark in RAM stays the stored one)."""
        old, self.sign_mark = self.sign_mark, mark
        try:
            self.save()
        except OSError:
            self.sign_mark = old
            raise

    def save(self):
        if not self.path:
            return
        os = self._os
        tmp = self.path + ".tmp"
        data = encode(self.values, self.owner_key, self.sign_mark)
        try:
            # littlefs commits at flush and close (os.sync does nothing on
            # rp2): either may be the write that finds the flash full
            with self._open(tmp, "wb") as f:
                if f.write(data) != len(data):
                    raise OSError(ENOSPC, "no space left")
                if hasattr(f, "flush"):
                    f.flush()
        except OSError:
            try:
                os.remove(tmp)
            except OSError:
                pass
            raise
        try:
            os.rename(tmp, self.path)
        except OSError:
            # a filesystem whose rename does not replace (FAT): the loader
            # falls back to the complete .tmp while PATH is missing
            try:
                os.remove(self.path)
            except OSError:
                pass
            os.rename(tmp, self.path)
        if hasattr(os, "sync"):
            os.sync()

# The persistent config: round trip, atomic replace, torn and corrupt files.
# Pure logic: MicroPython and CPython. argv[1]: an empty scratch directory.
import os
import sys

from fwtest import check, done, eq, raises
from openpuck_fw import config as cf
from openpuck_fw import msgtable as mt

d = sys.argv[1]
path = d + "/openpuck.cfg"


def write(p, data):
    with open(p, "wb") as f:
        f.write(data)


def exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


c = cf.Config(path)
eq("no file: defaults", c.loaded_from, "defaults")
eq("default rate", c.get(mt.CONFIG_KEY_RATE_HZ), 200)
c.set(mt.CONFIG_KEY_RATE_HZ, 100)
c.set(mt.CONFIG_KEY_TARGET, 25000)
check("saved", exists(path))
check("no temp file left", not exists(path + ".tmp"))
c2 = cf.Config(path)
eq("reloaded from file", c2.loaded_from, path)
eq("rate persisted", c2.get(mt.CONFIG_KEY_RATE_HZ), 100)
eq("target persisted", c2.get(mt.CONFIG_KEY_TARGET), 25000)

# invalid values are refused and change nothing
raises("bad rate", ValueError, c.set, mt.CONFIG_KEY_RATE_HZ, 150)
raises("bad key", ValueError, c.set, mt.CONFIG_KEY_DEVICE_NAME, 1)
raises("bad target", ValueError, c.set, mt.CONFIG_KEY_TARGET, -1)
eq("rate unchanged", cf.Config(path).get(mt.CONFIG_KEY_RATE_HZ), 100)

good = open(path, "rb").read()
# a power cut while writing the temp file: the old config stays
write(path + ".tmp", good[:7])
eq("torn temp ignored", cf.Config(path).get(mt.CONFIG_KEY_RATE_HZ), 100)
# a power cut after the temp file but before the rename: old config
newer_values = dict(cf.DEFAULTS)
newer_values[mt.CONFIG_KEY_RATE_HZ] = 50
newer = cf.encode(newer_values)
write(path + ".tmp", newer)
eq("complete temp, old main: old wins", cf.Config(path).get(mt.CONFIG_KEY_RATE_HZ), 100)
# FAT-style replace interrupted between remove and rename: the complete temp is used
os.remove(path)
eq("main missing: complete temp used", cf.Config(path).get(mt.CONFIG_KEY_RATE_HZ), 50)
os.remove(path + ".tmp")

# every truncation and every single-bit flip of the file is detected
ok = True
for n in range(len(good)):
    if cf.decode(good[:n]) is not None:
        ok = False
check("every truncation detected", ok)
ok = True
for i in range(len(good)):
    for bit in range(8):
        b = bytearray(good)
        b[i] ^= 1 << bit
        if cf.decode(bytes(b)) is not None:
            ok = False
check("every bit flip detected", ok)

# a corrupt file falls back to the defaults
write(path, b"OPC1 garbage")
c3 = cf.Config(path)
eq("corrupt: defaults", c3.loaded_from, "defaults")
eq("corrupt: default rate", c3.get(mt.CONFIG_KEY_RATE_HZ), 200)
# a valid file holding an out-of-range value: that value falls back
write(path, cf.encode({mt.CONFIG_KEY_RATE_HZ: 123, mt.CONFIG_KEY_FEEDBACK: 1}))
c4 = cf.Config(path)
eq("out of range value: default", c4.get(mt.CONFIG_KEY_RATE_HZ), 200)
eq("other values kept", c4.get(mt.CONFIG_KEY_FEEDBACK), 1)
# saving over a corrupt file works
c3.set(mt.CONFIG_KEY_FEEDBACK, 2)
eq("saved over corrupt", cf.Config(path).get(mt.CONFIG_KEY_FEEDBACK), 2)

# the flash fills up: every save refused whole, the stored file untouched,
# no partial .tmp left holding the space, the values in RAM the stored ones
class FullFlash:
    """open() on a flash with `room` bytes left (writes past it: ENOSPC)."""

    def __init__(self, room):
        self.room = room

    def __call__(self, p, mode="rb"):
        f = open(p, mode)
        return Filling(f, self) if "w" in mode else f


class Filling:
    def __init__(self, f, flash):
        self.f, self.flash = f, flash

    def write(self, data):
        n = min(len(data), self.flash.room)
        self.f.write(data[:n])
        self.flash.room -= n
        if n < len(data):
            raise OSError(cf.ENOSPC, "no space left")
        return n

    def flush(self):
        self.f.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


stored = open(path, "rb").read()
for room in (0, 10, len(stored) - 1):
    cfull = cf.Config(path, open_fn=FullFlash(room))
    e = raises("full flash: set raises", OSError, cfull.set, mt.CONFIG_KEY_FEEDBACK, 1)
    eq("full flash: the errno says so", e.errno if e else None, cf.ENOSPC)
    eq("full flash: RAM keeps the stored value", cfull.get(mt.CONFIG_KEY_FEEDBACK), 2)
    raises("full flash: a replay mark is refused", OSError, cfull.set_sign_mark, 12345)
    eq("full flash: the mark in RAM is the stored one", cfull.sign_mark, 0)
    raises("full flash: pairing is refused", OSError, cfull.set_owner, bytes(32), 7)
    eq("full flash: still open", (cfull.owner_key, cfull.sign_mark), (None, 0))
    eq("full flash: the stored file untouched", open(path, "rb").read(), stored)
    check("full flash: no partial temp file left", not exists(path + ".tmp"), room)
    eq("full flash: a reboot finds the stored config", cf.Config(path).get(mt.CONFIG_KEY_FEEDBACK), 2)
cfull = cf.Config(path, open_fn=FullFlash(len(stored)))
cfull.set(mt.CONFIG_KEY_FEEDBACK, 1)
eq("room for the file: saved", cf.Config(path).get(mt.CONFIG_KEY_FEEDBACK), 1)

# RAM-only config (no path) never touches a file
c5 = cf.Config(None)
c5.set(mt.CONFIG_KEY_RATE_HZ, 25)
eq("ram only", c5.get(mt.CONFIG_KEY_RATE_HZ), 25)
done()

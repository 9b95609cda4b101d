# A tiny test helper shared by the firmware test scripts. The scripts run
# under MicroPython's unix port and, for pure logic, under CPython too; the
# pytest wrapper (tests/test_firmware_unit.py) compares their output.
import sys

_fails = []
_count = [0]


def check(name, cond, detail=""):
    _count[0] += 1
    if not cond:
        _fails.append(name)
        print("FAIL", name, detail)


def eq(name, got, want):
    check(name, got == want, "got %r want %r" % (got, want))


def raises(name, exc, fn, *args):
    try:
        fn(*args)
    except exc as e:
        _count[0] += 1
        return e
    _count[0] += 1
    _fails.append(name)
    print("FAIL", name, "did not raise", exc.__name__)
    return None


def done():
    print("checks", _count[0], "failures", len(_fails))
    sys.exit(1 if _fails else 0)


def hexs(b):
    return "".join("%02x" % x for x in b)


def unhex(s):
    return bytes(int(s[i:i + 2], 16) for i in range(0, len(s), 2))


class Lcg:
    def __init__(self, seed):
        self.s = seed

    def next(self, n):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.s >> 8) % n

"""The few names of MicroPython's `micropython` module the firmware uses, for
running its pure-logic modules under CPython as an oracle (tests only)."""


def const(x):
    return x


def native(f):
    return f


viper = native


def kbd_intr(_c):
    pass


def schedule(f, arg):
    f(arg)

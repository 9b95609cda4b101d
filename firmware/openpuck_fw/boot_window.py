# The second after reset in which `make flash` (mpremote) may stop the puck
# and reach the REPL. mpremote interrupts with "\r" Ctrl-C; a host speaking
# the protocol sends COBS frames, which may hold 0x03 anywhere. So Ctrl-C is
# off, and only "\r\x03" at the start of the input or right after a frame's
# 0x00 delimiter counts: a frame starts with its COBS code byte and then the
# protocol version (1), never with "\r\x03". Bytes that are not an interrupt
# are kept for the command link: a host that talks to the puck while it
# boots loses nothing.
from micropython import const

_CR = const(0x0D)
_CTRL_C = const(0x03)


class BootWindow:
    """Feed it the bytes that arrive; interrupted is True once mpremote's
    interrupt came at a frame boundary; kept holds everything else."""

    def __init__(self):
        self.kept = bytearray()
        self.interrupted = False
        self._at_boundary = True   # nothing yet, or the last byte was 0x00
        self._cr = False           # "\r" right at a boundary

    def feed(self, data):
        for b in data:
            if self.interrupted:
                return
            if self._cr and b == _CTRL_C:
                self.interrupted = True
                return
            self._cr = self._at_boundary and b == _CR
            self._at_boundary = b == 0
            self.kept.append(b)


def wait(hw, stdin, window_ms):
    """Run the window on the USB serial: True when mpremote asked for the
    REPL, else the bytes the host sent meanwhile (for the command link)."""
    import select

    import micropython
    micropython.kbd_intr(-1)
    poller = select.poll()
    poller.register(stdin, select.POLLIN)
    win = BootWindow()
    start = hw.ticks_ms()
    while True:
        left = window_ms - hw.ticks_diff(hw.ticks_ms(), start)
        if left <= 0:
            break
        if poller.poll(left):
            win.feed(stdin.buffer.read(1))
            if win.interrupted:
                micropython.kbd_intr(3)
                return True
    return bytes(win.kept)

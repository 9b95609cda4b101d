# The USB serial link: the board's USB CDC port as sys.stdin/sys.stdout
# (on the virtual puck: the pseudo-terminal the launcher hands over as
# stdin/stdout). Binary frames, so Ctrl-C must not interrupt the firmware:
# the app turns keyboard interrupts off once it runs.
import select
import sys


class UsbLink:
    name = "usb"

    def __init__(self):
        self._in = sys.stdin.buffer
        self._out = sys.stdout.buffer
        self.poller = select.poll()
        self.poller.register(sys.stdin, select.POLLIN)
        self.connected = True
        self.tx_bytes = 0
        self.pending = b""   # bytes the boot window took in before the app ran

    def read(self, max_bytes=64):
        """Bytes available now (possibly empty); never blocks."""
        if self.pending:
            out, self.pending = self.pending[:max_bytes], self.pending[max_bytes:]
            return out
        out = b""
        while len(out) < max_bytes and self.poller.poll(0):
            b = self._in.read(1)
            if not b:
                raise OSError(5)  # EIO: the port is gone (only the virtual puck's pty can end)
            out += b
        return out

    def write(self, frame):
        self._out.write(frame)
        self.tx_bytes += len(frame)

    def flush(self):
        f = getattr(self._out, "flush", None)
        if f is not None:
            f()

# The USB serial link: the board's USB CDC port as sys.stdin/sys.stdout
# (on the virtual puck: the pseudo-terminal the launcher hands over as
# stdin/stdout). Binary frames, so Ctrl-C must not interrupt the firmware:
# the app turns keyboard interrupts off once it runs.
#
# Writes never wait for the host: a host that stops reading fills the port
# (a pseudo-terminal's buffer, the CDC FIFO), and a blocking write would stop
# the main loop until the watchdog reset the puck. Frames go through a
# TxQueue, which writes only while the port polls writable and refuses whole
# frames when it is full (the app counts them).
import select
import sys

from micropython import const

from openpuck_fw.txqueue import TxQueue

FLUSH_WAIT_MS = const(1000)   # flush(): how long the host may take to read on


class UsbLink:
    name = "usb"

    def __init__(self, wait_for_host=False):
        """wait_for_host: when the queue is full, wait for the host instead of
        refusing the frame (the virtual puck at speed max, whose clock stands
        still meanwhile: it runs at the host's pace and loses nothing)."""
        self._in = sys.stdin.buffer
        self._out = sys.stdout.buffer
        self.poller = select.poll()
        self.poller.register(sys.stdin, select.POLLIN)
        # a poller of its own: POLLOUT on the idle poller would wake the main loop at once
        self._out_poll = select.poll()
        self._out_poll.register(sys.stdout, select.POLLOUT)
        self.queue = TxQueue(self._write_port, self._writable)
        self.wait_for_host = wait_for_host
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

    def _writable(self, timeout_ms=0):
        return bool(self._out_poll.poll(timeout_ms))

    def _write_port(self, buf):
        # the bytes the port took: a CDC port that timed out takes fewer
        # (MicroPython rp2), a stream that would block answers None
        n = self._out.write(buf)
        if n is None:
            return 0
        self.tx_bytes += n
        return n

    def write(self, frame, urgent=True):
        """Queue a whole frame for the host and write what the port takes
        now; False (nothing sent) when the queue has no room for it: a frame
        not urgent (samples, status) beyond its reserve, any beyond its size."""
        q = self.queue
        if self.wait_for_host and not q.fits(len(frame), urgent):
            q.drain(lambda: self._writable(-1))
        return q.put(frame, urgent)

    def pump(self):
        """Write what the host takes now (the main loop calls it every pass)."""
        self.queue.pump()

    def flush(self):
        """Write out every queued frame before a reset, waiting up to
        FLUSH_WAIT_MS each time the port is full."""
        self.queue.drain(lambda: self._writable(FLUSH_WAIT_MS))
        f = getattr(self._out, "flush", None)
        if f is not None:
            f()

# The puck's outgoing queue for a link the host may stop reading (a laptop
# asleep, a program hung): whole frames wait here, in wire order, and go out
# as fast as the link takes them, so the main loop never blocks on a write
# (it would stop feeding the watchdog, and the puck would reset).
#
# A frame is taken whole or not at all: half a frame on the wire would also
# cost the host the frame after it (its decoder resyncs at the next 0x00).
# Samples may only fill the queue up to `reserve` bytes short of its size;
# that last part is kept for the frames that matter more (reps, acks, logs),
# which are refused only when the whole queue is full.
#
# Pure logic: runs on MicroPython and on CPython (tests/firmware).
from micropython import const

CHUNK = const(512)   # bytes per write: a pseudo-terminal or a USB CDC port that polls writable takes this much without waiting


class TxQueue:
    """A ring of `size` bytes of whole frames waiting for the link.
    `write(buf)` writes to it and returns the bytes it took (None: none);
    `writable()` says whether a write now would take at least a byte
    without waiting."""

    def __init__(self, write, writable, size=3072, reserve=1024):
        if not 0 <= reserve < size:
            raise ValueError("tx queue: reserve %r must be below size %r" % (reserve, size))
        self._write = write
        self._writable = writable
        self._buf = bytearray(size)
        self._mv = memoryview(self._buf)
        self.size = size
        self.reserve = reserve
        self.head = 0     # first byte not yet written
        self.used = 0     # bytes waiting

    def fits(self, n, urgent):
        """Whether a frame of n bytes would be taken now."""
        limit = self.size if urgent else self.size - self.reserve
        return self.used + n <= limit

    def put(self, frame, urgent=False):
        """Queue the whole frame and write what the link takes now. False
        (nothing queued) when it does not fit: a sample frame beyond the
        reserve, any frame beyond the size."""
        n = len(frame)
        if not self.fits(n, urgent):
            self.pump()           # the host may have read meanwhile
            if not self.fits(n, urgent):
                return False
        size = self.size
        t = self.head + self.used
        if t >= size:
            t -= size
        first = size - t
        if n <= first:
            self._mv[t:t + n] = frame
        else:
            src = memoryview(frame)
            self._mv[t:size] = src[:first]
            self._mv[0:n - first] = src[first:]
        self.used += n
        self.pump()
        return True

    def pump(self):
        """Write what the link takes without waiting; the bytes written."""
        sent = 0
        while self.used and self._writable():
            k = self._write_some()
            if k <= 0:
                break
            sent += k
        return sent

    def drain(self, ready):
        """Write everything queued, waiting for the link: `ready()` waits
        until it is writable and says False when it never became so (then
        the rest stays queued). True when the queue is empty."""
        stuck = 0
        while self.used:
            if not ready():
                return False
            if self._write_some() > 0:
                stuck = 0
            else:
                stuck += 1
                if stuck > 3:     # writable, yet it takes nothing: give up rather than spin
                    return False
        return True

    def _write_some(self):
        h = self.head
        k = self.size - h
        if k > self.used:
            k = self.used
        if k > CHUNK:
            k = CHUNK
        took = self._write(self._mv[h:h + k])
        if took is None:
            return 0
        if took > k:
            took = k
        h += took
        if h >= self.size:
            h -= self.size
        self.head = h
        self.used -= took
        if not self.used:
            self.head = 0
        return took

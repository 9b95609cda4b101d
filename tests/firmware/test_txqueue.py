# The link's outgoing queue (openpuck_fw/txqueue.py) on a fake port that
# buffers a few bytes until its host reads: a host that stops reading never
# makes a write wait, frames go out whole or not at all, samples give way
# to events. Pure logic: MicroPython and CPython.
from fwtest import Lcg, check, done, eq, raises
from openpuck_fw.txqueue import CHUNK, TxQueue


class Port:
    """A port holding up to `room` bytes the host has not read (a pty's
    buffer, a CDC FIFO). A write takes what fits; writing to a full port is
    the blocking write the queue must never make."""

    def __init__(self, room, none_when_full=False):
        self.room = room
        self.held = bytearray()
        self.wire = bytearray()      # what the host read
        self.writes = []             # sizes asked
        self.blocked = 0
        self.none_when_full = none_when_full

    def writable(self):
        return len(self.held) < self.room

    def write(self, buf):
        self.writes.append(len(buf))
        free = self.room - len(self.held)
        if free <= 0:
            self.blocked += 1
            return None if self.none_when_full else 0
        k = min(free, len(buf))
        self.held += bytes(buf[:k])
        return k

    def host_reads(self):
        self.wire += self.held
        self.held = bytearray()


def frame(i, n):
    """A recognisable frame: n bytes, its number in each, a 0x00 last."""
    return bytes([1 + i % 250]) * (n - 1) + b"\x00"


# a host that reads: every frame goes straight out, whole, in order
p = Port(600)
q = TxQueue(p.write, p.writable, size=1000, reserve=300)
sent = []
for i in range(20):
    f = frame(i, 50 + i * 7)
    check("taken while the host reads %d" % i, q.put(f, urgent=i % 3 == 0))
    sent.append(f)
    p.host_reads()
eq("the wire holds every frame in order", bytes(p.wire), b"".join(sent))
eq("nothing left queued", q.used, 0)

# the host stops reading: the port fills, then the queue; no write ever waits
p = Port(200)
q = TxQueue(p.write, p.writable, size=1000, reserve=300)
kept = []
refused = 0
i = 0
while True:
    f = frame(i, 100)
    i += 1
    if q.put(f, urgent=False):
        kept.append(f)
    else:
        refused += 1
        break
eq("samples fill port and queue up to the reserve", len(kept), (200 + 1000 - 300) // 100)
eq("the queue keeps its reserve free of samples", q.used, 700)
ev = [frame(100 + k, 40) for k in range(10)]
took = [q.put(f, urgent=True) for f in ev]
eq("events fill the reserve, whole frames only", took, [True] * 7 + [False] * 3)
eq("then the queue is full to the byte it can", q.used, 980)
check("a sample frame is refused", not q.put(frame(200, 10), urgent=False))
check("a small event still fits", q.put(frame(201, 20), urgent=True))
eq("no write was made to a full port", p.blocked, 0)
check("no write bigger than a chunk", max(p.writes) <= CHUNK)

# the host reads again: everything taken comes out, whole and in order
expect = b"".join(kept) + b"".join(ev[:7]) + frame(201, 20)
for _ in range(20):
    p.host_reads()
    q.pump()
p.host_reads()
eq("after the stall the wire is the taken frames, in order", bytes(p.wire), expect)
eq("queue empty", q.used, 0)
check("a frame is never cut: every one ends where a 0x00 is",
      bytes(p.wire).count(b"\x00") == len(kept) + 8)

# wrap-around under random sizes, reads and urgency: the wire is exactly the taken frames
rnd = Lcg(7)
p = Port(150)
q = TxQueue(p.write, p.writable, size=700, reserve=200)
taken = []
n_refused = 0
for i in range(800):
    f = frame(i, 2 + rnd.next(260))
    if q.put(f, urgent=rnd.next(4) == 0):
        taken.append(f)
    else:
        n_refused += 1
    if rnd.next(5) == 0:
        p.host_reads()
    if rnd.next(3) == 0:
        q.pump()
    if not 0 <= q.used <= 700:
        check("used within size %d" % i, False)
while q.used:
    p.host_reads()
    q.pump()
p.host_reads()
check("random: the wire is every taken frame, in order", bytes(p.wire) == b"".join(taken),
      "%d bytes vs %d" % (len(p.wire), sum(len(f) for f in taken)))
check("random: some frames were refused", n_refused > 0)
eq("random: a full port was never written", p.blocked, 0)

# a port that answers None when it would block loses nothing
p = Port(64, none_when_full=True)
q = TxQueue(p.write, p.writable, size=300, reserve=0)
check("taken", q.put(frame(1, 200), urgent=True))
q._writable = lambda: True      # a port that polls writable yet takes nothing this time
eq("None took nothing", q.pump(), 0)
q._writable = p.writable
p.host_reads()
q.pump()
p.host_reads()
q.pump()
p.host_reads()
q.pump()
p.host_reads()
eq("None: the frame arrives whole", bytes(p.wire), frame(1, 200))

# drain() waits for the host; it gives up when the host never reads
p = Port(50)
q = TxQueue(p.write, p.writable, size=400, reserve=0)
q.put(frame(3, 300), urgent=True)
eq("drain without a reader gives up", q.drain(p.writable), False)
check("and keeps the rest queued", q.used > 0)


def reader_ready():
    p.host_reads()
    return True


check("drain with a reader empties the queue", q.drain(reader_ready))
p.host_reads()
eq("drain: the frame arrives whole", bytes(p.wire), frame(3, 300))

raises("reserve must be below the size", ValueError, TxQueue, p.write, p.writable, 100, 100)
done()

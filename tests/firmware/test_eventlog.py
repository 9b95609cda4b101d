# The puck's event log (openpuck_fw/eventlog.py): records kept across boots,
# read from any sequence number, a torn last record skipped and counted, the
# storage full counted, confirm and clear. Pure logic: MicroPython and CPython.
# argv[1]: an empty scratch directory.
import os
import sys

from fwtest import check, done, eq
from openpuck_fw import eventlog as el

d = sys.argv[1] + "/oplog"


class FullFile:
    """A file on a flash with `room` bytes left: what fits is written, then ENOSPC."""

    def __init__(self, f, room):
        self.f = f
        self.room = room

    def write(self, data):
        if len(data) > self.room:
            self.f.write(bytes(data[:self.room]))
            self.room = 0
            raise OSError(28, "no space left")
        self.room -= len(data)
        return self.f.write(data)

    def flush(self):
        self.f.flush()

    def close(self):
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def seqs(log, from_seq=0, room=255):
    """Every record's (boot, seq, type) from from_seq on, read chunk by chunk as a host does."""
    out = []
    while True:
        data, nxt = log.read(from_seq, room)
        if not data:
            return out, nxt
        for seq, a, _ in el.records(data)[0]:
            boot = int.from_bytes(data[a + 2:a + 6], "little")
            out.append((boot, seq, data[a + 1]))
        from_seq = nxt


def segment_files():
    return sorted(n for n in os.listdir(d) if n.endswith(".seg"))


# first boot: boot id 0, seqs from 0, each record read back whole
log = el.EventLog(d, seg_bytes=100)
eq("first boot id", log.boot_id, 0)
for i in range(10):
    check("kept %d" % i, log.append(3, i * 10, bytes([i]) * 20))
got, nxt = seqs(log)
eq("ten records in order", [s for _, s, _ in got], list(range(10)))
eq("next after the last", nxt, 10)
check("small segments: several files", len(segment_files()) > 2, segment_files())
eq("read from the middle", [s for _, s, _ in seqs(log, 7)[0]], [7, 8, 9])
eq("read past the end: nothing", seqs(log, 10)[0], [])
eq("a chunk holds whole records only", len(el.records(log.read(0, 100)[0])[0]), 2)

# a power cut while a record was written: its first bytes only are on the flash
last = "%s/%s" % (d, segment_files()[-1])
rec = el.pack(3, 0, 10, 0, b"x" * 20)
with open(last, "ab") as f:
    f.write(rec[:9])

# second boot: the id moves, the seqs run on, the torn record is counted and skipped
log = el.EventLog(d, seg_bytes=100)
eq("boot id +1", log.boot_id, 1)
eq("torn record counted", log.torn, 1)
eq("seqs run on", log.next_seq, 10)
log.append(5, 0, b"after")
got, _ = seqs(log)
eq("nothing lost around the torn record", [s for _, s, _ in got], list(range(11)))
eq("the new record has the new boot id", got[-1][0], 1)

# confirm: only whole segments below the mark go; the newest stays
before = len(log.segs)
log.confirm(4)
check("confirm deleted segments", len(log.segs) < before)
kept = [s for _, s, _ in seqs(log)[0]]
check("nothing above the mark deleted", kept[-7:] == list(range(4, 11)), kept)
log.confirm(9)
check("the newest segment stays while it holds a record not confirmed", [s for _, s, _ in seqs(log)[0]] == [10])
log.confirm(10)
eq("all confirmed: an empty segment is left", (len(log.segs), log.bytes, seqs(log)[0]), (1, 0, []))
eq("and the seqs run on", log.next_seq, 11)
check("records after it", log.append(3, 0, b"q"))
eq("read after a full confirm", [s for _, s, _ in seqs(log)[0]], [11])
log.confirm(11)

# clear: every record goes, the seqs run on (over a reboot too)
log.clear()
eq("cleared", seqs(log)[0], [])
log = el.EventLog(d, seg_bytes=100)
eq("seq after clear and reboot", log.next_seq, 12)
eq("boot id after clear", log.boot_id, 2)

# the log's share used up: logging stops, what is not kept is counted
log = el.EventLog(d, max_bytes=log.bytes + 2 * len(rec))
check("room for two", log.append(3, 0, b"x" * 20) and log.append(3, 0, b"x" * 20))
check("the third refused", not log.append(3, 0, b"x" * 20))
log.append(3, 0, b"x" * 20)
eq("not kept counted", log.not_kept, 2)
eq("no room reported", log.free(), 0)
log.confirm(log.next_seq)
log.clear()
check("room again after clear", log.append(3, 0, b"y" * 20))

# the flash full: a write fails part way; the torn bytes never break the log
room = [len(rec) + 5]
log = el.EventLog(d, open_fn=lambda p, m="rb": FullFile(open(p, m), room[0]) if "w" in m else open(p, m))
n0 = log.next_seq
check("fits", log.append(3, 0, b"z" * 20))
check("flash full", not log.append(3, 0, b"z" * 20))
eq("one not kept", log.not_kept, 1)
got, nxt = seqs(log, n0)
eq("the whole record read, the torn one skipped", [s for _, s, _ in got], [n0])
log = el.EventLog(d)
eq("next boot: the torn one counted", log.torn, 1)
eq("and its seq taken again", log.next_seq, n0 + 1)

# the records of one detector pass: one flash commit (littlefs rewrites a block per flush)
flushes = [0]


class CountingFile(FullFile):
    def flush(self):
        flushes[0] += 1
        self.f.flush()


log = el.EventLog(d, open_fn=lambda p, m="rb": CountingFile(open(p, m), 1 << 20) if "w" in m else open(p, m))
n0 = log.next_seq
flushes[0] = 0   # the boot counter's write is not a record
log.append(3, 0, b"first")
eq("a record alone: committed at once", flushes[0], 1)
log.hold = True
log.append(3, 0, b"rep")
log.append(5, 0, b"grip")
log.append(13, 0, b"target")
eq("held: not committed yet", flushes[0], 1)
log.commit()
eq("one commit for the three", flushes[0], 2)
check("no longer held", not log.hold)
eq("all four read back", [s for _, s, _ in seqs(log, n0)[0]], [n0, n0 + 1, n0 + 2, n0 + 3])
log.commit()
eq("nothing to commit: no flush", flushes[0], 2)

# no folder (a board without flash state): nothing is logged, nothing fails
log = el.EventLog(None)
check("no folder: not kept", not log.append(3, 0, b""))
eq("no folder: empty", log.read(0, 255), (bytearray(), 0))
done()

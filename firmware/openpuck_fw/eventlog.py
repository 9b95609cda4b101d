# The puck's own event log (issue 23): every event appended, as it happens,
# to small segment files on the flash, so that what the puck counts while no
# host listens is kept until a host has downloaded it and confirmed that.
#
# A folder beside the config ("oplog"): segment files named by the sequence
# number of their first record (8 hex digits + ".seg"), and "boot", the boot
# counter (u32 + its CRC-32, replaced whole as the config is).
# A record, little-endian (protocol/spec.md section 10):
#   size:u8 | type:u8 | boot:u32 | seq:u32 | t_ms:u32 | payload | crc32:u32
# size: the payload's bytes; type: the up message whose payload it carries
# (rep, partial_rep, grip, target, set_start, set_end, boot, time_mark); t_ms:
# device time since that boot (a time_mark, a host's wall clock, dates it); the CRC-32 covers every byte before it.
# Sequence numbers run on across boots and clears: (serial, boot, seq) names a
# record for good. Each boot starts a new segment, so a record a power cut
# tore is the last of its segment: a reader stops at it (it fails its CRC),
# counts it, and goes on with the next segment.
# littlefs (rp2) commits a file at flush and close, os.sync does nothing
# there: each record is flushed as it is written (the records of one
# detector pass, a rep and the grip and target it ended, at once), so a
# power cut loses at most what was being written.
import struct

from micropython import const

from openpuck_fw import msgtable as mt
from openpuck_fw.protocol import crc32

HEAD = "<BBIII"
HEAD_SIZE = const(14)
CRC_SIZE = const(4)
SEG_BYTES = const(4096)      # a littlefs block on rp2: a segment is rewritten in one block
MAX_BYTES = const(131072)    # the log's share of the flash: the config always finds room
FOLDER = "oplog"


def pack(type_id, boot, seq, t_ms, payload):
    """One record's bytes."""
    rec = bytearray(struct.pack(HEAD, len(payload), type_id, boot, seq, t_ms & 0xFFFFFFFF))
    rec.extend(payload)
    rec.extend(struct.pack("<I", crc32(rec) & 0xFFFFFFFF))
    return rec


def records(data):
    """([(seq, start, end)] of the whole records data starts with, the
    number of bytes after them that make no whole record: a torn tail)."""
    out = []
    o = 0
    n = len(data)
    mv = memoryview(data)
    while o + HEAD_SIZE + CRC_SIZE <= n:
        end = o + HEAD_SIZE + data[o] + CRC_SIZE
        if end > n or crc32(mv[o:end - CRC_SIZE]) & 0xFFFFFFFF != struct.unpack_from("<I", data, end - CRC_SIZE)[0]:
            break
        out.append((struct.unpack_from("<I", data, o + 6)[0], o, end))
        o = end
    return out, n - o


def folder_of(config_path):
    """The log's folder beside the config file (None: a board without flash state)."""
    if not config_path:
        return None
    i = config_path.rfind("/")
    return (config_path[:i] if i > 0 else "") + "/" + FOLDER


class EventLog:
    """The log in `folder` (None: no log, every call does nothing).

    open_fn opens a file for writing (hw.flash_open: the virtual puck's flash
    can fill up); max_bytes bounds the whole log. When a write fails (the
    flash full) or the log reached max_bytes, logging stops and each record
    not kept is counted (not_kept) until a confirm or clear frees room."""

    def __init__(self, folder, open_fn=open, os_mod=None, max_bytes=MAX_BYTES, seg_bytes=SEG_BYTES):
        if os_mod is None:
            import os as os_mod
        self._os = os_mod
        self._open = open_fn
        self.folder = folder
        self.max_bytes = max_bytes
        self.seg_bytes = seg_bytes
        self.boot_id = 0
        self.next_seq = 0
        self.not_kept = 0      # records not kept since boot (the storage full)
        self.torn = 0          # records found torn at boot (a power cut while writing)
        self.full = False
        self.segs = []         # first seqs of the segments, ascending
        self.bytes = 0         # of every segment
        self._f = None         # the segment being written, its size
        self._size = 0
        self.hold = False      # append() leaves the flush to commit()
        self._dirty = False
        if folder:
            self._load()

    def _path(self, seg):
        return "%s/%08x.seg" % (self.folder, seg)

    def _read(self, path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def _size_of(self, seg):
        try:
            return self._os.stat(self._path(seg))[6]
        except OSError:
            return 0

    def _load(self):
        os = self._os
        try:
            os.mkdir(self.folder)
        except OSError:
            pass   # it is there (EEXIST)
        segs = []
        for name in os.listdir(self.folder):
            if name.endswith(".seg") and len(name) == 12:
                try:
                    segs.append(int(name[:8], 16))
                except ValueError:
                    pass
        segs.sort()
        self.segs = segs
        for s in segs:
            self.bytes += self._size_of(s)
        # the newest segment holding a whole record says the next seq; a
        # segment's name is its first seq (an empty one left by a clear too)
        for s in reversed(segs):
            recs, tail = records(self._read(self._path(s)))
            if tail:
                self.torn += 1
            self.next_seq = max(self.next_seq, recs[-1][0] + 1 if recs else s)
            if recs:
                break
        boot = self._read(self.folder + "/boot")
        if len(boot) == 8 and crc32(boot[:4]) & 0xFFFFFFFF == struct.unpack_from("<I", boot, 4)[0]:
            self.boot_id = struct.unpack_from("<I", boot)[0] + 1
        data = bytearray(struct.pack("<I", self.boot_id))
        data.extend(struct.pack("<I", crc32(data) & 0xFFFFFFFF))
        tmp = self.folder + "/boot.tmp"
        try:
            with self._open(tmp, "wb") as f:
                f.write(data)
                f.flush()
            os.rename(tmp, self.folder + "/boot")
        except OSError:
            pass   # the flash is full: this boot's id holds in RAM, the records say it

    def append(self, type_id, t_ms, payload):
        """Write one record and commit it (flush; while `hold` is set, at
        commit()). False when it was not kept."""
        if not self.folder:
            return False
        if self.full:
            self.not_kept += 1
            return False
        rec = pack(type_id, self.boot_id, self.next_seq, t_ms, payload)
        n = len(rec)
        if self.bytes + n > self.max_bytes:
            return self._lost()
        try:
            f = self._f
            if f is None or self._size + n > self.seg_bytes:
                f = self._roll()
            w = f.write(rec)
            if w is not None and w != n:
                raise OSError(28)
            if self.hold:
                self._dirty = True
            else:
                f.flush()
        except OSError:
            # what was written of it stays at the segment's end, where readers stop
            self._close()
            return self._lost()
        self.next_seq += 1
        self._size += n
        self.bytes += n
        return True

    def commit(self):
        """Flush what was written while `hold` was set, and stop holding:
        one flash commit for the records of one detector pass (littlefs
        rewrites the segment's last block at each flush)."""
        self.hold = False
        if self._dirty and self._f is not None:
            self._dirty = False
            try:
                self._f.flush()
            except OSError:
                self._close()
                self.full = True

    def _lost(self):
        self.full = True
        self.not_kept += 1
        return False

    def _close(self):
        f, self._f = self._f, None
        if f is not None:
            try:
                f.close()
            except OSError:
                pass

    def _roll(self):
        """Close the segment being written and start one at next_seq (returned)."""
        self._close()
        self._size = 0
        s = self.next_seq
        if not self.segs or self.segs[-1] != s:
            self.segs.append(s)
        self._f = f = self._open(self._path(s), "wb")
        return f

    def read(self, from_seq, room):
        """(the whole records with seq >= from_seq, oldest first, as stored,
        as many as fit in room bytes; the from_seq to ask next): no records,
        nothing kept from there on (next: the log's next_seq)."""
        out = bytearray()
        nxt = self.next_seq
        segs = self.segs
        i = 0
        for j in range(len(segs)):
            if segs[j] <= from_seq:
                i = j
        while i < len(segs):
            data = self._read(self._path(segs[i]))
            for seq, a, b in records(data)[0]:
                if seq < from_seq:
                    continue
                if len(out) + b - a > room:
                    return out, nxt
                out.extend(data[a:b])
                nxt = seq + 1
            i += 1
        return out, nxt

    def confirm(self, upto_seq):
        """The host holds every record up to upto_seq: delete the segments
        whose records all are (the newest one only when the host holds every
        record: then as clear does). Returns how many went."""
        if upto_seq >= self.next_seq - 1 and self.folder:
            gone = len(self.segs)
            self.clear()
            return gone
        gone = 0
        segs = self.segs
        while len(segs) > 1 and segs[1] - 1 <= upto_seq:
            self._delete(segs.pop(0))
            gone += 1
        return gone

    def clear(self):
        """Delete every record; the seqs run on from an empty segment."""
        self._close()
        while self.segs:
            self._delete(self.segs.pop(0))
        self.bytes = 0
        self.full = False
        if self.folder:
            try:
                self._roll()   # its name keeps next_seq over a reboot
            except OSError:
                self._f = None

    def _delete(self, seg):
        path = self._path(seg)
        self.bytes -= self._size_of(seg)
        if self.bytes < 0:
            self.bytes = 0
        try:
            self._os.remove(path)
        except OSError:
            pass
        self.full = False   # room again: after a failed write the next record opens a new segment

    def free(self):
        """Bytes the log may still take: its share left, at most what the filesystem has."""
        if not self.folder or self.full:
            return 0
        room = self.max_bytes - self.bytes
        try:
            st = self._os.statvfs(self.folder)
            room = min(room, st[0] * st[4])
        except (AttributeError, OSError):
            pass
        return room if room > 0 else 0


def event(app, type_id, *values):
    """Log one up message's payload (its field values in table order) at the app's device time."""
    log = app.evlog
    if log.folder:
        log.append(type_id, app._up_us // 1000, struct.pack(mt.LAYOUT[type_id][mt.LAY_FMT], *values))


def start(app):
    """The board's log, opened at boot (none on a board without flash state,
    or whose flash cannot hold a folder), and its boot record."""
    from openpuck_fw import VERSION
    board = app.board
    try:
        log = EventLog(folder_of(board.config_path), app.hw.flash_open,
                       max_bytes=getattr(board, "log_bytes", 0) or MAX_BYTES)
    except OSError:
        log = EventLog(None)
    app.evlog = log
    event(app, mt.T_BOOT, app.reset_cause, min(log.torn, 0xFFFF), VERSION[0], VERSION[1], VERSION[2])
    return log


def info(app):
    """Send log_info: what the log holds."""
    log = app.evlog
    app.send(mt.T_LOG_INFO, log.boot_id & 0xFFFFFFFF, min(len(log.segs), 0xFFFF),
             (log.segs[0] if log.segs else log.next_seq) & 0xFFFFFFFF, log.next_seq & 0xFFFFFFFF,
             log.bytes, log.free(), log.not_kept & 0xFFFFFFFF, min(log.torn, 0xFFFF))

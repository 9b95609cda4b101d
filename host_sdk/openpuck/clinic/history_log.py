"""Sets the puck counted while no host listened, from its own log into the
patient's history (protocol/spec.md section 10, issue 23).

The puck logs each set (``set_start`` .. ``set_end``), its reps, partial reps
and grips, and each host's ``time_mark``. :func:`import_log` reads the records
pulled from one puck (:class:`~openpuck.device.puck_log.LogStore`) and puts
its sets into a patient's history, marked as logged on the puck::

    with History() as h:
        result = import_log(h, "anna", puck.serial, store.records())

What is one rep: a rep the host received live and the same rep pulled from
the log have the same kind, count within the set and device times (the u32
microseconds the puck sent), and their dates agree (the live one's clock
sync, the logged one's time mark); such a rep is stored once (the live row
gets the record's puck serial, boot and seq). A record already imported
(same puck serial, boot, seq: a unique index) is skipped, so importing the
same records again stores nothing new.

Which set: a logged set some of whose reps came live is that live set (the
host left mid-set): the reps it missed are added to it. A logged set none of
whose reps came live goes into a session named :data:`LOGGED` (one per puck
start), with the puck roles of the patient's latest set of that exercise.

Dates: each record of a boot is dated from the ``time_mark`` of that boot
nearest it. A boot no host marked has no date: its sets are not put into the
history (a set needs a day) and :attr:`LogImport.undated` says which they
are; they stay in the puck's log store.
"""
from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import protocol
from ..device.events import Grip, PartialRep, Rep
from ..device.message_events import event_from_message
from ..device.puck_log import LogRecord
from ..exercises import name_of, unit_of
from ..offline.summary import SetSummary
from .history_files import check_patient
from .history_rows import FIGURES, event_columns, stored_event

if TYPE_CHECKING:
    from .history import History

#: the programme name of a session made of sets done with the host away; the marker readers show
LOGGED = "logged on the puck"
#: exercise_set.source and event.source of what came from the puck's log (NULL: counted live)
SOURCE = "puck_log"
#: a live event and a logged one with the same device times are one when their dates differ by less
MATCH_S = 120.0
_U32 = 1 << 32
_MOVES = ("rep", "partial_rep", "grip")
Move = Rep | PartialRep | Grip


@dataclass(frozen=True)
class UndatedSet:
    """A logged set of a boot no host marked: no date, not in the history."""

    boot: int
    seq: int            #: its set_start record
    exercise: str
    reps: int


@dataclass(frozen=True)
class LogImport:
    """What :func:`import_log` did."""

    sets_added: int = 0         #: sets done with the host away, new in the history
    sets_completed: int = 0     #: live sets the log filled in (the host left mid-set)
    events_added: int = 0       #: reps, partial reps and grips new in the history
    events_known: int = 0       #: already there: received live, or imported before
    undated: tuple[UndatedSet, ...] = ()


@dataclass
class _Set:
    boot: int
    seq: int
    exercise_id: int
    target: float | None
    t_ms: int
    end_ms: int | None = None
    moves: list[LogRecord] = field(default_factory=list)


def as_record(r: LogRecord | Mapping[str, Any]) -> LogRecord:
    """A record, or a LogStore line (:meth:`LogRecord.as_json`), as a LogRecord."""
    if isinstance(r, LogRecord):
        return r
    return LogRecord(int(r["boot"]), int(r["seq"]), int(r["t_ms"]), str(r["type"]), dict(r.get("fields") or {}))


def time_marks(records: Iterable[LogRecord]) -> dict[int, list[tuple[int, float]]]:
    """Per boot, its time marks: (device ms, Unix s)."""
    marks: dict[int, list[tuple[int, float]]] = {}
    for r in records:
        if r.type == "time_mark":
            marks.setdefault(r.boot, []).append((r.t_ms, int(r.fields["unix_ms"]) / 1000.0))
    return marks


def date_of(marks: list[tuple[int, float]], device_s: float) -> float | None:
    """Unix s of a device time (s since its boot), from the boot's mark nearest it; None: no mark."""
    if not marks:
        return None
    t_ms, unix = min(marks, key=lambda m: abs(m[0] / 1000.0 - device_s))
    return unix + device_s - t_ms / 1000.0


def logged_sets(records: Iterable[LogRecord]) -> list[_Set]:
    """The sets in the records (by boot, seq order): set_start, its moves, set_end.
    A set with no set_end (still running, or cut by a power cut) ends at its last move."""
    out: list[_Set] = []
    open_: dict[int, _Set] = {}
    for r in sorted(records, key=lambda r: r.seq):
        cur = open_.get(r.boot)
        if r.type == "set_start":
            target = int(r.fields["target"])
            cur = open_[r.boot] = _Set(r.boot, r.seq, int(r.fields["exercise"]),
                                       target * 0.001 if target else None, r.t_ms)
            out.append(cur)
        elif r.type in _MOVES and cur is not None:
            cur.moves.append(r)
        elif r.type == "set_end" and cur is not None:
            cur.end_ms = r.t_ms
            del open_[r.boot]
    return out


def _event(r: LogRecord) -> Move:
    """A rep, partial rep or grip record as the event the live stream gives: device
    times unwrapped nearest the record's own t_ms (the u32 us wrap every 71 min)."""
    near_us = r.t_ms * 1000

    def unwrap(us: int) -> float:
        return (near_us + ((us - near_us + _U32 // 2) % _U32) - _U32 // 2) * 1e-6
    ev = event_from_message(protocol.Message(r.type, 0, r.fields), unwrap, None)
    assert isinstance(ev, (Rep, PartialRep, Grip))
    return ev


def _wire(t: float | None) -> int | None:
    return None if t is None else round(t * 1e6) % _U32


def _same(ev: Move, row: sqlite3.Row) -> bool:
    """The same movement (kind, count and date already agree): its device times to
    the microsecond (u32, as sent); or, for a set of two pucks, whose device times
    the runner shifts onto one time line (programme_events.aligned), its duration
    to the microsecond and its amplitude as sent."""
    t_start, t_end = ev.t_start, ev.t_end
    if _wire(t_start) == _wire(row["t_start"]) and _wire(t_end) == _wire(row["t_end"]):
        return True
    amplitude = ev.peak_force if isinstance(ev, Grip) else ev.amplitude
    return (round((t_end - t_start) * 1e6) == round((row["t_end"] - row["t_start"]) * 1e6)
            and row["amplitude"] is not None and abs(amplitude - row["amplitude"]) < 1e-9)


def import_log(history: History, patient: str, serial: str,
               records: Iterable[LogRecord | Mapping[str, Any]]) -> LogImport:
    """Put the dated sets of one puck's log records into ``patient``'s history
    (module docstring), in one transaction. Safe to run again on the same or
    more records: nothing is stored twice."""
    patient = check_patient(patient)
    if not isinstance(serial, str) or not serial:
        raise ValueError(f"import_log: the puck's serial names its records, got {serial!r}")
    recs = [as_record(r) for r in records]
    marks = time_marks(recs)
    out = dict(sets_added=0, sets_completed=0, events_added=0, events_known=0)
    undated: list[UndatedSet] = []
    with history._write(f"put puck {serial}'s logged sets into {patient}'s history") as db:
        for s in logged_sets(recs):
            m = marks.get(s.boot, [])
            if not m:
                undated.append(UndatedSet(s.boot, s.seq, name_of(s.exercise_id),
                                          sum(r.type == "rep" for r in s.moves)))
                continue
            _one_set(db, patient, serial, s, m, out)
    return LogImport(**out, undated=tuple(undated))


def _one_set(db: sqlite3.Connection, patient: str, serial: str, s: _Set, marks: list[tuple[int, float]],
             out: dict[str, int]) -> None:
    exercise = name_of(s.exercise_id)
    start = date_of(marks, s.t_ms / 1000.0)
    assert start is not None
    end = None if s.end_ms is None else date_of(marks, s.end_ms / 1000.0)
    new: list[tuple[LogRecord, Move]] = []
    set_id: int | None = None
    for r in s.moves:
        ev = _event(r)
        known = db.execute("SELECT set_id FROM event WHERE puck_serial = ? AND puck_boot = ? AND log_seq = ?",
                           (serial, r.boot, r.seq)).fetchone()
        if known:
            set_id = set_id or int(known[0])
            out["events_known"] += 1
            continue
        when = date_of(marks, ev.t)
        assert when is not None
        live = [row for row in db.execute(
            "SELECT e.id, e.set_id, e.t_start, e.t_end, e.amplitude FROM event e JOIN exercise_set s ON s.id = e.set_id "
            "JOIN session ss ON ss.id = s.session_id WHERE ss.patient = ? AND e.kind = ? AND e.count IS ? "
            "AND e.log_seq IS NULL AND e.host_time BETWEEN ? AND ?",
            (patient, ev.kind, getattr(ev, "count", None), when - MATCH_S, when + MATCH_S)) if _same(ev, row)]
        if live:
            db.execute("UPDATE event SET puck_serial = ?, puck_boot = ?, log_seq = ? WHERE id = ?",
                       (serial, r.boot, r.seq, live[0]["id"]))
            set_id = set_id or int(live[0]["set_id"])
            out["events_known"] += 1
        else:
            new.append((r, ev))
    if set_id is None:
        row = db.execute("SELECT id FROM exercise_set WHERE puck_serial = ? AND puck_boot = ? AND log_seq = ?",
                         (serial, s.boot, s.seq)).fetchone()
        set_id = int(row[0]) if row else None
    if not new:
        return
    if set_id is None:
        set_id = _new_set(db, patient, serial, s, exercise, start, end)
        out["sets_added"] += 1
    elif db.execute("SELECT source FROM exercise_set WHERE id = ?", (set_id,)).fetchone()[0] is None:
        out["sets_completed"] += 1
    shift, role = _live_line(db, set_id, serial, s)
    for r, ev in new:
        if shift:
            ev = dataclasses.replace(ev, **{f: getattr(ev, f) + shift for f in ("t", "t_start", "t_peak", "t_end")
                                            if getattr(ev, f, None) is not None})
        db.execute("INSERT INTO event (set_id, kind, puck, count, t_start, t_peak, t_end, amplitude, unit, hold_s, "
                   "t, uncertain, host_time, source, puck_serial, puck_boot, log_seq) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
                   (set_id, ev.kind, role, *event_columns(ev), ev.t, date_of(marks, ev.t - shift), SOURCE, serial, r.boot, r.seq))
        out["events_added"] += 1
    _refigure(db, set_id, end, (serial, s.boot, s.seq))


def _live_line(db: sqlite3.Connection, set_id: int, serial: str, s: _Set) -> tuple[float, str]:
    """(what to add to this puck's device times to put them on the set's time line, the
    puck's role in the set): a live rep of the puck matched to its record says both (with
    two pucks the runner shifts each puck's times: programme_events.aligned); else 0 and
    the set's first role."""
    row = db.execute("SELECT e.log_seq, e.t_end, e.puck FROM event e WHERE e.set_id = ? AND e.puck_serial = ? "
                     "AND e.puck_boot = ? AND e.source IS NULL AND e.log_seq IS NOT NULL LIMIT 1",
                     (set_id, serial, s.boot)).fetchone()
    rec = next((r for r in s.moves if row is not None and r.seq == row["log_seq"]), None)
    if row is not None and rec is not None:
        return row["t_end"] - _event(rec).t_end, str(row["puck"])
    first = db.execute("SELECT json_extract(pucks, '$[0]') FROM exercise_set WHERE id = ?", (set_id,)).fetchone()
    return 0.0, str(first[0])


def _new_set(db: sqlite3.Connection, patient: str, serial: str, s: _Set, exercise: str, start: float,
             end: float | None) -> int:
    """A set done with the host away, in this puck start's LOGGED session (made if none)."""
    row = db.execute("SELECT s.session_id FROM exercise_set s JOIN session ss ON ss.id = s.session_id "
                     "WHERE ss.patient = ? AND ss.programme = ? AND s.puck_serial = ? AND s.puck_boot = ? "
                     "LIMIT 1", (patient, LOGGED, serial, s.boot)).fetchone()
    if row:
        session_id = int(row[0])
        db.execute("UPDATE session SET started_at = MIN(started_at, ?), ended_at = MAX(COALESCE(ended_at, ?), ?) "
                   "WHERE id = ?", (start, start, end or start, session_id))
    else:
        session_id = int(db.execute("INSERT INTO session (patient, programme, started_at, ended_at) "
                                    "VALUES (?, ?, ?, ?)", (patient, LOGGED, start, end or start)).lastrowid or 0)
    # the puck's role as the patient's programme names it for this exercise, so the day's
    # figures and the progression pool the set with the others; else the puck's serial
    roles = db.execute("SELECT s.pucks FROM exercise_set s JOIN session ss ON ss.id = s.session_id "
                       "WHERE ss.patient = ? AND s.exercise = ? AND s.source IS NULL "
                       "AND json_array_length(s.pucks) = 1 ORDER BY s.started_at DESC LIMIT 1",
                       (patient, exercise)).fetchone()
    index = db.execute("SELECT COUNT(*) FROM exercise_set WHERE session_id = ?", (session_id,)).fetchone()[0]
    return int(db.execute(
        "INSERT INTO exercise_set (session_id, exercise, set_index, target, unit, pucks, started_at, ended_at, "
        "source, puck_serial, puck_boot, log_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (session_id, exercise, int(index) + 1, s.target, unit_of(s.exercise_id),
         roles[0] if roles else json.dumps([serial]), start, end, SOURCE, serial, s.boot, s.seq)).lastrowid or 0)


def _refigure(db: sqlite3.Connection, set_id: int, end: float | None, key: tuple[str, int, int]) -> None:
    """Mark the set as (partly) logged on the puck and store its figures from all its events."""
    srow = db.execute("SELECT * FROM exercise_set WHERE id = ?", (set_id,)).fetchone()
    evs = [stored_event(r).event for r in db.execute(
        "SELECT e.*, s.exercise FROM event e JOIN exercise_set s ON s.id = e.set_id WHERE e.set_id = ? "
        "ORDER BY e.id", (set_id,))]
    figures = SetSummary.of(evs, exercise=srow["exercise"], unit=srow["unit"], target=srow["target"])
    summary = json.loads(srow["summary"]) if srow["summary"] else {}
    summary.update(figures.to_dict())
    db.execute("UPDATE exercise_set SET source = ?, ended_at = COALESCE(ended_at, ?), summary = ?, "
               + ", ".join(f"{c} = ?" for c in FIGURES) + " WHERE id = ?",
               (SOURCE, end, json.dumps(summary), *(getattr(figures, c) for c in FIGURES), set_id))
    if srow["log_seq"] is None:   # a live set the log completed: named by its set_start record from now on
        db.execute("UPDATE exercise_set SET puck_serial = ?, puck_boot = ?, log_seq = ? WHERE id = ?",
                   (*key, set_id))


def pull_into_history(puck: Any, history: History, patient: str, *, confirm: bool = True) -> LogImport:
    """Pull what ``puck`` logged since the last pull into its store
    (``puck-logs/SERIAL.jsonl`` beside the history), put the dated sets into
    ``patient``'s history (:func:`import_log`), then (``confirm``) let the puck
    delete the records stored. What ``openpuck log pull URL --patient`` does;
    the programme runner does it before a session with ``pull_log=True``."""
    from ..device.puck_log import LogStore
    from ..errors import OpenPuckError
    serial = puck.serial
    store = LogStore.for_puck(serial, history.data_dir)
    if puck.log_list().next_seq < store.next_seq():
        raise OpenPuckError(f"log pull: the log of puck {serial} restarted (its flash was wiped): "
                            f"{store.path} holds later sequence numbers; pull into a new file with "
                            f"openpuck log pull URL --out FILE")
    puck.log_pull(store.next_seq(), on_records=store.add)
    done = import_log(history, patient, serial, store.records())
    if confirm and store.last_seq() >= 0:
        puck.log_confirm(store.last_seq())
    return done

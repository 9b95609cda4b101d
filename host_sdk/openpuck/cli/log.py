"""openpuck log: the puck's own event log (list, pull with resume, clear)."""
from __future__ import annotations

import json
import sys
import time

HELP = "the puck's own log of sets and reps: list it, pull it (resumes where it stopped), clear it"
DESCRIPTION = """\
A puck logs every event on its own flash as it happens: each set's start
and end, every rep, partial rep and grip, each target it learned, each
boot. So the reps counted while no host listened (the tablet asleep, out
of Bluetooth range, rebooting) are kept on the puck until a host pulls
them.

  list   what the log holds: records, segments, bytes, how much room is
         left, records not kept because the storage was full
  pull   download the records this computer does not have yet into its
         store (puck-logs/SERIAL.jsonl in the data folder, or --out FILE),
         then tell the puck it may delete them (unless --keep). A pull cut
         by a lost link starts again where it stopped: no record is lost
         or stored twice (a record is named by puck serial, boot and
         sequence number)
         With --patient NAME the pulled sets also go into that patient's
         history (as `openpuck programme run --patient` does), marked as
         logged on the puck: a rep already received live is stored once,
         a set pulled twice once. The pull never guesses the patient: a
         puck may be lent to another, so without --patient nothing goes
         into a history. A set is dated by the time a host gave the puck
         while it was on (every connect does); one of a puck start no host
         saw stays undated: it is not put into the history and the pull
         says so
  clear  delete every record on the puck, pulled or not (asks for --yes)

Deleting (pull's confirm, clear) changes the puck: on a paired puck only
the owner's computer may (it signs the command); anyone may list and pull."""
EPILOG = """\
examples:
  openpuck log list /dev/ttyACM0
  openpuck log pull /dev/ttyACM0               into the data folder, then the puck frees the room
  openpuck log pull ble:OpenPuck-1A2B --keep   download only: the puck keeps its records
  openpuck log pull /dev/ttyACM0 --out anna.jsonl --json
  openpuck log pull /dev/ttyACM0 --patient anna   and into anna's history (openpuck history --patient anna)
  openpuck log clear /dev/ttyACM0 --yes
"""

RETRIES = 5   # a pull cut by a lost link is resumed this many times


def add_arguments(p) -> None:
    p.add_argument("action", choices=("list", "pull", "clear"), help="what to do with the log")
    p.add_argument("url", help="the puck: serial:PORT, a port path, ble:NAME, sim:")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--out", metavar="FILE",
                   help="pull into this JSON-lines file (default: puck-logs/SERIAL.jsonl in the data folder)")
    p.add_argument("--keep", action="store_true", help="pull only: the puck keeps the records it sent")
    p.add_argument("--yes", action="store_true", help="clear: yes, delete records not pulled too")
    p.add_argument("--patient", metavar="ID",
                   help="pull only: put the pulled sets into this patient's history, marked as logged on the puck")
    p.add_argument("--db", metavar="PATH", help="with --patient: the history database, or its folder "
                                                "(default: history.sqlite3 in the data folder)")


def run(args) -> int:
    from . import CliError
    if args.action == "clear" and not args.yes:
        raise CliError("log clear deletes every record on the puck, pulled or not; "
                       "pull them first (openpuck log pull URL), then run it again with --yes")
    if (args.patient is not None or args.db is not None) and args.action != "pull":
        raise CliError(f"--patient and --db go with log pull, not log {args.action}")
    if args.db is not None and args.patient is None:
        raise CliError("--db names the history the pulled sets go into: give --patient too")
    if args.patient is not None:
        from ..clinic.history import check_patient
        from ..offline.validate import InvalidValue
        try:
            check_patient(args.patient)
        except InvalidValue as e:
            raise CliError(f"--patient: {e}") from None
    from ..device.puck import connect
    with connect(args.url) as puck:
        if args.action == "list":
            return _show(puck.log_list(), args.json, "")
        if args.action == "clear":
            return _show(puck.log_clear(), args.json, "cleared: ")
        return _pull(puck, args)


def _show(info, as_json: bool, what: str) -> int:
    from dataclasses import asdict
    if as_json:
        print(json.dumps(dict(asdict(info), records=info.records, full=info.full), sort_keys=True))
        return 0
    room = "FULL: logging stopped" if info.full else f"{info.free_bytes} bytes free"
    print(f"{what}{info.records} records (seq {info.first_seq}..{info.next_seq - 1}) in "
          f"{info.segments} segments, {info.bytes} bytes; {room}; boot {info.boot_id}")
    if info.not_kept:
        print(f"{info.not_kept} records not kept since the puck started: its storage was full")
    if info.torn:
        print(f"{info.torn} records torn by a power cut (skipped)")
    return 0


def _pull(puck, args) -> int:
    from ..device.pending import CommandTimeout
    from ..device.puck_log import LogStore
    from ..device.transports import ConnectionLost
    from . import CliError
    serial = puck.serial or ""
    store = LogStore(args.out, serial) if args.out else LogStore.for_puck(serial)
    info = puck.log_list()
    start = store.next_seq()
    if info.next_seq < start:
        # seqs never go back on a puck: its log was wiped (a new filesystem); its records
        # would reuse (boot, seq) names this store already holds and be taken for them
        raise CliError(f"log pull: the puck's log restarted (its next seq is {info.next_seq}, this "
                       f"computer holds up to {start - 1} in {store.path}): its flash was wiped; "
                       f"pull into a new file with --out FILE")
    total = max(0, info.next_seq - max(start, info.first_seq))
    got = [0, 0]   # records received, of which new
    t0 = time.monotonic()
    tty = sys.stderr.isatty()

    def chunk(recs) -> None:
        got[0] += len(recs)
        got[1] += store.add(recs)
        if tty:
            print(f"\rpulling: {got[0]}/{total} records", end="", file=sys.stderr, flush=True)

    for attempt in range(RETRIES + 1):
        try:
            puck.log_pull(store.next_seq(), on_records=chunk)
            break
        except (CommandTimeout, ConnectionLost) as e:
            if attempt == RETRIES:
                raise CliError(f"log pull: the link to {args.url} failed {RETRIES + 1} times ({e}); "
                               f"the {got[1]} records pulled are stored in {store.path}: "
                               f"run the pull again to go on from seq {store.next_seq()}") from None
            print(f"\rlog pull: link lost at seq {store.next_seq()}, resuming", file=sys.stderr)
            time.sleep(0.5 * (attempt + 1))   # the Puck reconnects meanwhile
    dt = time.monotonic() - t0
    print(("\r" if tty else "") + f"pulled {got[0]} records ({got[1]} new) in {dt:.1f} s into {store.path}",
          file=sys.stderr)
    confirmed = None
    if not args.keep and store.last_seq() >= 0:
        confirmed = puck.log_confirm(store.last_seq())
    history = _into_history(args, serial, store) if getattr(args, "patient", None) is not None else None
    if args.json:
        print(json.dumps({"serial": serial, "path": str(store.path), "records": got[0], "new": got[1],
                          "stored": len(store), "next_seq": store.next_seq(), "seconds": round(dt, 3),
                          "confirmed_upto": store.last_seq() if confirmed is not None else None,
                          "not_kept": info.not_kept, "torn": info.torn, "history": history}, sort_keys=True))
    elif confirmed is not None:
        print(f"the puck may now delete records up to seq {store.last_seq()}: "
              f"{confirmed.records} records, {confirmed.bytes} bytes left on it")
    return 0


def _into_history(args, serial: str, store) -> dict:
    """Put every dated set of the store into the patient's history (again: nothing
    is stored twice, and a puck start marked since is dated now); say what it did."""
    from dataclasses import asdict

    from ..clinic.history import History
    from ..clinic.history_log import import_log
    from ._history_db import database_path, plural
    with History(database_path(args.db)) as h:
        done = import_log(h, args.patient, serial, store.records())
        where = str(h.path)
    if not args.json:
        print(f"into {args.patient}'s history ({where}): {plural(done.sets_added, 'set')} done with the host "
              f"away, {plural(done.sets_completed, 'live set')} completed, {done.events_added} reps, partial reps "
              f"and grips added, {done.events_known} already there")
        for u in done.undated:
            print(f"not dated, not in the history: {u.exercise} set of puck start {u.boot} (seq {u.seq}, "
                  f"{u.reps} reps): no host gave the puck its time while it was on; kept in {store.path}")
    return dict(asdict(done), undated=[asdict(u) for u in done.undated], database=where)

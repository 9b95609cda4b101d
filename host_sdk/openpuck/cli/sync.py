"""openpuck sync: send this computer's history to the clinic, fetch the programme."""
from __future__ import annotations

import argparse
import sys

HELP = "send the history to the clinic server (what it lacks) and fetch the programme the therapist assigned"
DESCRIPTION = """\
Send the sessions, sets and reps the clinic server does not have yet, then
fetch the programme the therapist assigned. Offline, nothing is lost: the
history keeps what is not sent, and the next sync sends it. Sending twice
stores nothing twice. The first time, give the clinic's address and the
token it issued for this computer; they are kept (readable by you only)."""
EPILOG = """\
examples:
  openpuck sync --server https://clinic.example --token-file token.txt   the first time
  openpuck sync                                                          later
  openpuck sync --all              send everything again (the clinic restored an older backup)
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", help="the clinic server's address (https://...): kept for later syncs")
    p.add_argument("--token-file", help="a file holding this computer's token ('-': standard input): kept")
    p.add_argument("--all", action="store_true",
                   help="send the whole history again, not only what is new (after the clinic restored a backup)")
    p.add_argument("--db", help="the history database (file or folder; default: the data folder's)")


def run(args: argparse.Namespace) -> int:
    from ..clinic import sync
    from ._history_db import open_history, plural
    if args.server or args.token_file:
        if not (args.server and args.token_file):
            from . import CliError
            raise CliError("give --server and --token-file together (the clinic's address and this computer's token)")
        if args.token_file == "-":
            token = sys.stdin.readline()
        else:
            with open(args.token_file, encoding="utf-8") as f:
                token = f.read()
        print(f"clinic settings kept in {sync.save_config(args.server, token)}")
    cfg = sync.load_config()
    with open_history(args.db) as history:
        if args.all:
            print(f"{plural(sync.queue_everything(history), 'record')} queued again")
        r = sync.sync(history, cfg)
    print(f"{r.patient}: sent {plural(r.sent, 'record')} to {cfg.server} "
          f"({r.new_events} new reps, partial reps and grips)")
    if r.others_left:
        print(f"{plural(r.others_left, 'record')} of other patients stay here: this computer's token is {r.patient}'s")
    if r.programme is not None:
        print(f"programme version {r.programme_version} from the clinic: {r.programme}")
    return 0

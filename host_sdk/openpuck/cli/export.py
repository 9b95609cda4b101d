"""openpuck export: a recording to samples CSV and events JSON."""
from __future__ import annotations

import json
import sys

from . import CliError

HELP = "export a recording to a samples CSV and an events JSON"
DESCRIPTION = """\
Decode FILE (an .opr recording or raw wire bytes) and write its samples as a
CSV in the samples-csv format (t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps,force_n:
device seconds, g, deg/s, N), its events (reps, partial reps, grips, gaps,
status) as JSON, and print the session summary."""
EPILOG = """\
examples:
  openpuck export session.opr --csv session.csv
  openpuck export session.opr --csv session.csv --events session.json
  openpuck export session.opr --events - | jq '.summary'
  openpuck detect session.csv --exercise grip_squeeze    count again with the SDK detector
"""


def add_arguments(p) -> None:
    p.add_argument("file", help="recording (.opr) or raw wire bytes (.bin)")
    p.add_argument("--csv", metavar="OUT.csv", help="write the samples here")
    p.add_argument("--events", metavar="OUT.json", help="write events and summary here ('-' = stdout)")


def progress_bar(what: str):
    """A rich progress bar on stderr when it is a terminal; a no-op callback otherwise."""
    if not sys.stderr.isatty():
        return None, lambda done, total: None
    try:
        from rich.progress import Progress
    except ImportError:
        return None, lambda done, total: None
    prog = Progress(transient=True)
    task = prog.add_task(what, total=None)
    return prog, lambda done, total: prog.update(task, completed=done, total=total)


def run(args) -> int:
    from ..offline.csvio import write_samples
    from ..offline.recording import RecordingError, load_session
    if not args.csv and not args.events:
        raise CliError("nothing to do: give --csv OUT.csv and/or --events OUT.json")
    prog, cb = progress_bar(f"decoding {args.file}")
    try:
        if prog:
            prog.start()
        try:
            s = load_session(args.file, progress=cb)
        except RecordingError as e:
            raise CliError(str(e)) from None
    finally:
        if prog:
            prog.stop()
    if args.csv:
        n = write_samples(s.samples, args.csv)
        print(f"{args.csv}: {n} samples", file=sys.stderr)
    summary = s.summary()
    if args.events:
        doc = {"file": args.file, "url": (s.header or {}).get("url"),
               "start_time": (s.header or {}).get("start_time"),
               "device": s.info.as_dict() if s.info else None, "summary": summary,
               "counters": s.counters, "truncated": s.truncated,
               "events": [e.as_dict() for e in s.events]}
        text = json.dumps(doc, indent=1)
        if args.events == "-":
            print(text)
        else:
            with open(args.events, "w", encoding="utf-8") as f:
                f.write(text + "\n")
            print(f"{args.events}: {len(s.events)} events", file=sys.stderr)
    for w in s.warnings:
        print(f"openpuck export: warning: {w}", file=sys.stderr)
    print(f"{summary['reps']} reps, {summary['partial_reps']} partial, {summary['grips']} grips, "
          f"{summary['gaps']} gaps over {summary['duration_s']:.1f} s", file=sys.stderr)
    return 0

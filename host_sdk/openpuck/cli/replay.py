"""openpuck replay: play a recording back and print its events."""
from __future__ import annotations

import json

from . import CliError

HELP = "play a recording back as a puck and print its events"
DESCRIPTION = """\
Play FILE (an .opr recording, or raw wire bytes) back through the SDK exactly
as the live puck was read, and print every event: reps, partial reps,
grips, gaps, status. The same code path as a live puck, so a replay shows
what an app would have seen."""
EPILOG = """\
examples:
  openpuck replay session.opr                 at the recorded pace
  openpuck replay session.opr --speed max     as fast as possible
  openpuck replay session.opr --json | jq 'select(.kind=="rep") | .amplitude'
  openpuck replay session.opr --only rep,grip
"""


def add_arguments(p) -> None:
    p.add_argument("file", help="recording (.opr) or raw wire bytes (.bin)")
    p.add_argument("--speed", default="1", metavar="N|max",
                   help="playback speed: 1 as recorded (default), 10, max")
    p.add_argument("--json", action="store_true", help="one JSON object per event per line")
    p.add_argument("--only", metavar="KINDS", help="comma list of kinds (rep, partial_rep, grip, gap, status, log)")
    p.add_argument("--status", action="store_true", help="also print status events (hidden by default)")


def run(args) -> int:
    import sys

    from ..device.events import format_event
    from ..device.puck import connect
    from ..offline.recording import open_source
    for w in open_source(args.file, want=("recording", "wire")).warnings():
        print(f"openpuck replay: warning: {w}", file=sys.stderr)
    only = set(k.strip() for k in args.only.split(",")) if args.only else None
    kinds = ("rep", "partial_rep", "grip", "target", "gap", "status", "log", "config")
    if only is not None and not only <= set(kinds):
        bad = ", ".join(sorted(only - set(kinds)))
        raise CliError(f"--only {bad}: not an event kind (kinds: {', '.join(kinds)})")
    n = 0
    from urllib.parse import quote

    from ..device.transports import TransportError
    try:
        puck = connect(f"replay:{quote(args.file)}?speed={quote(args.speed)}")
    except TransportError as e:
        raise CliError(str(e)) from None
    with puck:
        for ev in puck.events():
            if only is not None and ev.kind not in only:
                continue
            if only is None and ev.kind in ("status", "config") and not args.status:
                continue
            n += 1
            print(json.dumps(ev.as_dict()) if args.json else format_event(ev), flush=True)
        c = puck.counters
    if not args.json:
        print(f"-- {n} events, {c['samples']} samples, {c['lost_frames']} frames lost, "
              f"{c['gaps']} gaps, {c['crc_errors'] + c['cobs_errors']} damaged frames")
    return 0

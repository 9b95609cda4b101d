"""openpuck stream: watch a puck live."""
from __future__ import annotations

import json
import sys
import threading
import time

from . import CliError
from .record import _DeviceTime, add_session_arguments, check_session_arguments, start_session

HELP = "watch a puck live: values, reps, grips, rate, loss (--lsl, --json)"
DESCRIPTION = """\
Connect to a puck, start the exercise and show what it says: a live
terminal view (values, reps, grips, the puck's sample rate by its own clock,
loss) on a terminal, one
line per event otherwise. --json prints one JSON object per event per line
for scripts; --lsl publishes samples and events as Lab Streaming Layer
streams (LabRecorder sees them as "OpenPuck <serial> samples/events")."""
EPILOG = """\
examples:
  openpuck stream /dev/ttyACM0
  openpuck stream sim: --exercise grip_squeeze --target 25
  openpuck stream ble:OpenPuck-1A2B --lsl               for LabRecorder
  openpuck stream sim:?speed=max --json --seconds 10 | jq -c 'select(.kind=="rep")'
  openpuck stream /dev/ttyACM0 --record session.opr     watch and record at once
"""


def add_arguments(p) -> None:
    p.add_argument("url", help="the puck: serial:PORT, a port path, ble:NAME, sim:[...], replay:FILE")
    add_session_arguments(p)
    p.add_argument("--seconds", metavar="N",
                   help="stop after N seconds of the puck's time, as record does: a virtual puck at "
                        "speed 2 stops after N/2 s here; a puck sending no samples, after N s "
                        "here (default: Ctrl-C)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object per event per line")
    out.add_argument("--plain", action="store_true", help="one line per event, no live view")
    p.add_argument("--status", action="store_true", help="also print status events (--json, --plain)")
    p.add_argument("--lsl", action="store_true", help="publish LSL outlets for samples and events")
    p.add_argument("--record", metavar="FILE", help="also record the raw bytes to FILE (.opr)")


def _idle_limit(device: _DeviceTime, seconds: float, t0: float) -> None:
    """A puck that sends no samples (--watch of an idle puck, --no-start) has
    no time of its own to count: then --seconds are the host's."""
    while not device.reached.wait(0.1):
        if device.first is None and time.monotonic() - t0 >= seconds:
            device.reached.set()


def run(args) -> int:
    from ..device.events import format_event
    from ..device.puck import connect
    check_session_arguments(args)
    if args.lsl:
        from ..device.lsl import _pylsl
        _pylsl()  # fail before connecting, with the reason
    live = not (args.json or args.plain) and sys.stdout.isatty()
    if live:
        from ..device.live import _rich
        from ..errors import OpenPuckError
        try:
            _rich()
        except OpenPuckError as e:   # no rich: one line per event instead of the live view
            print(f"openpuck stream: {e}; showing one line per event", file=sys.stderr)
            live = False
    with connect(args.url, record=args.record) as puck:
        if args.lsl:
            from ..device.lsl import LslOutlets
            outlets = LslOutlets.for_puck(puck, rate_hz=args.rate)
            print(f"LSL: streams '{outlets.samples_outlet.get_info().name()}' and "
                  f"'{outlets.events_outlet.get_info().name()}'", file=sys.stderr)
        device = _DeviceTime(args.seconds)   # --seconds counts the puck's time, as record's does
        puck.on("samples", device)
        start_session(puck, args)
        t0 = time.monotonic()
        if args.seconds is not None:
            threading.Thread(target=_idle_limit, args=(device, args.seconds, t0), daemon=True).start()
        if live:
            from ..device.live import LiveView
            LiveView(puck).run(until=device.reached)
        else:
            try:
                while not device.reached.is_set() and not puck.wait_closed(0):
                    for ev in puck.events(duration=0.1):
                        if ev.kind == "config" or (ev.kind == "status" and not args.status):
                            continue
                        if args.seconds is not None and device.first is not None and \
                                getattr(ev, "t", 0.0) > device.first + args.seconds:
                            continue   # after the span asked for: not part of the run
                        print(json.dumps(ev.as_dict()) if args.json else format_event(ev), flush=True)
            except BrokenPipeError:  # `| head`
                return 0
        if puck.closed_reason is not None:
            raise CliError(str(puck.closed_reason))
        c = puck.counters
    if not args.json:
        print(f"-- {c['samples']} samples, {c['lost_frames']} frames lost, {c['gaps']} gaps, "
              f"{c['reconnects']} reconnects", file=sys.stderr)
    return 0

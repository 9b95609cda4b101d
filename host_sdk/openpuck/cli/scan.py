"""openpuck scan: find pucks on USB and over BLE."""
from __future__ import annotations

import json
import sys

HELP = "find pucks on USB serial (by USB id) and over BLE (by service UUID)"
DESCRIPTION = """\
List pucks this computer can reach, with the URL to give to other commands.
USB: serial ports with the Raspberry Pi (2E8A) or Espressif (303A) USB
vendor id: any board with those chips matches, so these are candidates.
BLE: devices advertising the Nordic UART service
6E400001-B5A3-F393-E0A9-E50E24DCCA9E (needs bleak and a Bluetooth adapter)."""
EPILOG = """\
examples:
  openpuck scan
  openpuck scan --no-ble                 USB only (fast)
  openpuck scan --timeout 10 --json
  openpuck stream $(openpuck scan --first)   the first puck found
"""


def add_arguments(p) -> None:
    p.add_argument("--no-ble", action="store_true", help="skip the BLE scan")
    p.add_argument("--no-usb", action="store_true", help="skip USB serial ports")
    p.add_argument("--timeout", default=5.0, metavar="S", help="BLE scan time, seconds above 0 (default 5)")
    p.add_argument("--json", action="store_true", help="a JSON list")
    p.add_argument("--first", action="store_true", help="print only the first URL (exit 1 if none)")


def run(args) -> int:
    import importlib
    from dataclasses import asdict

    from ..offline import validate
    sc = importlib.import_module("openpuck.device.scan")  # the module (openpuck.scan is the function)
    args.timeout = validate.seconds("--timeout", args.timeout)
    found = []
    if not args.no_usb:
        found += sc.scan_serial()
    if not args.no_ble:
        try:
            found += sc.scan_ble(args.timeout)
        except Exception as e:  # noqa: BLE001 - no adapter, no bleak: say so, keep USB finds
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            if "No such file" in msg or "org.bluez" in msg or "dbus" in msg.lower():
                msg = f"no Bluetooth adapter or BlueZ/D-Bus here ({msg})"
            print(f"openpuck scan: BLE skipped: {msg}", file=sys.stderr)
    if args.first:
        if not found:
            print("openpuck scan: no puck found", file=sys.stderr)
            return 1
        print(found[0].url)
        return 0
    if args.json:
        print(json.dumps([asdict(f) for f in found], indent=1))
        return 0
    if not found:
        print("no puck found (USB: is it plugged in? BLE: on and advertising?)")
        return 0
    for f in found:
        print(f"{f.url:32s}  {f.name:24s}  {f.detail}")
    return 0

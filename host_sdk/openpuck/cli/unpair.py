"""openpuck unpair: give a puck back (open it to every host)."""
from __future__ import annotations

HELP = "open the puck to every host again and forget its key (USB: anyone; BLE: the owner)"
DESCRIPTION = """\
Unpair a puck: it forgets its owner key and obeys every host again; this
computer forgets its key for it. Over USB anyone may do this, with or
without the key: whoever holds the puck and a cable can take it back, so a
lost key never bricks a puck. Over BLE only the owner may (this computer
signs the command with its key)."""
EPILOG = """\
examples:
  openpuck unpair /dev/ttyACM0
  openpuck unpair ble:OpenPuck-1A2B      only from the computer that paired it
"""


def add_arguments(p) -> None:
    p.add_argument("url", help="the puck: serial:PORT, a port path, ble:NAME (owner only), sim:")


def run(args) -> int:
    from ..device.puck import connect
    with connect(args.url, reconnect=False) as puck:
        was = puck.owned
        puck.unpair()
        info = puck.info
        assert info is not None   # connect() returns once the puck has said who it is
        print(f"puck {info.serial} is open: every host may command it"
              + ("" if was else " (it was not paired)"))
    return 0

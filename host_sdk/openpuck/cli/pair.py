"""openpuck pair: make this computer the owner of a puck (over USB)."""
from __future__ import annotations

from . import CliError

HELP = "make this computer the puck's owner: only it can then change the puck (USB only)"
DESCRIPTION = """\
Pair a puck with this computer over its USB cable: a new random 32-byte
owner key goes to the puck and into this computer's key store (the user
config folder, or $OPENPUCK_CONFIG_DIR), under the puck's serial number.
From then on the puck obeys commands that change it (start with new
settings, set_exercise, calibrate, set_config, reboot, LED, buzzer) only
when this computer signs them; anyone may still read its stream
(openpuck stream --watch). Pairing over BLE is refused: the key would cross
the air in clear. A puck paired with another computer's key must be
unpaired first (openpuck unpair, over USB)."""
EPILOG = """\
examples:
  openpuck pair /dev/ttyACM0
  openpuck pair serial:COM5
  openpuck unpair /dev/ttyACM0          give the puck back (anyone with the cable may)
"""


def add_arguments(p) -> None:
    p.add_argument("url", help="the puck's USB port: serial:PORT or a port path (sim: works too)")


def refuse_ble(url: str, what: str) -> None:
    """Fail before connecting when ``url`` reaches the puck over BLE."""
    from ..device.puck import link_kind
    from ..device.transports import open_transport
    t = open_transport(url, _open=False)
    if link_kind(t) == "ble":
        raise CliError(f"{url} is a BLE link; {what} is accepted over the puck's USB cable only "
                       "(physical access): plug it in and give its port, e.g. "
                       f"openpuck {what} /dev/ttyACM0")


def run(args) -> int:
    from ..device.puck import connect
    refuse_ble(args.url, "pair")
    with connect(args.url, reconnect=False) as puck:
        puck.pair()
        info = puck.info
        assert info is not None   # connect() returns once the puck has said who it is
        print(f"paired puck {info.serial} ({info.board}, firmware {info.firmware}); "
              f"its key: {puck.keys.path_of(info.serial)}")
        print("only this computer can now change the puck; anyone may still read its stream")
    return 0

"""``rp2040:`` the emulated Pico W: the puck firmware on the stock MicroPython
image for the Pico W, in an RP2040 emulator (:mod:`openpuck.device.pico`).

URL grammar::

    rp2040:                             the puck lying still
    rp2040:RECORDING.csv                its sensors play a samples CSV
    rp2040:?scenario=NAME               a built-in scenario (openpuck sim --list-scenarios)
    rp2040:?image=RPI_PICO_W.uf2        the MicroPython image (else $OPENPUCK_PICO_IMAGE)
    rp2040:?detector=twin               detector=auto|c|twin: c installs the armv6m
                                        opdetect.mpy (make natmod), twin leaves it out
    rp2040:?state=DIR                   keep the puck's flash in DIR (flash.bin) across runs

The firmware is installed on a blank emulated board with tools/flash.py (once
per image and firmware; later pucks start from the cached filesystem). The
emulator runs slower than real time: a device second takes several seconds of
wall time, more while the firmware is busy.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import OpenPuckError
from .base import Transport, TransportError, check_params
from .serial import SerialTransport

if TYPE_CHECKING:
    from ..pico import EmulatedPico


class Rp2040Transport(SerialTransport):
    scheme = "rp2040"

    def __init__(self, url: str, recording: str | None, scenario: str | None, image: str | None,
                 detector: str, state: str | None) -> None:
        super().__init__(url, port="", baud=115200)
        self.recording, self.scenario, self.image = recording, scenario, image
        self.detector, self.state = detector, state
        self.pico: EmulatedPico | None = None

    def _open(self) -> None:
        if self.pico is None:
            from .. import pico
            try:
                self.pico = pico.start(self.image, self.recording, self.scenario,
                                       detector=self.detector, state_dir=self.state)
            except (OSError, ValueError, OpenPuckError) as e:
                raise TransportError(f"{self.url}: cannot start the emulated Pico: {e}") from None
            self.port = self.pico.port
        super()._open()

    def reopen(self) -> None:  # the emulator lives on; only the port is reopened
        super()._close()
        self.is_open = False
        self.open()

    def close(self) -> None:
        super().close()
        p, self.pico = self.pico, None
        if p is not None:
            p.stop()

    def describe(self) -> str:
        what = self.recording or (f"scenario {self.scenario}" if self.scenario else "lying still")
        return f"emulated Pico W ({what}) on {self.port}"


def open_url(url: str, path: str, params: dict[str, str]) -> Transport:
    check_params(url, params, {"scenario", "image", "detector", "state"})
    detector = params.get("detector") or "auto"
    if detector not in ("auto", "c", "twin"):
        raise TransportError(f"{url}: detector must be auto, c or twin, not {detector!r}")
    if path and params.get("scenario"):
        raise TransportError(f"{url}: give a recording or a scenario, not both")
    return Rp2040Transport(url, path or None, params.get("scenario") or None, params.get("image") or None,
                           detector, params.get("state") or None)

"""``sim:`` the virtual puck: the real firmware on the MicroPython unix port.

URL grammar::

    sim:                               the virtual puck, its default scenario
    sim:RECORDING.csv                  replays a samples CSV through its sensors
    sim:?scenario=NAME                 a built-in scenario (see `openpuck sim --help`)
    sim:RECORDING.csv?speed=max        options: speed=N|max, scenario=NAME
    sim:?detector=twin                 detector=auto|c|twin: auto runs the C detector
                                       (build/natmod/x64/opdetect.mpy) when built

Options map one to one onto :func:`openpuck.device.sim.start` (``recording``,
``scenario``, ``speed``, ``detector``). The virtual puck runs as a separate process with a
pseudo-terminal where the USB port would be; this transport starts it, talks
to it through pyserial exactly as to a board, and stops it on close.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import OpenPuckError
from .base import Transport, TransportError, check_params, parse_speed
from .serial import SerialTransport

if TYPE_CHECKING:   # the virtual puck is imported when first opened: it needs MicroPython
    from ..sim import VirtualPuck


class SimTransport(SerialTransport):
    scheme = "sim"

    def __init__(self, url: str, recording: str | None, scenario: str | None,
                 speed: float, detector: str = "auto") -> None:
        super().__init__(url, port="", baud=115200)
        self.recording, self.scenario, self.speed = recording, scenario, speed
        self.detector = detector
        self.vpuck: VirtualPuck | None = None
        # the virtual puck holds its port's lock from creation to stop (lock_port): nobody
        # else can take the port while the firmware starts or between a close and a reopen
        self.exclusive = None

    def _open(self) -> None:
        if self.vpuck is None:
            try:
                from .. import sim
            except ImportError as e:
                raise TransportError(f"{self.url}: the virtual puck is not available ({e})") from None
            try:
                self.vpuck = sim.start(recording=self.recording, scenario=self.scenario,
                                       speed=self.speed, detector=self.detector, lock_port=True)
            except (OSError, ValueError, OpenPuckError) as e:  # SimError, SimUnavailable
                raise TransportError(f"{self.url}: cannot start the virtual puck: {e}") from None
            self.port = self.vpuck.port
        super()._open()

    def _close(self) -> None:
        super()._close()

    def reopen(self) -> None:  # the process lives on; only the port is reopened
        super()._close()
        self.is_open = False
        self.open()

    def close(self) -> None:
        super().close()
        vp, self.vpuck = self.vpuck, None
        if vp is not None:
            vp.stop()

    def describe(self) -> str:
        what = self.recording or (f"scenario {self.scenario}" if self.scenario else "default")
        return f"virtual puck ({what}) on {self.port}"


def open_url(url: str, path: str, params: dict[str, str]) -> Transport:
    check_params(url, params, {"scenario", "speed", "detector"})
    speed = parse_speed(url, params.get("speed"), 1.0)
    detector = params.get("detector") or "auto"
    if detector not in ("auto", "c", "twin"):
        raise TransportError(f"{url}: detector must be auto, c or twin, not {detector!r}")
    return SimTransport(url, path or None, params.get("scenario") or None, speed, detector)

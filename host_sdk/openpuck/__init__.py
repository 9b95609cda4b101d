"""OpenPuck SDK: decode puck streams, count reps, talk to real and virtual pucks."""
from __future__ import annotations

__version__ = "0.1.0"

from . import protocol  # noqa: E402
from .device.decoder import SampleBlock, StreamDecoder  # noqa: E402
from .device.events import (DeviceInfo, Event, Gap, Grip, Log, PartialRep, Rep,  # noqa: E402
                     Status)
from .device.puck import CommandError, CommandTimeout, Puck, connect  # noqa: E402
from .device.aio import AsyncPuck, connect_async  # noqa: E402
from .device.scan import scan  # noqa: E402
from .device.transports import ConnectionLost, TransportError, open_transport  # noqa: E402
from .offline.detect import Detection, detect  # noqa: E402,F401
from .errors import OpenPuckError  # noqa: E402,F401

__all__ = ["__version__", "protocol", "SampleBlock", "StreamDecoder", "DeviceInfo", "Event", "Gap", "Grip",
           "Log", "PartialRep", "Rep", "Status", "AsyncPuck", "CommandError", "CommandTimeout", "Puck",
           "connect", "connect_async", "scan", "ConnectionLost", "TransportError", "open_transport",
           "Detection", "detect", "OpenPuckError"]

#: the home-programme modules, imported on first use (``openpuck.clinic.programme.run(...)``
#: after a plain ``import openpuck``, as the README shows) so that importing the
#: SDK stays light
_LAZY = ("programme", "programme_file", "progression", "history", "report", "report_data", "exercises")


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

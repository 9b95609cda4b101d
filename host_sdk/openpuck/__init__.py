"""OpenPuck SDK: decode puck streams, count reps, talk to real and virtual pucks.

The package is in layers: :mod:`openpuck.device` (talking to a puck: transports,
decoders, :class:`Puck`, the virtual puck), :mod:`openpuck.offline` (recordings,
detection, plots: no puck needed), :mod:`openpuck.clinic` (home programmes,
history, reports) and :mod:`openpuck.cli`. The names below are re-exported
lazily: ``import openpuck`` loads none of them until one is used, so the
command line and scripts that need one corner of the SDK start fast.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__

#: public name -> the module that defines it
_NAMES = {
    "SampleBlock": "openpuck.device.decoder", "StreamDecoder": "openpuck.device.decoder",
    "DeviceInfo": "openpuck.device.events", "Event": "openpuck.device.events", "Gap": "openpuck.device.events",
    "Grip": "openpuck.device.events", "Log": "openpuck.device.events", "PartialRep": "openpuck.device.events",
    "Rep": "openpuck.device.events", "Status": "openpuck.device.events", "Target": "openpuck.device.events",
    "CommandError": "openpuck.device.pending", "CommandTimeout": "openpuck.device.pending",
    "Puck": "openpuck.device.puck", "connect": "openpuck.device.puck",
    "AsyncPuck": "openpuck.device.aio", "connect_async": "openpuck.device.aio",
    "scan": "openpuck.device.scan",
    "ConnectionLost": "openpuck.device.transports", "TransportError": "openpuck.device.transports",
    "open_transport": "openpuck.device.transports",
    "Detection": "openpuck.offline.detect", "detect": "openpuck.offline.detect",
    "OpenPuckError": "openpuck.errors",
}

#: modules reachable as attributes after a plain ``import openpuck``
#: (``openpuck.programme.run(...)``, as the README shows)
_MODULES = {
    "protocol": "openpuck.protocol", "errors": "openpuck.errors", "exercises": "openpuck.exercises",
    "device": "openpuck.device", "offline": "openpuck.offline", "clinic": "openpuck.clinic",
    "cli": "openpuck.cli",
    "programme": "openpuck.clinic.programme", "programme_file": "openpuck.clinic.programme_file",
    "progression": "openpuck.clinic.progression", "history": "openpuck.clinic.history",
    "report": "openpuck.clinic.report", "report_data": "openpuck.clinic.report_data",
}

__all__ = ["__version__", "protocol", "SampleBlock", "StreamDecoder", "DeviceInfo", "Event", "Gap", "Grip",
           "Log", "PartialRep", "Rep", "Status", "Target", "AsyncPuck", "CommandError", "CommandTimeout", "Puck",
           "connect", "connect_async", "scan", "ConnectionLost", "TransportError", "open_transport",
           "Detection", "detect", "OpenPuckError"]

if TYPE_CHECKING:  # what mypy and editors see; at run time __getattr__ imports on first use
    from . import clinic, device, errors, exercises, offline, protocol  # noqa: F401
    from .clinic import history, programme, programme_file, progression, report, report_data  # noqa: F401
    from .device.aio import AsyncPuck, connect_async  # noqa: F401
    from .device.decoder import SampleBlock, StreamDecoder  # noqa: F401
    from .device.events import DeviceInfo, Event, Gap, Grip, Log, PartialRep, Rep, Status, Target  # noqa: F401
    from .device.pending import CommandError, CommandTimeout  # noqa: F401
    from .device.puck import Puck, connect  # noqa: F401
    from .device.scan import scan  # noqa: F401
    from .device.transports import ConnectionLost, TransportError, open_transport  # noqa: F401
    from .errors import OpenPuckError  # noqa: F401
    from .offline.detect import Detection, detect  # noqa: F401


def __getattr__(name: str) -> object:
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # cached, so the next lookup is a plain attribute
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NAMES) | set(_MODULES))

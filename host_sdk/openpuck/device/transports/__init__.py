"""Transports: raw bytes to and from a puck, chosen by URL.

In the manner of pyserial's ``serial_for_url``: the URL's scheme names a
module of this package (``serial``, ``ble``, ``sim``, ``replay``, ``spy``,
``loop``), whose docstring states its URL grammar and whose ``open_url``
builds the transport. A plain path (``/dev/ttyACM0``, ``COM5``) means serial.

    t = open_transport("serial:/dev/ttyACM0?baud=921600")
    t = open_transport("ble:OpenPuck-1A2B")
    t = open_transport("sim:?scenario=grip10&speed=max")
    t = open_transport("rp2040:?scenario=grip10")      # the emulated Pico W
    t = open_transport("replay:session.opr?speed=4")
    t = open_transport("spy:serial:/dev/ttyACM0?log=wire.txt")

All of them share :class:`Transport` (``open``, ``close``, ``read(timeout)``,
``write``, ``reopen``).
"""
from __future__ import annotations

import importlib
import re

from .base import ConnectionLost, EndOfStream, ReadOnlyError, Transport, TransportError, split_url

SCHEMES = ("serial", "ble", "sim", "rp2040", "replay", "spy", "loop")

__all__ = ["open_transport", "Transport", "TransportError", "ConnectionLost", "EndOfStream",
           "ReadOnlyError", "SCHEMES", "normalise_url"]

_WINDOWS_PORT = re.compile(r"^(COM\d+|\\\\\.\\.*)$", re.IGNORECASE)


def normalise_url(url: str) -> str:
    """A plain port name or path becomes ``serial:...``; URLs are returned as given."""
    url = str(url).strip()
    if not url:
        raise TransportError("empty URL (expected e.g. serial:/dev/ttyACM0, sim:, ble:NAME)")
    if url.startswith("/") or url.startswith("./") or _WINDOWS_PORT.match(url):
        return "serial:" + url
    scheme = url.partition(":")[0].lower()
    if ":" not in url or scheme not in SCHEMES:
        if scheme in ("socket", "rfc2217", "loop", "spy", "hwgrep", "alt") and "://" in url:
            return "serial:" + url  # a pyserial URL handed to us whole
        known = ", ".join(s + ":" for s in SCHEMES)
        raise TransportError(f"{url!r}: unknown transport (use one of {known} or a port path)")
    return url


def open_transport(url: str, *, _open: bool = True) -> Transport:
    """The transport for ``url``, opened (unless ``_open`` is False)."""
    url = normalise_url(url)
    scheme, path, params = split_url(url)
    mod = importlib.import_module(f".{scheme}", __name__)
    t = mod.open_url(url, path, params)
    if _open:
        t.open()
    return t

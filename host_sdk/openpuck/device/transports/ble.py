"""``ble:`` a puck over Bluetooth Low Energy (Nordic UART service), through bleak.

URL grammar::

    ble:ADDRESS            e.g. ble:D4:3A:2C:11:22:33 (Linux, Windows) or a macOS UUID
    ble:NAME               the first puck advertising that name, e.g. ble:OpenPuck-1A2B
    ble:...?timeout=S      seconds to look for it (default 10)

The puck serves the Nordic UART service (NUS) 6E400001-B5A3-F393-E0A9-E50E24DCCA9E:
the host writes commands to RX 6E400002-... (write without response) and
subscribes to TX 6E400003-... notifications. Notifications are appended in
order into one byte stream, exactly what a serial port would give, so the
same StreamDecoder reads them (frames cross notification boundaries freely).
Writes are cut into pieces of ``mtu_size - 3`` bytes (the ATT payload of the
negotiated MTU; 20 bytes at the BLE minimum MTU of 23).

bleak is asyncio; this transport runs its own event loop on a thread so the
blocking :class:`Transport` interface (and the Puck's reader thread) works
as for serial. A disconnect (out of range, puck off) raises
:class:`ConnectionLost` after the bytes already received; :meth:`reopen`
finds the puck again and reconnects. Needs ``pip install openpuck[ble]``.
"""
from __future__ import annotations

import asyncio
import queue
import re
import threading
from typing import Any

from ...errors import needs
from .base import ConnectionLost, Transport, TransportError, check_params

NUS_SERVICE = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
NUS_RX = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"   # host -> puck (write)
NUS_TX = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"   # puck -> host (notify)
MIN_MTU = 23
_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f-]{36})$")
_LOST = object()


def _bleak() -> Any:
    """The bleak module (the seam tests replace with a fake)."""
    try:
        import bleak
    except ImportError:
        raise TransportError(needs("BLE", "bleak", "ble")) from None
    return bleak


class BleTransport(Transport):
    scheme = "ble"

    def __init__(self, url: str, target: str, timeout: float = 10.0) -> None:
        super().__init__(url)
        self.target = target
        self.by_address = bool(_ADDRESS.match(target))
        self.find_timeout = timeout
        self.mtu = MIN_MTU
        self.notifications = 0
        self._rx: queue.Queue = queue.Queue()
        self._client = None
        self._device = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- the private event loop -------------------------------------------------
    def _run(self, coro, timeout: float | None = None) -> Any:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                            name=f"openpuck-ble-{self.target}")
            self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return fut.result(timeout)

    async def _find(self):
        bleak = _bleak()
        S = bleak.BleakScanner
        if self.by_address:
            dev = await S.find_device_by_address(self.target, timeout=self.find_timeout)
        else:
            def match(d, adv):
                return (d.name or getattr(adv, "local_name", None) or "") == self.target
            dev = await S.find_device_by_filter(match, timeout=self.find_timeout)
        if dev is None:
            raise TransportError(f"ble:{self.target}: no puck found within {self.find_timeout:g} s"
                                 " (is it on, advertising, in range?)")
        return dev

    async def _connect(self) -> None:
        bleak = _bleak()
        self._device = self._device or await self._find()
        self._rx = queue.Queue()

        def gone(_client: Any) -> None:
            self._rx.put(_LOST)

        client = bleak.BleakClient(self._device, disconnected_callback=gone)
        try:
            await client.connect()
        except Exception as e:  # noqa: BLE001 - bleak raises many kinds
            raise TransportError(f"ble:{self.target}: cannot connect ({e})") from None
        acquire = getattr(getattr(client, "_backend", None), "_acquire_mtu", None)
        if acquire is not None:  # BlueZ reports 23 until asked
            try:
                await acquire()
            except Exception:  # noqa: BLE001
                pass
        self.mtu = max(MIN_MTU, int(getattr(client, "mtu_size", MIN_MTU) or MIN_MTU))

        def notified(_sender: Any, data: bytearray) -> None:
            self.notifications += 1
            self._rx.put(bytes(data))

        try:
            await client.start_notify(NUS_TX, notified)
        except Exception as e:  # noqa: BLE001
            await client.disconnect()
            raise TransportError(f"ble:{self.target}: no Nordic UART TX characteristic ({e})") from None
        self._client = client

    def _open(self) -> None:
        try:
            self._run(self._connect(), timeout=self.find_timeout + 30)
        except TransportError:
            raise
        except Exception as e:  # noqa: BLE001
            msg = str(e).strip() or type(e).__name__
            if "No such file" in msg or "org.bluez" in msg or "dbus" in msg.lower():
                msg = f"no Bluetooth adapter or BlueZ/D-Bus here ({msg})"
            raise TransportError(f"ble:{self.target}: {msg}") from None

    def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is not None:
            try:
                self._run(client.disconnect(), timeout=10)
            except Exception:  # noqa: BLE001
                pass

    def reopen(self) -> None:
        self._close()
        self.is_open = False
        self.open()

    def __del__(self) -> None:
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(loop.stop)

    # -- data ----------------------------------------------------------------
    def read(self, timeout: float = 0.1) -> bytes:
        try:
            item = self._rx.get(timeout=timeout)
        except queue.Empty:
            return b""
        if item is _LOST:
            self._rx.put(_LOST)  # stays lost until reopened
            raise ConnectionLost(f"ble:{self.target}: disconnected")
        out = bytearray(item)
        while True:
            try:
                item = self._rx.get_nowait()
            except queue.Empty:
                break
            if item is _LOST:
                self._rx.put(_LOST)
                break
            out += item
        return bytes(out)

    def _write(self, data: bytes) -> None:
        client = self._client
        if client is None:
            raise ConnectionLost(f"ble:{self.target}: not connected")
        size = self.mtu - 3

        async def send() -> None:
            for i in range(0, len(data), size):
                await client.write_gatt_char(NUS_RX, data[i:i + size], response=False)
        try:
            self._run(send(), timeout=10)
        except Exception as e:  # noqa: BLE001
            raise ConnectionLost(f"ble:{self.target}: write failed ({e})") from None

    def describe(self) -> str:
        return f"BLE {self.target} (MTU {self.mtu})"


def open_url(url: str, path: str, params: dict[str, str]) -> Transport:
    check_params(url, params, {"timeout"})
    if not path:
        raise TransportError(f"{url!r}: no address or name (e.g. ble:OpenPuck-1A2B); "
                             "`openpuck scan` lists pucks in range")
    try:
        timeout = float(params.get("timeout", 10.0))
    except ValueError:
        raise TransportError(f"{url!r}: timeout must be a number of seconds") from None
    return BleTransport(url, path, timeout)

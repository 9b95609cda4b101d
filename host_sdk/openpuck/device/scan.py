"""``openpuck.scan()``: find pucks on USB serial and over BLE.

USB: a puck is a USB CDC serial port whose USB vendor id is one of
:data:`USB_VIDS`:

- 0x2E8A Raspberry Pi (RP2040/RP2350: Pico, Pico W, Pico 2 W); MicroPython's
  own product id is 0x0005
- 0x303A Espressif (ESP32-S2/S3/C3/C6 native USB); MicroPython uses 0x4001

These are the chip vendors' ids, not ours: any board with those chips
matches (a Pico running other firmware too), so a match is a candidate; open
it to ask (``openpuck.connect(found.url).info``). A puck behind a USB-UART
bridge chip (CP210x, CH340) is not found by id: name its port.

BLE: a puck advertises the Nordic UART service :data:`NUS_SERVICE`
(6E400001-B5A3-F393-E0A9-E50E24DCCA9E); scanning filters on it through bleak
(``pip install openpuck[ble]``, or ``pip install ".[ble]"`` in a checkout).
"""
from __future__ import annotations

from dataclasses import dataclass, field

USB_VIDS = {0x2E8A: "Raspberry Pi", 0x303A: "Espressif"}
NUS_SERVICE = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"


@dataclass
class FoundPuck:
    url: str                 #: what to give to openpuck.connect()
    transport: str           #: "serial" or "ble"
    name: str
    address: str             #: the port path or the BLE address
    detail: str = ""         #: USB ids and description, or BLE RSSI
    rssi: int | None = None
    vid: int | None = None
    pid: int | None = None
    extra: dict = field(default_factory=dict)


def scan_serial() -> list[FoundPuck]:
    from serial.tools import list_ports
    found = []
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        if p.vid in USB_VIDS:
            found.append(FoundPuck(url=f"serial:{p.device}", transport="serial",
                                   name=p.product or p.description or p.device, address=p.device,
                                   detail=f"USB {p.vid:04X}:{p.pid or 0:04X} {USB_VIDS[p.vid]}"
                                          + (f" serial {p.serial_number}" if p.serial_number else ""),
                                   vid=p.vid, pid=p.pid))
    return found


def scan_ble(timeout: float = 5.0) -> list[FoundPuck]:
    from .transports.ble import _bleak
    bleak = _bleak()
    import asyncio

    async def run():
        return await bleak.BleakScanner.discover(timeout=timeout, service_uuids=[NUS_SERVICE],
                                                 return_adv=True)

    found = []
    res = asyncio.run(run())
    for _addr, (dev, adv) in sorted(res.items()):
        uuids = [u.lower() for u in (adv.service_uuids or [])]
        if uuids and NUS_SERVICE not in uuids:
            continue
        name = dev.name or adv.local_name or ""
        found.append(FoundPuck(url=f"ble:{dev.address}", transport="ble", name=name,
                               address=dev.address, detail=f"RSSI {adv.rssi} dBm", rssi=adv.rssi))
    return found


def scan(ble: bool = True, serial: bool = True, timeout: float = 5.0) -> list[FoundPuck]:
    """Pucks on USB serial (by USB vendor id) and over BLE (by service UUID).

    BLE scanning is skipped (not an error) when bleak is not installed or the
    machine has no Bluetooth adapter; ``scan(ble=True)`` then returns the USB
    finds. Use :func:`scan_ble` to see the BLE error itself.
    """
    out: list[FoundPuck] = []
    if serial:
        out += scan_serial()
    if ble:
        try:
            out += scan_ble(timeout)
        except Exception:  # noqa: BLE001 - no adapter, no bleak, no D-Bus: USB finds still count
            pass
    return out

"""The emulated Pico W's USB host (firmware/emulator/parts.py UsbHost) sends
on the bulk OUT endpoint only when it has bytes, as a real host does; runs
without the emulator, on stand-ins for rp2040py's clock, USB controller and
CDC host side."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

PARTS = Path(__file__).resolve().parent.parent / "firmware" / "emulator" / "parts.py"
OUT_EP = 2


def _parts():
    spec = importlib.util.spec_from_file_location("emulator_parts", PARTS)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Alarm:
    def __init__(self, clock, fn) -> None:
        self.clock, self.fn, self.at = clock, fn, None

    def schedule(self, ns: float) -> None:
        self.at = self.clock.ns + ns

    def cancel(self) -> None:
        self.at = None


class Clock:
    def __init__(self) -> None:
        self.ns = 0.0
        self.alarms: list[Alarm] = []

    def create_alarm(self, fn) -> Alarm:
        a = Alarm(self, fn)
        self.alarms.append(a)
        return a

    def run(self, ns: float) -> None:
        self.ns += ns
        for a in self.alarms:
            if a.at is not None and a.at <= self.ns:
                a.at = None
                a.fn()


class Fifo:
    def __init__(self) -> None:
        self.items: list[int] = []

    @property
    def item_count(self) -> int:
        return len(self.items)

    def pull(self) -> int:
        return self.items.pop(0)


class Usb:
    """rp2040py's controller and CDC host as they behave: every armed OUT
    buffer is answered at once with what the host has, empty or not."""

    def __init__(self, cdc) -> None:
        self.packets: list[tuple[int, bytes]] = []
        self.resets = 0
        self.on_endpoint_read = lambda ep, size: self.packets.append(
            (ep, bytes(cdc.tx_fifo.pull() for _ in range(min(size, cdc.tx_fifo.item_count)))))
        self.on_reset = self._reset

    def _reset(self) -> None:
        self.resets += 1


class Cdc:
    def __init__(self) -> None:
        self._out_endpoint = OUT_EP
        self.tx_fifo = Fifo()
        self.usb = Usb(self)

    def send_serial_byte(self, value: int) -> None:
        self.tx_fifo.items.append(value)


@pytest.fixture
def host():
    clock, cdc = Clock(), Cdc()
    mcu = type("Mcu", (), {"clock": clock})()
    _parts().UsbHost(mcu, cdc)
    return clock, cdc


def test_an_out_buffer_armed_while_the_host_has_nothing_gets_no_packet(host):
    clock, cdc = host
    cdc.usb.on_endpoint_read(OUT_EP, 64)
    clock.run(1e9)
    assert cdc.usb.packets == []


def test_the_bytes_the_host_writes_at_once_go_in_one_packet_to_the_waiting_buffer(host):
    clock, cdc = host
    cdc.usb.on_endpoint_read(OUT_EP, 64)
    for b in b"ping":
        cdc.send_serial_byte(b)
    assert cdc.usb.packets == []
    clock.run(10_000)
    assert cdc.usb.packets == [(OUT_EP, b"ping")]
    cdc.usb.on_endpoint_read(OUT_EP, 64)    # re-armed: quiet again
    clock.run(1e9)
    assert cdc.usb.packets == [(OUT_EP, b"ping")]


def test_bytes_already_waiting_are_sent_when_the_buffer_is_armed(host):
    clock, cdc = host
    cdc.send_serial_byte(7)
    cdc.usb.on_endpoint_read(OUT_EP, 64)
    assert cdc.usb.packets == [(OUT_EP, b"\x07")]


def test_the_control_endpoint_is_answered_as_before(host):
    clock, cdc = host
    cdc.usb.on_endpoint_read(0, 7)
    assert cdc.usb.packets == [(0, b"")]


def test_a_reset_forgets_the_waiting_buffer(host):
    clock, cdc = host
    cdc.usb.on_endpoint_read(OUT_EP, 64)
    cdc.usb.on_reset()
    cdc.send_serial_byte(1)
    clock.run(1e9)
    assert cdc.usb.packets == [] and cdc.usb.resets == 1

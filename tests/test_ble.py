"""BLE through bleak, against a fake bleak at the boundary (no radio here).

The fake bleak module has what the transport uses: BleakScanner's
find_device_by_address / find_device_by_filter / discover, and a BleakClient
whose connect, mtu_size (raised by BlueZ's _acquire_mtu), start_notify and
write_gatt_char are wired to a FakePuck through an in-memory link. The
puck's bytes come back as notifications of mtu_size - 3 bytes, cut anywhere
in a frame, as a real radio does.
"""
from __future__ import annotations

import threading
import time
import types

import pytest

import openpuck
from openpuck.device.events import Gap, Rep
from openpuck.device.transports import ble as ble_mod
from openpuck.device.transports import loop
from openpuck.device.transports.base import ConnectionLost
from tests.test_sdk_fakepuck import FakePuck

NUS_TX = ble_mod.NUS_TX
NUS_RX = ble_mod.NUS_RX


class FakeDevice:
    def __init__(self, address, name):
        self.address, self.name = address, name


class FakeAdv:
    def __init__(self, name, rssi, uuids):
        self.local_name, self.rssi, self.service_uuids = name, rssi, uuids


def make_fake_bleak(pucks: dict, *, mtu: int = 247):
    """pucks: address -> (name, FakePuck)."""
    state = types.SimpleNamespace(clients=[], writes=[])

    class BleakScanner:
        @staticmethod
        async def find_device_by_address(address, timeout=10.0):
            if address in pucks:
                return FakeDevice(address, pucks[address][0])
            return None

        @staticmethod
        async def find_device_by_filter(fn, timeout=10.0):
            for addr, (name, _) in pucks.items():
                d = FakeDevice(addr, name)
                if fn(d, FakeAdv(name, -50, [ble_mod.NUS_SERVICE])):
                    return d
            return None

        @staticmethod
        async def discover(timeout=5.0, service_uuids=None, return_adv=False):
            assert service_uuids == [ble_mod.NUS_SERVICE]
            return {addr: (FakeDevice(addr, name), FakeAdv(name, -60, [ble_mod.NUS_SERVICE]))
                    for addr, (name, _) in pucks.items()}

    class Backend:
        def __init__(self, client):
            self.client = client

        async def _acquire_mtu(self):
            self.client.mtu_size = mtu

    class BleakClient:
        def __init__(self, device, disconnected_callback=None):
            self.device = device
            self._gone = disconnected_callback
            self.mtu_size = 23
            self._backend = Backend(self)
            self.connected = False
            state.clients.append(self)

        async def connect(self):
            host, dev = loop.pair()
            self._host = host
            pucks[self.device.address][1].attach(dev)
            self.connected = True

        async def start_notify(self, uuid, callback):
            assert uuid == NUS_TX
            threading.Thread(target=self._pump, args=(callback,), daemon=True).start()

        def _pump(self, callback):
            size = self.mtu_size - 3
            while self.connected:
                try:
                    data = self._host.read(0.05)
                except ConnectionLost:
                    self.connected = False
                    self._gone(self)
                    return
                for i in range(0, len(data), size):
                    callback(None, bytearray(data[i:i + size]))

        async def write_gatt_char(self, uuid, data, response=True):
            assert uuid == NUS_RX and response is False
            assert len(data) <= self.mtu_size - 3
            state.writes.append(bytes(data))
            self._host.write(bytes(data))

        async def disconnect(self):
            self.connected = False
            self._host.break_link()

    return types.SimpleNamespace(BleakScanner=BleakScanner, BleakClient=BleakClient), state


@pytest.fixture
def fake_ble(monkeypatch):
    puck = FakePuck("ble-fake", serial="BLE01")
    fake, state = make_fake_bleak({"D4:3A:2C:11:22:33": ("OpenPuck-1A2B", puck)})
    monkeypatch.setattr(ble_mod, "_bleak", lambda: fake)
    yield puck, state
    puck.close()


def test_connect_by_name_negotiates_the_mtu_and_streams_reps(fake_ble):
    puck_dev, state = fake_ble
    with openpuck.connect("ble:OpenPuck-1A2B") as puck:
        assert puck.transport.mtu == 247
        assert puck.info.serial == "BLE01"
        puck.start(exercise="grip_squeeze", target=25.0)
        reps = [e for e in puck.events(duration=1.3) if isinstance(e, Rep)]
        assert puck.transport.notifications > 10
    assert len(reps) >= 2 and reps[0].amplitude == pytest.approx(20.0)


def test_connect_by_address_and_writes_are_cut_to_mtu_minus_3(fake_ble, monkeypatch):
    puck_dev, state = fake_ble
    t = openpuck.open_transport("ble:D4:3A:2C:11:22:33")
    try:
        t.mtu = 23                      # the BLE minimum: 20-byte pieces
        t.write(b"\x55" * 45 + b"\x00")
        assert [len(w) for w in state.writes] == [20, 20, 6]
    finally:
        t.close()


def test_small_mtu_notifications_cut_frames_anywhere_and_the_decoder_reassembles(monkeypatch):
    dev = FakePuck("ble-small")
    fake, state = make_fake_bleak({"AA:BB:CC:DD:EE:FF": ("P", dev)}, mtu=23)
    monkeypatch.setattr(ble_mod, "_bleak", lambda: fake)
    try:
        with openpuck.connect("ble:AA:BB:CC:DD:EE:FF") as puck:
            assert puck.transport.mtu == 23
            puck.start()
            reps = [e for e in puck.events(duration=1.2) if isinstance(e, Rep)]
            c = puck.counters
        assert reps and c["crc_errors"] == 0 and c["cobs_errors"] == 0
    finally:
        dev.close()


def test_disconnect_mid_frame_drops_the_partial_frame_and_the_reconnect_resumes(fake_ble):
    puck_dev, state = fake_ble
    with openpuck.connect("ble:OpenPuck-1A2B") as puck:
        puck.start(exercise="grip_squeeze", target=25.0)
        time.sleep(0.3)
        puck_dev.break_mid_frame()
        evs = list(puck.events(duration=1.5))
        c = puck.counters
    gaps = [e for e in evs if isinstance(e, Gap) and e.reason == "disconnected"]
    assert len(gaps) == 1
    assert c["partial_frames"] == 1 and c["crc_errors"] == 0 and c["cobs_errors"] == 0
    assert c["reconnects"] == 1 and len(state.clients) == 2
    assert [m.type for m in puck_dev.received].count("start") == 2   # the session resumed
    assert any(isinstance(e, Rep) and e.t_start > gaps[0].t_end for e in evs)


def test_an_absent_puck_is_a_clear_error(fake_ble):
    with pytest.raises(openpuck.TransportError, match="ble:Nobody: no puck found"):
        openpuck.connect("ble:Nobody?timeout=0.1")


def test_scan_finds_ble_pucks_by_service_uuid(fake_ble, monkeypatch):
    import importlib
    scan_mod = importlib.import_module("openpuck.device.scan")
    monkeypatch.setattr(scan_mod, "scan_serial", lambda: [])
    found = openpuck.scan()
    assert [(f.url, f.name, f.rssi) for f in found] == [("ble:D4:3A:2C:11:22:33", "OpenPuck-1A2B", -60)]


def test_without_bleak_the_error_names_the_extra(monkeypatch):
    import builtins
    real = builtins.__import__

    def no_bleak(name, *a, **kw):
        if name == "bleak":
            raise ImportError("no bleak")
        return real(name, *a, **kw)
    monkeypatch.setattr(builtins, "__import__", no_bleak)
    with pytest.raises(openpuck.TransportError, match=r"pip install bleak \(or, in an OpenPuck checkout, pip install '\.\[ble\]'\)"):
        openpuck.connect("ble:OpenPuck-1A2B")

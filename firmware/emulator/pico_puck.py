"""The puck on an emulated Pico W: the stock MicroPython image in rp2040py,
the puck's parts at its pins, its USB serial on a pseudo-terminal.

    python firmware/emulator/pico_puck.py --image RPI_PICO_W.uf2 --state DIR
        [--recording FILE.csv | --scenario NAME]

Runs in CPython (it needs the rp2040py package, openpuck's `emulator` extra).
Nothing of the puck firmware is put on the chip here: the filesystem starts as
DIR/flash.bin holds it (blank on a first run), and the firmware is installed
the way a hardware engineer installs it, with tools/flash.py over the
pseudo-terminal. When the port is up it prints one JSON line on stdout:
{"port": "/dev/pts/N"}. Then it reads commands, one JSON line each, on stdin
and answers each with one JSON line:
    {"cmd": "stats"}     cycles busy and in all, resets, what the LED and
                         buzzer pins output, I2C transactions, ADC conversions
    {"cmd": "play", "scenario": NAME} or {"cmd": "play", "recording": FILE}
                         the patient starts that movement (from its beginning,
                         when the IMU next runs); {"cmd": "play"}: lying still
    {"cmd": "cut_after_flash_writes", "n": N}
                         a power cut right after the chip's next N flash
                         operations (erase or page program) complete
    {"cmd": "hang"}      the firmware hangs: the core spins on one instruction
                         with interrupts off until the watchdog resets the chip
    {"cmd": "stop"}      end (as does closing stdin, SIGTERM or SIGINT)
Killing it (SIGKILL) is a power cut: DIR/flash.bin holds what the flash chip
held at that instant.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import threading
from pathlib import Path

from parts import (  # type: ignore[import-not-found]
    EmulatedClock,
    FlashFile,
    ForcePad,
    I2CTarget,
    UsbHost,
    import_firmware_models,
    pwm_output,
)

import_firmware_models()

from boards import pico_w, sim_feed, sim_fsr, sim_lsm6dsox, sim_motion  # type: ignore[import-not-found]  # noqa: E402


def _build(args):
    from rp2040py.boards import BOARDS, resolve_firmware
    from rp2040py.device.base_device import BaseDevice
    from rp2040py.utils.logging import LogLevel

    board = resolve_firmware(BOARDS["pico_w"], "micropython", str(args.image))
    if board.image is None or board.layout is None:
        raise SystemExit(f"pico_puck: {args.image}: not a MicroPython image rp2040py can boot")
    # BaseDevice, not MicroPythonDevice: a real USB host sends nothing when it
    # enumerates the puck (no prompt nudge into the firmware's command link)
    device = BaseDevice(board=board, log_level=LogLevel.ERROR)
    mcu = device.mcu
    layout = board.layout
    flash = FlashFile(mcu, args.state / "flash.bin", layout.fs_start,
                      layout.fs_blocksize * layout.fs_blockcount)
    feed = sim_feed.MotionFeed(EmulatedClock(mcu.clock), _motion(args.scenario, args.recording))
    imu = sim_lsm6dsox.LSM6DSOXModel(pico_w.IMU_AXES, feed)
    i2c = I2CTarget(mcu, pico_w.I2C_ID, pico_w.IMU_ADDR, imu)
    fsr = sim_fsr.FSRModel(pico_w.FSR_R_FIXED_OHM, pico_w.FSR_VREF_MV)
    pad = ForcePad(mcu, pico_w.FSR_ADC_PIN - 26, fsr, lambda: feed.sample(imu.odr_hz())[6])
    UsbHost(mcu, device.cdc)   # a host that sends only what it has (see UsbHost)
    return device, flash, i2c, pad, feed


def _motion(scenario, recording):
    if recording:
        return sim_motion.Recording(str(recording))
    if scenario:
        return sim_motion.scenario(scenario)
    return None


# SCRATCH_X, core 1's stack in the pico-sdk layout: free on a single-core MicroPython
_HANG_AT = 0x20040000
_B_SELF = b"\xfe\xe7"          # Thumb "b ." (branch to itself)


def hang(mcu) -> None:
    """Hang the core as a firmware bug would: interrupts masked, spinning in
    place. Only the watchdog gets it out."""
    off = _HANG_AT - 0x20000000
    mcu.sram[off:off + 2] = _B_SELF
    mcu.core.pm = True
    mcu.core.pc = _HANG_AT


def play(feed, scenario=None, recording=None) -> None:
    """Put a new movement on the motion feed, from its start: motion time
    restarts at 0 (and runs while the IMU is on, as at power-on)."""
    feed.source = _motion(scenario, recording)
    running = feed.since_us >= 0
    feed.acc_us = 0
    feed.since_us = -1
    feed._key = -1
    if running:
        feed.run(True)


class Stats:
    """Counts the emulator keeps for the tests and the benchmark."""

    def __init__(self, device) -> None:
        self.device = device
        self.resets: list[str] = []
        self.busy_before = 0       # busy cycles of the runs before the last reset
        wd = device._on_watchdog_trigger

        def on_watchdog() -> None:
            self.busy_before += device.mcu.core.cycles
            self.resets.append("watchdog")
            wd()
        device.mcu.watchdog.on_watchdog_trigger = on_watchdog

    def snapshot(self, i2c, pad, flash) -> dict:
        mcu = self.device.mcu
        return {"ns": mcu.clock.nanos, "busy_cycles": self.busy_before + mcu.core.cycles,
                "total_cycles": int(mcu.clock.nanos * 0.125), "resets": list(self.resets),
                "led": {c: pwm_output(mcu, pin) for c, pin in
                        (("r", pico_w.LED_R), ("g", pico_w.LED_G), ("b", pico_w.LED_B))},
                "buzzer": pwm_output(mcu, pico_w.BUZZER),
                "i2c_transactions": i2c.transactions, "adc_conversions": pad.conversions,
                "flash_writes": flash.writes}


def _bridge(base, cdc, sim, stop, master_fd):
    """The USB serial on a pseudo-terminal: rp2040py's own, or (--pty-fd) the
    master end of one the launcher holds, so that the port keeps its name when
    the emulator is killed and started again (a power cycle) as a board's does."""
    if master_fd is None:
        return base(cdc, sim, on_quit=lambda _code: stop.set())

    class Inherited(base):
        async def _on_start(self) -> None:
            await super(base, self)._on_start()    # the SIGTERM plumbing, not a new pty
            self._master_fd = master_fd
            os.set_blocking(master_fd, False)
            self.slave_path = os.ttyname(master_fd) if os.isatty(master_fd) else str(master_fd)
            await self._register_reader()

    return Inherited(cdc, sim, on_quit=lambda _code: stop.set())


def _commands(loop, stop, answer) -> None:
    for line in sys.stdin:
        try:
            cmd = json.loads(line)
            name = cmd.get("cmd")
        except (ValueError, AttributeError):
            cmd, name = {}, None
        if name == "stop":
            break
        loop.call_soon_threadsafe(answer, cmd)
    loop.call_soon_threadsafe(stop.set)


async def _main(args) -> int:
    from rp2040py.cli.pty_repl import PtyInteractiveRepl

    args.state.mkdir(parents=True, exist_ok=True)
    device, flash, i2c, pad, feed = _build(args)
    stats = Stats(device)
    sim = device.simulator
    loop = asyncio.get_running_loop()
    sim.bind_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    bridge = _bridge(PtyInteractiveRepl, device.cdc, sim, stop, args.pty_fd)
    await bridge.start()
    try:
        await device.astart(timeout=None)
        print(json.dumps({"port": bridge.slave_path}), flush=True)

        def answer(cmd) -> None:
            name = cmd.get("cmd")
            try:
                if name == "stats":
                    out = stats.snapshot(i2c, pad, flash)
                elif name == "cut_after_flash_writes":
                    flash.cut_after = max(1, int(cmd["n"]))
                    out = {"cut_after": flash.cut_after}
                elif name == "hang":
                    hang(device.mcu)
                    out = {"hung": True}
                elif name == "play":
                    play(feed, cmd.get("scenario"), cmd.get("recording"))
                    out = {"playing": cmd.get("scenario") or cmd.get("recording")}
                else:
                    out = {"error": f"unknown command {name!r}: stats, play, hang or stop"}
            except (OSError, ValueError, KeyError) as e:
                out = {"error": f"{name}: {e}"}
            print(json.dumps(out), flush=True)

        threading.Thread(target=_commands, args=(loop, stop, answer), daemon=True).start()
        while not stop.is_set() and sim.executing:
            try:
                await asyncio.wait_for(stop.wait(), 0.2)
            except asyncio.TimeoutError:
                pass
        if sim.engine_room_error is not None:
            raise sim.engine_room_error
    finally:
        device.stop()
        await bridge.stop()
        flash.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", type=Path, required=True, help="a MicroPython firmware image for the Pico W (.uf2)")
    ap.add_argument("--state", type=Path, required=True, help="folder of the puck's flash (flash.bin)")
    ap.add_argument("--pty-fd", type=int, help="serve the USB serial on this inherited pty master fd")
    what = ap.add_mutually_exclusive_group()
    what.add_argument("--recording", type=Path, help="a samples CSV the sensors play")
    what.add_argument("--scenario", help="a built-in scenario of the virtual puck (openpuck sim --list-scenarios)")
    args = ap.parse_args(argv)
    if not args.image.is_file():
        ap.error(f"--image {args.image}: no such file")
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())

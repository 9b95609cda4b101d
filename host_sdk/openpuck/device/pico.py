"""The emulated Pico W: the puck firmware on the stock MicroPython image for
the Pico W, in an RP2040 emulator (rp2040py, openpuck's ``emulator`` extra).

Where the virtual puck (:mod:`openpuck.device.sim`) runs the firmware on
MicroPython's unix port, this runs it on the puck's own chip: the rp2 port's
``machine.I2C``, ``ADC``, ``PWM``, ``Timer`` and ``WDT``, its USB serial, its
littlefs flash and the armv6m C detector (``opdetect.mpy``) on a Cortex-M0+.
The sensors answer at the pins (firmware/emulator/parts.py, with the virtual
puck's register models). Emulated time runs slower than the wall clock
(about 25 times while the CPU is busy; idle time is skipped).

The firmware is installed as on a board: ``tools/flash.py`` over the emulated
USB serial (mpremote). That takes about two minutes, so the flashed
filesystem is kept in the cache (one per image, firmware and detector) and
each puck starts from a copy, like a fresh board from the bench.

    with openpuck.device.pico.start(image="RPI_PICO_W.uf2", scenario="grip10") as pico:
        puck = openpuck.connect("serial:" + pico.port)

The port is a pseudo-terminal this process holds, so it keeps its name when
the emulator is killed (:meth:`EmulatedPico.power_cut`, a power cut: the
flash keeps what it held at that instant) and started again
(:meth:`EmulatedPico.power_on`).
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import OpenPuckError
from .sim import SimError, _die_with_parent, check_recording, firmware_dir, log_tail

# install comes from pico_install through __getattr__ below
__all__ = ["EmulatedPico", "PicoError", "PicoUnavailable", "start", "install", "find_image",  # noqa: F822
           "IMAGE_ENV"]

#: where the Pico W image comes from when none is given
IMAGE_ENV = "OPENPUCK_PICO_IMAGE"
BOARD = "pico_w"
ARCH = "armv6m"
DETECTORS = ("auto", "c", "twin")


class PicoError(OpenPuckError):
    """The emulated Pico could not start, install or answer."""


class PicoUnavailable(PicoError):
    """The emulator (rp2040py) or the flash tool is not installed here."""


def runner() -> Path:
    """The emulator process's script (firmware/emulator/pico_puck.py)."""
    p = firmware_dir() / "emulator" / "pico_puck.py"
    if not p.is_file():
        raise PicoUnavailable(f"the emulated Pico's launcher is missing ({p}); reinstall openpuck")
    return p


def check_emulator() -> None:
    """Raise PicoUnavailable, naming what to install, when rp2040py is absent."""
    if importlib.util.find_spec("rp2040py") is None:
        raise PicoUnavailable("the emulated Pico needs the RP2040 emulator rp2040py: "
                              "pip install 'openpuck[emulator]' (in a checkout: pip install -e '.[emulator]')")


def find_image(image: str | os.PathLike[str] | None = None) -> Path:
    """The MicroPython image for the Pico W: ``image``, else $OPENPUCK_PICO_IMAGE."""
    src = image if image is not None else os.environ.get(IMAGE_ENV)
    if not src:
        raise PicoError("the emulated Pico needs a MicroPython v1.28 image for the Pico W "
                        f"(RPI_PICO_W .uf2 from micropython.org): pass image=FILE or set {IMAGE_ENV}")
    p = Path(src).expanduser()
    if not p.is_file():
        raise PicoError(f"Pico W image {p}: no such file")
    if p.suffix.lower() != ".uf2":
        raise PicoError(f"Pico W image {p}: not a .uf2 firmware image")
    return p.resolve()


#: moved to :mod:`openpuck.device.pico_install`, still importable from here;
#: loaded on first use, since pico_install imports this module
_INSTALL_NAMES = ("install", "cache_dir", "_repo", "_natmod", "_key")


def __getattr__(name: str) -> Any:
    if name in _INSTALL_NAMES:
        from . import pico_install
        return getattr(pico_install, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class EmulatedPico:
    """A running emulated Pico W. ``port`` is its USB serial; ``stop()`` ends it."""

    def __init__(self, image: str | os.PathLike[str] | None = None,
                 recording: str | os.PathLike[str] | None = None, scenario: str | None = None, *,
                 state_dir: str | os.PathLike[str] | None = None, detector: str = "auto",
                 flash: Path | None | str = "install", log: str | os.PathLike[str] | None = None,
                 progress: Callable[[str], None] | None = None) -> None:
        if recording is not None and scenario is not None:
            raise PicoError("give a recording or a scenario, not both")
        check_emulator()
        self.image = find_image(image)
        self.recording = None
        if recording is not None:
            try:
                self.recording = check_recording(recording)
            except SimError as e:
                raise PicoError(str(e)) from None
        self.scenario = scenario
        self.detector = detector
        self._own_state = state_dir is None
        self.state_dir = Path(tempfile.mkdtemp(prefix="openpuck-pico-")) if state_dir is None else Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if flash == "install":
            from .pico_install import install
            flash = install(self.image, detector, progress)
        if flash is not None and not (self.state_dir / "flash.bin").exists():
            shutil.copyfile(flash, self.state_dir / "flash.bin")
        self.log_path = Path(log) if log is not None else self.state_dir / "emulator.log"
        self._logf: Any = open(self.log_path, "a", encoding="utf-8")
        self._master: int | None = None
        self._slave: int | None = None
        self.port = ""
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self.power_cycles = 0
        try:
            self.power_on()
        except BaseException:
            self.stop()
            raise

    # ------------------------------------------------------------ power
    def power_on(self) -> None:
        """Start the emulator (the chip boots from its flash); its USB serial
        appears as a new pseudo-terminal (``port``), as a board's does."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return
            if self._master is None:
                self._master, self._slave = os.openpty()
                tty.setraw(self._slave)
                self.port = os.ttyname(self._slave)
            cmd = [sys.executable, str(runner()), "--image", str(self.image), "--state", str(self.state_dir),
                   "--pty-fd", str(self._master)]
            if self.recording is not None:
                cmd += ["--recording", str(self.recording)]
            elif self.scenario is not None:
                cmd += ["--scenario", self.scenario]
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._logf,
                                    text=True, pass_fds=(self._master,), start_new_session=True,
                                    preexec_fn=_die_with_parent)
            self._proc = proc
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                proc.wait()
                self._logf.flush()
                raise PicoError(f"the emulated Pico did not start (exit {proc.returncode}):\n{self.log_tail()}")
            self.power_cycles += 1

    def power_cut(self) -> None:
        """Kill the emulator at once: a power cut (the flash keeps what it held).
        The USB serial goes with it: a host reading the port gets an error."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        self._close_port()

    def _close_port(self) -> None:
        for name in ("_master", "_slave"):
            fd = getattr(self, name, None)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, None)

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _ask(self, cmd: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None or proc.stdin is None or proc.stdout is None:
                raise PicoError("the emulated Pico is not running")
            proc.stdin.write(json.dumps(cmd) + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
        if not line:
            raise PicoError(f"the emulated Pico stopped:\n{self.log_tail()}")
        out: dict[str, Any] = json.loads(line)
        if "error" in out:
            raise PicoError(f"emulated Pico: {out['error']}")
        return out

    def stats(self) -> dict[str, Any]:
        """The emulator's counts now: cycles busy and in all, resets, LED and
        buzzer outputs, I2C transactions, ADC conversions, flash writes."""
        return self._ask({"cmd": "stats"})

    def cut_after_flash_writes(self, n: int) -> None:
        """Cut the power right after the flash chip's next ``n`` operations
        (erase or page program) complete: a power cut in the middle of
        whatever the firmware is writing. Then :meth:`power_on` boots it."""
        self._ask({"cmd": "cut_after_flash_writes", "n": int(n)})

    def wait_dead(self, timeout_s: float) -> bool:
        """True once the emulator has stopped (a power cut it was told to make)."""
        proc = self._proc
        if proc is None:
            return True
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return False
        self.power_cut()    # the port goes with the power
        return True

    def hang(self) -> None:
        """Hang the firmware (the core spins with interrupts off) until the
        puck's watchdog resets it, as a firmware bug would."""
        self._ask({"cmd": "hang"})

    def play(self, scenario: str | None = None, recording: str | os.PathLike[str] | None = None) -> None:
        """The patient starts a movement (a scenario or a recording) from its
        beginning, counted from when the puck next streams; neither: lying still.
        The emulator keeps running: this is the rig's actuator, not a reboot."""
        rec = None
        if recording is not None:
            try:
                rec = str(check_recording(recording))
            except SimError as e:
                raise PicoError(str(e)) from None
        self._ask({"cmd": "play", "scenario": scenario, "recording": rec})
        self.scenario, self.recording = scenario, (Path(rec) if rec else None)

    def connect(self, deadline_s: float = 300.0, **options: Any):
        """openpuck.connect() to this puck, retried until it answers. A boot
        takes a minute or two of wall time on the emulator, and each try
        waits long for its answer: a host that gives up quickly and asks
        again only queues more commands for the booting puck to answer."""
        from .puck import connect
        end = time.monotonic() + deadline_s
        last: Exception | None = None
        while time.monotonic() < end:
            try:
                return connect("serial:" + self.port, **{"timeout": 60.0, **options})
            except OpenPuckError as e:
                last = e
                if not self.alive:
                    break
        raise PicoError(f"the emulated Pico on {self.port} did not answer within {deadline_s:.0f} s "
                        f"({last}); log: {self.log_path}")

    def log_tail(self, n: int = 30) -> str:
        return log_tail(self.log_path, n)

    def stop(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                assert proc.stdin is not None
                proc.stdin.write('{"cmd": "stop"}\n')
                proc.stdin.flush()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._close_port()
        logf = getattr(self, "_logf", None)
        if logf is not None:
            logf.close()
            self._logf = None
        if self._own_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> EmulatedPico:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        src = self.recording or self.scenario or "still"
        return f"<EmulatedPico {self.port} playing {src}>"


def start(image: str | os.PathLike[str] | None = None, recording: str | os.PathLike[str] | None = None,
          scenario: str | None = None, **kw: Any) -> EmulatedPico:
    """Start an emulated Pico W puck (installing the firmware first if the
    cache has no flashed filesystem for this image and firmware)."""
    return EmulatedPico(image, recording, scenario, **kw)

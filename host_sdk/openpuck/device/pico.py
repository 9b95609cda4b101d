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
import hashlib
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

__all__ = ["EmulatedPico", "PicoError", "PicoUnavailable", "start", "install", "find_image",
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


def _repo() -> Path | None:
    """The repository checkout this SDK runs from (tools/flash.py is there), or None."""
    root = Path(__file__).resolve().parents[3]   # openpuck/device/pico.py in host_sdk/
    return root if (root / "tools" / "flash.py").is_file() else None


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


def cache_dir() -> Path:
    env = os.environ.get("OPENPUCK_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("openpuck"))


def _natmod(detector: str) -> Path | None:
    """The armv6m opdetect.mpy to install, or None (the twin)."""
    if detector == "twin":
        return None
    repo = _repo()
    cands = [Path(os.environ["OPENPUCK_NATMOD_DIR"]).parent / ARCH] if os.environ.get("OPENPUCK_NATMOD_DIR") else []
    if repo is not None:
        cands.append(repo / "build" / "natmod" / ARCH)
    for c in cands:
        if (c / "opdetect.mpy").is_file():
            return c
    if detector == "c":
        raise PicoError(f"detector=c needs the {ARCH} opdetect.mpy: run `make natmod MICROPY_DIR=...` "
                        "(it needs arm-none-eabi-gcc)")
    return None


def _key(image: Path, natmod: Path | None) -> str:
    """What the flashed filesystem depends on: the image, the firmware sources
    of the board (the emulator's own files and the unix-port models aside)
    and the C detector."""
    h = hashlib.sha256(image.read_bytes())
    fw = firmware_dir()
    for f in sorted(fw.rglob("*.py")):
        rel = f.relative_to(fw).as_posix()
        if rel.startswith("emulator/") or rel.startswith("boards/sim"):
            continue
        h.update(rel.encode() + b"\0" + f.read_bytes())
    if natmod is not None:
        h.update((natmod / "opdetect.mpy").read_bytes())
    return h.hexdigest()[:16]


def install(image: str | os.PathLike[str] | None = None, detector: str = "auto",
            progress: Callable[[str], None] | None = None, force: bool = False) -> Path:
    """The flashed filesystem (flash.bin) of a puck with this image, firmware
    and detector: from the cache, or made now by booting a blank Pico W and
    running tools/flash.py against it, as a hardware engineer would. The
    first boot also proves the board file's fallback: the image has Bluetooth,
    the emulator has no radio, so the puck comes up on USB alone; it is then
    told (set_config ble_enabled 0) not to try again, which saves about a
    second of every later boot. ``force``: flash anew even if the cache has it."""
    say = progress or (lambda _m: None)
    if detector not in DETECTORS:
        raise PicoError(f"detector must be one of {', '.join(DETECTORS)}, not {detector!r}")
    img = find_image(image)
    check_emulator()
    natmod = _natmod(detector)
    out = cache_dir() / f"{BOARD}-{_key(img, natmod)}" / "flash.bin"
    if out.is_file() and not force:
        return out
    repo = _repo()
    if repo is None:
        raise PicoUnavailable("installing the firmware on the emulated Pico uses tools/flash.py of a "
                              "checkout of the OpenPuck repository (as `make flash` does)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="openpuck-pico-install-") as tmp:
        say("building the firmware (tools/build_firmware.py)")
        r = subprocess.run([sys.executable, str(repo / "tools" / "build_firmware.py")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise PicoError(f"building the firmware failed:\n{r.stderr[-2000:]}")
        empty = Path(tmp) / "no-natmod"
        (empty / ARCH).mkdir(parents=True)
        with EmulatedPico(img, state_dir=Path(tmp) / "state", flash=None) as pico:
            say(f"flashing the puck firmware with tools/flash.py over {pico.port} (about 2 min)")
            cmd = [sys.executable, str(repo / "tools" / "flash.py"), "--port", pico.port, "--board", BOARD,
                   "--natmod", str(natmod.parent if natmod is not None else empty)]
            t0 = time.monotonic()
            r = subprocess.run(cmd, capture_output=True, text=True)
            flashed_s = time.monotonic() - t0
            if r.returncode != 0:
                raise PicoError(f"tools/flash.py failed on the emulated Pico (exit {r.returncode}):\n"
                                + (r.stdout + r.stderr)[-2000:])
            # mpremote has sent the reset and gone; the emulated chip gets to it seconds later,
            # and until then a host's frames (full of Ctrl-A, Ctrl-D) land in the raw REPL
            end = time.monotonic() + 300
            while not pico.stats()["resets"]:
                if time.monotonic() > end:
                    raise PicoError("the emulated Pico did not reset after tools/flash.py")
                time.sleep(0.5)
            say("first boot: Bluetooth fails on the emulator and the puck falls back to USB (about 1 min)")
            puck = pico.connect(deadline_s=600.0)
            try:
                info = puck.info
                puck.set_config("ble_enabled", 0)
            finally:
                puck.close()
        (out.parent / "install.json").write_text(json.dumps({
            "image": str(img), "detector": "c" if natmod is not None else "twin",
            "firmware": getattr(info, "firmware", None), "board": getattr(info, "board", None),
            "flash_tool_s": round(flashed_s, 1)}))
        part = out.with_suffix(f".{os.getpid()}.part")     # two installs at once each write their own
        shutil.copyfile(Path(tmp) / "state" / "flash.bin", part)
        os.replace(part, out)
    say(f"flashed filesystem kept in {out}")
    return out


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

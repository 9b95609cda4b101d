"""Installing the puck firmware on the emulated Pico W (:mod:`openpuck.device.pico`):
tools/flash.py over the emulated USB serial, the flashed filesystem kept in
the cache (one per image, firmware and detector) for every later puck to
start from a copy.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .pico import ARCH, BOARD, DETECTORS, EmulatedPico, PicoError, PicoUnavailable, check_emulator, find_image
from .sim import firmware_dir

__all__ = ["install", "cache_dir"]


def _repo() -> Path | None:
    """The repository checkout this SDK runs from (tools/flash.py is there), or None."""
    root = Path(__file__).resolve().parents[3]   # openpuck/device/pico_install.py in host_sdk/
    return root if (root / "tools" / "flash.py").is_file() else None


def cache_dir() -> Path:
    """Where flashed filesystems are kept: $OPENPUCK_CACHE_DIR, else the user's cache."""
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
        # a build of its own: another install (or make firmware) rebuilding the shared
        # build/firmware at the same time would delete the files under this one
        build = Path(tmp) / "firmware"
        r = subprocess.run([sys.executable, str(repo / "tools" / "build_firmware.py"), "--out", str(build)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise PicoError(f"building the firmware failed:\n{r.stderr[-2000:]}")
        empty = Path(tmp) / "no-natmod"
        (empty / ARCH).mkdir(parents=True)
        with EmulatedPico(img, state_dir=Path(tmp) / "state", flash=None) as pico:
            say(f"flashing the puck firmware with tools/flash.py over {pico.port} (about 2 min)")
            cmd = [sys.executable, str(repo / "tools" / "flash.py"), "--port", pico.port, "--board", BOARD,
                   "--build", str(build), "--natmod", str(natmod.parent if natmod is not None else empty)]
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

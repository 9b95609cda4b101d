"""The firmware type-checks against the MicroPython stubs from PyPI, one port
at a time: micropython-rp2-stubs (Pico W) and micropython-esp32-stubs
(ESP32-S3). The two packages install the same module names, so each goes
into its own directory (build/stubs/<port>, fetched once with pip) and mypy
uses it as its typeshed. Only errors in firmware/ count: the stubs have
their own. A run passes when mypy reports no error in firmware/ and its
line-count report names every firmware module as checked.

firmware/openpuck_fw/detect.py (the detector twin, kept equal to the C core
by value, event for event, by its owner) is checked by its own tests, not here.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.toolchain import required

ROOT = Path(__file__).resolve().parent.parent
STUBS = {
    "rp2": "micropython-rp2-stubs==1.29.0.post1",
    "esp32": "micropython-esp32-stubs==1.29.0.post1",
}
EXCLUDE = {"firmware/openpuck_fw/detect.py", "firmware/openpuck_fw/msgtable.py"}


def firmware_files() -> list[str]:
    files = [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "firmware").rglob("*.py"))]
    # firmware/emulator/ runs in CPython beside rp2040py (the emulated Pico's parts), not on a board
    return [f for f in files if f not in EXCLUDE and not f.startswith("firmware/emulator/")]


def module_name(path: str) -> str:
    """firmware/boards/sim_hw.py -> boards.sim_hw; a package's __init__.py -> the package."""
    parts = path.removeprefix("firmware/").removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def checked_modules(linecount_report: Path) -> set[str]:
    """The modules mypy type-checked, from its --linecount-report (one line per module after the total)."""
    lines = linecount_report.read_text().splitlines()
    assert lines and lines[0].split()[-1] == "total", lines[:1]
    return {line.split()[-1] for line in lines[1:] if line.strip()}


def stubs_dir(port: str) -> Path:
    d = ROOT / "build" / "stubs" / port
    stamp = d / ".installed"
    if stamp.exists() and stamp.read_text() == STUBS[port]:
        return d
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-compile", "--upgrade",
                        "--target", str(d), STUBS[port]], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        msg = f"cannot fetch {STUBS[port]} from PyPI: {r.stderr.strip()[-300:]}"
        if required():
            pytest.fail(msg)
        pytest.skip(msg)
    stamp.write_text(STUBS[port])
    return d


@pytest.mark.slow
@pytest.mark.parametrize("port", sorted(STUBS))
def test_firmware_type_checks_against_stubs(port: str, tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy is in the test extra")
    stubs = stubs_dir(port)
    files = firmware_files()
    env = dict(os.environ, MYPYPATH=os.pathsep.join([str(stubs), str(ROOT / "firmware")]))
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--custom-typeshed-dir", str(stubs), "--no-site-packages",
         "--python-version", "3.11", "--follow-imports=silent", "--check-untyped-defs",
         "--explicit-package-bases", "--no-error-summary", "--show-error-codes",
         "--linecount-report", str(tmp_path),
         "--cache-dir", str(ROOT / "build" / "stubs" / f".mypy_cache_{port}"), *files],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    # 0: no errors; 1: errors (in the stubs, unless listed below); 2: mypy itself failed
    assert r.returncode in (0, 1), f"mypy failed (exit {r.returncode}):\n{r.stdout}{r.stderr}"
    ours = [line for line in r.stdout.splitlines()
            if line.startswith("firmware/") and not any(line.startswith(x) for x in EXCLUDE)]
    assert not ours, f"{STUBS[port]}:\n" + "\n".join(ours)
    # no errors means nothing if the modules were never checked (a module mypy cannot map is skipped)
    unchecked = sorted({module_name(f) for f in files} - checked_modules(tmp_path / "linecount.txt"))
    assert not unchecked, f"{STUBS[port]}: mypy did not check {', '.join(unchecked)}"


def test_module_names_follow_the_firmware_layout() -> None:
    assert module_name("firmware/boards/sim_hw.py") == "boards.sim_hw"
    assert module_name("firmware/openpuck_fw/drivers/__init__.py") == "openpuck_fw.drivers"
    assert module_name("firmware/main.py") == "main"

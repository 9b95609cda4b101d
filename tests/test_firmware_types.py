"""The firmware type-checks against the MicroPython stubs from PyPI, one port
at a time: micropython-rp2-stubs (Pico W) and micropython-esp32-stubs
(ESP32-S3). The two packages install the same module names, so each goes
into its own directory (build/stubs/<port>, fetched once with pip) and mypy
uses it as its typeshed. Only errors in firmware/ count: the stubs have
their own.

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
    return [f for f in files if f not in EXCLUDE]


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
def test_firmware_type_checks_against_stubs(port: str) -> None:
    pytest.importorskip("mypy", reason="mypy is in the test extra")
    stubs = stubs_dir(port)
    env = dict(os.environ, MYPYPATH=os.pathsep.join([str(stubs), str(ROOT / "firmware")]))
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--custom-typeshed-dir", str(stubs), "--no-site-packages",
         "--python-version", "3.11", "--follow-imports=silent", "--check-untyped-defs",
         "--explicit-package-bases", "--no-error-summary", "--show-error-codes",
         "--cache-dir", str(ROOT / "build" / "stubs" / f".mypy_cache_{port}"), *firmware_files()],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    ours = [line for line in r.stdout.splitlines()
            if line.startswith("firmware/") and not any(line.startswith(x) for x in EXCLUDE)]
    assert not ours, f"{STUBS[port]}:\n" + "\n".join(ours)
    assert "firmware/" in r.stdout or r.returncode in (0, 1), r.stdout + r.stderr

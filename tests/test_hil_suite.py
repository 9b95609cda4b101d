"""The HIL suite QA runs (hil_tests/) passes as QA runs it: its short run
against the virtual puck, and its handshake on the emulated Pico W (the rig,
its targets and its reports, not only the firmware, are under test).

Each runs as its own pytest process, as `make hil` does, so the suite's
plugin, options and reports are exercised end to end; in `make test` they
overlap the other tests (pytest-xdist)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.toolchain import need_pico_image

ROOT = Path(__file__).resolve().parents[1]


def run_hil(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})})


def said(r: subprocess.CompletedProcess[str]) -> str:
    return (r.stdout + r.stderr)[-6000:]


@pytest.mark.slow
def test_the_hil_short_run_passes_against_the_virtual_puck():
    r = run_hil("hil_tests", "--puck=sim", "--hil-short")
    assert r.returncode == 0, said(r)
    assert " passed" in r.stdout and " failed" not in r.stdout


@pytest.mark.slow
@pytest.mark.toolchain
@pytest.mark.xdist_group("pico")
def test_the_hil_handshake_passes_on_the_emulated_pico_w():
    image = need_pico_image()
    r = run_hil("hil_tests/test_handshake.py", "--puck=rp2040", "--hil-short", "--hil-duration", "3",
                env={"OPENPUCK_PICO_IMAGE": str(image)})
    assert r.returncode == 0, said(r)
    assert " passed" in r.stdout and " failed" not in r.stdout and " skipped" not in r.stdout

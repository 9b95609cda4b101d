"""Firmware unit tests: tests/firmware/test_*.py run under MicroPython's unix
port; the pure-logic ones run under CPython too, as an oracle, and must
print exactly the same thing."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FW_TESTS = ROOT / "tests" / "firmware"
SCRIPTS = sorted(FW_TESTS.glob("test_*.py"))


def micropython() -> list[str]:
    from openpuck.device.sim import SimUnavailable, micropython_command
    try:
        return micropython_command()
    except SimUnavailable as e:
        pytest.skip(str(e))


def runs_on(script: Path) -> set[str]:
    first = script.read_text().splitlines()[0]
    if first.startswith("# runs on:"):
        return set(first.split(":", 1)[1].split())
    return {"micropython", "cpython"}


def run(script: Path, runtime: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    tmp.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if runtime == "micropython":
        cmd = micropython() + [str(script), str(tmp)]
        env["MICROPYPATH"] = os.pathsep.join([str(ROOT / "firmware"), str(FW_TESTS), ".frozen"])
    else:
        cmd = [sys.executable, str(script), str(tmp)]
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "firmware"), str(FW_TESTS), str(FW_TESTS / "cpython")])
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_under_micropython(script: Path, tmp_path: Path) -> None:
    r = run(script, "micropython", tmp_path / "mp")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "failures 0" in r.stdout


@pytest.mark.parametrize("script", [s for s in SCRIPTS if "cpython" in runs_on(s)],
                         ids=[s.stem for s in SCRIPTS if "cpython" in runs_on(s)])
def test_cpython_oracle_agrees(script: Path, tmp_path: Path) -> None:
    mp = run(script, "micropython", tmp_path / "mp")
    cp = run(script, "cpython", tmp_path / "cp")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert mp.stdout == cp.stdout

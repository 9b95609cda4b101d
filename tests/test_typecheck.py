"""The SDK ships py.typed: its annotations must hold. mypy checks the package
with the project's configuration ([tool.mypy] in pyproject.toml) and finds
no error."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_mypy_finds_no_error_in_the_sdk(tmp_path):
    pytest.importorskip("mypy")
    r = subprocess.run([sys.executable, "-m", "mypy", "host_sdk/openpuck", "--cache-dir", str(tmp_path)],
                       cwd=ROOT, capture_output=True, text=True)
    errors = [line for line in r.stdout.splitlines() if ": error:" in line]
    assert r.returncode == 0 and not errors, "\n".join(errors) or r.stdout + r.stderr


def test_ruff_finds_nothing_in_the_tree():
    """The lint rules of [tool.ruff] in pyproject.toml hold everywhere (SDK,
    firmware, tests, tools)."""
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff is not installed (it is in the test extras: pip install -e '.[test]')")
    r = subprocess.run([str(ruff), "check", "--no-cache", "--output-format", "concise", "."],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr

"""Generated tables match protocol/*.toml (run `make tables` after editing them)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_tables_are_fresh():
    r = subprocess.run([sys.executable, str(ROOT / "tools/gen_tables.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

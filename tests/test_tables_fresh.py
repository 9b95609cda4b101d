"""Generated files match their sources (run `make tables` after editing one):
the codec tables match protocol/*.toml, c_core/crc32_table.h matches the CRC
polynomial of tools/gen_crc_constants.py."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("generator", ["gen_tables.py", "gen_crc_constants.py"])
def test_generated_files_are_fresh(generator):
    r = subprocess.run([sys.executable, str(ROOT / "tools" / generator), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

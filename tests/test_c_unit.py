"""The C core's own unit tests (c_core/tests/test_*.c), built with
-Wall -Wextra -Werror -pedantic and run under AddressSanitizer and UBSan."""
import shutil
import subprocess
from pathlib import Path

from tests.toolchain import need_tool

ROOT = Path(__file__).resolve().parent.parent


def test_c_unit_tests_pass_under_sanitizers():
    need_tool("make", "make")
    need_tool("cc", "gcc")
    r = subprocess.run(["make", "-s", "-C", str(ROOT / "c_core"), "test"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    for t in sorted((ROOT / "c_core/tests").glob("test_*.c")):
        assert f"{t.stem}: ok" in r.stdout, f"{t.stem} did not report"
    assert shutil.which("cc")

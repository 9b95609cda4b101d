"""The C core's own unit tests (c_core/tests/test_*.c), built with
-Wall -Wextra -Werror -pedantic and run under AddressSanitizer and UBSan.

They are built in a directory of this test's own, so what runs is this
tree's code, and the programs built there can be inspected."""
import re
import subprocess
from pathlib import Path

import pytest

from tests.toolchain import need_tool

ROOT = Path(__file__).resolve().parent.parent
UNIT_TESTS = sorted((ROOT / "c_core/tests").glob("test_*.c"))
# the last line of a passing program (c_core/tests/op_test.h)
REPORT = re.compile(r"^(test_\w+): ok, (\d+) checks$", re.M)


@pytest.mark.slow
def test_c_unit_tests_pass_under_sanitizers(tmp_path):
    need_tool("make", "make")
    need_tool("cc", "gcc")
    nm = need_tool("nm", "binutils")
    r = subprocess.run(["make", "-s", "-C", str(ROOT / "c_core"), f"BUILD={tmp_path}", "test"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    programs = sorted(p for p in tmp_path.glob("native/**/test_*") if p.is_file())
    reports = REPORT.findall(r.stdout)
    # every program ran to its end and checked something
    assert len(reports) == len(programs) >= len(UNIT_TESTS), r.stdout
    assert {name for name, _ in reports} == {t.stem for t in UNIT_TESTS}, r.stdout
    assert all(int(n) > 0 for _, n in reports), r.stdout
    # the sanitizers were really on: every program calls into ASan and UBSan
    for prog in programs:
        syms = subprocess.run([nm, str(prog)], capture_output=True, text=True, check=True).stdout
        assert "__asan_report_" in syms, f"{prog.relative_to(tmp_path)}: not built with ASan"
        assert "__ubsan_handle_" in syms, f"{prog.relative_to(tmp_path)}: not built with UBSan"

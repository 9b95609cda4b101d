"""MicroPython on an emulated Cortex-M3 (the qemu port, MPS2_AN385) with the
C detector built in as a user C module: the module and the MicroPython twin
(as bytecode and as native machine code)
give the host C core's events on the m3-parity recordings, as the firmware
calls them (tools/m3_micropython.py, `make m3-micropython`).

Needs qemu-system-arm, arm-none-eabi-gcc, the MicroPython v1.28.0 source and
../shared/data; each skips with the reason where it is absent (a failure
under OPENPUCK_REQUIRE_TOOLCHAIN=1). The instruction counts it prints are
figures for the notes, not assertions: speed is for benchmarks."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.toolchain import need_shared, need_tool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import m3_micropython  # noqa: E402
import natmod  # noqa: E402


@pytest.mark.slow
@pytest.mark.toolchain
def test_the_c_module_and_the_twin_on_an_emulated_m3_give_the_c_core_events():
    need_tool("qemu-system-arm", "qemu-system-arm")
    need_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    for rel in m3_micropython.RECORDINGS:
        need_shared("data", *rel.split("/"))
    tree = natmod.unpack(need_shared("micropython", "micropython-1.28.0.tar.gz"))
    rows = m3_micropython.measure(tree, samples=400)
    assert len(rows) == 2 * len(m3_micropython.IMPLS) * len(m3_micropython.RECORDINGS)   # two targets
    bad = [r for r in rows if not r["match"]]
    assert not bad, bad
    assert sum(r["events"] for r in rows) > 0
    assert all(r["samples"] == 400 for r in rows)
    for r in rows:
        print(f"{r['recording']} {r['target']} {r['impl']}: {r['insns_per_sample']} insns/sample")


def test_without_a_micropython_tree_it_says_how_to_get_one(capsys):
    assert m3_micropython.main(["--micropython", ""]) == 2
    assert "v1.28.0" in capsys.readouterr().err

"""The real firmware (firmware/openpuck_fw with the Pico W board file and the
virtual puck's register models) runs on MicroPython on an emulated Cortex-M3
(the qemu port, MPS2_AN385, 160 KB heap), streams a whole scenario at 200 Hz
through the emulated UART, and the host decodes the scenario's counts: with
the C detector and with the twin, on the register models and with the
sampler's reads replayed (tools/m3_firmware.py, `make m3-firmware`).

Needs qemu-system-arm, arm-none-eabi-gcc and the MicroPython v1.28.0 source;
skips with the reason where they are absent (a failure under
OPENPUCK_REQUIRE_TOOLCHAIN=1). Instruction counts are for `make bench`."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.toolchain import need_shared, need_tool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import m3_firmware  # noqa: E402
import natmod  # noqa: E402


@pytest.mark.slow
@pytest.mark.toolchain
def test_the_firmware_on_an_emulated_m3_counts_a_whole_scenario_with_either_detector():
    need_tool("qemu-system-arm", "qemu-system-arm")
    need_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    tree = natmod.unpack(need_shared("micropython", "micropython-1.28.0.tar.gz"))
    rows = m3_firmware.measure(tree, ("grip10",), runs=m3_firmware.CHECK_RUNS)
    by_run = {r["run"]: r for r in rows}
    assert set(by_run) == set(m3_firmware.CHECK_RUNS)
    truth = m3_firmware.scenario_truth("grip10")
    for name in ("c_models", "twin_models", "c", "twin"):
        r = by_run[name]
        assert r["whole_scenario"] and r["match"], r
        assert (r["reps"], r["partial_reps"], r["grips"]) == (truth["reps"], truth["partial_reps"], truth["grips"])
        assert r["samples"] >= 200 * truth["duration_s"] - 20 and r["dropped"] == 0 and r["damaged_frames"] == 0
    assert by_run["c"]["c_detector"] and not by_run["twin"]["c_detector"]


@pytest.mark.slow
@pytest.mark.toolchain
def test_a_short_run_is_not_held_to_the_scenario_counts_but_still_to_parity():
    need_tool("qemu-system-arm", "qemu-system-arm")
    need_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    tree = natmod.unpack(need_shared("micropython", "micropython-1.28.0.tar.gz"))
    rows = m3_firmware.measure(tree, ("wrist8",), seconds=2.0, runs=("record", "c_models", "twin_models"))
    assert all(not r["whole_scenario"] for r in rows)
    assert all(r["match"] for r in rows if r["run"] != "record")
    assert all(1.9 <= r["device_s"] <= 2.1 for r in rows)


def test_unknown_scenarios_bad_rates_and_no_tree_are_refused_with_what_to_do(capsys):
    import pytest
    with pytest.raises(m3_firmware.M3Error, match="grip10"):
        m3_firmware.measure("", ("nonsense",))
    with pytest.raises(m3_firmware.M3Error, match="25, 50, 100 or 200"):
        m3_firmware.measure("", ("grip10",), rate=7)
    with pytest.raises(m3_firmware.M3Error, match="more than 0"):
        m3_firmware.measure("", ("grip10",), seconds=float("nan"))
    assert m3_firmware.main(["--micropython", "", "--scenario", "grip10"]) == 2
    assert "v1.28.0" in capsys.readouterr().err


def test_the_frozen_board_modules_hold_every_board_module_they_import():
    import ast
    frozen = set(m3_firmware.FROZEN_BOARDS)
    assert "boards/sim_hw.py" in frozen
    for rel in sorted(frozen):
        for node in ast.walk(ast.parse((ROOT / "firmware" / rel).read_text())):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("boards"):
                continue
            if node.module == "boards":
                wanted = {f"boards/{a.name}.py" for a in node.names}
            else:
                wanted = {node.module.replace(".", "/") + ".py"}
            assert wanted <= frozen, f"{rel} imports {sorted(wanted - frozen)}, which the M3 build does not freeze"


def test_without_micropy_dir_it_says_to_pass_one_with_the_exact_command(capsys, tmp_path):
    assert m3_firmware.main(["--micropython", "", "--scenario", "grip10"]) == 2
    err = capsys.readouterr().err
    assert "make m3-firmware needs MICROPY_DIR" in err
    assert "make m3-firmware MICROPY_DIR=build/micropython" in err and "make natmod" not in err
    assert m3_firmware.main(["--micropython", str(tmp_path), "--scenario", "grip10"]) == 2
    err = capsys.readouterr().err
    assert f"MICROPY_DIR={tmp_path} is not a MicroPython source tree" in err
    assert "make m3-firmware MICROPY_DIR=" in err

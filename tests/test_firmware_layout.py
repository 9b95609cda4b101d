"""How the firmware is cut: modules small enough to read whole, the app
knowing boards only through openpuck_fw/board.py (no driver imports)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FW = ROOT / "firmware" / "openpuck_fw"
MAX_LINES = 400
# generated (msgtable.py) or owned with the C detector it mirrors (detect.py)
EXEMPT = {"msgtable.py", "detect.py"}


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out


def test_no_firmware_module_is_over_400_lines() -> None:
    big = {p.name: n for p in FW.rglob("*.py") if p.name not in EXEMPT
           and (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not big, f"split these (at most {MAX_LINES} lines a module): {big}"


def test_only_the_board_wiring_imports_the_imu_driver() -> None:
    users = sorted(p.name for p in FW.glob("*.py") if any("drivers.lsm6dsox" in m for m in _imports(p)))
    assert users == ["board.py"], users


def test_the_app_dispatches_commands_from_a_table() -> None:
    src = (FW / "app.py").read_text()
    assert "mt.T_SET_EXERCISE" not in src and "dispatch.command(" in src

"""The firmware's generated table (firmware/openpuck_fw/msgtable.py) is read
by name: each tuple it holds has const() names for its positions, they agree
with protocol/*.toml, and no firmware module reads a tuple by a bare number."""
from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FW = ROOT / "firmware"
# detect.py (the twin) is owned elsewhere and unpacks EXERCISES whole
NOT_CHECKED = {"msgtable.py", "detect.py"}


@pytest.fixture(scope="module")
def mt():
    sys.path[:0] = [str(FW), str(ROOT / "tests" / "firmware" / "cpython")]
    try:
        yield importlib.import_module("openpuck_fw.msgtable")
    finally:
        del sys.path[:2]


def test_layout_positions_name_each_messages_parts(mt) -> None:
    from openpuck.protocol import _table
    for m in _table.MESSAGES:
        lay = mt.LAYOUT[m["id"]]
        assert lay[mt.LAY_NAME] == m["name"] and lay[mt.LAY_DIR] == m["dir"]
        assert lay[mt.LAY_FIELDS] == tuple(f["name"] for f in m.get("fields", []))
        assert lay[mt.LAY_TYPES] == tuple(f["type"] for f in m.get("fields", []))


def test_exercise_positions_name_each_catalogue_column(mt) -> None:
    from openpuck.protocol import _table
    for e in _table.EXERCISES:
        row = mt.EXERCISES[e["id"]]
        assert row[mt.EX_NAME] == e["name"] and mt.SIGNALS[row[mt.EX_SIGNAL]] == e["signal"]
        assert (row[mt.EX_TARGET], row[mt.EX_ON], row[mt.EX_OFF]) == (e["target"], e["on"], e["off"])
        assert (row[mt.EX_MIN_REP_S], row[mt.EX_MAX_REP_S]) == (e["min_rep_s"], e["max_rep_s"])


def test_check_positions_name_field_values_and_bounds(mt) -> None:
    start = dict((c[mt.CHK_FIELD], c) for c in mt.CHECKS[mt.T_START])
    assert start[0][mt.CHK_VALUES] == mt.START_RATE_HZ_VALUES
    assert start[1][mt.CHK_BOUNDS] == (mt.START_CHANNELS_MIN, mt.START_CHANNELS_MAX)


def _subscripts_by_number(tree: ast.AST, tables: set[str]) -> list[int]:
    """Lines where a value taken from one of `tables` is indexed by an int literal."""
    from_table: set[str] = set()
    for node in ast.walk(tree):   # names bound to a table's entry: lay = mt.LAYOUT[t]
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Subscript, ast.Call)):
            src = ast.unparse(node.value)
            if any(t in src for t in tables):
                from_table |= {n.id for n in node.targets if isinstance(n, ast.Name)}
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, int):
            base = ast.unparse(node.value)
            if base in from_table or any(t in base for t in tables):
                bad.append(node.lineno)
    return bad


def test_no_firmware_module_reads_a_table_tuple_by_position() -> None:
    tables = {"LAYOUT", "CHECKS", "EXERCISES"}
    found = {}
    for path in sorted(FW.rglob("*.py")):
        if path.name in NOT_CHECKED or "emulator" in path.parts:
            continue
        lines = _subscripts_by_number(ast.parse(path.read_text()), tables)
        if lines:
            found[str(path.relative_to(ROOT))] = lines
    assert not found, f"read these by the LAY_/CHK_/EX_ names of msgtable.py: {found}"

"""op_status_t (c_core/op_status.h), its cffi declaration (_cdef/00_status.h)
and openpuck.errors.Status hold the same names and values."""
import re
from pathlib import Path

from openpuck import _core
from openpuck.errors import Status

ROOT = Path(__file__).resolve().parent.parent


def parse(path: Path) -> dict[str, int]:
    text = path.read_text()
    body = re.search(r"typedef enum \{(.*?)\} op_status_t;", text, re.S).group(1)
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"(OP_\w+)\s*=\s*(-?\d+)", body)}


def test_header_cdef_and_intenum_agree():
    c = parse(ROOT / "c_core/op_status.h")
    cdef = parse(ROOT / "host_sdk/openpuck/_cdef/00_status.h")
    py = {"OP_" + s.name: s.value for s in Status}
    assert c == cdef == py
    assert c  # the parse found the codes


def test_compiled_core_has_the_same_values():
    for s in Status:
        assert getattr(_core.lib, "OP_" + s.name) == s.value

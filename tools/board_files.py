"""What each board file (firmware/boards/<name>.py) declares, read without
running it: NAME, ARCH (the MicroPython architecture of its .mpy files and of
opdetect.mpy), PLATFORM (sys.platform of its port), PARTS, and the board
modules it imports. The one place the tools learn a board's facts
(tools/flash.py, tools/natmod.py)."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

BOARDS_DIR = Path(__file__).resolve().parent.parent / "firmware" / "boards"
UNIX_PLATFORM = "linux"   # a board of the unix port (the virtual puck) runs on the host, it is not flashed


class BoardFileError(Exception):
    """A board file that does not declare what the tools need."""


@dataclass(frozen=True)
class BoardFile:
    name: str
    arch: str
    platform: str
    parts: tuple[str, ...]
    imports: tuple[str, ...]   # board modules it imports (besides boards/__init__)
    path: Path

    @property
    def flashable(self) -> bool:
        """True for a microcontroller board (tools/flash.py installs it)."""
        return self.platform != UNIX_PLATFORM


def _declared(tree: ast.Module) -> dict[str, object]:
    """The module-level NAME, ARCH, PLATFORM and PARTS: a literal, or
    ("module", "NAME") for a fact taken from another board file (sim.PARTS = pico_w.PARTS)."""
    out: dict[str, object] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        key = node.targets[0].id
        if key not in ("NAME", "ARCH", "PLATFORM", "PARTS"):
            continue
        v = node.value
        if isinstance(v, ast.Attribute) and isinstance(v.value, ast.Name):
            out[key] = (v.value.id, v.attr)
        else:
            out[key] = ast.literal_eval(v)
    return out


def read(path: Path) -> BoardFile | None:
    """The facts of one board file; None for a helper module (no NAME and ARCH)."""
    tree = ast.parse(path.read_text(), str(path))
    d = _declared(tree)
    if "NAME" not in d and "ARCH" not in d:
        return None
    missing = [k for k in ("NAME", "ARCH", "PLATFORM", "PARTS") if k not in d]
    if missing:
        raise BoardFileError(f"{path}: a board file declares NAME, ARCH, PLATFORM and PARTS; "
                             f"{', '.join(missing)} missing")
    if d["NAME"] != path.stem:
        raise BoardFileError(f"{path}: NAME is {d['NAME']!r}; it must be the file's name {path.stem!r}")
    parts = d["PARTS"]
    if isinstance(parts, tuple) and len(parts) == 2 and parts[1] == "PARTS" \
            and (path.parent / f"{parts[0]}.py").is_file():
        other = read(path.parent / f"{parts[0]}.py")   # PARTS = pico_w.PARTS
        parts = other.parts if other else ()
    imports: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        if node.module == "boards":
            imports |= {a.name for a in node.names}
        elif node.module.startswith("boards."):
            imports.add(node.module.split(".", 1)[1])
    return BoardFile(str(d["NAME"]), str(d["ARCH"]), str(d["PLATFORM"]), tuple(parts),  # type: ignore[arg-type]
                     tuple(sorted(imports)), path)


def boards(folder: Path = BOARDS_DIR) -> dict[str, BoardFile]:
    """Every board file in folder, by name."""
    out = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        b = read(path)
        if b is not None:
            out[b.name] = b
    return out

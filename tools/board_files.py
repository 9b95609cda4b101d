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


def _declared(tree: ast.Module, path: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            key = node.targets[0].id
            if key in ("NAME", "ARCH", "PLATFORM", "PARTS"):
                try:
                    out[key] = ast.literal_eval(node.value)
                except ValueError:
                    out[key] = None   # e.g. PARTS = pico_w.PARTS: resolved by the caller
                    if isinstance(node.value, ast.Attribute) and isinstance(node.value.value, ast.Name):
                        out[key] = (node.value.value.id, node.value.attr)
    return out


def read(path: Path) -> BoardFile | None:
    """The facts of one board file; None for a helper module (no NAME and ARCH)."""
    tree = ast.parse(path.read_text(), str(path))
    d = _declared(tree, path)
    if "NAME" not in d and "ARCH" not in d:
        return None
    missing = [k for k in ("NAME", "ARCH", "PLATFORM", "PARTS") if k not in d]
    if missing:
        raise BoardFileError(f"{path}: a board file declares NAME, ARCH, PLATFORM and PARTS; "
                             f"{', '.join(missing)} missing")
    if d["NAME"] != path.stem:
        raise BoardFileError(f"{path}: NAME is {d['NAME']!r}; it must be the file's name {path.stem!r}")
    parts = d["PARTS"]
    if isinstance(parts, tuple) and len(parts) == 2 and (path.parent / f"{parts[0]}.py").is_file() \
            and parts[1] == "PARTS":
        other = read(path.parent / f"{parts[0]}.py")
        parts = other.parts if other else ()
    imports = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "boards":
            imports |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("boards."):
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

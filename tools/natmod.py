"""Build the C detector as MicroPython native modules (`make natmod`).

    python tools/natmod.py --micropython DIR [--arch x64,armv6m] [--json]
    python tools/natmod.py --unpack TARBALL    # a v1.28.0 source tarball, into build/

One source (c_core/micropython/opdetect.c with c_core/op_detect.c) becomes
build/natmod/<arch>/opdetect.mpy for every architecture whose compiler this
machine has: x64 (the virtual puck, the PyPI unix port), armv6m (RP2040:
Pico W), armv7m (Cortex-M3), armv7emsp (Cortex-M4F), xtensawin (ESP32-S3,
needs xtensa-esp32-elf-gcc, which Debian does not ship: the ESP32-S3 runs the
MicroPython twin unless its .mpy is built elsewhere). Needs pip `pyelftools`
and `ar` (in the firmware and test extras).

The MicroPython tree must be the one the firmware runs (v1.28.0 here; the
.mpy ABI 6.3 is shared by v1.23 to v1.28). Get one with
    git clone --depth 1 --branch v1.28.0 https://github.com/micropython/micropython
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "natmod"
# arch -> the compiler dynruntime.mk calls for it
ARCHES = {"x64": "gcc", "armv6m": "arm-none-eabi-gcc", "armv7m": "arm-none-eabi-gcc",
          "armv7emsp": "arm-none-eabi-gcc", "xtensawin": "xtensa-esp32-elf-gcc"}
sys.path.insert(0, str(ROOT / "tools"))
from board_files import boards  # noqa: E402

# board -> the architecture of its MicroPython, as its board file declares (ARCH)
BOARD_ARCH = {name: b.arch for name, b in boards().items()}
HOW_TO_GET = ("a MicroPython source tree at tag v1.28.0 is needed: git clone --depth 1 --branch v1.28.0 "
              "https://github.com/micropython/micropython build/micropython, then "
              "make {target} MICROPY_DIR=build/micropython")


class NatmodError(Exception):
    """A build that cannot run, with what to do."""


def check_tree(mp: Path | str, target: str = "natmod") -> Path:
    """The MicroPython tree ``mp`` (MICROPY_DIR), or NatmodError saying how to
    get one and the exact ``make TARGET MICROPY_DIR=...`` to run then."""
    how = HOW_TO_GET.format(target=target)
    if not str(mp).strip():
        raise NatmodError(f"make {target} needs MICROPY_DIR (none given); {how}")
    mp = Path(mp).resolve()
    if not (mp / "py" / "dynruntime.mk").is_file():
        raise NatmodError(f"MICROPY_DIR={mp} is not a MicroPython source tree (no py/dynruntime.mk); {how}")
    return mp


def unpack(tarball: Path, dest: Path = ROOT / "build") -> Path:
    """The tree inside a source tarball, unpacked under dest once."""
    with tarfile.open(tarball) as tf:
        top = tf.getnames()[0].split("/")[0]
        tree = dest / top
        if not (tree / "py" / "dynruntime.mk").is_file():
            dest.mkdir(parents=True, exist_ok=True)
            tf.extractall(dest, filter="data")
    return tree


def check_python(python: str = sys.executable) -> None:
    """mpy_ld.py needs pyelftools, and pip `ar` to link libgcc (LINK_RUNTIME)."""
    probe = "import importlib.util as u; print(' '.join(m for m in ('elftools', 'ar') if u.find_spec(m) is None))"
    r = subprocess.run([python, "-c", probe], capture_output=True, text=True)
    missing = {"elftools": "pyelftools", "ar": "ar"}
    need = [missing[m] for m in r.stdout.split()]
    if need:
        raise NatmodError(f"{python} lacks {', '.join(need)}, which MicroPython's tools/mpy_ld.py needs: "
                          f"pip install {' '.join(need)} (or pip install '.[firmware]')")


def buildable(arch: str) -> str | None:
    """Why arch cannot be built here, or None."""
    cc = ARCHES[arch]
    return None if shutil.which(cc) else f"{cc} not found"


def build(mp: Path, arch: str, python: str = sys.executable, out: Path = OUT) -> dict:
    """out/<arch>/opdetect.mpy (out: build/natmod); returns its path, size and build time."""
    c_core = ROOT / "c_core"
    obj = out / arch / "obj"
    t0 = time.monotonic()
    produced = c_core / "opdetect.mpy"
    produced.unlink(missing_ok=True)
    r = subprocess.run(["make", "-s", "-f", "natmod.mk", f"MPY_DIR={mp}", f"ARCH={arch}",
                        f"BUILD={obj}", f"PYTHON={python}"], cwd=c_core, capture_output=True, text=True)
    if r.returncode != 0 or not produced.exists():
        tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-15:])
        raise NatmodError(f"natmod {arch}: the build failed:\n{tail}")
    dst = out / arch / "opdetect.mpy"
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(produced), dst)
    shown = dst.relative_to(ROOT) if dst.is_relative_to(ROOT) else dst
    return {"arch": arch, "path": str(shown), "bytes": dst.stat().st_size,
            "seconds": round(time.monotonic() - t0, 2)}


def build_unix(mp: Path, build_dir: Path, jobs: int = 2) -> Path:
    """A unix-port micropython with the user C module opdetect built in."""
    common = ["make", "-s", f"-j{jobs}"]
    r = subprocess.run(common + ["-C", str(mp / "mpy-cross")], capture_output=True, text=True)
    if r.returncode != 0:
        raise NatmodError("mpy-cross build failed:\n" + "\n".join(r.stderr.splitlines()[-15:]))
    # USER_C_MODULES names the folder above c_core/: py/py.mk looks for */micropython.mk
    r = subprocess.run(common + ["-C", str(mp / "ports" / "unix"), "FROZEN_MANIFEST=", "MICROPY_PY_BTREE=0",
                                 "MICROPY_PY_FFI=0", "MICROPY_PY_SSL=0", "MICROPY_SSL_MBEDTLS=0",
                                 f"USER_C_MODULES={ROOT}", f"BUILD={build_dir}"], capture_output=True, text=True)
    exe = build_dir / "micropython"
    if r.returncode != 0 or not exe.exists():
        raise NatmodError("unix port build failed:\n" + "\n".join((r.stdout + r.stderr).splitlines()[-15:]))
    return exe


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--micropython", default="", help="MicroPython source tree (MICROPY_DIR)")
    ap.add_argument("--unpack", type=Path, help="unpack this source tarball under build/ and use it")
    ap.add_argument("--arch", default=",".join(ARCHES), help=f"comma-separated, of {', '.join(ARCHES)}")
    ap.add_argument("--json", action="store_true", help="one JSON object: built and skipped architectures")
    args = ap.parse_args(argv)
    try:
        mp = unpack(args.unpack) if args.unpack else args.micropython
        mp = check_tree(mp)
        check_python()
        arches = [a.strip() for a in args.arch.split(",") if a.strip()]
        unbuilt = sorted(f"{name} ({arch})" for name, arch in BOARD_ARCH.items() if arch not in ARCHES)
        if unbuilt:
            raise NatmodError(f"board files declare an ARCH natmod cannot build: {', '.join(unbuilt)}; "
                              f"known: {', '.join(ARCHES)}")
        unknown = [a for a in arches if a not in ARCHES]
        if unknown:
            raise NatmodError(f"unknown --arch {', '.join(unknown)} (known: {', '.join(ARCHES)})")
        built, skipped = [], {}
        for arch in arches:
            why = buildable(arch)
            if why:
                skipped[arch] = why
                if not args.json:
                    print(f"  {arch:<10} skipped: {why}")
                continue
            res = build(mp, arch)
            built.append(res)
            if not args.json:
                print(f"  {arch:<10} {res['bytes']:>6} bytes  {res['seconds']:5.1f} s  {res['path']}", flush=True)
    except (NatmodError, OSError, tarfile.TarError) as e:
        print(f"natmod: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"micropython": str(mp), "built": built, "skipped": skipped}))
    elif not built:
        print("natmod: nothing built (no compiler for any architecture)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

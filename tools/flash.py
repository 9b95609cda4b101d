"""Deploy the compiled firmware to a puck over USB with mpremote (`make flash`).

    python tools/flash.py --port /dev/ttyACM0 --board pico_w [--dry-run]

The board must already run MicroPython (1.23 to 1.28 for the C detector's
.mpy, ABI 6.3; docs/hardware.md says how to install it). Steps: ask a running puck firmware to reboot (the
protocol's reboot command), catch it in its 1 s boot window with Ctrl-C
(mpremote does that when it connects), delete stale sources, copy the .mpy
files the board needs plus main.py and board_config.py (and opdetect.mpy, the
C detector for the board's architecture, when `make natmod` built it), reset
the board.
The puck's saved config (/openpuck.cfg) is kept.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from board_files import boards  # noqa: E402

BUILD = ROOT / "build" / "firmware"
NATMOD = ROOT / "build" / "natmod"
# the boards a puck can run: each board file declares its architecture (ARCH)
BOARDS = {name: b for name, b in boards().items() if b.flashable}


def reboot_frame(mode: int = 0) -> bytes:
    """The protocol's reboot command, from the one message table."""
    from openpuck import protocol  # make flash runs in the project's venv
    return protocol.encode("reboot", 0, mode=mode)


def stage(board: str, build: Path, dst: Path, natmod: Path = NATMOD) -> list[str]:
    """Copy what `board` needs into dst; return the device paths. The C
    detector goes along as /opdetect.mpy when `make natmod` built it for the
    board's architecture; without it the puck runs the MicroPython twin."""
    if board not in BOARDS:
        sys.exit(f"flash: unknown board {board!r} (known: {', '.join(BOARDS)})")
    spec = BOARDS[board]
    arch = spec.arch
    native = build / "native" / arch
    files = [build / "main.py"]
    files += sorted((build / "openpuck_fw").rglob("*.mpy"))
    files += [build / "boards" / f"{b}.mpy" for b in ("__init__", board, *spec.imports)]
    out = []
    for f in files:
        if not f.exists():
            sys.exit(f"flash: {f} missing; run make firmware")
        rel = f.relative_to(build)
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, dst / rel)
        out.append(rel.as_posix())
    # machine code for the board's architecture: viper framing, the native twin
    for f in sorted(native.rglob("*.mpy")):
        rel = f.relative_to(native)
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, dst / rel)
        if rel.as_posix() not in out:
            out.append(rel.as_posix())
    (dst / "board_config.py").write_text(f'BOARD = "{board}"\n')
    out.append("board_config.py")
    mpy = natmod / arch / "opdetect.mpy"
    if mpy.exists():
        shutil.copy2(mpy, dst / "opdetect.mpy")
        out.append("opdetect.mpy")
    else:
        print(f"flash: no {mpy.relative_to(ROOT) if mpy.is_relative_to(ROOT) else mpy}: the puck will run the "
              f"MicroPython twin detector (build the C one with make natmod MICROPY_DIR=...; "
              f"the ESP32-S3's xtensawin needs an xtensa toolchain)", file=sys.stderr)
    return out


def cleanup_script(paths: list[str]) -> str:
    """Device-side: delete .py sources that would shadow the new .mpy files."""
    stale = [p[:-4] + ".py" for p in paths if p.endswith(".mpy")]
    return (f"import os\nfor f in {stale!r}:\n try:\n  os.remove(f)\n except OSError:\n  pass\n")


def commands(port: str, staged: Path, paths: list[str]) -> list[str]:
    mpremote = str(Path(sys.executable).parent / "mpremote")
    if not Path(mpremote).exists():
        mpremote = shutil.which("mpremote") or "mpremote"
    cmd = [mpremote, "connect", port, "exec", cleanup_script(paths)]
    for d in sorted({p.split("/")[0] for p in paths if "/" in p}):
        cmd += ["+", "cp", "-r", str(staged / d), ":"]
    cmd += ["+", "cp", *(str(staged / p) for p in paths if "/" not in p), ":"]
    cmd += ["+", "reset"]
    return cmd


def interrupt(port: str) -> None:
    """Ask a running puck firmware to reboot so mpremote catches its boot window."""
    try:
        import serial
    except ImportError:
        return
    try:
        with serial.Serial(port, 115200, timeout=0.2) as s:
            s.write(reboot_frame())
            s.flush()
    except (OSError, serial.SerialException):
        return
    time.sleep(0.3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", default="/dev/ttyACM0", help="the board's USB serial port (default /dev/ttyACM0)")
    ap.add_argument("--board", default="pico_w", choices=sorted(BOARDS), help="board file to install (default pico_w)")
    ap.add_argument("--build", type=Path, default=BUILD, help="output of `make firmware` (default build/firmware)")
    ap.add_argument("--natmod", type=Path, default=NATMOD, help="output of `make natmod` (default build/natmod)")
    ap.add_argument("--dry-run", action="store_true", help="print the mpremote command, change nothing")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="openpuck-flash-") as tmp:
        staged = Path(tmp)
        paths = stage(args.board, args.build, staged, args.natmod)
        cmd = commands(args.port, staged, paths)
        if args.dry_run:
            print("files:", " ".join(paths))
            print("command:", " ".join(c if "\n" not in c else repr(c) for c in cmd))
            return 0
        interrupt(args.port)
        r = subprocess.run(cmd)
        if r.returncode != 0:
            print(f"flash: mpremote failed (exit {r.returncode}); is {args.port} a board running "
                  "MicroPython? (docs/hardware.md)", file=sys.stderr)
            return r.returncode
    print(f"flash: {args.board} firmware deployed to {args.port}; the puck restarted")
    return 0


if __name__ == "__main__":
    sys.exit(main())

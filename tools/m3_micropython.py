"""MicroPython on an emulated Cortex-M3, with the C detector built in.

    python tools/m3_micropython.py --micropython DIR [--json]

Builds MicroPython's qemu port (BOARD=MPS2_AN385, a Cortex-M3) with the user
C module `opdetect` and the firmware's detector twin frozen in (as bytecode,
and as native machine code: `mpy-cross -X emit=native`), and a heap of
160 KB (what a Pico W leaves free), then runs, under
`qemu-system-arm -icount shift=0` (one instruction per nanosecond of the
emulated clock, so `time.ticks_us()` counts thousands of instructions):
- the C module and both twins on the recordings c_core/Makefile uses for
  m3-parity (each frozen in as bytes), event for event against the host C
  core (cffi), as the firmware calls them (`d.push(...)`);
- instructions per sample of each.

Driven through the raw REPL on the emulated UART (stdio). Needs
qemu-system-arm, arm-none-eabi-gcc and a MicroPython v1.28.0 source tree
(tools/natmod.py --unpack makes one from a tarball).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "host_sdk"))
sys.path.insert(0, str(ROOT / "tools"))
import natmod  # noqa: E402

BUILD = ROOT / "build" / "qemu-m3"
HEAP = 160 * 1024
SHARED = ROOT.parent / "shared" / "data"
RECORDINGS = ["synthetic-dev/grip_squeeze-1001.csv", "synthetic-dev/wrist_flexion-1010.csv",
              "synthetic-dev/trunk_rotation-1021.csv", "synthetic-dev/trunk_rotation-2001.csv",
              "real-uci-physio/uci-s5-arm_raise-test-e7.csv"]
MAX_SAMPLES = 3000   # per recording: the frozen bytes live in the emulated flash
REC = np.dtype([("t", "<u4"), ("imu", "<i2", 6), ("f", "<u2")])


IMPLS = ("c", "twin", "twin_native")


class M3Error(Exception):
    """A build or run on the emulated M3 that failed, with its output."""


def check_tools() -> None:
    """The cross compiler and the emulator, or an M3Error naming the Debian package."""
    import shutil
    for tool, pkg in (("arm-none-eabi-gcc", "gcc-arm-none-eabi"), ("qemu-system-arm", "qemu-system-arm")):
        if not shutil.which(tool):
            raise M3Error(f"{tool} not found: install {pkg} (Debian: apt install {pkg})")


def host_events(csv: Path, exercise: str, target, max_samples: int | None = MAX_SAMPLES) -> tuple[dict, np.ndarray, list]:
    from openpuck import _core, exercises
    from openpuck.offline.detect import choose_scales, make_config, quantise, read_csv
    arrays = read_csv(csv)
    arrays = {k: v[:max_samples] for k, v in arrays.items()}
    scales = choose_scales(arrays["accel"], arrays["gyro"])
    cfg = make_config(exercises.get(exercise), target, scales=scales)
    t_us, imu, force = quantise(arrays, scales)
    det = _core.Detector(cfg)
    events = det.run(t_us, imu, force) + det.finish()
    rec = np.zeros(len(t_us), dtype=REC)
    rec["t"], rec["imu"], rec["f"] = t_us, imu, force
    return cfg, rec, events


NATIVE_TWIN = "m3twin_native"   # the twin as native machine code (what build_firmware makes per board)


def build_mpy_cross(mp: Path) -> Path:
    """The tree's mpy-cross (built on first use)."""
    r = subprocess.run(["make", "-s", "-j2", "-C", str(mp / "mpy-cross")], capture_output=True, text=True)
    exe = mp / "mpy-cross" / "build" / "mpy-cross"
    if r.returncode != 0 or not exe.exists():
        raise M3Error("mpy-cross build failed:\n" + "\n".join((r.stdout + r.stderr).splitlines()[-20:]))
    return exe


def native_twin(mp: Path, folder: Path) -> str:
    """Compile the twin with the native emitter for the M3 (as tools/build_firmware.py does
    per board) into folder/m3twin_native.mpy; the manifest line that freezes it."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{NATIVE_TWIN}.mpy"
    r = subprocess.run([str(build_mpy_cross(mp)), "-X", "emit=native", "-march=armv7m", "-s", f"{NATIVE_TWIN}.py",
                        "-o", str(out), str(ROOT / "firmware" / "openpuck_fw" / "detect.py")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise M3Error("mpy-cross -X emit=native failed on detect.py:\n" + r.stderr)
    return f"freeze_mpy({str(folder)!r}, ({NATIVE_TWIN + '.mpy'!r},))\n"


def write_frozen(cases: list[dict], folder: Path, mp: Path | None = None) -> Path:
    """The recordings as frozen modules, and the manifest that freezes them with
    the twin (and, given the tree, the native twin)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, c in enumerate(cases):
        name = f"m3rec{i}"
        (folder / f"{name}.py").write_text(f"DATA = {c['rec'].tobytes()!r}\n")
        names.append(f"{name}.py")
    (folder / "m3bench.py").write_text(RUNNER)
    names.append("m3bench.py")
    manifest = folder / "manifest.py"
    manifest.write_text(
        f'freeze({str(ROOT / "firmware")!r}, ("openpuck_fw/__init__.py", "openpuck_fw/detect.py", '
        f'"openpuck_fw/msgtable.py"))\n'
        f"freeze({str(folder)!r}, {tuple(names)!r})\n"
        + (native_twin(mp, folder / "native") if mp is not None else ""))
    return manifest


# Runs on the M3: one recording through one implementation, as the firmware calls it.
RUNNER = '''
import struct, time, gc
from openpuck_fw import detect


def run(data, impl, exercise, target, accel, gyro, force):
    if impl == "c":
        import opdetect
        d = opdetect.make_detector(exercise, target, 0, 0, 0, accel, gyro, force)
    elif impl == "twin_native":
        import m3twin_native
        d = m3twin_native.make_twin(exercise, target, 0, 0, 0, accel, gyro, force)
    else:
        d = detect.make_twin(exercise, target, 0, 0, 0, accel, gyro, force)
    out = []
    n = len(data) // 18
    insns = 0
    gc.collect()
    mem0 = gc.mem_free()
    low = mem0
    for i in range(n):
        r = struct.unpack_from("<I6hH", data, i * 18)
        t0 = time.ticks_us()
        k = d.push(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7])
        insns += time.ticks_diff(time.ticks_us(), t0)
        while k:
            e = d.pop()
            if e is None:
                break
            out.append(e)
        if i % 256 == 0:
            low = min(low, gc.mem_free())
    d.finish()
    e = d.pop()
    while e is not None:
        out.append(e)
        e = d.pop()
    print("EVENTS", ";".join(",".join(str(v) for v in e) for e in out))
    print("COST", n, insns, mem0 - low)
'''


def build(mp: Path, manifest: Path, build_dir: Path = BUILD) -> Path:
    """firmware.elf of the qemu port (MPS2_AN385) with opdetect built in and manifest frozen."""
    qemu = mp / "ports" / "qemu"
    empty = ROOT / "build" / "empty-mpylib"   # micropython-lib is not needed; the build checks for it
    empty.mkdir(parents=True, exist_ok=True)
    (empty / "README.md").write_text("micropython-lib is not used by this build\n")
    subprocess.run(["make", "-s", "-j2", "-C", str(mp / "mpy-cross")], check=True, capture_output=True)
    r = subprocess.run(["make", "-s", "-j2", "BOARD=MPS2_AN385", f"USER_C_MODULES={ROOT}",
                        f"FROZEN_MANIFEST={manifest}", f"MPY_LIB_DIR={empty}", f"MICROPY_HEAP_SIZE={HEAP}",
                        f"BUILD={build_dir}"], cwd=qemu, capture_output=True, text=True)
    elf = build_dir / "firmware.elf"
    if r.returncode != 0 or not elf.exists():
        raise M3Error("qemu port build failed:\n" + "\n".join((r.stdout + r.stderr).splitlines()[-20:]))
    return elf


def run_until(elf: Path, code: str, until: bytes, timeout: float = 600) -> bytes:
    """Run code through the raw REPL of MicroPython on the emulated M3; every
    byte the UART sent after the raw REPL's "OK", up to and including `until`."""
    import select
    cmd = ["qemu-system-arm", "-machine", "mps2-an385", "-nographic", "-monitor", "null", "-semihosting",
           "-icount", "shift=0", "-serial", "stdio", "-kernel", str(elf)]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    buf = b""
    try:
        time.sleep(0.5)
        p.stdin.write(b"\r\x03\x03\x01")       # interrupt, then raw REPL
        p.stdin.write(code.encode() + b"\x04")  # run
        p.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            if time.monotonic() > deadline:
                raise M3Error(f"the emulated M3 did not finish within {timeout:.0f} s; output so far:\n"
                              f"{buf[-2000:].decode(errors='replace')}")
            r, _, _ = select.select([p.stdout], [], [], 1.0)
            if not r:
                continue
            chunk = p.stdout.read1(65536)
            if not chunk:
                break
            buf += chunk
            start = buf.find(b"OK")
            if start >= 0 and until in buf[start:]:
                break
            # raw REPL: "OK" stdout "\x04" stderr "\x04>": an exception ends the run early
            if start >= 0 and buf.rstrip().endswith(b"\x04>") and b"Traceback" in buf:
                break
    finally:
        p.kill()
        p.wait()
    start = buf.find(b"OK")
    if start < 0:
        raise M3Error("no raw REPL on the emulated M3:\n" + buf[-2000:].decode(errors="replace"))
    out = buf[start + 2:]
    end = out.find(until)
    if end < 0:
        raise M3Error("MicroPython on the M3 stopped early:\n" + out[-3000:].decode(errors="replace"))
    return out[:end + len(until)]


def run_code(elf: Path, code: str, timeout: float = 600) -> str:
    """Run code through the raw REPL of MicroPython on the emulated M3; its output (text)."""
    out = run_until(elf, code, b"\x04>", timeout).decode(errors="replace")
    text, _, err = out[:-2].partition("\x04")
    if err.strip():
        raise M3Error("MicroPython on the M3 raised:\n" + err)
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--micropython", default="", help="MicroPython v1.28.0 source tree (MICROPY_DIR)")
    ap.add_argument("--samples", type=int, default=MAX_SAMPLES, help="samples per recording (default 3000)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        return _main(args)
    except (M3Error, natmod.NatmodError, OSError) as e:
        print(f"m3_micropython: {e}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace) -> int:
    def show(r: dict) -> None:
        print(f"  {r['recording']:<28} {str(r['target']):<6} {r['impl']:<5} {r['samples']:>5} samples "
              f"{r['events']:>3} events {'match' if r['match'] else 'MISMATCH'} "
              f"{r['insns_per_sample']:>7} insns/sample  heap {r['heap_used']} B", flush=True)
    rows = measure(args.micropython, args.samples, None if args.json else show)
    if args.json:
        print(json.dumps(rows))
    return 0 if all(r["match"] for r in rows) else 1


def measure(micropython: str | Path, samples: int = MAX_SAMPLES, progress=None) -> list[dict]:
    """One row per recording, target and implementation ("c", "twin"): events matched, cost, heap."""
    mp = natmod.check_tree(micropython, "m3-micropython")
    check_tools()
    if samples < 1:
        raise M3Error(f"--samples {samples}: must be at least 1")
    cases = []
    for rel in RECORDINGS:
        csv = SHARED / rel
        if not csv.exists():
            raise M3Error(f"{csv} not found: the recordings come from ../shared/data (the project's shared material)")
        truth = json.loads(csv.with_name(csv.stem + ".truth.json").read_text())
        for target in ("auto", truth["target"]):
            cfg, rec, events = host_events(csv, truth["exercise"], target, samples)
            cases.append(dict(name=csv.stem, exercise=truth["exercise"], target=target, cfg=cfg, rec=rec,
                              events=events))
    from openpuck import exercises
    manifest = write_frozen(cases[::2], BUILD.parent / "qemu-m3-frozen", mp)  # one frozen copy per recording
    elf = build(mp, manifest)
    rows = []
    for i, c in enumerate(cases):
        cfg = c["cfg"]
        ex_id = exercises.get(c["exercise"]).id
        for impl in IMPLS:
            code = (f"import m3bench, m3rec{i // 2}\nm3bench.run(m3rec{i // 2}.DATA, {impl!r}, {ex_id}, "
                    f"{cfg['target_milli']}, {cfg['accel_lsb_per_g']}, {cfg['gyro_lsb_per_dps_x1000']}, "
                    f"{cfg['force_mn_per_lsb']})\n")
            out = run_code(elf, code)
            ev_line = next(line for line in out.splitlines() if line.startswith("EVENTS"))
            cost = next(line for line in out.splitlines() if line.startswith("COST")).split()
            body = ev_line[len("EVENTS"):].strip()
            got = [tuple(int(v) for v in e.split(",")) for e in body.split(";")] if body else []
            n, insns_k, heap = int(cost[1]), int(cost[2]), int(cost[3])
            rows.append(dict(recording=c["name"], target=c["target"], impl=impl, samples=n,
                             events=len(c["events"]), match=got == [tuple(e) for e in c["events"]],
                             insns_per_sample=round(insns_k * 1000 / n), heap_used=heap))
            if progress:
                progress(rows[-1])
    return rows


if __name__ == "__main__":
    sys.exit(main())

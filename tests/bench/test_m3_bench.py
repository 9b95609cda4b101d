"""Instructions on an emulated Cortex-M3 (qemu `-icount shift=0`, MicroPython's
qemu port, MPS2_AN385): the detector per sample as the firmware calls it (C
module, twin, native twin), and the whole firmware per device-second at
200 Hz, split by part. Instruction counts, not times: pytest-benchmark
times the emulation (meaningless), the figures are in extra_info and
printed (`make bench`).

Goal (issue 10): the whole firmware at 200 Hz with the C detector under 10%
of a 125 MHz core, 12.5 M instructions per device-second, counted without
the stand-ins for I2C, ADC and the timer interrupt."""
from __future__ import annotations

import sys
from pathlib import Path

from tests.toolchain import need_shared, need_tool

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import m3_firmware  # noqa: E402
import m3_micropython  # noqa: E402
import natmod  # noqa: E402

GOAL = 12.5e6


def _tree() -> Path:
    need_tool("qemu-system-arm", "qemu-system-arm")
    need_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    for rel in m3_micropython.RECORDINGS:
        need_shared("data", *rel.split("/"))
    return natmod.unpack(need_shared("micropython", "micropython-1.28.0.tar.gz"))


def test_m3_detector_instructions_per_sample(benchmark):
    tree = _tree()
    rows = benchmark.pedantic(m3_micropython.measure, args=(tree,), rounds=1, iterations=1)
    assert all(r["match"] for r in rows)
    print("\nM3 instructions per sample, as the firmware calls the detector (3000 samples each):")
    for r in rows:
        key = f"{r['recording']}_{r['target']}_{r['impl']}"
        benchmark.extra_info[key] = r["insns_per_sample"]
        print(f"  {r['recording']:<26} {str(r['target']):<6} {r['impl']:<12} {r['insns_per_sample']:>7}")


def test_m3_firmware_instructions_per_device_second(benchmark):
    tree = _tree()
    rows = benchmark.pedantic(m3_firmware.measure, args=(tree,), rounds=1, iterations=1)
    assert all(r.get("match", True) for r in rows)
    print("\nthe whole firmware on the M3 at 200 Hz, M instructions per device-second:")
    for r in rows:
        if "breakdown" not in r:
            continue
        b = r["breakdown"]
        for k, v in b.items():
            benchmark.extra_info[f"{r['scenario']}_{k}"] = v
        heap = next(x["peak_heap"] for x in rows if x["scenario"] == r["scenario"] and x["run"] == "c_heap")
        benchmark.extra_info[f"{r['scenario']}_peak_heap"] = heap
        print(f"  {r['scenario']}: " + ", ".join(f"{k} {v / 1e6:.2f}" for k, v in b.items())
              + f"; peak live heap {heap} B")
        assert b["firmware_c"] < GOAL, f"{r['scenario']}: {b['firmware_c'] / 1e6:.2f} M instructions per device-second"

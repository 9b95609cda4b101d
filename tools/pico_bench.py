"""The firmware on the emulated Pico W at 200 Hz: what share of the
RP2040's 125 MHz Cortex-M0+ it needs, samples dropped, boot to the first
sample, the time from a rep's end to its event on the host, the heap the
stream holds (the firmware's report at stop, after a collection).

    python tools/pico_bench.py --image RPI_PICO_W.uf2 [--seconds 30] [--detector c twin]

The emulator (rp2040py) counts M0+ cycles (each instruction its cycle
count, every memory access without wait states: flash reads as if the XIP
cache always hit), and its clock is those cycles at 125 MHz; while the core
sleeps (WFE/WFI in MicroPython's idle wait) the clock jumps to the next
event. Device time is that clock. The firmware's share of the CPU is what it
reports in each status (`cpu_load`: the time outside its main loop's idle
wait, less the sampler callbacks inside it), which is what this prints,
with cycles = share x 125 M; `core_busy` is the emulator's own count over
the same stretch: the cycles the core executed, of all the clock's
(the firmware, and what MicroPython and TinyUSB do outside it).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import openpuck
import openpuck.device.pico

CLOCK_HZ = 125_000_000


def measure(image: Path, detector: str, seconds: float = 30.0, scenario: str = "grip10",
            progress=print) -> dict:
    """Stream ``seconds`` device-seconds at 200 Hz of ``scenario`` on a fresh
    emulated Pico W with the ``detector`` (c or twin) installed."""
    flash = openpuck.device.pico.install(image, detector, progress)
    with openpuck.device.pico.EmulatedPico(image, scenario=scenario, flash=flash, detector=detector) as pico:
        t_wall = time.monotonic()
        puck = pico.connect()
        boot_wall = time.monotonic() - t_wall
        try:
            caps = puck.info.capabilities
            loads: list[float] = []
            drops: list[int] = []
            latencies: list[float] = []
            first_t: list[float] = []
            heap: list[tuple[int, int]] = []
            span = [0.0]

            def on_samples(b) -> None:
                if not first_t:
                    first_t.append(float(b.t[0]))
                span[0] = float(b.t[-1])

            def on_event(ev) -> None:
                if ev.kind == "status":
                    if ev.cpu_load is not None and ev.streaming:
                        loads.append(ev.cpu_load)
                    drops.append(ev.dropped_samples)
                elif ev.kind == "log" and ev.text.startswith("heap after gc:"):
                    used, free = (int(w) for w in ev.text.split(":")[1].replace(",", " ").split()[::2])
                    heap.append((used, free))
                elif ev.kind in ("rep", "grip", "partial_rep"):
                    now_s = pico.stats()["ns"] / 1e9      # the puck's clock when the host has it
                    latencies.append(now_s - ev.t_end)

            puck.on("samples", on_samples)
            puck.on("*", on_event)
            puck.start(exercise="grip_squeeze", target=20.0, rate_hz=200)
            t0 = time.monotonic()
            while not first_t and time.monotonic() - t0 < 200 * seconds:
                time.sleep(0.2)
            st_a = pico.stats()
            while (not first_t or span[0] - first_t[0] < seconds) and time.monotonic() - t0 < 200 * seconds:
                time.sleep(1.0)
            wall = time.monotonic() - t0
            st_b = pico.stats()
            st = puck.get_status()
            puck.stop()
            end = time.monotonic() + 120     # the stop's heap report (after a collection), device-slow
            while not heap and time.monotonic() < end:
                time.sleep(0.5)
        finally:
            puck.close()
        stats = pico.stats()
    load = statistics.mean(loads[1:]) if len(loads) > 1 else (loads[0] if loads else float("nan"))
    return {
        "detector": "c" if "c_detector" in caps else "twin",
        "device_s": round(span[0] - (first_t[0] if first_t else 0.0), 2),
        "wall_s": round(wall, 1),
        "cpu_load_mean": round(load, 4),
        "cpu_load_max": round(max(loads), 4) if loads else None,
        "cycles_per_device_s": round(load * CLOCK_HZ),
        "core_busy": round((st_b["busy_cycles"] - st_a["busy_cycles"])
                           / max(st_b["total_cycles"] - st_a["total_cycles"], 1), 4),
        "dropped_samples": st.dropped_samples,
        "link_dropped_samples": getattr(st, "link_dropped_samples", 0),
        "first_sample_s": round(first_t[0], 3) if first_t else None,
        "boot_wall_s": round(boot_wall, 1),
        "rep_latency_ms": [round(1000 * x, 1) for x in latencies],
        "heap_used_after_gc": heap[-1][0] if heap else None,
        "heap_free_after_gc": heap[-1][1] if heap else None,
        "reps": st.reps,
        "resets": stats["resets"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", type=Path, default=None, help="the Pico W .uf2 (default $OPENPUCK_PICO_IMAGE)")
    ap.add_argument("--seconds", type=float, default=30.0, help="device seconds streamed (default 30)")
    ap.add_argument("--detector", nargs="+", default=["c", "twin"], choices=["c", "twin"])
    args = ap.parse_args(argv)
    image = openpuck.device.pico.find_image(args.image)
    for d in args.detector:
        r = measure(image, d, args.seconds)
        print(r, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

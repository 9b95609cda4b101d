"""The whole firmware on an emulated Cortex-M3, streaming at 200 Hz.

WORK IN PROGRESS (issue 10, item 5): not yet in `make test`; whole-scenario
runs are slow (minutes) and the instrumented run has not been seen to finish.

    python tools/m3_firmware.py --micropython DIR [--scenario grip10,wrist8] [--rate 200] [--json]

Builds MicroPython's qemu port (BOARD=MPS2_AN385, a Cortex-M3, 160 KB heap:
what a Pico W leaves free) with the user C module `opdetect` and, frozen in,
the real firmware (firmware/openpuck_fw, boards/pico_w.py) on the virtual
puck's register-level models (boards/sim_hw.py: the LSM6DSOX over I2C, the
FSR on the ADC, the timer; boards/sim_motion.py: a scenario of known reps).
The host's set_exercise and start frames go in, the firmware streams through
the emulated UART, and the host decodes what came out (openpuck's
StreamDecoder) and counts the events.

Each scenario runs three times under `qemu-system-arm -icount shift=0`
(one instruction per emulated nanosecond):
- with the C detector, uninstrumented: instructions per second of device
  time, the figure to hold against a 125 MHz core;
- with the MicroPython twin, uninstrumented: the same;
- with the C detector, instrumented: where the instructions go (detector,
  sampling, the hardware models, framing, the UART, the sim's scheduler, the
  rest of the main loop) and the peak live heap (after a collection, every
  device-second). The wrappers cost instructions of their own, so this run's
  total is higher than the first's.
The C and twin runs must give the same events and samples, and the counts
the scenario was built with. The models (floating point, soft-float on the
M3) stand in for an I2C transfer and an ADC read and cost far more than the
real ones; their share is shown apart so it can be set aside.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "host_sdk"))
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "firmware"))   # boards.sim_motion: the scenarios' true counts
import m3_micropython  # noqa: E402
import natmod  # noqa: E402
from m3_micropython import HEAP, M3Error  # noqa: E402

BUILD = ROOT / "build" / "qemu-m3-firmware"
# Written raw (sys.stdout.buffer): the port's text output turns "\n" into "\r\n".
BEGIN = b"<<M3FW-BEGIN>>"
END = b"<<M3FW-END>>"
STATS_END = b"<<M3FW-STATS-END>>"
DEFAULT_SCENARIOS = ("grip10", "wrist8")
CORE_HZ = 125_000_000   # the Pico W's RP2040 at its default clock

# Runs on the M3: the firmware's App on the sim board, commands fed in, frames out on the UART.
HARNESS = '''
import gc, sys, time
from boards import pico_w, sim_hw, sim_motion
from openpuck_fw import app as app_mod

_ticks = time.ticks_us
_diff = time.ticks_diff


class Stop(Exception):
    pass


class Meter:
    """Exclusive instruction counts (thousands: ticks_us under -icount shift=0) per bucket."""

    def __init__(self):
        self.acc = {}
        self.stack = []

    def wrap(self, name, fn):
        acc = self.acc
        acc[name] = 0
        stack = self.stack

        def w(*a):
            t0 = _ticks()
            stack.append(0)
            try:
                return fn(*a)
            finally:
                child = stack.pop()
                el = _diff(_ticks(), t0)
                acc[name] += el - child
                if stack:
                    stack[-1] += el
        return w


class Link:
    """The USB link of the app, fed from a byte string; frames out on the UART."""
    name = "usb"

    def __init__(self, commands, stop, end_us, meter):
        self.poller = self
        self.pending = commands
        self.stop = stop
        self.end_us = end_us
        self.meter = meter
        self.out = sys.stdout.buffer
        self.connected = True
        self.tx_bytes = 0
        self.state = 0          # 0 commands pending, 1 streaming, 2 stop sent
        self.t_mark = 0
        self.v_mark = 0
        self.next_heap_us = 0
        self.peak_heap = 0

    def poll(self, timeout_ms=0):
        return len(self.pending) > 0

    def read(self, max_bytes=64):
        now = sim_hw.clock().virt_us
        if self.meter is not None and now >= self.next_heap_us:
            self.heap_probe()
            self.next_heap_us = now + 1000000
        if self.state == 0 and not self.pending:
            self.state = 1
            self.t_mark = _ticks()
            self.v_mark = now
        elif self.state == 1 and now >= self.end_us:
            self.state = 2
            self.pending = self.stop
            self.t_end = _ticks()
            self.v_end = now
        elif self.state == 2 and not self.pending:
            raise Stop()
        out = self.pending[:max_bytes]
        self.pending = self.pending[max_bytes:]
        return out

    def heap_probe(self):
        t0 = _ticks()
        gc.collect()
        a = gc.mem_alloc()
        if a > self.peak_heap:
            self.peak_heap = a
        if self.meter.stack:   # not the caller's: the probe is not firmware work
            self.meter.stack[-1] += _diff(_ticks(), t0)
        self.meter.acc["probe"] = self.meter.acc.get("probe", 0) + _diff(_ticks(), t0)

    def write(self, frame):
        self.out.write(frame)
        self.tx_bytes += len(frame)

    def flush(self):
        pass


def run(scenario, commands, stop, seconds, impl, instrument):
    sim_hw.IS_SIM = False       # no log file on this board: log lines go only to the wire
    sim_hw.setup(float("inf"), sim_motion.scenario(scenario), ())
    sim_hw.clock().ready = True
    if impl == "twin":
        from openpuck_fw import detect
        app_mod.detector_factory = lambda: (detect.make_twin, False, "twin asked for")
    meter = Meter() if instrument else None
    board = pico_w.make(sim_hw, name="m3", config_path=None, ble=False)
    link = Link(commands, stop, int(seconds * 1000000), meter)
    board.links = [link]
    app = app_mod.App(board, 0)
    if meter is not None:
        w = meter.wrap
        link.write = w("uart", link.write)
        app.enc.message = w("framing", app.enc.message)
        app.enc.samples_frame = w("framing", app.enc.samples_frame)
        app.sampler._cb = w("sampling", app.sampler._cb)
        sim_hw.I2C.readfrom_mem_into = w("models", sim_hw.I2C.readfrom_mem_into)
        sim_hw.ADC.read_u16 = w("models", sim_hw.ADC.read_u16)
        sim_hw.wait = w("scheduler", sim_hw.wait)
        make = app.make_detector

        def make_metered(*a):
            return Metered(make(*a), w)
        app.make_detector = make_metered
        app.step = w("main_loop", app.step)
    gc.collect()
    out = sys.stdout.buffer
    out.write(b"<<M3FW-BEGIN>>")
    try:
        app.run()
    except Stop:
        pass
    out.write(b"<<M3FW-END>>")
    insns_k = _diff(link.t_end, link.t_mark)
    dev_us = link.v_end - link.v_mark
    acc = meter.acc if meter is not None else {}
    print("STATS", insns_k, dev_us, app.c_detector, link.peak_heap, app.sampler.dropped,
          ";".join("%s=%d" % kv for kv in acc.items()))
    out.write(b"<<M3FW-STATS-END>>")


class Metered:
    def __init__(self, det, wrap):
        self.det = det
        self.push = wrap("detector", det.push)
        self.pop = wrap("detector", det.pop)
        self.finish = det.finish

    def __getattr__(self, name):
        return getattr(self.det, name)
'''


def write_frozen(folder: Path) -> Path:
    """The firmware, the sim board and the harness as frozen modules."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "m3fw.py").write_text(HARNESS)
    fw = ROOT / "firmware"
    pkg = tuple(str(p.relative_to(fw)) for p in sorted((fw / "openpuck_fw").rglob("*.py")))
    boards = ("boards/__init__.py", "boards/pico_w.py", "boards/sim_hw.py", "boards/sim_motion.py")
    manifest = folder / "manifest.py"
    manifest.write_text(f"freeze({str(fw)!r}, {pkg + boards!r})\nfreeze({str(folder)!r}, ('m3fw.py',))\n")
    return manifest


def scenario_truth(name: str) -> dict:
    """exercise, target, duration and true counts of a built-in scenario (boards/sim_motion.py)."""
    from boards import sim_motion
    cat = sim_motion.catalogue()
    if name not in cat:
        raise M3Error(f"unknown scenario {name!r} (known: {', '.join(sorted(cat))})")
    return cat[name]


def decode(stream: bytes) -> dict:
    """Events, samples and damage counters of the firmware's UART output."""
    from openpuck.decoder import SampleBlock, StreamDecoder
    dec = StreamDecoder(keep_raw=True)
    events: dict[str, list] = {"rep": [], "partial_rep": [], "grip": []}
    samples = []
    items = dec.feed(stream)
    dec.finish()
    for item in items:
        if isinstance(item, SampleBlock):
            samples.append(item.raw.tobytes())
        elif item.type in events:
            events[item.type].append(tuple(item.fields.values()))
    c = dec.counters
    return {"events": events, "samples": b"".join(samples), "counters": c}


def run_one(elf: Path, scenario: str, impl: str, instrument: bool, rate: int) -> dict:
    from openpuck import exercises
    from openpuck.protocol import codec
    truth = scenario_truth(scenario)
    ex = exercises.get(truth["exercise"])
    cmds = (codec.encode("set_exercise", 1, exercise=ex.id, target=round(truth["target"] * 1000),
                         on_pct=0, off_pct=0)
            + codec.encode("start", 2, rate_hz=rate, channels=7))
    stop = codec.encode("stop", 3)
    seconds = truth["duration_s"]
    code = (f"import m3fw\nm3fw.run({scenario!r}, {cmds!r}, {stop!r}, {seconds!r}, {impl!r}, "
            f"{instrument!r})\n")
    out = m3_micropython.run_until(elf, code, STATS_END, timeout=1800)
    b = out.find(BEGIN)
    e = out.find(END)
    if b < 0 or e < 0:
        raise M3Error("the firmware on the M3 did not run to its end:\n" + out[-3000:].decode(errors="replace"))
    wire = out[b + len(BEGIN):e]
    stats = out[e + len(END):].decode(errors="replace")
    line = next((ln for ln in stats.splitlines() if ln.startswith("STATS")), None)
    if line is None:
        raise M3Error("no figures from the M3:\n" + stats[-3000:])
    parts = line.split(" ", 6)
    insns = int(parts[1]) * 1000
    dev_s = int(parts[2]) / 1e6
    split = {}
    if len(parts) > 6 and parts[6].strip():
        split = {k: int(v) * 1000 for k, v in (kv.split("=") for kv in parts[6].strip().split(";"))}
    got = decode(wire)
    ev = got["events"]
    return dict(scenario=scenario, impl=impl, instrumented=instrument, rate_hz=rate,
                c_detector=parts[3] == "True", device_s=round(dev_s, 3), instructions=insns,
                insns_per_device_s=round(insns / dev_s) if dev_s > 0 else None,
                core_share=round(insns / dev_s / CORE_HZ, 4) if dev_s > 0 else None,
                peak_heap=int(parts[4]) or None, heap_limit=HEAP, dropped=int(parts[5]),
                reps=len(ev["rep"]), partial_reps=len(ev["partial_rep"]), grips=len(ev["grip"]),
                expected={k: truth[k] for k in ("reps", "partial_reps", "grips")},
                damaged_frames=(got["counters"].crc_errors + got["counters"].cobs_errors
                                        + got["counters"].malformed + got["counters"].truncated),
                split=split, _events=ev, _samples=got["samples"])


def measure(micropython: str | Path, scenarios=DEFAULT_SCENARIOS, rate: int = 200, progress=None) -> list[dict]:
    """Three runs per scenario (C, twin, C instrumented); rows as in run_one, plus `match`."""
    mp = natmod.check_tree(micropython)
    m3_micropython.check_tools()
    if rate not in (25, 50, 100, 200):
        raise M3Error(f"--rate {rate}: the firmware streams at 25, 50, 100 or 200 Hz")
    for s in scenarios:
        scenario_truth(s)
    elf = m3_micropython.build(mp, write_frozen(BUILD.parent / "qemu-m3-firmware-frozen"), BUILD)
    rows = []
    for s in scenarios:
        runs = [run_one(elf, s, impl, inst, rate) for impl, inst in (("c", False), ("twin", False), ("c", True))]
        ref = runs[0]
        for r in runs:
            r["match"] = (r["_events"] == ref["_events"] and r["_samples"] == ref["_samples"]
                          and (r["reps"], r["partial_reps"], r["grips"]) == tuple(r["expected"].values()))
            rows.append(r)
            if progress:
                progress(r)
    return rows


def _show(r: dict) -> None:
    kind = "c" if r["c_detector"] else "twin"
    label = f"{r['scenario']:<8} {kind:<4}{' (instrumented)' if r['instrumented'] else ''}"
    print(f"  {label:<26} {r['device_s']:6.1f} device-s  {r['insns_per_device_s'] / 1e6:6.2f} M insns/s "
          f"({100 * r['core_share']:.1f}% of 125 MHz)  reps {r['reps']} partial {r['partial_reps']} "
          f"grips {r['grips']}  {'match' if r['match'] else 'MISMATCH'}", flush=True)
    if r["split"]:
        dev = r["device_s"]
        parts = ", ".join(f"{k} {v / dev / 1e6:.2f}M" for k, v in sorted(r["split"].items(), key=lambda kv: -kv[1]))
        print(f"      per device-second: {parts}; peak live heap {r['peak_heap']} of {r['heap_limit']} B")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--micropython", default="", help="MicroPython v1.28.0 source tree (MICROPY_DIR)")
    ap.add_argument("--scenario", default=",".join(DEFAULT_SCENARIOS),
                    help="comma-separated built-in scenarios (boards/sim_motion.py); default grip10,wrist8")
    ap.add_argument("--rate", type=int, default=200, help="sample rate, Hz (default 200)")
    ap.add_argument("--json", action="store_true", help="one JSON list of runs")
    args = ap.parse_args(argv)
    try:
        scen = tuple(s.strip() for s in args.scenario.split(",") if s.strip())
        rows = measure(args.micropython, scen, args.rate, None if args.json else _show)
    except (M3Error, natmod.NatmodError, OSError) as e:
        print(f"m3_firmware: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]))
    return 0 if all(r["match"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

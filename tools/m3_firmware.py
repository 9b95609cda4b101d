"""The whole firmware on an emulated Cortex-M3, streaming at 200 Hz (`make m3-firmware`).

    python tools/m3_firmware.py --micropython DIR [--scenario grip10,wrist8]
                                [--seconds S] [--rate 200] [--json]

Builds MicroPython's qemu port (BOARD=MPS2_AN385, a Cortex-M3, 160 KB heap:
what a Pico W leaves free) with the user C module `opdetect` and, frozen in,
the real firmware (firmware/openpuck_fw, boards/pico_w.py) on the virtual
puck's hardware layer (boards/sim_hw.py wiring the clock and timer of
boards/sim_clock.py, the LSM6DSOX register model and the FSR divider model;
boards/sim_motion.py: a scenario of known reps). The host's
set_exercise and start frames go in, the firmware streams through the
emulated UART, and the host decodes what came out (openpuck's StreamDecoder)
and counts the events. Everything runs under `qemu-system-arm -icount
shift=0`: one instruction per emulated nanosecond. The harness that runs on
the M3 is tools/m3fw_harness.py.

Per scenario:
- C detector and twin on the register models. The models compute each
  sample in floating point, soft-float on the M3, standing in for an I2C
  transfer and an ADC read that cost a real board little CPU: these runs
  say what the virtual puck costs, not a puck. They also record what the
  sampler read.
- C detector and twin with those reads replayed from the recording (a cheap
  stand-in for machine.I2C and machine.ADC). With the heap probed after a
  collection every device-second: the peak live heap.
- The same with one part taken out, so that costs split by difference:
  no detector; no detector and no sample framing; the sampler alone (the
  main loop throws the samples away); the stand-ins alone (the timer, the
  reads and the sim's scheduler, with no firmware).
All runs with the whole firmware must give the same samples and events and,
over a whole scenario, the counts the scenario was built with.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "host_sdk"))
sys.path.insert(0, str(ROOT / "tools"))
import m3_micropython  # noqa: E402
import natmod  # noqa: E402
from m3_micropython import HEAP, M3Error  # noqa: E402

BUILD = ROOT / "build" / "qemu-m3-firmware"
HARNESS = ROOT / "tools" / "m3fw_harness.py"
BEGIN = b"<<M3FW-BEGIN>>"     # written raw: the port's text output turns "\n" into "\r\n"
END = b"<<M3FW-END>>"
REGS = b"<<M3FW-REGS "
STATS_END = b"<<M3FW-STATS-END>>"
DEFAULT_SCENARIOS = ("grip10", "wrist8")
CORE_HZ = 125_000_000   # the Pico W's RP2040 at its default clock
# (name, detector, registers, part taken out, heap probe); the first run records
# the registers (recording costs heap and time, so its figures are not reported)
RUNS = (("record", "c", "models", "", False),
        ("c_models", "c", "models", "", False),
        ("twin_models", "twin", "models", "", False),
        ("c", "c", "replay", "", False),
        ("twin", "twin", "replay", "", False),
        ("twin_native", "twin_native", "replay", "", False),
        ("c_heap", "c", "replay", "", True),
        ("no_detector", "c", "replay", "detector", False),
        ("no_framing", "c", "replay", "framing", False),
        ("sampler_only", "c", "replay", "drain", False),
        ("stand_ins", "c", "replay", "firmware", False))
CHECK_RUNS = ("record", "c_models", "twin_models", "c", "twin")   # make test: parity and counts only
# the board file and the virtual puck's hardware layer, frozen with the firmware
FROZEN_BOARDS = ("boards/__init__.py", "boards/pico_w.py", "boards/sim_hw.py", "boards/sim_clock.py",
                 "boards/sim_feed.py", "boards/sim_lsm6dsox.py", "boards/sim_fsr.py", "boards/sim_motion.py")


def write_frozen(folder: Path, mp: Path, regs: dict[str, tuple[bytes, bytes]] | None = None) -> Path:
    """The firmware, the sim board, the harness, the native twin and any recorded
    register streams as frozen modules."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "m3fw.py").write_text(HARNESS.read_text())
    names = ["m3fw.py"]
    for scenario, (imu, adc) in (regs or {}).items():
        name = f"m3regs_{scenario}.py"
        (folder / name).write_text(f"IMU = {imu!r}\nADC = {adc!r}\n")
        names.append(name)
    fw = ROOT / "firmware"
    pkg = tuple(str(p.relative_to(fw)) for p in sorted((fw / "openpuck_fw").rglob("*.py")))
    manifest = folder / "manifest.py"
    manifest.write_text(f"freeze({str(fw)!r}, {pkg + FROZEN_BOARDS!r})\nfreeze({str(folder)!r}, {tuple(names)!r})\n"
                        + m3_micropython.native_twin(mp, folder / "native"))
    return manifest


_CATALOGUE: dict = {}


def scenario_truth(name: str) -> dict:
    """exercise, target, duration and true counts of a built-in scenario
    (boards/sim_motion.py, read through the MicroPython unix port: openpuck.device.sim)."""
    if not _CATALOGUE:
        from openpuck.device import sim
        _CATALOGUE.update(sim.scenarios())
    cat = _CATALOGUE
    if name not in cat:
        raise M3Error(f"unknown scenario {name!r} (known: {', '.join(sorted(cat))})")
    return cat[name]


def decode(stream: bytes) -> dict:
    """Events, raw samples and damage counters of the firmware's UART output."""
    from openpuck.device.decoder import SampleBlock, StreamDecoder
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
    return {"events": events, "samples": b"".join(samples), "counters": dec.counters}


def _parse(out: bytes) -> tuple[bytes, tuple[bytes, bytes] | None, list[str]]:
    """(wire bytes, recorded registers or None, stats lines) of one run's output."""
    b = out.find(BEGIN)
    e = out.find(END)
    if b < 0 or e < 0:
        raise M3Error("the firmware on the M3 did not run to its end:\n" + out[-3000:].decode(errors="replace"))
    wire = out[b + len(BEGIN):e]
    rest = out[e + len(END):]
    regs = None
    if rest.startswith(REGS):
        close = rest.index(b">>")
        n_imu, n_adc = (int(v) for v in rest[len(REGS):close].split())
        body = rest[close + 2:]
        regs = (bytes(body[:n_imu]), bytes(body[n_imu:n_imu + n_adc]))
        rest = body[n_imu + n_adc:]
    return wire, regs, rest.decode(errors="replace").splitlines()


def run_one(elf: Path, scenario: str, run: tuple, rate: int, seconds: float | None = None) -> dict:
    """One run (a row of RUNS) on the emulated M3; a row of figures (keys with _ hold events, samples, registers)."""
    from openpuck import exercises
    from openpuck.protocol import codec
    name, impl, registers, part, heap = run
    truth = scenario_truth(scenario)
    ex = exercises.get(truth["exercise"])
    cmds = (codec.encode("set_exercise", 1, exercise=ex.id, target=round(truth["target"] * 1000),
                         on_pct=0, off_pct=0)
            + codec.encode("start", 2, rate_hz=rate, channels=7))
    stop = codec.encode("stop", 3)
    whole = seconds is None or seconds >= truth["duration_s"]
    dur = truth["duration_s"] if whole else seconds
    regs_mod = f"m3regs_{scenario}" if registers == "replay" else None
    code = (("import m3fw\n" if regs_mod is None else f"import m3fw, {regs_mod}\n")
            + f"m3fw.run({scenario!r}, {cmds!r}, {stop!r}, {dur!r}, {rate!r}, {impl!r}, {regs_mod or 'None'}, "
              f"{part!r}, {heap!r}, {name == 'record'!r})\n")
    out = m3_micropython.run_until(elf, code, STATS_END, timeout=1800)
    wire, regs, lines = _parse(out)
    line = next((ln for ln in lines if ln.startswith("STATS")), None)
    if line is None:
        raise M3Error("no figures from the M3:\n" + "\n".join(lines[-30:]))
    p = line.split()
    insns = int(p[1]) * 1000
    dev_s = int(p[2]) / 1e6
    got = decode(wire)
    ev = got["events"]
    c = got["counters"]
    per_s = round(insns / dev_s) if dev_s > 0 else 0
    return dict(scenario=scenario, run=name, impl=impl, registers=registers, taken_out=part or None,
                rate_hz=rate, c_detector=p[3] == "True", device_s=round(dev_s, 3), instructions=insns,
                insns_per_device_s=per_s, core_share=round(per_s / CORE_HZ, 4),
                peak_heap=int(p[4]) if heap else None, heap_limit=HEAP, dropped=int(p[5]),
                samples=len(got["samples"]) // 14, reps=len(ev["rep"]), partial_reps=len(ev["partial_rep"]),
                grips=len(ev["grip"]), whole_scenario=whole,
                expected={k: truth[k] for k in ("reps", "partial_reps", "grips")},
                damaged_frames=c.crc_errors + c.cobs_errors + c.malformed + c.truncated,
                _events=ev, _samples=got["samples"], _regs=regs)


def breakdown(rows: list[dict]) -> dict[str, int]:
    """Instructions per device-second of each part, by difference between the runs of one scenario."""
    r = {row["run"]: row["insns_per_device_s"] for row in rows}
    need = ("c", "twin", "no_detector", "no_framing", "sampler_only", "stand_ins")
    if not all(k in r for k in need):
        return {}
    out = {"total_c": r["c"], "total_twin": r["twin"],
            "detector_c": r["c"] - r["no_detector"], "detector_twin": r["twin"] - r["no_detector"],
            "framing_and_link": r["no_detector"] - r["no_framing"],
            "main_loop": r["no_framing"] - r["sampler_only"],
            "sampler": r["sampler_only"] - r["stand_ins"],
            "stand_ins": r["stand_ins"],
            "firmware_c": r["c"] - r["stand_ins"], "firmware_twin": r["twin"] - r["stand_ins"]}
    if "twin_native" in r:
        out.update(total_twin_native=r["twin_native"], detector_twin_native=r["twin_native"] - r["no_detector"],
                   firmware_twin_native=r["twin_native"] - r["stand_ins"])
    return out


def measure(micropython: str | Path, scenarios=DEFAULT_SCENARIOS, rate: int = 200, seconds: float | None = None,
            runs: tuple[str, ...] | None = None, progress=None) -> list[dict]:
    """The runs of RUNS (all, or those named) for each scenario; rows as in run_one, plus `match`
    for the runs of the whole firmware. A scenario's "breakdown" is on its first row."""
    if rate not in (25, 50, 100, 200):
        raise M3Error(f"--rate {rate}: the firmware streams at 25, 50, 100 or 200 Hz")
    if seconds is not None and not 0 < seconds < 1e6:
        raise M3Error(f"--seconds {seconds}: give a device time in seconds, more than 0")
    for s in scenarios:
        scenario_truth(s)
    mp = natmod.check_tree(micropython, "m3-firmware")
    m3_micropython.check_tools()
    chosen = [r for r in RUNS if runs is None or r[0] in runs or r[0] == "record"]
    frozen = BUILD.parent / "qemu-m3-firmware-frozen"
    elf = m3_micropython.build(mp, write_frozen(frozen, mp), BUILD)
    done: dict[str, list[dict]] = {s: [] for s in scenarios}
    for s in scenarios:
        for run in chosen:
            if run[2] == "models":
                done[s].append(run_one(elf, s, run, rate, seconds))
                if progress and run[0] != "record":
                    progress(done[s][-1])
    if any(run[2] == "replay" for run in chosen):
        elf = m3_micropython.build(mp, write_frozen(frozen, mp, {s: done[s][0]["_regs"] for s in scenarios}), BUILD)
        for s in scenarios:
            for run in chosen:
                if run[2] == "replay":
                    done[s].append(run_one(elf, s, run, rate, seconds))
                    if progress:
                        progress(done[s][-1])
    rows = []
    for s in scenarios:
        ref = done[s][0]
        for r in done[s]:
            if r["taken_out"] is None:
                r["match"] = (r["_events"] == ref["_events"] and r["_samples"] == ref["_samples"]
                              and r["damaged_frames"] == 0 and r["dropped"] == 0
                              and (not r["whole_scenario"]
                                   or (r["reps"], r["partial_reps"], r["grips"]) == tuple(r["expected"].values())))
            rows.append(r)
        done[s][0]["breakdown"] = breakdown(done[s])
    return rows


def _show(r: dict) -> None:
    print(f"  {r['scenario']:<8} {r['run']:<13} {r['device_s']:6.1f} device-s {r['insns_per_device_s'] / 1e6:6.2f} M "
          f"insns/s ({100 * r['core_share']:4.1f}% of 125 MHz)"
          + (f"  reps {r['reps']} partial {r['partial_reps']} grips {r['grips']}" if not r["taken_out"] else "")
          + (f"  peak live heap {r['peak_heap']} of {r['heap_limit']} B" if r["peak_heap"] else ""), flush=True)


def _show_breakdown(scenario: str, b: dict) -> None:
    if not b:
        return
    m = {k: v / 1e6 for k, v in b.items()}
    print(f"  {scenario}: M instructions per device-second, by difference:")
    native = f", native twin {m['detector_twin_native']:.2f}" if "detector_twin_native" in m else ""
    print(f"      detector C {m['detector_c']:.2f}, twin {m['detector_twin']:.2f}{native}; framing and link "
          f"{m['framing_and_link']:.2f}; main loop (scaling, batching, commands, status) {m['main_loop']:.2f}; "
          f"sampler {m['sampler']:.2f}; stand-ins for I2C, ADC and the timer {m['stand_ins']:.2f}")
    print(f"      the firmware without the stand-ins: C {m['firmware_c']:.2f} "
          f"({100 * b['firmware_c'] / CORE_HZ:.1f}% of 125 MHz), twin {m['firmware_twin']:.2f} "
          f"({100 * b['firmware_twin'] / CORE_HZ:.1f}%)"
          + (f", native twin {m['firmware_twin_native']:.2f} ({100 * b['firmware_twin_native'] / CORE_HZ:.1f}%)"
             if "firmware_twin_native" in b else ""), flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--micropython", default="", help="MicroPython v1.28.0 source tree (MICROPY_DIR)")
    ap.add_argument("--scenario", default=",".join(DEFAULT_SCENARIOS),
                    help="comma-separated built-in scenarios (boards/sim_motion.py); default grip10,wrist8")
    ap.add_argument("--seconds", type=float, default=None,
                    help="device seconds per run (default: the whole scenario; shorter runs skip the count check)")
    ap.add_argument("--rate", type=int, default=200, help="sample rate, Hz (default 200)")
    ap.add_argument("--json", action="store_true", help="one JSON list of runs")
    args = ap.parse_args(argv)
    try:
        scen = tuple(s.strip() for s in args.scenario.split(",") if s.strip())
        rows = measure(args.micropython, scen, args.rate, args.seconds, progress=None if args.json else _show)
    except (M3Error, natmod.NatmodError, OSError) as e:
        print(f"m3_firmware: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]))
    else:
        for r in rows:
            if "breakdown" in r:
                _show_breakdown(r["scenario"], r["breakdown"])
        bad = [r for r in rows if r.get("match") is False]
        print("all runs of the whole firmware agree" if not bad
              else f"{len(bad)} run(s) disagree with the first run or the scenario's counts")
    return 0 if all(r.get("match", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

"""`make fuzz`: every fuzzer of the project for a set time, and a report.

    python tools/fuzz.py                          # 60 s per harness, stop early at 10^6 inputs
    python tools/fuzz.py --seconds 600 --only detect,codec
    python tools/fuzz.py --runs 0                 # no input cap: the full time each

Harnesses: the C core's libFuzzer harnesses (c_core/fuzz/fuzz_*.c, clang,
ASan + UBSan), the Python targets (tools/pyfuzz.py: atheris when installed)
and the command fuzz against the virtual puck (tools/fuzz_puck.py). Each runs
on its committed seeds plus what earlier runs learned (build/fuzz/). The
report, benchmark-style (inputs, inputs/s, coverage, crashes), is printed and
written to reports/fuzz.md and reports/fuzz.json; crash inputs go to
build/fuzz/crashes/. Exit status 1 when any harness found something.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 1_000_000
PY_TARGETS = ("codec", "decoder", "recording", "csv")


def _c_names() -> list[str]:
    return sorted(p.stem.removeprefix("fuzz_") for p in (ROOT / "c_core" / "fuzz").glob("fuzz_*.c"))


def parse_libfuzzer(text: str) -> dict:
    """Inputs run, coverage and findings from libFuzzer's (or pyfuzz's plain) output."""
    out: dict = {"runs": None, "cov": None, "ft": None, "corpus": None, "exec_s": None, "crash": None}
    m = re.findall(r"^Done (\d+) runs in (\d+) second", text, re.M)
    if m:
        out["runs"] = int(m[-1][0])
    m = re.findall(r"stat::number_of_executed_units:\s*(\d+)", text)
    if m:
        out["runs"] = int(m[-1])
    status = re.findall(r"^#(\d+)\s+(?:INITED|NEW|REDUCE|pulse|DONE|RELOAD)\s+cov: (\S+) ft: (\S+) "
                        r"corp: (\d+)/\S+(?:.*?exec/s: (\d+))?", text, re.M)
    if status:
        last = status[-1]
        out["cov"], out["ft"], out["corpus"] = last[1], last[2], int(last[3])
        if out["runs"] is None:
            out["runs"] = int(last[0])
        if last[4]:
            out["exec_s"] = int(last[4])
    crash = re.search(r"^(==\d*==ERROR.*|.*runtime error:.*|.*FUZZ_CHECK failed.*|"
                      r"=== Uncaught Python exception: ===\n.*|==ERROR: .*)$", text, re.M)
    unit = re.search(r"Test unit written to (\S+)", text)
    if crash or unit:
        out["crash"] = (crash.group(0).strip() if crash else "crash") + (f" ({unit.group(1)})" if unit else "")
    return out


def run_c(name: str, seconds: float, runs: int | None, work: Path, build: Path) -> dict:
    exe = build / "fuzz" / f"fuzz_{name}"
    corpus = work / "corpus" / name
    corpus.mkdir(parents=True, exist_ok=True)
    (work / "crashes").mkdir(parents=True, exist_ok=True)
    cmd = [str(exe), str(corpus), str(ROOT / "c_core" / "fuzz" / "corpus" / name),
           f"-max_total_time={int(seconds)}", "-timeout=10", "-rss_limit_mb=2048",
           "-print_final_stats=1", f"-artifact_prefix={work / 'crashes'}/{name}-"]
    if runs:
        cmd.append(f"-runs={runs}")
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds * 3 + 120)
    (work / f"{name}.log").write_text(r.stderr)
    res = parse_libfuzzer(r.stderr)
    res.update(kind="C, libFuzzer + ASan + UBSan", seconds=time.monotonic() - t0, exit=r.returncode)
    if r.returncode and not res["crash"]:
        res["crash"] = f"exit {r.returncode}"
    return res


def run_py(name: str, seconds: float, runs: int | None, work: Path) -> dict:
    cmd = [sys.executable, str(ROOT / "tools" / "pyfuzz.py"), name, "--seconds", str(seconds),
           "--work", str(work / "py")]
    if runs:
        cmd += ["--runs", str(runs)]
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds * 3 + 120)
    text = r.stdout + r.stderr
    (work / f"py-{name}.log").write_text(text)
    res = parse_libfuzzer(text)
    engine = "atheris" if "plain mutator" not in text else "plain mutator"
    res.update(kind=f"Python, {engine}", seconds=time.monotonic() - t0, exit=r.returncode)
    if r.returncode and not res["crash"]:
        res["crash"] = f"exit {r.returncode}: {text.strip().splitlines()[-1] if text.strip() else ''}"
    if engine == "plain mutator":
        res["cov"] = res["ft"] = None
    return res


def run_puck(seconds: float, runs: int | None, work: Path) -> dict:
    out = work / "puck.json"
    cmd = [sys.executable, str(ROOT / "tools" / "fuzz_puck.py"), "--seconds", str(seconds),
           "--json", str(out)]
    if runs:
        cmd += ["--frames", str(runs)]
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds * 3 + 120)
    (work / "puck.log").write_text(r.stdout + r.stderr)
    res: dict = {"kind": "virtual puck, commands over the link", "seconds": time.monotonic() - t0,
                 "exit": r.returncode, "runs": None, "cov": None, "ft": None, "corpus": None,
                 "exec_s": None, "crash": None}
    if r.returncode == 2:
        res["skipped"] = (r.stderr.strip().splitlines() or ["no virtual puck"])[-1]
        return res
    if not out.exists():
        res["crash"] = f"exit {r.returncode}: " + (r.stdout + r.stderr)[-500:]
        return res
    rep = json.loads(out.read_text())
    res.update(runs=rep["frames"], exec_s=int(rep["frames"] / max(rep["seconds"], 1e-9)),
               puck={k: rep[k] for k in ("intact", "acks", "nacks", "rx_errors", "samples",
                                         "dropped_samples", "statuses", "restarts", "heap",
                                         "heap_growth", "uptime_ms")})
    if rep["findings"]:
        res["crash"] = "; ".join(rep["findings"])[:2000]
    return res


def _fmt(v, width=0) -> str:
    return "-" if v is None else (f"{v:,}" if isinstance(v, int) else str(v))


def report(results: dict[str, dict], seconds: float, runs: int | None, started: str, work: Path) -> str:
    lines = [f"# Fuzzing report ({started}, {platform.node()}, {os.cpu_count()} cores)", "",
             f"Budget: {seconds:g} s per harness" + (f", stopping early at {runs:,} inputs" if runs else "")
             + f". Goal: at least {GOAL:,} inputs per harness with no crash, hang or growth.", "",
             "| harness | kind | time (s) | inputs | inputs/s | coverage (cov / ft) | corpus | found | goal |",
             "|---|---|---:|---:|---:|---|---:|---|---|"]
    for name, r in results.items():
        if r.get("skipped"):
            lines.append(f"| {name} | {r['kind']} | - | - | - | - | - | skipped: {r['skipped']} | - |")
            continue
        cov = f"{r['cov']} / {r['ft']}" if r.get("cov") else "-"
        found = "**" + r["crash"].splitlines()[0][:160] + "**" if r.get("crash") else "nothing"
        goal = "yes" if (r.get("runs") or 0) >= GOAL and not r.get("crash") else "no"
        lines.append(f"| {name} | {r['kind']} | {r['seconds']:.0f} | {_fmt(r.get('runs'))} | "
                     f"{_fmt(r.get('exec_s'))} | {cov} | {_fmt(r.get('corpus'))} | {found} | {goal} |")
    puck = results.get("puck", {}).get("puck")
    if puck:
        heap = puck["heap"]
        lines += ["", "Virtual puck: "
                  f"{puck['intact']:,} intact commands answered ({puck['acks']:,} acks, "
                  f"{sum(puck['nacks'].values()):,} nacks: "
                  + ", ".join(f"{k} {v:,}" for k, v in sorted(puck["nacks"].items()))
                  + f"), rx_errors {puck['rx_errors']:,}, {puck['samples']:,} samples streamed "
                  f"(dropped {puck['dropped_samples']}), {puck['statuses']:,} statuses, uptime "
                  f"{puck['uptime_ms'][0]}..{puck['uptime_ms'][1]} ms, restarts {puck['restarts']}; "
                  f"heap after collection {heap['first'][0] if heap['first'] else '-'} -> "
                  f"{heap['last'][0] if heap['last'] else '-'} bytes, max {heap['max_alloc']}, growth "
                  f"{puck['heap_growth']} bytes over {heap['reports']} reports."]
    lines += ["", "coverage: libFuzzer's cov (edges reached) / ft (features: edges with hit counts); "
              "for atheris, edges of the Python code of openpuck.",
              f"Logs and crash inputs: {work}. Regenerate: make fuzz FUZZ_SECONDS=... FUZZ_RUNS=..."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="time per harness (default 60)")
    ap.add_argument("--runs", type=int, default=GOAL,
                    help=f"stop a harness at this many inputs (default {GOAL:,}; 0: no cap)")
    ap.add_argument("--only", help="comma list of harnesses (c names, python targets, puck)")
    ap.add_argument("--build", type=Path, default=ROOT / "build", help="build root (default build/)")
    ap.add_argument("--reports", type=Path, default=ROOT / "reports")
    args = ap.parse_args(argv)
    runs = args.runs or None
    args.build = args.build.absolute()   # make -C c_core runs elsewhere
    work = args.build / "fuzz"
    work.mkdir(parents=True, exist_ok=True)
    names = [f"c:{n}" for n in _c_names()] + [f"py:{n}" for n in PY_TARGETS] + ["puck"]
    if args.only:
        want = set(args.only.split(","))
        names = [n for n in names if n in want or n.split(":")[-1] in want]
    started = time.strftime("%Y-%m-%d %H:%M")
    results: dict[str, dict] = {}
    c_build = args.build / "c_core"
    if any(n.startswith("c:") for n in names):
        clang = os.environ.get("CLANG", "clang")
        r = None
        if shutil.which(clang):
            r = subprocess.run(["make", "-s", "-C", str(ROOT / "c_core"), f"BUILD={c_build}",
                                f"CLANG={clang}", "fuzz-build"], capture_output=True, text=True)
        for n in [n for n in names if n.startswith("c:")]:
            if r is None or r.returncode:
                why = (f"{clang} not found (Debian: apt-get install clang libclang-rt-14-dev)" if r is None
                       else "build failed: " + (r.stdout + r.stderr).strip()[-300:])
                results[n] = {"kind": "C, libFuzzer + ASan + UBSan", "skipped": why}
                continue
    for n in names:
        if n in results:
            continue
        short = n.split(":")[-1]
        print(f"== {n}: up to {args.seconds:g} s" + (f" or {runs:,} inputs" if runs else ""), flush=True)
        if n.startswith("c:"):
            res = run_c(short, args.seconds, runs, work, c_build)
        elif n.startswith("py:"):
            res = run_py(short, args.seconds, runs, work)
        else:
            res = run_puck(args.seconds, runs, work)
        results[n] = res
        print(f"   {_fmt(res.get('runs'))} inputs in {res.get('seconds', 0):.0f} s, cov {res.get('cov') or '-'}"
              f", ft {res.get('ft') or '-'}: " + (res.get("crash") or res.get("skipped") or "nothing found"),
              flush=True)
    text = report(results, args.seconds, runs, started, work)
    args.reports.mkdir(parents=True, exist_ok=True)
    (args.reports / "fuzz.md").write_text(text)
    (args.reports / "fuzz.json").write_text(json.dumps(results, indent=1, default=str))
    print()
    print(text)
    print(f"written: {args.reports / 'fuzz.md'}")
    return 1 if any(r.get("crash") for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

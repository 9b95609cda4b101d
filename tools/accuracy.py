"""Rep-counting accuracy on every labelled recording in ../shared/data.

    python tools/accuracy.py [--data DIR] [--only SUBSTR] [--json]

Runs the SDK's detect() (the C core) twice per recording: with the truth
target and with --target auto, and prints one table per mode.

Per exercise (synthetic recordings, truth has count and peak_times_s):
- exact: share of recordings whose rep count equals the truth count
- +-1: share within one rep
- false: reps with no truth peak between their start and end (widened by
  FALSE_TOL_S = 0.5 s each side): a rep counted in rest, summed over recordings
- peak err: median |t_peak - nearest truth peak| of the other reps, ms

Real recordings (truth has windows, e.g. real-uci-physio): reps are assigned
to a window by their peak time; "exact" is the first (correct) window counted
exactly as the truth says, "+-1" within one, per-window counts are listed.

A third table cuts each real recording into its windows (UCI: the protocol's
correct, too_fast and low_amplitude blocks) and runs every block as a set of
its own with --target auto: the block's own reps must teach the target, as in
a patient's set (first reps smaller or larger, fast reps with short rests,
posture drift). One row per block kind, exact and +-1 against the window count.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
FALSE_TOL_S = 0.5
# A recording's truth target is the patient's goal as the recording's maker
# meant it: the synthetic reps reach 70-130% of it and its partial reps at most
# 30%; a real block's is the median peak of its correct reps. A rep is a
# movement that reaches the target, so the target that counts the truth's reps
# as reps is half of it (where the counting rule's ON level used to sit).
TRUTH_REACH = 0.5

sys.path.insert(0, str(ROOT / "host_sdk"))
from openpuck.offline.detect import detect, read_csv  # noqa: E402


def recordings(data: Path = DATA, only: str = "") -> list[tuple[Path, dict]]:
    out = []
    for truth in sorted(data.glob("*/*.truth.json")):
        csv = truth.with_name(truth.name[:-len(".truth.json")] + ".csv")
        if csv.exists() and only in csv.name:
            out.append((csv, json.loads(truth.read_text())))
    return out


def score(det, truth: dict) -> dict:
    """Scores of one detection against its truth (see the module doc)."""
    reps = det.reps
    res = {"count": len(reps), "partial": len(det.partials), "target_used": det.target}
    if "windows" in truth:
        counts = []
        for w in truth["windows"]:
            lo = w["from_s"]
            hi = w["to_s"] if w["to_s"] is not None else float("inf")
            counts.append(sum(1 for r in reps if lo <= r.t_peak < hi))
        res.update(kind="real", truth=truth["windows"][0]["count"], got=counts[0],
                   windows=counts, window_truth=[w["count"] for w in truth["windows"]])
        return res
    if "peak_times_s" not in truth:  # a real set counted as a whole (real-spar-dev)
        res.update(kind="real", truth=truth["count"], got=len(reps), windows=[len(reps)],
                   window_truth=[truth["count"]])
        return res
    peaks = truth["peak_times_s"]
    errs, false = [], 0
    for r in reps:
        if not any(r.t_start - FALSE_TOL_S <= p <= r.t_end + FALSE_TOL_S for p in peaks):
            false += 1
        else:
            errs.append(min(abs(r.t_peak - p) for p in peaks))
    res.update(kind="synthetic", truth=truth["count"], got=len(reps), false=false, peak_errs=errs,
               truth_partial=truth.get("partial_reps", 0))
    return res


def evaluate(mode: str, data: Path = DATA, only: str = "", cache: dict | None = None) -> list[dict]:
    """One result dict per recording; mode is "truth" or "auto"."""
    results = []
    for csv, truth in recordings(data, only):
        arrays = cache.get(csv) if cache is not None else None
        if arrays is None:
            arrays = read_csv(csv)
            if cache is not None:
                cache[csv] = arrays
        target = truth["target"] * TRUTH_REACH if mode == "truth" and truth["target"] else "auto"
        det = detect(arrays, exercise=truth["exercise"], target=target)
        r = score(det, truth)
        r.update(name=csv.stem, set=csv.parent.name, exercise=truth["exercise"], mode=mode,
                 truth_target=truth["target"])
        results.append(r)
    return results


def evaluate_blocks(data: Path = DATA, only: str = "", cache: dict | None = None) -> list[dict]:
    """Every window of every real recording run as its own set, target auto."""
    results = []
    for csv, truth in recordings(data, only):
        if "windows" not in truth:
            continue
        arrays = cache.get(csv) if cache is not None else None
        if arrays is None:
            arrays = read_csv(csv)
            if cache is not None:
                cache[csv] = arrays
        t = arrays["t"]
        for w in truth["windows"]:
            lo = w["from_s"]
            hi = w["to_s"] if w["to_s"] is not None else float("inf")
            m = (t >= lo) & (t < hi)
            if not m.any():
                continue
            det = detect({k: v[m] for k, v in arrays.items()}, exercise=truth["exercise"], target="auto")
            results.append(dict(name=csv.stem, set=csv.parent.name, exercise=truth["exercise"], block=w["kind"],
                                subject=truth.get("subject"), kind="block", got=len(det.reps), truth=w["count"],
                                partial=len(det.partials), target_used=det.target, truth_target=truth["target"]))
    return results


def block_table(results: list[dict]) -> str:
    lines = [f"{'set':<16} {'block':<19} {'n':>3} {'exact':>6} {'+-1':>6}   counts (truth)"]
    kinds = list(dict.fromkeys(r["block"] for r in results))
    for s in sorted({r["set"] for r in results}):
        for k in kinds + ["ALL"]:
            rs = [r for r in results if r["set"] == s and (k == "ALL" or r["block"] == k)]
            if not rs:
                continue
            exact = sum(r["got"] == r["truth"] for r in rs)
            pm1 = sum(abs(r["got"] - r["truth"]) <= 1 for r in rs)
            counts = f"({exact}/{len(rs)} exact)" if k == "ALL" else " ".join(str(r["got"]) for r in rs) + \
                f" ({rs[0]['truth']})"
            lines.append(f"{s:<16} {k:<19} {len(rs):>3} {exact / len(rs):>6.0%} {pm1 / len(rs):>6.0%}   {counts}")
    return "\n".join(lines)


def block_details(results: list[dict]) -> str:
    return "\n".join(f"  {r['name']} {r['block']}: got {r['got']} truth {r['truth']} (target "
                     f"{r['target_used'] if r['target_used'] else 'none'}, partial {r['partial']})"
                     for r in results if r["got"] != r["truth"])


def table(results: list[dict]) -> str:
    rows = defaultdict(list)
    for r in results:
        rows[(r["set"], r["exercise"])].append(r)
    lines = [f"{'set':<16} {'exercise':<19} {'n':>3} {'exact':>6} {'+-1':>6} {'false':>6} {'peak err':>9}"]
    for (s, ex), rs in sorted(rows.items()):
        exact = sum(r["got"] == r["truth"] for r in rs) / len(rs)
        pm1 = sum(abs(r["got"] - r["truth"]) <= 1 for r in rs) / len(rs)
        false = sum(r.get("false", 0) for r in rs) if rs[0]["kind"] == "synthetic" else "-"
        errs = [e for r in rs for e in r.get("peak_errs", [])]
        perr = f"{1000 * statistics.median(errs):.0f} ms" if errs else "-"
        lines.append(f"{s:<16} {ex:<19} {len(rs):>3} {exact:>6.0%} {pm1:>6.0%} {false!s:>6} {perr:>9}")
    for s in sorted({r["set"] for r in results}):
        rs = [r for r in results if r["set"] == s]
        exact = sum(r["got"] == r["truth"] for r in rs)
        pm1 = sum(abs(r["got"] - r["truth"]) <= 1 for r in rs)
        lines.append(f"{s:<16} {'ALL':<19} {len(rs):>3} {exact / len(rs):>6.0%} {pm1 / len(rs):>6.0%}"
                     f"   ({exact}/{len(rs)} exact)")
    return "\n".join(lines)


def details(results: list[dict]) -> str:
    out = []
    for r in results:
        if r["got"] != r["truth"]:
            extra = f" windows {r['windows']} of {r['window_truth']}" if r["kind"] == "real" else \
                f" false {r['false']}"
            tu = f"{r['target_used']:.1f}" if r["target_used"] else "none"
            out.append(f"  {r['name']}: got {r['got']} truth {r['truth']} (target {tu},"
                       f" truth target {r['truth_target']}){extra}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--only", default="", help="only recordings whose name holds this")
    ap.add_argument("--mode", choices=("both", "truth", "auto"), default="both")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="list the recordings counted wrong")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"accuracy: no data at {args.data}", file=sys.stderr)
        return 1
    cache: dict = {}
    modes = ("truth", "auto") if args.mode == "both" else (args.mode,)
    allres = {}
    for mode in modes:
        res = evaluate(mode, args.data, args.only, cache)
        allres[mode] = res
        if not args.json:
            print(f"\n== target: {'truth (the patient target of each recording)' if mode == 'truth' else 'auto'}")
            print(table(res))
            if args.verbose:
                print(details(res))
    if args.mode in ("both", "auto"):
        res = evaluate_blocks(args.data, args.only, cache)
        if res:
            allres["blocks"] = res
            if not args.json:
                print("\n== real recordings cut into their blocks, each run as its own set, target: auto")
                print(block_table(res))
                if args.verbose:
                    print(block_details(res))
    if args.json:
        print(json.dumps(allres, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())

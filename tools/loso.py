"""Leave-one-subject-out accuracy on the real sets of ../shared/data.

    python tools/loso.py [--data DIR] [--markdown docs/accuracy.md] [--json] [-v]

What is scored: every real set with --target auto, as a patient without a
calibration would be counted: each real-spar-dev recording (a set of 20) and
each protocol block of each real-uci-physio recording run as a set of its own
(correct, too_fast, low_amplitude: 10 each). A person is (data set, subject).

What leave-one-subject-out means here: the detector's tunable constants that
a config can set (GRID: the stillness threshold and the hysteresis of a rep's end)
are chosen, for each person, on the sets of every other person (most exact
counts, then most within +-1, then the catalogue default), and only then is
that person's set counted. The compile-time rules of c_core/op_detect.c (the
35% turn, the 0.2 s still end, the axis learning) are not refitted per fold:
they were designed on all the development sets, so the figures here are an
upper bound of what unseen people will give, and the held-out judgement is
the real one. Synthetic sets are reported apart, with the catalogue defaults.
"""
from __future__ import annotations

import argparse
import datetime
import itertools
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import accuracy  # noqa: E402

from openpuck.offline.detect import detect, read_csv  # noqa: E402

GRID = {"still_mdps": (3000, 4000, 5000), "hyst_pct": (3, 5, 8)}
DEFAULT = {"still_mdps": 4000, "hyst_pct": 5}
# real-spar-dev protocol codes and what they are
MOVEMENTS = {"ABD": "shoulder abduction", "FEL": "forward elevation", "ROW": "bent-over row",
             "TRAP": "lower trapezius band row", "IR": "internal rotation (band)",
             "ER": "external rotation (band)"}


def configs() -> list[dict]:
    keys = list(GRID)
    return [dict(zip(keys, vals)) for vals in itertools.product(*(GRID[k] for k in keys))]


def real_sets(data: Path = accuracy.DATA, cache: dict | None = None) -> list[dict]:
    """Every real set: name, set, person, exercise, movement, truth, and the arrays."""
    cache = {} if cache is None else cache
    out = []
    for csv, truth in accuracy.recordings(data):
        if "peak_times_s" in truth or "subject" not in truth:
            continue
        arrays = cache.get(csv)
        if arrays is None:
            arrays = cache[csv] = read_csv(csv)
        person = f"{csv.parent.name}/s{truth['subject']}"
        if "windows" in truth:
            t = arrays["t"]
            for w in truth["windows"]:
                hi = w["to_s"] if w["to_s"] is not None else float("inf")
                m = (t >= w["from_s"]) & (t < hi)
                if m.any():
                    out.append(dict(name=f"{csv.stem}:{w['kind']}", set=csv.parent.name, person=person,
                                    exercise=truth["exercise"], movement=f"{truth['exercise']} {w['kind']}",
                                    truth=w["count"], arrays={k: v[m] for k, v in arrays.items()}))
        else:
            code = truth.get("source") or re.sub(r".*-", "", csv.stem)
            out.append(dict(name=csv.stem, set=csv.parent.name, person=person, exercise=truth["exercise"],
                            movement=MOVEMENTS.get(code, code), truth=truth["count"], arrays=arrays))
    return out


def count_all(sets: list[dict], cfgs: list[dict]) -> dict[int, list[int]]:
    """Reps counted in each set under each config (index into cfgs)."""
    return {i: [detect(s["arrays"], exercise=s["exercise"], target="auto", **c).count for s in sets]
            for i, c in enumerate(cfgs)}


def loso(sets: list[dict], cfgs: list[dict], counts: dict[int, list[int]]) -> list[dict]:
    """One row per set: the count under the config chosen without its person."""
    default = cfgs.index(DEFAULT)
    rows = []
    for person in sorted({s["person"] for s in sets}):
        train = [j for j, s in enumerate(sets) if s["person"] != person]

        def merit(i: int, train: list[int] = train) -> tuple:
            got = counts[i]
            return (sum(got[j] == sets[j]["truth"] for j in train),
                    sum(abs(got[j] - sets[j]["truth"]) <= 1 for j in train), i == default)
        best = max(range(len(cfgs)), key=merit)
        for j, s in enumerate(sets):
            if s["person"] == person:
                rows.append(dict(name=s["name"], set=s["set"], person=person, exercise=s["exercise"],
                                 movement=s["movement"], truth=s["truth"], got=counts[best][j],
                                 config=cfgs[best]))
    return rows


def group_table(rows: list[dict], key: str, title: str) -> list[str]:
    out = [f"| {title} | sets | exact | within +-1 | counts (truth) |", "|---|---|---|---|---|"]
    groups = defaultdict(list)
    for r in rows:
        groups[r[key]].append(r)
    for k in sorted(groups) + ["all"]:
        rs = rows if k == "all" else groups[k]
        exact = sum(r["got"] == r["truth"] for r in rs)
        pm1 = sum(abs(r["got"] - r["truth"]) <= 1 for r in rs)
        counts = "" if k == "all" else " ".join(str(r["got"]) for r in rs) + f" ({rs[0]['truth']})"
        out.append(f"| {'**all**' if k == 'all' else k} | {len(rs)} | {exact} ({exact / len(rs):.0%}) | "
                   f"{pm1} ({pm1 / len(rs):.0%}) | {counts} |")
    return out


def synthetic_table(data: Path, cache: dict) -> list[str]:
    out = ["| target | exercise | sets | exact | within +-1 | reps in rest |", "|---|---|---|---|---|---|"]
    for mode in ("auto", "truth"):
        res = [r for r in accuracy.evaluate(mode, data, "", cache) if r["kind"] == "synthetic"]
        by = defaultdict(list)
        for r in res:
            by[r["exercise"]].append(r)
        for ex in sorted(by) + ["all"]:
            rs = res if ex == "all" else by[ex]
            if not rs:
                continue
            exact = sum(r["got"] == r["truth"] for r in rs)
            pm1 = sum(abs(r["got"] - r["truth"]) <= 1 for r in rs)
            false = sum(r["false"] for r in rs)
            out.append(f"| {mode} | {'**all**' if ex == 'all' else ex} | {len(rs)} | {exact} ({exact / len(rs):.0%}) | "
                       f"{pm1} ({pm1 / len(rs):.0%}) | {false} |")
    return out


def scenario_table(seeds=range(7000, 7005)) -> list[str]:
    """tools/synth.py's scenarios, every exercise (slow_weak: the force ones), auto target."""
    import synth

    from openpuck import exercises
    out = ["| scenario | sets | exact | within +-1 | wrong (exercise, seed: got of truth) |", "|---|---|---|---|---|"]
    for sc, what in synth.SCENARIOS.items():
        names = [n for n in synth.NAMES if sc != "slow_weak" or exercises.get(n).signal == "force"]
        rows = []
        for name in names:
            for seed in seeds:
                arrays, truth = synth.generate(seed, name, "normal", 60, sc)
                rows.append((name, seed, detect(arrays, exercise=name, target="auto").count, truth["count"]))
        exact = sum(g == t for _, _, g, t in rows)
        pm1 = sum(abs(g - t) <= 1 for _, _, g, t in rows)
        wrong = ", ".join(f"{n} {s}: {g} of {t}" for n, s, g, t in rows if g != t) or "-"
        out.append(f"| {sc or 'plain'} ({what}) | {len(rows)} | {exact} ({exact / len(rows):.0%}) | "
                   f"{pm1} ({pm1 / len(rows):.0%}) | {wrong} |")
    for mode, what in (("hard", "100/200 Hz, dropped samples, 4-6 Hz tremor, drifting gyro bias of several dps"),
                       ("extreme", "hard, with targets 0.3-1.3 of the default, 0.5-6 s reps, long holds, "
                                   "gyro bias up to 13 dps")):
        rows = []
        for seed in range(5000, 5060):
            arrays, truth = synth.generate(seed, None, mode, 60)
            rows.append((truth["exercise"], seed, detect(arrays, exercise=truth["exercise"], target="auto").count,
                         truth["count"]))
        exact = sum(g == t for _, _, g, t in rows)
        pm1 = sum(abs(g - t) <= 1 for _, _, g, t in rows)
        wrong = ", ".join(f"{n} {s}: {g} of {t}" for n, s, g, t in rows if g != t) or "-"
        out.append(f"| mode {mode} ({what}), seeds 5000-5059 | {len(rows)} | {exact} ({exact / len(rows):.0%}) | "
                   f"{pm1} ({pm1 / len(rows):.0%}) | {wrong} |")
    return out


def commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "c_core", "protocol", "host_sdk"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return head + (" with uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def loso_rows(data: Path = accuracy.DATA, cache: dict | None = None) -> list[dict]:
    """Every real set counted leave-one-subject-out (see the module doc)."""
    sets = real_sets(data, cache)
    if not sets:
        raise SystemExit(f"loso: no real sets with a subject under {data}")
    cfgs = configs()
    return loso(sets, cfgs, count_all(sets, cfgs))


def report(data: Path = accuracy.DATA) -> tuple[str, list[dict]]:
    cache: dict = {}
    rows = loso_rows(data, cache)
    misses = [r for r in rows if r["got"] != r["truth"]]
    chosen = defaultdict(list)
    for r in rows:
        chosen[json.dumps(r["config"], sort_keys=True)].append(r["person"])
    lines = [
        "# Rep-counting accuracy",
        "",
        f"Generated by `make accuracy` (tools/loso.py) on {datetime.date.today().isoformat()} "
        f"at commit {commit()}. Do not edit by hand.",
        "",
        "Every real set is counted with `--target auto`. Leave-one-subject-out: the",
        f"config constants {', '.join(GRID)} (grid {GRID}) are chosen for each person on",
        "everyone else's sets, then that person's sets are counted. The detector's",
        "compile-time rules were designed on all of these sets: these figures are",
        "development figures, not a held-out result (see tools/loso.py).",
        "",
        "## Real sets, leave-one-subject-out, by movement",
        "",
        *group_table(rows, "movement", "movement"),
        "",
        "## By exercise",
        "",
        *group_table(rows, "exercise", "exercise"),
        "",
        "## By person",
        "",
        *group_table(rows, "person", "person"),
        "",
        "## Constants chosen per fold",
        "",
        *[f"- {cfg}: {', '.join(sorted(set(p)))}" for cfg, p in sorted(chosen.items())],
        "",
        "## Sets counted wrong",
        "",
        *([f"- {r['name']} ({r['movement']}): {r['got']} of {r['truth']}" for r in misses] or ["- none"]),
        "",
        "## Synthetic sets (../shared/data/synthetic-dev), catalogue defaults",
        "",
        *synthetic_table(data, cache),
        "",
        "## Synthetic scenarios (tools/synth.py, seeds 7000-7004, not the tests' seeds), auto target",
        "",
        *scenario_table(),
        "",
    ]
    return "\n".join(lines), rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=accuracy.DATA)
    ap.add_argument("--markdown", type=Path, help="also write the report here (docs/accuracy.md)")
    ap.add_argument("--json", action="store_true", help="print the per-set rows as JSON")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"loso: no data at {args.data} (the shared data sets are not on this machine)", file=sys.stderr)
        return 1
    text, rows = report(args.data)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
        print(f"wrote {args.markdown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

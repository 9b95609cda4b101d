"""Rows whose hand twists twice per movement (issue 22, item 2): a model and its counts.

    python tools/rows.py [--seeds 7000-7009] [--scenario NAME] [-v]

On held-out real sets (a watch on the wrist), dumbbell and band rows were
counted about twice: the forearm turned out and back on the pull and out and
back again on the return, each twist an excursion of the rotation signal,
while the hand travelled 15-35 cm along the line of pull and back once.

The model of one set (ROW_SCENARIOS), in the terms of tools/synth.py:
- the forearm points along the line of pull: down for a bent-over dumbbell
  row (the twist axis is vertical: gravity does not see the twist), level
  toward the band's anchor for a band row; the hand is pulled back along a
  direction within 25 degrees of the forearm and pushed forward again
  (minimum jerk, a hold at the far end), once per movement;
- the forearm twists about its own axis: twice per movement, out and back
  during the pull and out and back the same way during the return
  (``double_*``), or once, out during the pull and back during the return
  (``single_*``), 1.15-1.6x the set's target;
- the puck sits in the hand in a random orientation; slow postural wander,
  tremor (4-10 Hz, its own lever arm), gyro and accelerometer bias, noise
  and quantisation as synth.py's normal mode; 50 Hz (a watch) or 100-200 Hz;
- ``*_fast``: back-to-back movements of 0.9-1.5 s with 0-0.3 s between them.

The truth marks every movement a rep (its twist reaches the target):
movements.score_set() scores a set, one detection per movement.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "host_sdk"))
import movements  # noqa: E402
import synth  # noqa: E402
from synth import G, min_jerk, q_conj, q_exp, q_mul, q_rot, random_unit, smooth_noise  # noqa: E402

from openpuck import exercises as catalogue  # noqa: E402
from openpuck.offline.detect import detect  # noqa: E402

ROW_SCENARIOS = {
    "double_twist": "the forearm twists out and back on the pull and again on the return; rests of 0.8-3 s",
    "double_twist_fast": "the same, back to back: 0.9-1.5 s a movement, 0-0.3 s between movements",
    "single_twist": "the forearm twists out on the pull and back on the return; rests of 0.8-3 s",
    "single_twist_fast": "the same, back to back",
}
SEEDS = range(7000, 7010)


def row_script(rng: np.random.Generator, scenario: str) -> tuple[list[tuple], float]:
    """(t0, pull, hold, ret, travel_m, twist share of the target, the return's twist against the
    pull's) per movement, and the set's length (s)."""
    if scenario not in ROW_SCENARIOS:
        raise ValueError(f"unknown row scenario {scenario!r}: one of {', '.join(ROW_SCENARIOS)}")
    fast = scenario.endswith("_fast")
    t = rng.uniform(1.0, 3.0)
    moves = []
    for _ in range(int(rng.integers(8, 16))):
        if fast:
            pull, hold, ret, pause = rng.uniform(0.4, 0.7), rng.uniform(0.0, 0.1), rng.uniform(0.45, 0.7), \
                rng.uniform(0.0, 0.3)
        else:
            pull, hold, ret, pause = rng.uniform(0.7, 1.3), rng.uniform(0.0, 0.8), rng.uniform(0.8, 1.5), \
                rng.uniform(0.8, 3.0)
        moves.append((t, pull, hold, ret, rng.uniform(0.15, 0.35), rng.uniform(1.15, 1.6), rng.uniform(0.85, 1.15)))
        t += pull + hold + ret + pause
    return moves, t + rng.uniform(1.5, 3.0)


def _bump(s: np.ndarray) -> np.ndarray:
    """0 -> 1 -> 0 over s in [0, 1] with zero slope at both ends (0 outside)."""
    s = np.clip(s, 0.0, 1.0)
    return np.sin(np.pi * s) ** 2


def paths(moves: list[tuple], tf: np.ndarray, double: bool, target: float) -> tuple[np.ndarray, np.ndarray]:
    """The hand's travel along the line of pull (m) and the twist (deg) at times tf."""
    x = np.zeros_like(tf)
    twist = np.zeros_like(tf)
    for t0, pull, hold, ret, travel, share, again in moves:
        back = t0 + pull + hold
        x += travel * np.where(tf < back, min_jerk((tf - t0) / pull), 1.0 - min_jerk((tf - back) / ret))
        amp = share * target
        if double:
            twist += amp * (_bump((tf - t0) / pull) + again * _bump((tf - back) / ret))
        else:
            twist += amp * np.where(tf < back, min_jerk((tf - t0) / pull), 1.0 - min_jerk((tf - back) / ret))
    return x, twist


def generate(seed: int, scenario: str = "double_twist") -> tuple[dict, dict]:
    """(arrays, truth) of one row set, as synth.generate() gives them."""
    rng = np.random.default_rng(seed)
    target = round(catalogue.get("row").target * rng.uniform(0.7, 1.0), 2)
    moves, length = row_script(rng, scenario)
    rate = float(rng.choice([50.0, 100.0, 200.0]))
    fine = 5
    dt = 1.0 / (rate * fine)
    tf = np.arange(int(length / dt) + 2 * fine) * dt - fine * dt
    x, twist = paths(moves, tf, scenario.startswith("double"), target)
    up = np.array([0.0, 0.0, 1.0])
    az = rng.uniform(0, 2 * np.pi)
    level = np.array([np.cos(az), np.sin(az), 0.0])
    forearm = -up if rng.random() < 0.5 else level       # bent-over row, or band row toward the anchor
    side = np.cross(forearm, random_unit(rng))
    side /= np.linalg.norm(side)
    off = np.radians(rng.uniform(0, 25))
    # pulled back: up a hanging forearm, toward the body along a level one
    pull_dir = -(np.cos(off) * forearm + np.sin(off) * side)
    wander_deg = rng.uniform(0.5, 2.5)
    wander = np.stack([smooth_noise(rng, tf, 0.005, 0.05) for _ in range(3)], axis=1) * np.radians(wander_deg) / 2
    f_trem, a_trem = rng.uniform(4.0, 10.0), rng.uniform(0.03, 0.3)
    phase = 2 * np.pi * np.cumsum(f_trem * (1 + 0.03 * smooth_noise(rng, tf, 0.05, 0.2, 2))) * dt
    tremor = (np.radians(a_trem) * (1 + 0.5 * smooth_noise(rng, tf, 0.05, 0.3, 2)) * np.sin(phase))[:, None] * \
        random_unit(rng)
    r_t = random_unit(rng) * rng.uniform(0.01, 0.05)
    q_rest = q_exp(random_unit(rng) * rng.uniform(0, np.pi))     # any way round in the hand
    q_body = q_mul(q_mul(q_exp(tremor), q_mul(q_exp(np.radians(twist)[:, None] * forearm), q_exp(wander))),
                   np.broadcast_to(q_rest, (len(tf), 4)))
    pos = pull_dir * x[:, None] + np.cross(tremor, r_t)
    acc = np.gradient(np.gradient(pos, dt, axis=0), dt, axis=0) / G
    f_body = q_rot(q_conj(q_body), acc + up)
    dq = q_mul(q_conj(q_body[:-2]), q_body[2:])
    dq *= np.sign(dq[:, :1])
    w = np.zeros((len(tf), 3))
    w[1:-1] = np.degrees(2 * dq[:, 1:] / (2 * dt))
    w[0], w[-1] = w[1], w[-2]
    sel = np.arange(fine, len(tf) - fine, fine)
    sel = sel[tf[sel] < length]
    n = len(sel)
    accel = f_body[sel] * (1 + rng.normal(0, 0.01, 3)) + rng.normal(0, 0.015, 3) + \
        rng.normal(0, rng.uniform(0.002, 0.004), (n, 3))
    gyro = w[sel] * (1 + rng.normal(0, 0.01, 3)) + rng.normal(0, 0.8, 3) + rng.normal(0, rng.uniform(0.1, 0.4), (n, 3))
    accel = np.clip(np.rint(accel * 8192), -32768, 32767) / 8192
    gyro = np.clip(np.rint(gyro * 65.536), -32768, 32767) / 65.536
    t = tf[sel]
    t_off = t[0]
    arrays = {"t": np.round(t - t_off, 6), "accel": accel, "gyro": gyro, "force": np.zeros(n),
              "truth_signal": twist[sel]}
    movements = [{"kind": "rep", "t_start": round(float(m[0] - t_off), 3),
                  "t_peak": round(float(m[0] + m[1] + 0.5 * m[2] - t_off), 3),
                  "t_end": round(float(m[0] + m[1] + m[2] + m[3] - t_off), 3),
                  "amplitude": round(float(m[5] * target), 3)} for m in moves]
    truth = {"exercise": "row", "signal": "rotation", "scenario": scenario, "target": target,
             "count": len(moves), "partial_reps": 0, "movements": movements, "rate_hz": rate, "seed": seed,
             "mode": "normal", "hard": False, "bent_over": bool(forearm[2] < 0),
             "travel_m": [round(float(m[4]), 3) for m in moves]}
    return arrays, truth


def run(seeds=SEEDS, scenarios=tuple(ROW_SCENARIOS), modes=("target", "auto")) -> list[dict]:
    """One row per (scenario, seed, mode): movements.score_set()'s keys."""
    rows = []
    for sc in scenarios:
        for seed in seeds:
            arrays, truth = generate(seed, sc)
            for mode in modes:
                det = detect(arrays, exercise="row", target=truth["target"] if mode == "target" else "auto")
                rows.append(dict(movements.score_set(det, truth), scenario=sc, seed=seed, mode=mode,
                                 bent_over=truth["bent_over"], rate=truth["rate_hz"]))
    return rows


def table(rows: list[dict]) -> list[str]:
    """Markdown: one line per scenario and target mode."""
    out = ["| scenario | target | sets | reps counted / movements | reps exact | reps +-1 | extra events |",
           "|---" * 7 + "|"]
    for sc in dict.fromkeys(r["scenario"] for r in rows):
        for mode in dict.fromkeys(r["mode"] for r in rows):
            rs = [r for r in rows if r["scenario"] == sc and r["mode"] == mode]
            got, want = sum(r["reps"] for r in rs), sum(r["truth_reps"] for r in rs)
            out.append(f"| {sc} | {mode} | {len(rs)} | {got} / {want} ({got / want:.2f}x) | "
                       f"{sum(r['reps'] == r['truth_reps'] for r in rs)} | "
                       f"{sum(abs(r['reps'] - r['truth_reps']) <= 1 for r in rs)} | {sum(r['extra'] for r in rs)} |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default=f"{SEEDS.start}-{SEEDS.stop - 1}", help="e.g. 7000-7009")
    ap.add_argument("--scenario", default=None, choices=list(ROW_SCENARIOS))
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per set")
    args = ap.parse_args(argv)
    rows = run(synth.seed_range(args.seeds), [args.scenario] if args.scenario else tuple(ROW_SCENARIOS))
    print("\n".join(table(rows)))
    if args.verbose:
        for r in rows:
            print(f"  {r['scenario']} {r['seed']} ({r['mode']}, {'bent-over' if r['bent_over'] else 'band'}, "
                  f"{r['rate']:.0f} Hz): reps {r['reps']} of {r['truth_reps']}, partials {r['partials']}, "
                  f"extra {r['extra']}, missed {r['missed']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

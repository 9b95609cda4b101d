"""Physically based synthetic puck recordings with ground truth.

    python tools/synth.py OUT_DIR [--seeds 3000-3099] [--exercise NAME]
                          [--mode normal|hard|extreme] [--duration S]
    python tools/synth.py OUT_DIR --uci DIR [--seeds 6000-6014]   # real-like variants

Writes NAME-SEED.csv (../shared/formats/samples-csv.md) and NAME-SEED.truth.json
(exercise, signal, target, count, partial_reps, rate_hz, peak_times_s, seed,
hard, mode), the format of ../shared/data/synthetic-dev.

The model, one recording:
1. A script of the set: rest, then reps (minimum-jerk out and back, 70-130 %
   of the patient's target, a hold at the top), rests between them, partial
   reps (at most 30 % of the target), a rest at the end.
2. A posture: the limb turns about a joint axis (horizontal for tilt
   exercises, vertical for trunk rotation) by the scripted angle; slow postural
   wander and tremor are small extra rotations about random axes. The puck
   sits on the limb at a lever arm from the joint, in a random orientation
   (its axes are not the joint's).
3. Physics: body-frame specific force = R^T (up + a / g) with a the puck's
   linear acceleration (second derivative of its position on the lever arm),
   body angular rate from the orientation's derivative; the force pad reads a
   drifting resting baseline plus the scripted presses.
4. Sensor: scale errors, bias (gyro bias drifts in hard modes), white noise,
   saturation at +-4 g / +-500 dps, quantisation (1/8192 g, 1/65.536 dps,
   0.05 N), dropped samples (single and bursts) in hard modes.

Modes: normal (200 Hz, mild tremor, small bias); hard (100 or 200 Hz, drops,
4-6 Hz tremor up to ~1 degree, gyro bias of several dps drifting); extreme
(hard plus other lever arms, 0.5-6 s reps, long holds, partial reps near OFF,
targets far from the catalogue default).
``generate(seed, exercise=None, mode="normal", duration=None)`` returns
(arrays, truth) in memory (arrays as openpuck.detect.read_csv gives them).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "host_sdk"))
from openpuck import csvio, exercises as catalogue  # noqa: E402

G = 9.80665
# name: what moves (force, or the joint axis: tilt = horizontal, heading =
# vertical, tilted), catalogue target, lever arm range (m) from the joint axis;
# all from the catalogue (protocol/exercises.toml)
_MOTION = {"horizontal": "tilt", "vertical": "heading", "tilted": "tilted"}
EXERCISES = {e.name: ("force" if e.signal == "force" else _MOTION[e.joint_axis], e.target, e.lever_arm_m)
             for e in catalogue.CATALOGUE}
# scenarios a set can follow (generate(..., scenario=)); "" is the plain one
SCENARIOS = {
    "": "rest, reps with rests between them, partial reps, rest",
    "back_to_back": "reps with no pause between them",
    "trimmed": "the recording starts with the first movement and ends on the last rep",
    "slow_weak": "a weak patient's slow reps: rising over 1.5-3 s to a small target, held",
    "bumps": "movement before the set: one or two small bumps (placing the ball, settling)",
}
NAMES = list(EXERCISES)
_DEBUG: dict = {}
HEADER = csvio.HEADER


# ---- quaternions (w, x, y, z), vectorised over the first axis ----------------
def q_mul(a, b):
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz,
                     aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw], axis=-1)


def q_conj(q):
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def q_exp(v):
    """Rotation vector(s) (rad) -> unit quaternion(s)."""
    v = np.asarray(v, dtype=float)
    ang = np.linalg.norm(v, axis=-1, keepdims=True)
    half = 0.5 * ang
    k = np.where(ang > 1e-12, np.sin(half) / np.where(ang > 1e-12, ang, 1.0), 0.5)
    return np.concatenate([np.cos(half), v * k], axis=-1)


def q_rot(q, v):
    """Rotate vector(s) v by q (body -> world when q is the body's orientation)."""
    qv = np.concatenate([np.zeros(v.shape[:-1] + (1,)), v], axis=-1)
    return q_mul(q_mul(q, qv), q_conj(q))[..., 1:]


def random_unit(rng, n=None):
    v = rng.normal(size=(3,) if n is None else (n, 3))
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def min_jerk(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (10 - 15 * x + 6 * x * x)


def smooth_noise(rng, t, fmin, fmax, n=4):
    """Zero-mean sum of n random sinusoids, unit RMS-ish, frequencies in [fmin, fmax] Hz."""
    out = np.zeros_like(t)
    for _ in range(n):
        out += np.sin(2 * np.pi * rng.uniform(fmin, fmax) * t + rng.uniform(0, 2 * np.pi))
    return out * np.sqrt(2.0 / n)


# ---- the script of a set ------------------------------------------------------
def script(rng, target, mode, duration=None, scenario=""):
    """List of (t0, up, hold, down, amplitude, is_rep) and the total length."""
    ext = mode == "extreme"
    hard = mode != "normal"
    n_reps = int(rng.integers(3, 16))
    t = rng.uniform(1.5, 4.0)
    moves = []
    partials_left = int(rng.integers(0, 4 if hard else 3))
    if scenario:
        return scenario_script(rng, target, scenario, n_reps, t, duration)
    for i in range(n_reps):
        if partials_left and rng.random() < 0.3:
            partials_left -= 1
            amp = target * (rng.uniform(0.2, 0.3) if ext else rng.uniform(0.08, 0.3))
            up = rng.uniform(0.4, 1.5)
            moves.append((t, up, rng.uniform(0, 0.8), up * rng.uniform(0.8, 1.3), amp, False))
            t += moves[-1][1] + moves[-1][2] + moves[-1][3] + rng.uniform(0.8, 3.0)
        amp = target * rng.uniform(0.7, 1.3)
        total = rng.uniform(0.5, 6.0) if ext else rng.uniform(1.2, 4.0)
        up = total * rng.uniform(0.4, 0.6)
        down = total - up
        hold = rng.uniform(0, 10.0) if (ext and rng.random() < 0.3) else rng.uniform(0, 2.0)
        moves.append((t, up, hold, down, amp, True))
        t += up + hold + down + rng.uniform(0.5, 5.0 if hard else 4.0)
        if duration is not None and t > duration - 2.0:
            break
    while partials_left and rng.random() < 0.5:
        partials_left -= 1
        amp = target * rng.uniform(0.1, 0.3)
        up = rng.uniform(0.4, 1.5)
        moves.append((t, up, 0.3, up, amp, False))
        t += 2 * up + 0.3 + rng.uniform(0.8, 3.0)
    return moves, t + rng.uniform(1.5, 4.0)


def scenario_script(rng, target, scenario, n_reps, t, duration):
    """script() for the scenarios of SCENARIOS (no partial reps: the count is the point)."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}: one of {', '.join(k for k in SCENARIOS if k)}")
    n_reps = max(n_reps, 6)
    moves = []
    if scenario == "trimmed":
        t = 0.02
    if scenario == "bumps":
        for _ in range(int(rng.integers(1, 3))):
            up = rng.uniform(0.1, 0.2)
            moves.append((t, up, 0.0, up, target * rng.uniform(0.1, 0.3), False))
            t += 2 * up + rng.uniform(0.5, 2.0)
        t += rng.uniform(1.0, 3.0)
    for _ in range(n_reps):
        amp = target * rng.uniform(0.7, 1.3)
        if scenario == "slow_weak":
            up, hold, down, pause = rng.uniform(1.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0.8, 2.0), rng.uniform(1.0, 3.0)
        elif scenario == "back_to_back":
            total = rng.uniform(1.0, 2.5)
            up, hold, down, pause = total / 2, rng.uniform(0, 0.15), total / 2, rng.uniform(0, 0.1)
        else:
            total = rng.uniform(1.2, 3.0)
            up, hold, down, pause = total / 2, rng.uniform(0, 0.5), total / 2, rng.uniform(0.0, 1.0)
        moves.append((t, up, hold, down, amp, True))
        t += up + hold + down + pause
        if duration is not None and t > duration - 2.0:
            break
    if scenario == "trimmed":
        last = moves[-1]
        return moves, last[0] + last[1] + last[2] + last[3] * 0.95
    return moves, t + rng.uniform(1.5, 4.0)


def trajectory(moves, t):
    """The scripted excursion at times t (signal units) and the peak times."""
    x = np.zeros_like(t)
    peaks = []
    for t0, up, hold, down, amp, is_rep in moves:
        rise = min_jerk((t - t0) / up)
        fall = 1.0 - min_jerk((t - (t0 + up + hold)) / down)
        x += amp * np.where(t < t0 + up + hold, rise, fall)
        if is_rep:
            peaks.append(t0 + up + 0.5 * hold)
    return x, peaks


# ---- one recording ------------------------------------------------------------
def generate(seed: int, exercise: str | None = None, mode: str = "normal", duration: float | None = None,
             scenario: str = ""):
    rng = np.random.default_rng(seed)
    exercise = exercise or NAMES[(seed // 2) % len(NAMES)]  # both seed parities cover all
    signal, default, lever = EXERCISES[exercise]
    hard = mode != "normal"
    ext = mode == "extreme"
    rate = 200.0 if not hard else float(rng.choice([100.0, 200.0]))
    target = round(default * (rng.uniform(0.3, 1.3) if ext else rng.uniform(0.6, 1.15)), 2)
    if scenario == "slow_weak" and signal == "force":
        target = round(default * rng.uniform(0.1, 0.3), 2)   # 3-9 N of grip
    moves, length = script(rng, target, mode, duration, scenario)
    if duration is not None and scenario != "trimmed":
        length = min(length, duration)
        moves = [m for m in moves if m[0] + m[1] + m[2] + m[3] < length - 0.5]
    fine = 5                                  # physics on a 5x finer grid
    dt = 1.0 / (rate * fine)
    tf = np.arange(int(length / dt) + 2 * fine) * dt - fine * dt
    x, peaks = trajectory(moves, tf)
    peaks = [p for p in peaks if p < length]
    n_f = len(tf)

    # posture: joint rotation, wander, tremor
    if ext:
        lev = rng.uniform(0.02, 0.8) if exercise != "foot_press" else 0.0
    else:
        lev = rng.uniform(*lever)
    if signal == "heading":
        axis = np.array([0.0, 0.0, 1.0])
    elif signal == "tilted":   # about a near-vertical axis, leaning 5-35 degrees
        lean, az = np.radians(rng.uniform(5, 35)), rng.uniform(0, 2 * np.pi)
        axis = np.array([np.sin(lean) * np.cos(az), np.sin(lean) * np.sin(az), np.cos(lean)])
    else:
        az = rng.uniform(0, 2 * np.pi)
        axis = np.array([np.cos(az), np.sin(az), 0.0])
    r0 = np.cross(axis, random_unit(rng))
    if signal in ("heading", "tilted"):
        r0 = r0 - axis * (r0 @ axis)
    r0 = lev * r0 / max(np.linalg.norm(r0), 1e-9)
    if hard:   # any way round on the limb
        q_rest = q_exp(random_unit(rng) * rng.uniform(0, np.pi))
    else:      # roughly face up
        q_rest = q_exp(random_unit(rng) * np.radians(rng.uniform(0, 30)))
    if signal == "force":
        ang = np.zeros(n_f)
    else:
        ang = np.radians(x)
    wander_deg = rng.uniform(0.5, 4.0 if hard else 2.5)
    wander = np.stack([smooth_noise(rng, tf, 0.005, 0.05) for _ in range(3)], axis=1) * np.radians(wander_deg) / 2
    if signal == "heading":
        wander[:, 2] += smooth_noise(rng, tf, 0.005, 0.03) * np.radians(wander_deg)
    if hard:
        f_trem = rng.uniform(4.0, 6.0)
        a_trem = rng.uniform(0.2, 1.2 if ext else 1.0)
    else:
        f_trem = rng.uniform(4.0, 10.0)
        a_trem = rng.uniform(0.03, 0.3)
    if exercise == "foot_press":
        a_trem *= 0.1
        wander *= 0.2
    t_axis = random_unit(rng) + (axis if rng.random() < 0.5 else 0)  # often mostly about the joint
    t_axis /= np.linalg.norm(t_axis)
    moving = np.clip(np.abs(np.gradient(x, tf)) / (abs(target) + 1e-9), 0, 1)
    trem_env = (1 + 0.5 * smooth_noise(rng, tf, 0.05, 0.3, 2)) * (1 + moving)
    f_inst = f_trem * (1 + 0.03 * smooth_noise(rng, tf, 0.05, 0.2, 2))
    phase = 2 * np.pi * np.cumsum(f_inst) * dt
    tremor = (np.radians(a_trem) * trem_env * np.sin(phase))[:, None] * t_axis
    # tremor turns the hand about a point a few cm away (wrist, fingers), not
    # the whole limb about the joint: its own short lever arm
    r_t = random_unit(rng) * rng.uniform(0.01, 0.08 if hard else 0.05)
    q_joint = q_mul(q_exp(ang[:, None] * axis), q_exp(wander))
    q_body = q_mul(q_mul(q_exp(tremor), q_joint), np.broadcast_to(q_rest, (n_f, 4)))
    pos = q_rot(q_joint, np.broadcast_to(r0, (n_f, 3))) + np.cross(tremor, r_t)
    acc = np.gradient(np.gradient(pos, dt, axis=0), dt, axis=0) / G
    up = np.array([0.0, 0.0, 1.0])
    f_body = q_rot(q_conj(q_body), acc + up)
    dq = q_mul(q_conj(q_body[:-2]), q_body[2:])          # central difference
    dq *= np.sign(dq[:, :1])
    w = np.zeros((n_f, 3))
    w[1:-1] = 2 * dq[:, 1:] / (2 * dt)
    w[0], w[-1] = w[1], w[-2]
    w = np.degrees(w)
    _DEBUG.update(q_body=q_body, w=w, tf=tf, x=x)

    # force pad
    if exercise == "foot_press":
        base0, drift = rng.uniform(15, 50), rng.uniform(2, 12)
    elif exercise == "grip_squeeze":
        base0, drift = rng.uniform(0.2, 6), rng.uniform(0.3, 3 if not hard else 5)
    else:
        base0, drift = rng.uniform(1, 7), rng.uniform(0.2, 1.5)
    baseline = base0 + drift * (smooth_noise(rng, tf, 0.005, 0.03) + 0.1 * smooth_noise(rng, tf, 0.05, 0.3)) / 1.5
    force = baseline.copy()
    if signal == "force":
        force += x * (1 + 0.02 * np.sin(2 * np.pi * f_trem * tf))

    # down to the sample times
    sel = np.arange(fine, n_f - fine, fine)
    t = tf[sel]
    sel = sel[t < length]
    t = tf[sel]
    fb, wb, fo = f_body[sel], w[sel], force[sel]
    n = len(t)
    # sensor
    a_scale = 1 + rng.normal(0, 0.01, 3)
    g_scale = 1 + rng.normal(0, 0.02 if hard else 0.01, 3)
    a_bias = rng.normal(0, 0.015, 3)
    g_bias = rng.normal(0, 3.5 if hard else 0.8, 3)
    if hard:
        g_bias = g_bias + np.clip(rng.normal(0, 1.5, 3), -4, 4)
        g_drift = np.stack([smooth_noise(rng, t, 0.003, 0.02) for _ in range(3)], axis=1) * rng.uniform(0.3, 1.5)
    else:
        g_drift = np.zeros((n, 3))
    a_noise = rng.uniform(0.002, 0.006 if hard else 0.004)
    g_noise = rng.uniform(0.1, 1.0 if hard else 0.4)
    f_noise = rng.uniform(0.05, 0.4 if hard else 0.25)
    accel = fb * a_scale + a_bias + rng.normal(0, a_noise, (n, 3))
    gyro = wb * g_scale + g_bias + g_drift + rng.normal(0, g_noise, (n, 3))
    fo = fo + rng.normal(0, f_noise, n)
    accel = np.clip(np.rint(accel * 8192), -32768, 32767) / 8192
    gyro = np.clip(np.rint(gyro * 65.536), -32768, 32767) / 65.536
    fo = np.clip(np.rint(fo / 0.05), 0, 65535) * 0.05
    keep = np.ones(n, dtype=bool)
    if hard:
        keep &= rng.random(n) > rng.uniform(0.001, 0.01)      # single drops
        for _ in range(rng.poisson(length / rng.uniform(8, 30))):   # bursts
            i = int(rng.integers(1, n - 1))
            keep[i:i + int(rng.integers(2, int(0.3 * rate)))] = False
        keep[0] = True
    t, accel, gyro, fo = t[keep], accel[keep], gyro[keep], fo[keep]
    arrays = {"t": np.round(t - t[0], 6), "accel": accel, "gyro": gyro, "force": fo,
              "truth_signal": x[sel][keep]}   # the scripted excursion (not written)
    t_off = t[0]
    truth = {
        "exercise": exercise,
        "signal": {"force": "force", "tilt": "tilt", "heading": "yaw", "tilted": "rotation"}[signal],
        "scenario": scenario,
        "target": target,
        "count": len(peaks),
        "partial_reps": sum(1 for m in moves if not m[5]),
        "rate_hz": rate,
        "peak_times_s": [round(p - t_off, 3) for p in peaks],
        "seed": seed,
        "hard": hard,
        "mode": mode,
        "lever_m": round(float(lev), 3),
        "tremor": [round(float(f_trem), 2), round(float(a_trem), 3)],
        "gyro_bias_dps": [round(float(b), 2) for b in g_bias],
    }
    return arrays, truth


# ---- real-like variants of real recordings -------------------------------------
def uci_variant(csv: Path, seed: int):
    """A real recording resampled to 50 or 100 Hz, turned to a random sensor
    orientation, with an added gyro bias and dropped samples."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "host_sdk"))
    from openpuck.detect import read_csv
    rng = np.random.default_rng(seed)
    a = read_csv(csv)
    truth = json.loads(csv.with_name(csv.stem + ".truth.json").read_text())
    rate = float(rng.choice([50.0, 100.0]))
    t = np.arange(a["t"][0], a["t"][-1], 1.0 / rate)
    res = lambda m: np.column_stack([np.interp(t, a["t"], m[:, i]) for i in range(m.shape[1])])  # noqa: E731
    q = q_exp(random_unit(rng) * rng.uniform(0, np.pi))
    accel = q_rot(np.broadcast_to(q, (len(t), 4)), res(a["accel"]))
    gyro = q_rot(np.broadcast_to(q, (len(t), 4)), res(a["gyro"])) + rng.normal(0, 2.5, 3)
    n = len(t)
    accel += rng.normal(0, 0.003, (n, 3))
    gyro += rng.normal(0, 0.3, (n, 3))
    accel = np.clip(np.rint(accel * 8192), -32768, 32767) / 8192
    gyro = np.clip(np.rint(gyro * 65.536), -32768, 32767) / 65.536
    keep = rng.random(n) > 0.005
    for _ in range(rng.poisson(t[-1] / 15)):
        i = int(rng.integers(1, n - 1))
        keep[i:i + int(rng.integers(2, int(0.25 * rate)))] = False
    keep[0] = True
    arrays = {"t": np.round(t[keep], 6), "accel": accel[keep], "gyro": gyro[keep], "force": np.zeros(keep.sum())}
    truth = dict(truth, rate_hz=rate, seed=seed, source=csv.name)
    return arrays, truth


def write(out: Path, name: str, arrays, truth) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = np.column_stack([arrays["t"], arrays["accel"], arrays["gyro"], arrays["force"]])
    np.savetxt(out / f"{name}.csv", data, delimiter=",", header=HEADER, comments="",
               fmt=["%.3f", "%.5f", "%.5f", "%.5f", "%.3f", "%.3f", "%.3f", "%.2f"])
    (out / f"{name}.truth.json").write_text(json.dumps(truth, indent=1) + "\n")


def seed_range(s: str) -> list[int]:
    out = []
    for part in s.split(","):   # "3000-3199:2": every second seed
        part, _, step = part.partition(":")
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1, int(step or 1)))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seeds", default="3000-3015", help="e.g. 3000-3199:2,5000")
    ap.add_argument("--exercise", default=None, choices=NAMES)
    ap.add_argument("--mode", default="normal", choices=("normal", "hard", "extreme"))
    ap.add_argument("--duration", type=float, default=None, help="cut recordings to this length (s)")
    ap.add_argument("--scenario", default="", choices=list(SCENARIOS),
                    help="; ".join(f"{k or '(none)'}: {v}" for k, v in SCENARIOS.items()))
    ap.add_argument("--uci", type=Path, default=None, help="make real-like variants of the recordings here")
    args = ap.parse_args(argv)
    seeds = seed_range(args.seeds)
    if args.uci:
        files = sorted(args.uci.glob("*.csv"))
        for i, seed in enumerate(seeds):
            csv = files[i % len(files)]
            arrays, truth = uci_variant(csv, seed)
            write(args.out, f"{csv.stem}-r{seed}", arrays, truth)
        return 0
    for seed in seeds:
        arrays, truth = generate(seed, args.exercise, args.mode, args.duration, args.scenario)
        write(args.out, f"{truth['exercise']}-{seed}", arrays, truth)
    return 0


if __name__ == "__main__":
    sys.exit(main())

# Motion sources of the virtual puck: what the patient does to the puck.
# sample(t_s) -> (ax, ay, az [g], gx, gy, gz [dps], force [N]) in the puck's
# axes (see exercises.md: z out of the top face, x to the marked front).
# Time t_s runs from 0 when the IMU is first switched on (see sim_hw).
#
#   Recording(path)   a CSV as in formats/samples-csv.md, linearly
#                     interpolated; after its end the last row holds
#   Scenario(name)    a built-in movement with known true counts (SCENARIOS)
import math

from openpuck_fw import msgtable as mt

HEADER = mt.CSV_HEADER


class Recording:
    def __init__(self, path):
        self._f = open(path)
        head = self._f.readline().strip()
        if head != HEADER:
            raise ValueError("%s: not a puck samples CSV (header %r)" % (path, head))
        self._a = self._row()
        if self._a is None:
            raise ValueError("%s: no samples" % path)
        self._t0 = self._a[0]
        self._b = self._row()
        self.duration_s = None

    def _row(self):
        while True:
            line = self._f.readline()
            if not line:
                return None
            line = line.strip()
            if line:
                return [float(x) for x in line.split(",")]

    def sample(self, t_s):
        t = t_s + self._t0
        while self._b is not None and self._b[0] <= t:
            self._a = self._b
            self._b = self._row()
        a = self._a
        b = self._b
        if b is None:
            return (a[1], a[2], a[3], a[4], a[5], a[6], a[7])
        if t <= a[0]:
            return (a[1], a[2], a[3], a[4], a[5], a[6], a[7])
        w = (t - a[0]) / (b[0] - a[0])
        return tuple(a[i] + (b[i] - a[i]) * w for i in range(1, 8))


# ---------------------------------------------------------------- scenarios

class _Noise:
    """Deterministic noise (a 31-bit LCG; roughly Gaussian from 4 uniforms)."""

    def __init__(self, seed):
        self.s = seed & 0x7FFFFFFF

    def u(self):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return self.s / 2147483648.0

    def g(self, sigma):
        return (self.u() + self.u() + self.u() + self.u() - 2.0) * 1.732 * sigma


def _bump(t, rise_s, hold_s, fall_s):
    """0..1..0 raised-cosine profile and its time derivative (1/s)."""
    if t <= 0:
        return 0.0, 0.0
    if t < rise_s:
        x = math.pi * t / rise_s
        return 0.5 - 0.5 * math.cos(x), 0.5 * math.sin(x) * math.pi / rise_s
    t -= rise_s
    if t < hold_s:
        return 1.0, 0.0
    t -= hold_s
    if t < fall_s:
        x = math.pi * t / fall_s
        return 0.5 + 0.5 * math.cos(x), -0.5 * math.sin(x) * math.pi / fall_s
    return 0.0, 0.0


def _bump_acc(t, rise_s, hold_s, fall_s):
    """The second time derivative of _bump's profile (1/s^2)."""
    if t <= 0:
        return 0.0
    if t < rise_s:
        return 0.5 * math.cos(math.pi * t / rise_s) * (math.pi / rise_s) ** 2
    t -= rise_s + hold_s
    if 0 <= t < fall_s:
        return -0.5 * math.cos(math.pi * t / fall_s) * (math.pi / fall_s) ** 2
    return 0.0


def _rotate(v, k, ang):
    """Rodrigues: v rotated by ang (rad) about unit axis k."""
    c = math.cos(ang)
    s = math.sin(ang)
    kx, ky, kz = k
    vx, vy, vz = v
    dot = kx * vx + ky * vy + kz * vz
    cx = ky * vz - kz * vy
    cy = kz * vx - kx * vz
    cz = kx * vy - ky * vx
    return (vx * c + cx * s + kx * dot * (1 - c),
            vy * c + cy * s + ky * dot * (1 - c),
            vz * c + cz * s + kz * dot * (1 - c))


def _unit(v):
    n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    return (v[0] / n, v[1] / n, v[2] / n)


BEND = 0   # (BEND, degrees, rise_s, hold_s, fall_s)
GRIP = 1   # (GRIP, newtons, rise_s, hold_s, fall_s)
SLIDE = 2  # (SLIDE, mm, rise_s, hold_s, fall_s): the puck travels along `axis` and back


class Scenario:
    """A timeline of bends (rotations about one puck axis), slides (the puck
    travelling along one puck axis) and grips (force on the pad).

    up: gravity direction at rest in puck axes (how the puck is held);
    axis: the rotation axis of bends, the direction of slides; base_n: the
    holding force on the pad.
    """

    def __init__(self, name, moves, up=(0.0, 0.0, 1.0), axis=(0.0, 1.0, 0.0), base_n=0.0,
                 rest_s=1.6, lead_s=2.0, tail_s=2.5, seed=1):
        self.name = name
        self.up = _unit(up)
        self.axis = _unit(axis)
        self.base_n = base_n
        self.noise = _Noise(seed)
        self.gyro_bias = (0.4, -0.3, 0.2)   # dps: a real gyroscope is never zero at rest
        self.timeline = []                  # (t_start, kind, amplitude, rise, hold, fall)
        t = lead_s
        for m in moves:
            kind, amp, rise, hold, fall = m
            self.timeline.append((t, kind, amp, rise, hold, fall))
            t += rise + hold + fall + rest_s
        self.duration_s = t - rest_s + tail_s
        self._i = 0

    def sample(self, t_s):
        tl = self.timeline
        # moves never overlap: skip the ones that are over
        while self._i < len(tl) - 1 and t_s >= tl[self._i + 1][0]:
            self._i += 1
        ang = 0.0
        rate = 0.0
        slide = 0.0                                  # g along the axis
        force = self.base_n
        if tl:
            t0, kind, amp, rise, hold, fall = tl[self._i]
            p, dp = _bump(t_s - t0, rise, hold, fall)
            if kind == BEND:
                ang = math.radians(amp) * p
                rate = amp * dp                      # dps
            elif kind == SLIDE:
                slide = amp * 0.001 * _bump_acc(t_s - t0, rise, hold, fall) / 9.81
            else:
                force += amp * p
        n = self.noise
        # gravity seen by the turned puck: the rest direction turned by -angle
        gx, gy, gz = _rotate(self.up, self.axis, -ang)
        # a little linear acceleration from the hand (8 cm lever): tangential, small
        tang = 0.08 * math.radians(rate) * 0.3 / 9.81
        k = self.axis
        ax = gx + tang * (k[1] * self.up[2] - k[2] * self.up[1]) + slide * k[0] + n.g(0.003)
        ay = gy + tang * (k[2] * self.up[0] - k[0] * self.up[2]) + slide * k[1] + n.g(0.003)
        az = gz + tang * (k[0] * self.up[1] - k[1] * self.up[0]) + slide * k[2] + n.g(0.003)
        b = self.gyro_bias
        tremor = 0.3 * math.sin(2 * math.pi * 6.0 * t_s)
        wx = rate * k[0] + b[0] + tremor + n.g(0.15)
        wy = rate * k[1] + b[1] + n.g(0.15)
        wz = rate * k[2] + b[2] + n.g(0.15)
        f = force + n.g(0.05)
        return (ax, ay, az, wx, wy, wz, f if f > 0 else 0.0)


class Patient:
    """A patient doing whatever exercise the puck was set to (the scenario
    "patient", for home programmes): reps aimed a little past the target but
    no further than the patient can (a little over the catalogue's default
    target, a little more each set), the odd weak one (a partial rep), a rest
    between them. It follows the commands: the firmware calls on_exercise()
    on every set_exercise (boards/sim.py wires it). No end, no fixed counts."""

    PARTIAL_EVERY = 10     # about one attempt in ten falls short of the target

    def __init__(self, seed=3):
        self.noise = _Noise(seed)
        self.pick = _Noise(seed + 100)
        self.up = _HAND_UP
        self.axis = (0.0, 1.0, 0.0)
        self.base_n = 1.0
        self.gyro_bias = (0.4, -0.3, 0.2)
        self.kind = GRIP
        self.target = 20.0
        self.sets = 0
        self.capacity = 40.0
        self.move = (0.0, GRIP, 0.0, 0.1, 0.0, 0.1)   # (t_start, kind, amplitude, rise, hold, fall)
        self.t_free = 1.0         # motion time the next move may start

    def on_exercise(self, exercise_id, target_milli):
        e = mt.EXERCISES.get(exercise_id)
        if e is None:
            return
        self.kind = GRIP if e[mt.EX_SIGNAL] == mt.SIGNAL_FORCE else BEND
        self.target = target_milli / 1000 if target_milli else e[mt.EX_TARGET]
        self.sets += 1
        # what this patient can do: a little over the catalogue's default,
        # and a little more with each set (practice helps)
        self.capacity = e[mt.EX_TARGET] * 1.3 * (1.0 + 0.03 * self.sets)

    def _next(self, t):
        if int(self.pick.u() * self.PARTIAL_EVERY) == 0:
            amp = 0.5 * self.target                # leaves rest, short of the target
        else:
            # aims a little past the target, but no further than today's capacity
            amp = min(self.target * (1.1 + 0.2 * self.pick.u()),
                      self.capacity * (0.85 + 0.3 * self.pick.u()))
        if self.kind == GRIP:
            rise, hold, fall = 0.35, 0.6, 0.35
        else:
            rise, hold, fall = 0.8, 0.3, 0.8
            amp = min(amp, 170.0)
        self.move = (t, self.kind, amp, rise, hold, fall)
        self.t_free = t + rise + hold + fall + 0.8 + 0.7 * self.pick.u()

    def sample(self, t_s):
        if t_s >= self.t_free:
            self._next(max(t_s, self.t_free))
        t0, kind, amp, rise, hold, fall = self.move
        p, dp = _bump(t_s - t0, rise, hold, fall)
        ang = math.radians(amp) * p if kind == BEND else 0.0
        rate = amp * dp if kind == BEND else 0.0
        force = self.base_n + (amp * p if kind == GRIP else 0.0)
        n = self.noise
        gx, gy, gz = _rotate(self.up, self.axis, -ang)
        k = self.axis
        b = self.gyro_bias
        return (gx + n.g(0.003), gy + n.g(0.003), gz + n.g(0.003),
                rate * k[0] + b[0] + n.g(0.15), rate * k[1] + b[1] + n.g(0.15),
                rate * k[2] + b[2] + n.g(0.15), max(0.0, force + n.g(0.05)))


def _bend(deg):
    return (BEND, deg, 0.9, 0.4, 0.9)


def _grip(newtons):
    return (GRIP, newtons, 0.35, 0.8, 0.35)


# in the hand, forearm resting: the pad up, tilted a little
_HAND_UP = (0.06, -0.04, 1.0)

# name -> (description, exercise, suggested target (N or degrees),
#          true counts {reps, partial_reps, grips}, builder)
SCENARIOS = {
    "still": ("lying still on a table for 20 s", "grip_squeeze", 20.0,
              {"reps": 0, "partial_reps": 0, "grips": 0},
              lambda: Scenario("still", [], up=(0.0, 0.0, 1.0), lead_s=0.0, tail_s=20.0, seed=7)),
    "grip10": ("ten squeezes of 25 N, puck held in the hand", "grip_squeeze", 20.0,
               {"reps": 10, "partial_reps": 0, "grips": 10},
               lambda: Scenario("grip10", [_grip(25.0)] * 10, up=_HAND_UP, base_n=1.0,
                                rest_s=1.5, seed=11)),
    "grip3": ("three squeezes of 25 N, puck held in the hand (short: for the emulated Pico)",
              "grip_squeeze", 20.0, {"reps": 3, "partial_reps": 0, "grips": 3},
              lambda: Scenario("grip3", [_grip(25.0)] * 3, up=_HAND_UP, base_n=1.0,
                               rest_s=0.8, seed=13)),
    "wrist8": ("eight wrist bends of 40 degrees with rests between", "wrist_flexion", 30.0,
               {"reps": 8, "partial_reps": 0, "grips": 0},
               lambda: Scenario("wrist8", [_bend(40.0)] * 8, up=_HAND_UP, base_n=1.0, seed=23)),
    "row10": ("ten rows of 30 degrees back to back, the puck upright in the hand", "row", 22.0,
              {"reps": 10, "partial_reps": 0, "grips": 0},
              lambda: Scenario("row10", [(BEND, 30.0, 0.7, 0.1, 0.7)] * 10, up=(0.97, 0.0, 0.26),
                               axis=(0.0, 1.0, 0.0), base_n=1.0, rest_s=0.15, seed=31)),
    "rotation10": ("ten band rotations of 60 degrees about an upper arm leaning 20 degrees from vertical",
                   "shoulder_rotation", 45.0, {"reps": 10, "partial_reps": 0, "grips": 0},
                   lambda: Scenario("rotation10", [(BEND, 60.0, 0.8, 0.3, 0.8)] * 10, up=(0.0, 0.0, 1.0),
                                    axis=(0.34, 0.0, 0.94), base_n=1.0, rest_s=0.8, seed=37)),
    "reach8": ("eight forward reaches of 250 mm with rests between, the puck in the hand",
               "reach", 100.0, {"reps": 8, "partial_reps": 0, "grips": 0},
               lambda: Scenario("reach8", [(SLIDE, 250.0, 0.9, 0.4, 0.9)] * 8, up=_HAND_UP,
                                axis=(1.0, 0.0, 0.0), base_n=1.0, seed=41)),
    "demo": ("wrist bends: six of 40 degrees, two weak ones of 14 degrees, "
             "and three 25 N squeezes in the rests", "wrist_flexion", 30.0,
             {"reps": 6, "partial_reps": 2, "grips": 3},
             lambda: Scenario("demo", [_bend(40.0), _bend(40.0), _grip(25.0), _bend(14.0),
                                       _bend(40.0), _grip(25.0), _bend(40.0), _bend(14.0),
                                       _grip(25.0), _bend(40.0), _bend(40.0)],
                              up=_HAND_UP, base_n=1.0, rest_s=1.2, seed=5)),
}


def scenario(name):
    if name == "patient":
        return Patient()
    if name not in SCENARIOS:
        raise ValueError("unknown scenario %r (known: %s)" % (name, ", ".join(sorted(SCENARIOS))))
    return SCENARIOS[name][4]()


def catalogue():
    """The scenarios as JSON-able dicts (the host reads this through `micropython`)."""
    out = {}
    for name, (desc, exercise, target, truth, build) in SCENARIOS.items():
        d = {"description": desc, "exercise": exercise, "target": target,
             "duration_s": build().duration_s}
        d.update(truth)
        out[name] = d
    return out


def print_catalogue():
    import json
    print(json.dumps(catalogue()))

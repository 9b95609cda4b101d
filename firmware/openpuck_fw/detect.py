"""Rep, partial-rep and grip detection: the MicroPython twin of c_core/op_detect.c.

The same integer arithmetic as the C core, so both give the same events,
field for field (tests/test_twin_parity.py runs this file under the
MicroPython unix port on every recording). The two agree by value, not line
for line: where the C takes a shortcut (Newton's square root, a fast path of
the clamped multiply, a ring for the event queue), this file takes the plain
step that gives the same value.

Python ints do not wrap: the C code keeps every value inside int32 (int64
where it says so), divides only non-negative numbers and shifts negatives
arithmetically (= Python's >>), so the only masking needed here is for u32
times and u16 counters.

    d = make_detector(exercise_id, target_milli, on_pct, off_pct, rate_hz,
                      accel_lsb_per_g, gyro_lsb_per_dps_x1000, force_mn_per_lsb)
    n = d.push(t_us, ax, ay, az, gx, gy, gz, force)   # raw counts
    ev = d.pop()   # (kind, count, t_start_us, t_peak_us, t_end_us, amplitude_milli, hold_ms) or None

make_detector() returns the C detector (module ``opdetect``: built into the
firmware, or opdetect.mpy on the puck's filesystem) when it loads, else this
twin; make_twin() is always the twin.
"""
try:
    from micropython import const
except ImportError:  # CPython (tests, tools)
    def const(x):
        return x

from openpuck_fw import msgtable as mt

KIND_REP = mt.EVENT_KIND_REP
KIND_PARTIAL = mt.EVENT_KIND_PARTIAL_REP
KIND_GRIP = mt.EVENT_KIND_GRIP
QUEUE = const(3)
HIST = const(3)
AUTO_REPS = const(3)
TICK_US = const(20000)

SIGNAL_FORCE = const(0)
SIGNAL_TILT = const(1)
SIGNAL_HEADING = const(2)
SIGNAL_ROTATION = const(3)

_F_STARTED = const(1)
_F_AUTO = const(2)
_F_GRIP_ACTIVE = const(4)
_F_BIAS_OK = const(8)
_F_CALIB = const(16)

_DT_MAX_US = const(200000)
_STILL_TRACK_MS = const(200)
_FLAT_TRACK_MS = const(1000)
_STILL_BIAS_OK_MS = const(2000)
_STILL_YAW_MS = const(200)
_STILL_SHIFT_MS = const(2000)
_STILL_END_MS = const(200)
_AXIS_MOVING = const(2)
_INV_AXIS = const(1432)
_INV_GRAV = const(4295)
_GRAV_MIN_W = const(164)
_Q24_PER_MDEG_X16 = const(4685)
_TURN_PCT = const(35)
_WOBBLE_US = const(1000000)
# phase (c_core/op_detect.c PH_*)
_PH_MASK = const(3)
_PH_REST = const(0)
_PH_OUT = const(1)
_PH_BACK = const(2)
_PH_NEG = const(4)
_PH_SIDE = const(8)
_PH_FIRST = const(16)
_INV_LP = const(2097)
_INV_GLP = const(134)
_INV_BIAS_FAST = const(4295)
_INV_BASE_DOWN = const(8590)
_PI_Q32_PER_DEG = const(74961321)
_MDEG_PER_RAD = const(57296)
_M32 = const(0xFFFFFFFF)
_BIG = const(0x7FFFFFFF)
_C30 = const(0x3FFFFFFF)
_C27 = const(0x7FFFFFF)

_ATAN = (45000, 26565, 14036, 7125, 3576, 1790)

CONFIG_FIELDS = mt.DETECT_CONFIG_FIELDS   # op_detect_config_t's, in order


def isqrt32(x):
    res = 0
    bit = 1 << 30
    while bit > x:
        bit >>= 2
    while bit:
        if x >= res + bit:
            x -= res + bit
            res = (res >> 1) + bit
        else:
            res >>= 1
        bit >>= 2
    return res


def atan2_mdeg(y, x):
    if x == 0 and y == 0:
        return 0
    while y > 0xFFFF or x > 0xFFFF or x < -0xFFFF:
        x >>= 1
        y >>= 1
    while y < 0x8000 and x < 0x8000 and x > -0x8000:
        x *= 2
        y *= 2
    z = 0
    if x < 0:
        x, y = y, -x
        z = 90000
    for i in range(6):
        if y > 0:
            x, y = x + (y >> i), y - (x >> i)
            z += _ATAN[i]
        else:
            x, y = x - (y >> i), y + (x >> i)
            z -= _ATAN[i]
    if y >= 0:
        z += y * _MDEG_PER_RAD // x
    else:
        z -= -y * _MDEG_PER_RAD // x
    return 0 if z < 0 else z


def _gain(dt, inv):
    a = (dt * inv) >> 16
    return 65536 if a > 65536 else a


def _follow(x, target, a):
    return x + (((target - x) * a) >> 16)


def _clamp30(x):
    return _C30 if x > _C30 else (-_C30 if x < -_C30 else x)


def _normalise(g):
    q = [0, 0, 0]
    m = 0
    for i in range(3):
        v = g[i]
        v = _C27 if v > _C27 else (-_C27 if v < -_C27 else v)
        g[i] = v
        m = max(m, abs(v))
    while 0 < m < 1 << 23:  # below 1/2 g: doubled first (op_detect.c)
        g[0] *= 2
        g[1] *= 2
        g[2] *= 2
        m *= 2
    for i in range(3):
        q[i] = g[i] >> 12
    n = isqrt32(q[0] * q[0] + q[1] * q[1] + q[2] * q[2])
    if n > 0:
        a = (1 << 28) // n
        for i in range(3):
            g[i] = (g[i] * a) >> 16


def _pct(target, p):
    return target // 100 * p + target % 100 * p // 100


def _learn(p):
    """op_detect.c learn(): the median of the excursions p at least half as large
    as the largest, not below 3/4 of the largest."""
    if not p:
        return 0
    p = sorted(p)
    m = p[-1]
    p = [v for v in p if v >= m // 2]
    n = len(p)
    if n & 1:
        t = p[n // 2]
    else:
        a, b = p[n // 2 - 1], p[n // 2]
        t = a // 2 + b // 2 + (a % 2 + b % 2) // 2
    return m - m // 4 if t < m - m // 4 else t


def _mdeg(ang):
    return (ang * _MDEG_PER_RAD) >> 24


def config_default(exercise_id):
    """The catalogue defaults of an exercise as a config dict (auto target)."""
    from openpuck_fw.msgtable import EXERCISES
    e = EXERCISES.get(exercise_id)
    if e is None:
        raise ValueError("unknown exercise id %d" % exercise_id)
    _name, sig, target, on, off, mn, mx = e
    target_m = int(target * 1000.0 + 0.5)
    return {
        "signal": sig, "on_pct": int(on * 100.0 + 0.5), "off_pct": int(off * 100.0 + 0.5),
        "hyst_pct": 5, "target_milli": 0,
        "auto_floor_milli": target_m // (20 if sig == SIGNAL_FORCE else 5 if sig == SIGNAL_HEADING else 8),
        "min_rep_ms": int(mn * 1000.0 + 0.5), "max_rep_ms": int(mx * 1000.0 + 0.5),
        "accel_lsb_per_g": 8192, "force_mn_per_lsb": 50, "gyro_lsb_per_dps_x1000": 65536,
        "fuse_tau_ms": 1000, "track_tau_ms": 2000, "bias_tau_ms": 4000, "still_mdps": 4000,
        "grip_on_mn": 12000, "grip_off_mn": 6000,
    }


def check(c):
    """True when a config dict is valid (op_detect_check)."""
    return not (c["signal"] > SIGNAL_ROTATION or c["on_pct"] < 2 or c["on_pct"] > 100
                or c["off_pct"] < 1 or c["off_pct"] >= c["on_pct"] or c["hyst_pct"] >= c["off_pct"]
                or c["target_milli"] < 0 or c["target_milli"] > 10000000
                or c["auto_floor_milli"] < 4 or c["auto_floor_milli"] > 10000000
                or c["min_rep_ms"] > c["max_rep_ms"] or c["max_rep_ms"] < 100
                or c["accel_lsb_per_g"] < 256 or c["force_mn_per_lsb"] < 1 or c["force_mn_per_lsb"] > 1000
                or c["gyro_lsb_per_dps_x1000"] < 16000 or c["gyro_lsb_per_dps_x1000"] > 262144
                or c["fuse_tau_ms"] < 100 or c["track_tau_ms"] < 100 or c["bias_tau_ms"] < 100
                or c["still_mdps"] < 100 or c["still_mdps"] > 15000
                or c["grip_on_mn"] < 0 or c["grip_off_mn"] < 0 or c["grip_off_mn"] > c["grip_on_mn"]
                or c["grip_on_mn"] > 10000000 or (c["grip_on_mn"] > 0 and c["grip_off_mn"] < 2)
                or c["accel_lsb_per_g"] > 65535 or c["min_rep_ms"] < 0 or c["max_rep_ms"] > 65535
                or c["fuse_tau_ms"] > 65535 or c["track_tau_ms"] > 65535 or c["bias_tau_ms"] > 65535)


class Detector:
    """op_detect_t and its functions (see c_core/op_detect.h)."""

    def __init__(self, c):
        if not check(c):
            raise ValueError("bad detector config")
        self.signal = c["signal"]
        self.on_pct = c["on_pct"]
        self.off_pct = c["off_pct"]
        self.hyst_pct = c["hyst_pct"]
        self.min_rep_ms = c["min_rep_ms"]
        self.max_rep_ms = c["max_rep_ms"]
        self.grip_on = c["grip_on_mn"]
        self.grip_off = c["grip_off_mn"]
        self.accel_k = (1 << 24) // c["accel_lsb_per_g"]
        gl = c["gyro_lsb_per_dps_x1000"]
        self.gyro_k = _PI_Q32_PER_DEG // gl * 1000 + _PI_Q32_PER_DEG % gl * 1000 // gl
        self.still_thr = (c["still_mdps"] * 16 // 1000 * gl // 1000) & 0xFFFF
        self.force_k = c["force_mn_per_lsb"]
        self.inv_fuse = 4294967 // c["fuse_tau_ms"]
        self.inv_track = 4294967 // c["track_tau_ms"]
        self.inv_bias = 4294967 // c["bias_tau_ms"]
        self.floor = c["auto_floor_milli"]
        self.flags = 0
        self.n_cand = 0
        self.phase = _PH_FIRST | (_PH_SIDE if self.signal == SIGNAL_FORCE else 0)
        self.hist = []  # newest first, milli >> 8 (C: hist[] and its count in phase)
        self.reps = self.partials = self.grips = 0
        self.still_ms = 0
        self.t_prev = self.t_tick = 0
        self.g = [0, 0, 0]
        self.g0 = [0, 0, 0]
        self.w_prev = [0, 0, 0]
        self.u = [0, 0, 0]
        self.u_e = 0
        self.ang = 0
        self.bias = [0, 0, 0]
        self.glp = [0, 0, 0]
        self.f_lp = self.f_base = 0
        self.rest = self.ext = 0
        # excursions: [t_start, t_peak, hold_us, peak]
        self.ex = [0, 0, 0, 0]
        self.grip = [0, 0, 0, 0]
        self.q = []  # [kind, count, t_start, t_peak, t_end, amplitude, hold_ms]
        self.target = 0
        self.on_thr = self.off_thr = 0
        self._set_target(c["target_milli"])

    def _set_target(self, target):
        self.target = target
        if target <= 0:
            self.off_thr = self.floor
            self.on_thr = _BIG
        else:
            self.on_thr = _pct(target, self.on_pct)
            self.off_thr = _pct(target, self.off_pct)

    def _end_thr(self):
        if self.target > 0:
            return self.off_thr - _pct(self.target, self.hyst_pct)
        return self.floor - self.floor // 4

    def target_milli(self):
        return self.target

    def _enqueue(self, kind, count, ex, t_end, hold_ms):
        if len(self.q) >= QUEUE:
            return
        self.q.append([kind, count & 0xFFFF, ex[0], ex[1], t_end, ex[3], hold_ms])

    def _settle(self, forced):
        if forced > 0:
            t = forced
        else:
            p = [e[5] for e in self.q if e[0] == 0]
            if not p:
                return
            t = _learn(p)
            self.flags |= _F_AUTO
        self._set_target(t)
        part = 2 * self.off_thr - self._end_thr()
        keep = []
        for e in self.q:
            if e[0] == 0:
                if e[5] >= self.on_thr:
                    self.reps = (self.reps + 1) & 0xFFFF
                    e[0] = KIND_REP
                    e[1] = self.reps
                elif e[5] >= part:
                    self.partials = (self.partials + 1) & 0xFFFF
                    e[0] = KIND_PARTIAL
                    e[1] = self.partials
                    e[6] = 0
                else:
                    continue
            keep.append(e)
        self.q = keep
        self.n_cand = 0

    def _relearn(self, amp):
        self.hist.insert(0, 0xFFFF if amp >> 8 > 0xFFFF else amp >> 8)
        if len(self.hist) > HIST:
            self.hist.pop()
        if len(self.hist) < HIST:
            return
        t = _learn([v << 8 for v in self.hist])
        if t > 0:
            self._set_target(t)

    def _rep_end(self, amp, t, cut=False):
        ex = self.ex
        dur = (t - ex[0]) & _M32
        hold = ex[2] // 1000 if self.signal == SIGNAL_FORCE else 0
        small = 2 * self.off_thr - self._end_thr()
        self.phase &= ~_PH_FIRST
        # a rep cut off by the end of the set is as short as the set made it
        if (dur < self.min_rep_ms * 1000 and not cut) or amp < small:
            return
        ex[3] = amp
        if self.target > 0:
            if amp >= self.on_thr:
                self.reps = (self.reps + 1) & 0xFFFF
                self._enqueue(KIND_REP, self.reps, ex, t, hold)
            else:
                self.partials = (self.partials + 1) & 0xFFFF
                self._enqueue(KIND_PARTIAL, self.partials, ex, t, 0)
            if self.flags & _F_AUTO:
                self._relearn(amp)
            return
        # an auto-target candidate: its hold above ON cannot be known, ON was not
        self._enqueue(0, 0, ex, t, mt.REP_HOLD_MS_UNKNOWN if self.signal == SIGNAL_FORCE else 0)
        self.n_cand = (self.n_cand + 1) & 7  # C keeps it in 3 bits of flags
        if self.flags & _F_CALIB:
            self.flags &= ~_F_CALIB
            self._settle(amp)
        elif self.n_cand >= AUTO_REPS:
            self._settle(0)

    def _tilt(self):
        g = self.g
        r0, r1, r2 = self.g0
        g0, g1, g2 = g[0] >> 10, g[1] >> 10, g[2] >> 10
        dot = (g0 * r0 + g1 * r1 + g2 * r2) >> 14
        c0 = (g1 * r2 - g2 * r1) >> 14
        c1 = (g2 * r0 - g0 * r2) >> 14
        c2 = (g0 * r1 - g1 * r0) >> 14
        return atan2_mdeg(isqrt32(c0 * c0 + c1 * c1 + c2 * c2), dot)

    def _signal(self):
        sig = self.signal
        if sig == SIGNAL_FORCE:
            return self.f_lp
        if sig == SIGNAL_TILT:
            return self._tilt()
        return _mdeg(self.ang)

    def _rotation_tick(self, tdt):
        glp, bias, u = self.glp, self.bias, self.u
        w0 = (glp[0] - bias[0]) >> 4
        w1 = (glp[1] - bias[1]) >> 4
        w2 = (glp[2] - bias[2]) >> 4
        n2 = (w0 >> 6) * (w0 >> 6) + (w1 >> 6) * (w1 >> 6) + (w2 >> 6) * (w2 >> 6)
        a = (self.still_thr * _AXIS_MOVING) >> 6
        if n2 > a * a:
            if (w0 >> 6) * u[0] + (w1 >> 6) * u[1] + (w2 >> 6) * u[2] < 0:  # one axis, either way
                w0, w1, w2 = -w0, -w1, -w2
            a = _gain(tdt, _INV_AXIS)
            e = (self.u_e * (65536 - a)) >> 16
            c = [((e * u[0]) >> 14) + ((w0 * a) >> 10), ((e * u[1]) >> 14) + ((w1 * a) >> 10),
                 ((e * u[2]) >> 14) + ((w2 * a) >> 10)]  # raw * 1024
            m = max(abs(c[0]), abs(c[1]), abs(c[2]))
            sh = 0
            while (m >> sh) >= 0x8000:
                sh += 1
            c0, c1, c2 = c[0] >> sh, c[1] >> sh, c[2] >> sh
            n = isqrt32(c0 * c0 + c1 * c1 + c2 * c2)
            if n > 0:
                self.u_e = n << sh
                u[0] = -(-c0 * 16384 // n) if c0 < 0 else c0 * 16384 // n
                u[1] = -(-c1 * 16384 // n) if c1 < 0 else c1 * 16384 // n
                u[2] = -(-c2 * 16384 // n) if c2 < 0 else c2 * 16384 // n
        if self.u_e == 0:
            return
        g = self.g
        r0, r1, r2 = self.g0
        g0, g1, g2 = g[0] >> 10, g[1] >> 10, g[2] >> 10
        c0 = (g1 * r2 - g2 * r1) >> 14
        c1 = (g2 * r0 - g0 * r2) >> 14
        c2 = (g0 * r1 - g1 * r0) >> 14
        y = (c0 * u[0] + c1 * u[1] + c2 * u[2]) >> 14
        gu = (g0 * u[0] + g1 * u[1] + g2 * u[2]) >> 14
        g0u = (r0 * u[0] + r1 * u[1] + r2 * u[2]) >> 14
        x = ((g0 * r0 + g1 * r1 + g2 * r2) >> 14) - ((gu * g0u) >> 14)
        n2 = ((x * x) >> 14) + ((y * y) >> 14)
        if n2 < _GRAV_MIN_W:
            return
        e = -atan2_mdeg(-y * 2, x * 2) if y < 0 else atan2_mdeg(y * 2, x * 2)
        err = e - _mdeg(self.ang)
        while err > 180000:
            err -= 360000
        while err < -180000:
            err += 360000
        a = _gain(tdt, _INV_GRAV)
        err = (err * a) >> 16
        err = (err * (n2 >> 2)) >> 12
        self.ang = _clamp30(self.ang + ((err * _Q24_PER_MDEG_X16) >> 4))

    def _count(self, x, t, tdt):
        on, off, end = self.on_thr, self.off_thr, self._end_thr()
        full = on if self.target > 0 else 2 * off
        ph = self.phase
        neg = ph & _PH_NEG
        force = self.signal == SIGNAL_FORCE
        max_us = self.max_rep_ms * 1000
        ex = self.ex
        y = self.rest - x if neg else x - self.rest
        p = ph & _PH_MASK
        if p == _PH_REST:
            if force and y < 0:
                self.rest = _follow(self.rest, x, _gain(tdt, _INV_BASE_DOWN))
            elif self.still_ms >= (_FLAT_TRACK_MS if force else _STILL_TRACK_MS):
                self.rest = _follow(self.rest, x, _gain(tdt, self.inv_track))
            y = self.rest - x if neg else x - self.rest
            if not force and not (ph & _PH_SIDE):
                if y >= off or y <= -off:  # the first excursion tells the side reps go
                    if y < 0:
                        ph ^= _PH_NEG
                        y = -y
                    ph |= _PH_SIDE
                else:
                    if -end < y < end:
                        ex[0] = t
                    return
            elif not force and y < 0:
                # past rest, away from the reps' side: the rest is further back
                self.rest = x
                ex[0] = t
                return
            elif y < off:
                if y < end:
                    ex[0] = t
                return
            self.phase = (ph & ~_PH_MASK) | _PH_OUT
            ex[3] = y
            self.ext = y
            ex[1] = t
            ex[2] = 0
            return
        if p == _PH_OUT:
            if y > ex[3]:
                # the peak's time (ext: the value there) moves while the signal rises
                # faster than a quarter of its height a second: a hold that creeps up keeps
                # the time it began
                if (y - self.ext) * 4000000 >= ((t - ex[1]) & _M32) * y:
                    ex[1] = t
                    self.ext = y
                ex[3] = y
            if y >= on:
                ex[2] = (ex[2] + tdt) & _M32
            a = ex[3] * _TURN_PCT // 100
            if ex[3] >= off and ex[3] - y >= (a if a > end else end):
                self.phase = (ph & ~_PH_MASK) | _PH_BACK
                self.ext = y
            elif (((t - ex[0]) & _M32) > max_us
                  or (not force and self.still_ms >= _STILL_SHIFT_MS and ex[3] < full)):
                # too long, or settled still short of a rep: the patient is at rest here
                self.rest = x
                self.phase = (ph & ~_PH_MASK) | _PH_REST
                ex[0] = t
            return
        # _PH_BACK
        if y < self.ext:
            self.ext = y
        if y >= on:
            ex[2] = (ex[2] + tdt) & _M32
        fall = ex[3] - self.ext
        amp = fall if (ph & _PH_FIRST) and fall > ex[3] else ex[3]
        if ((ph & _PH_FIRST) and not force and ex[3] < full and y <= -off
                and ((t - ex[0]) & _M32) >= _WOBBLE_US):
            # the first excursion was a slow shift of posture (a part of a rep cut
            # off by the start of the recording is quick): the first rep goes the other way
            self.phase = ((ph & ~_PH_MASK) | _PH_OUT) ^ _PH_NEG
            ex[0] = t
            ex[1] = t
            ex[3] = -y
            self.ext = -y
            return
        if not (ph & _PH_FIRST) and y < end:
            self._rep_end(amp, t)
            self.phase = (self.phase & ~_PH_MASK) | _PH_REST
            ex[0] = t
            return
        a = fall * _TURN_PCT // 100
        if y - self.ext >= (a if a > end else end):
            # out again before coming back within END: back to back reps,
            # or a dip inside one rep when it fell back less than halfway
            self.phase = (ph & ~_PH_MASK) | _PH_OUT
            if 2 * fall >= ex[3]:
                self._rep_end(amp, t)
                self.rest = self.rest - self.ext if neg else self.rest + self.ext
                ex[0] = t
                ex[3] = y - self.ext
                ex[1] = t
                ex[2] = 0
            self.ext = ex[3]
            return
        if ((self.still_ms >= _STILL_END_MS and 2 * fall >= ex[3])
                or ((t - ex[0]) & _M32) > max_us):
            # still, back more than halfway: the rep is over, the rest is here now
            if 2 * fall >= ex[3]:
                self._rep_end(amp, t)
            self.rest = x
            self.phase = (self.phase & ~_PH_MASK) | _PH_REST
            ex[0] = t

    def _step(self, ex, bit, s, t, tdt, on, off, end, max_us):
        if not (self.flags & bit):
            if s >= off:
                self.flags |= bit
                ex[0] = t
                ex[1] = t
                ex[3] = s
                ex[2] = 0
            return 0
        if s > ex[3]:
            ex[3] = s
            ex[1] = t
        if s >= on:
            ex[2] = (ex[2] + tdt) & _M32
        if s < end:
            self.flags &= ~bit
            return 1
        if ((t - ex[0]) & _M32) > max_us:
            self.flags &= ~bit
            return 2
        return 0

    def _tick(self, t, tdt):
        sig = self.signal
        if sig != SIGNAL_FORCE:
            _normalise(self.g)
            if sig == SIGNAL_ROTATION:
                self._rotation_tick(tdt)
        else:
            # force: still_ms times how long the force has stayed within OFF / 4 of
            # glp[0] (flat; glp is unused by the force signal)
            a = self.f_lp - self.glp[0]
            q = self.off_thr // 4
            if a > q or a < -q:
                self.glp[0] = self.f_lp
                self.still_ms = 0
            else:
                a = self.still_ms + (tdt >> 10)
                self.still_ms = 60000 if a > 60000 else a
        self._count(self._signal(), t, tdt)
        # the queue full (an auto target just settled): the grip waits a tick (op_detect.c)
        if self.grip_on > 0 and len(self.q) < QUEUE:
            # grips are measured from the counter's rest on force exercises, else
            # from a baseline of their own that follows drift between grips
            if sig != SIGNAL_FORCE and not (self.flags & _F_GRIP_ACTIVE):
                a = _gain(tdt, _INV_BASE_DOWN if self.f_lp < self.f_base else self.inv_track)
                self.f_base = _follow(self.f_base, self.f_lp, a)
            s = self.f_lp - (self.rest if sig == SIGNAL_FORCE else self.f_base)
            gr = self.grip
            r = self._step(gr, _F_GRIP_ACTIVE, s, t, tdt, self.grip_on, self.grip_off,
                           self.grip_off - self.grip_off // 4, self.max_rep_ms * 1000)
            if r == 1 and gr[3] >= self.grip_on and ((t - gr[0]) & _M32) >= self.min_rep_ms * 1000:
                self.grips = (self.grips + 1) & 0xFFFF
                self._enqueue(KIND_GRIP, self.grips, gr, t, gr[2] // 1000)
            elif r == 2:
                self.f_base = self.f_lp

    def _released(self):
        n = 0
        for e in self.q:
            if e[0] != 0:
                n += 1
        return n

    def push(self, t_us, ax, ay, az, gx, gy, gz, force):
        """One sample in raw counts; returns the number of events it released."""
        t_us &= _M32
        f = force * self.force_k
        g = self.g
        sig = self.signal
        if not (self.flags & _F_STARTED):
            self.flags |= _F_STARTED
            self.t_prev = t_us
            self.t_tick = t_us
            self.ex[0] = t_us
            self.f_lp = f
            self.f_base = f
            if sig == SIGNAL_FORCE:
                self.rest = f
            ak = self.accel_k
            g[0] = ax * ak
            g[1] = ay * ak
            g[2] = az * ak
            _normalise(g)
            self.g0 = [g[0] >> 10, g[1] >> 10, g[2] >> 10]
            self.w_prev = [gx, gy, gz]
            return 0  # gyro bias and its low-pass start at 0
        dt = (t_us - self.t_prev) & _M32
        self.t_prev = t_us
        # a gap, or time going backward: DT_MAX_US, and a tick follows (op_detect.c)
        gap = dt > _DT_MAX_US
        if gap:
            dt = _DT_MAX_US
        self.f_lp = _follow(self.f_lp, f, _gain(dt, _INV_LP << 6))
        if sig != SIGNAL_FORCE:
            glp = self.glp
            bias = self.bias
            a = _gain(dt, _INV_GLP << 6)
            glp[0] = _follow(glp[0], gx * 256, a)
            glp[1] = _follow(glp[1], gy * 256, a)
            glp[2] = _follow(glp[2], gz * 256, a)
            w0 = glp[0] - bias[0]
            w1 = glp[1] - bias[1]
            w2 = glp[2] - bias[2]
            m = max(abs(w0), abs(w1), abs(w2))
            # until the bias is known, still is judged 1.5x looser (a bias larger
            # than the still threshold would otherwise never be learned)
            if m < self.still_thr * (16 if self.flags & _F_BIAS_OK else 24):
                a = self.still_ms + (dt >> 10)
                self.still_ms = 60000 if a > 60000 else a
                if self.still_ms >= _STILL_BIAS_OK_MS:
                    self.flags |= _F_BIAS_OK
                a = _gain(dt, self.inv_bias if self.flags & _F_BIAS_OK else _INV_BIAS_FAST)
                bias[0] = _follow(bias[0], glp[0], a)
                bias[1] = _follow(bias[1], glp[1], a)
                bias[2] = _follow(bias[2], glp[2], a)
            else:
                self.still_ms = 0
            k = (self.gyro_k * dt * 4295) >> 32
            if sig == SIGNAL_TILT:
                gx8 = gx * 256
                gy8 = gy * 256
                gz8 = gz * 256
            else:
                # trapezoid: a gap is integrated with the mean of the rates at its ends
                wp = self.w_prev
                gx8 = (gx + wp[0]) * 128
                gy8 = (gy + wp[1]) * 128
                gz8 = (gz + wp[2]) * 128
                wp[0] = gx
                wp[1] = gy
                wp[2] = gz
            th0 = _clamp30(((gx8 - bias[0]) * k) >> 12)
            th1 = _clamp30(((gy8 - bias[1]) * k) >> 12)
            th2 = _clamp30(((gz8 - bias[2]) * k) >> 12)
            g0, g1, g2 = g
            if sig == SIGNAL_HEADING:
                a = (th0 * g0 + th1 * g1 + th2 * g2) >> 28
                # still, turning slower than 20 dps: gyro bias drift, not a turn
                if self.still_ms < _STILL_YAW_MS or a > dt * 6 or a < -dt * 6:
                    self.ang = _clamp30(self.ang + a)
            elif sig == SIGNAL_ROTATION:
                u = self.u
                self.ang = _clamp30(self.ang + ((th0 * u[0] + th1 * u[1] + th2 * u[2]) >> 18))
            n0 = g0 + ((g1 * th2 - g2 * th1) >> 28)
            n1 = g1 + ((g2 * th0 - g0 * th2) >> 28)
            n2 = g2 + ((g0 * th1 - g1 * th0) >> 28)
            ak = self.accel_k
            a0 = ax * ak
            a1 = ay * ak
            a2 = az * ak
            m2 = (a0 >> 12) * (a0 >> 12) + (a1 >> 12) * (a1 >> 12) + (a2 >> 12) * (a2 >> 12) - (1 << 24)
            a = _gain(dt, self.inv_fuse)
            if m2 > (1 << 22) or m2 < -(1 << 22):
                a >>= 3
            g[0] = _follow(n0, a0, a)
            g[1] = _follow(n1, a1, a)
            g[2] = _follow(n2, a2, a)
        if not gap and ((t_us - self.t_tick) & _M32) < TICK_US:
            return 0
        before = self._released()
        self._tick(t_us, (t_us - self.t_tick) & _M32)
        self.t_tick = t_us
        return self._released() - before

    def pop(self):
        """(kind, count, t_start_us, t_peak_us, t_end_us, amplitude_milli, hold_ms) or None."""
        q = self.q
        for i in range(len(q)):
            if q[i][0] != 0:  # pending auto-target candidates (kind 0) stay
                return tuple(q.pop(i))
        return None

    def probe(self):
        """(signal, rest, on, off, end, target, phase, side): what the counting
        rule saw at the last tick (op_detect_probe)."""
        ph = self.phase
        side = 0 if not (ph & _PH_SIDE) else (-1 if ph & _PH_NEG else 1)
        return (self._signal(), self.rest, self.on_thr, self.off_thr, self._end_thr(), self.target,
                ph & _PH_MASK, side)

    def calibrate_target(self):
        """Arm a calibration rep: the next full excursion sets the target (and counts)."""
        self.q = [e for e in self.q if e[0] != 0]
        self.n_cand = 0
        self.flags &= ~_F_AUTO
        self.flags |= _F_CALIB
        self.hist = []
        self.phase &= _PH_SIDE | _PH_NEG  # a rep under way is forgotten
        self.ex[0] = self.t_tick
        self._set_target(0)

    def finish(self):
        """End of the set: the last rep counts when the set ends on its way back
        (or at the far end), then a pending auto target settles. Returns events released."""
        before = self._released()
        p = self.phase & _PH_MASK
        ex = self.ex
        fall = ex[3] - self.ext
        if p == _PH_OUT and ex[3] >= self.off_thr:
            self._rep_end(ex[3], self.t_tick, True)
        elif p == _PH_BACK:
            self._rep_end(fall if (self.phase & _PH_FIRST) and fall > ex[3] else ex[3], self.t_tick, True)
        self.phase = (self.phase & ~_PH_MASK) | _PH_REST
        if self.target == 0 and self.n_cand > 0:
            self._settle(0)
        return self._released() - before


def make_detector(exercise_id, target_milli=0, on_pct=0, off_pct=0, rate_hz=0,
                  accel_lsb_per_g=8192, gyro_lsb_per_dps_x1000=65536, force_mn_per_lsb=50):
    """A detector for an exercise of the catalogue (the C module's when it loads).

    target_milli 0 = auto target; on_pct/off_pct 0 = the exercise default;
    rate_hz is the nominal rate (the detector follows the sample times).
    """
    try:
        import opdetect
        return opdetect.make_detector(exercise_id, target_milli, on_pct, off_pct, rate_hz,
                                      accel_lsb_per_g, gyro_lsb_per_dps_x1000, force_mn_per_lsb)
    except Exception:  # noqa: BLE001 - absent, or an .mpy that cannot load here: the twin
        pass
    return make_twin(exercise_id, target_milli, on_pct, off_pct, rate_hz,
                     accel_lsb_per_g, gyro_lsb_per_dps_x1000, force_mn_per_lsb)


def make_twin(exercise_id, target_milli=0, on_pct=0, off_pct=0, rate_hz=0,
              accel_lsb_per_g=8192, gyro_lsb_per_dps_x1000=65536, force_mn_per_lsb=50):
    """make_detector(), always the MicroPython twin."""
    return Detector(make_config(exercise_id, target_milli, on_pct, off_pct,
                                accel_lsb_per_g, gyro_lsb_per_dps_x1000, force_mn_per_lsb))


def make_config(exercise_id, target_milli=0, on_pct=0, off_pct=0,
                accel_lsb_per_g=8192, gyro_lsb_per_dps_x1000=65536, force_mn_per_lsb=50):
    c = config_default(exercise_id)
    c["target_milli"] = target_milli
    if on_pct:
        c["on_pct"] = on_pct
    if off_pct:
        c["off_pct"] = off_pct
    c["accel_lsb_per_g"] = accel_lsb_per_g
    c["gyro_lsb_per_dps_x1000"] = gyro_lsb_per_dps_x1000
    c["force_mn_per_lsb"] = force_mn_per_lsb
    return c

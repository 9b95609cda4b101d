"""Rep, partial-rep and grip detection: the MicroPython twin of c_core/op_detect.c.

Line for line the same integer arithmetic as the C core, so both give the
same events, field for field (tests/test_twin_parity.py runs this file under
the MicroPython unix port on every recording). Python ints do not wrap: the
C code keeps every value inside int32 (int64 where it says so), divides only
non-negative numbers and shifts negatives arithmetically (= Python's >>), so
the only masking needed here is for u32 times and u16 counters.

    d = make_detector(exercise_id, target_milli, on_pct, off_pct, rate_hz,
                      accel_lsb_per_g, gyro_lsb_per_dps_x1000, force_mn_per_lsb)
    n = d.push(t_us, ax, ay, az, gx, gy, gz, force)   # raw counts
    ev = d.pop()   # (kind, count, t_start_us, t_peak_us, t_end_us, amplitude_milli, hold_ms) or None

make_detector() returns the C user module's detector (module ``opdetect``)
when the firmware has it, else this twin.
"""
try:
    from micropython import const
except ImportError:  # CPython (tests, tools)
    def const(x):
        return x

KIND_REP = const(1)
KIND_PARTIAL = const(2)
KIND_GRIP = const(3)
QUEUE = const(4)
AUTO_REPS = const(3)
TICK_US = const(20000)

SIGNAL_FORCE = const(0)
SIGNAL_TILT = const(1)
SIGNAL_HEADING = const(2)

_F_STARTED = const(1)
_F_EX_ACTIVE = const(2)
_F_GRIP_ACTIVE = const(4)
_F_BIAS_OK = const(8)
_F_CALIB = const(16)

_DT_MAX_US = const(200000)
_STILL_TRACK_MS = const(200)
_STILL_BIAS_OK_MS = const(2000)
_STILL_YAW_MS = const(200)
_STILL_SHIFT_MS = const(2000)
_NO_VALLEY = const(0xFF)
_SPLIT_MIN_MDEG = const(10000)  # a rise from a valley smaller than this may be tremor
_STILL_END_MS = const(300)
_FLAT_END_MS = const(400)
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

CONFIG_FIELDS = ("signal", "on_pct", "off_pct", "hyst_pct", "target_milli", "auto_floor_milli",
                 "min_rep_ms", "max_rep_ms", "accel_lsb_per_g", "force_mn_per_lsb",
                 "gyro_lsb_per_dps_x1000", "fuse_tau_ms", "track_tau_ms", "bias_tau_ms",
                 "still_mdps", "grip_on_mn", "grip_off_mn")


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
    for i in range(3):
        v = g[i]
        v = _C27 if v > _C27 else (-_C27 if v < -_C27 else v)
        g[i] = v
        q[i] = v >> 12
    n = isqrt32(q[0] * q[0] + q[1] * q[1] + q[2] * q[2])
    if n > 0:
        a = (1 << 28) // n
        for i in range(3):
            g[i] = (g[i] * a) >> 16


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
        "auto_floor_milli": target_m // (10 if sig == SIGNAL_FORCE else 8 if sig == SIGNAL_TILT else 5),
        "min_rep_ms": int(mn * 1000.0 + 0.5), "max_rep_ms": int(mx * 1000.0 + 0.5),
        "accel_lsb_per_g": 8192, "force_mn_per_lsb": 50, "gyro_lsb_per_dps_x1000": 65536,
        "fuse_tau_ms": 1000, "track_tau_ms": 2000, "bias_tau_ms": 4000, "still_mdps": 5000,
        "grip_on_mn": 12000, "grip_off_mn": 6000,
    }


def check(c):
    """True when a config dict is valid (op_detect_check)."""
    return not (c["signal"] > SIGNAL_HEADING or c["on_pct"] < 2 or c["on_pct"] > 100
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
        self.valley = 0
        self.reps = self.partials = self.grips = 0
        self.still_ms = 0
        self.t_prev = self.t_tick = 0
        self.g = [0, 0, 0]
        self.ref = [0, 0, 0]
        self.bias = [0, 0, 0]
        self.glp = [0, 0, 0]
        self.f_lp = self.f_base = 0
        # excursions: [t_start, t_peak, hold_us, peak]
        self.ex = [0, 0, 0, 0]
        self.grip = [0, 0, 0, 0]
        self.q = []  # [kind, count, t_start, t_peak, t_end, amplitude, hold_ms]
        self.target = 0
        self.on_thr = self.off_thr = self.end_thr = 0
        self._set_target(c["target_milli"])

    def _set_target(self, target):
        self.target = target
        if target <= 0:
            f = self.floor
            self.off_thr = f
            self.end_thr = f - f // 4
            self.on_thr = _BIG
        else:
            self.on_thr = target // 100 * self.on_pct + target % 100 * self.on_pct // 100
            self.off_thr = target // 100 * self.off_pct + target % 100 * self.off_pct // 100
            self.end_thr = self.off_thr - (target // 100 * self.hyst_pct + target % 100 * self.hyst_pct // 100)

    def target_milli(self):
        return self.target

    def _enqueue(self, kind, count, ex, t_end, hold_ms):
        if len(self.q) >= QUEUE:
            return
        self.q.append([kind, count & 0xFFFF, ex[0], ex[1], t_end, ex[3], hold_ms])

    def _settle(self, forced):
        m = 0
        for e in self.q:
            if e[0] == 0 and e[5] > m:
                m = e[5]
        p = sorted(e[5] for e in self.q if e[0] == 0 and e[5] >= m // 2)
        n = len(p)
        if forced > 0:
            t = forced
        elif n == 0:
            return
        elif n & 1:
            t = p[n // 2]
        else:
            a, b = p[n // 2 - 1], p[n // 2]
            t = a // 2 + b // 2 + (a % 2 + b % 2) // 2
        if forced <= 0 and t < m - m // 4:
            t = m - m // 4  # a target too low counts tremor as reps
        self._set_target(t)
        part = 2 * self.off_thr - self.end_thr
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
                else:
                    continue
            keep.append(e)
        self.q = keep
        self.n_cand = 0

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

    def _primary_end(self, t):
        ex = self.ex
        dur = (t - ex[0]) & _M32
        hold = ex[2] // 1000 if self.signal == SIGNAL_FORCE else 0
        if dur < self.min_rep_ms * 1000:
            return
        part = 2 * self.off_thr - self.end_thr
        if self.target > 0:
            if ex[3] >= self.on_thr:
                self.reps = (self.reps + 1) & 0xFFFF
                self._enqueue(KIND_REP, self.reps, ex, t, hold)
            elif ex[3] >= part:
                self.partials = (self.partials + 1) & 0xFFFF
                self._enqueue(KIND_PARTIAL, self.partials, ex, t, 0)
            return
        if ex[3] < part:
            return
        self._enqueue(0, 0, ex, t, 0)
        self.n_cand = (self.n_cand + 1) & 7  # C keeps it in 3 bits of flags
        if self.flags & _F_CALIB:
            self.flags &= ~_F_CALIB
            self._settle(ex[3])
        elif self.n_cand >= AUTO_REPS:
            self._settle(0)

    def _new_rest(self):
        if self.signal == SIGNAL_TILT:
            self.ref[0], self.ref[1], self.ref[2] = self.g
        elif self.signal == SIGNAL_HEADING:
            self.ref[0] = 0
        else:
            self.f_base = self.f_lp

    def _tick(self, t, tdt):
        g = self.g
        sig = self.signal
        if sig != SIGNAL_FORCE:
            _normalise(g)
        if sig == SIGNAL_TILT:
            ref = self.ref
            g0, g1, g2 = g[0] >> 10, g[1] >> 10, g[2] >> 10
            r0, r1, r2 = ref[0] >> 10, ref[1] >> 10, ref[2] >> 10
            dot = (g0 * r0 + g1 * r1 + g2 * r2) >> 14
            c0 = (g1 * r2 - g2 * r1) >> 14
            c1 = (g2 * r0 - g0 * r2) >> 14
            c2 = (g0 * r1 - g1 * r0) >> 14
            s = atan2_mdeg(isqrt32(c0 * c0 + c1 * c1 + c2 * c2), dot)
            if self.flags & _F_EX_ACTIVE:
                # valley: the lowest point (s >> 10) since a full excursion came back
                # more than halfway; rising from it by ON again (and by more than
                # tremor) is the next rep of a set whose rest drifted: fast reps
                # leave no still moment between them and may not come back within OFF
                ex = self.ex
                r = s >> 10
                if 2 * s < ex[3] and r < self.valley and ex[3] >= (self.on_thr if self.target > 0 else 2 * self.off_thr):
                    self.valley = r
                elif (self.valley != _NO_VALLEY and s - (self.valley << 10) >= 2 * self.off_thr
                      and s - (self.valley << 10) >= _SPLIT_MIN_MDEG):
                    self.flags &= ~_F_EX_ACTIVE
                    self._primary_end(t)
                    self.flags |= _F_EX_ACTIVE
                    ex[0] = t
                    ex[1] = t
                    ex[3] = s
                    self.valley = _NO_VALLEY
                elif self.valley != _NO_VALLEY and self.still_ms >= _STILL_SHIFT_MS and s <= ex[3] - _SPLIT_MIN_MDEG:
                    # back more than halfway, then settled still, even above ON:
                    # the rep is over, the rest drifted up to here (tilt 0 now)
                    self.flags &= ~_F_EX_ACTIVE
                    self._primary_end(t)
                    self._new_rest()
                    s = 0
        elif sig == SIGNAL_HEADING:
            yaw = (self.ref[0] * _MDEG_PER_RAD) >> 24
            s = -yaw if yaw < 0 else yaw
        else:
            s = self.f_lp - self.f_base
        flags = self.flags
        if not (flags & _F_EX_ACTIVE):
            # the rest follows slow drift while no rep is under way (4x slower while moving)
            a = _gain(tdt, self.inv_track if self.still_ms >= _STILL_TRACK_MS else self.inv_track >> 2)
            if sig == SIGNAL_TILT:
                ref = self.ref
                ref[0] = _follow(ref[0], g[0], a)
                ref[1] = _follow(ref[1], g[1], a)
                ref[2] = _follow(ref[2], g[2], a)
            elif sig == SIGNAL_HEADING:
                self.ref[0] = _follow(self.ref[0], 0, a)
        if (not (flags & (_F_EX_ACTIVE | _F_GRIP_ACTIVE))
                or (sig != SIGNAL_FORCE and not (flags & _F_GRIP_ACTIVE))):
            a = _gain(tdt, _INV_BASE_DOWN if self.f_lp < self.f_base else self.inv_track)
            self.f_base = _follow(self.f_base, self.f_lp, a)
        if sig == SIGNAL_FORCE:
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
        # tilt and heading: ex hold_us times how long the puck has been still below
        # ON (the hold time is reported for force only), counted from when the
        # signal fell below ON: the gyro low-pass lags the return from a hold
        was = self.flags & _F_EX_ACTIVE
        r = self._step(self.ex, _F_EX_ACTIVE, s, t, tdt,
                       self.on_thr if sig == SIGNAL_FORCE else _BIG, self.off_thr,
                       self.end_thr, self.max_rep_ms * 1000)
        if not was and (self.flags & _F_EX_ACTIVE) and sig != SIGNAL_FORCE:
            # a slow drift: it was still before (at most 1 s of it: the gyro low-pass
            # lags the start of a real rep, which must not look like a settled rest)
            self.ex[2] = (_STILL_SHIFT_MS // 2 if self.still_ms > _STILL_SHIFT_MS // 2 else self.still_ms) * 1000
            self.valley = _NO_VALLEY
        if r == 1:
            self._primary_end(t)
        elif r == 2:
            self._new_rest()
        elif (self.flags & _F_EX_ACTIVE) and sig != SIGNAL_FORCE:
            a = self.on_thr if self.target > 0 else 2 * self.off_thr
            ex = self.ex
            if self.still_ms > 0 and s < a and s < 2 * self.off_thr:
                ex[2] = (ex[2] + tdt) & _M32
            else:
                ex[2] = 0
            if ex[3] >= a and 2 * s < ex[3] and ex[2] >= _STILL_END_MS * 1000:
                # back more than halfway from a full excursion and still: rep over, rest is here
                self.flags &= ~_F_EX_ACTIVE
                self._primary_end(t)
                self._new_rest()
            elif ex[2] >= _STILL_SHIFT_MS * 1000 and (self.target > 0 or s < 2 * self.off_thr - self.end_thr):
                # held still well below ON: the patient has settled in a new rest
                self.flags &= ~_F_EX_ACTIVE
                self._new_rest()
        elif sig == SIGNAL_FORCE:
            a = self.on_thr if self.target > 0 else 2 * self.off_thr
            if self.flags & _F_EX_ACTIVE:
                ex = self.ex
                if ex[3] >= a and s < a and 2 * s < ex[3] and self.still_ms >= _FLAT_END_MS:
                    # back more than halfway from a full press and flat: rep over, rest is here
                    self.flags &= ~_F_EX_ACTIVE
                    self._primary_end(t)
                    self._new_rest()
            elif (self.flags & _F_GRIP_ACTIVE) and self.still_ms >= _STILL_SHIFT_MS:
                # flat below OFF with the baseline frozen by a grip: new rest
                self._new_rest()
        if self.grip_on > 0:
            s = self.f_lp - self.f_base
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
        if not (self.flags & _F_STARTED):
            self.flags |= _F_STARTED
            self.t_prev = t_us
            self.t_tick = t_us
            self.f_lp = f
            self.f_base = f
            ak = self.accel_k
            g[0] = ax * ak
            g[1] = ay * ak
            g[2] = az * ak
            _normalise(g)
            if self.signal == SIGNAL_TILT:
                self.ref[0], self.ref[1], self.ref[2] = g
            elif self.signal == SIGNAL_HEADING:
                self.ref[1] = gx * 65536 + (gy & 0xFFFF)  # the rates of the previous sample
                self.ref[2] = gz
            return 0  # gyro bias and its low-pass start at 0
        dt = (t_us - self.t_prev) & _M32
        self.t_prev = t_us
        if dt > _DT_MAX_US:
            dt = _DT_MAX_US
        self.f_lp = _follow(self.f_lp, f, _gain(dt, _INV_LP << 6))
        if self.signal != SIGNAL_FORCE:
            glp = self.glp
            bias = self.bias
            gx8 = gx * 256
            gy8 = gy * 256
            gz8 = gz * 256
            a = _gain(dt, _INV_GLP << 6)
            glp[0] = _follow(glp[0], gx8, a)
            glp[1] = _follow(glp[1], gy8, a)
            glp[2] = _follow(glp[2], gz8, a)
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
            if self.signal == SIGNAL_HEADING:
                # trapezoid: a gap is integrated with the mean of the rates at its ends
                ref = self.ref
                m = ref[1] & 0xFFFF
                m -= (m & 0x8000) << 1
                gx8 = (gx + (ref[1] >> 16)) * 128
                gy8 = (gy + m) * 128
                gz8 = (gz + ref[2]) * 128
                ref[1] = gx * 65536 + (gy & 0xFFFF)
                ref[2] = gz
            th0 = _clamp30(((gx8 - bias[0]) * k) >> 12)
            th1 = _clamp30(((gy8 - bias[1]) * k) >> 12)
            th2 = _clamp30(((gz8 - bias[2]) * k) >> 12)
            g0, g1, g2 = g
            if self.signal == SIGNAL_HEADING:
                a = (th0 * g0 + th1 * g1 + th2 * g2) >> 28
                # still, turning slower than 20 dps: gyro bias drift, not a turn
                if self.still_ms < _STILL_YAW_MS or a > dt * 6 or a < -dt * 6:
                    self.ref[0] = _clamp30(self.ref[0] + a)
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
        if ((t_us - self.t_tick) & _M32) < TICK_US:
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

    def calibrate_target(self):
        """Arm a calibration rep: the next full excursion sets the target (and counts)."""
        self.q = [e for e in self.q if e[0] != 0]
        self.n_cand = 0
        self.flags |= _F_CALIB
        self.flags &= ~_F_EX_ACTIVE
        self._set_target(0)

    def finish(self):
        """End of the set: a pending auto target settles. Returns events released."""
        before = self._released()
        if self.target == 0 and self.n_cand > 0:
            self._settle(0)
        return self._released() - before


def make_detector(exercise_id, target_milli=0, on_pct=0, off_pct=0, rate_hz=0,
                  accel_lsb_per_g=8192, gyro_lsb_per_dps_x1000=65536, force_mn_per_lsb=50):
    """A detector for an exercise of the catalogue (the C module's when present).

    target_milli 0 = auto target; on_pct/off_pct 0 = the exercise default;
    rate_hz is the nominal rate (the detector follows the sample times).
    """
    try:
        import opdetect
        return opdetect.make_detector(exercise_id, target_milli, on_pct, off_pct, rate_hz,
                                      accel_lsb_per_g, gyro_lsb_per_dps_x1000, force_mn_per_lsb)
    except ImportError:
        pass
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

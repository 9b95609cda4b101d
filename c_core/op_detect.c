// Rep, partial-rep and grip detection (see op_detect.h and ../shared/exercises.md).
//
// firmware/openpuck_fw/detect.py is this file's MicroPython twin, function for
// function in the same order (its header comment maps the names), so a diff
// here maps onto a diff there. Both take their numbers from
// protocol/detector.toml (c_core/op_detect_params.h, generated). They give the
// same state after every sample (op_detect_state(); tests/test_twin_parity.py
// compares it sample by sample) and so the same events. Some steps here take
// shortcuts the twin does not (e.g. Newton's square root where the CPU
// divides, gain6(), the fast path of mul12_clamp30(), the event queue as a
// ring); each gives exactly the value of the twin's plain step. A change of
// value goes into both. Rules that keep the values equal:
// - no value overflows int32 except where int64_t is written out;
// - no division or right shift of a negative number except arithmetic right
//   shifts (floor, as Python's >>);
// - u32 times wrap (Python masks with 0xffffffff).
//
// Fixed-point units: gravity vectors Q24 (1 g = 2^24), rotation per step Q28
// rad, angle Q24 rad, rates raw * 256, filter gains Q16, signals milli-units;
// translation: gravity-free acceleration Q14 g, velocity um/s, position um.
#define OP_DETECT_INTERNAL // op_detect_params.h: the bare internal constants
#include "op_detect.h"

#include <string.h>

#include "op_messages.h"

typedef char op_detect_size_check[(sizeof(op_detect_t) <= 256) ? 1 : -1];

#define F_STARTED (1u)
#define F_AUTO (2u)   // the target was learned: it follows the recent excursions
#define F_GRIP_ACTIVE (4u)
#define F_BIAS_OK (8u)
#define F_CALIB (16u)
#define F_CAND (32u)  // flags / F_CAND: auto-target candidates pending (0..7)
// phase: where the counting rule is, the side reps go, the first excursion
#define PH_MASK (3u)
#define PH_REST (0u)
#define PH_OUT (1u)   // leaving rest, toward the far end
#define PH_BACK (2u)  // turned at the far end, on the way back
#define PH_NEG (4u)   // reps go to lower values of the signal
#define PH_SIDE (8u)  // the side is known
#define PH_FIRST (16u) // the first excursion: it may have started away from rest
#define PH_HIST_SHIFT (5)
#define PH_HIST_MASK (0x9fu)
// the numbers (DT_MAX_US, TURN_PCT, INV_*, ...): op_detect_params.h

static const struct {
    uint8_t id, signal, on_pct, off_pct;
    int32_t target;
    uint16_t min_ms, max_ms;
} op_ex_tab[OP_EXERCISE_COUNT] = {
#define X(id, name, sig, target, on, off, mn, mx) \
    {id, sig, (uint8_t)((on) * 100.0 + 0.5), (uint8_t)((off) * 100.0 + 0.5), \
     (int32_t)((target) * 1000.0 + 0.5), (uint16_t)((mn) * 1000.0 + 0.5), (uint16_t)((mx) * 1000.0 + 0.5)},
    OP_EXERCISE_TABLE(X)
#undef X
};

// atan(2^-i) in millidegrees
static const int32_t op_atan_tab[6] = {45000, 26565, 14036, 7125, 3576, 1790};

// floor(sqrt(x)). Any exact method gives the twin's result; where the CPU
// divides in hardware (not ARMv6-M), Newton from above takes ~5 steps
// instead of the 16 of the bit-by-bit method.
uint32_t op_isqrt32(uint32_t x) {
#if defined(__ARM_ARCH_6M__) || defined(OP_ISQRT_BITWISE)
    uint32_t res = 0, bit = 1u << 30;
    while (bit > x) {
        bit >>= 2;
    }
    while (bit) {
        if (x >= res + bit) {
            x -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    return res;
#else
    uint32_t r, y = x, s = 0;
    if (x < 2) {
        return x;
    }
#if defined(__GNUC__)
    // 4^s <= x < 4^(s+1) from the leading zeros: start at or above sqrt(x)
    s = (31u - (uint32_t)__builtin_clz(x)) >> 1;
    y = x >> (2 * s);
#else
    if (y >= 1u << 16) {
        y >>= 16;
        s += 8;
    }
    if (y >= 1u << 8) {
        y >>= 8;
        s += 4;
    }
    if (y >= 1u << 4) {
        y >>= 4;
        s += 2;
    }
    if (y >= 1u << 2) {
        y >>= 2;
        s += 1;
    }
#endif
    // 4^s <= x < 4^(s+1): start at or above sqrt(x)
    r = y >= 2 ? 2u << s : (3u << s) >> 1;
    y = (r + x / r) >> 1;
    while (y < r) {
        r = y;
        y = (r + x / r) >> 1;
    }
    return r;
#endif
}

// Angle of (x, y), y >= 0: 6 CORDIC steps leave less than 1.8 degrees, where
// atan(y / x) = y / x within 0.001 degree.
int32_t op_atan2_mdeg(int32_t y, int32_t x) {
    int32_t z = 0, i, xn;
    if (x == 0 && y == 0) {
        return 0;
    }
    while (y > 0xffff || x > 0xffff || x < -0xffff) { // 2^15 < max(|x|, y) < 2^17
        x >>= 1;
        y >>= 1;
    }
    while (y < 0x8000 && x < 0x8000 && x > -0x8000) {
        x *= 2;
        y *= 2;
    }
    if (x < 0) { // rotate by -90 degrees: (x, y) -> (y, -x)
        xn = y;
        y = -x;
        x = xn;
        z = 90000;
    }
    for (i = 0; i < 6; i++) {
        if (y > 0) {
            xn = x + (y >> i);
            y = y - (x >> i);
            z += op_atan_tab[i];
        } else {
            xn = x - (y >> i);
            y = y + (x >> i);
            z -= op_atan_tab[i];
        }
        x = xn;
    }
    if (y >= 0) {
        z += y * MDEG_PER_RAD / x;
    } else {
        z -= -y * MDEG_PER_RAD / x;
    }
    return z < 0 ? 0 : z;
}

// Q16 gain dt / tau from inv = 2^32 / tau_us (< 2^16), at most 1: dt * inv
// >> 16 in 32 bits, exactly, as (dt >> 16) * inv + ((dt & 0xffff) * inv >> 16)
// (where the CPU has a 32x32->64 multiply, that one multiply is cheaper)
static int32_t gain(uint32_t dt, uint32_t inv) {
#if defined(__ARM_ARCH_6M__)
    uint32_t a = (dt >> 16) * inv + (((dt & 0xffffu) * inv) >> 16);
#else
    uint32_t a = (uint32_t)(((uint64_t)dt * inv) >> 16);
#endif
    return a > 65536u ? 65536 : (int32_t)a;
}

// the same for inv = i << 6 (i < 2^12, dt <= DT_MAX_US): dt * i >> 10
static int32_t gain6(uint32_t dt, uint32_t i) {
    uint32_t a = (dt * i) >> 10;
    return a > 65536u ? 65536 : (int32_t)a;
}

static int32_t follow(int32_t x, int32_t target, int32_t a) {
    return x + (int32_t)(((int64_t)(target - x) * a) >> 16);
}

op_status_t op_detect_config_default(op_detect_config_t *cfg, uint8_t exercise_id) {
    int i;
    if (!cfg) {
        return OP_ERR_ARG;
    }
    for (i = 0; i < OP_EXERCISE_COUNT; i++) {
        if (op_ex_tab[i].id == exercise_id) {
            memset(cfg, 0, sizeof(*cfg));
            cfg->signal = op_ex_tab[i].signal;
            cfg->on_pct = op_ex_tab[i].on_pct;
            cfg->off_pct = op_ex_tab[i].off_pct;
            // auto target: excursions below the catalogue target / divisor
            // are never reps (protocol/detector.toml)
            cfg->auto_floor_milli = op_ex_tab[i].target / OP_DETECT_FLOOR_DIVISOR(cfg->signal);
            cfg->min_rep_ms = op_ex_tab[i].min_ms;
            cfg->max_rep_ms = op_ex_tab[i].max_ms;
#define X(field, value) cfg->field = (value);
            OP_DETECT_DEFAULTS(X)
#undef X
            return OP_OK;
        }
    }
    return OP_ERR_ARG;
}

// out of line: the type's own bounds are among the limits, and a comparison
// the type makes always true would warn
static int out_of(int64_t v, int64_t lo, int64_t hi) {
    return v < lo || v > hi;
}

op_status_t op_detect_check(const op_detect_config_t *cfg) {
    if (!cfg) {
        return OP_ERR_ARG;
    }
#define X(field, lo, hi) \
    if (out_of((int64_t)cfg->field, (lo), (hi))) { \
        return OP_ERR_CONFIG; \
    }
    OP_DETECT_LIMITS(X)
#undef X
    if (!OP_DETECT_SIGNAL_OK(cfg->signal) || cfg->off_pct >= cfg->on_pct || cfg->hyst_pct >= cfg->off_pct ||
        cfg->min_rep_ms > cfg->max_rep_ms || cfg->grip_off_mn > cfg->grip_on_mn ||
        (cfg->grip_on_mn > 0 && cfg->grip_off_mn < 2)) {
        return OP_ERR_CONFIG;
    }
    return OP_OK;
}

static int32_t pct(int32_t target, int32_t p) {
    return target / 100 * p + target % 100 * p / 100;
}

static void set_target(op_detect_t *d, int32_t target) {
    d->target = target;
    if (target <= 0) { // auto target: the floor stands in for OFF until it settles
        d->off_thr = d->floor;
        d->on_thr = 0x7fffffff;
    } else {
        d->on_thr = pct(target, d->on_pct);
        d->off_thr = pct(target, d->off_pct);
    }
}

// A rep has ended when the signal is back within END of rest.
static int32_t end_thr(const op_detect_t *d) {
    return d->target > 0 ? d->off_thr - pct(d->target, d->hyst_pct) : d->floor - d->floor / 4;
}

op_status_t op_detect_init(op_detect_t *d, const op_detect_config_t *cfg) {
    op_status_t st;
    if (!d) {
        return OP_ERR_ARG;
    }
    st = op_detect_check(cfg);
    if (st != OP_OK) {
        return st;
    }
    memset(d, 0, sizeof(*d));
    d->signal = cfg->signal;
    d->on_pct = cfg->on_pct;
    d->off_pct = cfg->off_pct;
    d->hyst_pct = cfg->hyst_pct;
    d->min_rep_ms = cfg->min_rep_ms;
    d->max_rep_ms = cfg->max_rep_ms;
    d->grip_on = cfg->grip_on_mn;
    d->grip_off = cfg->grip_off_mn;
    d->accel_k = (uint16_t)((1u << 24) / cfg->accel_lsb_per_g);
    d->gyro_k = (int32_t)((uint32_t)PI_Q32_PER_DEG / cfg->gyro_lsb_per_dps_x1000 * 1000u +
                          (uint32_t)PI_Q32_PER_DEG % cfg->gyro_lsb_per_dps_x1000 * 1000u /
                              cfg->gyro_lsb_per_dps_x1000);
    // mdps -> raw * 16: mdps * 16 * lsb_per_dps_x1000 / 10^6
    d->still_thr = (uint16_t)((uint32_t)cfg->still_mdps * 16u / 1000u * cfg->gyro_lsb_per_dps_x1000 / 1000u);
    d->force_k = cfg->force_mn_per_lsb;
    d->inv_fuse = (uint16_t)(4294967u / cfg->fuse_tau_ms);
    d->inv_track = (uint16_t)(4294967u / cfg->track_tau_ms);
    d->inv_bias = (uint16_t)(4294967u / cfg->bias_tau_ms);
    d->floor = cfg->auto_floor_milli;
    d->phase = PH_FIRST | (cfg->signal == OP_SIGNAL_FORCE ? PH_SIDE : 0);
    set_target(d, cfg->target_milli);
    return OP_OK;
}

int32_t op_detect_target(const op_detect_t *d) {
    return d->target;
}

// Append an event; pending auto-target candidates have kind 0.
static void enqueue(op_detect_t *d, uint8_t kind, uint16_t count, const op_excursion_t *ex,
                    uint32_t t_end, uint32_t hold_ms) {
    op_detect_event_t *e;
    if (d->q_len >= OP_DETECT_QUEUE) {
        return; // full: the caller did not pop; the newest is lost
    }
    e = &d->q[(d->q_head + d->q_len) % OP_DETECT_QUEUE];
    d->q_len++;
    e->kind = kind;
    e->reserved = 0;
    e->count = count;
    e->t_start_us = ex->t_start;
    e->t_peak_us = ex->t_peak;
    e->t_end_us = t_end;
    e->amplitude_milli = ex->peak;
    e->hold_ms = hold_ms;
}

// The target n excursions p[] point to: the median of those at least half as
// large as the largest, and not below 3/4 of the largest (a target too low
// counts tremor as reps). p[] is sorted in place.
static int32_t learn(int32_t *p, int n) {
    int32_t t, m = 0;
    int i, j, k = 0;
    for (i = 0; i < n; i++) { // insertion sort
        t = p[i];
        for (j = i; j > 0 && p[j - 1] > t; j--) {
            p[j] = p[j - 1];
        }
        p[j] = t;
    }
    if (n == 0) {
        return 0;
    }
    m = p[n - 1];
    while (k < n && p[k] < m / 2) {
        k++;
    }
    n -= k;
    p += k;
    if (n & 1) {
        t = p[n / 2];
    } else {
        t = p[n / 2 - 1] / 2 + p[n / 2] / 2 + (p[n / 2 - 1] % 2 + p[n / 2] % 2) / 2;
    }
    return t < m - m / 4 ? m - m / 4 : t;
}

// A learned target follows the last OP_DETECT_HIST excursions: movement
// before the set (placing the ball) must not fix it for the whole set, and
// a patient's range changes within a set. It is AUTO_TARGET_PCT of what they
// reach, so that their usual reps reach it.
static void remember(op_detect_t *d, int32_t amp) {
    int i, n = (d->phase >> PH_HIST_SHIFT) & 3;
    for (i = OP_DETECT_HIST - 1; i > 0; i--) {
        d->hist[i] = d->hist[i - 1];
    }
    d->hist[0] = (uint16_t)(amp >> 8 > 0xffff ? 0xffff : amp >> 8);
    if (n < OP_DETECT_HIST) {
        n++;
        d->phase = (uint8_t)((d->phase & PH_HIST_MASK) | (n << PH_HIST_SHIFT));
    }
}

static void relearn(op_detect_t *d) {
    int32_t p[OP_DETECT_HIST], t;
    int i, n = (d->phase >> PH_HIST_SHIFT) & 3;
    for (i = 0; i < n; i++) {
        p[i] = (int32_t)d->hist[i] << 8;
    }
    t = pct(learn(p, n), OP_DETECT_AUTO_TARGET_PCT(d->signal));
    if (t > 0) {
        set_target(d, t);
    }
}

// The pending candidates decide the target (or a calibration rep of level
// forced does). Then each becomes a rep, a partial or nothing; with
// reps_only, what falls short of the target is nothing: small movements
// before a first large rep were the ball taken up or the arm settling.
static void settle(op_detect_t *d, int32_t forced, int reps_only) {
    int32_t p[OP_DETECT_QUEUE], t;
    int i, j, n = 0;
    op_detect_event_t *e;
    for (i = 0; i < d->q_len; i++) {
        e = &d->q[(d->q_head + i) % OP_DETECT_QUEUE];
        if (e->kind == 0) {
            p[n++] = e->amplitude_milli;
        }
    }
    if (forced > 0) {
        t = forced;
    } else if (n == 0) {
        return;
    } else {
        t = learn(p, n);
        d->flags |= F_AUTO;
    }
    set_target(d, pct(t, OP_DETECT_AUTO_TARGET_PCT(d->signal)));
    for (i = 0; i < d->q_len; i++) {
        e = &d->q[(d->q_head + i) % OP_DETECT_QUEUE];
        if (e->kind != 0) {
            continue;
        }
        if (e->amplitude_milli >= d->on_thr) {
            e->kind = OP_DETECT_KIND_REP;
            e->count = ++d->reps;
            if (d->flags & F_AUTO) {
                remember(d, e->amplitude_milli);
            }
        } else if (!reps_only && e->amplitude_milli >= 2 * d->off_thr - end_thr(d)) {
            e->kind = OP_DETECT_KIND_PARTIAL;
            e->count = ++d->partials;
            e->hold_ms = 0;
        } else {
            e->kind = 0xff; // dropped below
        }
    }
    // remove dropped entries, keeping order
    for (i = 0, j = 0; i < d->q_len; i++) {
        e = &d->q[(d->q_head + i) % OP_DETECT_QUEUE];
        if (e->kind != 0xff) {
            if (i != j) {
                d->q[(d->q_head + j) % OP_DETECT_QUEUE] = *e;
            }
            j++;
        }
    }
    d->q_len = (uint8_t)j;
    d->flags &= (uint8_t)(F_CAND - 1u);
}

// The excursion in d->ex (amplitude amp) is over at t.
static void rep_end(op_detect_t *d, int32_t amp, uint32_t t, int cut) {
    op_excursion_t *ex = &d->ex;
    uint32_t dur = t - ex->t_start;
    uint32_t hold = d->signal == OP_SIGNAL_FORCE ? ex->hold_us / 1000u : 0;
    int32_t small = 2 * d->off_thr - end_thr(d);
    d->phase &= (uint8_t)~PH_FIRST;
    // a rep cut off by the end of the set is as short as the set made it
    if ((dur < (uint32_t)d->min_rep_ms * 1000u && !cut) || amp < small) {
        return;
    }
    ex->peak = amp;
    if (d->target > 0) {
        if (amp >= d->on_thr) {
            enqueue(d, OP_DETECT_KIND_REP, ++d->reps, ex, t, hold);
        } else {
            enqueue(d, OP_DETECT_KIND_PARTIAL, ++d->partials, ex, t, 0);
        }
        if (d->flags & F_AUTO) {
            remember(d, amp);
            relearn(d);
        }
        return;
    }
    // an auto-target candidate: its hold above ON cannot be known, ON was not
    enqueue(d, 0, 0, ex, t, d->signal == OP_SIGNAL_FORCE ? OP_REP_HOLD_MS_UNKNOWN : 0);
    d->flags = (uint8_t)(d->flags + F_CAND);
    if (d->flags & F_CALIB) {
        d->flags &= (uint8_t)~F_CALIB;
        settle(d, amp, 0);
    } else if (amp >= OP_DETECT_FIRST_REP_FLOORS(d->signal) * d->floor) {
        settle(d, 0, 1);
    } else if (d->flags >= OP_DETECT_AUTO_REPS * F_CAND) {
        settle(d, 0, 0);
    }
}

// g's components clamped to 8 g; returns the largest |component|.
static int32_t clamp_8g(int32_t *g) {
    int32_t a, i, m = 0;
    for (i = 0; i < 3; i++) {
        g[i] = g[i] > 0x7ffffff ? 0x7ffffff : (g[i] < -0x7ffffff ? -0x7ffffff : g[i]);
        a = g[i] < 0 ? -g[i] : g[i];
        m = a > m ? a : m;
    }
    return m;
}

// Scale g to |g| = 2^24 (components clamped to 8 g first; a vector below 1/2 g
// is doubled until it is not, else its 12-bit q would leave |g| far from 1 and
// the products of g downstream would overflow).
static void normalise(int32_t *g) {
    int32_t a, i, q[3], m = clamp_8g(g);
    uint32_t n;
    while (m > 0 && m < 1 << 23) {
        for (i = 0; i < 3; i++) {
            g[i] *= 2;
        }
        m *= 2;
    }
    for (i = 0; i < 3; i++) {
        q[i] = g[i] >> 12;
    }
    n = op_isqrt32((uint32_t)(q[0] * q[0]) + (uint32_t)(q[1] * q[1]) + (uint32_t)(q[2] * q[2]));
    if (n > 0) {
        a = (int32_t)((1u << 28) / n);
        for (i = 0; i < 3; i++) {
            g[i] = (int32_t)(((int64_t)g[i] * a) >> 16);
        }
    }
}

static int32_t clamp30(int64_t x) {
    return x > 0x3fffffff ? 0x3fffffff : (x < -0x3fffffff ? -0x3fffffff : (int32_t)x);
}

// clamp30((a * b) >> 12), out of line: rare
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int32_t mul12_clamp30_slow(int32_t a, int32_t b) {
    return clamp30(((int64_t)a * b) >> 12);
}

// clamp30((a * b) >> 12): the clamp is only needed when the product's high
// word leaves -1023..1023 (|a * b| >= 1023 * 2^32), which it does not in use
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int32_t mul12_clamp30(int32_t a, int32_t b) {
    int64_t p = (int64_t)a * b;
    if ((uint32_t)(p >> 32) + 1023u <= 2046u) {
        return (int32_t)(p >> 12);
    }
    return mul12_clamp30_slow(a, b);
}

static int32_t mdeg_of(int32_t ang) { // Q24 rad -> millidegrees
    return (int32_t)(((int64_t)ang * MDEG_PER_RAD) >> 24);
}

// The signal the counting rule runs on, milli units (signed).
static int32_t signal_now(const op_detect_t *d) {
    return d->signal == OP_SIGNAL_FORCE ? d->f_lp : d->signal == OP_SIGNAL_ROTATION ? mdeg_of(d->ang) : d->ang;
}

// Rotation: learn the movement's axis from the low-passed rate while it
// moves (the weight u_e grows with the rate and leaks with tau 3 s, INV_AXIS), and
// pull the angle about it toward what gravity shows, where gravity shows it.
static void rotation_tick(op_detect_t *d, uint32_t tdt) {
    int32_t w[3], acc[3], a, i, n2, m, sh, c0, c1, c2, g0, g1, g2, y, x, gu, g0u, e, err;
    uint32_t n;
    for (i = 0; i < 3; i++) {
        w[i] = (d->glp[i] - d->bias[i]) >> 4; // raw * 16
    }
    n2 = (w[0] >> 6) * (w[0] >> 6) + (w[1] >> 6) * (w[1] >> 6) + (w[2] >> 6) * (w[2] >> 6);
    a = ((int32_t)d->still_thr * AXIS_MOVING) >> 6; // raw * 16 >> 6
    if (n2 > a * a) {
        if ((w[0] >> 6) * d->u[0] + (w[1] >> 6) * d->u[1] + (w[2] >> 6) * d->u[2] < 0) { // one axis, either way
            w[0] = -w[0];
            w[1] = -w[1];
            w[2] = -w[2];
        }
        a = gain(tdt, INV_AXIS);
        e = (int32_t)(((int64_t)d->u_e * (65536 - a)) >> 16);
        m = 0;
        for (i = 0; i < 3; i++) { // raw * 1024
            acc[i] = (int32_t)(((int64_t)e * d->u[i]) >> 14) + (int32_t)(((int64_t)w[i] * a) >> 10);
            n2 = acc[i] < 0 ? -acc[i] : acc[i];
            m = n2 > m ? n2 : m;
        }
        for (sh = 0; (m >> sh) >= 0x8000; sh++) {
        }
        for (i = 0; i < 3; i++) {
            acc[i] >>= sh;
        }
        n = op_isqrt32((uint32_t)(acc[0] * acc[0]) + (uint32_t)(acc[1] * acc[1]) + (uint32_t)(acc[2] * acc[2]));
        if (n > 0) {
            d->u_e = (int32_t)(n << sh);
            for (i = 0; i < 3; i++) { // Q14, no division of a negative
                d->u[i] = (int16_t)(acc[i] < 0 ? -(-acc[i] * 16384 / (int32_t)n) : acc[i] * 16384 / (int32_t)n);
            }
        }
    }
    if (d->u_e == 0) {
        return;
    }
    // gravity: the angle about u from g0 to g, weighted by how well it shows
    g0 = d->g[0] >> 10;
    g1 = d->g[1] >> 10;
    g2 = d->g[2] >> 10;
    c0 = (g1 * d->g0[2] - g2 * d->g0[1]) >> 14; // g x g0, Q14
    c1 = (g2 * d->g0[0] - g0 * d->g0[2]) >> 14;
    c2 = (g0 * d->g0[1] - g1 * d->g0[0]) >> 14;
    y = (c0 * d->u[0] + c1 * d->u[1] + c2 * d->u[2]) >> 14;
    gu = (g0 * d->u[0] + g1 * d->u[1] + g2 * d->u[2]) >> 14;
    g0u = (d->g0[0] * d->u[0] + d->g0[1] * d->u[1] + d->g0[2] * d->u[2]) >> 14;
    x = ((g0 * d->g0[0] + g1 * d->g0[1] + g2 * d->g0[2]) >> 14) - ((gu * g0u) >> 14);
    n2 = ((x * x) >> 14) + ((y * y) >> 14); // Q14: |g x u|^2 |g0 x u|^2, 0 for a vertical axis
    if (n2 < GRAV_MIN_W) {
        return; // the axis is near vertical: gravity does not see the angle
    }
    e = y < 0 ? -op_atan2_mdeg(-y * 2, x * 2) : op_atan2_mdeg(y * 2, x * 2);
    err = e - mdeg_of(d->ang);
    while (err > 180000) { // the nearest turn
        err -= 360000;
    }
    while (err < -180000) {
        err += 360000;
    }
    a = gain(tdt, INV_GRAV);
    err = (int32_t)(((int64_t)err * a) >> 16);
    err = (err * (n2 >> 2)) >> 12;
    d->ang = clamp30((int64_t)d->ang + ((err * Q24_PER_MDEG_X16) >> 4));
}

// Translation (g0, u, u_e, ang: see protocol/detector.toml): learn the axis
// from the low-passed gravity-free acceleration g0 (Q14 g) while it moves,
// either sign (u moves toward it by tdt / tau of 0.1 g's worth, then is
// normalised); integrate the velocity to the position, both leaking to 0
// while moving so that back-to-back reps with no still moment do not drift
// away (still, the velocity is held at 0).
static void translation_tick(op_detect_t *d, uint32_t tdt) {
    int32_t l[3], c[3], a, i, m = 0;
    uint32_t n;
    for (i = 0; i < 3; i++) {
        l[i] = d->g0[i];
        a = l[i] < 0 ? -l[i] : l[i];
        m = a > m ? a : m;
    }
    if (m > TR_MOVING_Q14) {
        if (l[0] * d->u[0] + l[1] * d->u[1] + l[2] * d->u[2] < 0) { // one axis, either way
            l[0] = -l[0];
            l[1] = -l[1];
            l[2] = -l[2];
        }
        a = gain(tdt, INV_AXIS) * TR_AXIS_K; // 1 g / TR_AXIS_K of l weighs a as much as the whole u
        a = a > 16384 ? 16384 : a;    // a long gap: one step of at most 2 g / 4 keeps c^2 in 32 bits
        for (i = 0; i < 3; i++) {
            c[i] = d->u[i] + ((l[i] * a + 32768) >> 16);
        }
        n = op_isqrt32((uint32_t)(c[0] * c[0]) + (uint32_t)(c[1] * c[1]) + (uint32_t)(c[2] * c[2]));
        if (n > 0) {
            for (i = 0; i < 3; i++) { // Q14, no division of a negative
                d->u[i] = (int16_t)(c[i] < 0 ? -(-c[i] * 16384 / (int32_t)n) : c[i] * 16384 / (int32_t)n);
            }
        }
    }
    if (d->still_ms < TR_ZERO_MS) {
        d->ang = clamp30((int64_t)d->ang + (((int64_t)d->u_e * gain(tdt, TR_INV_S)) >> 16));
        a = gain(tdt, INV_TR_LEAK);
        d->u_e = follow(d->u_e, 0, a);
        d->ang = follow(d->ang, 0, a);
    }
}

// Translation, every sample: the gravity-free acceleration a - g (Q14 g,
// within +-2 g) integrated along u into the velocity (um/s; a . u < 2^16, the
// dt term < 2^15: push() zeroes it when still) and low-passed into g0;
// returns g0's largest |component| (a puck slid on a table does not turn:
// still also needs it near 0). Out of line: rotation keeps its registers.
static int32_t translation_accel(op_detect_t *d, int32_t ax, int32_t ay, int32_t az, uint32_t dt) {
    int32_t acc[3], l[3], a = gain6(dt, INV_TR_LP), i, v, m = 0;
    acc[0] = ax;
    acc[1] = ay;
    acc[2] = az;
    for (i = 0; i < 3; i++) {
        v = ((acc[i] * d->accel_k) >> 10) - (d->g[i] >> 10);
        l[i] = v > 0x7fff ? 0x7fff : (v < -0x7fff ? -0x7fff : v);
        d->g0[i] = (int16_t)follow(d->g0[i], l[i], a);
        v = d->g0[i] < 0 ? -d->g0[i] : d->g0[i];
        m = v > m ? v : m;
    }
    a = (l[0] * d->u[0] + l[1] * d->u[1] + l[2] * d->u[2]) >> 14;
    d->u_e = clamp30((int64_t)d->u_e + ((a * (int32_t)((dt * TR_UM_PER_S) >> 14)) >> 8));
    return m;
}

// One step of a threshold excursion (grip events) on signal s. Returns 0 (nothing), 1 (an
// excursion ended), 2 (an excursion lasted too long and was dropped).
static int excursion_step(op_excursion_t *ex, uint8_t *flags, uint8_t bit, int32_t s,
                          uint32_t t, uint32_t tdt, int32_t on, int32_t off, int32_t end,
                          uint32_t max_us) {
    if (!(*flags & bit)) {
        if (s >= off) {
            *flags |= bit;
            ex->t_start = t;
            ex->t_peak = t;
            ex->peak = s;
            ex->hold_us = 0;
        }
        return 0;
    }
    if (s > ex->peak) {
        ex->peak = s;
        ex->t_peak = t;
    }
    if (s >= on) {
        ex->hold_us += tdt;
    }
    if (s < end) {
        *flags &= (uint8_t)~bit;
        return 1;
    }
    if ((uint32_t)(t - ex->t_start) > max_us) {
        *flags &= (uint8_t)~bit;
        return 2;
    }
    return 0;
}

// One step of the counting rule: a zig-zag of the signal x about its rest.
static void count_tick(op_detect_t *d, int32_t x, uint32_t t, uint32_t tdt) {
    int32_t on = d->on_thr, off = d->off_thr, end = end_thr(d), y, fall, a;
    int32_t full = d->target > 0 ? on : 2 * off;
    int neg = (d->phase & PH_NEG) != 0, force = d->signal == OP_SIGNAL_FORCE;
    uint32_t max_us = (uint32_t)d->max_rep_ms * 1000u;
    int32_t amp;
    y = neg ? d->rest - x : x - d->rest;
    switch (d->phase & PH_MASK) {
        case PH_REST:
            // the rest follows slow drift while still (force: flat, or falling)
            if (force && y < 0) {
                d->rest = follow(d->rest, x, gain(tdt, INV_BASE_DOWN));
            } else if (d->still_ms >= (force ? FLAT_TRACK_MS : STILL_TRACK_MS)) {
                d->rest = follow(d->rest, x, gain(tdt, d->inv_track));
                // seen still at rest long enough that it is not the gyro's
                // low-pass starting at 0 in a set that begins mid-rep: the set
                // did not start in the middle of a rep
                // (translation: once its gyro bias is known, its still being stricter)
                if (force || (d->signal == OP_SIGNAL_TRANSLATION ? (d->flags & F_BIAS_OK) != 0
                                                                : d->still_ms >= FIRST_REST_MS)) {
                    d->phase &= (uint8_t)~PH_FIRST;
                }
            }
            y = neg ? d->rest - x : x - d->rest;
            if (!force && !(d->phase & PH_SIDE)) {
                // the first excursion twice OFF (1.5 floors while an auto target
                // is unknown) tells the side reps go: a small first wobble does not
                a = d->target > 0 ? 2 * off : off + off / 2;
                if (y >= a || y <= -a) {
                    if (y < 0) {
                        d->phase ^= PH_NEG;
                        y = -y;
                    }
                    d->phase |= PH_SIDE;
                } else {
                    if (y < end && y > -end) {
                        d->ex.t_start = t;
                    }
                    return;
                }
            } else if (!force && y < 0) {
                // past rest, away from the reps' side: the rest is further back
                d->rest = x;
                d->ex.t_start = t;
                return;
            } else if (y < off) {
                if (y < end) {
                    d->ex.t_start = t;
                }
                return;
            }
            d->phase = (uint8_t)((d->phase & ~PH_MASK) | PH_OUT);
            d->ex.peak = y;
            d->ext = y;
            d->ex.t_peak = t;
            d->ex.hold_us = 0;
            return;
        case PH_OUT:
            if (y > d->ex.peak) {
                // the peak's time (ext: the value there) moves while the signal rises
                // faster than a quarter of its height a second: a hold that creeps up keeps
                // the time it began
                if ((int64_t)(y - d->ext) * 4000000 >= (int64_t)(uint32_t)(t - d->ex.t_peak) * y) {
                    d->ex.t_peak = t;
                    d->ext = y;
                }
                d->ex.peak = y;
            }
            if (y >= on) {
                d->ex.hold_us += tdt;
            }
            a = d->ex.peak * TURN_PCT / 100;
            if (d->ex.peak >= off && d->ex.peak - y >= (a > end ? a : end)) {
                d->phase = (uint8_t)((d->phase & ~PH_MASK) | PH_BACK);
                d->ext = y;
            } else if ((uint32_t)(t - d->ex.t_start) > max_us ||
                       (!force && d->still_ms >= STILL_SHIFT_MS && d->ex.peak < 2 * off - end)) {
                // too long, or settled still short of even a partial rep: the patient
                // is at rest here (a small rep held at its top stays an excursion: it
                // is a partial rep when it comes back, not a new rest)
                d->rest = x;
                d->phase = (uint8_t)((d->phase & ~PH_MASK) | PH_REST);
                d->ex.t_start = t;
            }
            return;
        default: // PH_BACK
            if (y < d->ext) {
                d->ext = y;
            }
            if (y >= on) {
                d->ex.hold_us += tdt;
            }
            fall = d->ex.peak - d->ext;
            amp = (d->phase & PH_FIRST) && fall > d->ex.peak ? fall : d->ex.peak;
            if ((d->phase & PH_FIRST) && !force && d->ex.peak < full && y <= -2 * off &&
                (uint32_t)(t - d->ex.t_start) >= WOBBLE_US) {
                // the first excursion was a slow shift of posture (a part of a rep cut
                // off by the start of the recording is quick): the first rep goes the other way
                d->phase = (uint8_t)((d->phase & ~PH_MASK) | PH_OUT) ^ PH_NEG;
                d->ex.t_start = t;
                d->ex.t_peak = t;
                d->ex.peak = -y;
                d->ext = -y;
                return;
            }
            // back within END of rest, or within REP_END_PCT of its own height:
            // a rep far above the target ends where a rep of its size would,
            // and rest is where it ended until the signal settles lower
            a = d->ex.peak / 100 * REP_END_PCT;
            if (!(d->phase & PH_FIRST) && y < (a > end ? a : end)) {
                rep_end(d, amp, t, 0);
                if (y >= off) {
                    d->rest = x;
                }
                d->phase = (uint8_t)((d->phase & ~PH_MASK) | PH_REST);
                d->ex.t_start = t;
                return;
            }
            a = fall * TURN_PCT / 100;
            if (y - d->ext >= (a > end ? a : end)) {
                // out again before coming back within END: back to back reps,
                // or a dip inside one rep when it fell back less than halfway
                d->phase = (uint8_t)((d->phase & ~PH_MASK) | PH_OUT);
                if (2 * fall >= d->ex.peak) {
                    rep_end(d, amp, t, 0);
                    d->rest = neg ? d->rest - d->ext : d->rest + d->ext;
                    d->ex.t_start = t;
                    d->ex.peak = y - d->ext;
                    d->ex.t_peak = t;
                    d->ex.hold_us = 0;
                }
                d->ext = d->ex.peak;
                return;
            }
            if ((d->still_ms >= STILL_END_MS && 2 * fall >= d->ex.peak) ||
                (uint32_t)(t - d->ex.t_start) > max_us) {
                // still, back more than halfway: the rep is over, the rest is here now
                if (2 * fall >= d->ex.peak) {
                    rep_end(d, amp, t, 0);
                }
                d->rest = x;
                d->phase = (uint8_t)((d->phase & ~PH_MASK) | PH_REST);
                d->ex.t_start = t;
            }
            return;
    }
}

static void tick(op_detect_t *d, uint32_t t, uint32_t tdt) {
    int32_t s, a;
    int r;
    if (d->signal == OP_SIGNAL_ROTATION) {
        normalise(d->g);
        rotation_tick(d, tdt);
    } else if (d->signal == OP_SIGNAL_TRANSLATION) {
        // |g| is left to follow |a|: an accelerometer reading 1.02 g at rest
        // would otherwise show 0.02 g of acceleration forever
        clamp_8g(d->g);
        translation_tick(d, tdt);
    } else {
        // force: still_ms times how long the force has stayed within OFF / 4 of
        // glp[0] (the force is flat; glp[] is unused by the force signal)
        a = d->f_lp - d->glp[0];
        if (a > d->off_thr / 4 || a < -(d->off_thr / 4)) {
            d->glp[0] = d->f_lp;
            d->still_ms = 0;
        } else {
            a = (int32_t)(d->still_ms + (tdt >> 10));
            d->still_ms = (uint16_t)(a > 60000 ? 60000 : a);
        }
    }
    count_tick(d, signal_now(d), t, tdt);
    // the queue is full when this tick settled an auto target (three reps at
    // once): the grip waits for the next tick, a grip ending now would be lost
    if (d->grip_on > 0 && d->q_len < OP_DETECT_QUEUE) {
        // grips are measured from the counter's rest on force exercises, else
        // from a baseline of their own that follows drift between grips
        if (d->signal != OP_SIGNAL_FORCE && !(d->flags & F_GRIP_ACTIVE)) {
            a = gain(tdt, d->f_lp < d->f_base ? INV_BASE_DOWN : d->inv_track);
            d->f_base = follow(d->f_base, d->f_lp, a);
        }
        s = d->f_lp - (d->signal == OP_SIGNAL_FORCE ? d->rest : d->f_base);
        r = excursion_step(&d->grip, &d->flags, F_GRIP_ACTIVE, s, t, tdt, d->grip_on,
                           d->grip_off, d->grip_off - d->grip_off / 4, (uint32_t)d->max_rep_ms * 1000u);
        if (r == 1 && d->grip.peak >= d->grip_on &&
            (uint32_t)(t - d->grip.t_start) >= (uint32_t)d->min_rep_ms * 1000u) {
            enqueue(d, OP_DETECT_KIND_GRIP, ++d->grips, &d->grip, t, d->grip.hold_us / 1000u);
        } else if (r == 2) {
            d->f_base = d->f_lp;
        }
    }
}

void op_detect_probe(const op_detect_t *d, op_detect_probe_t *p) {
    p->signal = signal_now(d);
    p->rest = d->rest;
    p->on = d->on_thr;
    p->off = d->off_thr;
    p->end = end_thr(d);
    p->target = d->target;
    p->phase = (uint8_t)(d->phase & PH_MASK);
    p->side = (int8_t)(!(d->phase & PH_SIDE) ? 0 : (d->phase & PH_NEG) ? -1 : 1);
}

static int released(const op_detect_t *d) {
    int i, n = 0;
    for (i = 0; i < d->q_len; i++) {
        n += d->q[(d->q_head + i) % OP_DETECT_QUEUE].kind != 0;
    }
    return n;
}

void op_detect_state(const op_detect_t *d, int64_t out[OP_DETECT_STATE_N]) {
    int i, k = 0, n_hist = (d->phase >> PH_HIST_SHIFT) & 3;
    out[k++] = d->t_prev;
    out[k++] = d->t_tick;
    out[k++] = d->flags & (F_CAND - 1u);
    out[k++] = d->flags / F_CAND;
    out[k++] = d->phase & ((1u << PH_HIST_SHIFT) - 1u);
    out[k++] = n_hist;
    for (i = 0; i < OP_DETECT_HIST; i++) {
        out[k++] = i < n_hist ? d->hist[i] : 0;
    }
    out[k++] = d->reps;
    out[k++] = d->partials;
    out[k++] = d->grips;
    out[k++] = d->still_ms;
    out[k++] = d->target;
    out[k++] = d->on_thr;
    out[k++] = d->off_thr;
    out[k++] = d->rest;
    out[k++] = d->ext;
    out[k++] = d->f_lp;
    out[k++] = d->f_base;
    for (i = 0; i < 3; i++) {
        out[k++] = d->g[i];
    }
    for (i = 0; i < 3; i++) {
        out[k++] = d->g0[i];
    }
    for (i = 0; i < 3; i++) {
        out[k++] = d->w_prev[i];
    }
    for (i = 0; i < 3; i++) {
        out[k++] = d->u[i];
    }
    out[k++] = d->u_e;
    out[k++] = d->ang;
    for (i = 0; i < 3; i++) {
        out[k++] = d->bias[i];
    }
    for (i = 0; i < 3; i++) {
        out[k++] = d->glp[i];
    }
    out[k++] = d->ex.t_start;
    out[k++] = d->ex.t_peak;
    out[k++] = d->ex.hold_us;
    out[k++] = d->ex.peak;
    out[k++] = d->grip.t_start;
    out[k++] = d->grip.t_peak;
    out[k++] = d->grip.hold_us;
    out[k++] = d->grip.peak;
    out[k++] = d->q_len;
    out[k++] = released(d);
}

int op_detect_push(op_detect_t *d, uint32_t t_us, int32_t ax, int32_t ay, int32_t az,
                   int32_t gx, int32_t gy, int32_t gz, int32_t force) {
    uint32_t dt;
    int32_t a, f, w0, w1, w2, th0, th1, th2, g0, g1, g2, a0, a1, a2, m;
    int32_t k, lm;
    int64_t m2;
    int before, gap;
    f = force * (int32_t)d->force_k;
    if (!(d->flags & F_STARTED)) {
        d->flags |= F_STARTED;
        d->t_prev = t_us;
        d->t_tick = t_us;
        d->ex.t_start = t_us;
        d->f_lp = f;
        d->f_base = f;
        if (d->signal == OP_SIGNAL_FORCE) {
            d->rest = f;
        }
        d->g[0] = ax * d->accel_k;
        d->g[1] = ay * d->accel_k;
        d->g[2] = az * d->accel_k;
        if (d->signal == OP_SIGNAL_TRANSLATION) { // |g| follows |a|; g0 (low-passed a - g) starts at 0
            clamp_8g(d->g);
        } else {
            normalise(d->g);
            d->g0[0] = (int16_t)(d->g[0] >> 10);
            d->g0[1] = (int16_t)(d->g[1] >> 10);
            d->g0[2] = (int16_t)(d->g[2] >> 10);
        }
        d->w_prev[0] = (int16_t)gx;
        d->w_prev[1] = (int16_t)gy;
        d->w_prev[2] = (int16_t)gz;
        return 0; // gyro bias and its low-pass start at 0
    }
    dt = t_us - d->t_prev;
    d->t_prev = t_us;
    // a gap, or time going backward (a reboot mid-set, a host's bad clock): it
    // counts as DT_MAX_US and a tick follows, which keeps |g| near 1 g (without
    // it, steps backward that stay within one tick integrate 200 ms each and g
    // overflows)
    gap = dt > DT_MAX_US;
    if (gap) {
        dt = DT_MAX_US;
    }
    d->f_lp = follow(d->f_lp, f, gain6(dt, INV_LP));
    if (d->signal != OP_SIGNAL_FORCE) {
        // stillness and gyro bias
        a = gain6(dt, INV_GLP);
        d->glp[0] = follow(d->glp[0], gx * 256, a);
        d->glp[1] = follow(d->glp[1], gy * 256, a);
        d->glp[2] = follow(d->glp[2], gz * 256, a);
        w0 = d->glp[0] - d->bias[0];
        w1 = d->glp[1] - d->bias[1];
        w2 = d->glp[2] - d->bias[2];
        m = w0 < 0 ? -w0 : w0;
        m = (w1 < 0 ? -w1 : w1) > m ? (w1 < 0 ? -w1 : w1) : m;
        m = (w2 < 0 ? -w2 : w2) > m ? (w2 < 0 ? -w2 : w2) : m;
        lm = d->signal == OP_SIGNAL_TRANSLATION ? translation_accel(d, ax, ay, az, dt) : 0;
        // until the bias is known, still is judged 1.5x looser: a bias larger than
        // the still threshold would otherwise never be learned
        // (translation: a gyro bias not yet learned tilts g off a, so the gyro
        // alone says when the bias learns)
        if (m < (int32_t)d->still_thr * ((d->flags & F_BIAS_OK) ? 16 : 24)) {
            a = (int32_t)(d->still_ms + (dt >> 10));
            d->still_ms = (uint16_t)(lm > TR_STILL_Q14 ? 0 : a > 60000 ? 60000 : a);
            // (translation: g turned by the gyro agreeing with a for 1.5 s bounds the bias)
            if (d->still_ms >= (d->signal == OP_SIGNAL_TRANSLATION ? TR_BIAS_OK_MS : STILL_BIAS_OK_MS)) {
                d->flags |= F_BIAS_OK;
            }
            // (translation: nor while the hand clearly accelerates, as it
            // turns slowly on the way)
            if (!(d->flags & F_BIAS_OK) || lm <= TR_MOVING_Q14) {
                a = gain(dt, (d->flags & F_BIAS_OK) ? d->inv_bias : INV_BIAS_FAST);
                d->bias[0] = follow(d->bias[0], d->glp[0], a);
                d->bias[1] = follow(d->bias[1], d->glp[1], a);
                d->bias[2] = follow(d->bias[2], d->glp[2], a);
            }
        } else {
            d->still_ms = 0;
        }
        // rotate the gravity estimate by the gyro: dg = g x theta
        k = (int32_t)(((int64_t)d->gyro_k * (dt * 4295u)) >> 32); // Q32 rad per LSB over dt (dt * 4295 < 2^30)
        // trapezoid: a gap (dropped samples in a fast turn) is integrated with
        // the mean of the rates at its two ends
        w0 = (gx + d->w_prev[0]) * 128;
        w1 = (gy + d->w_prev[1]) * 128;
        w2 = (gz + d->w_prev[2]) * 128;
        d->w_prev[0] = (int16_t)gx;
        d->w_prev[1] = (int16_t)gy;
        d->w_prev[2] = (int16_t)gz;
        th0 = mul12_clamp30(w0 - d->bias[0], k);
        th1 = mul12_clamp30(w1 - d->bias[1], k);
        th2 = mul12_clamp30(w2 - d->bias[2], k);
        g0 = d->g[0];
        g1 = d->g[1];
        g2 = d->g[2];
        if (d->signal == OP_SIGNAL_ROTATION) { // rotation about the learned axis, Q24 rad
            a = (int32_t)(((int64_t)th0 * d->u[0] + (int64_t)th1 * d->u[1] + (int64_t)th2 * d->u[2]) >> 18);
            d->ang = clamp30((int64_t)d->ang + a);
        } else if (d->still_ms >= TR_ZERO_MS) { // translation: still, so not moving
            d->u_e = 0;
        }
        g0 += (int32_t)(((int64_t)d->g[1] * th2 - (int64_t)d->g[2] * th1) >> 28);
        g1 += (int32_t)(((int64_t)d->g[2] * th0 - (int64_t)d->g[0] * th2) >> 28);
        g2 += (int32_t)(((int64_t)d->g[0] * th1 - (int64_t)d->g[1] * th0) >> 28);
        // pull towards the accelerometer, less while it reads far from 1 g
        a0 = ax * d->accel_k;
        a1 = ay * d->accel_k;
        a2 = az * d->accel_k;
        m2 = (int64_t)(a0 >> 12) * (a0 >> 12) + (int64_t)(a1 >> 12) * (a1 >> 12) +
             (int64_t)(a2 >> 12) * (a2 >> 12) - (1 << 24);
        a = gain(dt, d->inv_fuse);
        if (m2 > (1 << 22) || m2 < -(1 << 22)) {
            a >>= 3;
        }
        if (d->signal == OP_SIGNAL_TRANSLATION && (d->flags & F_BIAS_OK) && d->still_ms < TR_ZERO_MS) {
            // translation, not still: g pulled toward a would take in the
            // movement's own acceleration and give it back as the hand stops
            a >>= TR_FUSE_SHIFT;
        }
        d->g[0] = follow(g0, a0, a);
        d->g[1] = follow(g1, a1, a);
        d->g[2] = follow(g2, a2, a);
    }
    if (!gap && (uint32_t)(t_us - d->t_tick) < OP_DETECT_TICK_US) {
        return 0;
    }
    before = released(d);
    tick(d, t_us, t_us - d->t_tick);
    d->t_tick = t_us;
    return released(d) - before;
}

size_t op_detect_run(op_detect_t *d, const uint32_t *t_us, const int16_t *imu,
                     const int32_t *force, size_t n, op_detect_event_t *out,
                     size_t cap, size_t *n_out) {
    size_t i, k = 0;
    for (i = 0; i < n && cap - k >= OP_DETECT_QUEUE + 2; i++, imu += 6) {
        if (op_detect_push(d, t_us[i], imu[0], imu[1], imu[2], imu[3], imu[4], imu[5], force[i])) {
            while (op_detect_pop(d, &out[k])) {
                k++;
            }
        }
    }
    *n_out = k;
    return i;
}

// The oldest released event; pending auto-target candidates (kind 0) stay.
int op_detect_pop(op_detect_t *d, op_detect_event_t *ev) {
    int i, j;
    for (i = 0; i < d->q_len; i++) {
        if (d->q[(d->q_head + i) % OP_DETECT_QUEUE].kind != 0) {
            break;
        }
    }
    if (i == d->q_len) {
        return 0;
    }
    *ev = d->q[(d->q_head + i) % OP_DETECT_QUEUE];
    for (j = i; j > 0; j--) { // close the gap from the head side
        d->q[(d->q_head + j) % OP_DETECT_QUEUE] = d->q[(d->q_head + j - 1) % OP_DETECT_QUEUE];
    }
    d->q_head = (uint8_t)((d->q_head + 1) % OP_DETECT_QUEUE);
    d->q_len--;
    return 1;
}

void op_detect_calibrate(op_detect_t *d) {
    uint8_t i, j = 0;
    for (i = 0; i < d->q_len; i++) { // forget pending candidates
        if (d->q[(d->q_head + i) % OP_DETECT_QUEUE].kind != 0) {
            d->q[(d->q_head + j++) % OP_DETECT_QUEUE] = d->q[(d->q_head + i) % OP_DETECT_QUEUE];
        }
    }
    d->q_len = j;
    d->flags &= (uint8_t)(F_CAND - 1u);
    d->flags &= (uint8_t)~F_AUTO;
    d->flags |= F_CALIB;
    // a rep under way is forgotten: the calibration rep starts from rest
    d->phase = (uint8_t)(d->phase & (PH_SIDE | PH_NEG));
    d->ex.t_start = d->t_tick;
    set_target(d, 0);
}

// End of the set: the last rep counts when the set ends on its way back (or
// at the far end), then a pending auto target settles.
int op_detect_finish(op_detect_t *d) {
    int before = released(d);
    uint8_t ph = d->phase & PH_MASK;
    int32_t fall = d->ex.peak - d->ext;
    // out and held still short of a rep when the set ends: a new posture
    if (ph == PH_OUT && d->ex.peak >= d->off_thr &&
        (d->ex.peak >= d->on_thr || d->signal == OP_SIGNAL_FORCE || d->still_ms < STILL_SHIFT_MS)) {
        rep_end(d, d->ex.peak, d->t_tick, 1);
    } else if (ph == PH_BACK) {
        rep_end(d, (d->phase & PH_FIRST) && fall > d->ex.peak ? fall : d->ex.peak, d->t_tick, 1);
    }
    d->phase = (uint8_t)((d->phase & ~PH_MASK) | PH_REST);
    if (d->target == 0 && d->flags >= F_CAND) {
        settle(d, 0, 0);
    }
    return released(d) - before;
}

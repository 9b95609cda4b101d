// Rep, partial-rep and grip detection for one exercise (../shared/exercises.md).
//
// Integer arithmetic only, so the MicroPython twin
// (firmware/openpuck_fw/detect.py) gives the same events, field for field.
// No malloc: the caller owns an op_detect_t (at most 256 bytes).
//
//   op_detect_config_t cfg;
//   op_detect_config_default(&cfg, OP_EXERCISE_ARM_RAISE);   // auto target
//   if (op_detect_init(&d, &cfg) != OP_OK) ...               // runs op_detect_check()
//   n = op_detect_push(&d, t_us, ax, ay, az, gx, gy, gz, force);   // raw counts
//   while (op_detect_pop(&d, &ev)) ...
//   op_detect_finish(&d);   // end of the set: settles a pending auto target
#ifndef OP_DETECT_H
#define OP_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "op_messages.h"
#include "op_status.h"

// event kinds: enums.event_kind of protocol/messages.toml
#define OP_DETECT_KIND_REP OP_EVENT_KIND_REP
#define OP_DETECT_KIND_PARTIAL OP_EVENT_KIND_PARTIAL_REP
#define OP_DETECT_KIND_GRIP OP_EVENT_KIND_GRIP

// OP_DETECT_QUEUE, _AUTO_REPS, _HIST, _TICK_US, the config's defaults and
// limits: generated from protocol/detector.toml (tools/gen_tables.py)
#include "op_detect_params.h"

typedef struct {
    uint8_t signal;            // OP_SIGNAL_FORCE, _ROTATION or _TRANSLATION
    uint8_t on_pct;            // ON, % of target (2..100)
    uint8_t off_pct;           // OFF, % of target (1..on_pct-1)
    uint8_t hyst_pct;          // end of a rep at OFF - hyst (0..off_pct-1)
    int32_t target_milli;      // mN, millidegrees or um; 0 = auto target
    int32_t auto_floor_milli;  // auto target: smallest excursion considered
    uint16_t min_rep_ms;       // shorter excursions are ignored
    uint16_t max_rep_ms;       // longer excursions are ignored (new rest)
    uint16_t accel_lsb_per_g;  // 8192 for +-4 g
    uint16_t force_mn_per_lsb; // 50 for 0.05 N
    uint32_t gyro_lsb_per_dps_x1000; // 65536 for +-500 dps
    uint16_t fuse_tau_ms;      // gyro/accel complementary filter
    uint16_t track_tau_ms;     // rest reference and force baseline follow drift
    uint16_t bias_tau_ms;      // gyro bias learned while still
    uint16_t still_mdps;       // still: low-passed gyro within this of the bias
    int32_t grip_on_mn;        // grip events on non-force exercises (0 = none)
    int32_t grip_off_mn;
} op_detect_config_t;

typedef struct {
    uint8_t kind;              // OP_DETECT_KIND_*
    uint8_t reserved;
    uint16_t count;            // reps (or partials, or grips) so far, this one included
    uint32_t t_start_us;       // device time, wraps at 2^32
    uint32_t t_peak_us;
    uint32_t t_end_us;
    int32_t amplitude_milli;   // peak excursion: mN, millidegrees or um
    uint32_t hold_ms;          // time at or above ON (force), else 0
} op_detect_event_t;

// One excursion of a signal away from rest (internal).
typedef struct {
    uint32_t t_start, t_peak, hold_us;
    int32_t peak;
} op_excursion_t;

typedef struct {
    // thresholds (milli units) and scales, fixed at init or when the target settles
    int32_t target, on_thr, off_thr, floor;
    uint16_t min_rep_ms, max_rep_ms;
    int32_t grip_on, grip_off;
    int32_t gyro_k;            // raw -> Q32 rad/s
    uint16_t still_thr;        // in raw gyro * 16
    uint16_t accel_k;          // raw -> Q24 g
    uint16_t force_k, inv_fuse, inv_track, inv_bias;
    uint8_t signal, on_pct, off_pct, hyst_pct;
    uint8_t flags, phase, q_head, q_len;       // flags: F_* and the pending candidates (x32); phase: PH_*
    uint16_t reps, partials, grips, still_ms;
    uint32_t t_prev, t_tick;
    // sensor fusion
    int32_t g[3];              // gravity direction in the body frame, Q24 (|g| = 1 at ticks)
    int16_t g0[3];             // rotation: gravity at the first sample, Q14; translation: low-passed a - g, Q14 g
    int16_t w_prev[3];         // the previous sample's raw rates (trapezoid over gaps)
    int16_t u[3];              // rotation, translation: the movement's axis, Q14 unit vector
    uint16_t hist[OP_DETECT_HIST]; // auto target: recent excursions, milli units >> 8
    int32_t u_e;               // rotation: weight of the axis estimate, raw rate * 1024; translation: velocity, um/s
    int32_t ang;               // rotation: angle, Q24 rad; translation: position, um
    int32_t bias[3];           // gyro bias, raw * 256
    int32_t glp[3];            // low-passed gyro, raw * 256 (force: glp[0] anchors the flat test)
    int32_t f_lp, f_base;      // force, mN; f_base: the grip baseline
    int32_t rest, ext;         // counting: rest level of the signal, the extreme of this half
    op_excursion_t ex, grip;
    op_detect_event_t q[OP_DETECT_QUEUE];
} op_detect_t;

// What the counter sees now (openpuck detect --explain), milli units.
typedef struct {
    int32_t signal, rest, on, off, end, target;
    uint8_t phase;             // 0 at rest, 1 going out, 2 coming back
    int8_t side;               // +1 or -1: the direction a rep goes from rest (0: not known yet)
} op_detect_probe_t;

// Fill cfg with the catalogue defaults of exercise_id (auto target).
op_status_t op_detect_config_default(op_detect_config_t *cfg, uint8_t exercise_id);
// OP_OK, or OP_ERR_CONFIG when a field is out of range, OP_ERR_ARG for NULL.
op_status_t op_detect_check(const op_detect_config_t *cfg);
op_status_t op_detect_init(op_detect_t *d, const op_detect_config_t *cfg);
// One sample in raw counts; returns the number of events it released (>= 0).
int op_detect_push(op_detect_t *d, uint32_t t_us, int32_t ax, int32_t ay, int32_t az,
                   int32_t gx, int32_t gy, int32_t gz, int32_t force);
// n samples: t_us[n], imu[n*6] (ax ay az gx gy gz), force[n]. Events are popped
// into out[] (cap slots); stops early when fewer than OP_DETECT_QUEUE + 2
// slots are free. Returns the number of samples consumed; *n_out events.
size_t op_detect_run(op_detect_t *d, const uint32_t *t_us, const int16_t *imu,
                     const int32_t *force, size_t n, op_detect_event_t *out,
                     size_t cap, size_t *n_out);
// 1 and *ev filled when an event was waiting, else 0.
int op_detect_pop(op_detect_t *d, op_detect_event_t *ev);
// Arm a calibration rep: the next full excursion sets the target (and counts).
void op_detect_calibrate(op_detect_t *d);
// End of the set: an auto target still pending settles on the excursions seen.
// Returns the number of events released.
int op_detect_finish(op_detect_t *d);
// The target in use (milli units), 0 while an auto target is not settled.
int32_t op_detect_target(const op_detect_t *d);
// The signal, rest and thresholds the counting rule works on (at the last tick).
void op_detect_probe(const op_detect_t *d, op_detect_probe_t *p);
// The whole state, unpacked, in the order of protocol/detector.toml's
// [state] fields (the twin's state() gives the same values: the parity test
// compares them sample by sample).
void op_detect_state(const op_detect_t *d, int64_t out[OP_DETECT_STATE_N]);

// Integer helpers (exported for the unit tests and the twin's parity tests).
uint32_t op_isqrt32(uint32_t x);
int32_t op_atan2_mdeg(int32_t y, int32_t x); // y >= 0; 0..180000 millidegrees

#endif // OP_DETECT_H

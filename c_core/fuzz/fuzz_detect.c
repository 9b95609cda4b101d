// libFuzzer harness: the rep, partial-rep and grip detector (op_detect_*).
//
// Input:
//   byte 0       exercise (index into the catalogue)
//   byte 1       bit 0: the config fields below replace the catalogue
//                defaults (a config op_detect_check refuses must be refused by
//                op_detect_init too; the defaults are used then); bits 1-2:
//                the event capacity given to op_detect_run; bit 3: no second
//                detector through op_detect_run (half the time per input)
//   [config]     when byte 1 bit 0: target, auto floor, on/off/hyst %,
//                min/max rep ms, scales, time constants, still, grip on/off
//   records of 19 bytes, one sample each, in raw counts as a puck reads them
//   (int16 accelerometer and gyroscope, uint16 force):
//     ctrl u8    bits 0-1 time: +5000 us (200 Hz), +dt & 0xffff (a gap up to
//                65 ms), +dt (any u32: huge gaps, the 2^32 wrap, backward),
//                -(dt & 0xffff) (time going backward);
//                bit 2: extreme values (each channel at its minimum or maximum);
//                bit 3: op_detect_calibrate before the sample;
//                bit 4: op_detect_finish after it (the end of a set);
//                bits 5-7: the sample repeated 1, 2, 3, 5, 10, 20, 50 or 100
//                times (a held position, a long squeeze), time advancing
//     dt u32, ax ay az gx gy gz int16, force u16
//
// Two detectors see the same samples: A through op_detect_push one by one
// (popping after each), B through op_detect_run in blocks (the SDK's path),
// unless byte 1 bit 3 says A alone.
// Properties: the sanitizers stay quiet (no overflow, no out-of-bounds, no
// shift of a negative), push returns exactly the number of events pop then
// gives, run always makes progress, A and B give the same events, field for
// field; every event has a known kind, its count is one more than the last
// of its kind (none is lost), a positive amplitude; the target is never
// negative.
#include "fuzz_util.h"
#include "op_detect.h"

#define REC_SIZE (19)
#define MAX_SAMPLES (20000)
#define MAX_EVENTS (4096)

static const uint8_t exercises[] = {
#define X(id, name, sig, target, on, off, mn, mx) id,
    OP_EXERCISE_TABLE(X)
#undef X
};

static const uint16_t repeats[8] = {1, 2, 3, 5, 10, 20, 50, 100};

typedef struct {
    uint32_t t[MAX_SAMPLES];
    int16_t imu[MAX_SAMPLES * 6];
    int32_t force[MAX_SAMPLES];
    uint8_t calibrate[MAX_SAMPLES];  // op_detect_calibrate before sample i
    uint8_t finish[MAX_SAMPLES];     // op_detect_finish after sample i
    size_t n;
} samples_t;

typedef struct {
    op_detect_event_t ev[MAX_EVENTS];
    size_t n;
    uint16_t last_count[4];
} events_t;

static samples_t S;
static events_t EA, EB;

static void add_event(events_t *e, const op_detect_event_t *ev) {
#ifdef FUZZ_VERBOSE
    fprintf(stderr, "%s kind %u count %u t %u..%u amp %d hold %u\n", e == &EA ? "A" : "B",
            ev->kind, ev->count, ev->t_start_us, ev->t_end_us, ev->amplitude_milli, ev->hold_ms);
#endif
    FUZZ_CHECK(ev->kind == OP_DETECT_KIND_REP || ev->kind == OP_DETECT_KIND_PARTIAL ||
               ev->kind == OP_DETECT_KIND_GRIP);
    FUZZ_CHECK(ev->count == (uint16_t)(e->last_count[ev->kind & 3] + 1));
    e->last_count[ev->kind & 3] = ev->count;
    FUZZ_CHECK(ev->amplitude_milli > 0);
    if (e->n < MAX_EVENTS) {
        e->ev[e->n] = *ev;
    }
    e->n++;
}

static void read_config(fuzz_in_t *in, op_detect_config_t *cfg) {
    cfg->target_milli = (int32_t)fuzz_u32(in);
    cfg->auto_floor_milli = (int32_t)fuzz_u32(in);
    cfg->on_pct = fuzz_u8(in);
    cfg->off_pct = fuzz_u8(in);
    cfg->hyst_pct = fuzz_u8(in);
    cfg->min_rep_ms = fuzz_u16(in);
    cfg->max_rep_ms = fuzz_u16(in);
    cfg->accel_lsb_per_g = fuzz_u16(in);
    cfg->force_mn_per_lsb = fuzz_u16(in);
    cfg->gyro_lsb_per_dps_x1000 = fuzz_u32(in);
    cfg->fuse_tau_ms = fuzz_u16(in);
    cfg->track_tau_ms = fuzz_u16(in);
    cfg->bias_tau_ms = fuzz_u16(in);
    cfg->still_mdps = fuzz_u16(in);
    cfg->grip_on_mn = (int32_t)fuzz_u32(in);
    cfg->grip_off_mn = (int32_t)fuzz_u32(in);
}

static void read_samples(fuzz_in_t *in) {
    uint32_t t = 0;
    S.n = 0;
    while (in->n > 0 && S.n < MAX_SAMPLES) {
        uint8_t ctrl = fuzz_u8(in);
        uint32_t dt = fuzz_u32(in);
        int32_t v[7];
        for (int c = 0; c < 6; c++) {
            v[c] = (int16_t)fuzz_u16(in);
        }
        v[6] = fuzz_u16(in);
        if (ctrl & 4) {
            for (int c = 0; c < 6; c++) {
                v[c] = (v[c] & 1) ? INT16_MAX : INT16_MIN;
            }
            v[6] = (v[6] & 1) ? UINT16_MAX : 0;
        }
        size_t rep = repeats[ctrl >> 5];
        for (size_t k = 0; k < rep && S.n < MAX_SAMPLES; k++) {
            switch (ctrl & 3) {
            case 0:
                t += 5000u;
                break;
            case 1:
                t += dt & 0xffffu;
                break;
            case 2:
                t += dt;
                break;
            default:
                t -= dt & 0xffffu;
                break;
            }
            size_t i = S.n++;
            S.t[i] = t;
            for (int c = 0; c < 6; c++) {
                S.imu[6 * i + (size_t)c] = (int16_t)v[c];
            }
            S.force[i] = v[6];
            S.calibrate[i] = k == 0 && (ctrl & 8);
            S.finish[i] = k == rep - 1 && (ctrl & 16);
        }
    }
}

static void pop_all(op_detect_t *d, events_t *e, int expected) {
    op_detect_event_t ev;
    int got = 0;
    while (op_detect_pop(d, &ev)) {
        add_event(e, &ev);
        got++;
    }
    FUZZ_CHECK(got == expected);
    FUZZ_CHECK(op_detect_target(d) >= 0);
}

static void run_push(const op_detect_config_t *cfg) {
    static op_detect_t d;
    op_detect_probe_t probe;
    FUZZ_CHECK(op_detect_init(&d, cfg) == OP_OK);
    for (size_t i = 0; i < S.n; i++) {
        if (S.calibrate[i]) {
            op_detect_calibrate(&d);
        }
        const int16_t *s = &S.imu[6 * i];
        int n = op_detect_push(&d, S.t[i], s[0], s[1], s[2], s[3], s[4], s[5], S.force[i]);
        FUZZ_CHECK(n >= 0 && n <= OP_DETECT_QUEUE);
        pop_all(&d, &EA, n);
        op_detect_probe(&d, &probe);
        FUZZ_CHECK(probe.phase <= 2 && probe.side >= -1 && probe.side <= 1);
        if (S.finish[i]) {
            int f = op_detect_finish(&d);
            FUZZ_CHECK(f >= 0 && f <= OP_DETECT_QUEUE);
            pop_all(&d, &EA, f);
        }
    }
    int f = op_detect_finish(&d);
    pop_all(&d, &EA, f);
}

static void run_blocks(const op_detect_config_t *cfg, size_t cap) {
    static op_detect_t d;
    op_detect_event_t *out = malloc(cap * sizeof *out);  // exact: ASan sees an overrun
    FUZZ_CHECK(out != NULL);
    FUZZ_CHECK(op_detect_init(&d, cfg) == OP_OK);
    size_t i = 0;
    while (i < S.n) {
        // a block ends where a calibrate or a finish falls
        size_t end = i + 1;
        while (end < S.n && !S.calibrate[end] && !S.finish[end - 1]) {
            end++;
        }
        if (S.calibrate[i]) {
            op_detect_calibrate(&d);
        }
        while (i < end) {
            size_t n_out = 0;
            size_t used = op_detect_run(&d, &S.t[i], &S.imu[6 * i], &S.force[i], end - i, out,
                                        cap, &n_out);
            FUZZ_CHECK(used > 0 && used <= end - i && n_out <= cap);
            for (size_t k = 0; k < n_out; k++) {
                add_event(&EB, &out[k]);
            }
            i += used;
        }
        if (S.finish[end - 1]) {
            int f = op_detect_finish(&d);
            pop_all(&d, &EB, f);
        }
    }
    int f = op_detect_finish(&d);
    pop_all(&d, &EB, f);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_in_t in = {data, size};
    uint8_t ex = exercises[fuzz_u8(&in) % sizeof exercises];
    uint8_t opts = fuzz_u8(&in);
    op_detect_config_t cfg;
    FUZZ_CHECK(op_detect_config_default(&cfg, ex) == OP_OK);
    FUZZ_CHECK(op_detect_check(&cfg) == OP_OK);
    if (opts & 1) {
        op_detect_config_t fz = cfg;
        read_config(&in, &fz);
        op_status_t st = op_detect_check(&fz);
        FUZZ_CHECK(st == OP_OK || st == OP_ERR_CONFIG);
        static op_detect_t probe_init;
        FUZZ_CHECK(op_detect_init(&probe_init, &fz) == st);
        if (st == OP_OK) {
            cfg = fz;
        }
    }
    size_t cap = OP_DETECT_QUEUE + 2 + (size_t)((opts >> 1) & 3) * 3;
    read_samples(&in);
    memset(&EA, 0, sizeof EA);
    memset(&EB, 0, sizeof EB);
    run_push(&cfg);
    if (opts & 8) {
        return 0;
    }
    run_blocks(&cfg, cap);
#ifdef FUZZ_VERBOSE
    fprintf(stderr, "exercise %u: %zu samples, %zu events\n", ex, S.n, EA.n);
#endif
    FUZZ_CHECK(EA.n == EB.n);
    size_t m = EA.n < MAX_EVENTS ? EA.n : MAX_EVENTS;
    for (size_t k = 0; k < m; k++) {
        FUZZ_CHECK(memcmp(&EA.ev[k], &EB.ev[k], sizeof EA.ev[k]) == 0);
    }
    return 0;
}

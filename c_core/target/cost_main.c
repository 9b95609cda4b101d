// Instructions per sample (detector) and per byte (framing) on the emulated
// Cortex-M3: see insn_count.h for how QEMU counts them. `make -C c_core
// m3-cost` builds and runs it. Every figure is an exact instruction count of
// the call (argument set-up included, the counter reads excluded); cycles on
// a real Cortex-M3 are higher (loads 2, taken branches 2-4, divisions 2-12).
//
// Output lines (tests/test_cross.py and the report read them):
//   detect <recording> <signal> target <auto|fixed> samples N mean M p50 H p99 P max X
//          rate_hz R insns_per_s S
//   frame <what> bytes B insns I per_byte R
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "insn_count.h"
#include "op_messages.h"
#include "recording.h"

#if OP_HAVE_DETECT
#include "op_detect.h"
#endif
#if OP_HAVE_FRAME
#include "op_cobs.h"
#include "op_crc32.h"
#include "op_frame.h"
#endif

static op_insn_cal_t cal;

static void print_x100(uint64_t x100)
{
    printf("%lu.%02lu", (unsigned long)(x100 / 100u), (unsigned long)(x100 % 100u));
}

// Smaller boards (the 16 KB microbit) build with fewer samples and without
// the host-side stream decoder.
#ifndef COST_MAX_SAMPLES
#define COST_MAX_SAMPLES (40000u)
#endif
#ifndef COST_STREAM
#define COST_STREAM 1
#endif

#if OP_HAVE_DETECT
#define MAX_SAMPLES (COST_MAX_SAMPLES)
static uint32_t cost[MAX_SAMPLES];
static op_detect_t det;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static const char *signal_name(uint8_t signal)
{
    switch (signal) {
    case OP_SIGNAL_FORCE: return "force";
    case OP_SIGNAL_ROTATION: return "rotation";
    case OP_SIGNAL_TRANSLATION: return "translation";
    default: return "unknown";
    }
}

// the exercise's own signal (the catalogue's)
static int detect_cost(const op_recording_t *rec, int32_t target_milli)
{
    op_detect_config_t cfg;
    if (op_detect_config_default(&cfg, rec->exercise) != OP_OK) {
        return 1;
    }
    cfg.target_milli = target_milli;
    if (op_detect_init(&det, &cfg) != OP_OK) {
        return 1;
    }
    uint32_t n = rec->n < MAX_SAMPLES ? rec->n : MAX_SAMPLES;
    uint64_t total = 0;
    op_detect_event_t ev;
    for (uint32_t i = 0; i < n; i++) {
        const int16_t *s = &rec->imu[6u * i];
        uint32_t t0 = op_insn_now();
        int released = op_detect_push(&det, rec->t_us[i], s[0], s[1], s[2], s[3], s[4], s[5],
                                      rec->force[i]);
        uint32_t t1 = op_insn_now();
        cost[i] = op_insn_count(&cal, op_insn_ticks(t0, t1));
        total += cost[i];
        while (released-- > 0) {
            op_detect_pop(&det, &ev);
        }
    }
    qsort(cost, n, sizeof cost[0], cmp_u32);
    printf("detect %s %s target %s samples %lu mean ", rec->name, signal_name(cfg.signal),
           target_milli ? "fixed" : "auto", (unsigned long)n);
    print_x100((total * 100u + n / 2u) / n);
    printf(" p50 %lu p99 %lu max %lu", (unsigned long)cost[n / 2u], (unsigned long)cost[(n * 99u) / 100u],
           (unsigned long)cost[n - 1]);
    // the load: instructions per second of recording (the rule ticks every
    // 20 ms, so the cost per sample grows as the sample rate falls)
    uint32_t span_us = rec->t_us[n - 1] - rec->t_us[0];
    uint64_t rate_x10 = span_us ? ((uint64_t)(n - 1) * 10000000u + span_us / 2u) / span_us : 0;
    uint64_t per_s = span_us ? (total * 1000000u + span_us / 2u) / span_us : 0;
    printf(" rate_hz %lu.%lu insns_per_s %lu\n", (unsigned long)(rate_x10 / 10u),
           (unsigned long)(rate_x10 % 10u), (unsigned long)per_s);
    return 0;
}
#endif

#if OP_HAVE_FRAME
static uint8_t payload[OP_PAYLOAD_MAX];
static uint8_t wire[OP_WIRE_MAX + 1];
static uint8_t body[OP_MAX_BODY];
#if COST_STREAM
static op_stream_t stream;
static double out_t[2 * OP_SAMPLES_MAX_N];
static float out_accel[6 * OP_SAMPLES_MAX_N], out_gyro[6 * OP_SAMPLES_MAX_N];
static float out_force[2 * OP_SAMPLES_MAX_N];
static uint8_t side[OP_SIDE_HEAD + OP_MAX_BODY];
#endif

static void report(const char *what, size_t bytes, uint32_t insns)
{
    printf("frame %s bytes %lu insns %lu per_byte ", what, (unsigned long)bytes, (unsigned long)insns);
    print_x100(((uint64_t)insns * 100u + bytes / 2u) / bytes);
    printf("\n");
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

// A full `samples` payload: the first OP_SAMPLES_MAX_N samples of a recording.
static size_t samples_payload(const op_recording_t *rec)
{
    uint32_t t0 = rec->t_us[0];
    size_t n = OP_SAMPLES_MAX_N;
    put16(payload + OP_SAMPLES_OFF_T0_US, t0);
    put16(payload + OP_SAMPLES_OFF_T0_US + 2, t0 >> 16);
    put16(payload + OP_SAMPLES_OFF_PERIOD_US, rec->t_us[1] - rec->t_us[0]);
    payload[OP_SAMPLES_OFF_N] = (uint8_t)n;
    uint8_t *p = payload + OP_SAMPLES_HEAD_SIZE;
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < 6; c++) {
            put16(p, (uint16_t)rec->imu[6u * i + c]);
            p += 2;
        }
        put16(p, (uint32_t)rec->force[i]);
        p += 2;
    }
    return (size_t)(p - payload);
}

static int frame_cost(void)
{
    size_t len = samples_payload(&op_recordings[0]);
    size_t body_len = OP_HEADER_SIZE + len + OP_CRC_SIZE;
    size_t wire_len = 0, dec_len = 0;
    uint32_t t0, t1;

    t0 = op_insn_now();
    op_status_t st = op_frame_encode(OP_MSG_SAMPLES, 7, payload, len, wire, sizeof wire, &wire_len);
    t1 = op_insn_now();
    if (st != OP_OK) {
        printf("op_frame_encode: status %d\n", (int)st);
        return 1;
    }
    report("encode_samples_frame(body)", body_len, op_insn_count(&cal, op_insn_ticks(t0, t1)));

    t0 = op_insn_now();
    uint32_t crc = op_crc32(0, payload, len);
    t1 = op_insn_now();
    report("crc32", len, op_insn_count(&cal, op_insn_ticks(t0, t1)));

    t0 = op_insn_now();
    st = op_cobs_decode_nz(wire, wire_len - 1, body, sizeof body, &dec_len);
    if (st == OP_OK) {
        st = op_frame_check(body, dec_len);
    }
    t1 = op_insn_now();
    if (st != OP_OK || dec_len != body_len) {
        printf("decode: status %d\n", (int)st);
        return 1;
    }
    report("cobs_decode+check(wire)", wire_len, op_insn_count(&cal, op_insn_ticks(t0, t1)));

#if COST_STREAM
    op_stream_init(&stream, 1.0f / 8192.0f, 1.0f / 65.536f, 0.05f);
    op_stream_out_t out;
    memset(&out, 0, sizeof out);
    out.t_s = out_t;
    out.accel = out_accel;
    out.gyro = out_gyro;
    out.force = out_force;
    out.n_cap = 2 * OP_SAMPLES_MAX_N;
    out.side = side;
    out.side_cap = sizeof side;
    t0 = op_insn_now();
    st = op_stream_feed(&stream, wire, wire_len, &out);
    t1 = op_insn_now();
    if (st != OP_OK || out.n != OP_SAMPLES_MAX_N) {
        printf("op_stream_feed: status %d, %lu samples\n", (int)st, (unsigned long)out.n);
        return 1;
    }
    report("stream_feed_soft_float(wire)", wire_len, op_insn_count(&cal, op_insn_ticks(t0, t1)));
#endif
    return crc == 0 ? 1 : 0; // keep the CRC call
}
#endif

int main(void)
{
    int failed = 0;
    op_insn_init();
    op_insn_calibrate(&cal);
    printf("calibration ticks_per_insn_x1000 %lu overhead_insns %lu\n",
           (unsigned long)(((uint64_t)cal.ticks_per_insn_q16 * 1000u + 32768u) >> 16),
           (unsigned long)cal.overhead_insns);
#if OP_HAVE_FRAME
    failed |= frame_cost();
#endif
#if OP_HAVE_DETECT
    for (size_t r = 0; r < op_recordings_n; r++) {
        const op_recording_t *rec = &op_recordings[r];
        failed |= detect_cost(rec, 0);
        if (rec->target_milli != 0) {
            failed |= detect_cost(rec, rec->target_milli);
        }
    }
#endif
    return failed;
}

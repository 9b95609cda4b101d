// The samples path of the stream decoder, value by value: every count
// (extremes included) of frames of every length 1..35, in physical units,
// bit for bit against float(count) * scale and double(t0 + i * period) * 1e-6,
// across a time wrap. On an x86-64 host this is the SSE4.1 loop
// (host/op_unpack_x86.c, -DOP_UNPACK_ACCEL) followed by the portable one.
#include <stdint.h>
#include <string.h>

#include "op_frame.h"
#include "op_test.h"

#define CAP 800
static double t_s[CAP];
static float accel[CAP * 3], gyro[CAP * 3], force[CAP];
static uint8_t raw[CAP * OP_SAMPLE_SIZE], side[1024];
static int16_t want[CAP * 7];
static int64_t want_t[CAP];
static op_stream_t st;
static uint8_t frame[OP_WIRE_MAX + 1];

static uint32_t rng = 2463534242u;
static uint16_t next16(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (uint16_t)rng;
}

int main(void) {
    const float sa = 1.0f / 8192, sg = 1.0f / 65.536f, sf = 0.05f;
    op_stream_init(&st, sa, sg, sf);
    op_stream_out_t o;
    memset(&o, 0, sizeof o);
    o.t_s = t_s;
    o.accel = accel;
    o.gyro = gyro;
    o.force = force;
    o.raw = raw;
    o.n_cap = CAP;
    o.side = side;
    o.side_cap = sizeof side;
    static const uint16_t extremes[] = {0x0000, 0x0001, 0x7fff, 0x8000, 0x8001, 0xffff, 0xff00,
                                        0x00ff};
    uint32_t t0 = 0xffff0000u;  // wraps during the run
    int64_t t_unwrapped = t0;
    size_t total = 0;
    for (uint8_t n = 1; n <= OP_SAMPLES_MAX_N; n++) {
        uint16_t period = (uint16_t)(1000 + 37 * n);
        uint8_t p[OP_PAYLOAD_MAX];
        p[0] = (uint8_t)t0;
        p[1] = (uint8_t)(t0 >> 8);
        p[2] = (uint8_t)(t0 >> 16);
        p[3] = (uint8_t)(t0 >> 24);
        p[4] = (uint8_t)period;
        p[5] = (uint8_t)(period >> 8);
        p[6] = n;
        for (size_t i = 0; i < n; i++) {
            for (size_t c = 0; c < OP_SAMPLE_CHANNELS; c++) {
                uint16_t v = (i + c + n) % 3 == 0 ? extremes[(i * 7 + c + n) % 8] : next16();
                p[7 + 14 * i + 2 * c] = (uint8_t)v;
                p[7 + 14 * i + 2 * c + 1] = (uint8_t)(v >> 8);
                want[(total + i) * 7 + c] = (int16_t)v;  // force: the bits of a uint16
            }
            want_t[total + i] = t_unwrapped + (int64_t)i * period;
        }
        size_t len = 0;
        CHECK(op_frame_encode(OP_MSG_SAMPLES, n, p, 7 + 14u * n, frame, sizeof frame, &len) ==
              OP_OK);
        CHECK(op_stream_feed(&st, frame, len, &o) == OP_OK);
        CHECK(o.n == total + n);
        total += n;
        t0 += 4000u;
        t_unwrapped += 4000;
    }
    CHECK(st.c.samples == total && st.c.frames == OP_SAMPLES_MAX_N);
    for (size_t i = 0; i < total; i++) {
        const int16_t *w = want + 7 * i;
        CHECK(t_s[i] == (double)want_t[i] * 1e-6);
        for (int c = 0; c < 3; c++) {
            CHECK(accel[3 * i + (size_t)c] == (float)w[c] * sa);
            CHECK(gyro[3 * i + (size_t)c] == (float)w[3 + c] * sg);
        }
        CHECK(force[i] == (float)(uint16_t)w[6] * sf);
        for (size_t c = 0; c < OP_SAMPLE_CHANNELS; c++) {
            const uint8_t *b = raw + OP_SAMPLE_SIZE * i + 2 * c;
            CHECK((uint16_t)(b[0] | b[1] << 8) == (uint16_t)w[c]);
        }
    }
    TEST_END("test_unpack");
}

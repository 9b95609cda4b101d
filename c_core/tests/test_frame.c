// Frames: the encoder against a hand-built frame, the body check, sample
// unpacking, and the stream decoder over any chunking and damage.
#include <stdint.h>
#include <string.h>

#include "op_cobs.h"
#include "op_crc32.h"
#include "op_frame.h"
#include "op_test.h"

#define CAP 200
static double t_s[CAP];
static float accel[CAP * 3], gyro[CAP * 3], force[CAP];
static uint8_t raw[CAP * OP_SAMPLE_SIZE], side[4096];
static op_stream_t st;
static uint8_t wire[8192];

static void out_init(op_stream_out_t *o) {
    memset(o, 0, sizeof *o);
    o->t_s = t_s;
    o->accel = accel;
    o->gyro = gyro;
    o->force = force;
    o->raw = raw;
    o->n_cap = CAP;
    o->side = side;
    o->side_cap = sizeof side;
}

// samples frame of n records: ax = base + i, others fixed, force 0xfffe
static size_t samples_frame(uint16_t seq, uint32_t t0, uint16_t period, uint8_t n, int16_t base,
                            uint8_t *out) {
    uint8_t p[OP_PAYLOAD_MAX];
    p[0] = (uint8_t)t0;
    p[1] = (uint8_t)(t0 >> 8);
    p[2] = (uint8_t)(t0 >> 16);
    p[3] = (uint8_t)(t0 >> 24);
    p[4] = (uint8_t)period;
    p[5] = (uint8_t)(period >> 8);
    p[6] = n;
    for (size_t i = 0; i < n; i++) {
        uint8_t *r = p + 7 + 14 * i;
        uint16_t ax = (uint16_t)(base + (int16_t)i);
        uint16_t v[7] = {ax, 0xffff, 0, 100, 0x8000, 0x7fff, 0xfffe};
        for (int c = 0; c < 7; c++) {
            r[2 * c] = (uint8_t)v[c];
            r[2 * c + 1] = (uint8_t)(v[c] >> 8);
        }
    }
    size_t len = 0;
    CHECK(op_frame_encode(OP_MSG_SAMPLES, seq, p, 7 + 14u * n, out, OP_WIRE_MAX + 1, &len) ==
          OP_OK);
    return len;
}

static void feed_chunked(const uint8_t *d, size_t len, size_t chunk, op_stream_out_t *o) {
    for (size_t pos = 0; pos < len;) {
        size_t k = len - pos < chunk ? len - pos : chunk;
        size_t used = 0;
        while (used < k) {
            CHECK(op_stream_feed(&st, d + pos + used, k - used, o) == OP_OK);
            used += o->consumed;
            if (o->stop == OP_STOP_SPACE) {
                break;
            }
        }
        pos += k;
    }
}

int main(void) {
    // the encoder builds what the spec describes, byte for byte
    {
        const uint8_t payload[] = {0x40, 0x03, 0x00};  // ack of start, cmd_seq 3
        uint8_t body[11] = {1, 0x08, 7, 0, 0x40, 0x03, 0x00};
        uint32_t crc = op_crc32(0, body, 7);
        for (int i = 0; i < 4; i++) {
            body[7 + i] = (uint8_t)(crc >> (8 * i));
        }
        uint8_t want[20];
        size_t wn = 0, n = 0;
        CHECK(op_cobs_encode(body, 11, want, sizeof want, &wn) == OP_OK);
        want[wn++] = 0;
        uint8_t got[20];
        CHECK(op_frame_encode(0x08, 7, payload, 3, got, sizeof got, &n) == OP_OK);
        CHECK(n == wn && memcmp(got, want, n) == 0);
        CHECK(op_frame_encode(0x08, 7, payload, 3, got, 5, &n) == OP_ERR_SPACE);
        CHECK(op_frame_check(body, 11) == OP_OK);
        body[5] ^= 1;
        CHECK(op_frame_check(body, 11) == OP_ERR_CRC);
        CHECK(op_frame_check(body, 7) == OP_ERR_TRUNCATED);
        CHECK(op_frame_check(body, OP_MAX_BODY + 1) == OP_ERR_OVERSIZE);
        uint8_t big[OP_WIRE_MAX + 1];
        CHECK(op_frame_encode(0x08, 7, big, OP_PAYLOAD_MAX + 1, got, sizeof got, &n) ==
              OP_ERR_OVERSIZE);
    }
    // sample unpacking
    {
        uint8_t f[OP_WIRE_MAX + 1], body[OP_WIRE_MAX];
        size_t n = samples_frame(1, 1000, 5000, 3, -2, f), bn = 0;
        CHECK(op_cobs_decode(f, n - 1, body, sizeof body, &bn) == OP_OK);
        CHECK(op_frame_check(body, bn) == OP_OK);
        uint32_t t0;
        uint16_t period;
        int16_t r[3 * 7];
        size_t cnt = 0;
        CHECK(op_samples_unpack(body + 4, bn - 8, &t0, &period, r, 3, &cnt) == OP_OK);
        CHECK(t0 == 1000 && period == 5000 && cnt == 3);
        CHECK(r[0] == -2 && r[7] == -1 && r[14] == 0 && r[1] == -1 && r[4] == -32768);
        CHECK((uint16_t)r[6] == 0xfffe);
        CHECK(op_samples_unpack(body + 4, bn - 8, &t0, &period, r, 2, &cnt) == OP_ERR_SPACE);
        CHECK(op_samples_unpack(body + 4, bn - 9, &t0, &period, r, 3, &cnt) == OP_ERR_LENGTH);
    }
    // a stream of 5 frames, in every chunk size from 1 to 64: same result
    size_t len = 0;
    for (uint16_t k = 0; k < 5; k++) {
        len += samples_frame(k, 0xfffff000u + 20000u * k, 5000, 4, (int16_t)(10 * k), wire + len);
    }
    for (size_t chunk = 1; chunk <= 64; chunk++) {
        op_stream_out_t o;
        out_init(&o);
        op_stream_init(&st, 0.5f, 0.25f, 0.05f);
        feed_chunked(wire, len, chunk, &o);
        CHECK(o.n == 20 && st.c.frames == 5 && st.c.samples == 20);
        CHECK(st.c.lost_frames == 0 && st.c.crc_errors == 0 && st.pending_len == 0);
        CHECK(accel[0] == 0.0f && accel[3] == 0.5f && accel[3 * 4] == 5.0f);
        CHECK(accel[1] == -0.5f && gyro[0] == 25.0f && gyro[1] == -8192.0f);
        CHECK(force[0] == 0xfffe * 0.05f);
        // t0 wraps between frame 0 and 1: the host time keeps going up
        CHECK(t_s[4] > t_s[3] && t_s[4] - t_s[3] < 0.0051 && t_s[4] - t_s[3] > 0.0049);
        CHECK(raw[0] == 0 && raw[14] == 1);
    }
    // damage: flip a bit in frame 2, drop frame 3 entirely
    {
        size_t starts[6] = {0};
        size_t pos = 0;
        for (int k = 0; k < 5; k++) {
            const uint8_t *z = memchr(wire + pos, 0, len - pos);
            pos = (size_t)(z - wire) + 1;
            starts[k + 1] = pos;
        }
        static uint8_t dmg[8192];
        size_t dn = 0;
        for (int k = 0; k < 5; k++) {
            if (k == 3) {
                continue;
            }
            memcpy(dmg + dn, wire + starts[k], starts[k + 1] - starts[k]);
            if (k == 2) {
                dmg[dn + 20] ^= 0x10;
            }
            dn += starts[k + 1] - starts[k];
        }
        op_stream_out_t o;
        out_init(&o);
        op_stream_init(&st, 1, 1, 1);
        feed_chunked(dmg, dn, 7, &o);
        CHECK(st.c.frames == 3 && o.n == 12);
        CHECK(st.c.crc_errors + st.c.cobs_errors == 1);
        CHECK(st.c.lost_frames == 2);  // seq 2 (damaged) and 3 (dropped)
    }
    // over-long garbage without a 0x00 is counted once and dropped; the
    // next frame still decodes
    {
        static uint8_t g[3000];
        memset(g, 0x55, 1500);
        size_t gn = 1500;
        g[gn++] = 0;
        gn += samples_frame(9, 0, 5000, 2, 0, g + gn);
        op_stream_out_t o;
        out_init(&o);
        op_stream_init(&st, 1, 1, 1);
        feed_chunked(g, gn, 100, &o);
        CHECK(st.c.oversize == 1 && st.c.frames == 1 && o.n == 2);
    }
    // seq: a jump back is a reset, not 65000 lost frames
    {
        size_t n = samples_frame(100, 0, 5000, 1, 0, wire);
        n += samples_frame(103, 0, 5000, 1, 0, wire + n);
        n += samples_frame(5, 0, 5000, 1, 0, wire + n);
        n += samples_frame(5, 0, 5000, 1, 0, wire + n);
        op_stream_out_t o;
        out_init(&o);
        op_stream_init(&st, 1, 1, 1);
        feed_chunked(wire, n, n, &o);
        // 100, 103 (2 lost), 5 (a reset), 5 again (a duplicate: dropped)
        CHECK(st.c.lost_frames == 2 && st.c.seq_resets == 1 && st.c.duplicates == 1);
        CHECK(st.c.frames == 4 && o.n == 3);
    }
    // a repeat of a recent frame whole is a duplicate; the same seq with other
    // content, or a repeat further back than the window, is a discontinuity
    {
        size_t n = 0;
        for (uint16_t s = 10; s < 20; s++) {
            n += samples_frame(s, (uint32_t)s * 5000u, 5000, 1, 0, wire + n);
        }
        n += samples_frame(17, 17u * 5000u, 5000, 1, 0, wire + n);   // 3 back: duplicate
        n += samples_frame(19, 19u * 5000u, 5000, 1, 0, wire + n);   // 1 back: duplicate
        n += samples_frame(18, 99u * 5000u, 5000, 1, 0, wire + n);   // other t0: reset
        n += samples_frame(19, 19u * 5000u, 5000, 1, 0, wire + n);   // expected after 18
        n += samples_frame(10, 10u * 5000u, 5000, 1, 0, wire + n);   // 10 back: reset
        op_stream_out_t o;
        out_init(&o);
        op_stream_init(&st, 1, 1, 1);
        feed_chunked(wire, n, 13, &o);
        CHECK(st.c.duplicates == 2 && st.c.seq_resets == 2 && st.c.lost_frames == 0);
        CHECK(o.n == 13);
    }
    // a non-samples frame goes to the side buffer with its position
    {
        const uint8_t payload[] = {0x40, 0x03, 0x00};
        size_t n = samples_frame(0, 0, 5000, 3, 0, wire), an = 0;
        CHECK(op_frame_encode(0x08, 1, payload, 3, wire + n, 100, &an) == OP_OK);
        op_stream_out_t o;
        out_init(&o);
        op_stream_init(&st, 1, 1, 1);
        CHECK(op_stream_feed(&st, wire, n + an, &o) == OP_OK);
        CHECK(o.side_len == OP_SIDE_HEAD + 11 && side[0] == 3 && side[4] == 11 && side[7] == 8);
    }
    TEST_END("test_frame");
}

// libFuzzer harness: the incremental stream decoder (op_stream_feed).
//
// Input: byte 0 picks the mode and the chunking, byte 1 the output capacity,
// the rest is the stream:
//   raw mode (bit 0 of byte 0 clear): the bytes as they are on the wire;
//   frame mode (bit 0 set): records [ctrl u8][len u8][len body bytes] that
//     the harness turns into frames with a correct CRC and COBS (so mutations
//     reach seq tracking, duplicates, time unwrapping and sample unpacking
//     behind the CRC), damaged as ctrl says: bad CRC, no delimiter (two frames
//     merge), an extra delimiter, the frame sent twice, any version byte.
//
// The same stream is decoded twice, in one call and in chunks of 1.. bytes
// (sizes from a PRNG seeded by byte 0). Properties:
// - op_stream_feed returns OP_OK, consumes what it says, stops only for a
//   reason (DONE: all consumed; SPACE: no room left; DEVICE_INFO: a
//   device_info was the last side record) and never writes past the caller's
//   arrays (exact-size heap blocks: ASan sees one byte too far);
// - every side record is an intact frame (op_frame_check) that is not samples;
// - every time is finite, counters.samples is the number of samples written;
// - both runs give the same counters, samples and side records: chunking
//   never changes what is decoded.
#include "fuzz_util.h"
#include "op_cobs.h"
#include "op_crc32.h"
#include "op_frame.h"

#define ACCEL_SCALE (1.0f / 8192.0f)
#define GYRO_SCALE (1.0f / 65.536f)
#define FORCE_SCALE (0.05f)

typedef struct {
    op_stream_t st;
    op_stream_out_t out;
    size_t flushed;   // samples handed on before the current buffer
    uint64_t h_samples, h_side;
} run_t;

static void run_open(run_t *r, size_t n_cap, size_t side_cap, int keep_raw) {
    memset(r, 0, sizeof *r);
    op_stream_init(&r->st, ACCEL_SCALE, GYRO_SCALE, FORCE_SCALE);
    r->out.t_s = malloc(n_cap * sizeof(double));
    r->out.accel = malloc(n_cap * 3 * sizeof(float));
    r->out.gyro = malloc(n_cap * 3 * sizeof(float));
    r->out.force = malloc(n_cap * sizeof(float));
    r->out.raw = keep_raw ? malloc(n_cap * OP_SAMPLE_SIZE) : NULL;
    r->out.n_cap = n_cap;
    r->out.side = malloc(side_cap);
    r->out.side_cap = side_cap;
    FUZZ_CHECK(r->out.t_s && r->out.accel && r->out.gyro && r->out.force && r->out.side &&
               (r->out.raw || !keep_raw));
}

static void run_close(run_t *r) {
    free(r->out.t_s);
    free(r->out.accel);
    free(r->out.gyro);
    free(r->out.force);
    free(r->out.raw);
    free(r->out.side);
}

// Hand the outputs on (digest them) and empty the buffers, as a caller does.
static void run_flush(run_t *r) {
    op_stream_out_t *o = &r->out;
    FUZZ_CHECK(o->n <= o->n_cap && o->side_len <= o->side_cap);
    for (size_t i = 0; i < o->n; i++) {
        FUZZ_CHECK(o->t_s[i] == o->t_s[i] && o->t_s[i] - o->t_s[i] == 0.0);  // finite
        for (int c = 0; c < 3; c++) {
            float a = o->accel[3 * i + c], g = o->gyro[3 * i + c];
            FUZZ_CHECK(a >= -32768.0f * ACCEL_SCALE && a <= 32767.0f * ACCEL_SCALE);
            FUZZ_CHECK(g >= -32768.0f * GYRO_SCALE && g <= 32767.0f * GYRO_SCALE);
        }
        FUZZ_CHECK(o->force[i] >= 0.0f && o->force[i] <= 65535.0f * FORCE_SCALE);
    }
    r->h_samples = fuzz_fnv(r->h_samples, o->t_s, o->n * sizeof(double));
    r->h_samples = fuzz_fnv(r->h_samples, o->accel, o->n * 3 * sizeof(float));
    r->h_samples = fuzz_fnv(r->h_samples, o->gyro, o->n * 3 * sizeof(float));
    r->h_samples = fuzz_fnv(r->h_samples, o->force, o->n * sizeof(float));
    if (o->raw != NULL) {
        r->h_samples = fuzz_fnv(r->h_samples, o->raw, o->n * OP_SAMPLE_SIZE);
    }
    size_t pos = 0;
    while (pos < o->side_len) {
        FUZZ_CHECK(o->side_len - pos >= OP_SIDE_HEAD);
        const uint8_t *s = o->side + pos;
        uint32_t idx = (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
                       (uint32_t)s[3] << 24;
        size_t blen = (size_t)s[4] | (size_t)s[5] << 8;
        FUZZ_CHECK(idx <= o->n);
        FUZZ_CHECK(blen <= o->side_len - pos - OP_SIDE_HEAD);
        FUZZ_CHECK(op_frame_check(s + OP_SIDE_HEAD, blen) == OP_OK);
        FUZZ_CHECK(s[OP_SIDE_HEAD + 1] != OP_MSG_SAMPLES);
        uint64_t global = r->flushed + idx;  // where it stands among all samples
        r->h_side = fuzz_fnv(r->h_side, &global, sizeof global);
        r->h_side = fuzz_fnv(r->h_side, s + OP_SIDE_HEAD, blen);
        pos += OP_SIDE_HEAD + blen;
    }
    r->flushed += o->n;
    o->n = 0;
    o->side_len = 0;
}

// The type of the last side record (-1: none).
static int last_side_type(const op_stream_out_t *o) {
    size_t pos = 0;
    int type = -1;
    while (pos + OP_SIDE_HEAD <= o->side_len) {
        size_t blen = (size_t)o->side[pos + 4] | (size_t)o->side[pos + 5] << 8;
        type = blen >= 2 ? o->side[pos + OP_SIDE_HEAD + 1] : -1;
        pos += OP_SIDE_HEAD + blen;
    }
    return type;
}

// Feed one chunk whole, as a caller must: again after every stop.
static void run_feed(run_t *r, const uint8_t *d, size_t len) {
    size_t used = 0;
    int emptied = 0;
    while (used < len) {
        FUZZ_CHECK(op_stream_feed(&r->st, d + used, len - used, &r->out) == OP_OK);
        size_t c = r->out.consumed;
        FUZZ_CHECK(c <= len - used);
        used += c;
        if (r->out.stop == OP_STOP_SPACE) {
            // it stops for room only when there is none, and right after the
            // caller emptied the buffers there is room for one frame
            FUZZ_CHECK(r->out.n_cap - r->out.n < OP_SAMPLES_MAX_N ||
                       r->out.side_cap - r->out.side_len < OP_SIDE_HEAD + OP_MAX_BODY);
            FUZZ_CHECK(c > 0 || !emptied);
            run_flush(r);
            emptied = 1;
            continue;
        }
        emptied = 0;
        if (r->out.stop == OP_STOP_DONE) {
            FUZZ_CHECK(used == len);
        } else {
            FUZZ_CHECK(r->out.stop == OP_STOP_DEVICE_INFO);
            FUZZ_CHECK(c > 0 && last_side_type(&r->out) == OP_MSG_DEVICE_INFO);
        }
    }
}

static uint32_t prng(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

// Frame mode: records -> wire bytes. Returns the length written into wire.
static size_t build_frames(fuzz_in_t *in, uint8_t *wire, size_t cap) {
    size_t w = 0;
    uint8_t body[OP_MAX_BODY + 64];
    uint8_t enc[OP_COBS_MAX_ENCODED(OP_MAX_BODY + 64) + 1];
    while (in->n > 0) {
        uint8_t ctrl = fuzz_u8(in);
        size_t len = fuzz_u8(in);
        if (ctrl & 0x40) {
            len += 256;  // long bodies: up to 511 + CRC, over OP_MAX_BODY too
        }
        if (len > in->n) {
            len = in->n;
        }
        memcpy(body, in->p, len);
        in->p += len;
        in->n -= len;
        if (len >= 1 && !(ctrl & 0x20)) {
            body[0] = OP_PROTOCOL_VERSION;
        }
        uint32_t crc = op_crc32(0, body, len);
        if (ctrl & 0x01) {
            crc ^= 1u << (ctrl >> 1 & 31);  // a damaged CRC
        }
        for (int i = 0; i < 4; i++) {
            body[len + (size_t)i] = (uint8_t)(crc >> (8 * i));
        }
        size_t elen = 0;
        FUZZ_CHECK(op_cobs_encode(body, len + 4, enc, sizeof enc, &elen) == OP_OK);
        int copies = (ctrl & 0x08) ? 2 : 1;  // sent twice: a duplicate on the link
        for (int k = 0; k < copies; k++) {
            if (w + elen + 2 > cap) {
                return w;
            }
            memcpy(wire + w, enc, elen);
            w += elen;
            if (!(ctrl & 0x02)) {  // else: the delimiter is lost, two frames merge
                wire[w++] = 0;
            }
            if (ctrl & 0x04) {  // an extra delimiter: an empty frame
                wire[w++] = 0;
            }
        }
    }
    return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_in_t in = {data, size};
    uint8_t mode = fuzz_u8(&in);
    uint8_t caps = fuzz_u8(&in);
    const uint8_t *stream = in.p;
    size_t len = in.n;
    uint8_t *built = NULL;
    if (mode & 1) {
        size_t cap = 4 * size + 64;
        built = malloc(cap);
        FUZZ_CHECK(built != NULL);
        len = build_frames(&in, built, cap);
        stream = built;
    }
    // room for one frame at least (op_stream_feed's contract), or a little more
    size_t n_cap = OP_SAMPLES_MAX_N + (caps & 63);
    size_t side_cap = OP_SIDE_HEAD + OP_MAX_BODY + (size_t)(caps >> 6) * 300;
    int keep_raw = (mode & 2) != 0;

    static run_t whole, chunked;
    run_open(&whole, n_cap, side_cap, keep_raw);
    run_open(&chunked, n_cap, side_cap, keep_raw);

    run_feed(&whole, stream, len);
    run_flush(&whole);

    uint32_t s = 0x9e3779b9u ^ (uint32_t)mode << 8 ^ caps;
    for (size_t pos = 0; pos < len;) {
        uint32_t r = prng(&s);
        size_t k = (r & 3) == 0 ? 1 : (r & 3) == 1 ? (r >> 8) % 8 + 1 : (r >> 8) % 700 + 1;
        if (k > len - pos) {
            k = len - pos;
        }
        run_feed(&chunked, stream + pos, k);
        pos += k;
    }
    run_flush(&chunked);

#ifdef FUZZ_VERBOSE
    const op_counters_t *c = &whole.st.c;
    fprintf(stderr, "frames %u samples %u crc %u cobs %u oversize %u truncated %u version %u "
            "malformed %u lost %u resets %u duplicates %u\n", c->frames, c->samples,
            c->crc_errors, c->cobs_errors, c->oversize, c->truncated, c->version_errors,
            c->malformed, c->lost_frames, c->seq_resets, c->duplicates);
#endif
    FUZZ_CHECK(memcmp(&whole.st.c, &chunked.st.c, sizeof whole.st.c) == 0);
    FUZZ_CHECK(whole.flushed == chunked.flushed);
    FUZZ_CHECK(whole.st.c.samples == (uint32_t)whole.flushed);
    FUZZ_CHECK(whole.h_samples == chunked.h_samples);
    FUZZ_CHECK(whole.h_side == chunked.h_side);
    FUZZ_CHECK(whole.st.pending_len == chunked.st.pending_len);
    FUZZ_CHECK(whole.st.pending_len <= OP_WIRE_MAX);

    run_close(&whole);
    run_close(&chunked);
    free(built);
    return 0;
}

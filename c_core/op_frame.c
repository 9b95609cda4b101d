#include "op_frame.h"

#include <string.h>

#include "op_cobs.h"
#include "op_crc32.h"

static uint16_t rd16(const uint8_t *p) {
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int32_t as_i16(uint16_t v) {
    return (int32_t)(v ^ 0x8000u) - 0x8000;  // two's complement, branch-free
}

// ---------------------------------------------------------------- encoder

op_status_t op_frame_encode(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len,
                            uint8_t *out, size_t cap, size_t *out_len) {
    if ((payload == NULL && len) || out == NULL || out_len == NULL) {
        return OP_ERR_ARG;
    }
    if (len > OP_PAYLOAD_MAX) {
        return OP_ERR_OVERSIZE;
    }
    size_t body_len = OP_HEADER_SIZE + len + OP_CRC_SIZE;
    if (cap < OP_COBS_MAX_ENCODED(body_len) + 1) {
        return OP_ERR_SPACE;
    }
    // Build the body at the end of out, then COBS-encode it to the front:
    // the encoder writes behind the byte it reads, so no second buffer.
    uint8_t *body = out + cap - body_len;
    body[0] = OP_PROTOCOL_VERSION;
    body[1] = type;
    body[2] = (uint8_t)(seq & 0xff);
    body[3] = (uint8_t)(seq >> 8);
    if (len) {
        memmove(body + OP_HEADER_SIZE, payload, len);
    }
    uint32_t crc = op_crc32(0, body, OP_HEADER_SIZE + len);
    uint8_t *tail = body + OP_HEADER_SIZE + len;
    tail[0] = (uint8_t)crc;
    tail[1] = (uint8_t)(crc >> 8);
    tail[2] = (uint8_t)(crc >> 16);
    tail[3] = (uint8_t)(crc >> 24);
    size_t n = 0;
    op_status_t st = op_cobs_encode(body, body_len, out, cap - 1, &n);
    if (st != OP_OK) {
        return st;
    }
    out[n++] = 0;
    *out_len = n;
    return OP_OK;
}

// ---------------------------------------------------------------- checks

op_status_t op_frame_check(const uint8_t *body, size_t len) {
    if (body == NULL) {
        return OP_ERR_ARG;
    }
    if (len > OP_MAX_BODY) {
        return OP_ERR_OVERSIZE;
    }
    if (len < OP_HEADER_SIZE + OP_CRC_SIZE) {
        return OP_ERR_TRUNCATED;
    }
    if (op_crc32(0, body, len - OP_CRC_SIZE) != rd32(body + len - OP_CRC_SIZE)) {
        return OP_ERR_CRC;
    }
    if (body[0] != OP_PROTOCOL_VERSION) {
        return OP_ERR_VERSION;
    }
    return OP_OK;
}

op_status_t op_samples_unpack(const uint8_t *payload, size_t len, uint32_t *t0_us,
                              uint16_t *period_us, int16_t *raw, size_t cap_n, size_t *n) {
    if (payload == NULL || t0_us == NULL || period_us == NULL || raw == NULL || n == NULL) {
        return OP_ERR_ARG;
    }
    if (len < OP_SAMPLES_HEAD_SIZE) {
        return OP_ERR_LENGTH;
    }
    size_t count = payload[OP_SAMPLES_OFF_N];
    if (count > OP_SAMPLES_MAX_N || len < OP_SAMPLES_HEAD_SIZE + count * OP_SAMPLE_SIZE) {
        return OP_ERR_LENGTH;
    }
    if (count > cap_n) {
        return OP_ERR_SPACE;
    }
    *t0_us = rd32(payload + OP_SAMPLES_OFF_T0_US);
    *period_us = rd16(payload + OP_SAMPLES_OFF_PERIOD_US);
    const uint8_t *r = payload + OP_SAMPLES_HEAD_SIZE;
    for (size_t i = 0; i < count * OP_SAMPLE_CHANNELS; i++) {
        raw[i] = (int16_t)as_i16(rd16(r + 2 * i));
    }
    *n = count;
    return OP_OK;
}

// ---------------------------------------------------------------- stream decoder

void op_stream_init(op_stream_t *st, float accel_scale, float gyro_scale, float force_scale) {
    if (st == NULL) {
        return;
    }
    memset(st, 0, sizeof *st);
    st->accel_scale = accel_scale;
    st->gyro_scale = gyro_scale;
    st->force_scale = force_scale;
}

// Seq accounting of an intact frame. Returns 1 when the frame repeats one of
// the last OP_DUP_WINDOW accepted frames whole (same seq, same CRC): a
// duplicate on the link, to be dropped.
static int track_seq(op_stream_t *st, uint16_t seq, uint32_t crc) {
    unsigned slot = seq & (OP_DUP_WINDOW - 1u);
    if (st->have_seq) {
        uint16_t gap = (uint16_t)(seq - st->next_seq);
        if (gap >= 0x8000u) {
            uint16_t back = (uint16_t)(st->next_seq - seq);
            if (back <= OP_DUP_WINDOW && (st->recent_mask >> slot & 1u) &&
                st->recent_seq[slot] == seq && st->recent_crc[slot] == crc) {
                st->c.duplicates++;
                return 1;
            }
            st->c.seq_resets++;
            st->recent_mask = 0;  // a new run of seq: the old frames are no reference
        } else {
            st->c.lost_frames += gap;
        }
    }
    st->recent_seq[slot] = seq;
    st->recent_crc[slot] = crc;
    st->recent_mask = (uint8_t)(st->recent_mask | 1u << slot);
    st->have_seq = 1;
    st->next_seq = (uint16_t)(seq + 1);
    return 0;
}

static int64_t unwrap(op_stream_t *st, uint32_t t0) {
    if (!st->have_t) {
        st->have_t = 1;
        st->t_unwrapped = t0;
    } else {
        uint32_t d = t0 - st->t_last;
        if (d & 0x80000000u) {
            st->t_unwrapped -= (int64_t)(0x100000000LL - (int64_t)d);
        } else {
            st->t_unwrapped += d;
        }
    }
    st->t_last = t0;
    return st->t_unwrapped;
}

static void put_samples(op_stream_t *st, const uint8_t *p, size_t len, op_stream_out_t *out) {
    if (len < OP_SAMPLES_HEAD_SIZE) {
        st->c.malformed++;
        return;
    }
    size_t n = p[OP_SAMPLES_OFF_N];
    if (n > OP_SAMPLES_MAX_N || len < OP_SAMPLES_HEAD_SIZE + n * OP_SAMPLE_SIZE) {
        st->c.malformed++;
        return;
    }
    int64_t t0 = unwrap(st, rd32(p + OP_SAMPLES_OFF_T0_US));
    int64_t period = rd16(p + OP_SAMPLES_OFF_PERIOD_US);
    const uint8_t *r = p + OP_SAMPLES_HEAD_SIZE;
    size_t k = out->n;
    double *restrict t = out->t_s + k;
    float *restrict a = out->accel + 3 * k;
    float *restrict g = out->gyro + 3 * k;
    float *restrict f = out->force + k;
    const float sa = st->accel_scale, sg = st->gyro_scale, sf = st->force_scale;
    if (out->raw != NULL) {
        memcpy(out->raw + k * OP_SAMPLE_SIZE, r, n * OP_SAMPLE_SIZE);
    }
    size_t i = 0;
#ifdef OP_UNPACK_ACCEL
    i = op_samples_put_accel(r, n, t0, period, sa, sg, sf, t, a, g, f);
    r += i * OP_SAMPLE_SIZE;
#endif
    for (; i < n; i++, r += OP_SAMPLE_SIZE) {
        t[i] = (double)(t0 + (int64_t)i * period) * 1e-6;
        a[3 * i + 0] = (float)as_i16(rd16(r + 0)) * sa;
        a[3 * i + 1] = (float)as_i16(rd16(r + 2)) * sa;
        a[3 * i + 2] = (float)as_i16(rd16(r + 4)) * sa;
        g[3 * i + 0] = (float)as_i16(rd16(r + 6)) * sg;
        g[3 * i + 1] = (float)as_i16(rd16(r + 8)) * sg;
        g[3 * i + 2] = (float)as_i16(rd16(r + 10)) * sg;
        f[i] = (float)rd16(r + 12) * sf;
    }
    out->n = k + n;
    st->c.samples += (uint32_t)n;
}

// COBS decode of len <= OP_WIRE_MAX bytes holding no 0x00 into body, which has
// OP_COBS_SLACK bytes of room past OP_WIRE_MAX: short runs are copied 16
// bytes at a time (the bytes past the run are overwritten by what follows).
static int cobs_decode_runs(const uint8_t *src, size_t len, uint8_t *body, size_t *out_len) {
    size_t i = 0, o = 0;
    while (i < len) {
        size_t code = src[i];
        if (code == 0 || code > len - i) {
            return 0;
        }
        size_t run = code - 1;
        if (run <= 16 && len - i >= 17) {
            memcpy(body + o, src + i + 1, 16);
        } else {
            memcpy(body + o, src + i + 1, run);
        }
        o += run;
        i += code;
        if (code != 0xff && i < len) {
            body[o++] = 0;
        }
    }
    *out_len = o;
    return 1;
}

// The same, faster when no code is 0xff (a body with no run of 254 non-zero
// bytes: every frame but a rare long one). Then each code byte but the first
// stands where the body has a 0x00: the body is src[1..len) with those
// bytes zeroed. One copy, then a walk along the codes.
static int cobs_decode_fast(const uint8_t *src, size_t len, uint8_t *body, size_t *out_len) {
    memcpy(body, src + 1, len - 1);
    size_t i = 0;
    for (;;) {
        size_t code = src[i];
        if ((uint8_t)(code - 1) >= 0xfe) {  // 0xff (or a 0x00, an error)
            return cobs_decode_runs(src, len, body, out_len);
        }
        i += code;
        if (i >= len) {
            break;
        }
        body[i - 1] = 0;
    }
    if (i != len) {
        return 0;  // the last code points past the end
    }
    *out_len = len - 1;
    return 1;
}

// One encoded frame (no 0x00). Returns 1 when the caller must stop after it.
static int do_frame(op_stream_t *st, const uint8_t *enc, size_t len, op_stream_out_t *out) {
    if (len == 0) {
        return 0;  // an empty frame: idle or a sync 0x00
    }
    if (len > OP_WIRE_MAX) {
        st->c.oversize++;
        return 0;
    }
    size_t blen = 0;
    if (!cobs_decode_fast(enc, len, st->body, &blen)) {
        st->c.cobs_errors++;
        return 0;
    }
    switch (op_frame_check(st->body, blen)) {
    case OP_OK:
        break;
    case OP_ERR_OVERSIZE:
        st->c.oversize++;
        return 0;
    case OP_ERR_TRUNCATED:
        st->c.truncated++;
        return 0;
    case OP_ERR_CRC:
        st->c.crc_errors++;
        return 0;
    default:
        st->c.version_errors++;
        return 0;
    }
    st->c.frames++;
    if (track_seq(st, rd16(st->body + 2), rd32(st->body + blen - OP_CRC_SIZE))) {
        return 0;
    }
    uint8_t type = st->body[1];
    if (type == OP_MSG_SAMPLES) {
        put_samples(st, st->body + OP_HEADER_SIZE, blen - OP_HEADER_SIZE - OP_CRC_SIZE, out);
        return 0;
    }
    uint8_t *s = out->side + out->side_len;
    uint32_t idx = (uint32_t)out->n;
    s[0] = (uint8_t)idx;
    s[1] = (uint8_t)(idx >> 8);
    s[2] = (uint8_t)(idx >> 16);
    s[3] = (uint8_t)(idx >> 24);
    s[4] = (uint8_t)blen;
    s[5] = (uint8_t)(blen >> 8);
    memcpy(s + OP_SIDE_HEAD, st->body, blen);
    out->side_len += OP_SIDE_HEAD + blen;
    return type == OP_MSG_DEVICE_INFO;
}

static int has_room(const op_stream_out_t *out) {
    return out->n_cap - out->n >= OP_SAMPLES_MAX_N &&
           out->side_cap - out->side_len >= OP_SIDE_HEAD + OP_MAX_BODY;
}

op_status_t op_stream_feed(op_stream_t *st, const uint8_t *data, size_t len,
                           op_stream_out_t *out) {
    if (st == NULL || out == NULL || (data == NULL && len) || out->n > out->n_cap ||
        out->side_len > out->side_cap || out->t_s == NULL || out->accel == NULL ||
        out->gyro == NULL || out->force == NULL || out->side == NULL) {
        return OP_ERR_ARG;
    }
    size_t pos = 0;
    out->stop = OP_STOP_DONE;
    while (pos < len) {
        if (!has_room(out)) {
            out->stop = OP_STOP_SPACE;
            break;
        }
        const uint8_t *z = memchr(data + pos, 0, len - pos);
        size_t end = z ? (size_t)(z - data) : len;  // frame bytes are data[pos..end)
        size_t chunk = end - pos;
        if (st->dropping) {
            pos = end + (z != NULL);
            if (z) {
                st->dropping = 0;
            }
            continue;
        }
        if (z == NULL) {
            // an unfinished frame: keep it for the next call
            if (st->pending_len + chunk > OP_WIRE_MAX) {
                st->c.oversize++;
                st->pending_len = 0;
                st->dropping = 1;
            } else {
                memcpy(st->pending + st->pending_len, data + pos, chunk);
                st->pending_len = (uint16_t)(st->pending_len + chunk);
            }
            pos = len;
            break;
        }
        int stop;
        if (st->pending_len) {
            if (st->pending_len + chunk > OP_WIRE_MAX) {
                st->c.oversize++;
                stop = 0;
            } else {
                memcpy(st->pending + st->pending_len, data + pos, chunk);
                stop = do_frame(st, st->pending, st->pending_len + chunk, out);
            }
            st->pending_len = 0;
        } else {
            stop = do_frame(st, data + pos, chunk, out);
        }
        pos = end + 1;
        if (stop) {
            out->stop = OP_STOP_DEVICE_INFO;
            break;
        }
    }
    out->consumed = pos;
    return OP_OK;
}

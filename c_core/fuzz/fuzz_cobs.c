// libFuzzer harness: COBS (op_cobs_*) and whole frames (op_frame_encode,
// op_frame_check, op_samples_unpack).
//
// Input: byte 0 picks output capacities, the rest is the data. Every output
// buffer is a heap block of exactly the capacity the call is given, so a
// write one byte too far is an AddressSanitizer report. Properties:
// - encode: fits in OP_COBS_MAX_ENCODED(len), holds no 0x00, and also
//   succeeds with a capacity of exactly its length (and fails with one less);
//   decode(encode(x)) == x;
// - decode of any bytes agrees with the reference decoder below (the
//   algorithm of protocol/spec.md written plainly): OP_OK with the same
//   bytes, OP_ERR_COBS where the reference refuses, OP_ERR_SPACE only when
//   the decoded bytes do not fit; op_cobs_decode_nz agrees on input without
//   a 0x00;
// - a frame built by op_frame_encode decodes to its body and passes
//   op_frame_check; op_frame_check and op_samples_unpack take any bytes.
#include "fuzz_util.h"
#include "op_cobs.h"
#include "op_crc32.h"
#include "op_frame.h"

// -1: not valid COBS; else the decoded length (written to dst, which has room
// for len bytes).
static long ref_decode(const uint8_t *src, size_t len, uint8_t *dst) {
    size_t i = 0, o = 0;
    while (i < len) {
        size_t code = src[i];
        if (code == 0 || i + code > len) {
            return -1;
        }
        for (size_t k = 1; k < code; k++) {
            if (src[i + k] == 0) {
                return -1;
            }
            dst[o++] = src[i + k];
        }
        i += code;
        if (code != 0xff && i < len) {
            dst[o++] = 0;
        }
    }
    return (long)o;
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    FUZZ_CHECK(p != NULL);
    return p;
}

static void check_encode(const uint8_t *d, size_t len) {
    size_t max = OP_COBS_MAX_ENCODED(len);
    uint8_t *enc = xmalloc(max);
    size_t n = 0;
    FUZZ_CHECK(op_cobs_encode(d, len, enc, max, &n) == OP_OK);
    FUZZ_CHECK(n >= len + 1 && n <= max);
    FUZZ_CHECK(memchr(enc, 0, n) == NULL);
    // the exact size is enough (the counting path), one less is not
    uint8_t *tight = xmalloc(n);
    size_t n2 = 0;
    FUZZ_CHECK(op_cobs_encode(d, len, tight, n, &n2) == OP_OK);
    FUZZ_CHECK(n2 == n && memcmp(tight, enc, n) == 0);
    FUZZ_CHECK(op_cobs_encode(d, len, tight, n - 1, &n2) == OP_ERR_SPACE);
    // round trip, into exactly len bytes
    uint8_t *dec = xmalloc(len);
    size_t dn = 0;
    FUZZ_CHECK(op_cobs_decode(enc, n, dec, len, &dn) == OP_OK);
    FUZZ_CHECK(dn == len && memcmp(dec, d, len) == 0);
    free(enc);
    free(tight);
    free(dec);
}

static void check_decode(const uint8_t *d, size_t len, size_t cap) {
    uint8_t *ref = xmalloc(len);
    long want = ref_decode(d, len, ref);
    FUZZ_CHECK(want < 0 || (size_t)want < len || len == 0);
    uint8_t *dst = xmalloc(cap);
    size_t n = 0;
    op_status_t st = op_cobs_decode(d, len, dst, cap, &n);
    if (want < 0) {
        FUZZ_CHECK(st == OP_ERR_COBS || st == OP_ERR_SPACE);
    } else if ((size_t)want > cap) {
        FUZZ_CHECK(st == OP_ERR_SPACE);
    } else {
        FUZZ_CHECK(st == OP_OK && n == (size_t)want && memcmp(dst, ref, n) == 0);
        // decode(encode(y)) == y for the decoded y (the encoding may differ:
        // a last block of 254 bytes may or may not be followed by an empty one)
        check_encode(dst, n);
    }
    if (memchr(d, 0, len) == NULL) {
        size_t n2 = 0;
        op_status_t st2 = op_cobs_decode_nz(d, len, dst, cap, &n2);
        FUZZ_CHECK(st2 == st && (st != OP_OK || (n2 == n && memcmp(dst, ref, n) == 0)));
    }
    free(ref);
    free(dst);
}

static void check_frame(const uint8_t *d, size_t len, uint8_t sel) {
    uint8_t type = len > 0 ? d[0] : 0;
    uint16_t seq = (uint16_t)(len > 2 ? d[1] | d[2] << 8 : sel);
    size_t plen = len > OP_PAYLOAD_MAX + 1 ? OP_PAYLOAD_MAX + 1 : len;
    size_t cap = OP_COBS_MAX_ENCODED(OP_HEADER_SIZE + plen + OP_CRC_SIZE) + 1;
    uint8_t *wire = xmalloc(cap);
    size_t n = 0;
    op_status_t st = op_frame_encode(type, seq, d, plen, wire, cap, &n);
    if (plen > OP_PAYLOAD_MAX) {
        FUZZ_CHECK(st == OP_ERR_OVERSIZE);
    } else {
        FUZZ_CHECK(st == OP_OK && n <= cap && wire[n - 1] == 0);
        FUZZ_CHECK(memchr(wire, 0, n - 1) == NULL);
        uint8_t *body = xmalloc(n);
        size_t bn = 0;
        FUZZ_CHECK(op_cobs_decode(wire, n - 1, body, n, &bn) == OP_OK);
        FUZZ_CHECK(bn == OP_HEADER_SIZE + plen + OP_CRC_SIZE);
        FUZZ_CHECK(op_frame_check(body, bn) == OP_OK);
        FUZZ_CHECK(body[0] == OP_PROTOCOL_VERSION && body[1] == type);
        FUZZ_CHECK((body[2] | body[3] << 8) == seq);
        FUZZ_CHECK(memcmp(body + OP_HEADER_SIZE, d, plen) == 0);
        free(body);
        // a capacity of one byte less than the frame is refused, not overrun
        uint8_t *small = xmalloc(n - 1);
        size_t n2 = 0;
        op_status_t st2 = op_frame_encode(type, seq, d, plen, small, n - 1, &n2);
        FUZZ_CHECK(st2 == OP_ERR_SPACE);
        free(small);
    }
    free(wire);
    // any bytes as a body, and as a samples payload
    op_status_t ck = op_frame_check(d, len);
    FUZZ_CHECK(ck == OP_OK || ck == OP_ERR_OVERSIZE || ck == OP_ERR_TRUNCATED ||
               ck == OP_ERR_CRC || ck == OP_ERR_VERSION);
    size_t cap_n = sel % (OP_SAMPLES_MAX_N + 2);
    int16_t *raw = xmalloc(cap_n * OP_SAMPLE_CHANNELS * sizeof(int16_t));
    uint32_t t0 = 0;
    uint16_t period = 0;
    size_t cnt = 0;
    op_status_t su = op_samples_unpack(d, len, &t0, &period, raw, cap_n, &cnt);
    if (su == OP_OK) {
        FUZZ_CHECK(cnt <= cap_n && cnt <= OP_SAMPLES_MAX_N);
        FUZZ_CHECK(len >= OP_SAMPLES_HEAD_SIZE + cnt * OP_SAMPLE_SIZE);
    } else {
        FUZZ_CHECK(su == OP_ERR_LENGTH || su == OP_ERR_SPACE);
    }
    free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_in_t in = {data, size};
    uint8_t sel = fuzz_u8(&in);
    const uint8_t *d = in.p;
    size_t len = in.n;
    check_encode(d, len);
    // decode capacities: enough, exactly the input length, or short
    size_t cap = (sel & 3) == 0 ? len : (sel & 3) == 1 ? len + 16 : (size_t)(sel >> 2) % (len + 1);
    check_decode(d, len, cap);
    check_frame(d, len, sel);
    return 0;
}

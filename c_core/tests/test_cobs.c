// COBS: known encodings (the examples of Cheshire and Baker), round trips,
// errors.
#include <stdint.h>
#include <string.h>

#include "op_cobs.h"
#include "op_test.h"

static int encodes_to(const uint8_t *in, size_t n, const uint8_t *want, size_t wn) {
    uint8_t out[600];
    size_t on = 0;
    if (op_cobs_encode(in, n, out, sizeof out, &on) != OP_OK || on != wn ||
        memcmp(out, want, wn) != 0) {
        return 0;
    }
    uint8_t back[600];
    size_t bn = 0;
    return op_cobs_decode(out, on, back, sizeof back, &bn) == OP_OK && bn == n &&
           memcmp(back, in, n) == 0;
}

int main(void) {
    {
        const uint8_t in[] = {0x00};
        const uint8_t want[] = {0x01, 0x01};
        CHECK(encodes_to(in, 1, want, 2));
    }
    {
        const uint8_t in[] = {0x00, 0x00};
        const uint8_t want[] = {0x01, 0x01, 0x01};
        CHECK(encodes_to(in, 2, want, 3));
    }
    {
        const uint8_t in[] = {0x11, 0x22, 0x00, 0x33};
        const uint8_t want[] = {0x03, 0x11, 0x22, 0x02, 0x33};
        CHECK(encodes_to(in, 4, want, 5));
    }
    {
        const uint8_t in[] = {0x11, 0x00, 0x00, 0x00};
        const uint8_t want[] = {0x02, 0x11, 0x01, 0x01, 0x01};
        CHECK(encodes_to(in, 4, want, 5));
    }
    {
        const uint8_t want[] = {0x01};
        CHECK(encodes_to(want, 0, want, 1));  // nothing encodes to one code byte
    }
    // 254 non-zero bytes: one full block, no empty block after it
    static uint8_t in[600], want[600];
    for (size_t i = 0; i < 254; i++) {
        in[i] = (uint8_t)(i + 1);
        want[i + 1] = (uint8_t)(i + 1);
    }
    want[0] = 0xff;
    CHECK(encodes_to(in, 254, want, 255));
    // 255 non-zero bytes: a full block, then a block of one
    in[254] = 0x42;
    want[255] = 0x02;
    want[256] = 0x42;
    CHECK(encodes_to(in, 255, want, 257));

    // round trips of mixed data, every length up to 520
    for (size_t n = 0; n <= 520; n++) {
        uint8_t enc[600], dec[600];
        size_t en = 0, dn = 0;
        for (size_t i = 0; i < n; i++) {
            in[i] = (uint8_t)((i * 7 + n) % 13 == 0 ? 0 : (i * 31 + 1));
        }
        CHECK(op_cobs_encode(in, n, enc, sizeof enc, &en) == OP_OK);
        CHECK(en <= OP_COBS_MAX_ENCODED(n));
        CHECK(memchr(enc, 0, en) == NULL);
        CHECK(op_cobs_decode(enc, en, dec, sizeof dec, &dn) == OP_OK);
        CHECK(dn == n && memcmp(dec, in, n) == 0);
        // too small an output buffer is an error, never an overrun
        if (en > 1) {
            CHECK(op_cobs_encode(in, n, enc, en - 1, &en) == OP_ERR_SPACE);
        }
    }
    // errors
    uint8_t out[16];
    size_t on;
    const uint8_t past_end[] = {0x05, 0x11, 0x22};
    CHECK(op_cobs_decode(past_end, 3, out, sizeof out, &on) == OP_ERR_COBS);
    const uint8_t has_zero[] = {0x03, 0x11, 0x00};
    CHECK(op_cobs_decode(has_zero, 3, out, sizeof out, &on) == OP_ERR_COBS);
    const uint8_t ok[] = {0x05, 1, 2, 3, 4};
    CHECK(op_cobs_decode(ok, 5, out, 3, &on) == OP_ERR_SPACE);
    CHECK(op_cobs_decode(NULL, 3, out, sizeof out, &on) == OP_ERR_ARG);
    TEST_END("test_cobs");
}

// CRC-32/ISO-HDLC: the check value, the bitwise definition, chaining; every
// length up to a few folds of the host's PCLMULQDQ CRC at every alignment
// (built with OP_CRC32_ACCEL on x86-64 hosts: op_crc32 then dispatches to it).
#include <stdint.h>
#include <string.h>

#include "op_crc32.h"
#include "op_test.h"

static uint32_t bitwise(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ ((c & 1u) ? 0xedb88320u : 0u);
        }
    }
    return ~c;
}

int main(void) {
    const uint8_t check[] = "123456789";
    CHECK(op_crc32(0, check, 9) == 0xcbf43926u);  // the catalogue check value
    CHECK(op_crc32(0, check, 0) == 0);
    static uint8_t buf[1000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t n = 0; n < sizeof buf; n += 37) {
        CHECK(op_crc32(0, buf, n) == bitwise(buf, n));
        size_t h = n / 3;
        CHECK(op_crc32(op_crc32(0, buf, h), buf + h, n - h) == bitwise(buf, n));
    }
    // every length 0..700 (the accelerated path starts at OP_CRC32_ACCEL_MIN,
    // folds 64 bytes at a time, then 16, and has a head of len % 16 bytes)
    // at each of 16 alignments, with a seed, and chained at an odd split
    static uint8_t big[700 + 16];
    for (size_t i = 0; i < sizeof big; i++) {
        x = x * 1103515245u + 12345u;
        big[i] = (uint8_t)(x >> 16);
    }
    for (size_t n = 0; n <= 700; n++) {
        for (size_t a = 0; a < 16; a++) {
            uint32_t want = bitwise(big + a, n);
            CHECK(op_crc32(0, big + a, n) == want);
            size_t h = (n * 7) / 11;
            CHECK(op_crc32(op_crc32(0, big + a, h), big + a + h, n - h) == want);
#ifdef OP_CRC32_ACCEL
            CHECK(op_crc32_portable(0, big + a, n) == want);
            CHECK(op_crc32_accel(0, big + a, n) == want);
            CHECK(op_crc32_accel(0xdeadbeefu, big + a, n) == op_crc32_portable(0xdeadbeefu, big + a, n));
#endif
        }
    }
    // all-zero and all-ones inputs (zero registers, carries through every lane)
    static uint8_t flat[300];
    for (size_t n = 0; n <= sizeof flat; n += 13) {
        memset(flat, 0, sizeof flat);
        CHECK(op_crc32(0, flat, n) == bitwise(flat, n));
        memset(flat, 0xff, sizeof flat);
        CHECK(op_crc32(0, flat, n) == bitwise(flat, n));
    }
    TEST_END("test_crc32");
}

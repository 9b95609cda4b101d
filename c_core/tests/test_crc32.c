// CRC-32/ISO-HDLC: the check value, the bitwise definition, chaining.
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
    TEST_END("test_crc32");
}

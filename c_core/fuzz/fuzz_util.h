// Shared bits of the libFuzzer harnesses (c_core/fuzz/fuzz_*.c).
//
// FUZZ_CHECK is the harnesses' oracle: a property that must hold for every
// input. It aborts (a crash to libFuzzer, which saves the input) and says
// which property failed. The sanitizers (ASan, UBSan with
// -fno-sanitize-recover) are the other oracle.
#ifndef OP_FUZZ_UTIL_H
#define OP_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                           \
            abort();                                                            \
        }                                                                       \
    } while (0)

// A cursor over the fuzz input: fixed-width reads that return 0 past the end,
// so every input, however short, is a valid program for the harness.
typedef struct {
    const uint8_t *p;
    size_t n;
} fuzz_in_t;

static inline uint8_t fuzz_u8(fuzz_in_t *in) {
    if (in->n == 0) {
        return 0;
    }
    in->n--;
    return *in->p++;
}

static inline uint16_t fuzz_u16(fuzz_in_t *in) {
    uint16_t lo = fuzz_u8(in);
    return (uint16_t)(lo | (uint16_t)fuzz_u8(in) << 8);
}

static inline uint32_t fuzz_u32(fuzz_in_t *in) {
    uint32_t lo = fuzz_u16(in);
    return lo | (uint32_t)fuzz_u16(in) << 16;
}

// FNV-1a over bytes: a digest of everything a run put out, to compare runs.
static inline uint64_t fuzz_fnv(uint64_t h, const void *data, size_t len) {
    const uint8_t *p = (const uint8_t *)data;
    if (h == 0) {
        h = 1469598103934665603ull;
    }
    for (size_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * 1099511628211ull;
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif // OP_FUZZ_UTIL_H

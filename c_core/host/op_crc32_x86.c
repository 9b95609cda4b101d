// Host-only CRC-32/ISO-HDLC with PCLMULQDQ (x86-64): about 16 times the
// slicing-by-16 table on long inputs. Never part of an MCU build: the
// portable core is c_core/op_*.c; this file is compiled only into the host's
// cffi module and the native sanitizer tests, which define OP_CRC32_ACCEL so
// that op_crc32() hands inputs of OP_CRC32_ACCEL_MIN bytes or more to
// op_crc32_accel(). The CPU is checked at run time (__builtin_cpu_supports);
// without PCLMULQDQ and SSE4.1 the portable table does the work.
//
// Method: Gopal et al., "Fast CRC Computation for Generic Polynomials Using
// PCLMULQDQ Instruction" (Intel, 2009): four 128-bit lanes folded over 64
// bytes at a time, folded into one, then reduced 128 -> 64 bits and by
// Barrett to the 32-bit CRC. A frame is a few hundred bytes, so the code
// keeps the chain of dependent multiplies short: the head (len % 16 bytes)
// is aligned with PSHUFB, not a byte loop, and the lanes are combined at once. The derivation of every constant, and a model of
// this code on Python integers, is tools/gen_crc_constants.py.
#if defined(__x86_64__)

#include <immintrin.h>
#include "op_crc32.h"

// python tools/gen_crc_constants.py --constants; fold by d blocks of 128 bits:
// lo = reflect32(x^(128d+31) mod P), hi = reflect32(x^(128d-33) mod P)
static const uint64_t k_fold[7][2] = {  // {lo, hi}: one 16-byte load
    {0, 0},                        // (unused)
    {0x0ae689191u, 0x0ccaa009eu},  // 128
    {0x0f1da05aau, 0x081256527u},  // 256
    {0x03db1ecdcu, 0x0af449247u},  // 384
    {0x08f352d95u, 0x01d9513d7u},  // 512: the four lanes' loop
    {0x01c279815u, 0x0ae0b5394u},  // 640
    {0x0df068dc2u, 0x057c54819u},  // 768
};
#define K_RED96 0x0ccaa009eull  // reflect32(x^96 mod P) << 1
#define K_RED64 0x163cd6124ull  // reflect32(x^64 mod P) << 1
#define K_MU 0x1f7011641ull     // reflect33(floor(x^64 / P))
#define K_POLY 0x1db710641ull   // reflect33(P)

// PSHUFB index windows: at +h, {0x80 x 16 - h, 0 .. h - 1} puts the first h
// bytes of a block at its end; at +h, {h .. 15, 0x80 x h} shifts a block
// down by h bytes
static const uint8_t shuf_tail[32] = {
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t shuf_down[32] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80};

#define OP_TARGET __attribute__((target("pclmul,sse4.1")))

OP_TARGET static inline __m128i ld(const void *p) {
    return _mm_loadu_si128((const __m128i *)p);
}

// x moved d blocks of 128 bits along the message (d = 1 .. 6)
OP_TARGET static inline __m128i fold(__m128i x, int d) {
    const __m128i k = ld(k_fold[d]);
    return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

// reg: the CRC register (not inverted); len >= 64. Returns the register.
OP_TARGET static uint32_t crc_pclmul(uint32_t reg, const uint8_t *p, size_t len) {
    // The message is taken as 16 - h zero bytes, then the data, h = len % 16
    // (16 when 0), so that it is whole blocks: zero bytes leave a zero
    // register unchanged, and the starting register is the same as xoring it
    // into the first 4 data bytes (which may reach into the second block).
    size_t h = len & 15 ? len & 15 : 16;
    __m128i c = _mm_cvtsi32_si128((int)reg);
    __m128i x0 = _mm_shuffle_epi8(_mm_xor_si128(ld(p), c), ld(shuf_tail + h));
    const uint8_t *q = p + h;  // the second block
    __m128i x1 = _mm_xor_si128(ld(q), _mm_shuffle_epi8(c, ld(shuf_down + h)));
    __m128i x2 = ld(q + 16), x3 = ld(q + 32);
    q += 48;
    size_t left = (len - h) / 16 - 3;  // whole blocks after the first four
    while (left >= 4) {
        x0 = _mm_xor_si128(fold(x0, 4), ld(q));
        x1 = _mm_xor_si128(fold(x1, 4), ld(q + 16));
        x2 = _mm_xor_si128(fold(x2, 4), ld(q + 32));
        x3 = _mm_xor_si128(fold(x3, 4), ld(q + 48));
        q += 64;
        left -= 4;
    }
    // every lane and leftover block moved to the last block at once
    int r = (int)left;
    __m128i x = _mm_xor_si128(_mm_xor_si128(fold(x0, 3 + r), fold(x1, 2 + r)), fold(x2, 1 + r));
    if (r == 0) {
        x = _mm_xor_si128(x, x3);
    } else {
        x = _mm_xor_si128(x, fold(x3, r));
        for (int i = 0; i < r; i++) {
            __m128i b = ld(q + 16 * i);
            x = _mm_xor_si128(x, i == r - 1 ? b : fold(b, r - 1 - i));
        }
    }
    // 128 -> 96 -> 64 bits (reflected: the low bits hold the high degrees)
    const __m128i kr = _mm_set_epi64x((long long)K_RED64, (long long)K_RED96);
    const __m128i lo32 = _mm_set_epi32(0, 0, 0, -1);
    __m128i y = _mm_xor_si128(_mm_clmulepi64_si128(x, kr, 0x00), _mm_srli_si128(x, 8));
    __m128i z = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(y, lo32), kr, 0x10),
                              _mm_srli_si128(y, 4));
    // Barrett: q = floor(zh * mu / x^32), remainder = zl ^ low 32 of q * P
    const __m128i kb = _mm_set_epi64x((long long)K_POLY, (long long)K_MU);
    __m128i qt = _mm_clmulepi64_si128(_mm_and_si128(z, lo32), kb, 0x00);
    __m128i rem = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(qt, lo32), kb, 0x10), z);
    return (uint32_t)_mm_extract_epi32(rem, 1);
}

static int have_pclmul = -1;

int op_crc32_accel_active(void) {
    if (have_pclmul < 0) {
        __builtin_cpu_init();
        have_pclmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    }
    return have_pclmul;
}

uint32_t op_crc32_accel(uint32_t crc, const uint8_t *data, size_t len) {
    if (len < 64 || !op_crc32_accel_active()) {
        return op_crc32_portable(crc, data, len);
    }
    return ~crc_pclmul(~crc, data, len);
}

#endif // __x86_64__

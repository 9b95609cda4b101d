// Host-only samples loop with SSE4.1 (x86-64): the records of a `samples`
// frame to physical t, accel, gyro and force, four samples at a time. Never
// part of an MCU build: compiled only into the host's cffi module and the
// native sanitizer tests, which define OP_UNPACK_ACCEL so that the stream
// decoder (c_core/op_frame.c) calls op_samples_put_accel() before its portable
// loop, which then does the remaining samples. The CPU is checked at run time.
//
// Four records are 56 bytes. Each output vector of four int16 counts lies in
// one 16-byte window of them: accel at byte offsets {0,2,4,14}, {16,18,28,30},
// {32,42,44,46}; gyro at the same shapes from offset 6; force at {12,26} and
// {40,54}. PSHUFB places a signed count in the high half of a 32-bit lane
// (PSRAD then sign-extends it), an unsigned one in the low half. The
// products are the portable loop's: float(count) * scale in binary32, and
// t = double(t0 + i * period) * 1e-6 (the integer sums are exact in binary64).
#if defined(__x86_64__)

#include <immintrin.h>

#include "op_frame.h"

#define OP_TARGET __attribute__((target("sse4.1")))

#define Z (-128)  // PSHUFB: a zero byte (0x80)
// a signed count at byte o, in the high half of a lane
#define HI(o) Z, Z, (o), (o) + 1
// an unsigned count at byte o, in the low half of a lane
#define LO(o) (o), (o) + 1, Z, Z
#define NO Z, Z, Z, Z

OP_TARGET static inline __m128i mask(char b0, char b1, char b2, char b3, char b4, char b5,
                                     char b6, char b7, char b8, char b9, char b10, char b11,
                                     char b12, char b13, char b14, char b15) {
    return _mm_setr_epi8(b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15);
}

OP_TARGET static inline __m128i ld(const uint8_t *p) {
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

OP_TARGET static inline void st(float *p, __m128 v) {
    _mm_storeu_ps(p, v);
}

// signed counts picked by m from the window at p, times s
OP_TARGET static inline __m128 conv_i16(const uint8_t *p, __m128i m, __m128 s) {
    return _mm_mul_ps(_mm_cvtepi32_ps(_mm_srai_epi32(_mm_shuffle_epi8(ld(p), m), 16)), s);
}

OP_TARGET static size_t put_sse41(const uint8_t *r, size_t n, int64_t t0, int64_t period,
                                  float sa, float sg, float sf, double *t, float *a, float *g,
                                  float *f) {
    const __m128i m0 = mask(HI(0), HI(2), HI(4), HI(14));
    const __m128i m1 = mask(HI(0), HI(2), HI(12), HI(14));
    const __m128i m2 = mask(HI(0), HI(10), HI(12), HI(14));
    const __m128i mf0 = mask(LO(0), LO(14), NO, NO);
    const __m128i mf1 = mask(NO, NO, LO(0), LO(14));
    const __m128 va = _mm_set1_ps(sa), vg = _mm_set1_ps(sg), vf = _mm_set1_ps(sf);
    const double p = (double)period;
    const __m128d p01 = _mm_set_pd(p, 0.0), p23 = _mm_set_pd(3.0 * p, 2.0 * p);
    const __m128d us = _mm_set1_pd(1e-6);
    size_t i = 0;
    for (; i + 4 <= n; i += 4, r += 56) {
        st(a + 3 * i + 0, conv_i16(r + 0, m0, va));
        st(a + 3 * i + 4, conv_i16(r + 16, m1, va));
        st(a + 3 * i + 8, conv_i16(r + 32, m2, va));
        st(g + 3 * i + 0, conv_i16(r + 6, m0, vg));
        st(g + 3 * i + 4, conv_i16(r + 22, m1, vg));
        st(g + 3 * i + 8, conv_i16(r + 38, m2, vg));
        __m128i fi = _mm_or_si128(_mm_shuffle_epi8(ld(r + 12), mf0),
                                  _mm_shuffle_epi8(ld(r + 40), mf1));
        st(f + i, _mm_mul_ps(_mm_cvtepi32_ps(fi), vf));
        __m128d base = _mm_set1_pd((double)(t0 + (int64_t)i * period));
        _mm_storeu_pd(t + i, _mm_mul_pd(_mm_add_pd(base, p01), us));
        _mm_storeu_pd(t + i + 2, _mm_mul_pd(_mm_add_pd(base, p23), us));
    }
    return i;
}

static int have_sse41 = -1;

size_t op_samples_put_accel(const uint8_t *rec, size_t n, int64_t t0_us, int64_t period_us,
                            float accel_scale, float gyro_scale, float force_scale, double *t_s,
                            float *accel, float *gyro, float *force) {
    if (have_sse41 < 0) {
        __builtin_cpu_init();
        have_sse41 = __builtin_cpu_supports("sse4.1") != 0;
    }
    if (!have_sse41) {
        return 0;
    }
    return put_sse41(rec, n, t0_us, period_us, accel_scale, gyro_scale, force_scale, t_s, accel,
                     gyro, force);
}

#endif // __x86_64__

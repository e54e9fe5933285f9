/* 8x8 in-register transposes for packing non-contiguous GEMM operands (row-major A, transposed
 * B), shared by gemm_avx2.c and gemm_avx512.c. Include only inside a region compiled with
 * target("avx2") or a superset (avx512f implies it). */
#ifndef MURMUR_GEMM_X86_TRANSPOSE_H
#define MURMUR_GEMM_X86_TRANSPOSE_H
#include <immintrin.h>

/* Loads src[r][off .. off+8) for r < 8 and returns the columns: out[q][r] = src[r][off + q].
 * Unpack/shuffle/permute network of Intel's _MM_TRANSPOSE8_PS pattern. */
static inline __attribute__((always_inline)) void murmur_transpose8(const float *const *src, ptrdiff_t off, __m256 out[8]) {
    const __m256 r0 = _mm256_loadu_ps(src[0] + off), r1 = _mm256_loadu_ps(src[1] + off);
    const __m256 r2 = _mm256_loadu_ps(src[2] + off), r3 = _mm256_loadu_ps(src[3] + off);
    const __m256 r4 = _mm256_loadu_ps(src[4] + off), r5 = _mm256_loadu_ps(src[5] + off);
    const __m256 r6 = _mm256_loadu_ps(src[6] + off), r7 = _mm256_loadu_ps(src[7] + off);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    out[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    out[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    out[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    out[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    out[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    out[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    out[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    out[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/* dst[q*stride + j] = src[j][off + q] for q < 8 and j < width, width in {4, 6, 8}: `width`
 * source rows (the rest repeat row 0 and are not stored). */
static inline __attribute__((always_inline)) void murmur_transpose_store(const float *const *src, int width, ptrdiff_t off,
                                                                       float *dst, ptrdiff_t stride) {
    const float *rows[8];
    for (int r = 0; r < 8; r++) rows[r] = src[r < width ? r : 0];
    __m256 out[8];
    murmur_transpose8(rows, off, out);
    for (int q = 0; q < 8; q++) {
        float *d = dst + q * stride;
        if (width == 8) {
            _mm256_storeu_ps(d, out[q]);
        } else {
            _mm_storeu_ps(d, _mm256_castps256_ps128(out[q]));
            if (width == 6) _mm_storel_pi((__m64 *)(d + 4), _mm256_extractf128_ps(out[q], 1));
        }
    }
}
#endif

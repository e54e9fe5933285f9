/* AVX2 + FMA GEMM: the driver in gemm_driver.h with a 6x16 micro-kernel (12 ymm accumulators,
 * two B vectors, one broadcast A element: 15 of 16 registers), as in BLIS's Haswell sgemm
 * kernel. Every function in this file carries __attribute__((target("avx2,fma"))) through the
 * pragma below, so the package builds without -mavx2 and runs it only after a CPUID check. */
#include "gemm_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "gemm_x86_transpose.h"

#define GEMM_SUFFIX avx2
#define GEMM_MR 6
#define GEMM_NR 16
#define GEMM_MC 144
#define GEMM_KC 256
#define GEMM_NC 2048

/* C[6 x 16] <- alpha * sum_p a_p b_p^T + beta * C, one FMA chain per accumulator, p ascending. */
static inline __attribute__((always_inline)) void gemm_micro_kernel(
    ptrdiff_t kc, const float *restrict a, const float *restrict b, float *c, ptrdiff_t ldc,
    float alpha, float beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int r = 0; r < GEMM_MR; r++) _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
#pragma clang loop unroll_count(4)
    for (ptrdiff_t p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        __m256 av;
        av = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
        a += GEMM_MR;
        b += GEMM_NR;
    }
    const __m256 va = _mm256_set1_ps(alpha);
    const __m256 acc[GEMM_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (beta == 0.0f) {
        for (int r = 0; r < GEMM_MR; r++) {
            _mm256_storeu_ps(c + r * ldc, _mm256_mul_ps(va, acc[r][0]));
            _mm256_storeu_ps(c + r * ldc + 8, _mm256_mul_ps(va, acc[r][1]));
        }
    } else {
        const __m256 vb = _mm256_set1_ps(beta);
        for (int r = 0; r < GEMM_MR; r++) {
            float *row = c + r * ldc;
            _mm256_storeu_ps(row, _mm256_fmadd_ps(va, acc[r][0], _mm256_mul_ps(vb, _mm256_loadu_ps(row))));
            _mm256_storeu_ps(row + 8, _mm256_fmadd_ps(va, acc[r][1], _mm256_mul_ps(vb, _mm256_loadu_ps(row + 8))));
        }
    }
}

#define GEMM_PACK_A_BLOCK8(rows, p, dst) murmur_transpose_store((rows), 6, (p), (dst), GEMM_MR)
#define GEMM_PACK_B_BLOCK8(cols, p, dst)                                   \
    do {                                                                   \
        for (int g = 0; g < GEMM_NR; g += 8)                               \
            murmur_transpose_store((cols) + g, 8, (p), (dst) + g, GEMM_NR); \
    } while (0)

#include "gemm_driver.h"

#pragma clang attribute pop
#endif

/* AVX-512F GEMM: the driver in gemm_driver.h with a 12x32 micro-kernel (24 zmm accumulators,
 * two B vectors, A broadcast folded into the FMA: 26 of 32 registers), compiled per function
 * with __attribute__((target("avx512f"))) and run only after a CPUID check. */
#include "gemm_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#include "gemm_x86_transpose.h"

#define GEMM_SUFFIX avx512
#define GEMM_MR 12
#define GEMM_NR 32
#define GEMM_MC 144
#define GEMM_KC 384
#define GEMM_NC 2048

/* C[12 x 32] <- alpha * sum_p a_p b_p^T + beta * C, one FMA chain per accumulator, p ascending. */
static inline __attribute__((always_inline)) void gemm_micro_kernel(
    ptrdiff_t kc, const float *restrict a, const float *restrict b, float *c, ptrdiff_t ldc,
    float alpha, float beta) {
    __m512 acc[GEMM_MR][2];
    for (int r = 0; r < GEMM_MR; r++) {
        acc[r][0] = _mm512_setzero_ps();
        acc[r][1] = _mm512_setzero_ps();
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 16), _MM_HINT_T0);
    }
#pragma clang loop unroll_count(2)
    for (ptrdiff_t p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma clang loop unroll(full)
        for (int r = 0; r < GEMM_MR; r++) {
            const __m512 av = _mm512_set1_ps(a[r]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
        a += GEMM_MR;
        b += GEMM_NR;
    }
    const __m512 va = _mm512_set1_ps(alpha);
    if (beta == 0.0f) {
        for (int r = 0; r < GEMM_MR; r++) {
            _mm512_storeu_ps(c + r * ldc, _mm512_mul_ps(va, acc[r][0]));
            _mm512_storeu_ps(c + r * ldc + 16, _mm512_mul_ps(va, acc[r][1]));
        }
    } else {
        const __m512 vb = _mm512_set1_ps(beta);
        for (int r = 0; r < GEMM_MR; r++) {
            float *row = c + r * ldc;
            _mm512_storeu_ps(row, _mm512_fmadd_ps(va, acc[r][0], _mm512_mul_ps(vb, _mm512_loadu_ps(row))));
            _mm512_storeu_ps(row + 16, _mm512_fmadd_ps(va, acc[r][1], _mm512_mul_ps(vb, _mm512_loadu_ps(row + 16))));
        }
    }
}

#define GEMM_PACK_A_BLOCK8(rows, p, dst)                                   \
    do {                                                                   \
        murmur_transpose_store((rows), 8, (p), (dst), GEMM_MR);            \
        murmur_transpose_store((rows) + 8, 4, (p), (dst) + 8, GEMM_MR);    \
    } while (0)
#define GEMM_PACK_B_BLOCK8(cols, p, dst)                                   \
    do {                                                                   \
        for (int g = 0; g < GEMM_NR; g += 8)                               \
            murmur_transpose_store((cols) + g, 8, (p), (dst) + g, GEMM_NR); \
    } while (0)

#include "gemm_driver.h"

#pragma clang attribute pop
#endif

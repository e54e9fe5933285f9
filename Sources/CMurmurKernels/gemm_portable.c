/* Portable GEMM: the driver in gemm_driver.h with a micro-kernel written in Clang/GCC vector
 * extensions, compiled for the baseline ISA (SSE2 on x86-64, NEON on arm64, where `a*b + c`
 * contracts to FMA). The fallback for CPUs without AVX2+FMA. */
#include "gemm_internal.h"

typedef float murmur_v8 __attribute__((vector_size(32), aligned(4)));

#define GEMM_SUFFIX portable
#define GEMM_MR MURMUR_GEMM_PORTABLE_MR
#define GEMM_NR MURMUR_GEMM_PORTABLE_NR
#define GEMM_MC (GEMM_MR * 16)
#define GEMM_KC 256
#define GEMM_NC 2048

/* C[MR x 8] <- alpha * sum_p a_p b_p^T + beta * C, p ascending; beta == 0 leaves C unread. */
static inline __attribute__((always_inline)) void gemm_micro_kernel(
    ptrdiff_t kc, const float *restrict a, const float *restrict b, float *c, ptrdiff_t ldc,
    float alpha, float beta) {
    murmur_v8 acc[GEMM_MR];
    for (int r = 0; r < GEMM_MR; r++) acc[r] = (murmur_v8){0};
    for (ptrdiff_t p = 0; p < kc; p++) {
        const murmur_v8 bv = *(const murmur_v8 *)(b + p * GEMM_NR);
        for (int r = 0; r < GEMM_MR; r++) acc[r] += a[p * GEMM_MR + r] * bv;
    }
    for (int r = 0; r < GEMM_MR; r++) {
        murmur_v8 *row = (murmur_v8 *)(c + r * ldc);
        if (beta == 0.0f) {
            *row = alpha * acc[r];
        } else {
            *row = alpha * acc[r] + beta * *row;
        }
    }
}

#include "gemm_driver.h"

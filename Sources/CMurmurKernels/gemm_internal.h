#ifndef MURMUR_GEMM_INTERNAL_H
#define MURMUR_GEMM_INTERNAL_H
/* Shared by the per-ISA GEMM translation units; not part of the public header. */
#include <stddef.h>
#include <string.h>

/* A 64-byte aligned scratch area of at least `floats` floats owned by the calling thread,
 * reused across calls and freed when the thread exits; NULL if memory is exhausted. */
float *murmur_gemm_workspace(size_t floats);

/* Reference triple loop (float accumulation, fixed order); used when no workspace exists. */
void murmur_sgemm_naive(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                        float alpha, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                        float beta, float *c, ptrdiff_t ldc);

/* C <- beta * C (beta == 0 writes zeros without reading C): the whole product when k or alpha is 0. */
void murmur_gemm_scale(ptrdiff_t m, ptrdiff_t n, float beta, float *c, ptrdiff_t ldc);

void murmur_sgemm_portable(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                           float alpha, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                           float beta, float *c, ptrdiff_t ldc);
#if defined(__x86_64__)
void murmur_sgemm_avx2(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                       float alpha, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                       float beta, float *c, ptrdiff_t ldc);
void murmur_sgemm_avx512(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                         float alpha, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                         float beta, float *c, ptrdiff_t ldc);
#endif

#define MURMUR_MIN(x, y) ((x) < (y) ? (x) : (y))

/* Register tile of the portable kernel: 8 rows of two 4-wide NEON vectors on arm64 (32
 * vector registers), 6 rows on x86-64 SSE2 (16 registers: 12 accumulators + 3). */
#if defined(__aarch64__)
#define MURMUR_GEMM_PORTABLE_MR 8
#else
#define MURMUR_GEMM_PORTABLE_MR 6
#endif
#define MURMUR_GEMM_PORTABLE_NR 8
#endif

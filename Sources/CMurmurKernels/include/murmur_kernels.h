#ifndef MURMUR_KERNELS_H
#define MURMUR_KERNELS_H
/*
 * CMurmurKernels: the packed, cache-blocked single-precision GEMM behind MurmurTensor's
 * `GEMM.sgemm` (design in docs/gemm.md).
 *
 * The same BLIS-style driver (Van Zee & van de Geijn, "BLIS: A Framework for Rapidly
 * Instantiating BLAS Functionality", ACM TOMS 41(3), 2015; Goto & van de Geijn, "Anatomy of
 * High-Performance Matrix Multiplication", ACM TOMS 34(3), 2008) is compiled once per
 * instruction set, each copy with a per-function `target` attribute, so the package needs no
 * compiler flags; `murmur_gemm_best_kernel` picks one at run time.
 */
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif


/* The micro-kernel families. Values are stable (used from Swift). */
typedef enum {
    MURMUR_GEMM_PORTABLE = 0, /* plain C vectors, baseline ISA (SSE2 on x86-64, NEON on arm64) */
    MURMUR_GEMM_AVX2 = 1,     /* x86-64 AVX2 + FMA, 6x16 micro-tile */
    MURMUR_GEMM_AVX512 = 2    /* x86-64 AVX-512F, 12x32 micro-tile */
} murmur_gemm_kernel;

/* The kernel to use on this CPU: AVX-512 on Intel CPUs that have it, else AVX2+FMA when
 * present, else portable (__builtin_cpu_supports / __builtin_cpu_is; see kernels.c). */
murmur_gemm_kernel murmur_gemm_best_kernel(void);

/* 1 if `kernel` can run on this CPU, else 0. */
int murmur_gemm_kernel_available(murmur_gemm_kernel kernel);

/* Rows (MR) and columns (NR) of `kernel`'s register tile; thread splits align to these. */
int murmur_gemm_kernel_mr(murmur_gemm_kernel kernel);
int murmur_gemm_kernel_nr(murmur_gemm_kernel kernel);

/*
 * Row-major C[m x n] <- alpha * op(A)[m x k] * op(B)[k x n] + beta * C with `kernel`, on the
 * calling thread. op(X) is X, or X^T when trans_x != 0; lda/ldb/ldc are row strides of the
 * arrays as stored. beta == 0 never reads C. Sums over k run in a fixed order, so results do
 * not depend on how a caller splits C into row or column blocks. Packing buffers are cached
 * per thread (no allocation after the first call of a given size on a thread).
 * An unavailable `kernel` falls back to MURMUR_GEMM_PORTABLE.
 */
void murmur_sgemm(murmur_gemm_kernel kernel, int trans_a, int trans_b,
                  ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                  const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                  float beta, float *c, ptrdiff_t ldc);

/* Maximum threads GEMM may use (>= 1); an atomic, so safe to read and set from any thread. */
int murmur_gemm_max_threads(void);
void murmur_gemm_set_max_threads(int threads);

/* Kernel override for `GEMM.sgemm` (-1: none, else a murmur_gemm_kernel value); an atomic.
 * Lets a verifier re-run a model on another kernel to measure honest floating-point variation. */
int murmur_gemm_kernel_override(void);
void murmur_gemm_set_kernel_override(int kernel);

/* Trimmed means of columns [j0, j1) of a row-major n x ld float matrix: out[j - j0] = mean of
 * the values ranked [trim, n - trim) in column j (so the median for trim = (n - 1) / 2), ties
 * exact, sums in double (order_stats.c: order-preserving int keys, per-lane bisection over
 * sixteen columns at once). `scratch` holds n * 64 int32 and is 64-byte aligned. Values must be
 * finite. Returns 1 when done, 0 when this CPU lacks AVX-512F (nothing written; use another
 * method), -1 for bad arguments. */
int murmur_trimmed_mean_columns(const float *v, ptrdiff_t n, ptrdiff_t ld, ptrdiff_t j0, ptrdiff_t j1, ptrdiff_t trim,
                                int *scratch, float *out);

/* 1 if murmur_trimmed_mean_columns can run on this CPU. */
int murmur_trimmed_mean_available(void);

/* Indices of the k largest |v[i]| (NaN counts as 0; ties go to the lower index), written to
 * `out` in ascending order; returns min(k, n) (0 when k <= 0). `out` holds at least k ints.
 * Used by MurmurVerify's activation proofs, where it runs once per inference. */
int murmur_topk_abs(const float *v, int n, int k, int *out);

/* The same with the path chosen: 0 = portable, 1 = AVX-512F when the CPU has it (and k <= 16,
 * n <= 1024), else portable. For tests that both paths give the same answer. */
int murmur_topk_abs_kernel(int kernel, const float *v, int n, int k, int *out);

/* Activation proofs for a batch: for each of `rows` rows of `width` floats (row r starts at
 * h + r * ld), the top min(k, width) entries by |x| as `murmur_topk_abs` selects them, in the
 * proof's wire form (ascending index; width <= 256: 1 index byte + the top 24 bits of the
 * Float32, else 2 index bytes + the top 16 bits; big endian), written to out + r * bytes.
 * Returns bytes = 4 * min(k, width) per row (0 when k, width or rows <= 0; -1 when
 * min(k, width) > 256). `kernel`: 0 = portable, 1 = AVX-512 (F, BW, BMI2) when the CPU has it
 * and min(k, width) <= 16, width <= 1024, else portable. One call per batch, right after the
 * forward pass, so the proof costs no per-sample call or allocation. */
int murmur_topk_proof_rows(int kernel, const float *h, int rows, int width, ptrdiff_t ld, int k, unsigned char *out);

#ifdef __cplusplus
}
#endif
#endif

/* Kernel selection, per-thread packing workspace and the thread-count setting of the GEMM
 * (see include/murmur_kernels.h and docs/gemm.md). */
#include "murmur_kernels.h"
#include "gemm_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- run-time dispatch ------------------------------------------------------------------ */

int murmur_gemm_kernel_available(murmur_gemm_kernel kernel) {
    switch (kernel) {
    case MURMUR_GEMM_PORTABLE:
        return 1;
#if defined(__x86_64__)
    /* __builtin_cpu_supports reports AVX features only when the OS saves their registers
     * (XGETBV), so these checks are sufficient to run the code. */
    case MURMUR_GEMM_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case MURMUR_GEMM_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f");
#endif
    default:
        return 0;
    }
}

/* AVX-512 only on Intel: AMD Zen 4 splits each 512-bit FMA into two 256-bit halves, and there
 * the AVX2 kernel measured 10-30 % faster on small (MLP-sized) products and on par at
 * 256-1024 (docs/gemm.md); Intel cores with AVX-512 have at least the AVX2 FMA throughput at
 * 512 bits and twice the registers. */
murmur_gemm_kernel murmur_gemm_best_kernel(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_is("intel") && murmur_gemm_kernel_available(MURMUR_GEMM_AVX512)) return MURMUR_GEMM_AVX512;
#endif
    if (murmur_gemm_kernel_available(MURMUR_GEMM_AVX2)) return MURMUR_GEMM_AVX2;
    return MURMUR_GEMM_PORTABLE;
}

int murmur_gemm_kernel_mr(murmur_gemm_kernel kernel) {
    switch (kernel) {
    case MURMUR_GEMM_AVX2: return 6;
    case MURMUR_GEMM_AVX512: return 12;
    default: return MURMUR_GEMM_PORTABLE_MR;
    }
}

int murmur_gemm_kernel_nr(murmur_gemm_kernel kernel) {
    switch (kernel) {
    case MURMUR_GEMM_AVX2: return 16;
    case MURMUR_GEMM_AVX512: return 32;
    default: return MURMUR_GEMM_PORTABLE_NR;
    }
}

void murmur_sgemm(murmur_gemm_kernel kernel, int trans_a, int trans_b,
                  ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                  const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                  float beta, float *c, ptrdiff_t ldc) {
    switch (kernel) {
#if defined(__x86_64__)
    case MURMUR_GEMM_AVX512:
        if (murmur_gemm_kernel_available(kernel)) {
            murmur_sgemm_avx512(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        break;
    case MURMUR_GEMM_AVX2:
        if (murmur_gemm_kernel_available(kernel)) {
            murmur_sgemm_avx2(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        break;
#endif
    default:
        break;
    }
    murmur_sgemm_portable(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* ---- per-thread workspace ---------------------------------------------------------------- */

/* One buffer per thread, grown on demand and kept for the thread's life, so steady-state calls
 * do not allocate. The pthread key's destructor frees it when the thread exits. */
static pthread_key_t workspace_key;
static pthread_once_t workspace_once = PTHREAD_ONCE_INIT;
static int workspace_key_ok;
static _Thread_local float *workspace_ptr;
static _Thread_local size_t workspace_bytes;

static void workspace_make_key(void) { workspace_key_ok = pthread_key_create(&workspace_key, free) == 0; }

float *murmur_gemm_workspace(size_t floats) {
    const size_t bytes = floats * sizeof(float);
    if (workspace_ptr != NULL && workspace_bytes >= bytes) return workspace_ptr;
    pthread_once(&workspace_once, workspace_make_key);
    const size_t rounded = (bytes + 4095) & ~(size_t)4095;
    void *fresh = NULL;
    if (posix_memalign(&fresh, 64, rounded) != 0) return NULL;
    free(workspace_ptr);
    workspace_ptr = fresh;
    workspace_bytes = rounded;
    if (workspace_key_ok) pthread_setspecific(workspace_key, fresh);
    return workspace_ptr;
}

/* ---- helpers ------------------------------------------------------------------------------ */

void murmur_gemm_scale(ptrdiff_t m, ptrdiff_t n, float beta, float *c, ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < m; i++) {
        float *row = c + i * ldc;
        if (beta == 0.0f) {
            for (ptrdiff_t j = 0; j < n; j++) row[j] = 0.0f;
        } else if (beta != 1.0f) {
            for (ptrdiff_t j = 0; j < n; j++) row[j] *= beta;
        }
    }
}

void murmur_sgemm_naive(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                        float alpha, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                        float beta, float *c, ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < m; i++) {
        for (ptrdiff_t j = 0; j < n; j++) {
            float s = 0.0f;
            for (ptrdiff_t p = 0; p < k; p++) {
                const float av = trans_a ? a[p * lda + i] : a[i * lda + p];
                const float bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
                s += av * bv;
            }
            c[i * ldc + j] = beta == 0.0f ? alpha * s : alpha * s + beta * c[i * ldc + j];
        }
    }
}

/* ---- thread-count setting ----------------------------------------------------------------- */

/* 0 means "not set": use the online processor count, read once (sysconf may read /sys). */
static atomic_int max_threads_setting;
static atomic_int online_processors;

int murmur_gemm_max_threads(void) {
    const int t = atomic_load_explicit(&max_threads_setting, memory_order_relaxed);
    if (t > 0) return t;
    int online = atomic_load_explicit(&online_processors, memory_order_relaxed);
    if (online == 0) {
        /* Racing first calls compute the same value; storing it twice is harmless. */
        const long n = sysconf(_SC_NPROCESSORS_ONLN);
        online = n < 1 ? 1 : (n > 64 ? 64 : (int)n);
        atomic_store_explicit(&online_processors, online, memory_order_relaxed);
    }
    return online;
}

void murmur_gemm_set_max_threads(int threads) {
    atomic_store_explicit(&max_threads_setting, threads < 1 ? 1 : threads, memory_order_relaxed);
}

static atomic_int kernel_override = -1;

int murmur_gemm_kernel_override(void) {
    return atomic_load_explicit(&kernel_override, memory_order_relaxed);
}

void murmur_gemm_set_kernel_override(int kernel) {
    atomic_store_explicit(&kernel_override, kernel, memory_order_relaxed);
}

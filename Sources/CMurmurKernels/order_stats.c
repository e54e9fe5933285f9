/*
 * Coordinate-wise trimmed means (and so medians) of a row-major update matrix, sixteen columns
 * at a time in the lanes of AVX-512 registers.
 *
 * Every float is mapped to an int32 key with the same order (flip the magnitude bits of
 * negative numbers), so "the value of rank r" is the smallest key K with #(key <= K) > r. That K
 * is found per lane by bisection over the lane's [min, max] key range: each step is one pass over
 * the strip (one compare and one masked increment per sixteen values), at most 32 steps, and the
 * two ranks a trimmed mean needs share the passes. A last pass sums the values strictly between
 * the two boundary keys (in double) and adds the right number of copies of each boundary
 * value, so ties are handled exactly. No data-dependent branches, no sorting.
 *
 * A block of up to 64 columns is first copied, as keys, into caller scratch (n x 64 int32), so
 * the matrix is read once from memory and the bisection passes run from the L2 cache.
 */
#include "murmur_kernels.h"

#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define OS_TARGET __attribute__((target("avx512f")))

/* Order-preserving float <-> int32 key map; it is its own inverse. */
OS_TARGET static inline __m512i os_key(__m512i bits) {
    const __m512i sign = _mm512_srai_epi32(bits, 31);
    return _mm512_xor_si512(bits, _mm512_and_si512(sign, _mm512_set1_epi32(0x7fffffff)));
}

/* floor((lo + hi) / 2) per lane without overflow. */
OS_TARGET static inline __m512i os_mid(__m512i lo, __m512i hi) {
    return _mm512_add_epi32(_mm512_and_si512(lo, hi), _mm512_srai_epi32(_mm512_xor_si512(lo, hi), 1));
}

/* Keys of ranks `first` and `last` of each lane of the strip `keys` (n rows of 16), by joint
 * bisection within [mn, mx]. */
OS_TARGET static void os_select2(const int32_t *keys, ptrdiff_t n, __m512i mn, __m512i mx,
                                 ptrdiff_t first, ptrdiff_t last, __m512i *k1, __m512i *k2) {
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i need1 = _mm512_set1_epi32((int32_t)(first + 1));
    const __m512i need2 = _mm512_set1_epi32((int32_t)(last + 1));
    __m512i lo1 = mn, hi1 = mn, lo2 = mx, hi2 = mx;
    if (first > 0) hi1 = mx;
    if (last < n - 1) lo2 = mn;
    for (;;) {
        const __mmask16 open1 = _mm512_cmplt_epi32_mask(lo1, hi1);
        const __mmask16 open2 = _mm512_cmplt_epi32_mask(lo2, hi2);
        if (!open1 && !open2) break;
        const __m512i mid1 = os_mid(lo1, hi1), mid2 = os_mid(lo2, hi2);
        __m512i a1 = _mm512_setzero_si512(), b1 = _mm512_setzero_si512();
        __m512i a2 = _mm512_setzero_si512(), b2 = _mm512_setzero_si512();
        ptrdiff_t r = 0;
        for (; r + 2 <= n; r += 2) {
            const __m512i x = _mm512_load_si512((const void *)(keys + 16 * r));
            const __m512i y = _mm512_load_si512((const void *)(keys + 16 * (r + 1)));
            a1 = _mm512_mask_add_epi32(a1, _mm512_cmple_epi32_mask(x, mid1), a1, one);
            b1 = _mm512_mask_add_epi32(b1, _mm512_cmple_epi32_mask(y, mid1), b1, one);
            a2 = _mm512_mask_add_epi32(a2, _mm512_cmple_epi32_mask(x, mid2), a2, one);
            b2 = _mm512_mask_add_epi32(b2, _mm512_cmple_epi32_mask(y, mid2), b2, one);
        }
        if (r < n) {
            const __m512i x = _mm512_load_si512((const void *)(keys + 16 * r));
            a1 = _mm512_mask_add_epi32(a1, _mm512_cmple_epi32_mask(x, mid1), a1, one);
            a2 = _mm512_mask_add_epi32(a2, _mm512_cmple_epi32_mask(x, mid2), a2, one);
        }
        const __mmask16 ge1 = _mm512_cmpge_epi32_mask(_mm512_add_epi32(a1, b1), need1) & open1;
        const __mmask16 ge2 = _mm512_cmpge_epi32_mask(_mm512_add_epi32(a2, b2), need2) & open2;
        hi1 = _mm512_mask_mov_epi32(hi1, ge1, mid1);
        lo1 = _mm512_mask_mov_epi32(lo1, open1 & (__mmask16)~ge1, _mm512_add_epi32(mid1, one));
        hi2 = _mm512_mask_mov_epi32(hi2, ge2, mid2);
        lo2 = _mm512_mask_mov_epi32(lo2, open2 & (__mmask16)~ge2, _mm512_add_epi32(mid2, one));
    }
    *k1 = lo1;
    *k2 = lo2;
}

/* Trimmed means of one strip of 16 columns (keys already in `keys`), stored to out[0..<16]
 * where `valid` has a bit. */
OS_TARGET static void os_strip(const int32_t *keys, ptrdiff_t n, __m512i mn, __m512i mx, ptrdiff_t trim,
                               __mmask16 valid, float *out) {
    const ptrdiff_t first = trim, last = n - trim - 1;
    __m512i k1, k2;
    os_select2(keys, n, mn, mx, first, last, &k1, &k2);
    const __m512i one = _mm512_set1_epi32(1);
    __m512i le1 = _mm512_setzero_si512(), lt2 = _mm512_setzero_si512();
    __m512d sum_lo = _mm512_setzero_pd(), sum_hi = _mm512_setzero_pd();
    for (ptrdiff_t r = 0; r < n; r++) {
        const __m512i x = _mm512_load_si512((const void *)(keys + 16 * r));
        le1 = _mm512_mask_add_epi32(le1, _mm512_cmple_epi32_mask(x, k1), le1, one);
        lt2 = _mm512_mask_add_epi32(lt2, _mm512_cmplt_epi32_mask(x, k2), lt2, one);
        const __mmask16 between = _mm512_cmpgt_epi32_mask(x, k1) & _mm512_cmplt_epi32_mask(x, k2);
        const __m512 f = _mm512_castsi512_ps(os_key(x));
        sum_lo = _mm512_mask_add_pd(sum_lo, (__mmask8)between, sum_lo, _mm512_cvtps_pd(_mm512_castps512_ps256(f)));
        sum_hi = _mm512_mask_add_pd(sum_hi, (__mmask8)(between >> 8), sum_hi,
                                    _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1))));
    }
    int32_t c1[16], c2[16];
    float v1[16], v2[16];
    double s[16];
    _mm512_storeu_si512((void *)c1, le1);
    _mm512_storeu_si512((void *)c2, lt2);
    _mm512_storeu_ps(v1, _mm512_castsi512_ps(os_key(k1)));
    _mm512_storeu_ps(v2, _mm512_castsi512_ps(os_key(k2)));
    _mm512_storeu_pd(s, sum_lo);
    _mm512_storeu_pd(s + 8, sum_hi);
    const double kept = (double)(n - 2 * trim);
    for (int l = 0; l < 16; l++) {
        if (!((valid >> l) & 1)) continue;
        if (v1[l] == v2[l]) {  /* every kept value is this one (covers -0/+0 too) */
            out[l] = v1[l];
            continue;
        }
        const double total = s[l] + (double)v1[l] * (double)(c1[l] - first) + (double)v2[l] * (double)(last + 1 - c2[l]);
        out[l] = (float)(total / kept);
    }
}

OS_TARGET static void os_columns(const float *v, ptrdiff_t n, ptrdiff_t ld, ptrdiff_t j0, ptrdiff_t j1, ptrdiff_t trim,
                                 int32_t *scratch, float *out) {
    for (ptrdiff_t c0 = j0; c0 < j1; c0 += 64) {
        const ptrdiff_t width = j1 - c0 < 64 ? j1 - c0 : 64;
        const int strips = (int)((width + 15) / 16);
        __mmask16 valid[4];
        __m512i mn[4], mx[4];
        for (int s = 0; s < strips; s++) {
            const ptrdiff_t w = width - 16 * s;
            valid[s] = w >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << w) - 1);
            mn[s] = _mm512_set1_epi32(INT32_MAX);
            mx[s] = _mm512_set1_epi32(INT32_MIN);
        }
        /* Copy the block as keys: one pass over the matrix, row by row (contiguous 256 bytes). */
        for (ptrdiff_t r = 0; r < n; r++) {
            const float *row = v + r * ld + c0;
            for (int s = 0; s < strips; s++) {
                const __m512i x = os_key(_mm512_castps_si512(_mm512_maskz_loadu_ps(valid[s], row + 16 * s)));
                _mm512_store_si512((void *)(scratch + 16 * ((ptrdiff_t)s * n + r)), x);
                mn[s] = _mm512_mask_min_epi32(mn[s], valid[s], mn[s], x);
                mx[s] = _mm512_mask_max_epi32(mx[s], valid[s], mx[s], x);
            }
        }
        for (int s = 0; s < strips; s++) {
            /* lanes past the matrix's edge hold key 0 in every row: give them a closed range */
            mn[s] = _mm512_mask_mov_epi32(_mm512_setzero_si512(), valid[s], mn[s]);
            mx[s] = _mm512_mask_mov_epi32(_mm512_setzero_si512(), valid[s], mx[s]);
            os_strip(scratch + 16 * (ptrdiff_t)s * n, n, mn[s], mx[s], trim, valid[s], out + (c0 - j0) + 16 * s);
        }
    }
}
#endif

int murmur_trimmed_mean_available(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
#else
    return 0;
#endif
}

int murmur_trimmed_mean_columns(const float *v, ptrdiff_t n, ptrdiff_t ld, ptrdiff_t j0, ptrdiff_t j1, ptrdiff_t trim,
                                int *scratch, float *out) {
    if (n < 1 || trim < 0 || 2 * trim >= n || j1 < j0 || n > INT32_MAX - 1) return -1;
#if defined(__x86_64__)
    if (!murmur_trimmed_mean_available()) return 0;
    if (((uintptr_t)scratch & 63) != 0) return -1;
    os_columns(v, n, ld, j0, j1, trim, scratch, out);
    return 1;
#else
    (void)v; (void)ld; (void)scratch; (void)out;
    return 0;
#endif
}

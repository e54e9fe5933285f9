/* Top-k selection by magnitude for MurmurVerify's activation proofs (see
 * include/murmur_kernels.h). Keys are the bit patterns of |x| as int32, which order like |x|
 * for every non-NaN float; NaN counts as 0. Ties go to the lower index. Two paths with one
 * answer: a portable one (bound, candidates, rank) and an AVX-512F one (lane-maxima bound,
 * register compress, bit-by-bit threshold search), chosen once from CPUID. */
#include "murmur_kernels.h"

#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline int32_t topk_key(float x) {
    int32_t u;
    memcpy(&u, &x, 4);
    u &= 0x7FFFFFFF;
    return u > 0x7F800000 ? 0 : u;
}

/* Rank of each of the first m keys among keys[0..<m] (count of keys above it, ties: lower
 * position first); keys padded with -1 up to a multiple of 8. */
static void topk_rank(const int32_t *keys, int m, int32_t *rank) {
    const int mp = (m + 7) & ~7;
    for (int j = 0; j < mp; j++) rank[j] = 0;
    for (int l = 0; l < m; l++) {
        const int32_t kl = keys[l];
        for (int j = 0; j < mp; j++) rank[j] += (kl > keys[j]) | ((kl == keys[j]) & (l < j));
    }
}

static int topk_portable(const float *v, int n, int k, int *out) {
    if (k <= 0 || n <= 0) return 0;
    if (k >= n) {
        for (int i = 0; i < n; i++) out[i] = i;
        return n;
    }
    enum { CAP = 64 };
    int32_t lo = 0;
    if (k <= 32 && n >= 4 * k) {
        /* Lower bound on the k-th largest key: the k-th largest of the 2k values made of the
         * largest and second largest key of each class i mod k (k distinct elements are >= it). */
        int32_t m1[CAP], m2[CAP];
        for (int c = 0; c < k; c++) m1[c] = m2[c] = 0;
        int i = 0;
        for (; i + k <= n; i += k)
            for (int c = 0; c < k; c++) {
                const int32_t u = topk_key(v[i + c]);
                const int32_t lo2 = u < m1[c] ? u : m1[c];
                m2[c] = lo2 > m2[c] ? lo2 : m2[c];
                m1[c] = u > m1[c] ? u : m1[c];
            }
        for (int c = 0; i + c < n; c++) {
            const int32_t u = topk_key(v[i + c]);
            const int32_t lo2 = u < m1[c] ? u : m1[c];
            m2[c] = lo2 > m2[c] ? lo2 : m2[c];
            m1[c] = u > m1[c] ? u : m1[c];
        }
        int32_t both[2 * CAP + 8], rank[2 * CAP + 8];
        for (int c = 0; c < k; c++) { both[c] = m1[c]; both[k + c] = m2[c]; }
        for (int c = 2 * k; c < ((2 * k + 7) & ~7); c++) both[c] = -1;
        topk_rank(both, 2 * k, rank);
        for (int c = 0; c < 2 * k; c++) lo = rank[c] == k - 1 ? both[c] : lo;
    }
    int32_t ck[CAP + 8], ci[CAP + 8], rank[CAP + 8];
    int m = 0;
    for (int i = 0; i < n; i++) {
        const int32_t u = topk_key(v[i]);
        if (u >= lo) {
            if (m == CAP) { m = -1; break; }
            ck[m] = u; ci[m] = i; m++;
        }
    }
    if (m >= 0) {
        for (int j = m; j < ((m + 7) & ~7); j++) ck[j] = -1;
        topk_rank(ck, m, rank);
        int32_t res[CAP + 8];  /* room for the unconditional store below */
        int w = 0;
        for (int j = 0; j < m; j++) { res[w] = ci[j]; w += rank[j] < k; }
        memcpy(out, res, sizeof(int) * (size_t)w);
        return w;
    }
    /* Many candidates (wide layers, many ties): the k-th largest key bit by bit over all n. */
    int32_t t = 0;
    for (int b = 30; b >= 0; b--) {
        const int32_t probe = t | (1 << b);
        int cnt = 0;
        for (int i = 0; i < n; i++) cnt += topk_key(v[i]) >= probe;
        if (cnt >= k) { t = probe; if (cnt == k) break; }
    }
    int above = 0;
    for (int i = 0; i < n; i++) above += topk_key(v[i]) > t;
    int ties = k - above, w = 0;
    for (int i = 0; i < n; i++) {
        const int32_t u = topk_key(v[i]);
        if (u > t || (u == t && ties-- > 0)) out[w++] = i;
    }
    return w;
}

#if defined(__x86_64__)
/* AVX-512F path; the caller guarantees 1 <= k <= 16, k < n <= 1024 */
__attribute__((target("avx512f,popcnt")))
static int topk_avx512(const float *v, int n, int k, int *out) {
    const __m512i absmask = _mm512_set1_epi32(0x7FFFFFFF);
    const __m512i inf = _mm512_set1_epi32(0x7F800000);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const int chunks = (n + 15) / 16;
    /* 1. Lower bound: min of the 16 lane maxima (classes i mod 16), <= the k-th largest key. */
    __m512i lmax = _mm512_setzero_si512();
    for (int c = 0; c < chunks; c++) {
        const int rem = n - 16 * c;
        const __mmask16 lm = rem >= 16 ? 0xFFFF : (__mmask16)((1u << rem) - 1);
        __m512i key = _mm512_and_si512(_mm512_maskz_loadu_epi32(lm, v + 16 * c), absmask);
        key = _mm512_maskz_mov_epi32(_mm512_cmple_epi32_mask(key, inf), key);
        lmax = _mm512_max_epi32(lmax, key);
    }
    const int32_t lo = n >= 16 ? _mm512_reduce_min_epi32(lmax) : 0;
    /* 2. Candidates >= lo, compressed in index order. */
    int32_t ck[1024 + 16], ci[1024 + 16];
    int m = 0;
    const __m512i vlo = _mm512_set1_epi32(lo);
    for (int c = 0; c < chunks; c++) {
        const int rem = n - 16 * c;
        const __mmask16 lm = rem >= 16 ? 0xFFFF : (__mmask16)((1u << rem) - 1);
        __m512i key = _mm512_and_si512(_mm512_maskz_loadu_epi32(lm, v + 16 * c), absmask);
        key = _mm512_maskz_mov_epi32(_mm512_cmple_epi32_mask(key, inf), key);
        const __mmask16 take = _mm512_mask_cmpge_epi32_mask(lm, key, vlo);
        _mm512_storeu_si512(ck + m, _mm512_maskz_compress_epi32(take, key));
        _mm512_storeu_si512(ci + m, _mm512_maskz_compress_epi32(take, _mm512_add_epi32(iota, _mm512_set1_epi32(16 * c))));
        m += _mm_popcnt_u32(take);
    }
    const int mc = (m + 15) / 16;
    for (int j = m; j < 16 * mc; j++) ck[j] = -1;
    /* 3. T = the k-th largest candidate key, bit by bit: the largest T with #{key >= T} >= k. */
    int32_t t = lo;
    {
        /* bits above the highest bit where lo and the largest key differ are fixed */
        __m512i vmax = _mm512_setzero_si512();
        for (int c = 0; c < mc; c++) vmax = _mm512_max_epi32(vmax, _mm512_loadu_si512(ck + 16 * c));
        const int32_t hi = _mm512_reduce_max_epi32(vmax);
        const uint32_t diff = (uint32_t)(hi ^ lo);
        int top = diff ? 31 - __builtin_clz(diff) : -1;
        t = lo & ~((top >= 0 ? (int32_t)((2u << top) - 1) : 0));
        /* now t <= lo; search bits top..0 keeping #{key >= t} >= k */
        if (mc <= 4) {
            /* Few candidates: keep them in registers (missing vectors hold -1). */
            for (int j = 16 * mc; j < 64; j++) ck[j] = -1;
            const __m512i c0 = _mm512_loadu_si512(ck), c1 = _mm512_loadu_si512(ck + 16);
            const __m512i c2 = _mm512_loadu_si512(ck + 32), c3 = _mm512_loadu_si512(ck + 48);
            for (int b = top; b >= 0; b--) {
                const __m512i probe = _mm512_set1_epi32(t | (1 << b));
                const int cnt = _mm_popcnt_u32(_mm512_cmpge_epi32_mask(c0, probe)) + _mm_popcnt_u32(_mm512_cmpge_epi32_mask(c1, probe))
                    + _mm_popcnt_u32(_mm512_cmpge_epi32_mask(c2, probe)) + _mm_popcnt_u32(_mm512_cmpge_epi32_mask(c3, probe));
                if (cnt >= k) {
                    t |= 1 << b;
                    if (cnt == k) break;
                }
            }
        } else {
            for (int b = top; b >= 0; b--) {
                const __m512i probe = _mm512_set1_epi32(t | (1 << b));
                int cnt = 0;
                for (int c = 0; c < mc; c++) cnt += _mm_popcnt_u32(_mm512_cmpge_epi32_mask(_mm512_loadu_si512(ck + 16 * c), probe));
                if (cnt >= k) {
                    t |= 1 << b;
                    if (cnt == k) break;
                }
            }
        }
    }
    /* 4. Keys > t belong; keys == t fill the rest in index order. */
    const __m512i vt = _mm512_set1_epi32(t);
    int above = 0;
    for (int c = 0; c < mc; c++) above += _mm_popcnt_u32(_mm512_cmpgt_epi32_mask(_mm512_loadu_si512(ck + 16 * c), vt));
    int32_t res[32];
    int ties = k - above, w = 0;
    for (int c = 0; c < mc; c++) {
        const __m512i key = _mm512_loadu_si512(ck + 16 * c);
        __mmask16 take = _mm512_cmpgt_epi32_mask(key, vt);
        uint32_t eq = _mm512_cmpeq_epi32_mask(key, vt);
        while (eq && ties > 0) {
            const uint32_t bit = eq & (0u - eq);
            take |= (__mmask16)bit;
            eq ^= bit;
            ties--;
        }
        _mm512_storeu_si512(res + w, _mm512_maskz_compress_epi32(take, _mm512_loadu_si512(ci + 16 * c)));
        w += _mm_popcnt_u32(take);
        if (w >= k) break;
    }
    memcpy(out, res, sizeof(int32_t) * (size_t)w);
    return w;
}
#endif

int murmur_topk_abs_kernel(int kernel, const float *v, int n, int k, int *out) {
    if (k <= 0 || n <= 0) return 0;
    if (k >= n) {
        for (int i = 0; i < n; i++) out[i] = i;
        return n;
    }
#if defined(__x86_64__)
    if (kernel == 1 && k <= 16 && n <= 1024) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("popcnt")) return topk_avx512(v, n, k, out);
    }
#endif
    return topk_portable(v, n, k, out);
}

int murmur_topk_abs(const float *v, int n, int k, int *out) {
    return murmur_topk_abs_kernel(1, v, n, k, out);
}

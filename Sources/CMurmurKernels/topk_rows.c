/* Activation proofs for a whole batch (see include/murmur_kernels.h): for each row of a hidden
 * activation matrix, the top-k entries by magnitude in the proof's wire form, written straight
 * into one output buffer. The selection is the one `murmur_topk_abs` defines (keys are the bit
 * patterns of |x| as int32; NaN counts as 0; ties to the lower index).
 *
 * The AVX-512 path takes rows in groups of 16, phase by phase, with no branch on the data's
 * order in the usual case:
 *   1. per row: the keys and, per lane (class i mod 16), the four largest, by vertical max/min;
 *      then for the 16 rows at once (transposed: lane r = row r, so a comparator is one max and
 *      one min, no shuffles) lo = the k-th largest of each row's lanes' top three, 48 distinct
 *      keys, by three bitonic sorts of 16 and two bitonic merges: lo <= T, the row's k-th
 *      largest key. If no lane's fourth largest reaches lo, every key >= lo is among the 48, so
 *      T = lo (80-95 % of synthetic ReLU rows of 64-256 units: Gaussian, half zeros);
 *   2. otherwise the keys >= lo (usually under 32) into two registers and T among them by
 *      in-register bitonic networks; more than 32 (heavy ties) raises the bound step by step;
 *   3. one pass: keep key > T and the first (k - #{key > T}) keys == T (pdep; all of them when
 *      that is every key == T), pack index and truncated value per lane with a byte shuffle,
 *      compress, store.
 * Fewer than four rows, and CPUs without AVX-512, go row by row through `murmur_topk_abs_kernel`
 * and pack the same bytes. */
#include "murmur_kernels.h"
#include "proof_pack.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { ROWS_MAX_K = 256 };

/* Row by row through `murmur_topk_abs_kernel` (0: portable; 1: its AVX-512 path, which wins for
 * a few rows, where the batch path's 16-row networks would run mostly empty). */
static void rows_single(int kernel, const float *h, int rows, int width, ptrdiff_t ld, int k, uint8_t *out) {
    int idx[ROWS_MAX_K];
    const int wide = width > 256;
    for (int r = 0; r < rows; r++) {
        const float *v = h + (ptrdiff_t)r * ld;
        const int w = murmur_topk_abs_kernel(kernel, v, width, k, idx);
        for (int e = 0; e < w; e++) pack_entry(out + 4 * ((ptrdiff_t)r * k + e), idx[e], v[idx[e]], wide);
    }
}

#if defined(__x86_64__)
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,bmi2,popcnt")))

/* Lane i ^ j of x, for j = 1, 2, 4, 8 (in-lane shuffles for 1 and 2: one cycle). */
#define PARTNER1(x) _mm512_shuffle_epi32((x), (_MM_PERM_ENUM)0xB1)
#define PARTNER2(x) _mm512_shuffle_epi32((x), (_MM_PERM_ENUM)0x4E)
#define PARTNER4(x) _mm512_shuffle_i32x4((x), (x), 0xB1)
#define PARTNER8(x) _mm512_shuffle_i32x4((x), (x), 0x4E)

/* One stage of a bitonic network: lanes in `m` take the max of themselves and their partner,
 * the others the min. */
#define BITONIC_STAGE(x, J, m)                                                        \
    do {                                                                              \
        const __m512i q_ = PARTNER##J(x);                                             \
        (x) = _mm512_mask_max_epi32(_mm512_min_epi32((x), q_), (__mmask16)(m), (x), q_); \
    } while (0)

/* Bitonic sort of 16 lanes, descending. Stage (p, j): the lanes where ((i & j) == 0) ==
 * ((i & p) == 0) take the max (the complement masks sort ascending); (p, j) = (2,1) (4,2) (4,1)
 * (8,4) (8,2) (8,1) (16,8) (16,4) (16,2) (16,1); the last four alone sort a bitonic sequence. */
#define SORT16(x, inv)                                                                \
    do {                                                                              \
        BITONIC_STAGE(x, 1, 0x9999 ^ (inv)); BITONIC_STAGE(x, 2, 0xc3c3 ^ (inv));     \
        BITONIC_STAGE(x, 1, 0xa5a5 ^ (inv)); BITONIC_STAGE(x, 4, 0xf00f ^ (inv));     \
        BITONIC_STAGE(x, 2, 0xcc33 ^ (inv)); BITONIC_STAGE(x, 1, 0xaa55 ^ (inv));     \
        BITONIC_STAGE(x, 8, 0x00ff ^ (inv)); BITONIC_STAGE(x, 4, 0x0f0f ^ (inv));     \
        BITONIC_STAGE(x, 2, 0x3333 ^ (inv)); BITONIC_STAGE(x, 1, 0x5555 ^ (inv));     \
    } while (0)

/* T = the k-th largest of the 32 keys in a and b (padding -1); *above = how many exceed T. */
AVX512_TARGET static inline int32_t kth_of_32(__m512i a, __m512i b, int k, int *above) {
    SORT16(a, 0);
    SORT16(b, 0xFFFF);
    /* a descending, b ascending: the lane-wise max is the top 16 of the 32, a bitonic sequence */
    __m512i c = _mm512_max_epi32(a, b);
    BITONIC_STAGE(c, 8, 0x00ff); BITONIC_STAGE(c, 4, 0x0f0f); BITONIC_STAGE(c, 2, 0x3333); BITONIC_STAGE(c, 1, 0x5555);
    const int32_t t = _mm_cvtsi128_si32(_mm512_castsi512_si128(_mm512_permutexvar_epi32(_mm512_set1_epi32(k - 1), c)));
    *above = _mm_popcnt_u32(_mm512_cmpgt_epi32_mask(c, _mm512_set1_epi32(t)));
    return t;
}

/* The k-th largest key by repeated bounding when more than 32 keys reach the first bound (rare:
 * heavy ties); keys[0..<16 * chunks) padded with -1, lo <= T. */
AVX512_TARGET static int32_t kth_by_bounds(const int32_t *keys, int chunks, int k, int32_t lo, int *above) {
    int32_t ck[1024 + 32] __attribute__((aligned(64)));
    int m = 0, gt = 0;
    const __m512i neg1 = _mm512_set1_epi32(-1);
    {
        const __m512i vlo = _mm512_set1_epi32(lo);
        for (int c = 0; c < chunks; c++) {
            const __m512i key = _mm512_load_si512(keys + 16 * c);
            const __mmask16 take = _mm512_cmpge_epi32_mask(key, vlo);
            gt += _mm_popcnt_u32(_mm512_cmpgt_epi32_mask(key, vlo));
            _mm512_storeu_si512(ck + m, _mm512_maskz_compress_epi32(take, key));
            m += _mm_popcnt_u32(take);
        }
    }
    for (;;) {
        /* ck[0..<m) holds every key >= lo (lo <= T) and gt of them exceed lo */
        if (gt < k) { *above = gt; return lo; }
        if (m <= 32) {
            for (int j = m; j < 32; j++) ck[j] = -1;
            return kth_of_32(_mm512_loadu_si512(ck), _mm512_loadu_si512(ck + 16), k, above);
        }
        const int mc = (m + 15) >> 4;
        for (int j = m; j < 16 * mc; j++) ck[j] = -1;
        __m512i cmax = neg1;
        for (int c = 0; c < mc; c++) cmax = _mm512_max_epi32(cmax, _mm512_loadu_si512(ck + 16 * c));
        const int32_t lo2 = _mm512_reduce_min_epi32(cmax);  /* m >= 16: every lane holds a real key */
        /* raise the bound, or (no progress; gt >= k keys exceed lo) drop the keys == lo */
        const int strict = lo2 <= lo;
        const int32_t nlo = strict ? lo : lo2;
        const __m512i vn = _mm512_set1_epi32(nlo);
        int nm = 0, ngt = 0;
        for (int c = 0; c < mc; c++) {
            const __m512i key = _mm512_loadu_si512(ck + 16 * c);
            const __mmask16 g = _mm512_cmpgt_epi32_mask(key, vn);
            const __mmask16 take = strict ? g : _mm512_cmpge_epi32_mask(key, vn);
            ngt += _mm_popcnt_u32(g);
            _mm512_storeu_si512(ck + nm, _mm512_maskz_compress_epi32(take, key));  /* nm <= 16c: never overtakes the reads */
            nm += _mm_popcnt_u32(take);
        }
        lo = nlo; m = nm; gt = ngt;
    }
}

/* Vertical networks: lane r of each register belongs to row r, so a comparator is one max and
 * one min with no shuffle, for 16 rows at once. */
#define CE(x, y) do { const __m512i lo_ = _mm512_min_epi32((x), (y)); (x) = _mm512_max_epi32((x), (y)); (y) = lo_; } while (0)

/* Bitonic sort of a[0..<16] per lane, descending (desc = 1) or ascending. */
AVX512_TARGET __attribute__((always_inline)) static inline void vsort16(__m512i *a, int desc) {
#pragma clang loop unroll(full)
    for (int p = 2; p <= 16; p <<= 1)
#pragma clang loop unroll(full)
        for (int j = p >> 1; j > 0; j >>= 1)
#pragma clang loop unroll(full)
            for (int i = 0; i < 16; i++) {
                if (i & j) continue;
                if (((i & p) == 0) == desc) CE(a[i], a[i | j]); else CE(a[i | j], a[i]);
            }
}

/* Sorts a bitonic a[0..<16] per lane, descending. */
AVX512_TARGET __attribute__((always_inline)) static inline void vmerge16(__m512i *a) {
#pragma clang loop unroll(full)
    for (int j = 8; j > 0; j >>= 1)
#pragma clang loop unroll(full)
        for (int i = 0; i < 16; i++)
            if (!(i & j)) CE(a[i], a[i | j]);
}

/* Transposes the 16 x 16 int32 matrix in r[0..<16] (row i -> lane i of every register). */
AVX512_TARGET __attribute__((always_inline)) static inline void transpose16(__m512i *r) {
    __m512i t[16];
    for (int i = 0; i < 8; i++) { t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]); t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]); }
    for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]); r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
        r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]); r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0x88); t[i + 4] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0x88); t[i + 12] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 8; i++) { r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88); r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xdd); }
}

/* For 16 rows at once: the k-th largest of each row's 48 keys, rows given as three 16 x 16
 * matrices (top[j][r][lane]: the (j+1)-th largest key of lane `lane` in row r). */
AVX512_TARGET static void vkth48(int32_t top[3][16][16], int k, int32_t *out) {
    __m512i a[16], b[16];
    for (int r = 0; r < 16; r++) a[r] = _mm512_load_si512(top[0][r]);
    transpose16(a);
    vsort16(a, 1);
    for (int r = 0; r < 16; r++) b[r] = _mm512_load_si512(top[1][r]);
    transpose16(b);
    vsort16(b, 0);
    for (int i = 0; i < 16; i++) a[i] = _mm512_max_epi32(a[i], b[i]);  /* top 16 of 32, bitonic */
    vmerge16(a);
    for (int r = 0; r < 16; r++) b[r] = _mm512_load_si512(top[2][r]);
    transpose16(b);
    vsort16(b, 0);
    for (int i = 0; i < 16; i++) a[i] = _mm512_max_epi32(a[i], b[i]);  /* top 16 of 48, bitonic */
    vmerge16(a);
    _mm512_storeu_si512(out, a[k - 1]);
}

enum { GROUP = 16 };

/* Wire words of 16 entries (indices base..base+15): the byte shuffle puts the value's top bytes
 * in place, the index fills byte 0 (or bytes 0-1, big endian, for wide layers). */
AVX512_TARGET static inline __m512i pack_words(__m512i raw, int base, __m512i shuf, __m512i iota, int wide) {
    const __m512i idx = _mm512_add_epi32(iota, _mm512_set1_epi32(base));
    const __m512i word = _mm512_shuffle_epi8(raw, shuf);
    return wide ? _mm512_or_si512(word, _mm512_or_si512(_mm512_srli_epi32(idx, 8), _mm512_and_si512(_mm512_slli_epi32(idx, 8), _mm512_set1_epi32(0xFF00))))
                : _mm512_or_si512(word, idx);
}

/* Rows in groups of GROUP = 16 (one row per lane in the vertical networks), phase by phase.
 * 1 <= k <= 16, k < width <= 1024; writes 4k bytes per row; `keys` holds 16 * width (rounded
 * up to 16) int32, 64-byte aligned. */
AVX512_TARGET static void rows_avx512(const float *h, int rows, int width, ptrdiff_t ld, int k, uint8_t *out, int32_t *keys) {
    const __m512i absmask = _mm512_set1_epi32(0x7FFFFFFF), inf = _mm512_set1_epi32(0x7F800000);
    const __m512i neg1 = _mm512_set1_epi32(-1);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const int wide = width > 256, chunks = (width + 15) >> 4;
    const __mmask16 tail = (width & 15) ? (__mmask16)((1u << (width & 15)) - 1) : 0xFFFF;
    const __m512i shuf = proof_pack_shuffle(wide);
    int32_t tops[3][16][16] __attribute__((aligned(64))), fourth[16][16] __attribute__((aligned(64)));
    int32_t spill[32];
    for (int r0 = 0; r0 < rows; r0 += GROUP) {
        const int g = rows - r0 < GROUP ? rows - r0 : GROUP;
        int32_t lo[GROUP], t[GROUP];
        int above[GROUP], eqs[GROUP];
        /* 1. keys (|x| bits, NaN 0, padding -1: below every real key) and, per lane, the four
         *    largest; lo = the k-th largest of the lanes' top three (48 distinct keys: lo <= T,
         *    the k-th largest of all) for the group's rows at once by vertical networks; T = lo
         *    when no lane's fourth largest reaches lo (every key >= lo is among the 48) */
        int exact[GROUP];
        for (int i = 0; i < g; i++) {
            const float *v = h + (ptrdiff_t)(r0 + i) * ld;
            int32_t *kr = keys + (ptrdiff_t)i * 16 * chunks;
            __m512i m1 = neg1, m2 = neg1, m3 = neg1, m4 = neg1;
            for (int c = 0; c < chunks; c++) {
                const __mmask16 lm = c == chunks - 1 ? tail : 0xFFFF;
                __m512i key = _mm512_and_si512(_mm512_maskz_loadu_epi32(lm, v + 16 * c), absmask);
                key = _mm512_maskz_mov_epi32(_mm512_cmple_epi32_mask(key, inf), key);
                key = _mm512_mask_mov_epi32(neg1, lm, key);
                _mm512_store_si512(kr + 16 * c, key);
                const __m512i t1 = _mm512_min_epi32(m1, key);
                m1 = _mm512_max_epi32(m1, key);
                const __m512i t2 = _mm512_min_epi32(m2, t1);
                m2 = _mm512_max_epi32(m2, t1);
                const __m512i t3 = _mm512_min_epi32(m3, t2);
                m3 = _mm512_max_epi32(m3, t2);
                m4 = _mm512_max_epi32(m4, t3);
            }
            _mm512_store_si512(tops[0][i], m1);
            _mm512_store_si512(tops[1][i], m2);
            _mm512_store_si512(tops[2][i], m3);
            _mm512_store_si512(fourth[i], m4);
        }
        for (int i = g; i < GROUP; i++)
            for (int j = 0; j < 3; j++) _mm512_store_si512(tops[j][i], neg1);
        vkth48(tops, k, lo);
        for (int i = 0; i < g; i++) {
            const int32_t b = lo[i];
            lo[i] = b < 0 ? 0 : b;  /* (cannot happen: the 48 hold min(n, 16) >= k real keys) */
            const __m512i vlo = _mm512_set1_epi32(lo[i]);
            const __m512i m1 = _mm512_load_si512(tops[0][i]), m2 = _mm512_load_si512(tops[1][i]), m3 = _mm512_load_si512(tops[2][i]);
            exact[i] = b >= 0 && _mm512_cmpge_epi32_mask(_mm512_load_si512(fourth[i]), vlo) == 0;
            t[i] = lo[i];
            above[i] = _mm_popcnt_u32(_mm512_cmpgt_epi32_mask(m1, vlo)) + _mm_popcnt_u32(_mm512_cmpgt_epi32_mask(m2, vlo))
                     + _mm_popcnt_u32(_mm512_cmpgt_epi32_mask(m3, vlo));
            eqs[i] = _mm_popcnt_u32(_mm512_cmpeq_epi32_mask(m1, vlo)) + _mm_popcnt_u32(_mm512_cmpeq_epi32_mask(m2, vlo))
                   + _mm_popcnt_u32(_mm512_cmpeq_epi32_mask(m3, vlo));
        }
        /* 2. otherwise the keys >= lo into two registers (lanes a..a+p of 32) and T among them;
         *    more than 32 (heavy ties) takes the bounding loop */
        for (int i = 0; i < g; i++) {
            if (exact[i]) continue;
            const __m512i vlo = _mm512_set1_epi32(lo[i]);
            __m512i a0 = neg1, a1 = neg1;
            int a = 0;
            for (int c = 0; c < chunks; c++) {
                const __m512i key = _mm512_load_si512(keys + (ptrdiff_t)i * 16 * chunks + 16 * c);
                const __mmask16 take = _mm512_cmpge_epi32_mask(key, vlo);
                const int p = _mm_popcnt_u32(take);
                const __m512i x = _mm512_maskz_compress_epi32(take, key);
                const uint64_t pos = a < 32 ? (((uint64_t)1 << p) - 1) << a : 0;
                a0 = _mm512_mask_mov_epi32(a0, (__mmask16)pos, _mm512_permutexvar_epi32(_mm512_sub_epi32(iota, _mm512_set1_epi32(a)), x));
                a1 = _mm512_mask_mov_epi32(a1, (__mmask16)(pos >> 16), _mm512_permutexvar_epi32(_mm512_add_epi32(iota, _mm512_set1_epi32(16 - a)), x));
                a += p;
            }
            if (a <= 32) {
                t[i] = kth_of_32(a0, a1, k, &above[i]);
                const __m512i vt = _mm512_set1_epi32(t[i]);
                eqs[i] = _mm_popcnt_u32(_mm512_cmpeq_epi32_mask(a0, vt)) + _mm_popcnt_u32(_mm512_cmpeq_epi32_mask(a1, vt));
            } else {
                t[i] = kth_by_bounds(keys + (ptrdiff_t)i * 16 * chunks, chunks, k, lo[i], &above[i]);
                eqs[i] = -1;  /* unknown: limit the ties */
            }
        }
        /* 3. keys > T, plus the first (k - above) keys == T, packed in index order. Each chunk's
         *    compressed words are stored whole at their offset (no reload, so no store-forwarding
         *    stall); the spill past a row is overwritten by the rows after it, and the rows whose
         *    spill would pass the end of `out` go through a buffer. */
        for (int i = 0; i < g; i++) {
            const float *v = h + (ptrdiff_t)(r0 + i) * ld;
            /* a row's stores reach 4k + 64 bytes past its start: near the end, use the buffer */
            const int last = (ptrdiff_t)(rows - 1 - (r0 + i)) * 4 * k < 64;
            uint8_t *o = last ? (uint8_t *)spill : out + 4 * (ptrdiff_t)(r0 + i) * k;
            const __m512i vt = _mm512_set1_epi32(t[i]);
            int w = 0;
            if (eqs[i] == k - above[i]) {
                /* every key == T is taken (the usual case: no ties at the k-th place) */
                for (int c = 0; c < chunks; c++) {
                    const __mmask16 take = _mm512_cmpge_epi32_mask(_mm512_load_si512(keys + (ptrdiff_t)i * 16 * chunks + 16 * c), vt);
                    const __m512i raw = _mm512_maskz_loadu_epi32(c == chunks - 1 ? tail : 0xFFFF, v + 16 * c);
                    _mm512_storeu_si512(o + 4 * w, _mm512_maskz_compress_epi32(take, pack_words(raw, 16 * c, shuf, iota, wide)));
                    w += _mm_popcnt_u32(take);
                }
            } else {
                int ties = k - above[i];
                for (int c = 0; c < chunks; c++) {
                    const __m512i key = _mm512_load_si512(keys + (ptrdiff_t)i * 16 * chunks + 16 * c);
                    const uint32_t tie = _pdep_u32((1u << ties) - 1, _mm512_cmpeq_epi32_mask(key, vt));
                    const __mmask16 take = (__mmask16)(_mm512_cmpgt_epi32_mask(key, vt) | tie);
                    ties -= _mm_popcnt_u32(tie);
                    const __m512i raw = _mm512_maskz_loadu_epi32(c == chunks - 1 ? tail : 0xFFFF, v + 16 * c);
                    _mm512_storeu_si512(o + 4 * w, _mm512_maskz_compress_epi32(take, pack_words(raw, 16 * c, shuf, iota, wide)));
                    w += _mm_popcnt_u32(take);
                }
            }
            if (last) memcpy(out + 4 * (ptrdiff_t)(r0 + i) * k, spill, 4 * (size_t)k);
        }
    }
}
#endif

int murmur_topk_proof_rows(int kernel, const float *h, int rows, int width, ptrdiff_t ld, int k, unsigned char *out) {
    if (k <= 0 || width <= 0 || rows <= 0) return 0;
    const int kk = k < width ? k : width;
    if (kk > ROWS_MAX_K) return -1;
    if (kk == width) {
        const int wide = width > 256;
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < width; i++) pack_entry(out + 4 * ((ptrdiff_t)r * kk + i), i, h[(ptrdiff_t)r * ld + i], wide);
        return 4 * kk;
    }
#if defined(__x86_64__)
    if (kernel == 1 && kk <= 16 && width <= 1024 && rows < 4) {
        rows_single(1, h, rows, width, ld, kk, out);
        return 4 * kk;
    }
    if (kernel == 1 && kk <= 16 && width <= 1024) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("bmi2")
            && __builtin_cpu_supports("popcnt")) {
            /* keys of a group of rows, 64-byte aligned (at most 64 KiB: one allocation per batch) */
            void *keys = NULL;
            if (posix_memalign(&keys, 64, sizeof(int32_t) * 16 * (size_t)((width + 15) >> 4) * GROUP) == 0) {
                rows_avx512(h, rows, width, ld, kk, out, (int32_t *)keys);
                free(keys);
                return 4 * kk;
            }
        }
    }
#endif
    rows_single(0, h, rows, width, ld, kk, out);
    return 4 * kk;
}

/* Group-max activation proofs (see include/murmur_proof.h): per row, per class of units
 * (index mod G), the unit of largest truncated magnitude, in the proof's wire form.
 *
 * With G = 16 a class is a SIMD lane: one pass over the row's 16-value chunks keeps, per lane,
 * the largest key tagged with 255 - chunk (so ties go to the lower index) — a load, one
 * ternary-logic op, one max and one or per 16 values — then the entries are the keys (a lane with
 * a negative value fetches its chosen values by a masked gather for their sign), one byte shuffle
 * packs them (64 bytes) and one store writes them. */
#include "murmur_proof.h"
#include "proof_pack.h"

#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* The selection key of one value: |x| bits with the low 8 cleared (NaN, with its payload, ranks
 * above every number: a model producing NaN yields no verifiable receipt anyway). */
static inline int64_t gm_key(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    return (int64_t)(b & 0x7FFFFF00u);
}

static void gm_portable(const float *h, int rows, int width, ptrdiff_t ld, int g, uint8_t *out) {
    const int wide = width > 256;
    for (int r = 0; r < rows; r++) {
        const float *v = h + (ptrdiff_t)r * ld;
        for (int c = 0; c < g; c++) {
            int best = c;
            int64_t bk = gm_key(v[c]);
            for (int i = c + g; i < width; i += g) {
                const int64_t key = gm_key(v[i]);
                if (key > bk) { bk = key; best = i; }
            }
            pack_entry(out + 4 * ((ptrdiff_t)r * g + c), best, v[best], wide);
        }
    }
}

#if defined(__x86_64__)
#define GM_AVX512 __attribute__((target("avx512f,avx512bw")))

GM_AVX512 static void gm_avx512(const float *h, int rows, int width, ptrdiff_t ld, uint8_t *out) {
    const __m512i mag = _mm512_set1_epi32(0x7FFFFF00);
    const __m512i neg1 = _mm512_set1_epi32(-1);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const int wide = width > 256, chunks = (width + 15) >> 4;
    const __mmask16 tail = (width & 15) ? (__mmask16)((1u << (width & 15)) - 1) : 0xFFFF;
    const __m512i shuf = proof_pack_shuffle(wide);
    for (int r = 0; r < rows; r++) {
        const float *v = h + (ptrdiff_t)r * ld;
        /* key = (|x| & 0x7FFFFF00) | (255 - chunk): one ternary-logic op; max keeps the largest
         * and, on equal magnitudes, the lower chunk */
        __m512i m = neg1, any = _mm512_setzero_si512();
        for (int c = 0; c < chunks - 1; c++) {
            const __m512i x = _mm512_loadu_si512(v + 16 * c);
            m = _mm512_max_epi32(m, _mm512_ternarylogic_epi32(x, mag, _mm512_set1_epi32(255 - c), 0xEA));
            any = _mm512_or_si512(any, x);
        }
        {
            const int c = chunks - 1;
            const __m512i x = _mm512_maskz_loadu_epi32(tail, v + 16 * c);
            m = _mm512_mask_max_epi32(m, tail, m, _mm512_ternarylogic_epi32(x, mag, _mm512_set1_epi32(255 - c), 0xEA));
            any = _mm512_or_si512(any, x);
        }
        /* index = lane + 16 * (255 - tag); the value's top 24 bits are the key's, with the sign:
         * 0 in a lane without any sign bit set (a ReLU layer), else fetched by a masked gather */
        const __m512i tag = _mm512_and_si512(m, _mm512_set1_epi32(0xFF));
        const __m512i idx = _mm512_add_epi32(iota, _mm512_slli_epi32(_mm512_sub_epi32(_mm512_set1_epi32(255), tag), 4));
        __m512i s = m;  /* the shuffle below drops the tag byte */
        const __mmask16 neg = _mm512_cmplt_epi32_mask(any, _mm512_setzero_si512());
        if (neg) s = _mm512_mask_i32gather_epi32(s, neg, idx, (const void *)v, 4);
        const __m512i word = _mm512_shuffle_epi8(s, shuf);
        const __m512i packed = wide ? _mm512_or_si512(word, _mm512_or_si512(_mm512_srli_epi32(idx, 8), _mm512_and_si512(_mm512_slli_epi32(idx, 8), _mm512_set1_epi32(0xFF00))))
                                    : _mm512_or_si512(word, idx);
        _mm512_storeu_si512(out + 64 * (ptrdiff_t)r, packed);
    }
}

static int gm_has_avx512(void) {
    static int cached = 0;  /* 0 unknown, 1 no, 2 yes; a benign race: every thread computes the same */
    int c = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (c == 0) {
        __builtin_cpu_init();
        c = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") ? 2 : 1;
        __atomic_store_n(&cached, c, __ATOMIC_RELAXED);
    }
    return c == 2;
}
#endif

int murmur_groupmax_proof_rows(int kernel, const float *h, int rows, int width, ptrdiff_t ld, int groups, unsigned char *out) {
    if (groups <= 0 || width <= 0 || rows <= 0) return 0;
    const int g = groups < width ? groups : width;
    if (g > 256) return -1;
#if defined(__x86_64__)
    if (kernel == 1 && g == 16 && width <= 4080 && gm_has_avx512()) {
        gm_avx512(h, rows, width, ld, out);
        return 64;
    }
#endif
    gm_portable(h, rows, width, ld, g, out);
    return 4 * g;
}

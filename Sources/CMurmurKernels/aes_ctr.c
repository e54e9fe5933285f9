/* AES-128-CTR (ctr32) keystream added into 32-bit words: see include/murmur_aes.h.
 * Two kernels compiled per function with target attributes and chosen after a CPUID check:
 * AES-NI on xmm (8 blocks in flight) and VAES on zmm (8 × 4 blocks in flight). Both produce
 * FIPS 197 AES, so they agree byte for byte with each other and with any AES-128-CTR. */
#include "murmur_aes.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

int murmur_aes_impl_available(int impl) {
    __builtin_cpu_init();
    switch (impl) {
    case MURMUR_AES_AESNI:
        return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
    case MURMUR_AES_VAES512:
        return __builtin_cpu_supports("aes") && __builtin_cpu_supports("vaes") && __builtin_cpu_supports("avx512f")
            && __builtin_cpu_supports("avx512bw");
    default:
        return 0;
    }
}

int murmur_aes_best_impl(void) {
    static int best = -1;
    int b = __atomic_load_n(&best, __ATOMIC_RELAXED);
    if (b < 0) {
        b = murmur_aes_impl_available(MURMUR_AES_VAES512) ? MURMUR_AES_VAES512
            : murmur_aes_impl_available(MURMUR_AES_AESNI) ? MURMUR_AES_AESNI
                                                          : MURMUR_AES_NONE;
        __atomic_store_n(&best, b, __ATOMIC_RELAXED);
    }
    return b;
}

/* ---- AES-NI (xmm) ---------------------------------------------------------------------- */
#pragma clang attribute push(__attribute__((target("aes,sse4.1"))), apply_to = function)

static inline __m128i expand_step(__m128i key, __m128i assist) {
    assist = _mm_shuffle_epi32(assist, 0xff);
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    return _mm_xor_si128(key, assist);
}

void murmur_aes128_expand_key(const uint8_t key[16], uint8_t round_keys[176]) {
    __m128i k[11];
    k[0] = _mm_loadu_si128((const __m128i *)key);
    /* AESKEYGENASSIST needs an immediate round constant (FIPS 197 §5.2 Rcon). */
    k[1] = expand_step(k[0], _mm_aeskeygenassist_si128(k[0], 0x01));
    k[2] = expand_step(k[1], _mm_aeskeygenassist_si128(k[1], 0x02));
    k[3] = expand_step(k[2], _mm_aeskeygenassist_si128(k[2], 0x04));
    k[4] = expand_step(k[3], _mm_aeskeygenassist_si128(k[3], 0x08));
    k[5] = expand_step(k[4], _mm_aeskeygenassist_si128(k[4], 0x10));
    k[6] = expand_step(k[5], _mm_aeskeygenassist_si128(k[5], 0x20));
    k[7] = expand_step(k[6], _mm_aeskeygenassist_si128(k[6], 0x40));
    k[8] = expand_step(k[7], _mm_aeskeygenassist_si128(k[7], 0x80));
    k[9] = expand_step(k[8], _mm_aeskeygenassist_si128(k[8], 0x1b));
    k[10] = expand_step(k[9], _mm_aeskeygenassist_si128(k[9], 0x36));
    for (int i = 0; i < 11; i++) _mm_storeu_si128((__m128i *)(round_keys + 16 * i), k[i]);
}

/* Byte shuffle that turns a block whose 32-bit lane 3 holds the counter natively into the
 * counter block (lane 3 big-endian, bytes 0–11 unchanged). */
static inline __m128i bswap_lane3(void) { return _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 14, 13, 12); }

static inline __m128i aes_block(const __m128i rk[11], __m128i b) {
    b = _mm_xor_si128(b, rk[0]);
    for (int r = 1; r < 10; r++) b = _mm_aesenc_si128(b, rk[r]);
    return _mm_aesenclast_si128(b, rk[10]);
}

/* Writes `blocks` keystream blocks to out (as 16-byte units) and returns the next counter. */
static void ctr_aesni(const uint8_t round_keys[176], __m128i ctr, uint8_t *out, uint32_t *acc, size_t blocks,
                      int subtract) {
    __m128i rk[11];
    for (int i = 0; i < 11; i++) rk[i] = _mm_loadu_si128((const __m128i *)(round_keys + 16 * i));
    const __m128i shuf = bswap_lane3(), one = _mm_setr_epi32(0, 0, 0, 1);
    size_t i = 0;
    for (; i + 8 <= blocks; i += 8) {
        __m128i b[8];
        for (int j = 0; j < 8; j++) {
            b[j] = _mm_xor_si128(_mm_shuffle_epi8(ctr, shuf), rk[0]);
            ctr = _mm_add_epi32(ctr, one);
        }
        for (int r = 1; r < 10; r++)
            for (int j = 0; j < 8; j++) b[j] = _mm_aesenc_si128(b[j], rk[r]);
        for (int j = 0; j < 8; j++) {
            b[j] = _mm_aesenclast_si128(b[j], rk[10]);
            if (acc) {
                __m128i *p = (__m128i *)(acc + 4 * (i + j));
                __m128i a = _mm_loadu_si128(p);
                _mm_storeu_si128(p, subtract ? _mm_sub_epi32(a, b[j]) : _mm_add_epi32(a, b[j]));
            } else {
                _mm_storeu_si128((__m128i *)(out + 16 * (i + j)), b[j]);
            }
        }
    }
    for (; i < blocks; i++) {
        __m128i b = aes_block(rk, _mm_shuffle_epi8(ctr, shuf));
        ctr = _mm_add_epi32(ctr, one);
        if (acc) {
            __m128i *p = (__m128i *)(acc + 4 * i);
            __m128i a = _mm_loadu_si128(p);
            _mm_storeu_si128(p, subtract ? _mm_sub_epi32(a, b) : _mm_add_epi32(a, b));
        } else {
            _mm_storeu_si128((__m128i *)(out + 16 * i), b);
        }
    }
}

/* One keystream block for counter `ctr` (native lane 3), for partial tails. */
static void one_block_aesni(const uint8_t round_keys[176], __m128i ctr, uint8_t out[16]) {
    __m128i rk[11];
    for (int i = 0; i < 11; i++) rk[i] = _mm_loadu_si128((const __m128i *)(round_keys + 16 * i));
    _mm_storeu_si128((__m128i *)out, aes_block(rk, _mm_shuffle_epi8(ctr, bswap_lane3())));
}

#pragma clang attribute pop

/* ---- VAES (zmm) ------------------------------------------------------------------------ */
#pragma clang attribute push(__attribute__((target("aes,vaes,avx512f,avx512bw"))), apply_to = function)

#define VAES_LANES 8 /* zmm registers in flight: 32 blocks per iteration */

static void ctr_vaes512(const uint8_t round_keys[176], __m128i ctr128, uint8_t *out, uint32_t *acc, size_t blocks,
                        int subtract) {
    __m512i rk[11];
    for (int i = 0; i < 11; i++) rk[i] = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(round_keys + 16 * i)));
    const __m512i shuf = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 14, 13, 12));
    /* Four consecutive counters in the four 128-bit lanes; +4 per zmm step. */
    __m512i ctr = _mm512_add_epi32(_mm512_broadcast_i32x4(ctr128),
                                   _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3));
    const __m512i four = _mm512_setr_epi32(0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4);
    size_t i = 0;
    for (; i + 4 * VAES_LANES <= blocks; i += 4 * VAES_LANES) {
        __m512i b[VAES_LANES];
        for (int j = 0; j < VAES_LANES; j++) {
            b[j] = _mm512_xor_si512(_mm512_shuffle_epi8(ctr, shuf), rk[0]);
            ctr = _mm512_add_epi32(ctr, four);
        }
        for (int r = 1; r < 10; r++)
            for (int j = 0; j < VAES_LANES; j++) b[j] = _mm512_aesenc_epi128(b[j], rk[r]);
        for (int j = 0; j < VAES_LANES; j++) {
            b[j] = _mm512_aesenclast_epi128(b[j], rk[10]);
            if (acc) {
                uint32_t *p = acc + 4 * (i + 4 * j);
                __m512i a = _mm512_loadu_si512(p);
                _mm512_storeu_si512(p, subtract ? _mm512_sub_epi32(a, b[j]) : _mm512_add_epi32(a, b[j]));
            } else {
                _mm512_storeu_si512(out + 16 * (i + 4 * j), b[j]);
            }
        }
    }
    /* Whole groups of four blocks, one zmm at a time. */
    for (; i + 4 <= blocks; i += 4) {
        __m512i b = _mm512_xor_si512(_mm512_shuffle_epi8(ctr, shuf), rk[0]);
        ctr = _mm512_add_epi32(ctr, four);
        for (int r = 1; r < 10; r++) b = _mm512_aesenc_epi128(b, rk[r]);
        b = _mm512_aesenclast_epi128(b, rk[10]);
        if (acc) {
            uint32_t *p = acc + 4 * i;
            __m512i a = _mm512_loadu_si512(p);
            _mm512_storeu_si512(p, subtract ? _mm512_sub_epi32(a, b) : _mm512_add_epi32(a, b));
        } else {
            _mm512_storeu_si512(out + 16 * i, b);
        }
    }
    /* Fewer than four blocks left: the AES-NI path finishes them. */
    if (i < blocks) {
        __m128i next = _mm_add_epi32(ctr128, _mm_setr_epi32(0, 0, 0, (int)(uint32_t)i));
        ctr_aesni(round_keys, next, out ? out + 16 * i : NULL, acc ? acc + 4 * i : NULL, blocks - i, subtract);
    }
}

#pragma clang attribute pop

/* The counter block with its last 4 bytes read big-endian into native lane 3. */
static __m128i native_counter(const uint8_t cb[16]) {
    uint32_t w[4];
    memcpy(w, cb, 12);
    w[3] = ((uint32_t)cb[12] << 24) | ((uint32_t)cb[13] << 16) | ((uint32_t)cb[14] << 8) | (uint32_t)cb[15];
    return _mm_loadu_si128((const __m128i *)w);
}

static void run(int impl, const uint8_t round_keys[176], __m128i ctr, uint8_t *out, uint32_t *acc, size_t blocks,
                int subtract) {
    if (blocks == 0) return;
    if (impl == MURMUR_AES_VAES512) ctr_vaes512(round_keys, ctr, out, acc, blocks, subtract);
    else ctr_aesni(round_keys, ctr, out, acc, blocks, subtract);
}

void murmur_aes128_ctr32_accumulate(int impl, const uint8_t round_keys[176], const uint8_t counter_block[16],
                                    uint32_t *acc, size_t words, int subtract) {
    __m128i ctr = native_counter(counter_block);
    size_t blocks = words / 4, rest = words % 4;
    run(impl, round_keys, ctr, NULL, acc, blocks, subtract);
    if (rest) {
        uint8_t ks[16];
        one_block_aesni(round_keys, _mm_add_epi32(ctr, _mm_setr_epi32(0, 0, 0, (int)(uint32_t)blocks)), ks);
        for (size_t j = 0; j < rest; j++) {
            uint32_t w = (uint32_t)ks[4 * j] | ((uint32_t)ks[4 * j + 1] << 8) | ((uint32_t)ks[4 * j + 2] << 16)
                | ((uint32_t)ks[4 * j + 3] << 24);
            acc[4 * blocks + j] = subtract ? acc[4 * blocks + j] - w : acc[4 * blocks + j] + w;
        }
    }
}

void murmur_aes128_ctr32_keystream(int impl, const uint8_t round_keys[176], const uint8_t counter_block[16],
                                   uint8_t *out, size_t bytes) {
    __m128i ctr = native_counter(counter_block);
    size_t blocks = bytes / 16, rest = bytes % 16;
    run(impl, round_keys, ctr, out, NULL, blocks, 0);
    if (rest) {
        uint8_t ks[16];
        one_block_aesni(round_keys, _mm_add_epi32(ctr, _mm_setr_epi32(0, 0, 0, (int)(uint32_t)blocks)), ks);
        memcpy(out + 16 * blocks, ks, rest);
    }
}

#else /* not x86-64: no kernel; the caller uses its crypto library. */

int murmur_aes_impl_available(int impl) { return impl == MURMUR_AES_NONE; }
int murmur_aes_best_impl(void) { return MURMUR_AES_NONE; }
void murmur_aes128_expand_key(const uint8_t key[16], uint8_t round_keys[176]) { (void)key; (void)round_keys; }
void murmur_aes128_ctr32_accumulate(int impl, const uint8_t round_keys[176], const uint8_t counter_block[16],
                                    uint32_t *acc, size_t words, int subtract) {
    (void)impl; (void)round_keys; (void)counter_block; (void)acc; (void)words; (void)subtract;
}
void murmur_aes128_ctr32_keystream(int impl, const uint8_t round_keys[176], const uint8_t counter_block[16],
                                   uint8_t *out, size_t bytes) {
    (void)impl; (void)round_keys; (void)counter_block; (void)out; (void)bytes;
}

#endif

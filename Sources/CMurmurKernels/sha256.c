/* SHA-256 (FIPS 180-4) for the Merkle log's leaf and node hashes (see include/murmur_sha256.h).
 *
 * Two compression functions: the x86 SHA extensions (SHA256RNDS2/MSG1/MSG2, Intel "New
 * Instructions Supporting the Secure Hash Algorithm on Intel Architecture Processors", 2013),
 * compiled with a per-function target attribute so the package needs no compiler flags, and a
 * portable C one. murmur_sha256_has_shani() picks at run time (__builtin_cpu_supports). */
#include "murmur_sha256.h"

#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t H0[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* ---- portable C (FIPS 180-4 §6.2.2) ------------------------------------------------------ */

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

void murmur_sha256_compress_portable(uint32_t state[8], const uint8_t *data, size_t blocks) {
    uint32_t w[64];
    while (blocks--) {
        for (int t = 0; t < 16; t++) {
            w[t] = (uint32_t)data[4 * t] << 24 | (uint32_t)data[4 * t + 1] << 16 | (uint32_t)data[4 * t + 2] << 8 | data[4 * t + 3];
        }
        for (int t = 16; t < 64; t++) {
            uint32_t s0 = ROTR(w[t - 15], 7) ^ ROTR(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = ROTR(w[t - 2], 17) ^ ROTR(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int t = 0; t < 64; t++) {
            uint32_t t1 = h + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
            uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g; g = f; f = e; e = d + t1;
            d = c; c = b; b = a; a = t1 + t2;
        }
        state[0] += a; state[1] += b; state[2] += c; state[3] += d;
        state[4] += e; state[5] += f; state[6] += g; state[7] += h;
        data += 64;
    }
}

/* ---- x86 SHA extensions ------------------------------------------------------------------ */

#if defined(__x86_64__)

/* Four rounds with message words W (big-endian already): the two SHA256RNDS2 halves. */
#define QROUND(i, W)                                                              \
    do {                                                                          \
        __m128i m_ = _mm_add_epi32((W), _mm_loadu_si128((const __m128i *)&K[4 * (i)])); \
        s1 = _mm_sha256rnds2_epu32(s1, s0, m_);                                   \
        m_ = _mm_shuffle_epi32(m_, 0x0E);                                         \
        s0 = _mm_sha256rnds2_epu32(s0, s1, m_);                                   \
    } while (0)

/* W[t] = σ1(W[t−2]) + W[t−7] + σ0(W[t−15]) + W[t−16] for four t at once: A holds W[t−16…], D the latest. */
#define SCHEDULE(A, B, C, D) \
    (A) = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32((A), (B)), _mm_alignr_epi8((D), (C), 4)), (D))

__attribute__((target("sha,sse4.1,ssse3")))
void murmur_sha256_compress_shani(uint32_t state[8], const uint8_t *data, size_t blocks) {
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    /* The instructions want the state as ABEF and CDGH. */
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[0]), 0xB1); /* CDAB */
    __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[4]), 0x1B); /* EFGH */
    __m128i s0 = _mm_alignr_epi8(t, s1, 8);     /* ABEF */
    s1 = _mm_blend_epi16(s1, t, 0xF0);          /* CDGH */
    while (blocks--) {
        const __m128i save0 = s0, save1 = s1;
        __m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 0)), bswap);
        __m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16)), bswap);
        __m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 32)), bswap);
        __m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 48)), bswap);
        QROUND(0, w0); QROUND(1, w1); QROUND(2, w2); QROUND(3, w3);
        SCHEDULE(w0, w1, w2, w3); QROUND(4, w0);
        SCHEDULE(w1, w2, w3, w0); QROUND(5, w1);
        SCHEDULE(w2, w3, w0, w1); QROUND(6, w2);
        SCHEDULE(w3, w0, w1, w2); QROUND(7, w3);
        SCHEDULE(w0, w1, w2, w3); QROUND(8, w0);
        SCHEDULE(w1, w2, w3, w0); QROUND(9, w1);
        SCHEDULE(w2, w3, w0, w1); QROUND(10, w2);
        SCHEDULE(w3, w0, w1, w2); QROUND(11, w3);
        SCHEDULE(w0, w1, w2, w3); QROUND(12, w0);
        SCHEDULE(w1, w2, w3, w0); QROUND(13, w1);
        SCHEDULE(w2, w3, w0, w1); QROUND(14, w2);
        SCHEDULE(w3, w0, w1, w2); QROUND(15, w3);
        s0 = _mm_add_epi32(s0, save0);
        s1 = _mm_add_epi32(s1, save1);
        data += 64;
    }
    t = _mm_shuffle_epi32(s0, 0x1B);             /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xB1);            /* DCHG */
    s0 = _mm_blend_epi16(t, s1, 0xF0);           /* DCBA */
    s1 = _mm_alignr_epi8(s1, t, 8);              /* HGFE */
    _mm_storeu_si128((__m128i *)&state[0], s0);
    _mm_storeu_si128((__m128i *)&state[4], s1);
}

#endif

/* ---- dispatch and message padding -------------------------------------------------------- */

int murmur_sha256_has_shani(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3");
#else
    return 0;
#endif
}

/* The implementation in use: -1 not chosen yet, else a murmur_sha256_impl value. Relaxed atomics:
 * every thread computes the same answer, so a race only repeats the CPU check. */
static _Atomic int chosen = -1;

int murmur_sha256_impl_in_use(void) {
    int c = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (c < 0) {
        c = murmur_sha256_has_shani() ? MURMUR_SHA256_SHANI : MURMUR_SHA256_LIBRARY;
        atomic_store_explicit(&chosen, c, memory_order_relaxed);
    }
    return c;
}

int murmur_sha256_set_impl(int impl) {
    if (impl == MURMUR_SHA256_SHANI && !murmur_sha256_has_shani()) return 0;
    if (impl != MURMUR_SHA256_SHANI && impl != MURMUR_SHA256_PORTABLE && impl != MURMUR_SHA256_LIBRARY) impl = -1;
    atomic_store_explicit(&chosen, impl, memory_order_relaxed);
    return 1;
}

void murmur_sha256_compress(uint32_t state[8], const uint8_t *data, size_t blocks) {
#if defined(__x86_64__)
    if (murmur_sha256_impl_in_use() == MURMUR_SHA256_SHANI) {
        murmur_sha256_compress_shani(state, data, blocks);
        return;
    }
#endif
    murmur_sha256_compress_portable(state, data, blocks);
}

static void store_digest(const uint32_t state[8], uint8_t out[32]) {
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(state[i] >> 24);
        out[4 * i + 1] = (uint8_t)(state[i] >> 16);
        out[4 * i + 2] = (uint8_t)(state[i] >> 8);
        out[4 * i + 3] = (uint8_t)state[i];
    }
}

/* SHA-256(prefix ‖ data) where prefix is 0 or 1 byte (FIPS 180-4 §5.1.1 padding). */
static void sha256_prefixed(int has_prefix, uint8_t prefix, const uint8_t *data, size_t len, uint8_t out[32]) {
    uint32_t state[8];
    memcpy(state, H0, sizeof state);
    uint8_t block[128];
    size_t fill = 0;
    if (has_prefix) block[fill++] = prefix;
    size_t take = len < 64 - fill ? len : 64 - fill;
    if (take) memcpy(block + fill, data, take);
    fill += take;
    data += take;
    size_t rest = len - take;
    if (fill == 64) {
        murmur_sha256_compress(state, block, 1);
        size_t whole = rest / 64;
        if (whole) murmur_sha256_compress(state, data, whole);
        data += whole * 64;
        rest -= whole * 64;
        if (rest) memcpy(block, data, rest);
        fill = rest;
    }
    uint64_t bits = ((uint64_t)len + (has_prefix ? 1 : 0)) * 8;
    block[fill++] = 0x80;
    size_t total = fill + 8 <= 64 ? 64 : 128;
    memset(block + fill, 0, total - fill - 8);
    for (int i = 0; i < 8; i++) block[total - 1 - i] = (uint8_t)(bits >> (8 * i));
    murmur_sha256_compress(state, block, total / 64);
    store_digest(state, out);
}

void murmur_sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
    sha256_prefixed(0, 0, data, len, out);
}

void murmur_sha256_leaf(const uint8_t *data, size_t len, uint8_t out[32]) {
    sha256_prefixed(1, 0x00, data, len, out);
}

void murmur_sha256_node(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]) {
    /* 65 bytes: 0x01 ‖ left ‖ right, then 0x80, zeros and the bit length 520 = 0x208: two blocks. */
    uint8_t block[128];
    block[0] = 0x01;
    memcpy(block + 1, left, 32);
    memcpy(block + 33, right, 32);
    block[65] = 0x80;
    memset(block + 66, 0, 60);
    block[126] = 0x02;
    block[127] = 0x08;
    uint32_t state[8];
    memcpy(state, H0, sizeof state);
    murmur_sha256_compress(state, block, 2);
    store_digest(state, out);
}

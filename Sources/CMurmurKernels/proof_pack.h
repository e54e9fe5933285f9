/* Shared by the activation-proof kernels (topk_rows.c, groupmax_rows.c): the wire form of one
 * proof entry, and on x86-64 the byte shuffle that packs sixteen of them at once. Internal. */
#ifndef MURMUR_PROOF_PACK_H
#define MURMUR_PROOF_PACK_H
#include <stdint.h>
#include <string.h>

/* One entry of the wire form: width <= 256: index byte + top 24 bits of the Float32 (big
 * endian); wider (`wide`): 2 index bytes (big endian) + top 16 bits. */
static inline void pack_entry(uint8_t *o, int i, float x, int wide) {
    uint32_t b;
    memcpy(&b, &x, 4);
    if (wide) {
        o[0] = (uint8_t)(i >> 8); o[1] = (uint8_t)(i & 0xFF); o[2] = (uint8_t)(b >> 24); o[3] = (uint8_t)(b >> 16);
    } else {
        o[0] = (uint8_t)i; o[1] = (uint8_t)(b >> 24); o[2] = (uint8_t)(b >> 16); o[3] = (uint8_t)(b >> 8);
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

/* vpshufb control per 128-bit lane: dword j <- bytes (0, 4j+3, 4j+2, 4j+1) — an index byte
 * (filled in by the caller) and the value's top 24 bits — or, for layers over 256 units
 * (`wide`), (0, 0, 4j+3, 4j+2): two index bytes and the top 16 bits. */
__attribute__((target("avx512f"))) static inline __m512i proof_pack_shuffle(int wide) {
    return wide ? _mm512_setr_epi64(0x0607808002038080LL, 0x0E0F80800A0B8080LL, 0x0607808002038080LL, 0x0E0F80800A0B8080LL,
                                    0x0607808002038080LL, 0x0E0F80800A0B8080LL, 0x0607808002038080LL, 0x0E0F80800A0B8080LL)
                : _mm512_setr_epi64(0x0506078001020380LL, 0x0D0E0F80090A0B80LL, 0x0506078001020380LL, 0x0D0E0F80090A0B80LL,
                                    0x0506078001020380LL, 0x0D0E0F80090A0B80LL, 0x0506078001020380LL, 0x0D0E0F80090A0B80LL);
}
#endif
#endif

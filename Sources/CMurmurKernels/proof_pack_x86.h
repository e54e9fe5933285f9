/* Shared by the activation-proof kernels (topk_rows.c, groupmax_rows.c): the byte shuffle
 * that turns sixteen Float32 bit patterns into proof entries. Internal, x86-64 only. */
#ifndef MURMUR_PROOF_PACK_X86_H
#define MURMUR_PROOF_PACK_X86_H
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

#ifndef MURMUR_AES_H
#define MURMUR_AES_H
/*
 * AES-128 in counter mode (FIPS 197, NIST SP 800-38A §6.5) for SecAgg+'s mask PRG: the keystream
 * of a counter block whose last 4 bytes are a big-endian 32-bit counter incremented per block
 * ("ctr32", as BoringSSL's CTR), added into or subtracted from a vector of 32-bit words.
 * Fusing the add into the cipher loop keeps the keystream in registers; the VAES kernel runs
 * four blocks per 512-bit instruction. Chosen at run time (__builtin_cpu_supports): VAES +
 * AVX-512F/BW, else AES-NI on xmm, else none (the caller then uses its crypto library).
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Kernels (values are stable, used from Swift). */
typedef enum {
    MURMUR_AES_NONE = 0,   /* no AES instructions: the C entry points must not be called */
    MURMUR_AES_AESNI = 1,  /* AES-NI + SSE4.1, 8 blocks per iteration on xmm */
    MURMUR_AES_VAES512 = 2 /* VAES + AVX-512F/BW, 32 blocks per iteration on zmm */
} murmur_aes_impl;

/* The best kernel this CPU can run. */
int murmur_aes_best_impl(void);

/* 1 if `impl` can run on this CPU, else 0. */
int murmur_aes_impl_available(int impl);

/* Expands a 16-byte AES-128 key into its 11 round keys (FIPS 197 §5.2), 176 bytes in the
 * standard byte order. Only call when murmur_aes_best_impl() > 0 (uses AESKEYGENASSIST). */
void murmur_aes128_expand_key(const uint8_t key[16], uint8_t round_keys[176]);

/* acc[i] += (or -= when `subtract`) word i (little-endian) of the keystream E_k(cb), E_k(cb+1), …
 * where cb = `counter_block` and +j adds j mod 2^32 to its last 4 bytes read big-endian;
 * `words` need not be a multiple of 4 (the last block is used in part). */
void murmur_aes128_ctr32_accumulate(int impl, const uint8_t round_keys[176], const uint8_t counter_block[16],
                                    uint32_t *acc, size_t words, int subtract);

/* out[0..<bytes] = the same keystream. */
void murmur_aes128_ctr32_keystream(int impl, const uint8_t round_keys[176], const uint8_t counter_block[16],
                                   uint8_t *out, size_t bytes);

#ifdef __cplusplus
}
#endif
#endif

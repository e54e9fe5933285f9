#ifndef MURMUR_SHA256_H
#define MURMUR_SHA256_H
/*
 * SHA-256 (FIPS 180-4) for MurmurLog's RFC 9162 leaf and node hashes. A Merkle proof check is
 * ~24 hashes of 65 bytes; a general-purpose hash API costs more per call than the compression
 * itself at that size, so these entry points hash fixed shapes with no allocation. On x86-64
 * CPUs with the SHA extensions the compression uses SHA256RNDS2/MSG1/MSG2 (chosen at run time);
 * elsewhere a portable C compression.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Implementations (values are stable, used from Swift). */
typedef enum {
    MURMUR_SHA256_PORTABLE = 0, /* plain C */
    MURMUR_SHA256_SHANI = 1,    /* x86-64 SHA extensions + SSE4.1 */
    MURMUR_SHA256_LIBRARY = 2   /* the caller hashes with its crypto library (BoringSSL's assembly beats
                                   portable C ~2.5x); the C entry points then run the portable code */
} murmur_sha256_impl;

/* 1 if this CPU has the x86 SHA extensions (and SSSE3/SSE4.1), else 0. */
int murmur_sha256_has_shani(void);

/* The implementation in use: SHA extensions when the CPU has them, else MURMUR_SHA256_LIBRARY,
 * unless overridden. */
int murmur_sha256_impl_in_use(void);

/* Forces `impl` (benchmarks, cross-checks); -1 returns to the automatic choice. Returns 0 if `impl`
 * cannot run on this CPU (nothing changes), else 1. Process-wide, atomic. */
int murmur_sha256_set_impl(int impl);

/* Runs the compression function over `blocks` 64-byte blocks, updating `state` (FIPS 180-4 §6.2.2). */
void murmur_sha256_compress(uint32_t state[8], const uint8_t *data, size_t blocks);
void murmur_sha256_compress_portable(uint32_t state[8], const uint8_t *data, size_t blocks);
#if defined(__x86_64__)
/* Only call when murmur_sha256_has_shani() is 1. */
void murmur_sha256_compress_shani(uint32_t state[8], const uint8_t *data, size_t blocks);
#endif

/* out = SHA-256(data[0..<len]). */
void murmur_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

/* out = SHA-256(0x00 ‖ data): an RFC 9162 leaf hash. */
void murmur_sha256_leaf(const uint8_t *data, size_t len, uint8_t out[32]);

/* out = SHA-256(0x01 ‖ left ‖ right): an RFC 9162 interior node hash (two blocks). */
void murmur_sha256_node(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]);

#ifdef __cplusplus
}
#endif
#endif

#ifndef MURMUR_OPENSSL_H
#define MURMUR_OPENSSL_H
#include <stddef.h>
#include <stdint.h>

/// OpenSSL 3's libcrypto, loaded at run time (dlopen "libcrypto.so.3"), for ChaCha20-Poly1305
/// (RFC 8439) sealed and opened in the caller's memory. Nothing is needed at build time: where the
/// library is missing, murmur_ossl_available() is 0 and callers use swift-crypto instead.

/// 1 when libcrypto.so.3 was loaded and offers ChaCha20-Poly1305, else 0 (loads on first call; thread-safe).
int murmur_ossl_available(void);

/// The loaded library's version text (OpenSSL_version(0)), or "" when unavailable.
const char *murmur_ossl_version(void);

/// A cipher context keyed with `key` (32 bytes) for sealing (`encrypt` = 1) or opening (0); NULL on failure.
void *murmur_ossl_chacha_new(const uint8_t *key, int encrypt);

/// Frees a context from murmur_ossl_chacha_new (NULL is ignored).
void murmur_ossl_chacha_free(void *ctx);

/// Seals `len` bytes at `in` with the 12-byte `nonce` and `aad`: ciphertext to `out`, then the
/// 16-byte tag at out + len. `out` may equal `in`. Returns 1 on success.
int murmur_ossl_chacha_seal(void *ctx, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                            const uint8_t *in, size_t len, uint8_t *out);

/// Opens `len` bytes of ciphertext at `in` followed by its 16-byte tag: plaintext to `out` (may
/// equal `in`). Returns 1 when the tag verifies, 0 otherwise (then `out` must be discarded).
int murmur_ossl_chacha_open(void *ctx, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                            const uint8_t *in, size_t len, uint8_t *out);

/// Starts one message on a context from murmur_ossl_chacha_new with the 12-byte `nonce` (no
/// associated data); murmur_ossl_chacha_update then takes the message in pieces of any length.
/// For opening, `tag` is the message's 16-byte tag (checked by murmur_ossl_chacha_open_final);
/// for sealing it is NULL. Returns 1 on success.
int murmur_ossl_chacha_begin(void *ctx, const uint8_t *nonce, const uint8_t *tag);

/// Seals or opens the next `len` bytes of the message begun with murmur_ossl_chacha_begin:
/// `len` bytes to `out` (may equal `in`). Returns 1 on success.
int murmur_ossl_chacha_update(void *ctx, const uint8_t *in, size_t len, uint8_t *out);

/// Ends a sealed message: its 16-byte tag to `tag`. Returns 1 on success.
int murmur_ossl_chacha_seal_final(void *ctx, uint8_t *tag);

/// Ends an opened message: 1 when the tag given to murmur_ossl_chacha_begin verifies, else 0
/// (then every byte the updates wrote must be discarded).
int murmur_ossl_chacha_open_final(void *ctx);

#endif

// OpenSSL 3 libcrypto through dlopen: its EVP interface is a stable ABI across 3.x, so the few
// prototypes used here are declared locally and no OpenSSL headers are needed to build.
#define _GNU_SOURCE
#include "murmur_openssl.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_cipher_st EVP_CIPHER;

enum { CTRL_AEAD_SET_IVLEN = 0x9, CTRL_AEAD_GET_TAG = 0x10, CTRL_AEAD_SET_TAG = 0x11, TAG_LEN = 16 };

static struct {
    EVP_CIPHER_CTX *(*ctx_new)(void);
    void (*ctx_free)(EVP_CIPHER_CTX *);
    const EVP_CIPHER *(*chacha20_poly1305)(void);
    int (*cipher_init_ex)(EVP_CIPHER_CTX *, const EVP_CIPHER *, void *, const unsigned char *, const unsigned char *, int);
    int (*cipher_update)(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int);
    int (*cipher_final_ex)(EVP_CIPHER_CTX *, unsigned char *, int *);
    int (*ctx_ctrl)(EVP_CIPHER_CTX *, int, int, void *);
    const char *(*version)(int);
    int loaded;
} ossl;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
#define SYM(field, name) if (!(*(void **)&ossl.field = dlsym(h, name))) { dlclose(h); return; }
    SYM(ctx_new, "EVP_CIPHER_CTX_new")
    SYM(ctx_free, "EVP_CIPHER_CTX_free")
    SYM(chacha20_poly1305, "EVP_chacha20_poly1305")
    SYM(cipher_init_ex, "EVP_CipherInit_ex")
    SYM(cipher_update, "EVP_CipherUpdate")
    SYM(cipher_final_ex, "EVP_CipherFinal_ex")
    SYM(ctx_ctrl, "EVP_CIPHER_CTX_ctrl")
    SYM(version, "OpenSSL_version")
#undef SYM
    ossl.loaded = ossl.chacha20_poly1305() != NULL;
}

int murmur_ossl_available(void) {
    pthread_once(&once, load);
    return ossl.loaded;
}

const char *murmur_ossl_version(void) {
    return murmur_ossl_available() ? ossl.version(0) : "";
}

void *murmur_ossl_chacha_new(const uint8_t *key, int encrypt) {
    if (!murmur_ossl_available()) return NULL;
    EVP_CIPHER_CTX *ctx = ossl.ctx_new();
    if (!ctx) return NULL;
    if (ossl.cipher_init_ex(ctx, ossl.chacha20_poly1305(), NULL, key, NULL, encrypt ? 1 : 0) != 1) {
        ossl.ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

void murmur_ossl_chacha_free(void *ctx) {
    if (ctx) ossl.ctx_free((EVP_CIPHER_CTX *)ctx);
}

// Feeds the associated data, then the message, in chunks OpenSSL's int lengths can carry.
static int update(EVP_CIPHER_CTX *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out) {
    int n = 0;
    while (aad_len > 0) {
        int chunk = aad_len > INT_MAX ? INT_MAX : (int)aad_len;
        if (ossl.cipher_update(ctx, NULL, &n, aad, chunk) != 1) return 0;
        aad += chunk; aad_len -= (size_t)chunk;
    }
    while (len > 0) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        if (ossl.cipher_update(ctx, out, &n, in, chunk) != 1 || n != chunk) return 0;
        in += chunk; out += chunk; len -= (size_t)chunk;
    }
    return 1;
}

int murmur_ossl_chacha_seal(void *c, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                            const uint8_t *in, size_t len, uint8_t *out) {
    EVP_CIPHER_CTX *ctx = (EVP_CIPHER_CTX *)c;
    int n = 0;
    if (ossl.cipher_init_ex(ctx, NULL, NULL, NULL, nonce, 1) != 1) return 0;
    if (!update(ctx, aad, aad_len, in, len, out)) return 0;
    if (ossl.cipher_final_ex(ctx, out + len, &n) != 1) return 0;
    return ossl.ctx_ctrl(ctx, CTRL_AEAD_GET_TAG, TAG_LEN, out + len) == 1;
}

int murmur_ossl_chacha_open(void *c, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                            const uint8_t *in, size_t len, uint8_t *out) {
    EVP_CIPHER_CTX *ctx = (EVP_CIPHER_CTX *)c;
    uint8_t tag[TAG_LEN];
    int n = 0;
    for (int i = 0; i < TAG_LEN; i++) tag[i] = in[len + (size_t)i];  // SET_TAG wants a mutable buffer
    if (ossl.cipher_init_ex(ctx, NULL, NULL, NULL, nonce, 0) != 1) return 0;
    if (ossl.ctx_ctrl(ctx, CTRL_AEAD_SET_TAG, TAG_LEN, tag) != 1) return 0;
    if (!update(ctx, aad, aad_len, in, len, out)) return 0;
    return ossl.cipher_final_ex(ctx, out + len, &n) == 1;
}

int murmur_ossl_chacha_begin(void *c, const uint8_t *nonce, const uint8_t *tag) {
    EVP_CIPHER_CTX *ctx = (EVP_CIPHER_CTX *)c;
    if (ossl.cipher_init_ex(ctx, NULL, NULL, NULL, nonce, -1) != 1) return 0;
    if (!tag) return 1;
    uint8_t copy[TAG_LEN];  // SET_TAG wants a mutable buffer
    for (int i = 0; i < TAG_LEN; i++) copy[i] = tag[i];
    return ossl.ctx_ctrl(ctx, CTRL_AEAD_SET_TAG, TAG_LEN, copy) == 1;
}

int murmur_ossl_chacha_update(void *c, const uint8_t *in, size_t len, uint8_t *out) {
    return update((EVP_CIPHER_CTX *)c, NULL, 0, in, len, out);
}

int murmur_ossl_chacha_seal_final(void *c, uint8_t *tag) {
    EVP_CIPHER_CTX *ctx = (EVP_CIPHER_CTX *)c;
    int n = 0;
    uint8_t none[1];
    if (ossl.cipher_final_ex(ctx, none, &n) != 1) return 0;
    return ossl.ctx_ctrl(ctx, CTRL_AEAD_GET_TAG, TAG_LEN, tag) == 1;
}

int murmur_ossl_chacha_open_final(void *c) {
    int n = 0;
    uint8_t none[1];
    return ossl.cipher_final_ex((EVP_CIPHER_CTX *)c, none, &n) == 1;
}

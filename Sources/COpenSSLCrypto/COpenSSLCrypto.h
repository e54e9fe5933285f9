// OpenSSL's libcrypto EVP interface (Debian/Ubuntu: libssl-dev; macOS: brew install openssl@3 and
// PKG_CONFIG_PATH), used by MurmurP2P's Noise transport to seal and open ChaCha20-Poly1305
// (RFC 8439) straight into and out of NIO buffers. swift-crypto keeps the handshake.
#include <openssl/evp.h>

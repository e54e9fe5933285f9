#ifndef MURMUR_PROOF_H
#define MURMUR_PROOF_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Group-max activation proofs (receipt version 2, docs/verification.md) for a batch: units are
 * split into G = min(groups, width) classes by index mod G; for each of `rows` rows of `width`
 * floats (row r starts at h + r * ld) and each class g, the unit with the largest key — the
 * bits of |x| with the low 8 bits cleared (NaN above every number) — ties to the lower index.
 * Entry g (4 bytes, big endian) is written to out + r * 4G + 4g: width <= 256: the index byte +
 * the top 24 bits of the Float32; wider: 2 index bytes + the top 16 bits. Returns 4G (0 when an
 * argument is <= 0, -1 when G > 256). `kernel`: 0 = portable, 1 = AVX-512F/BW when the CPU has
 * it (checked once per process) and G = 16, width <= 4080; else portable. */
int murmur_groupmax_proof_rows(int kernel, const float *h, int rows, int width, ptrdiff_t ld, int groups, unsigned char *out);

#ifdef __cplusplus
}
#endif
#endif

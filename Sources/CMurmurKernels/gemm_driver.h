/*
 * The BLIS/GotoBLAS five-loop GEMM driver, instantiated once per instruction set.
 * (Goto & van de Geijn, ACM TOMS 34(3) 2008, Fig. 8; Van Zee & van de Geijn, ACM TOMS 41(3)
 * 2015, Fig. 2.) Loops, outermost first:
 *   jc: NC columns of C   (packed B block, KC x NC, lives in L3)
 *   pc: KC of the k range (beta applies on the first pass only; k order is fixed)
 *   ic: MC rows of C      (packed A block, MC x KC, lives in L2)
 *   jr: NR columns        (one B micro-panel, KC x NR, stays in L1)
 *   ir: MR rows           (one register tile, MR x NR accumulators)
 *
 * The including file defines, before including this one:
 *   GEMM_SUFFIX                  name suffix (portable, avx2, avx512)
 *   GEMM_MR, GEMM_NR             register tile
 *   GEMM_MC, GEMM_KC, GEMM_NC    cache blocks (GEMM_MC % GEMM_MR == 0, GEMM_NC % GEMM_NR == 0)
 *   static void gemm_micro_kernel(ptrdiff_t kc, const float *a, const float *b, float *c,
 *                                 ptrdiff_t ldc, float alpha, float beta)
 *       C[MR x NR] <- alpha * sum_p a[p*MR + i] * b[p*NR + j] + beta * C, p = 0, 1, ... kc-1
 *       in that order; beta == 0 must not read C.
 * Optionally GEMM_PACK_A_BLOCK8(rows, p, dst) and GEMM_PACK_B_BLOCK8(cols, p, dst): store 8
 * consecutive k steps of a full micro-panel from its MR row (NR column) pointers, e.g. with
 * in-register transposes (default: scalar loops).
 * The including file wraps the include in a `#pragma clang attribute` that sets the target
 * ISA, so every function here, packing included, is compiled for it.
 */

#define GEMM_CAT2(x, y) x##_##y
#define GEMM_CAT(x, y) GEMM_CAT2(x, y)
#define GEMM_NAME(x) GEMM_CAT(x, GEMM_SUFFIX)

/* Packs op(A)[0..<mc, 0..<kc] (origin `a`) into MR-row micro-panels: dst[ir*kc + p*MR + r]
 * = op(A)[ir + r][p], zero rows past mc so the kernel always runs a full tile. */
static void GEMM_NAME(pack_a)(int trans_a, ptrdiff_t mc, ptrdiff_t kc, const float *restrict a,
                              ptrdiff_t lda, float *restrict dst) {
    for (ptrdiff_t ir = 0; ir < mc; ir += GEMM_MR) {
        const ptrdiff_t mr = MURMUR_MIN(GEMM_MR, mc - ir);
        float *restrict d = dst + ir * kc;
        if (trans_a) {
            /* op(A)[i][p] = a[p*lda + i]: each p is a contiguous run of mr floats. */
            const float *restrict s = a + ir;
            if (mr == GEMM_MR) {
                for (ptrdiff_t p = 0; p < kc; p++)
                    for (int r = 0; r < GEMM_MR; r++) d[p * GEMM_MR + r] = s[p * lda + r];
            } else {
                for (ptrdiff_t p = 0; p < kc; p++)
                    for (int r = 0; r < GEMM_MR; r++) d[p * GEMM_MR + r] = r < mr ? s[p * lda + r] : 0.0f;
            }
        } else {
            /* op(A)[i][p] = a[i*lda + p]: transpose MR rows, 8 columns at a time. */
            const float *rows[GEMM_MR];
            for (int r = 0; r < GEMM_MR; r++) rows[r] = a + (ir + (r < mr ? r : 0)) * lda;
            ptrdiff_t p = 0;
            if (mr == GEMM_MR) {
                for (; p + 8 <= kc; p += 8) {
#if defined(GEMM_PACK_A_BLOCK8)
                    GEMM_PACK_A_BLOCK8(rows, p, d + p * GEMM_MR);
#else
                    for (int q = 0; q < 8; q++)
                        for (int r = 0; r < GEMM_MR; r++) d[(p + q) * GEMM_MR + r] = rows[r][p + q];
#endif
                }
                for (; p < kc; p++)
                    for (int r = 0; r < GEMM_MR; r++) d[p * GEMM_MR + r] = rows[r][p];
            } else {
                for (; p < kc; p++)
                    for (int r = 0; r < GEMM_MR; r++) d[p * GEMM_MR + r] = r < mr ? rows[r][p] : 0.0f;
            }
        }
    }
}

/* Packs op(B)[0..<kc, 0..<nc] (origin `b`) into NR-column micro-panels: dst[jr*kc + p*NR + j]
 * = op(B)[p][jr + j], zero columns past nc. */
static void GEMM_NAME(pack_b)(int trans_b, ptrdiff_t kc, ptrdiff_t nc, const float *restrict b,
                              ptrdiff_t ldb, float *restrict dst) {
    for (ptrdiff_t jr = 0; jr < nc; jr += GEMM_NR) {
        const ptrdiff_t nr = MURMUR_MIN(GEMM_NR, nc - jr);
        float *restrict d = dst + jr * kc;
        if (!trans_b) {
            /* op(B)[p][j] = b[p*ldb + j]: each p is a contiguous run of nr floats. */
            const float *restrict s = b + jr;
            if (nr == GEMM_NR) {
                for (ptrdiff_t p = 0; p < kc; p++)
                    memcpy(d + p * GEMM_NR, s + p * ldb, GEMM_NR * sizeof(float));
            } else {
                for (ptrdiff_t p = 0; p < kc; p++)
                    for (int j = 0; j < GEMM_NR; j++) d[p * GEMM_NR + j] = j < nr ? s[p * ldb + j] : 0.0f;
            }
        } else {
            /* op(B)[p][j] = b[j*ldb + p]: transpose NR rows of B, 8 at a time. */
            const float *cols[GEMM_NR];
            for (int j = 0; j < GEMM_NR; j++) cols[j] = b + (jr + (j < nr ? j : 0)) * ldb;
            ptrdiff_t p = 0;
            if (nr == GEMM_NR) {
                for (; p + 8 <= kc; p += 8) {
#if defined(GEMM_PACK_B_BLOCK8)
                    GEMM_PACK_B_BLOCK8(cols, p, d + p * GEMM_NR);
#else
                    for (int q = 0; q < 8; q++)
                        for (int j = 0; j < GEMM_NR; j++) d[(p + q) * GEMM_NR + j] = cols[j][p + q];
#endif
                }
                for (; p < kc; p++)
                    for (int j = 0; j < GEMM_NR; j++) d[p * GEMM_NR + j] = cols[j][p];
            } else {
                for (; p < kc; p++)
                    for (int j = 0; j < GEMM_NR; j++) d[p * GEMM_NR + j] = j < nr ? cols[j][p] : 0.0f;
            }
        }
    }
}

/* C[mc x nc] (+)= alpha * Ap * Bp over one packed A block and one packed B block. Edge tiles
 * run the same kernel on a scratch tile, so every element sees identical arithmetic. */
static void GEMM_NAME(macro_kernel)(ptrdiff_t mc, ptrdiff_t nc, ptrdiff_t kc, float alpha,
                                    const float *ap, const float *bp, float beta, float *c,
                                    ptrdiff_t ldc) {
    for (ptrdiff_t jr = 0; jr < nc; jr += GEMM_NR) {
        const ptrdiff_t nr = MURMUR_MIN(GEMM_NR, nc - jr);
        for (ptrdiff_t ir = 0; ir < mc; ir += GEMM_MR) {
            const ptrdiff_t mr = MURMUR_MIN(GEMM_MR, mc - ir);
            float *ct = c + ir * ldc + jr;
            if (mr == GEMM_MR && nr == GEMM_NR) {
                gemm_micro_kernel(kc, ap + ir * kc, bp + jr * kc, ct, ldc, alpha, beta);
            } else {
                _Alignas(64) float tile[GEMM_MR * GEMM_NR];
                if (beta != 0.0f) {
                    for (ptrdiff_t i = 0; i < mr; i++)
                        for (ptrdiff_t j = 0; j < nr; j++) tile[i * GEMM_NR + j] = ct[i * ldc + j];
                }
                gemm_micro_kernel(kc, ap + ir * kc, bp + jr * kc, tile, GEMM_NR, alpha, beta);
                for (ptrdiff_t i = 0; i < mr; i++)
                    for (ptrdiff_t j = 0; j < nr; j++) ct[i * ldc + j] = tile[i * GEMM_NR + j];
            }
        }
    }
}

void GEMM_NAME(murmur_sgemm)(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                             float alpha, const float *a, ptrdiff_t lda, const float *b,
                             ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0.0f) {
        murmur_gemm_scale(m, n, beta, c, ldc);
        return;
    }
    const ptrdiff_t kc_max = MURMUR_MIN((ptrdiff_t)GEMM_KC, k);
    const ptrdiff_t mc_max = MURMUR_MIN((ptrdiff_t)GEMM_MC, (m + GEMM_MR - 1) / GEMM_MR * GEMM_MR);
    const ptrdiff_t nc_max = MURMUR_MIN((ptrdiff_t)GEMM_NC, (n + GEMM_NR - 1) / GEMM_NR * GEMM_NR);
    /* B block first: its size is a multiple of NR floats (64-byte multiple), so A stays aligned. */
    float *bp = murmur_gemm_workspace((size_t)(kc_max * nc_max + kc_max * mc_max));
    if (bp == NULL) {
        murmur_sgemm_naive(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    float *ap = bp + kc_max * nc_max;

    for (ptrdiff_t jc = 0; jc < n; jc += GEMM_NC) {
        const ptrdiff_t nc = MURMUR_MIN((ptrdiff_t)GEMM_NC, n - jc);
        for (ptrdiff_t pc = 0; pc < k; pc += GEMM_KC) {
            const ptrdiff_t kc = MURMUR_MIN((ptrdiff_t)GEMM_KC, k - pc);
            const float *bsrc = trans_b ? b + jc * ldb + pc : b + pc * ldb + jc;
            GEMM_NAME(pack_b)(trans_b, kc, nc, bsrc, ldb, bp);
            const float beta_pass = pc == 0 ? beta : 1.0f;
            for (ptrdiff_t ic = 0; ic < m; ic += GEMM_MC) {
                const ptrdiff_t mc = MURMUR_MIN((ptrdiff_t)GEMM_MC, m - ic);
                const float *asrc = trans_a ? a + pc * lda + ic : a + ic * lda + pc;
                GEMM_NAME(pack_a)(trans_a, mc, kc, asrc, lda, ap);
                GEMM_NAME(macro_kernel)(mc, nc, kc, alpha, ap, bp, beta_pass, c + ic * ldc + jc, ldc);
            }
        }
    }
}

#undef GEMM_NAME
#undef GEMM_CAT
#undef GEMM_CAT2

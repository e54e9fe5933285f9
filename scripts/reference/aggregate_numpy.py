#!/usr/bin/env python3
"""NumPy robust aggregation timings, the reference for `murmur bench aggregate`.

Prints ONE JSON object: {"krum": s, "multi-krum": s, "median": s, "trimmed-mean": s, "n": n, "d": d,
"threads": T, "numpy": version} with the best (fastest) wall time in seconds of each aggregation of
an n×d float32 update matrix over --repeats runs (after one untimed warm-up).
The implementations are the vectorized ones a careful NumPy user writes:
  Krum/Multi-Krum (Blanchard et al. 2017): squared distances from one Gram matrix
      (‖a‖² + ‖b‖² − 2·X·Xᵀ, OpenBLAS sgemm), scores = sum of the n − f − 2 smallest per row
      via np.partition; Krum returns the best row, Multi-Krum the mean of the n − f best.
  median: np.median(X, axis=0) (introselect per column).
  trimmed mean (β): np.partition(X, [b, n − b − 1], axis=0)[b:n − b].mean(axis=0), b = ⌈β·n⌉.
"""
import argparse
import json
import math
import os
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="clients (rows)")
    parser.add_argument("--d", type=int, default=100_000, help="parameters (columns)")
    parser.add_argument("--f", type=int, default=100, help="Byzantine updates assumed by Krum")
    parser.add_argument("--beta", type=float, default=0.1, help="trimmed fraction per end")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads")
    args = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    n, d, f = args.n, args.d, args.f
    x = np.random.default_rng(7).standard_normal((n, d), dtype=np.float32)

    def krum_scores(x):
        sq = np.einsum("ij,ij->i", x, x)
        g = x @ x.T
        dist = sq[:, None] + sq[None, :] - 2 * g
        np.maximum(dist, 0, out=dist)
        np.fill_diagonal(dist, np.inf)
        k = n - f - 2
        return np.partition(dist, k - 1, axis=1)[:, :k].sum(axis=1)

    def krum(x):
        return x[int(np.argmin(krum_scores(x)))].copy()

    def multi_krum(x):
        best = np.argsort(krum_scores(x), kind="stable")[: n - f]
        return x[best].mean(axis=0)

    def median(x):
        return np.median(x, axis=0)

    b = min((n - 1) // 2, math.ceil(args.beta * n))

    def trimmed_mean(x):
        if b == 0:
            return x.mean(axis=0)
        return np.partition(x, [b, n - b - 1], axis=0)[b : n - b].mean(axis=0)

    result = {"n": n, "d": d, "f": f, "beta": args.beta, "threads": args.threads, "numpy": np.__version__}
    for name, fn in (("krum", krum), ("multi-krum", multi_krum), ("median", median), ("trimmed-mean", trimmed_mean)):
        fn(x)  # warm-up
        best = float("inf")
        for _ in range(args.repeats):
            t = time.perf_counter()
            fn(x)
            best = min(best, time.perf_counter() - t)
        result[name] = best
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

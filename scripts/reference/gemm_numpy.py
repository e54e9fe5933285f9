#!/usr/bin/env python3
"""NumPy (OpenBLAS) float32 matmul throughput, the reference for Murmur's GEMM.

Prints ONE JSON object: {"256": gflops, "512": gflops, "1024": gflops, "threads": T, "numpy": version}
for square n×n×n products at the BLAS thread count given by --threads (default 1).
Method matches GEMMBenchmark.gflops in MurmurTensor: one warm-up call, then repeats until
--seconds have passed, reporting the best (fastest) repeat as 2·n³ / seconds / 1e9.
See docs/gemm.md.
"""
import argparse
import json
import os
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (sets OPENBLAS_NUM_THREADS, OMP_NUM_THREADS)")
    parser.add_argument("--sizes", type=str, default="256,512,1024", help="comma-separated square sizes")
    parser.add_argument("--seconds", "--min-seconds", dest="seconds", type=float, default=1.0,
                        help="minimum timed seconds per size")
    args = parser.parse_args()
    if args.threads < 1:
        parser.error("--threads must be at least 1")

    # Must happen before numpy (and so OpenBLAS) is imported: OpenBLAS reads these once at load.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    rng = np.random.default_rng(20240601)
    result = {}
    for n in (int(s) for s in args.sizes.split(",")):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        c = np.empty((n, n), dtype=np.float32)
        np.matmul(a, b, out=c)  # warm-up: thread pool start, page faults
        best = float("inf")
        total = 0.0
        reps = 0
        while total < args.seconds or reps < 3:
            t0 = time.perf_counter()
            np.matmul(a, b, out=c)
            dt = time.perf_counter() - t0
            best = min(best, dt)
            total += dt
            reps += 1
        result[str(n)] = round(2.0 * n ** 3 / best / 1e9, 2)
    result["threads"] = args.threads
    result["numpy"] = np.__version__
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

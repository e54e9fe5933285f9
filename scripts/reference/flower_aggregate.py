#!/usr/bin/env python3
"""Flower's own robust aggregation timings, a second reference for `murmur bench aggregate --flower`.

Prints ONE JSON object: {"krum": s, "multi-krum": s, "median": s, "trimmed-mean": s, "n": n, "d": d,
"flwr": version, ...} with the best wall time in seconds of each call over --repeats runs.
The calls are flwr's server-side functions from the installed (pinned) package, unchanged:
  krum:         flwr.server.strategy.aggregate.aggregate_krum(results, num_malicious=f, to_keep=0)
  multi-krum:   the same with to_keep = n − f (the average of the n − f best-scored updates)
  median:       flwr.server.strategy.aggregate.aggregate_median(results)
  trimmed-mean: flwr.server.strategy.aggregate.aggregate_trimmed_avg(results, proportiontocut=β)
`results` is what a Flower strategy passes them: one (NDArrays, num_examples) pair per client, here
one float32 layer of d parameters each. Flower's Krum computes its distance matrix pair by pair
(n² NumPy subtractions and norms), so each Krum call takes tens of seconds at n = 1,000, d = 10⁵;
the Krum variants run --krum-repeats times (default 1) without a warm-up, the others --repeats
times after one warm-up. Bulyan is left out: flwr's aggregate_bulyan re-runs that Krum once per
selected update (n − 2f times), hours at this size.
"""
import argparse
import json
import os
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="clients")
    parser.add_argument("--d", type=int, default=100_000, help="parameters per client")
    parser.add_argument("--f", type=int, default=100, help="Byzantine updates assumed by Krum")
    parser.add_argument("--beta", type=float, default=0.1, help="trimmed fraction per end")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--krum-repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads")
    parser.add_argument("--only", default="", help="comma-separated subset of krum,multi-krum,median,trimmed-mean")
    args = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    import flwr
    from flwr.server.strategy import aggregate as fa

    n, d, f = args.n, args.d, args.f
    x = np.random.default_rng(7).standard_normal((n, d), dtype=np.float32)
    results = [([x[i]], 1) for i in range(n)]

    calls = {
        "krum": (lambda: fa.aggregate_krum(results, num_malicious=f, to_keep=0), args.krum_repeats, False),
        "multi-krum": (lambda: fa.aggregate_krum(results, num_malicious=f, to_keep=n - f), args.krum_repeats, False),
        "median": (lambda: fa.aggregate_median(results), args.repeats, True),
        "trimmed-mean": (lambda: fa.aggregate_trimmed_avg(results, proportiontocut=args.beta), args.repeats, True),
    }
    wanted = [name for name in args.only.split(",") if name] or list(calls)
    result = {"n": n, "d": d, "f": f, "beta": args.beta, "threads": args.threads,
              "numpy": np.__version__, "flwr": flwr.__version__ if hasattr(flwr, "__version__") else "unknown"}
    for name in wanted:
        if name not in calls:
            print(f"unknown aggregator {name!r}", file=sys.stderr)
            return 2
        fn, repeats, warm = calls[name]
        print(f"flower {name}…", file=sys.stderr, flush=True)
        if warm:
            fn()
        best = float("inf")
        for _ in range(max(1, repeats)):
            t = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t)
        result[name] = best
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

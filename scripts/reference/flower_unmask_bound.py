#!/usr/bin/env python3
"""Reference for `murmur bench secagg --flower-bound`: a measured lower bound on the server time of
Flower 1.42's SecAgg+ round, without running its clients.

Why
    At 30 % dropout with n ≥ 500 or at d = 10⁶ with dropouts, Flower's clients alone need
    680–34,000 CPU s, so its full round (scripts/reference/flower_secagg.py) cannot be run here.
    Its server's last stage (unmasking) does a fixed amount of work that depends only on n, d,
    the dropped count, the graph degree and the threshold; timing that work call by call with
    Flower's own functions and multiplying by the exact call counts bounds the server from below.

What is counted (flwr 1.42, flwr/server/workflow/secure_aggregation/secaggplus_workflow.py,
`unmask_stage`), and nothing else:
    * lines 605–611: for every sampled node (survivor or dropped after sharing keys) one
      `combine_shares(share_list)`, where the workflow aborts unless len(share_list) ≥ t (606);
      timed here on exactly t real shares made by flwr's own `create_shares` (Shamir.combine is
      Lagrange interpolation over all the shares given, so more shares cost more: t is the
      minimum). Survivors' secrets are the 32-byte self-mask seeds, dropped clients' the PEM
      (PKCS8) SECP384R1 private keys `private_key_to_bytes` makes (secaggplus_mod.py 336–340);
    * lines 612–617: per survivor one `pseudo_rand_gen(secret, mod_range, shapes)` and one
      `parameters_subtraction`;
    * lines 619–638: per dropped client, for every neighbour in Flower's graph except itself
      (`neighbours.remove(nid)` then an unconditional loop), one
      `generate_shared_key(bytes_to_private_key(secret), bytes_to_public_key(pk))`, one
      `pseudo_rand_gen` and one `parameters_addition` or `parameters_subtraction`.
    The neighbour count is Flower's, from its own rules (lines 310–345: num_shares from the
    workflow's argument, +1 if even, a ring of num_shares nodes around each node), for the
    num_shares that flower_secagg.py passes (k + 1, or 1.0 = everyone when k ≥ n). Shapes are
    [(1,), (d,)] int64 (the weight factor then the vector, secaggplus_mod.py 463–468).

    Not counted (so the bound is conservative): the first three stages (about 1 % of Flower's
    server time in every measured round), building the share lists and requests (lines 555–600),
    the dequantization and FedAvg aggregate at the end (639–677), every RecordDict
    (de)serialisation, and Python overhead between the timed calls.

How it is timed
    Process CPU time (`time.process_time`, all threads: combine_shares uses a thread pool), each
    call timed alone, the minimum of --repeats repeats per call kind, on inputs of the real
    shapes and sizes, sampled in interleaved rounds (at least 2, at most --repeats samples per
    call kind). flower_server_seconds_at_least = Σ count × min time.

Output: one JSON object on stdout.

Usage: flower_unmask_bound.py --clients N --dimension D --dropout P --shares K --threshold T
                              [--repeats R] [--sample-seconds S]
"""

import argparse
import json
import os
import sys
import time


def flower_neighbour_count(n: int, k: int) -> tuple[int, int]:
    """(num_shares, neighbours other than itself) as SecAggPlusWorkflow derives them for the
    argument flower_secagg.py passes: num_shares = 1.0 (a float: round(1.0 × n)) when k ≥ n,
    else the int k + 1 (secaggplus_workflow.py 310–345)."""
    if k >= n:
        num_shares = round(1.0 * n)
        if num_shares < n and num_shares & 1 == 0:
            num_shares += 1
        if num_shares <= 2:
            num_shares = n
    else:
        num_shares = k + 1
    if n != num_shares and num_shares & 1 == 0:
        num_shares += 1
    half = num_shares >> 1
    ring = {(offset) % n for offset in range(-half, half + 1)}  # node 0's neighbourhood, itself included
    return num_shares, len(ring) - 1


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--dimension", type=int, required=True)
    p.add_argument("--dropout", type=float, required=True)
    p.add_argument("--shares", type=int, required=True, help="k, as passed to flower_secagg.py")
    p.add_argument("--threshold", type=int, required=True, help="t")
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--sample-seconds", type=float, default=5.0,
                   help="stop sampling a call kind after 2 samples once its samples total this many CPU seconds")
    a = p.parse_args()

    real_stdout = sys.stdout
    sys.stdout = sys.stderr

    import numpy as np
    import flwr
    from flwr.common.secure_aggregation.crypto.shamir import combine_shares, create_shares
    from flwr.common.secure_aggregation.crypto.symmetric_encryption import generate_shared_key
    from flwr.common.secure_aggregation.ndarrays_arithmetic import (
        parameters_addition,
        parameters_subtraction,
    )
    from flwr.common.secure_aggregation.secaggplus_utils import pseudo_rand_gen
    from flwr.supercore.primitives.asymmetric import (
        bytes_to_private_key,
        bytes_to_public_key,
        generate_key_pairs,
        private_key_to_bytes,
        public_key_to_bytes,
    )
    from flwr.server.workflow import SecAggPlusWorkflow

    n, d, t = a.clients, a.dimension, a.threshold
    dropped = int(round(n * a.dropout))  # as flower_secagg.py and SecAggBenchmark choose them
    survivors = n - dropped
    num_shares, neighbours = flower_neighbour_count(n, a.shares)
    import inspect
    mod_range = inspect.signature(SecAggPlusWorkflow.__init__).parameters["modulus_range"].default
    assert mod_range == 4294967296, mod_range
    clock = time.process_time

    calls = {}  # name -> zero-argument function, filled in below

    def sample(names):
        """Min-of-repeats CPU seconds per call kind, sampled in interleaved rounds (so that a burst
        of load on this shared machine hits one round, not all samples of one kind): every kind
        at least twice, and up to --repeats times while its samples total under --sample-seconds
        (the Shamir combines at t ≈ 280 take tens of seconds each)."""
        times = {name: [] for name in names}
        for r in range(a.repeats):
            for name in names:
                if r >= 2 and sum(times[name]) >= a.sample_seconds:
                    continue
                t0 = clock()
                calls[name]()
                times[name].append(clock() - t0)
        return {name: min(v) for name, v in times.items()}, {name: len(v) for name, v in times.items()}

    # Real secrets and real shares, made by flwr's own code.
    sk1, _ = generate_key_pairs()
    sk1_bytes = private_key_to_bytes(sk1)
    _, peer_pk = generate_key_pairs()
    peer_pk_bytes = public_key_to_bytes(peer_pk)
    seed = os.urandom(32)
    seed_shares = create_shares(seed, t, num_shares)[:t]
    sk_shares = create_shares(sk1_bytes, t, num_shares)[:t]
    assert combine_shares(seed_shares) == seed and combine_shares(sk_shares) == sk1_bytes
    shapes = [(1,), (d,)]
    rng = np.random.default_rng(1)
    masked = [rng.integers(0, mod_range, size=s, dtype=np.int64) for s in shapes]
    shared = generate_shared_key(bytes_to_private_key(sk1_bytes), bytes_to_public_key(peer_pk_bytes))
    mask = pseudo_rand_gen(shared, mod_range, shapes)

    calls.update({
        "combine_shares_seed": lambda: combine_shares(seed_shares),
        "combine_shares_secret_key": lambda: combine_shares(sk_shares),
        "key_agreement": lambda: generate_shared_key(
            bytes_to_private_key(sk1_bytes), bytes_to_public_key(peer_pk_bytes)),
        "pseudo_rand_gen": lambda: pseudo_rand_gen(shared, mod_range, shapes),
        "vector_subtract": lambda: parameters_subtraction(masked, mask),
        "vector_add": lambda: parameters_addition(masked, mask),
    })
    needed = ["combine_shares_seed", "pseudo_rand_gen", "vector_subtract", "vector_add"]
    if dropped:
        needed += ["combine_shares_secret_key", "key_agreement"]
    per_call, samples = sample(needed)
    per_call["vector_add_or_subtract"] = min(per_call.pop("vector_subtract"), per_call.pop("vector_add"))
    per_call.setdefault("combine_shares_secret_key", 0.0)
    per_call.setdefault("key_agreement", 0.0)
    pairs = dropped * neighbours
    counts = {
        "combine_shares_seed": survivors,
        "combine_shares_secret_key": dropped,
        "key_agreement": pairs,
        "pseudo_rand_gen": survivors + pairs,
        "vector_add_or_subtract": survivors + pairs,
    }
    breakdown = {name: counts[name] * per_call[name] for name in per_call}
    out = {
        "implementation": "flwr", "flwr_version": flwr.__version__,
        "method": "unmask-stage call counts × min-of-repeats CPU time per call (lower bound)",
        "clients": n, "dimension": d, "dropout": a.dropout, "survivors": survivors, "dropped": dropped,
        "shares": a.shares, "flower_num_shares": num_shares, "flower_neighbours": neighbours, "threshold": t,
        "samples": samples, "per_call_seconds": per_call, "call_counts": counts,
        "seconds_by_call": breakdown,
        "flower_server_seconds_at_least": sum(breakdown.values()),
        "excludes": "stages 1-3, share-list building, dequantization/FedAvg, RecordDict handling, Python overhead between calls",
        "clock": "process CPU time",
    }
    real_stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Reference privacy accounting with Google's dp-accounting (pinned in scripts/requirements-test.txt).

Reads a JSON grid, for Murmur's accountant cross-check (MurmurPrivacyTests/ReferenceGridTests):
  {"points": [{"accountant": "rdp"|"pld", "sampling": "poisson"|"without_replacement"|"full",
               "noise_multiplier": σ, "sampling_rate": q, "steps": T, "delta": δ,
               "dataset_size": n, "sample_size": m}, ...]}
(dataset_size/sample_size only for "without_replacement", where q = m/n) and prints
  {"epsilon": [ε, ...], "seconds": [s, ...]}
with the ε of T-fold composition of the (sub)sampled Gaussian mechanism, from
RdpAccountant() (default orders) or PLDAccountant() (value_discretization_interval 1e-4),
and the wall time each point took. Poisson and full participation use add-or-remove-one
neighbours; sampling without replacement uses replace-one (as dp-accounting requires).

Usage: dp_accounting_ref.py GRID.json   (or '-' for stdin)
"""
import json
import sys
import time

import dp_accounting
from dp_accounting import pld, rdp

NeighborRel = dp_accounting.NeighboringRelation


def epsilon(point):
    sigma = point["noise_multiplier"]
    steps = int(point["steps"])
    sampling = point.get("sampling", "poisson")
    gaussian = dp_accounting.GaussianDpEvent(sigma)
    relation = NeighborRel.ADD_OR_REMOVE_ONE
    if sampling == "poisson":
        event = dp_accounting.PoissonSampledDpEvent(point["sampling_rate"], gaussian)
    elif sampling == "full":
        event = gaussian
    elif sampling == "without_replacement":
        event = dp_accounting.SampledWithoutReplacementDpEvent(
            int(point["dataset_size"]), int(point["sample_size"]), gaussian)
        relation = NeighborRel.REPLACE_ONE
    else:
        raise ValueError(f"unknown sampling {sampling!r}")
    if point.get("accountant", "rdp") == "rdp":
        accountant = rdp.RdpAccountant(neighboring_relation=relation)
    else:
        accountant = pld.PLDAccountant(neighboring_relation=relation)
    accountant.compose(dp_accounting.SelfComposedDpEvent(event, steps))
    return accountant.get_epsilon(point["delta"])


def main():
    source = sys.stdin if sys.argv[1:] in ([], ["-"]) else open(sys.argv[1])
    grid = json.load(source)
    eps, secs = [], []
    for point in grid["points"]:
        start = time.perf_counter()
        eps.append(epsilon(point))
        secs.append(time.perf_counter() - start)
    print(json.dumps({"epsilon": eps, "seconds": secs}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reference for `murmur bench simulate`: Flower 1.42's simulation engine, client updates/s.

What it measures
    Completed client updates per second of a FedAvg federation run by Flower's simulation
    engine (`flwr.simulation.run_simulation`, Ray backend):
        client_updates_per_second = clients * rounds / rounds_seconds
    `rounds_seconds` is timed inside the server app: from `configure_fit` of the first timed
    round to the end of `aggregate_fit` of the last (a FedAvg subclass records
    time.perf_counter()), so Python/Flower/Ray start-up, actor start-up (see the warm-up round
    below) and shutdown are excluded. `driver_cpu_seconds` is the CPU time the driver process
    (server app + Flower's in-process SuperLink and simulation runtime) used in that window. `total_seconds` is the
    wall time of the whole script (imports, Ray start-up, rounds, Ray shutdown).

The federation (same as Murmur's side of the benchmark)
    * N clients (--clients, default 1000), one virtual SuperNode each; client i owns S samples
      (--samples, default 32): 64 float32 features uniform in [0, 1) and integer labels 0..9,
      drawn from numpy's default_rng([seed, i]). The data is regenerated from that seed inside
      the ClientApp on every call (~2k random numbers, negligible) rather than captured in the
      ClientApp, because Flower pickles the ClientApp into the Ray actor for every message.
    * Model: MLP 64 -> 128 (ReLU) -> 10, softmax cross-entropy, in NumPy float32 inside a
      `flwr.client.NumPyClient` (forward and hand-written backward). fit = 1 local epoch of
      minibatch SGD, batch 16, lr 0.05, order shuffled per round (default_rng([seed, i, round]));
      returns the updated weights and num_examples = S. evaluate is trivial and never called.
      Initial global weights: PyTorch-style uniform(+-1/sqrt(fan_in)) from default_rng(seed),
      passed as FedAvg's initial_parameters (no client round-trip to fetch them).
    * Strategy: legacy `flwr.server.strategy.FedAvg`, every client every round
      (fraction_fit=1.0, min_fit_clients = min_available_clients = N, fraction_evaluate=0),
      R rounds (--rounds, default 3). The run fails (exit 1) if any client update fails.

How it is driven
    Legacy compatibility API of flwr 1.42: `ServerApp(server_fn=...)` returning
    `ServerAppComponents(server=Server(...), config=ServerConfig(num_rounds=R))` and
    `ClientApp(client_fn=...)` returning `NumPyClient.to_client()`; both handed to
    `run_simulation(server_app, client_app, num_supernodes=N, backend_config=...)`.

Settings (chosen for Flower's best throughput on this 2-core machine; override with flags)
    * --ray-cpus (default: the CPUs this process may use, 2 here): Ray's `num_cpus` (init_args).
    * --num-cpus-per-client (default 1.0): Ray resources per ClientApp actor, so
      ray_cpus / num_cpus_per_client actors run clients in parallel (2 on 2 cores). Flower's own
      default is 2 CPUs per client (1 actor here), which was clearly slower; 0.5 (4 actors) was
      no better than 1.0 within the noise. The driver process (server app, Flower's in-memory
      SuperLink state and its polling threads) is the bottleneck, not the NumPy training.
    * --server-max-workers (default: min(N, 64)): threads the legacy Server uses to dispatch fit
      messages (`Server.set_max_workers`). Each thread sends one client's message and polls for
      the reply every 0.1 s, so Flower's default (ThreadPoolExecutor's min(32, cpus+4) = 6 here)
      leaves the actors idle (~2.5x slower), while N threads (1000) spend the driver's CPU on
      polling (~1.5x slower than 64). 0 = Flower's default.
    * A warm-up round (--warmup-clients, default 2 per actor) runs before the timed rounds and
      is discarded (the global weights are reset to the initial ones), so actor start-up (a Ray
      worker process importing Flower) is not timed. The timed rounds are Flower rounds 2..R+1.
    * Telemetry (FLWR_TELEMETRY_ENABLED) and Ray usage stats are switched off.

Output
    Exactly one JSON object on stdout (the only thing written there); all Flower/Ray logging goes
    to stderr (fd 1 is pointed at stderr for the duration of the run). Ray is shut down before
    exiting. Needs the reference venv: create .venv-bench with scripts/bench-venv.

Usage: flower_sim.py [--clients N] [--samples S] [--rounds R] [--seed K]
                     [--num-cpus-per-client C] [--ray-cpus K] [--server-max-workers W]
                     [--warmup-clients K] [--verbose]
"""
import time

_T_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

FEATURES, HIDDEN, CLASSES = 64, 128, 10
BATCH, LR = 16, 0.05


def parse_args():
    p = argparse.ArgumentParser(description="Flower simulation-engine reference for `murmur bench simulate`.")
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--samples", type=int, default=32)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--num-cpus-per-client", type=float, default=1.0)
    p.add_argument("--ray-cpus", type=int, default=0, help="Ray num_cpus (0 = CPUs available to this process)")
    p.add_argument("--server-max-workers", type=int, default=-1,
                   help="legacy Server dispatch threads (-1 = min(clients, 64), 0 = Flower's default)")
    p.add_argument("--warmup-clients", type=int, default=-1,
                   help="clients in the untimed warm-up round (-1 = 2 per Ray actor, 0 = none)")
    p.add_argument("--verbose", action="store_true", help="Flower INFO logs and Ray worker logs on stderr")
    a = p.parse_args()
    if a.clients < 1 or a.samples < 1 or a.rounds < 1 or a.num_cpus_per_client <= 0:
        p.error("--clients, --samples, --rounds must be >= 1 and --num-cpus-per-client > 0")
    return a


def make_client_fn(samples, seed):
    """ClientApp factory; the closure holds only small ints (it is pickled per message)."""

    def client_fn(context):
        import numpy as np
        from flwr.client import NumPyClient

        pid = int(context.node_config["partition-id"])

        class MLPClient(NumPyClient):
            def __init__(self):
                rng = np.random.default_rng([seed, pid])
                self.x = rng.random((samples, FEATURES), dtype=np.float32)
                self.y = rng.integers(0, CLASSES, size=samples)

            def get_parameters(self, config):
                raise RuntimeError("initial parameters come from the strategy")

            def fit(self, parameters, config):
                w1, b1, w2, b2 = (np.array(p, dtype=np.float32) for p in parameters)
                lr = np.float32(LR)
                rnd = int(config.get("server_round", 0))
                order = np.random.default_rng([seed, pid, rnd]).permutation(samples)
                total_loss = 0.0
                for start in range(0, samples, BATCH):
                    idx = order[start:start + BATCH]
                    xb, yb, n = self.x[idx], self.y[idx], len(idx)
                    rows = np.arange(n)
                    z1 = xb @ w1 + b1
                    h = np.maximum(z1, np.float32(0))
                    logits = h @ w2 + b2
                    e = np.exp(logits - logits.max(axis=1, keepdims=True))
                    p = e / e.sum(axis=1, keepdims=True)
                    total_loss += float(-np.log(p[rows, yb]).sum())
                    d = p
                    d[rows, yb] -= np.float32(1)
                    d *= np.float32(1.0 / n)
                    gw2 = h.T @ d
                    gb2 = d.sum(axis=0)
                    dh = (d @ w2.T) * (z1 > 0)
                    gw1 = xb.T @ dh
                    gb1 = dh.sum(axis=0)
                    w1 -= lr * gw1
                    b1 -= lr * gb1
                    w2 -= lr * gw2
                    b2 -= lr * gb2
                return [w1, b1, w2, b2], samples, {"loss": total_loss / samples}

            def evaluate(self, parameters, config):
                return 0.0, samples, {}

        return MLPClient().to_client()

    return client_fn


def initial_weights(seed):
    import numpy as np

    rng = np.random.default_rng(seed)

    def u(shape, fan_in):
        b = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-b, b, size=shape).astype(np.float32)

    return [u((FEATURES, HIDDEN), FEATURES), u((HIDDEN,), FEATURES),
            u((HIDDEN, CLASSES), HIDDEN), u((CLASSES,), HIDDEN)]


def main():
    args = parse_args()

    # Everything written to fd 1 (Python prints, Ray's log forwarding, C libraries) goes to
    # stderr until the JSON is printed.
    sys.stdout.flush()
    saved_stdout_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")  # silences a FutureWarning

    try:
        import numpy as np
        import ray
        import flwr
        from flwr.client import ClientApp
        from flwr.common import ndarrays_to_parameters
        from flwr.server import Server, ServerApp, ServerAppComponents, ServerConfig, SimpleClientManager
        from flwr.server.strategy import FedAvg
        from flwr.simulation import run_simulation
    except ImportError as ex:
        sys.stderr.write(f"flower_sim.py: cannot import Flower's simulation stack ({ex}); "
                         "create .venv-bench with scripts/bench-venv and run this script with "
                         ".venv-bench/bin/python\n")
        sys.exit(2)

    import logging

    if not args.verbose:
        logging.getLogger("flwr").setLevel(logging.WARNING)

    n, r = args.clients, args.rounds
    ray_cpus = args.ray_cpus or len(os.sched_getaffinity(0))
    max_workers = min(n, 64) if args.server_max_workers < 0 else (args.server_max_workers or None)
    timing = {"t0": None, "t1": None, "failures": 0, "results": 0, "losses": []}

    parallel = max(1, int(ray_cpus // args.num_cpus_per_client))
    warmup = min(n, 2 * parallel) if args.warmup_clients < 0 else min(n, args.warmup_clients)
    first = 2 if warmup else 1  # Flower's round number of the first timed round
    last = first + r - 1
    initial = ndarrays_to_parameters(initial_weights(args.seed))

    class TimedFedAvg(FedAvg):
        def configure_fit(self, server_round, parameters, client_manager):
            ins = super().configure_fit(server_round, parameters, client_manager)
            if server_round < first:
                # Untimed warm-up round: a few clients, so every Ray actor has started its
                # worker process and imported Flower before the clock starts.
                ins = sorted(ins, key=lambda pair: pair[0].cid)[:warmup]
            elif server_round == first:
                timing["t0"] = time.perf_counter()
                timing["cpu0"] = time.process_time()
            return ins

        def aggregate_fit(self, server_round, results, failures):
            if server_round < first:
                if failures:
                    timing["failures"] += len(failures)
                sys.stderr.write(f"flower_sim.py: warm-up round: {len(results)} updates, "
                                 f"{len(failures)} failures (discarded)\n")
                return initial, {}  # the timed rounds start from the initial weights
            out = super().aggregate_fit(server_round, results, failures)
            timing["results"] += len(results)
            timing["failures"] += len(failures)
            if server_round == last:
                timing["t1"] = time.perf_counter()
                timing["cpu1"] = time.process_time()
            sys.stderr.write(f"flower_sim.py: round {server_round - first + 1}: {len(results)} updates, "
                             f"{len(failures)} failures, {time.perf_counter() - timing['t0']:.2f} s since the "
                             "first timed round began\n")
            return out

    def weighted_loss(metrics):
        total = sum(num for num, _ in metrics)
        loss = sum(num * m["loss"] for num, m in metrics) / max(total, 1)
        timing["losses"].append(loss)
        return {"loss": loss}

    def server_fn(context):
        strategy = TimedFedAvg(
            fraction_fit=1.0, fraction_evaluate=0.0,
            min_fit_clients=n, min_evaluate_clients=0, min_available_clients=n,
            initial_parameters=initial,
            on_fit_config_fn=lambda rnd: {"server_round": rnd - first + 1},
            fit_metrics_aggregation_fn=weighted_loss,
        )
        server = Server(client_manager=SimpleClientManager(), strategy=strategy)
        server.set_max_workers(max_workers)
        return ServerAppComponents(server=server, config=ServerConfig(num_rounds=last))

    backend_config = {
        "init_args": {
            "num_cpus": ray_cpus,
            "include_dashboard": False,
            "logging_level": "INFO" if args.verbose else "WARNING",
            "log_to_driver": True,
        },
        "client_resources": {"num_cpus": args.num_cpus_per_client, "num_gpus": 0.0},
    }

    sys.stderr.write(f"flower_sim.py: flwr {flwr.__version__}, ray {ray.__version__}: {n} clients x {r} rounds, "
                     f"{args.samples} samples each; Ray num_cpus={ray_cpus}, {args.num_cpus_per_client} CPU/client, "
                     f"server max_workers={max_workers or 'Flower default'}, warm-up round of {warmup} clients\n")
    try:
        run_simulation(
            server_app=ServerApp(server_fn=server_fn),
            client_app=ClientApp(client_fn=make_client_fn(args.samples, args.seed)),
            num_supernodes=n,
            backend_config=backend_config,
            verbose_logging=args.verbose,
        )
    finally:
        if ray.is_initialized():
            ray.shutdown()

    total = time.perf_counter() - _T_START
    if timing["t0"] is None or timing["t1"] is None:
        sys.stderr.write("flower_sim.py: the simulation ended before completing its rounds\n")
        sys.exit(1)
    if timing["failures"] or timing["results"] != n * r:
        sys.stderr.write(f"flower_sim.py: {timing['failures']} failed client updates, "
                         f"{timing['results']} of {n * r} succeeded\n")
        sys.exit(1)
    rounds_seconds = timing["t1"] - timing["t0"]
    result = {
        "client_updates_per_second": n * r / rounds_seconds,
        "rounds_seconds": rounds_seconds,
        "total_seconds": total,
        "clients": n,
        "samples_per_client": args.samples,
        "rounds": r,
        "driver_cpu_seconds": timing["cpu1"] - timing["cpu0"],
        "train_loss_per_round": timing["losses"],
        "flwr": flwr.__version__,
        "ray": ray.__version__,
        "numpy": np.__version__,
        "ray_num_cpus": ray_cpus,
        "num_cpus_per_client": args.num_cpus_per_client,
        "parallel_clients": parallel,
        "warmup_clients": warmup,
        "server_max_workers": max_workers or 0,
    }

    sys.stderr.flush()
    sys.__stdout__.flush()
    os.dup2(saved_stdout_fd, 1)
    os.close(saved_stdout_fd)
    sys.stdout = sys.__stdout__
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reference for `murmur bench secagg`: Flower 1.42's SecAgg+, server and client compute.

What it measures (process CPU time, `time.process_time`; wall time is reported too)
    One SecAgg+ round of Flower's own protocol code on n clients with d-dimensional float32
    updates, dropout after the share-keys stage (the costliest case for the server, as on
    Murmur's side):
      * server_seconds: wall time of `flwr.server.workflow.SecAggPlusWorkflow.__call__` (its four
        stages: setup, share keys, collect masked vectors, unmask, plus the legacy FedAvg
        aggregate_fit it ends with) minus the time spent inside the clients and minus the
        in-process "transport" (a deep copy of each delivered message, standing in for
        serialisation; reported as transport_seconds);
      * client_seconds_mean / _max: time of each client's `flwr.client.mod.secaggplus_mod`
        calls summed over the stages (including the trivial fit that returns its vector).

How it is driven
    In-process, without Ray and without the simulation engine's SuperLink: a minimal `Grid`
    whose `send_and_receive` hands every message straight to the client's `ClientApp` (built
    with `mods=[secaggplus_mod]`, each node keeping its own `Context`) and returns the replies.
    This times exactly Flower's workflow and client mod code (cryptography, Shamir sharing,
    masking with numpy, (de)serialisation into RecordDicts) and nothing of the transport, which
    in `run_simulation` would add Ray scheduling and 0.1 s polling per stage and make the
    split between server and client time unmeasurable. Dropped clients stop replying from the
    collect-masked-vectors stage on (they did share their keys).

The protocol settings are Flower's defaults except the graph: num_shares (k) and
reconstruction_threshold (t) are passed in, so both sides use the same k and t.

Output
    One JSON object on stdout; Flower's logging goes to stderr. server_seconds_by_stage splits
    the server time by protocol stage: [work before the first stage, setup, share_keys,
    collect_masked_vectors, unmask (which ends with the FedAvg aggregate)]. With --budget S, a
    round that would need more than S seconds of CPU time (server + clients + transport) is
    stopped (SIGPROF) and reported as {"skipped": "over budget"} together with what is known (a
    SIGTERM stops it the same way, reported as {"skipped": "stopped (SIGTERM)"}):
      * server_seconds_at_least: the server CPU time spent until the stop (elapsed workflow CPU
        time − client time − transport time so far; a client call or copy cut by the stop counts
        as client or transport). Server work only accumulates, so this is a lower bound on the
        server time of the full round;
      * stage / stage_name: how many of the four stages had been sent when it stopped (stage 2
        = share_keys: the clients were sharing keys, or the server was routing their shares);
      * client_seconds_so_far, transport_seconds_so_far, elapsed_seconds, wall_seconds.

Usage: flower_secagg.py --clients N --dimension D --dropout P --shares K --threshold T
                        [--seed S] [--budget SECONDS]
"""

import argparse
import copy
import json
import signal
import sys
import time
from uuid import uuid4


class OverBudget(Exception):
    pass


# SecAggPlusWorkflow's four stages, one Grid.send_and_receive call each, in order.
STAGES = ["setup", "share_keys", "collect_masked_vectors", "unmask"]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--dimension", type=int, default=10000)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--shares", type=int, default=0, help="k (num_shares); 0 = all clients")
    p.add_argument("--threshold", type=int, default=0, help="t; 0 = k/2 + 1")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--budget", type=float, default=0, help="CPU seconds; 0 = no limit")
    a = p.parse_args()

    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # Flower logs go to stderr; only the JSON goes to stdout

    import numpy as np
    from flwr.app import Context, Message, RecordDict
    from flwr.client import ClientApp, NumPyClient
    from flwr.client.mod import secaggplus_mod
    from flwr.common import ndarrays_to_parameters
    from flwr.server import ServerConfig
    from flwr.server.client_manager import SimpleClientManager
    from flwr.server.compat.grid_client_proxy import GridClientProxy
    from flwr.server.compat.legacy_context import LegacyContext
    from flwr.server.strategy import FedAvg
    from flwr.server.workflow import SecAggPlusWorkflow
    from flwr.server.workflow.constant import MAIN_CONFIGS_RECORD, MAIN_PARAMS_RECORD
    from flwr.server.workflow.constant import Key as WorkflowKey
    from flwr.serverapp.grid import Grid
    import flwr.compat.common.recorddict_compat as compat
    from flwr.app import ConfigRecord
    from flwr.supercore.task_identity import TaskIdentity

    TaskIdentity.run_id = 1  # what the SuperLink's runtime sets for a ServerApp process
    TaskIdentity.node_id = 0
    TaskIdentity.task_id = 1

    n, d = a.clients, a.dimension
    # CPU time of this (single-threaded) process: on a shared machine, wall time mostly measures
    # the other jobs; the Murmur side reports wall time, so this favours Flower.
    clock = time.process_time
    rng = np.random.default_rng(a.seed)
    vectors = {nid: rng.uniform(-1, 1, size=d).astype(np.float32) for nid in range(1, n + 1)}
    dropped = set(int(x) for x in rng.choice(np.arange(1, n + 1), size=int(round(n * a.dropout)), replace=False))

    class VectorClient(NumPyClient):
        def __init__(self, nid):
            self.nid = nid

        def fit(self, parameters, config):
            return [vectors[self.nid]], 1, {}

    def client_fn(context: Context):
        return VectorClient(context.node_id).to_client()

    app = ClientApp(client_fn=client_fn, mods=[secaggplus_mod])
    contexts = {nid: Context(run_id=1, node_id=nid, node_config={}, state=RecordDict(), run_config={})
                for nid in range(1, n + 1)}
    client_time = {nid: 0.0 for nid in range(1, n + 1)}
    stage = {"count": 0}
    transport_time = {"total": 0.0}
    # Per send_and_receive call (one per protocol stage): CPU clock when it was entered, and the
    # client and transport time inside it; the rest of the time up to the next call is server work.
    stage_start, stage_client, stage_transport = [], [], []

    def server_by_stage(t_start, t_end):
        """Server CPU seconds per stage: [before the first call] + one entry per call."""
        edges = [t_start] + stage_start + [t_end]
        inside = [0.0] + [c + x for c, x in zip(stage_client, stage_transport)]
        return [round(edges[i + 1] - edges[i] - inside[i], 6) for i in range(len(edges) - 1)]

    class DirectGrid(Grid):
        """Delivers each message to its node's ClientApp at once; times the client side."""

        def set_run(self, run):
            pass

        @property
        def run(self):
            return None

        def create_message(self, content, message_type, dst_node_id, group_id, ttl=None):
            return Message(content, dst_node_id, message_type, ttl=ttl, group_id=group_id)

        def get_node_ids(self):
            return list(range(1, n + 1))

        def push_messages(self, messages):
            raise NotImplementedError

        def pull_messages(self, message_ids):
            raise NotImplementedError

        def send_and_receive(self, messages, *, timeout=None):
            stage["count"] += 1
            stage_start.append(clock())
            stage_client.append(0.0)
            stage_transport.append(0.0)
            replies = []
            for msg in messages:
                nid = msg.metadata.dst_node_id
                if stage["count"] >= 3 and nid in dropped:  # dropped after sharing keys
                    continue
                msg.metadata.__dict__["_message_id"] = str(uuid4())
                msg.metadata.__dict__["_src_node_id"] = 0
                # Each node gets its own copy, as after (de)serialisation on a real transport
                # (the workflow shares one RecordDict between messages and the mod mutates it).
                # try/finally: when the budget expires inside a copy or a client call, the part
                # of it already spent is still booked to transport or client, never to the server.
                t0 = clock()
                try:
                    delivered = copy.deepcopy(msg)
                finally:
                    t1 = clock()
                    transport_time["total"] += t1 - t0
                    stage_transport[-1] += t1 - t0
                try:
                    reply = app(delivered, contexts[nid])
                finally:
                    t2 = clock()
                    client_time[nid] += t2 - t1
                    stage_client[-1] += t2 - t1
                replies.append(reply)
            return replies

    grid = DirectGrid()
    strategy = FedAvg(fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=n, min_available_clients=n)
    manager = SimpleClientManager()
    for nid in range(1, n + 1):
        manager.register(GridClientProxy(nid, grid, 1))
    base = Context(run_id=1, node_id=0, node_config={}, state=RecordDict(), run_config={})
    context = LegacyContext(base, config=ServerConfig(num_rounds=1), strategy=strategy, client_manager=manager)
    context.state.config_records[MAIN_CONFIGS_RECORD] = ConfigRecord({WorkflowKey.CURRENT_ROUND: 1})
    context.state.array_records[MAIN_PARAMS_RECORD] = compat.parameters_to_arrayrecord(
        ndarrays_to_parameters([np.zeros(d, dtype=np.float32)]), True)

    k = a.shares if a.shares > 0 else n
    t = a.threshold if a.threshold > 0 else k // 2 + 1
    if k >= n:
        # Flower's num_shares counts the client itself (k + 1 shares with k neighbours); an int
        # ≥ n is not accepted, 1.0 means "everyone".
        workflow = SecAggPlusWorkflow(num_shares=1.0, reconstruction_threshold=t)
    else:
        workflow = SecAggPlusWorkflow(num_shares=k + 1, reconstruction_threshold=t)

    def alarm(signum, frame):
        raise OverBudget("over budget" if signum == signal.SIGPROF else "stopped (SIGTERM)")

    # SIGTERM (e.g. a wall-clock deadline on a loaded machine) stops the round like the budget.
    # Unblocked first: a parent that spawns from a thread with signals blocked (Foundation's
    # Process, i.e. `murmur bench`) passes its mask on, and SIGTERM would never arrive.
    signal.signal(signal.SIGTERM, alarm)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGPROF})
    if a.budget > 0:
        signal.signal(signal.SIGPROF, alarm)
        signal.setitimer(signal.ITIMER_PROF, a.budget)  # CPU seconds, like the measurement
    out = {"implementation": "flwr", "flwr_version": __import__("flwr").__version__, "clients": n, "dimension": d,
           "dropout": a.dropout, "num_shares": workflow.num_shares, "threshold": t}
    t0, w0 = clock(), time.perf_counter()
    try:
        workflow(grid, context)
        total, wall = clock() - t0, time.perf_counter() - w0
        if a.budget > 0:
            signal.setitimer(signal.ITIMER_PROF, 0)
    except OverBudget as stop:
        elapsed, wall = clock() - t0, time.perf_counter() - w0
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        clients_so_far = sum(client_time.values())
        # Everything in the workflow that is neither inside a client call nor a copy is server
        # work, and the round did not finish: what was spent so far is a lower bound on the
        # server time of the whole round.
        out["skipped"] = str(stop)
        out["budget_seconds"] = a.budget
        out.update({
            "server_seconds_at_least": elapsed - clients_so_far - transport_time["total"],
            "client_seconds_so_far": clients_so_far,
            "transport_seconds_so_far": transport_time["total"],
            "elapsed_seconds": elapsed,
            "wall_seconds": wall,
            "stage": stage["count"],
            "stage_name": STAGES[min(stage["count"], len(STAGES)) - 1] if stage["count"] else "none",
            "server_seconds_by_stage": server_by_stage(t0, t0 + elapsed),
            "clock": "process CPU time",
        })
        real_stdout.write(json.dumps(out) + "\n")
        return 0
    clients_total = sum(client_time.values())
    per = [client_time[nid] for nid in client_time]
    result = context.state.array_records[MAIN_PARAMS_RECORD]
    agg = compat.arrayrecord_to_parameters(result, keep_input=True)
    from flwr.common import parameters_to_ndarrays
    mean = parameters_to_ndarrays(agg)[0]
    survivors = [nid for nid in vectors if nid not in dropped]
    expected = np.mean([vectors[nid] for nid in survivors], axis=0)
    out.update({
        "server_seconds": total - clients_total - transport_time["total"],
        "transport_seconds": transport_time["total"],
        "client_seconds_mean": clients_total / n,
        "client_seconds_max": max(per),
        "total_seconds": total,
        "server_seconds_by_stage": server_by_stage(t0, t0 + total),
        "wall_seconds": wall,
        "clock": "process CPU time",
        "max_abs_error_vs_plain_mean": float(np.max(np.abs(mean - expected))),
    })
    real_stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

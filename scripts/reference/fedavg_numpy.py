#!/usr/bin/env python3
"""Reference FedAvg round in NumPy (float64), for Murmur's cross-check test.

Reads a JSON problem written by the Swift test (MurmurFLTests/FedAvgReferenceTests): the MLP's
parameter layout and initial flat parameters, each client's samples and its exact minibatch order
per epoch, and the local SGD hyper-parameters (PyTorch SGD semantics: g += wd*w; v = mu*v + g;
w -= lr*v; FedProx adds prox_mu*(w - w_global) to g before weight decay). Runs local training on
each client, aggregates with the sample-weighted mean of the deltas (McMahan et al. 2017) and a
server learning rate, and prints {"parameters": [...]} on stdout.

Usage: fedavg_numpy.py PROBLEM.json
"""
import json
import sys

import numpy as np


def unflatten(flat, layout):
    return [flat[s["offset"]:s["offset"] + int(np.prod(s["shape"]))].reshape(s["shape"]) for s in layout]


def flatten(tensors, layout, size):
    out = np.zeros(size)
    for t, s in zip(tensors, layout):
        out[s["offset"]:s["offset"] + t.size] = t.ravel()
    return out


def loss_and_grads(params, x, y, classes):
    """MLP: (W, b) pairs, ReLU between, softmax cross-entropy averaged over the batch."""
    n = x.shape[0]
    acts, pre = [x], []
    h = x
    layers = len(params) // 2
    for i in range(layers):
        w, b = params[2 * i], params[2 * i + 1]
        z = h @ w.T + b
        pre.append(z)
        h = np.maximum(z, 0) if i < layers - 1 else z
        acts.append(h)
    logits = acts[-1]
    m = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - m)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    d = p.copy()
    d[np.arange(n), y] -= 1
    d /= n
    grads = [None] * len(params)
    for i in reversed(range(layers)):
        w = params[2 * i]
        grads[2 * i] = d.T @ acts[i]
        grads[2 * i + 1] = d.sum(axis=0)
        if i > 0:
            d = (d @ w) * (pre[i - 1] > 0)
    return loss, grads


def main():
    prob = json.load(open(sys.argv[1]))
    layout = prob["layout"]
    size = prob["parameter_count"]
    g0 = np.array(prob["initial"], dtype=np.float64)
    lr, mom, wd, prox = prob["lr"], prob["momentum"], prob["weight_decay"], prob["prox_mu"]
    deltas, weights = [], []
    for c in prob["clients"]:
        x = np.array(c["features"], dtype=np.float64).reshape(len(c["labels"]), -1)
        y = np.array(c["labels"], dtype=np.int64)
        w = g0.copy()
        v = np.zeros(size)
        for order in c["epoch_orders"]:
            for start in range(0, len(order), prob["batch_size"]):
                idx = order[start:start + prob["batch_size"]]
                _, grads = loss_and_grads(unflatten(w, layout), x[idx], y[idx], prob["classes"])
                g = flatten(grads, layout, size)
                if prox:
                    g += prox * (w - g0)
                if wd:
                    g += wd * w
                v = mom * v + g if mom else g
                w = w - lr * v
        deltas.append(w - g0)
        weights.append(len(y))
    total = float(sum(weights))
    mean = sum(d * (n / total) for d, n in zip(deltas, weights))
    out = g0 + prob["server_lr"] * mean
    json.dump({"parameters": out.tolist()}, sys.stdout)


if __name__ == "__main__":
    main()

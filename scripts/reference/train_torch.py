#!/usr/bin/env python3
"""PyTorch eager CPU training throughput, the reference for `murmur bench train`.

Trains the same networks Murmur builds (docs/ml.md) on random data of the UCI digits size
(64 features, or [1, 8, 8] images for the CNN; 10 classes), doing exactly what Murmur's
`TrainingBenchmark.samplesPerSecond` does: 2048 samples of N(0, 1) features with uniform labels,
plain SGD (lr 0.01), one untimed warm-up epoch, then whole epochs -- reshuffle, gather each
minibatch, forward, cross-entropy, backward, step -- until at least --seconds have passed.
Prints one JSON object on stdout.

    train_torch.py --model mlp --hidden 128 --batch-size 32 --threads 1 --seconds 2
    train_torch.py --model cnn --channels 16 --hidden 64 --batch-size 32 --threads 2 --seconds 2

torch is imported lazily so that --help works without it; scripts/bench-venv installs it.
"""
import argparse
import json
import sys
import time

SAMPLES = 2048
CLASSES = 10
FEATURES = 64
IMAGE = (1, 8, 8)


def int_list(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"widths must be positive, got {text!r}")
    return values


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=["mlp", "cnn"], required=True)
    p.add_argument("--hidden", type=int_list, default=[128],
                   help="mlp: hidden widths, comma-separated; cnn: one dense width (default 128)")
    p.add_argument("--channels", type=int_list, default=[16], help="cnn: conv channels per block (default 16)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--seconds", type=float, default=2.0, help="minimum measured time (default 2)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.batch_size <= 0 or args.threads <= 0 or args.seconds <= 0:
        p.error("--batch-size, --threads and --seconds must be positive")
    if args.model == "cnn" and len(args.hidden) != 1:
        p.error("--hidden takes a single width for the cnn")
    return args


def import_torch():
    try:
        import torch  # noqa: PLC0415 (lazy on purpose)
    except ImportError:
        sys.exit("train_torch.py needs PyTorch, which is not installed for "
                 f"{sys.executable}.\nRun scripts/bench-venv (it installs the pinned CPU wheel into "
                 ".venv-bench) or `pip install torch`, then retry.")
    return torch


def build_model(torch, model, hidden, channels):
    """The network Murmur builds for the same ModelConfig (docs/ml.md, "Architectures")."""
    nn = torch.nn
    layers = []
    if model == "mlp":
        width = FEATURES
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, CLASSES))
    else:
        c, h, w = IMAGE
        for out in channels:
            if h < 2 or w < 2:
                sys.exit(f"too many conv blocks for a {IMAGE[1]}x{IMAGE[2]} input")
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            c, h, w = out, h // 2, w // 2
        layers += [nn.Flatten(), nn.Linear(c * h * w, hidden[0]), nn.ReLU(), nn.Linear(hidden[0], CLASSES)]
    return nn.Sequential(*layers)


def murmur_names(model):
    """Maps Murmur's tensor names (dense0.weight, conv0.bias, ...) to this model's state_dict
    keys; with it a Murmur safetensors file loads via model.load_state_dict."""
    names, counts = {}, {"dense": 0, "conv": 0}
    for index, layer in enumerate(model):
        kind = {"Linear": "dense", "Conv2d": "conv"}.get(type(layer).__name__)
        if kind:
            for suffix in ("weight", "bias"):
                names[f"{kind}{counts[kind]}.{suffix}"] = f"{index}.{suffix}"
            counts[kind] += 1
    return names


def main(argv):
    args = parse_args(argv)
    torch = import_torch()
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already fixed for this process
    torch.manual_seed(args.seed)
    shape = (SAMPLES, FEATURES) if args.model == "mlp" else (SAMPLES, *IMAGE)
    x = torch.randn(*shape)
    y = torch.randint(0, CLASSES, (SAMPLES,))
    model = build_model(torch, args.model, args.hidden, args.channels)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed + 1)

    def epoch():
        order = torch.randperm(SAMPLES, generator=generator)
        steps = 0
        for start in range(0, SAMPLES, args.batch_size):
            index = order[start:start + args.batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[index]), y[index])
            loss.backward()
            optimizer.step()
            steps += 1
        return steps

    epoch()  # warm-up: allocator, kernels, autograd graph caches
    samples = steps = 0
    start = time.perf_counter()
    while True:
        steps += epoch()
        samples += SAMPLES
        elapsed = time.perf_counter() - start
        if elapsed >= args.seconds:
            break
    print(json.dumps({
        "framework": "pytorch-eager-cpu",
        "torch_version": torch.__version__,
        "model": args.model,
        "hidden": args.hidden,
        "channels": args.channels if args.model == "cnn" else [],
        "batch_size": args.batch_size,
        "threads": args.threads,
        "samples": samples,
        "steps": steps,
        "seconds": elapsed,
        "samples_per_second": samples / elapsed,
        "parameters": sum(p.numel() for p in model.parameters()),
    }, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])

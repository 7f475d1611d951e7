"""Actors vs the numpy reference on a 100-100-100 network (relu, identity).

Run: ``python benchmarks/bench_engine.py [--samples N] [--repeat R]``

Prints time per sample, messages per second and the ratio actors/numpy for
online training and for one batch of 1024, all measured in one run: actors
and numpy alternate `--repeat` times after a warm-up, and both the best and
the median run are shown, so that the ratios are comparable on a noisy
machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import neurosim
from neurosim import reference

SIZES = [100, 100, 100]
ACTIVATION = ["relu", "identity"]


def layer_matrices(G):
    names = neurosim.graph.layered_names(SIZES)
    Ws = [
        np.array([[G.edges[u, v]["weight"] for v in names[k + 1]] for u in names[k]])
        for k in range(len(SIZES) - 1)
    ]
    bs = [
        np.array([G.nodes[v]["bias"] for v in names[k + 1]])
        for k in range(len(SIZES) - 1)
    ]
    return Ws, bs


def timings(first, second, repeat):
    """Time `first` and `second` alternately, `repeat` times each.

    Alternating makes both see the same load on a shared machine; the best
    run is the least disturbed one (what ``timeit`` reports).
    """
    a, b = [], []
    for _ in range(repeat):
        for fn, times in ((first, a), (second, b)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return a, b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--samples", type=int, default=40, help="online samples per run"
    )
    parser.add_argument("--batch", type=int, default=1024, help="mini-batch size")
    parser.add_argument("--repeat", type=int, default=7, help="runs per measurement")
    args = parser.parse_args()

    G = neurosim.layered(SIZES, activation=ACTIVATION, seed=0)
    topology = neurosim.validate(G)
    inputs = set(topology.inputs)
    messages = len(topology.weights) + sum(u not in inputs for u, _ in topology.weights)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.batch, SIZES[0]))
    Z = rng.standard_normal((args.batch, SIZES[-1]))
    Ws, bs = layer_matrices(G)
    lr = 0.001

    def actors(n, batch_size):
        net = neurosim.Network(G)
        return lambda: net.train(X[:n], Z[:n], learning_rate=lr, batch_size=batch_size)

    def numpy_ref(n, batch_size):
        return lambda: reference.train_layered(
            Ws, bs, ACTIVATION, X[:n], Z[:n], learning_rate=lr, batch_size=batch_size
        )

    actors(4, 1)()  # warm-up: imports, allocator
    numpy_ref(4, 1)()
    print(
        f"network {'-'.join(map(str, SIZES))} ({' / '.join(ACTIVATION)}), "
        f"{messages} messages per iteration (forward + backward)"
    )
    print(
        f"{'mode':<11}{'':>7}{'actors/sample':>15}{'numpy/sample':>15}{'ratio':>8}"
        f"{'messages/s':>13}"
    )
    for mode, n, batch_size in (
        ("online", args.samples, 1),
        (f"batch {args.batch}", args.batch, args.batch),
    ):
        a, b = timings(actors(n, batch_size), numpy_ref(n, batch_size), args.repeat)
        iterations = -(-n // batch_size)
        for stat, pick in (("best", min), ("median", statistics.median)):
            t_actors, t_numpy = pick(a), pick(b)
            rate = messages * iterations / t_actors
            ratio = t_actors / t_numpy
            print(
                f"{mode:<11}{stat:>7}{t_actors / n * 1e6:>12.1f} µs"
                f"{t_numpy / n * 1e6:>12.1f} µs{ratio:>7.0f}×{rate:>13,.0f}"
            )
    print("(per-call times include starting the tasks; see --help)")


if __name__ == "__main__":
    main()

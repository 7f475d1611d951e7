"""How the engine scales: networks from 1,000 to 100,000 neurons.

Run: ``python benchmarks/bench_scale.py [--largest N] [--figure PATH]``

Two families of networks, each at several sizes:

- *layered*: ``L`` layers of 1,000 neurons (tanh), each neuron fed by 10
  random neurons of the layer before (about 10 connections per neuron);
- *sparse*: a random DAG of ``n`` neurons, each fed by 10 random earlier
  neurons among the 2,000 before it (skip connections of every length).

For each network, in a fresh process (so that the peak memory is its own):
``Network(G)``; the first online step (it also wires the network for the
rule); a second online step; one batch of 32; the peak resident memory; and
messages per second in the second online step. BLAS is pinned to one thread.
Prints a table and draws a log-log figure (``--figure``, by default
``docs/figures/scale/scale.png``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREADS = {
    name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
}
WIDTH, FAN_IN, WINDOW = 1000, 10, 2000


def build(family: str, n: int, seed: int = 0):
    """The network of `family` with about `n` neurons, its inputs and outputs."""
    import networkx as nx
    import numpy as np

    rng = np.random.default_rng(seed)
    G = nx.DiGraph()
    if family == "layered":
        layers = max(2, n // WIDTH)
        names = [[f"n{k}_{j}" for j in range(WIDTH)] for k in range(layers)]
        G.add_nodes_from(names[0])
        for k in range(1, layers):
            G.add_nodes_from(names[k], activation="tanh", bias=0.0)
            src = rng.integers(0, WIDTH, size=(WIDTH, FAN_IN))
            w = rng.uniform(-1, 1, size=(WIDTH, FAN_IN)) / np.sqrt(FAN_IN)
            for j, v in enumerate(names[k]):
                chosen, first = np.unique(src[j], return_index=True)
                G.add_edges_from(
                    (names[k - 1][i], v, {"weight": float(w[j, f])})
                    for i, f in zip(chosen.tolist(), first.tolist(), strict=True)
                )
            used = {u for u, _ in G.in_edges(names[k])}
            G.add_edges_from(  # every neuron reaches the next layer
                (u, names[k][rng.integers(WIDTH)], {"weight": 0.1})
                for u in names[k - 1]
                if u not in used
            )
        return G, names[0], names[-1]
    n_in = 100
    G.add_nodes_from(range(n_in))
    G.add_nodes_from(range(n_in, n), activation="tanh", bias=0.0)
    for v in range(n_in, n):
        low = max(0, v - WINDOW)
        for u in set(rng.integers(low, v, size=FAN_IN).tolist()):
            G.add_edge(u, v, weight=float(rng.uniform(-1, 1)) / np.sqrt(FAN_IN))
    for u in range(n - 1):  # every node reaches a later one: a few sinks only
        if G.out_degree(u) == 0 and u < n - 100:
            G.add_edge(u, int(rng.integers(u + 1, min(n, u + WINDOW))), weight=0.1)
    outputs = [v for v in G.nodes if G.out_degree(v) == 0]
    return G, list(range(n_in)), outputs


def worker(family: str, n: int) -> None:
    import numpy as np

    import neurosim

    G, inputs, outputs = build(family, n)
    start = time.perf_counter()
    net = neurosim.Network(G, inputs=inputs, outputs=outputs)
    built = time.perf_counter() - start
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, len(inputs)))
    Z = rng.standard_normal((32, len(outputs)))
    times = {}
    for name, rows, batch in (("first", 1, 1), ("online", 1, 1), ("batch32", 32, 32)):
        start = time.perf_counter()
        net.train(X[:rows], Z[:rows], learning_rate=0.01, batch_size=batch)
        times[name] = time.perf_counter() - start
    topology = net.topology
    inputs_set = set(topology.inputs)
    messages = len(topology.weights) + sum(
        u not in inputs_set for u, _ in topology.weights
    )
    print(
        json.dumps(
            {
                "family": family,
                "neurons": len(topology.neurons),
                "connections": len(topology.weights),
                "messages": messages,
                "build": built,
                **times,
                "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--largest", type=int, default=100_000, help="neurons")
    parser.add_argument(
        "--figure", default=str(ROOT / "docs" / "figures" / "scale" / "scale.png")
    )
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
        return
    sizes = [s for s in (1_000, 3_000, 10_000, 30_000, 100_000) if s <= args.largest]
    rows = []
    env = {**os.environ, **THREADS, "PYTHONPATH": str(ROOT)}
    print(
        f"{'network':<9}{'neurons':>9}{'connections':>13}{'Network(G)':>12}"
        f"{'1st step':>10}{'step':>9}{'batch 32':>10}{'peak MiB':>10}{'messages/s':>12}"
    )
    for family in ("layered", "sparse"):
        for n in sizes:
            out = subprocess.run(
                [sys.executable, __file__, "--worker", family, str(n)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(
                f"{family:<9}{row['neurons']:>9,}{row['connections']:>13,}"
                f"{row['build']:>11.2f}s{row['first']:>9.2f}s{row['online']:>8.2f}s"
                f"{row['batch32']:>9.2f}s{row['peak_mib']:>10,.0f}"
                f"{row['messages'] / row['online']:>12,.0f}",
                flush=True,
            )
    if args.json:
        from neurosim._files import atomic_write

        with atomic_write(args.json) as file:
            file.write(json.dumps(rows, indent=1).encode())
    figure(rows, Path(args.figure))
    print(f"wrote {args.figure}")


def figure(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_time, ax_memory) = plt.subplots(1, 2, figsize=(10, 4.2))
    measures = [
        ("build", "Network(G)", "o"),
        ("online", "one online step", "s"),
        ("batch32", "one batch of 32", "^"),
    ]
    colors = {"layered": "#0072B2", "sparse": "#D55E00"}
    for family, color in colors.items():
        mine = [r for r in rows if r["family"] == family]
        x = [r["connections"] for r in mine]
        for key, label, marker in measures:
            ax_time.plot(
                x,
                [r[key] for r in mine],
                marker=marker,
                color=color,
                label=f"{label}, {family}",
                linestyle="-" if family == "layered" else "--",
            )
        ax_memory.plot(
            x, [r["peak_mib"] for r in mine], marker="o", color=color, label=family
        )
    for ax in (ax_time, ax_memory):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("connections")
        ax.grid(True, which="both", alpha=0.3)
    ax_time.set_ylabel("seconds")
    ax_time.set_title("time (fresh network, BLAS on one thread)")
    ax_time.legend(fontsize=7, ncol=2, loc="lower right")
    ax_memory.set_ylabel("peak resident memory (MiB)")
    ax_memory.set_title("memory of the whole process")
    ax_memory.axhline(2.5 * 1024, color="grey", linestyle=":", label="2.5 GiB")
    ax_memory.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    from neurosim._files import save_figure

    save_figure(fig, path, dpi=120)


if __name__ == "__main__":
    main()

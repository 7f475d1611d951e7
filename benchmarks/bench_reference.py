"""``neurosim.reference.train`` of this checkout against a baseline revision.

Run: ``python benchmarks/bench_reference.py [--baseline REV] [--rounds R]
[--runs N]``

Cases: a 100-100-100 network (relu, identity) trained online on 40 samples;
a 2,000-neuron sparse DAG (200 inputs, then 9 layers of 200 tanh neurons fed
by 8 random nodes of the layer before, plus 200 skip connections; identity
outputs) trained online on 5 samples, and on one batch of 64. The baseline
(default ``c405a7e``, the reference before the event loop) is checked out
into a temporary worktree, removed at the end. Every measurement runs in a
fresh process with BLAS pinned to one thread, the two checkouts alternating
``--rounds`` times; a call's time includes reading the graph. The graphs are
built here, with numpy and networkx only, so that both checkouts train the
same ones.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREADS = {
    name: "1"
    for name in (
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
    )
}
# label: (graph, samples, batch size)
CASES = {
    "100-100-100, online, 40 samples": ("layered", 40, 1),
    "2,000-neuron DAG, online, 5 samples": ("dag", 5, 1),
    "2,000-neuron DAG, batch of 64": ("dag", 64, 64),
}


def layered_graph():
    """100-100-100, fully connected, relu then identity."""
    import networkx as nx
    import numpy as np

    rng = np.random.default_rng(0)
    sizes, activations = [100, 100, 100], ["relu", "identity"]
    names = [[f"l{k}_{i}" for i in range(n)] for k, n in enumerate(sizes)]
    G = nx.DiGraph()
    G.add_nodes_from(names[0])
    for k in range(1, len(sizes)):
        G.add_nodes_from(names[k], activation=activations[k - 1])
        for v in names[k]:
            G.nodes[v]["bias"] = float(rng.normal(0, 0.1))
        W = rng.normal(0, 1 / np.sqrt(sizes[k - 1]), (sizes[k - 1], sizes[k]))
        G.add_weighted_edges_from(
            (u, v, float(W[i, j]))
            for i, u in enumerate(names[k - 1])
            for j, v in enumerate(names[k])
        )
    return G, sizes[0], sizes[-1]


def sparse_dag(n_layers=9, width=200, fan_in=8, n_skips=200, seed=0):
    """Inputs and ``n_layers`` layers of ``width``; every node feeds the next
    layer, each neuron has ``fan_in`` sources in the layer before, and
    ``n_skips`` connections skip layers."""
    import networkx as nx
    import numpy as np

    rng = np.random.default_rng(seed)
    n = (n_layers + 1) * width
    layer = np.repeat(np.arange(n_layers + 1), width)
    targets = np.arange(width, n)
    first = np.argsort(rng.random((n_layers, width)), axis=1).reshape(-1, 1)
    others = 1 + np.argsort(rng.random((targets.size, width - 1)), axis=1)
    offsets = np.hstack([np.zeros_like(first), others[:, : fan_in - 1]])
    sources = (layer[targets] - 1)[:, None] * width + (first + offsets) % width
    src, dst = sources.ravel(), np.repeat(targets, fan_in)
    skip_dst = rng.integers(2 * width, n, n_skips)
    skip_layer = rng.integers(0, layer[skip_dst] - 1)
    skip_src = skip_layer * width + rng.integers(0, width, n_skips)
    src, dst = np.concatenate([src, skip_src]), np.concatenate([dst, skip_dst])
    weight = rng.normal(0, 1 / np.sqrt(fan_in), src.size)
    G = nx.DiGraph()
    G.add_nodes_from(range(width))
    G.add_nodes_from(range(width, n - width), activation="tanh")
    G.add_nodes_from(range(n - width, n), activation="identity")
    for v, b in zip(range(width, n), rng.normal(0, 0.1, n - width), strict=True):
        G.nodes[v]["bias"] = float(b)
    G.add_edges_from(
        (int(u), int(v), {"weight": float(w)})
        for u, v, w in zip(src, dst, weight, strict=True)
    )
    return G, width, width


def worker(label: str, runs: int) -> None:
    """Time `runs` calls of one case in this process; print the times as JSON."""
    import numpy as np

    from neurosim import reference

    graph, n, batch_size = CASES[label]
    G, n_in, n_out = layered_graph() if graph == "layered" else sparse_dag()
    rng = np.random.default_rng(1)
    X, Z = rng.standard_normal((n, n_in)), rng.standard_normal((n, n_out))

    def call():
        return reference.train(G, X, Z, learning_rate=0.001, batch_size=batch_size)

    call()  # warm-up: imports, allocator
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    print(json.dumps({"times": times, "nodes": len(G), "edges": len(G.edges)}))


def measure(checkout: Path, label: str, runs: int) -> dict:
    env = {**os.environ, **THREADS, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [sys.executable, __file__, "--worker", label, str(runs)],
        env=env,
        cwd=tempfile.gettempdir(),  # import neurosim from `checkout`, not the cwd
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", default="c405a7e", help="a git revision")
    parser.add_argument("--rounds", type=int, default=3, help="alternations")
    parser.add_argument("--runs", type=int, default=2, help="timed runs per process")
    args = parser.parse_args()
    if args.worker:
        label, runs = args.worker
        worker(label, int(runs))
        return

    worktree = Path(tempfile.mkdtemp(prefix="neurosim-baseline-"))
    git = ["git", "-C", str(ROOT), "worktree"]
    subprocess.run(
        [*git, "add", "--detach", "-f", str(worktree), args.baseline],
        check=True,
        capture_output=True,
    )
    checkouts = {"this": ROOT, "baseline": worktree}
    times: dict[tuple[str, str], list[float]] = {}
    sizes = {}
    try:
        for _ in range(args.rounds):
            for label in CASES:
                for who, path in checkouts.items():
                    result = measure(path, label, args.runs)
                    times.setdefault((label, who), []).extend(result["times"])
                    sizes[label] = result["nodes"], result["edges"]
    finally:
        subprocess.run(
            [*git, "remove", "--force", str(worktree)], check=False, capture_output=True
        )

    print(
        f"reference.train: this checkout against {args.baseline}; BLAS pinned to "
        f"one thread; {args.rounds} rounds × {args.runs} runs per process"
    )
    header = f"{'case':<38}{'graph':>16}{'':>8}{'this':>11}{'baseline':>11}"
    print(header + f"{'speed-up':>10}")
    for label in CASES:
        nodes, edges = sizes[label]
        for stat, pick in (("best", min), ("median", statistics.median)):
            t, t_old = pick(times[label, "this"]), pick(times[label, "baseline"])
            graph = f"{nodes:,} / {edges:,}" if stat == "best" else ""
            print(
                f"{label if stat == 'best' else '':<38}{graph:>16}{stat:>8}"
                f"{_ms(t):>11}{_ms(t_old):>11}{t_old / t:>9.1f}×"
            )
    print("graph: nodes / connections; times per call of reference.train")


def _ms(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.1f} ms"


if __name__ == "__main__":
    main()

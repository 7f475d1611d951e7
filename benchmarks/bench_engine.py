"""The engine on a 100-100-100 network (relu, identity), side by side.

Run: ``python benchmarks/bench_engine.py [--baseline REV] [--samples N]
[--batch B] [--rounds R]``

Measures, in one run, the time per iteration of this checkout's engine for
online training with one sample at a time and with four in flight, and for
one batch of 1024; the numpy matrix reference for the same work; and, with
``--baseline REV`` (a git revision, e.g. ``HEAD~5``), the engine of that
revision, checked out into a temporary worktree. Every measurement runs in a
fresh process with BLAS pinned to one thread; the processes alternate
``--rounds`` times so that all of them see the same load on a noisy machine,
and the table shows the best run and the median. Speed-ups are ratios of
times measured side by side, never of numbers from different runs.
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
SIZES = [100, 100, 100]
ACTIVATION = ["relu", "identity"]
THREADS = {
    name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
}


def worker(mode: str, n: int, runs: int) -> None:
    """Time `runs` calls of one mode in this process; print the times as JSON."""
    import numpy as np

    import neurosim
    from neurosim import reference

    G = neurosim.layered(SIZES, activation=ACTIVATION, seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, SIZES[0]))
    Z = rng.standard_normal((n, SIZES[-1]))
    lr = 0.001
    if mode in ("torch", "micrograd"):
        call = _framework(mode, G, X, Z, lr, n)
    elif mode == "numpy":
        batch = n if n > 64 else 1
        names = neurosim.graph.layered_names(SIZES)
        Ws = [
            np.array(
                [[G.edges[u, v]["weight"] for v in names[k + 1]] for u in names[k]]
            )
            for k in range(len(SIZES) - 1)
        ]
        bs = [
            np.array([G.nodes[v]["bias"] for v in names[k + 1]])
            for k in range(len(SIZES) - 1)
        ]

        def call():
            reference.train_layered(
                Ws, bs, ACTIVATION, X, Z, learning_rate=lr, batch_size=batch
            )
    else:
        net = neurosim.Network(G)
        options = {"batch_size": n} if mode == "batch" else {}
        if mode == "online4":
            options = {"in_flight": 4}
        if mode == "recorded":
            options = {"record": True}

        def call():
            net.train(X, Z, learning_rate=lr, **options)

    call()  # warm-up: imports, allocator, cached wiring
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    print(json.dumps(times))


def _framework(mode: str, G, X, Z, lr: float, n: int):
    """Per-sample SGD on the same network in PyTorch (eager, float64) or micrograd."""
    import numpy as np

    import neurosim

    names = neurosim.graph.layered_names(SIZES)
    Ws = [
        np.array([[G.edges[u, v]["weight"] for v in names[k + 1]] for u in names[k]])
        for k in range(len(SIZES) - 1)
    ]
    bs = [
        np.array([G.nodes[v]["bias"] for v in names[k + 1]])
        for k in range(len(SIZES) - 1)
    ]
    if mode == "torch":
        import torch

        torch.set_num_threads(1)
        layers = []
        for k, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            linear = torch.nn.Linear(*W.shape, dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W.T))
                linear.bias.copy_(torch.from_numpy(b))
            layers.append(linear)
            if k < len(Ws) - 1:
                layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        Xt, Zt = torch.from_numpy(X), torch.from_numpy(Z)

        def call():
            for i in range(n):
                optimizer.zero_grad()
                loss = 0.5 * ((model(Xt[i : i + 1]) - Zt[i : i + 1]) ** 2).sum()
                loss.backward()
                optimizer.step()

        return call
    from micrograd.nn import MLP

    model = MLP(SIZES[0], SIZES[1:])  # relu hidden, linear output: the same net
    for layer, W, b in zip(model.layers, Ws, bs, strict=True):
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                w.data = float(W[i, j])
            neuron.b.data = float(b[j])
    parameters = model.parameters()

    def call():
        for i in range(n):
            out = model(X[i].tolist())
            loss = (
                sum((o - float(z)) ** 2 for o, z in zip(out, Z[i], strict=True)) * 0.5
            )
            for p in parameters:
                p.grad = 0.0
            loss.backward()
            for p in parameters:
                p.data -= lr * p.grad

    return call


def blas() -> str:
    """Which BLAS kernel numpy runs here, and with how many threads."""
    import numpy  # noqa: F401  (loads the BLAS that threadpoolctl reports)

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return (
            "BLAS threads pinned to 1 by the environment (threadpoolctl not installed)"
        )
    info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return (
        ", ".join(
            f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}), "
            f"{i.get('num_threads')} thread(s)"
            for i in info
        )
        or "no BLAS found"
    )


def measure(checkout: Path, mode: str, n: int, runs: int) -> list[float]:
    env = {**os.environ, **THREADS, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [sys.executable, __file__, "--worker", mode, str(n), str(runs)],
        env=env,
        cwd=tempfile.gettempdir(),  # import neurosim from `checkout`, not the cwd
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", help="a git revision to compare with")
    parser.add_argument(
        "--samples", type=int, default=40, help="online samples per run"
    )
    parser.add_argument("--batch", type=int, default=1024, help="mini-batch size")
    parser.add_argument("--rounds", type=int, default=4, help="alternations")
    parser.add_argument("--runs", type=int, default=2, help="timed runs per process")
    parser.add_argument(
        "--recorded", type=int, default=100, help="samples of the recording case"
    )
    args = parser.parse_args()
    if args.worker:
        mode, n, runs = args.worker
        worker(mode, int(n), int(runs))
        return

    checkouts = {"this": ROOT}
    worktree = None
    if args.baseline:
        worktree = Path(tempfile.mkdtemp(prefix="neurosim-baseline-"))
        subprocess.run(
            [
                "git",
                "-C",
                str(ROOT),
                "worktree",
                "add",
                "--detach",
                "-f",
                str(worktree),
                args.baseline,
            ],
            check=True,
            capture_output=True,
        )
        checkouts["baseline"] = worktree
    cases = [
        ("online", "online", args.samples, args.samples),
        ("online, 4 in flight", "online4", args.samples, args.samples),
        (f"batch {args.batch}", "batch", args.batch, 1),
    ]
    others = [  # (label, mode, samples): other engines, and recording
        ("PyTorch eager", "torch", args.samples),
        ("micrograd", "micrograd", 2),
        (f"online, recorded ({args.recorded})", "recorded", args.recorded),
        (f"online, unrecorded ({args.recorded})", "online", args.recorded),
    ]
    numpy_cases = {"online": ("numpy", args.samples), "batch": ("numpy", args.batch)}
    times: dict[tuple[str, str], list[float]] = {}
    try:
        for _ in range(args.rounds):
            for label, mode, n, _iterations in cases:
                for who, path in checkouts.items():
                    if who == "baseline" and mode == "online4":
                        continue  # the schedule did not exist before
                    times.setdefault((label, who), []).extend(
                        measure(path, mode, n, args.runs)
                    )
                key = "batch" if mode == "batch" else "online"
                numpy_mode, numpy_n = numpy_cases[key]
                times.setdefault((label, "numpy"), []).extend(
                    measure(ROOT, numpy_mode, numpy_n, args.runs)
                )
            for label, mode, n in others:
                try:
                    got = measure(ROOT, mode, n, 1)
                except subprocess.CalledProcessError:  # not installed
                    continue
                times.setdefault((label, "this"), []).extend(got)
    finally:
        if worktree is not None:
            subprocess.run(
                [
                    "git",
                    "-C",
                    str(ROOT),
                    "worktree",
                    "remove",
                    "--force",
                    str(worktree),
                ],
                check=False,
                capture_output=True,
            )

    messages = 100 * 100 * 2 + 100 * 100  # forward on every connection, δ on 10k
    env_blas = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
            "from benchmarks.bench_engine import blas; print(blas())",
        ],
        env={**os.environ, **THREADS},
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    print(
        f"network {'-'.join(map(str, SIZES))} ({' / '.join(ACTIVATION)}), "
        f"{messages:,} messages per iteration; {env_blas}"
    )
    header = f"{'mode':<21}{'':>7}{'this engine':>14}{'messages/s':>13}{'numpy':>12}"
    header += f"{'÷ numpy':>9}"
    if args.baseline:
        header += f"{'baseline':>13}{'speed-up':>10}"
    print(header + "   (times per iteration)")
    sequential = None
    for label, _mode, _n, iterations in cases:
        for stat, pick in (("best", min), ("median", statistics.median)):
            t = pick(times[label, "this"]) / iterations
            t_numpy = pick(times[label, "numpy"]) / iterations
            row = (
                f"{label:<21}{stat:>7}{_ms(t):>14}{messages / t:>13,.0f}"
                f"{_ms(t_numpy):>12}{t / t_numpy:>8.0f}×"
            )
            if args.baseline:
                if (label, "baseline") in times:
                    t_old = pick(times[label, "baseline"]) / iterations
                    row += f"{_ms(t_old):>13}{t_old / t:>9.2f}×"
                else:
                    row += f"{'—':>13}{'—':>10}"
            if label == "online" and stat == "best":
                sequential = t
            if label.startswith("online,") and stat == "best" and sequential:
                row += f"   {t / sequential:.2f}× sequential per message"
            print(row)
    online = min(times["online", "this"]) / args.samples
    for label, _mode, n in others[:2]:
        if (label, "this") in times:
            t = min(times[label, "this"]) / n
            compare = (
                f"neurosim ÷ {label} = {online / t:.1f}×"
                if online > t
                else f"neurosim is {t / online:.1f}× faster"
            )
            print(f"{label + ', online':<28}{_ms(t):>12} per sample: {compare}")
        else:
            print(f"{label}: not installed, skipped")
    recorded = min(times[others[2][0], "this"])
    unrecorded = min(times[others[3][0], "this"])
    print(
        f"recording {args.recorded} online samples: {recorded:.2f} s against "
        f"{unrecorded:.2f} s, {recorded / unrecorded:.2f}× (best runs)"
    )
    print(
        f"{args.rounds} rounds × {args.runs} runs per process; BLAS pinned to one "
        "thread; per-call times include starting the tasks"
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f} µs"


if __name__ == "__main__":
    main()

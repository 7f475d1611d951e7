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
    if mode == "numpy":
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

        def call():
            net.train(X, Z, learning_rate=lr, **options)

    call()  # warm-up: imports, allocator, cached wiring
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    print(json.dumps(times))


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
    print(
        f"{args.rounds} rounds × {args.runs} runs per process; BLAS pinned to one "
        "thread; per-call times include starting the tasks"
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f} µs"


if __name__ == "__main__":
    main()

"""The Ray backend against the local one: 1, 2 and 4 partitions, side by side.

Run: ``python benchmarks/bench_distributed.py [--quick] [--neurons N]
[--partitions 1 2 4] [--json PATH]``

The network is ``bench_scale.py``'s *layered* family: layers of 1,000 tanh
neurons, each fed by 10 random neurons of the layer before; by default 100
layers (99,000 neurons, about 985,000 connections), with ``--quick`` 10
layers (9,000 neurons, about 90,000 connections).

Each backend runs in a fresh process (so that the driver's memory is its
own) with BLAS pinned to one thread; a Ray run starts its own local Ray
(``ray.init(address="local", num_cpus=2)``: never a cluster another program
left running). In each process: ``Network(G, backend=...)``; a first online
step (it also wires the network, and starts Ray); a second online step; one
batch of 32. For every call it reports the time, the windows, the remote
calls and the messages handed to the partitions (``backend.stats``), and the
peak resident memory of the driver and of each partition's process (sampled
with psutil every 0.2 s while the call runs). ``cut`` gives the connections
between partitions. The overhead per window is ``(Ray time - local time) /
windows`` for the same step. Every run must end with the same weights, bit
for bit: the table shows a digest of them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
THREADS = {
    name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
}


class Memory:
    """Peak resident memory of this process and of its Ray partitions."""

    def __init__(self, period: float = 0.2):
        import psutil

        self.me = psutil.Process(os.getpid())
        self.period = period
        self.driver = 0
        self.partitions: dict[int, int] = {}  # pid -> peak RSS
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    def _sample(self) -> None:
        import psutil

        while True:
            self.driver = max(self.driver, self.me.memory_info().rss)
            # this process's own Ray: raylet -> workers; a partition's
            # process is titled "ray::_Partition..."
            for p in self.me.children(recursive=True):
                try:
                    if "_Partition" in " ".join(p.cmdline()[:1]):
                        rss = p.memory_info().rss
                        self.partitions[p.pid] = max(self.partitions.get(p.pid, 0), rss)
                except psutil.Error:
                    pass
            if self.done.wait(self.period):
                return


def digest(net) -> str:
    """A short digest of every weight and bias, bit for bit."""
    import numpy as np

    h = hashlib.sha256()
    for _key, w in sorted(net.weights.items(), key=lambda kv: repr(kv[0])):
        h.update(np.float64(w).tobytes())
    for _key, b in sorted(net.biases.items(), key=lambda kv: repr(kv[0])):
        h.update(np.float64(b).tobytes())
    return h.hexdigest()[:10]


class Phases:
    """Where a Ray call's time goes, timed around the backend's own methods.

    The partitions' actors are made anew for every call: ``setup`` is from
    the backend's first step until every actor is built and its neurons'
    tasks run (the barrier is a ``pid()`` call to each actor, which is also
    how the partitions' processes are found); ``windows`` the time in
    ``exchange`` (a window's remote calls, there and back); ``teardown`` the
    parameters and optimizer states brought back at the end. The rest of a
    call is the conductor's and the transport's own work in the driver, the
    same work as in a local run.
    """

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.setup = self.windows = self.teardown = 0.0
        self.pids: list[int] = []

    def install(self) -> None:
        from neurosim import backends

        cls, phases = backends._RayNeurons, self
        init, exchange, run = cls.__init__, cls.exchange, cls.run

        def timed_init(self, *args, **kwargs):
            start = time.perf_counter()
            init(self, *args, **kwargs)
            phases.pids = self.ray.get([a.pid.remote() for a in self.actors])
            phases.setup += time.perf_counter() - start

        async def timed_exchange(self, deliveries):
            start = time.perf_counter()
            try:
                return await exchange(self, deliveries)
            finally:
                phases.windows += time.perf_counter() - start

        async def timed_run(self, conduct):
            ended = None

            async def conduct_then_stamp():
                nonlocal ended
                await conduct()
                ended = time.perf_counter()

            try:
                await run(self, conduct_then_stamp)
            finally:
                if ended is not None:
                    phases.teardown += time.perf_counter() - ended

        cls.__init__, cls.exchange, cls.run = timed_init, timed_exchange, timed_run


def worker(n: int, partitions: int) -> None:
    import numpy as np
    from bench_scale import build

    import neurosim

    G, inputs, outputs = build("layered", n)
    if partitions:
        import ray

        start = time.perf_counter()
        ray.init(
            address="local", num_cpus=2, include_dashboard=False, log_to_driver=False
        )
        ray_start = time.perf_counter() - start
        backend = neurosim.backends.Ray(partitions=partitions)
        phases = Phases()
        phases.install()
    else:
        ray_start = 0.0
        backend = neurosim.backends.Local()
    start = time.perf_counter()
    net = neurosim.Network(G, inputs=inputs, outputs=outputs, backend=backend)
    built = time.perf_counter() - start
    del G
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, len(inputs)))
    Z = rng.standard_normal((32, len(outputs)))
    row: dict = {
        "partitions": partitions,
        "neurons": len(net.topology.neurons),
        "connections": len(net.topology.weights),
        "build": built,
        "ray_start": ray_start,
    }
    if partitions:
        c = neurosim.backends.cut(
            net.topology, neurosim.backends.assign(net.topology, partitions)
        )
        row["cut"] = {k: c[k] for k in ("sizes", "connections", "values")}
    for name, rows, batch in (("first", 1, 1), ("online", 1, 1), ("batch32", 32, 32)):
        if partitions:
            phases.reset()
        with Memory() as memory:
            start = time.perf_counter()
            net.train(X[:rows], Z[:rows], learning_rate=0.01, batch_size=batch)
            took = time.perf_counter() - start
        row[name] = {
            "time": took,
            "driver_mib": memory.driver / 2**20,
            "partition_mib": sorted(
                (m / 2**20 for m in memory.partitions.values()), reverse=True
            ),
            **getattr(backend, "stats", {}),
        }
        if partitions:
            row[name].update(
                setup=phases.setup,
                windows_time=phases.windows,
                teardown=phases.teardown,
            )
    row["digest"] = digest(net)
    print(json.dumps(row))


def run(n: int, partitions: int) -> dict:
    env = {**os.environ, **THREADS, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, __file__, "--worker", str(n), str(partitions)],
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.stderr.write(out.stderr[-3000:])
        raise SystemExit(f"the run with {partitions} partitions failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=2, type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--quick", action="store_true", help="9,000 neurons instead of 99,000"
    )
    parser.add_argument("--neurons", type=int, help="about this many neurons")
    parser.add_argument("--partitions", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    n = args.neurons or (10_000 if args.quick else 100_000)
    rows = []
    print(
        f"{'backend':<8}{'step':>8}{'batch32':>9}{'setup':>8}{'teardown':>9}"
        f"{'windows':>8}{'calls':>6}{'msgs/win':>9}{'msgs/s':>9}{'cut conn.':>10}"
        f"{'per win':>9}{'overhead':>9}{'driver':>7}  {'partitions MiB':<16}"
        f"{'weights':>11}"
    )
    for partitions in [0, *args.partitions]:
        row = run(n, partitions)
        rows.append(row)
        step, batch = row["online"], row["batch32"]
        local = rows[0]["online"]["time"]
        name = f"ray {partitions}" if partitions else "local"
        if partitions:
            windows = step["windows"]
            fixed = step["setup"] + step["teardown"]
            over = (step["time"] - fixed - local) / windows
            extra = (
                f"{fixed - step['teardown']:>7.2f}s{step['teardown']:>8.2f}s"
                f"{windows:>8}{step['calls']:>6}{step['delivered'] / windows:>9,.0f}"
                f"{step['delivered'] / step['windows_time']:>9,.0f}"
                f"{row['cut']['connections']:>10,}"
                f"{step['windows_time'] / windows * 1e3:>7.1f}ms{over * 1e3:>7.1f}ms"
            )
            parts = "/".join(f"{m:.0f}" for m in step["partition_mib"])
        else:
            extra = " " * 76
            parts = "-"
        print(
            f"{name:<8}{step['time']:>7.2f}s{batch['time']:>8.2f}s{extra}"
            f"{step['driver_mib']:>7.0f}  {parts:<16}{row['digest']:>11}",
            flush=True,
        )
    print(
        f"{rows[0]['neurons']:,} neurons, {rows[0]['connections']:,} connections; "
        "first step (wiring, actors): "
        + ", ".join(
            f"{'ray ' + str(r['partitions']) if r['partitions'] else 'local'} "
            f"{r['first']['time']:.1f} s"
            for r in rows
        )
    )
    same = len({r["digest"] for r in rows}) == 1
    print("weights bit-identical across backends:", "yes" if same else "NO")
    if args.json:
        from neurosim._files import atomic_write

        with atomic_write(args.json) as file:
            file.write(json.dumps(rows, indent=1).encode())
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

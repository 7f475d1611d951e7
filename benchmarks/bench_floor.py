"""The floor under one online step: what a trio task per neuron costs at least.

Run: ``python benchmarks/bench_floor.py [--neurons N] [--rounds R]``

One online training step wakes every neuron's task twice (its forward step,
then its backward step and update) in a trio run of its own (``train`` is one
``trio.run``), and each neuron does its few small numpy operations. This
benchmark measures, side by side in one process, BLAS pinned to one thread:

- **engine**: one online step of the *layered* network of
  ``bench_scale.py`` (layers of 1,000 tanh neurons, 10 inputs each), the
  second call of ``train`` (the first also wires the network);
- **bare trio**: a trio program with as many tasks, each started, woken
  twice by a conductor that wakes one layer at a time and waits for its
  reports, then ended: no messages, no math;
- **numpy**: a neuron's own arithmetic of one step (``e = w·x + b``,
  ``y = tanh(e)``, ``δ``, ``g``, the gradient, an SGD update, the finiteness
  checks) on arrays of its sizes, times the number of neurons.

The floor is bare trio plus numpy: what any engine with a trio task per
neuron spends before it routes a single message. Prints the best of
``--rounds`` runs of each.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # before numpy is imported

import numpy as np  # noqa: E402
import outcome  # noqa: E402
import trio  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import FAN_IN, WIDTH, build  # noqa: E402


class _Slot:
    """A one-item inbox on trio's parking, as the engine's."""

    __slots__ = ("item", "task")

    def __init__(self) -> None:
        self.item, self.task = None, None

    def put(self, item: object) -> None:
        task, self.task = self.task, None
        if task is None:
            self.item = item
        else:
            trio.lowlevel.reschedule(task, outcome.Value(item))

    async def get(self) -> object:
        item, self.item = self.item, None
        if item is None:
            self.task = trio.lowlevel.current_task()
            item = await trio.lowlevel.wait_task_rescheduled(
                lambda _: trio.lowlevel.Abort.SUCCEEDED
            )
        return item


def bare_trio(n_neurons: int) -> float:
    """Seconds for n tasks: started, woken twice layer by layer, ended."""

    async def neuron(slot: _Slot, reports: list) -> None:
        for _ in range(2):
            reports.append(await slot.get())

    async def main() -> None:
        slots = [_Slot() for _ in range(n_neurons)]
        reports: list = []
        async with trio.open_nursery() as nursery:
            for slot in slots:
                nursery.start_soon(neuron, slot, reports)
            layers = [slots[i : i + WIDTH] for i in range(0, n_neurons, WIDTH)]
            for wave in (layers, layers[::-1]):  # forward, then backward
                for layer in wave:
                    reports.clear()
                    for slot in layer:
                        slot.put(1)
                    while len(reports) < len(layer):
                        await trio.sleep(0)

    start = time.perf_counter()
    trio.run(main)
    return time.perf_counter() - start


def numpy_math(n_neurons: int, repeat: int = 20_000) -> float:
    """Seconds for n neurons' own arithmetic of one online step."""
    rng = np.random.default_rng(0)
    params = rng.standard_normal(FAN_IN + 1)
    x = rng.standard_normal((FAN_IN, 1))
    received = rng.standard_normal(FAN_IN)
    ports = np.arange(FAN_IN)

    def one() -> None:
        e = params[:-1] @ x
        e += params[-1]
        y = np.tanh(e)
        d = received.reshape(-1, 1).sum(axis=0)
        g = (1 - y * y) * d
        _ = params[:-1][ports] * g[0]  # the error messages' coefficients
        grad = np.empty(FAN_IN + 1)
        np.multiply(x[:, 0], -g[0], out=grad[:-1])
        grad[-1] = -g[0]
        params[:] -= 1e-9 * grad
        np.isfinite(params).all()

    start = time.perf_counter()
    for _ in range(repeat):
        one()
    return (time.perf_counter() - start) / repeat * n_neurons


def engine_step(n_neurons: int, rounds: int) -> tuple[int, float]:
    import neurosim

    G, inputs, outputs = build("layered", n_neurons + WIDTH)
    net = neurosim.Network(G, inputs=inputs, outputs=outputs)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1, len(inputs)))
    Z = rng.standard_normal((1, len(outputs)))
    net.train(X, Z, learning_rate=0.01)  # wires the network
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        net.train(X, Z, learning_rate=0.01)
        times.append(time.perf_counter() - start)
    return len(net.topology.neurons), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=99_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n, engine = engine_step(args.neurons, args.rounds)
    bare = min(bare_trio(n) for _ in range(args.rounds))
    math = min(numpy_math(n) for _ in range(args.rounds))
    floor = bare + math
    print(f"{n:,} neurons, one online step (best of {args.rounds}):")
    for label, seconds in (
        ("bare trio, 2 wake-ups a task", bare),
        ("numpy, a neuron's own math", math),
        ("floor (the two)", floor),
        ("engine", engine),
    ):
        print(f"  {label:<30}{seconds:7.2f} s {seconds / n * 1e6:7.1f} µs/neuron")
    print(f"  {'engine ÷ floor':<30}{engine / floor:7.2f}×")


if __name__ == "__main__":
    main()

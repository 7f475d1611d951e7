"""One neuron: its data, and the trio task that runs it.

A neuron's description is data (:class:`NeuronState`: activation, incoming
weights and bias, optimizer state); :func:`run_neuron` is the task that runs
it for one simulation, talking to the rest of the network only through its
inbox and its links. Per iteration (one sample, or one batch) it does what the
article describes:

1. forward: wait for a signal on every input connection, ``e = Σ w·y + b``,
   ``y = f(e)``, send ``y`` on every outgoing connection;
2. error: ``δ = (z − y if an output) + Σ`` of the error messages received,
   ``g = δ·f'(e)``; send ``coefficient·g`` back (the rule says where and which
   coefficient: the weight before the update, for backpropagation);
3. update its own incoming weights and bias with the gradient of the
   batch-mean loss, ``∂L/∂w_u = −mean(g·y_u)``, ``∂L/∂b = −mean(g)``,
   through its optimizer.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import trio
from numpy.typing import NDArray

from neurosim.messages import BACKWARD, FORWARD, INPUT, TARGET, Link, post, post_each

__all__ = ["NeuronState", "Run", "Wiring", "run_input", "run_neuron"]

Array = NDArray[np.float64]


@dataclass(eq=False)
class NeuronState:
    """What a neuron owns: its activation and the parameters of its inputs.

    ``params`` is ``[w_1, ..., w_n, b]``: the weights of the incoming
    connections in predecessor order, then the bias (a weight on a constant
    input of 1, as in seed 002).
    """

    name: Hashable
    activation: Any
    params: Array
    optimizer_state: object = None
    # Input and δ buffers by shape, kept between runs: fresh memory is slow
    # to touch the first time, and a batch of signals needs a lot of it.
    buffers: dict = field(default_factory=dict, repr=False)

    def buffers_for(self, n_in: int, n_back: int, size: int) -> tuple[Array, Array]:
        key = (n_in, n_back, size)
        if key not in self.buffers:
            if len(self.buffers) >= 4:
                self.buffers.clear()
            self.buffers[key] = (np.empty((n_in, size)), np.zeros((n_back, size)))
        return self.buffers[key]

    @property
    def weights(self) -> Array:
        return self.params[:-1]

    @property
    def bias(self) -> float:
        return float(self.params[-1])


@dataclass(eq=False)
class Run:
    """What every task of one simulation shares: the schedule and the mode.

    ``sizes[k]`` is the number of samples in iteration ``k`` and ``labels[k]``
    its ``(epoch, sample)``. ``batched`` says whether values travel as arrays
    (mini-batch) or floats (online). ``optimizer`` is ``None`` for a forward
    only run (``predict``). ``messages`` and ``updates`` are the recorders'
    ``list.append`` (or ``None``).
    """

    sizes: Sequence[int]
    labels: Sequence[tuple[int, int]]
    batched: bool
    optimizer: Any = None
    rule: Any = None
    messages: Any = None
    updates: Any = None

    @property
    def training(self) -> bool:
        return self.optimizer is not None


@dataclass(eq=False)
class Wiring:
    """A neuron's connections for one simulation.

    ``forward`` and ``backward`` are the links it sends on; ``n_forward`` and
    ``n_backward`` how many messages of each kind it receives per iteration;
    ``coefficients`` the rule's coefficient for each backward link (an index
    into the neuron's weights, or a fixed float); ``report`` the
    ``send_nowait`` of the driver's inbox.
    """

    index: int
    inbox: trio.MemoryReceiveChannel
    report: Any
    forward: list[Link]
    backward: list[Link] = field(default_factory=list)
    n_forward: int = 0
    n_backward: int = 0
    is_output: bool = False
    weight_index: Array | None = None  # coefficients taken from the weights
    fixed: Array | None = None  # or fixed coefficients


async def run_input(wiring: Wiring, run: Run) -> None:
    """An input node: each iteration, pass the driver's value on."""
    me = wiring.index
    record = run.messages
    receive = wiring.inbox.receive
    for k in range(len(run.labels)):
        kind, _, value, t = await receive()
        assert kind == INPUT, kind
        post(wiring.forward, FORWARD, t, value, record, (k, me))
        wiring.report((me, t, None, None))


async def run_neuron(state: NeuronState, wiring: Wiring, run: Run) -> None:
    """A non-input neuron, for every iteration of `run` (see module docstring)."""
    me = wiring.index
    f = state.activation.function
    fprime = state.activation.derivative
    params = state.params
    w = params[:-1]  # a view: the optimizer updates params in place
    n_in, n_back = wiring.n_forward, wiring.n_backward
    training, batched = run.training, run.batched
    signal_back = run.rule.backward_signal if training else None
    signal_update = run.rule.update_signal if training else None
    receive_nowait = wiring.inbox.receive_nowait
    receive = wiring.inbox.receive
    record, record_update = run.messages, run.updates
    report = wiring.report
    # Values are filed by port into lists (cheapest per message), then copied
    # into the neuron's own buffers once per iteration.
    xs: list = [0.0] * n_in
    ds: list = [0.0] * n_back
    x = d = np.empty((0, 0))
    target = None
    with np.errstate(all="ignore"):  # non-finite values are reported, not warned
        for k, size in enumerate(run.sizes):
            if x.shape[1] != size:
                x, d = state.buffers_for(n_in, n_back, size)
            # -- forward: a signal from every predecessor, filed by port
            pending, back_pending = n_in, n_back
            t_in = t_back = 0.0
            while pending:
                try:
                    kind, port, value, at = receive_nowait()
                except trio.WouldBlock:
                    kind, port, value, at = await receive()
                if kind == FORWARD:
                    xs[port] = value
                    if at > t_in:
                        t_in = at
                    pending -= 1
                elif kind == BACKWARD:  # direct feedback may overtake the forward pass
                    ds[port] = value
                    if at > t_back:
                        t_back = at
                    back_pending -= 1
                else:
                    assert kind == TARGET, kind
                    target = value
            if batched:
                np.stack(xs, out=x)
            else:
                x[:, 0] = xs
            e = w @ x + params[-1]
            y = f(e)
            problem = None
            if not (np.isfinite(e).all() and np.isfinite(y).all()):
                problem = "output"
            post(
                wiring.forward,
                FORWARD,
                t_in,
                y if batched else float(y[0]),
                record,
                (k, me),
            )
            if not training:
                report((me, t_in, y if wiring.is_output else None, problem))
                continue
            # -- error: the target's error plus every δ received, in port order
            while back_pending:
                try:
                    kind, port, value, at = receive_nowait()
                except trio.WouldBlock:
                    kind, port, value, at = await receive()
                assert kind == BACKWARD, kind
                ds[port] = value
                if at > t_back:
                    t_back = at
                back_pending -= 1
            t = t_back if t_back > t_in else t_in
            if batched:  # a batch's δ message is (coefficient, g): file the product
                for port, (c, g_in) in enumerate(ds):
                    np.multiply(g_in, c, out=d[port])
            else:
                d[:, 0] = ds
            delta = d.sum(axis=0) if n_back else np.zeros(size)
            if wiring.is_output:
                delta = (target - y) + delta
            g = delta * fprime(e, y)
            if wiring.backward:
                coefficients = (
                    w[wiring.weight_index]
                    if wiring.weight_index is not None
                    else wiring.fixed
                )
                s = signal_back(delta, g)
                if batched:  # (coefficient, g): the receiver files their product
                    values = [(c, s) for c in coefficients.tolist()]
                else:
                    values = (coefficients * s[0]).tolist()
                post_each(wiring.backward, BACKWARD, t, values, record, (k, me))
            # -- update: the gradient of the batch-mean loss, through the optimizer
            u = signal_update(delta, g)
            grad = np.empty(n_in + 1)
            np.matmul(x, u, out=grad[:-1])
            grad[-1] = u.sum()
            grad /= -size
            old = params.copy() if record_update is not None else None
            run.optimizer.step(params, grad, state.optimizer_state)
            if problem is None and not np.isfinite(params).all():
                problem = "weight update"
            if record_update is not None:
                record_update((k, me, t, old, params.copy()))
            report((me, t, y if wiring.is_output else None, problem))

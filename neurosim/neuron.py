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
    input of 1, as in seed 002). A neuron without bias keeps ``b = 0``.
    """

    name: Hashable
    activation: Any
    params: Array
    optimizer_state: object = None
    has_bias: bool = True  # False: b stays 0 and is never trained

    @property
    def weights(self) -> Array:
        return self.params[:-1]

    @property
    def bias(self) -> float:
        return float(self.params[-1])


@dataclass(eq=False)
class Run:
    """What every task of one simulation shares: the schedule, the mode, the inboxes.

    ``sizes[k]`` is the number of samples in iteration ``k`` and ``labels[k]``
    its ``(epoch, sample)``. ``batched`` says whether values travel as arrays
    (mini-batch) or floats (online). ``optimizer`` is ``None`` for a forward
    only run (``predict``). ``sends[i]`` is the ``send_nowait`` of node
    ``i``'s inbox and ``report`` the driver's. ``messages`` and ``updates``
    are the recorders' ``list.append`` (or ``None``).
    """

    sizes: Sequence[int]
    labels: Sequence[tuple[int, int]]
    batched: bool
    optimizer: Any = None
    rule: Any = None
    sends: Sequence[Any] = ()
    report: Any = None
    messages: Any = None
    updates: Any = None

    workspace: Array = field(default_factory=lambda: np.empty(0), repr=False)

    @property
    def training(self) -> bool:
        return self.optimizer is not None

    def rows(self, values: Sequence[Any], size: int) -> Array:
        """`values` (floats, or arrays of `size`) as the rows of a matrix.

        The matrix lives in one workspace that all the run's neurons share:
        each fills it and uses it without awaiting in between (trio switches
        tasks only at an ``await``), so it stays hot in the cache instead of
        every neuron keeping a cold copy of all its inputs.
        """
        need = len(values) * size
        if self.workspace.size < need:
            self.workspace = np.empty(need)
        matrix = self.workspace[:need].reshape(len(values), size)
        if self.batched:
            np.concatenate(values, out=self.workspace[:need])
        else:
            matrix[:, 0] = values
        return matrix


@dataclass(frozen=True, eq=False)
class Wiring:
    """A node's connections, fixed for a network and a learning rule.

    ``forward`` and ``backward`` are the links it sends on; ``n_forward`` and
    ``n_backward`` how many messages of each kind it receives per iteration.
    The coefficient of each backward link is the weight of one of its
    incoming connections (``weight_index`` into its weights) or a fixed
    number (``fixed``), as the rule says.
    """

    index: int
    forward: tuple[Link, ...]
    backward: tuple[Link, ...] = ()
    n_forward: int = 0
    n_backward: int = 0
    is_output: bool = False
    weight_index: Array | None = None
    fixed: Array | None = None


async def run_input(wiring: Wiring, inbox: trio.MemoryReceiveChannel, run: Run) -> None:
    """An input node: each iteration, pass the driver's value on."""
    me, sends, record = wiring.index, run.sends, run.messages
    for k in range(len(run.labels)):
        kind, _, value, t = await inbox.receive()
        assert kind == INPUT, kind
        post(sends, wiring.forward, FORWARD, t, value, record, (k, me))
        run.report((me, t, None, None))


async def run_neuron(
    state: NeuronState, wiring: Wiring, inbox: trio.MemoryReceiveChannel, run: Run
) -> None:
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
    receive_nowait = inbox.receive_nowait
    receive = inbox.receive
    record, record_update = run.messages, run.updates
    sends, report = run.sends, run.report
    # Values are filed by port into lists (cheapest per message); the
    # neuron reads them as matrices, in port order, through ``run.rows``.
    xs: list = [0.0] * n_in
    ds: list = [0.0] * n_back
    target = None
    with np.errstate(all="ignore"):  # non-finite values are reported, not warned
        for k, size in enumerate(run.sizes):
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
            x = run.rows(xs, size)
            e = w @ x
            e += params[-1]  # in place: fewer fresh arrays per iteration
            y = f(e)
            problem = None
            if not (np.isfinite(e).all() and np.isfinite(y).all()):
                problem = "output"
            post(
                sends,
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
            if not n_back:
                delta = np.zeros(size)
            elif batched:  # δ messages are (coefficient, g): Σ c·g in port order
                g_in = run.rows([g_k for _, g_k in ds], size)
                delta = np.array([c for c, _ in ds]) @ g_in
            else:
                delta = run.rows(ds, 1).sum(axis=0)
            if wiring.is_output:
                delta = (target - y) + delta
            g = fprime(e, y) * delta
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
                post_each(sends, wiring.backward, BACKWARD, t, values, record, (k, me))
            # -- update: the gradient of the batch-mean loss, through the optimizer
            u = signal_update(delta, g)
            grad = np.empty(n_in + 1)
            if n_back:  # it awaited errors: the workspace served other neurons since
                x = run.rows(xs, size)
            np.matmul(x, u, out=grad[:-1])
            grad[-1] = u.sum()
            grad /= -size
            if not state.has_bias:
                grad[-1] = 0.0  # keeps b at exactly 0 under every optimizer
            old = params.copy() if record_update is not None else None
            run.optimizer.step(params, grad, state.optimizer_state)
            if problem is None and not np.isfinite(params).all():
                problem = "weight update"
            if record_update is not None:
                record_update((k, me, t, old, params.copy()))
            report((me, t, y if wiring.is_output else None, problem))

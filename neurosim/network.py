"""The public face of the engine: :class:`Network` and :class:`History`."""

from __future__ import annotations

import copy
import gc
import math
from collections.abc import Callable, Hashable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import networkx as nx
import numpy as np
import trio
from numpy.typing import ArrayLike, NDArray

from neurosim.activations import get_activation
from neurosim.errors import DataError, NetworkError
from neurosim.graph import Topology, validate
from neurosim.neuron import NeuronState
from neurosim.optimizers import Optimizer, get_optimizer
from neurosim.rules import Rule, get_rule
from neurosim.simulation import Result, simulate, wire

__all__ = ["History", "Network"]

Array = NDArray[np.float64]
Node = Hashable


@dataclass(frozen=True, repr=False)
class History:
    """What a call to :meth:`Network.train` produced.

    Attributes
    ----------
    loss : ndarray, shape (epochs * n_samples,)
        ``E = ½ Σ (z − y)²`` of every sample, in training order, computed
        before the update that sample takes part in.
    outputs : ndarray, shape (epochs * n_samples, n_outputs)
        The network's outputs ``y`` for each sample, in the same order.
    epochs, samples_per_epoch, batch_size : int
        The shape of the training run.
    ends : ndarray
        The virtual time at which each iteration (sample or batch) finished.
    trace : Trace or None
        Every message and update, when trained with ``record=True``.
    """

    loss: Array
    outputs: Array
    epochs: int
    samples_per_epoch: int
    batch_size: int
    ends: Array
    trace: Any = field(default=None)

    @property
    def epoch_loss(self) -> Array:
        """The mean loss of each epoch."""
        return self.loss.reshape(self.epochs, self.samples_per_epoch).mean(axis=1)

    @property
    def duration(self) -> float:
        """Virtual time from the first input to the last update."""
        return float(self.ends[-1]) if len(self.ends) else 0.0

    def __repr__(self) -> str:
        loss = self.epoch_loss
        trace = "" if self.trace is None else f", trace={len(self.trace)} messages"
        return (
            f"History(epochs={self.epochs}, "
            f"samples_per_epoch={self.samples_per_epoch}, "
            f"batch_size={self.batch_size}, epoch loss {loss[0]:.6g} -> {loss[-1]:.6g}"
            f"{trace})"
        )


def _is_int(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _samples(values: ArrayLike, name: str, columns: int, what: str) -> Array:
    try:
        array = np.array(values, dtype=float)  # a copy: the caller's data stays theirs
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"{name} cannot be read as an array of numbers: {exc}"
        ) from None
    if array.ndim != 2 or array.shape[1] != columns or array.shape[0] == 0:
        raise DataError(
            f"{name} has shape {array.shape}; expected (n_samples, {columns}) with "
            f"n_samples >= 1: one column per {what}"
        )
    bad = np.argwhere(~np.isfinite(array))
    if len(bad):
        row, col = bad[0]
        raise DataError(
            f"{name}[{row}, {col}] is {array[row, col]}; values must be finite"
        )
    return array


def _schedule(n: int, epochs: int, batch_size: int):
    """Rows of X per iteration, and each iteration's (epoch, sample) label."""
    chunks = [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
    rows = [chunk for _ in range(epochs) for chunk in chunks]
    labels = [(epoch, k) for epoch in range(epochs) for k in range(len(chunks))]
    return rows, labels


class Network:
    """A neural network whose neurons are concurrent actors passing messages.

    Parameters
    ----------
    graph : networkx.DiGraph
        Neurons are nodes, connections are edges with a ``weight`` (and an
        optional ``delay``); node attributes ``activation`` (default
        ``"sigmoid"``) and ``bias`` (default 0). The graph is validated and
        copied: the caller's graph is never modified.
    inputs, outputs : sequence of nodes, optional
        The order of the columns of ``X`` and ``Z``. By default the sources
        and the sinks, in the order of ``graph.nodes``.

    Raises
    ------
    NetworkError
        A ``ValueError`` naming the node or edge that makes the graph
        unusable (see :func:`neurosim.graph.validate`).

    Examples
    --------
    The worked example of seed 000: a 2-2-2 identity network, one step.

    >>> import neurosim
    >>> G = neurosim.layered(
    ...     [2, 2, 2],
    ...     weights=[[[1.5, 2], [2, 2.5]], [[1.2, 2.5], [0.5, 1]]],
    ...     activation="identity",
    ... )
    >>> net = neurosim.Network(G)
    >>> net
    Network(2 inputs, 2 hidden, 2 outputs, 8 connections: identity)
    >>> history = net.train([[1, 1.5]], [[2.5, 3]], learning_rate=0.1)
    >>> round(float(history.loss[0]), 10)
    114.6753125
    >>> round(net.weights["h1", "o1"], 10)
    -1.39875
    """

    def __init__(
        self,
        graph: nx.DiGraph,
        inputs: Sequence[Node] | None = None,
        outputs: Sequence[Node] | None = None,
    ):
        topology = validate(graph, inputs, outputs)
        states = {}
        for v in topology.neurons:
            try:
                activation = get_activation(topology.activations[v])
            except ValueError as exc:
                raise NetworkError(f"node {v!r}: {exc}") from None
            bias = topology.biases[v]
            weights = [topology.weights[u, v] for u in topology.predecessors[v]]
            params = np.array([*weights, 0.0 if bias is None else bias])
            states[v] = NeuronState(v, activation, params, has_bias=bias is not None)
        self._graph = graph.copy()
        self._topology = topology
        self._states = states
        self._optimizer: Optimizer | None = None
        self._wirings: dict[Rule | None, list] = {}  # by rule: links are fixed
        self._workspace = None  # scratch memory reused by every run (already paged in)
        self.last_trace = None
        """The trace of the latest run made with ``record=True``."""

    # -- what the network is
    @property
    def topology(self) -> Topology:
        """The validated structure (node order, neighbours, delays)."""
        return self._topology

    @property
    def inputs(self) -> tuple[Node, ...]:
        """The input nodes, in the order of ``X``'s columns."""
        return self._topology.inputs

    @property
    def outputs(self) -> tuple[Node, ...]:
        """The output neurons, in the order of ``Z``'s columns."""
        return self._topology.outputs

    @property
    def nodes(self) -> tuple[Node, ...]:
        """Every node, inputs first, then the neurons in topological order."""
        return self._topology.nodes

    @property
    def weights(self) -> dict[tuple[Node, Node], float]:
        """The current weight of every connection, ``{(u, v): w}``."""
        return {
            (u, v): float(self._states[v].params[j])
            for v in self._topology.neurons
            for j, u in enumerate(self._topology.predecessors[v])
        }

    @property
    def biases(self) -> dict[Node, float]:
        """The current bias of every non-input neuron that has one, ``{v: b}``.

        A node whose ``bias`` attribute is ``None`` has no bias: it is left out.
        """
        return {v: float(s.params[-1]) for v, s in self._states.items() if s.has_bias}

    def to_graph(self) -> nx.DiGraph:
        """A new DiGraph like the one given, with the current weights and biases.

        Examples
        --------
        >>> import neurosim
        >>> net = neurosim.Network(neurosim.layered([1, 1], weights=[[[2.0]]]))
        >>> net.to_graph().edges["i1", "o1"]["weight"]
        2.0
        """
        G = self._graph.copy()
        for (u, v), w in self.weights.items():
            G.edges[u, v]["weight"] = w
        for v, b in self.biases.items():
            G.nodes[v]["bias"] = b
        return G

    def __repr__(self) -> str:
        t = self._topology
        n_hidden = len(t.neurons) - len(t.outputs)
        names = sorted({s.activation.name for s in self._states.values()})

        def count(n: int, what: str) -> str:
            return f"{n} {what}" if n == 1 else f"{n} {what}s"

        return (
            f"Network({count(len(t.inputs), 'input')}, {n_hidden} hidden, "
            f"{count(len(t.outputs), 'output')}, "
            f"{count(len(t.weights), 'connection')}: {', '.join(names)})"
        )

    # -- running it
    def train(
        self,
        X: ArrayLike,
        Z: ArrayLike,
        learning_rate: float | None = None,
        epochs: int = 1,
        batch_size: int = 1,
        *,
        optimizer: str | Optimizer = "sgd",
        rule: str | Rule = "backprop",
        record: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> History:
        """Train the network by running its neurons as trio tasks.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_inputs)
            Input values, one column per input node.
        Z : array_like, shape (n_samples, n_outputs)
            Targets, one column per output neuron.
        learning_rate : float, optional
            η. By default the optimizer's own default (0.1 for ``"sgd"``).
        epochs : int
            Passes through the samples, always in the given order.
        batch_size : int
            1 is online training (the article's iteration); larger values
            average the gradient over consecutive chunks of samples (the last
            may be shorter), one update per chunk, one message per connection
            carrying the whole chunk as a vector.
        optimizer : str or Optimizer
            ``"sgd"``, ``"momentum"``, ``"adagrad"``, ``"adam"`` or an object
            from :mod:`neurosim.optimizers`. Each neuron keeps the state of
            its own parameters; it persists across calls with an equal
            optimizer and starts afresh when the optimizer changes.
        rule : str or Rule
            What the neurons send back and learn with: ``"backprop"``
            (exact), ``"article"``, ``"feedback_alignment"``,
            ``"direct_feedback_alignment"``, or a :class:`neurosim.rules.Rule`.
        record : bool
            Keep every message and update in ``history.trace``.
        progress : callable, optional
            Called as ``progress(done, total)`` after every iteration.

        Returns
        -------
        History

        Raises
        ------
        DataError
            Before anything runs, for unusable arguments.
        DivergenceError
            If a value becomes infinite or NaN. The network then keeps the
            weights it had before the call.
        NeuronError
            If anything else fails inside a neuron.
        """
        with _gc_paused():
            return trio.run(
                lambda: self.train_async(
                    X,
                    Z,
                    learning_rate,
                    epochs,
                    batch_size,
                    optimizer=optimizer,
                    rule=rule,
                    record=record,
                    progress=progress,
                )
            )

    async def train_async(
        self,
        X: ArrayLike,
        Z: ArrayLike,
        learning_rate: float | None = None,
        epochs: int = 1,
        batch_size: int = 1,
        *,
        optimizer: str | Optimizer = "sgd",
        rule: str | Rule = "backprop",
        record: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> History:
        """:meth:`train`, for use inside a running trio program."""
        X = _samples(X, "X", len(self.inputs), "input node")
        Z = _samples(Z, "Z", len(self.outputs), "output neuron")
        if len(X) != len(Z):
            raise DataError(f"X has {len(X)} samples but Z has {len(Z)}")
        if learning_rate is not None and (
            not isinstance(learning_rate, Real)
            or isinstance(learning_rate, bool)
            or not math.isfinite(learning_rate)
            or learning_rate <= 0
        ):
            raise DataError(
                f"learning_rate must be a positive finite number, got {learning_rate!r}"
            )
        if not _is_int(epochs) or epochs < 1:
            raise DataError(f"epochs must be an integer >= 1, got {epochs!r}")
        if not _is_int(batch_size) or batch_size < 1:
            raise DataError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        try:
            opt = get_optimizer(optimizer, learning_rate)
            rule = get_rule(rule)
            wirings = self._wiring(rule)
        except ValueError as exc:
            raise DataError(str(exc)) from None

        if opt != self._optimizer:  # a new optimizer starts from a fresh state
            for s in self._states.values():
                s.optimizer_state = opt.init_state(len(s.params))
            self._optimizer = opt
        saved = {
            v: (s.params.copy(), copy.deepcopy(s.optimizer_state))
            for v, s in self._states.items()
        }
        rows, labels = _schedule(len(X), int(epochs), int(batch_size))
        try:
            result = await simulate(
                self._topology,
                self._states,
                wirings,
                X,
                Z,
                rows,
                labels,
                batched=batch_size > 1,
                optimizer=opt,
                rule=rule,
                record=record,
                progress=progress,
                workspace=self._workspace,
            )
        except BaseException:
            for v, (params, state) in saved.items():  # leave the network as it was
                self._states[v].params[:] = params
                self._states[v].optimizer_state = state
            raise
        self._workspace = result.workspace
        Zs = np.concatenate([Z] * epochs)
        loss = 0.5 * ((Zs - result.outputs) ** 2).sum(axis=1)
        trace = self._trace(result, labels, rule) if record else None
        return History(
            loss=loss,
            outputs=result.outputs,
            epochs=int(epochs),
            samples_per_epoch=len(X),
            batch_size=int(batch_size),
            ends=result.ends,
            trace=trace,
        )

    def predict(
        self, X: ArrayLike, *, batch_size: int | None = None, record: bool = False
    ) -> Array:
        """The outputs for each sample of `X`, computed by the actors.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_inputs)
        batch_size : int, optional
            Samples per forward wave; by default all of them in one wave.
        record : bool
            Keep the messages in :attr:`last_trace`.

        Returns
        -------
        ndarray, shape (n_samples, n_outputs)

        Examples
        --------
        >>> import neurosim
        >>> net = neurosim.Network(
        ...     neurosim.layered([1, 1], weights=[[[2.0]]], activation="identity")
        ... )
        >>> net.predict([[1.0], [3.0]])
        array([[2.],
               [6.]])
        """
        return trio.run(
            lambda: self.predict_async(X, batch_size=batch_size, record=record)
        )

    async def predict_async(
        self, X: ArrayLike, *, batch_size: int | None = None, record: bool = False
    ) -> Array:
        """:meth:`predict`, for use inside a running trio program."""
        X = _samples(X, "X", len(self.inputs), "input node")
        if batch_size is None:
            batch_size = len(X)
        elif not _is_int(batch_size) or batch_size < 1:
            raise DataError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        rows, labels = _schedule(len(X), 1, int(batch_size))
        result = await simulate(
            self._topology,
            self._states,
            self._wiring(None),
            X,
            None,
            rows,
            labels,
            batched=batch_size > 1,
            record=record,
            workspace=self._workspace,
        )
        self._workspace = result.workspace
        if record:
            self._trace(result, labels)
        return result.outputs

    def _wiring(self, rule: Rule | None) -> list:
        """The links of every node under `rule` (computed once per rule)."""
        try:
            return self._wirings[rule]
        except KeyError:
            wirings = self._wirings[rule] = wire(self._topology, rule)
            return wirings
        except TypeError:  # a rule that cannot be hashed: no caching
            return wire(self._topology, rule)

    def _trace(self, result: Result, labels, rule: Rule | None = None):
        """Turn the engine's raw records into a :class:`~neurosim.trace.Trace`."""
        from neurosim.trace import KINDS, Trace

        nodes = self._topology.nodes
        n = len(nodes)
        rank = {v: i for i, v in enumerate(nodes)}
        label_epoch = np.array([epoch for epoch, _ in labels], dtype=np.int64)
        label_sample = np.array([sample for _, sample in labels], dtype=np.int64)

        # A record is one sending: (iteration, source, kind, sent_at, links,
        # value or values, one value per link?); expand it to one row per link.
        records = result.messages
        links = [r[4] for r in records]
        counts = np.array([len(ls) for ls in links], dtype=np.intp)
        k, src, kind = (
            np.repeat(np.array([r[i] for r in records], dtype=np.intp), counts)
            for i in range(3)
        )
        sent = np.repeat(np.array([r[3] for r in records], dtype=np.float64), counts)
        ends: dict[int, tuple] = {}  # per link list: destinations and delays
        for ls in links:
            if id(ls) not in ends:
                ends[id(ls)] = (
                    np.array([link.destination for link in ls], dtype=np.intp),
                    np.array([link.delay for link in ls], dtype=np.float64),
                )
        dst = np.concatenate([ends[id(ls)][0] for ls in links] or [[]]).astype(np.intp)
        delay = np.concatenate([ends[id(ls)][1] for ls in links] or [[]])
        received = sent + delay  # the same float additions as the engine's
        kind = kind.astype(np.int8)
        if rule is not None and rule.direct:  # errors on channels of their own
            kind[kind == KINDS.index("backward")] = KINDS.index("feedback")
        if not records or isinstance(records[0][5], float):  # online: floats
            value = np.concatenate(
                [
                    np.array(v, dtype=np.float64) if each else np.full(len(ls), v)
                    for _, _, _, _, ls, v, each in records
                ]
                or [[]]
            )
        else:  # a batch's error message travels as (coefficient, g): record the product
            batch_values = []
            for _, _, _, _, ls, v, each in records:
                if each:
                    batch_values.extend(c * g for c, g in v)
                else:
                    batch_values.extend([v] * len(ls))
            value = np.empty(len(batch_values), dtype=object)
            for i, v in enumerate(batch_values):
                value[i] = v
        messages = {
            "epoch": label_epoch[k],
            "sample": label_sample[k],
            "kind": kind,
            "source": src,
            "destination": dst,
            "sent_at": sent,
            "received_at": received,
            "value": value,
        }

        # per neuron: the predecessor of each parameter (-1: the bias, if any)
        sources = {}
        for i in range(len(self._topology.inputs), n):
            v = nodes[i]
            bias = [-1] if self._states[v].has_bias else []
            preds = [rank[u] for u in self._topology.predecessors[v]]
            sources[i] = np.array(preds + bias, dtype=np.intp)
        records = result.updates
        sizes = [len(sources[i]) for _, i, _, _, _ in records]
        ks = np.repeat([r[0] for r in records], sizes).astype(np.intp)
        updates = {
            "epoch": label_epoch[ks],
            "sample": label_sample[ks],
            "neuron": np.repeat([r[1] for r in records], sizes),
            "source": np.concatenate([sources[r[1]] for r in records] or [[]]),
            "old": np.concatenate(
                [r[3][:m] for r, m in zip(records, sizes, strict=True)] or [[]]
            ),
            "new": np.concatenate(
                [r[4][:m] for r, m in zip(records, sizes, strict=True)] or [[]]
            ),
            "time": np.repeat([r[2] for r in records], sizes),
        }
        self.last_trace = Trace.from_columns(nodes, messages, updates)
        return self.last_trace


@contextmanager
def _gc_paused():
    """Pause Python's cyclic garbage collector for a whole simulation.

    Every message is a fresh tuple, a container the collector tracks, so its
    youngest generation would run every 700 messages and scan them all: 15 %
    to 25 % of a run's time on a 100-100-100 network. A simulation creates
    no reference cycles worth collecting while it runs. Only the synchronous
    ``train`` and ``predict``, which own the whole trio run, do this.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

"""The public face of the engine: :class:`Network` and :class:`History`."""

from __future__ import annotations

import copy
import functools
import gc
import hashlib
import itertools
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from numbers import Integral, Real
from typing import Any, ParamSpec, TypeVar

import networkx as nx
import numpy as np
import trio
from numpy.typing import ArrayLike, NDArray

from neurosim import backends, checkpoint
from neurosim._async import any_async_library, run_sync
from neurosim.activations import ACTIVATIONS, get_activation, registered_name
from neurosim.errors import (
    DataError,
    DivergenceError,
    NetworkBusyError,
    NetworkError,
    NeuronError,
    StopTraining,
)
from neurosim.faults import Faults
from neurosim.graph import Topology, validate
from neurosim.losses import resolve_loss, sample_losses
from neurosim.messages import SendRecord, StepRecord
from neurosim.model import NeuronState
from neurosim.optimizers import SGD, Adagrad, Adam, Momentum, Optimizer, get_optimizer
from neurosim.rules import RULES, Rule, get_rule
from neurosim.simulation import (
    Result,
    Schedule,
    Wires,
    explicit_drops,
    simulate,
    wire,
)
from neurosim.trace import Record, Trace

__all__ = ["History", "Network", "Position"]

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
    epochs : int
        The epochs the call took part in (all of the run's, unless it was
        interrupted or resumed: see :attr:`Network.position`).
    samples_per_epoch, batch_size : int
        The shape of the training run.
    ends : ndarray
        ``done(s)``: the virtual time of the last update of each iteration
        (sample or batch), in iteration order.
    entries : ndarray
        ``T_s``: the virtual time at which each iteration entered.
    trace : Trace or None
        Every message and update, when trained with ``record=True``.
    neurons : tuple
        The non-input neurons, in the order of :attr:`staleness`'s columns.
    stale : ndarray, shape (k, 3)
        The non-zero staleness entries as rows ``(iteration, neuron column,
        staleness)``: what :attr:`staleness` is built from (it stays small
        when iterations do not overlap).
    start : int
        How many samples of the run came before ``loss[0]``, across epochs:
        0 unless the call resumed an interrupted run.
    validation_loss : ndarray, shape (epochs,)
        With ``train(validation=(X, Z))``: after each epoch, the mean over the
        validation samples of ``E`` (the training's loss), the outputs
        computed as :meth:`Network.predict` does; empty otherwise.
    correct : ndarray of bool, shape (epochs * n_samples,)
        When the targets are classes: one-hot rows (each row of ``Z`` one 1
        and otherwise 0s, two or more outputs), whether the output that was
        largest for each sample, in training order and before its update as
        :attr:`loss`, was the target's class; one column of 0s and 1s,
        whether the output was above 0.5 for class 1 and not for class 0.
        Empty otherwise.
    validation_accuracy : ndarray, shape (epochs,)
        With validation targets that are classes (as for :attr:`correct`):
        after each epoch, the fraction of the validation samples classified
        right; empty otherwise.

    Histories of successive calls concatenate: ``h1 + h2`` (or
    :meth:`concat`).

    Examples
    --------
    >>> import neurosim
    >>> net = neurosim.Network(neurosim.layered([1, 1], weights=[[[0.5]]]))
    >>> h1 = net.train([[1.0]], [[1.0]], epochs=2)
    >>> h2 = net.train([[1.0]], [[1.0]], epochs=3)
    >>> h = h1 + h2
    >>> h.epochs, len(h.loss), bool(h.loss[2] == h2.loss[0])
    (5, 5, True)
    """

    loss: Array
    outputs: Array
    epochs: int
    samples_per_epoch: int
    batch_size: int
    ends: Array
    trace: Trace | None = field(default=None)
    entries: Array = field(default_factory=lambda: np.empty(0))
    neurons: tuple = ()
    stale: NDArray[np.int64] = field(
        default_factory=lambda: np.empty((0, 3), dtype=np.int64), repr=False
    )
    start: int = 0
    validation_loss: Array = field(default_factory=lambda: np.empty(0))
    correct: NDArray[np.bool_] = field(
        default_factory=lambda: np.empty(0, dtype=bool), repr=False
    )
    validation_accuracy: Array = field(default_factory=lambda: np.empty(0))

    @property
    def staleness(self) -> NDArray[np.int64]:
        """For each iteration and neuron, how many of the neuron's own updates
        happened between its forward and its backward step of that iteration.

        Shape ``(iterations, neurons)``, columns in the order of
        :attr:`neurons`; all zero when iterations do not overlap.
        """
        out = np.zeros((len(self.ends), len(self.neurons)), dtype=np.int64)
        s, column, value = self.stale.T
        out[s, column] = value
        return out

    @property
    def epoch_loss(self) -> Array:
        """The mean loss of each epoch (of the samples the call took of it)."""
        return self._per_epoch(self.loss)

    @property
    def accuracy(self) -> Array:
        """The fraction of each epoch's samples that were classified right.

        From :attr:`correct`: each sample's output, before its update,
        against its class. Empty when the targets are not classes.

        Examples
        --------
        >>> import neurosim
        >>> net = neurosim.Network(neurosim.layered([2, 2, 2], seed=0))
        >>> X, Z = [[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]
        >>> h = net.train(X, Z, 2.0, epochs=40)
        >>> float(h.accuracy[0]), float(h.accuracy[-1])
        (0.5, 1.0)
        """
        if len(self.correct) == 0:
            return np.empty(0)
        return self._per_epoch(self.correct.astype(np.float64))

    def _per_epoch(self, values: Array) -> Array:
        """The mean of `values` (one per sample, as :attr:`loss`) per epoch."""
        n = self.samples_per_epoch
        if self.start == 0 and len(values) == self.epochs * n:
            return values.reshape(self.epochs, n).mean(axis=1)
        epoch = (self.start + np.arange(len(values))) // n
        pieces = np.split(values, np.flatnonzero(np.diff(epoch)) + 1)
        return np.array([piece.mean() for piece in pieces])

    @property
    def duration(self) -> float:
        """Virtual time from the first input to the last update."""
        return float(self.ends[-1]) if len(self.ends) else 0.0

    @classmethod
    def concat(cls, histories: Iterable[History]) -> History:
        """One history of successive ``train`` calls, in the order given.

        Losses, outputs and staleness follow one another; the virtual times
        of each history are shifted by the durations of those before it, so
        that it starts when the one before ended. Epochs without validation
        have a NaN :attr:`validation_loss` when others have one. The traces
        are not joined: the result has none.

        Raises
        ------
        ValueError
            If `histories` is empty, or they differ in samples per epoch,
            batch size or neurons (they do not come from one network and
            data set).
        """
        hs = list(histories)
        if not hs or not all(isinstance(h, History) for h in hs):
            raise ValueError("History.concat needs one or more History objects")
        first = hs[0]
        for h in hs[1:]:
            for name in ("samples_per_epoch", "batch_size", "neurons"):
                if getattr(h, name) != getattr(first, name):
                    raise ValueError(
                        f"cannot concatenate histories with different {name}: "
                        f"{getattr(first, name)!r} and {getattr(h, name)!r}"
                    )
        shifts = np.cumsum([0.0] + [h.duration for h in hs[:-1]])
        counts = np.cumsum([0] + [len(h.ends) for h in hs[:-1]])
        with_validation = any(len(h.validation_loss) for h in hs)
        with_accuracy = any(len(h.validation_accuracy) for h in hs)
        classified = all(len(h.correct) == len(h.loss) for h in hs)
        shared = sum(  # a resumed piece that goes on with its epoch
            h.start == before.start + len(before.loss)
            and h.start % first.samples_per_epoch != 0
            for before, h in itertools.pairwise(hs)
        )
        return cls(
            loss=np.concatenate([h.loss for h in hs]),
            outputs=np.concatenate([h.outputs for h in hs]),
            epochs=sum(h.epochs for h in hs) - shared,
            start=first.start,
            samples_per_epoch=first.samples_per_epoch,
            batch_size=first.batch_size,
            ends=np.concatenate([h.ends + t for h, t in zip(hs, shifts, strict=True)]),
            entries=np.concatenate(
                [h.entries + t for h, t in zip(hs, shifts, strict=True)]
            ),
            neurons=first.neurons,
            stale=np.concatenate(
                [h.stale + np.array([k, 0, 0]) for h, k in zip(hs, counts, strict=True)]
            ),
            validation_loss=np.concatenate(
                [
                    h.validation_loss
                    if len(h.validation_loss) or not with_validation
                    else np.full(h.epochs, np.nan)
                    for h in hs
                ]
            ),
            correct=(
                np.concatenate([h.correct for h in hs])
                if classified
                else np.empty(0, dtype=bool)
            ),
            validation_accuracy=np.concatenate(
                [
                    h.validation_accuracy
                    if len(h.validation_accuracy) or not with_accuracy
                    else np.full(h.epochs, np.nan)
                    for h in hs
                ]
            ),
        )

    def __add__(self, other: object) -> History:
        if not isinstance(other, History):
            return NotImplemented
        return History.concat([self, other])

    def __repr__(self) -> str:
        loss = self.epoch_loss
        trace = "" if self.trace is None else f", trace={len(self.trace)} messages"
        validation = self.validation_loss
        if len(validation):
            trace = (
                f", validation loss {validation[0]:.6g} -> {validation[-1]:.6g}" + trace
            )
        change = f"epoch loss {loss[0]:.6g} -> {loss[-1]:.6g}" if len(loss) else "empty"
        accuracy = self.accuracy
        if len(accuracy):
            change += f", accuracy {accuracy[0]:.3g} -> {accuracy[-1]:.3g}"
        return (
            f"History(epochs={self.epochs}, "
            f"samples_per_epoch={self.samples_per_epoch}, "
            f"batch_size={self.batch_size}, {change}"
            f"{trace})"
        )


@dataclass(frozen=True, repr=False)
class Position:
    """Where an interrupted training run stands (see :attr:`Network.position`).

    A run is what one ``train`` call would do without `stop_after`: its
    ``epochs × ceil(samples_per_epoch / batch_size)`` iterations. The next
    iteration to run is number `sample` (the batch's index with
    ``batch_size > 1``) of epoch `epoch`, both counted from 0.

    Attributes
    ----------
    epoch, sample : int
        The next iteration of the run.
    iteration : int
        The same, counted from the run's start across epochs.
    epochs, batch_size, samples_per_epoch : int
        The run's shape.
    shuffle : bool
        Whether every epoch takes the samples in an order of its own.
    seed : int
        The seed of that order.
    optimizer, rule, loss
        What the run trains with.
    digest : str
        A SHA-256 of the run's ``X`` and ``Z``, to recognise them.
    shuffle_state : dict or None
        The state of the shuffling generator (numpy's PCG64) at the start of
        `epoch`, with `shuffle`.
    """

    epoch: int
    sample: int
    epochs: int
    batch_size: int
    samples_per_epoch: int
    shuffle: bool
    seed: int
    optimizer: Any
    rule: Any
    digest: str
    shuffle_state: dict | None = None
    loss: str = "squared"

    @property
    def iteration(self) -> int:
        n_chunks = -(-self.samples_per_epoch // self.batch_size)
        return self.epoch * n_chunks + self.sample

    def __repr__(self) -> str:
        return (
            f"Position(epoch={self.epoch}, sample={self.sample} of {self.epochs} "
            f"epochs x {self.samples_per_epoch} samples, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle})"
        )


def _digest(X: Array, Z: Array) -> str:
    h = hashlib.sha256()
    for a in (X, Z):
        h.update(repr(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


class _Plan:
    """The iterations ``first`` to ``stop`` of a run of ``total``, and their rows.

    With shuffling, ``X`` and ``Z`` become the rows of each epoch the call
    runs, in that epoch's order; :meth:`targets` are the rows of ``Z`` that the
    call's outputs compare with.
    """

    def __init__(self, X, Z, n, n_chunks, first, stop, total, key, digest, state):
        self.n_samples, self.first, self.stop, self.key = n, first, stop, key
        self.n_chunks, self.total, self.digest = n_chunks, total, digest
        self.state = None
        schedule = Schedule(n, key["epochs"], key["batch_size"], first=first)
        begin = schedule.position(first)
        first_epoch = first // n_chunks
        if key["shuffle"]:
            rng = np.random.default_rng(key["seed"])
            if state is not None:
                rng.bit_generator.state = state
            self.state = rng.bit_generator.state  # at the start of first_epoch
            orders = []
            for epoch in range(first_epoch, (stop - 1) // n_chunks + 1):
                orders.append(rng.permutation(n))
                if epoch + 1 == stop // n_chunks:  # where a later call starts
                    self.state = rng.bit_generator.state
            rows = np.concatenate(orders)
            X, Z = X[rows], Z[rows]
            self._offset, self._wrap = begin - first_epoch * n, None
        else:
            self._offset, self._wrap = begin, n
        self.X, self.Z = X, Z

    def targets(self, start: int, stop: int) -> NDArray[np.intp]:
        """The rows of ``Z`` of the call's samples ``start`` to ``stop``."""
        rows = np.arange(start, stop) + self._offset
        return rows if self._wrap is None else rows % self._wrap

    def next(self, optimizer, rule) -> Position | None:
        """Where the run stands after the call (None at its end)."""
        if self.stop == self.total:
            return None
        epoch, sample = divmod(self.stop, self.n_chunks)
        return Position(
            epoch,
            sample,
            samples_per_epoch=self.n_samples,
            optimizer=optimizer,
            rule=rule,
            digest=self.digest,
            shuffle_state=self.state,
            **self.key,
        )


Callback = Callable[[History], object]
"""``f(history)`` after each epoch; ``False`` stops training."""


def _callbacks(callbacks: object) -> list[Callback]:
    if callbacks is None:
        return []
    if callable(callbacks):
        return [callbacks]
    if isinstance(callbacks, str | bytes) or not isinstance(callbacks, Iterable):
        raise DataError(
            "callbacks must be a callable or a sequence of callables, "
            f"got {callbacks!r}"
        )
    callbacks = list(callbacks)
    for i, f in enumerate(callbacks):
        if not callable(f):
            raise DataError(f"callbacks[{i}] is {f!r}, which is not callable")
    return callbacks


def _first_iterations(result: Result, iterations: int, rows: int) -> Result:
    """`result` cut to its first iterations (a run that stopped early)."""
    return Result(
        outputs=result.outputs[:rows],
        entries=result.entries[:iterations],
        ends=result.ends[:iterations],
        stale=[x for x in result.stale if x[0] < iterations],
        messages=result.messages,
        updates=result.updates,
    )


def _is_int(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _finite_real(value: object) -> bool:
    """A real number (not a bool) that a float64 holds as a finite value."""
    if not isinstance(value, Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float64
        return False


def _samples(values: ArrayLike, name: str, columns: int, what: str) -> Array:
    try:
        array = np.array(values, dtype=float)  # a copy: the caller's data stays theirs
    except (TypeError, ValueError, OverflowError) as exc:
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


def _check_probabilities(Z: Array, name: str) -> None:
    """Cross-entropy compares outputs with targets in [0, 1]."""
    bad = np.argwhere((Z < 0) | (Z > 1))
    if len(bad):
        row, col = bad[0]
        raise DataError(
            f"{name}[{row}, {col}] is {Z[row, col]}; loss='cross_entropy' needs "
            "targets between 0 and 1"
        )


def _softmax_group(topology: Topology, states: dict) -> tuple[int, ...]:
    """The node indices of the softmax group, in output order (see design.md).

    Raises NetworkError unless every softmax neuron is an output without
    successors, every output is one, and there are at least two.
    """
    softmax = ACTIVATIONS["softmax"]
    members = [v for v in topology.neurons if states[v].activation is softmax]
    if not members:
        return ()
    outputs = topology.outputs
    for v in members:
        if v not in outputs:
            raise NetworkError(
                f"node {v!r} has activation 'softmax' but is not an output: "
                "softmax joins the outputs into one group"
            )
        if topology.successors[v]:
            raise NetworkError(
                f"node {v!r} has activation 'softmax' and successors "
                f"{list(topology.successors[v])!r}: a softmax output ends the network"
            )
    for o in outputs:
        if states[o].activation is not softmax:
            raise NetworkError(
                f"output {o!r} has activation {states[o].activation.name!r}, "
                "but the other outputs are a softmax group: all outputs or none"
            )
    if len(outputs) < 2:
        raise NetworkError(
            f"output {outputs[0]!r} is a softmax group of one (its y would "
            "always be 1): a softmax group needs at least two outputs"
        )
    rank = {v: i for i, v in enumerate(topology.nodes)}
    return tuple(rank[o] for o in outputs)


def _schedule_options(in_flight: object, interval: object) -> tuple[int | None, float]:
    if in_flight is not None and (not _is_int(in_flight) or in_flight < 1):
        raise DataError(f"in_flight must be an integer >= 1 or None, got {in_flight!r}")
    if not _finite_real(interval) or interval < 0:
        raise DataError(f"interval must be a finite number >= 0, got {interval!r}")
    return (None if in_flight is None else int(in_flight)), float(interval)


def _check_delays(topology: Topology, wires: Wires, why: str) -> None:
    """Every delay positive, as overlapping iterations and faults need."""
    for (u, v), d in topology.delays.items():
        if d <= 0:
            raise DataError(
                f"edge ({u!r}, {v!r}) has delay {d!r}; {why} needs every delay "
                "to be positive"
            )


_MOST_SAMPLES = 2**63 - 1
"""The most samples one training run may take (``epochs × n_samples``): a
run's iterations and samples are counted in 64-bit integers."""


_MOST_SHUFFLED_BYTES = 2**30
"""The most the reordered samples of one shuffled call may take."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _waits_its_turn(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Make a synchronous ``train`` or ``predict`` wait for the network.

    Calls from several threads take turns on a per-network lock: two runs at
    once would interleave their use of the network's parameters and of any
    buffer the network keeps for its runs, and commit results equal to
    neither order. ``predict`` takes the lock too, which is the simple sound
    choice while the engine may keep per-network scratch arrays. The lock is
    re-entrant: the ``*_async`` method the call runs in its own trio loop
    takes it again.
    """

    @functools.wraps(method)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with args[0]._lock:  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    return call


def _refused_while_busy(
    method: Callable[_P, Awaitable[_R]],
) -> Callable[_P, Coroutine[Any, Any, _R]]:
    """Make ``train_async`` or ``predict_async`` refuse to run beside another call.

    An async call must not block its event loop waiting for the lock, so
    when another call runs (a task of the same trio run, or another thread)
    it raises :class:`~neurosim.errors.NetworkBusyError` before any work.
    """

    @functools.wraps(method)
    async def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        self: Any = args[0]
        if not self._lock.acquire(blocking=False):
            raise NetworkBusyError(_BUSY)
        try:
            if self._running:  # another task of this thread's trio run
                raise NetworkBusyError(_BUSY)
            self._running = True
            try:
                return await method(*args, **kwargs)
            finally:
                self._running = False
        finally:
            self._lock.release()

    return call


_BUSY = (
    "the network is running another call (train or predict); one network runs "
    "one call at a time: await the other call first, or use a network of its own"
)


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
    backend : neurosim.backends.Local or neurosim.backends.Ray, optional
        Where the neurons run: by default trio tasks of the caller's trio
        run; :class:`neurosim.backends.Ray` puts them in partitions on Ray
        actors, with the same results bit for bit.

    Raises
    ------
    NetworkError
        A ``ValueError`` naming the node or edge that makes the graph
        unusable (see :func:`neurosim.graph.validate`).

    Examples
    --------
    The worked example (one backpropagation step by hand): a 2-2-2 identity
    network, one step.

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
        backend: Any = None,
    ):
        topology = validate(graph, inputs, outputs)
        if backend is None:
            backend = backends.Local()
        if not hasattr(backend, "local"):
            raise NetworkError(
                "backend must be neurosim.backends.Local() or "
                f"neurosim.backends.Ray(...), got {backend!r}"
            )
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
        # the node indices of the softmax group, in output order (or none)
        self._group = _softmax_group(topology, states)
        self.backend = backend
        """Where the neurons run (:mod:`neurosim.backends`)."""
        self._graph = _GraphCopy(graph, topology)
        self._topology = topology
        self._states = states
        self._optimizer: Optimizer | None = None
        self._rule: Rule | None = None  # of the latest training
        self._position: Position | None = None
        # the links under the latest rules (and predict's): fixed, but large
        self._wirings: OrderedDict[Rule | None, Wires] = OrderedDict()
        # one call at a time (see _waits_its_turn and _refused_while_busy)
        self._lock = threading.RLock()
        self._running = False
        self.last_trace: Trace | None = None
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

    @property
    def position(self) -> Position | None:
        """Where the interrupted training run stands, or None.

        A ``train`` call with `stop_after` that stops before the end of its
        run leaves it here; ``train(..., resume=True)`` with the same
        samples and settings goes on from it. ``None`` when the latest run
        went to its end (or there was none).
        """
        return self._position

    def to_graph(self) -> nx.DiGraph:
        """A new DiGraph like the one given, with the current weights and biases.

        Every attribute is a copy: changing the result (nested values
        included) changes neither the network nor the graph it was made
        from. A neuron without bias (``bias=None`` in the given graph) has
        ``bias`` NaN, and an activation given as an object known by name
        (built in, or :func:`neurosim.register_activation`) is written as
        that name: GraphML and JSON have no None and no functions, so the
        result can be written with ``nx.write_graphml`` or as node-link JSON
        (``nx.node_link_data``) whenever the given graph's other attributes
        can. ``Network`` reads a NaN bias as no bias, so a graph read back
        gives a network with the same nodes, weights, biases, activations
        and delays. (GraphML reads node names back as strings.)

        Examples
        --------
        >>> import neurosim
        >>> net = neurosim.Network(neurosim.layered([1, 1], weights=[[[2.0]]]))
        >>> net.to_graph().edges["i1", "o1"]["weight"]
        2.0
        >>> net = neurosim.Network(neurosim.examples.worked_example())
        >>> net.to_graph().nodes["h1"]["bias"]
        nan
        """
        unbiased = [v for v, s in self._states.items() if not s.has_bias]
        return self._graph.rebuild(self.weights, self.biases, unbiased)

    def save(self, path: str | os.PathLike) -> None:
        """Write everything the network is and knows to one file at `path`.

        The graph and its node order, the weights and biases, the
        activations (by name), the delays, the optimizer and every neuron's
        optimizer state, an interrupted run's :attr:`position` (its rule,
        its shuffling generator's state): :func:`neurosim.load` gives a
        network that trains on bit for bit as this one would. The file is an
        ``.npz`` archive (numbers only, read without pickle) with a JSON
        manifest, written to a temporary file in the same folder and then
        renamed over `path`: a crash never leaves half a file.

        Raises
        ------
        DataError
            Before writing, for what cannot be saved: a custom activation
            that is not registered (:func:`neurosim.register_activation`), a
            custom optimizer or rule, an attribute or node name that is not
            a number, string, boolean, None, or a list, tuple or dict of
            them.

        Examples
        --------
        >>> import neurosim, os, tempfile
        >>> net = neurosim.Network(neurosim.examples.worked_example())
        >>> history = net.train([[1.0, 1.5]], [[2.5, 3.0]], learning_rate=0.1)
        >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
        >>> net.save(path)
        >>> neurosim.load(path).weights == net.weights
        True
        """
        checkpoint.save(self, path)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_wirings"] = OrderedDict()  # recomputed when needed
        del state["_lock"], state["_running"]  # a new network is not busy
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock, self._running = threading.RLock(), False

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
    @_waits_its_turn
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
        loss: str | None = None,
        in_flight: int | None = 1,
        interval: float = 0.0,
        stash: bool = False,
        faults: Faults | None = None,
        record: bool | Record = False,
        progress: Callable[[int, int], None] | None = None,
        shuffle: bool = False,
        seed: int = 0,
        stop_after: int | None = None,
        resume: bool = False,
        callbacks: Callback | Sequence[Callback] | None = None,
        validation: tuple[ArrayLike, ArrayLike] | None = None,
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
            Passes through the samples, in the given order unless `shuffle`;
            epochs continue one stream of iterations.
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
        loss : {None, "squared", "cross_entropy"}
            What training minimises (:mod:`neurosim.losses`): the squared
            error ``½ Σ (z − y)²``, or cross-entropy (``−Σ z·log y`` over a
            softmax group; binary cross-entropy for sigmoid outputs, with
            targets between 0 and 1). ``None`` is cross-entropy when the
            outputs are a softmax group (``activation="softmax"``), the
            squared error otherwise.
        in_flight : int or None
            How many iterations may be in the network at once (``K``): an
            iteration enters when the one ``K`` before it is done. 1 (the
            default) is the article's schedule, one after the other; ``None``
            lets every iteration in as soon as `interval` allows.
        interval : float
            The least virtual time between two entries.
        stash : bool
            Error messages carry the weights the forward step used
            (PipeDream's weight stashing) instead of the current ones.
        faults : Faults, optional
            Lost, duplicated and late messages (:class:`neurosim.Faults`).
        record : bool or Record
            ``True`` keeps every message and update in ``history.trace``;
            a :class:`neurosim.Record` keeps only what it selects (kinds,
            neurons, samples, epochs), chosen before the run starts.
        progress : callable, optional
            Called as ``progress(done, total)`` each time an iteration is done.
        shuffle : bool
            Take the samples of every epoch in an order of its own, drawn
            with numpy's ``default_rng(seed)``: epoch ``e`` takes the rows
            ``X[p_e]``, ``p_e`` the generator's ``e``-th ``permutation`` (as
            :func:`neurosim.reference.train`). The batches are then
            consecutive chunks of that order. The call keeps the reordered
            samples of every epoch it runs.
        seed : int
            The seed of the shuffling.
        stop_after : int, optional
            Run at most this many iterations (samples, or batches), then
            stop: when that is before the end of the run, the network keeps
            where it stopped in :attr:`position`.
        resume : bool
            Go on with the interrupted run from :attr:`position` instead of
            starting one: `X`, `Z`, `epochs`, `batch_size`, `shuffle`,
            `seed`, the optimizer and the rule must be those of that run.
            With one iteration in flight, training a run in pieces this way
            (even across :meth:`save` and :func:`neurosim.load`) gives the
            numbers of training it in one call, bit for bit. The schedule's
            times and the faults' decisions start afresh with each call.
        callbacks : callable or sequence of callables, optional
            Each is called as ``f(history)`` after every epoch, in order, with
            the :class:`History` of the epochs done so far (without a trace).
            Returning ``False`` or raising :class:`neurosim.StopTraining`
            ends training there: the network keeps the weights of that epoch
            and the history holds the epochs done. Any other exception fails
            the call (the network keeps the weights it had before it). A
            callback runs inside the simulation: it may read the network
            (``net.weights``, ``net.to_graph()``), not train or predict with
            it. Needs ``in_flight=1``.
        validation : (X, Z), optional
            Samples to evaluate after every epoch without changing the
            weights, as :meth:`predict` computes them:
            ``history.validation_loss``. Needs ``in_flight=1``.

        Returns
        -------
        History

        Raises
        ------
        DataError
            Before anything runs, for unusable arguments (among them a delay
            that is not positive while iterations overlap or faults are on).
        DivergenceError
            If a value becomes infinite or NaN.
        StalledError
            If a neuron waits for a message that will never arrive.
        NeuronError
            If anything else fails inside a neuron, or, before the run, if a
            custom activation, rule or optimizer gives arrays of the wrong
            shape (each is called once on zeros of the run's shapes).

        After any error, cancellation or ``KeyboardInterrupt`` the network
        keeps the weights, biases and optimizer state it had before the call:
        the run works on copies, committed at the end. Calls from several
        threads take turns (see :meth:`train_async` for trio).

        Examples
        --------
        Two samples in flight on the worked example: the second enters one
        unit of time after the first, and its hidden neurons see weights one
        update old.

        >>> import neurosim
        >>> net = neurosim.Network(neurosim.examples.worked_example())
        >>> X, Z = [[1.0, 1.5], [1.0, 1.5]], [[2.5, 3.0], [2.5, 3.0]]
        >>> history = net.train(X, Z, learning_rate=0.02, in_flight=2, interval=1)
        >>> history.entries, history.ends
        (array([0., 1.]), array([3., 4.]))
        >>> history.staleness[1]  # h1, h2, o1, o2
        array([1, 1, 0, 0])

        A run in two pieces: the first two samples of the second epoch, then
        the rest.

        >>> net = neurosim.Network(neurosim.layered([2, 2, 1], seed=0))
        >>> X, Z = [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]]
        >>> history = net.train(X, Z, epochs=3, shuffle=True, stop_after=6)
        >>> net.position
        Position(epoch=1, sample=2 of 3 epochs x 4 samples, batch_size=1, shuffle=True)
        >>> history = net.train(X, Z, epochs=3, shuffle=True, resume=True)
        >>> len(history.loss), history.start, net.position
        (6, 6, None)

        Three classes with a softmax group: the outputs exchange their ``e``
        as messages, and the loss is cross-entropy.

        >>> G = neurosim.layered([2, 4, 3], activation=["tanh", "softmax"], seed=0)
        >>> net = neurosim.Network(G)
        >>> X, Z = [[0, 1], [1, 0], [1, 1]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
        >>> history = net.train(X, Z, learning_rate=0.5, epochs=200)
        >>> history.accuracy[-1], net.predict(X).sum(axis=1).round(12)
        (np.float64(1.0), array([1., 1., 1.]))

        Validation data, and a callback that stops when it is good enough:

        >>> net = neurosim.Network(neurosim.examples.worked_example())
        >>> history = net.train(
        ...     [[1.0, 1.5]],
        ...     [[2.5, 3.0]],
        ...     learning_rate=0.02,
        ...     epochs=100,
        ...     validation=([[1.0, 1.5]], [[2.5, 3.0]]),
        ...     callbacks=[lambda h: h.validation_loss[-1] > 1e-6],
        ... )
        >>> history.epochs, bool(history.validation_loss[-1] <= 1e-6)
        (9, True)
        """
        with _gc_paused():
            return run_sync(
                "Network.train",
                "net.train_async",
                lambda: self.train_async(
                    X,
                    Z,
                    learning_rate,
                    epochs,
                    batch_size,
                    optimizer=optimizer,
                    rule=rule,
                    loss=loss,
                    in_flight=in_flight,
                    interval=interval,
                    stash=stash,
                    faults=faults,
                    record=record,
                    progress=progress,
                    shuffle=shuffle,
                    seed=seed,
                    stop_after=stop_after,
                    resume=resume,
                    callbacks=callbacks,
                    validation=validation,
                ),
            )

    @any_async_library
    @_refused_while_busy
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
        loss: str | None = None,
        in_flight: int | None = 1,
        interval: float = 0.0,
        stash: bool = False,
        faults: Faults | None = None,
        record: bool | Record = False,
        progress: Callable[[int, int], None] | None = None,
        shuffle: bool = False,
        seed: int = 0,
        stop_after: int | None = None,
        resume: bool = False,
        callbacks: Callback | Sequence[Callback] | None = None,
        validation: tuple[ArrayLike, ArrayLike] | None = None,
    ) -> History:
        """:meth:`train`, to be awaited under trio or asyncio (Jupyter).

        Under trio it runs in the caller's run. Under asyncio it runs the trio
        simulation in a worker thread, so the loop serves its other tasks
        meanwhile (`progress` and `callbacks` are then called from that
        thread); cancelling the awaiting task stops the simulation and leaves
        the network as it was.

        Raises :class:`~neurosim.errors.NetworkBusyError` if the network is
        running another call (another task, or another thread): an async call
        cannot wait for its turn without blocking the event loop.
        """
        X = _samples(X, "X", len(self.inputs), "input node")
        Z = _samples(Z, "Z", len(self.outputs), "output neuron")
        if len(X) != len(Z):
            raise DataError(f"X has {len(X)} samples but Z has {len(Z)}")
        if learning_rate is not None and (
            not _finite_real(learning_rate) or learning_rate <= 0
        ):
            raise DataError(
                f"learning_rate must be a positive finite number, got {learning_rate!r}"
            )
        if not _is_int(epochs) or epochs < 1:
            raise DataError(f"epochs must be an integer >= 1, got {epochs!r}")
        if epochs * len(X) > _MOST_SAMPLES:
            raise DataError(
                f"epochs={epochs} with {len(X)} samples per epoch is too many: "
                f"a run takes at most {_MOST_SAMPLES} samples in all"
            )
        if not _is_int(batch_size) or batch_size < 1:
            raise DataError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        in_flight, interval = _schedule_options(in_flight, interval)
        self._check_record(record)
        if not isinstance(stash, bool):
            raise DataError(f"stash must be True or False, got {stash!r}")
        if faults is not None and not isinstance(faults, Faults):
            raise DataError(f"faults must be a neurosim.Faults, got {faults!r}")
        if progress is not None and not callable(progress):
            raise DataError(
                f"progress must be a callable progress(done, total) or None, "
                f"got {progress!r}"
            )
        callbacks = _callbacks(callbacks)
        if validation is not None:
            validation = self._validation(validation)
        try:
            opt = get_optimizer(optimizer, learning_rate)
            rule = get_rule(rule)
            wires = self._wiring(rule)
            loss = resolve_loss(
                loss,
                [self._states[o].activation.name for o in self.outputs],
                self.outputs,
            )
        except ValueError as exc:
            raise DataError(str(exc)) from None
        if loss == "cross_entropy":
            _check_probabilities(Z, "Z")
            for o in self.outputs:  # where g = z − y would not be −∂E/∂e
                if self._topology.successors[o]:
                    raise DataError(
                        "loss='cross_entropy' needs outputs without successors: "
                        f"output {o!r} feeds {list(self._topology.successors[o])!r}"
                    )
        if faults is not None and self._group:
            raise DataError(
                "faults= with a softmax group is not supported: the softmax "
                "messages have no rule for a lost e yet"
            )
        if (callbacks or validation is not None) and not self.backend.local:
            raise DataError(
                f"callbacks and validation run on this process's copy of the "
                f"weights, which {self.backend!r} keeps in its partitions until "
                "the end of the run: train epoch by epoch instead"
            )
        if (callbacks or validation is not None) and (resume or stop_after):
            raise DataError(
                "callbacks and validation work on whole runs: they cannot be "
                "combined with stop_after or resume (a callback can stop training "
                "itself, and save the network with net.save)"
            )
        plan = self._plan(
            X, Z, int(epochs), int(batch_size), shuffle, seed, stop_after, resume, loss
        )
        if resume:
            self._check_resume(opt, rule)
        X, Z = plan.X, plan.Z
        schedule = Schedule(
            plan.n_samples,
            int(epochs),
            int(batch_size),
            in_flight,
            interval,
            first=plan.first,
            stop=plan.stop,
            shuffled=shuffle,
        )
        self._check_schedule(schedule, wires, faults)
        if (callbacks or validation is not None) and in_flight != 1:
            raise DataError(
                f"callbacks and validation need in_flight=1, got {in_flight!r}: "
                "with iterations in flight together no moment separates two epochs"
            )

        # The run works on copies, committed once nothing can fail any more:
        # an error, a cancellation or an interrupt leaves the network as it was.
        fresh = opt != self._optimizer  # a new optimizer starts from a fresh state
        states = {
            v: NeuronState(
                v,
                s.activation,
                s.params.copy(),
                (
                    opt.init_state(len(s.params))
                    if fresh
                    else copy.deepcopy(s.optimizer_state)
                ),
                s.has_bias,
            )
            for v, s in self._states.items()
        }
        _probe(self._topology, states, wires, schedule, opt, rule)
        epoch_end = (
            _EpochEnd(
                self,
                states,
                opt,
                Z,
                plan.targets,
                schedule,
                callbacks,
                validation,
                loss,
            )
            if callbacks or validation is not None
            else None
        )
        try:
            result = await simulate(
                self._topology,
                states,
                wires,
                X,
                Z,
                schedule,
                optimizer=opt,
                rule=rule,
                stash=stash,
                faults=faults,
                record=record,
                progress=progress,
                epoch_end=epoch_end,
                cross_entropy=loss == "cross_entropy",
                backend=self.backend,
            )
        except DivergenceError as error:
            so_far = error.__dict__.pop("_so_far", None)
            if so_far is not None and error.training:
                error.history = self._history_so_far(
                    so_far, schedule, Z, plan, epoch_end, loss
                )
            raise
        validation: tuple[Array | None, Array | None] = (None, None)
        if epoch_end is not None:  # it may have stopped early
            done, validation = epoch_end.epochs_done, epoch_end.validated
            if done < epochs:
                schedule = replace(schedule, stop=done * schedule.n_chunks)
                result = _first_iterations(result, len(schedule), schedule.n_rows)
        targets = Z[plan.targets(0, len(result.outputs))]
        trace = self._trace(result, schedule, record) if record else None
        history = self._history(result, schedule, targets, trace, validation, loss)
        position = plan.next(opt, rule)
        self._commit(states, opt, trace if record else self.last_trace, rule, position)
        return history

    @trio.lowlevel.enable_ki_protection
    def _commit(
        self,
        states: dict,
        optimizer: Optimizer | None,
        trace,
        rule: Rule | None,
        position: Position | None,
    ) -> None:
        """Install a run's results all at once (a Ctrl-C waits until it is done)."""
        self._states, self._optimizer, self.last_trace = states, optimizer, trace
        self._rule, self._position = rule, position

    @contextmanager
    def _showing(self, states: dict, optimizer: Optimizer | None):
        """The network as a run in progress has it, for its callbacks to read.

        The run works on copies (see :meth:`train_async`); while a callback
        runs, the network shows them, then goes back to what it had, which
        stays its state unless the run ends well.
        """
        saved = self._states, self._optimizer
        self._states, self._optimizer = states, optimizer
        try:
            yield
        finally:
            self._states, self._optimizer = saved

    def _plan(self, X, Z, epochs, batch_size, shuffle, seed, stop_after, resume, loss):
        """Which iterations of the run this call takes, and on which rows."""
        for name, flag in (("shuffle", shuffle), ("resume", resume)):
            if not isinstance(flag, bool):
                raise DataError(f"{name} must be True or False, got {flag!r}")
        if not _is_int(seed):
            raise DataError(f"seed must be an integer, got {seed!r}")
        if stop_after is not None and (not _is_int(stop_after) or stop_after < 1):
            raise DataError(
                f"stop_after must be an integer >= 1 or None, got {stop_after!r}"
            )
        n = len(X)
        key = {
            "epochs": epochs,
            "batch_size": batch_size,
            "shuffle": shuffle,
            "seed": int(seed),
            "loss": loss,
        }
        first, state = 0, None
        if resume:
            p = self._position
            if p is None:
                raise DataError(
                    "resume=True, but no run was interrupted (train with "
                    "stop_after=, or load a network saved in the middle of a run)"
                )
            for name, value in key.items():
                if name == "seed" and not shuffle:
                    continue  # unused
                if getattr(p, name) != value:
                    raise DataError(
                        f"resume=True goes on with the interrupted run, which has "
                        f"{name}={getattr(p, name)!r}; this call has {name}={value!r}"
                    )
            if p.samples_per_epoch != n or p.digest != _digest(X, Z):
                raise DataError(
                    "resume=True: X and Z are not the samples of the interrupted "
                    f"run ({p.samples_per_epoch} samples per epoch)"
                )
            first, state = p.iteration, p.shuffle_state
        n_chunks = -(-n // batch_size)
        total = epochs * n_chunks
        stop = total if stop_after is None else min(total, first + int(stop_after))
        if shuffle:  # the call keeps the rows of each of its epochs, in their order
            n_epochs = (stop - 1) // n_chunks - first // n_chunks + 1
            size = n_epochs * n * (X.shape[1] + Z.shape[1]) * 8
            if size > _MOST_SHUFFLED_BYTES:
                raise DataError(
                    f"shuffle=True keeps the samples of every epoch a call runs, "
                    f"in that epoch's order: {n_epochs} epochs would take "
                    f"{size / 2**30:.1f} GiB; train fewer epochs per call "
                    "(stop_after=, then resume=True, goes on with the same run)"
                )
        digest = p.digest if resume else _digest(X, Z) if stop < total else ""
        return _Plan(X, Z, n, n_chunks, first, stop, total, key, digest, state)

    def _check_resume(self, optimizer: Optimizer, rule: Rule) -> None:
        p = self._position
        for name, mine, theirs in (
            ("optimizer", optimizer, p.optimizer),
            ("rule", rule, p.rule),
        ):
            if mine != theirs:
                raise DataError(
                    f"resume=True goes on with the interrupted run, which trains "
                    f"with {name} {theirs!r}; this call has {mine!r}"
                )

    def _validation(self, validation: object) -> tuple[Array, Array]:
        if not isinstance(validation, tuple | list) or len(validation) != 2:
            raise DataError(
                f"validation must be a pair (X, Z) of samples, got {validation!r}"
            )
        X = _samples(validation[0], "validation X", len(self.inputs), "input node")
        Z = _samples(validation[1], "validation Z", len(self.outputs), "output neuron")
        if len(X) != len(Z):
            raise DataError(
                f"validation X has {len(X)} samples but validation Z has {len(Z)}"
            )
        return X, Z

    def _history(
        self,
        result: Result,
        schedule: Schedule,
        targets: Array,
        trace: Trace | None,
        validation: tuple[Array | None, Array | None] = (None, None),
        loss: str = "squared",
    ) -> History:
        """The History of `result`; `targets` are the rows of Z of its
        outputs, `validation` the validation losses and accuracies so far,
        `loss` the name of the loss."""
        outputs = result.outputs
        # the finite outputs before a divergence: E may overflow
        losses = sample_losses(loss, targets, outputs, softmax=bool(self._group))
        validation_loss, validation_accuracy = validation
        n_in = len(self.inputs)
        first_epoch = schedule.first // schedule.n_chunks
        last_epoch = (schedule.end - 1) // schedule.n_chunks
        return History(
            loss=losses,
            outputs=result.outputs,
            epochs=last_epoch - first_epoch + 1,
            samples_per_epoch=schedule.n_samples,
            batch_size=schedule.batch_size,
            ends=result.ends,
            trace=trace,
            entries=result.entries,
            neurons=self._topology.neurons,
            stale=np.array(
                [(s, i - n_in, k) for s, i, k in result.stale], dtype=np.int64
            ).reshape(-1, 3),
            start=schedule.position(schedule.first),
            validation_loss=(
                np.empty(0) if validation_loss is None else validation_loss.copy()
            ),
            correct=_correct(outputs, targets),
            validation_accuracy=(
                np.empty(0)
                if validation_accuracy is None
                else validation_accuracy.copy()
            ),
        )

    def _history_so_far(
        self, so_far: Result, schedule: Schedule, Z, plan, epoch_end, loss: str
    ) -> History:
        """The history of the iterations done before a divergence: what
        ``stop_after=`` the first of the others would have returned."""
        done = len(so_far.ends)
        targets = Z[plan.targets(0, len(so_far.outputs))]
        validation = (None, None) if epoch_end is None else epoch_end.validated
        stopped = replace(schedule, stop=schedule.first + done)
        return self._history(so_far, stopped, targets, None, validation, loss)

    def _check_record(self, record: object) -> None:
        if isinstance(record, Record):
            unknown = [v for v in record.neurons or () if v not in self._states]
            unknown = [v for v in unknown if v not in self._topology.inputs]
            if unknown:
                raise DataError(f"Record names nodes not in the network: {unknown!r}")
        elif not isinstance(record, bool):
            raise DataError(
                f"record must be True, False or a neurosim.Record, got {record!r}"
            )

    def _check_schedule(self, schedule: Schedule, wires: Wires, faults) -> None:
        if faults is not None:
            _check_delays(self._topology, wires, "faults=")
            explicit_drops(faults, wires, self._topology)  # names what it drops
        elif schedule.in_flight != 1:
            _check_delays(self._topology, wires, f"in_flight={schedule.in_flight}")
        elif schedule.interval > 0:
            _check_delays(self._topology, wires, f"interval={schedule.interval}")

    @_waits_its_turn
    def predict(
        self,
        X: ArrayLike,
        *,
        batch_size: int | None = None,
        in_flight: int | None = 1,
        interval: float = 0.0,
        record: bool | Record = False,
    ) -> Array:
        """The outputs for each sample of `X`, computed by the actors.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_inputs)
        batch_size : int, optional
            Samples per forward wave; by default all of them in one wave.
        in_flight, interval
            The schedule of the waves, as in :meth:`train` (they change the
            virtual times, not the outputs).
        record : bool or Record
            Keep the messages (or those a :class:`neurosim.Record` selects) in
            :attr:`last_trace`.

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
        return run_sync(
            "Network.predict",
            "net.predict_async",
            lambda: self.predict_async(
                X,
                batch_size=batch_size,
                in_flight=in_flight,
                interval=interval,
                record=record,
            ),
        )

    @any_async_library
    @_refused_while_busy
    async def predict_async(
        self,
        X: ArrayLike,
        *,
        batch_size: int | None = None,
        in_flight: int | None = 1,
        interval: float = 0.0,
        record: bool | Record = False,
    ) -> Array:
        """:meth:`predict`, to be awaited under trio or asyncio (Jupyter).

        Runs as :meth:`train_async` does.

        Raises :class:`~neurosim.errors.NetworkBusyError` if the network is
        running another call, as :meth:`train_async` does.
        """
        X = _samples(X, "X", len(self.inputs), "input node")
        if batch_size is None:
            batch_size = len(X)
        elif not _is_int(batch_size) or batch_size < 1:
            raise DataError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        in_flight, interval = _schedule_options(in_flight, interval)
        self._check_record(record)
        wires = self._wiring(None)
        schedule = Schedule(len(X), 1, int(batch_size), in_flight, interval)
        self._check_schedule(schedule, wires, None)
        _probe(self._topology, self._states, wires, schedule)
        result = await simulate(
            self._topology,
            self._states,
            wires,
            X,
            None,
            schedule,
            record=record,
            backend=self.backend,
        )
        if record:
            self.last_trace = self._trace(result, schedule, record)
        return result.outputs

    _WIRINGS_KEPT = 2  # a training rule and predict's, used in turn

    def _wiring(self, rule: Rule | None) -> Wires:
        """The links of every node under `rule`, kept for the latest rules.

        They take megabytes on a large network, so only the two used last
        are kept (a sweep over many rules would otherwise keep them all).
        """
        wirings = self._wirings
        try:
            wires = wirings[rule]
        except KeyError:
            wires = wirings[rule] = wire(self._topology, rule, self._group)
            while len(wirings) > self._WIRINGS_KEPT:
                wirings.popitem(last=False)
        except TypeError:  # a rule that cannot be hashed: no caching
            return wire(self._topology, rule, self._group)
        wirings.move_to_end(rule)
        return wires

    def _trace(self, result: Result, schedule: Schedule, record: bool | Record):
        """Turn the engine's records into a :class:`~neurosim.trace.Trace`."""
        nodes = self._topology.nodes
        keep = None
        if isinstance(record, Record) and record.neurons is not None:
            keep = np.isin(
                np.arange(len(nodes)), [nodes.index(v) for v in record.neurons]
            )
        messages = _message_columns(result.messages, schedule, keep)
        # in the trace's order (iteration, time, neuron): the tables then need
        # no sort
        steps = sorted(
            result.updates or [], key=lambda r: (r.iteration, r.time, r.neuron)
        )
        chosen = record if isinstance(record, Record) else Record()
        updates = _update_columns(
            [r for r in steps if r.old is not None] if chosen.wants_updates else [],
            self,
            schedule,
        )
        internals = _internal_columns(steps if chosen.wants_internals else [], schedule)
        return Trace.from_columns(nodes, messages, updates, internals)


def load(path: str | os.PathLike) -> Network:
    """Read a network written by :meth:`neurosim.Network.save`.

    It trains on exactly as the saved one would have: same weights, biases,
    activations, delays, optimizer and optimizer state, and the interrupted
    run's :attr:`~neurosim.Network.position` (go on with
    ``train(..., resume=True)``).

    Raises
    ------
    DataError
        Naming the file, if it is not a saved network, is damaged or cut
        short, was written by a newer neurosim (a newer format version), or
        uses an activation name not registered in this program.
    FileNotFoundError
        If there is no file at `path`.

    Examples
    --------
    >>> import neurosim, os, tempfile
    >>> net = neurosim.Network(neurosim.examples.worked_example())
    >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> net.save(path)
    >>> neurosim.load(path)
    Network(2 inputs, 2 hidden, 2 outputs, 8 connections: identity)
    """
    return checkpoint.read(path, Network, Position)


def _correct(outputs: Array, targets: Array) -> NDArray[np.bool_]:
    """Per sample, whether the output gives the target's class; empty unless
    the targets are classes: one-hot rows (one 1, otherwise 0s; the largest
    output is the class), or one column of 0s and 1s (an output above 0.5 is
    class 1)."""
    if targets.ndim != 2 or len(targets) == 0:
        return np.empty(0, dtype=bool)
    if not bool(np.all((targets == 0) | (targets == 1))):
        return np.empty(0, dtype=bool)
    if targets.shape[1] == 1:
        return (outputs[:, 0] > 0.5) == (targets[:, 0] == 1)
    if not bool(np.all(targets.sum(axis=1) == 1)):
        return np.empty(0, dtype=bool)
    return np.argmax(outputs, axis=1) == np.argmax(targets, axis=1)


class _EpochEnd:
    """What the conductor awaits after each epoch: the validation, the callbacks.

    It keeps the loss of the epochs done (one epoch computed at a time) and
    how many epochs were done, which is less than asked when it stopped.
    """

    def __init__(
        self,
        net: Network,
        states: dict,
        optimizer: Optimizer,
        Z: Array,
        targets: Callable[[int, int], NDArray[np.intp]],
        schedule: Schedule,
        callbacks: list[Callback],
        validation: tuple[Array, Array] | None,
        loss: str,
    ):
        # targets(start, stop): the rows of Z of the call's samples start:stop
        self.net, self.Z, self.targets, self.schedule = net, Z, targets, schedule
        self.loss = loss
        self.callbacks, self.validation = callbacks, validation
        self.validation_losses: list[float] = []
        self.validation_accuracies: list[float] = []
        self.epochs_done = 0
        self.validated: tuple[Array | None, Array | None] = (None, None)
        # the neuron states (copies) and the optimizer the run trains
        self.states, self.optimizer = states, optimizer
        if validation is not None:
            self.wires = net._wiring(None)
            self.forward = Schedule(len(validation[0]), 1, len(validation[0]))

    async def __call__(self, epoch: int, so_far: Result) -> bool:
        """Evaluate, then call the callbacks; True: stop after this epoch."""
        net, n = self.net, self.schedule.n_samples
        self.epochs_done = done = epoch + 1
        if self.validation is not None:
            X, Z = self.validation
            result = await simulate(  # predict's own forward wave
                net._topology, self.states, self.wires, X, None, self.forward
            )
            loss = sample_losses(
                self.loss, Z, result.outputs, softmax=bool(net._group)
            ).mean()
            self.validation_losses.append(loss)
            correct = _correct(result.outputs, Z)
            if len(correct):
                self.validation_accuracies.append(correct.mean())
            self.validated = (
                np.array(self.validation_losses),
                np.array(self.validation_accuracies) if len(correct) else None,
            )
        history = net._history(
            so_far,
            replace(self.schedule, stop=done * self.schedule.n_chunks),
            self.Z[self.targets(0, done * n)],
            None,
            self.validated,
            self.loss,
        )
        with net._showing(self.states, self.optimizer):
            for f in self.callbacks:
                try:
                    answer = f(history)
                except StopTraining:
                    return True
                if isinstance(answer, bool | np.bool_) and not answer:
                    return True
        return False


class _GraphCopy:
    """What :meth:`Network.to_graph` needs of the caller's graph, kept compactly.

    A networkx copy costs about 330 bytes per connection; this keeps the
    nodes' attributes, the edge order as two integer arrays, and only the
    edge attributes that are neither the weight nor a plain delay (which the
    topology holds): about 10 bytes per connection of a network built by
    :func:`neurosim.layered`.
    """

    def __init__(self, G: nx.DiGraph, topology: Topology):
        self.graph = _detached(G.graph)
        self.nodes = [(v, _detached(data)) for v, data in G.nodes(data=True)]
        index = {v: i for i, (v, _) in enumerate(self.nodes)}
        m = G.number_of_edges()
        self.u = np.empty(m, dtype=np.int32 if len(index) < 2**31 else np.int64)
        self.v = np.empty_like(self.u)
        self.has_delay = np.zeros(m, dtype=bool)
        self.extra: dict[int, dict] = {}
        self._delays = delays = topology.delays
        for k, (u, v, data) in enumerate(G.edges(data=True)):
            self.u[k], self.v[k] = index[u], index[v]
            rest = {key: x for key, x in data.items() if key != "weight"}
            if type(rest.get("delay")) is float and rest["delay"] == delays[u, v]:
                self.has_delay[k] = True
                del rest["delay"]
            if rest:
                self.extra[k] = _detached(rest)

    def rebuild(self, weights: dict, biases: dict, unbiased: list) -> nx.DiGraph:
        """A new DiGraph like the one given, with these weights and biases.

        Its attributes are copies; the neurons in `unbiased` get bias NaN,
        and activations known by name are written as names.
        """
        G = nx.DiGraph()
        G.graph.update(_detached(self.graph))
        nodes = [v for v, _ in self.nodes]
        G.add_nodes_from((v, _detached(data)) for v, data in self.nodes)
        for _, data in G.nodes(data=True):
            name = registered_name(data.get("activation"))
            if name is not None:
                data["activation"] = name
        for v, b in biases.items():
            G.nodes[v]["bias"] = b
        for v in unbiased:
            G.nodes[v]["bias"] = math.nan
        extra = self.extra
        delay = self.has_delay

        def edges():
            for k, (i, j) in enumerate(
                zip(self.u.tolist(), self.v.tolist(), strict=True)
            ):
                u, v = nodes[i], nodes[j]
                data = {"weight": weights[u, v]}
                if delay[k]:
                    data["delay"] = delays[u, v]
                if k in extra:
                    data.update(_detached(extra[k]))
                yield u, v, data

        delays = self._delays
        G.add_edges_from(edges())  # in the caller's edge order
        return G


_ATOMS = (str, int, float, bool, type(None))


def _detached(data: dict) -> dict:
    """A copy of an attribute dict sharing no mutable value with it."""
    return {
        key: value if type(value) in _ATOMS else copy.deepcopy(value)
        for key, value in data.items()
    }


_BUILT_IN_OPTIMIZERS = (SGD, Momentum, Adagrad, Adam)


def _probe(topology, states, wires, schedule, optimizer=None, rule=None) -> None:
    """Call every custom piece once, on inputs of the run's shapes, before it runs.

    A user's activation, rule or optimizer that returns an array of the wrong
    shape would otherwise be taken silently (``y[0]`` of a longer array) or
    fail later, far from its cause. Built-in pieces are not called; a custom
    activation is called once per batch size of the run (the first batch and
    a shorter last one), a custom rule once, a custom optimizer once per size
    of parameter vector, on copies of a neuron's parameters and state: the
    neurons' hot path checks nothing.

    Raises
    ------
    NeuronError
        Naming the first neuron (in node order) that uses the piece, for a
        wrong shape or any exception the piece raises.
    """
    last = schedule.n_samples - (schedule.n_chunks - 1) * schedule.batch_size
    sizes = sorted({min(schedule.batch_size, schedule.n_samples), last})
    training = optimizer is not None
    built_in = {id(a) for a in ACTIVATIONS.values()}
    probed: set[int] = set()
    with np.errstate(all="ignore"):
        for v in topology.neurons:
            activation = states[v].activation
            if id(activation) in built_in or id(activation) in probed:
                continue
            probed.add(id(activation))
            for n in sizes:
                with _blaming(v):
                    _probe_activation(activation, n, training)
        if training and type(rule) not in RULES.values():
            first = topology.neurons[0]
            sender = next(
                (v for v in topology.neurons if wires[wires.rank[v]].backward),
                None,
            )
            for n in sizes:
                zeros = np.zeros(n)
                if sender is not None:
                    with _blaming(sender):
                        _check_signal(rule, "backward_signal", zeros, n)
                with _blaming(first):
                    _check_signal(rule, "update_signal", zeros, n)
        if training and type(optimizer) not in _BUILT_IN_OPTIMIZERS:
            lengths: set[int] = set()
            for v in topology.neurons:
                s = states[v]
                if len(s.params) not in lengths:
                    lengths.add(len(s.params))
                    with _blaming(v):
                        _probe_optimizer(optimizer, s)


@contextmanager
def _blaming(neuron):
    """Turn what a probe raises into a NeuronError naming `neuron`."""
    try:
        yield
    except NeuronError:
        raise
    except Exception as exc:
        raise NeuronError(neuron, f"{type(exc).__name__}: {exc}") from exc


def _shape(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


def _probe_activation(activation, n: int, training: bool) -> None:
    e = np.zeros(n)
    y = activation.function(e)
    if not isinstance(y, np.ndarray) or y.shape != (n,):
        raise ValueError(
            f"activation {activation.name!r} returned {_shape(y)} for e of shape "
            f"({n},); it must return an array of the same shape as e"
        )
    if training:
        slope = activation.derivative(e, y)
        shape = np.shape(slope)
        if len(shape) > 1 or shape not in ((), (1,), (n,)):
            raise ValueError(
                f"the derivative of activation {activation.name!r} returned "
                f"{_shape(slope)} for e of shape ({n},); it must return a number "
                "or an array of the same shape as e"
            )


def _check_signal(rule, name: str, zeros: Array, n: int) -> None:
    signal = getattr(rule, name)(zeros, zeros.copy())
    if not isinstance(signal, np.ndarray) or signal.shape != (n,):
        raise ValueError(
            f"rule {rule!r}: {name}(delta, g) returned {_shape(signal)} for delta "
            f"and g of shape ({n},); it must return an array of that shape"
        )


def _probe_optimizer(optimizer, state: NeuronState) -> None:
    params = state.params.copy()
    opt_state = copy.deepcopy(state.optimizer_state)
    before = _array_shapes(opt_state)
    out = optimizer.step(params, np.zeros(len(params)), opt_state)
    if isinstance(out, np.ndarray) and out is not params:
        raise ValueError(
            f"optimizer {optimizer!r}: step(params, grad, state) returned a new "
            "array; it must update params in place (and return None)"
        )
    after = _array_shapes(opt_state)
    for name, shape in before.items():
        if after.get(name, shape) != shape:
            raise ValueError(
                f"optimizer {optimizer!r}: step changed state{name} from shape "
                f"{shape} to shape {after[name]}; it must keep its state's arrays"
            )


def _array_shapes(state: object) -> dict[str, tuple]:
    """The shapes of the arrays an optimizer state holds, by where they are."""
    if isinstance(state, np.ndarray):
        return {"": state.shape}
    if isinstance(state, dict):
        items = [(f"[{k!r}]", x) for k, x in state.items()]
    elif isinstance(state, list | tuple):
        items = [(f"[{k}]", x) for k, x in enumerate(state)]
    elif hasattr(state, "__dict__"):
        items = [(f".{k}", x) for k, x in vars(state).items()]
    else:
        return {}
    return {k: x.shape for k, x in items if isinstance(x, np.ndarray)}


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


def _message_columns(
    records: list[SendRecord], schedule: Schedule, keep_node: NDArray[np.bool_] | None
) -> dict:
    """One row per message (and per duplicated copy) of the recorded sendings.

    The columns are allocated once at their final length and filled in place,
    so building them needs no more memory than they take. `keep_node` (by
    node index), when given, keeps the messages a selected node sends or
    receives.
    """
    batched = schedule.batch_size > 1
    if (
        keep_node is None
        and not batched
        and all(r.fate is None and isinstance(r.value, float) for r in records)
    ):
        return _plain_message_columns(records, schedule)
    rows: list[tuple[SendRecord, NDArray[np.intp] | None]] = []
    total = 0
    for r in records:
        keep = None
        if keep_node is not None and not keep_node[r.source]:
            keep = np.flatnonzero(keep_node[r.links.destination])
            if not len(keep):
                continue
        n = len(r.links.destination) if keep is None else len(keep)
        if r.extra is not None:
            pos = r.extra[0] if keep is None else np.intersect1d(r.extra[0], keep)
            n += len(pos)
        rows.append((r, keep))
        total += n
    iteration = np.empty(total, dtype=np.int64)
    kind = np.empty(total, dtype=np.int8)
    source = np.empty(total, dtype=np.intp)
    destination = np.empty(total, dtype=np.intp)
    sent = np.empty(total)
    received = np.empty(total)
    fate = np.zeros(total, dtype=np.int8)
    value = np.empty(total, dtype=object if batched else np.float64)
    at = 0
    for r, keep in rows:
        links = r.links
        n_links = len(links.destination)
        if keep is None and r.extra is None and not batched:  # the common case
            stop = at + n_links
            destination[at:stop] = links.destination
            received[at:stop] = r.arrival
            if r.fate is not None:
                fate[at:stop] = r.fate
            value[at:stop] = (
                r.value
                if r.coefficients is None
                else (
                    r.coefficients * r.value  # the same products as the transport's
                )
            )
            iteration[at:stop] = r.iteration
            kind[at:stop] = r.kind
            source[at:stop] = r.source
            sent[at:stop] = r.sent_at
            at = stop
            continue
        arrival = np.broadcast_to(np.asarray(r.arrival, dtype=np.float64), (n_links,))
        if r.coefficients is None:  # one value on every link
            values: Any = None
        elif batched:  # the receiver forms coefficient·vector: record the product
            values = [c * r.value for c in r.coefficients.tolist()]
        else:
            values = r.coefficients * r.value  # the same products as the transport's
        pieces = [(np.arange(n_links) if keep is None else keep, arrival, r.fate)]
        if r.extra is not None:  # duplicated copies: one more row each
            pos, copy_arrival = r.extra
            if keep is not None:
                chosen = np.isin(pos, keep)
                pos, copy_arrival = pos[chosen], copy_arrival[chosen]
            pieces.append((pos, None, 2, copy_arrival))
        for piece in pieces:
            links_at = piece[0]
            stop = at + len(links_at)
            destination[at:stop] = links.destination[links_at]
            if len(piece) == 3:
                received[at:stop] = piece[1][links_at]
                if piece[2] is not None:
                    fate[at:stop] = piece[2][links_at]
            else:
                received[at:stop] = piece[3]
                fate[at:stop] = piece[2]
            if not batched:
                value[at:stop] = r.value if values is None else values[links_at]
            else:  # one batch vector per message, element by element (not 2-D)
                for j, i in enumerate(links_at.tolist(), start=at):
                    value[j] = r.value if values is None else values[i]
            iteration[at:stop] = r.iteration
            kind[at:stop] = r.kind
            source[at:stop] = r.source
            sent[at:stop] = r.sent_at
            at = stop
    epoch, sample = np.divmod(iteration + schedule.first, schedule.n_chunks)
    return {
        "epoch": epoch,
        "sample": sample,
        "kind": kind,
        "source": source,
        "destination": destination,
        "sent_at": sent,
        "received_at": received,
        "value": value,
        "fate": fate,
    }


def _plain_message_columns(records: list[SendRecord], schedule: Schedule) -> dict:
    """:func:`_message_columns` of an online run without faults, in a few passes.

    Each record's scalars are repeated once per link; an error's values are
    the same products ``coefficient·signal`` as the transport's.
    """
    counts = np.array([len(r.links.destination) for r in records], dtype=np.intp)
    total = int(counts.sum())

    def each(name: str, dtype) -> NDArray:
        values = np.array([getattr(r, name) for r in records], dtype=dtype)
        return np.repeat(values, counts)

    def joined(arrays: list) -> NDArray:
        return np.concatenate(arrays) if arrays else np.empty(0)

    value = each("value", np.float64)
    errors = np.array([r.coefficients is not None for r in records], dtype=bool)
    if errors.any():
        value[np.repeat(errors, counts)] *= joined(
            [r.coefficients for r in records if r.coefficients is not None]
        )
    uniform = np.array([isinstance(r.arrival, float) for r in records], dtype=bool)
    if uniform.all():  # one arrival per sending (every link of the same delay)
        received = each("arrival", np.float64)
    else:
        pairs = zip(records, counts.tolist(), strict=True)
        received = joined([np.full(n, r.arrival) for r, n in pairs])
    iteration = each("iteration", np.int64)
    epoch, sample = np.divmod(iteration, schedule.n_chunks)
    return {
        "epoch": epoch,
        "sample": sample,
        "kind": each("kind", np.int8),
        "source": each("source", np.intp),
        "destination": joined([r.links.destination for r in records]).astype(
            np.intp, copy=False
        ),
        "sent_at": each("sent_at", np.float64),
        "received_at": received,
        "value": value,
        "fate": np.zeros(total, dtype=np.int8),
    }


def _update_columns(records: list[StepRecord], net: Network, schedule: Schedule):
    """One row per changed parameter (the bias last, if the neuron has one)."""
    topology = net._topology
    rank = {v: i for i, v in enumerate(topology.nodes)}
    sources = {}
    for v in topology.neurons:
        bias = [-1] if net._states[v].has_bias else []
        sources[rank[v]] = np.array(
            [rank[u] for u in topology.predecessors[v]] + bias, dtype=np.intp
        )
    sizes = [len(sources[r.neuron]) for r in records]
    its = np.repeat(np.array([r.iteration for r in records], dtype=np.int64), sizes)
    epoch, sample = np.divmod(its + schedule.first, schedule.n_chunks)
    return {
        "epoch": epoch,
        "sample": sample,
        "neuron": np.repeat(
            np.array([r.neuron for r in records], dtype=np.intp), sizes
        ),
        "source": _cat([sources[r.neuron] for r in records], np.intp),
        "old": _cat(
            [r.old[:m] for r, m in zip(records, sizes, strict=True)], np.float64
        ),
        "new": _cat(
            [r.new[:m] for r, m in zip(records, sizes, strict=True)], np.float64
        ),
        "time": np.repeat(np.array([r.time for r in records], dtype=np.float64), sizes),
        "gradient": _cat(
            [r.gradient[:m] for r, m in zip(records, sizes, strict=True)], np.float64
        ),
    }


def _internal_columns(records: list[StepRecord], schedule: Schedule):
    """One row per neuron and iteration: what it computed (see InternalsTable)."""
    its = np.array([r.iteration for r in records], dtype=np.int64)
    epoch, sample = np.divmod(its + schedule.first, schedule.n_chunks)
    batched = schedule.batch_size > 1
    columns = {
        "epoch": epoch,
        "sample": sample,
        "neuron": np.array([r.neuron for r in records], dtype=np.intp),
        "version": np.array([r.version for r in records], dtype=np.int64),
        "forward_at": np.array([r.forward_at for r in records], dtype=np.float64),
        "backward_at": np.array([r.time for r in records], dtype=np.float64),
    }
    for name in ("e", "y", "fprime", "delta", "g"):
        arrays = [getattr(r, name) for r in records]
        if batched:
            column = np.empty(len(records), dtype=object)
            for i, (r, a) in enumerate(zip(records, arrays, strict=True)):
                column[i] = np.full(len(r.y), np.nan) if a is None else a.copy()
        else:
            column = np.array(
                [np.nan if a is None else a[0] for a in arrays], dtype=np.float64
            )
        columns[name] = column
    return columns


def _cat(arrays: list, dtype) -> np.ndarray:
    return (
        np.concatenate(arrays).astype(dtype, copy=False)
        if arrays
        else np.empty(0, dtype)
    )

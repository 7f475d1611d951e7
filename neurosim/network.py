"""The public face of the engine: :class:`Network` and :class:`History`."""

from __future__ import annotations

import copy
import gc
import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from numbers import Integral, Real
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike, NDArray

from neurosim._async import any_async_library, run_sync
from neurosim.activations import get_activation
from neurosim.errors import DataError, NetworkError, StopTraining
from neurosim.faults import Faults
from neurosim.graph import Topology, validate
from neurosim.messages import SendRecord, UpdateRecord
from neurosim.model import NeuronState
from neurosim.optimizers import Optimizer, get_optimizer
from neurosim.rules import Rule, get_rule
from neurosim.simulation import (
    Result,
    Schedule,
    Wires,
    explicit_drops,
    simulate,
    wire,
)
from neurosim.trace import Record, Trace

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
    validation_loss : ndarray, shape (epochs,)
        With ``train(validation=(X, Z))``: after each epoch, the mean over the
        validation samples of ``E = ½ Σ (z − y)²``, the outputs computed as
        :meth:`Network.predict` does; empty otherwise.

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
    validation_loss: Array = field(default_factory=lambda: np.empty(0))

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
        """The mean loss of each epoch."""
        return self.loss.reshape(self.epochs, self.samples_per_epoch).mean(axis=1)

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
        return cls(
            loss=np.concatenate([h.loss for h in hs]),
            outputs=np.concatenate([h.outputs for h in hs]),
            epochs=sum(h.epochs for h in hs),
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
        return (
            f"History(epochs={self.epochs}, "
            f"samples_per_epoch={self.samples_per_epoch}, "
            f"batch_size={self.batch_size}, epoch loss {loss[0]:.6g} -> {loss[-1]:.6g}"
            f"{trace})"
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


def _schedule_options(in_flight: object, interval: object) -> tuple[int | None, float]:
    if in_flight is not None and (not _is_int(in_flight) or in_flight < 1):
        raise DataError(f"in_flight must be an integer >= 1 or None, got {in_flight!r}")
    if (
        not isinstance(interval, Real)
        or isinstance(interval, bool)
        or not math.isfinite(interval)
        or interval < 0
    ):
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
        self._graph = _GraphCopy(graph, topology)
        self._topology = topology
        self._states = states
        self._optimizer: Optimizer | None = None
        self._wirings: dict[Rule | None, Wires] = {}  # by rule: links are fixed
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

    def to_graph(self) -> nx.DiGraph:
        """A new DiGraph like the one given, with the current weights and biases.

        Examples
        --------
        >>> import neurosim
        >>> net = neurosim.Network(neurosim.layered([1, 1], weights=[[[2.0]]]))
        >>> net.to_graph().edges["i1", "o1"]["weight"]
        2.0
        """
        return self._graph.rebuild(self.weights, self.biases)

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
        in_flight: int | None = 1,
        interval: float = 0.0,
        stash: bool = False,
        faults: Faults | None = None,
        record: bool | Record = False,
        progress: Callable[[int, int], None] | None = None,
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
            Passes through the samples, always in the given order; epochs
            continue one stream of iterations.
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
            If a value becomes infinite or NaN. The network then keeps the
            weights it had before the call.
        StalledError
            If a neuron waits for a message that will never arrive.
        NeuronError
            If anything else fails inside a neuron.

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
                    in_flight=in_flight,
                    interval=interval,
                    stash=stash,
                    faults=faults,
                    record=record,
                    progress=progress,
                    callbacks=callbacks,
                    validation=validation,
                ),
            )

    @any_async_library
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
        in_flight: int | None = 1,
        interval: float = 0.0,
        stash: bool = False,
        faults: Faults | None = None,
        record: bool | Record = False,
        progress: Callable[[int, int], None] | None = None,
        callbacks: Callback | Sequence[Callback] | None = None,
        validation: tuple[ArrayLike, ArrayLike] | None = None,
    ) -> History:
        """:meth:`train`, to be awaited under trio or asyncio (Jupyter).

        Under trio it runs in the caller's run. Under asyncio it runs the trio
        simulation in a worker thread, so the loop serves its other tasks
        meanwhile (`progress` and `callbacks` are then called from that
        thread); cancelling the awaiting task stops the simulation and leaves
        the network as it was.
        """
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
        in_flight, interval = _schedule_options(in_flight, interval)
        self._check_record(record)
        if not isinstance(stash, bool):
            raise DataError(f"stash must be True or False, got {stash!r}")
        if faults is not None and not isinstance(faults, Faults):
            raise DataError(f"faults must be a neurosim.Faults, got {faults!r}")
        callbacks = _callbacks(callbacks)
        if validation is not None:
            validation = self._validation(validation)
        try:
            opt = get_optimizer(optimizer, learning_rate)
            rule = get_rule(rule)
            wires = self._wiring(rule)
        except ValueError as exc:
            raise DataError(str(exc)) from None
        schedule = Schedule(len(X), int(epochs), int(batch_size), in_flight, interval)
        self._check_schedule(schedule, wires, faults)
        if (callbacks or validation is not None) and in_flight != 1:
            raise DataError(
                f"callbacks and validation need in_flight=1, got {in_flight!r}: "
                "with iterations in flight together no moment separates two epochs"
            )
        epoch_end = (
            _EpochEnd(self, Z, schedule, callbacks, validation)
            if callbacks or validation is not None
            else None
        )

        if opt != self._optimizer:  # a new optimizer starts from a fresh state
            for s in self._states.values():
                s.optimizer_state = opt.init_state(len(s.params))
            self._optimizer = opt
        saved = {
            v: (s.params.copy(), copy.deepcopy(s.optimizer_state))
            for v, s in self._states.items()
        }
        try:
            result = await simulate(
                self._topology,
                self._states,
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
            )
        except BaseException:
            for v, (params, state) in saved.items():  # leave the network as it was
                self._states[v].params[:] = params
                self._states[v].optimizer_state = state
            raise
        validation_loss = None
        if epoch_end is not None:  # it may have stopped early
            done, validation_loss = epoch_end.epochs_done, epoch_end.validation_loss
            if done < epochs:
                schedule = replace(schedule, epochs=done)
                result = _first_iterations(result, len(schedule), done * len(X))
        Zs = np.concatenate([Z] * schedule.epochs)
        loss = 0.5 * ((Zs - result.outputs) ** 2).sum(axis=1)
        trace = self._trace(result, schedule, record) if record else None
        return self._history(result, schedule, loss, trace, validation_loss)

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
        self, result: Result, schedule: Schedule, loss, trace, validation_loss=None
    ) -> History:
        n_in = len(self.inputs)
        return History(
            loss=loss,
            outputs=result.outputs,
            epochs=schedule.epochs,
            samples_per_epoch=schedule.n_samples,
            batch_size=schedule.batch_size,
            ends=result.ends,
            trace=trace,
            entries=result.entries,
            neurons=self._topology.neurons,
            stale=np.array(
                [(s, i - n_in, k) for s, i, k in result.stale], dtype=np.int64
            ).reshape(-1, 3),
            validation_loss=(
                np.empty(0) if validation_loss is None else validation_loss.copy()
            ),
        )

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
        result = await simulate(
            self._topology, self._states, wires, X, None, schedule, record=record
        )
        if record:
            self._trace(result, schedule, record)
        return result.outputs

    def _wiring(self, rule: Rule | None) -> Wires:
        """The links of every node under `rule` (computed once per rule)."""
        try:
            return self._wirings[rule]
        except KeyError:
            wires = self._wirings[rule] = wire(self._topology, rule)
            return wires
        except TypeError:  # a rule that cannot be hashed: no caching
            return wire(self._topology, rule)

    def _trace(self, result: Result, schedule: Schedule, record: bool | Record):
        """Turn the engine's records into a :class:`~neurosim.trace.Trace`."""
        nodes = self._topology.nodes
        keep = None
        if isinstance(record, Record) and record.neurons is not None:
            keep = np.isin(
                np.arange(len(nodes)), [nodes.index(v) for v in record.neurons]
            )
        messages = _message_columns(result.messages, schedule, keep)
        updates = _update_columns(result.updates or [], self, schedule)
        self.last_trace = Trace.from_columns(nodes, messages, updates)
        return self.last_trace


class _EpochEnd:
    """What the conductor awaits after each epoch: the validation, the callbacks.

    It keeps the loss of the epochs done (one epoch computed at a time) and
    how many epochs were done, which is less than asked when it stopped.
    """

    def __init__(
        self,
        net: Network,
        Z: Array,
        schedule: Schedule,
        callbacks: list[Callback],
        validation: tuple[Array, Array] | None,
    ):
        self.net, self.Z, self.schedule = net, Z, schedule
        self.callbacks, self.validation = callbacks, validation
        self.loss = np.empty(schedule.epochs * len(Z))
        self.losses = np.empty(schedule.epochs)  # validation, by epoch
        self.epochs_done = 0
        self.validation_loss: Array | None = None
        if validation is not None:
            self.wires = net._wiring(None)
            self.forward = Schedule(len(validation[0]), 1, len(validation[0]))

    async def __call__(self, epoch: int, so_far: Result) -> bool:
        """Evaluate, then call the callbacks; True: stop after this epoch."""
        net, n = self.net, len(self.Z)
        self.epochs_done = done = epoch + 1
        rows = slice(epoch * n, done * n)
        self.loss[rows] = 0.5 * ((self.Z - so_far.outputs[rows]) ** 2).sum(axis=1)
        if self.validation is not None:
            X, Z = self.validation
            result = await simulate(  # predict's own forward wave
                net._topology, net._states, self.wires, X, None, self.forward
            )
            self.losses[epoch] = (0.5 * ((Z - result.outputs) ** 2).sum(axis=1)).mean()
            self.validation_loss = self.losses[:done]
        history = net._history(
            so_far,
            replace(self.schedule, epochs=done),
            self.loss[: done * n],
            None,
            self.validation_loss,
        )
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
        self.graph = dict(G.graph)
        self.nodes = [(v, dict(data)) for v, data in G.nodes(data=True)]
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
                self.extra[k] = rest

    def rebuild(self, weights: dict, biases: dict) -> nx.DiGraph:
        """A new DiGraph like the one given, with these weights and biases."""
        G = nx.DiGraph()
        G.graph.update(self.graph)
        nodes = [v for v, _ in self.nodes]
        G.add_nodes_from((v, dict(data)) for v, data in self.nodes)
        for v, b in biases.items():
            G.nodes[v]["bias"] = b
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
                    data.update(extra[k])
                yield u, v, data

        delays = self._delays
        G.add_edges_from(edges())  # in the caller's edge order
        return G


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
    batched = schedule.batch_size > 1
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
    epoch, sample = np.divmod(iteration, schedule.n_chunks)
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


def _update_columns(records: list[UpdateRecord], net: Network, schedule: Schedule):
    """One row per changed parameter (the bias last, if the neuron has one)."""
    # in the trace's order (iteration, time, neuron): the table then needs no sort
    records = sorted(records, key=lambda r: (r.iteration, r.time, r.neuron))
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
    epoch, sample = np.divmod(its, schedule.n_chunks)
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
    }


def _cat(arrays: list, dtype) -> np.ndarray:
    return (
        np.concatenate(arrays).astype(dtype, copy=False)
        if arrays
        else np.empty(0, dtype)
    )

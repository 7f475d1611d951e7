"""One simulation: the wiring, and the conductor that advances virtual time.

:func:`wire` turns a topology and a learning rule into each node's link
tables, once per network and rule. :func:`simulate` starts one trio task per
neuron and runs the **conductor**, a conservative discrete-event scheduler
(in the style of YAWNS): virtual time advances in windows no longer than the
shortest delay, so that nothing sent inside a window can arrive inside it.
Each window, the conductor

1. lets iterations enter when the schedule allows (``docs/concepts.md``:
   ``T_s = max(T_{s−1} + interval, done(s − K))``): the input nodes, which
   have no state, send the iteration's values on their connections;
2. asks the transport for what arrives in the window and hands each
   destination its share in one trio message;
3. waits for one report from each of them: finished steps, outputs,
   problems;
4. stops the run with :class:`~neurosim.StalledError` when a message is lost
   and nothing may replace it, or when nothing is in flight while a neuron
   still waits (the watchdog).

Trio messages thus scale with the active neurons per window, not with the
connections. Results depend only on virtual time and the tie rules, never on
the order in which trio runs the tasks.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

import numpy as np
import trio
from numpy.typing import NDArray

from neurosim.errors import (
    DataError,
    DivergenceError,
    NeuronError,
    StalledError,
    Waiting,
)
from neurosim.faults import Faults
from neurosim.graph import Topology
from neurosim.messages import (
    BACKWARD,
    FEEDBACK,
    FORWARD,
    KINDS,
    SOFTMAX,
    STEP_OF_KIND,
    STEP_SOFTMAX,
)
from neurosim.neuron import Inbox, NeuronState, Run, Wiring, run_neuron
from neurosim.trace import Record
from neurosim.transport import LinkTable, Transport

__all__ = [
    "LocalNeurons",
    "Result",
    "Schedule",
    "Wires",
    "explicit_drops",
    "simulate",
    "wire",
]

Array = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Wires:
    """Every node's wiring under one rule, and the identities of the channels.

    A channel's number is its connection's index in the topology's edge order;
    the feedback channels that are not connections (direct feedback
    alignment), named ``(hidden, output)``, come after them (:meth:`channel`).
    """

    nodes: tuple[Wiring, ...]
    error_kind: int | None  # BACKWARD, FEEDBACK, or None for forward only
    rank: dict[Hashable, int] = field(repr=False)
    edge_keys: NDArray[np.int64] = field(repr=False)  # receiver·n + sender, sorted
    extra_channels: dict[tuple[Hashable, Hashable], int] = field(repr=False)
    # how the transport sorts each pattern of a window's sendings: fixed by
    # these link tables, so kept from one call to the next
    plans: dict = field(default_factory=dict, repr=False)

    def __getitem__(self, i: int) -> Wiring:
        return self.nodes[i]

    def __len__(self) -> int:
        return len(self.nodes)

    def channel(self, u: Hashable, v: Hashable) -> int | None:
        """The channel of ``(u, v)``: the connection ``u -> v``, else a feedback
        channel of its own; None if there is neither."""
        if u in self.rank and v in self.rank:
            key = self.rank[v] * len(self.rank) + self.rank[u]
            i = int(np.searchsorted(self.edge_keys, key))
            if i < len(self.edge_keys) and self.edge_keys[i] == key:
                return i
        return self.extra_channels.get((u, v))

    @functools.cached_property
    def shortest_delay(self) -> float:
        delays = [
            table.shortest
            for w in self.nodes
            for table in (w.forward, w.backward, w.softmax)
            if table is not None and len(table.delay)
        ]
        return min(delays) if delays else 0.0


def wire(topology: Topology, rule=None, group: tuple[int, ...] = ()) -> Wires:
    """Every node's links: forward along the edges, back along the rule's routes.

    `group` holds the node indices of a softmax group, in output order: each
    of its outputs also sends its ``e`` to every other (kind ``"softmax"``,
    :data:`SOFTMAX_DELAY`), on channels numbered after all the others.

    The result depends only on the network and the rule, so a
    :class:`~neurosim.Network` computes it once and reuses it for every run.
    Without a `rule`, the nodes send forward only (``predict``). Built with
    numpy over arrays of connections: a million connections take seconds.

    Raises
    ------
    ValueError
        If the rule routes an error to a node that is not a non-input neuron,
        or uses the weight of a connection that does not exist.
    """
    nodes = topology.nodes
    n = len(nodes)
    rank = {v: i for i, v in enumerate(nodes)}
    preds = topology.predecessors
    fan_in = np.fromiter((len(preds[v]) for v in nodes), np.intp, count=n)
    m = int(fan_in.sum())
    # the connections in the topology's edge order: by receiver, senders by rank
    src = np.fromiter((rank[u] for v in nodes for u in preds[v]), np.intp, count=m)
    dst = np.repeat(np.arange(n, dtype=np.intp), fan_in)
    first = np.concatenate(([0], np.cumsum(fan_in)[:-1]))
    port = np.arange(m, dtype=np.intp) - first[dst]
    delays = topology.delays
    delay = np.fromiter(
        (delays[u, v] for v in nodes for u in preds[v]), np.float64, count=m
    )
    by_sender = np.lexsort((dst, src))
    forward = _tables(
        FORWARD,
        n,
        src[by_sender],
        dst[by_sender],
        port[by_sender],
        delay[by_sender],
        by_sender,
    )
    outputs = {o: j for j, o in enumerate(topology.outputs)}
    shape = [
        {
            "index": i,
            "forward": forward[i],
            "senders": src[first[i] : first[i] + fan_in[i]],
            "output_column": outputs.get(v, -1),
        }
        for i, v in enumerate(nodes)
    ]
    edge_keys = dst.astype(np.int64) * n + src  # sorted: the edge order
    extra: dict[tuple[Hashable, Hashable], int] = {}
    error_kind = None
    if rule is not None:
        error_kind = FEEDBACK if rule.direct else BACKWARD
        _wire_backward(
            topology, rule, rank, edge_keys, port, delay, extra, shape, error_kind
        )
    if group:
        _wire_softmax(nodes, group, len(edge_keys), extra, shape)
    return Wires(tuple(Wiring(**x) for x in shape), error_kind, rank, edge_keys, extra)


SOFTMAX_DELAY = 1.0
"""The virtual time a softmax message takes (one default connection's)."""


def _wire_softmax(nodes, group, n_edges, extra, shape) -> None:
    """Each output of the softmax `group` sends its ``e`` to every other one."""
    members = np.array(group, dtype=np.intp)
    n = len(group)
    for j, i in enumerate(group):
        others = np.delete(members, j)
        order = np.argsort(others, kind="stable")  # receivers in node order
        channel = np.array(
            [
                extra.setdefault((nodes[i], nodes[k]), n_edges + len(extra))
                for k in others[order].tolist()
            ],
            dtype=np.intp,
        )
        shape[i]["softmax"] = LinkTable(
            SOFTMAX,
            STEP_SOFTMAX,
            others[order],
            np.full(n - 1, j, dtype=np.intp),  # the port: the sender's rank
            np.full(n - 1, SOFTMAX_DELAY),
            channel,
            SOFTMAX_DELAY,
            SOFTMAX_DELAY,
            SOFTMAX_DELAY,
        )
        shape[i]["group"] = members
        shape[i]["group_rank"] = j


def _tables(kind, n, owner, destination, port, delay, channel) -> list:
    """One LinkTable per node (None without links), from links sorted by owner."""
    bounds = np.searchsorted(owner, np.arange(n + 1))
    starts, stops = bounds[:-1], bounds[1:]
    has = np.flatnonzero(stops > starts)
    shortest = np.full(n, np.nan)
    longest = np.full(n, np.nan)
    if len(has):
        shortest[has] = np.minimum.reduceat(delay, starts[has])
        longest[has] = np.maximum.reduceat(delay, starts[has])
    step = STEP_OF_KIND[kind]
    tables: list = [None] * n
    for i, a, b, lo, hi in zip(
        has.tolist(),
        starts[has].tolist(),
        stops[has].tolist(),
        shortest[has].tolist(),
        longest[has].tolist(),
        strict=True,
    ):
        tables[i] = LinkTable(
            kind,
            step,
            destination[a:b],
            port[a:b],
            delay[a:b],
            channel[a:b],
            lo if lo == hi else None,
            lo,
            hi,
        )
    return tables


def _wire_backward(
    topology, rule, rank, edge_keys, port, delay, extra, shape, kind
) -> None:
    routes = rule.feedback(topology)
    nodes = topology.nodes
    n, n_in = len(nodes), len(topology.inputs)
    senders, receivers, coefficients = [], [], []
    for v in topology.neurons:
        for u, b in routes.get(v, ()):
            if rank.get(u, -1) < n_in:
                raise ValueError(
                    f"rule {rule!r} sends errors from {v!r} to {u!r}, "
                    "which is not a non-input neuron of the network"
                )
            senders.append(rank[v])
            receivers.append(rank[u])
            coefficients.append(b)
    sender = np.array(senders, dtype=np.intp)
    receiver = np.array(receivers, dtype=np.intp)
    fixed = np.array([b is not None for b in coefficients], dtype=bool)
    value = np.array([0.0 if b is None else b for b in coefficients], dtype=float)
    # the connection receiver -> sender, when there is one
    keys = sender.astype(np.int64) * n + receiver
    at = np.minimum(np.searchsorted(edge_keys, keys), max(len(edge_keys) - 1, 0))
    is_edge = (
        edge_keys[at] == keys if len(edge_keys) else np.zeros(len(keys), dtype=bool)
    )
    channel = np.where(is_edge, at, -1)
    for i in np.flatnonzero(~is_edge).tolist():  # feedback channels of their own
        pair = (nodes[receiver[i]], nodes[sender[i]])
        channel[i] = extra.setdefault(pair, len(edge_keys) + len(extra))
    link_delay = np.where(is_edge, delay[at] if len(delay) else 1.0, 1.0)
    # each receiver's error senders in node order: their ports
    by_receiver = np.lexsort((sender, receiver))
    back_port = np.empty(len(sender), dtype=np.intp)
    r_sorted = receiver[by_receiver]
    r_first = np.searchsorted(r_sorted, r_sorted)
    back_port[by_receiver] = np.arange(len(sender)) - r_first
    bounds = np.searchsorted(r_sorted, np.arange(n + 1))
    s_sorted = sender[by_receiver]
    for u in range(n):
        a, b = bounds[u], bounds[u + 1]
        shape[u]["error_senders"] = s_sorted[a:b]
    tables = _tables(kind, n, sender, receiver, back_port, link_delay, channel)
    bounds = np.searchsorted(sender, np.arange(n + 1))
    for v in range(n_in, n):
        a, b = int(bounds[v]), int(bounds[v + 1])
        if a == b:
            continue
        shape[v]["backward"] = tables[v]
        if not fixed[a:b].any():
            if not is_edge[a:b].all():
                raise ValueError(
                    f"rule {rule!r} uses the forward weight of a connection "
                    f"into {nodes[v]!r} that does not exist"
                )
            shape[v]["weight_index"] = port[at[a:b]]
        elif not fixed[a:b].all():
            raise ValueError(
                f"rule {rule!r} mixes fixed and forward-weight coefficients at "
                f"{nodes[v]!r}"
            )
        else:
            shape[v]["fixed"] = value[a:b]


@dataclass(frozen=True)
class Schedule:
    """Which rows of ``X`` each iteration takes, and when iterations enter.

    Iteration ``first + s`` of the run is chunk ``(first + s) % n_chunks`` of
    epoch ``(first + s) // n_chunks``: a call runs iterations ``first`` to
    ``stop`` of the run (all of them by default; a resumed run starts later,
    an interrupted one stops earlier), numbered ``s`` from 0. ``X`` holds the
    samples, the same every epoch, or with ``shuffled`` the rows of every
    epoch the call runs in their order, one epoch after the other from the
    epoch of ``first``. Nothing is built per iteration, so a schedule of any
    length costs nothing.
    """

    n_samples: int
    epochs: int
    batch_size: int
    in_flight: int | None = 1
    interval: float = 0.0
    first: int = 0
    stop: int | None = None
    shuffled: bool = False

    @property
    def n_chunks(self) -> int:
        return -(-self.n_samples // self.batch_size)

    @property
    def end(self) -> int:
        """The run's iteration where the call stops (exclusive)."""
        return self.epochs * self.n_chunks if self.stop is None else self.stop

    def __len__(self) -> int:
        return self.end - self.first

    def rows(self, s: int) -> tuple[int, int]:
        """``(start, stop)``: the rows of ``X`` that iteration `s` takes."""
        epoch, chunk = divmod(self.first + s, self.n_chunks)
        start = chunk * self.batch_size
        stop = min(start + self.batch_size, self.n_samples)
        if self.shuffled:
            at = (epoch - self.first // self.n_chunks) * self.n_samples
            return at + start, at + stop
        return start, stop

    def label(self, s: int) -> tuple[int, int]:
        """``(epoch, sample)`` of iteration `s` (``sample``: the chunk's index)."""
        return divmod(self.first + s, self.n_chunks)

    def position(self, iteration: int) -> int:
        """How many samples the run has taken before its `iteration`."""
        epoch, chunk = divmod(iteration, self.n_chunks)
        return epoch * self.n_samples + min(chunk * self.batch_size, self.n_samples)

    def offset(self, s: int) -> int:
        """The position of iteration `s`'s first sample among the call's."""
        return self.position(self.first + s) - self.position(self.first)

    @property
    def n_rows(self) -> int:
        """The samples the call takes, over all its iterations."""
        return self.position(self.end) - self.position(self.first)


_FIRST_CAPACITY = 1 << 16
"""Iterations the conductor makes room for at first; a longer run grows it."""


@dataclass
class Result:
    """What the conductor saw."""

    outputs: Array  # (n_rows, n_outputs), in the order the samples went in
    entries: Array  # T_s of each iteration
    ends: Array  # done(s) of each iteration
    stale: list[tuple[int, int, int]]  # (iteration, neuron index, staleness > 0)
    messages: list | None
    updates: list | None


def critical_path(
    topology: Topology, wires: Wires, jitter: float, training: bool
) -> float:
    """The longest time an iteration can take without a loss (every delay + jitter)."""
    nodes = topology.nodes
    n_in = len(topology.inputs)
    F = np.zeros(len(nodes))
    for i in range(n_in, len(nodes)):
        w = wires[i]
        F[i] = max(
            F[u] + wires[u].forward.delay[wires[u].forward.destination == i][0] + jitter
            for u in w.senders
        )
    if not training:
        return float(F.max())
    B = F.copy()
    for _ in range(len(nodes)):  # relax until stable (errors may flow any way)
        changed = False
        for i in range(len(nodes) - 1, n_in - 1, -1):
            table = wires[i].backward
            if table is None:
                continue
            for d, delay in zip(
                table.destination.tolist(), table.delay.tolist(), strict=True
            ):
                t = B[i] + delay + jitter
                if t > B[d]:
                    B[d], changed = t, True
        if not changed:
            break
    return float(B.max())


def _first_error(group: BaseExceptionGroup, rank: dict) -> BaseException:
    """The exception to surface from a failed nursery: the earliest, by neuron.

    An interrupt (``KeyboardInterrupt``, ``SystemExit``: a ``BaseException``
    that is no error and no cancellation) comes out as itself, so that
    ``except KeyboardInterrupt`` catches it, even when trio wrapped it in an
    exception group with the errors it caused.
    """
    leaves: list[BaseException] = []

    def flatten(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                flatten(inner)
        else:
            leaves.append(exc)

    flatten(group)
    interrupts = [
        exc
        for exc in leaves
        if not isinstance(exc, Exception | trio.Cancelled)  # KeyboardInterrupt...
    ]
    if interrupts:  # stop as asked, whatever else went wrong meanwhile
        return interrupts[0]
    if not all(isinstance(exc, Exception) for exc in leaves):
        return group  # cancelled from outside: the cancel scope unwraps it
    neuron_errors = [e for e in leaves if isinstance(e, NeuronError)]
    if neuron_errors and len(neuron_errors) == len(leaves):
        return min(neuron_errors, key=lambda e: rank.get(e.neuron, 0))
    others = [e for e in leaves if not isinstance(e, NeuronError)]
    return others[0]


async def simulate(
    topology: Topology,
    states: dict[Hashable, NeuronState],
    wires: Wires,
    X: Array,
    Z: Array | None,
    schedule: Schedule,
    *,
    optimizer=None,
    rule=None,
    stash: bool = False,
    faults: Faults | None = None,
    record: bool | Record = False,
    progress: Callable[[int, int], None] | None = None,
    epoch_end: Callable[[int, Result], Awaitable[bool]] | None = None,
    cross_entropy: bool = False,
    backend=None,
) -> Result:
    """Run the network on every iteration of `schedule`.

    With an `optimizer` (and targets `Z`) the neurons train; without, they
    only compute forward. Any exception inside a neuron cancels the whole
    simulation and is raised here (a :class:`NeuronError` naming the neuron);
    a :class:`DivergenceError` or :class:`StalledError` comes from the
    conductor.

    `epoch_end`, with ``in_flight=1`` only, is awaited as
    ``epoch_end(epoch, so_far)`` when an epoch's last iteration is done,
    before the next one enters (`so_far`: the Result of the epochs done, as
    views, without records); returning True ends the run there.
    `cross_entropy`: the outputs' δ is the loss's derivative with respect to
    ``e`` (see :mod:`neurosim.losses`). `backend` runs the neurons elsewhere
    (:mod:`neurosim.backends`); by default they are trio tasks of this run.
    """
    if epoch_end is not None and schedule.in_flight != 1:
        raise ValueError("epoch_end needs in_flight=1: no moment separates epochs")
    nodes = topology.nodes
    rank = {v: i for i, v in enumerate(nodes)}
    n_in = len(topology.inputs)
    batched = schedule.batch_size > 1
    training = optimizer is not None
    transport = Transport(
        batched,
        faults,
        record,
        explicit_drops(faults, wires, topology),
        plans=wires.plans,
    )
    # what each neuron computed and its updates (StepRecords)
    updates: list | None = [] if record else None
    record_update = None if updates is None else updates.append
    if isinstance(record, Record):  # what to record was chosen up front
        transport.selected = _selection(record, schedule)
        if not (record.wants_internals or (training and record.wants_updates)):
            updates = record_update = None
        else:
            wanted = transport.selected
            chosen = _chosen_nodes(record, topology)

            def record_update(r, append=updates.append) -> None:
                if wanted(r.iteration, -1) and (chosen is None or chosen[r.neuron]):
                    append(r)

    XT = np.ascontiguousarray(X.T) if batched else X.T.tolist()
    ZT = None if Z is None else np.ascontiguousarray(Z.T) if batched else Z.T.tolist()
    careful = faults is not None
    run = Run(
        transport=transport,
        batched=batched,
        rows=schedule.rows,
        targets=ZT,
        optimizer=optimizer,
        rule=rule,
        stash=stash,
        on_missing="error" if faults is None else faults.on_missing,
        careful=careful,
        updates=record_update,
        iterations=len(schedule),
        cross_entropy=cross_entropy,
    )
    if backend is None or backend.local:
        neurons = LocalNeurons(states, wires, run, nodes, n_in)
    else:
        neurons = backend._neurons(states, wires, run, topology, record_update)
    conductor = _Conductor(
        topology,
        wires,
        schedule,
        transport,
        neurons,
        XT,
        training,
        faults,
        progress,
        epoch_end,
    )

    try:
        # the tasks inherit it: non-finite values are reported, not warned about
        with np.errstate(all="ignore"):
            await neurons.run(conductor.run)
    except BaseExceptionGroup as group:
        error = _first_error(group, rank)
        if error is group:
            raise
        raise error from error.__cause__
    return Result(
        outputs=conductor.Y.T,
        entries=conductor.entries,
        ends=conductor.ends,
        stale=conductor.stale,
        messages=transport.records,
        updates=updates,
    )


def _selection(record: Record, schedule: Schedule) -> Callable[[int, int], bool]:
    """Whether to record kind `code` (-1: an update) of iteration `s`."""

    def selected(s: int, code: int) -> bool:
        if code >= 0 and not record.wants_kind(code):
            return False
        return record.wants_iteration(*schedule.label(s))

    return selected


def _chosen_nodes(record: Record, topology: Topology) -> NDArray[np.bool_] | None:
    """The nodes of ``record.neurons`` as a mask over the node order."""
    if record.neurons is None:
        return None
    rank = {v: i for i, v in enumerate(topology.nodes)}
    mask = np.zeros(len(rank), dtype=bool)
    mask[[rank[v] for v in record.neurons]] = True
    return mask


def explicit_drops(faults: Faults | None, wires: Wires, topology: Topology):
    """``{(kind code, iteration): channel numbers}`` of ``faults.drops``."""
    if faults is None or not faults.drops:
        return None
    out: dict[tuple[int, int], list[int]] = {}
    for u, v, kind, s in faults.drops:
        if kind == "forward":
            key = (u, v)
            ok = key in topology.weights
        else:
            key = (u, v)
            code = KINDS.index(kind)
            ok = wires.channel(u, v) is not None and wires.error_kind == code
        if not ok:
            raise DataError(
                f"Faults.drops names ({u!r}, {v!r}, {kind!r}, {s}), but no "
                f"{kind} message travels on a channel ({u!r}, {v!r}) in this run"
            )
        out.setdefault((KINDS.index(kind), s), []).append(wires.channel(*key))
    return {k: np.array(sorted(c), dtype=np.intp) for k, c in out.items()}


class LocalNeurons:
    """The neurons of one simulation as trio tasks of this run (the default).

    The conductor hands them their deliveries, one per neuron and window,
    with :meth:`exchange` and gets back one report from each: a partitioned
    backend (:mod:`neurosim.backends`) offers the same three methods.
    """

    def __init__(self, states, wires, run, nodes, n_in):
        self.states, self.wires, self.shared, self.nodes = states, wires, run, nodes
        self.n_in = n_in
        self.boxes = [Inbox() for _ in range(len(nodes) - n_in)]
        self.reports = run.report = _Reports()
        # the neurons' inboxes by node index (input nodes have none)
        self.inboxes = [None] * n_in + [box.put for box in self.boxes]

    async def run(self, conduct: Callable[[], Awaitable[None]]) -> None:
        """Start a task per neuron, await `conduct()`, then end the tasks."""
        boxes, run, wires, states, nodes = (
            self.boxes,
            self.shared,
            self.wires,
            self.states,
            self.nodes,
        )
        async with trio.open_nursery() as nursery:
            for i in range(self.n_in, len(nodes)):
                nursery.start_soon(
                    run_neuron, states[nodes[i]], wires[i], boxes[i - self.n_in], run
                )
            try:
                await conduct()
            finally:
                for box in boxes:
                    box.close()

    async def exchange(self, deliveries: dict[int, object]) -> list:
        """Hand each neuron ``d`` its delivery; their reports, in arrival order."""
        n = len(deliveries)
        self.reports.expect(n)
        inboxes = self.inboxes
        for d, item in deliveries.items():
            inboxes[d](item)
        return await self.reports.collect(n)

    async def waiting(self) -> list[int]:
        """The neurons whose tasks have not ended (they may still wait)."""
        return [i for i, box in enumerate(self.boxes, self.n_in) if not box.ended]


class _Reports:
    """Where neurons report, once per delivery; the conductor awaits them all.

    A list and one :class:`trio.Event` per window: the report that completes
    the window wakes the conductor (cheaper than a channel message each).
    """

    def __init__(self):
        self.items: list = []
        self.expected = 0
        self.all_in = trio.Event()

    def __call__(self, report) -> None:
        self.items.append(report)
        if len(self.items) == self.expected:
            self.all_in.set()

    def expect(self, n: int) -> None:
        """Get ready for `n` reports (call before the deliveries go out)."""
        self.items, self.expected, self.all_in = [], n, trio.Event()

    async def collect(self, n: int) -> list:
        """The `n` reports announced by :meth:`expect`, in arrival order."""
        assert n == self.expected
        if len(self.items) < n:
            await self.all_in.wait()
        return self.items


class _Conductor:
    """Advances virtual time window by window (see the module docstring)."""

    def __init__(
        self,
        topology,
        wires,
        schedule,
        transport,
        neurons,
        XT,
        training,
        faults,
        progress,
        epoch_end=None,
    ):
        self.topology, self.wires, self.schedule = topology, wires, schedule
        self.epoch_end, self.epochs_done = epoch_end, 0
        self.transport, self.neurons = transport, neurons
        self.XT, self.training, self.faults, self.progress = (
            XT,
            training,
            faults,
            progress,
        )
        self.nodes = topology.nodes
        self.n_in = len(topology.inputs)
        self.n_neurons = len(self.nodes) - self.n_in
        S = len(schedule)
        self.S = S
        # per iteration, grown as iterations enter: memory follows the run,
        # not the number of epochs asked for
        self.capacity = min(S, _FIRST_CAPACITY)
        self.entries = np.full(self.capacity, np.nan)
        self.ends = np.full(self.capacity, np.nan)
        self.stale: list[tuple[int, int, int]] = []
        self.Y = np.empty((len(topology.outputs), schedule.offset(self.capacity)))
        self.remaining: dict[int, int] = {}
        self.latest: dict[int, float] = {}
        self.problems: dict[int, list[tuple[int, str]]] = {}
        self.next_entry = 0
        self.finished = 0
        self.now = 0.0  # the start of the latest window
        self.L = wires.shortest_delay
        self.deadlines: list[tuple[float, int]] = []
        self.timeout = None
        self.not_done: dict[int, set[int]] = {}  # iteration -> neurons (deadlines)
        self.complete: list[int] = []  # iterations done in this window
        self.expired: list[int] = []  # done, deadline still needed by the next flush
        if faults is not None and faults.on_missing != "error":
            self.timeout = faults.timeout
            if self.timeout is None:
                self.timeout = 2 * critical_path(
                    topology, wires, faults.jitter, training
                )
        n = len(self.nodes)
        self.need = (  # messages each node's forward, backward, softmax steps need
            [wires[i].n_forward if i >= self.n_in else 0 for i in range(n)],
            [wires[i].n_backward if i >= self.n_in else 0 for i in range(n)],
            [wires[i].n_softmax if i >= self.n_in else 0 for i in range(n)],
        )
        self.held: dict[tuple[int, int, int], tuple] = {}  # incomplete groups
        self.output_of = {
            wires[i].index: wires[i].output_column
            for i in range(self.n_in, len(self.nodes))
            if wires[i].is_output
        }

    # -- entries
    def _entry_time(self, s: int) -> float | None:
        schedule = self.schedule
        if s == 0:
            return 0.0
        T = self.entries[s - 1] + schedule.interval
        K = schedule.in_flight
        if K is not None and s - K >= 0:
            done = self.ends[s - K]
            if math.isnan(done):
                return None  # not known yet
            T = max(T, done)
        return float(T)

    def _grow(self) -> None:
        """Twice the room per iteration (at most the whole run's)."""
        capacity = min(self.S, 2 * self.capacity)
        entries, ends = np.full(capacity, np.nan), np.full(capacity, np.nan)
        entries[: self.capacity] = self.entries
        ends[: self.capacity] = self.ends
        Y = np.empty((len(self.Y), self.schedule.offset(capacity)))
        Y[:, : self.Y.shape[1]] = self.Y
        self.entries, self.ends, self.Y = entries, ends, Y
        self.capacity = capacity

    def _enter(self, s: int, T: float) -> None:
        if s == self.capacity:
            self._grow()
        self.entries[s] = T
        self.remaining[s] = self.n_neurons
        self.latest[s] = -math.inf
        if self.timeout is not None:
            deadline = T + self.timeout
            self.transport.deadlines[s] = deadline
            heapq.heappush(self.deadlines, (deadline, s))
            self.not_done[s] = set(range(self.n_in, len(self.nodes)))
        start, stop = self.schedule.rows(s)
        batched = self.schedule.batch_size > 1
        for i in range(self.n_in):
            value = self.XT[i][start:stop] if batched else self.XT[i][start]
            self.transport.send(self.wires[i].forward, i, s, T, value)
        self.next_entry = s + 1

    def _admit(self) -> None:
        """Let in every iteration whose entry time has come."""
        transport = self.transport
        while self.next_entry < self.S:
            T = self._entry_time(self.next_entry)
            if T is None:
                return
            transport.flush()
            t_next = self._next_time()
            if t_next is not None and t_next < T:
                return
            self._enter(self.next_entry, T)
            transport.flush()

    def _next_time(self) -> float | None:
        t = self.transport.next_arrival()
        if self.deadlines and (t is None or self.deadlines[0][0] < t):
            t = self.deadlines[0][0]
        return t

    # -- the loop
    async def run(self) -> None:
        with np.errstate(all="ignore"):  # non-finite values: a DivergenceError
            await self._run()

    async def _run(self) -> None:
        transport = self.transport
        while self.finished < self.S:
            self._admit()
            transport.flush()
            for s in self.expired:
                del transport.deadlines[s]
            self.expired.clear()
            t0 = self._next_time()
            if t0 is None:
                lost = self.transport.lost
                await self._stalled(lost, "nothing is in flight")
            self.now = t0
            limit, inclusive = t0 + self.L, False
            if self.L == 0:
                limit, inclusive = t0, True
            if self.deadlines and self.deadlines[0][0] < limit:
                limit, inclusive = self.deadlines[0][0], True
            window, groups = transport.window(limit, inclusive)
            due: dict[int, list[tuple[float, int]]] = {}
            while self.deadlines and (
                self.deadlines[0][0] < limit
                or (inclusive and self.deadlines[0][0] == limit)
            ):
                deadline, s = heapq.heappop(self.deadlines)
                for i in self.not_done.get(s, ()):
                    due.setdefault(i, []).append((deadline, s))
            await self._exchange(window, groups, due)
            if transport.lost:
                self._check_lost(limit, inclusive)
                if self._lost_now:
                    await self._stalled(self._lost_now, "a message was lost")
        transport.flush()

    def _complete(self, window, groups) -> dict[int, list]:
        """The ``(window, group)`` parts to deliver now, by destination.

        On reliable connections a group that does not complete its step is
        held back until the rest of it arrives: a neuron with inputs of
        several delays then wakes once, not once per arrival time. (With
        faults, deadlines and "last values" need every message in its window.)
        """
        if self.faults is not None:
            return {d: [(window, g) for g in gs] for d, gs in groups.items()}
        need, held = self.need, self.held
        out: dict[int, list] = {}
        for d, gs in groups.items():
            parts = []
            for g in gs:
                size = g.stop - g.start
                wanted = need[g.step][d]
                if size == wanted:  # all of it at once: the common case
                    parts.append((window, g))
                    continue
                key = (d, g.step, g.iteration)
                pieces, count = held.get(key, ((), 0))
                pieces = (*pieces, (window, g))
                if count + size < wanted:
                    held[key] = (pieces, count + size)
                else:
                    held.pop(key, None)
                    parts.extend(pieces)
            if parts:
                out[d] = parts
        return out

    async def _exchange(self, window, groups, due) -> None:
        parts = self._complete(window, groups)
        deliveries: dict[int, tuple] = {
            d: (ps, due.pop(d, ())) for d, ps in parts.items()
        }
        for d, ds in due.items():
            deliveries[d] = ((), ds)
        for me, done, outputs, problems in await self.neurons.exchange(deliveries):
            if outputs:
                self._outputs(me, outputs)
            if problems:
                for s, quantity in problems:
                    self.problems.setdefault(s, []).append((me, quantity))
            if done:
                self._done(me, done)
        if self.complete:  # in iteration order, whatever order the reports came in
            for s in sorted(self.complete):
                self._finish(s)
            self.complete.clear()
            if self.epoch_end is not None:
                await self._epoch_ends()

    def _outputs(self, me: int, outputs) -> None:
        column = self.output_of[me]
        schedule = self.schedule
        for s, y in outputs:
            start, stop = schedule.rows(s)
            at = schedule.offset(s)
            self.Y[column, at : at + stop - start] = y

    def _done(self, me: int, done) -> None:
        for s, t, staleness in done:
            if staleness:
                self.stale.append((s, me, staleness))
            if t > self.latest[s]:
                self.latest[s] = t
            if self.not_done:
                self.not_done[s].discard(me)
            self.remaining[s] -= 1
            if not self.remaining[s]:
                self.complete.append(s)

    def _finish(self, s: int) -> None:
        self.ends[s] = self.latest.pop(s)
        del self.remaining[s]
        self.not_done.pop(s, None)
        if self.timeout is not None:  # messages sent at the end are still late
            self.expired.append(s)
        self.finished += 1
        problems = self.problems.pop(s, None)
        if problems:
            me, quantity = min(problems)
            error = DivergenceError(
                self.nodes[me], *self.schedule.label(s), quantity, self.training
            )
            # what was done before, for the caller to report (Network.train)
            error._so_far = self._so_far(min([s, *self.remaining]))
            raise error
        if self.progress is not None:
            self.progress(self.finished, self.S)

    def _so_far(self, done: int) -> Result:
        """A copy of the Result of the first `done` iterations, without records."""
        return Result(
            outputs=self.Y.T[: self.schedule.offset(done)].copy(),
            entries=self.entries[:done].copy(),
            ends=self.ends[:done].copy(),
            stale=[x for x in self.stale if x[0] < done],
            messages=None,
            updates=None,
        )

    async def _epoch_ends(self) -> None:
        """Report each epoch whose iterations are done (with ``in_flight=1`` the
        done iterations are the first ones); stop when the hook says so."""
        n, rows = self.schedule.n_chunks, self.schedule.n_samples
        while (self.epochs_done + 1) * n <= self.finished:
            e = self.epochs_done = self.epochs_done + 1
            so_far = Result(
                outputs=self.Y.T[: e * rows],
                entries=self.entries[: e * n],
                ends=self.ends[: e * n],
                stale=list(self.stale),
                messages=None,
                updates=None,
            )
            if await self.epoch_end(e - 1, so_far):
                self.S = self.finished  # nothing more enters; the run ends here
                return

    # -- the watchdog
    def _check_lost(self, limit: float, inclusive: bool) -> None:
        due = [
            lost
            for lost in self.transport.lost
            if lost.arrival < limit or (inclusive and lost.arrival == limit)
        ]
        self._lost_now = due

    async def _stalled(self, lost, reason: str) -> None:
        """Ask the waiting neurons what they wait for, and raise StalledError."""
        if lost:
            asked = sorted({x.destination for x in lost})
            iterations = {x.iteration for x in lost}
            first = min(lost, key=lambda x: (x.arrival, x.iteration, x.destination))
            reason = (
                f"the {('forward', 'error')[first.step]} message of iteration "
                f"{first.iteration} from {self.nodes[first.source]!r} to "
                f"{self.nodes[first.destination]!r} was lost"
            )
            time = first.arrival
        else:
            asked = await self.neurons.waiting()  # an ended task waits for nothing
            iterations = set(self.remaining)
            time = self.now
        if self.held:  # let the neurons file what was held back, then ask
            parts: dict[int, list] = {}
            for (d, _, _), (pieces, _) in sorted(self.held.items()):
                parts.setdefault(d, []).extend(pieces)
            self.held.clear()
            await self.neurons.exchange({d: (ps, ()) for d, ps in parts.items()})
        question = sorted(iterations)
        answers = dict(await self.neurons.exchange({i: question for i in asked}))
        pairs = {(x.destination, x.iteration) for x in lost} if lost else None
        found = [
            Waiting(self.nodes[me], s, step, tuple(self.nodes[u] for u in senders))
            for me in sorted(answers)
            for s, step, senders in answers[me]
            if s in iterations and (pairs is None or (me, s) in pairs)
        ]
        found.sort(key=lambda w: (w.iteration, self.topology.nodes.index(w.neuron)))
        raise StalledError(found, time, reason)

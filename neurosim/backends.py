"""Where the neurons run: in this process (the default), or in partitions on Ray.

A backend decides where a simulation's neurons live. The conductor and the
transport (:mod:`neurosim.simulation`, :mod:`neurosim.transport`) stay in
the calling process and keep virtual time, so results do not depend on the
backend: they are the local backend's, bit for bit.

- :class:`Local`: every neuron is a trio task of the caller's trio run.
- :class:`Ray`: the neurons are split into partitions, each a Ray actor
  that runs a persistent trio loop in a thread of its own, in which its
  neurons are trio tasks running the same code
  (:func:`neurosim.neuron.run_neuron`). Each time window, the conductor
  sends every partition that has mail one call with its share of the
  window (one record array of ports, values, rows and arrival times, and
  the batch vectors)
  and gets back its neurons' reports and what they sent; their parameters
  and optimizer states stay in the partition until the run ends.

Examples
--------
>>> import neurosim
>>> neurosim.backends.Ray(partitions=4)
Ray(partitions=4, address=None, partition='generations')
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any

import numpy as np
import trio

from neurosim.errors import DataError, PartitionError
from neurosim.graph import Topology
from neurosim.messages import FORWARD, SOFTMAX
from neurosim.transport import Group, Window

__all__ = ["Cut", "Local", "Ray", "assign", "cut"]


class Local:
    """The neurons as trio tasks of the caller's trio run (the default).

    Examples
    --------
    >>> Local()
    Local()
    """

    local = True

    def __repr__(self) -> str:
        return "Local()"

    def __eq__(self, other: object) -> bool:
        return type(other) is Local

    __hash__ = object.__hash__


class Ray:
    """Partitions of neurons on Ray actors, bit-identical to :class:`Local`.

    Parameters
    ----------
    partitions : int
        How many partitions (Ray actors) the neurons are split into.
    address : str, optional
        The Ray cluster to use: ``None`` starts a local Ray instance (or
        uses the one this process already joined), ``"auto"`` joins the
        cluster started on this machine with ``ray start --head``, and an
        address ``"host:port"`` joins that cluster.
    partition : "generations", "metis", or a mapping node -> partition
        How neurons are split: by default in contiguous runs of equal size
        of the neurons in topological order, generation after generation,
        which keeps the connections between partitions near the fewest for
        layered networks; ``"metis"``, METIS's partition of the graph of
        connections between neurons into parts of near equal size with the
        fewest connections between them (needs ``pymetis``); or a mapping of
        every non-input node to a partition number in ``range(partitions)``.

    Examples
    --------
    >>> Ray(partitions=2, address="auto")
    Ray(partitions=2, address='auto', partition='generations')
    """

    local = False

    def __init__(
        self,
        partitions: int = 2,
        address: str | None = None,
        partition: str | Mapping[Hashable, int] = "generations",
    ):
        if (
            isinstance(partitions, bool)
            or not isinstance(partitions, int | np.integer)
            or partitions < 1
        ):
            raise DataError(f"partitions must be an integer >= 1, got {partitions!r}")
        if address is not None and not isinstance(address, str):
            raise DataError(
                f"address must be None, 'auto' or 'host:port', got {address!r}"
            )
        if not (
            partition in ("generations", "metis") or isinstance(partition, Mapping)
        ):
            raise DataError(
                "partition must be 'generations', 'metis' or a mapping node -> "
                f"partition, got {partition!r}"
            )
        self.partitions = int(partitions)
        self.address = address
        self.partition = partition if isinstance(partition, str) else dict(partition)
        self._running = None  # the run in progress, if any
        self.stats: dict[str, int] = {}
        """Of the latest run: ``windows`` (exchanges with the partitions),
        ``calls`` (remote calls) and ``delivered`` (messages handed to
        partitions)."""

    def __repr__(self) -> str:
        shown = self.partition if isinstance(self.partition, str) else "mapping"
        return (
            f"Ray(partitions={self.partitions}, address={self.address!r}, "
            f"partition={shown!r})"
        )

    def _neurons(self, states, wires, run, topology, record_update):
        """The neurons of one simulation, on this backend (for the conductor)."""
        return _RayNeurons(self, states, wires, run, topology, record_update)


def assign(
    topology: Topology, partitions: int, partition: Any = "generations"
) -> dict[Hashable, int]:
    """The partition of every neuron (non-input node).

    By default, the neurons in topological order, generation after
    generation, cut into `partitions` contiguous runs of equal size (the
    first ones one longer when it does not divide).

    Examples
    --------
    >>> import neurosim
    >>> net = neurosim.Network(neurosim.layered([2, 2, 2], seed=0))
    >>> assign(net.topology, 2)
    {'h1': 0, 'h2': 0, 'o1': 1, 'o2': 1}
    """
    inputs = set(topology.inputs)
    neurons = [v for layer in topology.layers() for v in layer if v not in inputs]
    if partition == "metis":
        return _metis(topology, neurons, partitions)
    if partition == "generations":
        if partitions > len(neurons):
            raise DataError(
                f"{partitions} partitions for {len(neurons)} neurons: at most "
                "one partition per neuron"
            )
        bounds = np.linspace(0, len(neurons), partitions + 1).round().astype(int)
        return {
            v: k for k in range(partitions) for v in neurons[bounds[k] : bounds[k + 1]]
        }
    chosen = dict(partition)
    for v in neurons:
        k = chosen.get(v)
        if k is None:
            raise DataError(f"partition= gives no partition for neuron {v!r}")
        if (
            isinstance(k, bool)
            or not isinstance(k, int | np.integer)
            or not (0 <= k < partitions)
        ):
            raise DataError(
                f"partition= puts neuron {v!r} in {k!r}; partitions are "
                f"0 to {partitions - 1}"
            )
    unknown = [v for v in chosen if v not in set(neurons)]
    if unknown:
        raise DataError(f"partition= names nodes that are not neurons: {unknown!r}")
    return {v: int(chosen[v]) for v in neurons}


class Cut(dict):
    """How a partition splits the connections (see :func:`cut`)."""

    def __repr__(self) -> str:
        return (
            f"Cut({self['partitions']} partitions of {self['sizes']} neurons: "
            f"{self['connections']} of {self['total']} connections cross, "
            f"{self['values']} distinct values per window)"
        )


def cut(topology: Topology, assignment: Mapping[Hashable, int]) -> Cut:
    """What crosses between partitions: connections, and distinct values.

    ``connections`` counts the connections whose two neurons are in
    different partitions (an input node is in none: its connections do not
    count); ``values`` counts the distinct ``(sender, destination
    partition)`` pairs among them: a sender's ``y`` goes once to each other
    partition that needs it, per time window; ``sizes`` are the neurons per
    partition.

    Examples
    --------
    >>> import neurosim
    >>> net = neurosim.Network(neurosim.layered([2, 2, 2], seed=0))
    >>> c = cut(net.topology, assign(net.topology, 2))
    >>> c["connections"], c["values"], c["sizes"]
    (4, 2, [2, 2])
    """
    k = max(assignment.values()) + 1 if assignment else 0
    sizes = [0] * k
    for p in assignment.values():
        sizes[p] += 1
    crossing = [
        (u, assignment[v])
        for u, v in topology.edges
        if u in assignment and assignment[u] != assignment[v]
    ]
    return Cut(
        partitions=k,
        sizes=sizes,
        connections=len(crossing),
        values=len(set(crossing)),
        total=len(topology.edges),
    )


def _metis(topology: Topology, neurons: list, partitions: int) -> dict[Hashable, int]:
    try:
        import pymetis
    except ImportError:
        raise ImportError(
            "partition='metis' needs pymetis: pip install pymetis"
        ) from None
    if partitions == 1:
        return dict.fromkeys(neurons, 0)
    index = {v: i for i, v in enumerate(neurons)}
    adjacency: list[set[int]] = [set() for _ in neurons]
    for u, v in topology.edges:
        if u in index and v in index:
            adjacency[index[u]].add(index[v])
            adjacency[index[v]].add(index[u])
    options = pymetis.Options(seed=0)  # the same split every time
    _, parts = pymetis.part_graph(
        partitions, adjacency=[sorted(a) for a in adjacency], options=options
    )
    return {v: int(k) for v, k in zip(neurons, parts, strict=True)}


# -- the driver's side


def _ray():
    try:
        import ray
    except ImportError:
        raise ImportError(
            'neurosim.backends.Ray needs Ray: pip install "neurosim[ray]"'
        ) from None
    return ray


_MESSAGE = np.dtype(
    [
        ("port", np.intp),
        ("value", np.float64),
        ("row", np.intp),
        ("arrival", np.float64),
    ]
)


def _pack(items: dict[int, Any]) -> tuple[list[tuple], dict[int, Any]]:
    """Deliveries with their windows cut down to what they use (to ship).

    Each window goes as one record array of its messages (:data:`_MESSAGE`)
    and the list of its batch vectors.
    """
    windows: dict[int, list] = {}
    for item in items.values():
        if type(item) is tuple:
            for w, g in item[0]:
                windows.setdefault(id(w), [w, []])[1].append((g.start, g.stop))
    shipped: list[tuple] = []
    where: dict[tuple[int, int], tuple[int, int]] = {}  # (window, start) -> new
    for key, (w, ranges) in windows.items():
        index = np.concatenate([np.arange(a, b) for a, b in ranges])
        rows = w.row[index]
        payloads: list = []
        if w.payloads:
            used, rows = np.unique(rows, return_inverse=True)
            payloads = [w.payloads[r] for r in used.tolist()]
        at = 0
        for a, b in ranges:
            where[key, a] = (len(shipped), at)
            at += b - a
        messages = np.empty(len(index), dtype=_MESSAGE)
        messages["port"], messages["value"] = w.port[index], w.value[index]
        messages["row"], messages["arrival"] = rows, w.arrival[index]
        shipped.append((messages, payloads))
    packed: dict[int, Any] = {}
    for d, item in items.items():
        if type(item) is not tuple:
            packed[d] = item  # the watchdog's question
            continue
        parts = []
        for w, g in item[0]:
            k, start = where[id(w), g.start]
            parts.append(
                (k, Group(g.step, g.iteration, start, start + g.stop - g.start, g.last))
            )
        packed[d] = (parts, item[1])
    return shipped, packed


class _RayNeurons:
    """The conductor's view of the partitions (as simulation.LocalNeurons)."""

    def __init__(self, backend: Ray, states, wires, run, topology, record_update):
        ray = self.ray = _ray()
        if not ray.is_initialized():  # None: a fresh Ray of this process's own
            ray.init(
                address="local" if backend.address is None else backend.address,
                include_dashboard=False,
                log_to_driver=False,
            )
        self.wires, self.states = wires, states
        self.record_update = record_update
        self.transport = run.transport
        nodes = topology.nodes
        rank = {v: i for i, v in enumerate(nodes)}
        of = assign(topology, backend.partitions, backend.partition)
        self.part_of = np.full(len(nodes), -1, dtype=np.intp)
        members: list[list[int]] = [[] for _ in range(backend.partitions)]
        for v, k in of.items():
            self.part_of[rank[v]] = k
        for i in range(len(nodes)):
            if self.part_of[i] >= 0:
                members[self.part_of[i]].append(i)
        self.members = members
        self.nodes = nodes
        self.backend = backend
        backend._running = self  # the run in progress (tests reach its actors)
        backend.stats = self.stats = dict(windows=0, calls=0, delivered=0)
        fields = {
            name: getattr(run, name)
            for name in (
                "batched",
                "rows",
                "targets",
                "optimizer",
                "rule",
                "stash",
                "on_missing",
                "careful",
                "iterations",
                "cross_entropy",
            )
        }
        fields["record"] = run.updates is not None
        actor = ray.remote(num_cpus=0, max_concurrency=4)(_Partition)
        self.actors = [
            actor.options(scheduling_strategy="SPREAD").remote(
                k,
                [states[nodes[i]] for i in members[k]],
                [wires[i] for i in members[k]],
                fields,
            )
            for k in range(backend.partitions)
        ]

    def _get(self, futures, partitions):
        ray = self.ray
        try:
            return ray.get(futures)
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause
            raise cause from None
        except ray.exceptions.RayActorError as exc:
            dead = next(
                (
                    k
                    for k, f in zip(partitions, futures, strict=True)
                    if _failed(ray, f)
                ),
                partitions[0],
            )
            reason = str(exc).strip().splitlines()[0]  # Ray's first line
            raise PartitionError(dead, self._names(dead), reason) from None

    def _names(self, k: int) -> tuple:
        return tuple(self.nodes[i] for i in self.members[k])

    async def run(self, conduct: Callable[[], Awaitable[None]]) -> None:
        try:
            await conduct()
            every = list(range(len(self.actors)))
            finals = await trio.to_thread.run_sync(
                self._get, [a.states.remote() for a in self.actors], every
            )
            for k, final in enumerate(finals):
                for i, (params, optimizer_state) in zip(
                    self.members[k], final, strict=True
                ):
                    state = self.states[self.nodes[i]]
                    state.params[:] = params
                    state.optimizer_state = optimizer_state
        finally:
            for a in self.actors:
                self.ray.kill(a)
            self.backend._running = None  # keep no run's states alive

    async def exchange(self, deliveries: dict[int, Any]) -> list:
        by_part: dict[int, dict[int, Any]] = {}
        part_of = self.part_of
        for d, item in deliveries.items():
            by_part.setdefault(int(part_of[d]), {})[d] = item
        partitions = sorted(by_part)
        packed = [_pack(by_part[k]) for k in partitions]
        stats = self.stats
        stats["windows"] += 1
        stats["calls"] += len(partitions)
        stats["delivered"] += sum(len(m) for windows, _ in packed for m, _ in windows)
        futures = [
            self.actors[k].exchange.remote(*p)
            for k, p in zip(partitions, packed, strict=True)
        ]
        results = await trio.to_thread.run_sync(self._get, futures, partitions)
        reports: list = []
        outbox = self.transport.outbox
        wires = self.wires
        for part_reports, sends, updates in results:
            reports.extend(part_reports)
            for iteration, step, source, time, kind, value, coefficients in sends:
                w = wires[source]
                links = (  # backward and feedback go on the backward table
                    w.forward
                    if kind == FORWARD
                    else w.softmax
                    if kind == SOFTMAX
                    else w.backward
                )
                outbox.append(
                    (iteration, step, source, time, links, value, coefficients)
                )
            if updates and self.record_update is not None:
                for record in updates:
                    self.record_update(record)
        return reports

    async def waiting(self) -> list[int]:
        every = list(range(len(self.actors)))
        results = await trio.to_thread.run_sync(
            self._get, [a.waiting.remote() for a in self.actors], every
        )
        return [i for r in results for i in r]


def _failed(ray, future) -> bool:
    try:
        ray.get(future, timeout=0)
    except ray.exceptions.RayActorError:
        return True
    except Exception:
        return False
    return False


# -- the partition's side (a Ray actor)


class _Sent:
    """A partition's transport: it keeps what its neurons send for the driver."""

    def __init__(self):
        self.outbox: list = []

    def send(self, links, source, iteration, time, value, coefficients=None) -> None:
        self.outbox.append(
            (iteration, links.step, source, time, links.kind, value, coefficients)
        )


class _Partition:
    """One partition: its neurons as trio tasks of a trio loop in a thread."""

    def __init__(self, number: int, states: list, wirings: list, fields: dict):
        from neurosim.neuron import Inbox, Run
        from neurosim.simulation import _Reports

        self.number = number
        # writable copies: what Ray hands over may be read-only views
        self.states, self.wirings = copy.deepcopy(states), wirings
        self.sent = _Sent()
        record = fields.pop("record")
        self.updates: list | None = [] if record else None
        self.run = Run(
            transport=self.sent,
            updates=None if self.updates is None else self.updates.append,
            **fields,
        )
        self.reports = _Reports()
        self.run.report = self.reports
        self.boxes = {w.index: Inbox() for w in wirings}
        self.error: BaseException | None = None
        self.token = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        self.ready.wait()

    def _loop(self) -> None:
        trio.run(self._main)

    async def _main(self) -> None:
        from neurosim.neuron import run_neuron

        self.token = trio.lowlevel.current_trio_token()
        self.stop = trio.Event()
        with np.errstate(all="ignore"):
            async with trio.open_nursery() as nursery:
                for state, wiring in zip(self.states, self.wirings, strict=True):
                    nursery.start_soon(
                        self._guarded,
                        run_neuron,
                        state,
                        wiring,
                        self.boxes[wiring.index],
                    )
                self.ready.set()
                await self.stop.wait()
                for box in self.boxes.values():
                    box.close()

    async def _guarded(self, run_neuron, state, wiring, box) -> None:
        try:
            await run_neuron(state, wiring, box, self.run)
        except Exception as exc:  # told at the next exchange
            self.error = exc
            self.reports.all_in.set()

    async def _exchange(self, shipped: list, items: dict) -> list:
        windows = [
            Window(
                *(np.ascontiguousarray(m[f]) for f in ("port", "value", "row")),
                np.ascontiguousarray(m["arrival"]),
                payloads,
            )
            for m, payloads in shipped
        ]
        n = len(items)
        self.reports.expect(n)
        for d, item in items.items():
            if type(item) is tuple:
                parts, deadlines = item
                item = ([(windows[k], g) for k, g in parts], deadlines)
            self.boxes[d].put(item)
        if self.error is None and len(self.reports.items) < n:
            await self.reports.all_in.wait()
        if self.error is not None:
            raise self.error
        return self.reports.items

    def exchange(self, windows: list, items: dict) -> tuple:
        """Deliver to this partition's neurons; their reports, sendings, records."""
        reports = trio.from_thread.run(
            self._exchange, windows, items, trio_token=self.token
        )
        sends, self.sent.outbox = self.sent.outbox, []
        updates = None
        if self.updates:
            updates = list(self.updates)
            self.updates.clear()  # the same list: run.updates appends to it
        return reports, sends, updates

    def waiting(self) -> list[int]:
        return [d for d, box in self.boxes.items() if not box.ended]

    def states(self) -> list:
        return [(s.params, s.optimizer_state) for s in self.states]

    def pid(self) -> int:
        import os

        return os.getpid()

"""The transport: the one place where messages are sent, carried and delivered.

Neurons never hand a message to another neuron. They call
:meth:`Transport.send` once per step (a value on every link of a table), and
the conductor (:mod:`neurosim.simulation`) asks the transport, one time
window at a time, for what arrives in that window, sorted per destination:
:meth:`Transport.window`. Faults (:mod:`neurosim.faults`) are applied here
and nowhere else, and so is recording; a partitioned backend replaces this
class.

Delivery is in bulk. A window's messages are concatenated into a few numpy
arrays, sorted by destination with one stable sort, and each destination gets
its *groups*: runs of messages of one step and one iteration, in port order
(senders are sorted by node order before the sort, and ports follow node
order). A receiver that gets all of its inputs in one group reads them as a
view of the window's arrays, without a copy.
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from neurosim.faults import Faults, uniforms
from neurosim.messages import STEP_OF_KIND, SendRecord

__all__ = ["Group", "LinkTable", "Transport", "Window", "link_table"]

Array = NDArray[np.float64]


class LinkTable(NamedTuple):
    """The links one node sends one kind of message on, as arrays.

    ``uniform`` is the common delay when every link has the same one (the
    arrival is then one number), else ``None``.
    """

    kind: int
    step: int
    destination: NDArray[np.intp]
    port: NDArray[np.intp]
    delay: NDArray[np.float64]
    channel: NDArray[np.intp]
    uniform: float | None
    shortest: float
    longest: float


def link_table(kind: int, links: Sequence) -> LinkTable:
    """A :class:`LinkTable` of `links` (``messages.Link`` tuples)."""
    delay = np.array([link.delay for link in links], dtype=np.float64)
    shortest, longest = (
        (float(delay.min()), float(delay.max())) if len(delay) else (0, 0)
    )
    return LinkTable(
        kind=kind,
        step=STEP_OF_KIND[kind],
        destination=np.array([link.destination for link in links], dtype=np.intp),
        port=np.array([link.port for link in links], dtype=np.intp),
        delay=delay,
        channel=np.array([link.channel for link in links], dtype=np.intp),
        uniform=shortest if shortest == longest else None,
        shortest=shortest,
        longest=longest,
    )


class Group(NamedTuple):
    """Messages of one step and one iteration for one destination, in port order.

    ``start:stop`` indexes the window's arrays; ``last`` is the latest arrival.
    """

    step: int
    iteration: int
    start: int
    stop: int
    last: float


@dataclass(eq=False)
class Window:
    """What arrives in one time window, sorted by destination then group.

    ``port``, ``value``, ``row`` and ``arrival`` are parallel arrays: ``value``
    is the message's number (a signal, or ``coefficient·signal`` for an error,
    in online training; the coefficient in mini-batch training) and ``row``
    indexes ``payloads``, the batch vectors (mini-batch training).
    """

    port: NDArray[np.intp]
    value: Array
    row: NDArray[np.intp]
    arrival: Array
    payloads: list[Array]
    _matrix: Array | None = field(default=None, repr=False)

    def vectors(self, start: int, stop: int) -> Array:
        """The batch vectors of messages ``start:stop`` as the rows of a matrix.

        A view of one stacked matrix when they are consecutive rows of it
        (every neuron of a layered network receives its inputs so), else a
        copy.
        """
        rows = self.row[start:stop]
        if self._matrix is None:
            sizes = {len(p) for p in self.payloads}
            self._matrix = np.stack(self.payloads) if len(sizes) == 1 else np.empty(0)
        if self._matrix.ndim == 2:
            first, last = int(rows[0]), int(rows[-1])
            if last - first == len(rows) - 1:
                return self._matrix[first : last + 1]
            return self._matrix[rows]
        return np.stack([self.payloads[r] for r in rows])


class _Parcel(NamedTuple):
    """The part of one sending still in flight."""

    first: float
    last: float
    iteration: int
    step: int
    source: int
    destination: NDArray[np.intp]
    port: NDArray[np.intp]
    arrival: Array | float
    value: Array | float | None
    payload: Array | None
    links: LinkTable | None  # the whole table, while no link is cut off


@dataclass(frozen=True)
class Lost:
    """A lost message, remembered so that ``on_missing="error"`` can stop."""

    arrival: float
    iteration: int
    destination: int
    source: int
    step: int


class Transport:
    """Carries every message of one simulation (see the module docstring).

    Parameters
    ----------
    batched : bool
        Values are batch vectors (mini-batch) rather than floats.
    faults : Faults, optional
        How unreliable the connections are.
    record : bool
        Keep a :class:`~neurosim.messages.SendRecord` of every sending.
    explicit_drops : dict, optional
        ``{(kind, iteration): channels}`` of the messages lost for sure.
    plans : dict, optional
        Where the sorting plans of repeating windows are kept (see
        :meth:`_plan`); the wiring's own, so that they outlive the call.
    """

    def __init__(
        self,
        batched: bool,
        faults: Faults | None = None,
        record: bool = False,
        explicit_drops: dict[tuple[int, int], NDArray[np.intp]] | None = None,
        plans: dict | None = None,
    ):
        self.batched = batched
        self.faults = faults
        self.outbox: list[tuple] = []
        self.records: list[SendRecord] | None = [] if record else None
        # which sendings to record, by (iteration, kind); None: all of them
        self.selected: Callable[[int, int], bool] | None = None
        self.lost: list[Lost] = []
        self.deadlines: dict[int, float] = {}  # iteration -> deadline (on_missing)
        self._explicit = explicit_drops or {}
        self._heap: list[tuple[float, int, _Parcel]] = []
        self._plans: dict[tuple, _Plan] = {} if plans is None else plans
        self._seq = 0

    # -- the one place a message is sent
    def send(
        self,
        links: LinkTable,
        source: int,
        iteration: int,
        time: float,
        value: Any,
        coefficients: Array | None = None,
    ) -> None:
        """Send `value` from `source` on every link of `links`, leaving at `time`.

        Online, `value` is a float: the signal itself (forward), or the
        signal that each link's coefficient multiplies (errors). In
        mini-batch training it is the batch vector; an error message then
        carries ``(coefficient, vector)`` and the receiver forms the sum.
        """
        self.outbox.append(
            (iteration, links.step, source, time, links, value, coefficients)
        )

    # -- the conductor's side
    def flush(self) -> None:
        """Put the sendings of the last window in flight (faults apply here)."""
        if not self.outbox:
            return
        sends = self.outbox
        self.outbox = []
        sends.sort(key=_send_order)
        for iteration, step, source, time, links, value, coefficients in sends:
            self._launch(iteration, step, source, time, links, value, coefficients)

    def _launch(
        self, iteration, step, source, time, links, value, coefficients
    ) -> None:
        message_value, payload, arrival, first, last = _carried(
            self.batched, time, links, value, coefficients
        )
        destination, port = links.destination, links.port
        fate = copies = None
        if self.faults is not None:
            every, fate, copies = self._fates(links, iteration, source, arrival)
            keep = np.flatnonzero(fate == 0)
            arrival = every[keep]
            if copies is not None:  # the copies travel too; receivers ignore them
                on_time = copies[1] <= self.deadlines.get(iteration, np.inf)
                keep = np.concatenate([keep, copies[0][on_time]])
                arrival = np.concatenate([arrival, copies[1][on_time]])
            destination, port = destination[keep], port[keep]
            if isinstance(message_value, np.ndarray):
                message_value = message_value[keep]
            if len(keep):
                first, last = float(arrival.min()), float(arrival.max())
        if self.records is not None and (
            self.selected is None or self.selected(iteration, links.kind)
        ):
            self.records.append(
                SendRecord(
                    iteration,
                    links.kind,
                    source,
                    time,
                    links,
                    every if fate is not None else arrival,
                    value,
                    coefficients,
                    fate,
                    copies,
                )
            )
        if fate is not None and not len(destination):
            return
        parcel = _Parcel(
            first,
            last,
            iteration,
            step,
            source,
            destination,
            port,
            arrival,
            message_value,
            payload,
            links if fate is None else None,
        )
        heapq.heappush(self._heap, (first, self._seq, parcel))
        self._seq += 1

    def _fates(self, links: LinkTable, iteration: int, source: int, arrival):
        """Each link's arrival and fate (a code of FATES), and the copies.

        Returns the arrivals of every link (jitter included), the fates, and
        ``(positions, arrivals)`` of the duplicated copies (or None).
        """
        faults = self.faults
        n = len(links.destination)
        arrival = np.broadcast_to(np.asarray(arrival, dtype=np.float64), (n,)).copy()
        fate = np.zeros(n, dtype=np.int8)
        copied = None
        if faults.drop or faults.duplicate:
            u = uniforms(faults.seed, 0, links.kind, iteration, links.channel)
            fate[u < faults.drop] = 1
            copied = (u >= faults.drop) & (u < faults.drop + faults.duplicate)
        explicit = self._explicit.get((links.kind, iteration))
        if explicit is not None:
            fate[np.isin(links.channel, explicit)] = 1
        if faults.jitter:
            arrival += faults.jitter * uniforms(
                faults.seed, 1, links.kind, iteration, links.channel
            )
        deadline = self.deadlines.get(iteration)
        if deadline is not None:
            fate[(fate == 0) & (arrival > deadline)] = 3  # late: ignored
        if faults.on_missing == "error":
            for i in np.flatnonzero(fate == 1).tolist():
                self.lost.append(
                    Lost(
                        float(arrival[i]),
                        iteration,
                        int(links.destination[i]),
                        source,
                        links.step,
                    )
                )
        copies = None
        if copied is not None:
            copied &= fate == 0
            if copied.any():
                pos = np.flatnonzero(copied)
                copies = (pos, arrival[pos] + links.delay[pos])
        return arrival, fate, copies

    def next_arrival(self) -> float | None:
        """The earliest arrival in flight, or None."""
        return self._heap[0][0] if self._heap else None

    def window(
        self, limit: float, inclusive: bool
    ) -> tuple[Window, dict[int, list[Group]]]:
        """Every message arriving before `limit` (at or before, if `inclusive`)."""
        heap = self._heap
        parts: list[_Parcel] = []
        while heap and (heap[0][0] < limit or (inclusive and heap[0][0] == limit)):
            _, seq, parcel = heapq.heappop(heap)
            if parcel.last < limit or (inclusive and parcel.last == limit):
                parts.append(parcel)
                continue
            arrival = parcel.arrival
            now = arrival <= limit if inclusive else arrival < limit
            later = ~now
            parts.append(_cut(parcel, now))
            rest = _cut(parcel, later)
            heapq.heappush(heap, (rest.first, seq, rest))
        return self._route(parts)

    def _route(self, parts: list[_Parcel]) -> tuple[Window, dict[int, list[Group]]]:
        # Senders in node order within each (iteration, step): after the one
        # stable sort by destination, each group is in port order.
        if not parts:
            nothing = np.empty(0, dtype=np.intp)
            return Window(nothing, np.empty(0), nothing, np.empty(0), []), {}
        parts.sort(key=_part_order)
        plan = self._plan(parts)
        row = plan.row
        if all(isinstance(p.value, float) for p in parts):  # online forward
            value = np.array([p.value for p in parts])[row]
        elif all(p.value is None for p in parts):  # mini-batch forward
            value = np.ones(plan.total)
        else:
            value = np.concatenate([_full(p.value, len(p.port)) for p in parts])[
                plan.order
            ]
        if all(isinstance(p.arrival, float) for p in parts):
            arrival = np.array([p.arrival for p in parts])[row]
        else:
            arrival = np.concatenate([_full(p.arrival, len(p.port)) for p in parts])[
                plan.order
            ]
        last = np.maximum.reduceat(arrival, plan.starts).tolist()
        window = Window(
            port=plan.port,
            value=value,
            row=row,
            arrival=arrival,
            payloads=[p.payload for p in parts] if self.batched else [],
        )
        groups: dict[int, list[Group]] = {}
        for d, r, a, b, t in zip(
            plan.destinations,
            plan.first_parts,
            plan.start_list,
            plan.stop_list,
            last,
            strict=True,
        ):
            p = parts[r]
            group = Group(p.step, p.iteration, a, b, t)
            if d in groups:
                groups[d].append(group)
            else:
                groups[d] = [group]
        return window, groups

    def _plan(self, parts: list[_Parcel]) -> _Plan:
        """How a window's messages are sorted, cached for a repeating pattern.

        The pattern is the parts' link tables and iterations (relative to the
        first): in a steady stream every window of the same kind repeats it.
        """
        base = parts[0].iteration
        key = None
        if all(p.links is not None for p in parts):
            key = tuple((id(p.links), p.iteration - base) for p in parts)
            plan = self._plans.get(key)
            if plan is not None:
                return plan
        sizes = [len(p.destination) for p in parts]
        total = sum(sizes)
        if len(parts) == 1:
            destination, port = parts[0].destination, parts[0].port
            group_id = np.zeros(total, dtype=np.intp)
        else:
            destination = np.concatenate([p.destination for p in parts])
            port = np.concatenate([p.port for p in parts])
            keys = [(p.iteration, p.step) for p in parts]
            ids = np.cumsum([0] + [keys[i] != keys[i - 1] for i in range(1, len(keys))])
            group_id = np.repeat(ids, sizes)
        row = np.repeat(np.arange(len(parts), dtype=np.intp), sizes)
        order = np.argsort(destination, kind="stable")
        destination = destination[order]
        group_id = group_id[order]
        row = row[order]
        change = (destination[1:] != destination[:-1]) | (group_id[1:] != group_id[:-1])
        starts = np.concatenate(([0], np.flatnonzero(change) + 1))
        stops = np.append(starts[1:], total)
        plan = _Plan(
            total=total,
            order=order,
            row=row,
            port=port[order],
            starts=starts,
            start_list=starts.tolist(),
            stop_list=stops.tolist(),
            destinations=destination[starts].tolist(),
            first_parts=row[starts].tolist(),
        )
        if key is not None and len(self._plans) < 4096:
            self._plans[key] = plan
        return plan


class _Plan(NamedTuple):
    """The sorting of one pattern of parts (see :meth:`Transport._plan`)."""

    total: int
    order: NDArray[np.intp]
    row: NDArray[np.intp]
    port: NDArray[np.intp]
    starts: NDArray[np.intp]
    start_list: list[int]
    stop_list: list[int]
    destinations: list[int]
    first_parts: list[int]


_send_order = operator.itemgetter(0, 1, 2)  # iteration, step, source


def _carried(batched: bool, time: float, links: LinkTable, value, coefficients):
    """What a sending puts on its links: ``(value, payload, arrival, first, last)``.

    Online, an error's value on each link is ``coefficient·signal``; in
    mini-batch training a message carries its coefficient (or nothing, for a
    forward message) and the batch vector as its payload. The arrival is one
    number when every link has the same delay.
    """
    if coefficients is None:
        message_value, payload = (None, value) if batched else (value, None)
    elif batched:
        message_value, payload = coefficients, value
    else:
        message_value, payload = coefficients * value, None
    if links.uniform is not None:
        arrival = first = last = time + links.uniform
    else:
        arrival = time + links.delay
        first, last = links.shortest + time, links.longest + time
    return message_value, payload, arrival, first, last


def _part_order(p: _Parcel) -> tuple:
    return p.iteration, p.step, p.source


def _full(x, n: int):
    if x is None:
        return np.ones(n)
    if isinstance(x, np.ndarray):
        return x
    return np.full(n, x)


def _cut(p: _Parcel, keep: NDArray[np.bool_]) -> _Parcel:
    arrival = p.arrival[keep]
    value = p.value[keep] if isinstance(p.value, np.ndarray) else p.value
    return _Parcel(
        float(arrival.min()),
        float(arrival.max()),
        p.iteration,
        p.step,
        p.source,
        p.destination[keep],
        p.port[keep],
        arrival,
        value,
        p.payload,
        None,
    )

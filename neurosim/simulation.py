"""One simulation: lay the channels, start every neuron, drive the samples.

:func:`simulate` opens one unbounded inbox per node, gives every connection a
clone of its receiver's send end (forward along the edge, and back along the
routes of the learning rule), starts one task per node, and runs the
*driver*: the environment that feeds each iteration's input values to the
input nodes and targets to the output neurons, then waits until every neuron
reports that it has finished the iteration. The next iteration enters at the
virtual time the last neuron finished (the article's iterations, one after
the other).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import trio
from numpy.typing import NDArray

from neurosim.errors import DivergenceError, NeuronError
from neurosim.graph import Topology
from neurosim.messages import INPUT, TARGET, Link
from neurosim.neuron import NeuronState, Run, Wiring, run_input, run_neuron

__all__ = ["Result", "simulate", "wire"]

Array = NDArray[np.float64]


@dataclass
class Result:
    """What the driver saw: outputs per sample and iteration end times."""

    outputs: Array  # (n_rows, n_outputs), in the order the samples went in
    ends: Array  # virtual time at which each iteration finished
    messages: list | None
    updates: list | None
    workspace: Array | None = None  # scratch memory, for the next run


def wire(topology: Topology, rule=None) -> list[Wiring]:
    """Every node's links: forward along the edges, back along the rule's routes.

    The result depends only on the network and the rule, so a
    :class:`~neurosim.Network` computes it once and reuses it for every run;
    a run only opens the inboxes. Without a `rule`, the nodes send forward
    only (``predict``).

    Raises
    ------
    ValueError
        If the rule routes an error to a node that is not a non-input neuron,
        or uses the weight of a connection that does not exist.
    """
    nodes = topology.nodes
    rank = {v: i for i, v in enumerate(nodes)}
    port = {v: {u: i for i, u in enumerate(topology.predecessors[v])} for v in nodes}
    forward = {
        v: tuple(
            Link(rank[s], port[s][v], topology.delays[v, s])
            for s in topology.successors[v]
        )
        for v in nodes
    }
    outputs = set(topology.outputs)
    shape = {
        v: {
            "index": rank[v],
            "forward": forward[v],
            "n_forward": len(topology.predecessors[v]),
            "is_output": v in outputs,
        }
        for v in nodes
    }
    if rule is not None:
        _wire_backward(topology, rule, rank, port, shape)
    return [Wiring(**shape[v]) for v in nodes]


def _wire_backward(topology: Topology, rule, rank, port, shape) -> None:
    routes = rule.feedback(topology)
    neurons = set(topology.neurons)
    sources: dict[Hashable, list[Hashable]] = {v: [] for v in topology.nodes}
    for v in topology.neurons:
        for u, _ in routes.get(v, ()):
            if u not in neurons:
                raise ValueError(
                    f"rule {rule!r} sends errors from {v!r} to {u!r}, "
                    "which is not a non-input neuron of the network"
                )
            sources[u].append(v)
    back_port = {}
    for u, senders in sources.items():
        senders.sort(key=rank.__getitem__)
        shape[u]["n_backward"] = len(senders)
        back_port.update({(u, v): i for i, v in enumerate(senders)})
    for v in topology.neurons:
        route = routes.get(v, ())
        if not route:
            continue
        shape[v]["backward"] = tuple(
            Link(rank[u], back_port[u, v], topology.delays.get((u, v), 1.0))
            for u, _ in route
        )
        coefficients = [b for _, b in route]
        if all(b is None for b in coefficients):
            if any(u not in port[v] for u, _ in route):
                raise ValueError(
                    f"rule {rule!r} uses the forward weight of a connection "
                    f"into {v!r} that does not exist"
                )
            shape[v]["weight_index"] = np.array([port[v][u] for u, _ in route])
        elif any(b is None for b in coefficients):
            raise ValueError(
                f"rule {rule!r} mixes fixed and forward-weight coefficients at {v!r}"
            )
        else:
            shape[v]["fixed"] = np.array(coefficients, dtype=float)


def _first_error(group: BaseExceptionGroup) -> BaseException:
    """The exception to surface from a failed nursery: the earliest, by neuron."""
    leaves: list[BaseException] = []

    def flatten(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                flatten(inner)
        else:
            leaves.append(exc)

    flatten(group)
    if not all(isinstance(exc, Exception) for exc in leaves):
        return group  # KeyboardInterrupt and friends stay as trio raised them
    return leaves[0]


async def simulate(
    topology: Topology,
    states: dict[Hashable, NeuronState],
    wirings: Sequence[Wiring],
    X: Array,
    Z: Array | None,
    rows: Sequence[tuple[int, int]],
    labels: Sequence[tuple[int, int]],
    *,
    batched: bool,
    optimizer=None,
    rule=None,
    record: bool = False,
    progress: Callable[[int, int], None] | None = None,
    workspace: Array | None = None,
) -> Result:
    """Run the network on the iterations ``X[start:stop]`` listed in `rows`.

    With an `optimizer` (and targets `Z`) the neurons train; without, they
    only compute forward. `workspace` is scratch memory to start from (see
    :meth:`~neurosim.neuron.Run.rows`); the one used is ``Result.workspace``.
    Any exception inside a neuron cancels the whole
    simulation and is raised here (a :class:`NeuronError` naming the neuron,
    or a :class:`DivergenceError`).
    """
    messages: list | None = [] if record else None
    updates: list | None = [] if record else None
    run = Run(
        sizes=[stop - start for start, stop in rows],
        labels=labels,
        batched=batched,
        optimizer=optimizer,
        rule=rule,
        messages=None if messages is None else messages.append,
        updates=None if updates is None else updates.append,
    )
    if workspace is not None:
        run.workspace = workspace
    nodes = topology.nodes
    rank = {v: i for i, v in enumerate(nodes)}
    # One inbox per node; every connection into it shares its send end.
    # (Cloning the send end per connection would cost about 7 µs each, a
    # fifth of a second per call on a 100-100-100 network, and buys nothing
    # here: every task runs a known number of iterations, and the end of
    # this function checks that no message was left unread.)
    channels = [trio.open_memory_channel(math.inf) for _ in nodes]
    senders = [send for send, _ in channels]
    report_send, report_receive = trio.open_memory_channel(math.inf)
    run.sends = [send.send_nowait for send in senders]
    run.report = report_send.send_nowait

    n_in = len(topology.inputs)
    out_column = {rank[o]: j for j, o in enumerate(topology.outputs)}
    Y = np.empty((len(topology.outputs), sum(run.sizes)))
    ends = np.empty(len(rows))
    # One row per input node (output neuron): contiguous slices for batches,
    # Python floats for online training.
    XT = np.ascontiguousarray(X.T) if batched else X.T.tolist()
    ZT = None if Z is None else np.ascontiguousarray(Z.T) if batched else Z.T.tolist()
    to_inputs = [senders[i].send_nowait for i in range(n_in)]
    to_outputs = [senders[rank[o]].send_nowait for o in topology.outputs]

    async def drive() -> None:
        t, done = 0.0, 0
        for k, (start, stop) in enumerate(rows):
            if ZT is not None:
                for j, send in enumerate(to_outputs):
                    send((TARGET, 0, ZT[j][start:stop] if batched else ZT[j][start], t))
            for j, send in enumerate(to_inputs):
                send((INPUT, 0, XT[j][start:stop] if batched else XT[j][start], t))
            end, first_problem = t, None
            for _ in nodes:
                try:
                    i, t_done, y, problem = report_receive.receive_nowait()
                except trio.WouldBlock:
                    i, t_done, y, problem = await report_receive.receive()
                if t_done > end:
                    end = t_done
                if y is not None:
                    Y[out_column[i], done : done + stop - start] = y
                if problem and (first_problem is None or i < first_problem[0]):
                    first_problem = (i, problem)
            if first_problem is not None:
                i, problem = first_problem
                raise DivergenceError(nodes[i], *labels[k], problem)
            ends[k] = t = end
            done += stop - start
            if progress is not None:
                progress(k + 1, len(rows))

    async def node_task(i: int) -> None:
        v, wiring, inbox = nodes[i], wirings[i], channels[i][1]
        try:
            if i < n_in:
                await run_input(wiring, inbox, run)
            else:
                await run_neuron(states[v], wiring, inbox, run)
        except Exception as exc:
            raise NeuronError(v, f"{type(exc).__name__}: {exc}") from exc

    try:
        async with trio.open_nursery() as nursery:
            for i in range(len(nodes)):
                nursery.start_soon(node_task, i)
            nursery.start_soon(drive)
    except BaseExceptionGroup as group:
        error = _first_error(group)
        if error is group:
            raise
        raise error from error.__cause__
    finally:
        for send, receive in (*channels, (report_send, report_receive)):
            send.close()
            receive.close()
    for i, (_, receive) in enumerate(channels):  # nothing may be left unread
        if receive.statistics().current_buffer_used:
            raise NeuronError(nodes[i], "messages were left unread in its inbox")
    return Result(
        outputs=Y.T,
        ends=ends,
        messages=messages,
        updates=updates,
        workspace=run.workspace,
    )

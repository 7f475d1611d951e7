"""A network figure as plain data: layers, positions, weights (no matplotlib).

:mod:`neurosim.plot.mpl_network` and :mod:`neurosim.plot.mpl_animation`
draw from these; the layers are :func:`neurosim.graph.generations`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any, Literal

import networkx as nx
import numpy as np

from neurosim.errors import DataError, NetworkError
from neurosim.graph import generations
from neurosim.trace import Trace

# Above these sizes the network drops its labels.
_MAX_WEIGHT_LABELS = 20
_MAX_NODE_LABELS = 40

Graph = Any  # a networkx.DiGraph, or any object with a to_graph() method


def _as_graph(graph: Graph) -> nx.DiGraph:
    if isinstance(graph, nx.DiGraph):
        return graph
    to_graph = getattr(graph, "to_graph", None)
    if callable(to_graph):
        return to_graph()
    raise TypeError(
        f"expected a networkx.DiGraph or an object with a to_graph() method, "
        f"not {type(graph).__name__}"
    )


def _graph_layers(G: nx.DiGraph) -> list[list[Hashable]]:
    """Topological generations, each in the graph's node order."""
    try:
        return generations(G)
    except NetworkError:
        raise DataError(
            "the graph has a cycle; neurosim draws acyclic networks"
        ) from None


def _positions(
    layers: Sequence[Sequence[Hashable]],
) -> dict[Hashable, tuple[float, float]]:
    """Layer k at x = k; each layer centred on y = 0, one unit apart, top down."""
    pos = {}
    for x, layer in enumerate(layers):
        for j, node in enumerate(layer):
            pos[node] = (float(x), (len(layer) - 1) / 2 - j)
    return pos


def _weights_of(G: nx.DiGraph) -> dict[tuple[Hashable, Hashable], float | None]:
    weights = {}
    for u, v, data in G.edges(data=True):
        w = data.get("weight")
        weights[u, v] = None if w is None else float(w)
    return weights


def _weight_range(*weight_maps: dict[Any, float | None]) -> float:
    values = [abs(w) for m in weight_maps for w in m.values() if w is not None]
    values = [w for w in values if math.isfinite(w)]
    top = max(values, default=1.0)
    return top if top > 0 else 1.0


def _network_figsize(layers: list[list[Hashable]]) -> tuple[float, float]:
    widest = max((len(layer) for layer in layers), default=1)
    width = min(11.0, max(4.5, 1.9 * len(layers) + 1.2))
    height = min(8.0, max(2.8, 0.9 * widest + 1.2))
    return width, height


def _resolve_show(show: bool | Literal["auto"], count: int, limit: int) -> bool:
    return bool(show) if show != "auto" else count <= limit


def _bias(G: nx.DiGraph, node: Hashable) -> float | None:
    """A neuron's bias; None when it has none (``bias`` None or NaN, as
    ``Network.to_graph`` writes it for a neuron without bias)."""
    bias = G.nodes[node].get("bias", 0.0)
    if bias is None or math.isnan(bias):
        return None
    return float(bias)


def _has_bias(G: nx.DiGraph) -> bool:
    """Whether some neuron has a bias other than 0."""
    return any(_bias(G, node) for node in G.nodes if G.in_degree(node))


def _trace_connections(trace: Trace) -> list[tuple[Hashable, Hashable]]:
    forward = trace.kind == "forward"
    backward = trace.kind == "backward"
    pairs = set(zip(trace.source[forward], trace.destination[forward], strict=True))
    pairs |= set(zip(trace.destination[backward], trace.source[backward], strict=True))
    order = {node: i for i, node in enumerate(trace.nodes)}
    return sorted(pairs, key=lambda e: (order[e[0]], order[e[1]]))


def _starting_weights(
    trace: Trace,
    weights: dict[tuple[Hashable, Hashable], float | None],
    epoch: int,
    sample: int,
) -> dict[tuple[Hashable, Hashable], float | None]:
    """Weights when the iteration starts: the trace's updates rule over the graph.

    The ``old`` value of the first update at or after the iteration, else
    the ``new`` value of the last update before it, else the graph's weight.
    """
    updates = trace.updates
    if len(updates) == 0:
        return dict(weights)
    n = len(trace.nodes) + 1
    key = updates.source_index * n + updates.neuron_index
    after = (updates.epoch > epoch) | (
        (updates.epoch == epoch) & (updates.sample >= sample)
    )
    after &= updates.source_index >= 0
    before = ~after & (updates.source_index >= 0)
    result = dict(weights)
    index = {node: i for i, node in enumerate(trace.nodes)}
    known = {}
    # The table is sorted by iteration and time: the first row of a key at
    # or after the iteration is its earliest; the last row before, its latest.
    rows = np.flatnonzero(before)[::-1]
    keys, first = np.unique(key[rows], return_index=True)
    for k, i in zip(keys.tolist(), rows[first].tolist(), strict=True):
        known[k] = float(updates.new[i])
    rows = np.flatnonzero(after)
    keys, first = np.unique(key[rows], return_index=True)
    for k, i in zip(keys.tolist(), rows[first].tolist(), strict=True):
        known[k] = float(updates.old[i])
    for u, v in weights:
        if u in index and v in index:
            k = index[u] * n + index[v]
            if k in known:
                result[u, v] = known[k]
    return result


def _updated_weights(
    it: Trace, weights: dict[tuple[Hashable, Hashable], float | None]
) -> dict[tuple[Hashable, Hashable], float]:
    updates = it.updates
    return {
        (u, v): float(new)
        for u, v, new in zip(updates.source, updates.neuron, updates.new, strict=True)
        if u is not None and (u, v) in weights
    }

"""The network as a graph: validation, a fixed node order, layered builders.

A network is a :class:`networkx.DiGraph` whose edges are connections (edge
attribute ``weight``, and ``delay`` for virtual time) and whose nodes are
neurons (node attributes ``activation`` and ``bias``). This module checks a
graph once, before anything runs, and freezes it into a :class:`Topology`:
plain tuples and dicts in a fixed order, which is what every later stage
iterates over. Orders matter here: a neuron combines what it receives in the
order of its predecessors in the topology, never in arrival order.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from numbers import Real

import networkx as nx
import numpy as np

from neurosim.errors import NetworkError

__all__ = ["Topology", "generations", "layered", "layered_names", "validate"]

Node = Hashable


@dataclass(frozen=True, eq=False)
class Topology:
    """A validated network, frozen in a fixed order.

    Attributes
    ----------
    nodes : tuple
        Every node: the inputs first (in input order), then the other neurons
        in a topological order that follows the graph's node order on ties.
    inputs, outputs : tuple
        The input and output nodes in the order of ``X`` and ``Z`` columns.
    predecessors, successors : dict
        For each node, its neighbours in the order of ``nodes``.
    weights, delays : dict
        ``{(u, v): float}`` for every connection.
    biases : dict
        ``{v: float}`` for every non-input neuron; ``None`` for a neuron
        without bias (node attribute ``bias=None``, or NaN: the way
        :meth:`neurosim.Network.to_graph` writes it).
    activations : dict
        ``{v: str or activation object}`` for every non-input neuron, as given.
    """

    nodes: tuple[Node, ...]
    inputs: tuple[Node, ...]
    outputs: tuple[Node, ...]
    predecessors: dict[Node, tuple[Node, ...]]
    successors: dict[Node, tuple[Node, ...]]
    weights: dict[tuple[Node, Node], float]
    delays: dict[tuple[Node, Node], float]
    biases: dict[Node, float | None]
    activations: dict[Node, object]

    @property
    def neurons(self) -> tuple[Node, ...]:
        """The non-input nodes, in order."""
        return self.nodes[len(self.inputs) :]

    @property
    def edges(self) -> tuple[tuple[Node, Node], ...]:
        """Every connection ``(u, v)``, grouped by ``v`` in node order."""
        return tuple((u, v) for v in self.neurons for u in self.predecessors[v])

    def layers(self) -> list[list[Node]]:
        """The nodes by topological generation (inputs first), each in the
        order of :attr:`nodes` (:func:`generations`)."""
        G = nx.DiGraph()
        G.add_nodes_from(self.nodes)
        G.add_edges_from(self.edges)
        return generations(G)


def generations(G: nx.DiGraph) -> list[list[Node]]:
    """The nodes by topological generation, each in the graph's node order.

    Generation 0 holds the nodes without predecessors (the inputs),
    generation k the nodes whose longest path from one of them has k
    connections (``networkx.topological_generations``); within a generation
    nodes follow ``G.nodes``, so that the result does not depend on how
    networkx walks the graph. The one place neurosim computes layers:
    :meth:`Topology.layers`, :meth:`neurosim.Trace.layers` and the figures
    call it.

    Parameters
    ----------
    G : networkx.DiGraph
        Read, never modified.

    Returns
    -------
    list of lists of nodes

    Raises
    ------
    NetworkError
        `G` has a cycle.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("b", "o"), ("a", "h"), ("h", "o"), ("a", "o")])
    >>> generations(G)
    [['b', 'a'], ['h'], ['o']]
    """
    order = {node: i for i, node in enumerate(G.nodes)}
    try:
        layers = list(nx.topological_generations(G))
    except nx.NetworkXUnfeasible:
        raise NetworkError("the graph has a cycle") from None
    return [sorted(layer, key=order.__getitem__) for layer in layers]


def _is_nan(value: object) -> bool:
    return isinstance(value, float | np.floating) and math.isnan(value)


def _finite_number(value: object) -> bool:
    if type(value) is float or type(value) is int:  # the common case, fast
        return math.isfinite(value)
    return (
        isinstance(value, Real | np.floating | np.integer)
        and not isinstance(value, bool | np.bool_)
        and math.isfinite(value)
    )


def _node_list(G: nx.DiGraph, given: Iterable[Node] | None, what: str) -> list[Node]:
    if isinstance(given, str) or not isinstance(given, Iterable):
        raise NetworkError(f"{what} must be a sequence of node names, got {given!r}")
    nodes = list(given)
    if not nodes:
        raise NetworkError(f"{what} is empty")
    missing = [v for v in nodes if v not in G]
    if missing:
        raise NetworkError(f"{what} names nodes not in the graph: {missing!r}")
    seen: set[Node] = set()
    twice = [v for v in nodes if v in seen or seen.add(v)]
    if twice:
        raise NetworkError(f"{what} names nodes more than once: {twice!r}")
    return nodes


def validate(
    G: nx.DiGraph,
    inputs: Sequence[Node] | None = None,
    outputs: Sequence[Node] | None = None,
) -> Topology:
    """Check that `G` can be simulated and freeze it into a :class:`Topology`.

    Parameters
    ----------
    G : networkx.DiGraph
        The network. It is read, never modified.
    inputs, outputs : sequence of nodes, optional
        Input and output nodes in the order of the data's columns. By default
        the sources and the sinks, in the order of ``G.nodes``.

    Returns
    -------
    Topology

    Raises
    ------
    NetworkError
        A ``ValueError`` naming what is wrong: the graph's type, a cycle, a
        self-loop, a missing or non-finite weight or delay, a bias that is
        infinite or not a number (NaN, like None, means no bias), inputs that
        are not sources, unknown outputs, or a neuron cut off from the inputs
        or the outputs.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("x", "y", weight=0.5)
    >>> validate(G).outputs
    ('y',)
    >>> G.add_edge("y", "x", weight=1.0)
    >>> validate(G)
    Traceback (most recent call last):
    ...
    neurosim.errors.NetworkError: the graph has a cycle: 'x' -> 'y' -> 'x'
    """
    if not isinstance(G, nx.Graph):
        raise NetworkError(f"the network must be a networkx.DiGraph, got {G!r}")
    if not G.is_directed():
        raise NetworkError(
            "the graph is undirected; build a networkx.DiGraph so that every "
            "connection has a direction"
        )
    if G.is_multigraph():
        raise NetworkError("the graph is a multigraph; use one edge per connection")
    if G.number_of_nodes() == 0:
        raise NetworkError("the graph is empty")
    loops = list(nx.nodes_with_selfloops(G))
    if loops:
        raise NetworkError(
            f"self-loop on node {loops[0]!r}: a neuron cannot feed itself"
        )
    if not nx.is_directed_acyclic_graph(G):  # one pass; name a cycle only if any
        cycle = nx.find_cycle(G)
        path = " -> ".join(repr(u) for u, _ in cycle) + f" -> {cycle[0][0]!r}"
        raise NetworkError(f"the graph has a cycle: {path}")

    order = {v: i for i, v in enumerate(G.nodes)}
    if inputs is None:
        inputs = [v for v in G.nodes if G.in_degree(v) == 0]
    else:
        inputs = _node_list(G, inputs, "inputs")
        bad = [v for v in inputs if G.in_degree(v) > 0]
        if bad:
            v = bad[0]
            raise NetworkError(
                f"input {v!r} is not a source: it has incoming connections "
                f"from {sorted(G.predecessors(v), key=order.get)!r}"
            )
    if outputs is None:
        outputs = [v for v in G.nodes if G.out_degree(v) == 0 and v not in inputs]
        if not outputs:
            raise NetworkError("the graph has no sinks to serve as outputs")
    else:
        outputs = _node_list(G, outputs, "outputs")
    both = [v for v in outputs if v in set(inputs)]
    if both:
        raise NetworkError(f"node {both[0]!r} cannot be both an input and an output")

    reached = _reachable(G.succ, inputs)  # one traversal from every input at once
    cut = [v for v in G.nodes if v not in reached]
    if cut:
        raise NetworkError(
            f"no input reaches neuron {cut[0]!r}"
            + (
                " (it is a source: list it in inputs=)"
                if G.in_degree(cut[0]) == 0
                else ""
            )
        )
    useful = _reachable(G.pred, outputs)
    dead = [v for v in G.nodes if v not in useful]
    if dead:
        raise NetworkError(f"neuron {dead[0]!r} reaches no output")

    weights: dict[tuple[Node, Node], float] = {}
    delays: dict[tuple[Node, Node], float] = {}
    for u, v, data in G.edges(data=True):
        if "weight" not in data:
            raise NetworkError(f"edge ({u!r}, {v!r}) has no 'weight' attribute")
        if not _finite_number(data["weight"]):
            raise NetworkError(
                f"edge ({u!r}, {v!r}) has weight {data['weight']!r}; "
                "it must be a finite number"
            )
        delay = data.get("delay", 1.0)
        if not _finite_number(delay) or delay < 0:
            raise NetworkError(
                f"edge ({u!r}, {v!r}) has delay {delay!r}; "
                "it must be a finite number >= 0"
            )
        weights[u, v] = float(data["weight"])
        delays[u, v] = float(delay)

    input_set = set(inputs)
    rest = [
        v
        for v in nx.lexicographical_topological_sort(G, key=order.__getitem__)
        if v not in input_set
    ]
    nodes = (*inputs, *rest)
    rank = {v: i for i, v in enumerate(nodes)}
    biases: dict[Node, float] = {}
    activations: dict[Node, object] = {}
    for v in rest:
        bias = G.nodes[v].get("bias", 0.0)
        if _is_nan(bias):  # how to_graph writes None: GraphML and JSON have none
            bias = None
        if bias is not None and not _finite_number(bias):
            raise NetworkError(
                f"node {v!r} has bias {bias!r}; it must be a finite number "
                "(or None or NaN for a neuron without bias)"
            )
        biases[v] = None if bias is None else float(bias)
        activations[v] = G.nodes[v].get("activation", "sigmoid")
    return Topology(
        nodes=nodes,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        predecessors={v: tuple(sorted(G.predecessors(v), key=rank.get)) for v in nodes},
        successors={v: tuple(sorted(G.successors(v), key=rank.get)) for v in nodes},
        weights=weights,
        delays=delays,
        biases=biases,
        activations=activations,
    )


def _reachable(neighbours, start: Iterable[Node]) -> set[Node]:
    """Every node reached from `start` along `neighbours` (``G.succ`` or ``G.pred``)."""
    seen = set(start)
    stack = list(seen)
    while stack:
        for w in neighbours[stack.pop()]:
            if w not in seen:
                seen.add(w)
                stack.append(w)
    return seen


def layered_names(sizes: Sequence[int]) -> list[list[str]]:
    """The default node names of :func:`layered`.

    Inputs are ``i1, i2, ...``, outputs ``o1, o2, ...``; a single hidden layer
    is ``h1, h2, ...`` and several are ``h1_1, h1_2, ..., h2_1, ...``.

    Examples
    --------
    >>> layered_names([2, 2, 2])
    [['i1', 'i2'], ['h1', 'h2'], ['o1', 'o2']]
    >>> layered_names([1, 1, 1, 1])
    [['i1'], ['h1_1'], ['h2_1'], ['o1']]
    """
    hidden = len(sizes) - 2
    names = [[f"i{j + 1}" for j in range(sizes[0])]]
    for layer in range(1, len(sizes) - 1):
        prefix = "h" if hidden == 1 else f"h{layer}_"
        names.append([f"{prefix}{j + 1}" for j in range(sizes[layer])])
    names.append([f"o{j + 1}" for j in range(sizes[-1])])
    return names


def _layer_arrays(given, name: str, what: str, shapes, sizes) -> list[np.ndarray]:
    """`given` as one float array per layer, each of its expected shape."""
    if len(given) != len(shapes):
        raise NetworkError(
            f"{name} has {len(given)} {what}; sizes {sizes} need {len(shapes)}"
        )
    arrays = [np.asarray(a, dtype=float) for a in given]
    for k, (a, shape) in enumerate(zip(arrays, shapes, strict=True)):
        if a.shape != shape:
            raise NetworkError(f"{name}[{k}] has shape {a.shape}; expected {shape}")
    return arrays


def layered(
    sizes: Sequence[int],
    weights: Sequence[np.ndarray] | None = None,
    biases: Sequence[np.ndarray] | None = None,
    *,
    activation: str | object | Sequence[str | object] = "sigmoid",
    seed: int | None = 0,
    delay: float = 1.0,
) -> nx.DiGraph:
    """Build a fully connected layered network as a DiGraph.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, inputs first: ``[2, 3, 1]`` is 2 inputs, a hidden
        layer of 3 and one output.
    weights : sequence of arrays, optional
        ``weights[k]`` has shape ``(sizes[k], sizes[k+1])``; entry ``[i, j]``
        is the weight from neuron ``i`` of layer ``k`` to neuron ``j`` of layer
        ``k+1`` (the ``Y = X·W`` convention). Drawn at random when omitted.
    biases : sequence of arrays, optional
        ``biases[k]`` has shape ``(sizes[k+1],)``. Drawn at random when
        omitted together with the weights, zero when only weights are given.
    activation : str or Activation, or a sequence of them
        One for every non-input layer, or a sequence of ``len(sizes) - 1``.
    seed : int or None
        Seed of the random initialisation (PyTorch's ``nn.Linear`` default:
        uniform in ``±1/sqrt(fan_in)`` for weights and biases). ``None`` draws
        fresh randomness.
    delay : float
        The ``delay`` attribute of every connection.

    Returns
    -------
    networkx.DiGraph
        Nodes named by :func:`layered_names`, each with ``layer`` (int),
        ``activation`` and ``bias`` attributes.

    Examples
    --------
    >>> G = layered(
    ...     [2, 2, 2],
    ...     weights=[[[1.5, 2], [2, 2.5]], [[1.2, 2.5], [0.5, 1]]],
    ...     activation="identity",
    ... )
    >>> G.edges["h2", "o1"]["weight"]
    0.5
    >>> G.nodes["o1"]["bias"]
    0.0
    """
    sizes = list(sizes)
    if len(sizes) < 2 or any(
        not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1
        for n in sizes
    ):
        raise NetworkError(
            f"sizes must list at least two positive layer sizes, got {sizes!r}"
        )
    n_layers = len(sizes) - 1
    if isinstance(activation, str) or not isinstance(activation, Sequence):
        acts = [activation] * n_layers
    else:
        acts = list(activation)
        if len(acts) != n_layers:
            raise NetworkError(
                f"activation lists {len(acts)} entries; the network has "
                f"{n_layers} non-input layers"
            )
    rng = np.random.default_rng(seed)
    shapes = [(sizes[k], sizes[k + 1]) for k in range(n_layers)]
    if weights is None:
        bounds = [1.0 / math.sqrt(n_in) for n_in, _ in shapes]
        Ws = [rng.uniform(-b, b, size=s) for b, s in zip(bounds, shapes, strict=True)]
        if biases is None:
            biases = [
                rng.uniform(-b, b, size=s[1])
                for b, s in zip(bounds, shapes, strict=True)
            ]
    else:
        Ws = _layer_arrays(weights, "weights", "matrices", shapes, sizes)
    if biases is None:
        bs = [np.zeros(s[1]) for s in shapes]
    else:
        bs = _layer_arrays(
            biases, "biases", "vectors", [(s[1],) for s in shapes], sizes
        )

    names = layered_names(sizes)
    G = nx.DiGraph()
    G.add_nodes_from(names[0], layer=0)
    for k in range(n_layers):
        for j, v in enumerate(names[k + 1]):
            G.add_node(v, layer=k + 1, activation=acts[k], bias=float(bs[k][j]))
        for i, u in enumerate(names[k]):
            for j, v in enumerate(names[k + 1]):
                G.add_edge(u, v, weight=float(Ws[k][i, j]), delay=float(delay))
    return G

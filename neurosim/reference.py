"""Plain numpy training: the independent check of the actors.

Everything here follows ``docs/design.md`` (the iteration, the rules, the
optimizers) with ordinary array code and shares nothing with the actor
machinery: it imports only :mod:`neurosim.errors` and implements the
activation formulas itself.

Two formulations are given, so that they can check each other too:

- the general form (:func:`train`, :func:`predict`, :func:`gradients`,
  :func:`update_directions`) works on any DAG, one node at a time in a
  topological order, each node's values being a vector over the batch;
- the layered form (:func:`train_layered`) is the matrix calculus of an
  affine layer, ``Y = X·W + b``, ``dX = dY·Wᵀ``, ``dW = Xᵀ·dY``, ``db = Σ dY``.

:func:`train` has two paths to the same numbers:

- the event loop simulates the schedule of ``docs/concepts.md`` message by
  message, one Python event per neuron step: the exact reference for every
  schedule (iterations in flight, lost messages, deadlines);
- when one iteration runs at a time and nothing is lost (``in_flight=1``, no
  ``drops``, no deadline shorter than twice an iteration), which is the common
  case, the iterations are plain sequential training and the times follow
  from path delays. Then the graph is read once into arrays (nodes sorted by
  topological generation, edges by destination) and each iteration runs a
  generation at a time: ``e`` of all its neurons from one product per edge
  summed per destination, the error signals in reverse generation order, one
  optimizer state over all parameters. Sums run in another order than the
  event loop's, so the two agree to rounding (the tests ask 1e-12).

Classification (issue 11): the nodes of activation ``"softmax"`` form the
*softmax group*, which must be the outputs (at least 2, all sinks). Each
computes its ``e`` alone, sends it to the others (a message of delay 1) and,
once it has them all, ``y = exp(e − max e) / Σ exp(e − max e)`` over the
group in output order. ``loss="cross_entropy"`` (the default with a softmax
group) is ``−Σ z·log y``, or for sigmoid outputs the binary cross-entropy
summed over them; at an output ``g = z − y`` (``f'`` counts as 1: the
derivatives of the loss and of the activation cancel).

Examples
--------
The worked example of ``background.md``: one step of backprop on a 2-2-2
identity network.

>>> import networkx as nx
>>> G = nx.DiGraph()
>>> G.add_nodes_from(["i1", "i2", "h1", "h2", "o1", "o2"], activation="identity")
>>> G.add_weighted_edges_from(
...     [("i1", "h1", 1.5), ("i1", "h2", 2.0), ("i2", "h1", 2.0), ("i2", "h2", 2.5),
...      ("h1", "o1", 1.2), ("h1", "o2", 2.5), ("h2", "o1", 0.5), ("h2", "o2", 1.0)]
... )  # fmt: skip
>>> result = train(G, [[1.0, 1.5]], [[2.5, 3.0]], learning_rate=0.1)
>>> round(float(result.loss[0]), 10)
114.6753125
>>> round(result.weights["h1", "o1"], 10)
-1.39875
"""

from __future__ import annotations

import gc
import heapq
import itertools
import math
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike, NDArray

from neurosim.errors import DataError, NetworkError, StalledError, Waiting

__all__ = [
    "ReferenceResult",
    "gradients",
    "predict",
    "train",
    "train_layered",
    "update_directions",
]

Array = NDArray[np.float64]
Node = Hashable
Edge = tuple[Hashable, Hashable]
_Formula = tuple[Callable[[Array], Array], Callable[[Array, Array], Array]]

_RULES = ("backprop", "article", "feedback_alignment", "direct_feedback_alignment")


# --- activations (the formulas of design.md, written out again on purpose) ---


def _sigmoid(e: Array) -> Array:
    with np.errstate(over="ignore"):  # exp(-e) = inf for e << 0 gives y = 0
        return 1 / (1 + np.exp(-e))


_BUILTIN: dict[str, _Formula] = {
    "identity": (lambda e: e, lambda e, y: np.ones_like(e)),
    "sigmoid": (_sigmoid, lambda e, y: y * (1 - y)),
    "tanh": (np.tanh, lambda e, y: 1 - y**2),
    "relu": (lambda e: np.maximum(e, 0.0), lambda e, y: np.where(e > 0, 1.0, 0.0)),
}


# A softmax node's own step is the identity: y = e, f' = 1 (f' counts as 1
# under cross-entropy, the only loss a softmax group trains with). Once the
# group's e are all known, _softmax replaces the y of the whole group.
_SOFTMAX: _Formula = (lambda e: e, lambda e, y: np.ones_like(e))


def _softmax(E: Array) -> Array:
    """``y_j = exp(e_j − m) / S`` with ``m = max_k e_k``, ``S = Σ_k exp(e_k − m)``:
    rows are the group in output order, columns the batch. ``S`` is
    ``np.add.reduce`` over axis 0, as the engine sums: in output order for a
    batch, numpy's pairwise order for one sample (a column is contiguous)."""
    exp = np.exp(E - E.max(axis=0))
    return exp / np.add.reduce(exp, axis=0)


def _name(activation: Any) -> str | None:
    """The name of an activation: the string, or an object's ``name``."""
    return (
        activation if isinstance(activation, str) else getattr(activation, "name", None)
    )


def _formula(activation: Any, where: str) -> _Formula:
    """``(f, f')`` of a built-in name or of a duck-typed activation object."""
    if _name(activation) == "softmax":
        return _SOFTMAX
    if isinstance(activation, str):
        if activation not in _BUILTIN:
            raise NetworkError(
                f"{where}: unknown activation {activation!r} "
                f"(expected one of {sorted([*_BUILTIN, 'softmax'])} or an object "
                "with name, function and derivative)"
            )
        return _BUILTIN[activation]
    if not (callable(getattr(activation, "function", None))):
        raise NetworkError(f"{where}: activation {activation!r} has no function(e)")
    if not callable(getattr(activation, "derivative", None)):
        raise NetworkError(
            f"{where}: activation {activation!r} has no derivative(e, y)"
        )
    return activation.function, activation.derivative


# --- the graph, read once ---


@dataclass(frozen=True)
class _Net:
    """What the general form needs of a graph, read once (``preds`` and
    ``succs`` when first used) and never written."""

    inputs: list[Node]
    outputs: list[Node]
    order: list[Node]  # the non-input nodes, topologically sorted
    formula: dict[Node, _Formula]
    edges: list[Edge]  # G.edges order: the order of every weights dict
    attributes: tuple[dict, ...]  # G's own attribute dict of each edge (read only)
    neurons: list[Node]  # non-input nodes in G.nodes order: every biases dict
    unbiased: frozenset  # neurons whose bias attribute is None: b = 0, untrained
    group: tuple[Node, ...]  # the softmax group, in output order; () if none
    # the same as arrays: nodes are numbered by their rank in G.nodes
    nodes: list[Node]  # G.nodes order
    generation: NDArray[np.intp]  # of each node: 0 for the inputs
    edge_src: NDArray[np.intp]  # the rank of u of each edge, G.edges order
    edge_dst: NDArray[np.intp]  # the rank of v
    graph: nx.DiGraph  # G itself, read only, for the lists below when first used

    @cached_property
    def preds(self) -> dict[Node, list[Node]]:
        """Of every neuron; predecessor order = order of its θ vector."""
        return {v: list(self.graph.pred[v]) for v in self.neurons}

    @cached_property
    def succs(self) -> dict[Node, list[Node]]:
        """Of every node, inputs included."""
        return {v: list(self.graph.succ[v]) for v in self.nodes}


def _generations(
    n: int, src: NDArray[np.intp], dst: NDArray[np.intp]
) -> NDArray[np.intp]:
    """The topological generation of each of the ``n`` nodes of the edges
    ``src → dst``: 0 for the sources, else 1 + the largest of its
    predecessors' (Kahn's algorithm, a frontier at a time, as
    ``networkx.topological_generations``); −1 for the nodes on or after a
    cycle."""
    by_src = np.argsort(src, kind="stable")
    first = np.searchsorted(src[by_src], np.arange(n + 1))  # CSR of successors
    waiting = np.bincount(dst, minlength=n)  # predecessors not yet placed
    generation = np.full(n, -1, dtype=np.intp)
    frontier, level = np.flatnonzero(waiting == 0), 0
    while frontier.size:
        generation[frontier] = level
        counts = first[frontier + 1] - first[frontier]
        offsets = np.repeat(first[frontier] - np.cumsum(counts) + counts, counts)
        successors = dst[by_src[offsets + np.arange(counts.sum())]]
        waiting -= np.bincount(successors, minlength=n)
        candidates = np.unique(successors)
        frontier, level = candidates[waiting[candidates] == 0], level + 1
    return generation


def _finite(x: Any) -> bool:
    """``np.isfinite(x)``, faster for a float."""
    return math.isfinite(x) if type(x) is float else bool(np.isfinite(x))


def _plain_floats(values: Sequence[Any], least: float = -math.inf) -> Array | None:
    """``values`` as an array if all are Python floats or ints (no bools),
    finite and >= ``least``: the common case, checked at once; else ``None``
    (then the caller checks them one by one and names the culprit)."""
    if not set(map(type, values)) <= {float, int}:
        return None
    array = np.array(values, dtype=np.float64)
    return array if np.all(np.isfinite(array) & (array >= least)) else None


def _read(
    G: nx.DiGraph, inputs: Sequence[Node] | None, outputs: Sequence[Node] | None
) -> tuple[_Net, dict[Edge, float], dict[Node, float]]:
    """The structure of ``G`` and copies of its weights and biases."""
    if not isinstance(G, nx.DiGraph):
        raise NetworkError("G must be a networkx.DiGraph without cycles")
    nodes = list(G.nodes)
    rank = {v: r for r, v in enumerate(nodes)}
    triples = list(iter(G.edges(data=True)))  # (no len(G.edges): a pass)
    us, vs, attributes = zip(*triples, strict=True) if triples else ((), (), ())
    edges = list(zip(us, vs, strict=True))
    # G.edges runs through G.succ node by node: the sources are in rank order
    out_degree = np.fromiter(map(len, G.succ.values()), np.intp, len(nodes))
    edge_src = np.repeat(np.arange(len(nodes)), out_degree)
    edge_dst = np.fromiter(map(rank.__getitem__, vs), np.intp, len(vs))
    generation = _generations(len(nodes), edge_src, edge_dst)
    if np.any(generation < 0):
        raise NetworkError("G must be a networkx.DiGraph without cycles")
    sources = [nodes[r] for r in np.flatnonzero(generation == 0).tolist()]
    inputs = sources if inputs is None else list(inputs)
    if len(set(inputs)) != len(inputs) or set(inputs) != set(sources):
        raise NetworkError(
            f"inputs must list each source of G once: {sources}, got {inputs}"
        )
    if outputs is None:
        outputs = [nodes[r] for r in np.flatnonzero(out_degree == 0).tolist()]
    outputs = list(outputs)
    source_set = set(sources)
    bad = [v for v in outputs if v not in G or v in source_set]
    if bad or len(set(outputs)) != len(outputs) or not outputs:
        raise NetworkError(
            "outputs must be distinct non-input nodes of G, at least one; "
            f"got {outputs}"
        )
    raw = [data.get("weight") for data in attributes]
    checked = _plain_floats(raw)
    if checked is None:
        for (u, v), w in zip(edges, raw, strict=True):
            if w is None or not _finite(w):
                raise NetworkError(f"edge {(u, v)!r} needs a finite 'weight'")
        checked = np.array(raw, dtype=np.float64)
    weights = dict(zip(edges, checked.tolist(), strict=True))
    neuron_ranks = np.flatnonzero(generation > 0).tolist()
    neurons = [nodes[r] for r in neuron_ranks]
    node_data = [data for _, data in G.nodes(data=True)]  # G.nodes order
    biases = {}
    unbiased = set()
    for r, v in zip(neuron_ranks, neurons, strict=True):
        bias = node_data[r].get("bias", 0.0)
        if bias is None or (isinstance(bias, float) and bias != bias):  # NaN too
            # a neuron without bias (to_graph writes None as NaN)
            unbiased.add(v)
            bias = 0.0
        biases[v] = float(bias)
        if not _finite(biases[v]):
            raise NetworkError(f"node {v!r} has a non-finite bias")
    activations = [node_data[r].get("activation", "sigmoid") for r in neuron_ranks]
    group = _softmax_group(G, neurons, activations, outputs)
    topological = np.lexsort((np.arange(len(nodes)), generation))[len(inputs) :]
    net = _Net(
        inputs=inputs,
        outputs=outputs,
        order=[nodes[r] for r in topological.tolist()],
        formula={
            v: _formula(activation, f"node {v!r}")
            for v, activation in zip(neurons, activations, strict=True)
        },
        edges=edges,
        attributes=attributes,
        neurons=neurons,
        unbiased=frozenset(unbiased),
        group=group,
        nodes=nodes,
        generation=generation,
        edge_src=edge_src,
        edge_dst=edge_dst,
        graph=G,
    )
    return net, weights, biases


def _softmax_group(
    G: nx.DiGraph,
    neurons: Sequence[Node],
    activations: Sequence[Any],
    outputs: Sequence[Node],
) -> tuple[Node, ...]:
    """The softmax group, in output order: every neuron whose activation is
    ``"softmax"``. Its rules: each is an output without successors, every
    output is one of them, and there are at least 2."""
    members = [
        v
        for v, activation in zip(neurons, activations, strict=True)
        if _name(activation) == "softmax"
    ]
    if not members:
        return ()
    output_set = set(outputs)
    for v in members:
        if v not in output_set:
            raise NetworkError(
                f"node {v!r} has activation 'softmax' but is not an output: "
                "every node of a softmax group must be an output"
            )
        if G.succ[v]:
            raise NetworkError(
                f"node {v!r} has activation 'softmax' and successors "
                f"{list(G.succ[v])}: a softmax node must be a sink"
            )
    member_set = set(members)
    for o in outputs:
        if o not in member_set:
            activation = G.nodes[o].get("activation", "sigmoid")
            raise NetworkError(
                f"output {o!r} has activation {_label(activation)!r} but output "
                f"{members[0]!r} is 'softmax': with a softmax group every output "
                "must be 'softmax'"
            )
    if len(members) < 2:
        raise NetworkError(
            f"the softmax group has one node, {members[0]!r}: it needs at least 2"
        )
    return tuple(outputs)


def _label(activation: Any) -> Any:
    """An activation as an error message names it."""
    name = _name(activation)
    return activation if name is None else name


def _matrix(
    A: ArrayLike, name: str, n_columns: int, n_rows: int | None = None
) -> Array:
    """``A`` as a finite float64 matrix of ``n_columns`` columns (not copied)."""
    A = np.asarray(A, dtype=np.float64)
    if (
        A.ndim != 2
        or A.shape[1] != n_columns
        or (n_rows is not None and A.shape[0] != n_rows)
    ):
        rows = "n_samples" if n_rows is None else n_rows
        raise DataError(f"{name} must have shape ({rows}, {n_columns}), got {A.shape}")
    if A.shape[0] == 0:
        raise DataError(f"{name} must hold at least one sample")
    if not np.all(np.isfinite(A)):
        raise DataError(f"{name} holds NaN or infinite values")
    return A


# --- one iteration of the general form ---


@dataclass
class _Forward:
    y: dict[Node, Array]  # every node's output over the batch
    fprime: dict[Node, Array]  # f'_v(e_v) of every non-input node


def _forward(
    net: _Net, weights: Mapping[Edge, float], biases: Mapping[Node, float], X: Array
) -> _Forward:
    """e_v = Σ_u w_uv·y_u + b_v, y_v = f_v(e_v), in topological order; then
    the softmax of the group's e (its nodes are sinks: nothing used their e)."""
    y = {u: X[:, i] for i, u in enumerate(net.inputs)}
    fprime = {}
    for v in net.order:
        # every non-input node has a predecessor: the inputs are the sources
        e = sum(weights[u, v] * y[u] for u in net.preds[v]) + biases[v]
        f, df = net.formula[v]
        y[v] = f(e)
        fprime[v] = df(e, y[v])
    if net.group:
        Y = _softmax(np.array([y[o] for o in net.group]))
        y.update(zip(net.group, Y, strict=True))
    return _Forward(y, fprime)


_LOSSES = ("squared", "cross_entropy")


def _loss(loss: str, softmax: bool, Z: Array, Y: Array) -> Array:
    """``E`` of each sample: a row of the targets ``Z`` and outputs ``Y``.

    ``"squared"``: ``½ Σ_o (z_o − y_o)²``. ``"cross_entropy"``: of a softmax
    group ``−Σ_o z_o·log y_o``, of sigmoid outputs
    ``−Σ_o [z_o·log y_o + (1 − z_o)·log(1 − y_o)]``; each log clamped at
    −100 (as PyTorch's ``BCELoss``), so a term with a zero factor is 0.
    """
    if loss == "squared":
        return 0.5 * np.sum((Z - Y) ** 2, axis=1)
    with np.errstate(divide="ignore"):  # log(0) = −inf, then clamped
        terms = Z * np.maximum(np.log(Y), -100.0)
        if not softmax:
            terms = terms + (1 - Z) * np.maximum(np.log(1 - Y), -100.0)
    return 0.0 - np.sum(terms, axis=1)  # (0.0 −: no −0.0)


def _check_loss(
    loss: str | None,
    softmax: bool,
    outputs: Sequence[tuple[str, Any, list[Node]]],
    Z: Array,
) -> str:
    """The loss to train with, by default ``"cross_entropy"`` for a softmax
    group and ``"squared"`` otherwise; ``outputs`` gives, in output order,
    each output's name in messages, activation and successors."""
    if loss is None:
        loss = "cross_entropy" if softmax else "squared"
    elif not (isinstance(loss, str) and loss in _LOSSES):
        raise DataError(
            f"loss must be None, 'squared' or 'cross_entropy', got {loss!r}"
        )
    if loss == "squared":
        if softmax:
            raise DataError(
                "a softmax group trains with loss='cross_entropy', got loss='squared'"
            )
        return loss
    if not softmax:  # binary cross-entropy: its derivative cancels the sigmoid's
        for what, activation, _ in outputs:
            if _name(activation) != "sigmoid":
                raise DataError(
                    "loss='cross_entropy' needs sigmoid outputs or a softmax "
                    f"group: {what} has activation {_label(activation)!r}"
                )
        for what, _, successors in outputs:
            if successors:  # then g = z − y would not be its ∂E/∂e
                raise DataError(
                    "loss='cross_entropy' needs outputs without successors: "
                    f"{what} feeds {successors}"
                )
    bad = np.argwhere((Z < 0) | (Z > 1))
    if bad.size:
        i, j = bad[0].tolist()
        raise DataError(
            f"loss='cross_entropy' needs targets in [0, 1]: Z[{i}, {j}] is "
            f"{float(Z[i, j])!r}"
        )
    return loss


def _check_graph_loss(net: _Net, loss: str | None, Z: Array) -> str:
    """:func:`_check_loss` for the outputs of a graph."""
    outputs = [
        (
            f"output {o!r}",
            net.graph.nodes[o].get("activation", "sigmoid"),
            list(net.graph.succ[o]),
        )
        for o in net.outputs
    ]
    return _check_loss(loss, bool(net.group), outputs, Z)


def _backward(
    net: _Net,
    weights: Mapping[Edge, float],
    fwd: _Forward,
    Z: Array,
    rule: str,
    feedback: Mapping[Edge, float] | None,
    loss: str = "squared",
) -> dict[Node, Array]:
    """g_v = δ_v·f'_v(e_v) of every non-input node, by the given rule; under
    cross-entropy f' counts as 1 at the outputs (∂E/∂e_o = y_o − z_o)."""
    error = {o: Z[:, k] - fwd.y[o] for k, o in enumerate(net.outputs)}
    if loss == "cross_entropy":
        ones = {o: np.ones_like(error[o]) for o in net.outputs}
        fwd = _Forward(fwd.y, fwd.fprime | ones)
    delta: dict[Node, Array] = {}
    g: dict[Node, Array] = {}
    if rule == "direct_feedback_alignment":
        for o in net.outputs:
            delta[o] = error[o]
            g[o] = delta[o] * fwd.fprime[o]
        for h in net.order:
            if h not in error:
                delta[h] = sum(feedback[o, h] * g[o] for o in net.outputs)
                g[h] = delta[h] * fwd.fprime[h]
        return g
    for v in reversed(net.order):
        d = error.get(v, np.zeros_like(fwd.fprime[v]))
        for s in net.succs[v]:
            if rule == "backprop":
                d = d + weights[v, s] * g[s]
            elif rule == "article":  # the literal rule: no f' of the receiver
                d = d + weights[v, s] * delta[s]
            else:  # feedback_alignment
                d = d + feedback[v, s] * g[s]
        delta[v] = d
        g[v] = d * fwd.fprime[v]
    return g


def _directions(
    net: _Net, fwd: _Forward, g: Mapping[Node, Array]
) -> tuple[dict[Edge, float], dict[Node, float]]:
    """The SGD directions mean(g_v·y_u) and mean(g_v)."""
    dw = {(u, v): float(np.mean(g[v] * fwd.y[u])) for u, v in net.edges}
    db = {v: float(np.mean(g[v])) for v in net.neurons if v not in net.unbiased}
    return dw, db


def _check_rule(
    net: _Net, rule: str, feedback: Mapping[Edge, float] | None
) -> Mapping[Edge, float] | None:
    """Validate ``rule`` and the feedback weights it needs."""
    if rule not in _RULES:
        raise DataError(f"rule must be one of {_RULES}, got {rule!r}")
    if rule == "feedback_alignment":
        inputs = set(net.inputs)
        needed = [(u, v) for u, v in net.edges if u not in inputs]
    elif rule == "direct_feedback_alignment":
        outputs = set(net.outputs)
        hidden = [h for h in net.neurons if h not in outputs]
        needed = [(o, h) for o in net.outputs for h in hidden]
    else:
        return None
    feedback = {} if feedback is None else dict(feedback)
    missing = [k for k in needed if k not in feedback]
    needed_set = set(needed)
    unknown = [k for k in feedback if k not in needed_set]
    if missing or unknown:
        raise DataError(
            f"feedback for rule {rule!r} needs exactly the keys {needed}; "
            f"missing {missing}, unknown {unknown}"
        )
    return {k: float(feedback[k]) for k in needed}


# --- optimizers: PyTorch's single-tensor formulas, operation by operation ---

_DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {"momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0},
    "momentum": {
        "momentum": 0.9,
        "dampening": 0.0,
        "nesterov": False,
        "weight_decay": 0.0,
    },
    "adagrad": {
        "lr_decay": 0.0,
        "weight_decay": 0.0,
        "initial_accumulator_value": 0.0,
        "eps": 1e-10,
    },
    "adam": {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False},
}
_LEARNING_RATES = {"sgd": 0.1, "momentum": 0.1, "adagrad": 0.01, "adam": 0.001}


class _Optimizer:
    """The optimizer of one neuron: its vector ``θ = [w_1 … w_n, b]``, its
    state, and its own step count ``t`` (the number of *its* updates, which
    Adam's bias correction and Adagrad's decay use).

    Every operation is elementwise. The comments name the torch call each
    line reproduces (``torch/optim/{sgd,adagrad,adam}.py``,
    ``_single_tensor_*``). torch's CPU kernels fuse some multiply-adds and
    round float64 ``sqrt`` its own way, so agreement is to rounding, not bit
    for bit.
    """

    def __init__(self, name: str, lr: float, options: Mapping[str, Any], size: int):
        self.name, self.lr = name, lr
        self.options = _DEFAULTS[name] | dict(options)
        self.step_count = 0
        self.momentum_buffer: Array | None = None  # SGD momentum_buffer
        value = self.options.get("initial_accumulator_value", 0.0)
        self.state_sum = np.full(size, float(value))  # Adagrad state_sum
        self.exp_avg = np.zeros(size)  # Adam
        self.exp_avg_sq = np.zeros(size)
        self.max_exp_avg_sq = np.zeros(size)

    def step(self, param: Array, grad: Array) -> Array:
        """The new parameters after one step with the gradient ``grad``."""
        self.step_count += 1
        if self.name == "adagrad":
            return self._adagrad(param, grad)
        if self.name == "adam":
            return self._adam(param, grad)
        return self._sgd(param, grad)

    def _sgd(self, param: Array, grad: Array) -> Array:
        momentum, dampening, nesterov, weight_decay = (
            self.options[k]
            for k in ("momentum", "dampening", "nesterov", "weight_decay")
        )
        if weight_decay != 0:
            grad = grad + weight_decay * param  # grad.add(param, alpha=wd)
        if momentum != 0:
            buf = self.momentum_buffer
            if buf is None:
                buf = grad.copy()  # grad.detach().clone()
            else:  # buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                buf = buf * momentum + (1 - dampening) * grad
            self.momentum_buffer = buf
            grad = grad + momentum * buf if nesterov else buf
        return param + -self.lr * grad  # param.add_(grad, alpha=-lr)

    def _adagrad(self, param: Array, grad: Array) -> Array:
        lr_decay, weight_decay, eps = (
            self.options[k] for k in ("lr_decay", "weight_decay", "eps")
        )
        if weight_decay != 0:
            grad = grad + weight_decay * param
        clr = self.lr / (1 + (self.step_count - 1) * lr_decay)
        self.state_sum = (
            self.state_sum + grad * grad
        )  # state_sum.addcmul_(grad, grad, value=1)
        std = np.sqrt(self.state_sum) + eps  # state_sum.sqrt().add_(eps)
        return param + -clr * grad / std  # addcdiv_(grad, std, value=-clr)

    def _adam(self, param: Array, grad: Array) -> Array:
        (beta1, beta2), eps, weight_decay, amsgrad = (
            self.options[k] for k in ("betas", "eps", "weight_decay", "amsgrad")
        )
        if weight_decay != 0:
            grad = grad + weight_decay * param
        # exp_avg.lerp_(grad, 1 - beta1); torch's lerp switches formula at 0.5
        weight = 1 - beta1
        if abs(weight) < 0.5:
            self.exp_avg = self.exp_avg + weight * (grad - self.exp_avg)
        else:
            self.exp_avg = grad - (grad - self.exp_avg) * (1 - weight)
        # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        self.exp_avg_sq = self.exp_avg_sq * beta2 + (1 - beta2) * grad * grad
        bias_correction1 = 1 - beta1**self.step_count
        bias_correction2 = 1 - beta2**self.step_count
        step_size = self.lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        second = self.exp_avg_sq
        if amsgrad:
            self.max_exp_avg_sq = np.maximum(self.max_exp_avg_sq, self.exp_avg_sq)
            second = self.max_exp_avg_sq
        denom = np.sqrt(second) / bias_correction2_sqrt + eps
        # param.addcdiv_(exp_avg, denom, value=-step_size)
        return param + -step_size * self.exp_avg / denom


def _check_optimizer(
    optimizer: str, learning_rate: float | None, options: Mapping[str, Any] | None
) -> tuple[float, Mapping[str, Any]]:
    if optimizer not in _DEFAULTS:
        raise DataError(
            f"optimizer must be one of {sorted(_DEFAULTS)}, got {optimizer!r}"
        )
    lr = _LEARNING_RATES[optimizer] if learning_rate is None else learning_rate
    options = dict(options or {})
    unknown = sorted(set(options) - set(_DEFAULTS[optimizer]))
    if unknown:
        raise DataError(
            f"optimizer_options for {optimizer!r}: unknown {unknown}, "
            f"expected some of {sorted(_DEFAULTS[optimizer])}"
        )
    full = _DEFAULTS[optimizer] | options
    if full.get("nesterov") and (full["momentum"] <= 0 or full["dampening"] != 0):
        raise DataError(
            "optimizer_options: nesterov needs momentum > 0 and dampening == 0"
        )
    return _check_learning_rate(lr), options


def _check_learning_rate(lr: float) -> float:
    if isinstance(lr, bool) or not isinstance(lr, int | float | np.floating):
        raise DataError(f"learning_rate must be a number, got {lr!r}")
    if not (np.isfinite(lr) and lr >= 0):
        raise DataError(f"learning_rate must be finite and >= 0, got {lr!r}")
    return float(lr)


def _check_count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise DataError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# --- the schedule: virtual time, as a plain event loop (concepts.md) ---

_KINDS = ("forward", "backward", "feedback")
_ON_MISSING = ("error", "zero", "last")

# The order of events at equal times: arrivals first (so that a message
# arriving at t counts for a step at t), then backward steps with their
# updates, then softmax steps, then forward steps and entries, then
# deadlines. Within a kind, the lower iteration first, then the node's rank
# in G.nodes (any order between neurons would do: they share no state), then
# the order of pushing. (An output's backward step made possible by its
# softmax step at t is pushed then, and runs before the forward steps at t.)
_ARRIVE, _BACKWARD, _SOFTMAX_STEP, _FORWARD, _DEADLINE = 0, 1, 2, 3, 4
# A softmax message (an output's e to the other members of its group) takes 1.
_SOFTMAX_DELAY = 1.0


def _delays(G: nx.DiGraph, net: _Net) -> dict[Edge, float]:
    """The ``delay`` of every connection (default 1), finite and >= 0."""
    raw = [data.get("delay", 1.0) for data in net.attributes]
    checked = _plain_floats(raw, least=0.0)
    if checked is None:
        for (u, v), d in zip(net.edges, raw, strict=True):
            if isinstance(d, bool) or not isinstance(d, int | float | np.number):
                d = np.nan
            if not (_finite(d) and d >= 0):
                raise NetworkError(
                    f"edge {(u, v)!r} has delay {G.edges[u, v]['delay']!r}; "
                    "it must be a finite number >= 0"
                )
        checked = np.array(raw, dtype=np.float64)
    return dict(zip(net.edges, checked.tolist(), strict=True))


@dataclass(frozen=True)
class _Routes:
    """Where error messages go under a rule, read once.

    ``senders[v]``: the nodes whose error messages ``v`` waits for, in the
    order it sums them. ``receivers[w]``: ``(v, kind, delay)`` for each node
    ``w`` sends an error message to. ``kind`` is ``"backward"`` (back along
    the connection ``v → w``) or ``"feedback"`` (direct feedback from the
    output ``w`` to the hidden ``v``, named ``(v, w)``).
    """

    kind: str
    senders: dict[Node, list[Node]]
    receivers: dict[Node, list[tuple[Node, str, float]]]


def _routes(net: _Net, rule: str, delays: Mapping[Edge, float]) -> _Routes:
    if rule == "direct_feedback_alignment":
        outputs = set(net.outputs)
        hidden = [h for h in net.neurons if h not in outputs]
        return _Routes(
            kind="feedback",
            senders={v: [] if v in outputs else list(net.outputs) for v in net.neurons},
            receivers={
                v: [(h, "feedback", delays.get((h, v), 1.0)) for h in hidden]
                if v in outputs
                else []
                for v in net.neurons
            },
        )
    inputs = set(net.inputs)
    return _Routes(
        kind="backward",
        senders={v: list(net.succs[v]) for v in net.neurons},
        receivers={
            v: [(u, "backward", delays[u, v]) for u in net.preds[v] if u not in inputs]
            for v in net.neurons
        },
    )


def _critical_path(net: _Net, routes: _Routes, delays: Mapping[Edge, float]) -> float:
    """``C``: the longest time from an iteration's entry to its last update.

    ``LF(v) = max_u LF(u) + d_uv`` with ``LF = 0`` at the inputs (the latest
    forward arrival), ``LB(v) = max(LF(v), max_w LB(w) + d_back)`` over the
    senders ``w`` of its error messages, ``C = max_v LB(v)``.
    """
    latest_forward = dict.fromkeys(net.inputs, 0.0)
    for v in net.order:
        latest_forward[v] = max(latest_forward[u] + delays[u, v] for u in net.preds[v])
    back_delay = {(w, v): d for w in net.neurons for v, _, d in routes.receivers[w]}
    latest_backward: dict[Node, float] = {}
    # nodes without senders first, then the others after all their senders
    for v in sorted(reversed(net.order), key=lambda v: bool(routes.senders[v])):
        latest_backward[v] = max(
            [latest_forward[v]]
            + [latest_backward[w] + back_delay[w, v] for w in routes.senders[v]]
        )
    return max(latest_backward.values())


@dataclass(frozen=True)
class _Schedule:
    """The validated options of the event loop."""

    in_flight: int | None  # K; None: unbounded
    interval: float
    stash: bool
    drops: frozenset  # {(u, v, kind, s)}
    on_missing: str
    timeout: float | None  # None: no deadlines (on_missing="error")


def _check_schedule(
    G: nx.DiGraph,
    net: _Net,
    rule: str,
    delays: Mapping[Edge, float],
    in_flight: int | None,
    interval: float,
    stash: bool,
    drops: Iterable[tuple[Node, Node, str, int]],
    on_missing: str,
    timeout: float | None,
) -> _Schedule:
    if in_flight is not None:
        in_flight = _check_count(in_flight, "in_flight")
    if (
        isinstance(interval, bool)
        or not isinstance(interval, int | float | np.number)
        or not (np.isfinite(interval) and interval >= 0)
    ):
        raise DataError(f"interval must be a finite number >= 0, got {interval!r}")
    if not isinstance(stash, bool | np.bool_):
        raise DataError(f"stash must be True or False, got {stash!r}")
    if on_missing not in _ON_MISSING:
        raise DataError(f"on_missing must be one of {_ON_MISSING}, got {on_missing!r}")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float | np.number)
        or not (np.isfinite(timeout) and timeout > 0)
    ):
        raise DataError(f"timeout must be a finite number > 0 or None, got {timeout!r}")
    hidden = set(net.neurons) - set(net.outputs)
    checked = set()
    for drop in drops:
        try:
            u, v, kind, s = drop
        except (TypeError, ValueError):
            raise DataError(
                f"drops: {drop!r} is not a (u, v, kind, iteration) tuple"
            ) from None
        if kind not in _KINDS:
            raise DataError(f"drops: {drop!r}: kind must be one of {_KINDS}")
        try:
            exists = (
                u in hidden and v in net.outputs
                if kind == "feedback"
                else G.has_edge(u, v)
            )
        except TypeError:  # an unhashable node
            exists = False
        if not exists:
            what = "a (hidden, output) pair" if kind == "feedback" else "a connection"
            raise DataError(f"drops: {drop!r}: {(u, v)!r} is not {what} of G")
        if isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0:
            raise DataError(f"drops: {drop!r}: the iteration must be an integer >= 0")
        checked.add((u, v, kind, int(s)))
    if net.group and (checked or on_missing != "error"):
        what = "drops" if checked else f"on_missing={on_missing!r} (deadlines)"
        raise DataError(
            f"{what}: not supported with a softmax group "
            f"({', '.join(map(repr, net.group))}); lost messages and deadlines "
            "need a network without one"
        )
    if in_flight != 1 or interval > 0 or checked or on_missing != "error":
        for (u, v), d in delays.items():
            if d <= 0:
                raise DataError(
                    f"edge {(u, v)!r} has delay {d!r}: with in_flight={in_flight!r}, "
                    f"interval={interval!r}, drops or on_missing={on_missing!r} "
                    "every delay must be > 0"
                )
    if on_missing == "error":
        timeout = None  # a lost message stops the run: no deadlines
    elif timeout is None:
        timeout = 2 * _critical_path(net, _routes(net, rule, delays), delays)
    return _Schedule(
        in_flight, float(interval), bool(stash), frozenset(checked), on_missing,
        None if timeout is None else float(timeout),
    )  # fmt: skip


@dataclass(frozen=True)
class _Kept:
    """What forward(s) keeps for backward(s) and update(s)."""

    x: list[Array]  # the inputs, in predecessor order
    y: Array
    fprime: Array  # f'(e)
    w: Array  # the weights forward(s) used (for stash=True)
    updates: int  # the neuron's number of updates at forward(s)


class _Neuron:
    """One neuron's own state: its parameters, its optimizer, its mail."""

    def __init__(self, rank: int, w: Array, b: float, optimizer: _Optimizer):
        self.rank = rank
        self.w, self.b = w, b
        self.optimizer = optimizer
        self.updates = 0
        self.inputs: dict[int, dict[Node, Array]] = {}  # forward messages of s
        self.errors: dict[int, dict[Node, Array]] = {}  # error messages of s
        self.kept: dict[int, _Kept] = {}  # forward(s) done, backward(s) not yet
        self.forwarded: set[int] = set()  # the iterations of its forward steps
        self.exchange: dict[int, dict[Node, Array]] = {}  # the group's e of s
        self.last: dict[tuple[Node, str], Array] = {}  # (sender, kind) -> value


class _Simulation:
    """The event loop: one priority queue of events in virtual time.

    An event is pushed when it becomes possible: an arrival when its message
    is sent, a neuron's step when its last message has arrived, an entry when
    its ``T_s`` is known, a deadline when its iteration enters.
    """

    def __init__(
        self,
        net: _Net,
        routes: _Routes,
        delays: Mapping[Edge, float],
        neurons: dict[Node, _Neuron],
        batches: list[tuple[Array, Array]],
        n_iterations: int,
        rule: str,
        feedback: Mapping[Edge, float] | None,
        schedule: _Schedule,
        node_rank: Mapping[Node, int],
        loss: str = "squared",
    ):
        self.net, self.routes, self.delays = net, routes, delays
        self.neurons, self.batches, self.n = neurons, batches, n_iterations
        self.rule, self.feedback, self.schedule = rule, feedback, schedule
        self.node_rank = node_rank
        self.cross_entropy = loss == "cross_entropy"
        self.group = set(net.group)
        # (u, v) -> the index of w_uv in v's weights: predecessor order
        self.slot = {(u, v): i for v in net.neurons for i, u in enumerate(net.preds[v])}
        self.target = {o: k for k, o in enumerate(net.outputs)}
        self.queue: list[tuple] = []
        self.pushed = 0  # the last tiebreak: the order of pushing
        self.time = 0.0
        self.entries: list[float] = []  # T_s
        self.ends = np.full(n_iterations, -np.inf)  # done(s)
        self.finished = np.zeros(n_iterations, dtype=int)  # neurons done with s
        self.expired = np.zeros(n_iterations, dtype=bool)  # D_s has passed
        self.y_out: list[dict[Node, Array]] = [{} for _ in range(n_iterations)]
        self.staleness = {v: np.zeros(n_iterations, dtype=int) for v in net.neurons}

    def push(self, time: float, code: int, s: int, rank: int, *event: Any) -> None:
        self.pushed += 1
        heapq.heappush(self.queue, (time, code, s, rank, self.pushed, event))

    def run(self) -> None:
        self.admit()
        while self.queue:
            self.time, _, s, _, _, event = heapq.heappop(self.queue)
            name, *args = event
            if name == "arrive":
                self.arrive(s, *args)
            elif name == "forward":
                self.forward(s, *args)
            elif name == "backward":
                self.backward(s, *args)
            elif name == "softmax":
                self.softmax(s, *args)
            elif name == "enter":
                self.enter(s)
            else:
                self.deadline(s)
        if self.finished.min() < len(self.net.neurons):  # cannot happen: a guard
            raise StalledError(self.waiting(), self.time)

    # -- entries: T_0 = 0, T_s = max(T_{s-1} + interval, done(s - K)) --

    def admit(self) -> None:
        """Push every entry whose time is known."""
        K, n_neurons = self.schedule.in_flight, len(self.net.neurons)
        while len(self.entries) < self.n:
            s = len(self.entries)
            gate = -np.inf  # done(j < 0) = −∞, and no gate without K
            if K is not None and s >= K:
                if self.finished[s - K] < n_neurons:
                    return
                gate = self.ends[s - K]
            T = 0.0 if s == 0 else max(self.entries[-1] + self.schedule.interval, gate)
            self.entries.append(T)
            self.push(T, _FORWARD, s, -1, "enter")

    def enter(self, s: int) -> None:
        X = self.batches[s % len(self.batches)][0]
        for k, i in enumerate(self.net.inputs):
            for v in self.net.succs[i]:
                self.send(i, v, "forward", s, X[:, k], self.delays[i, v])
        if self.schedule.timeout is not None:
            self.push(self.time + self.schedule.timeout, _DEADLINE, s, -1, "deadline")

    # -- messages --

    def send(self, u: Node, v: Node, kind: str, s: int, value: Array, d: float):
        """``u`` sends ``value`` to ``v`` now; it arrives ``d`` later."""
        channel = (u, v) if kind == "forward" else (v, u)  # the graph's naming
        if (*channel, kind, s) in self.schedule.drops:
            if self.schedule.on_missing == "error":
                raise StalledError(
                    [self.waits(v, s, "forward" if kind == "forward" else "backward")],
                    self.time,
                    f"the {kind} message of iteration {s} on {channel!r} was lost",
                )
            return  # lost
        self.push(self.time + d, _ARRIVE, s, self.neurons[v].rank, "arrive", v, u,
                  kind, value)  # fmt: skip

    def arrive(self, s: int, v: Node, u: Node, kind: str, value: Array) -> None:
        if self.expired[s]:
            return  # late: after D_s, ignored
        neuron = self.neurons[v]
        neuron.last[u, kind] = value
        if kind == "forward":
            got = neuron.inputs.setdefault(s, {})
            got[u] = value
            if len(got) == len(self.net.preds[v]):
                self.push(self.time, _FORWARD, s, neuron.rank, "forward", v)
        elif kind == "softmax":
            neuron.exchange.setdefault(s, {})[u] = value
            self.softmax_if_ready(v, s)
        else:
            neuron.errors.setdefault(s, {})[u] = value
            self.backward_if_ready(v, s)

    def fill(self, neuron: _Neuron, u: Node, kind: str, size: int) -> Array:
        """The value used for a message from ``u`` that has not arrived."""
        if self.schedule.on_missing == "last":
            value = neuron.last.get((u, kind))
            if value is not None and value.shape == (size,):
                return value
        return np.zeros(size)

    # -- a neuron's steps --

    def forward(self, s: int, v: Node, deadline: bool = False) -> None:
        """e = Σ w·y + b, y = f(e) with the weights held now; y leaves now."""
        neuron = self.neurons[v]
        received = neuron.inputs.pop(s, {})
        size = len(self.batches[s % len(self.batches)][0])
        x = [
            received[u] if u in received else self.fill(neuron, u, "forward", size)
            for u in self.net.preds[v]
        ]
        e = sum(w * y for w, y in zip(neuron.w, x, strict=True)) + neuron.b
        f, df = self.net.formula[v]
        y = f(e)
        # under cross-entropy f' counts as 1 at an output (∂E/∂e = y − z)
        fprime = (
            np.ones_like(e) if self.cross_entropy and v in self.target else df(e, y)
        )
        neuron.kept[s] = _Kept(x, y, fprime, neuron.w.copy(), neuron.updates)
        neuron.forwarded.add(s)
        if v in self.group:  # e to the other members; y once all e are known
            neuron.exchange.setdefault(s, {})[v] = e
            for k in self.net.group:
                if k != v:
                    self.send(v, k, "softmax", s, e, _SOFTMAX_DELAY)
            self.softmax_if_ready(v, s)
            return
        if v in self.target:
            self.y_out[s][v] = y
        for w in self.net.succs[v]:
            self.send(v, w, "forward", s, y, self.delays[v, w])
        if not deadline:
            self.backward_if_ready(v, s)

    def softmax_if_ready(self, v: Node, s: int) -> None:
        if len(self.neurons[v].exchange.get(s, ())) == len(self.net.group):
            self.push(self.time, _SOFTMAX_STEP, s, self.neurons[v].rank, "softmax", v)

    def softmax(self, s: int, v: Node) -> None:
        """y_v from the e of every member of the group, in output order."""
        neuron = self.neurons[v]
        exchange = neuron.exchange.pop(s)
        Y = _softmax(np.array([exchange[o] for o in self.net.group]))
        y = Y[self.net.group.index(v)]
        neuron.kept[s] = replace(neuron.kept[s], y=y)
        self.y_out[s][v] = y
        self.backward_if_ready(v, s)

    def backward_if_ready(self, v: Node, s: int) -> None:
        neuron = self.neurons[v]
        if s in neuron.kept and len(neuron.errors.get(s, ())) == len(
            self.routes.senders[v]
        ):
            self.push(self.time, _BACKWARD, s, neuron.rank, "backward", v)

    def backward(self, s: int, v: Node) -> None:
        """δ, g = δ·f'(e); the error messages leave now; then the update."""
        neuron = self.neurons[v]
        kept = neuron.kept.pop(s)
        received = neuron.errors.pop(s, {})
        size = len(kept.y)
        if v in self.target:
            Z = self.batches[s % len(self.batches)][1]
            delta = Z[:, self.target[v]] - kept.y
        else:
            delta = np.zeros(size)
        for w in self.routes.senders[v]:
            missing = w not in received
            kind = self.routes.kind
            delta = delta + (
                self.fill(neuron, w, kind, size) if missing else received[w]
            )
        g = delta * kept.fprime
        signal = delta if self.rule == "article" else g
        weights = kept.w if self.schedule.stash else neuron.w
        for u, kind, d in self.routes.receivers[v]:
            if self.rule == "feedback_alignment":
                coefficient = self.feedback[u, v]
            elif self.rule == "direct_feedback_alignment":
                coefficient = self.feedback[v, u]
            else:  # the weight of u → v, before this update
                coefficient = weights[self.slot[u, v]]
            self.send(v, u, kind, s, coefficient * signal, d)
        # update(s): the gradient of iteration s on the current parameters
        grad_w = [-np.mean(g * x) for x in kept.x]
        grad_b = 0.0 if v in self.net.unbiased else -np.mean(g)
        theta = neuron.optimizer.step(
            np.array([*neuron.w, neuron.b]), np.array([*grad_w, grad_b])
        )
        neuron.w, neuron.b = theta[:-1], float(theta[-1])
        self.staleness[v][s] = neuron.updates - kept.updates
        neuron.updates += 1
        # B_v(s) is now; done(s) is the last of them
        self.ends[s] = max(self.ends[s], self.time)
        self.finished[s] += 1
        if self.finished[s] == len(self.net.neurons):
            self.admit()

    def deadline(self, s: int) -> None:
        """At D_s every neuron not done with s does its steps, filling in."""
        self.expired[s] = True
        for v in self.net.neurons:
            neuron = self.neurons[v]
            if s not in neuron.forwarded:
                self.forward(s, v, deadline=True)
            if s in neuron.kept:
                self.backward(s, v)

    # -- stalls --

    def waits(self, v: Node, s: int, step: str) -> Waiting:
        """What ``v`` still waits for in its ``step`` of iteration ``s``."""
        neuron = self.neurons[v]
        if step == "forward":
            expected, got = self.net.preds[v], neuron.inputs.get(s, {})
        else:
            expected, got = self.routes.senders[v], neuron.errors.get(s, {})
        missing = sorted((u for u in expected if u not in got), key=self.node_rank.get)
        return Waiting(v, s, step, tuple(missing))

    def waiting(self) -> list[Waiting]:
        found = []
        for s in range(len(self.entries)):
            for v in self.net.neurons:
                neuron = self.neurons[v]
                if s not in neuron.forwarded:
                    found.append(self.waits(v, s, "forward"))
                elif s in neuron.kept:
                    found.append(self.waits(v, s, "backward"))
        return found


# --- the sequential schedule, vectorised by topological generation ---
#
# With one iteration at a time and nothing lost, every neuron does
# forward(s), backward(s) and update(s) once per iteration and between the
# updates of iteration s − 1 and s + 1: the values are those of plain
# sequential training, whatever the delays, and virtual time only says when
# things happen. So the graph is read once into integer arrays and each
# iteration is a few array operations per topological generation.


@dataclass(frozen=True)
class _Generation:
    """One topological generation: the nodes at positions ``lo:hi``."""

    lo: int
    hi: int
    into: slice  # its incoming edges (edges are sorted by destination)
    into_starts: NDArray[np.intp]  # each node's first incoming edge, from `into`
    out: NDArray[np.intp]  # its nodes' outgoing edges, grouped by source
    out_starts: NDArray[np.intp]  # each group's start in `out`
    out_rows: NDArray[np.intp]  # the position of each group's source
    groups: list[tuple[int, int, _Formula]]  # (lo, hi, (f, f')) by activation


@dataclass(frozen=True)
class _Layout:
    """A graph as arrays. Nodes have positions ``0 … n − 1``, sorted by
    generation (the inputs first, at ``0 … m − 1``), then activation, then
    ``G.nodes`` order; edges are sorted by destination, then ``G.edges``
    order."""

    nodes: list[Node]  # by position
    rank: NDArray[np.intp]  # of each position's node in G.nodes
    n_inputs: int  # m
    input_rows: NDArray[np.intp]  # the position of each input, X's column order
    output_rows: NDArray[np.intp]  # of each output, Z's column order
    hidden_rows: NDArray[np.intp]  # of the neurons that are not outputs
    by_dst: NDArray[np.intp]  # the G.edges index of each edge
    src: NDArray[np.intp]  # positions
    dst: NDArray[np.intp]
    delay: Array
    generations: list[_Generation]  # 1, 2, …: the neurons'
    unbiased: NDArray[np.bool_]  # of the neurons, by position − m
    softmax: bool  # the outputs are a softmax group


def _layout(
    G: nx.DiGraph,
    net: _Net,
    weights: Mapping[Edge, float],
    biases: Mapping[Node, float],
    delays: Mapping[Edge, float],
) -> tuple[_Layout, Array]:
    """The arrays of ``G`` and its parameters ``θ = [w by edge index, b by
    neuron position]``."""
    # each node's activation as a number, one per built-in name or activation
    # object: within a generation each group is one call of its formula
    tags: dict[Any, int] = {}
    group = np.zeros(len(net.nodes), dtype=np.intp)
    for r, v in enumerate(net.nodes):
        if v in net.formula:
            activation = G.nodes[v].get("activation", "sigmoid")
            tag = activation if isinstance(activation, str) else id(activation)
            group[r] = tags.setdefault(tag, len(tags) + 1)
    order = np.lexsort((np.arange(len(net.nodes)), group, net.generation))
    position = np.empty_like(order)
    position[order] = np.arange(len(order))  # of each node, by rank
    nodes = [net.nodes[r] for r in order]
    m = len(net.inputs)
    # edges sorted by destination position; by_dst[i]: the G.edges index
    by_dst = np.argsort(position[net.edge_dst], kind="stable")
    src, dst = position[net.edge_src][by_dst], position[net.edge_dst][by_dst]
    n_edges = len(by_dst)
    delay = np.fromiter(delays.values(), np.float64, n_edges)[by_dst]

    level, group_at = net.generation[order], group[order]
    bounds = np.searchsorted(level, np.arange(level[-1] + 2))  # node positions
    edge_bounds = np.searchsorted(dst, bounds)  # edges into each generation
    into_first = np.searchsorted(dst, np.arange(len(nodes)))  # per node
    by_src = np.argsort(src, kind="stable")
    out_bounds = np.searchsorted(src[by_src], bounds)
    generations = []
    for k in range(1, len(bounds) - 1):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        out = by_src[out_bounds[k] : out_bounds[k + 1]]
        out_rows, out_starts = np.unique(src[out], return_index=True)
        cuts = [0, *(np.flatnonzero(np.diff(group_at[lo:hi])) + 1), hi - lo]
        groups = [
            (lo + a, lo + b, net.formula[nodes[lo + a]])
            for a, b in itertools.pairwise(cuts)
        ]
        into = slice(int(edge_bounds[k]), int(edge_bounds[k + 1]))
        into_starts = into_first[lo:hi] - into.start
        generations.append(
            _Generation(lo, hi, into, into_starts, out, out_starts, out_rows, groups)
        )
    rank = {v: r for r, v in enumerate(net.nodes)}
    is_output = np.zeros(len(nodes), dtype=bool)
    is_output[position[[rank[o] for o in net.outputs]]] = True
    layout = _Layout(
        nodes=nodes,
        rank=order,
        n_inputs=m,
        input_rows=position[[rank[i] for i in net.inputs]],
        output_rows=position[[rank[o] for o in net.outputs]],
        hidden_rows=m + np.flatnonzero(~is_output[m:]),
        by_dst=by_dst,
        src=src,
        dst=dst,
        delay=delay,
        generations=generations,
        unbiased=np.array([v in net.unbiased for v in nodes[m:]], dtype=bool),
        softmax=bool(net.group),
    )
    bias = np.zeros(len(nodes))  # by rank
    bias[net.generation > 0] = np.fromiter(biases.values(), np.float64, len(biases))
    theta = np.concatenate(
        [np.fromiter(weights.values(), np.float64, n_edges)[by_dst], bias[order[m:]]]
    )
    return layout, theta


def _forward_by_generation(
    layout: _Layout, theta: Array, X: Array
) -> tuple[Array, Array]:
    """``e = Σ w·y + b``, ``y = f(e)`` a generation at a time, then the
    softmax of a softmax group's ``e``: ``y`` and ``f'(e)`` of every node
    (rows: positions; columns: the batch)."""
    n_edges, m = len(layout.by_dst), layout.n_inputs
    w, b = theta[:n_edges], theta[n_edges:]
    y = np.empty((len(layout.nodes), X.shape[0]))
    fprime = np.empty_like(y)
    y[layout.input_rows] = X.T
    for gen in layout.generations:
        into = gen.into
        products = w[into, None] * y[layout.src[into]]  # w_uv·y_u, an edge a row
        bias = b[gen.lo - m : gen.hi - m, None]
        e = np.add.reduceat(products, gen.into_starts) + bias
        for lo, hi, (f, df) in gen.groups:
            e_group = e[lo - gen.lo : hi - gen.lo]
            y[lo:hi] = f(e_group)
            fprime[lo:hi] = df(e_group, y[lo:hi])
    if layout.softmax:  # the group's y held its e (its nodes are sinks)
        y[layout.output_rows] = _softmax(y[layout.output_rows])
    return y, fprime


def _backward_by_generation(
    layout: _Layout,
    theta: Array,
    y: Array,
    fprime: Array,
    Z: Array,
    rule: str,
    feedback: Array | None,
) -> Array:
    """``g = δ·f'(e)`` of every node by ``rule``, in reverse generation order.

    ``δ = [v is an output]·(z − y) + Σ`` of what its successors send back:
    ``w·g`` (backprop), ``w·δ`` (article), ``B·g`` (feedback alignment, ``B``
    by edge); with direct feedback alignment ``δ_h = Σ_o B_oh·g_o`` for every
    hidden ``h`` and an output gets only ``z − y`` (``feedback`` is then the
    matrix of ``B_oh``, hidden rows by output columns).
    """
    delta = np.zeros_like(y)
    outputs = layout.output_rows
    delta[outputs] = Z.T - y[outputs]
    g = np.zeros_like(y)
    if rule == "direct_feedback_alignment":
        g[outputs] = delta[outputs] * fprime[outputs]
        hidden = layout.hidden_rows
        delta[hidden] = feedback @ g[outputs]
        g[hidden] = delta[hidden] * fprime[hidden]
        return g
    weights = theta[: len(layout.by_dst)]
    coefficient = feedback if rule == "feedback_alignment" else weights
    signal = delta if rule == "article" else g  # filled in as we go
    for gen in reversed(layout.generations):
        if gen.out.size:  # sum over each sender's successors s
            out = gen.out
            sent = coefficient[out, None] * signal[layout.dst[out]]
            delta[gen.out_rows] += np.add.reduceat(sent, gen.out_starts)
        g[gen.lo : gen.hi] = delta[gen.lo : gen.hi] * fprime[gen.lo : gen.hi]
    return g


def _path_times(
    layout: _Layout, rule: str, feedback_delay: Array | None
) -> tuple[Array, Array]:
    """``F_v`` and ``B_v`` of every node for an iteration entering at 0.

    ``F = 0`` at the inputs, ``F_v = max_u F_u + d_uv``;
    ``B_v = max(F_v, max_w B_w + d)`` over the senders ``w`` of its error
    messages (its successors, or with direct feedback alignment every output,
    ``feedback_delay`` hidden rows by output columns). A member ``j`` of a
    softmax group does its softmax step, then its backward step, at
    ``B_j = max(F_j, max_{k≠j} F_k + 1)``, once the others' e have come.
    """
    F = np.zeros(len(layout.nodes))
    for gen in layout.generations:
        into = gen.into
        F[gen.lo : gen.hi] = np.maximum.reduceat(
            F[layout.src[into]] + layout.delay[into], gen.into_starts
        )
    B = F.copy()
    if layout.softmax:
        t = F[layout.output_rows]
        others = np.full_like(t, t.max())  # max_{k≠j} t_k: the largest ...
        first = int(np.argmax(t))
        others[first] = np.delete(t, first).max()  # ... but at the largest
        B[layout.output_rows] = np.maximum(t, others + _SOFTMAX_DELAY)
    if rule == "direct_feedback_alignment":
        if layout.hidden_rows.size:
            arrival = np.max(B[layout.output_rows] + feedback_delay, axis=1)
            B[layout.hidden_rows] = np.maximum(F[layout.hidden_rows], arrival)
        return F, B
    for gen in reversed(layout.generations):
        if gen.out.size:
            out = gen.out
            arrival = np.maximum.reduceat(
                B[layout.dst[out]] + layout.delay[out], gen.out_starts
            )
            B[gen.out_rows] = np.maximum(B[gen.out_rows], arrival)
    return F, B


def _train_by_generation(
    layout: _Layout,
    theta: Array,
    optimizer: _Optimizer,
    batches: list[tuple[Array, Array]],
    n_iterations: int,
    rule: str,
    feedback: Array | None,
    loss: str = "squared",
) -> tuple[Array, Array]:
    """Sequential training: ``θ`` after ``n_iterations`` and the losses.

    Every neuron updates once per iteration, so the optimizer states of all
    neurons are one state over ``θ`` with one step count (its formulas are
    elementwise).
    """
    losses = []
    for s in range(n_iterations):
        X, Z = batches[s % len(batches)]
        y, fprime = _forward_by_generation(layout, theta, X)
        if loss == "cross_entropy":  # f' counts as 1 at the outputs
            fprime[layout.output_rows] = 1.0
        Y = y[layout.output_rows].T
        losses.append(_loss(loss, layout.softmax, Z, Y))
        g = _backward_by_generation(layout, theta, y, fprime, Z, rule, feedback)
        grad_w = -np.mean(g[layout.dst] * y[layout.src], axis=1)
        grad_b = np.where(layout.unbiased, 0.0, -np.mean(g[layout.n_inputs :], axis=1))
        theta = optimizer.step(theta, np.concatenate([grad_w, grad_b]))
    return theta, np.concatenate(losses)


def _sequential(
    G: nx.DiGraph,
    net: _Net,
    weights: Mapping[Edge, float],
    biases: Mapping[Node, float],
    delays: Mapping[Edge, float],
    batches: list[tuple[Array, Array]],
    n_iterations: int,
    rule: str,
    feedback: Mapping[Edge, float] | None,
    optimizer: str,
    lr: float,
    options: Mapping[str, Any],
    schedule: _Schedule,
    loss: str = "squared",
) -> ReferenceResult | None:
    """:func:`train` when one iteration runs at a time and nothing is lost;
    ``None`` if a deadline could cut an iteration short (then the event loop
    decides what happens)."""
    layout, theta = _layout(G, net, weights, biases, delays)
    m = layout.n_inputs
    hidden = [layout.nodes[p] for p in layout.hidden_rows]
    feedback_delay = None
    if rule == "feedback_alignment":
        by_edge = (feedback.get(e, 0.0) for e in net.edges)  # 0: from an input
        feedback = np.fromiter(by_edge, np.float64, len(net.edges))[layout.by_dst]
    elif rule == "direct_feedback_alignment":
        feedback = np.array([[feedback[o, h] for o in net.outputs] for h in hidden])
        feedback_delay = np.array(
            [[delays.get((h, o), 1.0) for o in net.outputs] for h in hidden]
        ).reshape(len(hidden), len(net.outputs))
        feedback = feedback.reshape(feedback_delay.shape)
    # the times: iteration s enters at T_s and is done C later
    _, B = _path_times(layout, rule, feedback_delay)
    critical = float(B[m:].max())
    if schedule.timeout is not None and schedule.timeout < 2 * critical:
        return None  # (the default timeout is 2·C)
    entries = np.zeros(n_iterations)
    for s in range(1, n_iterations):
        entries[s] = max(entries[s - 1] + schedule.interval, entries[s - 1] + critical)
    ends = entries + critical

    theta, loss = _train_by_generation(
        layout, theta, _Optimizer(optimizer, lr, options, theta.size), batches,
        n_iterations, rule, feedback, loss,
    )  # fmt: skip
    n_edges = len(layout.by_dst)
    w = np.empty(n_edges)
    w[layout.by_dst] = theta[:n_edges]  # back to G.edges order
    b = np.empty(len(layout.nodes))
    b[layout.rank[m:]] = theta[n_edges:]  # by rank: G.nodes order
    b = b[net.generation > 0]  # of net.neurons
    staleness = {v: np.zeros(n_iterations, dtype=int) for v in net.neurons}
    for array in (loss, entries, ends, *staleness.values()):
        array.setflags(write=False)
    return ReferenceResult(
        dict(zip(net.edges, w.tolist(), strict=True)),
        {
            v: bias
            for v, bias in zip(net.neurons, b.tolist(), strict=True)
            if v not in net.unbiased
        },
        loss, entries, ends, staleness,
    )  # fmt: skip


# --- the general form: public functions ---


@dataclass(frozen=True, eq=False)
class ReferenceResult:
    """The parameters after training, the loss and the schedule seen.

    Attributes
    ----------
    weights : dict
        ``{(u, v): w}`` for every edge, in ``G.edges`` order.
    biases : dict
        ``{v: b}`` for every non-input node that has a bias, in ``G.nodes``
        order.
    loss : ndarray
        ``E`` of each sample under the loss trained with, in training order,
        epochs concatenated, each computed from its outputs before the
        update (read-only).
    entries : ndarray
        ``T_s``, the virtual time at which iteration ``s`` entered
        (read-only).
    ends : ndarray
        ``done(s)``, the time of the last update of iteration ``s``
        (read-only).
    staleness : dict
        ``{v: ndarray of int}`` for every non-input node, in ``G.nodes``
        order: the number of ``v``'s own updates between its forward(s) and
        its backward(s), per iteration (read-only).
    """

    weights: dict[Edge, float]
    biases: dict[Node, float]
    loss: Array
    entries: Array
    ends: Array
    staleness: dict[Node, NDArray[np.int_]]

    def __repr__(self) -> str:
        return (
            f"ReferenceResult({len(self.weights)} weights, {len(self.biases)} "
            f"biases, {self.loss.size} losses from {self.loss[0]:.4g} "
            f"to {self.loss[-1]:.4g})"
        )


def predict(
    G: nx.DiGraph,
    X: ArrayLike,
    *,
    inputs: Sequence[Node] | None = None,
    outputs: Sequence[Node] | None = None,
) -> Array:
    """Outputs of the network ``G`` for the samples ``X``.

    Parameters
    ----------
    G : networkx.DiGraph
        A DAG with edge attribute ``weight`` and node attributes ``bias``
        (default 0.0) and ``activation`` (default ``"sigmoid"``).
    X : array_like, shape (n_samples, n_inputs)
        One row per sample (always 2-D, also for a single input or sample).
    inputs, outputs : sequence of nodes, optional
        Column order of ``X`` and of the result; default the sources and the
        sinks in ``G.nodes`` order. ``outputs`` may name any non-input nodes
        (with a softmax group: exactly its nodes, in any order).

    Returns
    -------
    ndarray, shape (n_samples, n_outputs)
        ``y`` of each output; of a softmax group, the softmax of its ``e``
        (each row sums to 1).

    Raises
    ------
    NetworkError
        For an unusable graph, among them a softmax node that is not an
        output or has successors, an output outside the group when there is
        one, or a group of one node.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("x", "y", weight=2.0)
    >>> G.nodes["y"].update(activation="identity", bias=0.5)
    >>> predict(G, [[1.0], [3.0]])
    array([[2.5],
           [6.5]])

    Two softmax outputs: ``e = (1, −1)`` gives ``y = (1, e^{−2}) / (1 + e^{−2})``.

    >>> H = nx.DiGraph()
    >>> H.add_weighted_edges_from([("x", "a", 1.0), ("x", "b", -1.0)])
    >>> nx.set_node_attributes(H, {"a": "softmax", "b": "softmax"}, "activation")
    >>> predict(H, [[1.0]]).round(4)
    array([[0.8808, 0.1192]])
    """
    net, weights, biases = _read(G, inputs, outputs)
    X = _matrix(X, "X", len(net.inputs))
    fwd = _forward(net, weights, biases, X)
    return np.column_stack([fwd.y[o] for o in net.outputs])


def update_directions(
    G: nx.DiGraph,
    X: ArrayLike,
    Z: ArrayLike,
    *,
    rule: str,
    feedback: Mapping[Edge, float] | None = None,
    inputs: Sequence[Node] | None = None,
    outputs: Sequence[Node] | None = None,
    loss: str | None = None,
) -> tuple[dict[Edge, float], dict[Node, float]]:
    """The direction in which ``rule`` moves each parameter for one batch.

    This is what plain SGD adds, divided by the learning rate:
    ``mean(g_v·y_u)`` for ``w_uv`` and ``mean(g_v)`` for ``b_v``. For
    ``"backprop"`` it is the negated gradient of the batch-mean loss; for the
    other rules its angle to that gradient measures how well they align.

    Parameters
    ----------
    G, X, inputs, outputs
        As in :func:`predict`; ``X`` is one batch.
    Z : array_like, shape (n_samples, n_outputs)
        The targets.
    rule : {"backprop", "article", "feedback_alignment", "direct_feedback_alignment"}
        The learning rule of ``docs/design.md``.
    feedback : dict, optional
        The fixed feedback weights the alignment rules need: ``{(u, v): B}``
        for every edge whose source is not an input (feedback alignment),
        ``{(o, h): B}`` for every output ``o`` and hidden node ``h`` (direct
        feedback alignment).
    loss : {None, "squared", "cross_entropy"}
        ``"squared"``: ``E = ½ Σ_o (z_o − y_o)²``. ``"cross_entropy"``:
        ``E = −Σ_o z_o·log y_o`` for a softmax group; for sigmoid outputs
        without successors ``E = −Σ_o [z_o·log y_o + (1 − z_o)·log(1 − y_o)]``;
        each log clamped at −100, targets in [0, 1]. At an output ``f'``
        then counts as 1, ``g_o = z_o − y_o``: the gradient of ``E`` when
        the targets of a softmax group sum to 1 (classes, probabilities).
        ``None``: ``"cross_entropy"`` with a softmax group, else
        ``"squared"``.

    Returns
    -------
    weights, biases : dict
        ``{(u, v): direction}`` and ``{v: direction}``.

    Raises
    ------
    NetworkError
        For an unusable graph (see :func:`predict`).
    DataError
        For unusable arguments: an unknown ``loss``; ``"squared"`` with a
        softmax group; ``"cross_entropy"`` with an output that is neither
        sigmoid nor in a softmax group, with a sigmoid output that has
        successors, or with a target outside [0, 1] (each named).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("x", "y", weight=2.0)
    >>> G.nodes["y"]["activation"] = "identity"
    >>> update_directions(G, [[1.0]], [[3.0]], rule="backprop")
    ({('x', 'y'): 1.0}, {'y': 1.0})
    """
    net, weights, biases = _read(G, inputs, outputs)
    feedback = _check_rule(net, rule, feedback)
    X = _matrix(X, "X", len(net.inputs))
    Z = _matrix(Z, "Z", len(net.outputs), X.shape[0])
    loss = _check_graph_loss(net, loss, Z)
    fwd = _forward(net, weights, biases, X)
    g = _backward(net, weights, fwd, Z, rule, feedback, loss)
    return _directions(net, fwd, g)


def gradients(
    G: nx.DiGraph,
    X: ArrayLike,
    Z: ArrayLike,
    *,
    inputs: Sequence[Node] | None = None,
    outputs: Sequence[Node] | None = None,
    loss: str | None = None,
) -> tuple[dict[Edge, float], dict[Node, float]]:
    """The exact gradient of the mean loss over ``X`` w.r.t. every parameter.

    ``∂L/∂w_uv = −mean(g_v·y_u)`` and ``∂L/∂b_v = −mean(g_v)`` with ``L``
    the mean over samples of ``E`` (by default ``½ Σ_o (z_o − y_o)²``, or
    the cross-entropy of a softmax group) and ``g`` from backprop.
    Arguments as in :func:`update_directions`.

    Returns
    -------
    weights, biases : dict
        ``{(u, v): ∂L/∂w_uv}`` and ``{v: ∂L/∂b_v}``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("x", "y", weight=2.0)
    >>> G.nodes["y"]["activation"] = "identity"
    >>> gradients(G, [[1.0]], [[3.0]])  # L = ½(3 − 2w)², ∂L/∂w = −2(3 − 2w)
    ({('x', 'y'): -1.0}, {'y': -1.0})

    A sigmoid output under cross-entropy: ``∂E/∂e = y − z``.

    >>> G.nodes["y"]["activation"] = "sigmoid"
    >>> G.edges["x", "y"]["weight"] = 0.0  # y = ½
    >>> gradients(G, [[2.0]], [[1.0]], loss="cross_entropy")
    ({('x', 'y'): -1.0}, {'y': -0.5})
    """
    dw, db = update_directions(
        G, X, Z, rule="backprop", inputs=inputs, outputs=outputs, loss=loss
    )
    return {k: -d for k, d in dw.items()}, {k: -d for k, d in db.items()}


def train(
    G: nx.DiGraph,
    X: ArrayLike,
    Z: ArrayLike,
    *,
    inputs: Sequence[Node] | None = None,
    outputs: Sequence[Node] | None = None,
    learning_rate: float | None = None,
    epochs: int = 1,
    batch_size: int = 1,
    optimizer: str = "sgd",
    optimizer_options: Mapping[str, Any] | None = None,
    rule: str = "backprop",
    feedback: Mapping[Edge, float] | None = None,
    in_flight: int | None = 1,
    interval: float = 0.0,
    stash: bool = False,
    drops: Iterable[tuple[Node, Node, str, int]] = (),
    on_missing: str = "error",
    timeout: float | None = None,
    shuffle: bool = False,
    seed: int = 0,
    loss: str | None = None,
) -> ReferenceResult:
    """Train a copy of the parameters of ``G`` the way the actors do.

    Batches are consecutive chunks of ``X`` (the last may be shorter), the
    same in every epoch (with ``shuffle``, chunks of each epoch's own order
    of the samples); iteration ``s`` is one batch, counted from 0 across
    epochs. The run is the event-driven schedule of ``docs/concepts.md``
    ("Virtual time and the schedule", "Lost, duplicated and late
    messages"), simulated by a plain event loop over a priority queue:

    - iteration ``s`` enters at ``T_0 = 0``,
      ``T_s = max(T_{s−1} + interval, done(s − in_flight))``;
    - a neuron does forward(s) when its last input of ``s`` arrives, with the
      weights it holds then; backward(s) at
      ``B_v(s) = max(F_v(s), last error message of s)``, and there applies
      the gradient of iteration ``s``, ``−mean(g·x)`` and ``−mean(g)``, to
      its *current* parameters with its own optimizer;
    - a message on ``u → v`` (either way) takes the edge's ``delay``
      (default 1); a direct-feedback channel from ``o`` to ``h`` that of
      ``h → o`` if there is one, else 1;
    - a member ``j`` of a softmax group sends its ``e`` to every other
      member at its forward step ``F_j(s)`` (a softmax message, delay 1) and
      does its softmax step, then its backward step, at
      ``max(F_j(s), max_{k≠j} F_k(s) + 1)``. At equal times a neuron does
      its backward steps, then its softmax steps, then its forward steps.

    With the defaults (``in_flight=1``, ``interval=0``) the iterations do not
    overlap and this is plain sequential training: forward, loss, backward
    by ``rule``, and every parameter steps with the gradient of the
    batch-mean loss. ``G``, ``X`` and ``Z`` are left untouched.

    With ``in_flight=1``, no ``drops`` and no deadline shorter than twice an
    iteration (the default ``timeout``), whatever the ``interval``, that is
    what runs: a generation of the graph at a time on arrays, and ``T_s``,
    ``done(s)`` from the longest paths of delays. Otherwise the event loop
    runs. Both give the same numbers to rounding.

    Parameters
    ----------
    G, X, Z, inputs, outputs, rule, feedback, loss
        As in :func:`update_directions`; ``G``'s edges may carry a ``delay``
        (a finite number >= 0, default 1).
    learning_rate : float, optional
        Default: the optimizer's (sgd and momentum 0.1, adagrad 0.01,
        adam 0.001).
    epochs, batch_size : int
        Passes over the samples, samples per update.
    optimizer : {"sgd", "momentum", "adagrad", "adam"}
        PyTorch's ``SGD``, ``SGD(momentum=0.9)``, ``Adagrad``, ``Adam``.
    optimizer_options : dict, optional
        Their hyperparameters under PyTorch's names and defaults: sgd and
        momentum ``momentum, dampening, nesterov, weight_decay``; adagrad
        ``lr_decay, weight_decay, initial_accumulator_value, eps``; adam
        ``betas, eps, weight_decay, amsgrad``. Each neuron keeps its own
        state over its vector ``[w_1 … w_n, b]`` for the whole call, and its
        own step count.
    in_flight : int or None
        ``K``, how many iterations may be under way at once: iteration ``s``
        waits for ``done(s − K)``. ``None``: no limit.
    interval : float
        The least time between two entries (finite, >= 0).
    stash : bool
        Send back the weights forward(s) used instead of those held at
        backward(s) (PipeDream's weight stashing). Only matters when
        iterations overlap.
    drops : iterable of (u, v, kind, s)
        Messages that are lost: on the connection ``u → v`` of ``G``, kind
        ``"forward"`` (``y_u`` to ``v``) or ``"backward"`` (the error from
        ``v`` back to ``u``), or ``"feedback"`` for the direct-feedback
        channel from the output ``v`` to the hidden ``u``; ``s`` is the
        iteration (an integer >= 0).
    on_missing : {"error", "zero", "last"}
        ``"error"``: a lost message raises :class:`~neurosim.errors.StalledError`
        when it is sent. ``"zero"``, ``"last"``: at ``D_s = T_s + timeout``
        every neuron not done with ``s`` does its forward(s), then its
        backward(s), using 0, or the last value received on that connection
        and kind (of any iteration; 0 if none or of another batch size), for
        each message that has not arrived; messages of ``s`` arriving after
        ``D_s`` are ignored.
    timeout : float, optional
        Finite and > 0. Default: twice the critical path of an iteration
        (its latest forward arrival, then the latest error message), so that
        nothing is late without losses. Only used with ``on_missing``
        ``"zero"`` or ``"last"``.
    shuffle : bool
        Epoch ``e`` takes the samples in the order ``p_e``, the ``e``-th
        ``permutation(n_samples)`` of numpy's ``default_rng(seed)``.
    seed : int
        The seed of that order.

    Returns
    -------
    ReferenceResult

    Raises
    ------
    NetworkError, DataError
        For unusable arguments, before any work (see
        :func:`update_directions`). With ``in_flight`` other than 1,
        ``interval > 0``, ``drops`` or ``on_missing`` other than ``"error"``,
        every delay must be > 0. A softmax group refuses ``drops`` and
        ``on_missing`` other than ``"error"``.
    StalledError
        A message of ``drops`` is lost and ``on_missing="error"``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("x", "y", weight=0.0)
    >>> G.nodes["y"]["activation"] = "identity"
    >>> result = train(G, [[1.0], [2.0]], [[2.0], [4.0]], epochs=200)
    >>> result  # learning y = 2·x
    ReferenceResult(1 weights, 1 biases, 400 losses from 2 to 3.527e-05)
    >>> round(result.weights["x", "y"], 2), round(result.biases["y"], 2)
    (1.98, 0.03)

    The schedule, on a chain ``x → h → y`` with delays 1: an iteration takes
    3 (forward to ``h`` and ``y``, ``y``'s error back to ``h``).

    >>> G = nx.DiGraph()
    >>> G.add_edges_from([("x", "h"), ("h", "y")], weight=1.0)
    >>> nx.set_node_attributes(G, "identity", "activation")
    >>> X, Z = [[1.0], [2.0], [3.0]], [[1.0], [2.0], [3.0]]
    >>> result = train(G, X, Z)
    >>> result.entries, result.ends
    (array([0., 3., 6.]), array([3., 6., 9.]))

    Two iterations in flight, entering at least 1 apart: ``h`` does
    forward(1) at t = 2, before its update of iteration 0 at t = 3.

    >>> result = train(G, X, Z, in_flight=2, interval=1.0)
    >>> result.entries, result.ends
    (array([0., 1., 3.]), array([3., 4., 6.]))
    >>> result.staleness["h"], result.staleness["y"]
    (array([0, 1, 0]), array([0, 0, 0]))

    A lost message stops the run, or is filled in at the deadline
    ``D_1 = T_1 + 2·3 = 9``:

    >>> from neurosim.errors import StalledError
    >>> try:
    ...     train(G, X, Z, drops=[("x", "h", "forward", 1)])
    ... except StalledError as error:
    ...     print(error.time, error.waiting)
    3.0 (Waiting(neuron='h', iteration=1, step='forward', senders=('x',)),)
    >>> result = train(G, X, Z, drops=[("x", "h", "forward", 1)], on_missing="zero")
    >>> result.ends
    array([ 3.,  9., 12.])

    Two classes, two softmax outputs, trained with cross-entropy (the
    default for a softmax group): the first loss is
    ``−log(1 / (1 + e^{−2})) = 0.1269``. Each output has the other's ``e``
    at t = 2, one after its forward step: an iteration takes 2.

    >>> G = nx.DiGraph()
    >>> G.add_weighted_edges_from([("x", "a", 1.0), ("x", "b", -1.0)])
    >>> nx.set_node_attributes(G, {"a": "softmax", "b": "softmax"}, "activation")
    >>> result = train(G, [[1.0], [-1.0]], [[1.0, 0.0], [0.0, 1.0]], epochs=20)
    >>> result
    ReferenceResult(2 weights, 2 biases, 40 losses from 0.1269 to 0.06695)
    >>> result.ends[:3]
    array([2., 4., 6.])
    """
    with _gc_paused():
        return _train(
            G, X, Z, inputs=inputs, outputs=outputs, learning_rate=learning_rate,
            epochs=epochs, batch_size=batch_size, optimizer=optimizer,
            optimizer_options=optimizer_options, rule=rule, feedback=feedback,
            in_flight=in_flight, interval=interval, stash=stash, drops=drops,
            on_missing=on_missing, timeout=timeout, events=False,
            shuffle=shuffle, seed=seed, loss=loss,
        )  # fmt: skip


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during a call.

    Reading a graph makes a tuple per edge and the event loop one per event;
    each 700 new containers the collector would scan the youngest of them,
    and now and then everything, ``G`` included: some 20 % of the time of a
    fast-path call. Nothing here makes reference cycles worth collecting.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _train(
    G: nx.DiGraph,
    X: ArrayLike,
    Z: ArrayLike,
    *,
    inputs: Sequence[Node] | None,
    outputs: Sequence[Node] | None,
    learning_rate: float | None,
    epochs: int,
    batch_size: int,
    optimizer: str,
    optimizer_options: Mapping[str, Any] | None,
    rule: str,
    feedback: Mapping[Edge, float] | None,
    in_flight: int | None,
    interval: float,
    stash: bool,
    drops: Iterable[tuple[Node, Node, str, int]],
    on_missing: str,
    timeout: float | None,
    events: bool,
    shuffle: bool = False,
    seed: int = 0,
    loss: str | None = None,
) -> ReferenceResult:
    """:func:`train`; ``events=True`` runs the event loop even when the
    schedule is sequential (to check the fast path against it)."""
    net, weights, biases = _read(G, inputs, outputs)
    feedback = _check_rule(net, rule, feedback)
    lr, options = _check_optimizer(optimizer, learning_rate, optimizer_options)
    epochs = _check_count(epochs, "epochs")
    batch_size = _check_count(batch_size, "batch_size")
    X = _matrix(X, "X", len(net.inputs))
    Z = _matrix(Z, "Z", len(net.outputs), X.shape[0])
    loss = _check_graph_loss(net, loss, Z)
    delays = _delays(G, net)
    schedule = _check_schedule(
        G, net, rule, delays, in_flight, interval, stash, drops, on_missing, timeout
    )

    if not isinstance(shuffle, bool):
        raise DataError(f"shuffle must be True or False, got {shuffle!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise DataError(f"seed must be an integer, got {seed!r}")

    def chunks(X: Array, Z: Array) -> list[tuple[Array, Array]]:
        b = batch_size
        return [(X[a : a + b], Z[a : a + b]) for a in range(0, X.shape[0], b)]

    batches = chunks(X, Z)
    n_iterations = epochs * len(batches)
    if shuffle:  # every iteration's batch, epoch after epoch
        rng = np.random.default_rng(seed)
        batches = []
        for _ in range(epochs):
            order = rng.permutation(X.shape[0])
            batches += chunks(X[order], Z[order])
    if not events and schedule.in_flight == 1 and not schedule.drops:
        result = _sequential(
            G, net, weights, biases, delays, batches, n_iterations, rule, feedback,
            optimizer, lr, options, schedule, loss,
        )  # fmt: skip
        if result is not None:
            return result
    routes = _routes(net, rule, delays)
    node_rank = {v: r for r, v in enumerate(G.nodes)}
    neurons = {
        v: _Neuron(
            node_rank[v],
            np.array([weights[u, v] for u in net.preds[v]]),
            biases[v],
            _Optimizer(optimizer, lr, options, len(net.preds[v]) + 1),
        )
        for v in net.neurons
    }
    simulation = _Simulation(
        net, routes, delays, neurons, batches, n_iterations, rule,
        feedback, schedule, node_rank, loss,
    )  # fmt: skip
    simulation.run()

    losses = []
    for s, y in enumerate(simulation.y_out):
        Y = np.column_stack([y[o] for o in net.outputs])
        Z = batches[s % len(batches)][1]
        losses.append(_loss(loss, bool(net.group), Z, Y))
    loss = np.concatenate(losses)
    entries = np.array(simulation.entries)
    ends = simulation.ends
    staleness = simulation.staleness
    for array in (loss, entries, ends, *staleness.values()):
        array.setflags(write=False)
    slot = simulation.slot
    weights = {(u, v): float(neurons[v].w[slot[u, v]]) for u, v in net.edges}
    biases = {v: neurons[v].b for v in net.neurons if v not in net.unbiased}
    return ReferenceResult(weights, biases, loss, entries, ends, staleness)


# --- the layered form ---


def train_layered(
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike],
    activations: Sequence[Any],
    X: ArrayLike,
    Z: ArrayLike,
    *,
    learning_rate: float = 0.1,
    epochs: int = 1,
    batch_size: int = 1,
    loss: str | None = None,
) -> tuple[list[Array], list[Array], Array]:
    """Backprop and SGD on a stack of affine layers, in matrix form.

    Layer ``k`` computes ``Y = f_k(X·W_k + b_k)``; a last layer of
    activation ``"softmax"``, the softmax of each row. Backward, with ``dY``
    the gradient of the batch-mean loss w.r.t. a layer's output:
    ``dE = dY·f'(E)`` (``dE = dY`` at the last layer under cross-entropy),
    ``dX = dE·Wᵀ`` (old ``W``), ``dW = Xᵀ·dE``, ``db = Σ dE``, then
    ``W ← W − η·dW``, ``b ← b − η·db``.

    Parameters
    ----------
    weights : sequence of array_like, shapes (n_in, n_out)
    biases : sequence of array_like, shapes (n_out,)
    activations : sequence of str or activation objects, one per layer
        ``"softmax"`` only for the last layer, of at least 2 units.
    X : array_like, shape (n_samples, n_in of the first layer)
    Z : array_like, shape (n_samples, n_out of the last layer)
    learning_rate : float
    epochs, batch_size, loss
        As in :func:`train`.

    Returns
    -------
    weights, biases : list of ndarray
        New arrays; the arguments are left untouched.
    loss : ndarray
        As :attr:`ReferenceResult.loss`.

    Examples
    --------
    >>> W, b, loss = train_layered(
    ...     [[[1.5, 2.0], [2.0, 2.5]], [[1.2, 2.5], [0.5, 1.0]]],
    ...     [[0.0, 0.0], [0.0, 0.0]],
    ...     ["identity", "identity"],
    ...     [[1.0, 1.5]],
    ...     [[2.5, 3.0]],
    ... )
    >>> round(float(loss[0]), 10), round(float(W[1][0, 0]), 10)
    (114.6753125, -1.39875)
    """
    W = [np.array(w, dtype=np.float64) for w in weights]  # copies
    b = [np.array(v, dtype=np.float64) for v in biases]
    if len(b) != len(W) or len(activations) != len(W) or not W:
        raise DataError("weights, biases and activations need one entry per layer")
    for k, (w, v) in enumerate(zip(W, b, strict=True)):
        if w.ndim != 2 or v.shape != (w.shape[1],):
            raise DataError(
                f"weights[{k}] must be (n_in, n_out) and biases[{k}] (n_out,), "
                f"got {w.shape} and {v.shape}"
            )
        if k and w.shape[0] != W[k - 1].shape[1]:
            raise DataError(f"weights[{k}] has {w.shape[0]} rows, expected "
                            f"{W[k - 1].shape[1]}")  # fmt: skip
    last = len(W) - 1
    for k, a in enumerate(activations[:last]):
        if _name(a) == "softmax":
            raise NetworkError(
                f"activations[{k}]: 'softmax' is for the last layer only "
                "(a softmax group is the outputs)"
            )
    softmax = _name(activations[last]) == "softmax"
    if softmax and W[last].shape[1] < 2:
        raise NetworkError(
            f"activations[{last}]: a softmax layer needs at least 2 units, "
            f"got {W[last].shape[1]}"
        )
    fs = [_formula(a, f"activations[{k}]") for k, a in enumerate(activations)]
    X = _matrix(X, "X", W[0].shape[0])
    Z = _matrix(Z, "Z", W[-1].shape[1], X.shape[0])
    outputs = [(f"the last layer, activations[{last}],", activations[last], [])]
    loss = _check_loss(loss, softmax, outputs, Z)
    learning_rate = _check_learning_rate(learning_rate)
    epochs = _check_count(epochs, "epochs")
    batch_size = _check_count(batch_size, "batch_size")

    losses = []
    for _ in range(epochs):
        for start in range(0, X.shape[0], batch_size):
            Xb, Zb = X[start : start + batch_size], Z[start : start + batch_size]
            layer_inputs, Es, Ys = [], [], []
            Y = Xb
            for w, v, (f, _df) in zip(W, b, fs, strict=True):
                layer_inputs.append(Y)
                Es.append(Y @ w + v)
                Y = f(Es[-1])
                Ys.append(Y)
            if softmax:  # over the units of each sample (a row)
                Y = Ys[last] = _softmax(Y.T).T
            losses.append(_loss(loss, softmax, Zb, Y))
            dY = (Y - Zb) / Xb.shape[0]  # ∂(mean E)/∂Y
            for k in reversed(range(len(W))):
                if k == last and loss == "cross_entropy":
                    dE = dY  # f' counts as 1: ∂(mean E)/∂E = (Y − Z)/B
                else:
                    dE = dY * fs[k][1](Es[k], Ys[k])
                dY = dE @ W[k].T
                W[k] = W[k] - learning_rate * (layer_inputs[k].T @ dE)
                b[k] = b[k] - learning_rate * dE.sum(axis=0)
    loss = np.concatenate(losses)
    loss.setflags(write=False)
    return W, b, loss

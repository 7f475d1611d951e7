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

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike, NDArray

from neurosim.errors import DataError, NetworkError

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


def _formula(activation: Any, where: str) -> _Formula:
    """``(f, f')`` of a built-in name or of a duck-typed activation object."""
    if isinstance(activation, str):
        if activation not in _BUILTIN:
            raise NetworkError(
                f"{where}: unknown activation {activation!r} "
                f"(expected one of {sorted(_BUILTIN)} or an object with "
                "name, function and derivative)"
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
    """What the general form needs of a graph, read once and never written."""

    inputs: list[Node]
    outputs: list[Node]
    order: list[Node]  # the non-input nodes, topologically sorted
    preds: dict[Node, list[Node]]  # predecessor order = order of the θ vector
    succs: dict[Node, list[Node]]
    formula: dict[Node, _Formula]
    edges: list[Edge]  # G.edges order: the order of every weights dict
    neurons: list[Node]  # non-input nodes in G.nodes order: every biases dict
    unbiased: frozenset  # neurons whose bias attribute is None: b = 0, untrained


def _read(
    G: nx.DiGraph, inputs: Sequence[Node] | None, outputs: Sequence[Node] | None
) -> tuple[_Net, dict[Edge, float], dict[Node, float]]:
    """The structure of ``G`` and copies of its weights and biases."""
    if not isinstance(G, nx.DiGraph) or not nx.is_directed_acyclic_graph(G):
        raise NetworkError("G must be a networkx.DiGraph without cycles")
    sources = [v for v in G.nodes if G.in_degree(v) == 0]
    inputs = sources if inputs is None else list(inputs)
    if len(set(inputs)) != len(inputs) or set(inputs) != set(sources):
        raise NetworkError(
            f"inputs must list each source of G once: {sources}, got {inputs}"
        )
    if outputs is None:
        outputs = [v for v in G.nodes if G.out_degree(v) == 0]
    outputs = list(outputs)
    bad = [v for v in outputs if v not in G or v in sources]
    if bad or len(set(outputs)) != len(outputs) or not outputs:
        raise NetworkError(
            "outputs must be distinct non-input nodes of G, at least one; "
            f"got {outputs}"
        )
    weights = {}
    for u, v, w in G.edges(data="weight"):
        if w is None or not np.isfinite(w):
            raise NetworkError(f"edge {(u, v)!r} needs a finite 'weight'")
        weights[u, v] = float(w)
    neurons = [v for v in G.nodes if G.in_degree(v) > 0]
    biases = {}
    unbiased = set()
    for v in neurons:
        bias = G.nodes[v].get("bias", 0.0)
        if bias is None:  # a neuron without bias
            unbiased.add(v)
            bias = 0.0
        biases[v] = float(bias)
        if not np.isfinite(biases[v]):
            raise NetworkError(f"node {v!r} has a non-finite bias")
    net = _Net(
        inputs=inputs,
        outputs=outputs,
        order=[v for v in nx.topological_sort(G) if G.in_degree(v) > 0],
        preds={v: list(G.predecessors(v)) for v in neurons},
        succs={v: list(G.successors(v)) for v in neurons},
        formula={
            v: _formula(G.nodes[v].get("activation", "sigmoid"), f"node {v!r}")
            for v in neurons
        },
        edges=list(weights),
        neurons=neurons,
        unbiased=frozenset(unbiased),
    )
    return net, weights, biases


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
    """e_v = Σ_u w_uv·y_u + b_v, y_v = f_v(e_v), in topological order."""
    y = {u: X[:, i] for i, u in enumerate(net.inputs)}
    fprime = {}
    for v in net.order:
        # every non-input node has a predecessor: the inputs are the sources
        e = sum(weights[u, v] * y[u] for u in net.preds[v]) + biases[v]
        f, df = net.formula[v]
        y[v] = f(e)
        fprime[v] = df(e, y[v])
    return _Forward(y, fprime)


def _loss(net: _Net, fwd: _Forward, Z: Array) -> Array:
    """E = ½ Σ_o (z_o − y_o)², one value per sample."""
    Y = np.column_stack([fwd.y[o] for o in net.outputs])
    return 0.5 * np.sum((Z - Y) ** 2, axis=1)


def _backward(
    net: _Net,
    weights: Mapping[Edge, float],
    fwd: _Forward,
    Z: Array,
    rule: str,
    feedback: Mapping[Edge, float] | None,
) -> dict[Node, Array]:
    """g_v = δ_v·f'_v(e_v) of every non-input node, by the given rule."""
    error = {o: Z[:, k] - fwd.y[o] for k, o in enumerate(net.outputs)}
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
        needed = [(u, v) for u, v in net.edges if u not in net.inputs]
    elif rule == "direct_feedback_alignment":
        hidden = [h for h in net.neurons if h not in net.outputs]
        needed = [(o, h) for o in net.outputs for h in hidden]
    else:
        return None
    feedback = {} if feedback is None else dict(feedback)
    missing = [k for k in needed if k not in feedback]
    unknown = [k for k in feedback if k not in set(needed)]
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
    """One optimizer over a flat parameter vector, with its persistent state.

    Every operation is elementwise, so one vector of all parameters gives the
    same numbers as one vector per neuron. The comments name the torch call
    each line reproduces (``torch/optim/{sgd,adagrad,adam}.py``,
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


# --- the general form: public functions ---


@dataclass(frozen=True, eq=False)
class ReferenceResult:
    """The parameters after training and the loss seen along the way.

    Attributes
    ----------
    weights : dict
        ``{(u, v): w}`` for every edge, in ``G.edges`` order.
    biases : dict
        ``{v: b}`` for every non-input node, in ``G.nodes`` order.
    loss : ndarray
        ``E`` of each sample in training order, epochs concatenated, each
        computed before its batch's update (read-only).
    """

    weights: dict[Edge, float]
    biases: dict[Node, float]
    loss: Array

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
        sinks in ``G.nodes`` order. ``outputs`` may name any non-input nodes.

    Returns
    -------
    ndarray, shape (n_samples, n_outputs)

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("x", "y", weight=2.0)
    >>> G.nodes["y"].update(activation="identity", bias=0.5)
    >>> predict(G, [[1.0], [3.0]])
    array([[2.5],
           [6.5]])
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

    Returns
    -------
    weights, biases : dict
        ``{(u, v): direction}`` and ``{v: direction}``.

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
    fwd = _forward(net, weights, biases, X)
    return _directions(net, fwd, _backward(net, weights, fwd, Z, rule, feedback))


def gradients(
    G: nx.DiGraph,
    X: ArrayLike,
    Z: ArrayLike,
    *,
    inputs: Sequence[Node] | None = None,
    outputs: Sequence[Node] | None = None,
) -> tuple[dict[Edge, float], dict[Node, float]]:
    """The exact gradient of the mean loss over ``X`` w.r.t. every parameter.

    ``∂L/∂w_uv = −mean(g_v·y_u)`` and ``∂L/∂b_v = −mean(g_v)`` with
    ``L = mean over samples of ½ Σ_o (z_o − y_o)²`` and ``g`` from backprop.
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
    """
    dw, db = update_directions(G, X, Z, rule="backprop", inputs=inputs, outputs=outputs)
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
) -> ReferenceResult:
    """Train a copy of the parameters of ``G`` the way the actors do.

    Batches are consecutive chunks of ``X`` (the last may be shorter), the
    same in every epoch. Each batch: forward, loss, backward by ``rule``,
    then every parameter steps at once with the gradient of the batch-mean
    loss (the negated direction of :func:`update_directions`). ``G``, ``X``
    and ``Z`` are left untouched.

    Parameters
    ----------
    G, X, Z, inputs, outputs, rule, feedback
        As in :func:`update_directions`.
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
        ``betas, eps, weight_decay, amsgrad``. The state is kept per
        parameter for the whole call.

    Returns
    -------
    ReferenceResult

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
    """
    net, weights, biases = _read(G, inputs, outputs)
    feedback = _check_rule(net, rule, feedback)
    lr, options = _check_optimizer(optimizer, learning_rate, optimizer_options)
    epochs = _check_count(epochs, "epochs")
    batch_size = _check_count(batch_size, "batch_size")
    X = _matrix(X, "X", len(net.inputs))
    Z = _matrix(Z, "Z", len(net.outputs), X.shape[0])

    opt = _Optimizer(optimizer, lr, options, len(weights) + len(biases))
    losses = []
    for _ in range(epochs):
        for start in range(0, X.shape[0], batch_size):
            Xb, Zb = X[start : start + batch_size], Z[start : start + batch_size]
            fwd = _forward(net, weights, biases, Xb)
            losses.append(_loss(net, fwd, Zb))
            g = _backward(net, weights, fwd, Zb, rule, feedback)
            dw, db = _directions(net, fwd, g)
            # θ = [weights in G.edges order, biases in G.nodes order]
            theta = np.array([*weights.values(), *biases.values()])
            # a neuron without bias gets a zero gradient: its b stays 0
            db_all = [0.0 if v in net.unbiased else db[v] for v in net.neurons]
            grad = -np.array([*dw.values(), *db_all])
            theta = opt.step(theta, grad).tolist()
            weights = dict(zip(net.edges, theta[: len(net.edges)], strict=True))
            biases = dict(zip(net.neurons, theta[len(net.edges) :], strict=True))
    loss = np.concatenate(losses)
    loss.setflags(write=False)
    biases = {v: b for v, b in biases.items() if v not in net.unbiased}
    return ReferenceResult(weights, biases, loss)


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
) -> tuple[list[Array], list[Array], Array]:
    """Backprop and SGD on a stack of affine layers, in matrix form.

    Layer ``k`` computes ``Y = f_k(X·W_k + b_k)``. Backward, with ``dY`` the
    gradient of the batch-mean loss w.r.t. a layer's output:
    ``dE = dY·f'(E)``, ``dX = dE·Wᵀ`` (old ``W``), ``dW = Xᵀ·dE``,
    ``db = Σ dE``, then ``W ← W − η·dW``, ``b ← b − η·db``.

    Parameters
    ----------
    weights : sequence of array_like, shapes (n_in, n_out)
    biases : sequence of array_like, shapes (n_out,)
    activations : sequence of str or activation objects, one per layer
    X : array_like, shape (n_samples, n_in of the first layer)
    Z : array_like, shape (n_samples, n_out of the last layer)
    learning_rate : float
    epochs, batch_size : int
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
    fs = [_formula(a, f"activations[{k}]") for k, a in enumerate(activations)]
    X = _matrix(X, "X", W[0].shape[0])
    Z = _matrix(Z, "Z", W[-1].shape[1], X.shape[0])
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
            losses.append(0.5 * np.sum((Zb - Y) ** 2, axis=1))
            dY = (Y - Zb) / Xb.shape[0]  # ∂(mean E)/∂Y
            for k in reversed(range(len(W))):
                dE = dY * fs[k][1](Es[k], Ys[k])
                dY = dE @ W[k].T
                W[k] = W[k] - learning_rate * (layer_inputs[k].T @ dE)
                b[k] = b[k] - learning_rate * dE.sum(axis=0)
    loss = np.concatenate(losses)
    loss.setflags(write=False)
    return W, b, loss

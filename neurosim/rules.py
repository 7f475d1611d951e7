"""Learning rules: what a neuron sends back, and what it learns from.

After the forward pass every neuron ``v`` holds ``δ_v`` (its target error if
it is an output, plus the sum of the error messages it received) and
``g_v = δ_v · f'_v(e_v)``. A rule decides three local things:

1. :meth:`Rule.feedback`: to which neurons ``v`` sends error messages and
   with which coefficient (``None`` meaning "the forward weight of that
   connection, before the update"). The receivers follow from it.
2. :meth:`Rule.backward_signal`: the signal multiplied by that coefficient
   (``g_v`` for exact backpropagation).
3. :meth:`Rule.update_signal`: the signal the neuron updates its own incoming
   weights with: ``Δw_uv ∝ mean(signal · y_u)``.

Writing your own rule means subclassing :class:`Rule`. The built-in
:class:`Backprop` is the model::

    class Backprop(Rule):
        name = "backprop"

        def feedback(self, topology):
            inputs = set(topology.inputs)
            return {
                v: tuple((u, None) for u in topology.predecessors[v] if u not in inputs)
                for v in topology.neurons
            }

        def backward_signal(self, delta, g):
            return g
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Article",
    "Backprop",
    "DirectFeedbackAlignment",
    "FeedbackAlignment",
    "Rule",
    "get_rule",
]

Node = Hashable
Array = NDArray[np.float64]
Routes = dict[Node, tuple[tuple[Node, float | None], ...]]


class Rule(ABC):
    """A local learning rule (see the module docstring)."""

    name: str = "rule"
    direct: bool = False
    """True when errors travel on channels of their own instead of back along
    the connections (traces then call those messages ``"feedback"``)."""

    @abstractmethod
    def feedback(self, topology) -> Routes:
        """Where each non-input neuron sends its error messages.

        Returns ``{v: ((target, coefficient), ...)}`` for every non-input
        neuron ``v``, targets being non-input neurons; ``coefficient`` is a
        fixed float, or ``None`` for the current weight of ``(target, v)``.
        """

    def backward_signal(self, delta: Array, g: Array) -> Array:
        """The signal sent back (times each coefficient); ``g`` by default."""
        return g

    def update_signal(self, delta: Array, g: Array) -> Array:
        """The signal a neuron updates its incoming weights with; ``g`` by default."""
        return g

    def feedback_weights(self, topology) -> dict[tuple[Node, Node], float]:
        """The fixed coefficients as ``{(sender, receiver): b}``.

        :class:`FeedbackAlignment` keys them by connection ``(u, v)`` instead
        (the error goes from ``v`` back to ``u``), as
        :func:`neurosim.reference.train` expects.
        """
        return {
            (v, u): b
            for v, routes in self.feedback(topology).items()
            for u, b in routes
            if b is not None
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(vars(self).items()))))


def _back_along_connections(topology, coefficient) -> Routes:
    inputs = set(topology.inputs)
    return {
        v: tuple(
            (u, coefficient(u, v)) for u in topology.predecessors[v] if u not in inputs
        )
        for v in topology.neurons
    }


class Backprop(Rule):
    """Exact backpropagation: ``w_uv · g_v`` goes back on each connection.

    Examples
    --------
    >>> Backprop().backward_signal(np.array([2.0]), np.array([0.5]))
    array([0.5])
    """

    name = "backprop"

    def feedback(self, topology) -> Routes:
        return _back_along_connections(topology, lambda u, v: None)


class Article(Backprop):
    """The article's literal rule: ``w_uv · δ_v`` goes back, without ``f'(e_v)``.

    Exact for identity neurons only; the update still uses ``g_v``.

    Examples
    --------
    >>> Article().backward_signal(np.array([2.0]), np.array([0.5]))
    array([2.])
    """

    name = "article"

    def backward_signal(self, delta: Array, g: Array) -> Array:
        return delta


def _uniform(rng: np.random.Generator, fan: int, scale: float | None) -> float:
    bound = 1.0 / np.sqrt(fan) if scale is None else scale
    return float(rng.uniform(-bound, bound))


class FeedbackAlignment(Rule):
    """Feedback alignment (Lillicrap et al., 2016).

    The error travels back on each connection ``u -> v`` through a fixed
    random weight ``B_uv`` instead of ``w_uv``. The ``B`` are drawn once from
    `seed`, uniform in ``±scale`` (by default ``±1/sqrt(fan_in of v)``, the
    range of :func:`neurosim.layered`'s weights), in the network's edge order.

    Examples
    --------
    >>> import neurosim
    >>> topology = neurosim.graph.validate(neurosim.layered([2, 2, 1]))
    >>> sorted(FeedbackAlignment(seed=1).feedback_weights(topology))
    [('h1', 'o1'), ('h2', 'o1')]
    """

    name = "feedback_alignment"

    def __init__(self, seed: int = 0, scale: float | None = None):
        self.seed = seed
        self.scale = scale

    def feedback(self, topology) -> Routes:
        rng = np.random.default_rng(self.seed)
        fan = {v: len(topology.predecessors[v]) for v in topology.neurons}
        return _back_along_connections(
            topology, lambda u, v: _uniform(rng, fan[v], self.scale)
        )

    def feedback_weights(self, topology) -> dict[tuple[Node, Node], float]:
        return {(u, v): b for (v, u), b in super().feedback_weights(topology).items()}

    def __repr__(self) -> str:
        return f"FeedbackAlignment(seed={self.seed}, scale={self.scale})"


class DirectFeedbackAlignment(Rule):
    """Direct feedback alignment (Nøkland, 2016).

    Every output ``o`` sends ``B_oh · g_o`` straight to every hidden neuron
    ``h`` (non-input, non-output) on a channel of its own; hidden neurons
    send nothing back. ``B`` is drawn once from `seed`, uniform in ``±scale``
    (default ``±1/sqrt(number of outputs)``).

    Examples
    --------
    >>> import neurosim
    >>> topology = neurosim.graph.validate(neurosim.layered([2, 2, 1]))
    >>> sorted(DirectFeedbackAlignment().feedback_weights(topology))
    [('o1', 'h1'), ('o1', 'h2')]
    """

    name = "direct_feedback_alignment"
    direct = True

    def __init__(self, seed: int = 0, scale: float | None = None):
        self.seed = seed
        self.scale = scale

    def feedback(self, topology) -> Routes:
        rng = np.random.default_rng(self.seed)
        outputs = set(topology.outputs)
        hidden = [v for v in topology.neurons if v not in outputs]
        n_out = len(topology.outputs)
        routes: Routes = {v: () for v in topology.neurons}
        for o in topology.outputs:
            routes[o] = tuple((h, _uniform(rng, n_out, self.scale)) for h in hidden)
        return routes

    def __repr__(self) -> str:
        return f"DirectFeedbackAlignment(seed={self.seed}, scale={self.scale})"


RULES: dict[str, type[Rule]] = {
    cls.name: cls
    for cls in (Backprop, Article, FeedbackAlignment, DirectFeedbackAlignment)
}


def get_rule(spec: str | Rule) -> Rule:
    """Return the rule named by `spec`, or `spec` itself if it is a :class:`Rule`.

    Examples
    --------
    >>> get_rule("article")
    Article()
    >>> get_rule("Feedback alignment")
    FeedbackAlignment(seed=0, scale=None)
    """
    if isinstance(spec, Rule):
        return spec
    if isinstance(spec, str):
        name = spec.strip().lower().replace("-", "_").replace(" ", "_")
        if name in RULES:
            return RULES[name]()
    known = ", ".join(repr(k) for k in RULES)
    raise ValueError(
        f"unknown rule {spec!r}; use one of {known} or a neurosim.rules.Rule"
    )

"""Activation functions ``y = f(e)`` and their derivatives ``f'(e)``.

A neuron's activation is data: an :class:`Activation` holds the function and
its derivative. The derivative receives both ``e`` and ``y = f(e)`` because
several derivatives are cheapest from ``y`` (sigmoid: ``y(1 - y)``).

Writing your own takes one line:

>>> import numpy as np
>>> softplus = Activation(
...     "softplus",
...     function=lambda e: np.log1p(np.exp(e)),
...     derivative=lambda e, y: 1.0 / (1.0 + np.exp(-e)),
... )
>>> float(softplus.function(np.array([0.0]))[0])
0.6931471805599453

Use it as a node attribute: ``G.nodes["h1"]["activation"] = softplus``. To
save a network that uses it (:meth:`neurosim.Network.save`), pickle it or
write its :meth:`~neurosim.Network.to_graph` as GraphML, give it a name with
:func:`register_activation` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "get_activation",
    "register_activation",
    "registered_name",
]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Activation:
    """An activation function and its derivative, both vectorised over arrays.

    Parameters
    ----------
    name : str
        How the activation is shown in reprs, plots and traces.
    function : callable
        ``function(e) -> y``, elementwise on a float64 array.
    derivative : callable
        ``derivative(e, y) -> f'(e)``, elementwise; ``y`` is ``function(e)``.

    Examples
    --------
    >>> import numpy as np
    >>> ACTIVATIONS["sigmoid"].derivative(np.zeros(1), np.full(1, 0.5))
    array([0.25])
    """

    name: str
    function: Callable[[Array], Array]
    derivative: Callable[[Array, Array], Array]

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"

    def __reduce__(self):
        # A registered activation pickles by name: its functions may be lambdas.
        if registered_name(self) == self.name:
            return (get_activation, (self.name,))
        return (Activation, (self.name, self.function, self.derivative))


def _sigmoid(e: Array) -> Array:
    with np.errstate(over="ignore"):  # exp(-e) = inf for e < -709 gives y = 0
        return 1.0 / (1.0 + np.exp(-e))


# Module-level functions, not lambdas, so that activations (and so networks)
# can be pickled.
def _identity(e: Array) -> Array:
    return e


def _ones(e: Array, y: Array) -> Array:
    return np.ones_like(e)


def _sigmoid_derivative(e: Array, y: Array) -> Array:
    return y * (1.0 - y)


def _tanh_derivative(e: Array, y: Array) -> Array:
    return 1.0 - y * y


def _relu(e: Array) -> Array:
    return np.maximum(e, 0.0)


def _relu_derivative(e: Array, y: Array) -> Array:
    return (e > 0.0).astype(float)


def _softmax(e: Array) -> Array:
    """Softmax over axis 0: one row per output of the group, in output order.

    ``m = max e``, then ``exp(e − m) / Σ exp(e − m)``, the sum over the rows
    in their order (so every output that computes it gets the same numbers).
    """
    shifted = np.exp(e - e.max(axis=0))
    return shifted / np.add.reduce(shifted, axis=0)


ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation("identity", _identity, _ones),
    "sigmoid": Activation("sigmoid", _sigmoid, _sigmoid_derivative),
    "tanh": Activation("tanh", np.tanh, _tanh_derivative),
    "relu": Activation("relu", _relu, _relu_derivative),
    # Not elementwise: its function takes the e of the whole softmax group,
    # one row per output, which the outputs exchange as messages. Its
    # derivative counts as 1: a softmax group trains with cross-entropy, whose
    # δ = z − y is already the derivative of the loss with respect to e.
    "softmax": Activation("softmax", _softmax, _ones),
}
"""The activations known by name: the built-in ones, then those registered
with :func:`register_activation`."""

_BUILT_IN = frozenset(ACTIVATIONS)


def register_activation(
    name: str,
    function: Callable[[Array], Array],
    derivative: Callable[[Array, Array], Array],
) -> Activation:
    """Make a custom activation known by `name`, and return it.

    A registered activation can be given by name (``activation="softplus"``),
    is written by name in :meth:`neurosim.Network.to_graph`, in a saved
    network (:meth:`neurosim.Network.save`) and in a pickle, and is found
    again by name when they are read back: register it (with the same
    functions) in every program that loads such a network, before loading.

    Raises
    ------
    ValueError
        If `name` is not a non-empty string, if a function is not callable,
        or if `name` is built in or already registered with other functions.

    Examples
    --------
    >>> import numpy as np
    >>> softplus = register_activation(
    ...     "softplus",
    ...     lambda e: np.log1p(np.exp(e)),
    ...     lambda e, y: 1.0 / (1.0 + np.exp(-e)),
    ... )
    >>> get_activation("softplus") is softplus
    True
    """
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"an activation's name must be a non-empty string, got {name!r}"
        )
    for what, f in (("function", function), ("derivative", derivative)):
        if not callable(f):
            raise ValueError(f"activation {name!r}: {what} {f!r} is not callable")
    activation = Activation(name, function, derivative)
    known = ACTIVATIONS.get(name)
    if known is not None and (name in _BUILT_IN or known != activation):
        what = "a built-in activation" if name in _BUILT_IN else "already registered"
        raise ValueError(f"activation {name!r} is {what}; choose another name")
    return ACTIVATIONS.setdefault(name, activation)


def registered_name(activation: object) -> str | None:
    """The name `activation` is known by (see :func:`register_activation`), if any.

    Examples
    --------
    >>> registered_name(ACTIVATIONS["tanh"]), registered_name("tanh")
    ('tanh', 'tanh')
    """
    if isinstance(activation, str):
        return activation if activation in ACTIVATIONS else None
    name = getattr(activation, "name", None)
    if isinstance(name, str) and ACTIVATIONS.get(name) == activation:
        return name
    return None


def get_activation(spec: str | Activation) -> Activation:
    """Return the :class:`Activation` named by `spec` (or `spec` itself).

    Raises
    ------
    ValueError
        If `spec` is neither a known name nor an activation-like object.

    Examples
    --------
    >>> get_activation("tanh")
    Activation('tanh')
    """
    if isinstance(spec, str):
        try:
            return ACTIVATIONS[spec]
        except KeyError:
            known = ", ".join(repr(k) for k in ACTIVATIONS)
            raise ValueError(
                f"unknown activation {spec!r}; use one of {known} "
                "or a neurosim.Activation"
            ) from None
    if all(hasattr(spec, a) for a in ("name", "function", "derivative")):
        return spec
    raise ValueError(
        f"activation {spec!r} is neither a name nor an object with "
        "'name', 'function' and 'derivative'"
    )

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

Use it as a node attribute: ``G.nodes["h1"]["activation"] = softplus``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["ACTIVATIONS", "Activation", "get_activation"]

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


def _sigmoid(e: Array) -> Array:
    with np.errstate(over="ignore"):  # exp(-e) = inf for e < -709 gives y = 0
        return 1.0 / (1.0 + np.exp(-e))


ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation("identity", lambda e: e, lambda e, y: np.ones_like(e)),
    "sigmoid": Activation("sigmoid", _sigmoid, lambda e, y: y * (1.0 - y)),
    "tanh": Activation("tanh", np.tanh, lambda e, y: 1.0 - y * y),
    "relu": Activation(
        "relu", lambda e: np.maximum(e, 0.0), lambda e, y: (e > 0.0).astype(float)
    ),
}
"""The built-in activations by name."""


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

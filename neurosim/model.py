"""A neuron's data and its mathematics, apart from any event loop.

The article's three formulas, one small function each, over the neuron's own
data (:class:`NeuronState`) and what its messages brought:

1. :func:`forward`: the adder and the nonlinear element,
   ``e = Σ w·y + b``, ``y = f(e)``; at an output of a softmax group the
   adder alone (:func:`weighted_sum`), then, once the ``e`` of every output
   of the group has come as messages, :func:`softmax`;
2. :func:`delta`: the error, ``δ = [output]·(z − y) + Σ received``, and
   ``g = δ·f'(e)``;
3. :func:`gradient`: the gradient of the batch-mean loss with respect to the
   neuron's own parameters, ``∂L/∂w_u = −mean(u·y_u)``, ``∂L/∂b = −mean(u)``,
   which its optimizer applies.

:mod:`neurosim.neuron` decides *when* these run; nothing here knows about
time, messages or trio.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "NeuronState",
    "delta",
    "forward",
    "gradient",
    "softmax",
    "summed_errors",
    "weighted_sum",
]

Array = NDArray[np.float64]


@dataclass(eq=False)
class NeuronState:
    """What a neuron owns: its activation and the parameters of its inputs.

    ``params`` is ``[w_1, ..., w_n, b]``: the weights of the incoming
    connections in predecessor order, then the bias (a weight on a constant
    input of 1, as for the article's perceptron). A neuron without bias keeps
    ``b = 0``.
    """

    name: Hashable
    activation: Any
    params: Array
    optimizer_state: object = None
    has_bias: bool = True  # False: b stays 0 and is never trained

    @property
    def weights(self) -> Array:
        return self.params[:-1]

    @property
    def bias(self) -> float:
        return float(self.params[-1])


def forward(params: Array, x: Array, f: Any) -> tuple[Array, Array]:
    """``e = Σ w·x + b`` and ``y = f(e)``; `x` holds one input per row.

    Examples
    --------
    >>> from neurosim.activations import ACTIVATIONS
    >>> e, y = forward(
    ...     np.array([1.5, 2.0, 0.0]),
    ...     np.array([[1.0], [1.5]]),
    ...     ACTIVATIONS["identity"].function,
    ... )
    >>> e, y
    (array([4.5]), array([4.5]))
    """
    e = weighted_sum(params, x)
    return e, f(e)


def weighted_sum(params: Array, x: Array) -> Array:
    """The adder alone: ``e = Σ w·x + b``; `x` holds one input per row.

    Examples
    --------
    >>> weighted_sum(np.array([1.5, 2.0, 0.5]), np.array([[1.0], [1.5]]))
    array([5.])
    """
    e = params[:-1] @ x
    e += params[-1]  # in place: one fresh array fewer per step
    return e


def softmax(group: Array, rank: int, f: Any) -> Array:
    """``y`` of output number `rank` of a softmax group, from the group's ``e``.

    `group` holds one row per output of the group, in output order (the
    ``e`` that came as messages, and the output's own at `rank`); `f` is the
    softmax activation, ``exp(e − max e) / Σ exp(e − max e)`` over the rows.
    Every output computes it from the same rows in the same order, so the
    outputs agree bit for bit about the sum.

    Examples
    --------
    >>> from neurosim.activations import ACTIVATIONS
    >>> e = np.array([[0.0], [np.log(3.0)]])
    >>> softmax(e, 1, ACTIVATIONS["softmax"].function)
    array([0.75])
    """
    return f(group)[rank]


def summed_errors(values: Array, vectors: Array | None = None) -> Array:
    """``Σ received``, in the order of the senders (never of arrival).

    Online, `values` are the messages ``coefficient·signal``. In mini-batch
    training `values` are the coefficients and `vectors` the signals, one row
    per sender, and the sum is ``coefficients @ vectors``.

    Examples
    --------
    >>> summed_errors(np.array([0.5, -2.0]))
    array([-1.5])
    """
    if vectors is None:  # one by one in sender order (a column, not pairwise)
        return np.add.reduce(values.reshape(-1, 1), axis=0)
    return values @ vectors


def delta(
    received: Array | None,
    size: int,
    target: Array | float | None,
    y: Array,
) -> Array:
    """``δ = [output]·(z − y) + Σ received`` (`received` from :func:`summed_errors`).

    Examples
    --------
    >>> delta(np.array([0.25]), 1, 2.5, np.array([8.275]))
    array([-5.525])
    """
    d = np.zeros(size) if received is None else received
    if target is not None:
        d = (target - y) + d
    return d


def gradient(x: Array, u: Array, size: int, has_bias: bool) -> Array:
    """``[∂L/∂w_1 … ∂L/∂w_n, ∂L/∂b]`` of the batch-mean loss.

    `x` holds the inputs of the forward step (one row per input), `u` the
    rule's update signal (``g`` for every built-in rule).

    Examples
    --------
    >>> gradient(np.array([[4.5], [5.75]]), np.array([-5.775]), 1, has_bias=False)
    array([25.9875 , 33.20625,  0.     ])
    """
    grad = np.empty(len(x) + 1)
    if size == 1:  # one product per entry: the same numbers as the matmul below
        minus_u = -u[0]
        np.multiply(x[:, 0], minus_u, out=grad[:-1])
        grad[-1] = minus_u
    else:
        np.matmul(x, u, out=grad[:-1])
        grad[-1] = u.sum()
        grad /= -size
    if not has_bias:
        grad[-1] = 0.0  # keeps b at exactly 0 under every optimizer
    return grad

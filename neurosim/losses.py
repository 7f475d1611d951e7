"""What training minimises: the squared error, or cross-entropy.

A loss decides two things: the number ``E`` of each sample that
:attr:`neurosim.History.loss` reports, and the error ``δ`` that an output
neuron starts the backward pass with. Both losses give an output the same
``δ = z − y``; they differ in what it is multiplied by:

- ``"squared"``: ``E = ½ Σ (z − y)²`` over the outputs, and an output's
  ``g = δ·f'(e)``, as in the article;
- ``"cross_entropy"``: with a softmax group, ``E = −Σ z·log y``; with
  sigmoid outputs, binary cross-entropy per output,
  ``E = −Σ [z·log y + (1 − z)·log(1 − y)]``. Then ``−∂E/∂e = z − y``
  exactly: the loss's derivative cancels the activation's, so an output's
  ``f'(e)`` counts as 1 and ``g = δ``.

Each ``log`` is clamped at −100, as PyTorch's ``BCELoss`` clamps it, so that
an output of exactly 0 or 1 (a saturated sigmoid) gives a finite loss.

Examples
--------
>>> import numpy as np
>>> Z, Y = np.array([[0.0, 1.0]]), np.array([[0.25, 0.75]])
>>> sample_losses("squared", Z, Y)
array([0.0625])
>>> sample_losses("cross_entropy", Z, Y, softmax=True)  # −log 0.75
array([0.28768207])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["LOSSES", "resolve_loss", "sample_losses"]

Array = NDArray[np.float64]

#: The losses known by name.
LOSSES: tuple[str, ...] = ("squared", "cross_entropy")

_LOG_FLOOR = -100.0


def _log(y: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.maximum(np.log(y), _LOG_FLOOR)


def sample_losses(name: str, Z: Array, Y: Array, softmax: bool = False) -> Array:
    """The loss ``E`` of each sample (row) of outputs `Y` against targets `Z`.

    Parameters
    ----------
    name : {"squared", "cross_entropy"}
        The loss.
    Z, Y : ndarray, shape (n_samples, n_outputs)
        Targets and outputs.
    softmax : bool
        Whether the outputs are a softmax group (cross-entropy over the
        group) rather than independent sigmoids (binary cross-entropy).

    Examples
    --------
    >>> import numpy as np
    >>> sample_losses("cross_entropy", np.array([[1.0]]), np.array([[0.5]]))
    array([0.69314718])
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if name == "squared":
            return 0.5 * ((Z - Y) ** 2).sum(axis=1)
        if softmax:
            return -(Z * _log(Y)).sum(axis=1)
        return -(Z * _log(Y) + (1.0 - Z) * _log(1.0 - Y)).sum(axis=1)


def resolve_loss(
    spec: str | None, activations: Sequence[str], outputs: Sequence[object]
) -> str:
    """The name of the loss `spec` asks for, for outputs of these activations.

    ``None`` is ``"cross_entropy"`` for a softmax group and ``"squared"``
    otherwise.

    Raises
    ------
    ValueError
        For an unknown name, the squared loss on a softmax group, or
        cross-entropy on an output that is neither softmax nor sigmoid.

    Examples
    --------
    >>> resolve_loss(None, ["softmax", "softmax"], ["o1", "o2"])
    'cross_entropy'
    >>> resolve_loss(None, ["sigmoid"], ["o1"])
    'squared'
    """
    softmax = bool(activations) and activations[0] == "softmax"
    if spec is None:
        return "cross_entropy" if softmax else "squared"
    if not isinstance(spec, str) or spec not in LOSSES:
        raise ValueError(
            f"unknown loss {spec!r}; use one of {', '.join(map(repr, LOSSES))}"
        )
    if spec == "squared" and softmax:
        raise ValueError(
            "a softmax group trains with loss='cross_entropy' (or loss=None), "
            "not loss='squared'"
        )
    if spec == "cross_entropy" and not softmax:
        for name, node in zip(activations, outputs, strict=True):
            if name != "sigmoid":
                raise ValueError(
                    f"loss='cross_entropy' needs sigmoid outputs or a softmax "
                    f"group; output {node!r} has activation {name!r}"
                )
    return spec

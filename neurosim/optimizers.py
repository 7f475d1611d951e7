"""Local optimizers: how one neuron updates the parameters of its own inputs.

Each neuron owns one parameter vector ``θ = [w_1 … w_n, b]`` (the weights of
its incoming connections in predecessor order, then its bias) and, once per
iteration, the gradient of the batch-mean loss with respect to ``θ``. An
optimizer turns that gradient into an update, using a little state of its own
(a momentum buffer, running averages...) that the neuron keeps between
iterations. Nothing is shared between neurons: every update is local.

The built-in optimizers follow PyTorch's single-tensor (``foreach=False``)
implementations of ``torch.optim.SGD``, ``Adagrad`` and ``Adam`` operation by
operation in float64, so that a neuron's parameters can be checked against
PyTorch's (see "Agreement with PyTorch" below):

==============  ==========================================================
name            class
==============  ==========================================================
``"sgd"``       :class:`SGD` (``torch.optim.SGD(lr)``)
``"momentum"``  :class:`Momentum` (``torch.optim.SGD(lr, momentum=0.9)``)
``"adagrad"``   :class:`Adagrad` (``torch.optim.Adagrad``)
``"adam"``      :class:`Adam` (``torch.optim.Adam``)
==============  ==========================================================

:func:`get_optimizer` turns a name into an optimizer with default
hyperparameters. Optimizers are frozen dataclasses: equal when their
hyperparameters are, with a ``repr`` that recreates them.

Agreement with PyTorch
----------------------
Two details of PyTorch's CPU arithmetic matter at the last bit.

*Fused multiply-adds.* PyTorch's kernels for ``add(..., alpha=)``,
``addcmul`` and ``lerp`` are compiled with fused multiply-adds on CPUs that
have them (x86-64 with AVX2 or AVX-512, ARM64): ``p.add_(g, alpha=-lr)``
rounds ``p - lr·g`` once, not twice. By default neurosim's optimizers round
the product first, like a hand calculation in Python, like
:mod:`neurosim.reference`, and like PyTorch with
``ATEN_CPU_CAPABILITY=default``; this is also several times faster. With
``fused_multiply_add=True`` they emulate a correctly rounded FMA wherever
PyTorch fuses (Dekker's exact product, Knuth's exact sum and a rounding to
odd, after Boldo and Melquiond, 2008), exact for finite values whose products
stay above about 1e-290 and below 1e300 in magnitude: use it to compare with
PyTorch on such a CPU to the last bit.

*Square roots.* PyTorch computes a float64 ``sqrt`` on CPU with MKL's vdSqrt,
which is not correctly rounded: on about 1% of inputs (the share depends on
the CPU) it returns the float just below numpy's (correctly rounded) result.

So, with the matching ``fused_multiply_add``, :class:`SGD` and
:class:`Momentum` agree with PyTorch bit for bit;
:class:`Adagrad` and :class:`Adam` agree bit for bit wherever PyTorch's square
roots are correctly rounded, and otherwise differ in the last bits only.

Writing your own optimizer
--------------------------
A neuron needs only this from its optimizer (:class:`Optimizer` is the
abstract base class; any object with these members works):

``learning_rate: float``
    The step size, shown in reports.
``init_state(size) -> object``
    Fresh state for one parameter vector of ``size`` entries. Called once per
    neuron; the neuron keeps what it returns across batches, epochs and
    ``train()`` calls.
``step(params, grad, state) -> None``
    Update ``params`` (a 1-D float64 array, ``θ``) **in place** from ``grad``
    (the gradient of the batch-mean loss with respect to ``θ``, not to be
    modified), mutating ``state`` as needed. It runs once per neuron per
    batch, so it should stay cheap: whole-array numpy operations, no Python
    loop over the entries.

Give it a ``__repr__`` and an ``__eq__`` on its hyperparameters (a frozen
dataclass does both), so that a network can tell whether its optimizer changed
between two ``train()`` calls. For example, sign descent:

>>> from dataclasses import dataclass
>>> import numpy as np
>>> from neurosim.optimizers import Optimizer
>>> @dataclass(frozen=True)
... class SignSGD(Optimizer):
...     learning_rate: float = 0.01
...
...     def init_state(self, size):
...         return None  # nothing to remember between steps
...
...     def step(self, params, grad, state):
...         params -= self.learning_rate * np.sign(grad)
>>> optimizer = SignSGD()
>>> theta = np.array([0.5, -0.5, 0.25])  # two weights, then the bias
>>> optimizer.step(theta, np.array([2.0, -3.0, 0.0]), optimizer.init_state(3))
>>> theta
array([ 0.49, -0.49,  0.25])
>>> optimizer
SignSGD(learning_rate=0.01)
"""

from __future__ import annotations

import abc
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "SGD",
    "Adagrad",
    "AdagradState",
    "Adam",
    "AdamState",
    "Momentum",
    "Optimizer",
    "SGDState",
    "get_optimizer",
]


class Optimizer(abc.ABC):
    """A local optimizer: updates one neuron's parameter vector in place.

    Subclasses set ``learning_rate`` and implement :meth:`init_state` and
    :meth:`step` (see "Writing your own optimizer" in the module docstring).
    """

    learning_rate: float

    @abc.abstractmethod
    def init_state(self, size: int) -> object:
        """Return fresh state for one parameter vector of ``size`` entries."""

    @abc.abstractmethod
    def step(
        self, params: NDArray[np.float64], grad: NDArray[np.float64], state: object
    ) -> None:
        """Update ``params`` in place from ``grad``; mutate ``state``."""


# -- state --------------------------------------------------------------------


def _copy_state(state, memo=None):
    """A deep copy of an optimizer state: its arrays copied, the rest shared.

    ``copy.deepcopy`` of these small dataclasses costs tens of µs through the
    generic machinery; a network of 100,000 neurons snapshots them all before
    every ``train`` call (to roll back on failure).
    """
    new = object.__new__(type(state))
    for name, value in vars(state).items():
        setattr(new, name, value.copy() if isinstance(value, np.ndarray) else value)
    return new


@dataclass(eq=False)
class SGDState:
    """What :class:`SGD` remembers for one neuron.

    ``momentum_buffer`` stays ``None`` until the first step with momentum
    (PyTorch's ``state["momentum_buffer"]``).
    """

    momentum_buffer: NDArray[np.float64] | None = None

    __deepcopy__ = _copy_state


@dataclass(eq=False)
class AdagradState:
    """What :class:`Adagrad` remembers for one neuron.

    ``step`` counts the steps taken and ``sum`` accumulates the squared
    gradients (PyTorch's ``state["step"]`` and ``state["sum"]``).
    """

    step: int
    sum: NDArray[np.float64]

    __deepcopy__ = _copy_state


@dataclass(eq=False)
class AdamState:
    """What :class:`Adam` remembers for one neuron.

    ``step`` counts the steps taken; ``exp_avg`` and ``exp_avg_sq`` are the
    running averages of the gradient and of its square; ``max_exp_avg_sq``,
    with ``amsgrad`` only, the running maximum of ``exp_avg_sq`` (the same
    names as in PyTorch's ``state``).
    """

    step: int
    exp_avg: NDArray[np.float64]
    exp_avg_sq: NDArray[np.float64]
    max_exp_avg_sq: NDArray[np.float64] | None = None

    __deepcopy__ = _copy_state


# -- fused multiply-add -------------------------------------------------------

_SPLITTER = 134217729.0  # 2**27 + 1: Veltkamp's constant for float64


def _split(x):
    """Split ``x`` into ``hi + lo`` with 26-bit halves (Veltkamp)."""
    t = x * _SPLITTER
    hi = t - (t - x)
    return hi, x - hi


def _fma(a, b, c) -> NDArray[np.float64]:
    """Return ``a * b + c`` rounded once, as a new array.

    ``b`` and ``c`` are 1-D float64 arrays, ``a`` one too or a Python float.
    Call inside ``np.errstate(all="ignore")``: intermediate values may
    overflow where the result does not.
    """
    # Dekker: p + e == a * b exactly.
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    e = al * bl - (((p - ah * bh) - al * bh) - ah * bl)
    # Knuth's TwoSum: s + t == c + p exactly.
    s = c + p
    z = s - c
    t = (c - (s - z)) + (p - z)
    # u = t + e rounded to odd, so that the last rounding s + u cannot
    # round a second time in the wrong direction (Boldo & Melquiond).
    u = t + e
    z = u - t
    r = (t - (u - z)) + (e - z)
    inexact_even = np.greater(r != 0, u.view(np.int64) & 1)
    np.nextafter(u, np.copysign(np.inf, r), out=u, where=inexact_even)
    # s + u, keeping s where u == 0: s + (+0) would turn a -0 into +0.
    np.add(s, u, out=s, where=u != 0)
    if not math.isfinite(s.sum()):
        # An infinity or a NaN (or an overflow inside the emulation): the
        # plain formula gives the fused result there, except for a product
        # that overflows against an infinite c.
        plain = a * b + c
        plain = np.where(np.isinf(c) & np.isfinite(a) & np.isfinite(b), c, plain)
        np.copyto(s, plain, where=~np.isfinite(s))
    return s


# PyTorch's float64 sqrt is MKL's vdSqrt (high-accuracy mode, not correctly
# rounded; see the module docstring). Every square root goes through this
# name, so that a test can swap in torch.sqrt and check that all the other
# operations agree with PyTorch bit for bit.
_sqrt = np.sqrt


def _mul_add(a, b, c, fused: bool) -> NDArray[np.float64]:
    """``a * b + c`` as a new array: one rounding if ``fused``, else two."""
    return _fma(a, b, c) if fused else a * b + c


# -- validation ---------------------------------------------------------------


def _real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def _positive(name: str, value: object) -> float:
    value = _real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return value


def _non_negative(name: str, value: object) -> float:
    value = _real(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_size(size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    return int(size)


def _set(optimizer: Optimizer, name: str, value: object) -> None:
    """Store a validated hyperparameter on a frozen dataclass."""
    object.__setattr__(optimizer, name, value)


# -- the optimizers -----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum and weight decay.

    PyTorch's ``_single_tensor_sgd``: with ``g`` the gradient,

    - ``g ← g + weight_decay·θ`` if ``weight_decay`` is not 0;
    - with momentum: ``buf ← g`` on the first step, then
      ``buf ← momentum·buf + (1 − dampening)·g``; ``g ← g + momentum·buf``
      (Nesterov) or ``g ← buf``;
    - ``θ ← θ − learning_rate·g``.

    Parameters
    ----------
    learning_rate : float
        The step size, positive.
    momentum, dampening : float
        Momentum factor (>= 0, 0 turns momentum off) and its dampening (in
        [0, 1]).
    nesterov : bool
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
    weight_decay : float
        L2 penalty (>= 0).
    fused_multiply_add : bool
        Round ``a·b + c`` once where PyTorch fuses it (see the module
        docstring).

    Examples
    --------
    >>> import numpy as np
    >>> theta = np.array([1.0, -2.0, 0.5])
    >>> sgd = SGD(learning_rate=0.5)
    >>> sgd.step(theta, np.array([1.0, 2.0, -1.0]), sgd.init_state(3))
    >>> theta
    array([ 0.5, -3. ,  1. ])
    """

    learning_rate: float = 0.1
    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    fused_multiply_add: bool = False

    def __post_init__(self) -> None:
        _set(self, "learning_rate", _positive("learning_rate", self.learning_rate))
        _set(self, "momentum", _non_negative("momentum", self.momentum))
        dampening = _real("dampening", self.dampening)
        if not 0 <= dampening <= 1:
            raise ValueError(f"dampening must be in [0, 1], got {dampening!r}")
        _set(self, "dampening", dampening)
        _set(self, "nesterov", _flag("nesterov", self.nesterov))
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                "nesterov=True requires momentum > 0 and dampening == 0, got "
                f"momentum={self.momentum!r}, dampening={self.dampening!r}"
            )
        _set(self, "weight_decay", _non_negative("weight_decay", self.weight_decay))
        _set(
            self,
            "fused_multiply_add",
            _flag("fused_multiply_add", self.fused_multiply_add),
        )

    def _hyperparameters(self) -> tuple:
        return (
            self.learning_rate,
            self.momentum,
            self.dampening,
            self.nesterov,
            self.weight_decay,
            self.fused_multiply_add,
        )

    # SGD(momentum=0.9) and Momentum() are the same optimizer.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SGD):
            return NotImplemented
        return self._hyperparameters() == other._hyperparameters()

    def __hash__(self) -> int:
        return hash((SGD, self._hyperparameters()))

    def init_state(self, size: int) -> SGDState:
        _check_size(size)
        return SGDState()

    def step(
        self, params: NDArray[np.float64], grad: NDArray[np.float64], state: SGDState
    ) -> None:
        fused = self.fused_multiply_add
        with np.errstate(all="ignore"):
            g = grad
            if self.weight_decay != 0:
                g = _mul_add(self.weight_decay, params, g, fused)
            if self.momentum != 0:
                buf = state.momentum_buffer
                if buf is None:
                    buf = state.momentum_buffer = g.copy()
                else:
                    buf *= self.momentum
                    if self.dampening == 0:  # alpha 1: a plain sum either way
                        buf += g
                    else:
                        buf[...] = _mul_add(1 - self.dampening, g, buf, fused)
                g = _mul_add(self.momentum, buf, g, fused) if self.nesterov else buf
            if fused:
                params[...] = _fma(-self.learning_rate, g, params)
            else:  # a·b + c in place: the same two roundings, no temporaries
                step = np.multiply(g, -self.learning_rate)
                params += step


@dataclass(frozen=True, eq=False)
class Momentum(SGD):
    """:class:`SGD` with momentum 0.9 by default (the ``"momentum"`` name).

    Examples
    --------
    >>> Momentum() == SGD(momentum=0.9)
    True
    """

    momentum: float = 0.9


@dataclass(frozen=True)
class Adagrad(Optimizer):
    """Adagrad: per-entry steps shrinking with the sum of squared gradients.

    PyTorch's ``_single_tensor_adagrad``: at step ``t`` (from 1),

    - ``g ← g + weight_decay·θ`` if ``weight_decay`` is not 0;
    - ``clr = learning_rate / (1 + (t − 1)·lr_decay)``;
    - ``sum ← sum + g·g`` (``sum`` starts at ``initial_accumulator_value``);
    - ``θ ← θ − clr·g / (√sum + eps)``.

    Parameters
    ----------
    learning_rate : float
        The step size, positive.
    lr_decay : float
        Decay of the step size with the number of steps (>= 0).
    weight_decay : float
        L2 penalty (>= 0).
    initial_accumulator_value : float
        Where ``sum`` starts (>= 0).
    eps : float
        Added to the denominator (> 0).
    fused_multiply_add : bool
        Round ``a·b + c`` once where PyTorch fuses it (see the module
        docstring).

    Examples
    --------
    The first step from a zero accumulator moves every entry with a nonzero
    gradient by about the learning rate, against the gradient:

    >>> import numpy as np
    >>> theta = np.zeros(3)
    >>> adagrad = Adagrad(learning_rate=0.5)
    >>> adagrad.step(theta, np.array([3.0, -0.25, 0.0]), adagrad.init_state(3))
    >>> theta
    array([-0.5,  0.5,  0. ])
    """

    learning_rate: float = 0.01
    lr_decay: float = 0.0
    weight_decay: float = 0.0
    initial_accumulator_value: float = 0.0
    eps: float = 1e-10
    fused_multiply_add: bool = False

    def __post_init__(self) -> None:
        _set(self, "learning_rate", _positive("learning_rate", self.learning_rate))
        _set(self, "lr_decay", _non_negative("lr_decay", self.lr_decay))
        _set(self, "weight_decay", _non_negative("weight_decay", self.weight_decay))
        _set(
            self,
            "initial_accumulator_value",
            _non_negative("initial_accumulator_value", self.initial_accumulator_value),
        )
        _set(self, "eps", _positive("eps", self.eps))
        _set(
            self,
            "fused_multiply_add",
            _flag("fused_multiply_add", self.fused_multiply_add),
        )

    def init_state(self, size: int) -> AdagradState:
        size = _check_size(size)
        return AdagradState(step=0, sum=np.full(size, self.initial_accumulator_value))

    def step(
        self,
        params: NDArray[np.float64],
        grad: NDArray[np.float64],
        state: AdagradState,
    ) -> None:
        fused = self.fused_multiply_add
        state.step += 1
        with np.errstate(all="ignore"):
            g = grad
            if self.weight_decay != 0:
                g = _mul_add(self.weight_decay, params, g, fused)
            clr = self.learning_rate / (1 + (state.step - 1) * self.lr_decay)
            state.sum[...] = _mul_add(g, g, state.sum, fused)
            std = _sqrt(state.sum)
            std += self.eps
            # addcdiv: θ + (−clr·g) / std, the division rounded before the sum
            update = g * -clr
            update /= std
            params += update


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam: steps from bias-corrected running averages of g and g².

    PyTorch's ``_single_tensor_adam`` (L2 weight decay, not AdamW): at step
    ``t`` (from 1), with ``β₁, β₂ = betas``,

    - ``g ← g + weight_decay·θ`` if ``weight_decay`` is not 0;
    - ``m ← lerp(m, g, 1 − β₁)``; ``v ← β₂·v + (1 − β₂)·g·g``;
    - with ``amsgrad``, ``v_max ← max(v_max, v)`` replaces ``v`` below;
    - ``θ ← θ − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + eps)``.

    ``lerp(a, b, w)`` is ``a + w·(b − a)`` for ``|w| < 0.5`` and
    ``b − (b − a)·(1 − w)`` otherwise, as in PyTorch.

    Parameters
    ----------
    learning_rate : float
        The step size, positive.
    betas : (float, float)
        Decay rates of the running averages of g and g², each in [0, 1).
    eps : float
        Added to the denominator (> 0).
    weight_decay : float
        L2 penalty added to the gradient (>= 0).
    amsgrad : bool
        Divide by the running maximum of the second moment (AMSGrad).
    fused_multiply_add : bool
        Round ``a·b + c`` once where PyTorch fuses it (see the module
        docstring).

    Examples
    --------
    The first step moves every entry with a nonzero gradient by about the
    learning rate, against the gradient's sign:

    >>> import numpy as np
    >>> theta = np.zeros(3)
    >>> adam = Adam(learning_rate=0.5)
    >>> adam.step(theta, np.array([3.0, -0.25, 0.0]), adam.init_state(3))
    >>> theta.round(6)
    array([-0.5,  0.5,  0. ])
    >>> adam
    Adam(learning_rate=0.5, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, amsgrad=False, fused_multiply_add=False)
    """  # noqa: E501

    learning_rate: float = 0.001
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    amsgrad: bool = False
    fused_multiply_add: bool = False

    def __post_init__(self) -> None:
        _set(self, "learning_rate", _positive("learning_rate", self.learning_rate))
        betas = self.betas
        if (
            isinstance(betas, str)
            or not isinstance(betas, Sequence | np.ndarray)
            or len(betas) != 2
        ):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        beta1, beta2 = (_real(f"betas[{i}]", beta) for i, beta in enumerate(betas))
        for i, beta in enumerate((beta1, beta2)):
            if not 0 <= beta < 1:
                raise ValueError(f"betas[{i}] must be in [0, 1), got {beta!r}")
        _set(self, "betas", (beta1, beta2))
        _set(self, "eps", _positive("eps", self.eps))
        _set(self, "weight_decay", _non_negative("weight_decay", self.weight_decay))
        _set(self, "amsgrad", _flag("amsgrad", self.amsgrad))
        _set(
            self,
            "fused_multiply_add",
            _flag("fused_multiply_add", self.fused_multiply_add),
        )

    def init_state(self, size: int) -> AdamState:
        size = _check_size(size)
        return AdamState(
            step=0,
            exp_avg=np.zeros(size),
            exp_avg_sq=np.zeros(size),
            max_exp_avg_sq=np.zeros(size) if self.amsgrad else None,
        )

    def step(
        self, params: NDArray[np.float64], grad: NDArray[np.float64], state: AdamState
    ) -> None:
        fused = self.fused_multiply_add
        beta1, beta2 = self.betas
        state.step += 1
        t = state.step
        m, v = state.exp_avg, state.exp_avg_sq
        with np.errstate(all="ignore"):
            g = grad
            if self.weight_decay != 0:
                g = _mul_add(self.weight_decay, params, g, fused)
            # exp_avg.lerp_(g, 1 - beta1): PyTorch's two-branch lerp
            weight = 1 - beta1
            if abs(weight) < 0.5:
                m[...] = _mul_add(weight, g - m, m, fused)
            else:
                m[...] = _mul_add(weight - 1, g - m, g, fused)
            # exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            v *= beta2
            v[...] = _mul_add((1 - beta2) * g, g, v, fused)
            # Python floats, as in PyTorch (** 0.5, not math.sqrt)
            bias_correction1 = 1 - beta1**t
            bias_correction2 = 1 - beta2**t
            step_size = self.learning_rate / bias_correction1
            bias_correction2_sqrt = bias_correction2**0.5
            if self.amsgrad:
                if state.max_exp_avg_sq is None:  # state made without amsgrad
                    state.max_exp_avg_sq = np.zeros_like(v)
                np.maximum(state.max_exp_avg_sq, v, out=state.max_exp_avg_sq)
                denom = _sqrt(state.max_exp_avg_sq)
            else:
                denom = _sqrt(v)
            denom /= bias_correction2_sqrt
            denom += self.eps
            # addcdiv: θ + (−step_size·m) / denom, division rounded first
            update = m * -step_size
            update /= denom
            params += update


# -- by name ------------------------------------------------------------------

_BY_NAME: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "adagrad": Adagrad,
    "adam": Adam,
}


def get_optimizer(
    spec: str | Optimizer, learning_rate: float | None = None
) -> Optimizer:
    """Return the optimizer named by ``spec``, or ``spec`` itself.

    Parameters
    ----------
    spec : str or Optimizer
        ``"sgd"``, ``"momentum"``, ``"adagrad"`` or ``"adam"`` (any case), or
        an optimizer object (any object with ``init_state`` and ``step``),
        returned as is.
    learning_rate : float, optional
        With a name: the learning rate (``None`` keeps the optimizer's
        default). With an object: not allowed, set the rate on the object.

    Examples
    --------
    >>> get_optimizer("Adam", learning_rate=0.01)
    Adam(learning_rate=0.01, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, amsgrad=False, fused_multiply_add=False)
    >>> get_optimizer("sgd").learning_rate
    0.1
    """  # noqa: E501
    if isinstance(spec, str):
        cls = _BY_NAME.get(spec.strip().lower())
        if cls is None:
            valid = ", ".join(repr(name) for name in _BY_NAME)
            raise ValueError(f"unknown optimizer {spec!r}; valid names: {valid}")
        return cls() if learning_rate is None else cls(learning_rate=learning_rate)
    if isinstance(spec, Optimizer) or (
        not isinstance(spec, type)  # a class is not an optimizer yet
        and callable(getattr(spec, "init_state", None))
        and callable(getattr(spec, "step", None))
    ):
        if learning_rate is not None:
            raise ValueError(
                f"learning_rate={learning_rate!r} given with the optimizer object "
                f"{spec!r}: set the learning rate on the object instead, e.g. "
                f"{type(spec).__name__}(learning_rate={learning_rate!r})"
            )
        return spec
    valid = ", ".join(repr(name) for name in _BY_NAME)
    raise ValueError(
        f"optimizer must be one of {valid} or an object with init_state() and "
        f"step() (see neurosim.optimizers.Optimizer), got {spec!r}"
    )

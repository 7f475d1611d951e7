"""Tests of the local optimizers (neurosim.optimizers).

Three ways of checking: hand-computed steps, an exact rational oracle for the
emulated fused multiply-add, and PyTorch's own optimizers run side by side
(skipped when torch is not installed).
"""

from __future__ import annotations

import dataclasses
import doctest
import itertools
import math
import os
import subprocess
import sys
import textwrap
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from neurosim import optimizers
from neurosim.optimizers import (
    SGD,
    Adagrad,
    AdagradState,
    Adam,
    AdamState,
    Momentum,
    Optimizer,
    SGDState,
    get_optimizer,
)

ALL_CLASSES = [SGD, Momentum, Adagrad, Adam]


def exact_fma(a: float, b: float, c: float) -> float:
    """a*b + c rounded once: Fraction arithmetic is exact, float() rounds.

    Fractions have no signed zero, so an exact zero takes IEEE 754's sign:
    negative only when the product and the addend are both negative zeros
    (an exact cancellation of non-zero terms gives +0).
    """
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    if exact == 0:
        product_negative = math.copysign(1.0, a) * math.copysign(1.0, b) < 0
        if (
            (a == 0 or b == 0)
            and c == 0
            and product_negative
            and math.copysign(1.0, c) < 0
        ):
            return -0.0
        return 0.0
    return float(exact)


def bits(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).view(np.int64)


# -- the emulated fused multiply-add ------------------------------------------


def fma_cases(rng: np.random.Generator, n: int) -> list[tuple[np.ndarray, ...]]:
    """Random triples, plus the hard ones: cancellations, ties, tiny addends."""
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    ints = [rng.integers(1, 2**27, n).astype(float) for _ in range(2)]
    return [
        (a, b, rng.standard_normal(n)),
        # c cancels a*b but for a few ulps: the product's error decides
        (a, b, -(a * b) * (1 + rng.integers(-4, 5, n) * 2.0**-52)),
        # integers: the exact result often lies halfway between two floats
        (*ints, rng.integers(-(2**62), 2**62, n).astype(float)),
        # c far below a*b: only its sign and stickiness matter
        (a, b, a * b * rng.standard_normal(n) * 2.0 ** rng.integers(-110, -40, n)),
        # wide exponents
        (
            a * 2.0 ** rng.integers(-200, 200, n),
            b * 2.0 ** rng.integers(-200, 200, n),
            rng.standard_normal(n) * 2.0 ** rng.integers(-400, 400, n),
        ),
    ]


def test_fma_is_correctly_rounded():
    rng = np.random.default_rng(0)
    for a, b, c in fma_cases(rng, 3000):
        expected = [exact_fma(*abc) for abc in zip(a, b, c, strict=True)]
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(
                bits(optimizers._fma(a, b, c)), bits(expected)
            )


def test_fma_with_a_python_float_factor():
    rng = np.random.default_rng(1)
    b, c = rng.standard_normal(2000), rng.standard_normal(2000)
    for a in (0.1, -0.001, 0.9, 1 - 0.999, 3.0):
        expected = [exact_fma(a, x, y) for x, y in zip(b, c, strict=True)]
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(
                bits(optimizers._fma(a, b, c)), bits(expected)
            )


def test_fma_differs_from_two_roundings():
    # 0.1 * 3 is 0.30000000000000004 once rounded; fused, the tail survives.
    a, b, c = 0.1, np.array([3.0]), np.array([-0.3])
    with np.errstate(all="ignore"):
        fused = optimizers._fma(a, b, c)
    assert fused[0] == exact_fma(0.1, 3.0, -0.3) != (a * b + c)[0]


# Dekker's product is exact while |a·b| stays above about 1e-290.
factors = st.one_of(st.just(0.0), st.floats(1e-140, 1e100), st.floats(-1e100, -1e-140))


@given(factors, factors, st.floats(-1e150, 1e150))
@example(0.0, -1.0, -0.0)  # (-0) + (-0) is -0: the sign of an exact zero
def test_fma_property(a, b, c):
    with np.errstate(all="ignore"):
        got = optimizers._fma(np.array([a]), np.array([b]), np.array([c]))
    assert bits(got)[0] == bits(exact_fma(a, b, c))


def test_fma_signed_zeros_and_non_finite_values():
    values = [0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan]
    a, b, c = np.array(list(itertools.product(values, repeat=3))).T
    with np.errstate(all="ignore"):
        got = optimizers._fma(a, b, c)
        expected = a * b + c  # every product here is exact: one rounding or two
    nan = np.isnan(expected)
    np.testing.assert_array_equal(bits(got[~nan]), bits(expected[~nan]))
    assert np.isnan(got[nan]).all()


def test_fma_overflowing_product():
    a, b, c = (
        np.array([1e300, 1e300]),
        np.array([1e300, -1e300]),
        np.array([-np.inf, 1.0]),
    )
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(optimizers._fma(a, b, c), [-np.inf, -np.inf])


# -- steps computed by hand ---------------------------------------------------


def run(optimizer: Optimizer, theta, grads):
    """Apply ``grads`` one by one; return the parameters and the state."""
    params = np.array(theta, dtype=np.float64)
    state = optimizer.init_state(params.size)
    for grad in grads:
        optimizer.step(params, np.array(grad, dtype=np.float64), state)
    return params, state


def test_sgd_first_step():
    params, state = run(SGD(learning_rate=0.5), [1.0, -2.0, 0.5], [[1.0, 2.0, -1.0]])
    np.testing.assert_array_equal(params, [0.5, -3.0, 1.0])
    assert state.momentum_buffer is None


def test_sgd_weight_decay_adds_the_parameters_to_the_gradient():
    params, _ = run(
        SGD(learning_rate=0.5, weight_decay=0.25), [2.0, -4.0], [[1.0, 0.0]]
    )
    # g = [1 + 0.5, 0 - 1]
    np.testing.assert_array_equal(params, [2.0 - 0.75, -4.0 + 0.5])


def test_momentum_first_steps():
    grads = [[1.0, -2.0], [0.5, 4.0]]
    params, state = run(Momentum(learning_rate=0.5), [0.0, 0.0], grads)
    buf1 = np.array(grads[0])  # the first buffer is the gradient itself
    buf2 = 0.9 * buf1 + np.array(grads[1])
    np.testing.assert_allclose(params, -0.5 * buf1 - 0.5 * buf2, rtol=1e-15)
    np.testing.assert_allclose(state.momentum_buffer, buf2, rtol=1e-15)


def test_dampening_spares_the_first_step():
    # PyTorch starts the buffer at g, not (1 - dampening)·g.
    sgd = SGD(learning_rate=1.0, momentum=0.5, dampening=0.5)
    params, state = run(sgd, [0.0], [[2.0]])
    np.testing.assert_array_equal(params, [-2.0])
    sgd.step(params, np.array([4.0]), state)
    np.testing.assert_array_equal(state.momentum_buffer, [0.5 * 2.0 + 0.5 * 4.0])
    np.testing.assert_array_equal(params, [-2.0 - 3.0])


def test_nesterov_first_step_looks_ahead():
    sgd = SGD(learning_rate=0.5, momentum=0.5, nesterov=True)
    params, _ = run(sgd, [0.0, 1.0], [[2.0, -4.0]])
    # g + momentum·buf with buf = g
    np.testing.assert_array_equal(params, [0.0 - 0.5 * 3.0, 1.0 + 0.5 * 6.0])


def test_adagrad_first_step_is_about_the_learning_rate():
    params, state = run(
        Adagrad(learning_rate=0.5), [1.0, 1.0, 1.0], [[3.0, -0.25, 0.0]]
    )
    np.testing.assert_allclose(params, [0.5, 1.5, 1.0], rtol=1e-9)
    assert state.step == 1
    np.testing.assert_array_equal(state.sum, [9.0, 0.0625, 0.0])


def test_adagrad_initial_accumulator_and_lr_decay():
    adagrad = Adagrad(learning_rate=1.0, lr_decay=1.0, initial_accumulator_value=7.0)
    params, state = run(adagrad, [0.0], [[3.0]])
    np.testing.assert_allclose(params, [-3.0 / 4.0], rtol=1e-9)  # √(7 + 9) = 4
    adagrad.step(params, np.array([3.0]), state)
    # second step: clr = 1 / (1 + 1·1), sum = 25
    np.testing.assert_allclose(params, [-0.75 - 0.5 * 3.0 / 5.0], rtol=1e-9)


def test_adam_first_step_is_the_learning_rate_times_the_sign():
    rng = np.random.default_rng(2)
    theta = rng.standard_normal(50)
    # |g| from 0.01 to 100, so that eps (1e-8) stays out of sight
    grad = rng.choice([-1.0, 1.0], 50) * 10.0 ** rng.uniform(-2, 2, 50)
    grad[:3] = 0.0
    for adam in (Adam(), Adam(learning_rate=0.1, betas=(0.5, 0.9))):
        params, state = run(adam, theta, [grad])
        np.testing.assert_allclose(
            params - theta, -adam.learning_rate * np.sign(grad), rtol=1e-5, atol=0
        )
        assert state.step == 1
        assert state.max_exp_avg_sq is None


def test_adam_amsgrad_keeps_the_largest_second_moment():
    adam = Adam(betas=(0.0, 0.5), amsgrad=True)
    _, state = run(adam, [0.0], [[4.0], [0.0]])
    np.testing.assert_array_equal(state.exp_avg_sq, [4.0])  # 0.5·(0.5·16)
    np.testing.assert_array_equal(state.max_exp_avg_sq, [8.0])


def test_adam_beta1_at_or_above_half_takes_lerps_other_branch():
    # weight 1 - beta1 >= 0.5: m = g - (g - m)·(1 - w), exact here
    adam = Adam(betas=(0.25, 0.5))
    _, state = run(adam, [0.0], [[4.0], [8.0]])
    np.testing.assert_array_equal(state.exp_avg, [0.25 * 3.0 + 0.75 * 8.0])


# -- state --------------------------------------------------------------------


@pytest.mark.parametrize(
    "optimizer",
    [
        Momentum(),
        SGD(momentum=0.5, nesterov=True),
        Adagrad(),
        Adam(),
        Adam(amsgrad=True),
    ],
    ids=repr,
)
def test_state_persists_between_steps(optimizer):
    first, second = np.array([0.3, -1.2, 2.0]), np.array([-1.0, 0.5, 2.0])
    params, state = run(optimizer, np.zeros(3), [first])
    fresh, _ = run(optimizer, params, [second])
    optimizer.step(params, second, state)
    assert not np.array_equal(params, fresh)


def test_plain_sgd_has_no_memory():
    sgd = SGD()
    params, _ = run(sgd, np.zeros(2), [[1.0, 2.0]])
    fresh, _ = run(sgd, params, [[3.0, 4.0]])
    continued, _ = run(sgd, np.zeros(2), [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(fresh, continued)


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_states_are_independent_and_step_updates_in_place(cls):
    optimizer = cls()
    params, other = np.ones(4), np.ones(4)
    state, other_state = optimizer.init_state(4), optimizer.init_state(4)
    grad = np.array([1.0, -1.0, 0.5, 0.0])
    grad_before = grad.copy()
    params_id = id(params)
    optimizer.step(params, grad, state)
    assert id(params) == params_id
    assert not np.array_equal(params, np.ones(4))
    np.testing.assert_array_equal(grad, grad_before)  # grad is not modified
    # a second neuron's state is untouched
    optimizer.step(other, grad, other_state)
    np.testing.assert_array_equal(other, params)


def test_state_types():
    assert isinstance(SGD().init_state(3), SGDState)
    adagrad = Adagrad(initial_accumulator_value=0.5).init_state(3)
    assert isinstance(adagrad, AdagradState)
    np.testing.assert_array_equal(adagrad.sum, [0.5] * 3)
    adam = Adam(amsgrad=True).init_state(3)
    assert isinstance(adam, AdamState)
    assert adam.step == 0
    assert adam.max_exp_avg_sq.shape == (3,)


@pytest.mark.parametrize("size", [0, -1, 2.0, True, "3"])
def test_init_state_rejects_bad_sizes(size):
    with pytest.raises(ValueError, match="size"):
        Adam().init_state(size)


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_unfused_arithmetic_rounds_products_first(cls):
    rng = np.random.default_rng(3)
    theta = rng.standard_normal(8)
    grads = rng.standard_normal((5, 8))
    fused, _ = run(cls(fused_multiply_add=True), theta, grads)
    unfused, _ = run(cls(), theta, grads)
    np.testing.assert_allclose(fused, unfused, rtol=1e-12)
    sgd, _ = run(SGD(learning_rate=0.1, fused_multiply_add=False), theta, grads[:1])
    np.testing.assert_array_equal(sgd, theta + -0.1 * grads[0])


def test_divergence_propagates_without_warnings():
    # filterwarnings = error: an overflow inside step must not warn.
    for optimizer in (SGD(learning_rate=1.0), Momentum(), Adagrad(), Adam()):
        params = np.array([1e308, 1.0, np.nan])
        optimizer.step(params, np.array([-1e308, np.inf, 1.0]), optimizer.init_state(3))
        assert not np.isfinite(params).all()
    params = np.array([1e308])
    SGD(learning_rate=1.0).step(params, np.array([-1e308]), SGDState())
    assert params[0] == np.inf


# -- hyperparameters ----------------------------------------------------------


def test_defaults():
    assert SGD() == SGD(0.1, 0.0, 0.0, False, 0.0)
    assert Momentum().momentum == 0.9
    assert Adagrad().learning_rate == 0.01
    assert Adagrad().eps == 1e-10
    assert Adam().betas == (0.9, 0.999)
    assert Adam().eps == 1e-8


def test_repr():
    assert repr(Adam()) == (
        "Adam(learning_rate=0.001, betas=(0.9, 0.999), eps=1e-08, "
        "weight_decay=0.0, amsgrad=False, fused_multiply_add=False)"
    )
    assert repr(Momentum(learning_rate=0.05)) == (
        "Momentum(learning_rate=0.05, momentum=0.9, dampening=0.0, nesterov=False, "
        "weight_decay=0.0, fused_multiply_add=False)"
    )
    assert repr(SGD()).startswith("SGD(learning_rate=0.1, momentum=0.0,")
    assert repr(Adagrad()) == (
        "Adagrad(learning_rate=0.01, lr_decay=0.0, weight_decay=0.0, "
        "initial_accumulator_value=0.0, eps=1e-10, fused_multiply_add=False)"
    )


@pytest.mark.parametrize(
    "optimizer",
    [
        SGD(momentum=0.5, nesterov=True),
        Momentum(),
        Adagrad(lr_decay=0.1),
        Adam(amsgrad=True),
    ],
    ids=repr,
)
def test_repr_round_trips(optimizer):
    namespace = {cls.__name__: cls for cls in ALL_CLASSES}
    assert eval(repr(optimizer), namespace) == optimizer


def test_equality_and_hash_follow_hyperparameters():
    assert Adam(learning_rate=1) == Adam(learning_rate=1.0)
    assert Adam(betas=[0.9, 0.999]) == Adam()
    assert Adam(betas=np.array([0.9, 0.999])).betas == (0.9, 0.999)
    assert Adam() != Adam(amsgrad=True)
    assert Adam() != Adam(fused_multiply_add=True)
    assert Adagrad() != Adagrad(eps=1e-8)
    assert SGD() != SGD(learning_rate=0.2)
    assert Momentum() == SGD(momentum=0.9)
    assert hash(Momentum()) == hash(SGD(momentum=0.9))
    assert SGD() != Momentum()
    assert Adam() != Adagrad()
    assert len({Adam(), Adam(), Adagrad(), SGD(), Momentum(), SGD(momentum=0.9)}) == 4


def test_optimizers_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Adam().learning_rate = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: SGD(learning_rate=0), "learning_rate"),
        (lambda: SGD(learning_rate=-0.1), "learning_rate"),
        (lambda: Adam(learning_rate=float("nan")), "learning_rate"),
        (lambda: Adagrad(learning_rate=float("inf")), "learning_rate"),
        (lambda: Adam(learning_rate="0.1"), "learning_rate"),
        (lambda: Adam(learning_rate=True), "learning_rate"),
        (lambda: SGD(momentum=-0.5), "momentum"),
        (lambda: SGD(momentum=0.9, dampening=1.5), "dampening"),
        (lambda: SGD(nesterov=True), "nesterov"),
        (lambda: SGD(momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
        (lambda: SGD(nesterov=1), "nesterov"),
        (lambda: SGD(weight_decay=-1e-4), "weight_decay"),
        (lambda: Adagrad(lr_decay=-1), "lr_decay"),
        (lambda: Adagrad(initial_accumulator_value=-1), "initial_accumulator_value"),
        (lambda: Adagrad(eps=0), "eps"),
        (lambda: Adam(eps=-1e-8), "eps"),
        (lambda: Adam(betas=(1.0, 0.999)), r"betas\[0\]"),
        (lambda: Adam(betas=(0.9, -0.1)), r"betas\[1\]"),
        (lambda: Adam(betas=(0.9,)), "betas"),
        (lambda: Adam(betas="ab"), "betas"),
        (lambda: Adam(betas=0.9), "betas"),
        (lambda: Adam(weight_decay=-1), "weight_decay"),
        (lambda: Adam(amsgrad="yes"), "amsgrad"),
        (lambda: Adam(fused_multiply_add=None), "fused_multiply_add"),
    ],
)
def test_invalid_hyperparameters(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


def test_optimizer_is_abstract():
    with pytest.raises(TypeError):
        Optimizer()  # type: ignore[abstract]


# -- get_optimizer ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sgd", SGD()),
        ("SGD", SGD()),
        ("momentum", Momentum()),
        (" Momentum ", Momentum()),
        ("adagrad", Adagrad()),
        ("AdaGrad", Adagrad()),
        ("adam", Adam()),
        ("ADAM", Adam()),
    ],
)
def test_get_optimizer_by_name(name, expected):
    optimizer = get_optimizer(name)
    assert optimizer == expected
    assert type(optimizer) is type(expected)


def test_get_optimizer_learning_rate():
    assert get_optimizer("adam", learning_rate=0.01) == Adam(learning_rate=0.01)
    assert get_optimizer("momentum", 0.5) == Momentum(learning_rate=0.5)
    assert get_optimizer("adagrad", None).learning_rate == 0.01
    with pytest.raises(ValueError, match="learning_rate"):
        get_optimizer("sgd", learning_rate=-1.0)


def test_get_optimizer_returns_objects_as_they_are():
    adam = Adam(learning_rate=0.02)
    assert get_optimizer(adam) is adam
    with pytest.raises(ValueError, match="set the learning rate on the object"):
        get_optimizer(adam, learning_rate=0.1)


def test_get_optimizer_accepts_duck_typed_optimizers():
    class Frozen:
        learning_rate = 0.0

        def init_state(self, size):
            return None

        def step(self, params, grad, state):
            pass

    frozen = Frozen()
    assert get_optimizer(frozen) is frozen


def test_get_optimizer_errors():
    with pytest.raises(
        ValueError, match="'sgd', 'momentum', 'adagrad', 'adam'"
    ) as info:
        get_optimizer("rmsprop")
    assert "rmsprop" in str(info.value)
    with pytest.raises(ValueError, match="init_state"):
        get_optimizer(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="optimizer"):
        get_optimizer(Adam)  # the class, not an instance


def test_docstring_examples():
    failures, attempted = doctest.testmod(optimizers)
    assert attempted > 0
    assert failures == 0


# -- PyTorch, side by side ----------------------------------------------------

# (neurosim optimizer, torch.optim class name, its keyword arguments)
TORCH_CASES = [
    (SGD(learning_rate=0.1), "SGD", {"lr": 0.1}),
    (
        SGD(learning_rate=0.05, weight_decay=0.01),
        "SGD",
        {"lr": 0.05, "weight_decay": 0.01},
    ),
    (Momentum(learning_rate=0.1), "SGD", {"lr": 0.1, "momentum": 0.9}),
    (
        SGD(learning_rate=0.1, momentum=0.8, dampening=0.3, weight_decay=0.02),
        "SGD",
        {"lr": 0.1, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.02},
    ),
    (
        SGD(learning_rate=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
        "SGD",
        {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
    ),
    (Adagrad(), "Adagrad", {}),
    (
        Adagrad(
            learning_rate=0.3,
            lr_decay=0.01,
            weight_decay=0.05,
            initial_accumulator_value=0.1,
            eps=1e-6,
        ),
        "Adagrad",
        {
            "lr": 0.3,
            "lr_decay": 0.01,
            "weight_decay": 0.05,
            "initial_accumulator_value": 0.1,
            "eps": 1e-6,
        },
    ),
    (Adam(), "Adam", {}),
    (
        Adam(
            learning_rate=0.01,
            betas=(0.8, 0.99),
            eps=1e-6,
            weight_decay=0.1,
            amsgrad=True,
        ),
        "Adam",
        {
            "lr": 0.01,
            "betas": (0.8, 0.99),
            "eps": 1e-6,
            "weight_decay": 0.1,
            "amsgrad": True,
        },
    ),
    # 1 - beta1 >= 0.5: lerp's second branch
    (
        Adam(learning_rate=0.01, betas=(0.3, 0.5)),
        "Adam",
        {"lr": 0.01, "betas": (0.3, 0.5)},
    ),
]

# the state arrays, named as in torch.optim's state
STATE_ARRAYS = {
    SGDState: ("momentum_buffer",),
    AdagradState: ("sum",),
    AdamState: ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
}


def torch_fuses(torch) -> bool:
    """Whether this torch build rounds p + α·g once (FMA) or twice."""
    p, g, alpha = -0.3, 3.0, 0.1  # 0.1·3 is inexact: fused and unfused differ
    fused = exact_fma(alpha, g, p)
    result = torch.tensor([p], dtype=torch.float64).add(
        torch.tensor([g], dtype=torch.float64), alpha=alpha
    )
    assert fused != alpha * g + p
    return result.item() == fused


def run_side_by_side(
    torch, optimizer, torch_name, torch_kwargs, size, steps=20, seed=0
):
    """Run ``steps`` steps through torch.optim and neurosim; return both."""
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(size)
    # gradients of mixed scales, some entries exactly zero
    grads = rng.standard_normal((steps, size)) * 10.0 ** rng.integers(-3, 2, (steps, 1))
    grads[rng.random((steps, size)) < 0.1] = 0.0

    p = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    torch_optimizer = getattr(torch.optim, torch_name)(
        [p], foreach=False, **torch_kwargs
    )
    params = theta.copy()
    state = optimizer.init_state(size)
    for grad in grads:
        p.grad = torch.tensor(grad, dtype=torch.float64)
        torch_optimizer.step()
        optimizer.step(params, grad.copy(), state)
    return p.detach().numpy(), params, torch_optimizer.state[p], state


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def torch_sqrt(torch, monkeypatch):
    """Use torch's sqrt inside neurosim's optimizers.

    torch computes float64 sqrt on CPU with MKL's vdSqrt (high-accuracy mode),
    which is not correctly rounded: about 1% of its results are one ulp below
    numpy's. Swapping it in checks that every other operation is identical.
    """
    monkeypatch.setattr(
        optimizers, "_sqrt", lambda x: torch.sqrt(torch.from_numpy(x)).numpy()
    )


@pytest.mark.parametrize("size", [5, 37])  # torch's scalar and SIMD loops
@pytest.mark.parametrize(
    ("optimizer", "torch_name", "torch_kwargs"), TORCH_CASES, ids=repr
)
def test_bit_for_bit_against_torch(
    torch, torch_sqrt, optimizer, torch_name, torch_kwargs, size
):
    optimizer = dataclasses.replace(optimizer, fused_multiply_add=torch_fuses(torch))
    theirs, ours, their_state, our_state = run_side_by_side(
        torch, optimizer, torch_name, torch_kwargs, size
    )
    np.testing.assert_array_equal(bits(ours), bits(theirs))
    for name in STATE_ARRAYS[type(our_state)]:
        value = getattr(our_state, name)
        if value is not None:
            np.testing.assert_array_equal(bits(value), bits(their_state[name]))
    if hasattr(our_state, "step"):
        assert our_state.step == their_state["step"].item() == 20


@pytest.mark.parametrize(
    ("optimizer", "torch_name", "torch_kwargs"), TORCH_CASES[:5], ids=repr
)
def test_sgd_needs_no_sqrt_to_match_torch(torch, optimizer, torch_name, torch_kwargs):
    optimizer = dataclasses.replace(optimizer, fused_multiply_add=torch_fuses(torch))
    theirs, ours, _, _ = run_side_by_side(torch, optimizer, torch_name, torch_kwargs, 9)
    np.testing.assert_array_equal(bits(ours), bits(theirs))


@pytest.mark.parametrize(
    ("optimizer", "torch_name", "torch_kwargs"), TORCH_CASES[5:], ids=repr
)
def test_with_numpys_sqrt_torch_is_within_rounding(
    torch, optimizer, torch_name, torch_kwargs
):
    optimizer = dataclasses.replace(optimizer, fused_multiply_add=torch_fuses(torch))
    theirs, ours, _, _ = run_side_by_side(
        torch, optimizer, torch_name, torch_kwargs, 37
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)


def test_unfused_matches_torch_without_simd_kernels(torch):
    """With ATEN_CPU_CAPABILITY=default (x86-64) torch rounds products apart."""
    script = textwrap.dedent(
        """
        import dataclasses, sys
        import numpy as np, torch
        sys.path[:0] = [{tests!r}, {root!r}]
        import test_optimizers as t
        from neurosim import optimizers
        optimizers._sqrt = lambda x: torch.sqrt(torch.from_numpy(x)).numpy()
        if t.torch_fuses(torch):
            sys.exit("fuses")
        for optimizer, name, kwargs in t.TORCH_CASES:
            optimizer = dataclasses.replace(optimizer, fused_multiply_add=False)
            theirs, ours, _, _ = t.run_side_by_side(torch, optimizer, name, kwargs, 37)
            np.testing.assert_array_equal(ours, theirs)
        print("ok")
        """
    ).format(
        tests=os.path.dirname(__file__),
        root=os.path.dirname(os.path.dirname(os.path.abspath(optimizers.__file__))),
    )
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.stderr.strip() == "fuses":  # e.g. ARM64 compiles FMAs everywhere
        pytest.skip("torch fuses multiply-adds even with ATEN_CPU_CAPABILITY=default")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"

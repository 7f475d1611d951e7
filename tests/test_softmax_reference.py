"""The actors' softmax group and cross-entropy equal the numpy reference."""

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import neurosim
from neurosim import reference
from tests.strategies import classifiers

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
RULES = ["backprop", "article", "feedback_alignment", "direct_feedback_alignment"]
OPTIMIZERS = ["sgd", "momentum", "adagrad", "adam"]


def assert_same(actual, expected, what):
    keys = sorted(expected, key=repr)
    np.testing.assert_allclose(
        [actual[k] for k in keys],
        [expected[k] for k in keys],
        rtol=1e-12,
        atol=1e-13,
        err_msg=what,
    )


def _compare(problem, **options):
    G, inputs, outputs, X, Z = problem
    net = neurosim.Network(G, inputs=inputs, outputs=outputs)
    rule = neurosim.rules.get_rule(options.get("rule", "backprop"))
    feedback = rule.feedback_weights(net.topology) or None
    history = net.train(X, Z, loss="cross_entropy", **options)
    ref = reference.train(
        G,
        X,
        Z,
        inputs=inputs,
        outputs=outputs,
        loss="cross_entropy",
        feedback=feedback,
        **options,
    )
    assume(max(map(abs, [*ref.weights.values(), *ref.biases.values()])) < 1e6)
    assert_same(net.weights, ref.weights, "weights")
    assert_same(net.biases, ref.biases, "biases")
    np.testing.assert_allclose(history.loss, ref.loss, rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(history.entries, ref.entries)
    np.testing.assert_array_equal(history.ends, ref.ends)
    return net, ref


@SETTINGS
@given(
    classifiers(),
    st.sampled_from(OPTIMIZERS),
    st.sampled_from(RULES),
    st.integers(1, 2),
    st.integers(1, 3),
)
def test_actors_equal_reference(problem, optimizer, rule, epochs, batch_size):
    _compare(
        problem, optimizer=optimizer, rule=rule, epochs=epochs, batch_size=batch_size
    )


@SETTINGS
@given(
    classifiers(delays=(0.5, 1.0, 2.0)),  # iterations overlap: no delay of 0
    st.sampled_from([2, 3, None]),
    st.sampled_from([0.0, 0.5, 1.0]),
    st.booleans(),
)
def test_samples_in_flight_equal_reference(problem, in_flight, interval, stash):
    assume(in_flight is not None or interval > 0)
    _compare(
        problem,
        learning_rate=0.2,
        epochs=2,
        in_flight=in_flight,
        interval=interval,
        stash=stash,
    )

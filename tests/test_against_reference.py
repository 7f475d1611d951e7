"""The actors' training equals the numpy reference on random networks."""

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import neurosim
from neurosim import reference
from tests.strategies import classifiers, problems

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def assert_same(actual, expected, what):
    keys = sorted(expected, key=repr)
    a = np.array([actual[k] for k in keys])
    e = np.array([expected[k] for k in keys])
    np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-13, err_msg=what)


def compare(G, inputs, outputs, X, Z, **options):
    net = neurosim.Network(G, inputs=inputs, outputs=outputs)
    history = net.train(X, Z, **options)
    ref = reference.train(G, X, Z, inputs=inputs, outputs=outputs, **options)
    assert_same(net.weights, ref.weights, "weights")
    assert_same(net.biases, ref.biases, "biases")
    np.testing.assert_allclose(history.loss, ref.loss, rtol=1e-12, atol=1e-13)
    return net, ref


@SETTINGS
@given(problems(), st.integers(1, 3), st.integers(1, 4), st.sampled_from([0.05, 0.3]))
def test_actors_equal_reference(problem, epochs, batch_size, learning_rate):
    G, inputs, outputs, X, Z = problem
    compare(
        G,
        inputs,
        outputs,
        X,
        Z,
        learning_rate=learning_rate,
        epochs=epochs,
        batch_size=batch_size,
    )


@SETTINGS
@given(st.one_of(problems(), classifiers()))  # softmax groups too
def test_predict_equals_reference(problem):
    G, inputs, outputs, X, _ = problem
    net = neurosim.Network(G, inputs=inputs, outputs=outputs)
    expected = reference.predict(G, X, inputs=inputs, outputs=outputs)
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(
        net.predict(X, batch_size=1), expected, rtol=1e-13, atol=1e-15
    )


def test_layered_network_equals_the_layered_matrix_form():
    G = neurosim.layered([3, 4, 2], activation=["tanh", "sigmoid"], seed=5)
    rng = np.random.default_rng(0)
    X, Z = rng.standard_normal((7, 3)), rng.uniform(0, 1, (7, 2))
    net = neurosim.Network(G)
    history = net.train(X, Z, learning_rate=0.2, epochs=3, batch_size=3)
    W0 = np.array(
        [
            [G.edges[f"i{i + 1}", f"h{j + 1}"]["weight"] for j in range(4)]
            for i in range(3)
        ]
    )
    W1 = np.array(
        [
            [G.edges[f"h{i + 1}", f"o{j + 1}"]["weight"] for j in range(2)]
            for i in range(4)
        ]
    )
    b0 = np.array([G.nodes[f"h{j + 1}"]["bias"] for j in range(4)])
    b1 = np.array([G.nodes[f"o{j + 1}"]["bias"] for j in range(2)])
    Ws, bs, loss = reference.train_layered(
        [W0, W1],
        [b0, b1],
        ["tanh", "sigmoid"],
        X,
        Z,
        learning_rate=0.2,
        epochs=3,
        batch_size=3,
    )
    np.testing.assert_allclose(history.loss, loss, rtol=1e-12)
    w = net.weights
    np.testing.assert_allclose(Ws[1][2, 1], w["h3", "o2"], rtol=1e-12)
    np.testing.assert_allclose(bs[0][3], net.biases["h4"], rtol=1e-12)


OPTIMIZERS = ["sgd", "momentum", "adagrad", "adam"]
RULES = ["backprop", "article", "feedback_alignment", "direct_feedback_alignment"]


@SETTINGS
@given(
    problems(max_hidden=4),
    st.sampled_from(OPTIMIZERS),
    st.sampled_from(RULES),
    st.integers(1, 3),
    st.integers(1, 3),
)
def test_every_optimizer_and_rule_equals_reference(
    problem, optimizer, rule, epochs, batch_size
):
    G, inputs, outputs, X, Z = problem
    net = neurosim.Network(G, inputs=inputs, outputs=outputs)
    rule_object = neurosim.rules.get_rule(rule)
    feedback = rule_object.feedback_weights(net.topology) or None
    try:
        history = net.train(
            X, Z, epochs=epochs, batch_size=batch_size, optimizer=optimizer, rule=rule
        )
    except neurosim.DivergenceError:
        assume(False)  # a run that blows up has nothing to compare to 1e-12
    ref = reference.train(
        G,
        X,
        Z,
        inputs=inputs,
        outputs=outputs,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        rule=rule,
        feedback=feedback,
    )
    # Momentum can grow a relu network's weights to 1e29 in a few steps; there
    # rounding differences of the summation order grow with them, so equality
    # to 1e-12 is only asked of runs that stay bounded.
    assume(max(map(abs, [*ref.weights.values(), *ref.biases.values()])) < 1e6)
    assert_same(net.weights, ref.weights, "weights")
    assert_same(net.biases, ref.biases, "biases")
    np.testing.assert_allclose(history.loss, ref.loss, rtol=1e-12, atol=1e-13)


def test_optimizer_state_persists_across_calls():
    G = neurosim.layered([2, 3, 1], seed=2)
    rng = np.random.default_rng(3)
    X, Z = rng.standard_normal((6, 2)), rng.uniform(0, 1, (6, 1))
    net = neurosim.Network(G)
    net.train(X[:3], Z[:3], optimizer="adam")
    net.train(X[3:], Z[3:], optimizer="adam")  # same optimizer: its moments carry on
    ref = reference.train(G, X, Z, optimizer="adam", batch_size=1)
    assert_same(net.weights, ref.weights, "weights after two calls")
    fresh = neurosim.Network(G)
    fresh.train(X[:3], Z[:3], optimizer="adam")
    fresh.train(X[3:], Z[3:], optimizer="adagrad")  # a new optimizer starts afresh
    assert fresh.weights != net.weights


def test_optimizer_objects_carry_their_hyperparameters():
    G = neurosim.layered([2, 2, 1], seed=4)
    X, Z = np.array([[0.5, -1.0], [1.0, 0.25]]), np.array([[0.2], [0.9]])
    net = neurosim.Network(G)
    adam = neurosim.optimizers.Adam(learning_rate=0.01, betas=(0.8, 0.99), eps=1e-6)
    net.train(X, Z, optimizer=adam, epochs=3)
    ref = reference.train(
        G,
        X,
        Z,
        optimizer="adam",
        learning_rate=0.01,
        epochs=3,
        optimizer_options={"betas": (0.8, 0.99), "eps": 1e-6},
    )
    assert_same(net.weights, ref.weights, "weights")

"""The actors' training equals the numpy reference on random networks."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurosim
from neurosim import reference
from tests.strategies import problems

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
@given(problems())
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

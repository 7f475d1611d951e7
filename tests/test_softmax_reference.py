"""The actors' softmax group and cross-entropy equal the numpy reference."""

import networkx as nx
import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import neurosim
from neurosim import reference

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
finite = st.floats(-1.5, 1.5, allow_nan=False, allow_infinity=False, width=64)
RULES = ["backprop", "article", "feedback_alignment", "direct_feedback_alignment"]
OPTIMIZERS = ["sgd", "momentum", "adagrad", "adam"]


@st.composite
def classifiers(draw, delays=(0.5, 1.0, 2.0)):
    """A random DAG whose outputs are sinks: a softmax group or sigmoids.

    Returns ``(G, inputs, outputs, X, Z, softmax)``: one-hot targets for a
    softmax group, probabilities for sigmoid outputs.
    """
    n_in = draw(st.integers(1, 3))
    n_hidden = draw(st.integers(0, 4))
    n_out = draw(st.integers(2, 4))
    softmax = draw(st.booleans())
    hidden = [f"h{i}" for i in range(n_hidden)]
    inputs = [f"x{i}" for i in range(n_in)]
    outputs = [f"y{i}" for i in range(n_out)]
    G = nx.DiGraph()
    G.add_nodes_from(inputs + hidden + outputs)
    earlier = list(inputs)
    for v in hidden + outputs:
        for u in draw(
            st.lists(st.sampled_from(earlier), min_size=1, max_size=4, unique=True)
        ):
            G.add_edge(u, v)
        if v in hidden:
            earlier.append(v)
            G.nodes[v]["activation"] = draw(st.sampled_from(["sigmoid", "tanh"]))
        else:
            G.nodes[v]["activation"] = "softmax" if softmax else "sigmoid"
        G.nodes[v]["bias"] = draw(st.one_of(finite, st.none()))
    for u in inputs + hidden:
        if G.out_degree(u) == 0:
            G.add_edge(u, draw(st.sampled_from(outputs)))
    for u, v in G.edges:
        G.edges[u, v]["weight"] = draw(finite)
        G.edges[u, v]["delay"] = draw(st.sampled_from(list(delays)))
    n = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.uniform(-1, 1, size=(n, n_in))
    if softmax:
        Z = np.eye(n_out)[rng.integers(0, n_out, n)]
    else:
        Z = rng.uniform(0, 1, size=(n, n_out))
    return G, inputs, outputs, X, Z, softmax


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
    G, inputs, outputs, X, Z, _ = problem
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
    classifiers(),
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


@SETTINGS
@given(classifiers())
def test_predict_equals_reference(problem):
    G, inputs, outputs, X, _, _ = problem
    net = neurosim.Network(G, inputs=inputs, outputs=outputs)
    expected = reference.predict(G, X, inputs=inputs, outputs=outputs)
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(
        net.predict(X, batch_size=1), expected, rtol=1e-13, atol=1e-15
    )

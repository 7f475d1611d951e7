"""The reference's fast path (vectorised by topological generation) at scale.

With one iteration at a time and nothing lost, :func:`reference.train` runs a
generation at a time on arrays instead of its event loop. Here the two agree
on random DAGs for every optimizer and rule, and the fast path agrees with the
actors on a 10,000-neuron sparse DAG.
"""

import itertools
import time

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurosim
from neurosim import reference
from neurosim.activations import Activation
from tests.strategies import problems

OPTIMIZERS = {
    "sgd": [{}, {"weight_decay": 0.1}],
    "momentum": [{}, {"nesterov": True, "weight_decay": 0.05}, {"dampening": 0.3}],
    "adagrad": [{}, {"lr_decay": 0.1, "initial_accumulator_value": 0.2}],
    "adam": [{}, {"amsgrad": True, "weight_decay": 0.1, "betas": (0.8, 0.9)}],
}
RULES = ["backprop", "article", "feedback_alignment", "direct_feedback_alignment"]


def feedback_for(G, inputs, outputs, rule, seed):
    """Random fixed feedback weights of the keys ``rule`` needs."""
    rng = np.random.default_rng(seed)
    if rule == "feedback_alignment":
        keys = [(u, v) for u, v in G.edges if u not in inputs]
    elif rule == "direct_feedback_alignment":
        hidden = [h for h in G if G.in_degree(h) and h not in outputs]
        keys = [(o, h) for o in outputs for h in hidden]
    else:
        return None
    return {
        k: float(b) for k, b in zip(keys, rng.uniform(-1, 1, len(keys)), strict=True)
    }


def assert_same(actual, expected, what, ordered=True):
    if ordered:  # the reference's dicts: G.edges and G.nodes order
        assert list(actual) == list(expected), what
    assert actual.keys() == expected.keys(), what
    a = np.array([actual[k] for k in expected])
    e = np.array(list(expected.values()))
    np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-13, err_msg=what)


def assert_results_equal(fast, slow):
    assert_same(fast.weights, slow.weights, "weights")
    assert_same(fast.biases, slow.biases, "biases")
    np.testing.assert_allclose(fast.loss, slow.loss, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(fast.entries, slow.entries, rtol=1e-12)
    np.testing.assert_allclose(fast.ends, slow.ends, rtol=1e-12)
    assert list(fast.staleness) == list(slow.staleness)
    for v, stale in slow.staleness.items():
        np.testing.assert_array_equal(fast.staleness[v], stale)


def both(G, X, Z, **options):
    """``reference.train`` as called, and forced through its event loop."""
    defaults = {
        "inputs": None, "outputs": None, "learning_rate": None, "epochs": 1,
        "batch_size": 1, "optimizer": "sgd", "optimizer_options": None,
        "rule": "backprop", "feedback": None, "in_flight": 1, "interval": 0.0,
        "stash": False, "drops": (), "on_missing": "error", "timeout": None,
    }  # fmt: skip
    fast = reference.train(G, X, Z, **options)
    slow = reference._train(G, X, Z, **(defaults | options), events=True)
    return fast, slow


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(
    problems(max_hidden=6),
    st.sampled_from(sorted(OPTIMIZERS)),
    st.integers(0, 2),
    st.sampled_from(RULES),
    st.integers(1, 3),
    st.integers(1, 4),
    st.sampled_from([0.0, 0.0, 0.5, 7.0]),
)
def test_fast_path_equals_the_event_loop(
    problem, optimizer, variant, rule, epochs, batch_size, interval
):
    G, inputs, outputs, X, Z = problem
    if interval > 0:  # then every delay must be positive
        for u, v in G.edges:
            G.edges[u, v]["delay"] = max(G.edges[u, v]["delay"], 0.25)
    options = OPTIMIZERS[optimizer][variant % len(OPTIMIZERS[optimizer])]
    fast, slow = both(
        G,
        X,
        Z,
        inputs=inputs,
        outputs=outputs,
        learning_rate=0.2 if optimizer in ("sgd", "momentum") else 0.05,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        optimizer_options=options,
        rule=rule,
        feedback=feedback_for(G, inputs, outputs, rule, seed=len(G)),
        interval=interval,
    )
    assert_results_equal(fast, slow)


def test_fast_path_with_activation_objects_and_deadlines():
    """Shared and distinct activation objects; ``on_missing`` with its default
    deadline (nothing is late) keeps the fast path's numbers."""
    G = nx.DiGraph()
    softplus = Activation(
        "softplus",
        function=lambda e: np.log1p(np.exp(e)),
        derivative=lambda e, y: 1.0 / (1.0 + np.exp(-e)),
    )
    square = Activation(
        "square", function=lambda e: e * e, derivative=lambda e, y: 2 * e
    )
    rng = np.random.default_rng(1)
    layers = [["x0", "x1"], ["a", "b", "c", "d"], ["p", "q"], ["y0", "y1"]]
    for before, after in itertools.pairwise(layers):
        G.add_weighted_edges_from(
            (u, v, float(rng.uniform(-1, 1))) for u in before for v in after
        )
    G.add_edge("x0", "y1", weight=0.3, delay=2.5)  # a skip connection
    G.add_edge("y0", "y1", weight=-0.4)  # an output that feeds another
    activations = [softplus, square, "tanh", softplus, "relu", square]
    for v, activation in zip("abcdpq", activations, strict=True):
        G.nodes[v]["activation"] = activation
    G.nodes["c"]["bias"] = None
    X, Z = rng.uniform(-1, 1, (5, 2)), rng.uniform(-1, 1, (5, 2))
    for rule in RULES:
        feedback = feedback_for(G, ["x0", "x1"], ["y0", "y1"], rule, seed=2)
        for on_missing in ("error", "zero", "last"):
            fast, slow = both(
                G, X, Z, outputs=["y0", "y1"], rule=rule, feedback=feedback,
                optimizer="adam",
                batch_size=2, epochs=2, on_missing=on_missing, interval=1.5,
            )  # fmt: skip
            assert_results_equal(fast, slow)
        # a deadline shorter than an iteration: messages are late, the event
        # loop decides (train falls back to it)
        fast, slow = both(
            G, X, Z, outputs=["y0", "y1"], rule=rule, feedback=feedback,
            on_missing="zero", timeout=2.0,
        )  # fmt: skip
        assert_results_equal(fast, slow)
        sequential, _ = both(G, X, Z, outputs=["y0", "y1"], rule=rule,
                             feedback=feedback)  # fmt: skip
        assert not np.allclose(fast.loss, sequential.loss)


def sparse_dag(n_layers, width, fan_in, n_skips, seed):
    """``n_layers`` layers of ``width`` neurons after ``width`` inputs, each
    neuron fed by ``fan_in`` random nodes of the layer before, plus
    ``n_skips`` connections across layers; tanh, identity outputs."""
    rng = np.random.default_rng(seed)
    n = (n_layers + 1) * width
    layer = np.repeat(np.arange(n_layers + 1), width)
    targets = np.arange(width, n)
    # fan_in distinct sources for each target in the layer before, the first
    # a permutation of that layer, so that every node feeds some neuron
    first = np.argsort(rng.random((n_layers, width)), axis=1).reshape(-1, 1)
    others = 1 + np.argsort(rng.random((targets.size, width - 1)), axis=1)
    offsets = np.hstack([np.zeros_like(first), others[:, : fan_in - 1]])
    sources = (layer[targets] - 1)[:, None] * width + (first + offsets) % width
    src, dst = sources.ravel(), np.repeat(targets, fan_in)
    # skip connections from a layer at least two before
    skip_dst = rng.integers(2 * width, n, n_skips)
    skip_src = (rng.integers(0, layer[skip_dst] - 1) * width
                + rng.integers(0, width, n_skips))  # fmt: skip
    src, dst = np.concatenate([src, skip_src]), np.concatenate([dst, skip_dst])
    weight = rng.normal(0, 1 / np.sqrt(fan_in), src.size)
    G = nx.DiGraph()
    G.add_nodes_from(range(width), activation="identity")
    G.add_nodes_from(range(width, n - width), activation="tanh")
    G.add_nodes_from(range(n - width, n), activation="identity")
    bias = rng.normal(0, 0.1, n)
    for v in range(width, n):
        G.nodes[v]["bias"] = float(bias[v])
    G.add_edges_from(
        (int(u), int(v), {"weight": float(w)})
        for u, v, w in zip(src, dst, weight, strict=True)
    )
    return G


def test_ten_thousand_neurons_equal_the_actors():
    """A 10,000-neuron sparse DAG: two online steps and one batch of 16."""
    started = time.perf_counter()
    G = sparse_dag(n_layers=20, width=500, fan_in=8, n_skips=1000, seed=0)
    assert G.number_of_nodes() == 10_500
    assert G.number_of_edges() > 80_000
    rng = np.random.default_rng(1)
    X, Z = rng.standard_normal((16, 500)), rng.standard_normal((16, 500))
    for n_samples, batch_size in ((2, 1), (16, 16)):
        net = neurosim.Network(G)
        history = net.train(
            X[:n_samples], Z[:n_samples], learning_rate=0.01, batch_size=batch_size
        )
        ref = reference.train(
            G, X[:n_samples], Z[:n_samples], learning_rate=0.01, batch_size=batch_size
        )
        assert_same(net.weights, ref.weights, "weights", ordered=False)
        assert_same(net.biases, ref.biases, "biases", ordered=False)
        np.testing.assert_allclose(history.loss, ref.loss, rtol=1e-12)
    assert time.perf_counter() - started < 60


@pytest.mark.parametrize("rule", RULES)
def test_a_big_dag_fast_path_equals_the_event_loop(rule):
    """A 500-neuron DAG, mini-batches and online, against the event loop."""
    G = sparse_dag(n_layers=5, width=100, fan_in=6, n_skips=100, seed=3)
    inputs, outputs = list(range(100)), list(range(500, 600))
    rng = np.random.default_rng(4)
    X, Z = rng.standard_normal((3, 100)), rng.standard_normal((3, 100))
    feedback = feedback_for(G, inputs, outputs, rule, seed=5)
    for batch_size in (1, 2):
        fast, slow = both(
            G, X, Z, rule=rule, feedback=feedback, optimizer="momentum",
            learning_rate=0.01, batch_size=batch_size,
        )  # fmt: skip
        assert_results_equal(fast, slow)

"""Bad input is refused before any task starts, with a message naming it."""

import math

import networkx as nx
import numpy as np
import pytest

import neurosim
from neurosim import DataError, NetworkError


def chain(**edge):
    G = nx.DiGraph()
    G.add_edge("x", "h", weight=1.0)
    G.add_edge("h", "y", weight=1.0, **edge)
    return G


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: nx.DiGraph(), "empty"),
        (lambda: nx.Graph([("x", "y")]), "undirected"),
        (lambda: nx.MultiDiGraph([("x", "y")]), "multigraph"),
        (lambda: "not a graph", "networkx.DiGraph"),
    ],
)
def test_unusable_graph_types(build, message):
    with pytest.raises(NetworkError, match=message):
        neurosim.Network(build())


def test_cycle_names_its_nodes():
    G = chain()
    G.add_edge("y", "z", weight=1.0)
    G.add_edge("z", "h", weight=1.0)
    with pytest.raises(NetworkError, match=r"cycle: .*'h'.*'y'.*'z'"):
        neurosim.Network(G)


def test_self_loop():
    G = chain()
    G.add_edge("h", "h", weight=1.0)
    with pytest.raises(NetworkError, match="self-loop on node 'h'"):
        neurosim.Network(G)


@pytest.mark.parametrize("weight", [None, math.nan, math.inf, "1.0", True])
def test_bad_weight_names_the_edge(weight):
    G = chain()
    if weight is None:
        del G.edges["h", "y"]["weight"]
    else:
        G.edges["h", "y"]["weight"] = weight
    with pytest.raises(NetworkError, match=r"edge \('h', 'y'\)"):
        neurosim.Network(G)


@pytest.mark.parametrize("delay", [-1.0, math.inf])
def test_bad_delay(delay):
    with pytest.raises(NetworkError, match=r"edge \('h', 'y'\) has delay"):
        neurosim.Network(chain(delay=delay))


@pytest.mark.parametrize("bias", [math.inf, -math.inf, "0"])
def test_bad_bias_names_the_node(bias):
    G = chain()
    G.nodes["h"]["bias"] = bias
    with pytest.raises(NetworkError, match="node 'h' has bias"):
        neurosim.Network(G)


def test_unknown_activation_names_node_and_choices():
    G = chain()
    G.nodes["y"]["activation"] = "no_such_activation"
    with pytest.raises(
        NetworkError, match=r"node 'y'.*'no_such_activation'.*'sigmoid'"
    ):
        neurosim.Network(G)


def test_inputs_must_be_sources():
    with pytest.raises(NetworkError, match=r"input 'h' is not a source.*\['x'\]"):
        neurosim.Network(chain(), inputs=["h"])


def test_outputs_must_be_in_the_graph():
    with pytest.raises(
        NetworkError, match=r"outputs names nodes not in the graph: \['q'\]"
    ):
        neurosim.Network(chain(), outputs=["q"])


def test_input_cannot_be_output():
    with pytest.raises(NetworkError, match="both an input and an output"):
        neurosim.Network(chain(), inputs=["x"], outputs=["x", "y"])


def test_neuron_no_input_reaches():
    G = chain()
    G.add_edge("stray", "y", weight=1.0)
    with pytest.raises(NetworkError, match="no input reaches neuron 'stray'"):
        neurosim.Network(G, inputs=["x"])


def test_neuron_that_reaches_no_output():
    G = chain()
    G.add_edge("h", "dead", weight=1.0)
    with pytest.raises(NetworkError, match="neuron 'dead' reaches no output"):
        neurosim.Network(G, outputs=["y"])


@pytest.fixture
def net():
    return neurosim.Network(neurosim.layered([2, 3, 1], seed=0))


@pytest.mark.parametrize(
    ("X", "Z", "message"),
    [
        (
            np.ones((4, 3)),
            np.ones((4, 1)),
            r"X has shape \(4, 3\); expected \(n_samples, 2\)",
        ),
        (np.ones(2), np.ones((1, 1)), r"X has shape \(2,\)"),
        (np.ones((4, 2)), np.ones((4, 2)), r"Z has shape \(4, 2\)"),
        (np.ones((4, 2)), np.ones((3, 1)), "X has 4 samples but Z has 3"),
        (np.zeros((0, 2)), np.zeros((0, 1)), "n_samples >= 1"),
        ([[1.0, math.nan]], [[1.0]], r"X\[0, 1\] is nan"),
        ([[1.0, 2.0]], [[math.inf]], r"Z\[0, 0\] is inf"),
        ([["a", "b"]], [[1.0]], "X cannot be read"),
    ],
)
def test_bad_data(net, X, Z, message):
    with pytest.raises(DataError, match=message):
        net.train(X, Z)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"learning_rate": 0.0}, "learning_rate must be a positive finite number"),
        ({"learning_rate": -0.1}, "learning_rate"),
        ({"learning_rate": math.nan}, "learning_rate"),
        ({"learning_rate": math.inf}, "learning_rate"),
        ({"optimizer": "adamw"}, "adamw"),
        ({"rule": "hebbian"}, "unknown rule 'hebbian'"),
    ],
)
def test_bad_arguments(net, options, message):
    before = net.weights
    with pytest.raises(DataError, match=message):
        net.train(np.ones((2, 2)), np.ones((2, 1)), **options)
    assert net.weights == before


def test_errors_are_value_errors():
    assert issubclass(NetworkError, ValueError)
    assert issubclass(DataError, ValueError)
    assert issubclass(neurosim.DivergenceError, ArithmeticError)


def test_caller_objects_are_not_modified():
    G = neurosim.layered([2, 2, 1], seed=1)
    snapshot = nx.node_link_data(G, edges="links")
    X, Z = np.ones((3, 2)), np.zeros((3, 1))
    X_copy, Z_copy = X.copy(), Z.copy()
    net = neurosim.Network(G)
    net.train(X, Z, learning_rate=0.5, epochs=2)
    assert nx.node_link_data(G, edges="links") == snapshot
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(Z, Z_copy)
    assert net.to_graph().edges["i1", "h1"]["weight"] != G.edges["i1", "h1"]["weight"]


def test_exception_inside_a_neuron_cancels_everything_and_names_it():
    def broken(e):
        raise RuntimeError("boom")

    G = neurosim.layered([2, 3, 1], seed=0)
    G.nodes["h2"]["activation"] = neurosim.Activation("broken", broken, lambda e, y: e)
    net = neurosim.Network(G)
    with pytest.raises(
        neurosim.NeuronError, match="neuron 'h2': RuntimeError: boom"
    ) as info:
        net.train(np.ones((2, 2)), np.ones((2, 1)))
    assert isinstance(info.value.__cause__, RuntimeError)

"""Decision maps and neuron maps: the values are the network's, laid out by layer."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba

import neurosim
from neurosim import datasets, plot, reference
from neurosim.errors import DataError
from neurosim.graph import generations
from neurosim.plot import CLASS_COLORS, decision_map_model, neuron_maps_model


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def identity_outputs():
    """o1 = x1 and o2 = x2: class 1 exactly where x2 > x1."""
    G = neurosim.layered(
        [2, 2], weights=[[[1.0, 0.0], [0.0, 1.0]]], activation="identity"
    )
    return neurosim.Network(G)


def trained(sizes=(2, 4, 2), seed=0):
    data = datasets.gauss(n=60, seed=seed)
    G = neurosim.layered(list(sizes), activation="tanh", seed=seed)
    net = neurosim.Network(G)
    net.train(data.X, data.Z, 0.05, epochs=3, batch_size=20, optimizer="adam")
    return net, data


# ----------------------------------------------------------------------
# the decision map's model


def test_each_grid_value_is_the_networks_output_at_that_point():
    net, data = trained()
    model = decision_map_model(net, data.X, data.labels, steps=7)
    # the whole grid, row by row up the plane, bit for bit
    x1, x2 = np.meshgrid(model.x, model.y)
    grid = np.column_stack([x1.ravel(), x2.ravel()])
    assert np.array_equal(model.values.reshape(-1, 2), net.predict(grid))
    # one point alone (numpy's vector loops may round the last bit otherwise)
    j, i = 2, 5
    point = [[model.x[i], model.y[j]]]
    np.testing.assert_allclose(model.values[j, i], net.predict(point)[0], rtol=1e-15)
    assert model.values[j, i, 0] != model.values[j, i + 1, 0]


def test_several_outputs_the_class_is_the_largest_output():
    model = decision_map_model(identity_outputs(), extent=(-1, 1, -1, 1), steps=5)
    x, y = np.meshgrid(model.x, model.y)
    assert np.array_equal(model.predicted, (y > x).astype(int))
    assert np.array_equal(model.confidence, np.maximum(x, y))
    assert model.threshold is None
    assert model.class_names == ("class 0", "class 1")
    assert model.value_range == (-1.0, 1.0)  # identity: the values' ±max


def test_one_output_the_class_is_the_output_against_the_threshold():
    G = neurosim.layered([2, 1], weights=[[[1.0], [0.0]]], activation="identity")
    net = neurosim.Network(G)
    model = decision_map_model(net, extent=(0, 1, 0, 1), steps=5, threshold=0.3)
    assert model.x.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert model.predicted[0].tolist() == [0, 0, 1, 1, 1]
    assert model.threshold == 0.3
    assert np.array_equal(model.confidence, model.values[:, :, 0])


def test_a_sigmoid_output_has_the_scale_0_to_1():
    net = neurosim.Network(neurosim.layered([2, 1], seed=0))
    model = decision_map_model(net, extent=(-1, 1, -1, 1), steps=3)
    assert model.value_range == (0.0, 1.0)
    assert model.threshold == 0.5


def test_the_points_classes_and_accuracy():
    net = identity_outputs()
    X = [[0.0, 1.0], [1.0, 0.0], [0.2, 0.1]]  # classes 1, 0, 0
    model = decision_map_model(net, X, [1, 0, 1], steps=4)
    assert model.point_predicted.tolist() == [1, 0, 0]
    assert model.accuracy == pytest.approx(2 / 3)
    assert decision_map_model(net, X, steps=4).accuracy is None


def test_the_grid_covers_the_data_plus_a_margin():
    X = np.array([[0.0, 0.0], [4.0, 2.0]])
    model = decision_map_model(identity_outputs(), X, steps=11, margin=0.25)
    assert model.extent == (-1.0, 5.0, -1.0, 3.0)  # one share of the larger span
    assert len(model.x) == len(model.y) == 11
    fixed = decision_map_model(identity_outputs(), X, extent=(0, 2, 0, 1), steps=3)
    assert fixed.extent == (0.0, 2.0, 0.0, 1.0)


def test_the_caller_s_network_and_data_are_unchanged():
    net, data = trained()
    weights, X = dict(net.weights), data.X.copy()
    net.predict(data.X[:2], record=True)
    last = net.last_trace
    decision_map_model(net, data.X, data.labels, steps=5)
    neuron_maps_model(net, data.X, steps=5)
    assert net.weights == weights
    assert net.last_trace is last
    assert np.array_equal(data.X, X)


# ----------------------------------------------------------------------
# the neuron maps' model


def test_one_map_per_node_by_layer():
    net = neurosim.Network(neurosim.layered([2, 3, 2, 1], seed=0))
    model = neuron_maps_model(net, extent=(-1, 1, -1, 1), steps=4)
    layers = generations(net.to_graph())
    assert model.layers == tuple(tuple(layer) for layer in layers)
    assert model.layer_names == ("input", "hidden 1", "hidden 2", "output")
    assert [m.node for m in model.maps] == [v for layer in layers for v in layer]
    assert [(m.layer, m.row) for m in model.maps if m.layer == 1] == [
        (1, 0),
        (1, 1),
        (1, 2),
    ]
    assert model.map("h2_2").layer == 2
    with pytest.raises(KeyError):
        model.map("nope")


def test_each_neuron_map_is_what_the_neuron_computes():
    net, _ = trained(sizes=(2, 3, 3, 2))
    model = neuron_maps_model(net, extent=(-3, 3, -2, 2), steps=6)
    x1, x2 = np.meshgrid(model.x, model.y)
    grid = np.column_stack([x1.ravel(), x2.ravel()])
    outputs = net.predict(grid)
    # the outputs' maps are bit for bit what predict gives
    for k, o in enumerate(net.outputs):
        assert np.array_equal(model.map(o).values.ravel(), outputs[:, k])
    # every neuron against the independent numpy reference
    G = net.to_graph()
    for m in model.maps[2:]:
        expected = reference.predict(G, grid, outputs=[m.node])[:, 0]
        np.testing.assert_allclose(m.values.ravel(), expected, rtol=0, atol=1e-12)
        assert m.activation == "tanh"
        assert m.value_range == (-1.0, 1.0)
        assert m.bounded
        assert m.centre == 0.0
    # the inputs' maps are their coordinates
    assert np.array_equal(model.map("i1").values, x1)
    assert np.array_equal(model.map("i2").values, x2)


def test_an_unbounded_activation_takes_the_maps_own_range():
    G = neurosim.layered([2, 1], weights=[[[2.0], [1.0]]], activation="relu")
    model = neuron_maps_model(neurosim.Network(G), extent=(-1, 1, -1, 1), steps=3)
    o1 = model.map("o1")
    assert o1.values.max() == 3.0  # 2·1 + 1·1
    assert o1.value_range == (-3.0, 3.0)
    assert not o1.bounded


# ----------------------------------------------------------------------
# errors, raised before any work


def three_inputs():
    return neurosim.Network(neurosim.layered([3, 2, 1], seed=0))


@pytest.mark.parametrize("function", [decision_map_model, neuron_maps_model])
def test_a_network_without_two_inputs_is_refused(function):
    with pytest.raises(DataError, match=r"two inputs; this network has 3 inputs"):
        function(three_inputs(), extent=(0, 1, 0, 1))
    one = neurosim.Network(neurosim.layered([1, 1], seed=0))
    with pytest.raises(DataError, match=r"has 1 input \(i1\)"):
        function(one, extent=(0, 1, 0, 1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"X": [[0.0, 1.0, 2.0]]}, r"X must have shape \(n_samples, 2\)"),
        ({"X": [[0.0, np.nan]]}, "not finite"),
        ({"X": [[0.0, 1.0]], "labels": [0, 1]}, r"one class per point, shape \(1,\)"),
        ({"X": [[0.0, 1.0]], "labels": [[1.0, 0.0]]}, r"Z.argmax\(axis=1\)"),
        ({"X": [[0.0, 1.0]], "labels": [0.5]}, "whole numbers"),
        ({"X": [[0.0, 1.0]], "labels": [2]}, "label 2 is not a class"),
        ({"labels": [0]}, "without the points X"),
        ({}, "give the data X or an extent"),
        ({"extent": (1, 0, 0, 1)}, "x0 < x1"),
        ({"extent": (0, 1, 0, 1), "steps": 1}, "steps must be an integer >= 2"),
        ({"X": [[0.0, 1.0]], "margin": -1}, "margin must be a number >= 0"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(DataError, match=message):
        decision_map_model(identity_outputs(), **kwargs)


def test_class_names_must_name_every_class():
    with pytest.raises(DataError, match="name the 2 classes, got 3"):
        decision_map_model(
            identity_outputs(), extent=(0, 1, 0, 1), class_names=["a", "b", "c"]
        )


# ----------------------------------------------------------------------
# the figures


def test_decision_map_draws_on_the_given_axes_points_in_class_colours():
    net = identity_outputs()
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.1]])
    _figure, ax = plt.subplots()
    returned = plot.decision_map(
        net, X, [1, 0, 1], ax=ax, steps=20, class_names=["low", "high"]
    )
    assert returned is ax
    points = {c.get_label(): c for c in ax.collections if c.get_label() != "_nolegend_"}
    assert np.allclose(points["low"].get_facecolor()[0], to_rgba(CLASS_COLORS[0]))
    assert np.allclose(points["high"].get_facecolor()[0], to_rgba(CLASS_COLORS[1]))
    assert points["high"].get_offsets().tolist() == [[0.0, 1.0], [0.2, 0.1]]
    # the one the network gets wrong is ringed
    assert points["misclassified"].get_offsets().tolist() == [[0.2, 0.1]]
    assert "accuracy on these 3 points: 66.7%" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "low",
        "high",
        "misclassified",
    ]
    # the background's colour: each pixel its class's colour, paler than the points
    image = ax.get_images()[0].get_array()
    top_left, bottom_right = image[-1, 0], image[0, -1]  # x2 > x1 and x2 < x1
    blue, orange = np.array(to_rgba(CLASS_COLORS[1])[:3]), to_rgba(CLASS_COLORS[0])
    assert np.argmax(top_left) == np.argmax(blue)  # bluest channel
    assert np.argmax(bottom_right) == np.argmax(orange[:3])
    assert ax.get_aspect() == 1.0


def test_decision_map_of_one_output_has_a_colour_bar_and_the_contour():
    data = datasets.circle(n=80, seed=0)
    net = neurosim.Network(neurosim.layered([2, 4, 1], seed=0))
    net.train(data.X, data.labels[:, None], 0.05, epochs=2, batch_size=20)
    ax = plot.decision_map(net, data.X, data.labels, steps=30, title="mine")
    assert ax.get_title() == "mine"
    bar = ax.figure.axes[-1]
    assert bar.get_ylabel() == "network output o1"
    assert ax.get_xlabel() == "i1"
    assert ax.get_ylabel() == "i2"


def test_neuron_maps_are_arranged_by_layer():
    net = neurosim.Network(neurosim.layered([2, 3, 1], seed=0))
    figure = plot.neuron_maps(net, extent=(-1, 1, -1, 1), steps=10)
    maps = {ax.get_label(): ax for ax in figure.axes if ax.get_label()}
    assert list(maps) == ["i1", "i2", "h1", "h2", "h3", "o1"]

    def box(name):
        return maps[name].get_position()

    # layers left to right, each column top down and centred
    assert box("i1").x0 < box("h1").x0 < box("o1").x0
    assert box("h1").x0 == box("h2").x0 == box("h3").x0
    assert box("h1").y0 > box("h2").y0 > box("h3").y0
    assert box("o1").y0 == pytest.approx(box("h2").y0)
    assert maps["h2"].get_title() == "h2"


def test_a_wide_layer_is_drawn_in_columns_of_at_most_eight():
    net = neurosim.Network(neurosim.layered([2, 12, 1], seed=0))
    figure = plot.neuron_maps(net, extent=(-1, 1, -1, 1), steps=4, connections=False)
    maps = {ax.get_label(): ax.get_position() for ax in figure.axes if ax.get_label()}
    columns = sorted({round(maps[f"h{k}"].x0, 6) for k in range(1, 13)})
    assert len(columns) == 2
    left = [k for k in range(1, 13) if round(maps[f"h{k}"].x0, 6) == columns[0]]
    assert left == [1, 2, 3, 4, 5, 6]  # 12 in two columns of 6


def test_computing_the_maps_does_not_import_matplotlib():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import neurosim\n"
        "from neurosim.plot import model_maps\n"
        "net = neurosim.Network(neurosim.layered([2, 1], seed=0))\n"
        "model_maps.neuron_maps_model(net, extent=(0, 1, 0, 1), steps=3)\n"
        "model_maps.decision_map_model(net, extent=(0, 1, 0, 1), steps=3)\n"
        "print('matplotlib' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"

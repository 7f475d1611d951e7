"""Tests of neurosim.plot: every figure renders headless and shows what it says."""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pytest
from matplotlib.patches import FancyArrowPatch
from PIL import Image

import neurosim
from neurosim import plot
from neurosim.errors import DataError
from neurosim.examples import WORKED_EXAMPLE_DATA, worked_example
from neurosim.plot import (
    ARRIVALS_GID,
    BIAS_GID,
    MESSAGE_GID,
    VALUE_GID,
    WEIGHT_GID,
    model_network,
    mpl_animation,
)
from neurosim.plot import labels as plot_labels
from neurosim.trace import Trace

# The worked example (one step by hand on a 2-2-2 identity network).
WORKED_WEIGHTS = nx.get_edge_attributes(worked_example(), "weight")


def layered_graph(sizes, seed=0, weights=None) -> nx.DiGraph:
    rng = np.random.default_rng(seed)
    if weights is not None:
        G = nx.DiGraph()
        G.add_nodes_from(dict.fromkeys(n for edge in weights for n in edge))
        for (u, v), w in weights.items():
            G.add_edge(u, v, weight=w)
        return G
    layers, first = [], 0
    for n in sizes:
        layers.append(list(range(first, first + n)))
        first += n
    G = nx.DiGraph()
    G.add_nodes_from(n for layer in layers for n in layer)
    for a, b in itertools.pairwise(layers):
        for u in a:
            for v in b:
                G.add_edge(u, v, weight=float(rng.normal()))
    return G


def fake_trace(G: nx.DiGraph, iterations=1, seed=0) -> Trace:
    """Rows laid out as the engine records them, all delays 1.

    Forward on layer k -> k+1 sent at k, received at k+1; backward from the
    outputs down to the first hidden layer; each neuron updates when its
    deltas have arrived. Values are arbitrary numbers.
    """
    rng = np.random.default_rng(seed)
    layers = [
        sorted(layer, key=list(G.nodes).index)
        for layer in nx.topological_generations(G)
    ]
    depth = {n: k for k, layer in enumerate(layers) for n in layer}
    last = len(layers) - 1
    w = {(u, v): d["weight"] for u, v, d in G.edges(data=True)}
    messages, updates = [], []
    t0 = 0.0
    for k in range(iterations):
        for u, v in G.edges:
            d = depth[u]
            messages.append(
                (0, k, "forward", u, v, t0 + d, t0 + d + 1, float(rng.normal()))
            )
            if d > 0:
                sent = t0 + last + (last - depth[v])
                messages.append(
                    (0, k, "backward", v, u, sent, sent + 1, float(rng.normal()))
                )
        for u, v in G.edges:
            time = t0 + last + (last - depth[v])
            new = w[u, v] - 0.1 * float(rng.normal())
            updates.append((0, k, v, u, w[u, v], new, time))
            w[u, v] = new
        t0 += 2 * last
    return Trace.from_rows(messages, updates, list(G.nodes))


@pytest.fixture
def worked():
    G = layered_graph(None, weights=WORKED_WEIGHTS)
    return fake_trace(G, iterations=3), G


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def arrows(ax) -> list[FancyArrowPatch]:
    return [p for p in ax.patches if p.get_gid() == MESSAGE_GID]


def texts(ax, gid) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def saved_png(figure, path: Path) -> tuple[int, int]:
    figure.savefig(path, dpi=80)
    assert path.stat().st_size > 1000
    with Image.open(path) as image:
        return image.size


# ----------------------------------------------------------------------
# timeline


def test_timeline_worked_example(worked, tmp_path):
    trace, _ = worked
    ax = plot.timeline(trace)
    first = trace.filter(epoch=0, sample=0)
    assert len(arrows(ax)) == len(first) == 12
    assert len(texts(ax, VALUE_GID)) == 12  # small: values written
    assert ax.get_title() == "Messages of epoch 0, sample 0"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["i1", "i2", "h1", "h2", "o1", "o2"]  # inputs at the top
    assert ax.get_ylim()[0] > ax.get_ylim()[1]
    width, height = saved_png(ax.figure, tmp_path / "timeline.png")
    assert width > 400
    assert height > 200


def test_timeline_arrows_go_from_sender_to_receiver(worked):
    trace, _ = worked
    ax = plot.timeline(trace, values=False)
    assert texts(ax, VALUE_GID) == []
    lanes = {"i1": 0, "i2": 1, "h1": 2, "h2": 3, "o1": 4, "o2": 5}
    first = trace.filter(epoch=0, sample=0)
    # get_path() is in data coordinates; the arrow starts at the sender.
    drawn = sorted(
        (tuple(np.round(a.get_path().vertices[0], 6)), a.get_edgecolor())
        for a in arrows(ax)
    )
    expected = sorted(
        ((t0, lanes[u]), plt.matplotlib.colors.to_rgba(plot.COLORS[kind]))
        for u, t0, kind in zip(first.source, first.sent_at, first.kind, strict=True)
    )
    assert drawn == expected


def test_timeline_selection(worked):
    trace, _ = worked
    ax = plot.timeline(trace, sample=[1, 2])
    assert len(arrows(ax)) == 24
    assert len(texts(ax, VALUE_GID)) == 24  # at most 40: values written
    assert "samples 1–2" in ax.get_title()
    _, ax = plt.subplots()
    assert plot.timeline(trace, epoch=0, sample=2, ax=ax) is ax
    assert len(arrows(ax)) == 12


def test_timeline_values_only_on_small_selections():
    trace = fake_trace(layered_graph([4, 5, 3]))
    ax = plot.timeline(trace)
    assert len(arrows(ax)) == len(trace) == 20 + 15 + 15
    assert texts(ax, VALUE_GID) == []
    ax = plot.timeline(trace, values=True)
    assert len(texts(ax, VALUE_GID)) == 50


def test_timeline_from_reloaded_csv(worked, tmp_path):
    trace, _ = worked
    trace.to_csv(tmp_path / "trace.csv")
    ax = plot.timeline(Trace.read_csv(tmp_path / "trace.csv"), sample=1)
    assert len(arrows(ax)) == 12
    saved_png(ax.figure, tmp_path / "reloaded.png")


def test_timeline_aggregates_large_traces(tmp_path):
    trace = fake_trace(layered_graph([40, 40, 10]))
    assert len(trace) > 2000
    ax = plot.timeline(trace)
    assert arrows(ax) == []
    assert "aggregated" in ax.get_title()
    assert any(c.get_gid() == ARRIVALS_GID for c in ax.collections)
    # Lanes are labelled per layer.
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "input\n(40)",
        "hidden\n(40)",
        "output\n(10)",
    ]
    saved_png(ax.figure, tmp_path / "aggregated.png")


def test_timeline_aggregates_many_lanes():
    trace = fake_trace(layered_graph([70, 1]))  # 70 messages, 71 lanes
    ax = plot.timeline(trace)
    assert arrows(ax) == []
    assert "aggregated" in ax.get_title()


def test_timeline_empty_trace():
    ax = plot.timeline(Trace.from_rows([], [], ["a", "b"]))
    assert arrows(ax) == []


# ----------------------------------------------------------------------
# network


def test_network_writes_each_weight(worked, tmp_path):
    _, G = worked
    ax = plot.network(G, title="worked example")
    labels = texts(ax, WEIGHT_GID)
    assert len(labels) == G.number_of_edges() == 8
    expected = sorted(plot_labels._fmt(w) for w in WORKED_WEIGHTS.values())
    assert sorted(labels) == expected
    assert ax.get_title() == "worked example"
    saved_png(ax.figure, tmp_path / "network.png")


def test_network_writes_biases_when_some_are_not_zero(worked):
    _, G = worked
    assert texts(plot.network(G), BIAS_GID) == []  # all zero: nothing written
    G = G.copy()
    G.nodes["o2"]["bias"] = -0.25
    labels = texts(plot.network(G), BIAS_GID)
    assert sorted(labels) == ["b = 0"] * 3 + ["b = −0.25"]


def test_network_hides_weights_on_large_nets(tmp_path):
    G = layered_graph([5, 5, 5])
    ax = plot.network(G)
    assert texts(ax, WEIGHT_GID) == []
    ax = plot.network(G, show_weights=True, colorbar=False)
    assert len(texts(ax, WEIGHT_GID)) == 50
    big = plot.network(layered_graph([30, 30, 30]))
    saved_png(big.figure, tmp_path / "big.png")


def test_network_accepts_to_graph(worked):
    _, G = worked

    class Net:
        def to_graph(self):
            return G

    ax = plot.network(Net())
    assert len(texts(ax, WEIGHT_GID)) == 8
    with pytest.raises(TypeError, match="to_graph"):
        plot.network(object())
    with pytest.raises(DataError, match="cycle"):
        plot.network(nx.DiGraph([(0, 1, {"weight": 1.0}), (1, 0, {"weight": 1.0})]))


def test_network_change_shares_the_colour_scale(worked, tmp_path):
    _, before = worked
    after = before.copy()
    after["h1"]["o1"]["weight"] = -6.0
    figure = plot.network_change(before, after)
    left, right = figure.axes[:2]
    assert left.get_title() == "before training"
    assert right.get_title() == "after training"
    # The same weight has the same colour in both panels.
    same = [e for e in before.edges if e != ("h1", "o1")]
    i = list(before.edges).index(same[0])
    colors = [ax.collections[0].get_colors()[i] for ax in (left, right)]
    np.testing.assert_allclose(colors[0], colors[1])
    assert "−6" in texts(right, WEIGHT_GID)
    width, height = saved_png(figure, tmp_path / "change.png")
    assert width > 2 * height


# ----------------------------------------------------------------------
# loss


def test_loss_log_scale_and_epochs(tmp_path):
    values = np.geomspace(100, 0.01, 12)
    ax = plot.loss(values, samples_per_epoch=4)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "epoch"
    _, means = ax.get_lines()
    np.testing.assert_allclose(means.get_ydata(), values.reshape(3, 4).mean(axis=1))
    saved_png(ax.figure, tmp_path / "loss.png")


def test_loss_linear_and_history():
    class History:
        def __init__(self):
            self.loss = [1.0, 0.8, 0.9, 0.5]
            self.samples_per_epoch = 2

    ax = plot.loss(History())
    assert ax.get_yscale() == "linear"
    assert ax.get_xlabel() == "epoch"
    ax = plot.loss(np.ones((3, 2)))  # epochs x samples
    assert len(ax.get_lines()) == 2
    ax = plot.loss([3.0, 2.0, 1.0])
    assert ax.get_xlabel() == "iteration"


def test_loss_counts_epochs_and_iterations_from_0():
    """Epoch k's mean at x = k, as history.epoch_loss[k] and the trace number it."""
    import neurosim

    net = neurosim.Network(neurosim.layered([2, 2, 1], seed=0))
    X, Z = [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]]
    history = net.train(X, Z, epochs=3, batch_size=2)
    ax = plot.loss(history.loss, samples_per_epoch=4)  # 4 samples, 2 per batch
    dots, means = ax.get_lines()
    np.testing.assert_array_equal(means.get_xdata(), [0, 1, 2])
    np.testing.assert_array_equal(means.get_ydata(), history.epoch_loss)
    # each epoch's samples spread evenly around its number
    np.testing.assert_allclose(
        dots.get_xdata(), np.repeat([0, 1, 2], 4) + np.tile([-3, -1, 1, 3], 3) / 8
    )
    assert ax.get_xlim() == (-0.5, 2.5)
    assert [t.get_text() for t in ax.get_xticklabels()][1:4] == ["0", "1", "2"]
    ax = plot.loss([3.0, 2.0, 1.0])  # iterations
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [0, 1, 2])


def test_loss_divergence():
    ax = plot.loss([114.7, 1e3, 1e6, float("inf"), float("nan")])
    assert "diverged" in ax.get_title()
    assert ax.get_yscale() == "log"
    with pytest.raises(DataError):
        plot.loss(np.ones((2, 2, 2)))


# ----------------------------------------------------------------------
# animation


def gif_frames(path: Path) -> tuple[int, tuple[int, int]]:
    with Image.open(path) as image:
        return image.n_frames, image.size


def test_animate_worked_example(worked, tmp_path):
    trace, G = worked
    path = plot.animate(trace, G, tmp_path / "iteration.gif", fps=6)
    assert path == tmp_path / "iteration.gif"
    frames, size = gif_frames(path)
    assert frames > 10
    assert size == (800, 450)


def test_animate_without_graph_from_csv(worked, tmp_path):
    trace, _ = worked
    trace.to_csv(tmp_path / "trace.csv")
    reloaded = Trace.read_csv(tmp_path / "trace.csv")
    path = plot.animate(reloaded, None, tmp_path / "a.gif", sample=2, frames=5, dpi=50)
    frames, size = gif_frames(path)
    assert frames > 1
    assert size == (400, 225)


def test_animate_unknown_iteration(worked, tmp_path):
    trace, G = worked
    with pytest.raises(DataError, match="no iteration"):
        plot.animate(trace, G, tmp_path / "a.gif", epoch=5)


def test_starting_weights_come_from_the_trace(worked):
    trace, G = worked
    weights = model_network._weights_of(G)
    # A graph after training gives the same start as the graph before.
    assert model_network._starting_weights(trace, weights, 0, 0) == weights
    second = model_network._starting_weights(trace, weights, 0, 1)
    first_updates = trace.filter(sample=0).updates
    for u, v, new in zip(
        first_updates.source, first_updates.neuron, first_updates.new, strict=True
    ):
        assert second[u, v] == new
    trained = {e: 99.0 for e in weights}
    assert model_network._starting_weights(trace, trained, 0, 0) == weights


# ----------------------------------------------------------------------
# layering


def test_plot_never_imports_the_engine():
    imported = set()
    for path in Path(plot.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
    forbidden = {"trio", "neurosim.network", "neurosim.simulation", "neurosim.neuron"}
    assert not {name for name in imported if name.split(".")[0] == "trio"}
    assert not imported & forbidden
    outside = {
        name
        for name in imported
        if name.startswith("neurosim") and not name.startswith("neurosim.plot")
    }
    assert outside <= {
        "neurosim._files",  # the one way a file is written
        "neurosim.graph",
        "neurosim.messages",
        "neurosim.trace",
        "neurosim.errors",
    }


def test_the_figures_take_the_kinds_from_the_one_table():
    package = Path(plot.__file__).parent
    for path in package.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert '"forward", "backward"' not in text, path.name


def test_the_figure_models_do_not_import_matplotlib():
    """The models are plain data: an HTML page (or a test) reads them without
    matplotlib; only the renderers import it, when first used."""
    code = (
        "import sys\n"
        "import neurosim.plot\n"
        "from neurosim.plot import html, labels, model_maps, model_network\n"
        "from neurosim.plot import model_page\n"
        "from neurosim.plot import model_timeline, style\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))\n"
        "neurosim.plot.timeline\n"
        "print('matplotlib' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[:2] == ["[]", "True"]


def test_loss_overlays_labelled_runs_in_distinct_colours():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    plot.loss(np.linspace(1.0, 0.1, 6), samples_per_epoch=2, ax=ax, label="sgd")
    plot.loss(np.linspace(1.0, 0.5, 6), samples_per_epoch=2, ax=ax, label="adam")
    labelled = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert [line.get_label() for line in labelled] == ["sgd", "adam"]
    assert labelled[0].get_color() != labelled[1].get_color()
    plt.close(fig)


def test_timeline_value_labels_do_not_overlap():
    import matplotlib.pyplot as plt

    import neurosim
    from neurosim.examples import article_network

    rng = np.random.default_rng(0)
    X, Z = rng.uniform(-1, 1, (1, 2)), rng.uniform(0, 1, (1, 1))
    trace = neurosim.Network(article_network()).train(X, Z, record=True).trace
    ax = plot.timeline(trace)
    boxes = rendered_boxes(ax, VALUE_GID)  # turned with their label
    # 14 forward messages carry 7 values (each sent to two or three
    # neurons at once): one label each, and one per backward message.
    assert len(boxes) == 7 + 8
    assert overlapping(boxes) == []
    plt.close(ax.figure)


# ----------------------------------------------------------------------
# labels clear of each other (rendered geometry)


def rendered_boxes(ax, gid) -> list[Path]:
    """The white boxes of the labels with `gid`, as drawn (display pixels)."""
    from matplotlib.path import Path as MplPath

    ax.figure.canvas.draw()
    boxes = []
    for text in ax.texts:
        if text.get_gid() == gid and text.get_visible():
            patch = text.get_bbox_patch()
            path = patch.get_path().transformed(patch.get_transform())
            boxes.append(MplPath(path.vertices[:-1]).cleaned())  # closed polygon
    return boxes


def overlapping(boxes) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(len(boxes))
        for j in range(i)
        if boxes[i].intersects_path(boxes[j], filled=True)
    ]


def edge_lines(ax, G) -> list:
    """Each connection as drawn: a segment between its neurons' centres."""
    from matplotlib.path import Path as MplPath

    pos = model_network._positions(model_network._graph_layers(G))
    return [MplPath(ax.transData.transform([pos[u], pos[v]])) for u, v in G.edges]


def fully_connected_graphs():
    from neurosim.examples import article_network
    from neurosim.graph import layered

    return {"article": article_network(), "xor": layered([2, 3, 1], seed=0)}


@pytest.mark.parametrize("name", ["article", "xor"])
def test_network_weight_labels_do_not_overlap(name):
    G = fully_connected_graphs()[name]
    ax = plot.network(G)
    boxes = rendered_boxes(ax, WEIGHT_GID)
    assert len(boxes) == G.number_of_edges()
    assert overlapping(boxes) == []
    # Nor in either panel of a comparison, whose axes are narrower.
    after = G.copy()
    for u, v in after.edges:
        after[u][v]["weight"] *= -7.25
    figure = plot.network_change(G, after)
    for ax in figure.axes[:2]:
        boxes = rendered_boxes(ax, WEIGHT_GID)
        assert len(boxes) == G.number_of_edges()
        assert overlapping(boxes) == []


@pytest.mark.parametrize("name", ["article", "xor"])
def test_network_bias_labels_clear_of_connections(name):
    G = fully_connected_graphs()[name]
    figure = plot.network_change(G, G)
    for ax in figure.axes[:2]:
        biases = rendered_boxes(ax, BIAS_GID)
        assert len(biases) == G.number_of_nodes() - 2  # every neuron
        lines = edge_lines(ax, G)
        crossed = [
            (i, j)
            for i, box in enumerate(biases)
            for j, line in enumerate(lines)
            if box.intersects_path(line, filled=True)
        ]
        assert crossed == []
        labels = biases + rendered_boxes(ax, WEIGHT_GID)
        assert overlapping(labels) == []


def test_animation_heading_fits_a_long_title(worked, tmp_path, monkeypatch):
    """Title, legend, clock and phase never overlap, on any frame."""
    trace, G = worked
    title = "worked example, η = 0.1: one training step"
    assert len(title) >= 40
    seen = []

    class Recorder(mpl_animation._GifWriter):
        def grab_frame(self, **savefig_kwargs):
            super().grab_frame(**savefig_kwargs)
            figure = self.fig
            renderer = figure.canvas.get_renderer()
            shown = [t for t in figure.texts if t.get_text()]
            names = [t.get_text() for t in shown] + ["legend"] * len(figure.legends)
            boxes = [t.get_window_extent(renderer) for t in shown]
            boxes += [legend.get_window_extent(renderer) for legend in figure.legends]
            seen.append((names, boxes, figure.bbox))

    monkeypatch.setattr(mpl_animation, "_GifWriter", Recorder)
    plot.animate(trace, G, tmp_path / "a.gif", fps=4, title=title)
    assert seen
    for names, boxes, frame in seen:
        assert title in names
        assert len(boxes) >= 3  # the title, the clock, the legend (and the phase)
        outside = [
            name
            for name, box in zip(names, boxes, strict=True)
            if not (frame.x0 <= box.x0 <= box.x1 <= frame.x1)
            or not (frame.y0 <= box.y0 <= box.y1 <= frame.y1)
        ]
        assert outside == []
        clashes = [
            (names[i], names[j])
            for i in range(len(boxes))
            for j in range(i)
            if boxes[i].overlaps(boxes[j])
        ]
        assert clashes == []


def test_loss_many_samples_per_epoch_stay_readable():
    """Samples of very different losses: a light band behind the mean, no zigzag."""
    epochs, per = 500, 4
    e = np.arange(epochs)[:, None]
    scales = np.array([1.0, 1e-3, 3e-2, 1e-4])[None, :] ** (e / epochs)
    values = ((0.2 / (1 + e / 20)) * scales).ravel()
    ax = plot.loss(values, samples_per_epoch=per)
    assert ax.get_yscale() == "log"
    # No line joins the samples: every line has at most one point per epoch.
    assert all(len(line.get_xdata()) <= epochs for line in ax.get_lines())
    (mean,) = ax.get_lines()
    np.testing.assert_allclose(mean.get_ydata(), values.reshape(epochs, per).mean(1))
    # The band spans each epoch's lowest to highest sample, light and behind.
    (band,) = [c for c in ax.collections if c.get_label().startswith("per sample")]
    assert band.get_alpha() <= 0.4
    assert band.get_zorder() < mean.get_zorder()
    ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
    grid = values.reshape(epochs, per)
    np.testing.assert_allclose(ys.min(), grid.min(axis=1).min())
    np.testing.assert_allclose(ys.max(), grid.max(axis=1).max())
    # The mean is the boldest thing on the plot.
    assert mean.get_linewidth() >= 2


def test_loss_few_epochs_show_each_sample_as_a_dot():
    values = np.geomspace(1.0, 0.01, 40)
    ax = plot.loss(values, samples_per_epoch=4)
    dots, mean = ax.get_lines()
    assert dots.get_linestyle() == "None"  # dots, not a zigzag line
    assert len(dots.get_xdata()) == 40
    assert mean.get_zorder() > dots.get_zorder()
    assert mean.get_linewidth() > dots.get_linewidth()


def test_timeline_value_labels_clear_of_arrowheads_and_updates():
    import neurosim
    from neurosim.examples import article_network

    rng = np.random.default_rng(0)
    X, Z = rng.uniform(-1, 1, (1, 2)), rng.uniform(0, 1, (1, 1))
    trace = neurosim.Network(article_network()).train(X, Z, record=True).trace
    ax = plot.timeline(trace)
    boxes = rendered_boxes(ax, VALUE_GID)
    assert len(boxes) == len(plot.timeline_model(trace).labels) == 7 + 8
    lanes = {str(t.get_text()): k for k, t in enumerate(ax.get_yticklabels())}
    tips = [
        (t, lanes[str(v)])
        for t, v in zip(trace.received_at, trace.destination, strict=True)
    ]
    marks = [
        (t, lanes[str(v)])
        for t, v in zip(trace.updates.time, trace.updates.neuron, strict=True)
    ]
    points = ax.transData.transform(np.array(tips + marks, dtype=float))
    clearance = 4 * ax.figure.dpi / 72  # 4 points around an arrow's tip or a diamond
    too_close = []
    for i, box in enumerate(boxes):
        extent = box.get_extents()
        dx = np.maximum(
            np.maximum(extent.x0 - points[:, 0], points[:, 0] - extent.x1), 0
        )
        dy = np.maximum(
            np.maximum(extent.y0 - points[:, 1], points[:, 1] - extent.y1), 0
        )
        too_close += [(i, int(j)) for j in np.flatnonzero(np.hypot(dx, dy) < clearance)]
    assert too_close == []


# ----------------------------------------------------------------------
# the timeline: samples in flight, lost, duplicated and late messages


def faulty_trace(**faults):
    """Eight samples, three in flight, on unreliable connections."""
    import neurosim

    net = neurosim.Network(neurosim.layered([2, 3, 1], seed=0))
    options = {"drop": 0.2, "duplicate": 0.1, "on_missing": "zero", "seed": 1}
    history = net.train(
        [[0, 1]] * 8,
        [[1]] * 8,
        in_flight=3,
        interval=0.5,
        faults=neurosim.Faults(**(options | faults)),
        record=True,
    )
    return history.trace


def fate_points(ax, gid) -> np.ndarray:
    points = [c.get_offsets() for c in ax.collections if c.get_gid() == gid]
    return np.concatenate(points) if points else np.empty((0, 2))


def legend_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.mark.parametrize("color_by", ["kind", "sample"])
def test_timeline_marks_each_lost_message_where_it_would_arrive(color_by):
    trace = faulty_trace()
    selected = trace.filter(sample=range(8))
    lost = selected.filter(fate="dropped")
    late = selected.filter(fate="late")
    assert len(lost) > 3  # the test means something
    assert len(late) > 3
    ax = plot.timeline(trace, sample=range(8), color_by=color_by, values=False)
    assert len(arrows(ax)) == len(selected)  # lost and late ones are drawn too
    crosses = fate_points(ax, plot.DROPPED_GID)
    assert len(crosses) == len(lost)
    lane = {t.get_text(): y for y, t in enumerate(ax.get_yticklabels())}
    expected = {
        (t, lane[v]) for t, v in zip(lost.received_at, lost.destination, strict=True)
    }
    assert {(float(x), int(y)) for x, y in crosses} == expected
    assert len(fate_points(ax, plot.LATE_GID)) == len(late)
    labels = legend_labels(ax)
    assert "lost (× where it would arrive)" in labels
    assert "late (○ arrival, ignored)" in labels
    assert "duplicate copy (ignored)" in labels
    assert "lost" in ax.get_title()
    assert "late" in ax.get_title()


def test_timeline_lost_and_late_messages_have_no_arrowhead_and_are_faded():
    trace = faulty_trace()
    selected = trace.filter(sample=range(8))
    ax = plot.timeline(trace, sample=range(8), values=False)
    patches = arrows(ax)
    fates = selected.fate
    delivered = [p for p, f in zip(patches, fates, strict=True) if f == "delivered"]
    faded = [p for p, f in zip(patches, fates, strict=True) if f in ("dropped", "late")]
    copies = [p for p, f in zip(patches, fates, strict=True) if f == "duplicate"]
    assert faded
    assert copies
    assert max(p.get_alpha() for p in faded) < min(p.get_alpha() for p in delivered)
    assert all(type(p.get_arrowstyle()).__name__ == "Curve" for p in faded)
    assert all(p.get_linestyle() not in ("-", "solid") for p in copies)
    assert max(p.get_linewidth() for p in copies) < min(
        p.get_linewidth() for p in delivered
    )


def test_timeline_without_faults_has_no_fate_marks(worked):
    trace, _ = worked
    ax = plot.timeline(trace)
    assert len(fate_points(ax, plot.DROPPED_GID)) == 0
    assert len(fate_points(ax, plot.LATE_GID)) == 0
    assert legend_labels(ax) == ["forward", "backward", "update"]
    assert ax.get_title() == "Messages of epoch 0, sample 0"


def test_timeline_color_by_sample_gives_each_iteration_its_colour(worked):
    from matplotlib.colors import to_hex

    trace, _ = worked
    ax = plot.timeline(trace, sample=[0, 1, 2], color_by="sample")
    selected = trace.filter(sample=[0, 1, 2])
    patches = arrows(ax)
    assert len(patches) == len(selected)
    colours = [to_hex(p.get_edgecolor()) for p in patches]
    assert len(set(colours)) == 3
    for s in range(3):  # one colour per sample, and only that sample's
        mine = {c for c, k in zip(colours, selected.sample, strict=True) if k == s}
        assert len(mine) == 1
    # the kind is the line style now: forward solid, backward dashed
    styles = {
        kind: {
            str(p.get_linestyle())
            for p, k in zip(patches, selected.kind, strict=True)
            if k == kind
        }
        for kind in ("forward", "backward")
    }
    assert len(styles["forward"]) == len(styles["backward"]) == 1
    assert styles["forward"] != styles["backward"]
    assert legend_labels(ax) == [
        "sample 0",
        "sample 1",
        "sample 2",
        "forward (solid)",
        "backward (dashed)",
        "update",
    ]


def test_timeline_color_by_sample_legend_stays_short():
    G = layered_graph([2, 2, 1])
    trace = fake_trace(G, iterations=14)
    ax = plot.timeline(trace, sample=range(14), color_by="sample", values=False)
    labels = legend_labels(ax)
    samples = [t for t in labels if t.startswith("sample")]
    assert samples == [f"sample {k}" for k in range(9)]
    assert "… 5 more (colours repeat)" in labels
    colours = {p.get_edgecolor() for p in arrows(ax)}
    assert len(colours) == len(plot.SAMPLE_COLORS)  # cycled


def test_timeline_color_by_kind_is_the_default(worked):
    trace, _ = worked
    by_kind = [p.get_edgecolor() for p in arrows(plot.timeline(trace))]
    explicit = [
        p.get_edgecolor() for p in arrows(plot.timeline(trace, color_by="kind"))
    ]
    assert by_kind == explicit
    assert len(set(by_kind)) == 2  # forward and backward


@pytest.mark.parametrize("bad", ["epoch", "Kind", None, 1])
def test_timeline_bad_color_by(worked, bad):
    trace, _ = worked
    with pytest.raises(DataError, match="color_by"):
        plot.timeline(trace, color_by=bad)


def test_timeline_raster_marks_lost_messages():
    import neurosim

    net = neurosim.Network(neurosim.layered([8, 8, 8, 2], seed=0))
    rng = np.random.default_rng(0)
    history = net.train(
        rng.uniform(size=(16, 8)),
        rng.uniform(size=(16, 2)),
        epochs=2,
        faults=neurosim.Faults(drop=0.02, on_missing="last", seed=0),
        record=True,
    )
    trace = history.trace
    ax = plot.timeline(trace, epoch=[0, 1])
    assert "aggregated" in ax.get_title()
    lost = trace.filter(fate="dropped")
    assert len(lost) > 10
    assert len(fate_points(ax, plot.DROPPED_GID)) == len(lost)
    arrivals = sum(
        len(c.get_offsets()) for c in ax.collections if c.get_gid() == ARRIVALS_GID
    )
    assert arrivals > 0
    assert "lost" in legend_labels(ax)


def test_timeline_fates_survive_a_csv_round_trip(tmp_path):
    trace = faulty_trace()
    trace.to_csv(tmp_path / "trace.csv")
    again = Trace.read_csv(tmp_path / "trace.csv")
    ax = plot.timeline(again, sample=range(8), values=False)
    assert len(fate_points(ax, plot.DROPPED_GID)) == len(trace.filter(fate="dropped"))


# ----------------------------------------------------------------------
# the timeline model: what the figure shows, as plain data


def points_of(model, xy):
    """Data coordinates in the model's nominal points (y upwards)."""
    x0, y0, x1, y1 = model.plot_box
    (a, b), (bottom, top) = model.xlim, model.ylim
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return np.stack(
        [
            x0 + (xy[:, 0] - a) / (b - a) * (x1 - x0),
            y0 + (xy[:, 1] - bottom) / (top - bottom) * (y1 - y0),
        ],
        axis=1,
    )


def label_boxes(model, factor=1.0):
    """Each value label's box (turned with it) in the model's nominal points,
    as a closed polygon; `factor` shrinks it about its centre."""
    from matplotlib.path import Path as MplPath

    centres = points_of(model, [(label.x, label.y) for label in model.labels])
    boxes = []
    for (x, y), label in zip(centres, model.labels, strict=True):
        a = np.radians(label.angle)
        u, n = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
        w, h = factor * label.width / 2, factor * label.height / 2
        corners = [
            (x, y) + su * w * u + sn * h * n
            for su, sn in ((-1, -1), (1, -1), (1, 1), (-1, 1))
        ]
        boxes.append(MplPath([*corners, corners[0]], closed=True))
    return boxes


def arrows_under(model, box, own):
    """The arrows (but `own`) that pass through a label's box."""
    hit = []
    for k, arrow in enumerate(model.arrows):
        if k in own:
            continue
        p, q = points_of(model, [arrow.start, arrow.end])
        samples = p + np.linspace(0, 1, 400)[:, None] * (q - p)
        if box.contains_points(samples).any():
            hit.append(k)
    return hit


@pytest.fixture(scope="module")
def worked_step():
    import neurosim
    from neurosim.examples import WORKED_EXAMPLE_DATA

    net = neurosim.Network(worked_example())
    return net.train(*WORKED_EXAMPLE_DATA, learning_rate=0.1, record=True).trace


def test_timeline_model_writes_each_value_sent_once(worked_step):
    """The worked example's inputs send 1 and 1.5 to both hidden neurons,
    which send 4.5 and 5.75 to both outputs: one label each, in the fan of
    its two arrows (they used to stack in pairs)."""
    model = plot.timeline_model(worked_step)
    forward = [label for label in model.labels if label.color == plot.COLORS["forward"]]
    assert [label.text for label in forward] == ["1", "1.5", "4.5", "5.75"]
    assert [len(label.arrows) for label in forward] == [2, 2, 2, 2]
    for label in forward:
        senders = {model.arrows[k].source for k in label.arrows}
        assert len(senders) == 1
    backward = [label.text for label in model.labels if label not in forward]
    assert sorted(backward) == sorted(["−6.93", "−2.887", "−35", "−14"])


def crossings(model):
    """Where two arrows cross, in the model's nominal points."""
    points = []
    segments = [points_of(model, [a.start, a.end]) for a in model.arrows]
    for i in range(len(segments)):
        for j in range(i):
            (p, q), (r, t) = segments[i], segments[j]
            d = np.array([[q[0] - p[0], r[0] - t[0]], [q[1] - p[1], r[1] - t[1]]])
            if abs(np.linalg.det(d)) < 1e-9:
                continue
            f, g = np.linalg.solve(d, r - p)
            if 1e-6 < f < 1 - 1e-6 and 1e-6 < g < 1 - 1e-6:
                points.append(p + f * (q - p))
    return points


def test_timeline_model_labels_are_clear(worked_step):
    """No two labels overlap, no label covers a crossing of two arrows (the
    −35 used to sit where two backward arrows cross) and no other arrow
    passes through a label's middle."""
    model = plot.timeline_model(worked_step)
    boxes = label_boxes(model)
    assert all(label.clear for label in model.labels)
    assert overlapping(boxes) == []
    points = crossings(model)
    assert len(points) == 3  # i1→h2 × i2→h1, h1→o2 × h2→o1, o1→h2 × o2→h1
    covered = [
        label.text
        for label, box in zip(model.labels, boxes, strict=True)
        if box.contains_points(points).any()
    ]
    assert covered == []
    through = {
        label.text: arrows_under(model, box, label.arrows)
        for label, box in zip(model.labels, label_boxes(model, 0.6), strict=True)
    }
    assert through == {text: [] for text in through}
    # All are clear of every other arrow, not only in their middle (−2.887
    # has no room level between the crossings: it is turned along its arrow).
    assert [label.text for label in model.labels if label.angle] == ["−2.887"]
    whole = [
        arrows_under(model, box, label.arrows)
        for label, box in zip(model.labels, boxes, strict=True)
    ]
    assert whole == [[]] * len(model.labels)


def test_timeline_model_article_network_forward_labels_do_not_pile():
    import neurosim
    from neurosim.examples import article_network

    trace = (
        neurosim.Network(article_network())
        .train([[1.0, 0.5]], [[1.0]], learning_rate=0.5, record=True)
        .trace
    )
    model = plot.timeline_model(trace)
    forward = [a for a in model.arrows if a.kind == "forward"]
    labels = [
        label
        for label in model.labels
        if model.arrows[label.arrows[0]].kind == "forward"
    ]
    assert len(forward) == 14
    assert len(labels) == 7  # x1, x2, 1, 2, 3, 4, 5: each sends one value
    assert overlapping(label_boxes(model)) == []


@pytest.fixture(scope="module")
def batch_trace():
    import neurosim

    net = neurosim.Network(worked_example())
    X = [[1.0, 1.5], [0.5, 0.2], [0.1, 0.9], [0.3, 0.3]]
    history = net.train(
        X, [[0.0, 1.0]] * 4, learning_rate=0.1, batch_size=4, record=True
    )
    return history.trace


def test_timeline_of_a_batch_says_batch(batch_trace):
    model = plot.timeline_model(batch_trace)
    assert model.batch
    assert model.title.startswith("Messages of epoch 0, batch 0")
    assert "sample" not in model.title.split("\n")[0]
    assert "the first of the batch's 4 samples" in model.title
    by_sample = plot.timeline_model(batch_trace, color_by="sample")
    assert by_sample.legend[0].label == "batch 0"
    # A batch's vector is written by its first sample: as short as a number.
    assert [label.text for label in model.labels][:2] == ["[1, …]", "[1.5, …]"]
    assert overlapping(label_boxes(model)) == []
    ax = plot.timeline(batch_trace)
    assert ax.get_title() == model.title


@pytest.fixture(scope="module")
def mnist_like_trace():
    import neurosim

    net = neurosim.Network(neurosim.layered([784, 32, 10], seed=0))
    X = np.random.default_rng(0).random((1, 784))
    return net.train(X, np.eye(10)[[3]], learning_rate=0.1, record=True).trace


def test_timeline_lanes_take_height_by_what_they_show(mnist_like_trace):
    """784-32-10: the input lanes receive nothing; they used to take 95% of
    the height (784 of 826 lanes) and squeeze the hidden and output layers
    and their labels together."""
    model = plot.timeline_model(mnist_like_trace)
    assert model.aggregated
    bottom, top = model.ylim
    share = {band.name: (band.y1 - band.y0) / (bottom - top) for band in model.bands}
    assert [band.quiet for band in model.bands] == [True, False, False]
    assert share["input"] < 0.1
    assert share["hidden"] > 0.6
    assert share["output"] > 0.2
    # Each band has room for its two-line label, in the nominal figure.
    points_per_unit = (model.plot_box[3] - model.plot_box[1]) / (bottom - top)
    for band in model.bands:
        assert (band.y1 - band.y0) * points_per_unit > 2 * 1.2 * 10
    # The lanes of a band fill it, in order.
    hidden = [lane for lane in model.lanes if lane.layer == 1]
    assert hidden[0].y - hidden[0].height / 2 == pytest.approx(model.bands[1].y0)
    assert np.all(np.diff([lane.y for lane in hidden]) > 0)


def test_timeline_band_labels_do_not_overlap_when_drawn(mnist_like_trace):
    ax = plot.timeline(mnist_like_trace)
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.get_yticklabels()]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "input\n(784)",
        "hidden\n(32)",
        "output\n(10)",
    ]
    assert not any(boxes[i].overlaps(boxes[j]) for i in range(3) for j in range(i))


def test_timeline_model_to_dict_is_plain_json(worked_step):
    import json

    model = plot.timeline_model(worked_step)
    data = model.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert set(data) >= {
        "title",
        "lanes",
        "bands",
        "arrows",
        "labels",
        "updates",
        "legend",
    }
    assert [lane["name"] for lane in data["lanes"]] == [
        "i1",
        "i2",
        "h1",
        "h2",
        "o1",
        "o2",
    ]
    first = data["arrows"][0]
    assert (first["kind"], first["source"], first["value"]) == ("forward", "i1", 1.0)
    assert len(data["arrows"]) == len(worked_step)
    assert len(data["updates"]) == 4  # the marks: one per neuron and time
    assert "TimelineModel" in repr(model)


def test_a_network_without_biases_writes_none_after_training():
    """``to_graph`` writes NaN for "no bias"; the figure must not say b = nan."""
    G = worked_example()
    net = neurosim.Network(G)
    X, Z = WORKED_EXAMPLE_DATA
    net.train(X, Z, learning_rate=0.1)
    figure = plot.network_change(G, net)
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    assert not [t for t in texts if "nan" in t]
    assert not [
        t for ax in figure.axes for t in ax.texts if t.get_gid() == plot.BIAS_GID
    ]
    plt.close(figure)
    H = net.to_graph()
    H.nodes["o1"]["bias"] = 0.25  # one real bias: only o1 gets a label
    ax = plot.network(H)
    biases = [t.get_text() for t in ax.texts if t.get_gid() == plot.BIAS_GID]
    assert biases == ["b = 0.25"]
    plt.close(ax.figure)

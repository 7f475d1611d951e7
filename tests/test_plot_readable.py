"""Figures fit for a lecture: labels that fit, values that show, nothing covered.

Each test measures the rendered figure (display pixels after a draw), so a
label that overflows its circle or covers another fails here, not only in
the eye of a reader.
"""

from __future__ import annotations

import itertools
import math

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pytest
from matplotlib.path import Path as MplPath

import neurosim
from neurosim import plot
from neurosim.errors import DataError
from neurosim.examples import WORKED_EXAMPLE_DATA, worked_example
from neurosim.graph import layered
from neurosim.plot import model_network, mpl_animation, mpl_network
from tests.helpers import load_scenario


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def long_names() -> nx.DiGraph:
    G = nx.DiGraph()
    for u in ("x1_long_name", "x2"):
        for v in ("hidden_1", "hidden_2"):
            G.add_edge(u, v, weight=0.7)
    for u in ("hidden_1", "hidden_2"):
        G.add_edge(u, "output", weight=-1.2)
    return G


def prefixed(sizes) -> nx.DiGraph:
    G = layered(sizes, seed=0)
    return nx.relabel_nodes(G, {n: f"neuron_{n}" for n in G.nodes})


def box_of(text) -> MplPath:
    """A label as drawn: its white box if it has one, else its text."""
    patch = text.get_bbox_patch()
    if patch is not None:
        path = patch.get_path().transformed(patch.get_transform())
        return MplPath(path.vertices[:-1])  # a closed polygon, corners included
    e = text.get_window_extent()
    return MplPath([(e.x0, e.y0), (e.x1, e.y0), (e.x1, e.y1), (e.x0, e.y1)])


def touches_circle(box: MplPath, centre, radius: float) -> bool:
    """Whether a (convex) box comes within `radius` of `centre`."""
    if box.contains_point(centre):
        return True
    v = box.vertices
    for a, b in zip(v, np.roll(v, -1, axis=0), strict=True):
        ab = b - a
        s = np.clip(np.dot(centre - a, ab) / max(np.dot(ab, ab), 1e-12), 0, 1)
        if np.hypot(*(a + s * ab - centre)) < radius:
            return True
    return False


def drawn_names(ax, G):
    """(node, name Text, centre in pixels, radius in pixels) for every node."""
    figure = ax.figure
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    pos = model_network._positions(model_network._graph_layers(G))
    # Not the layer captions (in italics), one of which may be "output".
    names = {t.get_text(): t for t in ax.texts if t.get_style() != "italic"}
    nodes = max(ax.collections, key=lambda c: len(c.get_offsets()) == len(G))
    radius = renderer.points_to_pixels(math.sqrt(nodes.get_sizes()[0]) / 2)
    return [
        (node, names[str(node)], ax.transData.transform(pos[node]), radius)
        for node in G.nodes
    ]


GRAPHS = {
    "worked example": worked_example,
    "long names": long_names,
    "8-6-4 long names": lambda: prefixed([8, 6, 4]),
    "20-12-8": lambda: layered([20, 12, 8], seed=0),
}


@pytest.mark.parametrize("name", GRAPHS)
def test_network_names_fit_their_circle_or_sit_beside_it(name):
    """A name inside a circle lies within it; one written beside its neuron
    touches no circle, is nearest its own neuron and covers no other label."""
    G = GRAPHS[name]()
    for ax in [plot.network(G), *plot.network_change(G, G).axes[:2]]:
        frame = ax.figure.bbox
        placed = []
        names = drawn_names(ax, G)
        centres = np.array([c for _, _, c, _ in names])
        for node, text, centre, radius in names:
            extent = text.get_window_extent()
            corners = np.array(
                [(x, y) for x in (extent.x0, extent.x1) for y in (extent.y0, extent.y1)]
            )
            if text.get_bbox_patch() is None:  # inside: every corner in the circle
                assert np.hypot(*(corners - centre).T).max() <= radius, node
                assert text.get_fontsize() >= mpl_network._MIN_NAME_SIZE
                continue
            box = box_of(text)
            assert not any(touches_circle(box, c, radius) for _, _, c, _ in names), node
            middle = box.vertices.mean(axis=0)
            distances = np.hypot(*(centres - middle).T)
            assert list(G.nodes)[int(np.argmin(distances))] == node
            assert distances.min() < 3 * radius + extent.width  # beside it
            assert frame.x0 <= extent.x0, node
            assert extent.x1 <= frame.x1, node
            placed.append(box)
        labels = placed + [
            box_of(t) for t in ax.texts if t.get_gid() == plot.WEIGHT_GID
        ]
        clashes = [
            (i, j)
            for i in range(len(labels))
            for j in range(i)
            if labels[i].intersects_path(labels[j], filled=True)
        ]
        assert clashes == []


def test_network_names_that_cannot_fit_go_beside_and_short_ones_stay_inside():
    names = {
        node: text
        for node, text, _, _ in drawn_names(plot.network(long_names()), long_names())
    }
    outside = {node for node, text in names.items() if text.get_bbox_patch()}
    assert outside == {"x1_long_name", "hidden_1", "hidden_2", "output"}
    # The input's name is left of its neuron (where no connection passes).
    ax = names["x1_long_name"].axes
    x1 = ax.transData.transform(
        model_network._positions(model_network._graph_layers(long_names()))[
            "x1_long_name"
        ]
    )
    assert names["x1_long_name"].get_window_extent().x1 < x1[0]
    worked = {
        t.get_text() for t in plot.network(worked_example()).texts if t.get_bbox_patch()
    }
    assert not worked & {"i1", "i2", "h1", "h2", "o1", "o2"}  # all inside


def test_fit_names_shares_one_size_and_shrinks_to_fit():
    size, fits = mpl_network._fit_names(["h1", "h10", "a_very_long_name"], 8.0, 10.5)
    assert fits == [True, True, False]
    width, height = mpl_network._rendered_text_size("h10", size)
    assert math.hypot(width / 2, height / 2) == pytest.approx(8.0, rel=1e-6)
    assert mpl_network._MIN_NAME_SIZE <= size < 10.5


# ----------------------------------------------------------------------
# the animation


@pytest.fixture
def step():
    X, Z = WORKED_EXAMPLE_DATA
    net = neurosim.Network(worked_example())
    before = net.to_graph()
    history = net.train(X, Z, learning_rate=0.1, record=True)
    outputs = dict(zip(net.outputs, history.outputs[0], strict=True))
    targets = dict(zip(net.outputs, Z[0], strict=True))
    return history.trace, before, outputs, targets


def scene(step):
    trace, before, outputs, targets = step
    return mpl_animation._animation_scene(
        trace,
        before,
        epoch=0,
        sample=0,
        dpi=100,
        title=None,
        outputs=outputs,
        targets=targets,
    )


def frame_at(figure, player, t):
    player.show(t, dt=0.05)
    figure.canvas.draw()


def test_animation_dot_labels_never_cover_weights_nor_each_other(step):
    """Through the backward pass (the weights change at t = 2 and 3, the δs
    fly from t = 2 to 3), no value on a dot covers a weight, a neuron's
    value or another dot's value, and no dot runs under a weight."""
    figure, player = scene(step)
    drawing = player.drawing
    renderer = figure.canvas.get_renderer()
    dot = renderer.points_to_pixels(math.sqrt(player.dot_size) / 2)
    seen = 0
    for t in np.linspace(0.0, 3.0, 61):
        frame_at(figure, player, t)
        values = [box_of(v) for v in player.value_labels if v.get_visible()]
        fixed = [box_of(w) for w in drawing.labels.values() if w.get_visible()]
        fixed += [box_of(n) for _, n, _, _ in drawing.notes if n.get_visible()]
        labels = values + fixed
        clashes = [
            (t, i, j)
            for i in range(len(values))
            for j in range(i + 1, len(labels))
            if labels[i].intersects_path(labels[j], filled=True)
        ]
        assert clashes == []
        dots = drawing.ax.transData.transform(player.xy[player.flying])
        under = [
            (t, k)
            for k, centre in enumerate(dots)
            for box in fixed
            if touches_circle(box, centre, dot)
        ]
        assert under == []
        seen += len(values)
    frame_at(figure, player, 2.7)  # the moment of the issue: four δs in flight
    assert sum(v.get_visible() for v in player.value_labels) == 4
    assert seen > 40


def test_animation_neurons_show_y_then_delta_and_the_heading_shows_e(step):
    figure, player = scene(step)
    notes = {
        (node, label.get_text().split(" = ")[0]): label
        for node, label, _, _ in player.drawing.notes
    }

    def shown():
        return {
            f"{node} {label.get_text()}"
            for (node, _), label in notes.items()
            if label.get_visible()
        }

    frame_at(figure, player, 0.5)
    assert shown() == {"i1 x = 1", "i2 x = 1.5"}
    assert "E =" not in player.phase.get_text()
    frame_at(figure, player, 1.5)  # the hidden neurons have fired
    assert {"h1 y = 4.5", "h2 y = 5.75"} <= shown()
    assert not any(key[0].startswith("o") for key in notes if notes[key].get_visible())
    frame_at(figure, player, 2.5)  # outputs: y, δ = z − y, and E
    assert {"o1 y = 8.275", "o2 y = 17", "o1 δ = −5.775", "o2 δ = −14"} <= shown()
    assert "h1 δ = −41.93" not in shown()
    assert player.phase.get_text().startswith("E = ½ Σ (z − y)² = 114.7")
    frame_at(figure, player, 3.5)  # δ of the hidden neurons: Σ w·δ that arrived
    assert {"h1 δ = −41.93", "h2 δ = −16.89"} <= shown()
    assert len(shown()) == 10
    assert "old weights" in player.caption.get_text()


def test_animation_without_outputs_shows_what_the_trace_holds(step):
    trace, before, _, _ = step
    _, player = mpl_animation._animation_scene(
        trace, before, epoch=0, sample=0, dpi=50, title=None
    )
    texts = sorted(label.get_text() for _, label, _, _ in player.drawing.notes)
    assert texts == sorted(
        ["x = 1", "x = 1.5", "y = 4.5", "y = 5.75", "δ = −41.93", "δ = −16.89"]
    )
    assert player.error is None


def test_animation_of_a_mini_batch_writes_no_vectors_at_the_neurons():
    from neurosim.examples import article_network

    rng = np.random.default_rng(0)
    X, Z = rng.uniform(-1, 1, (4, 2)), rng.uniform(0, 1, (4, 1))
    net = neurosim.Network(article_network())
    before = net.to_graph()
    history = net.train(X, Z, learning_rate=0.5, batch_size=4, record=True)
    outputs = {o: history.outputs[:, k] for k, o in enumerate(net.outputs)}
    targets = {o: Z[:, k] for k, o in enumerate(net.outputs)}
    _, player = mpl_animation._animation_scene(
        history.trace,
        before,
        epoch=0,
        sample=0,
        dpi=50,
        title=None,
        outputs=outputs,
        targets=targets,
    )
    assert player.drawing.notes == []
    assert player.error is None


def test_animate_refuses_outputs_of_other_neurons(step, tmp_path):
    trace, before, _, _ = step
    with pytest.raises(DataError, match="'h1', which is not an output"):
        plot.animate(trace, before, tmp_path / "a.gif", outputs={"h1": 1.0})
    assert not (tmp_path / "a.gif").exists()
    with pytest.raises(DataError, match="targets names 'x'"):
        plot.animate(trace, before, tmp_path / "a.gif", targets={"x": 1.0})


# ----------------------------------------------------------------------
# the scenarios' figures


def drawn(figure, dpi=150):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    figure.set_dpi(dpi)  # as the scenarios save them
    figure.canvas.draw()
    return figure.canvas.get_renderer()


def test_optimizer_fits_tick_labels_of_adjacent_panels_stay_apart():
    """The "1" of one panel and the "−1" of the next are at least 1.5 em
    apart (closer, they read as "1 −1"; they used to be 0.6 em apart)."""
    module = load_scenario("optimizers")
    X, _ = module.task(0)
    G = neurosim.layered(module.SIZES, activation=list(module.ACTIVATIONS), seed=0)
    figure = module.fits_figure(dict.fromkeys(module.LEARNING_RATES, G), X)
    renderer = drawn(figure)
    panels = figure.axes[:5]
    assert [ax.get_title() for ax in panels[1:]] == list(module.LEARNING_RATES)
    for left, right in itertools.pairwise(panels):
        a = [t.get_window_extent(renderer) for t in left.get_xticklabels()]
        b = [t.get_window_extent(renderer) for t in right.get_xticklabels()]
        assert not any(p.overlaps(q) for p in a for q in b)
        em = renderer.points_to_pixels(right.get_xticklabels()[0].get_fontsize())
        assert b[0].x0 - a[-1].x1 >= 1.5 * em
    y = [t.get_window_extent(renderer) for t in panels[0].get_yticklabels()]
    assert all(box.x1 <= panels[0].bbox.x0 for box in y)


def rule_results(module, angles):
    checkpoints = np.arange(0, 401, 10)
    return {
        name: module.RuleResult(
            name=name,
            angles=a,
            step_error=0.0,
            epoch_loss=np.ones(400),
            checkpoints=checkpoints,
            angle_history={k: np.linspace(a[k], 5.0, len(checkpoints)) for k in (1, 2)},
            verdict="",
        )
        for name, a in angles.items()
    }


# The angles of the learning-rules scenario at seed 0 (its printed table).
SEED_0_ANGLES = {
    "backprop": {1: 0.0, 2: 0.0, 3: 0.0},
    "article": {1: 0.323, 2: 0.00835, 3: 0.0},
    "feedback_alignment": {1: 72.7, 2: 119.0, 3: 0.0},
    "direct_feedback_alignment": {1: 126.0, 2: 160.0, 3: 0.0},
}


def test_learning_rules_angle_panel_has_a_visible_bar_for_every_group():
    """Every group shown has a finite bar of every rule shown, at least 5
    pixels tall, labelled with its angle; what is 0° by construction is
    left out and the figure says so."""
    module = load_scenario("learning_rules")
    figure = module.angles_figure(rule_results(module, SEED_0_ANGLES))
    renderer = drawn(figure)
    bars = figure.axes[0]
    groups = [t.get_text().split("\n")[0] for t in bars.get_xticklabels()]
    assert groups == ["layer 1", "layer 2"]
    rectangles = list(bars.patches)
    assert len(rectangles) == 3 * 2  # three rules (not backprop) × two layers
    for rect in rectangles:
        top = rect.get_y() + rect.get_height()
        assert np.isfinite(top)
        assert top > bars.get_ylim()[0]
        assert rect.get_window_extent(renderer).height >= 5
    labels = {t.get_text() for t in bars.texts}
    assert labels == {"0.32°", "0.0083°", "73°", "119°", "126°", "160°"}
    legend = [t.get_text() for t in bars.get_legend().get_texts()]
    assert "backprop" not in legend
    note = bars.get_xlabel()
    assert "backprop in every layer (it is the gradient)" in note
    assert "layer 3 (neuron 6) under every rule" in note


def test_learning_rules_angle_panel_shows_a_layer_where_some_rule_differs():
    module = load_scenario("learning_rules")
    angles = {name: dict(a) for name, a in SEED_0_ANGLES.items()}
    angles["direct_feedback_alignment"][3] = 12.0
    figure = module.angles_figure(rule_results(module, angles))
    drawn(figure, dpi=72)
    bars = figure.axes[0]
    groups = [t.get_text().split("\n")[0] for t in bars.get_xticklabels()]
    assert groups == ["layer 1", "layer 2", "layer 3"]
    assert "layer 3" not in bars.get_xlabel()
    assert len(bars.patches) == 3 * 3


def test_animation_of_a_softmax_group_heads_with_its_cross_entropy():
    G = neurosim.layered([2, 3, 3], activation=["sigmoid", "softmax"], seed=1)
    net = neurosim.Network(G)
    before = net.to_graph()
    X, Z = [[0.1, 0.9]], [[1.0, 0.0, 0.0]]
    history = net.train(X, Z, learning_rate=0.5, record=True)
    outputs = dict(zip(net.outputs, history.outputs[0], strict=True))
    targets = dict(zip(net.outputs, Z[0], strict=True))
    figure, player = scene((history.trace, before, outputs, targets))
    frame_at(figure, player, 3.5)  # after the softmax step at 3
    expected = f"E = −Σ z·log y = {history.loss[0]:.4g}"
    assert player.phase.get_text().startswith(expected)

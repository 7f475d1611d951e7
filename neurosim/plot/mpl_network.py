"""The network drawn with matplotlib: layers, connections by weight, labels."""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any, Literal

import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch
from numpy.typing import NDArray

from neurosim.plot._mpl import (
    WEIGHT_CMAP,
    _axes_height_points,
    _clean_axes,
    _label_half_size,
    _LabelPlacer,
    _new_axes,
    _set_display_position,
    _white_box,
)
from neurosim.plot.labels import _along, _fmt, _Label, _place, _Scene
from neurosim.plot.model_network import (
    _MAX_NODE_LABELS,
    _MAX_WEIGHT_LABELS,
    Graph,
    _as_graph,
    _graph_layers,
    _has_bias,
    _layer_names,
    _network_figsize,
    _positions,
    _resolve_show,
    _weight_range,
    _weights_of,
)
from neurosim.plot.style import INK as _INK
from neurosim.plot.style import MUTED as _MUTED

WEIGHT_GID = "neurosim-weight"
BIAS_GID = "neurosim-bias"


class _NetworkDrawing:
    """The artists of a drawn network, kept to be updated by :func:`animate`."""

    def __init__(
        self,
        ax: Axes,
        weights: dict[tuple[Hashable, Hashable], float | None],
        *,
        layers: list[list[Hashable]],
        weight_range: float,
        show_weights: bool,
        label_nodes: bool,
        node_size: float,
        arrows: bool,
        fontsize: float = 9.0,
    ):
        self.ax = ax
        self.label_nodes = label_nodes
        self.layers = layers
        self.node_size = node_size
        self.pos = _positions(layers)
        self.nodes = [node for layer in layers for node in layer]
        # Large networks: the strongest connections are drawn last, on top.
        self.edges = list(weights)
        if len(self.edges) > 300:
            self.edges.sort(key=lambda e: abs(weights[e] or 0.0))
        self.norm = Normalize(-weight_range, weight_range)
        self.weight_range = weight_range
        self.large = len(self.edges) > 300
        inputs = set(layers[0]) if len(layers) > 1 else set()

        segments = [(self.pos[u], self.pos[v]) for u, v in self.edges]
        self.lines = LineCollection(
            segments, zorder=1, capstyle="round", alpha=0.4 if self.large else 0.95
        )
        ax.add_collection(self.lines)
        self.arrowheads: list[FancyArrowPatch] = []
        if arrows and not self.large:
            radius = math.sqrt(node_size) / 2
            for u, v in self.edges:
                head = FancyArrowPatch(
                    self.pos[u],
                    self.pos[v],
                    arrowstyle="-|>,head_length=0.5,head_width=0.25",
                    mutation_scale=12,
                    linewidth=0,
                    shrinkA=radius,
                    shrinkB=radius + 0.5,
                    zorder=1.5,
                )
                # Only the head: the line is the LineCollection underneath.
                head.set_linestyle("none")
                ax.add_patch(head)
                self.arrowheads.append(head)

        xy = np.array([self.pos[node] for node in self.nodes]).reshape(-1, 2)
        self.base_colors = np.array(
            [to_rgba("#ececec" if node in inputs else "white") for node in self.nodes]
        )
        self.node_scatter = ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=node_size,
            c=self.base_colors,
            edgecolors=_INK,
            linewidths=1.3 if label_nodes else 0.4,
            zorder=3,
        )
        if label_nodes:
            for node in self.nodes:
                ax.text(
                    *self.pos[node],
                    str(node),
                    ha="center",
                    va="center",
                    fontsize=fontsize + 1.5,
                    color=_INK,
                    zorder=4,
                )

        self.labels: dict[tuple[Hashable, Hashable], Any] = {}
        self.bias_labels: dict[Hashable, Any] = {}
        # The texts a weight label will show (an animation changes them);
        # placement makes room for the widest, in bold if it flashes.
        self.label_texts: dict[tuple[Hashable, Hashable], list[str]] = {}
        self.bold_labels = False
        if show_weights:
            for u, v in self.edges:
                (x0, y0), (x1, y1) = self.pos[u], self.pos[v]
                # A third of the way from the source to start with; placed
                # clear of each other when drawn (_place_labels).
                self.labels[u, v] = ax.text(
                    x0 + (x1 - x0) / 3,
                    y0 + (y1 - y0) / 3,
                    "",
                    rotation=math.degrees(math.atan2(y1 - y0, x1 - x0)),
                    rotation_mode="anchor",
                    transform_rotates_text=True,
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color=_INK,
                    zorder=2.5,
                    gid=WEIGHT_GID,
                    bbox=_white_box(0.18, 0.92),
                )
        self.set_weights(weights)

        ys = xy[:, 1] if len(xy) else np.zeros(1)
        top, bottom = float(ys.max()), float(ys.min())
        margin = 0.62 if label_nodes else 0.3 + 0.035 * (top - bottom)
        ax.set_xlim(-0.45, len(layers) - 1 + 0.45)
        ax.set_ylim(bottom - 1.4 * margin, top + margin)
        self.captions = []
        for x, (name, layer) in enumerate(
            zip(_layer_names(len(layers)), layers, strict=True)
        ):
            caption = name if label_nodes else f"{name} ({len(layer)})"
            text = ax.text(
                x,
                bottom - margin,
                caption,
                ha="center",
                va="center",
                fontsize=fontsize,
                color=_MUTED,
                style="italic",
            )
            self.captions.append(text)
        _clean_axes(ax)
        _LabelPlacer(ax, self._place_labels)

    def _place_labels(self, renderer: Any) -> None:
        """Biases next to their neuron where no connection passes, then each
        weight on its connection, clear of every other label, of the neurons
        and of the arrowheads, off other connections when possible.

        Greedy: each weight takes the first clear position along its
        connection, nearest a third of the way from the source.
        """
        if not self.labels and not self.bias_labels:
            return
        ax = self.ax
        px = renderer.points_to_pixels
        xy = {node: ax.transData.transform(self.pos[node]) for node in self.nodes}
        radius = px(math.sqrt(self.node_size) / 2)
        scene = _Scene(ax.bbox)
        for node in self.nodes:
            scene.add_circle(xy[node], radius + px(1.0))
        for caption in self.captions:
            scene.add_box(caption.get_window_extent(renderer))
        line_of = {(u, v): scene.add_line(xy[u], xy[v]) for u, v in self.edges}

        gap = px(2.0)
        x_axis = np.array([1.0, 0.0])
        texts, items = [], []
        for node, label in self.bias_labels.items():
            a, b = _label_half_size(label, renderer)
            r = radius + gap
            d = r * math.sqrt(0.5)
            offsets = [
                (0.0, -(r + b)),  # below
                (0.0, r + b),  # above
                (d + a, -(d + b)),  # below right
                (d + a, d + b),  # above right
                (-(d + a), -(d + b)),  # below left
                (-(d + a), d + b),  # above left
                (r + a, 0.0),  # right
                (-(r + a), 0.0),  # left
            ]
            candidates = [xy[node] + np.array(o) for o in offsets]
            texts.append(label)
            items.append(_Label(candidates, x_axis, (a, b), lines_are_hard=True))

        # Where the arrowhead starts, back from the target's centre.
        head = radius + px(0.5 + 6.0 + 1.5) if self.arrowheads else radius + gap
        for edge, label in self.labels.items():
            if not label.get_visible():
                continue
            u, v = edge
            start, end = xy[u], xy[v]
            half = _label_half_size(
                label, renderer, self.label_texts.get(edge), bold=self.bold_labels
            )
            length = float(np.hypot(*(end - start)))
            candidates, direction = _along(
                start,
                end,
                radius + gap + half[0],
                length - head - half[0],
                length / 3,
            )
            texts.append(label)
            items.append(
                _Label(candidates, direction, half, skip_lines=[line_of[edge]])
            )
        for label, centre in zip(texts, _place(scene, items), strict=True):
            _set_display_position(label, centre)

    def widths(self, w: NDArray[np.float64]) -> NDArray[np.float64]:
        scale = np.abs(w) / self.weight_range
        return 0.3 + 1.2 * scale if self.large else 0.7 + 3.8 * scale

    def set_weights(
        self, weights: dict[tuple[Hashable, Hashable], float | None]
    ) -> None:
        w = np.array(
            [np.nan if weights[e] is None else weights[e] for e in self.edges],
            dtype=float,
        )
        known = np.isfinite(w)
        colors = WEIGHT_CMAP(self.norm(np.where(known, w, 0.0)))
        colors[~known] = to_rgba("#bbbbbb")
        self.lines.set_color(colors)
        self.lines.set_linewidths(
            np.where(known, self.widths(np.where(known, w, 0)), 0.8)
        )
        for head, color in zip(self.arrowheads, colors, strict=False):
            head.set_color(color)
        for edge, label in self.labels.items():
            value = weights[edge]
            label.set_text("" if value is None else _fmt(value))
            label.set_visible(value is not None)


def _node_size(ax: Axes, layers: list[list[Hashable]]) -> float:
    widest = max((len(layer) for layer in layers), default=1)
    spacing = _axes_height_points(ax) / (widest + 1.2)
    return float(np.clip((0.55 * spacing) ** 2, 6.0, 900.0))


def network(
    graph: Graph,
    *,
    ax: Axes | None = None,
    show_weights: bool | Literal["auto"] = "auto",
    title: str | None = None,
    colorbar: bool = True,
    weight_range: float | None = None,
) -> Axes:
    """Draw a network in layers, its connections coloured and sized by weight.

    Inputs on the left, each topological generation
    (``networkx.topological_generations``) one column to the right. A
    connection's line width grows with ``|w|``, its colour tells the sign
    (purple negative, green positive).

    Parameters
    ----------
    graph : networkx.DiGraph or object with ``to_graph()``
        Edges carry a ``weight`` attribute (a ``neurosim.Network`` works).
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    show_weights : bool or "auto"
        Write each weight on its connection; ``"auto"`` does so for at most
        20 connections. Each label is a ``Text`` with gid :data:`WEIGHT_GID`.
        The biases (node attribute ``bias``) are then written next to the
        neurons too (below or above, where no connection passes), unless
        they are all zero.
    title : str, optional
        The Axes title.
    colorbar : bool
        Add a colour bar of the weights.
    weight_range : float, optional
        The ``|w|`` at the ends of the colour scale and of the widest line;
        the largest ``|w|`` of the graph by default. Give the same value to
        compare figures.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import networkx as nx
    >>> from neurosim.plot import WEIGHT_GID, network
    >>> G = nx.DiGraph()
    >>> G.add_weighted_edges_from([("x1", "y", 0.5), ("x2", "y", -1.5)])
    >>> ax = network(G, title="a perceptron")
    >>> sorted(t.get_text() for t in ax.texts if t.get_gid() == WEIGHT_GID)
    ['0.5', '−1.5']
    >>> plt.close(ax.figure)
    """
    G = _as_graph(graph)
    layers = _graph_layers(G)
    weights = _weights_of(G)
    ax = _new_axes(ax, _network_figsize(layers))
    _draw_network(
        ax,
        G,
        layers,
        weights,
        weight_range if weight_range is not None else _weight_range(weights),
        _resolve_show(show_weights, len(weights), _MAX_WEIGHT_LABELS),
        title,
        colorbar,
    )
    return ax


def _draw_network(
    ax: Axes,
    G: nx.DiGraph,
    layers: list[list[Hashable]],
    weights: dict[tuple[Hashable, Hashable], float | None],
    weight_range: float,
    show: bool,
    title: str | None,
    colorbar: bool,
    show_zero_biases: bool = False,
) -> _NetworkDrawing:
    node_count = sum(len(layer) for layer in layers)
    drawing = _NetworkDrawing(
        ax,
        weights,
        layers=layers,
        weight_range=weight_range,
        show_weights=show,
        label_nodes=node_count <= _MAX_NODE_LABELS,
        node_size=_node_size(ax, layers),
        arrows=True,
    )
    if show and drawing.label_nodes:
        _write_biases(ax, G, drawing, always=show_zero_biases)
    if title:
        ax.set_title(title, fontsize=12)
    if colorbar:
        _weight_colorbar(ax.figure, [ax], drawing.norm)
    return drawing


def _write_biases(
    ax: Axes,
    G: nx.DiGraph,
    drawing: _NetworkDrawing,
    always: bool = False,
) -> None:
    """Write ``b = ...`` next to each neuron, when some bias is not zero."""
    inputs = set(drawing.layers[0]) if len(drawing.layers) > 1 else set()
    biases = {
        node: float(G.nodes[node].get("bias", 0.0) or 0.0)
        for node in drawing.nodes
        if node not in inputs
    }
    if not always and not any(biases.values()):
        return
    for node, bias in biases.items():
        # Under the neuron to start with; placed where no connection passes
        # when drawn (_NetworkDrawing._place_labels).
        x, y = drawing.pos[node]
        drawing.bias_labels[node] = ax.text(
            x,
            y - 0.3,
            f"b = {_fmt(bias)}",
            ha="center",
            va="center",
            fontsize=8,
            color=_MUTED,
            zorder=2.6,
            gid=BIAS_GID,
            bbox=_white_box(0.2, 0.95),
        )


def _weight_colorbar(figure: Any, axes: list[Axes], norm: Normalize) -> None:
    mappable = ScalarMappable(norm=norm, cmap=WEIGHT_CMAP)
    bar = figure.colorbar(mappable, ax=axes, shrink=0.7, pad=0.02, aspect=25)
    bar.set_label("weight", fontsize=9)
    bar.ax.tick_params(labelsize=8)
    bar.outline.set_visible(False)


def network_change(
    before: Graph,
    after: Graph,
    *,
    titles: tuple[str, str] = ("before training", "after training"),
    show_weights: bool | Literal["auto"] = "auto",
) -> Figure:
    """Two drawings of a network side by side on one colour scale.

    Parameters
    ----------
    before, after : networkx.DiGraph or object with ``to_graph()``
        The same network before and after training (``network.to_graph()``
        at both moments, or a copy of the graph you built it from).
    titles : pair of str
        The panel titles.
    show_weights : bool or "auto"
        As in :func:`network`.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import networkx as nx
    >>> from neurosim.plot import network_change
    >>> G = nx.DiGraph([("x", "y", {"weight": 0.5})])
    >>> H = nx.DiGraph([("x", "y", {"weight": -0.25})])
    >>> figure = network_change(G, H)
    >>> [ax.get_title() for ax in figure.axes[:2]]
    ['before training', 'after training']
    >>> plt.close(figure)
    """
    import matplotlib.pyplot as plt  # only here: respect the user's backend

    graphs = [_as_graph(before), _as_graph(after)]
    layers = [_graph_layers(G) for G in graphs]
    weights = [_weights_of(G) for G in graphs]
    weight_range = _weight_range(*weights)
    width, height = _network_figsize(layers[0])
    figure, axes = plt.subplots(
        1, 2, figsize=(min(1.75 * width, 14.0), height), layout="constrained"
    )
    biases = any(_has_bias(G) for G in graphs)  # then in both panels
    for ax, G, layer, w, title in zip(
        axes, graphs, layers, weights, titles, strict=True
    ):
        show = _resolve_show(show_weights, len(w), _MAX_WEIGHT_LABELS)
        _draw_network(
            ax, G, layer, w, weight_range, show, title, False, show_zero_biases=biases
        )
    _weight_colorbar(figure, list(axes), Normalize(-weight_range, weight_range))
    return figure

"""The network drawn with matplotlib: layers, connections by weight, labels."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
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
from neurosim.plot.labels import (
    _along,
    _fmt,
    _Label,
    _layer_names,
    _perpendicular,
    _place,
    _Scene,
)
from neurosim.plot.model_network import (
    _MAX_NODE_LABELS,
    _MAX_WEIGHT_LABELS,
    Graph,
    _as_graph,
    _bias,
    _graph_layers,
    _has_bias,
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
        line_clearance: float = 0.0,
    ):
        self.ax = ax
        # The animation's dots move on the lines: with a clearance (points),
        # weights go beside their line and labels keep that far from lines.
        self.line_clearance = line_clearance
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
        # A name is written in its circle, in one font size for all (shrunk
        # to fit, down to _MIN_NAME_SIZE); a name that would need a smaller
        # size is written beside its neuron instead, in a white box (placed
        # when drawn, clear of the other labels: _place_labels).
        self.names: dict[Hashable, Any] = {}
        self.outside_names: dict[Hashable, Any] = {}
        if label_nodes:
            radius = math.sqrt(node_size) / 2
            size, inside = _fit_names(
                [str(node) for node in self.nodes],
                radius - (1.3 + 1.0),  # the circle's edge and a margin
                fontsize + 1.5,
            )
            for node, fits in zip(self.nodes, inside, strict=True):
                self.names[node] = text = ax.text(
                    *self.pos[node],
                    str(node),
                    ha="center",
                    va="center",
                    fontsize=size if fits else fontsize + 1.5,
                    color=_INK,
                    zorder=4,
                )
                if not fits:
                    text.set_bbox(_white_box(0.15, 0.92))
                    self.outside_names[node] = text

        self.labels: dict[tuple[Hashable, Hashable], Any] = {}
        self.bias_labels: dict[Hashable, Any] = {}
        # Labels next to a neuron, each with the texts it will show and the
        # sides it prefers (the animation's values of the neurons).
        self.notes: list[tuple[Hashable, Any, list[str], Sequence[str]]] = []
        self.scene: _Scene | None = None  # what labels avoid, once drawn
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
        left, right = self._name_room(fontsize + 1.5)
        ax.set_xlim(-left, len(layers) - 1 + right)
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

    def _name_room(self, size: float) -> tuple[float, float]:
        """The margins left and right of the outer columns, in data units,
        with room for a name written beside an input or an output."""
        left = right = 0.45
        if not self.outside_names:
            return left, right
        radius = math.sqrt(self.node_size) / 2

        def reach(layer: list[Hashable]) -> float:  # points from the centre
            return max(
                (
                    radius + 2.0 + _rendered_text_size(str(node), size)[0] + 0.3 * size
                    for node in layer
                    if node in self.outside_names
                ),
                default=0.0,
            )

        first, last = reach(self.layers[0]), reach(self.layers[-1])
        if len(self.layers) == 1:
            first = last = max(first, last)
        # The Axes' width in points; a colour bar takes some of it later.
        width = self.ax.get_position().width * self.ax.figure.get_figwidth() * 72
        width *= 0.9
        for _ in range(3):  # the margins change the scale: a few rounds settle
            per_point = (len(self.layers) - 1 + left + right) / width
            left = max(0.45, first * per_point)
            right = max(0.45, last * per_point)
        return left, right

    def _place_labels(self, renderer: Any) -> None:
        """Names that do not fit in their circle beside their neuron, then
        notes and biases next to their neuron where no connection passes,
        then each weight on its connection, clear of every other label, of
        the neurons and of the arrowheads, off other connections when
        possible. Keeps what labels must avoid in ``self.scene``.

        Greedy: each weight takes the first clear position along its
        connection, nearest a third of the way from the source (with a line
        clearance, beside it, nearest the target).
        """
        self.scene = None
        if not (self.labels or self.bias_labels or self.outside_names or self.notes):
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
        # With a clearance, a line is as wide as the dots that move on it.
        clearance = px(self.line_clearance)
        line_of = {
            (u, v): scene.add_line(xy[u], xy[v], clearance) for u, v in self.edges
        }
        fixed = len(scene.rects)

        gap = px(2.0)
        x_axis = np.array([1.0, 0.0])
        r = radius + gap
        d = r * math.sqrt(0.5)

        def beside(node: Hashable, half: Any, sides: Sequence[str]) -> list[Any]:
            a, b = half
            offsets = {
                "below": (0.0, -(r + b)),
                "above": (0.0, r + b),
                "below right": (d + a, -(d + b)),
                "above right": (d + a, d + b),
                "below left": (-(d + a), -(d + b)),
                "above left": (-(d + a), d + b),
                "right": (r + a, 0.0),
                "left": (-(r + a), 0.0),
                "far below": (0.0, -(r + 3 * b)),  # under a label below
                "far above": (0.0, r + 3 * b),
            }
            return [xy[node] + np.array(offsets[side]) for side in sides]

        node_xy = np.array([xy[node] for node in self.nodes]).reshape(-1, 2)

        def nearest(centre: Any, half: Any) -> Hashable | None:
            """The neuron clearly nearest a label there, if one is: a name
            must be nearer its own neuron than any other, by a margin."""
            gaps = np.maximum(np.abs(node_xy - centre) - np.asarray(half), 0.0)
            distances = np.hypot(gaps[:, 0], gaps[:, 1])
            order = np.argsort(distances, kind="stable")
            if len(order) > 1 and distances[order[0]] > 0.75 * distances[order[1]]:
                return None
            return self.nodes[int(order[0])]

        around = ("below", "above", "below right", "above right")
        around += ("below left", "above left", "right", "left")
        inputs = set(self.layers[0]) if len(self.layers) > 1 else set()
        outputs = set(self.layers[-1]) if len(self.layers) > 1 else set()
        texts, items = [], []
        for node, label in self.outside_names.items():
            # Outside the outer columns, where no connection passes; above
            # the top neuron of a hidden column, below the bottom one, else
            # to the right. Only where the name is clearly nearer its own
            # neuron than any other, so that a reader knows which it names;
            # crossing a connection does not move it (its box hides the
            # line), only a clash with a label, a neuron or the edge.
            column = next(layer for layer in self.layers if node in layer)
            if node in inputs:
                sides = ("left", "below left", "above left", *around)
            elif node in outputs:
                sides = ("right", "below right", "above right", *around)
            elif node == column[0]:
                sides = ("above", "right", "left", *around)
            elif node == column[-1]:
                sides = ("below", "right", "left", *around)
            else:
                sides = ("right", "left", *around)
            half = _label_half_size(label, renderer)
            candidates = beside(node, half, sides)
            clear = [c for c in candidates if nearest(c, half) == node]
            texts.append(label)
            items.append(
                _Label(
                    clear or candidates,
                    x_axis,
                    half,
                    skip_lines=range(len(scene.lines)),
                )
            )
        for node, label, strings, sides in self.notes:
            half = _label_half_size(label, renderer, strings)
            texts.append(label)
            items.append(_Label(beside(node, half, sides), x_axis, half))
        for node, label in self.bias_labels.items():
            half = _label_half_size(label, renderer)
            texts.append(label)
            items.append(
                _Label(beside(node, half, around), x_axis, half, lines_are_hard=True)
            )

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
                length if clearance else length / 3,
            )
            if clearance:
                # Beside the line, not on it, where a moving dot would cover
                # it: above the line first, then below; nearest the neuron
                # that updates it, where the animation's dots carry no label.
                n = _perpendicular(direction)
                n = n if n[1] > 0 or (n[1] == 0 and n[0] > 0) else -n
                shift = (half[1] + clearance + px(1.0)) * n
                candidates = [c + sign * shift for c in candidates for sign in (1, -1)]
            texts.append(label)
            items.append(
                _Label(candidates, direction, half, skip_lines=[line_of[edge]])
            )
        centres = _place(scene, items)
        del scene.rects[fixed:]  # _place's last round may not be its best
        scene._cache.pop("rects", None)
        for label, item, centre in zip(texts, items, centres, strict=True):
            _set_display_position(label, centre)
            scene.add_rect(centre, item.u, item.half)
        self.scene = scene

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


# The smallest font a neuron's name is shrunk to, to fit in its circle.
_MIN_NAME_SIZE = 7.0


def _rendered_text_size(text: str, size: float) -> tuple[float, float]:
    """Width and height in points of one line of text, as matplotlib lays it out
    (exact, unlike labels._text_size, which the models use without matplotlib)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    font = FontProperties(size=size)
    width, height, _ = text_to_path.get_text_width_height_descent(
        text, font, ismath=False
    )
    # A Text is at least as tall as "lp" (its layout's line height).
    _, line, _ = text_to_path.get_text_width_height_descent("lp", font, ismath=False)
    return width, max(height, line)


def _fit_names(
    names: Sequence[str], radius: float, size: float
) -> tuple[float, list[bool]]:
    """One font size for the names that fit in a circle of `radius` points,
    and which names fit (at a size from `_MIN_NAME_SIZE` to `size`).

    A name fits when its text's box lies within the circle; widths and
    heights grow in proportion to the font size.
    """
    needed = []
    for name in names:
        width, height = _rendered_text_size(name, size)
        reach = math.hypot(width / 2, height / 2)
        needed.append(size * radius / reach if reach > 0 else size)
    fits = [n >= _MIN_NAME_SIZE for n in needed]
    fitting = [n for n, ok in zip(needed, fits, strict=True) if ok]
    return min([size, *fitting]), fits


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
        node: bias
        for node in drawing.nodes
        if node not in inputs and (bias := _bias(G, node)) is not None
    }  # a neuron without bias gets no label
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

"""Maps over the input plane drawn with matplotlib: decision maps, neuron maps.

They draw :mod:`neurosim.plot.model_maps`; colours from
:mod:`neurosim.plot.style` (:data:`~neurosim.plot.style.CLASS_COLORS`,
:data:`~neurosim.plot.style.MAP_COLORS`).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Hashable, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap, Normalize, TwoSlopeNorm, to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.transforms import ScaledTranslation
from numpy.typing import ArrayLike, NDArray

from neurosim.plot._mpl import WEIGHT_CMAP, _new_axes
from neurosim.plot.model_maps import (
    DecisionMapModel,
    NeuronMap,
    NeuronMapsModel,
    decision_map_model,
    neuron_maps_model,
)
from neurosim.plot.style import CLASS_COLORS, INK, MAP_COLORS, MUTED

__all__ = ["MAP_CMAP", "decision_map", "neuron_maps"]

#: Values over the plane: orange (low), light grey (middle), blue (high).
MAP_CMAP = LinearSegmentedColormap.from_list("neurosim_map", list(MAP_COLORS))

# A decision map's background is paler than the points drawn on it, so that
# a point shows on the region of its own class: a class colour is mixed into
# white from this much (the lowest output) to _FULLEST (the highest).
_PALEST = 0.08
_FULLEST = 0.6


def _paler(colour: str, amount: float) -> tuple[float, float, float]:
    """`colour` mixed into white: 0 is white, 1 the colour itself."""
    return tuple(1.0 - amount * (1.0 - c) for c in to_rgb(colour))  # type: ignore[return-value]


# The one-output decision map's scale, as pale as the classes' regions.
_PALE_MAP_CMAP = LinearSegmentedColormap.from_list(
    "neurosim_map_pale",
    [_paler(MAP_COLORS[0], _FULLEST), MAP_COLORS[1], _paler(MAP_COLORS[2], _FULLEST)],
)


def _class_color(k: int) -> str:
    return CLASS_COLORS[k % len(CLASS_COLORS)]


def _image_extent(x: NDArray, y: NDArray) -> tuple[float, float, float, float]:
    """The image's outer edges: each grid point is the centre of a pixel."""
    dx, dy = (x[-1] - x[0]) / (len(x) - 1) / 2, (y[-1] - y[0]) / (len(y) - 1) / 2
    return x[0] - dx, x[-1] + dx, y[0] - dy, y[-1] + dy


def _shaded(model: DecisionMapModel) -> NDArray[np.float64]:
    """An RGB image: each point its class's colour, paler the lower the
    largest output."""
    lo, hi = model.value_range
    strength = np.clip((model.confidence - lo) / (hi - lo), 0.0, 1.0)
    mix = _PALEST + (_FULLEST - _PALEST) * strength
    colours = np.array([to_rgb(_class_color(k)) for k in range(len(model.class_names))])
    chosen = colours[model.predicted]
    return 1.0 - mix[..., None] * (1.0 - chosen)


def decision_map(
    net: Any,
    X: ArrayLike | None = None,
    labels: ArrayLike | None = None,
    ax: Axes | None = None,
    *,
    extent: Sequence[float] | None = None,
    steps: int = 150,
    margin: float = 0.1,
    threshold: float = 0.5,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    legend: bool = True,
    colorbar: bool = True,
) -> Axes:
    """Draw the network's output over the input plane, the data on top.

    With several outputs (one per class, one-hot targets) each point of the
    plane takes the colour of the class whose output is largest there,
    paler where that output is low (a colour key on the right); with one
    output, the output itself on an orange–blue scale with a black line
    where it equals `threshold`. Points are coloured by their class, in the
    colours of the map; a point the network puts in another class has a
    black ring. The values are the network's own (one forward
    wave of its actors over the whole grid: :func:`decision_map_model`).

    Parameters
    ----------
    net : Network
        A network with two inputs; it is not changed.
    X : array_like, shape (n, 2), optional
        The data to draw; the map covers it (plus `margin`).
    labels : array_like of int, shape (n,), optional
        The class of each point (``data.labels``); without it, the points
        are black.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    extent : (x0, x1, y0, y1), optional
        The part of the plane to show (needed without `X`).
    steps : int
        Grid points along each axis.
    margin : float
        Around the data, as a share of its larger span.
    threshold : float
        With one output: the value between the classes.
    class_names : sequence of str, optional
        For the legend and the colour key; ``"class 0"``, … by default.
    title : str, optional
        The Axes title; by default what the colours mean and, with labels,
        the accuracy on the points.
    legend : bool
        A legend of the points' classes, under the map.
    colorbar : bool
        The colour key (several outputs) or colour bar (one output).

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    DataError
        The network has not two inputs (a map needs a plane), or bad data.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import neurosim
    >>> from neurosim import datasets, plot
    >>> data = datasets.gauss(n=100, seed=0)
    >>> net = neurosim.Network(neurosim.layered([2, 2], seed=0))
    >>> history = net.train(data.X, data.Z, 0.5, epochs=5, batch_size=10)
    >>> ax = plot.decision_map(net, data.X, data.labels, class_names=data.class_names)
    >>> ax.get_title()
    'predicted class, shade: the largest output\\naccuracy on these 100 points: 100%'
    >>> plt.close(ax.figure)
    """
    model = decision_map_model(
        net,
        X,
        labels,
        extent=extent,
        steps=steps,
        margin=margin,
        threshold=threshold,
        class_names=class_names,
    )
    ax = _new_axes(ax, (6.0, 5.0))
    figure = ax.figure
    image_extent = _image_extent(model.x, model.y)
    x1, x2 = np.meshgrid(model.x, model.y)
    if model.threshold is not None:
        lo, hi = model.value_range
        norm = TwoSlopeNorm(vcenter=model.threshold, vmin=lo, vmax=hi)
        image = ax.imshow(
            model.values[:, :, 0],
            origin="lower",
            extent=image_extent,
            cmap=_PALE_MAP_CMAP,
            norm=norm,
            interpolation="bilinear",
            aspect="equal",
        )
        values = model.values[:, :, 0]
        if values.min() < model.threshold <= values.max():
            ax.contour(
                x1, x2, values, levels=[model.threshold], colors=INK, linewidths=1.5
            )
        if colorbar:
            bar = figure.colorbar(image, ax=ax, shrink=0.85)
            bar.set_label(f"network output {model.outputs[0]}")
            bar.ax.axhline(model.threshold, color=INK, linewidth=1.5)
            bar.set_ticks(sorted({lo, model.threshold, hi}))
        default = f"network output, line: output = {model.threshold:g}"
    else:
        ax.imshow(
            _shaded(model),
            origin="lower",
            extent=image_extent,
            interpolation="bilinear",
            aspect="equal",
        )
        # The boundaries: where an output stops being the largest. Its lead
        # over the others is smooth, so the line is too (not the grid's steps).
        n = len(model.class_names)
        for k in range(1 if n == 2 else n):
            others = np.delete(model.values, k, axis=2).max(axis=2)
            lead = model.values[:, :, k] - others
            if lead.min() < 0 < lead.max():
                ax.contour(x1, x2, lead, levels=[0.0], colors=INK, linewidths=1.2)
        if colorbar:
            _class_key(ax, model)
        default = "predicted class, shade: the largest output"
    _draw_points(ax, model.points, model.labels, model.class_names, size=22)
    wrong = (
        np.zeros(len(model.points), dtype=bool)
        if model.labels is None
        else model.point_predicted != model.labels
    )
    if wrong.any():
        ax.scatter(
            *model.points[wrong].T,
            s=60,
            facecolors="none",
            edgecolors=INK,
            linewidths=1.2,
            zorder=4,
            label="misclassified",
        )
    if legend and model.labels is not None and len(model.labels):
        # Below the tick labels and the x label, whatever the Axes' size.
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            bbox_transform=ax.transAxes + _points_down(ax, _below_axis_points(ax)),
            ncols=min(len(model.class_names) + int(wrong.any()), 4),
            frameon=False,
            fontsize=9,
            handletextpad=0.3,
            columnspacing=1.0,
        )
    accuracy = model.accuracy
    if accuracy is not None:
        default += (
            f"\naccuracy on these {len(model.points)} points: {accuracy:.0%}"
            if accuracy in (0.0, 1.0)
            else f"\naccuracy on these {len(model.points)} points: {accuracy:.1%}"
        )
    ax.set_title(default if title is None else title, fontsize=10)
    ax.set_xlim(image_extent[:2])
    ax.set_ylim(image_extent[2:])
    ax.set_xlabel(str(model.inputs[0]))
    ax.set_ylabel(str(model.inputs[1]))
    return ax


def _points_down(ax: Axes, points: float) -> ScaledTranslation:
    return ScaledTranslation(0, -points / 72, ax.figure.dpi_scale_trans)


def _below_axis_points(ax: Axes) -> float:
    """The height in points of the ticks, tick labels and x label under an Axes."""
    rc = matplotlib.rcParams
    tick = rc["xtick.major.size"] + rc["xtick.major.pad"]
    labels = FontProperties(size=rc["xtick.labelsize"]).get_size_in_points()
    xlabel = FontProperties(size=rc["axes.labelsize"]).get_size_in_points()
    return tick + 1.2 * labels + rc["axes.labelpad"] + 1.2 * xlabel + 2


def _class_key(ax: Axes, model: DecisionMapModel) -> None:
    """A colour key beside the map: per class, from pale (low largest output)
    to full colour (high), on the output's scale."""
    n = len(model.class_names)
    lo, hi = model.value_range
    key = ax.inset_axes((1.04, 0.08, 0.045 * n, 0.84))
    ramp = np.linspace(0.0, 1.0, 128)
    mix = _PALEST + (_FULLEST - _PALEST) * ramp
    for k in range(n):
        strip = 1.0 - mix[:, None] * (1.0 - np.array(to_rgb(_class_color(k))))
        key.imshow(
            strip[:, None, :],
            origin="lower",
            aspect="auto",
            extent=(k - 0.38, k + 0.38, lo, hi),
        )
    key.set_xlim(-0.5, n - 0.5)
    key.set_ylim(lo, hi)
    key.set_xticks(range(n), list(model.class_names), fontsize=8, rotation=90)
    key.yaxis.tick_right()
    key.yaxis.set_label_position("right")
    key.tick_params(axis="y", labelsize=8)
    key.set_ylabel("largest output", fontsize=9)
    for spine in key.spines.values():
        spine.set_edgecolor(MUTED)


def _draw_points(
    ax: Axes,
    points: NDArray[np.float64],
    labels: NDArray[np.int64] | None,
    class_names: Sequence[str],
    size: float,
    edge: float = 0.7,
) -> None:
    if len(points) == 0:
        return
    if labels is None:
        ax.scatter(*points.T, s=size, color=INK, edgecolors="white", linewidths=edge)
        return
    for k, name in enumerate(class_names):
        chosen = points[labels == k]
        if len(chosen):
            ax.scatter(
                *chosen.T,
                s=size,
                color=_class_color(k),
                edgecolors="white",
                linewidths=edge,
                label=name,
                zorder=3,
            )


def neuron_maps(
    net: Any,
    X: ArrayLike | None = None,
    labels: ArrayLike | None = None,
    *,
    extent: Sequence[float] | None = None,
    steps: int = 100,
    margin: float = 0.1,
    connections: bool = True,
    title: str | None = None,
) -> Figure:
    """Draw what each neuron computes over the input plane, layer by layer.

    One small map per node, in columns by layer as TensorFlow Playground
    shows them: the two inputs (their own coordinate), each hidden layer,
    the outputs. A map is the neuron's output ``y`` at every point of the
    plane, orange (low) to blue (high) with light grey in the middle, on
    the activation's range (tanh −1 to 1, sigmoid 0 to 1: one colour bar
    per activation) or, for an unbounded one, on ``±`` the map's largest
    ``|y|`` (written under it). Lines between the maps are the connections,
    coloured and as wide as their weights. The values are the network's
    own: its actors compute the grid in one forward wave and record what
    each neuron computed (:func:`neuron_maps_model`).

    Parameters
    ----------
    net : Network
        A network with two inputs; it is not changed.
    X : array_like, shape (n, 2), optional
        Data: the maps cover it (plus `margin`), drawn small on the output
        maps.
    labels : array_like of int, shape (n,), optional
        The class of each point, for its colour.
    extent : (x0, x1, y0, y1), optional
        The part of the plane to show (needed without `X`).
    steps : int
        Grid points along each axis.
    margin : float
        Around the data, as a share of its larger span.
    connections : bool
        Draw the connections between the maps.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib Figure
        Each map's Axes has the node's name as its label
        (``ax.get_label()``).

    Raises
    ------
    DataError
        The network has not two inputs, neither `X` nor `extent` was given,
        or bad data.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import neurosim
    >>> from neurosim import plot
    >>> net = neurosim.Network(neurosim.layered([2, 3, 1], seed=0))
    >>> figure = plot.neuron_maps(net, extent=(-1, 1, -1, 1))
    >>> [ax.get_label() for ax in figure.axes if ax.get_label()]
    ['i1', 'i2', 'h1', 'h2', 'h3', 'o1']
    >>> plt.close(figure)
    """
    model = neuron_maps_model(net, X, labels, extent=extent, steps=steps, margin=margin)
    return _draw_neuron_maps(model, connections=connections, title=title)


# A layer of more neurons than this is drawn in several columns side by side.
_MAX_ROWS = 8


def _draw_neuron_maps(
    model: NeuronMapsModel, *, connections: bool, title: str | None
) -> Figure:
    import matplotlib.pyplot as plt  # only here: respect the user's backend

    # Each layer in as few columns as keep it within _MAX_ROWS maps high.
    splits = [math.ceil(len(layer) / _MAX_ROWS) for layer in model.layers]
    heights = [
        math.ceil(len(layer) / k) for layer, k in zip(model.layers, splits, strict=True)
    ]
    rows = max(heights)
    side = float(np.clip(6.0 / rows, 0.6, 1.15))  # a map's side, inches
    pitch = side * 1.3  # from one map to the next in a column
    within = side * 0.2  # between the columns of one layer
    gap = max(1.1 * side, 0.8)  # between layers: room for the connections
    widths = [k * side + (k - 1) * within for k in splits]
    scales = _bounded_scales(model)
    note_lines = 2
    footer = 0.25 + 0.62 * len(scales) + 0.17 * note_lines
    body = sum(widths) + gap * (len(widths) - 1)
    width = max(body + 0.7, 4.6)
    # the title wrapped to the figure's width (11-point letters ~6 points wide)
    wrapped = textwrap.fill(title, max(20, int(width * 72 / 6.0))) if title else ""
    header = 0.55 + (0.22 * (wrapped.count("\n") + 1) + 0.15 if title else 0.0)
    height = header + rows * pitch + footer
    figure = plt.figure(figsize=(width, height))
    starts = np.concatenate([[0.0], np.cumsum(np.array(widths) + gap)])[:-1]
    starts += (width - body) / 2

    def box(m: NeuronMap) -> tuple[float, float, float, float]:
        """The map's Axes in inches from the bottom left: x0, y0, x1, y1."""
        tall = heights[m.layer]
        column, row = divmod(m.row, tall)
        count = min(tall, len(model.layers[m.layer]) - column * tall)
        x0 = starts[m.layer] + column * (side + within)
        centre = footer + rows * pitch / 2 + ((count - 1) / 2 - row) * pitch
        return x0, centre - side / 2, x0 + side, centre + side / 2

    boxes = {m.node: box(m) for m in model.maps}
    if connections and model.weights:
        _draw_connections(figure, model, boxes, width, height)

    image_extent = _image_extent(model.x, model.y)
    outputs = set(model.layers[-1])
    for m in model.maps:
        x0, y0, _, _ = boxes[m.node]
        ax = figure.add_axes(
            (x0 / width, y0 / height, side / width, side / height), label=str(m.node)
        )
        lo, hi = m.value_range
        ax.imshow(
            m.values,
            origin="lower",
            extent=image_extent,
            cmap=MAP_CMAP,
            norm=TwoSlopeNorm(vcenter=m.centre, vmin=lo, vmax=hi),
            interpolation="bilinear",
            aspect="auto",
        )
        if m.node in outputs:
            _draw_points(ax, model.points, model.labels, _names(model), 3, 0.2)
        ax.set_xlim(image_extent[:2])
        ax.set_ylim(image_extent[2:])
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_edgecolor(MUTED)
            spine.set_linewidth(0.6)
        # An unbounded activation's map has its own scale: ± its largest |y|.
        name = str(m.node)
        if not m.bounded and m.activation != "input":
            name += f" (±{hi:.2g})"
        ax.set_title(name, fontsize=8, pad=2, color=INK)
    for k, name in enumerate(model.layer_names):
        count = len(model.layers[k])
        what = "node" if k == 0 else "neuron"
        figure.text(
            (starts[k] + widths[k] / 2) / width,
            (height - header + 0.1) / height,
            f"{name}\n{count} {what}{'s' * (count != 1)}",
            ha="center",
            va="bottom",
            fontsize=9,
            color=INK,
        )
    if title:
        figure.suptitle(wrapped, y=(height - 0.1) / height, va="top", fontsize=11)
    _scale_bars(figure, scales, width, height, bottom=0.2 + 0.17 * note_lines)
    top = max((abs(w) for w in model.weights.values()), default=0.0)
    note = "An input's map is its own value, orange (low) to blue (high)."
    if any(not m.bounded and m.activation != "input" for m in model.maps):
        note += " A map titled (±m) has its own scale, −m orange to +m blue."
    if connections and model.weights:
        note = (
            "Lines: the connections, green w > 0, purple w < 0, wider for larger "
            f"|w| (largest {top:.3g}). " + note
        )
    figure.text(
        0.5,
        0.12 / height,
        textwrap.fill(note, max(30, int(width * 72 / 4.6))),
        ha="center",
        va="bottom",
        fontsize=8,
        color=MUTED,
    )
    return figure


def _names(model: NeuronMapsModel) -> list[str]:
    count = max(len(model.layers[-1]), 2)
    return [f"class {k}" for k in range(count)]


def _bounded_scales(model: NeuronMapsModel) -> list[tuple[str, tuple[float, float]]]:
    """The colour bars: one per activation whose range is fixed, in order."""
    seen: dict[str, tuple[float, float]] = {}
    for m in model.maps:
        if m.bounded and m.activation not in seen:
            seen[m.activation] = m.value_range
    return list(seen.items())


def _scale_bars(
    figure: Figure,
    scales: list[tuple[str, tuple[float, float]]],
    width: float,
    height: float,
    bottom: float,
) -> None:
    bar_width = min(3.0, width - 1.2)
    for k, (activation, (lo, hi)) in enumerate(reversed(scales)):
        y = bottom + 0.25 + 0.62 * k
        x0 = (width - bar_width) / 2
        cax = figure.add_axes((x0 / width, y / height, bar_width / width, 0.1 / height))
        centre = (lo + hi) / 2
        mappable = _mappable(lo, hi, centre)
        bar = figure.colorbar(mappable, cax=cax, orientation="horizontal")
        bar.set_ticks([lo, centre, hi])
        bar.ax.tick_params(labelsize=7, length=2, pad=1)
        bar.outline.set_edgecolor(MUTED)
        cax.set_title(f"{activation} neurons: output y", fontsize=8, pad=2)


def _mappable(lo: float, hi: float, centre: float) -> Any:
    from matplotlib.cm import ScalarMappable

    return ScalarMappable(TwoSlopeNorm(vcenter=centre, vmin=lo, vmax=hi), MAP_CMAP)


def _draw_connections(
    figure: Figure,
    model: NeuronMapsModel,
    boxes: dict[Hashable, tuple[float, float, float, float]],
    width: float,
    height: float,
) -> None:
    """Lines from each map's right edge to the next maps' left edges, under them."""
    back = figure.add_axes((0, 0, 1, 1), label="")
    back.set_xlim(0, width)
    back.set_ylim(0, height)
    back.set_axis_off()
    back.set_zorder(-1)
    top = max(abs(w) for w in model.weights.values()) or 1.0
    norm = Normalize(-top, top)
    for (u, v), w in sorted(model.weights.items(), key=lambda item: abs(item[1])):
        if u not in boxes or v not in boxes:
            continue
        _ux0, uy0, ux1, uy1 = boxes[u]
        vx0, vy0, _vx1, vy1 = boxes[v]
        back.add_line(
            Line2D(
                [ux1, vx0],
                [(uy0 + uy1) / 2, (vy0 + vy1) / 2],
                color=WEIGHT_CMAP(norm(w)),
                linewidth=0.3 + 2.2 * abs(w) / top,
                alpha=0.8,
                solid_capstyle="butt",
            )
        )

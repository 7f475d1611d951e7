"""Figures of a simulation: the message timeline, the network, the loss, a GIF.

Every function draws from a :class:`~neurosim.trace.Trace` (possibly reloaded
from a file) and/or a graph, never from the running simulation: this module
does not import trio. The functions that draw on one Axes take ``ax=`` and
return it; without ``ax`` they create a figure with ``matplotlib.pyplot``, so
they show up in notebooks and with ``plt.show()`` under whatever backend the
user chose. :func:`animate` renders off screen.

The artists a test (or a user) may want to find carry a ``gid``:

- :data:`MESSAGE_GID`: one ``FancyArrowPatch`` per message drawn by
  :func:`timeline` (in ``ax.patches``);
- :data:`VALUE_GID`: one ``Text`` per value written on a message;
- :data:`WEIGHT_GID`: one ``Text`` per weight written on a connection by
  :func:`network`;
- :data:`BIAS_GID`: one ``Text`` per bias written next to a neuron by
  :func:`network` (when some bias is not zero);
- :data:`ARRIVALS_GID`: the scatter of arrivals of an aggregated timeline;
- :data:`DROPPED_GID`: the "×" markers of :func:`timeline` where lost
  messages would have arrived (one point per lost message);
- :data:`LATE_GID`: the hollow circles where late messages arrived.

Labels (values on messages, weights on connections, biases) are placed when
the figure is drawn, on the rendered geometry, so that none overlaps another
nor sits on a neuron, an arrowhead or an update mark: each takes the first
clear position along its arrow or connection (a bias, the first side of its
neuron where no connection passes). They follow when the figure is resized.

Colours: forward messages blue, backward messages vermillion, parameter
updates green (Okabe–Ito, safe for colour-blind readers); weights on a
purple (negative) – grey – green (positive) scale. A timeline coloured by
iteration uses :data:`SAMPLE_COLORS` (Paul Tol's "muted" scheme, also safe
for colour-blind readers) and shows the kinds by line style.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import matplotlib
import networkx as nx
import numpy as np
from matplotlib import patheffects
from matplotlib.animation import AbstractMovieWriter
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from matplotlib.ticker import MaxNLocator
from numpy.typing import NDArray

from neurosim._files import atomic_write
from neurosim.errors import DataError
from neurosim.trace import KINDS, Trace

__all__ = [
    "ARRIVALS_GID",
    "BIAS_GID",
    "DROPPED_GID",
    "LATE_GID",
    "MESSAGE_GID",
    "VALUE_GID",
    "WEIGHT_GID",
    "animate",
    "loss",
    "network",
    "network_change",
    "timeline",
]

MESSAGE_GID = "neurosim-message"
VALUE_GID = "neurosim-value"
WEIGHT_GID = "neurosim-weight"
ARRIVALS_GID = "neurosim-arrivals"
BIAS_GID = "neurosim-bias"
DROPPED_GID = "neurosim-dropped"
LATE_GID = "neurosim-late"

#: Colours of the message kinds and of updates.
COLORS = {
    "forward": "#0072B2",
    "backward": "#D55E00",
    "feedback": "#CC79A7",
    "update": "#009E73",
}
#: One colour per iteration in ``timeline(color_by="sample")``: Paul Tol's
#: "muted" qualitative scheme, distinct for colour-blind readers; it cycles
#: beyond nine iterations.
SAMPLE_COLORS = (
    "#332288",
    "#CC6677",
    "#117733",
    "#88CCEE",
    "#882255",
    "#DDCC77",
    "#44AA99",
    "#AA4499",
    "#999933",
)
#: Line styles of the message kinds when the colour shows the iteration.
KIND_LINESTYLES = {
    "forward": "-",
    "backward": (0, (4.0, 2.0)),
    "feedback": (0, (1.0, 1.5)),
}
_INK = "#222222"
_MUTED = "#6b6b6b"
_GRID = "#e4e4e4"

#: Weights: purple for negative, grey near zero, green for positive.
WEIGHT_CMAP = LinearSegmentedColormap.from_list(
    "neurosim_weights", ["#762a83", "#af8dc3", "#cfcfcf", "#7fbf7b", "#1b7837"]
)

# Above these sizes the timeline aggregates and the network drops its labels.
_MAX_LANES = 60
_MAX_ARROWS = 2000
_MAX_VALUE_LABELS = 40
_MAX_WEIGHT_LABELS = 20
_MAX_NODE_LABELS = 40

Graph = Any  # a networkx.DiGraph, or any object with a to_graph() method


# ----------------------------------------------------------------------
# shared helpers


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only here: respect the user's backend

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _white_box(pad: float, alpha: float) -> dict[str, Any]:
    """A white rounded box behind a label, so that lines under it do not show."""
    return {"boxstyle": f"round,pad={pad}", "fc": "white", "ec": "none", "alpha": alpha}


def _fmt(x: float, digits: int = 4) -> str:
    """A number for a label: 4 significant digits, a true minus sign."""
    if not math.isfinite(x):
        return str(x)
    text = f"{x:.{digits}g}"
    return text.replace("-", "\N{MINUS SIGN}")


def _fmt_value(value: Any) -> str:
    """A message's value; a mini-batch shows its first two samples."""
    if np.ndim(value) == 0:
        return _fmt(float(value))
    items = [_fmt(float(v), 3) for v in value[:2]]
    return "[" + ", ".join(items) + (", …]" if len(value) > 2 else "]")


def _as_graph(graph: Graph) -> nx.DiGraph:
    if isinstance(graph, nx.DiGraph):
        return graph
    to_graph = getattr(graph, "to_graph", None)
    if callable(to_graph):
        return to_graph()
    raise TypeError(
        f"expected a networkx.DiGraph or an object with a to_graph() method, "
        f"not {type(graph).__name__}"
    )


def _graph_layers(G: nx.DiGraph) -> list[list[Hashable]]:
    """Topological generations, each in the graph's node order."""
    order = {node: i for i, node in enumerate(G.nodes)}
    try:
        generations = list(nx.topological_generations(G))
    except nx.NetworkXUnfeasible:
        raise DataError(
            "the graph has a cycle; neurosim draws acyclic networks"
        ) from None
    return [sorted(layer, key=order.__getitem__) for layer in generations]


def _layer_names(count: int) -> list[str]:
    if count <= 1:
        return ["neurons"] * count
    hidden = count - 2
    names = ["input"]
    names += (
        ["hidden"] if hidden == 1 else [f"hidden {k}" for k in range(1, hidden + 1)]
    )
    return [*names, "output"]


def _positions(
    layers: Sequence[Sequence[Hashable]],
) -> dict[Hashable, tuple[float, float]]:
    """Layer k at x = k; each layer centred on y = 0, one unit apart, top down."""
    pos = {}
    for x, layer in enumerate(layers):
        for j, node in enumerate(layer):
            pos[node] = (float(x), (len(layer) - 1) / 2 - j)
    return pos


def _clean_axes(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _selection_title(epoch: Any, sample: Any) -> str:
    def describe(name: str, value: Any) -> str | None:
        if value is None:
            return None
        if np.ndim(value) == 0 and not isinstance(value, (range, list, tuple, set)):
            return f"{name} {value}"
        values = sorted(value)
        if len(values) > 1 and values == list(range(values[0], values[-1] + 1)):
            return f"{name}s {values[0]}–{values[-1]}"
        return f"{name}s " + ", ".join(map(str, values))

    parts = [p for p in (describe("epoch", epoch), describe("sample", sample)) if p]
    return ", ".join(parts) if parts else "all iterations"


# ----------------------------------------------------------------------
# label placement, at draw time, on the rendered geometry
#
# Where a label may go depends on the final size of the Axes in pixels
# (constrained layout, a colour bar, savefig's dpi), so labels are placed
# when the Axes is drawn, by a :class:`_LabelPlacer` drawn before them. The
# geometry is in display pixels: a label is an oriented rectangle (its
# centre, the unit vector of its baseline, its half width and half height,
# the white box's padding included); lines are rectangles of height 0.


def _perpendicular(u: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.stack([-u[..., 1], u[..., 0]], axis=-1)


def _rects_overlap(
    centre: NDArray[np.float64],
    u: NDArray[np.float64],
    half: tuple[float, float],
    centres: NDArray[np.float64],
    us: NDArray[np.float64],
    halves: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Whether one oriented rectangle overlaps each of others (separating axes)."""
    if len(centres) == 0:
        return np.zeros(0, dtype=bool)
    n, ns = _perpendicular(u), _perpendicular(us)
    d = centres - centre
    separated = np.zeros(len(centres), dtype=bool)
    # The axes of the one rectangle...
    for axis, reach in ((u, half[0]), (n, half[1])):
        other = halves[:, 0] * np.abs(us @ axis) + halves[:, 1] * np.abs(ns @ axis)
        separated |= np.abs(d @ axis) >= reach + other
    # ... and those of each of the others.
    for axes, other in ((us, halves[:, 0]), (ns, halves[:, 1])):
        reach = half[0] * np.abs(axes @ u) + half[1] * np.abs(axes @ n)
        separated |= np.abs(np.sum(d * axes, axis=1)) >= reach + other
    return ~separated


class _Scene:
    """What labels must keep clear of, in display pixels; labels are added as placed.

    Hard obstacles (placed labels, circles, boxes, the Axes' edge) must not be
    touched; soft ones (lines) are avoided when possible.
    """

    def __init__(self, bounds: Any):
        self.bounds = bounds  # a Bbox: labels stay inside
        self.rects: list[tuple[NDArray[np.float64], NDArray[np.float64], Any]] = []
        self.circles: list[tuple[float, float, float]] = []
        self.lines: list[
            tuple[NDArray[np.float64], NDArray[np.float64], float, float]
        ] = []
        self._cache: dict[str, Any] = {}

    def add_rect(
        self, centre: NDArray[np.float64], u: NDArray[np.float64], half: Any
    ) -> None:
        self.rects.append((np.asarray(centre, float), np.asarray(u, float), half))
        self._cache.pop("rects", None)

    def add_box(self, box: Any) -> None:
        """An axis-aligned obstacle (a matplotlib Bbox)."""
        if box.width > 0 and box.height > 0:
            centre = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
            self.add_rect(centre, np.array([1.0, 0.0]), (box.width / 2, box.height / 2))

    def add_circle(self, centre: Any, radius: float) -> None:
        self.circles.append((float(centre[0]), float(centre[1]), float(radius)))
        self._cache.pop("circles", None)

    def add_line(self, start: Any, end: Any, half_width: float = 0.0) -> int:
        """A soft obstacle; returns its index (to skip a label's own line)."""
        start, end = np.asarray(start, float), np.asarray(end, float)
        length = float(np.hypot(*(end - start)))
        u = (end - start) / length if length > 0 else np.array([1.0, 0.0])
        self.lines.append(((start + end) / 2, u, length / 2, half_width))
        self._cache.pop("lines", None)
        return len(self.lines) - 1

    def _arrays(self, name: str) -> Any:
        if name not in self._cache:
            if name == "rects":
                rows = self.rects
                self._cache[name] = (
                    np.array([r[0] for r in rows]).reshape(-1, 2),
                    np.array([r[1] for r in rows]).reshape(-1, 2),
                    np.array([r[2] for r in rows], dtype=float).reshape(-1, 2),
                )
            elif name == "circles":
                self._cache[name] = np.array(self.circles).reshape(-1, 3)
            else:
                rows = self.lines
                self._cache[name] = (
                    np.array([r[0] for r in rows]).reshape(-1, 2),
                    np.array([r[1] for r in rows]).reshape(-1, 2),
                    np.array([(r[2], r[3]) for r in rows]).reshape(-1, 2),
                )
        return self._cache[name]

    def cost(
        self,
        centre: NDArray[np.float64],
        u: NDArray[np.float64],
        half: tuple[float, float],
        skip_lines: Sequence[int] = (),
    ) -> tuple[int, int]:
        """(hard obstacles touched, lines crossed) by a label there."""
        n = _perpendicular(u)
        corners = centre + np.array(
            [sx * half[0] * u + sy * half[1] * n for sx in (-1, 1) for sy in (-1, 1)]
        )
        b = self.bounds
        hard = int(
            (corners[:, 0] < b.x0).any()
            or (corners[:, 0] > b.x1).any()
            or (corners[:, 1] < b.y0).any()
            or (corners[:, 1] > b.y1).any()
        )
        hard += int(_rects_overlap(centre, u, half, *self._arrays("rects")).sum())
        circles = self._arrays("circles")
        if len(circles):
            d = circles[:, :2] - centre
            dx = np.maximum(np.abs(d @ u) - half[0], 0.0)
            dy = np.maximum(np.abs(d @ n) - half[1], 0.0)
            hard += int((np.hypot(dx, dy) < circles[:, 2]).sum())
        crossed = _rects_overlap(centre, u, half, *self._arrays("lines"))
        if len(skip_lines):
            crossed[list(skip_lines)] = False
        return hard, int(crossed.sum())

    def choose(self, label: _Label) -> tuple[NDArray[np.float64], int, int]:
        """The best candidate centre of a label, which is then added; and the
        hard obstacles it touches and the lines it crosses there.

        Best: touches the fewest hard obstacles, then crosses the fewest
        lines, then comes first (with ``lines_are_hard`` a line counts as a
        hard obstacle): the first clear position if there is one.
        """
        best, best_key = label.candidates[0], (math.inf,)
        for rank, centre in enumerate(label.candidates):
            hard, crossed = self.cost(centre, label.u, label.half, label.skip_lines)
            if label.lines_are_hard:
                hard, crossed = hard + crossed, 0
            key = (hard, crossed, rank)
            if key < best_key:
                best, best_key = centre, key
            if hard == crossed == 0:
                break
        self.add_rect(best, label.u, label.half)
        return best, int(best_key[0]), int(best_key[1])


class _Label(NamedTuple):
    """A label to place: its candidate centres in order of preference."""

    candidates: Sequence[NDArray[np.float64]]
    u: NDArray[np.float64]  # the direction of its baseline
    half: tuple[float, float]  # half width, half height
    skip_lines: Sequence[int] = ()  # its own line
    lines_are_hard: bool = False


def _place(scene: _Scene, labels: Sequence[_Label]) -> list[NDArray[np.float64]]:
    """Place the labels greedily, in order; the centre of each.

    When some label finds no clear position, the round starts again with
    the blocked labels first (a long connection has room elsewhere, a short
    one may not); the round with the fewest clashes wins.
    """
    fixed = len(scene.rects)
    order = list(range(len(labels)))
    best: tuple[tuple[int, int], list[Any]] | None = None
    for _ in range(4):
        del scene.rects[fixed:]
        scene._cache.pop("rects", None)
        centres: list[Any] = [None] * len(labels)
        blocked, hard_total, crossed_total = [], 0, 0
        for i in order:
            centres[i], hard, crossed = scene.choose(labels[i])
            hard_total += hard
            crossed_total += crossed
            if hard:
                blocked.append(i)
        score = (hard_total, crossed_total)
        if best is None or score < best[0]:
            best = (score, centres)
        if not blocked:
            break
        order = blocked + [i for i in order if i not in blocked]
    return best[1] if best is not None else []


def _label_half_size(
    text: Any, renderer: Any, strings: Sequence[str] | None = None, bold: bool = False
) -> tuple[float, float]:
    """Half width and half height in pixels of a label unrotated, box included.

    With `strings`, the largest of these texts (a label whose text changes).
    """
    from matplotlib.text import Text

    pad = 0.0
    patch = text.get_bbox_patch()
    if patch is not None:
        pad = getattr(patch.get_boxstyle(), "pad", 0.0) * renderer.points_to_pixels(
            text.get_fontsize()
        )
    width = height = 0.0
    for string in strings if strings is not None else [text.get_text()]:
        scratch = Text(0, 0, string, fontproperties=text.get_fontproperties())
        if bold:
            scratch.set_fontweight("bold")
        scratch.set_figure(text.get_figure(root=True))
        box = scratch.get_window_extent(renderer)
        width, height = max(width, box.width), max(height, box.height)
    margin = 1.0  # rounding of the rendered box
    return width / 2 + pad + margin, height / 2 + pad + margin


class _LabelPlacer(Artist):
    """Calls ``place(renderer)`` when its Axes is drawn, before the labels.

    Placement runs again only when the Axes' size, limits or the dpi
    change, so labels do not move under a steady figure (nor while an
    animation changes their text); with `every_draw`, at every draw (the
    labels of an animation's moving dots), after the placers made without.
    """

    def __init__(self, ax: Axes, place: Any, every_draw: bool = False):
        super().__init__()
        self._ax = ax
        self._place = place
        self._key: tuple[float, ...] | None = None
        self._every_draw = every_draw
        # Drawn first among the Axes' children.
        self.set_zorder(-999 if every_draw else -1000)
        self.set_in_layout(False)
        ax.add_artist(self)

    def draw(self, renderer: Any) -> None:
        ax = self._ax
        # Whole pixels: constrained layout moves an Axes by a fraction of a
        # pixel from one draw to the next.
        key = (
            round(float(renderer.points_to_pixels(1.0)), 6),
            *np.round(ax.bbox.bounds).tolist(),
            *np.round(ax.viewLim.bounds, 9).tolist(),
        )
        if key != self._key or self._every_draw:
            self._key = key
            self._place(renderer)
        self.stale = False


def _set_display_position(text: Any, centre: NDArray[np.float64]) -> None:
    """Move a label (in data coordinates) to a point given in pixels."""
    x, y = text.axes.transData.inverted().transform(centre)
    if (x, y) != text.get_position():
        text.set_position((float(x), float(y)))


def _along(
    start: NDArray[np.float64],
    end: NDArray[np.float64],
    lo: float,
    hi: float,
    preferred: float,
    count: int = 25,
) -> tuple[list[NDArray[np.float64]], NDArray[np.float64]]:
    """Candidate centres between ``lo`` and ``hi`` pixels from `start` towards
    `end`, nearest `preferred` first; and the unit vector of the segment."""
    length = float(np.hypot(*(end - start)))
    u = (end - start) / length if length > 0 else np.array([1.0, 0.0])
    if hi < lo:
        distances = np.array([(lo + hi) / 2])
    else:
        distances = np.linspace(lo, hi, count)
        distances = distances[np.argsort(np.abs(distances - preferred), kind="stable")]
    return [start + s * u for s in distances], u


# ----------------------------------------------------------------------
# timeline


def timeline(
    trace: Trace,
    *,
    epoch: int | Sequence[int] | None = None,
    sample: int | Sequence[int] | None = None,
    ax: Axes | None = None,
    values: bool | Literal["auto"] = "auto",
    layers: Sequence[Sequence[Hashable]] | None = None,
    color_by: Literal["kind", "sample"] = "kind",
) -> Axes:
    """Draw the messages as a sequence diagram in virtual time.

    One horizontal lane per neuron, inputs at the top and outputs at the
    bottom; each message is an arrow from ``(sent_at, source)`` to
    ``(received_at, destination)``, forward and backward messages in two
    colours; a diamond marks the parameter updates of a neuron.

    What became of a message (its ``fate``, see :class:`~neurosim.Trace`) is
    marked in every mode: a lost message is a faded line from its sender to
    where it would have arrived, ending in a "×" on the destination's lane;
    a duplicate copy is a thin dotted arrow; a late message (arrived after
    its iteration's deadline, ignored) is a faded line ending in a small
    hollow circle. The legend explains the markers that appear, and the
    title counts them.

    Parameters
    ----------
    trace : Trace
        The recording, for instance ``Trace.read_csv(path)``: no graph needed.
    epoch, sample : int or sequence of int, optional
        The iterations to draw. Without both, the first iteration of the
        trace. With only ``epoch``, all of its samples; with only
        ``sample``, that sample of the first epoch. Pass sequences to draw
        several iterations (``epoch=range(3)``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    values : bool or "auto"
        Write the value on each arrow; ``"auto"`` does so when at most 40
        messages are drawn.
    layers : list of lists of node names, optional
        The lanes, grouped by layer; by default :meth:`Trace.layers` of the
        whole trace, so the lanes stay the same from one iteration to the next.
    color_by : {"kind", "sample"}
        ``"kind"``: forward, backward and feedback messages in three colours.
        ``"sample"``: each iteration ``(epoch, sample)`` in a colour of its
        own (:data:`SAMPLE_COLORS`, cycling beyond nine), to follow samples
        in flight together; the kind is then the line style (forward solid,
        backward dashed, feedback dotted). The aggregated raster always
        colours by kind.

    Returns
    -------
    matplotlib Axes
        In the detailed mode each message is one ``FancyArrowPatch`` with
        gid :data:`MESSAGE_GID` (lost and late ones included), the "×" of
        the lost messages one scatter with gid :data:`DROPPED_GID` and the
        circles of the late ones one with gid :data:`LATE_GID`. Above 60
        lanes or 2000 messages the plot switches to an aggregated raster
        instead (a scatter of arrivals per lane and time, gid
        :data:`ARRIVALS_GID`, and a "×" per lost message), and the title
        says so.

    Raises
    ------
    DataError
        `color_by` is neither ``"kind"`` nor ``"sample"``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from neurosim.plot import DROPPED_GID, MESSAGE_GID, timeline
    >>> from neurosim.trace import Trace
    >>> trace = Trace.from_rows(
    ...     [
    ...         (0, 0, "forward", "x", "y", 0.0, 1.0, 2.0),
    ...         (0, 0, "backward", "y", "x", 1.0, 2.0, -0.5),
    ...     ],
    ...     [(0, 0, "y", "x", 0.5, 0.4, 1.0)],
    ...     ["x", "y"],
    ... )
    >>> ax = timeline(trace)
    >>> sum(patch.get_gid() == MESSAGE_GID for patch in ax.patches)
    2
    >>> ax.get_title()
    'Messages of epoch 0, sample 0'
    >>> plt.close(ax.figure)

    Two samples in flight, one message of the second lost on the way:

    >>> trace = Trace.from_rows(
    ...     [
    ...         (0, 0, "forward", "x", "y", 0.0, 1.0, 2.0, "delivered"),
    ...         (0, 1, "forward", "x", "y", 0.5, 1.5, 3.0, "dropped"),
    ...     ],
    ...     [],
    ...     ["x", "y"],
    ... )
    >>> ax = timeline(trace, sample=[0, 1], color_by="sample")
    >>> ax.get_title()
    'Messages of epoch 0, samples 0–1: 1 lost'
    >>> [len(c.get_offsets()) for c in ax.collections if c.get_gid() == DROPPED_GID]
    [1]
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['sample 0', 'sample 1', 'forward (solid)', 'lost (× where it would arrive)']
    >>> plt.close(ax.figure)
    """
    if color_by not in ("kind", "sample"):
        raise DataError(
            f"timeline: color_by must be 'kind' or 'sample', got {color_by!r}"
        )
    if layers is None:
        layers = trace.layers()
    layers = [list(layer) for layer in layers if len(layer)]
    if epoch is None and sample is None:
        iterations = trace.iterations()
        if iterations:
            epoch, sample = iterations[0]
    elif epoch is None:
        epochs = sorted({e for e, _ in trace.iterations()})
        epoch = epochs[0] if epochs else None
    selected = trace.filter(epoch=epoch, sample=sample)

    # Lanes: the layers, then any node of the selection they do not name.
    index = {node: i for i, node in enumerate(trace.nodes)}
    lanes = [node for layer in layers for node in layer if node in index]
    lane_of = np.full(len(trace.nodes) + 1, -1, dtype=np.intp)
    for y, node in enumerate(lanes):
        lane_of[index[node]] = y
    used = np.concatenate(
        [
            selected.source_index,
            selected.destination_index,
            selected.updates.neuron_index,
        ]
    )
    extra = [i for i in np.unique(used) if lane_of[i] < 0]
    if extra:
        lanes += [trace.nodes[i] for i in extra]
        layers.append([trace.nodes[i] for i in extra])
        lane_of[extra] = np.arange(len(lanes) - len(extra), len(lanes))

    aggregated = len(lanes) > _MAX_LANES or len(selected) > _MAX_ARROWS
    what = _selection_title(epoch, sample) + _fate_summary(selected)
    if aggregated:
        model = None
        height = 7.0
    else:
        model = _timeline_model(selected, lane_of, color_by)
        height = min(9.0, max(2.6, 0.55 * len(lanes) + 1.2))
        height = max(height, min(9.0, 0.24 * len(model.legend) + 0.9))
    ax = _new_axes(ax, (8.0, height))

    # Layer bands, alternately shaded, and the lanes.
    start = 0
    for k, layer in enumerate(layers):
        if k % 2 == 1:
            ax.axhspan(start - 0.5, start + len(layer) - 0.5, color="#f4f4f4", zorder=0)
        start += len(layer)
    if not aggregated:
        for y in range(len(lanes)):
            ax.axhline(y, color=_GRID, linewidth=0.8, zorder=0.5)

    if model is None:
        _draw_arrivals(ax, selected, lane_of, len(lanes))
        ax.set_title(
            f"Message arrivals of {what}\n(aggregated: {len(selected):,} messages "
            f"on {len(lanes)} lanes; darker = more arrivals)",
            fontsize=11,
        )
    else:
        show_values = values if values != "auto" else len(selected) <= _MAX_VALUE_LABELS
        _draw_arrows(ax, selected, model, lane_of, bool(show_values))
        ax.set_title(f"Messages of {what}", fontsize=12)

    _draw_update_marks(ax, selected, lane_of, small=not aggregated)
    _timeline_axes(ax, selected, lanes, layers, model)
    return ax


def _fate_summary(trace: Trace) -> str:
    """``": 2 lost, 1 late"`` for the title, or nothing when all arrived."""
    fates = trace.fate
    words = {"dropped": "lost", "duplicate": "duplicated", "late": "late"}
    parts = [
        f"{count} {word}"
        for fate, word in words.items()
        if (count := int(np.count_nonzero(fates == fate)))
    ]
    return ": " + ", ".join(parts) if parts else ""


# What a timeline draws, as plain data: :func:`_timeline_model` decides the
# arrows, their colours and styles, the markers and the legend; the
# renderers below turn it into matplotlib artists.


class _Arrow(NamedTuple):
    start: tuple[float, float]  # (time, lane)
    end: tuple[float, float]
    color: str
    linestyle: Any
    linewidth: float
    alpha: float
    head: bool  # an arrowhead; lost and late messages end in a marker instead


class _LegendEntry(NamedTuple):
    label: str
    color: str
    linestyle: Any = "-"
    linewidth: float = 2.0
    marker: str = ""
    markersize: float = 6.0
    markerfacecolor: str | None = None
    alpha: float = 1.0  # of the line only


class _TimelineModel(NamedTuple):
    arrows: list[_Arrow]  # one per message, in trace order
    dropped: NDArray[np.float64]  # (n, 2): where each lost message would arrive
    late: NDArray[np.float64]  # (n, 2): where each late message arrived
    late_colors: list[str]
    mutation_scale: float  # the arrowheads' size
    legend: list[_LegendEntry]


# The fates drawn differently from a delivered message.
_FADED = 0.35  # lost and late messages: this fraction of the usual opacity
_DUPLICATE_STYLE = (0, (1.0, 1.6))
_DROP_MARK = {"marker": "x", "s": 64, "linewidths": 2.2, "color": _INK}
_LATE_MARK = {"marker": "o", "s": 26, "linewidths": 1.2, "facecolors": "white"}
_MAX_SAMPLE_ENTRIES = 10  # legend entries of iterations before "… more"


def _iteration_label(epoch: int, sample: int, one_epoch: bool) -> str:
    return f"sample {sample}" if one_epoch else f"epoch {epoch}, sample {sample}"


def _timeline_model(
    trace: Trace, lane_of: NDArray[np.intp], color_by: str
) -> _TimelineModel:
    """What :func:`timeline` draws for the messages of `trace`, as plain data."""
    y0 = lane_of[trace.source_index]
    y1 = lane_of[trace.destination_index]
    # Many arrows: thinner, lighter, smaller heads, so that bundles stay
    # readable as bundles.
    density = min(1.0, math.sqrt(60 / max(len(trace), 1)))
    linewidth = 0.4 + 0.9 * density
    alpha = 0.35 + 0.65 * density
    by_sample = color_by == "sample"
    iterations = sorted(
        set(zip(trace.epoch.tolist(), trace.sample.tolist(), strict=True))
    )
    colour_of = {
        it: SAMPLE_COLORS[k % len(SAMPLE_COLORS)] for k, it in enumerate(iterations)
    }
    fates = trace.fate
    arrows, dropped, late, late_colors = [], [], [], []
    for k in range(len(trace)):
        kind, fate = trace.kind[k], fates[k]
        start = (float(trace.sent_at[k]), float(y0[k]))
        end = (float(trace.received_at[k]), float(y1[k]))
        if by_sample:
            color = colour_of[int(trace.epoch[k]), int(trace.sample[k])]
            linestyle = KIND_LINESTYLES[kind]
        else:
            color, linestyle = COLORS[kind], "-"
        width, opacity, head = linewidth, alpha, True
        if fate == "dropped":
            opacity, head = alpha * _FADED, False
            dropped.append(end)
        elif fate == "late":
            opacity, head = alpha * _FADED, False
            late.append(end)
            late_colors.append(color)
        elif fate == "duplicate":
            width, linestyle = 0.6 * linewidth, _DUPLICATE_STYLE
        arrows.append(_Arrow(start, end, color, linestyle, width, opacity, head))

    kinds = [k for k in KINDS if (trace.kind == k).any()]
    legend = []
    if by_sample:
        one_epoch = len({e for e, _ in iterations}) <= 1
        shown = (
            iterations
            if len(iterations) <= _MAX_SAMPLE_ENTRIES
            else iterations[: _MAX_SAMPLE_ENTRIES - 1]
        )
        legend += [
            _LegendEntry(_iteration_label(e, s, one_epoch), colour_of[e, s])
            for e, s in shown
        ]
        if len(shown) < len(iterations):
            more = len(iterations) - len(shown)
            legend.append(_LegendEntry(f"… {more} more (colours repeat)", "none"))
        words = {"forward": "solid", "backward": "dashed", "feedback": "dotted"}
        legend += [
            _LegendEntry(f"{k} ({words[k]})", _MUTED, KIND_LINESTYLES[k], linewidth=1.6)
            for k in kinds
        ]
    else:
        legend += [_LegendEntry(k, COLORS[k], marker=">", markersize=6) for k in kinds]
    if len(trace.updates):
        legend.append(
            _LegendEntry(
                "update", COLORS["update"], linestyle="none", marker="D", markersize=6
            )
        )
    if dropped:
        legend.append(
            _LegendEntry(
                "lost (× where it would arrive)",
                _INK,
                alpha=_FADED,
                linewidth=1.4,
                marker="x",
                markersize=7,
            )
        )
    if (fates == "duplicate").any():
        legend.append(
            _LegendEntry(
                "duplicate copy (ignored)", _MUTED, _DUPLICATE_STYLE, linewidth=1.2
            )
        )
    if late:
        legend.append(
            _LegendEntry(
                "late (○ arrival, ignored)",
                _MUTED,
                alpha=_FADED,
                linewidth=1.4,
                marker="o",
                markersize=5,
                markerfacecolor="white",
            )
        )
    return _TimelineModel(
        arrows,
        np.array(dropped, dtype=float).reshape(-1, 2),
        np.array(late, dtype=float).reshape(-1, 2),
        late_colors,
        6 + 6 * density,
        legend,
    )


def _draw_arrows(
    ax: Axes,
    trace: Trace,
    model: _TimelineModel,
    lane_of: NDArray[np.intp],
    show_values: bool,
) -> None:
    """Render a :class:`_TimelineModel`: arrows, fate markers, value labels."""
    # An arrow ending on an update diamond stops at its edge.
    updates = trace.updates
    marks = np.stack([updates.time, lane_of[updates.neuron_index]], axis=1)
    marks = marks.astype(float)
    on_mark = {(float(t), int(y)) for t, y in marks}
    mutation_scale = model.mutation_scale
    labels = []
    for k, arrow in enumerate(model.arrows):
        if arrow.head:
            shrink = 5.0 if (arrow.end[0], int(arrow.end[1])) in on_mark else 1.5
        else:
            shrink = 0.0
        ax.add_patch(
            FancyArrowPatch(
                arrow.start,
                arrow.end,
                arrowstyle=(
                    "-|>,head_length=0.55,head_width=0.28" if arrow.head else "-"
                ),
                mutation_scale=mutation_scale,
                linewidth=arrow.linewidth,
                linestyle=arrow.linestyle,
                alpha=arrow.alpha,
                color=arrow.color,
                shrinkA=0,
                shrinkB=shrink,
                zorder=2,
                gid=MESSAGE_GID,
            )
        )
        if show_values:
            (x0, y0), (x1, y1) = arrow.start, arrow.end
            labels.append(
                ax.text(
                    x0 + (x1 - x0) / 3,
                    y0 + (y1 - y0) / 3,
                    _fmt_value(trace.value[k]),
                    fontsize=8,
                    color=arrow.color,
                    ha="center",
                    va="center",
                    zorder=3,
                    gid=VALUE_GID,
                    bbox=_white_box(0.15, 0.9),
                )
            )
    _draw_fate_marks(ax, model.dropped, model.late, model.late_colors, small=False)
    if labels:
        starts = np.array([a.start for a in model.arrows], dtype=float)
        ends = np.array([a.end for a in model.arrows], dtype=float)
        place = functools.partial(
            _place_value_labels,
            ax,
            labels,
            starts,
            ends,
            np.concatenate([marks, model.dropped, model.late]),
            0.55 * mutation_scale,
        )
        _LabelPlacer(ax, place)


def _draw_fate_marks(
    ax: Axes,
    dropped: NDArray[np.float64],
    late: NDArray[np.float64],
    late_colors: Sequence[str],
    small: bool,
) -> None:
    """The "×" where lost messages would have arrived, the circles of late ones."""
    if len(dropped):
        style = dict(_DROP_MARK)
        if small:
            style.update(s=24, linewidths=1.4)
        ax.scatter(
            dropped[:, 0],
            dropped[:, 1],
            zorder=5,
            gid=DROPPED_GID,
            path_effects=[patheffects.withStroke(linewidth=3.5, foreground="white")],
            **style,
        )
    if len(late):
        ax.scatter(
            late[:, 0],
            late[:, 1],
            edgecolors=list(late_colors),
            zorder=4.5,
            gid=LATE_GID,
            **_LATE_MARK,
        )


def _place_value_labels(
    ax: Axes,
    labels: list[Any],
    starts: NDArray[np.float64],
    ends: NDArray[np.float64],
    marks: NDArray[np.float64],
    head_length: float,
    renderer: Any,
) -> None:
    """Put each value label on its arrow, clear of the other labels, of the
    arrowheads and tails, and of the update diamonds; off other arrows when
    possible. Greedy, in the order of sending: the first clear position
    along the arrow, nearest a third of the way.
    """
    px = renderer.points_to_pixels
    to_px = ax.transData.transform
    p0, p1 = to_px(starts), to_px(ends)
    scene = _Scene(ax.bbox)
    for a, b in zip(p0, p1, strict=True):
        scene.add_line(a, b)
        scene.add_circle(b, px(head_length + 1.5))  # the arrowhead
        scene.add_circle(a, px(2.5))  # where arrows leave
    for centre in to_px(marks).reshape(-1, 2):
        scene.add_circle(centre, px(5.5))  # an update diamond
    order = np.lexsort((starts[:, 1], ends[:, 1], starts[:, 0]))
    x_axis = np.array([1.0, 0.0])
    items = []
    for k in order:
        length = float(np.hypot(*(p1[k] - p0[k])))
        candidates, _ = _along(
            p0[k], p1[k], 0.1 * length, 0.9 * length, length / 3, count=33
        )
        half = _label_half_size(labels[k], renderer)
        items.append(_Label(candidates, x_axis, half, skip_lines=[int(k)]))
    for k, centre in zip(order, _place(scene, items), strict=True):
        _set_display_position(labels[k], centre)


def _draw_arrivals(
    ax: Axes, trace: Trace, lane_of: NDArray[np.intp], lane_count: int
) -> None:
    """Arrivals per lane and time as a raster; opacity grows with the count."""
    if len(trace) == 0:
        return
    lost = trace.fate == "dropped"
    if lost.any():
        where = np.stack(
            [trace.received_at[lost], lane_of[trace.destination_index[lost]]], axis=1
        )
        _draw_fate_marks(ax, where.astype(float), np.empty((0, 2)), [], small=True)
        trace = trace.filter(fate=["delivered", "duplicate", "late"])
        if len(trace) == 0:
            return
    t = trace.received_at
    times = np.unique(t)
    if len(times) > 300:  # bin the time axis
        edges = np.linspace(times[0], times[-1], 201)
        centres = (edges[:-1] + edges[1:]) / 2
        t = centres[np.clip(np.searchsorted(edges, t, side="right") - 1, 0, 199)]
        times = np.unique(t)
    bins = np.searchsorted(times, t)
    lane = lane_of[trace.destination_index]
    height_pt = _axes_height_points(ax) / max(lane_count, 1)
    for kind in ("forward", "backward", "feedback"):
        mask = trace.kind == kind
        if not mask.any():
            continue
        key = lane[mask] * len(times) + bins[mask]
        cells, counts = np.unique(key, return_counts=True)
        rows, columns = np.divmod(cells, len(times))
        colors = np.tile(to_rgba(COLORS[kind]), (len(cells), 1))
        colors[:, 3] = 0.35 + 0.65 * counts / counts.max()
        ax.scatter(
            times[columns],
            rows,
            s=max(height_pt * 0.95, 2.0) ** 2,
            marker="|",
            c=colors,
            linewidths=2.0,
            zorder=2,
            gid=ARRIVALS_GID,
            label=kind,
        )


def _draw_update_marks(
    ax: Axes, trace: Trace, lane_of: NDArray[np.intp], small: bool
) -> None:
    updates = trace.updates
    if len(updates) == 0:
        return
    lane = lane_of[updates.neuron_index]
    marks = np.unique(np.stack([updates.time, lane.astype(float)], axis=1), axis=0)
    ax.scatter(
        marks[:, 0],
        marks[:, 1],
        s=46 if small else 12,
        marker="D",
        color=COLORS["update"],
        edgecolors="white",
        linewidths=0.8 if small else 0.3,
        zorder=4 if small else 1.5,  # aggregated: under the arrivals
    )


def _timeline_axes(
    ax: Axes,
    trace: Trace,
    lanes: list[Hashable],
    layers: list[list[Hashable]],
    model: _TimelineModel | None,
) -> None:
    aggregated = model is None
    ax.set_ylim(len(lanes) - 0.5, -0.5)  # inputs at the top
    if aggregated:
        starts = np.cumsum([0] + [len(layer) for layer in layers])
        names = _layer_names(len(layers))
        ax.set_yticks(
            (starts[:-1] + starts[1:] - 1) / 2,
            [
                f"{name}\n({len(layer)})"
                for name, layer in zip(names, layers, strict=True)
            ],
        )
        for y in starts[1:-1]:
            ax.axhline(y - 0.5, color="#bbbbbb", linewidth=0.8, zorder=1)
    else:
        ax.set_yticks(range(len(lanes)), [str(node) for node in lanes])
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("virtual time")
    start, stop = trace.span
    if not math.isnan(start):
        pad = 0.04 * max(stop - start, 1.0)
        ax.set_xlim(start - pad, stop + pad)
        if stop - start <= 30:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", color=_GRID, linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)

    if aggregated:
        kinds = [k for k in KINDS if (trace.kind == k).any()]
        entries = [
            _LegendEntry(
                f"{k} arrivals",
                COLORS[k],
                linestyle="none",
                marker="|",
                markersize=10,
            )
            for k in kinds
        ]
        if len(trace.updates):
            entries.append(
                _LegendEntry(
                    "update",
                    COLORS["update"],
                    linestyle="none",
                    marker="D",
                    markersize=6,
                )
            )
        if (trace.fate == "dropped").any():
            entries.append(
                _LegendEntry("lost", _INK, linestyle="none", marker="x", markersize=7)
            )
    else:
        entries = model.legend
    handles = [
        Line2D(
            [],
            [],
            color=to_rgba(e.color, e.alpha),  # the line faded, the marker not
            linestyle=e.linestyle,
            linewidth=e.linewidth,
            marker=e.marker,
            markersize=e.markersize,
            markeredgewidth=2 if e.marker in ("|", "x") else 1.2,
            markerfacecolor=e.markerfacecolor or e.color,
            markeredgecolor=e.color,
            label=e.label,
        )
        for e in entries
    ]
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            fontsize=9,
            handlelength=2.2 if model is not None and model.legend else 1.6,
        )


def _axes_height_points(ax: Axes) -> float:
    figure = ax.figure
    return ax.get_position().height * figure.get_figheight() * 72.0


# ----------------------------------------------------------------------
# the network


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
                    radius + 2.0 + _text_size(str(node), size)[0] + 0.3 * size
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


def _weights_of(G: nx.DiGraph) -> dict[tuple[Hashable, Hashable], float | None]:
    weights = {}
    for u, v, data in G.edges(data=True):
        w = data.get("weight")
        weights[u, v] = None if w is None else float(w)
    return weights


def _weight_range(*weight_maps: dict[Any, float | None]) -> float:
    values = [abs(w) for m in weight_maps for w in m.values() if w is not None]
    values = [w for w in values if math.isfinite(w)]
    top = max(values, default=1.0)
    return top if top > 0 else 1.0


def _network_figsize(layers: list[list[Hashable]]) -> tuple[float, float]:
    widest = max((len(layer) for layer in layers), default=1)
    width = min(11.0, max(4.5, 1.9 * len(layers) + 1.2))
    height = min(8.0, max(2.8, 0.9 * widest + 1.2))
    return width, height


def _node_size(ax: Axes, layers: list[list[Hashable]]) -> float:
    widest = max((len(layer) for layer in layers), default=1)
    spacing = _axes_height_points(ax) / (widest + 1.2)
    return float(np.clip((0.55 * spacing) ** 2, 6.0, 900.0))


# The smallest font a neuron's name is shrunk to, to fit in its circle.
_MIN_NAME_SIZE = 7.0


def _text_size(text: str, size: float) -> tuple[float, float]:
    """Width and height in points of one line of text (no renderer needed)."""
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
        width, height = _text_size(name, size)
        reach = math.hypot(width / 2, height / 2)
        needed.append(size * radius / reach if reach > 0 else size)
    fits = [n >= _MIN_NAME_SIZE for n in needed]
    fitting = [n for n, ok in zip(needed, fits, strict=True) if ok]
    return min([size, *fitting]), fits


def _resolve_show(show: bool | Literal["auto"], count: int, limit: int) -> bool:
    return bool(show) if show != "auto" else count <= limit


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


def _has_bias(G: nx.DiGraph) -> bool:
    return any(G.nodes[node].get("bias", 0.0) for node in G.nodes if G.in_degree(node))


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


# ----------------------------------------------------------------------
# the loss


def loss(
    history_or_array: Any,
    *,
    samples_per_epoch: int | None = None,
    ax: Axes | None = None,
    label: str | None = None,
    color: str | None = None,
) -> Axes:
    """Plot the training loss per iteration and its mean per epoch.

    Parameters
    ----------
    history_or_array : object with ``.loss``, or array
        The loss of each iteration (sample or batch) in order; a 2-D array is
        read as epochs × iterations. An object may also carry
        ``samples_per_epoch``.
    samples_per_epoch : int, optional
        Iterations per epoch; with it the x axis counts epochs and the epoch
        means are drawn as a bold line. With several iterations per epoch,
        the iterations show behind it, light: one dot each up to 50 epochs
        and 600 iterations, beyond that a band per epoch from the lowest to
        the highest (10th to 90th percentile with 10 or more iterations per
        epoch).
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise. Several runs can share one
        Axes: call once per run with its `label`.
    label : str, optional
        The run's name in the legend (its epoch means carry it).
    color : str, optional
        The run's colour; by default the next one of the Axes' cycle when a
        `label` is given.

    Returns
    -------
    matplotlib Axes
        The y axis is logarithmic when the finite positive losses span more
        than two decades. Non-finite losses (divergence) are left out and
        noted in the title.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from neurosim.plot import loss
    >>> ax = loss([4.0, 3.0, 1.0, 0.5, 0.02, 0.01], samples_per_epoch=2)
    >>> ax.get_yscale()
    'log'
    >>> plt.close(ax.figure)
    """
    data = getattr(history_or_array, "loss", history_or_array)
    if samples_per_epoch is None:
        samples_per_epoch = getattr(history_or_array, "samples_per_epoch", None)
    values = np.asarray(data, dtype=np.float64)
    if values.ndim == 2:
        samples_per_epoch = values.shape[1]
        values = values.ravel()
    elif values.ndim != 1:
        raise DataError(f"loss: expected a 1-D or 2-D array, got shape {values.shape}")
    if samples_per_epoch is not None and int(samples_per_epoch) < 1:
        raise DataError(f"samples_per_epoch must be >= 1, not {samples_per_epoch!r}")
    ax = _new_axes(ax, (7.0, 3.8))
    finite = np.isfinite(values)
    shown = np.where(finite, values, np.nan)
    if label is not None and color is None:  # the next colour of the cycle
        cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        runs = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
        color = cycle[len(runs) % len(cycle)]
    line_color, mean_color = "#7aa6c2", COLORS["forward"]
    if color is not None:
        line_color = mean_color = color

    if samples_per_epoch:
        per = int(samples_per_epoch)
        epochs = math.ceil(len(values) / per)
        x = (np.arange(len(values)) // per) + (
            (np.arange(len(values)) % per) + 0.5
        ) / per
        grid = np.full(epochs * per, np.nan)
        grid[: len(shown)] = shown
        grid = grid.reshape(epochs, per)
        seen = np.isfinite(grid).any(axis=1)
        means = np.full(epochs, np.nan)
        means[seen] = np.nanmean(grid[seen], axis=1)
        centres = np.arange(epochs) + 0.5
        if per > 1 and label is None:  # overlaid runs show their epoch means only
            _per_sample_spread(ax, x, shown, grid, seen, centres, line_color)
        ax.plot(
            centres,
            means,
            color=mean_color,
            linewidth=2.0,
            marker="o",
            markersize=4 if epochs <= 60 else 0,
            zorder=3,
            label="epoch mean" if label is None else label,
        )
        ax.set_xlabel("epoch")
        ax.set_xlim(0, epochs)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(frameon=False, fontsize=9)
    else:
        ax.plot(
            np.arange(1, len(values) + 1),
            shown,
            color=mean_color,
            linewidth=1.2,
            label=label,
        )
        if label is not None:
            ax.legend(frameon=False, fontsize=9)
        ax.set_xlabel("iteration")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))

    positive = values[finite & (values > 0)]
    all_positive = len(positive) and not (values[finite] <= 0).any()
    if all_positive and positive.max() / positive.min() > 100:
        ax.set_yscale("log")
    ax.set_ylabel("loss  E = ½ Σ (z − y)²")
    title = "Training loss"
    if not finite.all():
        title += f" (diverged: {int((~finite).sum())} non-finite values not shown)"
    ax.set_title(title, fontsize=12)
    ax.grid(color=_GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


# Up to this many epochs and points, each sample's loss is a dot; beyond,
# the samples of an epoch are summed up as a band.
_MAX_LOSS_DOT_EPOCHS = 50
_MAX_LOSS_DOTS = 600


def _per_sample_spread(
    ax: Axes,
    x: NDArray[np.float64],
    shown: NDArray[np.float64],
    grid: NDArray[np.float64],
    seen: NDArray[np.bool_],
    centres: NDArray[np.float64],
    color: str,
) -> None:
    """The losses of the samples behind the epoch means, light.

    Few epochs: one small dot per sample. Many: a band per epoch from the
    lowest to the highest sample (10th to 90th percentile with 10 samples
    or more an epoch), so that samples of very different losses do not
    draw a solid zigzag.
    """
    epochs, per = grid.shape
    if epochs <= _MAX_LOSS_DOT_EPOCHS and len(shown) <= _MAX_LOSS_DOTS:
        ax.plot(
            x,
            shown,
            linestyle="none",
            marker="o",
            markersize=3,
            markeredgewidth=0,
            color=color,
            alpha=0.7,
            zorder=2,
            label="per sample",
        )
        return
    low = np.full(epochs, np.nan)
    high = np.full(epochs, np.nan)
    if per >= 10:
        low[seen], high[seen] = np.nanpercentile(grid[seen], [10, 90], axis=1)
        what = "per sample: 10th–90th percentile"
    else:
        low[seen], high[seen] = (
            np.nanmin(grid[seen], axis=1),
            np.nanmax(grid[seen], axis=1),
        )
        what = "per sample: lowest to highest"
    ax.fill_between(
        centres,
        low,
        high,
        where=seen,
        color=color,
        alpha=0.3,
        linewidth=0,
        zorder=1,
        label=what,
    )


# ----------------------------------------------------------------------
# the animation


def animate(
    trace: Trace,
    graph: Graph | None,
    path: str | os.PathLike[str],
    *,
    epoch: int = 0,
    sample: int = 0,
    fps: int = 12,
    frames: int | None = None,
    dpi: int = 100,
    title: str | None = None,
    outputs: Mapping[Hashable, Any] | None = None,
    targets: Mapping[Hashable, Any] | None = None,
) -> Path:
    """Write a GIF of one iteration: messages travelling, neurons firing.

    The network is drawn in layers; each message is a dot moving along its
    connection from ``sent_at`` to ``received_at`` (forward blue, backward
    vermillion, values written beside the dots on small networks, clear of
    the other labels); a neuron lights up in the colour of what it sends
    when it fires; at an update the connection's width, colour and written
    weight change and the label flashes. A clock and a strip at the bottom
    show virtual time.

    On small networks trained online (one sample per iteration) each neuron
    shows what it computed, from the moment it did: ``y`` (``x`` at an
    input) as the forward wave reaches it, ``δ`` as the backward one does
    (``δ = Σ`` what arrived at a hidden neuron; ``δ = z − y`` at an output,
    with `outputs` and `targets`), and the heading shows the sample's
    ``E = ½ Σ (z − y)²``. A line under the
    network says that a connection shows its new weight from its update on,
    while the dots still in flight carry values computed with the old one.

    Parameters
    ----------
    trace : Trace
        The recording.
    graph : networkx.DiGraph, object with ``to_graph()``, or None
        Gives the connections. Their weights at the start of the iteration
        are taken from the trace's updates when it has any (so a graph of the
        trained network works too), else from the graph. With ``None`` the
        connections come from the trace's messages.
    path : str or path
        The GIF to write, whole or not at all: it is rendered in memory and
        written to a temporary file renamed over `path`, so a failure or an
        interrupt leaves what was there before.
    epoch, sample : int
        The iteration to show.
    fps : int
        Frames per second.
    frames : int, optional
        The number of frames of motion (the start and the end are held a
        little longer); by default one unit of virtual time lasts 1.5 s.
    dpi : int
        Resolution: the frame is 8 × 4.5 inches (16:9), 800 × 450 pixels at
        100 dpi.
    title : str, optional
        Top-left caption; ``"epoch E, sample S"`` by default.
    outputs, targets : mapping of output neuron to value, optional
        The iteration's outputs ``y`` and targets ``z`` (the trace's
        messages do not carry what an output computed): with `outputs`
        the outputs show their ``y``, with both their ``δ = z − y`` and the
        heading ``E``. For a trained network ``net`` and a sample ``s``,
        ``dict(zip(net.outputs, history.outputs[s]))`` and
        ``dict(zip(net.outputs, Z[s]))``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DataError
        The trace has no such iteration, or `outputs` or `targets` name a
        node that is not an output of the drawn network.

    Examples
    --------
    >>> from neurosim.plot import animate
    >>> animate(trace, network, "iteration.gif")  # doctest: +SKIP
    PosixPath('iteration.gif')
    >>> y = dict(zip(net.outputs, history.outputs[0]))  # doctest: +SKIP
    >>> z = dict(zip(net.outputs, Z[0]))  # doctest: +SKIP
    >>> animate(trace, net, "step.gif", outputs=y, targets=z)  # doctest: +SKIP
    PosixPath('step.gif')
    """
    path = Path(path)
    figure, player = _animation_scene(
        trace,
        graph,
        epoch=epoch,
        sample=sample,
        dpi=dpi,
        title=title,
        outputs=outputs,
        targets=targets,
    )
    t0, t1 = player.start, player.end
    moving = frames if frames is not None else max(2, round(1.5 * (t1 - t0) * fps))
    hold_start, hold_end = max(1, fps // 3), max(1, fps)
    times = np.concatenate(
        [
            np.full(hold_start, t0),
            np.linspace(t0, t1, moving),
            np.full(hold_end, t1),
        ]
    )
    # Not writer.saving(), whose finish() writes what it has even when a
    # frame fails or Ctrl-C stops it: the GIF is written once, whole.
    writer = _GifWriter(fps=fps)
    writer.setup(figure, str(path), dpi)
    for t in times:
        player.show(float(t), dt=(t1 - t0) / max(moving - 1, 1))
        writer.grab_frame()
    writer.finish()
    return path


# The frame of an animation, in figure coordinates: a heading of two rows
# (the title and the clock; the legend and the phase), the network, a
# caption, the time strip at the bottom.
_HEADING_ROWS = (0.945, 0.875)
_CAPTION_ROW = 0.14
_DOT_SIZE = 70  # points², the dots of a small network
# Where a neuron's values go, in order of preference: y above, δ below.
_ABOVE = ("above", "far above", "above right", "above left", "below", "far below")
_BELOW = ("below", "far below", "below right", "below left", "above", "far above")
_ANIMATION_AXES = (0.03, 0.17, 0.94, 0.655)
_MARGIN = 0.03


def _animation_scene(
    trace: Trace,
    graph: Graph | None,
    *,
    epoch: int,
    sample: int,
    dpi: int,
    title: str | None,
    outputs: Mapping[Hashable, Any] | None = None,
    targets: Mapping[Hashable, Any] | None = None,
) -> tuple[Figure, _Player]:
    """The figure of :func:`animate` and the player that moves its artists."""
    it = trace.filter(epoch=epoch, sample=sample)
    if len(it) == 0 and len(it.updates) == 0:
        raise DataError(f"the trace has no iteration epoch {epoch}, sample {sample}")
    G = _as_graph(graph) if graph is not None else None
    if G is not None:
        layers = _graph_layers(G)
        weights = _weights_of(G)
    else:
        layers = trace.layers()
        weights = dict.fromkeys(_trace_connections(trace))
    senders = {u for u, _ in weights}
    ends = [node for layer in layers[1:] for node in layer if node not in senders]
    for name, given in (("outputs", outputs), ("targets", targets)):
        unknown = [node for node in given or {} if node not in ends]
        if unknown:
            raise DataError(
                f"{name} names {unknown[0]!r}, which is not an output of the "
                f"network (its outputs: {', '.join(map(repr, ends))})"
            )
    weights = _starting_weights(trace, weights, epoch, sample)
    updated = _updated_weights(it, weights)
    weight_range = _weight_range(weights, updated)

    figure = Figure(figsize=(8.0, 4.5), dpi=dpi)
    FigureCanvasAgg(figure)
    figure.patch.set_facecolor("white")
    ax = figure.add_axes(_ANIMATION_AXES)
    node_count = sum(len(layer) for layer in layers)
    small = node_count <= _MAX_NODE_LABELS
    label_values = len(it) <= _MAX_VALUE_LABELS
    drawing = _NetworkDrawing(
        ax,
        weights,
        layers=layers,
        weight_range=weight_range,
        show_weights=len(weights) <= _MAX_WEIGHT_LABELS,
        label_nodes=small,
        node_size=_node_size(ax, layers) * (1.6 if small else 1.0),
        arrows=False,
        fontsize=9.5,
        line_clearance=math.sqrt(_DOT_SIZE) / 2,  # the dots move on the lines
    )
    # A weight label shows the old weight, then the new one, in bold while
    # it flashes: place it with room for the widest.
    for u, v, new in zip(
        it.updates.source, it.updates.neuron, it.updates.new, strict=True
    ):
        if (u, v) in drawing.labels:
            texts = drawing.label_texts.setdefault((u, v), [])
            texts.append(_fmt(float(new)))
    for edge, texts in drawing.label_texts.items():
        if weights[edge] is not None:
            texts.append(_fmt(weights[edge]))
    drawing.bold_labels = True
    player = _Player(figure, ax, drawing, it, weights, label_values, small)
    if small:
        player.write_values(dict(outputs or {}), dict(targets or {}))
    heading = figure.text(
        _MARGIN,
        _HEADING_ROWS[0],
        title if title is not None else f"epoch {epoch}, sample {sample}",
        fontsize=13,
        color=_INK,
        va="center",
        weight="bold",
    )
    _fit_heading(figure, heading, player)
    return figure, player


def _fit_heading(figure: Figure, heading: Any, player: _Player) -> None:
    """Shrink the title until it ends before the clock (down to 9 points)."""
    renderer = figure.canvas.get_renderer()
    player.clock.set_text(player.clock_text(player.end))
    clock = player.clock.get_window_extent(renderer)
    player.clock.set_text("")
    room = clock.x0 - renderer.points_to_pixels(12)
    size = heading.get_fontsize()
    while size > 9 and heading.get_window_extent(renderer).x1 > room:
        size -= 0.5
        heading.set_fontsize(size)


class _GifWriter(AbstractMovieWriter):
    """Like matplotlib's ``PillowWriter``, with one palette for all frames.

    Quantizing every frame on its own (what ``PIL.Image.save`` does) is slow
    and makes colours flicker from frame to frame; one palette computed from
    a sample of the frames is fast and steady.
    """

    def setup(self, fig: Figure, outfile: str, dpi: float | None = None) -> None:
        super().setup(fig, outfile, dpi=dpi)
        self._canvas = FigureCanvasAgg(fig)
        self._frames: list[Any] = []

    def grab_frame(self, **savefig_kwargs: Any) -> None:
        from PIL import Image  # pillow is a dependency of matplotlib

        self._canvas.draw()
        rgba = np.asarray(self._canvas.buffer_rgba())
        self._frames.append(Image.fromarray(rgba[..., :3].copy()))

    def finish(self) -> None:
        from PIL import Image

        frames = self._frames
        sample = [*frames[:: max(1, len(frames) // 12)], frames[-1]]
        width, height = frames[0].size
        mosaic = Image.new("RGB", (width, height * len(sample)))
        for k, frame in enumerate(sample):
            mosaic.paste(frame, (0, height * k))
        palette = mosaic.quantize(255, method=Image.Quantize.FASTOCTREE)
        images = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
        with atomic_write(self.outfile) as file:
            images[0].save(
                file,
                format="GIF",
                save_all=True,
                append_images=images[1:],
                duration=round(1000 / self.fps),
                loop=0,
            )


def _trace_connections(trace: Trace) -> list[tuple[Hashable, Hashable]]:
    forward = trace.kind == "forward"
    backward = trace.kind == "backward"
    pairs = set(zip(trace.source[forward], trace.destination[forward], strict=True))
    pairs |= set(zip(trace.destination[backward], trace.source[backward], strict=True))
    order = {node: i for i, node in enumerate(trace.nodes)}
    return sorted(pairs, key=lambda e: (order[e[0]], order[e[1]]))


def _starting_weights(
    trace: Trace,
    weights: dict[tuple[Hashable, Hashable], float | None],
    epoch: int,
    sample: int,
) -> dict[tuple[Hashable, Hashable], float | None]:
    """Weights when the iteration starts: the trace's updates rule over the graph.

    The ``old`` value of the first update at or after the iteration, else
    the ``new`` value of the last update before it, else the graph's weight.
    """
    updates = trace.updates
    if len(updates) == 0:
        return dict(weights)
    n = len(trace.nodes) + 1
    key = updates.source_index * n + updates.neuron_index
    after = (updates.epoch > epoch) | (
        (updates.epoch == epoch) & (updates.sample >= sample)
    )
    after &= updates.source_index >= 0
    before = ~after & (updates.source_index >= 0)
    result = dict(weights)
    index = {node: i for i, node in enumerate(trace.nodes)}
    known = {}
    # The table is sorted by iteration and time: the first row of a key at
    # or after the iteration is its earliest; the last row before, its latest.
    rows = np.flatnonzero(before)[::-1]
    keys, first = np.unique(key[rows], return_index=True)
    for k, i in zip(keys.tolist(), rows[first].tolist(), strict=True):
        known[k] = float(updates.new[i])
    rows = np.flatnonzero(after)
    keys, first = np.unique(key[rows], return_index=True)
    for k, i in zip(keys.tolist(), rows[first].tolist(), strict=True):
        known[k] = float(updates.old[i])
    for u, v in weights:
        if u in index and v in index:
            k = index[u] * n + index[v]
            if k in known:
                result[u, v] = known[k]
    return result


def _updated_weights(
    it: Trace, weights: dict[tuple[Hashable, Hashable], float | None]
) -> dict[tuple[Hashable, Hashable], float]:
    updates = it.updates
    return {
        (u, v): float(new)
        for u, v, new in zip(updates.source, updates.neuron, updates.new, strict=True)
        if u is not None and (u, v) in weights
    }


class _Player:
    """Moves the artists of an animation to a given virtual time."""

    def __init__(
        self,
        figure: Figure,
        ax: Axes,
        drawing: _NetworkDrawing,
        it: Trace,
        weights: dict[tuple[Hashable, Hashable], float | None],
        label_values: bool,
        small: bool,
    ):
        self.drawing = drawing
        self.it = it
        self.weights = dict(weights)
        pos = drawing.pos
        index_xy = np.array(
            [pos.get(node, (np.nan, np.nan)) for node in it.nodes], dtype=float
        ).reshape(-1, 2)
        self.start_xy = index_xy[it.source_index]
        self.end_xy = index_xy[it.destination_index]
        self.sent = it.sent_at
        self.received = it.received_at
        self.kinds = it.kind
        times = np.concatenate([it.sent_at, it.received_at, it.updates.time])
        self.start = float(times.min())
        self.stop = float(times.max())
        span = max(self.stop - self.start, 1e-9)
        self.glow = 0.35 * max(1.0, span / 4)  # how long a neuron stays lit
        self.flash = 1.6 * self.glow  # how long an updated weight is highlighted
        self.end = self.stop + self.flash  # let the last lights fade

        # Dots, one scatter per kind so that each keeps its colour.
        self.dots = {}
        size = _DOT_SIZE if small else 12
        for kind in ("forward", "backward", "feedback"):
            mask = self.kinds == kind
            if mask.any():
                self.dots[kind] = (
                    np.flatnonzero(mask),
                    ax.scatter(
                        [],
                        [],
                        s=size,
                        color=COLORS[kind],
                        edgecolors="white",
                        linewidths=1.0 if small else 0.2,
                        zorder=2.8,
                    ),
                )
        self.dot_size = size
        self.value_labels = []
        if label_values:
            for k in range(len(it)):
                self.value_labels.append(
                    ax.text(
                        0.0,
                        0.0,
                        _fmt_value(it.value[k]),
                        ha="center",
                        va="center",
                        fontsize=8.5,
                        color=COLORS[self.kinds[k]],
                        weight="bold",
                        zorder=5,
                        visible=False,
                        bbox=_white_box(0.15, 0.85),
                    )
                )
            # Placed at each frame, clear of the weights, the neurons, the
            # other dots and each other (_place_values).
            _LabelPlacer(ax, self._place_values, every_draw=True)
        self.xy = np.zeros((len(it), 2))
        self.flying = np.zeros(len(it), dtype=bool)
        self.sides = np.ones(len(it))
        self.values: list[tuple[float, Any]] = []  # (time, a neuron's label)
        self.error: tuple[float, str] | None = None  # (time, "E = ...")

        # When each neuron fires: forward when it sends forward (or, for an
        # output, when its last input arrives); backward when it sends back
        # (or, next to the inputs, when its last delta arrives).
        self.events: list[tuple[int, float, str]] = []  # (node position, time, kind)
        node_pos = {node: j for j, node in enumerate(drawing.nodes)}
        for kind in ("forward", "backward", "feedback"):
            mask = self.kinds == kind
            senders = {}
            for node, t in zip(it.source[mask], it.sent_at[mask], strict=True):
                senders.setdefault(node, set()).add(float(t))
            last_in: dict[Hashable, float] = {}
            for node, t in zip(it.destination[mask], it.received_at[mask], strict=True):
                last_in[node] = max(last_in.get(node, -math.inf), float(t))
            for node, ts in senders.items():
                for t in ts:
                    if node in node_pos:
                        self.events.append((node_pos[node], t, kind))
            for node, t in last_in.items():
                if node not in senders and node in node_pos:
                    self.events.append((node_pos[node], t, kind))
        self.update_times = sorted(
            {
                (node_pos[node], float(t))
                for node, t in zip(it.updates.neuron, it.updates.time, strict=True)
                if node in node_pos
            }
        )

        updates = it.updates
        self.changes = sorted(
            (float(t), (u, v), float(new))
            for u, v, new, t in zip(
                updates.source, updates.neuron, updates.new, updates.time, strict=True
            )
            if u is not None and (u, v) in self.weights
        )
        self.initial = dict(weights)
        self.current_change = -1

        # The clock, the legend and the time strip.
        self.clock = figure.text(
            1 - _MARGIN,
            _HEADING_ROWS[0],
            "",
            ha="right",
            va="center",
            fontsize=13,
            family="monospace",
            color=_INK,
        )
        self.phase = figure.text(
            1 - _MARGIN,
            _HEADING_ROWS[1],
            "",
            ha="right",
            va="center",
            fontsize=10,
            color=_MUTED,
        )
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                linestyle="none",
                markersize=7,
                color=COLORS[k],
                markeredgecolor="white",
                label=k,
            )
            for k in ("forward", "backward", "feedback")
            if k in self.dots
        ]
        if self.update_times:
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="none",
                    markersize=8,
                    color="white",
                    markeredgecolor=COLORS["update"],
                    markeredgewidth=2,
                    label="weights updated",
                )
            )
        # Under the title, from the left margin.
        self.legend = figure.legend(
            handles=handles,
            loc="center left",
            bbox_to_anchor=(_MARGIN, _HEADING_ROWS[1]),
            ncols=len(handles),
            frameon=False,
            fontsize=9.5,
            handlelength=1.0,
            handletextpad=0.4,
            columnspacing=1.4,
            borderaxespad=0.0,
            borderpad=0.0,
        )
        # Under the network: what the weights on the connections are.
        self.caption = figure.text(
            0.5,
            _CAPTION_ROW,
            "",
            ha="center",
            va="center",
            fontsize=8.5,
            color=_MUTED,
        )
        if self.changes and drawing.labels:
            self.caption.set_text(
                "A connection shows its new weight from its update on; "
                "dots still in flight carry values computed with the old weights."
            )
        strip = figure.add_axes((0.06, 0.07, 0.88, 0.035))
        for kind in ("forward", "backward", "feedback"):
            mask = self.kinds == kind
            if mask.any():
                strip.axvspan(
                    float(it.sent_at[mask].min()),
                    float(it.received_at[mask].max()),
                    color=COLORS[kind],
                    alpha=0.22,
                    linewidth=0,
                )
        update_times = sorted({t for _, t in self.update_times})
        strip.plot(
            update_times,
            [0.5] * len(update_times),
            linestyle="none",
            marker="D",
            color=COLORS["update"],
            markersize=4,
        )
        pad = 0.015 * (self.end - self.start)
        strip.set_xlim(self.start - pad, self.end)
        strip.set_ylim(0, 1)
        strip.set_yticks([])
        for side in ("top", "right", "left"):
            strip.spines[side].set_visible(False)
        strip.spines["bottom"].set_color("#999999")
        strip.tick_params(axis="x", labelsize=8, colors=_MUTED, length=2)
        if span <= 30:
            strip.xaxis.set_major_locator(MaxNLocator(integer=True))
        strip.set_xlabel("virtual time", fontsize=8, color=_MUTED, labelpad=1)
        self.cursor = strip.axvline(self.start, color=_INK, linewidth=2)

    @staticmethod
    def clock_text(t: float) -> str:
        return f"t = {t:5.2f}"

    def write_values(
        self, outputs: dict[Hashable, Any], targets: dict[Hashable, Any]
    ) -> None:
        """What each neuron computed, shown from when it did: ``y`` (``x`` at
        an input) above it, ``δ`` below, and ``E`` in the heading.

        From the trace: ``y`` is the value a neuron sends forward, ``δ`` of
        a hidden neuron the sum of the errors it received; an output's ``y``
        and ``z`` come from `outputs` and `targets`. Online iterations only:
        a mini-batch's vectors would bury the network in text.
        """
        it, drawing = self.it, self.drawing
        if it.value.dtype == object:
            return
        inputs = set(drawing.layers[0]) if len(drawing.layers) > 1 else set()
        forward = it.kind == "forward"
        errors = ~forward  # backward and feedback: δ = Σ received
        y: dict[Hashable, tuple[float, Any]] = {}
        for node, t, value in zip(
            it.source[forward], it.sent_at[forward], it.value[forward], strict=True
        ):
            if node not in y or t < y[node][0]:
                y[node] = (float(t), value)
        arrived: dict[Hashable, float] = {}
        for node, t in zip(
            it.destination[forward], it.received_at[forward], strict=True
        ):
            arrived[node] = max(arrived.get(node, -math.inf), float(t))
        for node, value in outputs.items():
            if node in arrived:
                y[node] = (arrived[node], value)
        delta: dict[Hashable, tuple[float, Any]] = {}
        for node, t, value in zip(
            it.destination[errors],
            it.received_at[errors],
            it.value[errors],
            strict=True,
        ):
            t0, total = delta.get(node, (-math.inf, 0.0))
            delta[node] = (max(t0, float(t)), total + value)
        acted: dict[Hashable, float] = {}  # an output's backward step
        for node, t in zip(it.source[errors], it.sent_at[errors], strict=True):
            acted[node] = min(acted.get(node, math.inf), float(t))
        for node, t in zip(it.updates.neuron, it.updates.time, strict=True):
            acted[node] = min(acted.get(node, math.inf), float(t))
        squares = []
        for node, z in targets.items():
            if node in outputs and node in y:
                d = np.asarray(z, dtype=float) - np.asarray(outputs[node], dtype=float)
                delta[node] = (acted.get(node, y[node][0]), d)
                squares.append(d**2)
        if squares and len(squares) == len(targets):
            e = 0.5 * np.sum(squares, axis=0)
            when = max(y[node][0] for node in targets)
            self.error = (when, f"E = ½ Σ (z − y)² = {_fmt_value(e)}")

        for node in drawing.nodes:
            for (symbol, sides, color), known in (
                (("x" if node in inputs else "y", _ABOVE, "forward"), y),
                (("δ", _BELOW, "backward"), delta),
            ):
                if node not in known:
                    continue
                t, value = known[node]
                label = drawing.ax.text(
                    *drawing.pos[node],
                    f"{symbol} = {_fmt_value(value)}",
                    ha="center",
                    va="center",
                    fontsize=8.5,
                    color=COLORS[color],
                    zorder=4.5,
                    visible=False,
                    bbox=_white_box(0.15, 0.9),
                )
                drawing.notes.append((node, label, [label.get_text()], sides))
                self.values.append((t, label))

    def _place_values(self, renderer: Any) -> None:
        """Each dot's value beside it, clear of the other labels, of the
        neurons and of the other dots: on its preferred side when clear."""
        shown = [k for k, label in enumerate(self.value_labels) if label.get_visible()]
        if not shown:
            return
        drawing = self.drawing
        ax = drawing.ax
        px = renderer.points_to_pixels
        scene = _Scene(ax.bbox)
        if drawing.scene is not None:  # the neurons, the weights, the notes
            scene.rects = list(drawing.scene.rects)
            scene.circles = list(drawing.scene.circles)
            scene.lines = list(drawing.scene.lines)
        else:
            radius = px(math.sqrt(drawing.node_size) / 2)
            for node in drawing.nodes:
                scene.add_circle(ax.transData.transform(drawing.pos[node]), radius)
        dot = px(math.sqrt(self.dot_size) / 2)
        xy = ax.transData.transform(self.xy.reshape(-1, 2))
        for k in np.flatnonzero(self.flying):
            scene.add_circle(xy[k], dot)
        x_axis = np.array([1.0, 0.0])
        gap = px(1.5)
        items = []
        for k in shown:
            a, b = _label_half_size(self.value_labels[k], renderer)
            side = self.sides[k]
            offsets = []
            for reach in (1.0, 1.8, 2.6):
                r = dot + gap + (reach - 1.0) * 2 * b
                offsets += [
                    (0.0, side * (r + b)),
                    (0.0, -side * (r + b)),
                    (r + a, side * (r + b) * 0.6),
                    (-(r + a), side * (r + b) * 0.6),
                    (r + a, -side * (r + b) * 0.6),
                    (-(r + a), -side * (r + b) * 0.6),
                ]
            candidates = [xy[k] + np.array(o) for o in offsets]
            items.append(_Label(candidates, x_axis, (a, b)))
        # Greedy, in message order. A label with no clear place is not drawn
        # in this frame (it shows in the next ones): never on another label.
        for k, item in zip(shown, items, strict=True):
            centre, hard, _ = scene.choose(item)
            if hard:
                scene.rects.pop()
                scene._cache.pop("rects", None)
                self.value_labels[k].set_visible(False)
            else:
                _set_display_position(self.value_labels[k], centre)

    def show(self, t: float, dt: float) -> None:
        drawing = self.drawing
        sent, received = self.sent, self.received
        duration = received - sent
        with np.errstate(invalid="ignore", divide="ignore"):
            fraction = np.where(duration > 0, (t - sent) / duration, 1.0)
        flying = np.where(
            duration > 0,
            (t >= sent) & (t <= received),
            np.abs(t - sent) <= dt / 2,  # a zero delay: one frame at the target
        )
        fraction = np.clip(fraction, 0.0, 1.0)[:, None]
        xy = self.start_xy + (self.end_xy - self.start_xy) * fraction
        for rows, scatter in self.dots.values():
            scatter.set_offsets(xy[rows][flying[rows]].reshape(-1, 2))
        self.xy, self.flying = xy, flying
        for k, label in enumerate(self.value_labels):
            p = fraction[k, 0]
            visible = bool(flying[k]) and 0.2 < p < 0.8
            label.set_visible(visible)
            if visible:
                # A dot moving up or down prefers its label on the far side
                # from a dot crossing its path: behind it in the first half,
                # ahead of it in the second. A dot moving straight across
                # prefers the outer side (away from the others).
                rise = np.sign(self.end_xy[k, 1] - self.start_xy[k, 1])
                if rise == 0:
                    side = 1.0 if self.start_xy[k, 1] >= 0 else -1.0
                else:
                    side = -rise if p < 0.5 else rise
                self.sides[k] = side
        for te, label in self.values:
            label.set_visible(te <= t)

        # Neurons light up in the colour of what they send, then fade.
        colors = drawing.base_colors.copy()
        strength = np.zeros(len(colors))
        for j, te, kind in self.events:
            if te <= t < te + self.glow:
                s = 1.0 - (t - te) / self.glow
                if s >= strength[j]:  # a tie: the later kind
                    strength[j] = s
                    glow = np.array(to_rgba(COLORS[kind]))
                    colors[j] = drawing.base_colors[j] + 0.6 * s * (
                        glow - drawing.base_colors[j]
                    )
        edge_width = np.full(len(colors), drawing.node_scatter.get_linewidths()[0])
        edge_colors = np.tile(to_rgba(_INK), (len(colors), 1))
        for j, te in self.update_times:
            if te <= t < te + self.glow * 1.5:
                edge_colors[j] = to_rgba(COLORS["update"])
                edge_width[j] = 3.0
        drawing.node_scatter.set_facecolors(colors)
        drawing.node_scatter.set_edgecolors(edge_colors)
        drawing.node_scatter.set_linewidths(edge_width)

        # Weights change at their update time; their labels flash.
        weights = dict(self.initial)
        flashing = set()
        for te, edge, new in self.changes:
            if te <= t:
                weights[edge] = new
                if t < te + self.flash:
                    flashing.add(edge)
        drawing.set_weights(weights)
        for edge, label in drawing.labels.items():
            patch = label.get_bbox_patch()
            if edge in flashing:
                patch.set_facecolor("#fff1a8")
                patch.set_edgecolor(COLORS["update"])
                label.set_weight("bold")
            else:
                patch.set_facecolor("white")
                patch.set_edgecolor("none")
                label.set_weight("normal")

        self.clock.set_text(self.clock_text(t))
        phases = [
            k
            for k in ("forward", "backward", "feedback")
            if (flying & (self.kinds == k)).any()
        ]
        if flashing and not phases:
            text = "weights updated"
        elif phases:
            text = " + ".join(phases) + (" pass" if len(phases) == 1 else "")
        else:
            text = "iteration done" if t > self.stop else ""
        if self.error is not None and self.error[0] <= t:
            text = f"{self.error[1]}  ·  {text}" if text else self.error[1]
        self.phase.set_text(text)
        self.cursor.set_xdata([t, t])

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
- :data:`BIAS_GID`: one ``Text`` per bias written under a neuron by
  :func:`network` (when some bias is not zero);
- :data:`ARRIVALS_GID`: the scatter of arrivals of an aggregated timeline.

Colours: forward messages blue, backward messages vermillion, parameter
updates green (Okabe–Ito, safe for colour-blind readers); weights on a
purple (negative) – grey – green (positive) scale.
"""

from __future__ import annotations

import math
import os
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any, Literal

import matplotlib
import networkx as nx
import numpy as np
from matplotlib.animation import AbstractMovieWriter
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

from neurosim.errors import DataError
from neurosim.trace import Trace

__all__ = [
    "ARRIVALS_GID",
    "BIAS_GID",
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

#: Colours of the message kinds and of updates.
COLORS = {
    "forward": "#0072B2",
    "backward": "#D55E00",
    "feedback": "#CC79A7",
    "update": "#009E73",
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
# timeline


def timeline(
    trace: Trace,
    *,
    epoch: int | Sequence[int] | None = None,
    sample: int | Sequence[int] | None = None,
    ax: Axes | None = None,
    values: bool | Literal["auto"] = "auto",
    layers: Sequence[Sequence[Hashable]] | None = None,
) -> Axes:
    """Draw the messages as a sequence diagram in virtual time.

    One horizontal lane per neuron, inputs at the top and outputs at the
    bottom; each message is an arrow from ``(sent_at, source)`` to
    ``(received_at, destination)``, forward and backward messages in two
    colours; a diamond marks the parameter updates of a neuron.

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

    Returns
    -------
    matplotlib Axes
        In the detailed mode each message is one ``FancyArrowPatch`` with
        gid :data:`MESSAGE_GID`. Above 60 lanes or 2000 messages the plot
        switches to an aggregated raster instead (a scatter of arrivals per
        lane and time, gid :data:`ARRIVALS_GID`), and the title says so.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from neurosim.plot import MESSAGE_GID, timeline
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
    """
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
    height = min(9.0, max(2.6, 0.55 * len(lanes) + 1.2)) if not aggregated else 7.0
    ax = _new_axes(ax, (8.0, height))
    what = _selection_title(epoch, sample)

    # Layer bands, alternately shaded, and the lanes.
    start = 0
    for k, layer in enumerate(layers):
        if k % 2 == 1:
            ax.axhspan(start - 0.5, start + len(layer) - 0.5, color="#f4f4f4", zorder=0)
        start += len(layer)
    if not aggregated:
        for y in range(len(lanes)):
            ax.axhline(y, color=_GRID, linewidth=0.8, zorder=0.5)

    if aggregated:
        _draw_arrivals(ax, selected, lane_of, len(lanes))
        ax.set_title(
            f"Message arrivals of {what}\n(aggregated: {len(selected):,} messages "
            f"on {len(lanes)} lanes; darker = more arrivals)",
            fontsize=11,
        )
    else:
        show_values = values if values != "auto" else len(selected) <= _MAX_VALUE_LABELS
        _draw_arrows(ax, selected, lane_of, bool(show_values))
        ax.set_title(f"Messages of {what}", fontsize=12)

    _draw_update_marks(ax, selected, lane_of, small=not aggregated)
    _timeline_axes(ax, selected, lanes, layers, aggregated)
    return ax


def _label_positions(
    trace: Trace, y0: NDArray[np.intp], y1: NDArray[np.intp]
) -> NDArray[np.float64]:
    """How far along its arrow each value label goes (0 = the sender).

    Greedy: each label takes the first of a few positions along its arrow
    (nearest a third of the way first) that keeps clear of the labels placed
    before it, by about a label's width in time or half a lane vertically.
    """
    sent = np.asarray(trace.sent_at, dtype=float)
    received = np.asarray(trace.received_at, dtype=float)
    span = max(float(received.max() - sent.min()), 1e-12) if len(trace) else 1.0
    candidates = sorted(np.linspace(0.12, 0.88, 20), key=lambda f: abs(f - 1 / 3))
    placed: list[tuple[float, float]] = []
    along = np.full(len(trace), 1 / 3)
    order = np.lexsort((y1, y0, sent))
    for k in order:
        best, best_gap = candidates[0], -1.0
        for f in candidates:
            x = (sent[k] + (received[k] - sent[k]) * f) / span
            y = y0[k] + (y1[k] - y0[k]) * f
            gap = min(
                (max(abs(x - px) / 0.075, abs(y - py) / 0.45) for px, py in placed),
                default=np.inf,
            )
            if gap >= 1.0:
                best = f
                break
            if gap > best_gap:
                best, best_gap = f, gap
        along[k] = best
        placed.append(
            (
                (sent[k] + (received[k] - sent[k]) * best) / span,
                y0[k] + (y1[k] - y0[k]) * best,
            )
        )
    return along


def _draw_arrows(
    ax: Axes, trace: Trace, lane_of: NDArray[np.intp], show_values: bool
) -> None:
    y0 = lane_of[trace.source_index]
    y1 = lane_of[trace.destination_index]
    # Many arrows: thinner, lighter, smaller heads, so that bundles stay
    # readable as bundles.
    density = min(1.0, math.sqrt(60 / max(len(trace), 1)))
    along = _label_positions(trace, y0, y1)
    for k in range(len(trace)):
        kind = trace.kind[k]
        color = COLORS[kind]
        x0, x1 = float(trace.sent_at[k]), float(trace.received_at[k])
        arrow = FancyArrowPatch(
            (x0, y0[k]),
            (x1, y1[k]),
            arrowstyle="-|>,head_length=0.55,head_width=0.28",
            mutation_scale=6 + 6 * density,
            linewidth=0.4 + 0.9 * density,
            alpha=0.35 + 0.65 * density,
            color=color,
            shrinkA=0,
            shrinkB=1.5,
            zorder=2,
            gid=MESSAGE_GID,
        )
        ax.add_patch(arrow)
        if show_values:
            ax.text(
                x0 + (x1 - x0) * along[k],
                y0[k] + (y1[k] - y0[k]) * along[k],
                _fmt_value(trace.value[k]),
                fontsize=8,
                color=color,
                ha="center",
                va="center",
                zorder=3,
                gid=VALUE_GID,
                bbox=_white_box(0.15, 0.9),
            )


def _draw_arrivals(
    ax: Axes, trace: Trace, lane_of: NDArray[np.intp], lane_count: int
) -> None:
    """Arrivals per lane and time as a raster; opacity grows with the count."""
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
    aggregated: bool,
) -> None:
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

    kinds = [k for k in ("forward", "backward", "feedback") if (trace.kind == k).any()]
    if aggregated:
        handles = [
            Line2D(
                [],
                [],
                color=COLORS[k],
                linestyle="none",
                marker="|",
                markersize=10,
                markeredgewidth=2,
                label=f"{k} arrivals",
            )
            for k in kinds
        ]
    else:
        handles = [
            Line2D(
                [], [], color=COLORS[k], linewidth=2, marker=">", markersize=6, label=k
            )
            for k in kinds
        ]
    if len(trace.updates):
        handles.append(
            Line2D(
                [],
                [],
                color=COLORS["update"],
                marker="D",
                linestyle="none",
                markersize=6,
                label="update",
            )
        )
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            fontsize=9,
            handlelength=1.6,
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
    ):
        self.ax = ax
        self.label_nodes = label_nodes
        self.layers = layers
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
        if show_weights:
            for u, v in self.edges:
                (x0, y0), (x1, y1) = self.pos[u], self.pos[v]
                # A third of the way from the source: the labels of two fully
                # connected layers are then evenly spaced, none on a crossing.
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
        for x, (name, layer) in enumerate(
            zip(_layer_names(len(layers)), layers, strict=True)
        ):
            caption = name if label_nodes else f"{name} ({len(layer)})"
            ax.text(
                x,
                bottom - margin,
                caption,
                ha="center",
                va="center",
                fontsize=fontsize,
                color=_MUTED,
                style="italic",
            )
        _clean_axes(ax)

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
        The biases (node attribute ``bias``) are then written under the
        neurons too, unless they are all zero.
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
        _write_biases(ax, G, drawing, _node_size(ax, layers), always=show_zero_biases)
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
    node_size: float,
    always: bool = False,
) -> None:
    """Write ``b = ...`` under each neuron, when some bias is not zero."""
    inputs = set(drawing.layers[0]) if len(drawing.layers) > 1 else set()
    biases = {
        node: float(G.nodes[node].get("bias", 0.0) or 0.0)
        for node in drawing.nodes
        if node not in inputs
    }
    if not always and not any(biases.values()):
        return
    below = math.sqrt(node_size) / 2 + 2  # points under the circle
    for node, bias in biases.items():
        ax.annotate(
            f"b = {_fmt(bias)}",
            xy=drawing.pos[node],
            xytext=(0, -below),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8,
            color=_MUTED,
            gid=BIAS_GID,
            bbox=_white_box(0.1, 0.85),
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
        means are drawn as markers.
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
        if per > 1 and label is None:  # overlaid runs show their epoch means only
            ax.plot(
                x,
                shown,
                color=line_color,
                linewidth=0.8,
                label="per sample",
            )
        means = np.array(
            [
                np.nanmean(shown[e * per : (e + 1) * per])
                if finite[e * per : (e + 1) * per].any()
                else np.nan
                for e in range(epochs)
            ]
        )
        ax.plot(
            np.arange(epochs) + 0.5,
            means,
            color=mean_color,
            linewidth=2.0,
            marker="o",
            markersize=4 if epochs <= 60 else 0,
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
) -> Path:
    """Write a GIF of one iteration: messages travelling, neurons firing.

    The network is drawn in layers; each message is a dot moving along its
    connection from ``sent_at`` to ``received_at`` (forward blue, backward
    vermillion, values written beside the dots on small networks); a neuron
    lights up in the colour of what it sends when it fires; at an update the
    connection's width, colour and written weight change and the label
    flashes. A clock and a strip at the bottom show virtual time.

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
        The GIF to write.
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

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> from neurosim.plot import animate
    >>> animate(trace, network, "iteration.gif")  # doctest: +SKIP
    PosixPath('iteration.gif')
    """
    path = Path(path)
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
    weights = _starting_weights(trace, weights, epoch, sample)
    weight_range = _weight_range(weights, _updated_weights(it, weights))

    figure = Figure(figsize=(8.0, 4.5), dpi=dpi)
    figure.patch.set_facecolor("white")
    ax = figure.add_axes((0.03, 0.17, 0.94, 0.68))
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
    )
    player = _Player(figure, ax, drawing, it, weights, label_values, small)

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
    figure.text(
        0.03,
        0.93,
        title if title is not None else f"epoch {epoch}, sample {sample}",
        fontsize=13,
        color=_INK,
        va="center",
        weight="bold",
    )
    writer = _GifWriter(fps=fps)
    with writer.saving(figure, str(path), dpi):
        for t in times:
            player.show(float(t), dt=(t1 - t0) / max(moving - 1, 1))
            writer.grab_frame()
    return path


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
        images[0].save(
            self.outfile,
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
        size = 70 if small else 12
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
        self.value_labels = []
        if label_values:
            for k in range(len(it)):
                self.value_labels.append(
                    ax.annotate(
                        _fmt_value(it.value[k]),
                        xy=(0, 0),
                        xytext=(0, 11),
                        textcoords="offset points",
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
            0.97,
            0.93,
            "",
            ha="right",
            va="center",
            fontsize=13,
            family="monospace",
            color=_INK,
        )
        self.phase = figure.text(
            0.97, 0.875, "", ha="right", va="center", fontsize=10, color=_MUTED
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
        figure.legend(
            handles=handles,
            loc="center",
            bbox_to_anchor=(0.5, 0.93),
            ncols=len(handles),
            frameon=False,
            fontsize=9.5,
            handletextpad=0.3,
            columnspacing=1.4,
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
        for k, label in enumerate(self.value_labels):
            p = fraction[k, 0]
            visible = bool(flying[k]) and 0.2 < p < 0.8
            label.set_visible(visible)
            if visible:
                label.xy = tuple(xy[k])
                # A dot moving up or down keeps its label on the far side
                # from a dot crossing its path: behind it in the first half,
                # ahead of it in the second. A dot moving straight across has
                # its label on the outer side (away from the others).
                rise = np.sign(self.end_xy[k, 1] - self.start_xy[k, 1])
                if rise == 0:
                    side = 1.0 if self.start_xy[k, 1] >= 0 else -1.0
                else:
                    side = -rise if p < 0.5 else rise
                label.xyann = (0.0, 11.0 * side)

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

        self.clock.set_text(f"t = {t:5.2f}")
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
        self.phase.set_text(text)
        self.cursor.set_xdata([t, t])

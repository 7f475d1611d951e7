"""The timeline drawn with matplotlib, from a :mod:`~neurosim.plot.model_timeline`."""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from matplotlib.ticker import MaxNLocator
from numpy.typing import NDArray

from neurosim.errors import DataError
from neurosim.messages import KINDS
from neurosim.plot._mpl import (
    _axes_height_points,
    _label_half_size,
    _LabelPlacer,
    _new_axes,
    _set_display_position,
    _white_box,
)
from neurosim.plot.labels import _along, _fmt_value, _Label, _place, _Scene
from neurosim.plot.model_network import _layer_names
from neurosim.plot.model_timeline import (
    _MAX_ARROWS,
    _MAX_LANES,
    _MAX_VALUE_LABELS,
    _fate_summary,
    _LegendEntry,
    _selection_title,
    _timeline_model,
    _TimelineModel,
)
from neurosim.plot.style import COLORS
from neurosim.plot.style import GRID as _GRID
from neurosim.plot.style import INK as _INK
from neurosim.trace import Trace

MESSAGE_GID = "neurosim-message"
VALUE_GID = "neurosim-value"
ARRIVALS_GID = "neurosim-arrivals"
DROPPED_GID = "neurosim-dropped"
LATE_GID = "neurosim-late"

_DROP_MARK = {"marker": "x", "s": 64, "linewidths": 2.2, "color": _INK}
_LATE_MARK = {"marker": "o", "s": 26, "linewidths": 1.2, "facecolors": "white"}


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
    for kind in KINDS:
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

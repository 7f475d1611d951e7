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

from neurosim.plot._mpl import (
    _axes_height_points,
    _label_half_size,
    _LabelPlacer,
    _new_axes,
    _set_display_position,
    _white_box,
)
from neurosim.plot.model_timeline import (
    _VALUE_FONTSIZE,
    _VALUE_PAD,
    TimelineModel,
    timeline_model,
)
from neurosim.plot.model_timeline import _place_value_labels as place_value_labels
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
    model = timeline_model(
        trace,
        epoch=epoch,
        sample=sample,
        values=values,
        layers=layers,
        color_by=color_by,
    )
    ax = _new_axes(ax, model.size)
    draw_timeline(ax, model)
    return ax


def draw_timeline(ax: Axes, model: TimelineModel) -> Axes:
    """Draw a :class:`~neurosim.plot.model_timeline.TimelineModel` on `ax`."""
    for band in model.bands:
        if band.shaded:
            ax.axhspan(band.y0, band.y1, color="#f4f4f4", zorder=0)
    if model.aggregated:
        _draw_arrivals(ax, model)
        _draw_fate_marks(ax, model.dropped, model.late, model.late_colors, small=True)
        ax.set_title(model.title, fontsize=11)
    else:
        for lane in model.lanes:
            ax.axhline(lane.y, color=_GRID, linewidth=0.8, zorder=0.5)
        _draw_arrows(ax, model)
        ax.set_title(model.title, fontsize=12)
    _draw_update_marks(ax, model)
    _timeline_axes(ax, model)
    return ax


def _draw_arrows(ax: Axes, model: TimelineModel) -> None:
    """The arrows, the fate markers and the value labels of a model."""
    # An arrow ending on an update diamond stops at its edge.
    on_mark = {(float(t), float(y)) for t, y in model.updates}
    mutation_scale = model.mutation_scale
    for arrow in model.arrows:
        if arrow.head:
            shrink = 5.0 if (arrow.end[0], arrow.end[1]) in on_mark else 1.5
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
    _draw_fate_marks(ax, model.dropped, model.late, model.late_colors, small=False)
    texts = [
        ax.text(
            label.x,
            label.y,
            label.text,
            fontsize=_VALUE_FONTSIZE,
            color=label.color,
            ha="center",
            va="center",
            rotation=label.angle,
            zorder=3,
            gid=VALUE_GID,
            bbox=_white_box(_VALUE_PAD, 0.9),
        )
        for label in model.labels
    ]
    if texts:
        _LabelPlacer(ax, functools.partial(_place_value_labels, ax, model, texts))


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
    ax: Axes, model: TimelineModel, texts: list[Any], renderer: Any
) -> None:
    """Place the value labels again on the rendered geometry, with the
    model's placement (the model placed them for its nominal size)."""
    to_px = ax.transData.transform
    starts = to_px(np.array([a.start for a in model.arrows], dtype=float))
    ends = to_px(np.array([a.end for a in model.arrows], dtype=float))
    marks = np.concatenate([model.updates, model.dropped, model.late])
    halves = np.array([_label_half_size(t, renderer) for t in texts], dtype=float)
    centres, directions, _ = place_value_labels(
        starts,
        ends,
        to_px(marks).reshape(-1, 2),
        [label.arrows for label in model.labels],
        halves,
        ax.bbox,
        0.55 * model.mutation_scale,
        point=renderer.points_to_pixels(1.0),
    )
    for text, centre, u in zip(texts, centres, directions, strict=True):
        _set_display_position(text, centre)
        text.set_rotation(math.degrees(math.atan2(u[1], u[0])))


def _draw_arrivals(ax: Axes, model: TimelineModel) -> None:
    """Arrivals per lane and time as a raster; opacity grows with the count."""
    bottom, top = model.ylim
    points_per_unit = _axes_height_points(ax) / max(bottom - top, 1e-9)
    for cells in model.arrivals:
        colors = np.tile(to_rgba(cells.color), (len(cells.time), 1))
        colors[:, 3] = cells.alpha
        ax.scatter(
            cells.time,
            cells.y,
            s=np.maximum(cells.height * points_per_unit * 0.95, 2.0) ** 2,
            marker="|",
            c=colors,
            linewidths=2.0,
            zorder=2,
            gid=ARRIVALS_GID,
            label=cells.kind,
        )


def _draw_update_marks(ax: Axes, model: TimelineModel) -> None:
    marks = model.updates
    if len(marks) == 0:
        return
    small = not model.aggregated
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


def _timeline_axes(ax: Axes, model: TimelineModel) -> None:
    ax.set_ylim(*model.ylim)  # inputs at the top
    ax.set_yticks([y for y, _ in model.yticks], [text for _, text in model.yticks])
    if model.aggregated:
        for band in model.bands[1:]:
            ax.axhline(band.y0, color="#bbbbbb", linewidth=0.8, zorder=1)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("virtual time")
    if model.xlim is not None:
        ax.set_xlim(*model.xlim)
        if model.integer_times:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", color=_GRID, linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)

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
        for e in model.legend
    ]
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            fontsize=9,
            handlelength=1.6 if model.aggregated else 2.2,
        )

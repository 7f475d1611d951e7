"""A timeline as plain data: lanes, arrows, labels, markers, legend (no matplotlib).

:func:`timeline_model` decides everything :func:`neurosim.plot.timeline`
shows: the lanes and their heights, one arrow per message with its colour
and style, the value labels and where they sit, the update, loss and
lateness marks, the aggregated raster of a large trace, the legend and the
title. :mod:`neurosim.plot.mpl_timeline` turns it into matplotlib artists;
the HTML page draws the same model from :meth:`TimelineModel.to_dict`.

Coordinates are data coordinates: x is virtual time, y grows downwards
from the first lane (inputs at the top). The model places its labels for
its own nominal figure (:attr:`TimelineModel.size`, text sizes estimated
from the default font); a renderer at another size places them again with
the same function (:func:`_place_value_labels`) on its own geometry.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from neurosim.errors import DataError
from neurosim.messages import KINDS
from neurosim.plot.labels import (
    _along,
    _Box,
    _fmt,
    _Label,
    _layer_names,
    _place,
    _Scene,
    _text_size,
)
from neurosim.plot.style import (
    COLORS,
    KIND_LINESTYLE_NAMES,
    KIND_LINESTYLES,
    SAMPLE_COLORS,
)
from neurosim.plot.style import INK as _INK
from neurosim.plot.style import MUTED as _MUTED
from neurosim.trace import Trace

__all__ = ["TimelineModel", "timeline_model"]

# Above these sizes the timeline aggregates and stops writing values.
_MAX_LANES = 60
_MAX_ARROWS = 2000
_MAX_VALUE_LABELS = 40
# The height of a lane in inches, with and without values on the arrows.
_LANE = 0.55
_LANE_WITH_VALUES = 0.8

# Sizes of the nominal figure, in points (the renderer uses the same).
_VALUE_FONTSIZE = 8.0
_VALUE_PAD = 0.15  # the white box around a value, in ems
_TICK_FONTSIZE = 10.0
_LEGEND_FONTSIZE = 9.0
_POINTS = 72.0  # per inch


def _selection_title(epoch: Any, sample: Any, batch: bool = False) -> str:
    """``"epoch 0, sample 0"``; ``"epoch 0, batch 0"`` in mini-batch training."""

    def describe(name: str, value: Any) -> str | None:
        if value is None:
            return None
        if np.ndim(value) == 0 and not isinstance(value, (range, list, tuple, set)):
            return f"{name} {value}"
        values = sorted(value)
        if len(values) > 1 and values == list(range(values[0], values[-1] + 1)):
            return f"{name}{'es' if name == 'batch' else 's'} {values[0]}–{values[-1]}"
        plural = f"{name}{'es' if name == 'batch' else 's'}"
        return f"{plural} " + ", ".join(map(str, values))

    word = "batch" if batch else "sample"
    parts = [p for p in (describe("epoch", epoch), describe(word, sample)) if p]
    return ", ".join(parts) if parts else "all iterations"


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


def _is_batch(trace: Trace) -> bool:
    """Whether the messages carry mini-batches (a vector of values each)."""
    values = trace.value
    return values.dtype == object and any(np.ndim(v) > 0 for v in values)


# ----------------------------------------------------------------------
# the model's parts


class Lane(NamedTuple):
    """A neuron's lane: its centre and height in y units (y grows downwards)."""

    name: Hashable
    layer: int
    y: float
    height: float


class Band(NamedTuple):
    """A layer's lanes, from `y0` to `y1` (``y0 < y1``)."""

    name: str  # "input", "hidden", "hidden 2", "output", ...
    count: int  # its lanes
    y0: float
    y1: float
    shaded: bool  # every other band is shaded
    quiet: bool  # none of its lanes shows anything (aggregated: a narrow band)


class Arrow(NamedTuple):
    """A message: from ``(sent_at, sender's y)`` to ``(received_at, receiver's y)``."""

    start: tuple[float, float]
    end: tuple[float, float]
    color: str
    linestyle: Any  # "-" or a matplotlib dash tuple (offset, (on, off))
    linewidth: float
    alpha: float
    head: bool  # an arrowhead; lost and late messages end in a marker instead
    kind: str
    source: Hashable
    destination: Hashable
    epoch: int
    sample: int
    value: Any  # a float, or a list of floats (a mini-batch)
    fate: str


class ValueLabel(NamedTuple):
    """A value written on its arrows: one value sent to several receivers at
    once is written once, in the fan of its arrows."""

    text: str
    color: str
    arrows: tuple[int, ...]  # indices into TimelineModel.arrows
    x: float  # its centre in data coordinates, for the model's nominal size
    y: float
    width: float  # in points, its white box included
    height: float
    clear: bool  # clear of the other labels, arrowheads and marks
    angle: float = 0.0  # degrees, counter-clockwise, in the nominal figure


class Arrivals(NamedTuple):
    """An aggregated timeline's raster of one kind: a tick per lane and time
    bin, more opaque for more arrivals."""

    kind: str
    color: str
    time: NDArray[np.float64]
    y: NDArray[np.float64]
    height: NDArray[np.float64]  # of the lane, in y units
    alpha: NDArray[np.float64]


class LegendEntry(NamedTuple):
    """A line of the legend, as a matplotlib ``Line2D`` handle would draw it."""

    label: str
    color: str
    linestyle: Any = "-"
    linewidth: float = 2.0
    marker: str = ""
    markersize: float = 6.0
    markerfacecolor: str | None = None
    alpha: float = 1.0  # of the line only


@dataclass(frozen=True, eq=False, repr=False)
class TimelineModel:
    """What a timeline shows, as plain data: see :func:`timeline_model`."""

    title: str
    aggregated: bool
    batch: bool
    size: tuple[float, float]
    lanes: list[Lane]
    bands: list[Band]
    yticks: list[tuple[float, str]]
    xlim: tuple[float, float] | None
    ylim: tuple[float, float]
    integer_times: bool
    arrows: list[Arrow]
    labels: list[ValueLabel]
    updates: NDArray[np.float64]
    dropped: NDArray[np.float64]
    late: NDArray[np.float64]
    late_colors: list[str]
    arrivals: list[Arrivals]
    mutation_scale: float
    legend: list[LegendEntry]
    plot_box: tuple[float, float, float, float] = field(default=(0, 0, 1, 1))

    def __repr__(self) -> str:
        what = (
            f"{sum(len(a.time) for a in self.arrivals)} arrival cells"
            if self.aggregated
            else f"{len(self.arrows)} arrows, {len(self.labels)} value labels"
        )
        return (
            f"<TimelineModel {self.title!r}: {len(self.lanes)} lanes in "
            f"{len(self.bands)} bands, {what}>"
        )

    def to_dict(self) -> dict[str, Any]:
        """The model as JSON-able plain data (lists, numbers, strings, None).

        Keys: the field names; tuples become lists, arrays lists of
        ``[time, y]`` pairs, each lane, band, arrow, label, raster and
        legend entry a dict of its fields; node names stay ints or become
        strings, non-finite numbers ``None``.

        Examples
        --------
        >>> import json
        >>> from neurosim.plot import timeline_model
        >>> from neurosim.trace import Trace
        >>> trace = Trace.from_rows(
        ...     [(0, 0, "forward", "x", "y", 0.0, 1.0, 2.0)], [], ["x", "y"]
        ... )
        >>> data = timeline_model(trace).to_dict()
        >>> data["arrows"][0]["start"], data["arrows"][0]["end"]
        ([0.0, 0.0], [1.0, 1.0])
        >>> data["labels"][0]["text"]
        '2'
        >>> len(json.dumps(data)) > 0
        True
        """
        return {
            "title": self.title,
            "aggregated": self.aggregated,
            "batch": self.batch,
            "size": _plain(self.size),
            "lanes": [_plain(lane._asdict()) for lane in self.lanes],
            "bands": [_plain(band._asdict()) for band in self.bands],
            "yticks": _plain(self.yticks),
            "xlim": _plain(self.xlim),
            "ylim": _plain(self.ylim),
            "integer_times": self.integer_times,
            "arrows": [_plain(arrow._asdict()) for arrow in self.arrows],
            "labels": [_plain(label._asdict()) for label in self.labels],
            "updates": _plain(self.updates),
            "dropped": _plain(self.dropped),
            "late": _plain(self.late),
            "late_colors": list(self.late_colors),
            "arrivals": [_plain(cells._asdict()) for cells in self.arrivals],
            "mutation_scale": float(self.mutation_scale),
            "legend": [_plain(entry._asdict()) for entry in self.legend],
            "plot_box": _plain(self.plot_box),
        }


def _plain(x: Any) -> Any:
    """`x` as JSON-able data."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, np.ndarray):
        return _plain(x.tolist())
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    if x is None or isinstance(x, str):
        return x
    return str(x)


# The fates drawn differently from a delivered message.
_FADED = 0.35  # lost and late messages: this fraction of the usual opacity
_DUPLICATE_STYLE = (0, (1.0, 1.6))
_MAX_SAMPLE_ENTRIES = 10  # legend entries of iterations before "… more"
# An aggregated timeline: a layer whose lanes show nothing gets this share
# of the lanes that do; every band at least this share of the height (room
# for its two-line label).
_QUIET_SHARE = 0.08
_MIN_BAND_SHARE = 0.08


def _iteration_label(epoch: int, sample: int, one_epoch: bool, batch: bool) -> str:
    word = "batch" if batch else "sample"
    return f"{word} {sample}" if one_epoch else f"epoch {epoch}, {word} {sample}"


def timeline_model(
    trace: Trace,
    *,
    epoch: int | Sequence[int] | None = None,
    sample: int | Sequence[int] | None = None,
    values: bool | Literal["auto"] = "auto",
    layers: Sequence[Sequence[Hashable]] | None = None,
    color_by: Literal["kind", "sample"] = "kind",
) -> TimelineModel:
    """What :func:`neurosim.plot.timeline` draws, as plain data.

    The same arguments as :func:`~neurosim.plot.timeline` but ``ax``; the
    matplotlib figure and the HTML page both draw this model. No matplotlib
    is imported.

    Parameters
    ----------
    trace : Trace
        The recording.
    epoch, sample : int or sequence of int, optional
        The iterations (samples, or batches in mini-batch training), chosen
        as in :func:`~neurosim.plot.timeline`.
    values : bool or "auto"
        Write the values (``"auto"``: up to 40 messages). A value sent to
        several receivers at once is written once, in the fan of its arrows.
    layers : list of lists of node names, optional
        The lanes by layer; :meth:`Trace.layers` of the whole trace by default.
    color_by : {"kind", "sample"}
        Colour by message kind, or by iteration (the kind then by line style).

    Returns
    -------
    TimelineModel
        Fields: ``title``; ``aggregated`` (above 60 lanes or 2000 messages:
        a raster of arrivals instead of arrows); ``batch`` (the iterations
        are mini-batches); ``size`` (the figure's nominal width and height
        in inches); ``lanes`` (name, layer, y, height) and ``bands`` (one per
        layer: name, count, y0, y1, shaded, quiet), where an aggregated
        timeline gives a layer whose lanes show nothing (the inputs) a narrow
        band; ``yticks`` (y, text); ``xlim``, ``ylim`` (bottom > top: inputs
        at the top), ``integer_times``; ``arrows`` (one per message: start,
        end, colour, style, kind, source, destination, epoch, sample, value,
        fate); ``labels`` (text, colour, the arrows it labels, centre x and
        y, width and height in points, clear); ``updates``, ``dropped``,
        ``late`` (``(n, 2)`` arrays of ``(time, y)`` marks) and
        ``late_colors``; ``arrivals`` (the aggregated raster, per kind);
        ``mutation_scale`` (arrowhead size); ``legend``; ``plot_box`` (the
        nominal plotting area in points, for the label positions).

    Raises
    ------
    DataError
        `color_by` is neither ``"kind"`` nor ``"sample"``.

    Examples
    --------
    >>> from neurosim.plot import timeline_model
    >>> from neurosim.trace import Trace
    >>> trace = Trace.from_rows(
    ...     [
    ...         (0, 0, "forward", "x", "h1", 0.0, 1.0, 2.0),
    ...         (0, 0, "forward", "x", "h2", 0.0, 1.0, 2.0),
    ...     ],
    ...     [],
    ...     ["x", "h1", "h2"],
    ... )
    >>> model = timeline_model(trace)
    >>> model.title
    'Messages of epoch 0, sample 0'
    >>> [(lane.name, lane.y) for lane in model.lanes]
    [('x', 0.0), ('h1', 1.0), ('h2', 2.0)]
    >>> [(label.text, label.arrows) for label in model.labels]  # sent once
    [('2', (0, 1))]
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
    names = [node for layer in layers for node in layer if node in index]
    layers = [[node for node in layer if node in index] for layer in layers]
    layers = [layer for layer in layers if layer]
    lane_of = np.full(len(trace.nodes) + 1, -1, dtype=np.intp)
    for y, node in enumerate(names):
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
        names += [trace.nodes[i] for i in extra]
        layers.append([trace.nodes[i] for i in extra])
        lane_of[extra] = np.arange(len(names) - len(extra), len(names))

    batch = _is_batch(selected)
    aggregated = len(names) > _MAX_LANES or len(selected) > _MAX_ARROWS
    show_values = not aggregated and bool(
        values if values != "auto" else len(selected) <= _MAX_VALUE_LABELS
    )
    what = _selection_title(epoch, sample, batch) + _fate_summary(selected)
    if aggregated:
        title = (
            f"Message arrivals of {what}\n(aggregated: {len(selected):,} messages "
            f"on {len(names)} lanes; darker = more arrivals)"
        )
    else:
        title = f"Messages of {what}"
        if batch and show_values:
            size = max((np.size(v) for v in selected.value), default=0)
            title += f"\n(values: the first of the batch's {size} samples)"

    # Bands and lanes: one unit per lane, or (aggregated) by what they show.
    counts = [len(layer) for layer in layers]
    shows = np.zeros(len(names) + 1, dtype=bool)
    shows[lane_of[selected.destination_index]] = True
    shows[lane_of[selected.updates.neuron_index]] = True
    starts = np.cumsum([0, *counts])
    quiet = [not shows[a:b].any() for a, b in itertools.pairwise(starts)]
    weights = _band_weights(counts, quiet) if aggregated else [float(c) for c in counts]
    layer_names = _layer_names(len(layers))
    bands, lanes = [], []
    y0 = -0.5
    lane_y = np.zeros(len(names) + 1)
    lane_height = np.ones(len(names) + 1)
    for k, (layer, weight) in enumerate(zip(layers, weights, strict=True)):
        bands.append(
            Band(layer_names[k], len(layer), y0, y0 + weight, k % 2 == 1, quiet[k])
        )
        height = weight / len(layer)
        for j, node in enumerate(layer):
            y = y0 + (j + 0.5) * height
            lane = starts[k] + j
            lane_y[lane], lane_height[lane] = y, height
            lanes.append(Lane(node, k, float(y), float(height)))
        y0 += weight
    ylim = (y0, -0.5)
    y_of = lane_y[lane_of]  # by node index (and -1: no lane)
    if aggregated:
        yticks = [((b.y0 + b.y1) / 2, f"{b.name}\n({b.count})") for b in bands]
    else:
        yticks = [(lane.y, str(lane.name)) for lane in lanes]

    start, stop = selected.span
    xlim = None
    if not math.isnan(start):
        pad = 0.04 * max(stop - start, 1.0)
        xlim = (start - pad, stop + pad)
    integer_times = not math.isnan(start) and stop - start <= 30

    updates = selected.updates
    marks = np.stack([updates.time, y_of[updates.neuron_index]], axis=1)
    marks = np.unique(marks.astype(float).reshape(-1, 2), axis=0)

    if aggregated:
        arrows, dropped, late, late_colors, legend = [], [], [], [], []
        arrivals, dropped = _arrivals(selected, y_of, lane_height[lane_of])
        legend = _aggregated_legend(selected)
        mutation_scale = 0.0
        size = (8.0, 7.0)
    else:
        arrows, dropped, late, late_colors, mutation_scale, legend = _arrows(
            selected, y_of, color_by, batch
        )
        arrivals = []
        # A lane with values written on its arrows needs room for them
        # between crossings.
        per_lane = _LANE_WITH_VALUES if show_values else _LANE
        height = min(9.0, max(2.6, per_lane * len(names) + 1.2))
        height = max(height, min(9.0, 0.24 * len(legend) + 0.9))
        size = (8.0, height)
    plot_box = _nominal_plot_box(size, title, [t for _, t in yticks], legend)
    labels = []
    if arrows and show_values:
        labels = _value_labels(
            selected, arrows, marks, dropped, late, mutation_scale, plot_box, xlim, ylim
        )
    return TimelineModel(
        title=title,
        aggregated=aggregated,
        batch=batch,
        size=size,
        lanes=lanes,
        bands=bands,
        yticks=yticks,
        xlim=xlim,
        ylim=ylim,
        integer_times=integer_times,
        arrows=arrows,
        labels=labels,
        updates=marks,
        dropped=np.asarray(dropped, dtype=float).reshape(-1, 2),
        late=np.asarray(late, dtype=float).reshape(-1, 2),
        late_colors=late_colors,
        arrivals=arrivals,
        mutation_scale=mutation_scale,
        legend=legend,
        plot_box=plot_box,
    )


def _band_weights(counts: Sequence[int], quiet: Sequence[bool]) -> list[float]:
    """The heights of an aggregated timeline's bands, in lane units.

    A lane that shows something is one unit; a layer none of whose lanes
    shows anything (the inputs only send) a narrow band, a fraction of the
    others; every band at least a share of the whole, for its label.
    """
    active = sum(c for c, q in zip(counts, quiet, strict=True) if not q)
    weights = [
        float(min(c, max(1.0, _QUIET_SHARE * active))) if q and active else float(c)
        for c, q in zip(counts, quiet, strict=True)
    ]
    floor = min(_MIN_BAND_SHARE, 0.5 / max(len(weights), 1))
    for _ in range(4):
        total = sum(weights)
        weights = [max(w, floor * total) for w in weights]
    return weights


def _arrows(
    trace: Trace, y_of: NDArray[np.float64], color_by: str, batch: bool
) -> tuple[list[Arrow], list[Any], list[Any], list[str], float, list[LegendEntry]]:
    """The arrows of the messages, their fate marks, their legend."""
    y0 = y_of[trace.source_index]
    y1 = y_of[trace.destination_index]
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
        value = trace.value[k]
        arrows.append(
            Arrow(
                start,
                end,
                color,
                linestyle,
                width,
                opacity,
                head,
                str(kind),
                trace.source[k],
                trace.destination[k],
                int(trace.epoch[k]),
                int(trace.sample[k]),
                float(value) if np.ndim(value) == 0 else np.asarray(value).tolist(),
                str(fate),
            )
        )

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
            LegendEntry(_iteration_label(e, s, one_epoch, batch), colour_of[e, s])
            for e, s in shown
        ]
        if len(shown) < len(iterations):
            more = len(iterations) - len(shown)
            legend.append(LegendEntry(f"… {more} more (colours repeat)", "none"))
        legend += [
            LegendEntry(
                f"{k} ({KIND_LINESTYLE_NAMES[k]})",
                _MUTED,
                KIND_LINESTYLES[k],
                linewidth=1.6,
            )
            for k in kinds
        ]
    else:
        legend += [LegendEntry(k, COLORS[k], marker=">", markersize=6) for k in kinds]
    if len(trace.updates):
        legend.append(
            LegendEntry(
                "update", COLORS["update"], linestyle="none", marker="D", markersize=6
            )
        )
    if dropped:
        legend.append(
            LegendEntry(
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
            LegendEntry(
                "duplicate copy (ignored)", _MUTED, _DUPLICATE_STYLE, linewidth=1.2
            )
        )
    if late:
        legend.append(
            LegendEntry(
                "late (○ arrival, ignored)",
                _MUTED,
                alpha=_FADED,
                linewidth=1.4,
                marker="o",
                markersize=5,
                markerfacecolor="white",
            )
        )
    return arrows, dropped, late, late_colors, 6 + 6 * density, legend


def _arrivals(
    trace: Trace, y_of: NDArray[np.float64], height_of: NDArray[np.float64]
) -> tuple[list[Arrivals], NDArray[np.float64]]:
    """The aggregated raster, per kind, and where lost messages would arrive."""
    lost = trace.fate == "dropped"
    dropped = np.stack(
        [trace.received_at[lost], y_of[trace.destination_index[lost]]], axis=1
    ).astype(float)
    trace = trace.filter(fate=["delivered", "duplicate", "late"])
    if len(trace) == 0:
        return [], dropped
    t = trace.received_at
    times = np.unique(t)
    if len(times) > 300:  # bin the time axis
        edges = np.linspace(times[0], times[-1], 201)
        centres = (edges[:-1] + edges[1:]) / 2
        t = centres[np.clip(np.searchsorted(edges, t, side="right") - 1, 0, 199)]
        times = np.unique(t)
    bins = np.searchsorted(times, t)
    node = trace.destination_index
    rasters = []
    for kind in KINDS:
        mask = trace.kind == kind
        if not mask.any():
            continue
        key = node[mask] * len(times) + bins[mask]
        cells, counts = np.unique(key, return_counts=True)
        nodes, columns = np.divmod(cells, len(times))
        rasters.append(
            Arrivals(
                kind,
                COLORS[kind],
                times[columns].astype(float),
                y_of[nodes].astype(float),
                height_of[nodes].astype(float),
                0.35 + 0.65 * counts / counts.max(),
            )
        )
    return rasters, dropped


def _aggregated_legend(trace: Trace) -> list[LegendEntry]:
    kinds = [k for k in KINDS if (trace.kind == k).any()]
    entries = [
        LegendEntry(
            f"{k} arrivals", COLORS[k], linestyle="none", marker="|", markersize=10
        )
        for k in kinds
    ]
    if len(trace.updates):
        entries.append(
            LegendEntry(
                "update", COLORS["update"], linestyle="none", marker="D", markersize=6
            )
        )
    if (trace.fate == "dropped").any():
        entries.append(
            LegendEntry("lost", _INK, linestyle="none", marker="x", markersize=7)
        )
    return entries


# ----------------------------------------------------------------------
# value labels


def _nominal_plot_box(
    size: tuple[float, float],
    title: str,
    ticks: Sequence[str],
    legend: Sequence[LegendEntry],
) -> tuple[float, float, float, float]:
    """Where the Axes of a figure of `size` inches would be, in points from
    its bottom left (x0, y0, x1, y1): room for the tick labels on the left,
    the legend on the right, the title above and the time axis below."""
    width, height = size[0] * _POINTS, size[1] * _POINTS
    tick = max(
        (_text_size(line, _TICK_FONTSIZE)[0] for t in ticks for line in t.split("\n")),
        default=0.0,
    )
    entry = max((_text_size(e.label, _LEGEND_FONTSIZE)[0] for e in legend), default=0.0)
    left = 8.0 + tick + 6.0
    right = width - (8.0 + (entry + 3.5 * _LEGEND_FONTSIZE if legend else 0.0))
    top = height - (10.0 + 15.0 * (title.count("\n") + 1))
    bottom = 36.0
    return (left, bottom, max(right, left + 1.0), max(top, bottom + 1.0))


def _label_text(value: Any) -> str:
    """A value as written on its arrow; a mini-batch's vector by its first
    sample's value (``[0.5, …]``: the title says so), so that labels stay
    as short as a number."""
    if np.ndim(value) == 0:
        return _fmt(float(value))
    first = _fmt(float(value[0]), 3) if len(value) else ""
    return f"[{first}, …]" if len(value) > 1 else f"[{first}]"


def _label_half(text: str) -> tuple[float, float]:
    """Half width and height in points of a value label, its box included."""
    width, height = _text_size(text, _VALUE_FONTSIZE)
    pad = _VALUE_PAD * _VALUE_FONTSIZE + 1.0
    return width / 2 + pad, height / 2 + pad


def _value_groups(trace: Trace, arrows: Sequence[Arrow]) -> list[tuple[int, ...]]:
    """The arrows of each value label: those of a sender carrying the same
    value, sent at the same time in the same iteration (a fan-out), in the
    order of sending."""
    groups: dict[Any, list[int]] = {}
    for k, arrow in enumerate(arrows):
        key = (
            arrow.kind,
            arrow.source,
            arrow.start,
            arrow.epoch,
            arrow.sample,
            arrow.color,
            _label_text(trace.value[k]),
        )
        groups.setdefault(key, []).append(k)
    ordered = sorted(
        groups.values(),
        key=lambda g: (
            arrows[g[0]].start[0],
            arrows[g[0]].end[1],
            arrows[g[0]].start[1],
        ),
    )
    return [tuple(g) for g in ordered]


def _value_labels(
    trace: Trace,
    arrows: list[Arrow],
    marks: NDArray[np.float64],
    dropped: Sequence[Any],
    late: Sequence[Any],
    mutation_scale: float,
    plot_box: tuple[float, float, float, float],
    xlim: tuple[float, float] | None,
    ylim: tuple[float, float],
) -> list[ValueLabel]:
    """The value labels, placed for the nominal figure."""
    groups = _value_groups(trace, arrows)
    texts = [_label_text(trace.value[g[0]]) for g in groups]
    halves = np.array([_label_half(text) for text in texts], dtype=float)
    x0, y0, x1, y1 = plot_box
    xlim = xlim if xlim is not None else (-0.5, 0.5)

    def to_points(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        px = x0 + (xy[:, 0] - xlim[0]) / (xlim[1] - xlim[0]) * (x1 - x0)
        py = y0 + (xy[:, 1] - ylim[0]) / (ylim[1] - ylim[0]) * (y1 - y0)
        return np.stack([px, py], axis=1)

    starts = np.array([a.start for a in arrows], dtype=float)
    ends = np.array([a.end for a in arrows], dtype=float)
    obstacles = np.concatenate(
        [marks, np.reshape(dropped, (-1, 2)), np.reshape(late, (-1, 2))]
    )
    centres, directions, clear = _place_value_labels(
        to_points(starts),
        to_points(ends),
        to_points(obstacles),
        groups,
        halves,
        _Box(x0, y0, x1, y1),
        0.55 * mutation_scale,
    )
    # Back to data coordinates.
    cx = xlim[0] + (centres[:, 0] - x0) / (x1 - x0) * (xlim[1] - xlim[0])
    cy = ylim[0] + (centres[:, 1] - y0) / (y1 - y0) * (ylim[1] - ylim[0])
    return [
        ValueLabel(
            text,
            arrows[group[0]].color,
            group,
            float(x),
            float(y),
            float(2 * half[0]),
            float(2 * half[1]),
            bool(ok),
            math.degrees(math.atan2(u[1], u[0])),
        )
        for text, group, x, y, half, ok, u in zip(
            texts, groups, cx, cy, halves, clear, directions, strict=True
        )
    ]


def _place_value_labels(
    starts: NDArray[np.float64],
    ends: NDArray[np.float64],
    marks: NDArray[np.float64],
    groups: Sequence[Sequence[int]],
    halves: NDArray[np.float64],
    bounds: Any,
    head_length: float,
    point: float = 1.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Put each value label on its arrows, clear of the other labels, of the
    arrowheads and tails, and of the marks; off other arrows when possible.

    The geometry is in one unit, pixels or points (`point`: the size of a
    point in it); y grows upwards. `groups` are the arrows of each label, in
    the order of placement; a label of several arrows (one value sent to
    several receivers) prefers the middle of their fan. Greedy: each label
    takes the first clear position, nearest a third of the way along.
    A label that can only cross another arrow level is turned along its
    own. Returns the centres, the directions of the labels' baselines (unit
    vectors) and whether each label is clear of every hard obstacle
    (labels, arrowheads, marks, the plotting area's edge).
    """
    scene = _Scene(bounds)
    for a, b in zip(starts, ends, strict=True):
        scene.add_line(a, b)
        scene.add_circle(b, head_length * point + 1.5 * point)  # the arrowhead
        scene.add_circle(a, 2.5 * point)  # where arrows leave
    for centre in np.reshape(marks, (-1, 2)):
        scene.add_circle(centre, 5.5 * point)  # an update diamond, a × or a ○
    circles = len(scene.circles)
    x_axis = np.array([1.0, 0.0])
    items = []
    for group, half in zip(groups, halves, strict=True):
        origin = starts[group[0]]
        lengths = [float(np.hypot(*(ends[k] - origin))) for k in group]
        candidates: list[NDArray[np.float64]] = []
        if len(group) > 1:
            units = [
                (ends[k] - origin) / length
                for k, length in zip(group, lengths, strict=True)
                if length > 0
            ]
            mean = np.sum(units, axis=0) if units else np.zeros(2)
            norm = float(np.hypot(*mean))
            if norm > 1e-9:
                reach = min(lengths)
                tip = origin + mean / norm * reach
                fan, _ = _along(
                    origin, tip, 0.12 * reach, 0.6 * reach, 0.3 * reach, count=25
                )
                candidates += fan
        along = [
            _along(origin, ends[k], 0.1 * length, 0.9 * length, length / 3, count=33)[0]
            for k, length in zip(group, lengths, strict=True)
        ]
        for row in zip(*along, strict=True):  # nearest a third, on each arrow
            candidates += row
        items.append(
            _Label(
                candidates,
                x_axis,
                (float(half[0]), float(half[1])),
                skip_lines=list(group),
                clearance=2.0 * point,
            )
        )
    placed = _place(scene, items, retry_crossed=True)
    centres = np.array(placed, dtype=float).reshape(-1, 2)
    directions = np.tile(x_axis, (len(items), 1))

    def among_the_others(i: int) -> _Scene:
        check = _Scene(bounds)
        check.circles = scene.circles[:circles]
        check.lines = scene.lines
        for j, other in enumerate(items):
            if j != i:
                check.add_rect(centres[j], directions[j], other.half)
        return check

    # A label that still crosses another arrow is tried along its own arrow:
    # turned, it fits between crossings that leave no room for it level.
    for i, (group, item) in enumerate(zip(groups, items, strict=True)):
        check = among_the_others(i)
        options = (item.half, item.skip_lines)  # touching counts, nearness not
        hard, crossed, near = check.cost(centres[i], directions[i], *options)
        if not crossed:
            continue
        best = (hard, crossed, near, -1)
        for k in group:
            d = ends[k] - starts[k]
            length = float(np.hypot(*d))
            if length == 0:
                continue
            u = d / length if d[0] >= 0 else -d / length  # read left to right
            positions, _ = _along(
                starts[k], ends[k], 0.1 * length, 0.9 * length, length / 3, count=33
            )
            for rank, centre in enumerate(positions):
                key = (*check.cost(centre, u, *options), rank)
                if key < best:
                    best, centres[i], directions[i] = key, centre, u
    # Clear: nothing hard under the label but its own box.
    clear = np.ones(len(items), dtype=bool)
    for i, item in enumerate(items):
        hard, _, _ = among_the_others(i).cost(centres[i], directions[i], item.half)
        clear[i] = hard == 0
    return centres, directions, clear

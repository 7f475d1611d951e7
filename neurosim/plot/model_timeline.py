"""A timeline as plain data: lanes, arrows, markers, legend (no matplotlib).

:mod:`neurosim.plot.mpl_timeline` draws it with matplotlib; the HTML page
draws the same model.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from neurosim.messages import KINDS
from neurosim.plot.style import (
    COLORS,
    KIND_LINESTYLE_NAMES,
    KIND_LINESTYLES,
    SAMPLE_COLORS,
)
from neurosim.plot.style import INK as _INK
from neurosim.plot.style import MUTED as _MUTED
from neurosim.trace import Trace

# Above these sizes the timeline aggregates and stops writing values.
_MAX_LANES = 60
_MAX_ARROWS = 2000
_MAX_VALUE_LABELS = 40


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
        legend += [
            _LegendEntry(
                f"{k} ({KIND_LINESTYLE_NAMES[k]})",
                _MUTED,
                KIND_LINESTYLES[k],
                linewidth=1.6,
            )
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

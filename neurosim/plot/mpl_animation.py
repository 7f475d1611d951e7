"""The animation of one iteration, rendered off screen to a GIF."""

from __future__ import annotations

import math
import os
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.animation import AbstractMovieWriter
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from neurosim._files import atomic_write
from neurosim.errors import DataError
from neurosim.messages import KINDS
from neurosim.plot._mpl import (
    _label_half_size,
    _LabelPlacer,
    _set_display_position,
    _white_box,
)
from neurosim.plot.labels import _fmt, _fmt_value, _Label, _Scene
from neurosim.plot.model_network import (
    _MAX_NODE_LABELS,
    _MAX_WEIGHT_LABELS,
    Graph,
    _as_graph,
    _graph_layers,
    _starting_weights,
    _trace_connections,
    _updated_weights,
    _weight_range,
    _weights_of,
)
from neurosim.plot.model_timeline import _MAX_VALUE_LABELS
from neurosim.plot.mpl_network import _NetworkDrawing, _node_size
from neurosim.plot.style import COLORS
from neurosim.plot.style import INK as _INK
from neurosim.plot.style import MUTED as _MUTED
from neurosim.trace import Trace


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
        for kind in KINDS:
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
        for kind in KINDS:
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
            for k in KINDS
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
        for kind in KINDS:
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
        errors = (it.kind == "backward") | (it.kind == "feedback")  # δ = Σ received
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
        # a softmax group trains with cross-entropy, the only loss it takes
        softmax = bool((it.kind == "softmax").any())
        terms = []
        for node, z in targets.items():
            if node in outputs and node in y:
                z = np.asarray(z, dtype=float)
                d = z - np.asarray(outputs[node], dtype=float)
                delta[node] = (acted.get(node, y[node][0]), d)
                y_node = np.asarray(outputs[node], dtype=float)
                terms.append(
                    -z * np.maximum(np.log(y_node), -100.0) if softmax else d**2
                )
        if terms and len(terms) == len(targets):
            e = np.sum(terms, axis=0) if softmax else 0.5 * np.sum(terms, axis=0)
            when = max(y[node][0] for node in targets)
            formula = "−Σ z·log y" if softmax else "½ Σ (z − y)²"
            self.error = (when, f"E = {formula} = {_fmt_value(e)}")

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
        phases = [k for k in KINDS if (flying & (self.kinds == k)).any()]
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

"""The browser page's model: what the page of a trace draws, as plain data.

:func:`page_model` turns a trace into JSON-able data: the lanes (one per
neuron, or one per layer where a network has too many neurons to read), the
arrows (one per message, or one per bundle of alike messages between
aggregated lanes), the update marks, the iterations and which of them the
page shows first. :mod:`neurosim.plot.html` embeds it in the page, whose
script (``page/page.js``) draws it.

It differs from :func:`neurosim.plot.timeline_model`, the figure's model, in
what it covers: the figure draws one selection of a trace, the page the
whole trace, which it filters and plays in the browser; so the page bundles
messages and collapses whole layers into lanes where the figure draws a
raster.

This module imports nothing of the trace (the trace imports the page's
writer when a page is written) and no matplotlib.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurosim.plot.labels import _layer_names

__all__ = ["MAX_LANES", "page_model"]

#: Above this many lanes, the largest layers are drawn as one lane each (the
#: static timeline aggregates above the same number).
MAX_LANES = 60
#: The height of a lane that holds a whole layer, in lanes of one neuron.
COLLAPSED_HEIGHT = 3.0
#: The page first shows at most this many arrows and iterations (else the
#: first epoch, or its first samples); the filters show the rest.
FIRST_ARROWS = 3000
FIRST_ITERATIONS = 12

# ----------------------------------------------------------------------
# the model: what is drawn, as plain data


def _lanes(
    trace: Any, max_lanes: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], np.ndarray]:
    """The layers, the lanes and each node's lane (-1: in no lane).

    Lanes follow :meth:`Trace.layers` (inputs at the top), then any node
    the trace names that no layer holds. While there are more than
    `max_lanes`, the largest layer still drawn neuron by neuron becomes one
    lane: a 784-32-10 network keeps its 42 hidden and output neurons apart
    and gives its inputs one lane.
    """
    n = len(trace.nodes)
    index = {node: i for i, node in enumerate(trace.nodes)}
    groups = [[index[node] for node in layer] for layer in trace.layers() if layer]
    placed = {i for group in groups for i in group}
    used = np.unique(
        np.concatenate(
            [
                trace.source_index,
                trace.destination_index,
                trace.updates.neuron_index,
            ]
        )
    ).tolist()
    extra = [i for i in used if i not in placed]
    names = _layer_names(len(groups))
    if extra:
        groups.append(extra)
        names.append("other")
    collapsed = [False] * len(groups)

    def count() -> int:
        return sum(1 if c else len(g) for g, c in zip(groups, collapsed, strict=True))

    while count() > max_lanes:
        open_layers = [k for k in range(len(groups)) if not collapsed[k]]
        largest = max(open_layers, key=lambda k: len(groups[k]))
        if len(groups[largest]) <= 1:
            break
        collapsed[largest] = True

    layers, lanes = [], []
    lane_of = np.full(n, -1, dtype=np.int64)
    for k, (group, name) in enumerate(zip(groups, names, strict=True)):
        first = len(lanes)
        if collapsed[k]:
            lane_of[group] = len(lanes)
            lanes.append(
                {"label": f"{name} ({len(group)})", "nodes": group, "layer": k}
            )
        else:
            for i in group:
                lane_of[i] = len(lanes)
                lanes.append({"label": str(trace.nodes[i]), "nodes": [i], "layer": k})
        layers.append(
            {
                "name": name,
                "nodes": group,
                "first_lane": first,
                "lanes": len(lanes) - first,
                "collapsed": collapsed[k],
            }
        )
    # Positions, in units of a neuron's lane from the top: a lane of many
    # neurons (a whole layer) is COLLAPSED_HEIGHT lanes high.
    top = 0.0
    for lane in lanes:
        height = COLLAPSED_HEIGHT if len(lane["nodes"]) > 1 else 1.0
        lane["top"], lane["height"] = top, height
        top += height
    return layers, lanes, lane_of


def _iteration_codes(
    tables: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[list[list[int]], list[np.ndarray]]:
    """The sorted ``[epoch, sample]`` pairs and each table's row codes."""
    epochs = np.concatenate([e for e, _ in tables]) if tables else np.empty(0)
    samples = np.concatenate([s for _, s in tables]) if tables else np.empty(0)
    if len(epochs) == 0:
        return [], [np.empty(0, dtype=np.int64) for _ in tables]
    pairs, codes = np.unique(
        np.stack([epochs, samples], axis=1).astype(np.int64),
        axis=0,
        return_inverse=True,
    )
    codes = codes.reshape(-1)
    out, start = [], 0
    for e, _ in tables:
        out.append(codes[start : start + len(e)])
        start += len(e)
    return pairs.tolist(), out


def _first_selection(
    iterations: list[list[int]], arrow_iteration: np.ndarray
) -> dict[str, Any]:
    """Which iterations the page shows first: all of them, if they are few.

    Else the first epoch, or the first of its samples: at most
    :data:`FIRST_ITERATIONS` iterations and :data:`FIRST_ARROWS` arrows (at
    least one iteration), so that the first view reads like the figure.
    """
    few = len(iterations) <= FIRST_ITERATIONS
    if not iterations or (few and len(arrow_iteration) <= FIRST_ARROWS):
        return {"epoch": None, "samples": None}
    per_iteration = np.bincount(arrow_iteration, minlength=len(iterations))
    first_epoch = iterations[0][0]
    in_epoch = [k for k, (e, _) in enumerate(iterations) if e == first_epoch]
    shown: list[int] = []
    total = 0
    for k in in_epoch:
        full = len(shown) == FIRST_ITERATIONS or total + per_iteration[k] > FIRST_ARROWS
        if shown and full:
            break
        shown.append(iterations[k][1])
        total += int(per_iteration[k])
    samples = None if len(shown) == len(in_epoch) else shown
    return {"epoch": first_epoch, "samples": samples}


def _overlap(codes: list[np.ndarray], times: list[np.ndarray], count: int) -> bool:
    """Whether two iterations are in the network at the same time."""
    if count < 2:
        return False
    code = np.concatenate(codes)
    time = np.concatenate(times)
    start = np.full(count, np.inf)
    stop = np.full(count, -np.inf)
    np.minimum.at(start, code, time)
    np.maximum.at(stop, code, time)
    order = np.argsort(start, kind="stable")
    start, stop = start[order], stop[order]
    return bool((start[1:] < np.maximum.accumulate(stop)[:-1]).any())


def page_model(trace: Any, *, max_lanes: int = MAX_LANES) -> dict[str, Any]:
    """What the page of `trace` draws, as plain JSON-able data.

    Returns a dict of lists, ints, strs and bools:

    - ``layers``: per layer, its ``name`` ("input", "hidden 1", ...), its
      ``nodes`` (indices into ``trace.nodes``), ``first_lane``, ``lanes``
      (how many) and whether it is ``collapsed`` into one lane;
    - ``lanes``: per lane, top to bottom, its ``label``, ``nodes``,
      ``layer``, and its ``top`` and ``height`` in units of a neuron's lane
      (a lane of a whole layer is three high); ``lane_of``: each node's lane
      (-1 for a node in none);
    - ``aggregated``: whether some layer is one lane;
    - ``arrows``: columns ``from``, ``to`` (lanes), ``first`` and ``count``:
      arrow k stands for the messages ``order[first[k]:first[k] + count[k]]``
      (``order`` is None when it is ``range(len(trace))``), which share
      their iteration, kind, fate, times and lanes; one per message unless
      lanes are aggregated;
    - ``marks``: the update marks, distinct ``time``, ``lane`` and
      ``iteration`` columns;
    - ``iterations``: the ``[epoch, sample]`` pairs, sorted; the colour of
      a sample is ``SAMPLE_COLORS[k % 9]`` for the k-th iteration shown, as
      in ``plot.timeline(color_by="sample")``;
    - ``overlap``: whether iterations are in flight together (the page then
      colours by iteration); ``first``: the ``epoch`` and ``samples`` shown
      first (None: all).

    Examples
    --------
    >>> from neurosim.trace import Trace
    >>> trace = Trace.from_rows(
    ...     [(0, 0, "forward", "x", "y", 0.0, 1.0, 2.0)],
    ...     [(0, 0, "y", "x", 0.5, 0.4, 1.0)],
    ...     ["x", "y"],
    ... )
    >>> model = page_model(trace)
    >>> [lane["label"] for lane in model["lanes"]], model["arrows"]["to"]
    (['x', 'y'], [1])
    >>> [(lane["top"], lane["height"]) for lane in model["lanes"]]
    [(0.0, 1.0), (1.0, 1.0)]
    >>> model["marks"]
    {'time': [1.0], 'lane': [1], 'iteration': [0]}
    """
    layers, lanes, lane_of = _lanes(trace, max_lanes)
    updates = trace.updates
    internals = getattr(trace, "internals", None)
    tables = [(trace.epoch, trace.sample), (updates.epoch, updates.sample)]
    if internals is not None and len(internals):
        tables.append((internals.epoch, internals.sample))
    iterations, codes = _iteration_codes(tables)
    message_iteration, update_iteration = codes[0], codes[1]

    lane0 = lane_of[trace.source_index]
    lane1 = lane_of[trace.destination_index]
    aggregated = any(layer["collapsed"] for layer in layers)
    n = len(trace)
    if aggregated and n:
        # Messages that look alike on the page become one arrow.
        keys = np.stack(
            [
                message_iteration,
                trace._kind_code.astype(np.int64),
                trace._fate_code.astype(np.int64),
                lane0,
                lane1,
            ],
            axis=1,
        ).astype(np.float64)
        keys = np.concatenate(
            [keys, trace.sent_at[:, None], trace.received_at[:, None]], axis=1
        )
        unique, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        order = np.argsort(inverse, kind="stable")
        counts = np.bincount(inverse, minlength=len(unique))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        # Arrows in the order of their first message.
        by_first = np.argsort(order[starts], kind="stable")
        first, count = starts[by_first], counts[by_first]
        arrow_lane0 = lane0[order[first]]
        arrow_lane1 = lane1[order[first]]
        arrow_iteration = message_iteration[order[first]]
        order_list: list[int] | None = order.tolist()
    else:
        first = np.arange(n)
        count = np.ones(n, dtype=np.int64)
        arrow_lane0, arrow_lane1 = lane0, lane1
        arrow_iteration = message_iteration
        order_list = None

    mark_lane = lane_of[updates.neuron_index]
    if len(updates):
        marks = np.unique(
            np.stack(
                [updates.time, mark_lane.astype(float), update_iteration.astype(float)],
                axis=1,
            ),
            axis=0,
        )
    else:
        marks = np.empty((0, 3))
    times = [trace.sent_at, trace.received_at, updates.time]
    return {
        "layers": layers,
        "lanes": lanes,
        "lane_of": lane_of.tolist(),
        "aggregated": aggregated,
        "arrows": {
            "from": arrow_lane0.tolist(),
            "to": arrow_lane1.tolist(),
            "first": first.tolist(),
            "count": count.tolist(),
        },
        "order": order_list,
        "marks": {
            "time": marks[:, 0].tolist(),
            "lane": marks[:, 1].astype(np.int64).tolist(),
            "iteration": marks[:, 2].astype(np.int64).tolist(),
        },
        "iterations": iterations,
        "overlap": _overlap(
            [message_iteration, message_iteration, update_iteration],
            times,
            len(iterations),
        ),
        "first": _first_selection(iterations, arrow_iteration),
    }

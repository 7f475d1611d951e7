"""The browser page of a trace: one self-contained HTML file, no server.

:meth:`neurosim.Trace.to_html` and ``neurosim view`` write it. The page is
the template ``page/page.html`` with its style sheet and script inlined and
the data embedded as ``<script type="application/json"
id="neurosim-trace">``: it makes no network request of any kind, and opens
from a file, an e-mail attachment or a USB stick. The script is plain
JavaScript drawing on SVG, without a library: a library would make every
page hundreds of kilobytes bigger (a page must stay small enough to mail),
and the drawing needs only lines, circles and text.

The renderer of the page, beside the matplotlib ones: what it draws comes
from :func:`neurosim.plot.model_page.page_model`; this module embeds that
model and the trace's columns in the template and writes the file with
:func:`neurosim._files.atomic_write`. It imports nothing of the trace (the
trace imports it to write its page), only the colours of
:mod:`neurosim.plot.style`, so that page and figures agree.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from neurosim._files import atomic_write
from neurosim.messages import FATES, KINDS
from neurosim.plot.model_page import page_model
from neurosim.plot.style import COLORS, SAMPLE_COLORS

__all__ = ["page_json", "write_page"]

_FORMAT = "neurosim-page"
_VERSION = 1
_PLACEHOLDER = re.compile(r"\{\{(STYLE|SCRIPT|DATA|TITLE)\}\}")


# ----------------------------------------------------------------------
# the data: the trace's columns, exactly


def _numbers(column: np.ndarray) -> dict[str, Any]:
    """A float column, exactly and compactly: its float64 bytes in base64.

    ``{"f8": ...}`` holds the little-endian float64 values (NaN and the
    infinities included, which JSON has not); with ``"codes"``, those are
    the distinct values and ``codes`` says which each row has (times take
    few values); with ``"lengths"``, a mini-batch column (an object array
    of 1-D arrays) is the values of all rows one after the other. Written
    as decimal text a float64 takes 18 characters, in base64 under 11.
    """
    if column.dtype == object:
        lengths = [len(v) for v in column]
        flat = (
            np.concatenate([np.asarray(v, dtype=np.float64) for v in column])
            if len(column)
            else np.empty(0)
        )
        return {"f8": _base64(flat), "lengths": lengths}
    column = np.asarray(column, dtype=np.float64)
    if len(column) > 16:
        # By bit pattern, so that -0.0 stays -0.0 and each NaN itself.
        bits, codes = np.unique(column.view(np.int64), return_inverse=True)
        if len(bits) <= len(column) // 4:
            distinct = bits.view(np.float64)
            return {"f8": _base64(distinct), "codes": _integers(codes.reshape(-1))}
    return {"f8": _base64(column)}


def _base64(values: np.ndarray) -> str:
    return base64.b64encode(np.asarray(values, dtype="<f8").tobytes()).decode("ascii")


def _integers(column: Any) -> list[int] | dict[str, list[int]]:
    """An integer column, as a list or, when shorter, as runs of steps.

    ``{"runs": [step, count, step, count, ...]}``: the column is the
    running sum of the steps, each repeated `count` times. The epoch,
    sample, kind and fate columns are a few long runs; the senders and
    receivers of a layer's messages climb by steps of 1.
    """
    values = np.asarray(column).astype(np.int64)
    if len(values) < 64:
        return values.tolist()
    steps = np.diff(values, prepend=0)
    change = np.flatnonzero(np.diff(steps)) + 1
    starts = np.concatenate([[0], change])
    counts = np.diff(np.concatenate([starts, [len(steps)]]))
    if 2 * len(starts) >= len(values):
        return values.tolist()
    runs = np.stack([steps[starts], counts], axis=1).reshape(-1)
    return {"runs": runs.tolist()}


_INTERNAL_FLOATS = ("e", "y", "fprime", "delta", "g", "forward_at", "backward_at")


def _tables(trace: Any) -> dict[str, Any]:
    """The trace's messages, updates and (if recorded) neuron internals."""
    updates = trace.updates
    data: dict[str, Any] = {
        "messages": {
            "epoch": _integers(trace.epoch),
            "sample": _integers(trace.sample),
            "kind": _integers(trace._kind_code),
            "source": _integers(trace.source_index),
            "destination": _integers(trace.destination_index),
            "sent_at": _numbers(trace.sent_at),
            "received_at": _numbers(trace.received_at),
            "value": _numbers(trace.value),
            "fate": _integers(trace._fate_code),
        },
        "updates": {
            "epoch": _integers(updates.epoch),
            "sample": _integers(updates.sample),
            "neuron": _integers(updates.neuron_index),
            "source": _integers(updates.source_index),
            "old": _numbers(updates.old),
            "new": _numbers(updates.new),
            "time": _numbers(updates.time),
        },
        "internals": None,
    }
    # A trace recorded without them has NaN gradients and no internals.
    gradient = getattr(updates, "gradient", None)
    if gradient is not None and not np.isnan(gradient).all():
        data["updates"]["gradient"] = _numbers(np.asarray(gradient))
    internals = getattr(trace, "internals", None)
    if internals is not None and len(internals):
        table: dict[str, Any] = {
            "epoch": _integers(internals.epoch),
            "sample": _integers(internals.sample),
            "neuron": _integers(internals.neuron_index),
        }
        for name in _INTERNAL_FLOATS:
            column = getattr(internals, name, None)
            if column is not None:
                table[name] = _numbers(np.asarray(column))
        version = getattr(internals, "version", None)
        if version is not None:
            table["version"] = _integers(version)
        data["internals"] = table
    return data


def page_json(trace: Any, nodes: list[int | str], title: str) -> str:
    """The page's data as a JSON text safe inside ``<script>``.

    ``</`` is written ``<\\/`` and ``<!--`` as ``\\u003c!--`` (both mean the
    same to a JSON reader), so that no node name can end the script element
    early or open an HTML comment.
    """
    model = page_model(trace)
    if model["order"] is not None:
        model["order"] = _integers(model["order"])
    data = {
        "format": _FORMAT,
        "version": _VERSION,
        "title": title,
        "summary": _summary(trace),
        "nodes": nodes,
        "kinds": list(KINDS),
        "fates": list(FATES),
        "colors": dict(COLORS),
        "sample_colors": list(SAMPLE_COLORS),
        **_tables(trace),
        "model": model,
    }
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")


def _summary(trace: Any) -> str:
    """The trace's repr without its angle brackets: what it holds, in words."""
    text = repr(trace)
    if text.startswith("<Trace: ") and text.endswith(">"):
        text = text[len("<Trace: ") : -1]
    return text


def _asset(name: str) -> str:
    return resources.files("neurosim.plot").joinpath("page", name).read_text("utf-8")


def write_page(
    trace: Any,
    nodes: list[int | str],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
) -> Path:
    """Write the page of `trace` to `path` (see :meth:`Trace.to_html`).

    `nodes` are the trace's node names, checked to be ints and strs. The
    assets must not hold ``</script`` or ``</style``, which would end their
    element early (tests/test_viewer.py checks).
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "is a folder, not a file", str(path))
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(2, "no such folder", str(folder))
    if title is None:
        title = "neurosim trace"
    pieces = {
        "STYLE": _asset("page.css"),
        "SCRIPT": _asset("page.js"),
        "DATA": page_json(trace, nodes, title),
        "TITLE": html.escape(title),
    }
    page = _PLACEHOLDER.sub(lambda match: pieces[match.group(1)], _asset("page.html"))
    with atomic_write(path) as file:
        file.write(page.encode("utf-8"))
    return path

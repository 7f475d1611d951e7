"""The colours neurosim draws with, shared by the figures and the browser page.

:mod:`neurosim.plot` re-exports them (``plot.COLORS``, ``plot.SAMPLE_COLORS``);
the page of :meth:`neurosim.Trace.to_html` embeds them, so that a page and a
figure of the same trace agree. This module imports nothing, so that the
trace (which writes the page) need not import the plotting code.
"""

from __future__ import annotations

__all__ = ["COLORS", "SAMPLE_COLORS"]

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

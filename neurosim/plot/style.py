"""The look shared by every figure: colours, line styles, the axes' style.

Plain data (no matplotlib): the figure models and the HTML page use these
too. Message kinds are keyed by :data:`neurosim.messages.KINDS`, the one
table of kinds.

Colours: forward messages blue, backward messages vermillion, feedback
reddish purple, softmax messages orange, parameter updates green
(Okabe–Ito, safe for colour-blind readers); weights on a purple
(negative) – grey – green (positive) scale (:data:`WEIGHT_COLORS`). A
timeline coloured by iteration uses :data:`SAMPLE_COLORS` (Paul Tol's
"muted" scheme, also safe for colour-blind readers) and shows the kinds by
line style. Classes (the points and regions of a decision map) take
:data:`CLASS_COLORS`, TensorFlow Playground's orange and blue first; a map
of values goes from orange (low) through light grey to blue (high)
(:data:`MAP_COLORS`).
"""

from __future__ import annotations

from typing import Any

from neurosim.messages import KINDS

__all__ = [
    "CLASS_COLORS",
    "COLORS",
    "GRID",
    "INK",
    "KIND_LINESTYLES",
    "KIND_LINESTYLE_NAMES",
    "MAP_COLORS",
    "MUTED",
    "OKABE_ITO",
    "RULE_COLORS",
    "RULE_NAMES",
    "SAMPLE_COLORS",
    "WEIGHT_COLORS",
    "style_axes",
]

#: Okabe & Ito's palette, distinct for colour-blind readers: the colours
#: of the kinds, and of the scenarios' series.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}
#: Colours of the message kinds (:data:`neurosim.messages.KINDS`) and of
#: updates.
COLORS = dict(
    zip(
        KINDS,
        (
            OKABE_ITO["blue"],
            OKABE_ITO["vermillion"],
            OKABE_ITO["reddish purple"],
            OKABE_ITO["orange"],
        ),
        strict=True,
    ),
    update=OKABE_ITO["bluish green"],
)
#: The learning rules (:data:`neurosim.rules.RULES`) in the scenarios'
#: figures: the same rule in the same colour and words in every figure.
RULE_COLORS = {
    "backprop": OKABE_ITO["blue"],
    "article": OKABE_ITO["orange"],
    "feedback_alignment": OKABE_ITO["bluish green"],
    "direct_feedback_alignment": OKABE_ITO["reddish purple"],
}
RULE_NAMES = {
    "backprop": "backprop",
    "article": "article (w·δ, no f′)",
    "feedback_alignment": "feedback alignment",
    "direct_feedback_alignment": "direct feedback alignment",
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
#: Line styles of the message kinds when the colour shows the iteration
#: (matplotlib's dash tuples: offset, (on, off) in points).
KIND_LINESTYLES: dict[str, Any] = dict(
    zip(
        KINDS,
        ("-", (0, (4.0, 2.0)), (0, (1.0, 1.5)), (0, (4.0, 1.5, 1.0, 1.5))),
        strict=True,
    )
)
#: The same line styles in words, for legends.
KIND_LINESTYLE_NAMES = dict(
    zip(KINDS, ("solid", "dashed", "dotted", "dash-dotted"), strict=True)
)
#: Text and outlines.
INK = "#222222"
#: Captions and secondary text.
MUTED = "#6b6b6b"
#: Grid lines and lanes.
GRID = "#e4e4e4"
#: One colour per class in decision maps and their points: TensorFlow
#: Playground's orange (class 0) and blue (class 1), then Okabe–Ito colours;
#: it cycles beyond eight classes.
CLASS_COLORS = (
    "#f59322",
    "#0877bd",
    OKABE_ITO["bluish green"],
    OKABE_ITO["reddish purple"],
    OKABE_ITO["yellow"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["sky blue"],
    "#555555",
)
#: A map of values (a neuron's output over the plane): low orange, the middle
#: light grey, high blue, the ends of Playground's scale.
MAP_COLORS = ("#f59322", "#f2f2f2", "#0877bd")
#: Weights: purple for negative, grey near zero, green for positive.
WEIGHT_COLORS = ("#762a83", "#af8dc3", "#cfcfcf", "#7fbf7b", "#1b7837")


def style_axes(ax: Any) -> Any:
    """Give a matplotlib Axes the look of neurosim's charts; return it.

    A light grid behind the data, no top or right spine: what
    :func:`neurosim.plot.loss` and the scenarios' charts share.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from neurosim.plot import style_axes
    >>> figure, ax = plt.subplots()
    >>> style_axes(ax).spines["top"].get_visible()
    False
    >>> plt.close(figure)
    """
    ax.grid(color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax

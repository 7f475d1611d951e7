"""What the matplotlib renderers share: new Axes, label boxes, draw-time placement.

Where a label may go depends on the final size of the Axes in pixels
(constrained layout, a colour bar, savefig's dpi), so the renderers place
labels when the Axes is drawn, by a :class:`_LabelPlacer` drawn before them,
with :mod:`neurosim.plot.labels` on the rendered geometry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from numpy.typing import NDArray

from neurosim.plot.style import WEIGHT_COLORS

#: Weights: purple for negative, grey near zero, green for positive.
WEIGHT_CMAP = LinearSegmentedColormap.from_list("neurosim_weights", list(WEIGHT_COLORS))


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only here: respect the user's backend

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _white_box(pad: float, alpha: float) -> dict[str, Any]:
    """A white rounded box behind a label, so that lines under it do not show."""
    return {"boxstyle": f"round,pad={pad}", "fc": "white", "ec": "none", "alpha": alpha}


def _clean_axes(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _label_half_size(
    text: Any, renderer: Any, strings: Sequence[str] | None = None, bold: bool = False
) -> tuple[float, float]:
    """Half width and half height in pixels of a label unrotated, box included.

    With `strings`, the largest of these texts (a label whose text changes).
    """
    from matplotlib.text import Text

    pad = 0.0
    patch = text.get_bbox_patch()
    if patch is not None:
        pad = getattr(patch.get_boxstyle(), "pad", 0.0) * renderer.points_to_pixels(
            text.get_fontsize()
        )
    width = height = 0.0
    for string in strings if strings is not None else [text.get_text()]:
        scratch = Text(0, 0, string, fontproperties=text.get_fontproperties())
        if bold:
            scratch.set_fontweight("bold")
        scratch.set_figure(text.get_figure(root=True))
        box = scratch.get_window_extent(renderer)
        width, height = max(width, box.width), max(height, box.height)
    margin = 1.0  # rounding of the rendered box
    return width / 2 + pad + margin, height / 2 + pad + margin


class _LabelPlacer(Artist):
    """Calls ``place(renderer)`` when its Axes is drawn, before the labels.

    Placement runs again only when the Axes' size, limits or the dpi
    change, so labels do not move under a steady figure (nor while an
    animation changes their text); with `every_draw`, at every draw (the
    labels of an animation's moving dots), after the placers made without.
    """

    def __init__(self, ax: Axes, place: Any, every_draw: bool = False):
        super().__init__()
        self._ax = ax
        self._place = place
        self._key: tuple[float, ...] | None = None
        self._every_draw = every_draw
        # Drawn first among the Axes' children.
        self.set_zorder(-999 if every_draw else -1000)
        self.set_in_layout(False)
        ax.add_artist(self)

    def draw(self, renderer: Any) -> None:
        ax = self._ax
        # Whole pixels: constrained layout moves an Axes by a fraction of a
        # pixel from one draw to the next.
        key = (
            round(float(renderer.points_to_pixels(1.0)), 6),
            *np.round(ax.bbox.bounds).tolist(),
            *np.round(ax.viewLim.bounds, 9).tolist(),
        )
        if key != self._key or self._every_draw:
            self._key = key
            self._place(renderer)
        self.stale = False


def _set_display_position(text: Any, centre: NDArray[np.float64]) -> None:
    """Move a label (in data coordinates) to a point given in pixels."""
    x, y = text.axes.transData.inverted().transform(centre)
    if (x, y) != text.get_position():
        text.set_position((float(x), float(y)))


def _axes_height_points(ax: Axes) -> float:
    figure = ax.figure
    return ax.get_position().height * figure.get_figheight() * 72.0

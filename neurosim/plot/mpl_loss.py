"""The training loss drawn with matplotlib: per iteration and per epoch."""

from __future__ import annotations

import math
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator
from numpy.typing import NDArray

from neurosim.errors import DataError
from neurosim.plot._mpl import _new_axes
from neurosim.plot.style import COLORS
from neurosim.plot.style import GRID as _GRID


def loss(
    history_or_array: Any,
    *,
    samples_per_epoch: int | None = None,
    ax: Axes | None = None,
    label: str | None = None,
    color: str | None = None,
) -> Axes:
    """Plot the training loss per iteration and its mean per epoch.

    Parameters
    ----------
    history_or_array : object with ``.loss``, or array
        The loss of each iteration (sample or batch) in order; a 2-D array is
        read as epochs × iterations. An object may also carry
        ``samples_per_epoch``.
    samples_per_epoch : int, optional
        Iterations per epoch; with it the x axis counts epochs and the epoch
        means are drawn as a bold line, the mean of epoch ``k`` at ``x = k``
        (epochs are counted from 0, as everywhere in neurosim; without it,
        iteration ``k`` is at ``x = k``). With several iterations per epoch,
        the iterations show behind it, light: one dot each up to 50 epochs
        and 600 iterations, beyond that a band per epoch from the lowest to
        the highest (10th to 90th percentile with 10 or more iterations per
        epoch).
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise. Several runs can share one
        Axes: call once per run with its `label`.
    label : str, optional
        The run's name in the legend (its epoch means carry it).
    color : str, optional
        The run's colour; by default the next one of the Axes' cycle when a
        `label` is given.

    Returns
    -------
    matplotlib Axes
        The y axis is logarithmic when the finite positive losses span more
        than two decades. Non-finite losses (divergence) are left out and
        noted in the title.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from neurosim.plot import loss
    >>> ax = loss([4.0, 3.0, 1.0, 0.5, 0.02, 0.01], samples_per_epoch=2)
    >>> ax.get_yscale()
    'log'
    >>> ax.get_lines()[-1].get_xdata()  # the epoch means: epochs 0, 1, 2
    array([0, 1, 2])
    >>> plt.close(ax.figure)
    """
    data = getattr(history_or_array, "loss", history_or_array)
    if samples_per_epoch is None:
        samples_per_epoch = getattr(history_or_array, "samples_per_epoch", None)
    values = np.asarray(data, dtype=np.float64)
    if values.ndim == 2:
        samples_per_epoch = values.shape[1]
        values = values.ravel()
    elif values.ndim != 1:
        raise DataError(f"loss: expected a 1-D or 2-D array, got shape {values.shape}")
    if samples_per_epoch is not None and int(samples_per_epoch) < 1:
        raise DataError(f"samples_per_epoch must be >= 1, not {samples_per_epoch!r}")
    ax = _new_axes(ax, (7.0, 3.8))
    finite = np.isfinite(values)
    shown = np.where(finite, values, np.nan)
    if label is not None and color is None:  # the next colour of the cycle
        cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        runs = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
        color = cycle[len(runs) % len(cycle)]
    line_color, mean_color = "#7aa6c2", COLORS["forward"]
    if color is not None:
        line_color = mean_color = color

    if samples_per_epoch:
        per = int(samples_per_epoch)
        epochs = math.ceil(len(values) / per)
        # epoch k's samples spread across [k - 0.5, k + 0.5), its mean at k
        x = (np.arange(len(values)) // per) + (np.arange(len(values)) % per + 0.5) / per
        x -= 0.5
        grid = np.full(epochs * per, np.nan)
        grid[: len(shown)] = shown
        grid = grid.reshape(epochs, per)
        seen = np.isfinite(grid).any(axis=1)
        means = np.full(epochs, np.nan)
        means[seen] = np.nanmean(grid[seen], axis=1)
        centres = np.arange(epochs)
        if per > 1 and label is None:  # overlaid runs show their epoch means only
            _per_sample_spread(ax, x, shown, grid, seen, centres, line_color)
        ax.plot(
            centres,
            means,
            color=mean_color,
            linewidth=2.0,
            marker="o",
            markersize=4 if epochs <= 60 else 0,
            zorder=3,
            label="epoch mean" if label is None else label,
        )
        ax.set_xlabel("epoch")
        ax.set_xlim(-0.5, epochs - 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(frameon=False, fontsize=9)
    else:
        ax.plot(
            np.arange(len(values)),
            shown,
            color=mean_color,
            linewidth=1.2,
            label=label,
        )
        if label is not None:
            ax.legend(frameon=False, fontsize=9)
        ax.set_xlabel("iteration")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))

    positive = values[finite & (values > 0)]
    all_positive = len(positive) and not (values[finite] <= 0).any()
    if all_positive and positive.max() / positive.min() > 100:
        ax.set_yscale("log")
    ax.set_ylabel("loss  E = ½ Σ (z − y)²")
    title = "Training loss"
    if not finite.all():
        title += f" (diverged: {int((~finite).sum())} non-finite values not shown)"
    ax.set_title(title, fontsize=12)
    ax.grid(color=_GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


# Up to this many epochs and points, each sample's loss is a dot; beyond,
# the samples of an epoch are summed up as a band.
_MAX_LOSS_DOT_EPOCHS = 50
_MAX_LOSS_DOTS = 600


def _per_sample_spread(
    ax: Axes,
    x: NDArray[np.float64],
    shown: NDArray[np.float64],
    grid: NDArray[np.float64],
    seen: NDArray[np.bool_],
    centres: NDArray[np.float64],
    color: str,
) -> None:
    """The losses of the samples behind the epoch means, light.

    Few epochs: one small dot per sample. Many: a band per epoch from the
    lowest to the highest sample (10th to 90th percentile with 10 samples
    or more an epoch), so that samples of very different losses do not
    draw a solid zigzag.
    """
    epochs, per = grid.shape
    if epochs <= _MAX_LOSS_DOT_EPOCHS and len(shown) <= _MAX_LOSS_DOTS:
        ax.plot(
            x,
            shown,
            linestyle="none",
            marker="o",
            markersize=3,
            markeredgewidth=0,
            color=color,
            alpha=0.7,
            zorder=2,
            label="per sample",
        )
        return
    low = np.full(epochs, np.nan)
    high = np.full(epochs, np.nan)
    if per >= 10:
        low[seen], high[seen] = np.nanpercentile(grid[seen], [10, 90], axis=1)
        what = "per sample: 10th–90th percentile"
    else:
        low[seen], high[seen] = (
            np.nanmin(grid[seen], axis=1),
            np.nanmax(grid[seen], axis=1),
        )
        what = "per sample: lowest to highest"
    ax.fill_between(
        centres,
        low,
        high,
        where=seen,
        color=color,
        alpha=0.3,
        linewidth=0,
        zorder=1,
        label=what,
    )

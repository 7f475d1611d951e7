"""Label placement: each label takes the first clear position it is offered.

Plain geometry (numpy, no matplotlib), so that a figure model can place its
labels for a nominal size and a renderer can place them again on the
rendered geometry. The geometry is in pixels (or points): a label is an
oriented rectangle (its centre, the unit vector of its baseline, its half
width and half height, the white box's padding included); lines are
rectangles of height 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray


def _fmt(x: float, digits: int = 4) -> str:
    """A number for a label: 4 significant digits, a true minus sign."""
    if not math.isfinite(x):
        return str(x)
    text = f"{x:.{digits}g}"
    return text.replace("-", "\N{MINUS SIGN}")


def _fmt_value(value: Any) -> str:
    """A message's value; a mini-batch shows its first two samples."""
    if np.ndim(value) == 0:
        return _fmt(float(value))
    items = [_fmt(float(v), 3) for v in value[:2]]
    return "[" + ", ".join(items) + (", …]" if len(value) > 2 else "]")


def _perpendicular(u: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.stack([-u[..., 1], u[..., 0]], axis=-1)


def _rects_overlap(
    centre: NDArray[np.float64],
    u: NDArray[np.float64],
    half: tuple[float, float],
    centres: NDArray[np.float64],
    us: NDArray[np.float64],
    halves: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Whether one oriented rectangle overlaps each of others (separating axes)."""
    if len(centres) == 0:
        return np.zeros(0, dtype=bool)
    n, ns = _perpendicular(u), _perpendicular(us)
    d = centres - centre
    separated = np.zeros(len(centres), dtype=bool)
    # The axes of the one rectangle...
    for axis, reach in ((u, half[0]), (n, half[1])):
        other = halves[:, 0] * np.abs(us @ axis) + halves[:, 1] * np.abs(ns @ axis)
        separated |= np.abs(d @ axis) >= reach + other
    # ... and those of each of the others.
    for axes, other in ((us, halves[:, 0]), (ns, halves[:, 1])):
        reach = half[0] * np.abs(axes @ u) + half[1] * np.abs(axes @ n)
        separated |= np.abs(np.sum(d * axes, axis=1)) >= reach + other
    return ~separated


class _Scene:
    """What labels must keep clear of, in display pixels; labels are added as placed.

    Hard obstacles (placed labels, circles, boxes, the Axes' edge) must not be
    touched; soft ones (lines) are avoided when possible.
    """

    def __init__(self, bounds: Any):
        self.bounds = bounds  # a Bbox: labels stay inside
        self.rects: list[tuple[NDArray[np.float64], NDArray[np.float64], Any]] = []
        self.circles: list[tuple[float, float, float]] = []
        self.lines: list[
            tuple[NDArray[np.float64], NDArray[np.float64], float, float]
        ] = []
        self._cache: dict[str, Any] = {}

    def add_rect(
        self, centre: NDArray[np.float64], u: NDArray[np.float64], half: Any
    ) -> None:
        self.rects.append((np.asarray(centre, float), np.asarray(u, float), half))
        self._cache.pop("rects", None)

    def add_box(self, box: Any) -> None:
        """An axis-aligned obstacle (a matplotlib Bbox)."""
        if box.width > 0 and box.height > 0:
            centre = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
            self.add_rect(centre, np.array([1.0, 0.0]), (box.width / 2, box.height / 2))

    def add_circle(self, centre: Any, radius: float) -> None:
        self.circles.append((float(centre[0]), float(centre[1]), float(radius)))
        self._cache.pop("circles", None)

    def add_line(self, start: Any, end: Any, half_width: float = 0.0) -> int:
        """A soft obstacle; returns its index (to skip a label's own line)."""
        start, end = np.asarray(start, float), np.asarray(end, float)
        length = float(np.hypot(*(end - start)))
        u = (end - start) / length if length > 0 else np.array([1.0, 0.0])
        self.lines.append(((start + end) / 2, u, length / 2, half_width))
        self._cache.pop("lines", None)
        return len(self.lines) - 1

    def _arrays(self, name: str) -> Any:
        if name not in self._cache:
            if name == "rects":
                rows = self.rects
                self._cache[name] = (
                    np.array([r[0] for r in rows]).reshape(-1, 2),
                    np.array([r[1] for r in rows]).reshape(-1, 2),
                    np.array([r[2] for r in rows], dtype=float).reshape(-1, 2),
                )
            elif name == "circles":
                self._cache[name] = np.array(self.circles).reshape(-1, 3)
            else:
                rows = self.lines
                self._cache[name] = (
                    np.array([r[0] for r in rows]).reshape(-1, 2),
                    np.array([r[1] for r in rows]).reshape(-1, 2),
                    np.array([(r[2], r[3]) for r in rows]).reshape(-1, 2),
                )
        return self._cache[name]

    def cost(
        self,
        centre: NDArray[np.float64],
        u: NDArray[np.float64],
        half: tuple[float, float],
        skip_lines: Sequence[int] = (),
        clearance: float = 0.0,
    ) -> tuple[int, int, int]:
        """(hard obstacles touched, lines crossed, labels near) by a label there.

        With a `clearance`, a line closer than that to the label counts as
        crossed, and other labels within a few clearances are counted (labels
        side by side read as one); without, none is near.
        """
        n = _perpendicular(u)
        corners = centre + np.array(
            [sx * half[0] * u + sy * half[1] * n for sx in (-1, 1) for sy in (-1, 1)]
        )
        b = self.bounds
        hard = int(
            (corners[:, 0] < b.x0).any()
            or (corners[:, 0] > b.x1).any()
            or (corners[:, 1] < b.y0).any()
            or (corners[:, 1] > b.y1).any()
        )
        rects = self._arrays("rects")
        touching = _rects_overlap(centre, u, half, *rects)
        hard += int(touching.sum())
        near = 0
        if clearance > 0:  # other labels close by: a soft obstacle, as a line
            spaced = (half[0] + 3 * clearance, half[1] + 4 * clearance)
            near = int((_rects_overlap(centre, u, spaced, *rects) & ~touching).sum())
        circles = self._arrays("circles")
        if len(circles):
            d = circles[:, :2] - centre
            dx = np.maximum(np.abs(d @ u) - half[0], 0.0)
            dy = np.maximum(np.abs(d @ n) - half[1], 0.0)
            hard += int((np.hypot(dx, dy) < circles[:, 2]).sum())
        reach = (half[0] + clearance, half[1] + clearance)
        crossed = _rects_overlap(centre, u, reach, *self._arrays("lines"))
        if len(skip_lines):
            crossed[list(skip_lines)] = False
        return hard, int(crossed.sum()), near

    def choose(self, label: _Label) -> tuple[NDArray[np.float64], int, int]:
        """The best candidate centre of a label, which is then added; and the
        hard obstacles it touches and the lines it crosses there.

        Best: touches the fewest hard obstacles, then crosses the fewest
        lines, then comes first (with ``lines_are_hard`` a line counts as a
        hard obstacle): the first clear position if there is one.
        """
        best, best_key = label.candidates[0], (math.inf,)
        for rank, centre in enumerate(label.candidates):
            hard, crossed, near = self.cost(
                centre, label.u, label.half, label.skip_lines, label.clearance
            )
            if label.lines_are_hard:
                hard, crossed = hard + crossed, 0
            key = (hard, crossed, near, rank)
            if key < best_key:
                best, best_key = centre, key
            if hard == crossed == near == 0:
                break
        self.add_rect(best, label.u, label.half)
        return best, int(best_key[0]), int(best_key[1] + best_key[2])


class _Label(NamedTuple):
    """A label to place: its candidate centres in order of preference."""

    candidates: Sequence[NDArray[np.float64]]
    u: NDArray[np.float64]  # the direction of its baseline
    half: tuple[float, float]  # half width, half height
    skip_lines: Sequence[int] = ()  # its own line
    lines_are_hard: bool = False
    clearance: float = 0.0  # keep this far from other lines when possible


class _Box(NamedTuple):
    """Where labels must stay: ``x0 <= x <= x1``, ``y0 <= y <= y1``."""

    x0: float
    y0: float
    x1: float
    y1: float


# Advance widths of DejaVu Sans (matplotlib's default font) in ems, for the
# characters of numbers; other characters count as 0.62 em.
_ADVANCE = {
    **dict.fromkeys("0123456789", 0.636),
    ".": 0.318,
    ",": 0.318,
    " ": 0.318,
    "[": 0.390,
    "]": 0.390,
    "-": 0.361,
    "\N{MINUS SIGN}": 0.838,
    "+": 0.838,
    "e": 0.615,
    "…": 1.0,
}


def _text_size(text: str, fontsize: float) -> tuple[float, float]:
    """Width and height in points of one line of `text` in the default font,
    estimated without a renderer (within a few per cent for numbers)."""
    width = sum(_ADVANCE.get(c, 0.62) for c in text) * fontsize
    return width, 1.17 * fontsize


def _place(
    scene: _Scene, labels: Sequence[_Label], retry_crossed: bool = False
) -> list[NDArray[np.float64]]:
    """Place the labels greedily, in order; the centre of each.

    When some label finds no clear position, the round starts again with
    the blocked labels first (a long connection has room elsewhere, a short
    one may not); the round with the fewest clashes wins. With
    `retry_crossed`, so do the labels that cross a line, once none is
    blocked.
    """
    fixed = len(scene.rects)
    order = list(range(len(labels)))
    best: tuple[tuple[int, int], list[Any]] | None = None
    for _ in range(4):
        del scene.rects[fixed:]
        scene._cache.pop("rects", None)
        centres: list[Any] = [None] * len(labels)
        blocked, crossing, hard_total, crossed_total = [], [], 0, 0
        for i in order:
            centres[i], hard, crossed = scene.choose(labels[i])
            hard_total += hard
            crossed_total += crossed
            if hard:
                blocked.append(i)
            elif crossed:
                crossing.append(i)
        if not blocked and retry_crossed:
            blocked = crossing
        score = (hard_total, crossed_total)
        if best is None or score < best[0]:
            best = (score, centres)
        if not blocked:
            break
        order = blocked + [i for i in order if i not in blocked]
    return best[1] if best is not None else []


def _along(
    start: NDArray[np.float64],
    end: NDArray[np.float64],
    lo: float,
    hi: float,
    preferred: float,
    count: int = 25,
) -> tuple[list[NDArray[np.float64]], NDArray[np.float64]]:
    """Candidate centres between ``lo`` and ``hi`` pixels from `start` towards
    `end`, nearest `preferred` first; and the unit vector of the segment."""
    length = float(np.hypot(*(end - start)))
    u = (end - start) / length if length > 0 else np.array([1.0, 0.0])
    if hi < lo:
        distances = np.array([(lo + hi) / 2])
    else:
        distances = np.linspace(lo, hi, count)
        distances = distances[np.argsort(np.abs(distances - preferred), kind="stable")]
    return [start + s * u for s in distances], u


def _layer_names(count: int) -> list[str]:
    """The layers' names ("input", "hidden 1", ..., "output"), of the figures and
    the page."""
    if count <= 1:
        return ["neurons"] * count
    hidden = count - 2
    names = ["input"]
    names += (
        ["hidden"] if hidden == 1 else [f"hidden {k}" for k in range(1, hidden + 1)]
    )
    return [*names, "output"]

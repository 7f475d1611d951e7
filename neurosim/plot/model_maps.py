"""Maps over the input plane as plain data: what a network computes (no matplotlib).

A network with two inputs computes a value at every point ``(x1, x2)`` of
the plane; drawn as an image, it shows where the network puts each class
(:func:`decision_map_model`) and what each neuron responds to
(:func:`neuron_maps_model`), the way TensorFlow Playground shows them. The
values are the network's own: its actors compute the whole grid in one
forward wave (:meth:`neurosim.Network.predict`, one message per connection
carrying every grid point), and each neuron's ``y`` is read from what it
recorded (:attr:`neurosim.Trace.internals`). The layers are
:func:`neurosim.graph.generations`.

:mod:`neurosim.plot.mpl_maps` draws these models.

The grid: ``x`` (the first input, ``steps`` values) by ``y`` (the second);
a map is an array of shape ``(steps, steps)`` whose element ``[j, i]`` is the
value at ``(x[i], y[j])``, rows going up the plane (an image drawn with
``origin="lower"``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from neurosim.errors import DataError
from neurosim.graph import generations
from neurosim.plot.labels import _layer_names
from neurosim.trace import Record

__all__ = [
    "DecisionMapModel",
    "NeuronMap",
    "NeuronMapsModel",
    "decision_map_model",
    "neuron_maps_model",
]

Node = Hashable
Array = NDArray[np.float64]

#: The values an activation can take, where they are bounded: a map's colour
#: scale then spans them, the same for every neuron with that activation.
ACTIVATION_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "softmax": (0.0, 1.0)}


@dataclass(frozen=True)
class DecisionMapModel:
    """What :func:`neurosim.plot.decision_map` draws; made by
    :func:`decision_map_model`.

    Attributes
    ----------
    inputs : tuple
        The two input nodes: the plane's horizontal and vertical axes.
    outputs : tuple
        The output neurons, one column each of `values`.
    x, y : ndarray, shape (steps,)
        The grid's coordinates.
    values : ndarray, shape (steps, steps, n_outputs)
        The network's outputs at every grid point (``[j, i]`` at
        ``(x[i], y[j])``).
    predicted : ndarray of int64, shape (steps, steps)
        The class at each grid point: the largest output's index with
        several outputs; with one, 1 where the output is at least
        `threshold`, else 0.
    confidence : ndarray, shape (steps, steps)
        With several outputs, the largest output's value (the shading); with
        one, the output itself.
    threshold : float or None
        One output: the value between the classes (a contour); None with
        several.
    value_range : tuple of float
        The colour scale's ends: the output activation's range when it is
        bounded (sigmoid 0 to 1, tanh −1 to 1), else that of the values.
    points : ndarray, shape (n, 2)
        The data drawn on top (possibly none).
    labels : ndarray of int64 or None
        Their classes; None when not given.
    point_predicted : ndarray of int64, shape (n,)
        The class the network gives each point (as `predicted`).
    class_names : tuple of str
        One per class: ``n_outputs`` of them, or 2 with one output.
    """

    inputs: tuple[Node, Node]
    outputs: tuple[Node, ...]
    x: Array
    y: Array
    values: Array
    predicted: NDArray[np.int64]
    confidence: Array
    threshold: float | None
    value_range: tuple[float, float]
    points: Array
    labels: NDArray[np.int64] | None
    point_predicted: NDArray[np.int64]
    class_names: tuple[str, ...]

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(x0, x1, y0, y1)``: the first and last grid coordinates."""
        return _extent_of(self.x, self.y)

    @property
    def accuracy(self) -> float | None:
        """The fraction of `points` whose class the network gives; None
        without labels or points."""
        if self.labels is None or len(self.labels) == 0:
            return None
        return float(np.mean(self.point_predicted == self.labels))

    def __repr__(self) -> str:
        return (
            f"<DecisionMapModel: {len(self.x)}×{len(self.y)} grid, "
            f"{len(self.outputs)} output{'s' * (len(self.outputs) != 1)}, "
            f"{len(self.class_names)} classes, {len(self.points)} points>"
        )


@dataclass(frozen=True)
class NeuronMap:
    """One node's map: its value at every point of the grid.

    Attributes
    ----------
    node : hashable
        The node (an input's map is its own coordinate).
    layer : int
        Its index in :attr:`NeuronMapsModel.layers` (0: the inputs).
    row : int
        Its position within the layer, from the top.
    activation : str
        Its activation's name; ``"input"`` for an input.
    values : ndarray, shape (steps, steps)
        Its output ``y`` over the grid (``[j, i]`` at ``(x[i], y[j])``).
    value_range : tuple of float
        The colour scale's ends: the activation's range where it is bounded
        (:data:`ACTIVATION_RANGES`), else ``±`` the largest ``|y|`` on the grid.
    bounded : bool
        Whether `value_range` is the activation's (the same for every neuron
        with it) rather than this map's own.
    """

    node: Node
    layer: int
    row: int
    activation: str
    values: Array
    value_range: tuple[float, float]
    bounded: bool

    @property
    def centre(self) -> float:
        """The middle of the colour scale (drawn white)."""
        return (self.value_range[0] + self.value_range[1]) / 2

    def __repr__(self) -> str:
        lo, hi = self.value_range
        return (
            f"<NeuronMap {self.node!r}: layer {self.layer}, row {self.row}, "
            f"{self.activation}, range {lo:g} to {hi:g}>"
        )


@dataclass(frozen=True)
class NeuronMapsModel:
    """What :func:`neurosim.plot.neuron_maps` draws; made by
    :func:`neuron_maps_model`.

    Attributes
    ----------
    inputs : tuple
        The two input nodes: the plane's horizontal and vertical axes.
    x, y : ndarray, shape (steps,)
        The grid's coordinates.
    layers : tuple of tuples
        The nodes by layer (:func:`neurosim.graph.generations`), inputs first.
    layer_names : tuple of str
        ``"input"``, ``"hidden 1"``, …, ``"output"``, as the other figures.
    maps : tuple of NeuronMap
        One per node, layer by layer, in the order of `layers`.
    weights : dict
        ``{(u, v): w}``: the connections, for lines between the maps.
    points : ndarray, shape (n, 2)
        Data to draw on the output maps (possibly none).
    labels : ndarray of int64 or None
        Their classes.
    """

    inputs: tuple[Node, Node]
    x: Array
    y: Array
    layers: tuple[tuple[Node, ...], ...]
    layer_names: tuple[str, ...]
    maps: tuple[NeuronMap, ...]
    weights: dict[tuple[Node, Node], float]
    points: Array
    labels: NDArray[np.int64] | None

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(x0, x1, y0, y1)``: the first and last grid coordinates."""
        return _extent_of(self.x, self.y)

    def map(self, node: Node) -> NeuronMap:
        """The map of `node`; a ``KeyError`` for a node not in the network."""
        for m in self.maps:
            if m.node == node:
                return m
        raise KeyError(node)

    def __repr__(self) -> str:
        sizes = "-".join(str(len(layer)) for layer in self.layers)
        return (
            f"<NeuronMapsModel: {sizes} network, {len(self.x)}×{len(self.y)} "
            f"grid, {len(self.maps)} maps>"
        )


def _extent_of(x: Array, y: Array) -> tuple[float, float, float, float]:
    return float(x[0]), float(x[-1]), float(y[0]), float(y[-1])


def _check_plane(net: Any, what: str) -> tuple[Node, Node]:
    """The two inputs of `net`; a DataError naming the count otherwise."""
    inputs = tuple(net.inputs)
    if len(inputs) != 2:
        raise DataError(
            f"{what} draws the plane of two inputs; this network has "
            f"{len(inputs)} input{'s' * (len(inputs) != 1)} "
            f"({', '.join(map(str, inputs))})"
        )
    return inputs  # type: ignore[return-value]


def _check_points(
    X: ArrayLike | None, labels: ArrayLike | None, n_classes: int | None, what: str
) -> tuple[Array, NDArray[np.int64] | None]:
    if X is None:
        if labels is not None:
            raise DataError(f"{what}: labels were given without the points X")
        return np.empty((0, 2)), None
    points = np.array(X, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise DataError(
            f"{what}: X must have shape (n_samples, 2), one column per input; "
            f"got shape {points.shape}"
        )
    if not np.all(np.isfinite(points)):
        raise DataError(f"{what}: X holds a value that is not finite")
    if labels is None:
        return points, None
    raw = np.asarray(labels)
    if raw.ndim != 1 or len(raw) != len(points):
        raise DataError(
            f"{what}: labels must be one class per point, shape ({len(points)},); "
            f"got shape {raw.shape} (for one-hot targets Z, pass Z.argmax(axis=1))"
        )
    if raw.dtype == bool or not np.issubdtype(raw.dtype, np.number):
        raise DataError(f"{what}: labels must be class numbers 0, 1, …")
    classes = raw.astype(np.int64)
    if not np.array_equal(classes, raw) or (len(classes) and classes.min() < 0):
        raise DataError(f"{what}: labels must be whole numbers >= 0 (class numbers)")
    if n_classes is not None and len(classes) and classes.max() >= n_classes:
        raise DataError(
            f"{what}: label {int(classes.max())} is not a class of this network, "
            f"which has {n_classes} classes (0 to {n_classes - 1})"
        )
    return points, classes


def _grid_axes(
    points: Array,
    extent: Sequence[float] | None,
    steps: int,
    margin: float,
    what: str,
) -> tuple[Array, Array]:
    """The grid's coordinates: `extent`, or the points' box plus `margin`."""
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 2:
        raise DataError(f"{what}: steps must be an integer >= 2, got {steps!r}")
    if extent is not None:
        box = np.asarray(extent, dtype=np.float64)
        if (
            box.shape != (4,)
            or not np.all(np.isfinite(box))
            or box[0] >= box[1]
            or box[2] >= box[3]
        ):
            raise DataError(
                f"{what}: extent must be (x0, x1, y0, y1) with x0 < x1 and "
                f"y0 < y1, got {extent!r}"
            )
        x0, x1, y0, y1 = box.tolist()
    else:
        if len(points) == 0:
            raise DataError(
                f"{what}: give the data X or an extent (x0, x1, y0, y1): "
                "the map needs to know which part of the plane to show"
            )
        if not (isinstance(margin, int | float) and math.isfinite(margin)) or (
            margin < 0
        ):
            raise DataError(f"{what}: margin must be a number >= 0, got {margin!r}")
        low, high = points.min(axis=0), points.max(axis=0)
        # The same margin on both axes, a share of the larger span, so that
        # the points keep their distance from every edge.
        pad = margin * max(float((high - low).max()), 1e-9)
        pad = pad if pad > 0 else 1.0
        (x0, y0), (x1, y1) = low - pad, high + pad
    return np.linspace(x0, x1, int(steps)), np.linspace(y0, y1, int(steps))


def _grid_points(x: Array, y: Array) -> Array:
    """The grid as samples: row ``j * len(x) + i`` is ``(x[i], y[j])``."""
    x1, x2 = np.meshgrid(x, y)
    return np.column_stack([x1.ravel(), x2.ravel()])


def _activation_name(net: Any, node: Node) -> str:
    """A name, or an :class:`~neurosim.Activation` object's name."""
    activation = net.topology.activations[node]
    return activation if isinstance(activation, str) else str(activation.name)


def _value_range(activation: str, values: Array) -> tuple[tuple[float, float], bool]:
    if activation in ACTIVATION_RANGES:
        return ACTIVATION_RANGES[activation], True
    finite = values[np.isfinite(values)]
    top = float(np.abs(finite).max()) if finite.size else 0.0
    top = top if top > 0 else 1.0
    return (-top, top), False


def decision_map_model(
    net: Any,
    X: ArrayLike | None = None,
    labels: ArrayLike | None = None,
    *,
    extent: Sequence[float] | None = None,
    steps: int = 150,
    margin: float = 0.1,
    threshold: float = 0.5,
    class_names: Sequence[str] | None = None,
) -> DecisionMapModel:
    """The network's output over the input plane, and the class it gives.

    Parameters
    ----------
    net : Network
        A network with two inputs; it is not changed.
    X : array_like, shape (n, 2), optional
        Data points: the grid covers them (with `margin`) unless `extent`
        is given.
    labels : array_like of int, shape (n,), optional
        The class of each point: a column index of the outputs (e.g.
        ``data.labels`` of :mod:`neurosim.datasets`), or 0/1 with one output.
    extent : (x0, x1, y0, y1), optional
        The part of the plane to show.
    steps : int
        Grid points along each axis.
    margin : float
        Around the data, as a share of its larger span.
    threshold : float
        With one output, the value between class 0 and class 1 (0.5 for 0/1
        targets).
    class_names : sequence of str, optional
        By default ``"class 0"``, ``"class 1"``, …

    Returns
    -------
    DecisionMapModel

    Raises
    ------
    DataError
        The network has not two inputs, or a bad `X`, `labels`, `extent`,
        `steps` or `class_names`.

    Examples
    --------
    >>> import neurosim
    >>> from neurosim.plot import decision_map_model
    >>> net = neurosim.Network(
    ...     neurosim.layered([2, 1], weights=[[[1.0], [0.0]]], activation="identity")
    ... )
    >>> model = decision_map_model(net, extent=(-1, 1, -1, 1), steps=3)
    >>> model.values[:, :, 0]  # the output is x1: it grows to the right
    array([[-1.,  0.,  1.],
           [-1.,  0.,  1.],
           [-1.,  0.,  1.]])
    >>> model.predicted  # class 1 where the output is at least 0.5
    array([[0, 0, 1],
           [0, 0, 1],
           [0, 0, 1]])
    """
    what = "decision_map"
    inputs = _check_plane(net, what)
    outputs = tuple(net.outputs)
    n_classes = max(len(outputs), 2)
    points, classes = _check_points(X, labels, n_classes, what)
    x, y = _grid_axes(points, extent, steps, margin, what)
    if not (isinstance(threshold, int | float) and math.isfinite(threshold)):
        raise DataError(f"{what}: threshold must be a finite number, got {threshold!r}")
    names = _class_names(class_names, n_classes, what)
    grid = _grid_points(x, y)
    # One wave for the grid (the values are the actors'), one for the points:
    # the map is then bit for bit ``net.predict(grid)`` (numpy's vector loops
    # may differ in the last bit when the batch holds other samples too).
    grid_out = net.predict(grid, batch_size=len(grid))
    point_out = (
        net.predict(points, batch_size=len(points))
        if len(points)
        else np.empty((0, len(outputs)))
    )
    values = grid_out.reshape(len(y), len(x), len(outputs))
    if len(outputs) == 1:
        predicted = (values[:, :, 0] >= threshold).astype(np.int64)
        confidence = values[:, :, 0]
        point_predicted = (point_out[:, 0] >= threshold).astype(np.int64)
        kept: float | None = float(threshold)
    else:
        predicted = values.argmax(axis=2).astype(np.int64)
        confidence = values.max(axis=2)
        point_predicted = point_out.argmax(axis=1).astype(np.int64)
        kept = None
    activations = {_activation_name(net, o) for o in outputs}
    activation = activations.pop() if len(activations) == 1 else ""
    value_range, _ = _value_range(activation, values)
    if kept is not None and not value_range[0] < kept < value_range[1]:
        low, high = min(value_range[0], kept - 1.0), max(value_range[1], kept + 1.0)
        value_range = (low, high)
    return DecisionMapModel(
        inputs=inputs,
        outputs=outputs,
        x=x,
        y=y,
        values=values,
        predicted=predicted,
        confidence=confidence,
        threshold=kept,
        value_range=(float(value_range[0]), float(value_range[1])),
        points=points,
        labels=classes,
        point_predicted=point_predicted,
        class_names=names,
    )


def _class_names(
    class_names: Sequence[str] | None, n_classes: int, what: str
) -> tuple[str, ...]:
    if class_names is None:
        return tuple(f"class {k}" for k in range(n_classes))
    names = tuple(str(name) for name in class_names)
    if len(names) != n_classes:
        raise DataError(
            f"{what}: class_names must name the {n_classes} classes, got "
            f"{len(names)}: {names!r}"
        )
    return names


def neuron_maps_model(
    net: Any,
    X: ArrayLike | None = None,
    labels: ArrayLike | None = None,
    *,
    extent: Sequence[float] | None = None,
    steps: int = 100,
    margin: float = 0.1,
) -> NeuronMapsModel:
    """What every neuron of a network computes over the input plane, by layer.

    The network's actors compute the grid in one forward wave, recording
    what each neuron computed (``record=Record(kinds="internals")``); each
    map is a neuron's ``y`` there. The inputs' maps are their coordinates.

    Parameters
    ----------
    net : Network
        A network with two inputs. It is not changed: its
        :attr:`~neurosim.Network.last_trace` is left as it was.
    X : array_like, shape (n, 2), optional
        Data points: the grid covers them (with `margin`) unless `extent`
        is given.
    labels : array_like of int, shape (n,), optional
        Their classes, to colour them on the output maps.
    extent : (x0, x1, y0, y1), optional
        The part of the plane to show; needed without `X`.
    steps : int
        Grid points along each axis.
    margin : float
        Around the data, as a share of its larger span.

    Returns
    -------
    NeuronMapsModel

    Raises
    ------
    DataError
        The network has not two inputs, neither `X` nor `extent` was given,
        or a bad `X`, `labels`, `extent` or `steps`.

    Examples
    --------
    >>> import neurosim
    >>> from neurosim.plot import neuron_maps_model
    >>> net = neurosim.Network(neurosim.layered([2, 3, 1], seed=0))
    >>> model = neuron_maps_model(net, extent=(-1, 1, -1, 1), steps=5)
    >>> model.layers
    (('i1', 'i2'), ('h1', 'h2', 'h3'), ('o1',))
    >>> model.map("h2")
    <NeuronMap 'h2': layer 1, row 1, sigmoid, range 0 to 1>
    >>> o1 = model.map("o1").values  # rows up the plane, columns to the right
    >>> o1.shape, bool(abs(o1[2, 4] - net.predict([[1.0, 0.0]])[0, 0]) < 1e-15)
    ((5, 5), True)
    """
    what = "neuron_maps"
    inputs = _check_plane(net, what)
    n_classes = max(len(net.outputs), 2)
    points, classes = _check_points(X, labels, n_classes, what)
    x, y = _grid_axes(points, extent, steps, margin, what)
    grid = _grid_points(x, y)
    shape = (len(y), len(x))
    computed = _neuron_values(net, grid)
    G = net.to_graph()
    layers = tuple(tuple(layer) for layer in generations(G))
    maps = []
    for k, layer in enumerate(layers):
        for row, node in enumerate(layer):
            if node in inputs:
                values = grid[:, inputs.index(node)].reshape(shape)
                activation = "input"
                value_range, bounded = _value_range(activation, values)
            else:
                values = computed[node].reshape(shape)
                activation = _activation_name(net, node)
                value_range, bounded = _value_range(activation, values)
            maps.append(
                NeuronMap(node, k, row, activation, values, value_range, bounded)
            )
    return NeuronMapsModel(
        inputs=inputs,
        x=x,
        y=y,
        layers=layers,
        layer_names=tuple(_layer_names(len(layers))),
        maps=tuple(maps),
        weights=dict(net.weights),
        points=points,
        labels=classes,
    )


def _neuron_values(net: Any, grid: Array) -> dict[Node, Array]:
    """Each neuron's ``y`` at every grid point, as its actor computed it."""
    before = net.last_trace
    try:
        net.predict(grid, batch_size=len(grid), record=Record(kinds="internals"))
        internals = net.last_trace.internals
    finally:
        net.last_trace = before
    values = {}
    for node, y in zip(internals.neuron, internals.y, strict=True):
        values[node] = np.asarray(y, dtype=np.float64).reshape(len(grid))
    return values

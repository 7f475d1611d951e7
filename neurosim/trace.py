"""The record of a simulation: every message and every parameter update.

A :class:`Trace` holds two tables as parallel numpy arrays, in the style of
Brian2's ``SpikeMonitor``: one row per message (``epoch``, ``sample``,
``kind``, ``source``, ``destination``, ``sent_at``, ``received_at``,
``value``) and, in :attr:`Trace.updates`, one row per changed parameter
(``epoch``, ``sample``, ``neuron``, ``source``, ``old``, ``new``, ``time``).
The engine builds it with :meth:`Trace.from_rows`; users filter it, export it
to CSV or JSON Lines and read it back bit for bit.

Rows are sorted so that a trace is identical from run to run: messages by
epoch, sample, send time, kind (forward, backward, feedback, softmax), then
the node order of the source and of the destination; updates by epoch, sample, time,
then the node order of the neuron and of the predecessor (the bias last).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from neurosim._files import atomic_write
from neurosim.errors import DataError, NetworkError
from neurosim.graph import generations
from neurosim.messages import FATES, KINDS

__all__ = [
    "CSV_COLUMNS",
    "CSV_STEP_COLUMNS",
    "FATES",
    "KINDS",
    "MAX_ITERATION",
    "MAX_JSON_DEPTH",
    "MAX_LINE_BYTES",
    "MAX_TIME",
    "InternalsTable",
    "Record",
    "Trace",
    "UpdateTable",
]

# KINDS (from neurosim.messages, the one table of message kinds) are in their
# sort order. ``"feedback"`` is a message a direct-feedback rule sends from an
# output straight to a hidden neuron; ``"softmax"`` an output's e sent to the
# other outputs of its softmax group. FATES says what became of a message.
_FATE_CODE = {fate: code for code, fate in enumerate(FATES)}
_FATE_NAMES = np.array(FATES, dtype=object)
_KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
_KIND_NAMES = np.array(KINDS, dtype=object)
# The other tables, by the names that Record(kinds=...) and filter(kind=...) use.
_TABLES = ("update", "internals")

#: The columns of the CSV file, in order. A trace with lost, duplicated or
#: late messages has one more, ``"fate"`` (empty on update rows); a trace
#: with internals or gradients then has :data:`CSV_STEP_COLUMNS`.
CSV_COLUMNS: tuple[str, ...] = (
    "record",
    "epoch",
    "sample",
    "kind",
    "source",
    "destination",
    "sent_at",
    "received_at",
    "value",
    "old",
)

#: The columns a CSV file has after :data:`CSV_COLUMNS` (and ``"fate"``) when
#: its trace holds internals or gradients: the gradient of an update row, and
#: what an internals row's neuron computed besides ``y`` (in ``value``).
CSV_STEP_COLUMNS: tuple[str, ...] = ("gradient", "e", "fprime", "delta", "g", "version")
_MESSAGE_FIELDS = (
    "epoch",
    "sample",
    "kind",
    "source",
    "destination",
    "sent_at",
    "received_at",
    "value",
)
_UPDATE_FIELDS = (
    "epoch",
    "sample",
    "neuron",
    "source",
    "old",
    "new",
    "time",
    "gradient",
)
_INTERNAL_FIELDS = (
    "epoch",
    "sample",
    "neuron",
    "e",
    "y",
    "fprime",
    "delta",
    "g",
    "version",
    "forward_at",
    "backward_at",
)
_INTERNAL_VALUES = ("e", "y", "fprime", "delta", "g")
_JSONL_FORMAT = "neurosim-trace"
# 3: internals rows and gradients; 2: the file ends with an end line; 1 (no
# end line) is read too
_JSONL_VERSION = 3
_INTEGER_CELL = re.compile(r"-?[0-9]+")

# What the readers accept, so that a damaged or hostile file is a DataError
# and never a hang, a memory blow-up or a RecursionError.

#: The longest line the readers take, in bytes (a line of ``/dev/zero`` is
#: refused after this many).
MAX_LINE_BYTES = 64 * 2**20
#: The deepest JSON nesting the readers take (a trace needs 2).
MAX_JSON_DEPTH = 16
#: The largest epoch or sample number of a trace (epochs and samples are
#: integers from 0 to this).
MAX_ITERATION = 2**31 - 1
#: The largest virtual time of a trace, in absolute value: times are finite
#: and within ``±2**53``, beyond which float64 no longer holds every integer
#: (and a plot's arithmetic overflows).
MAX_TIME = 2.0**53
# The end lines, as their first bytes (how a reader knows one) and in full.
_CSV_END = b"# end: "
_JSONL_END = b'{"record": "end", '

Value = float | NDArray[np.float64]


class Record:
    """What a run records, chosen before it starts (Brian2's monitors do so).

    ``record=True`` keeps every message and update; ``record=Record(...)``
    keeps those that match every given criterion, and the others cost nothing.
    Each criterion takes one value or a collection; ``None`` matches all.

    Parameters
    ----------
    kinds : str or collection, optional
        Message kinds (:data:`KINDS`), ``"update"`` and/or ``"internals"``;
        updates are kept only when ``"update"`` is among them, what each
        neuron computed (:attr:`Trace.internals`) only when ``"internals"``
        is (or `kinds` is None).
    neurons : node or collection, optional
        Messages sent or received by these nodes, their updates and
        internals.
    samples, epochs : int or collection, optional
        The iterations: ``sample`` is the index within the epoch (the batch's
        index in mini-batch training), as in :attr:`Trace.sample`.

    Examples
    --------
    >>> import neurosim
    >>> net = neurosim.Network(neurosim.layered([2, 2, 1], seed=0))
    >>> X, Z = [[0.0, 1.0]] * 4, [[1.0]] * 4
    >>> trace = net.train(X, Z, epochs=3, record=neurosim.Record(epochs=2)).trace
    >>> trace.iterations()
    [(2, 0), (2, 1), (2, 2), (2, 3)]
    >>> neurosim.Record(kinds="backward", neurons=["h1"])
    Record(kinds=('backward',), neurons=('h1',))
    """

    def __init__(
        self,
        kinds: Any = None,
        neurons: Any = None,
        samples: Any = None,
        epochs: Any = None,
    ):
        self.kinds = None if kinds is None else tuple(_as_set(kinds))
        self.neurons = None if neurons is None else tuple(_as_set(neurons))
        self.samples = None if samples is None else tuple(_as_set(samples))
        self.epochs = None if epochs is None else tuple(_as_set(epochs))
        if self.kinds is not None:
            unknown = [
                k for k in self.kinds if k not in _KIND_CODE and k not in _TABLES
            ]
            if unknown:
                raise DataError(
                    f"Record: unknown kind {unknown[0]!r}; use one of "
                    f"{[*KINDS, *_TABLES]!r}"
                )
        for name in ("samples", "epochs"):
            values = getattr(self, name)
            if values is not None and not all(
                isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 0
                for v in values
            ):
                raise DataError(f"Record: {name} must be integers >= 0, got {values!r}")

    def wants_kind(self, code: int) -> bool:
        """Whether messages of kind ``KINDS[code]`` are recorded."""
        return self.kinds is None or KINDS[code] in self.kinds

    @property
    def wants_updates(self) -> bool:
        """Whether updates are recorded."""
        return self.kinds is None or "update" in self.kinds

    @property
    def wants_internals(self) -> bool:
        """Whether what each neuron computed is recorded."""
        return self.kinds is None or "internals" in self.kinds

    def wants_iteration(self, epoch: int, sample: int) -> bool:
        """Whether iteration ``(epoch, sample)`` is recorded."""
        return (self.epochs is None or epoch in self.epochs) and (
            self.samples is None or sample in self.samples
        )

    def __repr__(self) -> str:
        shown = [
            f"{name}={getattr(self, name)!r}"
            for name in ("kinds", "neurons", "samples", "epochs")
            if getattr(self, name) is not None
        ]
        return f"Record({', '.join(shown)})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Record and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]


def _object_array(items: Sequence[Any]) -> NDArray[np.object_]:
    """A 1-D object array of ``items`` (never broadcast into more dimensions)."""
    array = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        array[i] = item
    return array


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _as_set(selection: Any) -> list[Any]:
    """A single value or a collection of values, as a list."""
    if isinstance(selection, (str, bytes)) or not isinstance(selection, Iterable):
        return [selection]
    if isinstance(selection, np.ndarray) and selection.ndim == 0:
        return [selection.item()]
    return list(selection)


def _is_scalar_type(t: type) -> bool:
    return issubclass(t, (float, int, np.floating, np.integer)) and not issubclass(
        t, (bool, np.bool_)
    )


def _is_scalar(value: object) -> bool:
    return _is_scalar_type(type(value))


class _Table:
    """Parallel read-only arrays over a node order, one element per row.

    ``_ARRAYS`` names the constructor's arrays in order, ``_FIELDS`` the
    columns of :meth:`rows` and :meth:`to_dataframe`.
    """

    _ARRAYS: tuple[str, ...]
    _FIELDS: tuple[str, ...]
    neuron_index: NDArray[np.intp]

    def __init__(self, nodes: tuple[Hashable, ...], *arrays: NDArray[Any]):
        self.nodes = nodes
        for name, array in zip(self._ARRAYS, arrays, strict=True):
            setattr(self, name, _readonly(array))

    # The name columns are built on first use: a large trace is mostly
    # plotted through the integer indices.
    @cached_property
    def neuron(self) -> NDArray[np.object_]:
        """The neuron of each row."""
        return _readonly(_object_array(self.nodes)[self.neuron_index])

    def __len__(self) -> int:
        return len(self.neuron_index)

    def _take(self, keep: NDArray[np.bool_] | NDArray[np.intp]) -> Any:
        return type(self)(self.nodes, *(getattr(self, n)[keep] for n in self._ARRAYS))

    def rows(self) -> list[tuple[Any, ...]]:
        """The rows as the tuples :meth:`Trace.from_rows` takes.

        In the order of the table's fields, with Python scalars (1-D arrays
        for the values of a mini-batch).
        """
        columns = [
            column.tolist() if column.dtype != object else list(column)
            for column in (getattr(self, name) for name in self._FIELDS)
        ]
        return list(zip(*columns, strict=True))

    def to_dataframe(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (pandas is imported here)."""
        pd = _import_pandas()
        return pd.DataFrame({name: getattr(self, name) for name in self._FIELDS})


class UpdateTable(_Table):
    """The parameter updates of a :class:`Trace`, as parallel arrays.

    One row per changed parameter: a weight (``source`` is the predecessor
    whose connection changed) or a bias (``source`` is ``None``).

    Attributes
    ----------
    epoch, sample : ndarray of int64
        The iteration the update belongs to.
    neuron : ndarray of object
        The neuron whose parameter changed (the connection's destination).
    source : ndarray of object
        The predecessor of the connection, ``None`` for the bias.
    old, new : ndarray of float64
        The parameter before and after the update.
    time : ndarray of float64
        Virtual time of the update.
    gradient : ndarray of float64
        The gradient of the loss with respect to the parameter that the
        neuron handed to its optimizer (``∂L/∂w``, the batch mean in
        mini-batch training); NaN where it is not known (a trace read from a
        file written before neurosim recorded it).
    neuron_index, source_index : ndarray of intp
        Positions in :attr:`Trace.nodes` (``source_index`` is -1 for a bias);
        handy as y coordinates of a raster plot.
    """

    epoch: NDArray[np.int64]
    sample: NDArray[np.int64]
    old: NDArray[np.float64]
    new: NDArray[np.float64]
    time: NDArray[np.float64]
    neuron_index: NDArray[np.intp]
    source_index: NDArray[np.intp]

    gradient: NDArray[np.float64]

    _ARRAYS = (
        "epoch",
        "sample",
        "neuron_index",
        "source_index",
        "old",
        "new",
        "time",
        "gradient",
    )
    _FIELDS = _UPDATE_FIELDS  # rows(): (epoch, sample, neuron, source, old,
    # new, time, gradient)

    def __init__(
        self,
        nodes: tuple[Hashable, ...],
        epoch: NDArray[np.int64],
        sample: NDArray[np.int64],
        neuron_index: NDArray[np.intp],
        source_index: NDArray[np.intp],
        old: NDArray[np.float64],
        new: NDArray[np.float64],
        time: NDArray[np.float64],
        gradient: NDArray[np.float64] | None = None,
    ):
        if gradient is None:
            gradient = np.full(len(time), np.nan)
        super().__init__(
            nodes, epoch, sample, neuron_index, source_index, old, new, time, gradient
        )

    @cached_property
    def source(self) -> NDArray[np.object_]:
        """The predecessor of the connection, ``None`` for a bias."""
        names = _object_array([*self.nodes, None])  # index -1 is the bias
        return _readonly(names[self.source_index])

    def __repr__(self) -> str:
        if len(self) == 0:
            return "<UpdateTable: no updates>"
        biases = int(np.count_nonzero(self.source_index < 0))
        return (
            f"<UpdateTable: {len(self)} updates ({len(self) - biases} weights, "
            f"{biases} biases) of {len(np.unique(self.neuron_index))} neurons, "
            f"virtual time {self.time.min():g} to {self.time.max():g}>"
        )


class InternalsTable(_Table):
    """What each neuron computed, one row per neuron and iteration.

    The forward step's ``e = Σ w·y + b``, ``y = f(e)`` and ``f'(e)``; the
    backward step's ``δ`` (what arrived, plus ``z − y`` at an output) and
    ``g = δ·f'(e)``; which version of its weights the forward step used.
    Input nodes compute nothing and have no rows. The gradient that each
    neuron handed to its optimizer is in :attr:`UpdateTable.gradient`, one
    per parameter.

    Attributes
    ----------
    epoch, sample : ndarray of int64
        The iteration.
    neuron : ndarray of object
        The neuron.
    e, y, fprime, delta, g : ndarray
        float64 online; in mini-batch training an object array of 1-D
        float64 arrays, one element per sample of the batch (as
        :attr:`Trace.value`). ``delta`` and ``g`` are NaN where there was no
        backward step (``predict``).
    version : ndarray of int64
        How many updates of the neuron's parameters came before the weights
        its forward step used: ``k`` for the k-th iteration online, fewer
        when several samples are in flight (``in_flight > 1``).
    forward_at, backward_at : ndarray of float64
        Virtual times of the two steps (``backward_at`` NaN without one).
    neuron_index : ndarray of intp
        Positions in :attr:`Trace.nodes`.

    Examples
    --------
    >>> import neurosim
    >>> net = neurosim.Network(neurosim.layered([1, 1], seed=0))
    >>> trace = net.train([[1.0]], [[0.5]], epochs=1, record=True).trace
    >>> trace.internals
    <InternalsTable: 1 row, 1 neuron, 1 iteration>
    >>> row = trace.internals.rows()[0]
    >>> bool(row[6] == 0.5 - row[4])  # δ = z − y at an output
    True
    """

    epoch: NDArray[np.int64]
    sample: NDArray[np.int64]
    neuron_index: NDArray[np.intp]
    e: NDArray[Any]
    y: NDArray[Any]
    fprime: NDArray[Any]
    delta: NDArray[Any]
    g: NDArray[Any]
    version: NDArray[np.int64]
    forward_at: NDArray[np.float64]
    backward_at: NDArray[np.float64]

    _ARRAYS = ("epoch", "sample", "neuron_index", *_INTERNAL_FIELDS[3:])
    _FIELDS = _INTERNAL_FIELDS  # rows(): (epoch, sample, neuron, e, y, fprime,
    # delta, g, version, forward_at, backward_at)

    @classmethod
    def _empty(cls, nodes: tuple[Hashable, ...]) -> InternalsTable:
        """A table without rows (a trace recorded without internals)."""
        f, i = np.empty(0), np.empty(0, dtype=np.int64)
        return cls(nodes, i, i, i.astype(np.intp), f, f, f, f, f, i, f, f)

    def __repr__(self) -> str:
        if len(self) == 0:
            return "<InternalsTable: no rows>"
        rows = len(self)
        neurons = len(np.unique(self.neuron_index))
        iterations = len(np.unique(_pair_key(self.epoch, self.sample)))
        return (
            f"<InternalsTable: {rows} row{'s' * (rows != 1)}, {neurons} "
            f"neuron{'s' * (neurons != 1)}, {iterations} "
            f"iteration{'s' * (iterations != 1)}>"
        )


class Trace:
    """Every message and parameter update of a simulation, as parallel arrays.

    Build one with :meth:`from_rows` (the engine does), :meth:`read_csv` or
    :meth:`read_jsonl`. ``len(trace)`` is the number of messages.

    Attributes
    ----------
    nodes : tuple
        The network's node order: inputs first, then topological.
    epoch, sample : ndarray of int64
        The iteration of each message (``sample`` is the batch's index in
        mini-batch training), 0-based.
    kind : ndarray of object
        ``"forward"``, ``"backward"``, ``"feedback"`` or ``"softmax"``.
    source, destination : ndarray of object
        Node names.
    source_index, destination_index : ndarray of intp
        The same as positions in :attr:`nodes`.
    sent_at, received_at : ndarray of float64
        Virtual times.
    value : ndarray
        float64 when every value is a number; otherwise (mini-batch training)
        an object array of 1-D float64 arrays, one element per sample of the
        batch.
    updates : UpdateTable
        The parameter updates.
    internals : InternalsTable
        What each neuron computed: ``e``, ``y``, ``f'(e)``, ``δ``, ``g`` and
        the version of its weights, per iteration.

    Examples
    --------
    >>> trace = Trace.from_rows(
    ...     messages=[
    ...         (0, 0, "backward", "y", "x", 1.0, 2.0, -0.5),
    ...         (0, 0, "forward", "x", "y", 0.0, 1.0, 3.0),
    ...     ],
    ...     updates=[
    ...         (0, 0, "y", "x", 0.5, 0.35, 1.0),
    ...         (0, 0, "y", None, 0.0, -0.05, 1.0),
    ...     ],
    ...     nodes=["x", "y"],
    ... )
    >>> trace  # doctest: +NORMALIZE_WHITESPACE
    <Trace: 2 messages (1 forward, 1 backward), 2 updates, 2 nodes,
     1 iteration (epoch 0), virtual time 0 to 2>
    >>> trace.kind
    array(['forward', 'backward'], dtype=object)
    >>> trace.updates.source
    array(['x', None], dtype=object)
    >>> trace.filter(kind="backward").value
    array([-0.5])
    """

    nodes: tuple[Hashable, ...]
    epoch: NDArray[np.int64]
    sample: NDArray[np.int64]
    source_index: NDArray[np.intp]
    destination_index: NDArray[np.intp]
    sent_at: NDArray[np.float64]
    received_at: NDArray[np.float64]
    value: NDArray[Any]
    updates: UpdateTable
    internals: InternalsTable

    def __init__(
        self,
        nodes: tuple[Hashable, ...],
        epoch: NDArray[np.int64],
        sample: NDArray[np.int64],
        kind_code: NDArray[np.int8],
        source_index: NDArray[np.intp],
        destination_index: NDArray[np.intp],
        sent_at: NDArray[np.float64],
        received_at: NDArray[np.float64],
        value: NDArray[Any],
        updates: UpdateTable,
        fate_code: NDArray[np.int8] | None = None,
        internals: InternalsTable | None = None,
    ):
        # Private: use from_rows. The arrays are taken as given (sorted).
        self.nodes = nodes
        self.epoch = _readonly(epoch)
        self.sample = _readonly(sample)
        self._kind_code = _readonly(kind_code)
        self.source_index = _readonly(source_index)
        self.destination_index = _readonly(destination_index)
        self.sent_at = _readonly(sent_at)
        self.received_at = _readonly(received_at)
        self.value = _readonly(value)
        self.updates = updates
        if fate_code is None:
            fate_code = np.zeros(len(sent_at), dtype=np.int8)
        self._fate_code = _readonly(fate_code)
        self.internals = (
            InternalsTable._empty(nodes) if internals is None else internals
        )

    # The name columns are built on first use (see UpdateTable).
    @cached_property
    def kind(self) -> NDArray[np.object_]:
        """``"forward"``, ``"backward"``, ``"feedback"`` or ``"softmax"``."""
        return _readonly(_KIND_NAMES[self._kind_code])

    @cached_property
    def fate(self) -> NDArray[np.object_]:
        """What became of each message: one of :data:`FATES` (``"delivered"``,
        ``"dropped"``, ``"duplicate"`` for the extra copy of a duplicated
        message, ``"late"`` for one that arrived after its deadline)."""
        return _readonly(_FATE_NAMES[self._fate_code])

    @property
    def _faulty(self) -> bool:
        return bool(self._fate_code.any())

    @cached_property
    def source(self) -> NDArray[np.object_]:
        """The sender's name."""
        return _readonly(_object_array(self.nodes)[self.source_index])

    @cached_property
    def destination(self) -> NDArray[np.object_]:
        """The receiver's name."""
        return _readonly(_object_array(self.nodes)[self.destination_index])

    # ------------------------------------------------------------------
    # construction

    @classmethod
    def from_rows(
        cls,
        messages: Iterable[Sequence[Any]],
        updates: Iterable[Sequence[Any]],
        nodes: Iterable[Hashable],
        internals: Iterable[Sequence[Any]] = (),
    ) -> Trace:
        """Build a trace from rows in any order; the rows are sorted.

        Parameters
        ----------
        messages : iterable of tuple
            ``(epoch, sample, kind, source, destination, sent_at, received_at,
            value)``; ``kind`` one of :data:`KINDS`, ``value`` a float or a
            1-D array (a mini-batch).
        updates : iterable of tuple
            ``(epoch, sample, neuron, source, old, new, time)``, ``source``
            ``None`` for a bias, optionally followed by the ``gradient``.
        nodes : iterable
            The network's node order (inputs first, topological); every node
            named in a row must be in it.
        internals : iterable of tuple, optional
            ``(epoch, sample, neuron, e, y, fprime, delta, g, version,
            forward_at, backward_at)`` (see :class:`InternalsTable`); the
            values are floats or 1-D arrays, ``None`` or NaN where unknown.

        Raises
        ------
        DataError
            A row of the wrong length, an unknown node or kind, a value that
            is neither a number nor a 1-D array, an epoch or sample outside
            0 to :data:`MAX_ITERATION`, a time that is not finite or beyond
            :data:`MAX_TIME`.
        """
        nodes = tuple(nodes)
        index = {node: i for i, node in enumerate(nodes)}
        if len(index) != len(nodes):
            raise DataError(f"the node order names a node twice: {list(nodes)!r}")

        messages = list(messages)
        fates = None
        if any(len(row) == 9 for row in messages):  # with a fate column
            fates = [row[8] if len(row) == 9 else "delivered" for row in messages]
            messages = [row[:8] if len(row) == 9 else row for row in messages]
        columns = _columns(messages, 8, "message")
        n = len(columns[0])
        extra = (
            {}
            if fates is None
            else {"fate": _codes(fates, _FATE_CODE, np.int8, "fate")}
        )
        return cls.from_columns(
            nodes,
            {
                "epoch": _iteration_numbers(columns[0], "epoch"),
                "sample": _iteration_numbers(columns[1], "sample"),
                "kind": _codes(columns[2], _KIND_CODE, np.int8, "message kind"),
                "source": _codes(columns[3], index, np.intp, "node"),
                "destination": _codes(columns[4], index, np.intp, "node"),
                "sent_at": np.fromiter(columns[5], dtype=np.float64, count=n),
                "received_at": np.fromiter(columns[6], dtype=np.float64, count=n),
                "value": _values(columns[7]),
                **extra,
            },
            _update_columns(updates, index),
            _internal_columns(internals, index),
        )

    @classmethod
    def from_columns(
        cls,
        nodes: Iterable[Hashable],
        messages: dict[str, NDArray[Any]],
        updates: dict[str, NDArray[Any]],
        internals: dict[str, NDArray[Any]] | None = None,
    ) -> Trace:
        """Build a trace from columns of codes; the rows are sorted.

        The engine's fast path (a recorded run can hold millions of rows).
        ``messages`` maps ``epoch``, ``sample``, ``kind`` (an index into
        :data:`KINDS`), ``source``, ``destination`` (indices into `nodes`),
        ``sent_at``, ``received_at`` and ``value`` (float64, or an object array
        of 1-D arrays) to equally long arrays; ``updates`` maps ``epoch``,
        ``sample``, ``neuron``, ``source`` (indices into `nodes`, ``-1`` for a
        bias), ``old``, ``new``, ``time`` and optionally ``gradient``;
        ``internals`` maps ``epoch``, ``sample``, ``neuron`` (indices into
        `nodes`), ``e``, ``y``, ``fprime``, ``delta``, ``g`` (float64, or
        object arrays of 1-D arrays), ``version``, ``forward_at`` and
        ``backward_at``.

        Examples
        --------
        >>> import numpy as np
        >>> t = Trace.from_columns(
        ...     ["x", "y"],
        ...     {
        ...         "epoch": [0],
        ...         "sample": [0],
        ...         "kind": [0],
        ...         "source": [0],
        ...         "destination": [1],
        ...         "sent_at": [0.0],
        ...         "received_at": [1.0],
        ...         "value": [2.0],
        ...     },
        ...     {
        ...         "epoch": [0],
        ...         "sample": [0],
        ...         "neuron": [1],
        ...         "source": [0],
        ...         "old": [0.5],
        ...         "new": [0.25],
        ...         "time": [1.0],
        ...     },
        ... )
        >>> t.rows()
        [(0, 0, 'forward', 'x', 'y', 0.0, 1.0, 2.0)]
        """
        nodes = tuple(nodes)
        m = {name: np.asarray(column) for name, column in messages.items()}
        epoch = m["epoch"].astype(np.int64)
        sample = m["sample"].astype(np.int64)
        kind = m["kind"].astype(np.int8)
        source = m["source"].astype(np.intp)
        destination = m["destination"].astype(np.intp)
        sent_at = m["sent_at"].astype(np.float64)
        received_at = m["received_at"].astype(np.float64)
        value = m["value"]
        value = value.astype(np.float64) if value.dtype != object else value.copy()
        fate = m["fate"].astype(np.int8) if "fate" in m else None
        _check_columns(
            "message", epoch, sample, sent_at=sent_at, received_at=received_at
        )
        n = len(nodes)
        tiebreak = [received_at] if value.dtype == object else [value, received_at]
        order = _sort_order(
            _pair_key(epoch, sample),
            sent_at,
            (kind.astype(np.int64) * n + source) * n + destination,
            tiebreak,
        )
        u = {name: np.asarray(column) for name, column in updates.items()}
        u_epoch = u["epoch"].astype(np.int64)
        u_sample = u["sample"].astype(np.int64)
        neuron = u["neuron"].astype(np.intp)
        u_source = u["source"].astype(np.intp)
        old = u["old"].astype(np.float64)
        new = u["new"].astype(np.float64)
        time = u["time"].astype(np.float64)
        gradient = (
            u["gradient"].astype(np.float64)
            if "gradient" in u
            else np.full(len(time), np.nan)
        )
        _check_columns("update", u_epoch, u_sample, time=time)
        bias_last = np.where(u_source < 0, n, u_source)  # the bias sorts last
        u_order = _sort_order(
            _pair_key(u_epoch, u_sample), time, neuron * (n + 1) + bias_last, [new, old]
        )
        take = _taker(u_order)  # the columns are copies already (astype)
        table = UpdateTable(
            nodes,
            *map(take, (u_epoch, u_sample, neuron, u_source, old, new, time, gradient)),
        )
        steps = None if internals is None else _internals_table(nodes, internals)
        take = _taker(order)
        return cls(
            nodes,
            *map(
                take,
                (epoch, sample, kind, source, destination, sent_at, received_at, value),
            ),
            table,
            None if fate is None else take(fate),
            steps,
        )

    def rows(self) -> list[tuple[Any, ...]]:
        """The messages as the tuples :meth:`from_rows` takes (Python scalars).

        With lost, duplicated or late messages each tuple ends with its fate.
        """
        value = self.value.tolist() if self.value.dtype != object else list(self.value)
        columns = [
            self.epoch.tolist(),
            self.sample.tolist(),
            self.kind.tolist(),
            self.source.tolist(),
            self.destination.tolist(),
            self.sent_at.tolist(),
            self.received_at.tolist(),
            value,
        ]
        if self._faulty:
            columns.append(self.fate.tolist())
        return list(zip(*columns, strict=True))

    # ------------------------------------------------------------------
    # looking at it

    def __len__(self) -> int:
        return len(self.sent_at)

    def __repr__(self) -> str:
        counts = np.bincount(self._kind_code, minlength=len(KINDS))
        by_kind = ", ".join(
            f"{count} {kind}"
            for kind, count in zip(KINDS, counts, strict=True)
            if count
        )
        messages = f"{len(self)} messages" + (f" ({by_kind})" if by_kind else "")
        if self._faulty:
            fates = np.bincount(self._fate_code, minlength=len(FATES))
            messages += "".join(
                f", {count} {fate}"
                for fate, count in zip(FATES[1:], fates[1:], strict=True)
                if count
            )
        iterations = self.iterations()
        epochs = sorted({epoch for epoch, _ in iterations})
        if not epochs:
            where = "no iterations"
        else:
            span = f"epoch {epochs[0]}" if len(epochs) == 1 else None
            if span is None:
                span = f"epochs {epochs[0]} to {epochs[-1]}"
            plural = "" if len(iterations) == 1 else "s"
            where = f"{len(iterations)} iteration{plural} ({span})"
        start, stop = self.span
        time = "" if math.isnan(start) else f", virtual time {start:g} to {stop:g}"
        internals = f"{len(self.internals)} internals, " if len(self.internals) else ""
        return (
            f"<Trace: {messages}, {len(self.updates)} updates, {internals}"
            f"{len(self.nodes)} nodes, {where}{time}>"
        )

    @property
    def span(self) -> tuple[float, float]:
        """``(first, last)`` virtual time of any message or update (nan if empty)."""
        times = [self.sent_at, self.received_at, self.updates.time]
        nonempty = [t for t in times if len(t)]
        if not nonempty:
            return (math.nan, math.nan)
        return (
            float(min(t.min() for t in nonempty)),
            float(max(t.max() for t in nonempty)),
        )

    def iterations(self) -> list[tuple[int, int]]:
        """The ``(epoch, sample)`` pairs present in the trace, sorted."""
        epoch = np.concatenate([self.epoch, self.updates.epoch])
        sample = np.concatenate([self.sample, self.updates.sample])
        if len(epoch) == 0:
            return []
        width = int(sample.max()) - int(sample.min()) + 1
        base = int(sample.min())
        keys = np.unique((epoch - int(epoch.min())) * width + (sample - base))
        epochs, samples = np.divmod(keys, width)
        epochs += int(epoch.min())
        samples += base
        return list(zip(epochs.tolist(), samples.tolist(), strict=True))

    def layers(self) -> list[list[Hashable]]:
        """The nodes in topological generations, from the messages alone.

        A connection ``u -> v`` is known from a forward message ``u -> v`` or
        a backward message ``v -> u``; feedback messages are ignored. Layer 0
        holds the nodes without incoming connections (the inputs), layer k the
        nodes whose longest path from an input has k connections
        (``networkx.topological_generations``). Within a layer nodes follow
        :attr:`nodes`. Nodes in no connection are left out, unless the trace
        has no connection at all: then every node forms one layer.

        Examples
        --------
        >>> trace = Trace.from_rows(
        ...     [
        ...         (0, 0, "forward", "a", "h", 0.0, 1.0, 1.0),
        ...         (0, 0, "forward", "h", "o", 1.0, 2.0, 1.0),
        ...         (0, 0, "forward", "a", "o", 0.0, 1.0, 1.0),
        ...     ],
        ...     [],
        ...     ["a", "h", "o"],
        ... )
        >>> trace.layers()
        [['a'], ['h'], ['o']]
        """
        n = len(self.nodes)
        forward = self._kind_code == _KIND_CODE["forward"]
        backward = self._kind_code == _KIND_CODE["backward"]
        u = np.concatenate(
            [self.source_index[forward], self.destination_index[backward]]
        )
        v = np.concatenate(
            [self.destination_index[forward], self.source_index[backward]]
        )
        if len(u) == 0:
            return [list(self.nodes)] if n else []
        edges = np.unique(u * n + v)
        u, v = np.divmod(edges, n)
        present = np.zeros(n, dtype=bool)
        present[u] = True
        present[v] = True
        G = nx.DiGraph()
        G.add_nodes_from(np.flatnonzero(present).tolist())  # in trace order
        G.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
        try:
            layers = generations(G)
        except NetworkError:
            raise DataError("the trace's connections contain a cycle") from None
        return [[self.nodes[i] for i in layer] for layer in layers]

    # ------------------------------------------------------------------
    # selecting

    def filter(
        self,
        neuron: Any = None,
        kind: Any = None,
        epoch: Any = None,
        sample: Any = None,
        start: float | None = None,
        stop: float | None = None,
        fate: Any = None,
    ) -> Trace:
        """The rows that match every given criterion, as a new trace.

        ``neuron``, ``kind``, ``epoch`` and ``sample`` each take a single
        value or a collection of values (any of which matches); ``None``
        matches everything.

        Parameters
        ----------
        neuron : node name or collection, optional
            A message matches when its source or destination is one of them,
            an update or internals row when its ``neuron`` is.
        kind : str or collection, optional
            Message kinds (:data:`KINDS`), ``"update"`` and/or
            ``"internals"``. Updates are kept only when ``"update"`` is among
            them and internals only when ``"internals"`` is, so
            ``filter(kind="forward")`` has neither and
            ``filter(kind="update")`` no messages.
        epoch, sample : int or collection, optional
            The iteration.
        start, stop : float, optional
            A window of virtual time, ``start <= t < stop``, on ``received_at``
            for messages, on ``time`` for updates and on ``forward_at`` for
            internals.
        fate : str or collection, optional
            Messages whose fate is one of them (:data:`FATES`); updates and
            internals are kept.

        Raises
        ------
        DataError
            An unknown neuron, kind or fate.
        """
        keep = np.ones(len(self), dtype=bool)
        keep_updates = np.ones(len(self.updates), dtype=bool)
        updates, internals = self.updates, self.internals
        keep_internals = np.ones(len(internals), dtype=bool)
        if neuron is not None:
            index = {node: i for i, node in enumerate(self.nodes)}
            try:
                wanted = np.array([index[v] for v in _as_set(neuron)], dtype=np.intp)
            except (KeyError, TypeError):
                unknown = [v for v in _as_set(neuron) if v not in self.nodes]
                raise DataError(
                    f"unknown neuron {unknown[0]!r}; the nodes are {list(self.nodes)!r}"
                ) from None
            keep &= np.isin(self.source_index, wanted) | np.isin(
                self.destination_index, wanted
            )
            keep_updates &= np.isin(updates.neuron_index, wanted)
            keep_internals &= np.isin(internals.neuron_index, wanted)
        if kind is not None:
            kinds = _as_set(kind)
            unknown = [k for k in kinds if k not in _KIND_CODE and k not in _TABLES]
            if unknown:
                raise DataError(
                    f"unknown kind {unknown[0]!r}; use one of {[*KINDS, *_TABLES]!r}"
                )
            codes = [_KIND_CODE[k] for k in kinds if k in _KIND_CODE]
            keep &= np.isin(self._kind_code, codes)
            if "update" not in kinds:
                keep_updates[:] = False
            if "internals" not in kinds:
                keep_internals[:] = False
        if epoch is not None:
            epochs = _as_set(epoch)
            keep &= np.isin(self.epoch, epochs)
            keep_updates &= np.isin(updates.epoch, epochs)
            keep_internals &= np.isin(internals.epoch, epochs)
        if sample is not None:
            samples = _as_set(sample)
            keep &= np.isin(self.sample, samples)
            keep_updates &= np.isin(updates.sample, samples)
            keep_internals &= np.isin(internals.sample, samples)
        if start is not None:
            keep &= self.received_at >= start
            keep_updates &= updates.time >= start
            keep_internals &= internals.forward_at >= start
        if stop is not None:
            keep &= self.received_at < stop
            keep_updates &= updates.time < stop
            keep_internals &= internals.forward_at < stop
        if fate is not None:
            fates = _as_set(fate)
            unknown = [f for f in fates if f not in _FATE_CODE]
            if unknown:
                raise DataError(
                    f"unknown fate {unknown[0]!r}; use one of {list(FATES)!r}"
                )
            keep &= np.isin(self._fate_code, [_FATE_CODE[f] for f in fates])
        return Trace(
            self.nodes,
            self.epoch[keep],
            self.sample[keep],
            self._kind_code[keep],
            self.source_index[keep],
            self.destination_index[keep],
            self.sent_at[keep],
            self.received_at[keep],
            self.value[keep],
            updates._take(keep_updates),
            self._fate_code[keep],
            internals._take(keep_internals),
        )

    # ------------------------------------------------------------------
    # export

    def to_dataframe(self) -> Any:
        """The messages as a ``pandas.DataFrame`` (pandas is imported here).

        A mini-batch trace gives an object column of arrays. The updates have
        their own: ``trace.updates.to_dataframe()``.
        """
        pd = _import_pandas()
        fields = _MESSAGE_FIELDS + (("fate",) if self._faulty else ())
        return pd.DataFrame({name: getattr(self, name) for name in fields})

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write both tables to one CSV file that :meth:`read_csv` reloads exactly.

        The first line is ``# nodes: [...]``, the node order as JSON; then a
        header row with :data:`CSV_COLUMNS` and one row per message, then one
        per update. The ``record`` column says which (``"message"`` or
        ``"update"``). An update row has ``kind`` ``"update"``, the neuron as
        ``destination``, the predecessor as ``source`` (empty for a bias),
        its time as both ``sent_at`` and ``received_at``, the new value as
        ``value`` and the old one as ``old``. When the trace holds internals
        or gradients, the columns :data:`CSV_STEP_COLUMNS` follow: an update
        row has its ``gradient``, and one row per neuron and iteration
        (``record`` and ``kind`` ``"internals"``) has the neuron as
        ``destination``, ``forward_at`` and ``backward_at`` as ``sent_at``
        and ``received_at`` (empty when unknown), ``y`` as ``value`` and
        ``e``, ``fprime``, ``delta``, ``g`` and ``version`` in their columns.
        The last line is the end line, ``# end: {"messages": M, "updates":
        U, "sha256": "..."}`` (with ``"internals": I`` when there are
        internals rows): the row counts and the SHA-256 of every byte before
        it, by which :meth:`read_csv` knows a file cut short or altered.

        Floats are written with ``repr`` so that they read back bit-identical;
        a mini-batch value is a JSON list in one cell. Node names (``int`` or
        ``str``) are written as text and read back through the node order of
        the first line, which keeps their type.

        The file is written whole or not at all: to a temporary file in the
        same folder, renamed over `path` at the end. A failure or an
        interrupt leaves what was at `path` before.

        Raises
        ------
        DataError
            A node name that is not an int or a str, or two names with the
            same text (``1`` and ``"1"``): use :meth:`to_jsonl` then.
        """
        nodes = _json_nodes(self.nodes)
        texts = [str(node) for node in nodes]
        if len(set(texts)) != len(texts) or "" in texts:
            raise DataError(
                "node names must have distinct, non-empty texts to be written "
                "to CSV; use to_jsonl"
            )
        names = np.array([*texts, ""], dtype=object)  # index -1: a bias
        value = self.value
        if value.dtype == object:
            value_cells = [json.dumps(v.tolist()) for v in value]
        else:
            value_cells = [repr(v) for v in value.tolist()]
        updates, internals = self.updates, self.internals
        steps = len(internals) > 0 or not np.isnan(updates.gradient).all()
        step_width = len(CSV_STEP_COLUMNS) if steps else 0
        with atomic_write(path) as binary:
            file = _SealedText(binary)
            file.write(f"# nodes: {json.dumps(nodes)}\n")
            writer = csv.writer(file, lineterminator="\n")
            faulty = self._faulty
            writer.writerow(
                CSV_COLUMNS
                + (("fate",) if faulty else ())
                + (CSV_STEP_COLUMNS if steps else ())
            )
            fate_cells = [self.fate.tolist()] if faulty else []
            none = [""] * len(self)
            writer.writerows(
                zip(
                    ["message"] * len(self),
                    self.epoch.tolist(),
                    self.sample.tolist(),
                    self.kind.tolist(),
                    names[self.source_index].tolist(),
                    names[self.destination_index].tolist(),
                    map(repr, self.sent_at.tolist()),
                    map(repr, self.received_at.tolist()),
                    value_cells,
                    none,
                    *fate_cells,
                    *[none] * step_width,
                    strict=True,
                )
            )
            time = list(map(repr, updates.time.tolist()))
            writer.writerows(
                zip(
                    ["update"] * len(updates),
                    updates.epoch.tolist(),
                    updates.sample.tolist(),
                    ["update"] * len(updates),
                    names[updates.source_index].tolist(),
                    names[updates.neuron_index].tolist(),
                    time,
                    time,
                    map(repr, updates.new.tolist()),
                    map(repr, updates.old.tolist()),
                    *([[""] * len(updates)] if faulty else []),
                    *(
                        [map(_float_text, updates.gradient.tolist())]
                        + [[""] * len(updates)] * (step_width - 1)
                        if steps
                        else []
                    ),
                    strict=True,
                )
            )
            if len(internals):
                n = len(internals)
                cells = {
                    name: _value_cells(getattr(internals, name))
                    for name in _INTERNAL_VALUES
                }
                writer.writerows(
                    zip(
                        ["internals"] * n,
                        internals.epoch.tolist(),
                        internals.sample.tolist(),
                        ["internals"] * n,
                        [""] * n,
                        names[internals.neuron_index].tolist(),
                        map(_float_text, internals.forward_at.tolist()),
                        map(_float_text, internals.backward_at.tolist()),
                        cells["y"],
                        [""] * n,
                        *([[""] * n] if faulty else []),
                        [""] * n,
                        cells["e"],
                        cells["fprime"],
                        cells["delta"],
                        cells["g"],
                        internals.version.tolist(),
                        strict=True,
                    )
                )
            file.seal(_CSV_END, len(self), len(updates), len(internals))

    @classmethod
    def read_csv(cls, path: str | os.PathLike[str], *, check: bool = True) -> Trace:
        """Read a file written by :meth:`to_csv`.

        The file must end with the end line :meth:`to_csv` writes, whose row
        counts and SHA-256 must match: a file cut short or altered is refused.
        ``check=False`` reads a file without that line (a hand-made file, or
        one written before neurosim wrote end lines) and ignores it when
        present. Without the ``# nodes:`` line the node order is the order of
        first appearance, and a cell of digits (with an optional minus sign)
        is read as an ``int``, any other as a ``str``.

        Whatever `check`, the reader takes lines of at most
        :data:`MAX_LINE_BYTES`, JSON nested at most :data:`MAX_JSON_DEPTH`
        deep, epochs and samples from 0 to :data:`MAX_ITERATION` and times
        within :data:`MAX_TIME`.

        Raises
        ------
        DataError
            The file is not such a CSV, or is cut short or altered; the
            message names the path (and the line, where there is one).
        """
        messages: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        internals: list[tuple[Any, ...]] = []
        tables = {"message": messages, "update": updates, "internals": internals}
        with open(path, "rb") as file:
            lines = _Lines(path, file, _CSV_END)
            with lines.checked(check):
                reader = _CsvRows(path, lines)
                lookup = reader.node_lookup
                columns = reader.columns
                for line, row in reader:
                    try:
                        record = dict(zip(columns, row, strict=True))
                    except ValueError:
                        raise DataError(
                            f"{path}, line {line}: expected {len(columns)} "
                            f"columns, found {len(row)}"
                        ) from None
                    try:
                        parsed = _parse_csv_record(record, lookup)
                    except (ValueError, TypeError, KeyError) as error:
                        raise DataError(
                            f"{path}, line {line}: {_short(error)}"
                        ) from None
                    tables[record["record"]].append(parsed)
            if check:
                lines.check_end(len(messages), len(updates), len(internals))
        try:
            return cls.from_rows(messages, updates, reader.nodes, internals)
        except DataError as error:
            raise DataError(f"{path}: {_short(error)}") from None

    def to_jsonl(self, path: str | os.PathLike[str]) -> None:
        """Write both tables as JSON Lines that :meth:`read_jsonl` reloads exactly.

        The first line is a header object ``{"format": "neurosim-trace",
        "version": 2, "nodes": [...]}``; then one object per message
        (``"record": "message"`` and the message fields) and one per update
        (``"record": "update"`` and the update fields, ``"source": null``
        for a bias). Node names keep their JSON type (int or str); floats are
        written with ``repr`` precision. The last line is the end line,
        ``{"record": "end", "messages": M, "updates": U, "sha256": "..."}``,
        as in :meth:`to_csv`, which also says how the file is replaced.

        Raises
        ------
        DataError
            A node name that is not an int or a str.
        """
        nodes = _json_nodes(self.nodes)
        names = [*nodes, None]
        header = {"format": _JSONL_FORMAT, "version": _JSONL_VERSION, "nodes": nodes}
        value = self.value
        values = (
            [v.tolist() for v in value] if value.dtype == object else value.tolist()
        )
        dumps = json.dumps
        fates = self.fate.tolist()
        with atomic_write(path) as binary:
            file = _SealedText(binary)
            file.write(dumps(header) + "\n")
            for e, s, k, u, v, sent, received, x, fate in zip(
                self.epoch.tolist(),
                self.sample.tolist(),
                self.kind.tolist(),
                self.source_index.tolist(),
                self.destination_index.tolist(),
                self.sent_at.tolist(),
                self.received_at.tolist(),
                values,
                fates,
                strict=True,
            ):
                row = {
                    "record": "message",
                    "epoch": e,
                    "sample": s,
                    "kind": k,
                    "source": names[u],
                    "destination": names[v],
                    "sent_at": sent,
                    "received_at": received,
                    "value": x,
                }
                if fate != "delivered":
                    row["fate"] = fate
                file.write(dumps(row) + "\n")
            updates = self.updates
            for e, s, v, u, old, new, t, grad in zip(
                updates.epoch.tolist(),
                updates.sample.tolist(),
                updates.neuron_index.tolist(),
                updates.source_index.tolist(),
                updates.old.tolist(),
                updates.new.tolist(),
                updates.time.tolist(),
                updates.gradient.tolist(),
                strict=True,
            ):
                row = {
                    "record": "update",
                    "epoch": e,
                    "sample": s,
                    "neuron": names[v],
                    "source": names[u],
                    "old": old,
                    "new": new,
                    "time": t,
                }
                if grad == grad:  # NaN: not known, left out
                    row["gradient"] = grad
                file.write(dumps(row) + "\n")
            internals = self.internals
            columns = [
                _json_values(getattr(internals, name)) for name in _INTERNAL_VALUES
            ]
            for e, s, v, version, t_forward, t_backward, *values in zip(
                internals.epoch.tolist(),
                internals.sample.tolist(),
                internals.neuron_index.tolist(),
                internals.version.tolist(),
                internals.forward_at.tolist(),
                internals.backward_at.tolist(),
                *columns,
                strict=True,
            ):
                row = {"record": "internals", "epoch": e, "sample": s}
                row["neuron"] = names[v]
                row.update(zip(_INTERNAL_VALUES, values, strict=True))
                row["version"] = version
                row["forward_at"] = t_forward
                row["backward_at"] = None if t_backward != t_backward else t_backward
                file.write(dumps(row) + "\n")
            file.seal(_JSONL_END, len(self), len(updates), len(internals))

    def to_html(
        self, path: str | os.PathLike[str], *, title: str | None = None
    ) -> Path:
        """Write a page that shows the trace live in a web browser.

        One self-contained HTML file: the timeline of
        :func:`neurosim.plot.timeline` with play and pause, a slider over
        virtual time, ← and → to step from event to event, the value of any
        message, and for any neuron what it computed and how its weights
        changed. The page loads nothing (no server, no network, no fonts):
        the trace is embedded in it as JSON, in
        ``<script type="application/json" id="neurosim-trace">``, and drawn
        by a little plain JavaScript. ``neurosim view TRACE`` writes the same
        page from a saved trace; ``docs/viewer.md`` says what it shows.

        The file is written whole or not at all, as with :meth:`to_csv`.

        Parameters
        ----------
        path : str or path-like
            The file to write (``.html`` by convention).
        title : str, optional
            The page's heading; "neurosim trace" by default.

        Returns
        -------
        pathlib.Path
            The path written.

        Raises
        ------
        DataError
            A node name that is not an int or a str.
        FileNotFoundError, IsADirectoryError
            `path` is in a folder that does not exist, or is a folder;
            raised before anything is written.

        Examples
        --------
        >>> import tempfile
        >>> from pathlib import Path
        >>> import neurosim
        >>> net = neurosim.Network(neurosim.examples.worked_example())
        >>> trace = net.train([[1.0, 1.5]], [[2.5, 3.0]], record=True).trace
        >>> page = trace.to_html(Path(tempfile.mkdtemp()) / "step.html")
        >>> text = page.read_text(encoding="utf-8")
        >>> 'id="neurosim-trace"' in text, "<script src" in text
        (True, False)
        """
        from neurosim.plot.html import write_page

        return write_page(self, _json_nodes(self.nodes), path, title=title)

    @classmethod
    def read_jsonl(cls, path: str | os.PathLike[str], *, check: bool = True) -> Trace:
        """Read a file written by :meth:`to_jsonl`.

        The end line and `check` work as in :meth:`read_csv` (a version 1
        file, written before neurosim wrote end lines, needs
        ``check=False``), and so do the limits on what is read.

        Raises
        ------
        DataError
            The file is not such a JSON Lines file, or is cut short or
            altered; the message names the path (and the line, where there is
            one).
        """
        messages: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        internals: list[tuple[Any, ...]] = []
        tables = {"message": messages, "update": updates, "internals": internals}
        nodes: list[Hashable] | None = None
        known: set[Hashable] = set()
        with open(path, "rb") as file:
            lines = _Lines(path, file, _JSONL_END)
            with lines.checked(check):
                for text in lines:
                    if not text.strip():
                        continue
                    line = lines.number
                    try:
                        obj = _json(text)
                        if nodes is None:
                            nodes = _parse_jsonl_header(obj)
                            known = set(nodes)
                            continue
                        row = _parse_jsonl_record(obj, known)
                    except KeyError as error:
                        raise DataError(
                            f"{path}, line {line}: missing field {error}"
                        ) from None
                    except (ValueError, TypeError) as error:
                        raise DataError(
                            f"{path}, line {line}: {_short(error)}"
                        ) from None
                    tables[obj["record"]].append(row)
                if nodes is None:
                    raise DataError(
                        f"{path}, line 1: empty file, expected a header line"
                    )
            if check:
                lines.check_end(len(messages), len(updates), len(internals))
        try:
            return cls.from_rows(messages, updates, nodes, internals)
        except DataError as error:
            raise DataError(f"{path}: {_short(error)}") from None


# ----------------------------------------------------------------------
# helpers of from_rows


def _columns(rows: Iterable[Sequence[Any]], width: int, what: str) -> list[Any]:
    """The columns of ``rows``, each a lazy ``map`` over the rows.

    One pass per column with ``operator.itemgetter`` into ``np.fromiter`` is
    far faster than ``zip(*rows)`` for millions of rows.
    """
    if not isinstance(rows, Sequence):
        rows = list(rows)
    if set(map(len, rows)) - {width}:
        bad = next(row for row in rows if len(row) != width)
        raise DataError(f"every {what} row must have {width} fields: {bad!r}")
    return [_Column(rows, i) for i in range(width)]


class _Column(Sequence):
    """Column ``i`` of a list of rows, read on demand."""

    def __init__(self, rows: Sequence[Sequence[Any]], i: int):
        self.rows = rows
        self.get = itemgetter(i)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, k: Any) -> Any:
        return self.get(self.rows[k])

    def __iter__(self) -> Iterator[Any]:
        return map(self.get, self.rows)


def _codes(
    names: Sequence[Any], code: dict[Any, int], dtype: Any, what: str
) -> NDArray[Any]:
    """The codes of ``names`` in ``code``, as an array."""
    try:
        return np.fromiter(map(code.__getitem__, names), dtype=dtype, count=len(names))
    except (KeyError, TypeError):
        bad = next(name for name in names if _unknown(name, code))
        raise DataError(
            f"unknown {what} {bad!r}; expected one of {list(code)!r}"
        ) from None


def _unknown(name: Any, code: dict[Any, int]) -> bool:
    try:
        return name not in code
    except TypeError:  # unhashable
        return True


def _values(values: Sequence[Any]) -> NDArray[Any]:
    """A float64 array when every value is a number, else an object array."""
    if all(_is_scalar_type(t) for t in set(map(type, values))):
        return np.fromiter(values, dtype=np.float64, count=len(values))
    array = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        try:
            vector = np.atleast_1d(np.asarray(v, dtype=np.float64))
        except (TypeError, ValueError):
            vector = None
        if vector is None or vector.ndim != 1:
            raise DataError(f"a message value must be a number or a 1-D array: {v!r}")
        array[i] = vector
    return array


def _iteration_numbers(column: Sequence[Any], name: str) -> NDArray[np.int64]:
    """An epoch or sample column as int64 (range checked by _check_columns)."""
    try:
        return np.fromiter(column, dtype=np.int64, count=len(column))
    except (OverflowError, TypeError, ValueError):
        bad = next(x for x in column if not _is_int64(x))
        raise DataError(
            f"{name} must be an integer from 0 to {MAX_ITERATION}, not {bad!r}"
        ) from None


def _is_int64(x: Any) -> bool:
    try:
        np.int64(x)
    except (OverflowError, TypeError, ValueError):
        return False
    return True


def _check_columns(
    what: str, epoch: NDArray, sample: NDArray, **times: NDArray
) -> None:
    """Epochs and samples from 0 to MAX_ITERATION, times within MAX_TIME.

    The sort key of an iteration (``_pair_key``) multiplies the two, which
    the bound keeps inside int64; a time must be a point on the time axis.
    """
    for name, column in (("epoch", epoch), ("sample", sample)):
        if len(column) and (column.min() < 0 or column.max() > MAX_ITERATION):
            bad = column[(column < 0) | (column > MAX_ITERATION)][0]
            raise DataError(
                f"a {what}'s {name} must be from 0 to {MAX_ITERATION}, not {bad}"
            )
    for name, column in times.items():
        inside = np.abs(column) <= MAX_TIME  # nan compares false
        if not inside.all():
            raise DataError(
                f"a {what}'s {name} must be a finite time within ±2**53, not "
                f"{column[~inside][0]}"
            )


def _pair_key(epoch: NDArray[np.int64], sample: NDArray[np.int64]) -> NDArray:
    """One int64 per (epoch, sample) that sorts like the pair."""
    if len(epoch) == 0:
        return epoch
    low = int(sample.min())
    return (epoch - int(epoch.min())) * (int(sample.max()) - low + 1) + (sample - low)


def _taker(order: NDArray[np.intp] | None) -> Callable[[NDArray], NDArray]:
    """Rows in `order` (from :func:`_sort_order`; None: as they are)."""
    if order is None:
        return lambda column: column
    return lambda column: column[order]


def _sort_order(
    iteration: NDArray, time: NDArray, nodes: NDArray, tiebreak: list[NDArray]
) -> NDArray[np.intp] | None:
    """The order by iteration, time and nodes, then by ``tiebreak``.

    None when the rows are in that order already.

    Rows equal in the first three keys (none in a trace the engine records)
    are ordered by the tiebreak keys so that the order never depends on the
    order the rows came in; the expensive full sort runs only then.
    """
    if len(iteration) > 1:  # rows that come in order (the engine's do): no sort
        d_it, d_time, d_nodes = np.diff(iteration), np.diff(time), np.diff(nodes)
        later = (d_it > 0) | (
            (d_it == 0) & ((d_time > 0) | ((d_time == 0) & (d_nodes > 0)))
        )
        if later.all():
            return None
    order = np.lexsort((nodes, time, iteration))  # the last key is the primary one
    if len(order) > 1:
        same = (
            (np.diff(iteration[order]) == 0)
            & (np.diff(time[order]) == 0)
            & (np.diff(nodes[order]) == 0)
        )
        if same.any():
            order = np.lexsort((*tiebreak, nodes, time, iteration))
    return order


def _update_columns(rows: Iterable[Sequence[Any]], index: dict) -> dict[str, Any]:
    """Update rows as the columns :meth:`Trace.from_columns` takes (bias: -1)."""
    rows = list(rows)
    if any(len(row) == 8 for row in rows):  # with the gradient
        rows = [(*row, math.nan) if len(row) == 7 else row for row in rows]
        columns = _columns(rows, 8, "update")
    else:
        columns = _columns(rows, 7, "update")
    n = len(columns[0])
    gradient = (
        {"gradient": _optional_floats(columns[7], "gradient")}
        if len(columns) == 8
        else {}
    )
    return {
        "epoch": _iteration_numbers(columns[0], "epoch"),
        "sample": _iteration_numbers(columns[1], "sample"),
        "neuron": _codes(columns[2], index, np.intp, "node"),
        "source": _codes(columns[3], {**index, None: -1}, np.intp, "node"),
        "old": np.fromiter(columns[4], dtype=np.float64, count=n),
        "new": np.fromiter(columns[5], dtype=np.float64, count=n),
        "time": np.fromiter(columns[6], dtype=np.float64, count=n),
        **gradient,
    }


def _optional_floats(column: Sequence[Any], name: str) -> NDArray[np.float64]:
    """Floats, with None as NaN."""
    try:
        return np.fromiter(
            (math.nan if x is None else x for x in column),
            dtype=np.float64,
            count=len(column),
        )
    except (TypeError, ValueError):
        bad = next(x for x in column if not _is_scalar(x) and x is not None)
        raise DataError(f"{name} must be a number, not {bad!r}") from None


def _internal_columns(rows: Iterable[Sequence[Any]], index: dict) -> dict[str, Any]:
    """Internals rows as the columns :meth:`Trace.from_columns` takes."""
    columns = _columns(rows, len(_INTERNAL_FIELDS), "internals")
    n = len(columns[0])
    out: dict[str, Any] = {
        "epoch": _iteration_numbers(columns[0], "epoch"),
        "sample": _iteration_numbers(columns[1], "sample"),
        "neuron": _codes(columns[2], index, np.intp, "node"),
    }
    values = [list(columns[3 + i]) for i in range(len(_INTERNAL_VALUES))]
    scalar = all(
        x is None or _is_scalar_type(type(x)) for column in values for x in column
    )
    for name, column in zip(_INTERNAL_VALUES, values, strict=True):
        if scalar:
            out[name] = _optional_floats(column, name)
            continue
        sizes = [np.size(y) for y in values[1]]  # y is always there
        filled = [
            np.full(size, np.nan) if x is None else x
            for x, size in zip(column, sizes, strict=True)
        ]
        out[name] = _values(filled)  # some value is a vector: 1-D arrays
    try:
        out["version"] = np.fromiter(columns[8], dtype=np.int64, count=n)
    except (OverflowError, TypeError, ValueError):
        raise DataError("an internals row's version must be an integer") from None
    out["forward_at"] = np.fromiter(columns[9], dtype=np.float64, count=n)
    out["backward_at"] = _optional_floats(columns[10], "backward_at")
    return out


def _internals_table(
    nodes: tuple[Hashable, ...], columns: dict[str, NDArray[Any]]
) -> InternalsTable:
    """The internals table of `columns` (see from_columns), sorted."""
    c = {name: np.asarray(column) for name, column in columns.items()}
    epoch = c["epoch"].astype(np.int64)
    sample = c["sample"].astype(np.int64)
    neuron = c["neuron"].astype(np.intp)
    version = c["version"].astype(np.int64)
    forward_at = c["forward_at"].astype(np.float64)
    backward_at = c["backward_at"].astype(np.float64)
    values = []
    for name in _INTERNAL_VALUES:
        column = c[name]
        values.append(
            column.astype(np.float64) if column.dtype != object else column.copy()
        )
    _check_columns(
        "internals row",
        epoch,
        sample,
        forward_at=forward_at,
        backward_at=np.where(np.isnan(backward_at), 0.0, backward_at),
    )
    if len(neuron) and (neuron.min() < 0 or neuron.max() >= len(nodes)):
        raise DataError("an internals row names a node outside the node order")
    if len(version) and version.min() < 0:
        raise DataError("an internals row's version must be >= 0")
    order = _sort_order(_pair_key(epoch, sample), forward_at, neuron, [version])
    take = _taker(order)
    return InternalsTable(
        nodes,
        *map(take, (epoch, sample, neuron, *values, version, forward_at, backward_at)),
    )


def _import_pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            "to_dataframe needs pandas, which neurosim does not install: "
            "pip install pandas"
        ) from None
    return pd


# ----------------------------------------------------------------------
# helpers of the readers and writers


def _json_nodes(nodes: tuple[Hashable, ...]) -> list[int | str]:
    """The node names as JSON-able ints and strs."""
    out: list[int | str] = []
    for node in nodes:
        if isinstance(node, (bool, np.bool_)) or not isinstance(
            node, (int, str, np.integer)
        ):
            raise DataError(
                f"node {node!r} cannot be written: node names must be ints or strs"
            )
        out.append(int(node) if isinstance(node, np.integer) else node)
    return out


def _csv_node(cell: str) -> int | str:
    return int(cell) if _INTEGER_CELL.fullmatch(cell) else cell


class _Lines:
    """The lines of a trace file, read in bounded pieces and hashed.

    Iterating gives each line as text (line numbers in :attr:`number`),
    except the last one when it starts with `end`: that is the end line,
    kept in :attr:`end` and not hashed. A line longer than
    :data:`MAX_LINE_BYTES` or not UTF-8 is a :class:`DataError`.
    """

    def __init__(self, path: str | os.PathLike[str], file: Any, end: bytes):
        self.path = path
        self.file = file
        self.end_prefix = end
        self.sha256 = hashlib.sha256()
        self.number = 0  # the lines given so far
        self.read = 0  # the lines read from the file (one more, ahead)
        self.end: bytes | None = None
        self.too_long = False
        self.ahead = self._read()  # one line early, to know the last one

    def _read(self) -> bytes:
        line = self.file.readline(MAX_LINE_BYTES + 1)
        if len(line) > MAX_LINE_BYTES:
            self.too_long = True
            raise DataError(
                f"{self.path}, line {self.read + 1}: longer than "
                f"{MAX_LINE_BYTES} bytes, not a trace file"
            )
        self.read += 1
        return line

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.ahead
        if not line:
            raise StopIteration
        self.ahead = self._read()
        if not self.ahead and line.startswith(self.end_prefix):
            self.end = line
            raise StopIteration
        self.sha256.update(line)
        self.number += 1
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            raise DataError(
                f"{self.path}, line {self.number}: not UTF-8 text"
            ) from None

    @contextmanager
    def checked(self, check: bool) -> Iterator[None]:
        """Report a damaged file as such rather than as its first bad line.

        When reading fails and `check` is on, the rest of the file is read
        and hashed: if it is cut short or altered, that is the error.
        """
        try:
            yield
        except DataError as error:
            if not check or self.too_long:
                raise
            while not self.too_long:
                try:
                    for _ in self:
                        pass
                    break
                except DataError:  # a line that is not UTF-8: go on hashing
                    continue
            problem = None if self.too_long else self._damage()
            if problem is None:
                raise error from None
            raise DataError(problem) from None

    def _damage(self) -> str | None:
        """What is wrong with the end line and the checksum, if anything."""
        path, line = self.path, self.number + 1
        if self.end is None:
            return (
                f"{path}, line {line}: no end line ({self.end_prefix.decode()}...): "
                "the file is cut short, or was not written by neurosim "
                "(pass check=False, or `neurosim plot --no-check`, to read it "
                "unchecked)"
            )
        self.fields = fields = _end_fields(self.end, self.end_prefix)
        if fields is None:
            return f"{path}, line {line}: a damaged end line, the file is cut short"
        if fields["sha256"] != self.sha256.hexdigest():
            return (
                f"{path}: damaged or altered since it was written (the SHA-256 "
                f"of lines 1 to {self.number} does not match the end line)"
            )
        return None

    def check_end(self, messages: int, updates: int, internals: int = 0) -> None:
        """Raise a DataError unless the end line matches what was read."""
        problem = self._damage()
        if problem is not None:
            raise DataError(problem)
        counted = {"messages": messages, "updates": updates, "internals": internals}
        for name, count in counted.items():
            if self.fields.get(name, 0) != count:
                raise DataError(
                    f"{self.path}: the end line counts {self.fields.get(name, 0)} "
                    f"{name}, the file holds {count}"
                )


def _end_fields(line: bytes, prefix: bytes) -> dict[str, Any] | None:
    """The counts and checksum of an end line, None if it is damaged."""
    if len(line) > 1000 or not line.endswith(b"\n"):
        return None
    try:
        text = line.decode("ascii")
        if prefix == _CSV_END:
            fields = json.loads(text[len(prefix) :])
        else:
            fields = json.loads(text)
            if fields.pop("record") != "end":
                return None
    except (ValueError, KeyError, AttributeError):
        return None
    expected = {"messages": int, "updates": int, "sha256": str}
    if isinstance(fields, dict) and "internals" in fields:
        expected = {"messages": int, "updates": int, "internals": int, "sha256": str}
    if not isinstance(fields, dict) or fields.keys() != expected.keys():
        return None
    if not all(type(fields[key]) is kind for key, kind in expected.items()):
        return None
    return fields


class _SealedText:
    """A text stream over a binary file that ends it with an end line.

    Text is written as UTF-8 in chunks of about a megabyte and hashed;
    :meth:`seal` writes the end line with the counts and the SHA-256.
    """

    def __init__(self, file: Any):
        self.file = file
        self.sha256 = hashlib.sha256()
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        self.parts.append(text)
        self.size += len(text)
        if self.size > 2**20:
            self.flush()
        return len(text)

    def flush(self) -> None:
        data = "".join(self.parts).encode("utf-8")
        self.sha256.update(data)
        self.file.write(data)
        self.parts.clear()
        self.size = 0

    def seal(
        self, prefix: bytes, messages: int, updates: int, internals: int = 0
    ) -> None:
        self.flush()
        fields: dict[str, Any] = {"messages": messages, "updates": updates}
        if internals:
            fields["internals"] = internals
        fields["sha256"] = self.sha256.hexdigest()
        if prefix == _CSV_END:
            line = f"{prefix.decode()}{json.dumps(fields)}\n"
        else:
            line = json.dumps({"record": "end", **fields}) + "\n"
        self.file.write(line.encode("ascii"))


# A JSON string, to skip when counting brackets.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _json(text: str) -> Any:
    """``json.loads``, refusing nesting deeper than MAX_JSON_DEPTH first.

    The decoder recurses once per level: a line of 100,000 ``[`` would end
    in a RecursionError. Counting brackets outside strings is cheap, and
    needed only when there are many brackets at all.
    """
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH:
        depth = deepest = 0
        for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
            depth += 1 if bracket in "[{" else -1
            deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return json.loads(text)


class _CsvRows:
    """The data rows of a trace CSV, with their line numbers.

    Reads the ``# nodes:`` line and the header row from `lines` (a
    :class:`_Lines`) on construction; then iterating gives ``(line, row)``.
    """

    def __init__(self, path: str | os.PathLike[str], lines: _Lines):
        self.path = path
        self.lines = lines
        self.header_nodes: list[Hashable] | None = None
        self.seen: dict[Hashable, None] = {}
        first = next(lines, "")
        while first.startswith("#"):
            text = first[1:].strip()
            if text.startswith("nodes:"):
                try:
                    nodes = _json(text[len("nodes:") :])
                    if not isinstance(nodes, list) or not all(
                        isinstance(n, (int, str)) and not isinstance(n, bool)
                        for n in nodes
                    ):
                        raise ValueError("not a list of ints and strs")
                except ValueError as error:
                    raise DataError(
                        f"{path}, line {lines.number}: unreadable node list ({error})"
                    ) from None
                self.header_nodes = nodes
            first = next(lines, "")
        header = next(csv.reader([first]), [])
        self.columns = tuple(header)
        if self.columns not in {
            (*CSV_COLUMNS, *fate, *steps)
            for fate in ((), ("fate",))
            for steps in ((), CSV_STEP_COLUMNS)
        }:
            raise DataError(
                f"{path}, line {lines.number + (first == '')}: expected the "
                f"header row {','.join(CSV_COLUMNS)!r}, found {_short(first.strip())}"
            )
        if self.header_nodes is not None:
            lookup = {str(node): node for node in self.header_nodes}

            def node_lookup(cell: str) -> Hashable:
                try:
                    return lookup[cell]
                except KeyError:
                    raise ValueError(f"unknown node {cell!r}") from None

        else:

            def node_lookup(cell: str) -> Hashable:
                node = _csv_node(cell)
                self.seen.setdefault(node)
                return node

        self.node_lookup = node_lookup

    @property
    def nodes(self) -> list[Hashable]:
        if self.header_nodes is not None:
            return self.header_nodes
        return list(self.seen)

    def __iter__(self):
        reader = csv.reader(self.lines)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise DataError(
                    f"{self.path}, line {self.lines.number}: {error}"
                ) from None
            if row:
                yield self.lines.number, row


def _short(what: object, width: int = 300) -> str:
    """An error message or a cell for a message: a hostile line can be huge."""
    text = str(what) if isinstance(what, Exception) else repr(what)
    return text if len(text) <= width else f"{text[: width - 3]}..."


def _float_cell(cell: str, column: str) -> float:
    try:
        return float(cell)
    except ValueError:
        raise ValueError(f"column {column!r}: {cell!r} is not a number") from None


def _time_cell(cell: str, column: str) -> float:
    return _finite(_float_cell(cell, column), f"column {column!r}")


def _finite(x: float, what: str) -> float:
    if not -MAX_TIME <= x <= MAX_TIME:  # nan compares false
        raise ValueError(f"{what}: a time must be finite and within ±2**53, not {x!r}")
    return x


def _int_cell(cell: str, column: str) -> int:
    if not _INTEGER_CELL.fullmatch(cell):
        raise ValueError(f"column {column!r}: {cell!r} is not an integer")
    if len(cell) > 20:  # far out of range; int() would refuse 4,300 digits
        raise ValueError(f"column {column!r}: {cell[:20]}... is out of range")
    return _iteration(int(cell), f"column {column!r}")


def _iteration(x: int, what: str) -> int:
    """An epoch or sample number, from 0 to MAX_ITERATION."""
    if not 0 <= x <= MAX_ITERATION:
        raise ValueError(f"{what}: {x} is not from 0 to {MAX_ITERATION}")
    return x


def _parse_csv_record(record: dict[str, str], node: Any) -> tuple[Any, ...]:
    epoch = _int_cell(record["epoch"], "epoch")
    sample = _int_cell(record["sample"], "sample")
    kind = record["kind"]
    if record["record"] == "message":
        if kind not in _KIND_CODE:
            raise ValueError(f"unknown message kind {kind!r}")
        if record["old"] != "":
            raise ValueError(
                f"a message row must leave 'old' empty, not {record['old']!r}"
            )
        cell = record["value"]
        if cell.startswith("["):
            try:
                vector = _json(cell)
            except ValueError as error:
                raise ValueError(
                    f"column 'value': unreadable list ({error}): {_short(cell, 60)}"
                ) from None
            if not isinstance(vector, list) or not all(_is_scalar(x) for x in vector):
                raise ValueError(f"column 'value': {cell!r} is not a list of numbers")
            value: Value = np.array(vector, dtype=np.float64)
        else:
            value = _float_cell(cell, "value")
        row = (
            epoch,
            sample,
            kind,
            node(record["source"]),
            node(record["destination"]),
            _time_cell(record["sent_at"], "sent_at"),
            _time_cell(record["received_at"], "received_at"),
            value,
        )
        if "fate" in record:
            if record["fate"] not in _FATE_CODE:
                raise ValueError(f"column 'fate': unknown fate {record['fate']!r}")
            row += (record["fate"],)
        return row
    if record["record"] == "update":
        if kind != "update":
            raise ValueError(f"an update row must have kind 'update', not {kind!r}")
        time = _time_cell(record["sent_at"], "sent_at")
        if record["received_at"] != record["sent_at"]:
            raise ValueError(
                "an update row must have sent_at == received_at (its time), "
                f"not {record['sent_at']!r} and {record['received_at']!r}"
            )
        source = None if record["source"] == "" else node(record["source"])
        return (
            epoch,
            sample,
            node(record["destination"]),
            source,
            _float_cell(record["old"], "old"),
            _float_cell(record["value"], "value"),
            time,
            *(
                (_optional_cell(record["gradient"], "gradient"),)
                if "gradient" in record
                else ()
            ),
        )
    if record["record"] == "internals" and "version" in record:
        if kind != "internals":
            raise ValueError(
                f"an internals row must have kind 'internals', not {kind!r}"
            )
        return (
            epoch,
            sample,
            node(record["destination"]),
            *(
                _internal_cell(record[column], name)
                for column, name in (
                    ("e", "e"),
                    ("value", "y"),
                    ("fprime", "fprime"),
                    ("delta", "delta"),
                    ("g", "g"),
                )
            ),
            _int_cell(record["version"], "version"),
            _time_cell(record["sent_at"], "sent_at"),
            _optional_cell(record["received_at"], "received_at"),
        )
    raise ValueError(
        "column 'record' is 'message', 'update' or 'internals', not "
        f"{record['record']!r}"
    )


def _float_text(x: float) -> str:
    """A float cell: ``repr`` (bit-exact), empty for NaN (unknown)."""
    return "" if x != x else repr(x)


def _value_cells(column: NDArray[Any]) -> list[str]:
    """Cells of a float column, or of 1-D arrays as JSON lists (NaN: null)."""
    if column.dtype != object:
        return [_float_text(x) for x in column.tolist()]
    return [json.dumps([None if x != x else x for x in v.tolist()]) for v in column]


def _optional_cell(cell: str, column: str) -> float:
    """A float or an empty cell (NaN); finite and within MAX_TIME is not asked."""
    return math.nan if cell == "" else _float_cell(cell, column)


def _internal_cell(cell: str, column: str) -> float | NDArray[np.float64] | None:
    """An internals value: empty (unknown), a float, or a JSON list."""
    if cell == "":
        return None
    if cell.startswith("["):
        try:
            vector = _json(cell)
        except ValueError as error:
            raise ValueError(
                f"column {column!r}: unreadable list ({error}): {_short(cell, 60)}"
            ) from None
        if not isinstance(vector, list) or not all(
            x is None or _is_scalar(x) for x in vector
        ):
            raise ValueError(f"column {column!r}: {cell!r} is not a list of numbers")
        return np.array([math.nan if x is None else x for x in vector], np.float64)
    return _float_cell(cell, column)


def _parse_jsonl_header(obj: Any) -> list[Hashable]:
    if not isinstance(obj, dict) or obj.get("format") != _JSONL_FORMAT:
        raise ValueError(
            f'expected the header {{"format": "{_JSONL_FORMAT}", "nodes": [...]}}'
        )
    if obj.get("version") not in (1, 2, _JSONL_VERSION):  # 1: without an end line
        raise ValueError(f"unsupported version {obj.get('version')!r}")
    nodes = obj.get("nodes")
    if not isinstance(nodes, list) or not all(
        isinstance(n, (int, str)) and not isinstance(n, bool) for n in nodes
    ):
        raise ValueError("'nodes' must be a list of ints and strs")
    return nodes


def _json_int(obj: dict, key: str) -> int:
    x = obj[key]
    if not isinstance(x, int) or isinstance(x, bool):
        raise ValueError(f"{key!r} must be an integer, not {x!r}")
    return _iteration(x, repr(key))


def _json_time(obj: dict, key: str) -> float:
    return _finite(_json_float(obj, key), repr(key))


def _json_float(obj: dict, key: str) -> float:
    x = obj[key]
    if not _is_scalar(x):
        raise ValueError(f"{key!r} must be a number, not {x!r}")
    return float(x)


def _json_node(obj: dict, key: str, known: set, optional: bool = False) -> Hashable:
    x = obj[key]
    if x is None and optional:
        return None
    if isinstance(x, (list, dict)) or x not in known:
        raise ValueError(f"{key!r}: unknown node {x!r}")
    return x


def _parse_jsonl_record(obj: Any, known: set) -> tuple[Any, ...]:
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    record = obj.get("record")
    if record == "message":
        kind = obj["kind"]
        if kind not in _KIND_CODE:
            raise ValueError(f"unknown message kind {kind!r}")
        x = obj["value"]
        if isinstance(x, list):
            if not all(_is_scalar(v) for v in x):
                raise ValueError(f"'value' must be a list of numbers, not {x!r}")
            value: Value = np.array(x, dtype=np.float64)
        else:
            value = _json_float(obj, "value")
        row = (
            _json_int(obj, "epoch"),
            _json_int(obj, "sample"),
            kind,
            _json_node(obj, "source", known),
            _json_node(obj, "destination", known),
            _json_time(obj, "sent_at"),
            _json_time(obj, "received_at"),
            value,
        )
        if "fate" in obj:
            if obj["fate"] not in _FATE_CODE:
                raise ValueError(f"unknown fate {obj['fate']!r}")
            row += (obj["fate"],)
        return row
    if record == "update":
        return (
            _json_int(obj, "epoch"),
            _json_int(obj, "sample"),
            _json_node(obj, "neuron", known),
            _json_node(obj, "source", known, optional=True),
            _json_float(obj, "old"),
            _json_float(obj, "new"),
            _json_time(obj, "time"),
            *((_json_float(obj, "gradient"),) if "gradient" in obj else ()),
        )
    if record == "internals":
        return (
            _json_int(obj, "epoch"),
            _json_int(obj, "sample"),
            _json_node(obj, "neuron", known),
            *(_json_value(obj, name) for name in _INTERNAL_VALUES),
            _json_version(obj),
            _json_time(obj, "forward_at"),
            math.nan if obj["backward_at"] is None else _json_time(obj, "backward_at"),
        )
    raise ValueError(
        f"'record' must be 'message', 'update' or 'internals', not {record!r}"
    )


def _json_values(column: NDArray[Any]) -> list[Any]:
    """A float column, or one of 1-D arrays, as JSON values (NaN: null)."""
    if column.dtype != object:
        return [None if x != x else x for x in column.tolist()]
    return [[None if x != x else x for x in v.tolist()] for v in column]


def _json_value(obj: dict, key: str) -> float | NDArray[np.float64] | None:
    x = obj[key]
    if x is None:
        return None
    if isinstance(x, list):
        if not all(v is None or _is_scalar(v) for v in x):
            raise ValueError(f"{key!r} must be a list of numbers, not {x!r}")
        return np.array([math.nan if v is None else v for v in x], np.float64)
    return _json_float(obj, key)


def _json_version(obj: dict) -> int:
    x = obj["version"]
    if not isinstance(x, int) or isinstance(x, bool) or not 0 <= x < 2**63:
        raise ValueError(f"'version' must be an integer >= 0, not {x!r}")
    return x

"""One neuron as a trio task: when its steps happen, on what it received.

Each window of virtual time, the conductor hands a neuron that has mail one
trio message: its groups of messages in that window (see
:mod:`neurosim.transport`) and any deadlines. The neuron files what arrived
by port, takes every step that became possible, in the order of the tie rules
of ``docs/concepts.md`` (time, then backward before forward, then the lower
iteration), sends through the transport, and reports back once:

- **forward(s)** once every input of iteration ``s`` is there;
- **backward(s)** once forward(s) is done and every error message of ``s`` is
  there: ``δ``, ``g``, the error messages, then **update(s)**.

An output of a softmax group splits its forward step in two: **forward(s)**
computes ``e`` and sends it to the other outputs of the group (messages of
kind ``"softmax"``); **softmax(s)**, once it has every output's ``e``,
computes ``y`` (:func:`neurosim.model.softmax`). Its backward step follows.

The formulas themselves are in :mod:`neurosim.model`. A neuron keeps, per
iteration in flight, what arrived and what its forward step computed; it
never reads another neuron's state.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import outcome
import trio
from numpy.typing import NDArray

from neurosim import model
from neurosim.errors import NeuronError
from neurosim.messages import STEP_FORWARD, STEP_SOFTMAX, StepRecord
from neurosim.model import NeuronState
from neurosim.transport import LinkTable, Transport, Window

__all__ = ["Inbox", "Neuron", "NeuronState", "Run", "Wiring", "run_neuron"]

Array = NDArray[np.float64]

# event priorities at equal times (messages.PRIORITY, then deadlines)
_BACKWARD, _SOFTMAX, _FORWARD, _DEADLINE = 0, 1, 2, 3
_add = np.add.reduce


@dataclass(frozen=True, eq=False)
class Wiring:
    """A node's connections, fixed for a network and a learning rule.

    ``forward`` and ``backward`` are the link tables it sends on (errors go on
    ``backward``, of kind backward or feedback); ``senders`` and
    ``error_senders`` are the node indices it receives from, by port. The
    coefficient of each error link is the weight of one of its incoming
    connections (``weight_index`` into its weights) or a fixed number
    (``fixed``), as the rule says. An output of a softmax group sends its
    ``e`` on ``softmax`` to the other members of ``group`` (node indices in
    output order), where it is number ``group_rank``.
    """

    index: int
    forward: LinkTable | None
    backward: LinkTable | None = None
    senders: tuple[int, ...] = ()
    error_senders: tuple[int, ...] = ()
    output_column: int = -1  # the column of Z, for an output neuron
    weight_index: NDArray[np.intp] | None = None
    fixed: Array | None = None
    softmax: LinkTable | None = None
    group: NDArray[np.intp] | None = None
    group_rank: int = -1

    @property
    def n_forward(self) -> int:
        return len(self.senders)

    @property
    def n_backward(self) -> int:
        return len(self.error_senders)

    @property
    def n_softmax(self) -> int:
        return 0 if self.group is None else len(self.group) - 1

    @property
    def is_output(self) -> bool:
        return self.output_column >= 0


@dataclass(eq=False)
class Run:
    """What every neuron of one simulation shares (read-only for them).

    ``rows(s)`` gives the rows of ``X`` of iteration ``s``; ``targets[j]``
    is output ``j``'s column of ``Z`` (``None`` for ``predict``, whose
    ``optimizer`` is ``None`` too). ``careful`` selects the message-by-message
    path that faults need (duplicates, deadlines, last values). ``report`` is
    where reports go (the conductor's collector); ``updates`` records updates
    (or None). ``cross_entropy``: the outputs' ``f'(e)`` counts as 1 (see
    :mod:`neurosim.losses`).
    """

    transport: Transport
    batched: bool
    rows: Callable[[int], tuple[int, int]]
    targets: Sequence[Any] | None = None
    optimizer: Any = None
    rule: Any = None
    stash: bool = False
    on_missing: str = "error"
    careful: bool = False
    report: Any = None
    updates: Any = None
    iterations: int | None = None  # in the whole simulation (None: until closed)
    cross_entropy: bool = False

    @property
    def training(self) -> bool:
        return self.optimizer is not None


class _Iteration:
    """What a neuron keeps of one iteration between its forward and backward."""

    __slots__ = (
        "e",
        "errors",
        "got_errors",
        "got_x",
        "n_errors",
        "n_peers",
        "n_x",
        "peers",
        "problem",
        "size",
        "start",
        "t_errors",
        "t_forward",
        "t_peers",
        "vectors",
        "version",
        "w_used",
        "x",
        "y",
    )

    def __init__(self, start: int, stop: int):
        self.start, self.size = start, stop - start
        self.x = self.e = self.y = self.w_used = None
        self.errors = self.vectors = None
        self.got_x = self.got_errors = None
        self.n_x = self.n_errors = self.n_peers = 0
        self.peers = None  # a softmax group's e, by rank (with its own)
        self.t_forward = self.t_errors = self.t_peers = -np.inf
        self.version = -1  # updates made before forward; -1: forward not done
        self.problem = None


class Neuron:
    """The behaviour of one neuron over one simulation (its task's body)."""

    def __init__(self, state: NeuronState, wiring: Wiring, run: Run):
        self.state, self.wiring, self.run = state, wiring, run
        self.me = wiring.index
        self.f = state.activation.function
        self.fprime = state.activation.derivative
        if wiring.is_output and run.cross_entropy:
            self.fprime = _ones  # the loss's derivative cancels f'(e)
        self.params = state.params
        self.n_in, self.n_back = wiring.n_forward, wiring.n_backward
        self.n_peers = wiring.n_softmax
        self.open: dict[int, _Iteration] = {}
        self.updates = 0
        self.finished = 0  # iterations done here
        self.last_x: dict[int, Any] = {}
        self.last_errors: dict[int, Any] = {}
        # Iterations done here, so that a late copy is not taken for a new
        # iteration (kept on unreliable connections only).
        self.closed: set[int] = set()
        self._done: list = []
        self._outputs: list = []
        self._problems: list = []

    def _iteration(self, s: int) -> _Iteration:
        it = self.open.get(s)
        if it is None:
            it = self.open[s] = _Iteration(*self.run.rows(s))
        return it

    # -- one window
    def take(self, parts: Sequence, deadlines: Sequence) -> tuple:
        """File the messages delivered, take the steps they allow, and report.

        `parts` are ``(window, group)`` pairs: on reliable connections the
        conductor delivers a group once it is complete, with the earlier
        pieces of it that arrived in earlier windows; with faults, what
        arrived in this window.
        """
        self._done, self._outputs, self._problems = [], [], []
        if self.run.careful:
            window = parts[0][0] if parts else None
            self._take_each(window, [group for _, group in parts], deadlines)
        else:
            ready = []
            for window, (step, s, a, b, last) in parts:
                it = self._iteration(s)
                if step == STEP_FORWARD:
                    if self._file_inputs(it, window, a, b, last):
                        ready.append((it.t_forward, _FORWARD, s))
                elif step == STEP_SOFTMAX:
                    if self._file_peers(it, window, a, b, last) and it.version >= 0:
                        ready.append((max(it.t_forward, it.t_peers), _SOFTMAX, s))
                elif self._file_errors(it, window, a, b, last) and it.y is not None:
                    ready.append((max(it.t_forward, it.t_errors), _BACKWARD, s))
            if len(ready) == 1:
                self._step(*ready[0])
            elif ready:
                heapq.heapify(ready)
                while ready:
                    self._step(*heapq.heappop(ready), ready)
        return self.me, self._done, self._outputs, self._problems

    def _step(self, t: float, kind: int, s: int, ready: list | None = None) -> None:
        it = self.open[s]
        if kind == _BACKWARD:
            self._backward(it, s, t)
            return
        if kind == _FORWARD:
            self._forward(it, s, t)
            if it.y is None:  # an output of a softmax group: y needs the others' e
                if it.n_peers == self.n_peers:
                    self._then(ready, max(t, it.t_peers), _SOFTMAX, s)
                return
        else:
            self._softmax(it, s, t)
        if self.run.training and it.n_errors == self.n_back:
            self._then(ready, max(t, it.t_errors), _BACKWARD, s)

    def _then(self, ready: list | None, t: float, kind: int, s: int) -> None:
        """Take a step that a step made possible: now, or in time order."""
        if ready is None:
            self._step(t, kind, s)
        else:
            heapq.heappush(ready, (t, kind, s))

    def _file_inputs(
        self, it: _Iteration, window: Window, a: int, b: int, last: float
    ) -> bool:
        """Forward messages ``a:b`` of the window; True once all are there."""
        n = b - a
        if it.n_x == 0 and n == self.n_in:  # all at once, in port order: a view
            it.x = (
                window.vectors(a, b)
                if self.run.batched
                else window.value[a:b].reshape(n, 1)
            )
        else:
            if it.x is None:
                it.x = np.zeros((self.n_in, it.size))
                it.got_x = np.zeros(self.n_in, dtype=bool)
            ports = window.port[a:b]
            it.x[ports] = (
                window.vectors(a, b) if self.run.batched else window.value[a:b, None]
            )
            it.got_x[ports] = True
        it.n_x += n
        if last > it.t_forward:
            it.t_forward = last
        return it.n_x == self.n_in

    def _file_errors(
        self, it: _Iteration, window: Window, a: int, b: int, last: float
    ) -> bool:
        """Error messages ``a:b`` of the window; True once all are there."""
        n = b - a
        batched = self.run.batched
        if it.n_errors == 0 and n == self.n_back:
            it.errors = window.value[a:b]
            if batched:
                it.vectors = window.vectors(a, b)
        else:
            if it.errors is None:
                it.errors = np.zeros(self.n_back)
                it.got_errors = np.zeros(self.n_back, dtype=bool)
                if batched:
                    it.vectors = np.zeros((self.n_back, it.size))
            ports = window.port[a:b]
            it.errors[ports] = window.value[a:b]
            if batched:
                it.vectors[ports] = window.vectors(a, b)
            it.got_errors[ports] = True
        it.n_errors += n
        if last > it.t_errors:
            it.t_errors = last
        return it.n_errors == self.n_back

    def _file_peers(
        self, it: _Iteration, window: Window, a: int, b: int, last: float
    ) -> bool:
        """Softmax messages ``a:b`` (the group's e); True once all are there."""
        if it.peers is None:
            it.peers = np.empty((self.n_peers + 1, it.size))
        ports = window.port[a:b]
        it.peers[ports] = (
            window.vectors(a, b) if self.run.batched else window.value[a:b, None]
        )
        it.n_peers += b - a
        if last > it.t_peers:
            it.t_peers = last
        return it.n_peers == self.n_peers

    # -- the three formulas, at their times
    def _forward(self, it: _Iteration, s: int, t: float) -> None:
        run = self.run
        it.t_forward = t
        it.version = self.updates
        if run.stash:
            it.w_used = self.params[:-1].copy()
        if self.n_peers:  # y waits for the group: send e to the others
            it.e = e = model.weighted_sum(self.params, it.x)
            if it.peers is None:
                it.peers = np.empty((self.n_peers + 1, it.size))
            it.peers[self.wiring.group_rank] = e
            if not np.isfinite(e).all():
                it.problem = "output"
            run.transport.send(
                self.wiring.softmax, self.me, s, t, e if run.batched else float(e[0])
            )
            return
        it.e, it.y = model.forward(self.params, it.x, self.f)
        self._forwarded(it, s, t)

    def _softmax(self, it: _Iteration, s: int, t: float) -> None:
        it.y = model.softmax(it.peers, self.wiring.group_rank, self.f)
        self._forwarded(it, s, t)

    def _forwarded(self, it: _Iteration, s: int, t: float) -> None:
        """What follows from y: its checks, messages, output and record."""
        run, e, y = self.run, it.e, it.y
        if run.batched:
            if not (np.isfinite(e).all() and np.isfinite(y).all()):
                it.problem = "output"
        elif not (math.isfinite(e[0]) and math.isfinite(y[0])):
            it.problem = "output"
        if self.wiring.forward is not None:
            run.transport.send(
                self.wiring.forward, self.me, s, t, y if run.batched else float(y[0])
            )
        if self.wiring.is_output:
            self._outputs.append((s, y))
        if not run.training:
            if run.updates is not None:  # recorded: what forward computed
                run.updates(
                    StepRecord(
                        s, self.me, math.nan, None, None, e, y,
                        self.fprime(e, y), None, None, None, it.version,
                        it.t_forward,
                    )
                )  # fmt: skip
            self._close(s)
            self._done.append((s, t, 0))
            if it.problem:
                self._problems.append((s, it.problem))

    def _backward(self, it: _Iteration, s: int, t: float) -> None:
        run, wiring, params = self.run, self.wiring, self.params
        received = model.summed_errors(it.errors, it.vectors) if self.n_back else None
        target = None
        if wiring.is_output:
            column = run.targets[wiring.output_column]
            start = it.start
            target = column[start : start + it.size] if run.batched else column[start]
        d = model.delta(received, it.size, target, it.y)
        fprime = self.fprime(it.e, it.y)
        g = fprime * d
        if wiring.backward is not None:
            if wiring.weight_index is not None:
                w = it.w_used if run.stash else params[:-1]
                coefficients = w[wiring.weight_index]
            else:
                coefficients = wiring.fixed
            signal = run.rule.backward_signal(d, g)
            run.transport.send(
                wiring.backward,
                self.me,
                s,
                t,
                signal if run.batched else signal[0],
                coefficients,
            )
        grad = model.gradient(
            it.x, run.rule.update_signal(d, g), it.size, self.state.has_bias
        )
        recorded = run.updates is not None
        if recorded:  # before the optimizer, which may change grad in place
            old, handed = params.copy(), grad.copy()
        run.optimizer.step(params, grad, self.state.optimizer_state)
        staleness = self.updates - it.version
        self.updates += 1
        # a finite sum means finite terms (an inf or nan term makes it so too)
        if (
            it.problem is None
            and not math.isfinite(_add(params))
            and not np.isfinite(params).all()
        ):
            it.problem = "weight update"
        if recorded:
            run.updates(
                StepRecord(
                    s, self.me, t, old, params.copy(), it.e, it.y, fprime, d, g,
                    handed, it.version, it.t_forward,
                )
            )  # fmt: skip
        self._close(s)
        self._done.append((s, t, staleness))
        if it.problem:
            self._problems.append((s, it.problem))

    def _close(self, s: int) -> None:
        del self.open[s]
        self.finished += 1
        if self.run.careful:
            self.closed.add(s)

    # -- message by message, for unreliable connections
    def _take_each(self, window: Window, groups: Sequence, deadlines: Sequence) -> None:
        """The same steps as :meth:`take`, one message at a time in time order.

        Needed when a receiver must ignore copies, remember the last value of
        each connection, or act at a deadline.
        """
        events: list[tuple] = []
        for step, s, a, b, _ in groups:
            arrival, port = window.arrival, window.port
            prio = _FORWARD if step == STEP_FORWARD else _BACKWARD
            for i in range(a, b):
                events.append((float(arrival[i]), prio, s, int(port[i]), i))
        for deadline, s in deadlines:
            events.append((deadline, _DEADLINE, s, -1, -1))
        heapq.heapify(events)
        while events:
            t, prio, s, p, i = heapq.heappop(events)
            if i == -2:  # a backward step made possible by a forward step
                self._backward(self.open[s], s, t)
            elif prio == _DEADLINE:
                self._at_deadline(s, t)
            elif prio == _FORWARD:
                self._one_input(window, s, p, i, t, events)
            else:
                self._one_error(window, s, p, i, t, events)

    def _one_input(
        self, window: Window, s: int, p: int, i: int, t: float, events
    ) -> None:
        if s in self.closed:
            return
        it = self._iteration(s)
        if it.version >= 0 or (it.got_x is not None and it.got_x[p]):
            return  # a copy, or too late: ignored
        if it.x is None:
            it.x = np.zeros((self.n_in, it.size))
            it.got_x = np.zeros(self.n_in, dtype=bool)
        value = window.vectors(i, i + 1)[0] if self.run.batched else window.value[i]
        it.x[p] = value
        it.got_x[p] = True
        self.last_x[p] = value
        it.n_x += 1
        it.t_forward = max(it.t_forward, t)
        if it.n_x == self.n_in:
            self._forward(it, s, t)
            self._backward_if_ready(it, s, t, events)

    def _one_error(
        self, window: Window, s: int, p: int, i: int, t: float, events
    ) -> None:
        if s in self.closed:
            return
        it = self._iteration(s)
        if it.got_errors is not None and it.got_errors[p]:
            return
        if it.errors is None:
            self._empty_errors(it)
        it.errors[p] = window.value[i]
        value: Any = window.value[i]
        if self.run.batched:
            it.vectors[p] = vector = window.vectors(i, i + 1)[0]
            value = (value, vector)
        it.got_errors[p] = True
        self.last_errors[p] = value
        it.n_errors += 1
        it.t_errors = max(it.t_errors, t)
        if it.n_errors == self.n_back and it.version >= 0:
            self._backward(it, s, max(it.t_forward, t))

    def _backward_if_ready(self, it: _Iteration, s: int, t: float, events) -> None:
        if self.run.training and it.n_errors == self.n_back:
            heapq.heappush(events, (max(t, it.t_errors), _BACKWARD, s, -1, -2))

    def _empty_errors(self, it: _Iteration) -> None:
        it.errors = np.zeros(self.n_back)
        it.got_errors = np.zeros(self.n_back, dtype=bool)
        if self.run.batched:
            it.vectors = np.zeros((self.n_back, it.size))

    def _at_deadline(self, s: int, t: float) -> None:
        """Iteration `s`'s deadline: go on with what is there, filling the rest."""
        if s in self.closed:
            return
        it = self._iteration(s)
        last = self.run.on_missing == "last"
        if it.version < 0:
            if it.x is None:
                it.x = np.zeros((self.n_in, it.size))
                it.got_x = np.zeros(self.n_in, dtype=bool)
            for p in np.flatnonzero(~it.got_x).tolist():
                value = self.last_x.get(p) if last else None
                if value is not None and (
                    not self.run.batched or len(value) == it.size
                ):
                    it.x[p] = value
            it.n_x = self.n_in
            self._forward(it, s, t)
        if self.run.training and s in self.open:
            if it.errors is None:
                self._empty_errors(it)
            for p in np.flatnonzero(~it.got_errors).tolist():
                value = self.last_errors.get(p) if last else None
                if value is None:
                    continue
                if self.run.batched:
                    c, vector = value
                    if len(vector) == it.size:
                        it.errors[p], it.vectors[p] = c, vector
                else:
                    it.errors[p] = value
            it.n_errors = self.n_back
            self._backward(it, s, t)

    def waiting(self, iterations) -> list[tuple[int, str, tuple[int, ...]]]:
        """``(iteration, step, senders)`` for each of `iterations` it still waits in."""
        out = []
        for s in sorted(iterations):
            it = self.open.get(s)
            if it is None:
                if s in self.closed or (not self.run.careful and s < self.finished):
                    continue  # done here (without faults, in iteration order)
                out.append((s, "forward", self.wiring.senders))  # nothing came yet
                continue
            if it.version < 0:
                got = it.got_x if it.got_x is not None else np.zeros(self.n_in, bool)
                senders = self.wiring.senders
                step = "forward"
            else:
                got = (
                    it.got_errors
                    if it.got_errors is not None
                    else np.zeros(self.n_back, bool)
                )
                senders = self.wiring.error_senders
                step = "backward"
            out.append(
                (s, step, tuple(senders[p] for p in np.flatnonzero(~got).tolist()))
            )
        return out


def _ones(e: Array, y: Array) -> Array:
    return np.ones_like(e)


class Inbox:
    """A neuron's inbox: one slot, for the one delivery of each window.

    The conductor delivers to a neuron at most once per window and waits for
    its report before the next, so the inbox never holds more than one item.
    It is built on trio's low-level parking (``wait_task_rescheduled`` and
    ``reschedule``, trio's documented way to write a primitive), without a
    memory channel's bookkeeping: a 100,000-neuron run opens 100,000 of them
    per call and wakes a neuron 300 times per 100-100-100 iteration.
    :meth:`close` ends the neuron's task. Its methods are protected from
    ``KeyboardInterrupt`` (trio then delivers it at the conductor's next
    checkpoint): a Ctrl-C between parking a task and recording it would
    otherwise wake a finished task, or never wake a waiting one.
    """

    __slots__ = ("_item", "_task", "ended")
    _EMPTY = object()
    _CLOSED = object()

    def __init__(self) -> None:
        self._item: Any = Inbox._EMPTY
        self._task: Any = None
        self.ended = False  # the neuron's task has returned

    @trio.lowlevel.enable_ki_protection
    def put(self, item: Any) -> None:
        """Deliver `item` (the conductor's side; never blocks)."""
        task = self._task
        if task is None:  # the neuron has not started waiting yet
            if self._item is not Inbox._EMPTY:
                raise RuntimeError("a second delivery before the first was taken")
            self._item = item
        else:
            self._task = None
            trio.lowlevel.reschedule(task, outcome.Value(item))

    @trio.lowlevel.enable_ki_protection
    def close(self) -> None:
        """No more deliveries: the neuron's :meth:`get` raises EndOfChannel.

        A delivery not taken yet (the run was cancelled before the neuron
        woke) is dropped: the run is over.
        """
        task = self._task
        if task is None:
            self._item = Inbox._CLOSED
        else:
            self._task = None
            trio.lowlevel.reschedule(task, outcome.Value(Inbox._CLOSED))

    @trio.lowlevel.enable_ki_protection
    async def get(self) -> Any:
        """The next delivery, waiting for it if need be."""
        item = self._item
        if item is Inbox._EMPTY:
            self._task = trio.lowlevel.current_task()

            def abort(_: Any) -> trio.lowlevel.Abort:
                self._task = None
                return trio.lowlevel.Abort.SUCCEEDED

            item = await trio.lowlevel.wait_task_rescheduled(abort)
        else:
            self._item = Inbox._EMPTY
        if item is Inbox._CLOSED:
            raise trio.EndOfChannel
        return item


async def run_neuron(
    state: NeuronState, wiring: Wiring, inbox: Inbox, run: Run
) -> None:
    """A neuron's task: one delivery per window, until its work is done.

    A delivery is a tuple ``(parts, deadlines)`` (see :meth:`Neuron.take`), or a list of
    iterations to ask what the neuron still waits for in them (the
    watchdog's question). On reliable connections nothing can arrive after
    the neuron's last step of the last iteration, so it ends there; with
    faults, late copies may still come, and it ends when the conductor closes
    its inbox. Call it inside ``np.errstate(all="ignore")``: non-finite
    values are reported (a DivergenceError), not warned about. An exception
    comes out as a :class:`~neurosim.errors.NeuronError` naming the neuron.
    """
    try:
        neuron = Neuron(state, wiring, run)
        get, take, report = inbox.get, neuron.take, run.report
        last = -1 if run.careful or run.iterations is None else run.iterations
        while neuron.finished != last:
            try:
                delivery = await get()
            except trio.EndOfChannel:
                return
            if type(delivery) is tuple:
                report(take(*delivery))
            else:  # the watchdog's question: a list of iterations
                report((neuron.me, neuron.waiting(delivery)))
        inbox.ended = True
    except Exception as exc:  # what the neuron's own code (or a custom piece) raised
        raise NeuronError(state.name, f"{type(exc).__name__}: {exc}") from exc

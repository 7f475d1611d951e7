"""The exceptions neurosim raises.

Every complaint about what a caller passed in is a :class:`ValueError`
subclass whose message names the offending node, edge or argument, and is
raised before any neuron starts.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "DataError",
    "DivergenceError",
    "NetworkBusyError",
    "NetworkError",
    "NeuronError",
    "PartitionError",
    "StalledError",
    "StopTraining",
    "Waiting",
]


class NetworkError(ValueError):
    """The graph cannot be simulated (a cycle, a missing weight, ...)."""


class DataError(ValueError):
    """An argument of ``train``, ``predict`` or a data set is unusable (a NaN...)."""


class DivergenceError(ArithmeticError):
    """A value became infinite or NaN during training (or in ``predict``).

    Attributes
    ----------
    neuron : hashable
        The neuron where the non-finite value appeared.
    epoch, sample : int
        Where in training it happened (0-based; ``sample`` is the batch's
        index in mini-batch training). In ``predict``, ``epoch`` is 0 and
        ``sample`` the index of the batch of ``X`` (its forward wave).
    quantity : str
        What became non-finite: ``"output"`` (the neuron's ``e`` or ``y``) or
        ``"weight update"`` (its weights or bias after an update).
    training : bool
        False when ``predict`` raised it.
    history : History or None
        What the training did before the iteration that diverged: the
        :class:`~neurosim.History` (without a trace) that the same call with
        ``stop_after=`` that iteration would have returned, so that
        ``history.epoch_loss`` holds the per-epoch losses so far (the last
        epoch partial when the divergence came in the middle of one) and
        ``plot.loss(error.history)`` draws them. Empty when the first
        iteration diverged; None when ``predict`` raised it.

    Examples
    --------
    The worked example with the article's η = 0.1: E grows every epoch until
    a weight overflows in epoch 7; the history holds epochs 0 to 6.

    >>> import neurosim
    >>> net = neurosim.Network(neurosim.examples.worked_example())
    >>> X, Z = neurosim.examples.WORKED_EXAMPLE_DATA
    >>> try:
    ...     net.train(X, Z, learning_rate=0.1, epochs=100)
    ... except neurosim.DivergenceError as error:
    ...     print(error.epoch, [f"{E:.3g}" for E in error.history.epoch_loss])
    7 ['115', '491', '1.02e+04', '5.39e+08', '6.4e+23', '1.11e+69', '5.78e+204']
    """

    def __init__(
        self,
        neuron: object,
        epoch: int,
        sample: int,
        quantity: str,
        training: bool = True,
    ):
        self.neuron = neuron
        self.epoch = epoch
        self.sample = sample
        self.quantity = quantity
        self.training = training
        # a neurosim.History, filled in by Network.train (errors.py imports
        # nothing of neurosim, so it is not named here)
        self.history: Any = None
        if training:
            message = (
                f"training diverged: neuron {neuron!r} computed a non-finite "
                f"{quantity} in epoch {epoch}, sample {sample} "
                "(try a smaller learning rate)"
            )
        else:
            message = (
                f"predict: neuron {neuron!r} computed a non-finite {quantity} "
                f"in batch {sample} of X (the weights or the inputs are too "
                "large for float64)"
            )
        super().__init__(message)

    def __reduce__(self):  # keep pickling (and copying) working
        return (
            type(self),
            (self.neuron, self.epoch, self.sample, self.quantity, self.training),
            {"history": self.history},
        )


class NeuronError(RuntimeError):
    """An unexpected exception inside a neuron's task; ``__cause__`` holds it."""

    def __init__(self, neuron: object, message: str):
        self.neuron, self.message = neuron, message
        super().__init__(f"neuron {neuron!r}: {message}")

    def __reduce__(self):  # the same error in another process
        return (type(self), (self.neuron, self.message))


class PartitionError(RuntimeError):
    """A partition of a distributed backend stopped (its process died).

    Attributes
    ----------
    partition : int
        Its number.
    neurons : tuple
        The neurons it held.
    """

    def __init__(self, partition: int, neurons: tuple, reason: str):
        self.partition, self.neurons, self.reason = partition, tuple(neurons), reason
        shown = ", ".join(map(repr, self.neurons[:4]))
        more = f" and {len(self.neurons) - 4} more" if len(self.neurons) > 4 else ""
        super().__init__(
            f"partition {partition} (neurons {shown}{more}) stopped: {reason}"
        )

    def __reduce__(self):
        return (type(self), (self.partition, self.neurons, self.reason))


class NetworkBusyError(RuntimeError):
    """A :class:`~neurosim.Network` is already running a call.

    The synchronous ``train`` and ``predict`` wait for each other, from any
    number of threads; ``train_async`` and ``predict_async`` cannot wait
    without blocking their event loop, so they raise this instead when the
    network is busy (another task of the same trio run, or another thread).
    """


class Waiting(NamedTuple):
    """One neuron that waits for messages that will never come.

    Attributes
    ----------
    neuron : hashable
        The waiting neuron.
    iteration : int
        The iteration (sample, or batch) it waits in, counted from 0 across
        epochs.
    step : str
        ``"forward"`` (it waits for signals) or ``"backward"`` (for errors).
    senders : tuple
        The nodes whose messages it still waits for, in node order.
    """

    neuron: object
    iteration: int
    step: str
    senders: tuple


class StalledError(RuntimeError):
    """The simulation cannot go on: some neuron waits for a message that will
    never arrive (a lost message, or a rule that routes errors wrongly).

    Attributes
    ----------
    waiting : tuple of Waiting
        Every neuron found waiting, in iteration then node order.
    time : float
        The virtual time at which the run stopped.
    """

    def __init__(self, waiting, time: float, reason: str = "nothing is in flight"):
        self.waiting = tuple(waiting)
        self.time = time
        self.reason = reason
        shown = "; ".join(
            f"neuron {w.neuron!r} waits in iteration {w.iteration} ({w.step}) "
            f"for {', '.join(repr(s) for s in w.senders)}"
            for w in self.waiting[:5]
        )
        more = len(self.waiting) - 5
        super().__init__(
            f"the simulation stalled at t = {time:g} ({reason}): {shown}"
            + (f"; and {more} more" if more > 0 else "")
        )

    def __reduce__(self):
        return (type(self), (self.waiting, self.time, self.reason))


class StopTraining(Exception):
    """Raised by a ``train(callbacks=...)`` callback to end training cleanly.

    Training stops after the epoch the callback was called for: the network
    keeps that epoch's weights and ``train`` returns the history of the epochs
    done. (Returning ``False`` from the callback does the same.)
    """

"""What travels between neurons: the one table of message kinds, and records.

A message goes on a connection ``u -> v`` (or, under direct feedback
alignment, on a feedback channel from an output to a hidden neuron) and
belongs to one iteration (a sample, or a mini-batch). Its **kind** is one of
:data:`KINDS`; the same codes index the trace's ``kind`` column, so the engine
and the trace cannot disagree about what a code means.

Three **steps** receive messages: a neuron's forward step waits for the
forward messages of its inputs, its backward step for the error messages
(kind ``"backward"`` or ``"feedback"``), and the softmax step of an output of
a softmax group for the ``"softmax"`` messages that bring the other outputs'
``e``. :data:`STEP_OF_KIND` maps one to the other.

At equal virtual times a neuron takes backward steps first, then softmax
steps, then forward steps (:data:`PRIORITY`), and the lower iteration first.

The engine's contracts are written as types here: :class:`Link` (a
connection as its sender sees it), :class:`SendRecord` and
:class:`StepRecord` (what the recorder keeps, decoded by name, never by
position). This module imports nothing from neurosim and nothing of trio.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BACKWARD",
    "FATES",
    "FEEDBACK",
    "FORWARD",
    "KINDS",
    "PRIORITY",
    "SOFTMAX",
    "STEPS",
    "STEP_BACKWARD",
    "STEP_FORWARD",
    "STEP_OF_KIND",
    "STEP_SOFTMAX",
    "Link",
    "SendRecord",
    "StepRecord",
]

#: The kinds of message, by code: a signal ``y`` on a connection, an error
#: message going back on a connection, an error message on a feedback channel
#: of its own (direct feedback alignment), and an output's ``e`` sent to the
#: other outputs of its softmax group (see ``docs/design.md``).
KINDS: tuple[str, ...] = ("forward", "backward", "feedback", "softmax")
FORWARD, BACKWARD, FEEDBACK, SOFTMAX = 0, 1, 2, 3

#: What happened to a message: delivered, lost, the extra copy of a
#: duplicated message, or arrived after its iteration's deadline (ignored).
FATES: tuple[str, ...] = ("delivered", "dropped", "duplicate", "late")

#: The steps of a neuron that messages feed, by code.
STEPS: tuple[str, ...] = ("forward", "backward", "softmax")
STEP_FORWARD, STEP_BACKWARD, STEP_SOFTMAX = 0, 1, 2
STEP_OF_KIND: tuple[int, ...] = (
    STEP_FORWARD,
    STEP_BACKWARD,
    STEP_BACKWARD,
    STEP_SOFTMAX,
)

#: Order of steps at equal virtual times (lower first): backward, softmax,
#: forward.
PRIORITY: tuple[int, ...] = (2, 0, 1)  # indexed by step code


class Link(NamedTuple):
    """One connection, as its sender sees it: where a message goes.

    Attributes
    ----------
    destination : int
        The receiver's index in the network's node order.
    port : int
        The sender's slot at the receiver (its rank among the receiver's
        predecessors, among the neurons sending it errors, or, for a softmax
        message, the sender's rank in the softmax group).
    delay : float
        Virtual time the message takes.
    channel : int
        The connection's identity for faults and traces: its index in the
        topology's edge order (feedback channels follow the edges).
    """

    destination: int
    port: int
    delay: float
    channel: int = 0


class SendRecord(NamedTuple):
    """One sending, as recorded: a value (or one per link) on a table of links.

    ``fate`` is ``None`` when every message was delivered, else one code of
    :data:`FATES` per link; ``extra`` holds the duplicated copies as
    ``(link positions, arrival times)``.
    """

    iteration: int
    kind: int
    source: int
    sent_at: float
    links: Any  # a transport LinkTable
    arrival: NDArray[np.float64] | float
    value: Any  # float, per-link array, or a batch vector (see Transport.send)
    coefficients: NDArray[np.float64] | None
    fate: NDArray[np.int8] | None = None
    extra: tuple[NDArray[np.intp], NDArray[np.float64]] | None = None


class StepRecord(NamedTuple):
    """What one neuron computed in one iteration, and its update.

    Kept for a recorded run: the forward step's ``e``, ``y`` and ``f'(e)``,
    the version of the weights it used (how many updates preceded it) and
    its time; the backward step's ``δ``, ``g``, the gradient handed to the
    optimizer and the parameters before and after, at ``time``. A run
    without training (``predict``) has no backward step: those are ``None``
    and ``time`` is NaN. Online every array has one element, in mini-batch
    training one per sample of the batch (the gradient has one per
    parameter).
    """

    iteration: int
    neuron: int
    time: float
    old: NDArray[np.float64] | None
    new: NDArray[np.float64] | None
    e: NDArray[np.float64]
    y: NDArray[np.float64]
    fprime: NDArray[np.float64]
    delta: NDArray[np.float64] | None
    g: NDArray[np.float64] | None
    gradient: NDArray[np.float64] | None
    version: int
    forward_at: float

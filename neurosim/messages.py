"""Messages between neurons, and the one place every message is sent from.

A message is a plain tuple ``(kind, port, value, arrival_time)``:

- ``kind`` is :data:`FORWARD` (a signal ``y`` on a connection ``u -> v``),
  :data:`BACKWARD` (an error message going back from ``v`` to ``u``),
  or one of the driver's :data:`INPUT` and :data:`TARGET` messages that bring a
  sample's values and targets into the network.
- ``port`` is the index of the sender among the receiver's predecessors
  (forward) or among its backward sources: the receiver files the value in a
  fixed slot, so arrival order never reaches an arithmetic result.
- ``value`` is a float in online training, a 1-D array holding the whole batch
  in mini-batch training.
- ``arrival_time`` is the virtual time at which the message arrives:
  ``sent_at + delay`` of the connection. Time travels on the messages, so the
  simulation needs neither a clock nor a sleep.

Tuples keep a message as cheap as trio allows (``send_nowait`` into an
unbounded inbox); :func:`post` and :func:`post_each` are the only functions
that put a neuron's messages on a connection, and the only place where virtual
time advances and where messages are recorded (once per call, not per
message: the links say where each message went and when it arrived).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

__all__ = [
    "BACKWARD",
    "FORWARD",
    "INPUT",
    "TARGET",
    "Link",
    "post",
    "post_each",
]

FORWARD = 0
BACKWARD = 1
INPUT = 2
TARGET = 3


Message = tuple[int, int, Any, float]


class Link(NamedTuple):
    """One connection, as its sender sees it: where a message goes.

    Links are fixed for a network and a learning rule; each run gives the
    senders a table ``sends`` of the inboxes' ``send_nowait``, indexed by
    node.

    Attributes
    ----------
    destination : int
        The receiver's index in the network's node order.
    port : int
        The sender's slot at the receiver.
    delay : float
        Virtual time the message takes on this connection.
    """

    destination: int
    port: int
    delay: float


Recorder = Callable[[tuple], None]


def post(
    sends: Sequence[Callable[[Message], None]],
    links: Sequence[Link],
    kind: int,
    sent_at: float,
    value: Any,
    record: Recorder | None = None,
    label: tuple = (),
) -> None:
    """Send the same `value` on every link, leaving at `sent_at`.

    With `record` (a ``list.append``), the sending is recorded once as
    ``(*label, kind, sent_at, links, value, False)``: the links hold each
    message's destination and delay, so a recorded message costs nothing
    more per link.
    """
    for destination, port, delay in links:
        sends[destination]((kind, port, value, sent_at + delay))
    if record is not None:
        record((*label, kind, sent_at, links, value, False))


def post_each(
    sends: Sequence[Callable[[Message], None]],
    links: Sequence[Link],
    kind: int,
    sent_at: float,
    values: Sequence[Any],
    record: Recorder | None = None,
    label: tuple = (),
) -> None:
    """Send ``values[i]`` on ``links[i]``, leaving at `sent_at`.

    Recorded as ``(*label, kind, sent_at, links, values, True)`` (see :func:`post`).
    """
    for (destination, port, delay), value in zip(links, values, strict=True):
        sends[destination]((kind, port, value, sent_at + delay))
    if record is not None:
        record((*label, kind, sent_at, links, values, True))

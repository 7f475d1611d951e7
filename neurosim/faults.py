"""Unreliable connections: lost, duplicated and late messages.

:class:`Faults` says how unreliable the connections are. Every decision is a
function of the seed and of the message's identity (its channel, kind and
iteration), computed with a counter-based hash, so it never depends on the
order in which trio runs the neurons: the same seed gives the same run, bit
for bit. The transport applies the decisions (see
:mod:`neurosim.transport`); the receivers never learn why a message is
missing.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from numpy.typing import NDArray

from neurosim.errors import DataError

__all__ = ["ON_MISSING", "Faults", "uniforms"]

#: What a neuron does about a message that never arrives.
ON_MISSING: tuple[str, ...] = ("error", "zero", "last")

_KIND_NAMES = ("forward", "backward", "feedback")
_MASK = (1 << 64) - 1


def _probability(name: str, value: object) -> float:
    if (
        not isinstance(value, Real)
        or isinstance(value, bool)
        or not 0 <= float(value) <= 1
    ):
        raise DataError(
            f"Faults: {name} must be a probability in [0, 1], got {value!r}"
        )
    return float(value)


@dataclass(frozen=True)
class Faults:
    """How unreliable the connections are, for ``Network.train(faults=...)``.

    Parameters
    ----------
    drop : float
        Probability that a message is lost.
    duplicate : float
        Probability that a message is delivered twice, the copy one delay
        later (a receiver ignores the copy).
    jitter : float
        Every message takes an extra delay drawn uniformly from
        ``[0, jitter]``.
    seed : int
        Seed of every random decision above.
    drops : iterable of ``(u, v, kind, iteration)``
        Messages that are lost for sure. ``(u, v)`` is always the graph's
        connection ``u -> v`` (a ``"backward"`` loss on it is the error going
        from ``v`` back to ``u``; a ``"feedback"`` loss on ``(h, o)`` the
        direct feedback from ``o`` to ``h``), ``kind`` one of ``"forward"``,
        ``"backward"``, ``"feedback"``, and ``iteration`` counts samples (or
        batches) from 0 across epochs.
    on_missing : {"error", "zero", "last"}
        ``"error"``: a lost message stops the run with
        :class:`~neurosim.StalledError`. ``"zero"`` or ``"last"``: once the
        iteration's deadline has passed, a neuron goes on with 0, or with the
        last value received on that connection.
    timeout : float, optional
        The deadline, in virtual time after the iteration entered. By default
        twice the longest time an iteration can take without a loss.

    Examples
    --------
    >>> Faults(drop=0.1, seed=3)
    Faults(drop=0.1, seed=3)
    >>> Faults(drops=[("h1", "o1", "backward", 0)], on_missing="zero").drops
    (('h1', 'o1', 'backward', 0),)
    """

    drop: float = 0.0
    duplicate: float = 0.0
    jitter: float = 0.0
    seed: int = 0
    drops: tuple[tuple[Hashable, Hashable, str, int], ...] = field(default=())
    on_missing: str = "error"
    timeout: float | None = None

    def __post_init__(self) -> None:
        drop = _probability("drop", self.drop)
        duplicate = _probability("duplicate", self.duplicate)
        if drop + duplicate > 1:
            raise DataError(
                f"Faults: drop + duplicate must be at most 1, got {drop + duplicate}"
            )
        jitter = self.jitter
        if (
            not isinstance(jitter, Real)
            or isinstance(jitter, bool)
            or not math.isfinite(jitter)
            or jitter < 0
        ):
            raise DataError(
                f"Faults: jitter must be a finite number >= 0, got {jitter!r}"
            )
        if not isinstance(self.seed, Integral) or isinstance(self.seed, bool):
            raise DataError(f"Faults: seed must be an integer, got {self.seed!r}")
        if self.on_missing not in ON_MISSING:
            raise DataError(
                f"Faults: on_missing must be one of {ON_MISSING}, "
                f"got {self.on_missing!r}"
            )
        timeout = self.timeout
        if timeout is not None and (
            not isinstance(timeout, Real)
            or isinstance(timeout, bool)
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise DataError(
                f"Faults: timeout must be a positive finite number, got {timeout!r}"
            )
        drops = tuple(tuple(d) for d in self._iterable(self.drops))
        for d in drops:
            if (
                len(d) != 4
                or d[2] not in _KIND_NAMES
                or not isinstance(d[3], Integral)
                or isinstance(d[3], bool)
                or d[3] < 0
            ):
                raise DataError(
                    "Faults: each entry of drops must be (u, v, kind, iteration) "
                    f"with kind one of {_KIND_NAMES} and iteration an integer "
                    f">= 0, got {d!r}"
                )
        for name, value in (
            ("drop", drop),
            ("duplicate", duplicate),
            ("jitter", float(jitter)),
            ("seed", int(self.seed)),
            ("drops", tuple((u, v, k, int(s)) for u, v, k, s in drops)),
            ("timeout", None if timeout is None else float(timeout)),
        ):
            object.__setattr__(self, name, value)

    @staticmethod
    def _iterable(drops: object) -> Iterable:
        if isinstance(drops, str) or not isinstance(drops, Iterable):
            raise DataError(
                f"Faults: drops must be a sequence of tuples, got {drops!r}"
            )
        return drops

    @property
    def random(self) -> bool:
        """Whether any decision is random (drop, duplicate or jitter)."""
        return bool(self.drop or self.duplicate or self.jitter)

    def __repr__(self) -> str:
        default = Faults.__dataclass_fields__
        shown = [
            f"{name}={getattr(self, name)!r}"
            for name in (
                "drop",
                "duplicate",
                "jitter",
                "seed",
                "drops",
                "on_missing",
                "timeout",
            )
            if getattr(self, name) != default[name].default
            or (name == "seed" and self.random)
        ]
        return f"Faults({', '.join(shown)})"


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """splitmix64's finaliser: a bijection of 64-bit words that mixes every bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def uniforms(
    seed: int, purpose: int, kind: int, iteration: int, channels: NDArray[np.intp]
) -> NDArray[np.float64]:
    """One uniform number in [0, 1) per channel, a pure function of its inputs.

    ``purpose`` separates the independent decisions (0: lost or copied,
    1: the jitter) about one message.

    Examples
    --------
    >>> u = uniforms(0, 0, 0, 5, np.arange(3))
    >>> (
    ...     bool(((0 <= u) & (u < 1)).all()),
    ...     bool((u == uniforms(0, 0, 0, 5, np.arange(3))).all()),
    ... )
    (True, True)
    """
    key = (
        (seed & _MASK) * 0x9E3779B97F4A7C15
        + (purpose + 1) * 0xD1B54A32D192ED03
        + (kind + 1) * 0x8CB92BA72F3D8DD7
        + (iteration + 1) * 0xABC98388FB8FAC03
    ) & _MASK
    with np.errstate(over="ignore"):
        x = _mix(
            np.uint64(key) ^ _mix(np.asarray(channels, dtype=np.uint64) + np.uint64(1))
        )
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))

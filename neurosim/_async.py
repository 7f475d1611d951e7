"""Running the trio simulation from trio, from asyncio (Jupyter) or from plain code.

A simulation is a trio program. :func:`any_async_library` lets an ``async``
method of :class:`~neurosim.Network` be awaited under either library, as
:mod:`sniffio` (which trio depends on) detects it:

- under **trio** it runs in the caller's own run;
- under **asyncio** (every Jupyter cell) it runs ``trio.run`` in a worker
  thread, so the asyncio loop goes on serving its other tasks; cancelling the
  awaiting task (or interrupting it) cancels the simulation and waits for it
  to end, so that the network is left as it was.

:func:`run_sync` is what the synchronous methods use: ``trio.run`` in the
calling thread. That works in plain code and also where an asyncio loop runs
the calling code (a Jupyter cell: the call then blocks the loop, as any
synchronous call does), but not inside a running trio program, which cannot
start another: there it says to use the ``async`` method.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import sniffio
import trio

__all__ = ["any_async_library", "run_sync"]

P = ParamSpec("P")
R = TypeVar("R")


def _in_trio_run() -> bool:
    try:
        trio.lowlevel.current_trio_token()
    except RuntimeError:
        return False
    return True


def run_sync(name: str, instead: str, async_fn: Callable[[], Awaitable[R]]) -> R:
    """``trio.run(async_fn)``, or a RuntimeError naming `instead` inside trio."""
    if _in_trio_run():
        raise RuntimeError(
            f"{name}() cannot run inside a running trio program (trio cannot "
            f"start a run inside another); use `await {instead}(...)` instead"
        )
    return trio.run(async_fn)


def any_async_library(
    method: Callable[P, Awaitable[R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Make an ``async`` trio method awaitable under trio and under asyncio."""

    @functools.wraps(method)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            library: str | None = sniffio.current_async_library()
        except sniffio.AsyncLibraryNotFoundError:
            library = None
        if library == "trio":
            return await method(*args, **kwargs)
        if library == "asyncio":
            return await _in_worker_thread(functools.partial(method, *args, **kwargs))
        raise RuntimeError(
            f"{method.__qualname__} runs under trio or asyncio, "
            f"not {library or 'an unknown async library'}"
        )

    return run


class _Cancelled(Exception):
    """The worker's trio run ended because the awaiting asyncio task was cancelled."""


class _Run:
    """A trio run in a worker thread, which the asyncio side can cancel."""

    def __init__(self, async_fn: Callable[[], Awaitable[Any]]):
        self.async_fn = async_fn
        self.lock = threading.Lock()
        self.cancelled = False
        self.token: trio.lowlevel.TrioToken | None = None
        self.scope: trio.CancelScope | None = None

    async def main(self) -> Any:
        with trio.CancelScope() as scope:
            with self.lock:
                self.token, self.scope = trio.lowlevel.current_trio_token(), scope
                if self.cancelled:
                    scope.cancel()
            return await self.async_fn()
        raise _Cancelled

    def cancel(self) -> None:
        with self.lock:
            self.cancelled = True
            if self.token is not None and self.scope is not None:
                with contextlib.suppress(trio.RunFinishedError):  # it has ended
                    self.token.run_sync_soon(self.scope.cancel)


async def _in_worker_thread(async_fn: Callable[[], Awaitable[R]]) -> R:
    run = _Run(async_fn)
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(None, trio.run, run.main)
    try:
        return await asyncio.shield(future)
    except BaseException:
        if future.done():  # the run's own outcome: an error of the simulation
            raise
        # Cancelled, or a KeyboardInterrupt thrown into the task, while the run
        # goes on: stop it, and wait until it has restored the network.
        run.cancel()
        while not future.done():
            with contextlib.suppress(BaseException):
                await asyncio.shield(future)
        future.exception()  # retrieved: asyncio does not log it
        raise

"""train_async and predict_async under trio and asyncio; train and predict in loops."""

import asyncio
import threading

import numpy as np
import pytest
import trio

import neurosim

X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
Z = [[0.0], [1.0], [1.0], [0.0]]


def network() -> neurosim.Network:
    return neurosim.Network(neurosim.layered([2, 3, 1], seed=0))


def trained_synchronously(epochs: int = 5) -> neurosim.Network:
    net = network()
    net.train(X, Z, learning_rate=0.5, epochs=epochs)
    return net


def test_train_async_under_asyncio_equals_train():
    expected = trained_synchronously()
    net = network()

    async def main():
        history = await net.train_async(X, Z, learning_rate=0.5, epochs=5)
        return history, await net.predict_async(X)

    history, y = asyncio.run(main())
    assert net.weights == expected.weights
    assert net.biases == expected.biases
    assert history.loss.shape == (20,)
    np.testing.assert_array_equal(y, expected.predict(X))


@pytest.fixture
def expected():
    """Trained by the synchronous call (a sync fixture runs outside trio)."""
    net = trained_synchronously()
    return net.weights, net.predict(X)


async def test_train_async_under_trio_equals_train(expected):
    net = network()
    await net.train_async(X, Z, learning_rate=0.5, epochs=5)
    assert net.weights == expected[0]
    np.testing.assert_array_equal(await net.predict_async(X), expected[1])


def test_train_async_under_asyncio_leaves_the_loop_free():
    # The progress callback (in the worker thread) waits until an asyncio task
    # has run: it can only do so if the simulation does not block the loop.
    net = network()
    served = threading.Event()

    async def main():
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()

        def progress(done, total):
            if done == 1:
                loop.call_soon_threadsafe(ready.set)
                assert served.wait(timeout=60), "the asyncio loop was blocked"

        async def other_task():
            await ready.wait()
            served.set()

        task = asyncio.create_task(other_task())
        await net.train_async(X, Z, learning_rate=0.5, epochs=3, progress=progress)
        await task

    asyncio.run(main())
    assert served.is_set()
    assert net.weights == trained_synchronously(3).weights


def test_cancelling_train_async_under_asyncio_leaves_the_network_as_it_was():
    net = network()
    before = net.weights, net.biases
    cancelled = threading.Event()

    async def main():
        loop = asyncio.get_running_loop()

        async def cancel(task):
            task.cancel()
            for _ in range(100):  # let the task see it and pass it on to trio
                await asyncio.sleep(0)
            cancelled.set()

        def progress(done, total):
            if done == 2:
                asyncio.run_coroutine_threadsafe(cancel(training), loop)
                assert cancelled.wait(timeout=60)

        training = asyncio.create_task(
            net.train_async(X, Z, learning_rate=0.5, epochs=50, progress=progress)
        )
        with pytest.raises(asyncio.CancelledError):
            await training

    asyncio.run(main())
    assert (net.weights, net.biases) == before
    assert cancelled.is_set()


def test_errors_under_asyncio_are_the_same_and_leave_the_network_alone():
    net = network()
    before = net.weights

    async def main():
        with pytest.raises(neurosim.DataError, match="Z has shape"):
            await net.train_async(X, [[1.0, 2.0]])
        with pytest.raises(neurosim.DivergenceError):
            await net.train_async(X, [[1e300]] * 4, learning_rate=1e300)

    asyncio.run(main())
    assert net.weights == before


def test_train_inside_trio_says_to_use_train_async():
    net = network()
    before = net.weights

    async def main():
        with pytest.raises(RuntimeError, match=r"await net\.train_async"):
            net.train(X, Z)
        with pytest.raises(RuntimeError, match=r"await net\.predict_async"):
            net.predict(X)

    trio.run(main)
    assert net.weights == before


def test_train_in_a_running_asyncio_loop_works_as_in_jupyter():
    # A Jupyter cell runs synchronous code inside an asyncio task: a plain
    # `net.train()` there blocks the loop, as any synchronous call, and works.
    net = network()

    async def cell():
        assert asyncio.get_running_loop() is not None
        net.train(X, Z, learning_rate=0.5, epochs=5)
        return net.predict(X)

    y = asyncio.run(cell())
    expected = trained_synchronously()
    assert net.weights == expected.weights
    np.testing.assert_array_equal(y, expected.predict(X))


def test_two_networks_train_concurrently_under_asyncio():
    nets = [network(), network()]

    async def main():
        await asyncio.gather(
            *(n.train_async(X, Z, learning_rate=0.5, epochs=5) for n in nets)
        )

    asyncio.run(main())
    expected = trained_synchronously().weights
    assert [n.weights for n in nets] == [expected, expected]

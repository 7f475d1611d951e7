"""The public API as a user's typed code uses it; tests/test_typing.py runs mypy on it.

The functions are never called: mypy reads them. ``assert_type`` fails the
check when neurosim's annotations say something else.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import assert_type

import matplotlib.axes
import networkx as nx
import numpy as np
from numpy.typing import NDArray

import neurosim
from neurosim import History, Network, plot

Array = NDArray[np.float64]
X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
Z = [[0.0], [1.0], [1.0], [0.0]]


def stop_when_good(history: History) -> bool:
    return bool(history.validation_loss[-1] > 0.01)


def build() -> Network:
    G = neurosim.layered([2, 3, 1], activation="sigmoid", seed=0)
    assert_type(G, nx.DiGraph)
    topology = neurosim.validate(G)
    assert_type(topology, neurosim.Topology)
    return Network(G, inputs=["i1", "i2"], outputs=["o1"])


def train_and_predict(net: Network) -> None:
    history = net.train(
        X,
        Z,
        learning_rate=0.5,
        epochs=10,
        batch_size=2,
        optimizer=neurosim.optimizers.Adam(learning_rate=0.01),
        rule="feedback_alignment",
        record=neurosim.Record(kinds=("forward",)),
        progress=lambda done, total: None,
        callbacks=[stop_when_good, lambda h: None],
        validation=(X, Z),
    )
    assert_type(history, History)
    assert_type(history.loss, Array)
    assert_type(history.epoch_loss, Array)
    assert_type(history.validation_loss, Array)
    assert_type(history.staleness, NDArray[np.int64])
    assert_type(history.duration, float)
    assert_type(history + history, History)
    assert_type(History.concat([history, history]), History)
    assert_type(net.predict(np.array(X), batch_size=2), Array)
    weights: dict[tuple[Hashable, Hashable], float] = net.weights
    biases: dict[Hashable, float] = net.biases
    assert_type(net.to_graph(), nx.DiGraph)
    print(weights, biases, net.inputs, net.outputs, net.last_trace)
    net.train(X, Z, faults=neurosim.Faults(drop=0.1, seed=0, on_missing="zero"))
    net.train(X, Z, in_flight=None, interval=0.5, stash=True)


async def train_async(net: Network) -> None:
    history = await net.train_async(X, Z, learning_rate=0.5, callbacks=stop_when_good)
    assert_type(history, History)
    assert_type(await net.predict_async(X), Array)


def errors(net: Network) -> None:
    try:
        net.train(X, Z)
    except neurosim.DivergenceError as error:
        print(error.neuron, error.epoch, error.sample)
    except neurosim.StalledError as error:
        print(error.waiting, error.time)
    except (neurosim.DataError, neurosim.NetworkError, neurosim.NeuronError):
        raise


def stop(history: History) -> None:
    if history.epochs > 3:
        raise neurosim.StopTraining


def reference_and_plots(net: Network) -> None:
    G = net.to_graph()
    result = neurosim.reference.train(G, X, Z, learning_rate=0.5, epochs=2)
    assert_type(result, neurosim.reference.ReferenceResult)
    assert_type(neurosim.reference.predict(G, X), Array)
    history = net.train(X, Z, record=True)
    ax = plot.loss(history, samples_per_epoch=history.samples_per_epoch)
    assert_type(ax, matplotlib.axes.Axes)
    trace = history.trace
    assert_type(trace, neurosim.Trace | None)
    if trace is not None:
        assert_type(trace.filter(epoch=0), neurosim.Trace)
        assert_type(plot.timeline(trace), matplotlib.axes.Axes)
        trace.to_csv("trace.csv")
        assert_type(trace.to_html("trace.html", title="one step"), Path)
    last = net.last_trace
    if last is not None:
        assert_type(len(last), int)


def data_sets(net: Network) -> None:
    data = neurosim.datasets.circle(n=100, noise=0.1, seed=0)
    assert_type(data, neurosim.datasets.Dataset)
    assert_type(data.X, Array)
    assert_type(data.labels, NDArray[np.int64])
    assert_type(data.class_names, tuple[str, ...])
    assert_type(data.n_classes, int)
    train, test = neurosim.datasets.split(data, test=0.25, seed=1)
    assert_type(train, neurosim.datasets.Dataset)
    assert_type(test.Z, Array)
    net.train(train.X, train.Z, epochs=2)
    (X_train, Z_train), _ = neurosim.datasets.split(X, Z)
    assert_type(X_train, NDArray[np.generic])
    assert_type(Z_train, NDArray[np.generic])
    assert_type(neurosim.datasets.split(X).test, NDArray[np.generic])
    assert_type(neurosim.datasets.digits(), neurosim.datasets.Dataset)

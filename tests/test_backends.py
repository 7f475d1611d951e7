"""The Ray backend trains bit for bit as the local one, on a two-node cluster.

The cluster (``ray.cluster_utils.Cluster``: a head with no CPU and two
worker nodes, two separate raylets on this machine) starts once for this
module. Without Ray the tests skip, except under ``CI``, where the gate must
run them.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

import neurosim
from neurosim.backends import Ray, assign, cut
from neurosim.errors import DataError, PartitionError
from tests.helpers import require

X = np.random.default_rng(0).normal(size=(9, 3))
Z = np.eye(3)[np.random.default_rng(1).integers(0, 3, 9)]


@pytest.fixture(scope="module")
def cluster():
    ray = require("ray", 'pip install "neurosim[ray]"')
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    nodes = [cluster.add_node(num_cpus=1) for _ in range(2)]
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
    yield cluster, nodes
    ray.shutdown()
    cluster.shutdown()


def network(activation=("tanh", "sigmoid", "softmax"), seed=1, **options):
    G = neurosim.layered([3, 5, 4, 3], activation=list(activation), seed=seed)
    return neurosim.Network(G, **options)


def same_runs(make, **options):
    """Train a local network and a Ray one the same way: equal to the bit."""
    local, remote = make(), make(backend=Ray(partitions=2))
    a = local.train(X, Z, epochs=2, record=True, **options)
    b = remote.train(X, Z, epochs=2, record=True, **options)
    for name in ("loss", "outputs", "entries", "ends"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    assert a.stale == b.stale if isinstance(a.stale, list) else True
    assert local.weights == remote.weights
    assert local.biases == remote.biases
    assert rows(a.trace) == rows(b.trace)
    return local, remote


def rows(trace):
    return [
        tuple(np.asarray(x).tobytes() if not isinstance(x, str) else x for x in row)
        for row in trace.rows()
    ]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"batch_size": 4},
        {"in_flight": 3, "interval": 1.0},
        {"in_flight": None, "interval": 0.5, "stash": True},
        {"rule": "article", "optimizer": "momentum"},
        {"rule": "feedback_alignment", "optimizer": "adagrad", "batch_size": 2},
        {"rule": "direct_feedback_alignment", "optimizer": "adam"},
        {"shuffle": True, "seed": 3, "batch_size": 3},
    ],
)
def test_training_is_the_local_backends_bit_for_bit(cluster, options):
    same_runs(network, **options)


@pytest.mark.parametrize(
    "faults",
    [
        neurosim.Faults(drop=0.2, on_missing="zero", seed=4),
        neurosim.Faults(duplicate=0.3, jitter=0.4, seed=5),
        neurosim.Faults(drop=0.15, jitter=0.3, on_missing="last", seed=6),
    ],
)
def test_faults_are_the_local_backends_bit_for_bit(cluster, faults):
    def make(**options):
        return network(("tanh", "sigmoid", "sigmoid"), **options)

    same_runs(make, faults=faults)


def test_predict_and_its_trace(cluster):
    local, remote = network(), network(backend=Ray(partitions=3))
    a = local.predict(X, batch_size=2, record=True)
    b = remote.predict(X, batch_size=2, record=True)
    assert a.tobytes() == b.tobytes()
    assert rows(local.last_trace) == rows(remote.last_trace)


def test_a_partition_of_ones_own(cluster):
    net = network()
    chosen = {v: i % 2 for i, v in enumerate(net.topology.neurons)}  # interleaved
    mine = network(backend=Ray(partitions=2, partition=chosen))
    a = net.train(X, Z, epochs=2, batch_size=3)
    b = mine.train(X, Z, epochs=2, batch_size=3)
    assert a.loss.tobytes() == b.loss.tobytes()
    assert net.weights == mine.weights
    stats = mine.backend.stats
    assert stats["windows"] > 0
    assert stats["calls"] >= stats["windows"]


def test_the_errors_are_those_of_the_local_backend(cluster):
    G = neurosim.layered([1, 1], weights=[[[1e200]]], activation="identity")
    for backend in (None, Ray(partitions=1)):
        net = neurosim.Network(G, backend=backend)
        with pytest.raises(neurosim.DivergenceError, match="neuron 'o1'"):
            net.train([[1e200]], [[0.0]], learning_rate=1.0)
    lost = neurosim.Faults(drops=[("h2_1", "o1", "forward", 0)])
    for backend in (None, Ray(partitions=2)):
        net = network(("tanh", "sigmoid", "sigmoid"), backend=backend)
        with pytest.raises(neurosim.StalledError, match="was lost") as caught:
            net.train(X, Z, faults=lost)
        assert "o1" in str(caught.value)


def test_a_neurons_own_error_names_it(cluster):
    def broken(e):
        raise RuntimeError("no")

    odd = neurosim.Activation("odd", broken, lambda e, y: np.ones_like(e))
    G = neurosim.layered([2, 2], activation=odd, seed=0)
    net = neurosim.Network(G, backend=Ray(partitions=2))
    with pytest.raises(neurosim.NeuronError, match="neuron 'o1': RuntimeError: no"):
        net.predict([[1.0, 2.0]])


def test_a_killed_partition_is_a_clear_error_and_the_network_stays(cluster):
    import ray

    backend = Ray(partitions=2)
    net = network(backend=backend)
    before = net.weights
    killed = []

    def kill_one(done, total):
        if not killed:
            pid = ray.get(backend._running.actors[1].pid.remote())
            os.kill(pid, signal.SIGKILL)
            killed.append(time.monotonic())

    with pytest.raises(
        PartitionError,
        match=r"partition 1 \(neurons 'h2_2', 'h2_3', 'h2_4', 'o1' and 2 more\) "
        "stopped: ",
    ) as caught:
        net.train(X, Z, epochs=20, progress=kill_one)
    assert time.monotonic() - killed[0] < 30
    assert caught.value.partition == 1
    assert net.weights == before
    # and the network trains again, on fresh partitions
    net.train(X, Z, epochs=1)


def test_a_run_in_pieces_survives_a_killed_partition_bit_for_bit(cluster, tmp_path):
    """Train in pieces (stop_after, save): a piece whose partition dies leaves
    the network where the last piece ended, and going on from there ends as
    the uninterrupted run does."""
    import ray

    whole = network()
    whole.train(X, Z, epochs=4, batch_size=2, shuffle=True)
    backend = Ray(partitions=2)
    net = network(backend=backend)
    options = dict(epochs=4, batch_size=2, shuffle=True)
    net.train(X, Z, stop_after=7, **options)
    net.save(tmp_path / "piece.npz")

    def kill_one(done, total):
        if done == 3:
            pid = ray.get(backend._running.actors[0].pid.remote())
            os.kill(pid, signal.SIGKILL)

    saved = net.weights
    with pytest.raises(PartitionError, match="partition 0"):
        net.train(X, Z, stop_after=7, resume=True, progress=kill_one, **options)
    assert net.weights == saved
    while net.position is not None:  # on fresh partitions
        net.train(X, Z, stop_after=7, resume=True, **options)
    assert net.weights == whole.weights
    assert net.biases == whole.biases
    # the saved piece goes on too, in a new process say (here: locally)
    again = neurosim.load(tmp_path / "piece.npz")
    while again.position is not None:
        again.train(X, Z, stop_after=7, resume=True, **options)
    assert again.weights == whole.weights


def test_callbacks_are_refused_with_ray(cluster):
    net = network(backend=Ray(partitions=2))
    with pytest.raises(DataError, match="callbacks and validation"):
        net.train(X, Z, validation=(X, Z))


# --- without a cluster


def test_the_default_split_is_contiguous_by_generation():
    net = network()
    chosen = assign(net.topology, 2)
    first = [*(f"h1_{i}" for i in range(1, 6)), "h2_1"]  # 12 neurons: 6 and 6
    assert [v for v, k in chosen.items() if k == 0] == first
    c = cut(net.topology, chosen)
    # h1_* -> h2_2..h2_4 (15) and h2_1 -> o1..o3 (3) cross; 5 + 1 senders
    assert (c["connections"], c["values"], c["sizes"]) == (18, 6, [6, 6])


def test_metis_splits_a_layered_network_evenly_with_few_crossings():
    pytest.importorskip("pymetis")
    net = neurosim.Network(neurosim.layered([4, 16, 16, 4], seed=0))
    chosen = assign(net.topology, 2, "metis")
    assert chosen == assign(net.topology, 2, "metis")  # the same every time
    c = cut(net.topology, chosen)
    by_generation = cut(net.topology, assign(net.topology, 2))
    assert max(c["sizes"]) <= 1.25 * min(c["sizes"])
    # fewer connections cross (158 of 384 against 232 between generations),
    # though more distinct values do (32 against 18): a layered network is
    # best cut between its generations, the default
    assert c["connections"] < by_generation["connections"]
    assert c["values"] > by_generation["values"]


def test_metis_trains_as_the_local_backend(cluster):
    pytest.importorskip("pymetis")
    local = network()
    remote = network(backend=Ray(partitions=2, partition="metis"))
    a = local.train(X, Z, epochs=2, batch_size=3)
    b = remote.train(X, Z, epochs=2, batch_size=3)
    assert a.loss.tobytes() == b.loss.tobytes()
    assert local.weights == remote.weights


def test_bad_backend_arguments_are_refused():
    with pytest.raises(DataError, match="partitions must be an integer >= 1"):
        Ray(partitions=0)
    with pytest.raises(DataError, match="partition must be 'generations', 'metis'"):
        Ray(partition="metis?")
    net = network()
    with pytest.raises(DataError, match="no partition for neuron 'h1_1'"):
        assign(net.topology, 2, {})
    with pytest.raises(DataError, match="partitions are 0 to 1"):
        assign(net.topology, 2, {v: 2 for v in net.topology.neurons})
    with pytest.raises(DataError, match="at most one partition per neuron"):
        assign(net.topology, 99)
    with pytest.raises(neurosim.NetworkError, match="backend must be"):
        neurosim.Network(neurosim.layered([2, 1]), backend="ray")

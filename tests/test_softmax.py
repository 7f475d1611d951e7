"""The softmax group (its e exchanged as messages) and cross-entropy, in the actors."""

import itertools

import numpy as np
import pytest

import neurosim
from neurosim.errors import DataError, NetworkError
from neurosim.graph import layered_names

SIZES = [3, 4, 3]


def _data(n=7, outputs=3, seed=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, SIZES[0]))
    Z = np.eye(outputs)[rng.integers(0, outputs, n)]
    return X, Z


def _bits(rows):
    """Rows with every number as its bytes: equal means bit for bit."""
    return [
        tuple(np.asarray(x).tobytes() if not isinstance(x, str) else x for x in row)
        for row in rows
    ]


def _flat(values):
    """Online columns hold floats, mini-batch ones vectors: all as one array."""
    return np.concatenate([np.ravel(v) for v in values])


def softmax_net(seed=11, sizes=SIZES, hidden="tanh"):
    return neurosim.layered(sizes, activation=[hidden, "softmax"], seed=seed)


def _softmax(e):
    shifted = np.exp(e - e.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


# --- what the neurons compute and send


def test_outputs_are_the_softmax_of_their_weighted_sums():
    G = softmax_net()
    net = neurosim.Network(G)
    X, _ = _data()
    Y = net.predict(X)
    names = layered_names(SIZES)
    H = np.tanh(
        X @ np.array([[G.edges[u, v]["weight"] for v in names[1]] for u in names[0]])
        + [G.nodes[v]["bias"] for v in names[1]]
    )
    E = H @ np.array(
        [[G.edges[u, v]["weight"] for v in names[2]] for u in names[1]]
    ) + [G.nodes[v]["bias"] for v in names[2]]
    np.testing.assert_allclose(Y, _softmax(E), rtol=1e-13)
    np.testing.assert_allclose(Y.sum(axis=1), 1.0, rtol=1e-15)


@pytest.mark.parametrize("batch_size", [1, 4])
def test_each_output_sends_its_e_to_every_other_output(batch_size):
    net = neurosim.Network(softmax_net())
    X, Z = _data()
    net.train(X, Z, learning_rate=0.1, batch_size=batch_size, record=True)
    trace = net.last_trace
    outputs = list(net.outputs)
    n_iterations = -(-len(X) // batch_size)
    softmax = trace.filter(kind="softmax")
    assert len(softmax.kind) == n_iterations * 3 * 2
    pairs = sorted(zip(softmax.source, softmax.destination, strict=True))
    expected = sorted(
        (u, v)
        for u, v in itertools.permutations(outputs, 2)
        for _ in range(n_iterations)
    )
    assert pairs == expected
    np.testing.assert_array_equal(softmax.received_at - softmax.sent_at, 1.0)
    # each message carries its sender's e, as the sender's internals hold it
    internals = trace.internals
    for k in range(len(softmax.kind)):
        row = np.flatnonzero(
            (internals.neuron == softmax.source[k])
            & (internals.sample == softmax.sample[k])
            & (internals.epoch == softmax.epoch[k])
        )
        assert len(row) == 1
        e = internals.e[row[0]]
        value = softmax.value[k]
        np.testing.assert_array_equal(np.ravel(value), np.ravel(e))


def test_the_exchange_costs_one_delay_and_the_times_follow():
    net = neurosim.Network(softmax_net())
    X, Z = _data(n=2)
    history = net.train(X, Z, learning_rate=0.1, record=True)
    # inputs at 0, hidden at 1, the outputs' e at 2, y at 3 (the softmax
    # messages' delay), errors reach the hidden neurons at 4
    np.testing.assert_array_equal(history.entries, [0.0, 4.0])
    np.testing.assert_array_equal(history.ends, [4.0, 8.0])
    internals = net.last_trace.internals
    outputs = np.isin(internals.neuron, net.outputs)
    np.testing.assert_array_equal(internals.forward_at[outputs], [2, 2, 2, 6, 6, 6])
    np.testing.assert_array_equal(internals.backward_at[outputs], [3, 3, 3, 7, 7, 7])


@pytest.mark.parametrize("batch_size", [1, 3])
def test_an_outputs_delta_is_z_minus_y_and_its_slope_counts_as_one(batch_size):
    net = neurosim.Network(softmax_net())
    X, Z = _data()
    net.train(X, Z, learning_rate=0.1, batch_size=batch_size, record=True)
    internals = net.last_trace.internals
    for j, o in enumerate(net.outputs):
        rows = np.flatnonzero(internals.neuron == o)
        for r, start in zip(rows, range(0, len(X), batch_size), strict=True):
            z = Z[start : start + batch_size, j]
            y = np.ravel(internals.y[r])
            np.testing.assert_array_equal(np.ravel(internals.delta[r]), z - y)
            np.testing.assert_array_equal(np.ravel(internals.fprime[r]), 1.0)
            np.testing.assert_array_equal(np.ravel(internals.g[r]), z - y)


def test_cross_entropy_with_sigmoid_outputs_sets_their_slope_to_one_only():
    G = neurosim.layered(SIZES, activation=["sigmoid", "sigmoid"], seed=2)
    net = neurosim.Network(G)
    X, Z = _data()
    net.train(X, Z, learning_rate=0.1, loss="cross_entropy", record=True)
    internals = net.last_trace.internals
    out = np.isin(internals.neuron, net.outputs)
    np.testing.assert_array_equal(_flat(internals.fprime[out]), 1.0)
    y = _flat(internals.y[~out])
    np.testing.assert_array_equal(_flat(internals.fprime[~out]), y * (1 - y))


# --- the loss


def test_history_reports_the_cross_entropy_of_each_sample():
    net = neurosim.Network(softmax_net())
    X, Z = _data()
    before = net.predict(X)
    history = net.train(X, Z, learning_rate=0.1, batch_size=len(X))
    np.testing.assert_allclose(
        history.loss, -np.log(before[Z == 1]), rtol=1e-15
    )  # one batch: every loss is of the weights before it


def test_binary_cross_entropy_of_sigmoid_outputs():
    G = neurosim.layered(SIZES, activation=["tanh", "sigmoid"], seed=2)
    net = neurosim.Network(G)
    X, Z = _data()
    Z = Z * 0.8 + 0.1  # soft targets
    before = net.predict(X)
    history = net.train(
        X, Z, learning_rate=0.1, batch_size=len(X), loss="cross_entropy"
    )
    expected = -(Z * np.log(before) + (1 - Z) * np.log(1 - before)).sum(axis=1)
    np.testing.assert_allclose(history.loss, expected, rtol=1e-14)


def test_a_saturated_sigmoid_gives_a_finite_cross_entropy():
    G = neurosim.layered([1, 1], weights=[[[100.0]]], activation="sigmoid")
    net = neurosim.Network(G)
    history = net.train([[1.0]], [[0.0]], learning_rate=1e-6, loss="cross_entropy")
    assert history.loss[0] == 100.0  # y is 1.0: log(1 − y) clamped at −100
    # and the step is the finite one of g = z − y = −1, without f'(e) = 0
    assert net.weights["i1", "o1"] == 100.0 - 1e-6


def test_validation_loss_is_the_cross_entropy_too():
    net = neurosim.Network(softmax_net())
    X, Z = _data()
    history = net.train(X, Z, learning_rate=0.1, epochs=2, validation=(X, Z))
    after = net.predict(X)
    np.testing.assert_allclose(
        history.validation_loss[-1], -np.log(after[Z == 1]).mean(), rtol=1e-14
    )
    np.testing.assert_allclose(
        history.validation_accuracy[-1],
        (after.argmax(axis=1) == Z.argmax(axis=1)).mean(),
    )


# --- against PyTorch


def _torch():
    return pytest.importorskip("torch")


_OPTIMIZERS = {  # neurosim's optimizer, learning rate, and torch's same
    "sgd": (
        neurosim.optimizers.SGD(0.1),
        lambda p: _torch().optim.SGD(p, lr=0.1, foreach=False),
    ),
    "momentum": (
        neurosim.optimizers.Momentum(0.1, 0.9),
        lambda p: _torch().optim.SGD(p, lr=0.1, momentum=0.9, foreach=False),
    ),
    "adam": (
        neurosim.optimizers.Adam(0.01),
        lambda p: _torch().optim.Adam(p, lr=0.01, foreach=False),
    ),
}


@pytest.mark.parametrize("optimizer", sorted(_OPTIMIZERS))
@pytest.mark.parametrize("batch_size", [1, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_trained_like_torch(output, seed, batch_size, optimizer):
    G = neurosim.layered(SIZES, activation=["tanh", output], seed=seed)
    X, Z = _data(seed=seed)
    if output == "sigmoid":
        Z = np.random.default_rng(seed).uniform(0, 1, Z.shape)
    net = neurosim.Network(G)
    ours, theirs = _OPTIMIZERS[optimizer]
    history = net.train(
        X, Z, epochs=3, batch_size=batch_size, optimizer=ours, loss="cross_entropy"
    )
    from tests.test_torch import torch_train  # skipped without torch

    losses = []
    expected = torch_train(
        G,
        X,
        Z,
        theirs,
        3,
        batch_size,
        loss="softmax" if output == "softmax" else "binary",
        losses=losses,
        sizes=SIZES,
    )
    actual = {**net.weights, **net.biases}
    keys = sorted(expected, key=repr)
    np.testing.assert_allclose(
        [actual[k] for k in keys], [expected[k] for k in keys], rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(history.loss, losses, rtol=1e-9)


# --- every rule, every schedule


@pytest.mark.parametrize(
    "rule", ["backprop", "article", "feedback_alignment", "direct_feedback_alignment"]
)
@pytest.mark.parametrize("batch_size", [1, 3])
def test_every_rule_trains_the_group_deterministically(rule, batch_size):
    X, Z = _data()
    runs = []
    for _ in range(2):
        net = neurosim.Network(softmax_net())
        history = net.train(
            X, Z, learning_rate=0.2, epochs=2, batch_size=batch_size, rule=rule
        )
        runs.append((history.loss.tobytes(), net.to_graph().edges(data=True)))
    assert runs[0][0] == runs[1][0]
    assert list(runs[0][1]) == list(runs[1][1])
    assert np.isfinite(np.frombuffer(runs[0][0])).all()


def test_pipelined_iterations_exchange_their_own_e():
    X, Z = _data(n=6)
    net = neurosim.Network(softmax_net())
    history = net.train(X, Z, learning_rate=0.1, in_flight=3, interval=1, record=True)
    # three samples in flight: the second enters at 1, not at 4
    np.testing.assert_array_equal(history.entries[:3], [0, 1, 2])
    trace = net.last_trace
    softmax = trace.filter(kind="softmax")
    for s in range(len(X)):
        mine = softmax.sample == s
        assert mine.sum() == 6
        np.testing.assert_array_equal(softmax.sent_at[mine], history.entries[s] + 2)
    outputs = trace.internals
    for s in range(len(X)):
        rows = (outputs.sample == s) & np.isin(outputs.neuron, net.outputs)
        y = _flat(outputs.y[rows])
        assert abs(y.sum() - 1) < 1e-15


# --- errors


def test_softmax_on_a_hidden_neuron_is_refused():
    G = neurosim.layered([2, 2, 2], activation=["softmax", "sigmoid"], seed=0)
    with pytest.raises(NetworkError, match="node 'h1' has activation 'softmax' but"):
        neurosim.Network(G)


def test_softmax_on_some_outputs_only_is_refused():
    G = neurosim.layered([2, 2], activation="sigmoid", seed=0)
    G.nodes["o1"]["activation"] = "softmax"
    with pytest.raises(NetworkError, match="output 'o2' has activation 'sigmoid'"):
        neurosim.Network(G)


def test_a_group_of_one_is_refused():
    G = neurosim.layered([2, 1], activation="softmax", seed=0)
    with pytest.raises(NetworkError, match="at least two outputs"):
        neurosim.Network(G)


def test_a_softmax_output_with_successors_is_refused():
    G = neurosim.layered([2, 2, 2], activation=["sigmoid", "sigmoid"], seed=0)
    G.add_edge("o1", "o2", weight=1.0)
    G.nodes["o1"]["activation"] = "softmax"
    G.nodes["o2"]["activation"] = "softmax"
    with pytest.raises(NetworkError, match="node 'o1' has activation 'softmax' but"):
        neurosim.Network(G)  # o1 is no longer a sink, so not an output
    with pytest.raises(NetworkError, match="successors \\['o2'\\]"):
        neurosim.Network(G, outputs=["o1", "o2"])


@pytest.mark.parametrize(
    ("activation", "loss", "message"),
    [
        ("softmax", "squared", "a softmax group trains with loss='cross_entropy'"),
        ("tanh", "cross_entropy", "output 'o1' has activation 'tanh'"),
        ("sigmoid", "hinge", "unknown loss 'hinge'; use one of 'squared', 'cross"),
    ],
)
def test_unusable_losses_are_refused_before_anything_runs(activation, loss, message):
    net = neurosim.Network(
        softmax_net()
        if activation == "softmax"
        else neurosim.layered(SIZES, activation=activation, seed=0)
    )
    before = net.weights
    X, Z = _data()
    with pytest.raises(DataError, match=message):
        net.train(X, Z, loss=loss)
    assert net.weights == before


def test_cross_entropy_needs_outputs_without_successors():
    G = neurosim.layered([2, 2, 2], activation="sigmoid", seed=0)
    G.add_edge("o1", "o2", weight=0.5)
    net = neurosim.Network(G, outputs=["o1", "o2"])
    X, Z = _data()
    with pytest.raises(DataError, match=r"output 'o1' feeds \['o2'\]"):
        net.train(X[:, :2], Z[:, :2], loss="cross_entropy")


def test_cross_entropy_needs_targets_between_zero_and_one():
    net = neurosim.Network(softmax_net())
    X, Z = _data()
    Z[2, 1] = 1.5
    with pytest.raises(DataError, match=r"Z\[2, 1\] is 1.5; loss='cross_entropy'"):
        net.train(X, Z)


def test_faults_with_a_softmax_group_are_refused():
    net = neurosim.Network(softmax_net())
    X, Z = _data()
    with pytest.raises(DataError, match="faults= with a softmax group"):
        net.train(X, Z, faults=neurosim.Faults(drop=0.1))


def test_resume_keeps_the_loss_of_the_run():
    G = neurosim.layered(SIZES, activation=["tanh", "sigmoid"], seed=0)
    X, Z = _data()
    whole = neurosim.Network(G)
    whole.train(X, Z, learning_rate=0.1, epochs=2, loss="cross_entropy")
    pieces = neurosim.Network(G)
    pieces.train(X, Z, learning_rate=0.1, epochs=2, loss="cross_entropy", stop_after=5)
    assert pieces.position.loss == "cross_entropy"
    with pytest.raises(DataError, match="loss='cross_entropy'; this call has loss="):
        pieces.train(X, Z, learning_rate=0.1, epochs=2, resume=True)
    pieces.train(X, Z, learning_rate=0.1, epochs=2, loss="cross_entropy", resume=True)
    assert pieces.weights == whole.weights


def test_a_saved_network_keeps_its_group_and_the_runs_loss(tmp_path):
    net = neurosim.Network(softmax_net())
    X, Z = _data()
    net.train(X, Z, learning_rate=0.1, epochs=2, stop_after=3)
    net.save(tmp_path / "net.npz")
    loaded = neurosim.load(tmp_path / "net.npz")
    assert loaded.position.loss == "cross_entropy"
    loaded.train(X, Z, learning_rate=0.1, epochs=2, resume=True)
    net.train(X, Z, learning_rate=0.1, epochs=2, resume=True)
    assert loaded.weights == net.weights
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))


@pytest.mark.parametrize("batch_size", [1, 3])
def test_softmax_messages_survive_csv_and_json_lines(tmp_path, batch_size):
    net = neurosim.Network(softmax_net())
    X, Z = _data()
    trace = net.train(X, Z, batch_size=batch_size, record=True).trace
    trace.to_csv(tmp_path / "t.csv")
    trace.to_jsonl(tmp_path / "t.jsonl")
    for read in (
        neurosim.Trace.read_csv(tmp_path / "t.csv"),
        neurosim.Trace.read_jsonl(tmp_path / "t.jsonl"),
    ):
        assert np.count_nonzero(read.kind == "softmax") == np.count_nonzero(
            trace.kind == "softmax"
        )
        assert _bits(read.rows()) == _bits(trace.rows())

"""Saving, loading, pickling and resuming a network; shuffling; to_graph."""

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import neurosim
from neurosim import checkpoint, reference
from neurosim.errors import DataError
from neurosim.optimizers import Optimizer, SGDState
from neurosim.rules import Backprop

ROOT = Path(__file__).resolve().parent.parent

OPTIMIZERS = {
    "sgd": dict(optimizer="sgd", learning_rate=0.3),
    "momentum": dict(optimizer="momentum", learning_rate=0.1),
    "adagrad": dict(optimizer="adagrad", learning_rate=0.1),
    "adam": dict(
        optimizer=neurosim.optimizers.Adam(learning_rate=0.05, amsgrad=True),
    ),
}
RULES = {
    "backprop": "backprop",
    "article": "article",
    "feedback_alignment": neurosim.rules.FeedbackAlignment(seed=3, scale=0.5),
    "direct_feedback_alignment": neurosim.rules.DirectFeedbackAlignment(seed=4),
}


def softsign(e):
    return e / (1.0 + np.abs(e))


def softsign_derivative(e, y):
    return 1.0 / (1.0 + np.abs(e)) ** 2


SOFTSIGN = neurosim.register_activation("softsign", softsign, softsign_derivative)


def graph():
    """A 2-3-2 network with a neuron without bias and a custom activation."""
    G = neurosim.layered([2, 3, 2], seed=5, activation=["tanh", "sigmoid"])
    G.nodes["h2"]["bias"] = None
    G.nodes["h3"]["activation"] = SOFTSIGN
    G.edges["h1", "o2"]["delay"] = 2.0
    return G


def data(n=5):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 2)), rng.uniform(size=(n, 2))


def run_options(optimizer, rule):
    return dict(
        epochs=3,
        batch_size=2,
        shuffle=True,
        seed=11,
        rule=RULES[rule],
        **OPTIMIZERS[optimizer],
    )


def everything(net):
    """Every number the network holds, flattened: parameters and states."""
    out = []
    for v in net.topology.neurons:
        s = net._states[v]
        out.append(s.params)
        state = s.optimizer_state
        for value in vars(state).values() if state is not None else ():
            out.append(np.atleast_1d(np.asarray(value, dtype=float)))
    return np.concatenate(out)


def assert_identical(a, b):
    x, y = everything(a), everything(b)
    assert x.shape == y.shape
    assert x.tobytes() == y.tobytes()  # bit for bit, NaN and -0.0 included
    assert a.weights == b.weights
    assert a.biases == b.biases


# -- saving and loading in another process -------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    import neurosim
    from neurosim import optimizers, rules

    def softsign(e):
        return e / (1.0 + np.abs(e))

    def softsign_derivative(e, y):
        return 1.0 / (1.0 + np.abs(e)) ** 2

    neurosim.register_activation("softsign", softsign, softsign_derivative)
    OPTIMIZERS = {OPTIMIZERS}
    RULES = {RULES}
    for job in sys.argv[1:]:
        folder, optimizer, rule, how = job.split("|")
        net = neurosim.load(folder + "/part.npz")
        rng = np.random.default_rng(0)
        X, Z = rng.normal(size=(5, 2)), rng.uniform(size=(5, 2))
        if how == "resume":
            options = dict(epochs=3, batch_size=2, shuffle=True, seed=11)
            options.update(OPTIMIZERS[optimizer], rule=RULES[rule])
            history = net.train(X, Z, resume=True, **options)
        else:
            history = net.train(X[2:], Z[2:], **OPTIMIZERS[optimizer])
        np.save(folder + "/loss.npy", history.loss)
        net.save(folder + "/rest.npz")
    """
).format(
    OPTIMIZERS="""{
        "sgd": dict(optimizer="sgd", learning_rate=0.3),
        "momentum": dict(optimizer="momentum", learning_rate=0.1),
        "adagrad": dict(optimizer="adagrad", learning_rate=0.1),
        "adam": dict(optimizer=optimizers.Adam(learning_rate=0.05, amsgrad=True)),
    }""",
    RULES="""{
        "backprop": "backprop",
        "article": "article",
        "feedback_alignment": rules.FeedbackAlignment(seed=3, scale=0.5),
        "direct_feedback_alignment": rules.DirectFeedbackAlignment(seed=4),
    }""",
)


def in_another_process(jobs):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    subprocess.run(
        [sys.executable, "-c", CHILD, *jobs], env=env, check=True, timeout=600
    )


def test_training_resumed_in_another_process_equals_training_at_once(tmp_path):
    """For every optimizer and rule: 4 iterations (into the second of 3
    shuffled epochs of 2-sample batches), save, load in a fresh process,
    train the rest; and the plain split ``X[:2]`` then ``X[2:]``."""
    X, Z = data()
    jobs, expected = [], {}
    for optimizer in OPTIMIZERS:
        for rule in RULES:
            options = run_options(optimizer, rule)
            whole = neurosim.Network(graph())
            history = whole.train(X, Z, **options)
            part = neurosim.Network(graph())
            first = part.train(X, Z, stop_after=4, **options)
            assert part.position.epoch == 1
            assert part.position.sample == 1
            folder = tmp_path / f"{optimizer}-{rule}"
            folder.mkdir()
            part.save(folder / "part.npz")
            jobs.append(f"{folder}|{optimizer}|{rule}|resume")
            assert len(first.loss) == 7  # 3 batches of 5 samples, then one of 2
            assert first.loss.tobytes() == history.loss[:7].tobytes()
            expected[folder] = whole, history.loss[7:]
        whole = neurosim.Network(graph())
        history = whole.train(X, Z, **OPTIMIZERS[optimizer])
        part = neurosim.Network(graph())
        part.train(X[:2], Z[:2], **OPTIMIZERS[optimizer])
        folder = tmp_path / f"{optimizer}-split"
        folder.mkdir()
        part.save(folder / "part.npz")
        jobs.append(f"{folder}|{optimizer}|backprop|split")
        expected[folder] = whole, history.loss[2:]
    in_another_process(jobs)
    for folder, (whole, loss) in expected.items():
        rest = neurosim.load(folder / "rest.npz")
        assert_identical(rest, whole)
        assert rest.position is None
        got = np.load(folder / "loss.npy")
        assert got.tobytes() == loss[-len(got) :].tobytes(), folder.name


def test_load_gives_the_same_network(tmp_path):
    net = neurosim.Network(graph(), inputs=["i2", "i1"], outputs=["o2", "o1"])
    X, Z = data()
    net.train(X, Z, optimizer="adam", rule=RULES["feedback_alignment"])
    net.save(tmp_path / "net.npz")
    loaded = neurosim.load(tmp_path / "net.npz")
    assert loaded.nodes == net.nodes
    assert loaded.inputs == ("i2", "i1")
    assert loaded.outputs == ("o2", "o1")
    assert loaded.topology.delays == net.topology.delays
    assert loaded.topology.delays["h1", "o2"] == 2.0
    assert "h2" not in loaded.biases
    assert loaded._states["h3"].activation is SOFTSIGN
    assert loaded._optimizer == net._optimizer
    assert loaded._rule == RULES["feedback_alignment"]
    assert_identical(loaded, net)
    a, b = loaded.to_graph(), net.to_graph()
    assert list(a.nodes) == list(b.nodes)
    assert list(a.edges) == list(b.edges)
    assert repr(a.nodes(data=True)) == repr(b.nodes(data=True))
    assert repr(a.edges(data=True)) == repr(b.edges(data=True))


def test_save_replaces_the_file_atomically(tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    net = neurosim.Network(graph())
    net.save(path)
    before = path.read_bytes()
    net.train(*data())

    def broken(file, **arrays):
        file.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        net.save(path)
    assert path.read_bytes() == before  # the old file, whole
    assert os.listdir(tmp_path) == ["net.npz"]  # no temporary left behind


def test_newer_format_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "future.npz"
    monkeypatch.setattr(checkpoint, "VERSION", checkpoint.VERSION + 1)
    neurosim.Network(graph()).save(path)
    monkeypatch.undo()
    with pytest.raises(DataError, match=rf"{path}.*format version 2.*newer"):
        neurosim.load(path)


@pytest.mark.parametrize("damage", ["truncated", "flipped", "empty", "not npz"])
def test_damaged_file_is_a_clear_error(tmp_path, damage):
    path = tmp_path / "net.npz"
    net = neurosim.Network(graph())
    net.train(*data(), optimizer="adam")
    net.save(path)
    raw = path.read_bytes()
    if damage == "truncated":
        raw = raw[: len(raw) // 2]
    elif damage == "flipped":  # inside the parameters: the CRC catches it
        at = raw.index(net._states["o1"].params.tobytes())
        raw = raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1 :]
    elif damage == "empty":
        raw = b""
    else:
        np.savez(path, x=np.zeros(3))
        raw = path.read_bytes()
    path.write_bytes(raw)
    with pytest.raises(DataError, match=str(path)):
        neurosim.load(path)


def test_missing_member_is_a_clear_error(tmp_path):
    path = tmp_path / "net.npz"
    net = neurosim.Network(graph())
    net.train(*data(), optimizer="adam")
    net.save(path)
    with np.load(path) as archive:
        arrays = dict(archive)
    del arrays["state.exp_avg"]
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=rf"{path} is damaged.*state.exp_avg"):
        neurosim.load(path)


def test_what_cannot_be_saved_is_named_before_writing(tmp_path):
    path = tmp_path / "net.npz"
    G = graph()
    G.nodes["h1"]["activation"] = neurosim.Activation("mine", np.sin, np.cos)
    with pytest.raises(DataError, match=r"node 'h1'.*register_activation"):
        neurosim.Network(G).save(path)
    G = graph()
    G.nodes["h1"]["shape"] = object()
    with pytest.raises(DataError, match="node 'h1'"):
        neurosim.Network(G).save(path)

    class Halving(Optimizer):
        learning_rate = 0.5

        def init_state(self, size):
            return SGDState()

        def step(self, params, grad, state):
            params -= 0.5 * grad

    net = neurosim.Network(graph())
    net.train(*data(), optimizer=Halving())
    with pytest.raises(DataError, match="only neurosim's own optimizers"):
        net.save(path)
    assert not path.exists()


def test_unknown_activation_name_on_load(tmp_path):
    path = tmp_path / "net.npz"
    neurosim.Network(graph()).save(path)
    with np.load(path) as archive:  # as if saved where "softsigX" was registered
        arrays = dict(archive)
    text = arrays["manifest"].tobytes().replace(b'"softsign"', b'"softsigX"')
    arrays["manifest"] = np.frombuffer(text, dtype=np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=r"'softsigX'.*register_activation"):
        neurosim.load(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        neurosim.load(tmp_path / "nothing.npz")


# -- pickle ---------------------------------------------------------------------


def test_pickle_round_trips_bit_for_bit():
    X, Z = data()
    net = neurosim.Network(graph())
    net.train(X, Z, optimizer="adam", stop_after=2, shuffle=True)
    copy = pickle.loads(pickle.dumps(net))
    assert_identical(copy, net)
    assert copy.position == net.position
    assert copy._states["h3"].activation is SOFTSIGN
    a = net.train(X, Z, optimizer="adam", shuffle=True, resume=True)
    b = copy.train(X, Z, optimizer="adam", shuffle=True, resume=True)
    assert_identical(copy, net)
    assert a.loss.tobytes() == b.loss.tobytes()


def test_built_in_activations_pickle():
    for name, activation in neurosim.ACTIVATIONS.items():
        assert pickle.loads(pickle.dumps(activation)) is activation, name


def test_pickle_leaves_the_wiring_cache_out():
    net = neurosim.Network(neurosim.layered([20, 20, 20]))
    net.predict(np.zeros((1, 20)))
    small = len(pickle.dumps(net))
    assert net._wirings
    assert not pickle.loads(pickle.dumps(net))._wirings
    assert len(pickle.dumps(neurosim.Network(neurosim.layered([20, 20, 20])))) == small


# -- register_activation ---------------------------------------------------------


def test_register_activation_refuses_clashes():
    with pytest.raises(ValueError, match="built-in"):
        neurosim.register_activation("tanh", np.tanh, softsign_derivative)
    with pytest.raises(ValueError, match="already registered"):
        neurosim.register_activation("softsign", np.tanh, softsign_derivative)
    with pytest.raises(ValueError, match="not callable"):
        neurosim.register_activation("broken", 3, softsign_derivative)
    again = neurosim.register_activation("softsign", softsign, softsign_derivative)
    assert again is SOFTSIGN
    G = graph()
    G.nodes["h1"]["activation"] = "softsign"  # by name
    assert neurosim.Network(G)._states["h1"].activation is SOFTSIGN


# -- to_graph ----------------------------------------------------------------------


def test_to_graph_attributes_are_independent():
    G = graph()
    G.graph["about"] = {"tags": ["a"]}
    G.nodes["h1"]["meta"] = {"seen": [1]}
    G.edges["i1", "h1"]["notes"] = ["x"]
    net = neurosim.Network(G)
    H = net.to_graph()
    H.graph["about"]["tags"].append("b")
    H.nodes["h1"]["meta"]["seen"].append(2)
    H.edges["i1", "h1"]["notes"].append("y")
    assert G.graph["about"] == {"tags": ["a"]}
    assert G.nodes["h1"]["meta"] == {"seen": [1]}
    assert G.edges["i1", "h1"]["notes"] == ["x"]
    G.nodes["h1"]["meta"]["seen"].append(3)  # the caller's graph, later
    again = net.to_graph()
    assert again.graph["about"] == {"tags": ["a"]}
    assert again.nodes["h1"]["meta"] == {"seen": [1]}
    assert again.edges["i1", "h1"]["notes"] == ["x"]


def same_network(a, b):
    assert a.nodes == b.nodes
    assert a.weights == b.weights
    assert a.biases == b.biases
    assert a.topology.delays == b.topology.delays
    assert [s.activation for s in a._states.values()] == [
        s.activation for s in b._states.values()
    ]


def test_to_graph_writes_as_graphml_and_reads_back(tmp_path):
    net = neurosim.Network(neurosim.examples.worked_example())  # bias=None
    net.train([[1.0, 1.5]], [[2.5, 3.0]], learning_rate=0.02)
    G = net.to_graph()
    assert np.isnan(G.nodes["h1"]["bias"])
    nx.write_graphml(G, tmp_path / "net.graphml")
    back = nx.read_graphml(tmp_path / "net.graphml")
    same_network(neurosim.Network(back), net)


def test_to_graph_writes_as_node_link_json_and_reads_back():
    G = graph()
    G.nodes["i1"]["label"] = "first"
    net = neurosim.Network(G)
    net.train(*data())
    text = json.dumps(nx.node_link_data(net.to_graph(), edges="edges"))
    back = nx.node_link_graph(json.loads(text), edges="edges")
    assert back.nodes["h3"]["activation"] == "softsign"
    same_network(neurosim.Network(back), net)


def test_nan_bias_means_no_bias():
    G = neurosim.layered([1, 1])
    G.nodes["o1"]["bias"] = float("nan")
    net = neurosim.Network(G)
    assert net.biases == {}
    G.nodes["o1"]["bias"] = None
    assert reference.train(G, [[1.0]], [[0.5]]).biases == {}


# -- the wiring cache ------------------------------------------------------------


def test_wiring_cache_is_bounded():
    net = neurosim.Network(neurosim.layered([3, 4, 2]))
    X, Z = np.ones((2, 3)), np.zeros((2, 2))
    for seed in range(6):
        net.train(X, Z, rule=neurosim.rules.FeedbackAlignment(seed=seed))
        net.predict(X)
    assert len(net._wirings) == 2
    assert list(net._wirings) == [neurosim.rules.FeedbackAlignment(seed=5), None]


# -- resuming -----------------------------------------------------------------------


def test_resume_needs_the_same_run():
    X, Z = data()
    net = neurosim.Network(graph())
    with pytest.raises(DataError, match="no run was interrupted"):
        net.train(X, Z, resume=True)
    net.train(X, Z, epochs=2, stop_after=3)
    position = net.position
    weights = net.weights
    for change, match in [
        (dict(epochs=3), "epochs=2; this call has epochs=3"),
        (dict(batch_size=2), "batch_size"),
        (dict(shuffle=True), "shuffle"),
        (dict(optimizer="adam"), "optimizer"),
        (dict(rule="article"), "rule"),
    ]:
        with pytest.raises(DataError, match=match):
            net.train(X, Z, **(dict(epochs=2) | change), resume=True)
    with pytest.raises(DataError, match="not the samples"):
        net.train(X + 1, Z, epochs=2, resume=True)
    assert net.position == position
    assert net.weights == weights
    history = net.train(X, Z, epochs=2, resume=True, stop_after=4)
    assert history.start == 3
    assert len(history.loss) == 4
    assert (net.position.epoch, net.position.sample) == (1, 2)
    with pytest.raises(DataError, match="stop_after"):
        net.train(X, Z, stop_after=0)
    net.train(X, Z)  # a new run: the old one is forgotten
    assert net.position is None


def test_a_resumed_call_labels_its_trace_and_history_by_the_run():
    X, Z = data()
    net = neurosim.Network(graph())
    net.train(X, Z, epochs=3, batch_size=2, stop_after=4)
    history = net.train(X, Z, epochs=3, batch_size=2, resume=True, record=True)
    updates = history.trace.updates
    assert (int(updates.epoch[0]), int(updates.sample[0])) == (1, 1)
    assert (int(updates.epoch[-1]), int(updates.sample[-1])) == (2, 2)
    whole = neurosim.Network(graph()).train(X, Z, epochs=3, batch_size=2)
    assert history.start == 7
    assert history.epochs == 2
    np.testing.assert_array_equal(history.loss, whole.loss[7:])
    assert history.epoch_loss[0] == whole.loss[7:10].mean()
    assert history.epoch_loss[1] == whole.epoch_loss[2]


# -- shuffling ------------------------------------------------------------------------


def test_shuffle_is_deterministic_and_off_by_default():
    X, Z = data()
    runs = {}
    for key, options in {
        "plain": {},
        "off": dict(shuffle=False, seed=9),
        "a": dict(shuffle=True, seed=1),
        "b": dict(shuffle=True, seed=1),
        "c": dict(shuffle=True, seed=2),
    }.items():
        net = neurosim.Network(graph())
        runs[key] = net.train(X, Z, epochs=2, **options).loss
    assert runs["plain"].tobytes() == runs["off"].tobytes()
    assert runs["a"].tobytes() == runs["b"].tobytes()
    assert runs["a"].tobytes() != runs["c"].tobytes()
    assert runs["a"].tobytes() != runs["plain"].tobytes()


@pytest.mark.parametrize(
    "options",
    [
        dict(batch_size=1),
        dict(batch_size=2, optimizer="adam"),
        dict(batch_size=3, in_flight=2, interval=0.5),
    ],
)
def test_shuffled_actors_equal_reference(options):
    G = neurosim.layered([2, 3, 2], seed=5)
    X, Z = data(7)
    net = neurosim.Network(G)
    history = net.train(X, Z, epochs=3, shuffle=True, seed=4, **options)
    ref = reference.train(G, X, Z, epochs=3, shuffle=True, seed=4, **options)
    keys = sorted(ref.weights)
    np.testing.assert_allclose(
        [net.weights[k] for k in keys], [ref.weights[k] for k in keys], rtol=1e-12
    )
    np.testing.assert_allclose(history.loss, ref.loss, rtol=1e-12, atol=1e-15)
    unshuffled = reference.train(G, X, Z, epochs=3, **options)
    assert not np.allclose(unshuffled.loss, ref.loss)


def test_shuffle_arguments_are_checked():
    X, Z = data()
    net = neurosim.Network(graph())
    with pytest.raises(DataError, match="shuffle must be True or False"):
        net.train(X, Z, shuffle=1)
    with pytest.raises(DataError, match="seed must be an integer"):
        net.train(X, Z, shuffle=True, seed=1.5)
    with pytest.raises(DataError, match="seed must be an integer"):
        reference.train(graph_without_custom(), X, Z, shuffle=True, seed="1")


def graph_without_custom():
    return neurosim.layered([2, 3, 2], seed=5)


def test_backprop_rule_object_is_saved(tmp_path):
    net = neurosim.Network(graph())
    net.train(*data(), rule=Backprop(), stop_after=1)
    net.save(tmp_path / "net.npz")
    assert neurosim.load(tmp_path / "net.npz").position.rule == Backprop()

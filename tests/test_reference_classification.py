"""The reference's softmax group and cross-entropy loss (issue 11).

Checked against things that share none of its code: PyTorch's
``nn.CrossEntropyLoss`` and ``nn.BCELoss`` with autograd and ``torch.optim``,
arithmetic written out by hand (one step, the times), central differences;
and its three formulations against each other (the event loop, the
sequential path by generation, the layered form).
"""

import itertools
import math
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosim.errors import DataError, NetworkError
from neurosim.reference import (
    gradients,
    predict,
    train,
    train_layered,
    update_directions,
)
from tests.strategies import classifiers
from tests.test_reference import layered_graph
from tests.test_reference_scale import (
    OPTIMIZERS,
    RULES,
    assert_results_equal,
    both,
    feedback_for,
)

# --- helpers ---


def two_two_two(delays=None, outputs="softmax"):
    """A 2-2-2 network (tanh hidden layer), delays 1 unless given."""
    G = nx.DiGraph()
    weights = {
        ("i1", "h1"): 0.5, ("i1", "h2"): -0.4, ("i2", "h1"): 0.3,
        ("i2", "h2"): 0.8, ("h1", "o1"): 1.2, ("h1", "o2"): -0.7,
        ("h2", "o1"): 0.2, ("h2", "o2"): 0.9,
    }  # fmt: skip
    for (u, v), w in weights.items():
        G.add_edge(u, v, weight=w, delay=(delays or {}).get((u, v), 1.0))
    for v, b in [("h1", 0.1), ("h2", -0.2), ("o1", 0.05), ("o2", -0.1)]:
        G.nodes[v].update(activation="tanh" if v[0] == "h" else outputs, bias=b)
    return G


def random_layers(seed, sizes, hidden, out):
    """Weights ``(n_in, n_out)``, biases and activations of a layered net."""
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(0, 0.8, (m, n)) for m, n in itertools.pairwise(sizes)]
    bs = [rng.normal(0, 0.3, n) for n in sizes[1:]]
    activations = [hidden[k % len(hidden)] for k in range(len(sizes) - 2)] + [out]
    return Ws, bs, activations


def classification_data(seed, n, n_in, n_out, targets):
    """``X`` and targets in [0, 1]: ``"onehot"`` rows (with their labels),
    ``"probabilities"`` (Dirichlet rows, summing to 1) or ``"binary"``
    (independent targets, some exactly 0 or 1)."""
    rng = np.random.default_rng(seed + 100)
    X = rng.normal(size=(n, n_in))
    labels = rng.integers(0, n_out, n)
    if targets == "onehot":
        Z = np.eye(n_out)[labels]
    elif targets == "probabilities":
        Z = rng.dirichlet(np.ones(n_out), n)
    else:
        Z = rng.uniform(0, 1, (n, n_out))
        Z[rng.random((n, n_out)) < 0.3] = 0.0
        Z[rng.random((n, n_out)) < 0.3] = 1.0
    return X, Z, labels


def flat(weights, biases):
    return np.array([*weights.values(), *biases.values()])


def from_graph(result, Ws):
    """A result's weights and biases as the layers of ``layered_graph``."""
    W = [
        np.array(
            [
                [result.weights[(k, i), (k + 1, j)] for j in range(w.shape[1])]
                for i in range(w.shape[0])
            ]
        )
        for k, w in enumerate(Ws)
    ]
    b = [
        np.array([result.biases[k + 1, j] for j in range(w.shape[1])])
        for k, w in enumerate(Ws)
    ]
    return W, b


# --- PyTorch: nn.CrossEntropyLoss and nn.BCELoss ---


def torch_train(Ws, bs, activations, X, Z, labels, *, targets, optimizer, lr,
                epochs, batch_size):  # fmt: skip
    """The same training in PyTorch (float64): the loss of each sample under
    ``nn.CrossEntropyLoss`` (class indices for one-hot targets, else the
    probabilities) or ``nn.BCELoss`` summed over the outputs; the gradient
    of its mean over the batch."""
    torch = pytest.importorskip("torch")
    act = {
        "identity": lambda e: e, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
        "relu": torch.relu,
    }  # fmt: skip
    layers = [
        (
            torch.tensor(W, dtype=torch.float64, requires_grad=True),
            torch.tensor(b, dtype=torch.float64, requires_grad=True),
        )
        for W, b in zip(Ws, bs, strict=True)
    ]
    parameters = [p for layer in layers for p in layer]
    if optimizer == "sgd":
        opt = torch.optim.SGD(parameters, lr=lr, foreach=False)
    else:
        opt = torch.optim.Adam(parameters, lr=lr, foreach=False)
    X, Z = torch.tensor(X), torch.tensor(Z)
    labels = torch.tensor(labels)
    losses = []
    for _ in range(epochs):
        for start in range(0, len(X), batch_size):
            batch = slice(start, start + batch_size)
            y = X[batch]
            for (W, b), f in zip(layers, activations, strict=True):
                e = y @ W + b
                y = e if f == "softmax" else act[f](e)
            if activations[-1] == "softmax":  # e: the logits
                cross_entropy = torch.nn.CrossEntropyLoss(reduction="none")
                goal = labels[batch] if targets == "onehot" else Z[batch]
                E = cross_entropy(e, goal)
            else:
                E = torch.nn.BCELoss(reduction="none")(y, Z[batch]).sum(dim=1)
            opt.zero_grad()
            E.mean().backward()
            opt.step()
            losses.append(E.detach().numpy())
    return (
        [W.detach().numpy() for W, _ in layers],
        [b.detach().numpy() for _, b in layers],
        np.concatenate(losses),
    )


TORCH_CASES = [
    # (sizes, hidden activations, outputs, targets)
    ([3, 5, 4], ["tanh"], "softmax", "onehot"),
    ([2, 4, 3, 3], ["sigmoid", "relu"], "softmax", "probabilities"),
    ([4, 6, 2], ["identity"], "softmax", "onehot"),
    ([3, 4, 3], ["tanh"], "sigmoid", "binary"),
    ([2, 5, 4, 2], ["relu", "tanh"], "sigmoid", "onehot"),
]


@pytest.mark.parametrize("case", range(len(TORCH_CASES)))
@pytest.mark.parametrize("batch_size", [1, 4, 7])  # of 10: batches 4, 4, 2 / 7, 3
@pytest.mark.parametrize(("optimizer", "lr"), [("sgd", 0.3), ("adam", 0.05)])
def test_cross_entropy_trains_like_torch(case, batch_size, optimizer, lr):
    sizes, hidden, out, targets = TORCH_CASES[case]
    Ws, bs, activations = random_layers(case, sizes, hidden, out)
    X, Z, labels = classification_data(case, 10, sizes[0], sizes[-1], targets)
    kwargs = dict(epochs=2, batch_size=batch_size)
    W_torch, b_torch, loss_torch = torch_train(
        Ws, bs, activations, X, Z, labels, targets=targets, optimizer=optimizer,
        lr=lr, **kwargs,
    )  # fmt: skip

    G = layered_graph(Ws, bs, activations)
    loss = "cross_entropy" if out == "sigmoid" else None  # None: softmax's CE
    result = train(G, X, Z, learning_rate=lr, optimizer=optimizer, loss=loss,
                   **kwargs)  # fmt: skip
    W, b = from_graph(result, Ws)

    np.testing.assert_allclose(result.loss, loss_torch, rtol=1e-9, atol=1e-12)
    for k in range(len(Ws)):
        np.testing.assert_allclose(W[k], W_torch[k], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b[k], b_torch[k], rtol=1e-9, atol=1e-12)
    assert not np.allclose(W[-1], Ws[-1])  # it did train
    if optimizer == "sgd":
        W, b, loss_layered = train_layered(
            Ws, bs, activations, X, Z, learning_rate=lr, loss=loss, **kwargs
        )
        np.testing.assert_allclose(loss_layered, loss_torch, rtol=1e-9, atol=1e-12)
        for k in range(len(Ws)):
            np.testing.assert_allclose(W[k], W_torch[k], rtol=1e-9, atol=1e-12)


def test_gradients_under_cross_entropy_match_torch_autograd():
    # one SGD step of lr = 1 on the whole batch: new = old − ∂(mean E)/∂θ
    for case, (sizes, hidden, out, targets) in enumerate(TORCH_CASES):
        Ws, bs, activations = random_layers(case + 10, sizes, hidden, out)
        X, Z, labels = classification_data(case, 6, sizes[0], sizes[-1], targets)
        W_torch, b_torch, _ = torch_train(
            Ws, bs, activations, X, Z, labels, targets=targets, optimizer="sgd",
            lr=1.0, epochs=1, batch_size=6,
        )  # fmt: skip
        G = layered_graph(Ws, bs, activations)
        dw, db = gradients(G, X, Z, loss="cross_entropy")
        for k, W in enumerate(Ws):
            for i, j in itertools.product(*map(range, W.shape)):
                step = W[i, j] - W_torch[k][i, j]
                assert dw[(k, i), (k + 1, j)] == pytest.approx(step, rel=1e-9)
            for j in range(W.shape[1]):
                step = bs[k][j] - b_torch[k][j]
                assert db[k + 1, j] == pytest.approx(step, rel=1e-9)


# --- central differences of the cross-entropy ---


def mean_cross_entropy(G, X, Z, softmax):
    """The mean loss, written out from the definitions on predict's y."""
    Y = predict(G, X)
    if softmax:
        return float(np.mean(-np.sum(Z * np.log(Y), axis=1)))
    return float(np.mean(-np.sum(Z * np.log(Y) + (1 - Z) * np.log(1 - Y), axis=1)))


@pytest.mark.parametrize("out", ["softmax", "sigmoid"])
def test_gradients_match_central_differences(out):
    Ws, bs, activations = random_layers(3, [3, 4, 3], ["tanh"], out)
    targets = "probabilities" if out == "softmax" else "binary"
    X, Z, _ = classification_data(3, 5, 3, 3, targets)
    G = layered_graph(Ws, bs, activations)
    dw, db = gradients(G, X, Z, loss="cross_entropy")
    h = 1e-6
    for u, v, w in G.edges(data="weight"):
        H = G.copy()
        H.edges[u, v]["weight"] = w + h
        plus = mean_cross_entropy(H, X, Z, out == "softmax")
        H.edges[u, v]["weight"] = w - h
        minus = mean_cross_entropy(H, X, Z, out == "softmax")
        assert dw[u, v] == pytest.approx((plus - minus) / (2 * h), rel=1e-6, abs=1e-8)
    for v in db:
        H = G.copy()
        H.nodes[v]["bias"] = G.nodes[v]["bias"] + h
        plus = mean_cross_entropy(H, X, Z, out == "softmax")
        H.nodes[v]["bias"] = G.nodes[v]["bias"] - h
        minus = mean_cross_entropy(H, X, Z, out == "softmax")
        assert db[v] == pytest.approx((plus - minus) / (2 * h), rel=1e-6, abs=1e-8)


# --- the reference's paths agree ---


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(
    classifiers(),
    st.sampled_from(sorted(OPTIMIZERS)),
    st.sampled_from(RULES),
    st.integers(1, 3),
    st.integers(1, 4),
    st.sampled_from([0.0, 0.0, 0.5, 7.0]),
)
def test_the_event_loop_equals_the_sequential_path(
    problem, optimizer, rule, epochs, batch_size, interval
):
    G, inputs, outputs, X, Z = problem
    if interval > 0:  # then every delay must be positive
        for u, v in G.edges:
            G.edges[u, v]["delay"] = max(G.edges[u, v]["delay"], 0.25)
    fast, slow = both(
        G, X, Z, inputs=inputs, outputs=outputs,
        learning_rate=0.2 if optimizer in ("sgd", "momentum") else 0.05,
        epochs=epochs, batch_size=batch_size, optimizer=optimizer, rule=rule,
        feedback=feedback_for(G, inputs, outputs, rule, seed=len(G)),
        interval=interval, loss="cross_entropy",
    )  # fmt: skip
    assert_results_equal(fast, slow)


@SETTINGS
@given(classifiers(max_hidden=4), st.sampled_from(RULES))
def test_one_step_of_train_is_the_update_direction(problem, rule):
    """The general form (update_directions) against both paths of train."""
    G, inputs, outputs, X, Z = problem
    feedback = feedback_for(G, inputs, outputs, rule, seed=3)
    options = dict(inputs=inputs, outputs=outputs, rule=rule, feedback=feedback,
                   loss="cross_entropy")  # fmt: skip
    dw, db = update_directions(G, X, Z, **options)
    fast, slow = both(G, X, Z, learning_rate=0.5, batch_size=len(X), **options)
    old_w = nx.get_edge_attributes(G, "weight")
    old_b = {v: G.nodes[v].get("bias", 0.0) for v in db}
    expected_w = {k: old_w[k] + 0.5 * d for k, d in dw.items()}
    expected_b = {v: old_b[v] + 0.5 * d for v, d in db.items()}
    for result in (fast, slow):
        np.testing.assert_allclose(
            flat(result.weights, result.biases),
            flat(expected_w, expected_b),
            rtol=1e-12,
            atol=1e-13,
        )


@pytest.mark.parametrize("out", ["softmax", "sigmoid"])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_train_layered_equals_train_under_cross_entropy(out, batch_size):
    for seed, sizes in enumerate([[3, 4, 3], [2, 5, 3, 4], [4, 2]]):
        Ws, bs, activations = random_layers(seed, sizes, ["tanh", "relu"], out)
        targets = "probabilities" if out == "softmax" else "binary"
        X, Z, _ = classification_data(seed, 7, sizes[0], sizes[-1], targets)
        kwargs = dict(learning_rate=0.2, epochs=3, batch_size=batch_size,
                      loss="cross_entropy")  # fmt: skip
        W_layered, b_layered, loss = train_layered(Ws, bs, activations, X, Z, **kwargs)
        fast, slow = both(layered_graph(Ws, bs, activations), X, Z, **kwargs)
        for result in (fast, slow):
            np.testing.assert_allclose(result.loss, loss, rtol=1e-12, atol=1e-13)
            W, b = from_graph(result, Ws)
            for k in range(len(Ws)):
                np.testing.assert_allclose(W[k], W_layered[k], rtol=1e-12, atol=1e-13)
                np.testing.assert_allclose(b[k], b_layered[k], rtol=1e-12, atol=1e-13)


def test_squared_loss_is_still_the_default_without_a_softmax_group():
    G = two_two_two(outputs="sigmoid")
    X, Z = [[0.5, -1.0]], [[0.2, 0.9]]
    default = train(G, X, Z)
    squared = train(G, X, Z, loss="squared")
    assert flat(default.weights, default.biases).tolist() == (
        flat(squared.weights, squared.biases).tolist()
    )
    y = predict(G, X)[0]
    assert default.loss[0] == 0.5 * ((0.2 - y[0]) ** 2 + (0.9 - y[1]) ** 2)
    cross = train(G, X, Z, loss="cross_entropy")
    expected = -(0.2 * math.log(y[0]) + 0.8 * math.log(1 - y[0]))
    expected -= 0.9 * math.log(y[1]) + 0.1 * math.log(1 - y[1])
    assert cross.loss[0] == pytest.approx(expected, rel=1e-14)


# --- by hand ---


def test_one_input_two_softmax_outputs_one_sgd_step_by_hand():
    G = nx.DiGraph()
    G.add_edge("x", "a", weight=0.5)
    G.add_edge("x", "b", weight=-0.25)
    G.nodes["a"].update(activation="softmax", bias=0.1)
    G.nodes["b"].update(activation="softmax", bias=0.2)
    x, z, eta = 2.0, (0.0, 1.0), 0.1
    # e_a = 0.5·2 + 0.1 = 1.1, e_b = −0.25·2 + 0.2 = −0.3; m = 1.1
    # S = exp(0) + exp(−1.4); y_a = 1/S, y_b = exp(−1.4)/S
    S = 1.0 + math.exp(-1.4)
    y = (1.0 / S, math.exp(-1.4) / S)
    # E = −(0·log y_a + 1·log y_b) = −log y_b = 1.4 + log S
    E = -math.log(y[1])
    assert pytest.approx(1.4 + math.log(S), rel=1e-15) == E
    # g = z − y (f' counts as 1); w += η·g·x, b += η·g
    g = (z[0] - y[0], z[1] - y[1])
    expected_w = {("x", "a"): 0.5 + eta * g[0] * x, ("x", "b"): -0.25 + eta * g[1] * x}
    expected_b = {"a": 0.1 + eta * g[0], "b": 0.2 + eta * g[1]}

    assert predict(G, [[x]]) == pytest.approx(np.array([y]), rel=1e-15)
    fast, slow = both(G, [[x]], [z], learning_rate=eta)
    for result in (fast, slow):
        assert result.loss[0] == pytest.approx(E, rel=1e-15)
        assert result.weights == pytest.approx(expected_w, rel=1e-15)
        assert result.biases == pytest.approx(expected_b, rel=1e-15)
        # forward at 1, the other's e after 1 more, the update then
        assert result.ends.tolist() == [2.0]
    W, b, loss = train_layered(
        [[[0.5, -0.25]]], [[0.1, 0.2]], ["softmax"], [[x]], [z], learning_rate=eta
    )
    assert loss[0] == pytest.approx(E, rel=1e-15)
    assert W[0][0] == pytest.approx([expected_w["x", "a"], expected_w["x", "b"]])
    assert b[0] == pytest.approx([expected_b["a"], expected_b["b"]], rel=1e-15)
    dw, db = gradients(G, [[x]], [z])
    assert dw == pytest.approx({("x", "a"): -g[0] * x, ("x", "b"): -g[1] * x})
    assert db == pytest.approx({"a": -g[0], "b": -g[1]})


def test_one_sigmoid_output_one_sgd_step_by_hand():
    G = nx.DiGraph()
    G.add_edge("x", "o", weight=0.5)
    G.nodes["o"].update(activation="sigmoid", bias=-0.3)
    # e = 0.5·1.5 − 0.3 = 0.45, y = 1/(1 + exp(−0.45)); z = 0.25
    y = 1.0 / (1.0 + math.exp(-0.45))
    E = -(0.25 * math.log(y) + 0.75 * math.log(1 - y))
    g = 0.25 - y  # f' counts as 1
    result = train(G, [[1.5]], [[0.25]], learning_rate=0.2, loss="cross_entropy")
    assert result.loss[0] == pytest.approx(E, rel=1e-15)
    assert result.weights["x", "o"] == pytest.approx(0.5 + 0.2 * g * 1.5, rel=1e-15)
    assert result.biases["o"] == pytest.approx(-0.3 + 0.2 * g, rel=1e-15)


def test_logs_are_clamped_at_minus_100():
    # e_b − e_a = −1000: exp underflows, y_b = 0 exactly, log y_b = −100
    G = nx.DiGraph()
    G.add_edge("x", "a", weight=500.0)
    G.add_edge("x", "b", weight=-500.0)
    nx.set_node_attributes(G, "softmax", "activation")
    assert predict(G, [[1.0]]).tolist() == [[1.0, 0.0]]
    fast, slow = both(G, [[1.0], [1.0]], [[0.0, 1.0], [1.0, 0.0]], learning_rate=0.1)
    for result in (fast, slow):
        assert result.loss[0] == 100.0  # −(0·0 + 1·(−100))
        assert result.loss[1] == 0.0  # −(1·log 1 + 0·(−100)): exactly 0
    # binary: y = 1 exactly for e = 40, log(1 − y) = −100
    H = nx.DiGraph()
    H.add_edge("x", "o", weight=40.0)
    result = train(H, [[1.0], [1.0]], [[0.0], [1.0]], loss="cross_entropy")
    assert result.loss.tolist() == [100.0, 0.0]


# --- the times ---


def test_the_times_of_a_softmax_group_by_hand():
    # All delays 1: forward reaches h at 1, the outputs at 2; each output has
    # the other's e at 3: softmax and backward at 3; the errors reach h at 4.
    G = two_two_two()
    X, Z = [[1.0, 0.5]] * 3, [[1.0, 0.0]] * 3
    for rule in RULES:
        feedback = feedback_for(G, ["i1", "i2"], ["o1", "o2"], rule, seed=1)
        for result in both(G, X, Z, rule=rule, feedback=feedback):
            assert result.entries.tolist() == [0.0, 4.0, 8.0]
            assert result.ends.tolist() == [4.0, 8.0, 12.0]
    # Sigmoid outputs (no exchange): backward at the outputs at 2, done at 3.
    for result in both(two_two_two(outputs="sigmoid"), X, Z, loss="cross_entropy"):
        assert result.ends.tolist() == [3.0, 6.0, 9.0]


def test_the_times_with_uneven_delays_by_hand():
    # h1 → o1 takes 2 and h2 → o2 takes 3. Forward: h at 1; o1's last input
    # at 1 + 2 = 3, o2's at 1 + 3 = 4. Softmax: o1 at max(3, 4 + 1) = 5, o2
    # at max(4, 3 + 1) = 4. Backprop: o1's errors leave at 5 (h1 at 7, h2 at
    # 6), o2's at 4 (h1 at 5, h2 at 7): h1 and h2 at 7. Direct feedback, on
    # the same delays: h1 gets o1's at 7, o2's at 5; h2 o1's at 6, o2's at 7.
    G = two_two_two({("h1", "o1"): 2.0, ("h2", "o2"): 3.0})
    X, Z = [[1.0, 0.5]] * 2, [[0.0, 1.0]] * 2
    for rule in RULES:
        feedback = feedback_for(G, ["i1", "i2"], ["o1", "o2"], rule, seed=1)
        for result in both(G, X, Z, rule=rule, feedback=feedback):
            assert result.ends.tolist() == [7.0, 14.0]
        result = train(G, X, Z, rule=rule, feedback=feedback, interval=10.0)
        assert result.entries.tolist() == [0.0, 10.0]
        assert result.ends.tolist() == [7.0, 17.0]


def test_pipelined_softmax_times_and_the_tie_rule_by_hand():
    # in_flight=2, interval=1, delays 1, one iteration takes C = 4:
    # T = 0, 1, max(2, done(0) = 4) = 4, max(5, done(1) = 5) = 5; ends T + 4.
    # h does forward(1) at 2 and its update of 0 at 4, before backward(1) at
    # 5: staleness 1. The outputs do forward(1) at 3, the time of their
    # softmax(0) and backward(0): backward first, so forward(1) uses the
    # weights after update 0 (staleness 0).
    G = two_two_two()
    X, Z = [[1.0, 0.5], [0.2, -0.3]] * 2, [[1.0, 0.0], [0.3, 0.7]] * 2
    result = train(G, X, Z, in_flight=2, interval=1.0)
    assert result.entries.tolist() == [0.0, 1.0, 4.0, 5.0]
    assert result.ends.tolist() == [4.0, 5.0, 8.0, 9.0]
    assert result.staleness["h1"].tolist() == [0, 1, 0, 1]
    assert result.staleness["o1"].tolist() == [0, 0, 0, 0]
    assert result.staleness["o2"].tolist() == [0, 0, 0, 0]
    sequential = train(G, X, Z)
    assert not np.allclose(result.loss, sequential.loss)  # h1 used stale weights


@pytest.mark.parametrize("rule", RULES)
def test_pipelined_runs_agree_between_the_paths(rule):
    G = two_two_two({("h1", "o1"): 2.0, ("i2", "h2"): 0.5})
    X, Z, _ = classification_data(5, 5, 2, 2, "probabilities")
    feedback = feedback_for(G, ["i1", "i2"], ["o1", "o2"], rule, seed=4)
    options = dict(rule=rule, feedback=feedback, optimizer="adam", epochs=2)
    # interval 1 < C: entries every C, the sequential path or the event loop
    fast, slow = both(G, X, Z, interval=1.0, **options)
    assert_results_equal(fast, slow)
    # two in flight but entering C apart: no overlap, the sequential numbers
    C = float(fast.ends[0])
    overlapping = train(G, X, Z, in_flight=2, interval=C, **options)
    assert_results_equal(fast, overlapping)
    assert overlapping.entries.tolist() == (C * np.arange(10)).tolist()


# --- errors ---


def graph_with(**activations):
    G = two_two_two()
    for v, activation in activations.items():
        G.nodes[v]["activation"] = activation
    return G


X1, Z1 = [[1.0, 0.5]], [[1.0, 0.0]]


def single_softmax():
    G = nx.DiGraph()
    G.add_edge("x", "o", weight=1.0)
    G.nodes["o"]["activation"] = "softmax"
    return G


GRAPH_ERRORS = [
    (
        graph_with(h1="softmax"),
        {},
        "node 'h1' has activation 'softmax' but is not an output: every node "
        "of a softmax group must be an output",
    ),
    (
        graph_with(o1="sigmoid"),
        {},
        "output 'o1' has activation 'sigmoid' but output 'o2' is 'softmax': "
        "with a softmax group every output must be 'softmax'",
    ),
    (
        two_two_two(),
        {"outputs": ["h1", "o1", "o2"]},
        "output 'h1' has activation 'tanh' but output 'o1' is 'softmax'",
    ),
    (single_softmax(), {}, "the softmax group has one node, 'o': it needs at least 2"),
]


@pytest.mark.parametrize(("G", "options", "match"), GRAPH_ERRORS)
def test_softmax_group_rules_are_network_errors(G, options, match):
    n_in = sum(1 for v in G if not G.in_degree(v))
    n_out = len(options.get("outputs", [v for v in G if not G.out_degree(v)]))
    X, Z = [[0.5] * n_in], [[0.0] * n_out]
    for call in (
        lambda: predict(G, X, **options),
        lambda: train(G, X, Z, **options),
        lambda: gradients(G, X, Z, **options),
    ):
        with pytest.raises(NetworkError, match=match):
            call()


def test_a_softmax_node_must_be_a_sink():
    G = nx.DiGraph([("i1", "h1"), ("h1", "o1"), ("o1", "o2")])
    nx.set_edge_attributes(G, 1.0, "weight")
    nx.set_node_attributes(G, {"o1": "softmax", "o2": "softmax"}, "activation")
    match = (
        r"node 'o1' has activation 'softmax' and successors \['o2'\]: a softmax "
        "node must be a sink"
    )
    with pytest.raises(NetworkError, match=match):
        predict(G, [[1.0]], outputs=["o1", "o2"])
    with pytest.raises(NetworkError, match=match):
        train(G, [[1.0]], [[1.0, 0.0]], outputs=["o1", "o2"])


SOFTMAX = two_two_two()
SIGMOID = two_two_two(outputs="sigmoid")

LOSS_ERRORS = [
    (SOFTMAX, {"loss": "hinge"}, Z1,
     "loss must be None, 'squared' or 'cross_entropy', got 'hinge'"),
    (SOFTMAX, {"loss": "squared"}, Z1,
     "a softmax group trains with loss='cross_entropy', got loss='squared'"),
    (graph_with(o1="sigmoid", o2="tanh"), {"loss": "cross_entropy"}, Z1,
     "loss='cross_entropy' needs sigmoid outputs or a softmax group: output "
     "'o2' has activation 'tanh'"),
    (SIGMOID, {"loss": "cross_entropy"}, [[1.0, 1.5]],
     r"loss='cross_entropy' needs targets in \[0, 1\]: Z\[0, 1\] is 1.5"),
    (SOFTMAX, {}, [[-0.5, 1.0]],
     r"loss='cross_entropy' needs targets in \[0, 1\]: Z\[0, 0\] is -0.5"),
    (SIGMOID, {"loss": "cross_entropy", "outputs": ["h1", "o1", "o2"]},
     [[1.0, 0.0, 0.0]],
     r"loss='cross_entropy' needs sigmoid outputs or a softmax group: output "
     "'h1' has activation 'tanh'"),
]  # fmt: skip


@pytest.mark.parametrize(("G", "options", "Z", "match"), LOSS_ERRORS)
def test_bad_losses_are_data_errors(G, options, Z, match):
    rule = {"rule": "backprop"}
    for call in (
        lambda: train(G, X1, Z, **options),
        lambda: train(G, X1, Z, in_flight=2, **options),  # the event loop
        lambda: update_directions(G, X1, Z, **rule, **options),
        lambda: gradients(G, X1, Z, **options),
    ):
        with pytest.raises(DataError, match=match):
            call()


def test_cross_entropy_needs_sigmoid_outputs_without_successors():
    G = nx.DiGraph([("x", "o1"), ("o1", "o2")])
    nx.set_edge_attributes(G, 0.5, "weight")
    match = (
        r"loss='cross_entropy' needs outputs without successors: output 'o1' "
        r"feeds \['o2'\]"
    )
    with pytest.raises(DataError, match=match):
        train(G, [[1.0]], [[1.0, 0.0]], outputs=["o1", "o2"], loss="cross_entropy")
    train(G, [[1.0]], [[1.0, 0.0]], outputs=["o1", "o2"])  # squared: fine


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (
            {"drops": [("h1", "o1", "forward", 0)]},
            r"drops: not supported with a softmax group \('o1', 'o2'\)",
        ),
        (
            {"on_missing": "zero"},
            r"on_missing='zero' \(deadlines\): not supported with a softmax group",
        ),
        (
            {"on_missing": "last", "timeout": 3.0},
            r"on_missing='last' \(deadlines\): not supported with a softmax group",
        ),
    ],
)
def test_lost_messages_and_deadlines_are_refused_with_a_softmax_group(options, match):
    with pytest.raises(DataError, match=match):
        train(SOFTMAX, X1, Z1, **options)
    without = {"on_missing": "zero"} | options  # (a lost message: filled in)
    train(SIGMOID, X1, Z1, loss="cross_entropy", **without)  # without one: fine


def test_layered_softmax_rules_and_losses():
    W, b = [np.ones((2, 3)), np.ones((3, 2))], [np.zeros(3), np.zeros(2)]
    with pytest.raises(
        NetworkError, match="activations\\[0\\]: 'softmax' is for the last layer only"
    ):
        train_layered(W, b, ["softmax", "softmax"], X1, Z1)
    with pytest.raises(
        NetworkError,
        match=r"activations\[1\]: a softmax layer needs at least 2 units, got 1",
    ):
        train_layered([W[0], np.ones((3, 1))], [b[0], np.zeros(1)],
                      ["tanh", "softmax"], X1, [[1.0]])  # fmt: skip
    with pytest.raises(DataError, match="a softmax group trains with loss="):
        train_layered(W, b, ["tanh", "softmax"], X1, Z1, loss="squared")
    with pytest.raises(
        DataError,
        match=r"needs sigmoid outputs or a softmax group: the last layer, "
        r"activations\[1\], has activation 'relu'",
    ):
        train_layered(W, b, ["tanh", "relu"], X1, Z1, loss="cross_entropy")
    with pytest.raises(DataError, match=r"Z\[0, 1\] is 2.0"):
        train_layered(W, b, ["tanh", "sigmoid"], X1, [[0.0, 2.0]],
                      loss="cross_entropy")  # fmt: skip
    with pytest.raises(DataError, match="loss must be None, 'squared' or"):
        train_layered(W, b, ["tanh", "sigmoid"], X1, Z1, loss="mse")


def test_unknown_activations_name_softmax_among_the_known_ones():
    with pytest.raises(NetworkError, match=r"'sigmoid', 'softmax', 'tanh'\]"):
        predict(graph_with(h1="softplus"), X1)


def test_softmax_and_sigmoid_are_known_by_name_on_objects_too():
    from neurosim.activations import ACTIVATIONS  # an Activation named "sigmoid"

    X, Z = [[1.0, 0.5], [0.2, -0.3]], [[1.0, 0.0], [0.3, 0.7]]
    named = two_two_two()
    softmax = SimpleNamespace(name="softmax", function=None, derivative=None)
    named.nodes["o1"]["activation"] = softmax
    expected, actual = train(two_two_two(), X, Z), train(named, X, Z)
    assert flat(actual.weights, actual.biases).tolist() == (
        flat(expected.weights, expected.biases).tolist()
    )
    G = two_two_two(outputs="sigmoid")
    G.nodes["o2"]["activation"] = ACTIVATIONS["sigmoid"]
    expected = train(two_two_two(outputs="sigmoid"), X, Z, loss="cross_entropy")
    actual = train(G, X, Z, loss="cross_entropy")
    np.testing.assert_allclose(actual.loss, expected.loss, rtol=1e-15)

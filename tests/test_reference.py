"""Tests of the numpy reference: by hand, by finite differences, by PyTorch.

The reference checks the actors, so it is itself checked against things that
share none of its code: arithmetic written out from the chain rule, central
differences of the loss, a second (matrix) formulation, and torch.
"""

import copy
import itertools
from pathlib import Path
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest

from neurosim.errors import DataError, NetworkError
from neurosim.reference import (
    ReferenceResult,
    gradients,
    predict,
    train,
    train_layered,
    update_directions,
)

SOFTSIGN = SimpleNamespace(  # a custom activation, used by duck typing
    name="softsign",
    function=lambda e: e / (1 + np.abs(e)),
    derivative=lambda e, y: 1 / (1 + np.abs(e)) ** 2,
)


# --- helpers ---


def worked_example() -> nx.DiGraph:
    """The worked example: a 2-2-2 identity network without bias."""
    G = nx.DiGraph()
    G.add_nodes_from(["i1", "i2", "h1", "h2", "o1", "o2"], activation="identity")
    w = dict(w1=1.5, w2=2.0, w3=2.0, w4=2.5, w5=1.2, w6=2.5, w7=0.5, w8=1.0)
    G.add_edge("i1", "h1", weight=w["w1"])
    G.add_edge("i1", "h2", weight=w["w2"])
    G.add_edge("i2", "h1", weight=w["w3"])
    G.add_edge("i2", "h2", weight=w["w4"])
    G.add_edge("h1", "o1", weight=w["w5"])
    G.add_edge("h1", "o2", weight=w["w6"])
    G.add_edge("h2", "o1", weight=w["w7"])
    G.add_edge("h2", "o2", weight=w["w8"])
    return G


def random_dag(seed: int, activations=("sigmoid", "tanh", "identity")):
    """A small DAG with skip connections; ``o0`` is an output with a successor.

    Returns the graph and its outputs (``["o0", "o1"]``, not only the sinks).
    """
    rng = np.random.default_rng(seed)
    inputs, hidden, outputs = ["x0", "x1"], ["h0", "h1", "h2", "h3"], ["o0", "o1"]
    nodes = inputs + hidden + outputs
    G = nx.DiGraph()
    G.add_nodes_from(inputs)
    for j, v in enumerate(nodes[2:], start=2):
        G.add_node(v, activation=str(rng.choice(activations)), bias=rng.normal(0, 0.5))
        chosen = [u for u in nodes[:j] if rng.random() < 0.5] or [nodes[j - 1]]
        for u in chosen:
            G.add_edge(u, v, weight=rng.normal())
    G.add_edge("o0", "o1", weight=rng.normal())
    for u in inputs + hidden:  # every node feeds something
        if G.out_degree(u) == 0:
            v = str(rng.choice(nodes[nodes.index(u) + 1 :]))
            G.add_edge(u, v, weight=rng.normal())
    G.nodes["h1"]["activation"] = SOFTSIGN
    return G, outputs


def samples(seed: int, n: int = 5, n_in: int = 2, n_out: int = 2):
    rng = np.random.default_rng(seed + 1000)
    return rng.normal(size=(n, n_in)), rng.uniform(-1, 1, size=(n, n_out))


def with_parameters(G: nx.DiGraph, weights: dict, biases: dict) -> nx.DiGraph:
    H = copy.deepcopy(G)
    for (u, v), w in weights.items():
        H.edges[u, v]["weight"] = w
    for v, b in biases.items():
        H.nodes[v]["bias"] = b
    return H


def mean_loss(G, X, Z, outputs) -> float:
    Y = predict(G, X, outputs=outputs)
    return float(np.mean(0.5 * np.sum((Z - Y) ** 2, axis=1)))


def finite_differences(G, X, Z, outputs, h=1e-6):
    """Central differences of the mean loss w.r.t. every weight and bias."""
    dw, db = {}, {}
    for u, v, w in G.edges(data="weight"):
        plus = with_parameters(G, {(u, v): w + h}, {})
        minus = with_parameters(G, {(u, v): w - h}, {})
        dw[u, v] = mean_loss(plus, X, Z, outputs) - mean_loss(minus, X, Z, outputs)
        dw[u, v] /= 2 * h
    for v in G.nodes:
        if G.in_degree(v):
            b = G.nodes[v].get("bias", 0.0)
            plus = with_parameters(G, {}, {v: b + h})
            minus = with_parameters(G, {}, {v: b - h})
            db[v] = mean_loss(plus, X, Z, outputs) - mean_loss(minus, X, Z, outputs)
            db[v] /= 2 * h
    return dw, db


def flat(weights: dict, biases: dict) -> np.ndarray:
    return np.array([*weights.values(), *biases.values()])


def parameters(G: nx.DiGraph) -> np.ndarray:
    """The weights and biases of ``G`` in the order of a ReferenceResult."""
    biases = [G.nodes[v].get("bias", 0.0) for v in G if G.in_degree(v)]
    return np.array([w for _, _, w in G.edges(data="weight")] + biases)


def layered_graph(Ws, bs, activations) -> nx.DiGraph:
    """The graph of a stack of layers; node ``(k, i)`` is unit i of layer k."""
    G = nx.DiGraph()
    G.add_nodes_from((0, i) for i in range(Ws[0].shape[0]))
    for k, (W, b, f) in enumerate(zip(Ws, bs, activations, strict=True), start=1):
        for j in range(W.shape[1]):
            G.add_node((k, j), activation=f, bias=b[j])
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                G.add_edge((k - 1, i), (k, j), weight=W[i, j])
    return G


# --- the worked example, by hand ---


def test_worked_example_one_step_by_hand():
    # Forward:  h1 = 1·1.5 + 1.5·2 = 4.5          h2 = 1·2 + 1.5·2.5 = 5.75
    #           o1 = 4.5·1.2 + 5.75·0.5 = 8.275   o2 = 4.5·2.5 + 5.75·1 = 17
    # Loss:     E = ½(2.5 − 8.275)² + ½(3 − 17)² = ½(33.350625 + 196) = 114.6753125
    # Backward (identity, so g = δ; the weights before the update):
    #   g_o1 = 2.5 − 8.275 = −5.775        g_o2 = 3 − 17 = −14
    #   g_h1 = w5·g_o1 + w6·g_o2 = 1.2·(−5.775) + 2.5·(−14) = −6.93 − 35 = −41.93
    #   g_h2 = w7·g_o1 + w8·g_o2 = 0.5·(−5.775) + 1·(−14) = −2.8875 − 14 = −16.8875
    # Update:   w_uv += η·g_v·y_u,  b_v += η·g_v  (η = 0.1, all biases from 0)
    expected_weights = {
        ("i1", "h1"): -2.693,  # w1: 1.5 + 0.1·(−41.93)·1 = 1.5 − 4.193
        ("i1", "h2"): 0.31125,  # w2: 2 + 0.1·(−16.8875)·1 = 2 − 1.68875
        ("i2", "h1"): -4.2895,  # w3: 2 + 0.1·(−41.93)·1.5 = 2 − 6.2895
        ("i2", "h2"): -0.033125,  # w4: 2.5 + 0.1·(−16.8875)·1.5 = 2.5 − 2.533125
        ("h1", "o1"): -1.39875,  # w5: 1.2 − 0.1·(8.275 − 2.5)·4.5 = 1.2 − 2.59875
        ("h1", "o2"): -3.8,  # w6: 2.5 − 0.1·(17 − 3)·4.5 = 2.5 − 6.3
        ("h2", "o1"): -2.820625,  # w7: 0.5 − 0.1·5.775·5.75 = 0.5 − 3.320625
        ("h2", "o2"): -7.05,  # w8: 1 − 0.1·14·5.75 = 1 − 8.05
    }
    expected_biases = {
        "h1": -4.193,  # 0.1·(−41.93)
        "h2": -1.68875,  # 0.1·(−16.8875)
        "o1": -0.5775,  # 0.1·(2.5 − 8.275)
        "o2": -1.4,  # 0.1·(3 − 17)
    }

    result = train(worked_example(), [[1.0, 1.5]], [[2.5, 3.0]], learning_rate=0.1)

    assert result.loss.shape == (1,)
    assert result.loss[0] == pytest.approx(114.6753125, abs=1e-12)
    assert result.weights == pytest.approx(expected_weights, abs=1e-12)
    assert result.biases == pytest.approx(expected_biases, abs=1e-12)
    assert list(result.weights) == list(worked_example().edges)
    assert list(result.biases) == ["h1", "h2", "o1", "o2"]


def test_worked_example_diverges_at_0_1_and_converges_at_0_02():
    G, X, Z = worked_example(), [[1.0, 1.5]], [[2.5, 3.0]]
    fast = train(G, X, Z, learning_rate=0.1, epochs=4).loss
    slow = train(G, X, Z, learning_rate=0.02, epochs=30).loss
    assert np.all(np.diff(fast) > 0)
    assert slow[-1] < 1e-3 * slow[0]


def test_predict_of_the_worked_example():
    Y = predict(worked_example(), [[1.0, 1.5], [0.0, 0.0]])
    np.testing.assert_allclose(Y, [[8.275, 17.0], [0.0, 0.0]], rtol=1e-15)


# --- gradients: central differences ---


def kink_distance(G, X, outputs) -> float:
    """The smallest |e| at any relu node (its input, read as an identity)."""
    distance = np.inf
    for v, f in G.nodes(data="activation"):
        if f == "relu":
            H = copy.deepcopy(G)
            H.nodes[v]["activation"] = "identity"
            distance = min(distance, np.min(np.abs(predict(H, X, outputs=[v]))))
    return distance


@pytest.mark.parametrize("seed", range(8))
def test_gradients_match_central_differences(seed):
    activations = ("sigmoid", "tanh", "identity", "relu")
    X, Z = samples(seed)
    G, outputs = random_dag(seed, activations)
    while kink_distance(G, X, outputs) < 0.05:  # keep relu away from its kink
        seed += 100
        G, outputs = random_dag(seed, activations)

    dw, db = gradients(G, X, Z, outputs=outputs)
    fd_w, fd_b = finite_differences(G, X, Z, outputs)

    # h = 1e-6: truncation error ~ h²·|L'''| ≈ 1e-12, rounding error
    # ~ 1e-16·|L| / h ≈ 1e-10 for L = O(1): 1e-7 leaves ample margin while a
    # wrong term (errors of order |g|·|y| ~ 1e-2..1) would fail by far.
    assert dw == pytest.approx(fd_w, rel=1e-6, abs=1e-7)
    assert db == pytest.approx(fd_b, rel=1e-6, abs=1e-7)


def test_one_sgd_step_is_params_minus_learning_rate_times_gradient():
    G, outputs = random_dag(3)
    X, Z = samples(3)
    dw, db = gradients(G, X, Z, outputs=outputs)
    result = train(G, X, Z, outputs=outputs, learning_rate=0.3, batch_size=len(X))
    expected = parameters(G) - 0.3 * flat(dw, db)
    np.testing.assert_allclose(
        flat(result.weights, result.biases), expected, rtol=1e-15
    )


def test_gradients_are_negated_backprop_directions():
    G, outputs = random_dag(4)
    X, Z = samples(4)
    dw, db = gradients(G, X, Z, outputs=outputs)
    uw, ub = update_directions(G, X, Z, rule="backprop", outputs=outputs)
    assert flat(dw, db).tolist() == (-flat(uw, ub)).tolist()


# --- the layered form ---


def test_train_layered_equals_train_on_a_layered_graph():
    rng = np.random.default_rng(7)
    sizes = [3, 4, 3, 2]
    Ws = [rng.normal(size=(m, n)) for m, n in itertools.pairwise(sizes)]
    bs = [rng.normal(size=n) for n in sizes[1:]]
    activations = ["tanh", "sigmoid", "identity"]
    X, Z = rng.normal(size=(7, 3)), rng.uniform(-1, 1, size=(7, 2))
    G = layered_graph(Ws, bs, activations)
    Ws0 = [W.copy() for W in Ws]
    kwargs = dict(learning_rate=0.2, epochs=3, batch_size=3)  # batches 3, 3, 1

    W_new, b_new, loss = train_layered(Ws, bs, activations, X, Z, **kwargs)
    result = train(G, X, Z, **kwargs)

    np.testing.assert_allclose(loss, result.loss, rtol=1e-12)
    assert loss.shape == (21,)
    for k, (W, b) in enumerate(zip(W_new, b_new, strict=True), start=1):
        from_graph = [
            [result.weights[(k - 1, i), (k, j)] for j in range(W.shape[1])]
            for i in range(W.shape[0])
        ]
        np.testing.assert_allclose(W, from_graph, rtol=1e-12)
        np.testing.assert_allclose(
            b, [result.biases[k, j] for j in range(len(b))], rtol=1e-12
        )
    assert not np.array_equal(W_new[0], Ws[0])  # it did train, on copies
    assert all(np.array_equal(W, W0) for W, W0 in zip(Ws, Ws0, strict=True))


def test_train_layered_on_the_worked_example():
    Ws = [np.array([[1.5, 2.0], [2.0, 2.5]]), np.array([[1.2, 2.5], [0.5, 1.0]])]
    bs = [np.zeros(2), np.zeros(2)]
    W, b, loss = train_layered(Ws, bs, ["identity"] * 2, [[1.0, 1.5]], [[2.5, 3.0]])
    result = train(worked_example(), [[1.0, 1.5]], [[2.5, 3.0]])
    assert loss[0] == pytest.approx(114.6753125, abs=1e-12)
    assert W[0][0, 0] == pytest.approx(result.weights["i1", "h1"], abs=1e-12)
    assert W[1][1, 1] == pytest.approx(-7.05, abs=1e-12)
    assert b[1] == pytest.approx([-0.5775, -1.4], abs=1e-12)
    assert bs[1].tolist() == [0.0, 0.0]


# --- optimizers ---


def test_momentum_first_step_is_the_sgd_step():
    G, outputs = random_dag(5)
    X, Z = samples(5)
    sgd = train(G, X, Z, outputs=outputs, batch_size=5)
    momentum = train(G, X, Z, outputs=outputs, batch_size=5, optimizer="momentum")
    assert flat(momentum.weights, momentum.biases).tolist() == pytest.approx(
        flat(sgd.weights, sgd.biases).tolist(), rel=1e-15
    )


@pytest.mark.parametrize(("optimizer", "eps"), [("adam", 1e-8), ("adagrad", 1e-10)])
def test_first_adaptive_step_is_learning_rate_times_sign(optimizer, eps):
    # Adam: m = 0.1·g, v = 0.001·g², step = lr/0.1·m / (√v/√0.001 + eps);
    # Adagrad: sum = g², step = lr·g / (√sum + eps). Both: lr·g / (|g| + eps).
    G, outputs = random_dag(6)
    X, Z = samples(6)
    d = flat(*update_directions(G, X, Z, rule="backprop", outputs=outputs))
    result = train(G, X, Z, outputs=outputs, batch_size=5, optimizer=optimizer)
    lr = 0.001 if optimizer == "adam" else 0.01  # the defaults
    step = flat(result.weights, result.biases) - parameters(G)
    np.testing.assert_allclose(step, lr * d / (np.abs(d) + eps), rtol=1e-12)


OPTIMIZER_CASES = [
    ("sgd", 0.1, {}),
    ("sgd", 0.1, {"momentum": 0.5, "dampening": 0.3, "weight_decay": 0.01}),
    ("momentum", 0.05, {}),
    ("momentum", 0.05, {"nesterov": True, "weight_decay": 0.02}),
    ("adagrad", 0.1, {}),
    (
        "adagrad",
        0.1,
        {"lr_decay": 0.1, "weight_decay": 0.01, "initial_accumulator_value": 0.2},
    ),
    ("adam", 0.05, {}),
    ("adam", 0.05, {"betas": (0.3, 0.9), "eps": 1e-6}),  # lerp weight >= 0.5
    ("adam", 0.05, {"betas": (0.8, 0.99), "weight_decay": 0.01, "amsgrad": True}),
]


def torch_train(G, X, Z, outputs, optimizer, lr, options, epochs, batch_size):
    """The same training in PyTorch: autograd and torch.optim (float64)."""
    torch = pytest.importorskip("torch")
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda e: e}
    inputs = [v for v in G if G.in_degree(v) == 0]
    order = [v for v in nx.topological_sort(G) if G.in_degree(v)]
    theta = {  # one vector per neuron: incoming weights, then the bias
        v: torch.tensor(
            [G.edges[u, v]["weight"] for u in G.predecessors(v)] + [G.nodes[v]["bias"]],
            dtype=torch.float64,
            requires_grad=True,
        )
        for v in order
    }
    cls = {"sgd": "SGD", "momentum": "SGD", "adagrad": "Adagrad", "adam": "Adam"}
    options = ({"momentum": 0.9} if optimizer == "momentum" else {}) | options
    opt = getattr(torch.optim, cls[optimizer])(
        list(theta.values()), lr=lr, foreach=False, **options
    )
    losses = []
    for _ in range(epochs):
        for start in range(0, len(X), batch_size):
            Xb, Zb = X[start : start + batch_size], Z[start : start + batch_size]
            y = {u: torch.tensor(Xb[:, i]) for i, u in enumerate(inputs)}
            for v in order:
                p = theta[v]
                e = sum(p[k] * y[u] for k, u in enumerate(G.predecessors(v))) + p[-1]
                y[v] = act[G.nodes[v]["activation"]](e)
            E = sum(
                0.5 * (torch.tensor(Zb[:, k]) - y[o]) ** 2
                for k, o in enumerate(outputs)
            )
            loss = E.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(E.detach().numpy())
    weights = {
        (u, v): theta[v][k].item()
        for v in order
        for k, u in enumerate(G.predecessors(v))
    }
    biases = {v: theta[v][-1].item() for v in order}
    return weights, biases, np.concatenate(losses)


def test_gradients_match_torch_autograd():
    G, outputs = random_dag(8)
    G.nodes["h1"]["activation"] = "tanh"  # torch has no softsign of ours
    X, Z = samples(8)
    # One SGD step with lr = 1 on one batch: new = old − gradient.
    weights, biases, _ = torch_train(G, X, Z, outputs, "sgd", 1.0, {}, 1, len(X))
    dw, db = gradients(G, X, Z, outputs=outputs)
    old_w = nx.get_edge_attributes(G, "weight")
    assert {k: old_w[k] - weights[k] for k in dw} == pytest.approx(dw, rel=1e-12)
    assert {v: G.nodes[v]["bias"] - biases[v] for v in db} == pytest.approx(
        db, rel=1e-12
    )


@pytest.mark.parametrize(("optimizer", "lr", "options"), OPTIMIZER_CASES)
def test_optimizers_match_torch(optimizer, lr, options):
    G, outputs = random_dag(9)
    G.nodes["h1"]["activation"] = "sigmoid"
    X, Z = samples(9, n=7)
    kwargs = dict(epochs=3, batch_size=3)  # 9 steps, batches of 3, 3, 1
    weights, biases, loss = torch_train(
        G, X, Z, outputs, optimizer, lr, options, **kwargs
    )
    result = train(
        G,
        X,
        Z,
        outputs=outputs,
        learning_rate=lr,
        optimizer=optimizer,
        optimizer_options=options,
        **kwargs,
    )
    # torch's CPU kernels fuse multiply-adds and round float64 sqrt their own
    # way, and autograd sums in another order: agreement to rounding, which
    # nine steps amplify at most to ~1e-14 here.
    np.testing.assert_allclose(result.loss, loss, rtol=1e-12)
    np.testing.assert_allclose(
        flat(result.weights, result.biases),
        flat(
            {k: weights[k] for k in result.weights},
            {v: biases[v] for v in result.biases},
        ),
        rtol=1e-12,
    )
    assert flat(result.weights, result.biases).tolist() != pytest.approx(
        parameters(G).tolist()
    )


# --- learning rules ---


def test_article_equals_backprop_on_an_identity_network():
    G, outputs = random_dag(10, activations=("identity",))
    G.nodes["h1"]["activation"] = "identity"
    X, Z = samples(10)
    kwargs = dict(outputs=outputs, learning_rate=0.01, epochs=2, batch_size=2)
    article = train(G, X, Z, rule="article", **kwargs)
    backprop = train(G, X, Z, rule="backprop", **kwargs)
    assert article.weights == backprop.weights
    assert article.biases == backprop.biases
    assert article.loss.tolist() == backprop.loss.tolist()


def test_article_differs_from_backprop_and_the_true_gradient_on_sigmoids():
    G, outputs = random_dag(11, activations=("sigmoid",))
    G.nodes["h1"]["activation"] = "sigmoid"
    X, Z = samples(11)
    fd = flat(*finite_differences(G, X, Z, outputs))
    backprop = flat(*update_directions(G, X, Z, rule="backprop", outputs=outputs))
    article = flat(*update_directions(G, X, Z, rule="article", outputs=outputs))
    np.testing.assert_allclose(-backprop, fd, rtol=1e-6, atol=1e-7)
    assert np.linalg.norm(-article - fd) > 0.1 * np.linalg.norm(fd)


def test_feedback_alignment_with_the_forward_weights_is_backprop():
    G, outputs = random_dag(12)
    X, Z = samples(12)
    B = {(u, v): w for u, v, w in G.edges(data="weight") if G.in_degree(u)}
    fa = update_directions(
        G, X, Z, rule="feedback_alignment", feedback=B, outputs=outputs
    )
    bp = update_directions(G, X, Z, rule="backprop", outputs=outputs)
    assert fa == bp


def test_direct_feedback_alignment_on_one_hidden_layer():
    rng = np.random.default_rng(13)
    Ws, bs = [rng.normal(size=(2, 3)), rng.normal(size=(3, 2))], [np.zeros(3)] * 2
    G = layered_graph(Ws, bs, ["tanh", "sigmoid"])
    X, Z = samples(13)
    hidden, outputs = [(1, j) for j in range(3)], [(2, k) for k in range(2)]
    # With one hidden layer, B_oh = w_ho makes δ_h = Σ_o w_ho·g_o: backprop.
    B = {(o, h): G.edges[h, o]["weight"] for o in outputs for h in hidden}
    dfa = update_directions(G, X, Z, rule="direct_feedback_alignment", feedback=B)
    bp = update_directions(G, X, Z, rule="backprop")
    assert dfa[0] == pytest.approx(bp[0], rel=1e-15)
    assert dfa[1] == pytest.approx(bp[1], rel=1e-15)
    # Random feedback changes the hidden layer only.
    B = {k: rng.normal() for k in B}
    dfa_w, _ = update_directions(G, X, Z, rule="direct_feedback_alignment", feedback=B)
    assert all(dfa_w[h, o] == bp[0][h, o] for h in hidden for o in outputs)
    assert dfa_w[(0, 0), (1, 0)] != pytest.approx(bp[0][(0, 0), (1, 0)])


@pytest.mark.parametrize("rule", ["feedback_alignment", "direct_feedback_alignment"])
def test_alignment_rules_need_all_their_feedback_weights(rule):
    G = worked_example()
    with pytest.raises(DataError, match=r"feedback.*missing \[\('"):
        train(G, [[1.0, 1.5]], [[2.5, 3.0]], rule=rule, feedback={})
    with pytest.raises(DataError, match="feedback"):
        update_directions(G, [[1.0, 1.5]], [[2.5, 3.0]], rule=rule)


def test_feedback_alignment_on_the_worked_example_by_hand():
    # g_o1 = −5.775, g_o2 = −14 as in backprop; the hidden δs use B, not w:
    # δ_h1 = B_h1o1·g_o1 + B_h1o2·g_o2 = 1·(−5.775) + 2·(−14) = −33.775
    # δ_h2 = B_h2o1·g_o1 + B_h2o2·g_o2 = 0.5·(−5.775) + 1·(−14) = −16.8875
    B = {("h1", "o1"): 1.0, ("h1", "o2"): 2.0, ("h2", "o1"): 0.5, ("h2", "o2"): 1.0}
    dw, db = update_directions(
        worked_example(),
        [[1.0, 1.5]],
        [[2.5, 3.0]],
        rule="feedback_alignment",
        feedback=B,
    )
    assert dw == pytest.approx(
        {
            ("i1", "h1"): -33.775,  # δ_h1·i1
            ("i1", "h2"): -16.8875,
            ("i2", "h1"): -50.6625,  # −33.775·1.5
            ("i2", "h2"): -25.33125,
            ("h1", "o1"): -25.9875,  # g_o1·h1 = −5.775·4.5, as in backprop
            ("h1", "o2"): -63.0,
            ("h2", "o1"): -33.20625,
            ("h2", "o2"): -80.5,
        },
        abs=1e-12,
    )
    assert db == pytest.approx(
        {"h1": -33.775, "h2": -16.8875, "o1": -5.775, "o2": -14.0}, abs=1e-12
    )


# --- the result, the arguments ---


def test_result_repr_and_read_only_loss():
    X, Z = [[1.0, 1.5]] * 2, [[2.5, 3.0]] * 2
    result = train(worked_example(), X, Z, epochs=2, learning_rate=0.01)
    assert isinstance(result, ReferenceResult)
    assert repr(result).startswith("ReferenceResult(8 weights, 4 biases, 4 losses from")
    assert result.loss.shape == (4,)
    with pytest.raises(ValueError, match="read-only"):
        result.loss[0] = 0.0


def test_nothing_the_caller_passed_is_modified():
    G, outputs = random_dag(15)
    X, Z = samples(15)
    G0, X0, Z0 = copy.deepcopy(G), X.copy(), Z.copy()
    train(G, X, Z, outputs=outputs, optimizer="adam", epochs=2)
    gradients(G, X, Z, outputs=outputs)
    assert nx.utils.graphs_equal(G, G0)
    assert np.array_equal(X, X0)
    assert np.array_equal(Z, Z0)


def test_inputs_and_outputs_set_the_column_order():
    G = worked_example()
    Y = predict(G, [[1.5, 1.0]], inputs=["i2", "i1"], outputs=["o2", "h1", "o1"])
    np.testing.assert_allclose(Y, [[17.0, 4.5, 8.275]], rtol=1e-15)


def test_the_default_activation_is_sigmoid():
    G = nx.DiGraph()
    G.add_edge("x", "y", weight=1.0)
    assert predict(G, [[0.0], [np.log(3.0)]])[:, 0] == pytest.approx([0.5, 0.75])


X1, Z1 = [[1.0, 1.5]], [[2.5, 3.0]]

BAD_CALLS = [
    (lambda G: train(G, [[1.0, 1.5, 2.0]], Z1), "X must have shape"),
    (lambda G: train(G, [1.0, 1.5], Z1), "X must have shape"),
    (lambda G: train(G, [[np.nan, 1.0]], Z1), "X holds NaN"),
    (lambda G: train(G, X1, [[2.5, 3.0], [1.0, 1.0]]), r"Z must have shape \(1, 2\)"),
    (lambda G: predict(G, np.empty((0, 2))), "X must hold at least one"),
    (lambda G: train(G, X1, Z1, learning_rate=-0.1), "learning_rate"),
    (lambda G: train(G, X1, Z1, epochs=0), "epochs"),
    (lambda G: train(G, X1, Z1, batch_size=1.5), "batch_size"),
    (lambda G: train(G, X1, Z1, optimizer="rmsprop"), "optimizer must be"),
    (
        lambda G: train(G, X1, Z1, optimizer="adam", optimizer_options={"momentum": 1}),
        r"optimizer_options.*\['momentum'\]",
    ),
    (
        lambda G: train(G, X1, Z1, optimizer_options={"nesterov": True}),
        "optimizer_options: nesterov",
    ),
    (lambda G: train(G, X1, Z1, rule="hebb"), "rule must be"),
    (lambda G: train(G, X1, Z1, inputs=["i1"]), "inputs must"),
    (lambda G: train(G, X1, Z1, outputs=["i1", "o1"]), "outputs must"),
    (lambda G: update_directions(G, X1, Z1, rule="feedback_alignment"), "feedback"),
]


@pytest.mark.parametrize(("call", "match"), BAD_CALLS)
def test_bad_arguments_raise_value_errors_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call(worked_example())


def test_bad_graphs_raise_network_errors():
    G = worked_example()
    G.add_edge("o1", "h1", weight=1.0)
    with pytest.raises(NetworkError, match="cycles"):
        predict(G, X1)
    G = worked_example()
    G.nodes["h2"]["activation"] = "softplus"
    with pytest.raises(NetworkError, match="node 'h2': unknown activation"):
        predict(G, X1)
    G = worked_example()
    del G.edges["h2", "o2"]["weight"]
    with pytest.raises(NetworkError, match=r"edge \('h2', 'o2'\) needs"):
        predict(G, X1)


def test_train_layered_rejects_mismatched_layers():
    Ws = [np.ones((2, 3)), np.ones((2, 2))]
    with pytest.raises(DataError, match=r"weights\[1\] has 2 rows"):
        train_layered(Ws, [np.ones(3), np.ones(2)], ["tanh"] * 2, X1, Z1)
    with pytest.raises(DataError, match=r"biases\[0\]"):
        train_layered(Ws[:1], [np.ones(2)], ["tanh"], X1, [[1.0, 2.0, 3.0]])
    with pytest.raises(DataError, match="one entry per layer"):
        train_layered(Ws[:1], [np.ones(3)], ["tanh", "tanh"], X1, Z1)


def test_reference_imports_nothing_of_neurosim_but_errors():
    # An independent check must not share the code it checks (design.md).
    import ast

    import neurosim.reference

    tree = ast.parse(Path(neurosim.reference.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for n in ast.walk(tree) if isinstance(n, ast.Import)
                for alias in n.names}  # fmt: skip
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert {m for m in imported if m.startswith("neurosim")} == {"neurosim.errors"}

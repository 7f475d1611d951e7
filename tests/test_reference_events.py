"""The reference's event-driven schedule (docs/concepts.md), checked by hand.

Virtual time, in-flight iterations, weight stashing and lost messages, each
against arithmetic written out from the timeline of the docs, or against the
sequential training of :func:`update_directions` (one batch after the other),
which shares none of the event loop's code.
"""

import copy
import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosim.errors import DataError, NetworkError, StalledError, Waiting
from neurosim.examples import WORKED_EXAMPLE_DATA, WORKED_EXAMPLE_NAMES, worked_example
from neurosim.reference import predict, train, train_layered, update_directions
from tests.strategies import problems

X0, Z0 = WORKED_EXAMPLE_DATA
W0 = dict(w1=1.5, w2=2.0, w3=2.0, w4=2.5, w5=1.2, w6=2.5, w7=0.5, w8=1.0)
NAMES = WORKED_EXAMPLE_NAMES


def sequential(G, X, Z, *, learning_rate, epochs=1, batch_size=1, **kwargs):
    """Plain SGD, one batch after the other, with :func:`update_directions`."""
    H = copy.deepcopy(G)
    losses = []
    for _ in range(epochs):
        for start in range(0, len(X), batch_size):
            Xb, Zb = X[start : start + batch_size], Z[start : start + batch_size]
            Y = predict(
                H, Xb, outputs=kwargs.get("outputs"), inputs=kwargs.get("inputs")
            )
            losses.append(0.5 * np.sum((Zb - Y) ** 2, axis=1))
            dw, db = update_directions(H, Xb, Zb, **({"rule": "backprop"} | kwargs))
            for (u, v), d in dw.items():
                H.edges[u, v]["weight"] += learning_rate * d
            for v, d in db.items():
                H.nodes[v]["bias"] = H.nodes[v].get("bias", 0.0) + learning_rate * d
    weights = dict(nx.get_edge_attributes(H, "weight"))
    biases = {
        v: H.nodes[v].get("bias", 0.0)
        for v in H
        if H.in_degree(v) and H.nodes[v].get("bias", 0.0) is not None
    }
    return weights, biases, np.concatenate(losses)


def chain(*nodes, delay=1.0, weights=None):
    """The identity chain ``nodes[0] → nodes[1] → …`` without biases."""
    G = nx.DiGraph()
    for k, (u, v) in enumerate(itertools.pairwise(nodes)):
        w = 1.0 if weights is None else weights[k]
        G.add_edge(u, v, weight=w, delay=delay)
    for v in nodes[1:]:
        G.nodes[v].update(activation="identity", bias=None)
    return G


def assert_same_training(result, weights, biases, loss, rtol=1e-13):
    keys = list(weights)
    np.testing.assert_allclose(
        [result.weights[k] for k in keys], [weights[k] for k in keys], rtol=rtol
    )
    assert set(result.biases) == set(biases)
    for v, b in biases.items():
        assert result.biases[v] == pytest.approx(b, rel=rtol, abs=1e-15)
    np.testing.assert_allclose(result.loss, loss, rtol=rtol)


# --- in_flight=1: the sequential training of before ---


def test_in_flight_1_is_the_article_iteration_on_the_worked_example():
    X, Z = np.vstack([X0] * 4), np.vstack([Z0] * 4)
    result = train(worked_example(), X, Z, learning_rate=0.02)
    # forward to the hidden at 1, to the outputs at 2, δ back at 3; the next
    # sample enters when the previous one is done
    assert result.entries.tolist() == [0.0, 3.0, 6.0, 9.0]
    assert result.ends.tolist() == [3.0, 6.0, 9.0, 12.0]
    assert all(s.tolist() == [0, 0, 0, 0] for s in result.staleness.values())
    assert list(result.staleness) == ["h1", "h2", "o1", "o2"]
    assert_same_training(
        result, *sequential(worked_example(), X, Z, learning_rate=0.02)
    )
    assert result.loss[0] == pytest.approx(114.6753125, abs=1e-12)


def test_in_flight_1_equals_train_layered():
    rng = np.random.default_rng(1)
    Ws = [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))]
    bs = [rng.normal(size=4), rng.normal(size=2)]
    X, Z = rng.normal(size=(7, 3)), rng.uniform(-1, 1, size=(7, 2))
    G = nx.DiGraph()
    for k, (W, b) in enumerate(zip(Ws, bs, strict=True), start=1):
        for j in range(W.shape[1]):
            G.add_node((k, j), activation="tanh", bias=b[j])
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                G.add_edge((k - 1, i), (k, j), weight=W[i, j], delay=0.5 + i)
    kwargs = dict(learning_rate=0.2, epochs=2, batch_size=3)
    W_new, _, loss = train_layered(Ws, bs, ["tanh"] * 2, X, Z, **kwargs)
    result = train(G, X, Z, **kwargs)
    np.testing.assert_allclose(result.loss, loss, rtol=1e-12)
    for k, W in enumerate(W_new, start=1):
        for (i, j), w in np.ndenumerate(W):
            assert result.weights[(k - 1, i), (k, j)] == pytest.approx(w, rel=1e-12)
    # 3 batches per epoch; the critical path: the latest input edge (delay
    # 2.5 from (0, 2)), then 3.5 from (1, 3), then the δ back on it: 9.5
    assert result.entries.tolist() == [0.0, 9.5, 19.0, 28.5, 38.0, 47.5]
    assert (result.ends - result.entries).tolist() == [9.5] * 6


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(1, 3), st.integers(1, 2))
def test_in_flight_1_equals_sequential_training_with_any_delays(
    problem, batch_size, epochs
):
    # delays of 0 included: with in_flight=1 they are allowed
    G, inputs, outputs, X, Z = problem
    kwargs = dict(inputs=inputs, outputs=outputs)
    result = train(
        G, X, Z, learning_rate=0.3, batch_size=batch_size, epochs=epochs, **kwargs
    )
    expected = sequential(
        G, X, Z, learning_rate=0.3, batch_size=batch_size, epochs=epochs, **kwargs
    )
    assert_same_training(result, *expected, rtol=1e-12)
    assert np.all(result.entries[1:] == result.ends[:-1])


# --- overlapping iterations ---


def test_in_flight_2_interval_1_on_the_worked_example_by_hand():
    X = np.array([[1.0, 1.5], [0.5, -1.0]])
    Z = np.array([[2.5, 3.0], [1.0, 0.0]])
    eta = 0.02
    w1, w2, w3, w4, w5, w6, w7, w8 = W0.values()
    # sample 0 enters at 0: the hidden fire at 1, the outputs at 2 ...
    h1, h2 = 1.0 * w1 + 1.5 * w3, 1.0 * w2 + 1.5 * w4  # 4.5, 5.75
    o1, o2 = h1 * w5 + h2 * w7, h1 * w6 + h2 * w8  # 8.275, 17
    E0 = 0.5 * (2.5 - o1) ** 2 + 0.5 * (3.0 - o2) ** 2
    g1, g2 = 2.5 - o1, 3.0 - o2
    # ... where the outputs send w·g back (w before their update) and update
    gh1, gh2 = w5 * g1 + w6 * g2, w7 * g1 + w8 * g2  # arrive at the hidden at 3
    v5, v6 = w5 + eta * g1 * h1, w6 + eta * g2 * h1
    v7, v8 = w7 + eta * g1 * h2, w8 + eta * g2 * h2
    # sample 1 enters at 1: the hidden fire at 2, still with w1..w4 ...
    k1, k2 = 0.5 * w1 - 1.0 * w3, 0.5 * w2 - 1.0 * w4
    # ... the outputs at 3 with v5..v8, already updated by sample 0
    p1, p2 = k1 * v5 + k2 * v7, k1 * v6 + k2 * v8
    E1 = 0.5 * (1.0 - p1) ** 2 + 0.5 * (0.0 - p2) ** 2
    q1, q2 = 1.0 - p1, 0.0 - p2
    kh1, kh2 = v5 * q1 + v6 * q2, v7 * q1 + v8 * q2  # arrive at 4
    # the hidden update for sample 0 at 3, for sample 1 at 4 (staleness 1)
    expected = {
        "w1": w1 + eta * gh1 * 1.0 + eta * kh1 * 0.5,
        "w2": w2 + eta * gh2 * 1.0 + eta * kh2 * 0.5,
        "w3": w3 + eta * gh1 * 1.5 + eta * kh1 * -1.0,
        "w4": w4 + eta * gh2 * 1.5 + eta * kh2 * -1.0,
        "w5": v5 + eta * q1 * k1,
        "w6": v6 + eta * q2 * k1,
        "w7": v7 + eta * q1 * k2,
        "w8": v8 + eta * q2 * k2,
    }

    result = train(worked_example(), X, Z, learning_rate=eta, in_flight=2, interval=1.0)

    assert {n: result.weights[e] for n, e in NAMES.items()} == pytest.approx(
        expected, rel=1e-13
    )
    assert result.loss.tolist() == pytest.approx([E0, E1], rel=1e-13)
    assert result.biases == {}
    assert result.entries.tolist() == [0.0, 1.0]
    assert result.ends.tolist() == [3.0, 4.0]
    assert {v: s.tolist() for v, s in result.staleness.items()} == {
        "h1": [0, 1],
        "h2": [0, 1],
        "o1": [0, 0],
        "o2": [0, 0],
    }
    # not the sequential result: its sample 1 would see the updated w1..w4
    sequential_w1 = sequential(worked_example(), X, Z, learning_rate=eta)[0]
    assert result.weights["i1", "h1"] != pytest.approx(sequential_w1["i1", "h1"])


def test_entries_follow_the_formula_with_in_flight_2():
    X, Z = np.vstack([X0] * 6), np.vstack([Z0] * 6)
    result = train(
        worked_example(), X, Z, learning_rate=0.001, in_flight=2, interval=1.0
    )
    # T_s = max(T_{s−1} + 1, done(s − 2)), and done(s) = T_s + 3
    assert result.entries.tolist() == [0.0, 1.0, 3.0, 4.0, 6.0, 7.0]
    assert result.ends.tolist() == [3.0, 4.0, 6.0, 7.0, 9.0, 10.0]
    # interval 0: two by two
    result = train(worked_example(), X, Z, learning_rate=0.001, in_flight=2)
    assert result.entries.tolist() == [0.0, 0.0, 3.0, 3.0, 6.0, 6.0]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_unbounded_in_flight_hidden_forwards_all_use_the_initial_weights(optimizer):
    # x → h → y, all entering at 0: h does every forward at 1 with its initial
    # weight a; y does, at 2, forward(s) then its own backward(s) (the tie
    # rule), so forward(s + 1) sees y's update s; h does every backward at 3,
    # one after the other, each a step of h's own optimizer (t = 1, 2, ...).
    rng = np.random.default_rng(5)
    x, z = rng.normal(size=5), rng.normal(size=5)
    a, c = 0.7, -0.4
    eta = 0.05

    class Optimizer:
        """One neuron's own optimizer: torch's SGD or Adam, with its own t."""

        def __init__(self):
            self.t, self.m, self.v = 0, 0.0, 0.0

        def step(self, theta, grad):
            if optimizer == "sgd":
                return theta - eta * grad
            self.t += 1
            self.m = 0.9 * self.m + 0.1 * grad
            self.v = 0.999 * self.v + 0.001 * grad**2
            v_hat = np.sqrt(self.v) / np.sqrt(1 - 0.999**self.t)
            return theta - eta / (1 - 0.9**self.t) * self.m / (v_hat + 1e-8)

    h = a * x  # every forward of h: the initial a
    y_opt, h_opt = Optimizer(), Optimizer()
    c_at, g_y = [], []  # y's weight at forward(s), which is also at B_y(s)
    for s in range(5):  # y at t = 2
        c_at.append(c)
        g_y.append(z[s] - c * h[s])
        c = y_opt.step(c, -g_y[s] * h[s])
    g_h = np.array(c_at) * np.array(g_y)  # the δ sent back: y's weight at B_y(s)
    a_final = a
    for s in range(5):  # h at t = 3
        a_final = h_opt.step(a_final, -g_h[s] * x[s])

    G = chain("x", "h", "y", weights=[0.7, -0.4])
    result = train(
        G, x[:, None], z[:, None], learning_rate=eta, optimizer=optimizer,
        in_flight=None,
    )  # fmt: skip

    assert result.entries.tolist() == [0.0] * 5
    assert result.ends.tolist() == [3.0] * 5
    assert result.staleness["h"].tolist() == [0, 1, 2, 3, 4]
    assert result.staleness["y"].tolist() == [0] * 5
    assert result.weights["x", "h"] == pytest.approx(a_final, rel=1e-12)
    assert result.weights["h", "y"] == pytest.approx(c, rel=1e-12)
    np.testing.assert_allclose(
        result.loss, 0.5 * (z - np.array(c_at) * h) ** 2, rtol=1e-12
    )
    if optimizer == "sgd":  # the sum of the per-sample steps, all from h = a·x
        assert a_final == pytest.approx(a + eta * np.sum(g_h * x), rel=1e-12)


def test_unbounded_in_flight_on_one_layer_is_online_sgd():
    # Without hidden neurons, each output's backward(s) follows its
    # forward(s) at the same time and precedes forward(s + 1): nothing overlaps.
    rng = np.random.default_rng(6)
    G = nx.DiGraph()
    for i in ("x0", "x1"):
        for o in ("y0", "y1"):
            G.add_edge(i, o, weight=rng.normal(), delay=0.5)
    for o in ("y0", "y1"):
        G.nodes[o].update(activation="identity", bias=rng.normal())
    X, Z = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    result = train(G, X, Z, learning_rate=0.1, in_flight=None, epochs=2)
    assert result.entries.tolist() == [0.0] * 12
    assert result.ends.tolist() == [0.5] * 12
    assert_same_training(result, *sequential(G, X, Z, learning_rate=0.1, epochs=2))


def test_stash_sends_back_the_weights_forward_used():
    # x → a → b → y (delay 1), in_flight=2, interval=1. Sample 0 enters at 0,
    # sample 1 at 1. b: forward(1) at 3 with w_ab; update(0) at 4; backward(1)
    # at 5 sends back w_ab after update 0, or w_ab itself with stash=True.
    x, z = [0.8, -0.6], [0.5, 1.0]
    wa, wb, wy = 1.1, 0.9, -0.7  # x→a, a→b, b→y
    eta = 0.1
    a0, a1 = wa * x[0], wa * x[1]  # a fires at 1 and 2, both before its updates
    b0, b1 = wb * a0, wb * a1  # b fires at 2 and 3
    y0 = wy * b0  # y: forward(0) and backward(0) at 3
    gy0 = z[0] - y0
    gb0 = wy * gy0  # at b at 4
    wy1 = wy + eta * gy0 * b0
    y1 = wy1 * b1  # y: forward(1) and backward(1) at 4
    gy1 = z[1] - y1
    gb1 = wy1 * gy1  # at b at 5: y's staleness is 0, no difference there
    wb1 = wb + eta * gb0 * a0  # b's update 0, at 4
    ga0 = wb * gb0  # at a at 5
    expected_wa = {
        False: wa + eta * ga0 * x[0] + eta * (wb1 * gb1) * x[1],
        True: wa + eta * ga0 * x[0] + eta * (wb * gb1) * x[1],
    }

    G = chain("x", "a", "b", "y", weights=[wa, wb, wy])
    X, Z = np.array(x)[:, None], np.array(z)[:, None]
    runs = {
        stash: train(G, X, Z, learning_rate=eta, in_flight=2, interval=1.0, stash=stash)
        for stash in (False, True)
    }
    for stash, result in runs.items():
        assert result.weights["x", "a"] == pytest.approx(expected_wa[stash], rel=1e-13)
        assert result.weights["a", "b"] == pytest.approx(
            wb1 + eta * gb1 * a1, rel=1e-13
        )
        assert result.staleness["b"].tolist() == [0, 1]
        assert result.staleness["a"].tolist() == [0, 1]
    assert runs[True].weights["x", "a"] != pytest.approx(runs[False].weights["x", "a"])

    # no staleness, no difference
    plain = train(G, X, Z, learning_rate=eta)
    stashed = train(G, X, Z, learning_rate=eta, stash=True)
    assert plain.weights == stashed.weights
    assert plain.loss.tolist() == stashed.loss.tolist()


# --- lost messages ---

X2 = np.array([[1.0], [2.0]])
Z2 = np.array([[1.5], [-1.0]])
A, C, ETA = 0.5, 2.0, 0.1  # x → h (A), h → y (C); critical path 3, timeout 6


def lossy(**kwargs):
    return train(
        chain("x", "h", "y", weights=[A, C]), X2, Z2, learning_rate=ETA, **kwargs
    )


def test_a_lost_message_with_on_missing_error_stalls():
    with pytest.raises(StalledError) as caught:
        lossy(drops=[("h", "y", "backward", 0)])
    # y sends its δ of sample 0 to h at t = 2; it is lost
    assert caught.value.waiting == (Waiting("h", 0, "backward", ("y",)),)
    assert caught.value.time == 2.0
    with pytest.raises(StalledError) as caught:
        lossy(drops=[("x", "h", "forward", 1)])
    assert caught.value.waiting == (Waiting("h", 1, "forward", ("x",)),)
    assert caught.value.time == 3.0


def test_a_lost_error_filled_with_zero_by_hand():
    # Sample 0: h at 1, y at 2 (y updates C), its δ to h is lost. At the
    # deadline D_0 = 0 + 2·3 h does backward(0) with δ = 0: A does not move.
    h0 = A * 1.0
    g0 = -0.5 * 0 + (1.5 - C * h0)  # y's g for sample 0
    C1 = C + ETA * g0 * h0
    # Sample 1 enters at D_0 = 6: as usual, done at 9.
    h1 = A * 2.0
    g1 = -1.0 - C1 * h1
    A2 = A + ETA * (C1 * g1) * 2.0
    C2 = C1 + ETA * g1 * h1

    result = lossy(drops=[("h", "y", "backward", 0)], on_missing="zero")

    assert result.entries.tolist() == [0.0, 6.0]
    assert result.ends.tolist() == [6.0, 9.0]
    assert result.weights == pytest.approx({("x", "h"): A2, ("h", "y"): C2}, rel=1e-14)
    assert result.loss.tolist() == pytest.approx([0.5 * g0**2, 0.5 * g1**2], rel=1e-14)
    # a timeout of 2.5 expires before any δ reaches h (at T_s + 3): A never
    # moves, while y learns as above (its own g only needs h's y, at T_s + 2)
    early = lossy(on_missing="zero", timeout=2.5)
    assert early.weights == pytest.approx({("x", "h"): A, ("h", "y"): C2}, rel=1e-14)
    assert early.entries.tolist() == [0.0, 2.5]
    assert early.ends.tolist() == [2.5, 5.0]


def test_a_lost_error_filled_with_the_last_one_by_hand():
    # Sample 0 as usual (done at 3); sample 1's δ is lost and replaced by the
    # last one h received on that connection: sample 0's, C·g0.
    h0 = A * 1.0
    g0 = 1.5 - C * h0
    C1 = C + ETA * g0 * h0
    A1 = A + ETA * (C * g0) * 1.0
    h1 = A1 * 2.0
    g1 = -1.0 - C1 * h1
    expected = {
        "last": {("x", "h"): A1 + ETA * (C * g0) * 2.0, ("h", "y"): C1 + ETA * g1 * h1},
        "zero": {("x", "h"): A1, ("h", "y"): C1 + ETA * g1 * h1},
    }
    for on_missing, weights in expected.items():
        result = lossy(drops=[("h", "y", "backward", 1)], on_missing=on_missing)
        assert result.weights == pytest.approx(weights, rel=1e-14)
        assert result.entries.tolist() == [0.0, 3.0]
        assert result.ends.tolist() == [3.0, 9.0]  # D_1 = 3 + 6


def test_a_lost_input_filled_with_the_last_values_by_hand():
    # Sample 1's x → h is lost. At D_1 = 9, h does forward(1) with the last x
    # (sample 0's) and sends its y too late for y; y does forward(1) with the
    # last h it received (sample 0's); then both do backward(1), h with y's
    # δ of sample 0 (y's of sample 1 leaves at 9, too late).
    h0 = A * 1.0
    g0 = 1.5 - C * h0
    C1 = C + ETA * g0 * h0
    A1 = A + ETA * (C * g0) * 1.0
    y1 = C1 * h0  # the last h
    g1 = -1.0 - y1
    expected = {("x", "h"): A1 + ETA * (C * g0) * 1.0, ("h", "y"): C1 + ETA * g1 * h0}

    result = lossy(drops=[("x", "h", "forward", 1)], on_missing="last")

    assert result.weights == pytest.approx(expected, rel=1e-14)
    assert result.loss.tolist() == pytest.approx([0.5 * g0**2, 0.5 * g1**2], rel=1e-14)
    assert result.ends.tolist() == [3.0, 9.0]
    assert result.staleness["h"].tolist() == [0, 0]


def test_last_is_zero_for_a_batch_of_another_size():
    # batches of 2 then 1: the last x of the short batch is a batch of 2
    G = chain("x", "h", "y", weights=[A, C])
    X, Z = np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [0.0], [2.0]])
    kwargs = dict(learning_rate=ETA, batch_size=2, drops=[("x", "h", "forward", 1)])
    last = train(G, X, Z, on_missing="last", **kwargs)
    zero = train(G, X, Z, on_missing="zero", **kwargs)
    assert last.weights == zero.weights
    assert last.loss.tolist() == zero.loss.tolist()


def test_direct_feedback_channels_take_the_delay_of_their_connection_or_1():
    # x → h1 → h2 → o: o's feedback to h2 takes 1.5 (h2 → o), to h1 takes 1
    G = chain("x", "h1", "h2", "o", weights=[0.5, -1.5, 0.8])
    for (u, v), d in {("x", "h1"): 0.5, ("h1", "h2"): 0.25, ("h2", "o"): 1.5}.items():
        G.edges[u, v]["delay"] = d
    feedback = {("o", "h1"): 0.3, ("o", "h2"): -0.6}
    X, Z = np.array([[1.0], [-2.0]]), np.array([[0.5], [1.0]])
    kwargs = dict(rule="direct_feedback_alignment", feedback=feedback)
    result = train(G, X, Z, learning_rate=0.1, **kwargs)
    # o fires at 2.25; its feedback reaches h1 at 3.25 and h2 at 3.75
    assert result.entries.tolist() == [0.0, 3.75]
    assert result.ends.tolist() == [3.75, 7.5]
    assert_same_training(result, *sequential(G, X, Z, learning_rate=0.1, **kwargs))
    # the default timeout is twice the critical path 3.75
    lost = train(
        G, X, Z, learning_rate=0.1, drops=[("h1", "o", "feedback", 0)],
        on_missing="zero", **kwargs,
    )  # fmt: skip
    assert lost.ends.tolist() == [7.5, 11.25]
    # only h1 lost its δ of sample 0, so only its weight differs after it
    short = dict(learning_rate=0.1, **kwargs)
    one, one_lost = (
        train(G, X[:1], Z[:1], **short),
        train(G, X[:1], Z[:1], drops=[("h1", "o", "feedback", 0)],
              on_missing="zero", **short),
    )  # fmt: skip
    assert one_lost.weights["x", "h1"] == 0.5  # δ = 0: no step
    assert one.weights["x", "h1"] != 0.5
    assert {k: w for k, w in one_lost.weights.items() if k != ("x", "h1")} == {
        k: w for k, w in one.weights.items() if k != ("x", "h1")
    }


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    problems(max_hidden=3),
    st.sampled_from([None, 1, 2, 3]),
    st.sampled_from([0.0, 0.5]),
)
def test_entries_obey_the_schedule_formula(problem, in_flight, interval):
    G, inputs, outputs, X, Z = problem
    for u, v in G.edges:
        G.edges[u, v]["delay"] = G.edges[u, v]["delay"] or 0.75
    result = train(
        G, X, Z, inputs=inputs, outputs=outputs, in_flight=in_flight,
        interval=interval, epochs=2,
    )  # fmt: skip
    T, done = result.entries, result.ends
    for s in range(len(T)):
        gate = -np.inf
        if in_flight is not None and s >= in_flight:
            gate = done[s - in_flight]
        assert T[s] == (0.0 if s == 0 else max(T[s - 1] + interval, gate))
        assert done[s] > T[s]
    outputs_without_successors = [o for o in outputs if G.out_degree(o) == 0]
    for o in outputs_without_successors:
        assert not result.staleness[o].any()


# --- the result and the arguments ---


def test_new_result_arrays_are_read_only():
    result = train(worked_example(), X0, Z0)
    for array in (result.entries, result.ends, result.staleness["h1"]):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1


def zero_delay(u, v):
    G = worked_example()
    G.edges[u, v]["delay"] = 0.0
    return G


BAD = [
    (dict(in_flight=0), DataError, "in_flight"),
    (dict(in_flight=1.5), DataError, "in_flight"),
    (dict(in_flight=True), DataError, "in_flight"),
    (dict(interval=-1.0), DataError, "interval"),
    (dict(interval=np.inf), DataError, "interval"),
    (dict(interval=np.nan), DataError, "interval"),
    (dict(stash="yes"), DataError, "stash"),
    (dict(on_missing="ignore"), DataError, "on_missing"),
    (dict(timeout=0.0), DataError, "timeout"),
    (dict(timeout=-1.0), DataError, "timeout"),
    (dict(timeout=np.inf), DataError, "timeout"),
    (
        dict(drops=[("i1", "o1", "forward", 0)]),
        DataError,
        r"\('i1', 'o1'\) is not a connection",
    ),
    (dict(drops=[("i1", "h1", "sideways", 0)]), DataError, "kind must be"),
    (dict(drops=[("i1", "h1", "forward", -1)]), DataError, "iteration"),
    (dict(drops=[("i1", "h1", "forward", 1.0)]), DataError, "iteration"),
    (dict(drops=[("i1", "h1", "forward", True)]), DataError, "iteration"),
    (dict(drops=[("i1", "h1")]), DataError, "not a .u, v, kind, iteration. tuple"),
    (dict(drops=[("h1", "i1", "feedback", 0)]), DataError, r"not a \(hidden, output\)"),
    (dict(drops=[(["h1"], "o1", "forward", 0)]), DataError, "not a connection"),
]


@pytest.mark.parametrize(("kwargs", "error", "match"), BAD)
def test_bad_schedule_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        train(worked_example(), X0, Z0, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(in_flight=2),
        dict(in_flight=None),
        dict(interval=1.0),
        dict(on_missing="zero"),
        dict(drops=[("i1", "h1", "forward", 0)], on_missing="last"),
    ],
)
def test_overlap_and_faults_need_positive_delays(kwargs):
    with pytest.raises(DataError, match=r"edge \('h2', 'o1'\) has delay 0"):
        train(zero_delay("h2", "o1"), X0, Z0, **kwargs)


def test_zero_delays_are_fine_one_iteration_at_a_time():
    G = worked_example()
    nx.set_edge_attributes(G, 0.0, "delay")
    result = train(G, np.vstack([X0] * 3), np.vstack([Z0] * 3), learning_rate=0.01)
    assert result.entries.tolist() == [0.0, 0.0, 0.0]
    assert result.ends.tolist() == [0.0, 0.0, 0.0]
    expected = sequential(
        G, np.vstack([X0] * 3), np.vstack([Z0] * 3), learning_rate=0.01
    )
    assert_same_training(result, *expected)


@pytest.mark.parametrize("delay", [-1.0, np.nan, "1"])
def test_bad_delays_are_network_errors(delay):
    G = worked_example()
    G.edges["i2", "h1"]["delay"] = delay
    with pytest.raises(NetworkError, match=r"edge \('i2', 'h1'\) has delay"):
        train(G, X0, Z0)

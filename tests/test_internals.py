"""What each neuron computed, in the trace: e, y, f'(e), δ, g, gradients, versions.

Each value is checked against something computed apart from the engine's
record of it: the messages the neuron sent and received, the numpy
reference's gradients, and the order of the updates in time.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import neurosim
from neurosim import reference
from neurosim.activations import ACTIVATIONS
from neurosim.errors import DataError
from neurosim.trace import Trace

RULES = ("backprop", "article", "feedback_alignment", "direct_feedback_alignment")


def data(n: int = 5, inputs: int = 3, outputs: int = 2, seed: int = 1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, inputs)), rng.uniform(0.1, 0.9, size=(n, outputs))


def trained(rule="backprop", batch_size=1, in_flight=1, **options):
    G = neurosim.layered([3, 4, 2], seed=3, activation=["tanh", "sigmoid"])
    net = neurosim.Network(G)
    X, Z = data()
    history = net.train(
        X,
        Z,
        0.3,
        epochs=2,
        batch_size=batch_size,
        rule=rule,
        in_flight=in_flight,
        record=True,
        **options,
    )
    return G, X, Z, history.trace


def cell(column, i):
    value = column[i]
    return np.atleast_1d(np.asarray(value, dtype=np.float64))


@pytest.mark.parametrize("batch_size", [1, 2])
@pytest.mark.parametrize("rule", RULES)
def test_internals_agree_with_the_messages(rule, batch_size):
    """e from the inputs that came in, y = f(e), δ = z − y or Σ received, g."""
    G, X, Z, trace = trained(rule, batch_size)
    internals = trace.internals
    outputs = ["o1", "o2"]
    n_batches = -(-len(X) // batch_size)
    assert len(internals) == 2 * n_batches * 6  # 6 neurons, every iteration
    weights = {
        (u, v): G.edges[u, v]["weight"] for u, v in G.edges
    }  # as the trace's updates change them
    bias = {v: G.nodes[v]["bias"] for v in G.nodes if G.in_degree(v)}
    updates = trace.updates
    for i in range(len(internals)):
        v = internals.neuron[i]
        epoch, sample = internals.epoch[i], internals.sample[i]
        mine = (trace.epoch == epoch) & (trace.sample == sample)
        # weights as they were at the forward step (in_flight=1: before any
        # update of this iteration)
        done = (updates.epoch < epoch) | (
            (updates.epoch == epoch) & (updates.sample < sample)
        )
        w = dict(weights)
        b = dict(bias)
        for u, dest, new in zip(
            updates.source[done], updates.neuron[done], updates.new[done], strict=True
        ):
            if u is None:
                b[dest] = new
            else:
                w[u, dest] = new
        forward_in = mine & (trace.kind == "forward") & (trace.destination == v)
        e = (
            sum(
                w[u, v] * np.atleast_1d(x)
                for u, x in zip(
                    trace.source[forward_in], trace.value[forward_in], strict=True
                )
            )
            + b[v]
        )
        np.testing.assert_allclose(cell(internals.e, i), e, rtol=1e-12)
        f = ACTIVATIONS[G.nodes[v]["activation"]]
        y = cell(internals.y, i)
        np.testing.assert_array_equal(y, f.function(cell(internals.e, i)))
        np.testing.assert_array_equal(
            cell(internals.fprime, i), f.derivative(cell(internals.e, i), y)
        )
        if v in outputs:
            rows = slice(sample * batch_size, (sample + 1) * batch_size)
            expected = Z[rows, outputs.index(v)] - y
        else:
            errors_in = (
                mine
                & np.isin(trace.kind, ["backward", "feedback"])
                & (trace.destination == v)
            )
            sources = trace.source[errors_in]
            values = trace.value[errors_in]
            expected = sum(
                np.atleast_1d(values[k]) for k in range(len(sources))
            )  # online the message value; in a batch a vector per sender
            if batch_size > 1:  # a batch message is a coefficient × a vector
                expected = None
        if expected is not None:
            np.testing.assert_allclose(
                cell(internals.delta, i), expected, rtol=1e-12, atol=1e-15
            )
        np.testing.assert_array_equal(
            cell(internals.g, i), cell(internals.delta, i) * cell(internals.fprime, i)
        )
        assert internals.backward_at[i] >= internals.forward_at[i]


@pytest.mark.parametrize("batch_size", [1, 3])
def test_gradients_equal_the_reference(batch_size):
    """The gradient each neuron handed to its optimizer is ∂L/∂w of the batch."""
    G, X, Z, trace = trained("backprop", batch_size)
    updates = trace.updates
    assert np.isfinite(updates.gradient).all()
    H = G.copy()
    n_batches = -(-len(X) // batch_size)
    for epoch in range(2):
        for sample in range(n_batches):
            rows = slice(sample * batch_size, (sample + 1) * batch_size)
            dw, db = reference.gradients(H, X[rows], Z[rows])
            mine = (updates.epoch == epoch) & (updates.sample == sample)
            assert mine.sum() == len(dw) + len(db)
            for u, v, grad, new in zip(
                updates.source[mine],
                updates.neuron[mine],
                updates.gradient[mine],
                updates.new[mine],
                strict=True,
            ):
                expected = db[v] if u is None else dw[u, v]
                assert grad == pytest.approx(expected, rel=1e-10, abs=1e-15)
                if u is None:
                    H.nodes[v]["bias"] = new
                else:
                    H.edges[u, v]["weight"] = new


def test_sgd_moves_each_parameter_by_its_gradient():
    _, _, _, trace = trained("feedback_alignment")
    u = trace.updates
    np.testing.assert_allclose(u.new, u.old - 0.3 * u.gradient, rtol=1e-12)


@pytest.mark.parametrize(("in_flight", "stash"), [(1, False), (3, False), (3, True)])
def test_version_counts_the_updates_before_the_forward_step(in_flight, stash):
    """At equal times a backward step (and its update) comes before a forward."""
    _, X, _, trace = trained(in_flight=in_flight, stash=stash)
    internals, updates = trace.internals, trace.updates
    stale = 0
    for i in range(len(internals)):
        v = internals.neuron[i]
        k = internals.epoch[i] * len(X) + internals.sample[i]
        bias = (updates.neuron == v) & (updates.source == None)  # noqa: E711
        times = updates.time[bias]  # one bias row per update of v
        iterations = updates.epoch[bias] * len(X) + updates.sample[bias]
        t = internals.forward_at[i]
        expected = np.count_nonzero((times < t) | ((times == t) & (iterations < k)))
        assert internals.version[i] == expected
        stale += int(k - internals.version[i])
    if in_flight == 1:
        assert stale == 0
        assert internals.version[internals.neuron == "o1"].tolist() == list(
            range(2 * len(X))
        )
    else:  # pipelined: some forward steps used weights older than k updates
        assert stale > 0


def test_predict_records_the_forward_step_only():
    net = neurosim.Network(neurosim.layered([2, 2, 1], seed=0))
    X = [[0.0, 1.0], [1.0, 1.0]]
    y = net.predict(X, record=True)
    internals = net.last_trace.internals
    assert len(internals) == 3
    o1 = internals.neuron == "o1"
    np.testing.assert_array_equal(internals.y[o1][0], y[:, 0])
    assert np.isnan(internals.backward_at).all()
    assert all(np.isnan(d).all() for d in internals.delta)


def test_record_chooses_internals():
    net = neurosim.Network(neurosim.layered([2, 2, 1], seed=0))
    X, Z = [[0.0, 1.0]] * 3, [[1.0]] * 3
    only = net.train(X, Z, record=neurosim.Record(kinds="internals")).trace
    assert (len(only), len(only.updates), len(only.internals)) == (0, 0, 9)
    none = net.train(X, Z, record=neurosim.Record(kinds=["forward", "update"])).trace
    assert len(none.internals) == 0
    assert len(none.updates) == 3 * 9
    h1 = net.train(
        X, Z, record=neurosim.Record(neurons="h1", samples=[1, 2])
    ).trace.internals
    assert h1.neuron.tolist() == ["h1", "h1"]
    assert h1.sample.tolist() == [1, 2]


def test_filter_and_dataframe():
    _, _, _, trace = trained()
    some = trace.filter(neuron="h2", epoch=1)
    assert set(some.internals.neuron) == {"h2"}
    assert set(some.internals.epoch) == {1}
    assert len(trace.filter(kind="forward").internals) == 0
    assert len(trace.filter(kind="internals").internals) == len(trace.internals)
    late = trace.filter(start=10.0).internals
    assert (late.forward_at >= 10.0).all()
    assert len(late) == np.count_nonzero(trace.internals.forward_at >= 10.0)
    with pytest.raises(DataError, match="unknown kind 'internal'"):
        trace.filter(kind="internal")
    pd = pytest.importorskip("pandas")
    frame = trace.internals.to_dataframe()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [
        "epoch",
        "sample",
        "neuron",
        "e",
        "y",
        "fprime",
        "delta",
        "g",
        "version",
        "forward_at",
        "backward_at",
    ]
    assert frame["delta"].tolist() == trace.internals.delta.tolist()


def same_internals(a: Trace, b: Trace) -> None:
    x, y = a.internals, b.internals
    assert x.neuron.tolist() == y.neuron.tolist()
    for name in ("epoch", "sample", "version", "forward_at", "backward_at"):
        np.testing.assert_array_equal(getattr(x, name), getattr(y, name))
    for name in ("e", "y", "fprime", "delta", "g"):
        left, right = getattr(x, name), getattr(y, name)
        assert left.dtype == right.dtype
        if left.dtype == object:
            for p, q in zip(left, right, strict=True):
                np.testing.assert_array_equal(p, q)
        else:
            np.testing.assert_array_equal(left, right)
    np.testing.assert_array_equal(a.updates.gradient, b.updates.gradient)


@pytest.mark.parametrize("batch_size", [1, 2])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_files_keep_internals_bit_for_bit(tmp_path, fmt, batch_size):
    _, _, _, trace = trained(batch_size=batch_size)
    path = tmp_path / f"t.{fmt}"
    getattr(trace, f"to_{fmt}")(path)
    back = getattr(Trace, f"read_{fmt}")(path)
    same_internals(trace, back)
    assert len(back) == len(trace)
    if batch_size == 1:
        assert back.rows() == trace.rows()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_files_keep_a_predict_trace(tmp_path, fmt):
    net = neurosim.Network(neurosim.layered([2, 2, 1], seed=0))
    net.predict([[0.0, 1.0]], record=True)
    path = tmp_path / f"t.{fmt}"
    getattr(net.last_trace, f"to_{fmt}")(path)
    back = getattr(Trace, f"read_{fmt}")(path)
    same_internals(net.last_trace, back)
    assert np.isnan(back.internals.delta).all()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_end_line_counts_internals(tmp_path, fmt):
    _, _, _, trace = trained()
    path = tmp_path / f"t.{fmt}"
    getattr(trace, f"to_{fmt}")(path)
    lines = path.read_text().splitlines()
    assert f'"internals": {len(trace.internals)}' in lines[-1]
    kept = [line for line in lines[:-1] if "internals" not in line or line[0] == "#"]
    path.write_text("\n".join([*kept, lines[-1]]) + "\n")
    with pytest.raises(DataError, match="damaged or altered"):
        getattr(Trace, f"read_{fmt}")(path)


def test_from_rows_takes_internals():
    trace = Trace.from_rows(
        messages=[(0, 0, "forward", "x", "y", 0.0, 1.0, 2.0)],
        updates=[(0, 0, "y", "x", 0.5, 0.25, 1.0, 1.25)],
        nodes=["x", "y"],
        internals=[(0, 0, "y", 1.0, 1.0, 1.0, 0.5, 0.5, 0, 1.0, None)],
    )
    assert trace.internals.rows() == [
        (0, 0, "y", 1.0, 1.0, 1.0, 0.5, 0.5, 0, 1.0, pytest.approx(np.nan, nan_ok=True))
    ]
    assert trace.updates.gradient.tolist() == [1.25]
    with pytest.raises(DataError, match="every internals row must have 11 fields"):
        Trace.from_rows([], [], ["x", "y"], internals=[(0, 0, "y", 1.0)])
    with pytest.raises(DataError, match="unknown node 'z'"):
        Trace.from_rows(
            [], [], ["x", "y"], internals=[(0, 0, "z", 1, 1, 1, 1, 1, 0, 1.0, 2.0)]
        )


def test_old_files_without_internals_still_read(tmp_path):
    """A file of the previous layout: no internals, no gradient, NaN gradients."""
    trace = Trace.from_rows(
        [(0, 0, "forward", "x", "y", 0.0, 1.0, 2.0)],
        [(0, 0, "y", "x", 0.5, 0.25, 1.0)],
        ["x", "y"],
    )
    path = tmp_path / "old.csv"
    trace.to_csv(path)
    header = path.read_text().splitlines()[1]
    assert "gradient" not in header  # written as before: nothing new to say
    back = Trace.read_csv(path)
    assert len(back.internals) == 0
    assert np.isnan(back.updates.gradient).all()


def test_a_tiny_network_by_hand():
    """Two neurons in a chain, numbers small enough to check on paper."""
    G = nx.DiGraph()
    G.add_edge("x", "h", weight=0.5)
    G.add_edge("h", "o", weight=2.0)
    G.nodes["h"]["activation"] = "identity"
    G.nodes["o"]["activation"] = "identity"
    net = neurosim.Network(G)
    trace = net.train([[2.0]], [[3.0]], 0.1, record=True).trace
    rows = {row[2]: row for row in trace.internals.rows()}
    # h: e = 0.5·2 = 1 (no bias: 0), o: e = 2·1 = 2, δ_o = 3 − 2 = 1,
    # δ_h = w·δ_o = 2, g = δ (identity)
    assert rows["h"][3:8] == (1.0, 1.0, 1.0, 2.0, 2.0)
    assert rows["o"][3:8] == (2.0, 2.0, 1.0, 1.0, 1.0)
    # ∂L/∂w_ho = −g_o·y_h = −1; ∂L/∂w_xh = −g_h·x = −4
    gradient = dict(
        zip(trace.updates.source.tolist(), trace.updates.gradient.tolist(), strict=True)
    )
    assert gradient["h"] == -1.0
    assert gradient["x"] == -4.0

"""Virtual time and the messages of one iteration, read from the trace."""

import networkx as nx
import numpy as np
import pytest

import neurosim
from neurosim.examples import WORKED_EXAMPLE_DATA, worked_example

X, Z = WORKED_EXAMPLE_DATA
X2, Z2 = np.vstack([X, X]), np.vstack([Z, Z])


@pytest.fixture(scope="module")
def trace():
    net = neurosim.Network(worked_example())
    return net.train(X2, Z2, learning_rate=0.02, record=True).trace


def times(trace, kind, sources, sample=0):
    t = trace.filter(kind=kind, sample=sample)
    keep = np.isin(t.source, sources)
    return set(t.sent_at[keep]), set(t.received_at[keep])


def test_worked_example_message_times(trace):
    assert times(trace, "forward", ["i1", "i2"]) == ({0.0}, {1.0})  # inputs -> hidden
    assert times(trace, "forward", ["h1", "h2"]) == ({1.0}, {2.0})  # hidden -> outputs
    assert times(trace, "backward", ["o1", "o2"]) == ({2.0}, {3.0})  # δ back to hidden
    assert times(trace, "forward", ["i1", "i2"], sample=1) == (
        {3.0},
        {4.0},
    )  # next sample


def test_updates_happen_when_the_last_error_arrives(trace):
    t = trace.filter(sample=0).updates
    by_neuron = {n: set(t.time[t.neuron == n]) for n in ["h1", "h2", "o1", "o2"]}
    assert by_neuron == {"h1": {3.0}, "h2": {3.0}, "o1": {2.0}, "o2": {2.0}}


def test_messages_per_sample(trace):
    # a forward message on every connection, a δ on every connection that
    # does not leave an input
    for sample in (0, 1):
        t = trace.filter(sample=sample)
        assert (t.kind == "forward").sum() == 8
        assert (t.kind == "backward").sum() == 4
        assert len(t.updates) == 8  # every weight; these neurons have no bias
        assert set(t.updates.source) == {"i1", "i2", "h1", "h2"}


def test_delays_and_skip_connections():
    G = nx.DiGraph()
    G.add_edge("x", "h", weight=0.5, delay=2.5)
    G.add_edge("h", "y", weight=-1.0, delay=0.25)
    G.add_edge("x", "y", weight=0.3, delay=0.5)  # a skip connection, faster
    G.nodes["y"]["activation"] = "identity"
    net = neurosim.Network(G)
    history = net.train([[1.0], [2.0]], [[0.0], [1.0]], learning_rate=0.1, record=True)
    t = history.trace
    first = t.filter(sample=0)
    keys = zip(first.source, first.destination, first.kind, strict=True)
    arrivals = dict(zip(keys, first.received_at, strict=True))
    assert arrivals["x", "h", "forward"] == 2.5
    assert arrivals["x", "y", "forward"] == 0.5
    assert arrivals["h", "y", "forward"] == 2.75  # y fires at the last arrival
    assert arrivals["y", "h", "backward"] == 3.0  # the same delay back
    np.testing.assert_array_equal(history.ends, [3.0, 6.0])  # h updates at 3


def test_same_run_same_times_to_the_bit():
    G = neurosim.layered([3, 5, 2], seed=1, delay=0.7)
    rng = np.random.default_rng(0)
    Xr, Zr = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    a = neurosim.Network(G).train(Xr, Zr, record=True).trace
    b = neurosim.Network(G).train(Xr, Zr, record=True).trace
    assert a.received_at.tobytes() == b.received_at.tobytes()
    assert a.value.tobytes() == b.value.tobytes()
    assert list(a.source) == list(b.source)


def test_recording_off_keeps_no_trace():
    history = neurosim.Network(worked_example()).train(X, Z, learning_rate=0.02)
    assert history.trace is None


def test_predict_records_forward_messages_only():
    net = neurosim.Network(worked_example())
    net.predict(X2, record=True)
    t = net.last_trace
    assert set(t.kind) == {"forward"}
    assert len(t) == 8  # one wave carrying both samples
    assert len(t.value[0]) == 2


def test_direct_feedback_travels_on_channels_of_its_own():
    G = neurosim.layered([2, 3, 2, 1], seed=0)
    net = neurosim.Network(G)
    trace = net.train(
        [[0.5, -1.0]], [[1.0]], rule="direct_feedback_alignment", record=True
    ).trace
    feedback = trace.filter(kind="feedback")
    hidden = {"h1_1", "h1_2", "h1_3", "h2_1", "h2_2"}
    assert set(zip(feedback.source, feedback.destination, strict=True)) == {
        ("o1", h) for h in hidden
    }
    assert len(trace.filter(kind="backward")) == 0  # no error travels on a connection
    # the output's error reaches every hidden neuron one delay after it fires
    assert set(feedback.received_at) == {4.0}

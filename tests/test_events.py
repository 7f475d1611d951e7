"""The event-driven engine equals the reference's event loop, and its rules.

Samples in flight, intervals, weight stashing, lost messages: the actors and
``neurosim.reference`` (a plain priority-queue event loop sharing no code with
them) must agree on every weight, bias, loss and time.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import neurosim
from neurosim import reference
from neurosim.examples import WORKED_EXAMPLE_DATA, worked_example
from tests.strategies import problems
from tests.test_against_reference import assert_same

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
OPTIMIZERS = ["sgd", "momentum", "adagrad", "adam"]
RULES = ["backprop", "article", "feedback_alignment", "direct_feedback_alignment"]
POSITIVE = (0.5, 1.0, 1.5, 2.0, 3.0)


def lost_messages(history):
    """The trace's lost messages as ``Faults.drops`` entries."""
    lost = history.trace.filter(fate="dropped")
    chunks = -(-history.samples_per_epoch // history.batch_size)
    drops = []
    for u, v, kind, epoch, sample in zip(
        lost.source, lost.destination, lost.kind, lost.epoch, lost.sample, strict=True
    ):
        if kind != "forward":  # an error goes back on the connection (v, u)
            u, v = v, u
        drops.append((u, v, kind, int(epoch) * chunks + int(sample)))
    return drops


def both(G, inputs, outputs, X, Z, *, rule="backprop", faults=None, **options):
    """Train with the actors and with the reference; compare everything."""
    net = neurosim.Network(G, inputs=inputs, outputs=outputs)
    feedback = neurosim.rules.get_rule(rule).feedback_weights(net.topology) or None
    try:
        history = net.train(
            X, Z, rule=rule, faults=faults, record=faults is not None, **options
        )
    except neurosim.DivergenceError:
        assume(False)  # nothing to compare to 1e-12 in a run that blows up
    extra = {}
    if faults is not None:
        extra = {
            "on_missing": faults.on_missing,
            "timeout": faults.timeout,
            "drops": lost_messages(history),
        }
    ref = reference.train(
        G,
        X,
        Z,
        inputs=inputs,
        outputs=outputs,
        rule=rule,
        feedback=feedback,
        **options,
        **extra,
    )
    # rounding differences grow with weights that grow to 1e29: compare
    # bounded runs only
    assume(max(map(abs, [*ref.weights.values(), *ref.biases.values()])) < 1e6)
    assert_same(net.weights, ref.weights, "weights")
    assert_same(net.biases, ref.biases, "biases")
    np.testing.assert_allclose(history.loss, ref.loss, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(history.entries, ref.entries, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(history.ends, ref.ends, rtol=1e-12, atol=1e-12)
    stale = history.staleness
    for j, v in enumerate(history.neurons):
        np.testing.assert_array_equal(stale[:, j], ref.staleness[v], err_msg=str(v))
    return net, history, ref


@SETTINGS
@given(
    problems(max_hidden=4, delays=POSITIVE),
    st.sampled_from([1, 2, 3, None]),
    st.sampled_from([0.0, 0.5, 1.0]),
    st.booleans(),
    st.sampled_from(OPTIMIZERS),
    st.sampled_from(RULES),
    st.integers(1, 3),
    st.integers(1, 2),
)
def test_actors_equal_the_reference_on_every_schedule(
    problem, in_flight, interval, stash, optimizer, rule, batch_size, epochs
):
    G, inputs, outputs, X, Z = problem
    both(
        G,
        inputs,
        outputs,
        X,
        Z,
        rule=rule,
        optimizer=optimizer,
        in_flight=in_flight,
        interval=interval,
        stash=stash,
        batch_size=batch_size,
        epochs=epochs,
    )


@SETTINGS
@given(
    problems(max_hidden=3, delays=POSITIVE),
    st.sampled_from([1, 2, None]),
    st.sampled_from(["zero", "last"]),
    st.sampled_from([0.1, 0.3]),
    st.integers(0, 2**16),
    st.integers(1, 2),
    st.sampled_from(RULES),
)
def test_lost_messages_equal_the_reference_given_the_same_losses(
    problem, in_flight, on_missing, drop, seed, batch_size, rule
):
    G, inputs, outputs, X, Z = problem
    faults = neurosim.Faults(drop=drop, seed=seed, on_missing=on_missing)
    both(
        G,
        inputs,
        outputs,
        X,
        Z,
        rule=rule,
        faults=faults,
        in_flight=in_flight,
        interval=0.5,
        batch_size=batch_size,
        epochs=2,
    )


def layered(delay=1.0, seed=0, sizes=(2, 3, 2)):
    return neurosim.layered(list(sizes), activation="tanh", seed=seed, delay=delay)


DATA = (
    np.random.default_rng(4).uniform(-1, 1, (6, 2)),
    np.random.default_rng(5).uniform(-1, 1, (6, 2)),
)


def train(G=None, **options):
    net = neurosim.Network(layered() if G is None else G)
    history = net.train(*DATA, learning_rate=0.2, epochs=2, **options)
    return net, history


def test_duplicates_alone_change_nothing_but_the_trace():
    plain, h0 = train(record=True)
    copied, h1 = train(faults=neurosim.Faults(duplicate=0.5, seed=1), record=True)
    assert copied.weights == plain.weights  # bit for bit
    assert h1.loss.tobytes() == h0.loss.tobytes()
    assert h1.ends.tobytes() == h0.ends.tobytes()
    copies = h1.trace.filter(fate="duplicate")
    assert len(h1.trace) == len(h0.trace) + len(copies)
    assert len(copies) > 20
    assert set(h1.trace.fate) == {"delivered", "duplicate"}


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    runs = [
        train(
            faults=neurosim.Faults(drop=0.2, jitter=0.3, seed=seed, on_missing="zero"),
            in_flight=2,
        )[0].weights
        for seed in (7, 7, 8)
    ]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_jitter_without_overlap_moves_times_not_results():
    plain, h0 = train()
    late, h1 = train(faults=neurosim.Faults(jitter=0.4, seed=2))
    assert late.weights == plain.weights
    assert (h1.ends > h0.ends).all()


def test_jitter_with_samples_in_flight_changes_what_is_learned():
    _, h0 = train(in_flight=3, interval=0.5)
    _, h1 = train(in_flight=3, interval=0.5, faults=neurosim.Faults(jitter=1.5, seed=2))
    assert h1.loss.tobytes() != h0.loss.tobytes()
    assert h1.staleness.sum() != h0.staleness.sum()


def test_a_lost_message_stops_the_run_naming_who_waits_for_it():
    net = neurosim.Network(layered())
    before = net.weights
    faults = neurosim.Faults(drops=[("h2", "o1", "forward", 1)])
    with pytest.raises(neurosim.StalledError) as info:
        net.train(*DATA, faults=faults)
    error = info.value
    assert error.waiting == (neurosim.errors.Waiting("o1", 1, "forward", ("h2",)),)
    assert error.time == 5.0  # iteration 1 entered at 3; h2 fired at 4
    assert "from 'h2' to 'o1' was lost" in str(error)
    assert net.weights == before  # a failed call leaves the network as it was


def test_a_lost_error_message_is_named_by_its_connection():
    faults = neurosim.Faults(drops=[("h1", "o2", "backward", 0)])
    with pytest.raises(neurosim.StalledError) as info:
        train(faults=faults)
    assert info.value.waiting == (
        neurosim.errors.Waiting("h1", 0, "backward", ("o2",)),
    )


@pytest.mark.parametrize("on_missing", ["zero", "last"])
def test_a_lost_message_with_a_deadline_equals_the_reference(on_missing):
    G = layered()
    faults = neurosim.Faults(
        drops=[("i1", "h1", "forward", 2)], on_missing=on_missing, timeout=4.0
    )
    net = neurosim.Network(G)
    history = net.train(*DATA, learning_rate=0.2, faults=faults, record=True)
    ref = reference.train(
        G,
        *DATA,
        learning_rate=0.2,
        drops=faults.drops,
        on_missing=on_missing,
        timeout=4.0,
    )
    assert_same(net.weights, ref.weights, "weights")
    np.testing.assert_allclose(history.ends, ref.ends)
    assert history.ends[2] == history.entries[2] + 4.0  # done at the deadline
    assert list(history.trace.filter(fate="dropped").source) == ["i1"]
    # at the deadline, 10, h1 fires forward without i1, the outputs (still
    # waiting for h1) fire both steps: what they send then arrives too late
    late = history.trace.filter(fate="late")
    assert set(zip(late.source, late.kind, late.sample, late.sent_at, strict=True)) == {
        ("h1", "forward", 2, 10.0),
        ("o1", "backward", 2, 10.0),
        ("o2", "backward", 2, 10.0),
    }


def test_the_default_timeout_is_twice_the_critical_path():
    faults = neurosim.Faults(drops=[("i1", "h1", "forward", 0)], on_missing="zero")
    _, history = train(faults=faults)
    assert history.ends[0] == 2 * 3.0  # forward 2 + backward 1, twice
    assert history.entries[1] == 6.0


class Crossed(neurosim.rules.Rule):
    """Errors routed in a circle: o1 waits for h1's, h1 waits for o1's."""

    def feedback(self, topology):
        routes = {v: () for v in topology.neurons}
        routes["o1"] = (("h1", None),)
        routes["h1"] = (("o1", 0.5),)
        return routes


def test_the_watchdog_ends_a_run_that_can_never_finish():
    G = layered(sizes=(1, 1, 1))
    net = neurosim.Network(G)
    with pytest.raises(neurosim.StalledError) as info:
        net.train([[1.0]], [[0.5]], rule=Crossed())
    waiting = {(w.neuron, w.step, w.senders) for w in info.value.waiting}
    assert waiting == {("h1", "backward", ("o1",)), ("o1", "backward", ("h1",))}
    assert "nothing is in flight" in str(info.value)


def test_overlap_needs_positive_delays():
    G = layered()
    G.edges["h1", "o1"]["delay"] = 0.0
    net = neurosim.Network(G)
    with pytest.raises(neurosim.DataError, match=r"edge \('h1', 'o1'\) has delay 0.0"):
        net.train(*DATA, in_flight=2)
    with pytest.raises(neurosim.DataError, match=r"interval=1\.0 needs every delay"):
        net.train(*DATA, interval=1.0)
    net.train(*DATA)  # one at a time, a zero delay is fine


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"in_flight": 0}, "in_flight must be an integer >= 1 or None"),
        ({"in_flight": 1.5}, "in_flight must be"),
        ({"interval": -1}, "interval must be a finite number >= 0"),
        ({"interval": float("nan")}, "interval must be"),
        ({"stash": "yes"}, "stash must be True or False"),
        ({"faults": {"drop": 0.1}}, "faults must be a neurosim.Faults"),
        (
            {"faults": neurosim.Faults(drops=[("i1", "o1", "forward", 0)])},
            r"no forward message travels on a channel \('i1', 'o1'\)",
        ),
    ],
)
def test_schedule_arguments_are_checked_before_anything_runs(options, message):
    net = neurosim.Network(layered())
    before = net.weights
    with pytest.raises(neurosim.DataError, match=message):
        net.train(*DATA, **options)
    assert net.weights == before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"drop": 1.5}, r"drop must be a probability in \[0, 1\]"),
        ({"drop": 0.6, "duplicate": 0.6}, "drop \\+ duplicate must be at most 1"),
        ({"jitter": -1}, "jitter must be a finite number >= 0"),
        ({"on_missing": "wait"}, "on_missing must be one of"),
        ({"timeout": 0}, "timeout must be a positive finite number"),
        ({"drops": [("a", "b", "sideways", 0)]}, "each entry of drops"),
        ({"drops": "ab"}, "drops must be a sequence of tuples"),
        ({"seed": 1.5}, "seed must be an integer"),
    ],
)
def test_faults_are_checked_when_made(options, message):
    with pytest.raises(neurosim.DataError, match=message):
        neurosim.Faults(**options)


def test_samples_in_flight_run_bit_identically_every_time():
    runs = [train(in_flight=3, interval=0.25, batch_size=2) for _ in range(4)]
    assert len({tuple(net.weights.values()) for net, _ in runs}) == 1
    assert len({h.ends.tobytes() for _, h in runs}) == 1


def test_predict_takes_the_schedule_and_keeps_the_outputs():
    net = neurosim.Network(layered())
    X = DATA[0]
    expected = net.predict(X, batch_size=1)
    np.testing.assert_array_equal(
        net.predict(X, batch_size=1, in_flight=None), expected
    )
    net.predict(X, batch_size=1, in_flight=None, interval=0.5, record=True)
    np.testing.assert_array_equal(
        np.unique(net.last_trace.filter(kind="forward", neuron="i1").sent_at),
        0.5 * np.arange(len(X)),
    )


def test_pipelined_worked_example_by_hand():
    """Two samples, the second entering at t = 1: its hidden neurons fire at t = 2
    with the weights of the start; the outputs' update of sample 0 at t = 2 comes
    before their forward step of sample 1 at t = 3."""
    X, Z = WORKED_EXAMPLE_DATA
    X2, Z2 = np.vstack([X, X]), np.vstack([Z, Z])
    net = neurosim.Network(worked_example())
    history = net.train(X2, Z2, learning_rate=0.02, in_flight=2, interval=1)
    np.testing.assert_array_equal(history.entries, [0.0, 1.0])
    np.testing.assert_array_equal(history.ends, [3.0, 4.0])
    np.testing.assert_array_equal(history.staleness, [[0, 0, 0, 0], [1, 1, 0, 0]])
    w = {
        k: v
        for k, v in zip(
            ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"],
            [1.5, 2.0, 2.0, 2.5, 1.2, 2.5, 0.5, 1.0],
            strict=True,
        )
    }
    x1, x2, z1, z2, eta = 1.0, 1.5, 2.5, 3.0, 0.02
    h1, h2 = x1 * w["w1"] + x2 * w["w3"], x1 * w["w2"] + x2 * w["w4"]  # both samples
    o1, o2 = h1 * w["w5"] + h2 * w["w7"], h1 * w["w6"] + h2 * w["w8"]
    d1, d2 = z1 - o1, z2 - o2
    # t=2: outputs update with sample 0; t=3: they compute sample 1 with it
    w5, w7 = w["w5"] + eta * d1 * h1, w["w7"] + eta * d1 * h2
    w6, w8 = w["w6"] + eta * d2 * h1, w["w8"] + eta * d2 * h2
    o1b, o2b = h1 * w5 + h2 * w7, h1 * w6 + h2 * w8
    np.testing.assert_allclose(
        history.loss,
        [0.5 * (d1**2 + d2**2), 0.5 * ((z1 - o1b) ** 2 + (z2 - o2b) ** 2)],
        rtol=1e-14,
    )
    # t=3: the hidden neurons update with sample 0's δ, which left the outputs
    # at t=2 with the weights of the start; t=4: with sample 1's, which left at
    # t=3 with the outputs' weights after one update (no stashing)
    e1, e2 = z1 - o1b, z2 - o2b
    w1 = w["w1"] + eta * (w["w5"] * d1 + w["w6"] * d2) * x1
    w1 = w1 + eta * (w5 * e1 + w6 * e2) * x1
    W5 = w5 + eta * e1 * h1  # the outputs' second update, at t=3
    assert net.weights["i1", "h1"] == pytest.approx(w1, rel=1e-13)
    assert net.weights["h1", "o1"] == pytest.approx(W5, rel=1e-13)

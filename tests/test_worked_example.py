"""The worked example (one backpropagation step by hand), through the actors."""

import numpy as np
import pytest

import neurosim
from neurosim.examples import WORKED_EXAMPLE_DATA, WORKED_EXAMPLE_NAMES, worked_example

X, Z = WORKED_EXAMPLE_DATA


def hand_calculation():
    """One step of backprop on the worked example, written out as it does."""
    i1, i2 = 1.0, 1.5
    w1, w2, w3, w4, w5, w6, w7, w8 = 1.5, 2.0, 2.0, 2.5, 1.2, 2.5, 0.5, 1.0
    h1 = i1 * w1 + i2 * w3  # 4.5
    h2 = i1 * w2 + i2 * w4  # 5.75
    o1 = h1 * w5 + h2 * w7  # 8.275
    o2 = h1 * w6 + h2 * w8  # 17.0
    E = 0.5 * (2.5 - o1) ** 2 + 0.5 * (3.0 - o2) ** 2
    d1, d2 = 2.5 - o1, 3.0 - o2  # δ of the outputs (identity: g = δ)
    dh1 = w5 * d1 + w6 * d2  # δ sent back, summed at h1
    dh2 = w7 * d1 + w8 * d2
    eta = 0.1
    after = {
        "w1": w1 + eta * dh1 * i1,
        "w2": w2 + eta * dh2 * i1,
        "w3": w3 + eta * dh1 * i2,
        "w4": w4 + eta * dh2 * i2,
        "w5": w5 + eta * d1 * h1,
        "w6": w6 + eta * d2 * h1,
        "w7": w7 + eta * d1 * h2,
        "w8": w8 + eta * d2 * h2,
    }
    return E, after


def test_one_step_matches_the_hand_calculation():
    net = neurosim.Network(worked_example())
    history = net.train(X, Z, learning_rate=0.1)
    E, after = hand_calculation()
    assert history.loss[0] == pytest.approx(114.6753125, abs=1e-12)
    assert history.loss[0] == pytest.approx(E, abs=1e-12)
    for name, edge in WORKED_EXAMPLE_NAMES.items():
        assert net.weights[edge] == pytest.approx(after[name], abs=1e-12), name
    assert net.biases == {}  # the article's neurons have no bias
    # the article prints -1.3986 for w5: a slip, not a rounding (-1.39875 -> -1.3988)
    assert net.weights["h1", "o1"] == pytest.approx(-1.39875, abs=1e-12)


def test_outputs_before_the_update():
    history = neurosim.Network(worked_example()).train(X, Z, learning_rate=0.1)
    np.testing.assert_allclose(history.outputs, [[8.275, 17.0]], rtol=0, atol=1e-12)


def test_eta_0_1_diverges_with_a_clear_error():
    net = neurosim.Network(worked_example())
    before = net.weights
    with pytest.raises(neurosim.DivergenceError) as info:
        net.train(X, Z, learning_rate=0.1, epochs=50)
    error = info.value
    assert error.epoch < 10  # "within a few epochs"
    assert error.sample == 0
    assert error.neuron in net.nodes
    assert f"epoch {error.epoch}" in str(error)
    assert net.weights == before  # a failed call leaves the network as it was


def test_the_divergence_carries_the_losses_so_far():
    net = neurosim.Network(worked_example())
    with pytest.raises(neurosim.DivergenceError) as info:
        net.train(X, Z, learning_rate=0.1, epochs=50)
    error = info.value
    assert error.epoch == 7  # a weight overflows in the 8th step
    history = error.history
    assert history.epochs == 7
    assert history.trace is None
    # the run that stops just before, bit for bit
    net = neurosim.Network(worked_example())
    before = net.train(X, Z, learning_rate=0.1, epochs=7)
    np.testing.assert_array_equal(history.loss, before.loss)
    np.testing.assert_array_equal(history.epoch_loss, before.epoch_loss)
    np.testing.assert_array_equal(history.outputs, before.outputs)
    np.testing.assert_array_equal(history.ends, before.ends)
    assert history.epoch_loss[0] == pytest.approx(114.6753125, abs=1e-12)
    assert history.loss[1] == pytest.approx(490.59955203, rel=1e-9)
    assert np.all(np.diff(history.epoch_loss) > 0)  # E grows every step
    assert np.isfinite(history.epoch_loss).all()


def test_eta_0_02_converges():
    net = neurosim.Network(worked_example())
    history = net.train(X, Z, learning_rate=0.02, epochs=30)
    assert np.all(np.diff(history.loss[:5]) < 0)
    assert history.loss[-1] < 1e-6 * history.loss[0]
    np.testing.assert_allclose(net.predict(X), Z, atol=1e-3)


def test_the_second_step_is_the_articles_too():
    """Without biases, step 2 starts from the article's weights after step 1."""
    _, after = hand_calculation()
    w = {name: after[name] for name in after}
    h1 = 1.0 * w["w1"] + 1.5 * w["w3"]
    h2 = 1.0 * w["w2"] + 1.5 * w["w4"]
    o1 = h1 * w["w5"] + h2 * w["w7"]
    o2 = h1 * w["w6"] + h2 * w["w8"]
    E2 = 0.5 * (2.5 - o1) ** 2 + 0.5 * (3.0 - o2) ** 2
    net = neurosim.Network(worked_example())
    history = net.train(X, Z, learning_rate=0.1, epochs=2)
    assert history.loss[1] == pytest.approx(E2, rel=1e-12)
    assert history.loss[1] == pytest.approx(490.59955203, rel=1e-9)


def test_a_neuron_with_bias_trains_it():
    G = worked_example()
    for v in ("h1", "h2", "o1", "o2"):
        G.nodes[v]["bias"] = 0.0
    net = neurosim.Network(G)
    history = net.train(X, Z, learning_rate=0.1, epochs=2)
    assert net.biases["o1"] != 0.0
    assert history.loss[0] == pytest.approx(114.6753125, abs=1e-12)  # step 1 alike
    assert history.loss[1] != pytest.approx(490.59955203, rel=1e-6)  # step 2 not

"""Accuracy in the History when the targets are classes (one-hot, or 0/1)."""

from __future__ import annotations

import numpy as np
import pytest

import neurosim


def classes(n=12, seed=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    labels = (X[:, 0] > X[:, 1]).astype(int)
    return X, np.eye(2)[labels]


def net():
    return neurosim.Network(neurosim.layered([2, 4, 2], seed=1))


@pytest.mark.parametrize("batch_size", [1, 5])
def test_correct_is_the_largest_output_against_the_class(batch_size):
    X, Z = classes()
    h = net().train(X, Z, 1.0, epochs=6, batch_size=batch_size)
    targets = np.tile(Z, (6, 1))  # no shuffle: the samples in order, each epoch
    expected = h.outputs.argmax(axis=1) == targets.argmax(axis=1)
    np.testing.assert_array_equal(h.correct, expected)
    np.testing.assert_array_equal(h.accuracy, expected.reshape(6, -1).mean(axis=1))
    assert h.accuracy[-1] > h.accuracy[0]  # it learns something
    assert f"accuracy {h.accuracy[0]:.3g} -> {h.accuracy[-1]:.3g}" in repr(h)


def test_shuffled_samples_are_scored_against_their_own_class():
    """Which sample each iteration took is read off the trace's input messages."""
    X, Z = classes()
    h = net().train(X, Z, 1.0, epochs=3, shuffle=True, seed=4, record=True)
    trace = h.trace.filter(neuron="i1", kind="forward")
    rows = []
    for epoch in range(3):
        for sample in range(len(X)):
            mine = (trace.epoch == epoch) & (trace.sample == sample)
            x1 = trace.value[mine][0]
            rows.append(int(np.flatnonzero(X[:, 0] == x1)[0]))
    assert rows[: len(X)] != list(range(len(X)))  # shuffled
    expected = h.outputs.argmax(axis=1) == Z[rows].argmax(axis=1)
    np.testing.assert_array_equal(h.correct, expected)


def test_validation_accuracy_is_predict_on_the_validation_set():
    X, Z = classes()
    Xv, Zv = classes(n=9, seed=5)
    network = net()
    accuracies = []
    for _ in range(4):  # one epoch per call: predict sees each epoch's weights
        h = network.train(X, Z, 1.0, validation=(Xv, Zv))
        right = network.predict(Xv).argmax(axis=1) == Zv.argmax(axis=1)
        assert h.validation_accuracy.tolist() == [right.mean()]
        accuracies.append(right.mean())
    again = net().train(X, Z, 1.0, epochs=4, validation=(Xv, Zv))
    assert again.validation_accuracy.tolist() == accuracies


def test_concatenated_histories_keep_their_accuracy():
    X, Z = classes()
    network = net()
    h1 = network.train(X, Z, 1.0, epochs=2)
    h2 = network.train(X, Z, 1.0, epochs=3)
    h = h1 + h2
    np.testing.assert_array_equal(h.correct, np.concatenate([h1.correct, h2.correct]))
    np.testing.assert_array_equal(
        h.accuracy, np.concatenate([h1.accuracy, h2.accuracy])
    )


def test_no_accuracy_without_classes():
    X, Z = classes()
    cases = [(net(), Z * 0.9), (net(), np.ones_like(Z))]
    for network, targets in cases:
        h = network.train(X, targets, 1.0, epochs=2)
        assert h.correct.shape == (0,)
        assert h.accuracy.shape == (0,)
        assert "accuracy" not in repr(h)


def test_the_history_of_a_divergence_has_its_accuracy():
    X, Z = classes()
    linear = neurosim.Network(
        neurosim.layered([2, 4, 2], seed=1, activation="identity")
    )
    with pytest.raises(neurosim.DivergenceError) as info:
        linear.train(X, Z, 5.0, epochs=50)
    h = info.value.history
    assert 0 < len(h.correct) == len(h.loss)
    np.testing.assert_array_equal(
        h.correct,
        h.outputs.argmax(axis=1) == np.tile(Z, (50, 1))[: len(h.loss)].argmax(axis=1),
    )


def test_one_output_of_zeros_and_ones_is_a_binary_class():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Z = np.array([[0.0], [1.0], [1.0], [0.0]])
    net = neurosim.Network(neurosim.layered([2, 3, 1], seed=0))
    before = net.predict(X)[:, 0]
    history = net.train(X, Z, batch_size=4, validation=(X, Z))
    np.testing.assert_array_equal(history.correct, (before > 0.5) == (Z[:, 0] == 1))
    after = net.predict(X)[:, 0]
    assert history.validation_accuracy[0] == np.mean((after > 0.5) == (Z[:, 0] == 1))
    # soft targets are not classes
    assert len(net.train(X, Z * 0.5).correct) == 0

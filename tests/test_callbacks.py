"""train(callbacks=..., validation=...) and histories that concatenate."""

import asyncio

import numpy as np
import pytest

import neurosim
from neurosim import History, StopTraining

X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
Z = [[0.0], [1.0], [1.0], [0.0]]
X_VAL = [[0.5, 0.5], [0.0, 0.25], [1.0, 0.75]]
Z_VAL = [[0.5], [0.0], [1.0]]


def network() -> neurosim.Network:
    return neurosim.Network(neurosim.layered([2, 3, 1], seed=0))


def trained(epochs: int, **kwargs) -> tuple[neurosim.Network, History]:
    net = network()
    return net, net.train(X, Z, learning_rate=0.5, epochs=epochs, **kwargs)


def assert_same_history(a: History, b: History) -> None:
    assert (a.epochs, a.samples_per_epoch, a.batch_size) == (
        b.epochs,
        b.samples_per_epoch,
        b.batch_size,
    )
    for name in ("loss", "outputs", "ends", "entries", "stale", "validation_loss"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape, name
        assert x.tobytes() == y.tobytes(), name


def assert_same_trace(a, b) -> None:
    assert len(a) == len(b)
    for name in ("epoch", "sample", "kind", "source", "destination", "fate"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), name)
    for name in ("sent_at", "received_at"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes()
    assert [np.asarray(v).tobytes() for v in a.value] == [
        np.asarray(v).tobytes() for v in b.value
    ]
    assert a.updates.rows() == b.updates.rows()


# ----------------------------------------------------------------------
# callbacks


def test_callbacks_see_the_history_so_far_after_each_epoch():
    seen = []
    net = network()
    history = net.train(
        X,
        Z,
        learning_rate=0.5,
        epochs=4,
        callbacks=[lambda h: seen.append((h, net.weights)), lambda h: None],
    )
    assert [h.epochs for h, _ in seen] == [1, 2, 3, 4]
    for k, (h, weights) in enumerate(seen, start=1):
        assert h.trace is None
        np.testing.assert_array_equal(h.loss, history.loss[: 4 * k])
        np.testing.assert_array_equal(h.outputs, history.outputs[: 4 * k])
        np.testing.assert_array_equal(h.ends, history.ends[: 4 * k])
        assert weights == trained(k)[0].weights  # the weights after epoch k
    assert_same_history(seen[-1][0], history)


def test_a_single_callable_is_a_list_of_one():
    calls = []
    trained(3, callbacks=calls.append)
    assert [h.epochs for h in calls] == [1, 2, 3]


@pytest.mark.parametrize(
    "record", [False, True, neurosim.Record(kinds=("forward",))], ids=str
)
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"batch_size": 3},
        {"interval": 0.5, "optimizer": "adam", "learning_rate": 0.1},
        {"faults": neurosim.Faults(drop=0.2, seed=1, on_missing="zero")},
    ],
    ids=["online", "batches", "interval-adam", "faults"],
)
def test_callbacks_and_validation_change_no_number(options, record):
    options = {"learning_rate": 0.5, **options}
    plain = network()
    expected = plain.train(X, Z, epochs=5, record=record, **options)
    net = network()
    history = net.train(
        X,
        Z,
        epochs=5,
        record=record,
        callbacks=[lambda h: None],
        validation=(X_VAL, Z_VAL),
        **options,
    )
    assert net.weights == plain.weights
    assert net.biases == plain.biases
    for name in ("loss", "outputs", "ends", "entries"):
        assert getattr(history, name).tobytes() == getattr(expected, name).tobytes()
    if record:
        assert_same_trace(history.trace, expected.trace)


@pytest.mark.parametrize("how", ["return False", "raise StopTraining"])
def test_a_callback_stops_training_with_the_weights_of_that_epoch(how):
    def stop_after_3(h: History):
        if h.epochs == 3:
            if how == "raise StopTraining":
                raise StopTraining
            return False
        return True

    later = []
    net, history = trained(10, callbacks=[stop_after_3, later.append], record=True)
    expected_net, expected = trained(3, record=True)
    assert net.weights == expected_net.weights
    assert net.biases == expected_net.biases
    assert_same_history(history, expected)
    assert_same_trace(history.trace, expected.trace)
    assert net.last_trace is history.trace
    # The callbacks after the one that stopped are not called for that epoch.
    assert [h.epochs for h in later] == [1, 2]
    # Training goes on from there as if it had been asked for 3 epochs.
    net.train(X, Z, learning_rate=0.5, epochs=2)
    expected_net.train(X, Z, learning_rate=0.5, epochs=2)
    assert net.weights == expected_net.weights


def test_a_numpy_false_stops_too():
    _, history = trained(10, callbacks=[lambda h: h.epoch_loss[-1] > 1.0])
    assert history.epochs == 1  # the first epoch's mean loss is below 1


def test_a_failing_callback_leaves_the_network_as_it_was():
    net = network()
    before = net.weights, net.biases

    def fail(h):
        if h.epochs == 2:
            raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        net.train(X, Z, learning_rate=0.5, epochs=5, callbacks=[fail])
    assert (net.weights, net.biases) == before


def test_a_callback_cannot_predict_and_is_told_so():
    net = network()
    with pytest.raises(RuntimeError, match="predict_async"):
        net.train(X, Z, epochs=2, callbacks=[lambda h: net.predict(X)])


def test_checkpoints_are_one_line():
    net = network()
    checkpoints = []
    net.train(
        X,
        Z,
        learning_rate=0.5,
        epochs=3,
        callbacks=[lambda h: checkpoints.append(net.to_graph())],
    )
    for k, G in enumerate(checkpoints, start=1):
        assert neurosim.Network(G).weights == trained(k)[0].weights


def test_callbacks_under_asyncio():
    net = network()

    async def main():
        return await net.train_async(
            X, Z, learning_rate=0.5, epochs=4, callbacks=[lambda h: h.epochs < 2]
        )

    history = asyncio.run(main())
    assert history.epochs == 2
    assert net.weights == trained(2)[0].weights


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"callbacks": 3}, "callbacks must be a callable"),
        ({"callbacks": "f"}, "callbacks must be a callable"),
        ({"callbacks": [print, 3]}, r"callbacks\[1\] is 3"),
        ({"validation": X_VAL}, r"validation must be a pair \(X, Z\)"),
        ({"validation": (X_VAL, [[1.0]])}, "validation X has 3 samples but"),
        ({"validation": ([[1.0]], [[1.0]])}, r"validation X has shape \(1, 1\)"),
        ({"validation": (X_VAL, [[np.nan]] * 3)}, r"validation Z\[0, 0\] is nan"),
        ({"callbacks": [print], "in_flight": 2}, "need in_flight=1, got 2"),
        ({"validation": (X_VAL, Z_VAL), "in_flight": None}, "need in_flight=1"),
    ],
)
def test_bad_callbacks_and_validation_are_refused_before_anything_runs(kwargs, message):
    net = network()
    before = net.weights
    calls = []
    with pytest.raises(neurosim.DataError, match=message):
        net.train(X, Z, epochs=2, progress=lambda *a: calls.append(a), **kwargs)
    assert net.weights == before
    assert calls == []


# ----------------------------------------------------------------------
# validation


def loss_of(net: neurosim.Network) -> float:
    y = net.predict(X_VAL)
    return float((0.5 * ((np.array(Z_VAL) - y) ** 2).sum(axis=1)).mean())


@pytest.mark.parametrize("batch_size", [1, 3])
def test_validation_loss_is_that_of_predict_after_each_epoch(batch_size):
    net, history = trained(4, batch_size=batch_size, validation=(X_VAL, Z_VAL))
    step = network()
    expected = []
    for _ in range(4):
        step.train(X, Z, learning_rate=0.5, batch_size=batch_size)
        expected.append(loss_of(step))
    assert history.validation_loss.tolist() == expected  # bit for bit
    assert history.validation_loss[-1] == loss_of(net)
    assert "validation loss" in repr(history)


def test_without_validation_the_validation_loss_is_empty():
    _, history = trained(2)
    assert history.validation_loss.shape == (0,)
    assert "validation" not in repr(history)


def test_the_validation_data_stay_the_callers():
    X_val, Z_val = np.array(X_VAL), np.array(Z_VAL)
    trained(2, validation=(X_val, Z_val))
    assert X_val.tolist() == X_VAL
    assert Z_val.tolist() == Z_VAL


# ----------------------------------------------------------------------
# histories that concatenate


def test_histories_of_successive_calls_concatenate_to_one_run():
    net = network()
    h1 = net.train(X, Z, learning_rate=0.5, epochs=2)
    h2 = net.train(X, Z, learning_rate=0.5, epochs=3)
    _, whole = trained(5)
    assert_same_history(h1 + h2, whole)
    assert_same_history(History.concat([h1, h2]), whole)
    assert_same_history(History.concat([h1]), h1)
    np.testing.assert_array_equal((h1 + h2).epoch_loss, whole.epoch_loss)
    assert (h1 + h2).duration == whole.duration


def test_concatenated_staleness_follows_the_iterations():
    net = neurosim.Network(neurosim.examples.worked_example())
    x, z = [[1.0, 1.5]] * 2, [[2.5, 3.0]] * 2
    h1 = net.train(x, z, learning_rate=0.02, in_flight=2)
    h2 = net.train(x, z, learning_rate=0.02, in_flight=2)
    h = h1 + h2
    assert h.staleness.tolist() == h1.staleness.tolist() + h2.staleness.tolist()
    assert h.staleness[3].tolist() == [1, 1, 0, 0]


def test_concatenated_validation_fills_epochs_without_it_with_nan():
    net = network()
    h1 = net.train(X, Z, epochs=2)
    h2 = net.train(X, Z, epochs=1, validation=(X_VAL, Z_VAL))
    v = (h1 + h2).validation_loss
    assert np.isnan(v[:2]).all()
    assert v[2] == h2.validation_loss[0]
    assert (h1 + h1).validation_loss.shape == (0,)


def test_histories_that_do_not_match_do_not_concatenate():
    _, h = trained(1)
    _, batched = trained(1, batch_size=2)
    other = network().train([[0.0, 1.0]], [[1.0]])
    with pytest.raises(ValueError, match="different batch_size: 1 and 2"):
        h + batched
    with pytest.raises(ValueError, match="different samples_per_epoch: 4 and 1"):
        History.concat([h, other])
    with pytest.raises(ValueError, match="one or more History"):
        History.concat([])
    with pytest.raises(TypeError):
        h + 1


def test_callbacks_with_shuffled_epochs_see_each_epoch_in_its_order():
    """The loss a callback sees is that of the epoch's own (shuffled) order."""
    seen = []
    _, plain = trained(3, shuffle=True, seed=4)
    _, history = trained(
        3, shuffle=True, seed=4, callbacks=[lambda h: seen.append(h.loss.copy())]
    )
    assert_same_history(history, plain)
    assert [len(loss) for loss in seen] == [4, 8, 12]
    assert seen[-1].tobytes() == plain.loss.tobytes()


def test_stopping_a_shuffled_run_early_equals_asking_for_fewer_epochs():
    stop_after_two = [lambda h: h.epochs < 2]
    net, history = trained(5, shuffle=True, seed=1, callbacks=stop_after_two)
    fewer_net, fewer = trained(2, shuffle=True, seed=1)
    assert_same_history(history, fewer)
    assert net.weights == fewer_net.weights
    assert net.position is None  # the run ended there: nothing to resume


@pytest.mark.parametrize("option", [{"stop_after": 2}, {"resume": True}])
def test_callbacks_and_pieces_of_a_run_are_refused_together(option):
    net = network()
    with pytest.raises(neurosim.DataError, match="cannot be combined with stop_after"):
        net.train(X, Z, epochs=2, callbacks=[lambda h: None], **option)
    with pytest.raises(neurosim.DataError, match="cannot be combined with stop_after"):
        net.train(X, Z, epochs=2, validation=(X_VAL, Z_VAL), **option)


def test_the_pieces_of_a_resumed_run_concatenate_to_the_whole_run():
    net = network()
    first = net.train(X, Z, learning_rate=0.5, epochs=3, stop_after=6)
    rest = net.train(X, Z, learning_rate=0.5, epochs=3, resume=True)
    _, whole = trained(3)
    joined = first + rest
    assert (joined.epochs, joined.start) == (3, 0)
    assert joined.loss.tobytes() == whole.loss.tobytes()


def test_a_checkpoint_per_epoch_is_one_callback(tmp_path):
    """net.save in a callback writes the network of that epoch."""
    net = network()
    net.train(
        X,
        Z,
        learning_rate=0.5,
        epochs=3,
        optimizer="adam",
        callbacks=[lambda h: net.save(tmp_path / f"epoch{h.epochs}.npz")],
    )
    two = network()
    two.train(X, Z, learning_rate=0.5, epochs=2, optimizer="adam")
    saved = neurosim.load(tmp_path / "epoch2.npz")
    assert saved.weights == two.weights
    assert saved.biases == two.biases
    # and it trains on as the network of that epoch would
    one_more = [
        m.train(X, Z, learning_rate=0.5, optimizer="adam") for m in (saved, two)
    ]
    assert one_more[0].loss.tobytes() == one_more[1].loss.tobytes()

"""Interrupts, failed calls, threads, custom pieces and late checks (issue 9).

Every failed, cancelled or interrupted call leaves the network exactly as it
was (compared bit for bit); interrupts come out as themselves; concurrent
calls are serialised or refused, never mixed; wrong shapes from custom
pieces name their neuron before the run; arguments are checked before any
work.
"""

import os
import pickle
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import trio

import neurosim
from neurosim import DataError, DivergenceError, NetworkBusyError, NeuronError
from neurosim.optimizers import SGD, Optimizer
from neurosim.rules import Backprop

ROOT = Path(__file__).resolve().parent.parent
X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Z = np.array([[0.0], [1.0], [1.0], [0.0]])


def network(seed: int = 3, **attributes) -> neurosim.Network:
    G = neurosim.layered([2, 3, 1], seed=seed)
    for node, activation in attributes.items():
        G.nodes[node]["activation"] = activation
    return neurosim.Network(G)


def _bits(value) -> object:
    """Every array of an optimizer state as bytes (so NaNs compare too)."""
    if value is None or isinstance(value, int | float | str | bool):
        return value
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, dict):
        return {k: _bits(v) for k, v in value.items()}
    return (type(value).__name__, {k: _bits(v) for k, v in vars(value).items()})


def snapshot(net: neurosim.Network) -> tuple:
    """The weights, biases and optimizer (and its state) of `net`, bit for bit."""
    states = net._states
    return (
        {k: np.float64(w).tobytes() for k, w in net.weights.items()},
        {k: np.float64(b).tobytes() for k, b in net.biases.items()},
        repr(net._optimizer),
        {v: (s.params.tobytes(), _bits(s.optimizer_state)) for v, s in states.items()},
    )


def trained(**attributes) -> neurosim.Network:
    """A network with a non-trivial optimizer state (momentum buffers)."""
    net = network(**attributes)
    net.train(X, Z, epochs=3, optimizer=SGD(0.5, momentum=0.9))
    return net


class Counting:
    """An activation (tanh) that raises `error` at call number `at`."""

    def __init__(self, error: type[BaseException] | None = None, at: int = 0):
        self.calls, self.error, self.at = 0, error, at

    def __call__(self, e):
        self.calls += 1
        if self.error is not None and self.calls == self.at:
            raise self.error("from the activation")
        return np.tanh(e)

    def activation(self) -> neurosim.Activation:
        return neurosim.Activation("counting", self, lambda e, y: 1.0 - y * y)


# -- 1. interrupts come out as themselves ------------------------------------


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("call", ["train", "predict"])
def test_interrupt_in_an_activation_is_not_wrapped(error, call):
    f = Counting(error, at=4)
    net = network(h2=f.activation())
    before = snapshot(net)
    run = {
        "train": lambda: net.train(X, Z, epochs=5),
        "predict": lambda: net.predict(X, batch_size=1),
    }[call]
    with pytest.raises(error) as info:
        run()
    assert type(info.value) is error
    assert str(info.value) == "from the activation"
    assert f.calls == 4  # it was raised inside the run
    assert snapshot(net) == before


def test_ordinary_errors_keep_their_form():
    f = Counting(ZeroDivisionError, at=3)
    net = network(h2=f.activation())
    with pytest.raises(NeuronError, match="neuron 'h2': ZeroDivisionError") as info:
        net.train(X, Z, epochs=2)
    assert isinstance(info.value.__cause__, ZeroDivisionError)


SCRIPT = '''"""Trains for a long time; says "ready" once training runs."""
import signal

import numpy as np

import neurosim

# Python's own Ctrl-C handler, even where the test runs as a background job
# (which starts with SIGINT ignored)
signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv):
    net = neurosim.Network(neurosim.layered([2, 8, 8, 1], seed=0))

    def progress(done, total):
        if done == 1:
            print("ready", flush=True)

    X = np.ones((4, 2))
    net.train(X, np.zeros((4, 1)), epochs=10**7, progress=progress)
    return 0
'''


def test_sigint_during_neurosim_run_exits_130_with_one_line(tmp_path):
    script = tmp_path / "long.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "neurosim.cli", "run", str(script), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert process.stdout.readline() == "ready\n"  # training runs in trio
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
        process.wait()
    assert (process.returncode, err) == (130, "neurosim: error: interrupted\n")
    assert out == ""


@pytest.mark.parametrize("name", ["current_task", "reschedule"])
def test_a_ctrl_c_cannot_land_inside_a_neurons_inbox(monkeypatch, name):
    """Parking and waking a neuron is protected from KeyboardInterrupt: one
    between the two steps woke a finished task (a TrioInternalError) in about
    one run in twenty of the test above."""
    protected = []
    real = getattr(trio.lowlevel, name)

    def spy(*args):
        protected.append(trio.lowlevel.currently_ki_protected())
        return real(*args)

    monkeypatch.setattr(trio.lowlevel, name, spy)
    network().train(X, Z, epochs=2)
    assert len(protected) > 10
    assert all(protected)


# -- 2. a failed call changes nothing ----------------------------------------


def test_failure_while_the_trace_is_built_leaves_the_network(monkeypatch):
    net = trained()
    before, trace = snapshot(net), net.last_trace

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(neurosim.network.Trace, "from_columns", no_memory)
    with pytest.raises(MemoryError):
        net.train(X, Z, epochs=2, optimizer=SGD(0.5, momentum=0.9), record=True)
    assert snapshot(net) == before
    assert net.last_trace is trace


def continued(net: neurosim.Network) -> tuple:
    net.train(X, Z, epochs=2, optimizer=SGD(0.5, momentum=0.9))
    return snapshot(net)


def test_divergence_after_switching_optimizer_keeps_the_old_state():
    net = trained(o1="identity")
    before = snapshot(net)
    with pytest.raises(DivergenceError):
        net.train(X, Z, learning_rate=1e300, epochs=5, optimizer="sgd")
    assert snapshot(net) == before
    # and the momentum buffers go on as if the failed call had not happened
    assert continued(net) == continued(trained(o1="identity"))


def test_keyboard_interrupt_mid_training_keeps_everything():
    net = trained()
    before = snapshot(net)

    def progress(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        net.train(X, Z, epochs=4, optimizer="adagrad", progress=progress)
    assert snapshot(net) == before
    assert continued(net) == continued(trained())


def test_cancelled_call_keeps_everything():
    """Cancelled from another task, at whatever point trio's order gives."""
    net = trained()
    before = snapshot(net)

    async def cancelled():
        halfway = trio.Event()

        def progress(done, total):
            if done == 2:
                halfway.set()

        async def cancel_at_halfway(scope):
            await halfway.wait()
            scope.cancel()

        async with trio.open_nursery() as nursery:
            with trio.CancelScope() as scope:
                nursery.start_soon(cancel_at_halfway, scope)
                await net.train_async(
                    X, Z, epochs=3, optimizer="adam", progress=progress
                )
        return scope.cancelled_caught

    for _ in range(10):  # where the cancellation lands depends on trio's order
        assert trio.run(cancelled)
        assert snapshot(net) == before
    assert continued(net) == continued(trained())


# -- 4. threads --------------------------------------------------------------


def test_trains_from_threads_are_serialised():
    net, alone = network(), network()
    for _ in range(4):
        alone.train(X, Z, learning_rate=0.5, epochs=2)
    threads = [
        threading.Thread(target=net.train, args=(X, Z, 0.5, 2)) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert snapshot(net) == snapshot(alone)


def test_predicts_from_threads_are_right():
    net = network()
    Xs = np.random.default_rng(0).normal(size=(40, 2))
    expected = net.predict(Xs, batch_size=3)
    results: list = [None] * 4

    def predict(i):
        results[i] = [net.predict(Xs, batch_size=3) for _ in range(3)]

    threads = [threading.Thread(target=predict, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for outputs in results:
        for y in outputs:
            np.testing.assert_array_equal(y, expected)


def test_a_call_from_another_thread_waits_for_the_running_one():
    net = network()
    running, release = threading.Event(), threading.Event()
    seen = {}

    def hold(done, total):
        if done == 1:
            running.set()
            assert release.wait(60)

    def predict():
        seen["y"] = net.predict(X)

    a = threading.Thread(
        target=net.train, args=(X, Z, 0.5, 2), kwargs={"progress": hold}
    )
    a.start()
    assert running.wait(60)
    b = threading.Thread(target=predict)
    b.start()
    release.set()
    a.join()
    b.join()
    # b ran after a's training: it saw the trained weights
    np.testing.assert_array_equal(seen["y"], net.predict(X))
    assert not np.array_equal(seen["y"], network().predict(X))


def test_two_calls_in_one_trio_run_are_refused_not_mixed():
    net, alone = network(), network()
    alone.train(X, Z, learning_rate=0.5, epochs=3)
    errors = []

    async def call():
        try:
            await net.train_async(X, Z, learning_rate=0.5, epochs=3)
        except NetworkBusyError as exc:
            errors.append(exc)

    async def both():
        async with trio.open_nursery() as nursery:
            nursery.start_soon(call)
            nursery.start_soon(call)

    trio.run(both)
    assert len(errors) == 1
    assert "another call" in str(errors[0])
    assert snapshot(net)[:2] == snapshot(alone)[:2]


# -- 5. custom pieces with wrong shapes --------------------------------------


def doubled(e):
    return np.concatenate([e, e])


@pytest.mark.parametrize("node", ["h2", "o1"])
@pytest.mark.parametrize("batch_size", [1, 4])
def test_activation_of_the_wrong_shape_names_its_neuron(node, batch_size):
    calls = []

    def wrong(e):
        calls.append(e)
        return doubled(e)

    net = network(**{node: neurosim.Activation("wrong", wrong, lambda e, y: 1.0)})
    before = snapshot(net)
    progress = []
    with pytest.raises(
        NeuronError, match=rf"neuron '{node}': .*'wrong'.*shape"
    ) as info:
        net.train(X, Z, batch_size=batch_size, progress=lambda *a: progress.append(a))
    assert info.value.neuron == node
    assert progress == []  # before the first iteration is done
    assert snapshot(net) == before
    with pytest.raises(NeuronError, match=rf"neuron '{node}'"):
        net.predict(X)


def test_derivative_of_the_wrong_shape_names_its_neuron():
    bad = neurosim.Activation("bad", np.tanh, lambda e, y: doubled(e))
    with pytest.raises(NeuronError, match=r"neuron 'h1': .*derivative.*shape"):
        network(h1=bad).train(X, Z, batch_size=2)
    # a scalar derivative broadcasts correctly: it is fine
    ok = neurosim.Activation("ok", lambda e: e, lambda e, y: 1.0)
    network(h1=ok).train(X, Z, batch_size=2)


class LongSignal(Backprop):
    name = "long"

    def backward_signal(self, delta, g):
        return doubled(g)


class ShortUpdate(Backprop):
    name = "short"

    def update_signal(self, delta, g):
        return g[:1]


def test_rule_signals_of_the_wrong_shape_name_a_neuron():
    with pytest.raises(NeuronError, match=r"neuron 'o1': .*backward_signal.*shape"):
        network().train(X, Z, rule=LongSignal())
    with pytest.raises(NeuronError, match=r"neuron 'h1': .*update_signal.*shape"):
        network().train(X, Z, rule=ShortUpdate(), batch_size=4)


class Returning(Optimizer):
    """Returns new parameters instead of updating them in place."""

    learning_rate = 0.1

    def init_state(self, size):
        return None

    def step(self, params, grad, state):
        return params - self.learning_rate * grad


class Growing(Optimizer):
    """Appends to its state at every step."""

    learning_rate = 0.1

    def init_state(self, size):
        return {"seen": np.zeros(size)}

    def step(self, params, grad, state):
        state["seen"] = np.concatenate([state["seen"], grad])
        params -= self.learning_rate * grad


def test_optimizers_that_return_or_resize_arrays_name_a_neuron():
    net = network()
    before = snapshot(net)
    with pytest.raises(NeuronError, match=r"neuron 'h1': .*step.*in place"):
        net.train(X, Z, optimizer=Returning())
    with pytest.raises(
        NeuronError, match=r"neuron 'h1': .*state.*shape \(3,\).*\(6,\)"
    ):
        net.train(X, Z, optimizer=Growing())
    assert snapshot(net) == before


def test_custom_pieces_are_probed_once_not_per_message():
    f = Counting()
    activation = f.activation()
    net = network(h1=activation, h2=activation)
    net.train(X, Z, epochs=3)
    assert f.calls == 1 + 3 * 4 * 2  # one probe, then one call per forward step
    f.calls = 0
    net.train(X, Z, epochs=3, batch_size=3)  # batches of 3, then of 1
    assert f.calls == 2 + 3 * 2 * 2


# -- 6. arguments checked before any work ------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"X": [[10**400, 0]]}, "X cannot be read"),
        ({"Z": [[10**400]] * 4}, "Z cannot be read"),
        ({"learning_rate": 10**400}, "learning_rate must be a positive finite"),
        ({"interval": 10**400}, "interval must be a finite number"),
        ({"progress": 5}, r"progress must be a callable .* got 5"),
        ({"epochs": 10**30}, r"epochs=10{30} .* too many"),
    ],
)
def test_arguments_are_checked_before_any_work(options, message):
    f = Counting()
    net = network(h1=f.activation())
    before = snapshot(net)
    arguments = {"X": X, "Z": Z, **options}
    with pytest.raises(DataError, match=message):
        net.train(arguments.pop("X"), arguments.pop("Z"), **arguments)
    assert f.calls == 0
    assert snapshot(net) == before


def test_predict_checks_its_data_first():
    with pytest.raises(DataError, match="X cannot be read"):
        network().predict([[10**400, 0]])
    with pytest.raises(DataError, match="interval"):
        network().predict(X, interval=10**400)


class Stop(Exception):
    pass


def test_a_huge_epoch_count_costs_no_memory_up_front():
    net = network()
    before = snapshot(net)

    def progress(done, total):
        assert total == 10**12 * 4
        if done == 3:
            raise Stop

    with pytest.raises(Stop):
        net.train(X, Z, epochs=10**12, progress=progress)
    assert snapshot(net) == before


def test_long_runs_grow_their_arrays_with_the_same_numbers(monkeypatch):
    """Arrays that grow in steps give the numbers of arrays made at once."""
    net = network()
    history = net.train(X, Z, epochs=7, batch_size=3, in_flight=2, interval=0.5)
    monkeypatch.setattr(neurosim.simulation, "_FIRST_CAPACITY", 2)
    again = network()
    small = again.train(X, Z, epochs=7, batch_size=3, in_flight=2, interval=0.5)
    for name in ("loss", "outputs", "ends", "entries"):
        np.testing.assert_array_equal(getattr(small, name), getattr(history, name))
    assert snapshot(again) == snapshot(net)


def test_cli_refuses_absurd_epoch_counts(capsys):
    from neurosim import cli

    assert cli.main(["run", "xor", "--epochs", "99999999999999999999999"]) == 2
    err = capsys.readouterr().err
    assert "--epochs: must be at most 1000000000" in err
    assert "Traceback" not in err


# -- 10. predict's divergence says what happened -----------------------------


def test_divergence_in_predict_says_predict():
    G = neurosim.layered([1, 1], weights=[[[1e300]]], activation="identity")
    with pytest.raises(DivergenceError, match=r"^predict: neuron 'o1'") as info:
        neurosim.Network(G).predict([[1e300]])
    assert "training" not in str(info.value)
    assert info.value.neuron == "o1"
    assert info.value.history is None  # nothing was trained


def diverging_xor():
    G = neurosim.layered([2, 3, 1], activation="identity", seed=0)
    X = [[0, 0], [0, 1], [1, 0], [1, 1]] * 3
    Z = [[0], [1], [1], [0]] * 3
    return neurosim.Network(G), X, Z


@pytest.mark.parametrize(
    ("options", "where"),
    [
        ({"learning_rate": 0.6, "epochs": 20}, (1, 8)),  # in the middle of an epoch
        ({"learning_rate": 2.0, "epochs": 20, "batch_size": 4}, (3, 2)),  # batches
    ],
)
def test_a_divergence_holds_what_stop_after_would_have_returned(options, where):
    net, X, Z = diverging_xor()
    before = snapshot(net)
    with pytest.raises(DivergenceError) as info:
        net.train(X, Z, **options)
    error = info.value
    assert (error.epoch, error.sample) == where
    assert snapshot(net) == before  # the network is as it was
    chunks = -(-len(X) // options.get("batch_size", 1))
    iteration = error.epoch * chunks + error.sample
    stopped = diverging_xor()[0].train(X, Z, stop_after=iteration, **options)
    history = error.history
    for name in ("loss", "outputs", "ends", "entries", "epoch_loss"):
        np.testing.assert_array_equal(getattr(history, name), getattr(stopped, name))
    assert history.epochs == stopped.epochs == error.epoch + (error.sample > 0)
    assert len(history.loss) == iteration * options.get("batch_size", 1)
    assert np.isfinite(history.loss).all()
    assert history.loss[-1] > 1e100  # it was on its way


def test_a_divergence_in_the_first_iteration_has_an_empty_history():
    net, X, Z = diverging_xor()
    with pytest.raises(DivergenceError) as info:
        net.train(X, Z, learning_rate=1e300)
    history = info.value.history
    assert (info.value.epoch, info.value.sample) == (0, 1)
    assert len(history.loss) == 1  # the first sample's update was still finite
    with pytest.raises(DivergenceError) as info:
        net.train([[1e200, 1e200]], [[0]], learning_rate=1e300)
    assert len(info.value.history.loss) == 0
    assert "empty" in repr(info.value.history)


def test_a_divergence_with_validation_keeps_the_epochs_validated():
    net, X, Z = diverging_xor()
    with pytest.raises(DivergenceError) as info:
        net.train(X, Z, learning_rate=0.6, epochs=20, validation=(X[:4], Z[:4]))
    history = info.value.history
    assert len(history.validation_loss) == info.value.epoch == 1
    again = diverging_xor()[0].train(
        X, Z, learning_rate=0.6, epochs=1, validation=(X[:4], Z[:4])
    )
    np.testing.assert_array_equal(history.validation_loss, again.validation_loss)


def test_a_pickled_divergence_keeps_its_history():
    net, X, Z = diverging_xor()
    with pytest.raises(DivergenceError) as info:
        net.train(X, Z, learning_rate=0.6, epochs=20)
    copy = pickle.loads(pickle.dumps(info.value))
    assert str(copy) == str(info.value)
    np.testing.assert_array_equal(copy.history.loss, info.value.history.loss)


def test_a_huge_shuffled_run_is_refused_before_any_work():
    net = network()
    before = snapshot(net)
    with pytest.raises(neurosim.DataError, match="train fewer epochs per call"):
        net.train(X, Z, epochs=10**12, shuffle=True)
    assert snapshot(net) == before
    # in pieces, the same run goes: the first piece is small
    net.train(X, Z, epochs=10**12, shuffle=True, stop_after=3)
    assert net.position.iteration == 3

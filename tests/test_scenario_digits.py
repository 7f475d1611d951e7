"""The digits scenario: what it learns, its confusion matrix, its timeline, its skip.

Backprop trains once for the scenario's default number of epochs (the other
rules are left out there: ``--rules backprop``), and the test reads its
numbers from what ``compute`` returns. A short run of all three rules goes
through ``neurosim run digits``. Without scikit-learn (simulated) the
scenario must say what to install and exit with status 0.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from neurosim import Trace, cli
from neurosim.scenario import start
from tests.helpers import load_scenario, require

ROOT = Path(__file__).resolve().parent.parent
RULES = ("backprop", "feedback_alignment", "direct_feedback_alignment")
FILES = ("accuracy.png", "confusion.png", "timeline.png", "trace.csv")


def needs_scikit_learn():
    require("sklearn", 'pip install "neurosim[data]"')


def load():
    return load_scenario("digits")


@pytest.fixture(scope="module")
def backprop(tmp_path_factory):
    """The default run of backprop alone (seed 0, the default epochs)."""
    needs_scikit_learn()
    module = load()
    out = tmp_path_factory.mktemp("digits")
    run = start(
        module.__file__,
        module.__doc__,
        ["--out", str(out), "--rules", "backprop", "--quiet"],
        epochs=module.EPOCHS,
        extra=module._options,
    )
    return module, out, module.compute(run)


def test_backprop_reaches_95_percent_on_the_test_set(backprop):
    module, _, result = backprop
    (r,) = result.rules.values()
    assert r.name == "backprop"
    assert len(r.accuracy) == module.EPOCHS
    assert r.final >= 0.95
    # the accuracy reported is that of the network's own predictions
    assert r.final == np.mean(r.predicted == result.labels)


def test_confusion_matrix_counts_the_test_set(backprop):
    _, _, result = backprop
    matrix = result.confusion
    assert matrix.shape == (10, 10)
    assert matrix.sum() == len(result.labels) == 359  # a stratified 20% of 1,797
    assert np.trace(matrix) / matrix.sum() == result.rules["backprop"].final
    # rows are the true digits: each row sums to that digit's test images
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(result.labels))


def test_timeline_shows_the_chosen_neurons_only(backprop):
    module, out, result = backprop
    inputs, hidden, outputs = result.shown
    assert len(inputs) == 4
    assert len(hidden) == 4
    assert outputs == [f"o{k}" for k in range(1, 11)]
    trace = Trace.read_csv(out / "trace.csv")  # the whole step, every neuron
    assert trace.iterations() == [(0, 0)]
    assert len(trace.filter(kind="forward")) == 64 * 32 + 32 * 10
    assert len(trace.filter(kind="backward")) == 10 * 32
    softmax = trace.filter(kind="softmax")  # each output to the 9 others
    assert sorted(zip(softmax.source, softmax.destination, strict=True)) == sorted(
        (a, b) for a in outputs for b in outputs if a != b
    )
    assert set(softmax.sent_at) == {2.0}
    assert set(softmax.received_at) == {3.0}
    # the figure's trace: the messages among the chosen neurons only
    shown = module.among(result.trace, result.shown)
    assert len(shown.filter(kind="forward")) == 4 * 4 + 4 * 10
    assert len(shown.filter(kind="softmax")) == 10 * 9
    assert len(shown.filter(kind="backward")) == 10 * 4
    assert set(shown.nodes) == {*inputs, *hidden, *outputs}
    assert set(trace.nodes) == {
        *(f"i{k}" for k in range(1, 65)),
        *(f"h{k}" for k in range(1, 33)),
        *outputs,
    }


def test_all_rules_run_by_name_and_print_each_epoch(tmp_path, capsys):
    needs_scikit_learn()
    status = cli.main(["run", "digits", "--out", str(tmp_path), "--epochs", "2"])
    assert status == 0
    out = capsys.readouterr().out
    assert "  epoch  backprop  feedback_alignment  direct_feedback_alignment\n" in out
    lines = out.splitlines()
    for epoch in (0, 1):  # a row per epoch, a percentage per rule
        (row,) = [
            line
            for line in lines
            if line.split()[:1] == [str(epoch)] and line.endswith("%")
        ]
        assert len(row.split()) == 4
    for name in RULES:
        assert f"\n{name}: " in out  # what the rule reaches
        assert f"\n  {name} " in out  # its wall time per epoch
    for name in FILES:
        assert (tmp_path / name).stat().st_size > 0, name


def test_without_scikit_learn_it_says_what_to_install(tmp_path, monkeypatch, capsys):
    # None in sys.modules makes `import sklearn` fail with ModuleNotFoundError
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    out = tmp_path / "digits"
    assert cli.main(["run", "digits", "--out", str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("digits: skipped: it needs scikit-learn")
    assert 'pip install "neurosim[data]"' in captured.err
    assert list(out.iterdir()) == []  # nothing written


def test_standardise_takes_its_statistics_from_the_training_part():
    from neurosim import datasets

    module = load()
    Z = np.eye(2)
    train = datasets.Dataset(
        np.array([[0.0, 1.0], [1.0, 1.0]]), Z, np.arange(2), ("a", "b")
    )
    test = datasets.Dataset(np.array([[0.5, 0.0]]), Z[:1], np.arange(1), ("a", "b"))
    X_train, X_test = train.X.copy(), test.X.copy()
    scaled, scaled_test, spread = module.standardise(train, test)
    assert spread == np.std([0.0, 1.0, 1.0, 1.0])  # all training pixels, one spread
    np.testing.assert_array_equal(scaled.X.mean(axis=0), [0.0, 0.0])
    np.testing.assert_allclose(scaled_test.X, [[0.0, -1.0 / spread]])
    # the parts given are unchanged
    np.testing.assert_array_equal(train.X, X_train)
    np.testing.assert_array_equal(test.X, X_test)

"""The optimizers and learning_rules scenarios: they run, draw and check out.

Each scenario runs for a couple of epochs into ``tmp_path``; the tests read
the numbers from what its ``compute`` function returns, not from what it prints.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurosim import Trace, cli, validate
from neurosim.scenario import start
from tests.helpers import load_scenario

ROOT = Path(__file__).resolve().parent.parent
OPTIMIZERS = ("sgd", "momentum", "adagrad", "adam")
RULES = ("backprop", "article", "feedback_alignment", "direct_feedback_alignment")


def load(name):
    return load_scenario(name)


def run(module, out, epochs):
    scenario = start(
        module.__file__,
        module.__doc__,
        ["--out", str(out), "--epochs", str(epochs)],
        epochs=module.EPOCHS,
    )
    return module.compute(scenario)


def assert_written(out, names):
    for name in names:
        path = out / name
        assert path.is_file(), f"{name} was not written"
        assert path.stat().st_size > 0, f"{name} is empty"


@pytest.fixture(scope="module")
def optimizers(tmp_path_factory):
    out = tmp_path_factory.mktemp("optimizers")
    return load("optimizers"), out


@pytest.fixture(scope="module")
def learning_rules(tmp_path_factory):
    out = tmp_path_factory.mktemp("learning_rules")
    return load("learning_rules"), out


def test_optimizers_scenario(optimizers, capsys):
    module, out = optimizers
    result = run(module, out, epochs=3)
    printed = capsys.readouterr().out

    assert_written(out, ["loss.png", "fits.png", "trace.csv"])
    assert tuple(result.optimizers) == OPTIMIZERS
    for name, r in result.optimizers.items():
        assert r.epoch_loss.shape == (3,)
        assert np.all(np.isfinite(r.epoch_loss))
        assert r.verdict.startswith(f"{name} (η = {r.learning_rate:g}): ")
        assert r.verdict in printed  # one verdict line per optimizer

    trace = Trace.read_csv(out / "trace.csv")
    assert trace.iterations() == [(0, 0)]  # one iteration, kept small
    assert set(trace.kind) == {"forward", "backward"}


# made-up epoch losses of the four optimizers, for the verdicts
OPTIMIZER_LOSSES = {
    "sgd": np.array([1.0, 0.5, 0.4]),
    "momentum": np.array([1.0, 0.05, 0.01]),
    "adagrad": np.array([1.0, 0.2, 0.05]),
    "adam": np.array([1.0, 0.01, 0.001]),
}


def test_optimizers_verdicts_follow_the_numbers(optimizers):
    module, _ = optimizers
    losses = OPTIMIZER_LOSSES
    lines = module.verdicts(losses, threshold=0.06)
    assert lines["adam"][0] == 1  # epochs count from 0: the second epoch is 1
    assert "below 6.0e-02 (R² 0.98) in epoch 1, " in lines["adam"][1]
    assert "fastest, lowest final loss" in lines["adam"][1]
    assert "2nd fastest" in lines["momentum"][1]
    assert lines["adagrad"][0] == 2
    assert lines["sgd"][0] is None
    assert "never below 6.0e-02 in 3 epochs" in lines["sgd"][1]
    assert "400× the lowest" in lines["sgd"][1]


def test_optimizers_figure_counts_epochs_from_0(optimizers):
    module, _ = optimizers
    losses = OPTIMIZER_LOSSES
    lines = module.verdicts(losses, threshold=0.06)
    results = {
        name: module.OptimizerResult(name, 0.1, loss, *lines[name])
        for name, loss in losses.items()
    }
    ax = module.loss_figure(results, 0.06).axes[0]
    curves = [line for line in ax.get_lines() if len(line.get_xdata()) == 3]
    assert len(curves) == 4
    for curve in curves:  # epoch k of epoch_loss at x = k, as plot.loss draws it
        np.testing.assert_array_equal(curve.get_xdata(), [0, 1, 2])
    marks = [line for line in ax.get_lines() if line.get_marker() == "o"]
    # adam first below 0.06 in epoch 1, momentum in 1, adagrad in 2; sgd never
    assert sorted(
        (float(m.get_xdata()[0]), float(m.get_ydata()[0])) for m in marks
    ) == [
        (1.0, 0.01),
        (1.0, 0.05),
        (2.0, 0.05),
    ]


def test_stated_learning_rates_are_the_ones_used(optimizers):
    module, _ = optimizers
    page = (ROOT / "docs" / "scenarios" / "optimizers.md").read_text(encoding="utf-8")
    for name, lr in module.LEARNING_RATES.items():
        assert f"η = {lr:g}" in module.__doc__, name
        assert f"| `{name!r}` | {lr:g} |".replace("'", '"') in page, name


def test_learning_rules_scenario(learning_rules, capsys):
    module, out = learning_rules
    result = run(module, out, epochs=2)
    printed = capsys.readouterr().out

    assert_written(out, ["angles.png", "loss.png", "timeline.png", "trace.csv"])
    assert tuple(result.rules) == RULES
    for name, r in result.rules.items():
        assert r.epoch_loss.shape == (2,)
        assert r.verdict.startswith(f"{name}: ")
        assert r.verdict in printed
        assert set(r.angles) == {1, 2, 3}
        # One SGD step through the actors moves every parameter by η·direction.
        assert r.step_error <= 1e-12, name
        # The output neuron learns from its own exact error under every rule.
        assert r.angles[3] < 1e-6, name

    assert max(result.rules["backprop"].angles.values()) < 1e-6
    # The article's w·δ is not the gradient on a sigmoid network.
    assert max(result.rules["article"].angles.values()) > 0.1
    # The gradient the angles are measured against agrees with the loss.
    assert result.gradient_check < 1e-5


def test_feedback_alignment_messages_differ_from_backprop(learning_rules):
    module, _ = learning_rules
    G = module.article_network(0)
    X, Z = module.task(0)
    rule = module.make_rules(0)["feedback_alignment"]
    traces, rows = module.backward_messages(G, X, Z, rule)

    assert len(rows) == 8  # 6 → 4, 5 and 4, 5 → 1, 2, 3
    for v, u, b, _w, carried, exact in rows:
        assert b == rule.feedback_weights(validate(G))[u, v]
        assert carried != pytest.approx(exact)
    # The forward messages are the same under both rules.
    forward = [t.filter(kind="forward").value for t in traces.values()]
    np.testing.assert_array_equal(*forward)


def test_angle_is_accurate_near_zero(learning_rules):
    module, _ = learning_rules
    a = np.array([3e-9, 1.0, -2.5])
    assert module.angle(a, a) == 0.0
    assert module.angle(a, 7 * a) < 1e-12  # rounding of the normalisation only
    assert module.angle(a, -a) == pytest.approx(180.0)
    b = a + np.array([0.0, 1e-9, 0.0])  # about 3e-8 degrees apart
    assert 0 < module.angle(a, b) < 1e-7


@pytest.mark.parametrize("name", ["optimizers", "learning_rules"])
def test_neurosim_run(name, tmp_path, capsys):
    options = ["--out", str(tmp_path), "--epochs", "1", "--quiet"]
    assert cli.main(["run", name, *options]) == 0
    assert capsys.readouterr().out == ""
    assert (tmp_path / "loss.png").stat().st_size > 0


@pytest.mark.parametrize("name", ["optimizers", "learning_rules"])
def test_runs_as_a_script(name, tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), env.get("PYTHONPATH")])
    )
    env["MPLBACKEND"] = "Agg"
    options = ["--out", str(tmp_path), "--epochs", "1", "--quiet"]
    done = subprocess.run(
        [sys.executable, f"scenarios/{name}.py", *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert (tmp_path / "loss.png").stat().st_size > 0

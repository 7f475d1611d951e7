"""Every scenario runs quickly, writes its files and prints what it must."""

import importlib.util
import io
import itertools
import math
from pathlib import Path

import pytest

import neurosim
from neurosim.scenario import ProgressBar, Scenario, fmt
from tests.helpers import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def load(name):
    return load_scenario(name)


def run(name, tmp_path, *options):
    status = load(name).main(["--out", str(tmp_path), *options])
    assert status == 0
    return tmp_path


def assert_files(folder, *names):
    for name in names:
        path = folder / name
        assert path.is_file(), f"{name} was not written"
        assert path.stat().st_size > 0, f"{name} is empty"
        if name.endswith(".png"):
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


# ----------------------------------------------------------------------
# worked example (one step by hand)


def test_worked_example_prints_the_article_step(tmp_path, capsys):
    run("worked_example", tmp_path, "--epochs", "12", "--no-animation")
    out = capsys.readouterr().out
    assert "114.6753125" in out
    assert "-1.39875" in out
    assert "the worked example prints -1.3986: a slip, not a rounding" in out
    for name in neurosim.examples.WORKED_EXAMPLE_NAMES:
        assert f"\n  {name} " in out
    assert "h1 = i1·w1 + i2·w3 = 4.5" in out
    assert "o2 = h1·w6 + h2·w8 = 17" in out
    assert "diverge" in out
    assert "converges" in out
    # epochs counted from 0: epoch 0 is E before any update, for both runs
    assert "\n      0       114.675      114.675\n" in out
    assert "\n      6  5.77873e+204  0.000124334\n" in out
    assert "\n      7      overflow  1.26945e-05\n" in out
    assert "\n     11                5.15077e-09\n" in out  # the last epoch of 12
    assert "overflows (in epoch 7, neuron h1 computed" in out
    # E of the last epoch is before its update; after 12 epochs it is E of epoch 12
    after = neurosim.Network(neurosim.examples.worked_example()).train(
        *neurosim.examples.WORKED_EXAMPLE_DATA, learning_rate=0.02, epochs=13
    )
    assert f"{after.loss[12]:.3g}" == "1.09e-09"
    assert "E = 5.15e-09 in epoch 11 (before its update), 1.09e-09 after 12" in out
    assert_files(tmp_path, "timeline.png", "network.png", "loss.png", "trace.csv")
    assert not (tmp_path / "animation.gif").exists()


def test_worked_example_loss_figure_shows_both_runs():
    import matplotlib.pyplot as plt

    module = load("worked_example")
    diverging, error = module.repeat_until_divergence()
    net = neurosim.Network(neurosim.examples.worked_example())
    converging = net.train(*module.WORKED_EXAMPLE_DATA, learning_rate=0.02, epochs=30)
    ax = module.loss_figure(diverging, error, converging)
    big, small, overflow = ax.get_lines()
    assert big.get_label() == "η = 0.1: E grows every step"
    assert list(big.get_xdata()) == list(range(7))  # epochs 0 to 6, then it overflowed
    assert big.get_ydata()[0] == small.get_ydata()[0] == diverging.loss[0]
    assert list(small.get_xdata()) == list(range(30))
    assert list(overflow.get_xdata()) == [7, 7]  # the mark where it diverged
    assert "epoch 7: a value overflows" in ax.texts[0].get_text()
    assert ax.get_xlim() == (-0.5, 29.5)
    plt.close(ax.figure)


def test_worked_example_trace_is_the_step(tmp_path, capsys):
    run("worked_example", tmp_path, "--epochs", "2", "--no-animation", "--quiet")
    assert capsys.readouterr().out == ""
    trace = neurosim.Trace.read_csv(tmp_path / "trace.csv")
    assert trace.iterations() == [(0, 0)]
    (w5,) = [r for r in trace.updates.rows() if r[2:4] == ("o1", "h1")]
    assert w5[4:6] == (1.2, pytest.approx(-1.39875, abs=1e-12))  # old, new


def test_worked_example_eta_0_1_grows_until_it_diverges():
    module = load("worked_example")
    history, error = module.repeat_until_divergence()
    assert isinstance(error, neurosim.DivergenceError)
    assert error.history is history
    assert error.epoch == history.epochs == 7
    assert history.loss[0] == pytest.approx(114.6753125)
    assert all(b > a for a, b in itertools.pairwise(history.loss))


# ----------------------------------------------------------------------
# perceptron (one sigmoid neuron with a bias)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("sample", [1, 2, 3])
def test_perceptron_derivatives_from_messages_equal_the_formulas(
    seed, sample, optimizer
):
    """Read from the trace's internals and gradients: any optimizer will do."""
    module = load("perceptron")
    net = neurosim.Network(module.perceptron(seed))
    w1, w2, b = net.weights["x1", "A"], net.weights["x2", "A"], net.biases["A"]
    x, y = module.X[sample], float(module.Y[sample, 0])
    step = net.train([x], [[y]], learning_rate=0.5, optimizer=optimizer, record=True)
    measured = module.from_simulation(step)
    expected = module.from_formulas(w1, w2, b, x, y)
    assert set(measured) == set(expected) == set(module.FORMULAS)
    for name in expected:
        assert measured[name] == pytest.approx(expected[name], rel=1e-12, abs=1e-14), (
            name
        )

    # and the formulas are the calculus: ∂E/∂w1 by a central difference
    def E(w):
        A = 1 / (1 + math.exp(-(w * x[0] + w2 * x[1] + b)))
        return 0.5 * (A - y) ** 2

    h = 1e-6
    assert expected["∂E/∂w1"] == pytest.approx(
        (E(w1 + h) - E(w1 - h)) / (2 * h), abs=1e-9
    )


def test_perceptron_scenario(tmp_path, capsys):
    run("perceptron", tmp_path, "--epochs", "5")
    out = capsys.readouterr().out
    for name in ("∂E/∂A", "∂A/∂Z", "∂Z/∂w1", "∂Z/∂w2", "∂Z/∂b", "σ(Z)(1 − σ(Z))"):
        assert name in out
    assert "largest difference" in out
    assert "x1  x2  AND" in out  # the truth table
    assert_files(tmp_path, "timeline.png", "network.png", "loss.png", "trace.csv")


def test_perceptron_learns_and(tmp_path, capsys):
    run("perceptron", tmp_path)  # the default length
    assert "AND learned." in capsys.readouterr().out


# ----------------------------------------------------------------------
# article network (Bernacki & Włodarczyk) and XOR


def test_article_network_scenario(tmp_path, capsys):
    run("article_network", tmp_path, "--epochs", "2", "--seed", "3")
    out = capsys.readouterr().out
    assert "1 2 3 | 4 5 | 6" in out
    assert "x1 + x2 > 1" in out
    assert_files(tmp_path, "timeline.png", "network.png", "loss.png", "trace.csv")
    trace = neurosim.Trace.read_csv(tmp_path / "trace.csv")
    assert set(trace.nodes) == {"x1", "x2", 1, 2, 3, 4, 5, 6}
    assert [e for e, _ in trace.iterations()] == [0] * 9  # the first epoch


def test_xor_scenario_writes_its_files(tmp_path, capsys):
    run("xor", tmp_path, "--epochs", "3")
    out = capsys.readouterr().out
    assert "x1  x2  XOR  output" in out
    assert_files(
        tmp_path, "decision_boundary.png", "loss.png", "network.png", "trace.csv"
    )


def test_xor_is_solved_with_the_defaults(tmp_path, capsys):
    run("xor", tmp_path)
    out = capsys.readouterr().out
    assert "XOR solved." in out
    rows = [line.split() for line in out.splitlines() if line.startswith("   ")]
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("0", "0", "0", "0"),
        ("0", "1", "1", "1"),
        ("1", "0", "1", "1"),
        ("1", "1", "0", "0"),
    ]


def test_default_output_folder_is_named_after_the_scenario(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load("perceptron").main(["--epochs", "1", "--quiet"]) == 0
    assert_files(tmp_path / "perceptron", "trace.csv", "loss.png")


@pytest.mark.parametrize(
    "option", [["--epochs", "0"], ["--epochs", "x"], ["--seed", "-1"]]
)
def test_bad_options_exit_with_status_2(tmp_path, option, capsys):
    with pytest.raises(SystemExit) as exit:
        load("xor").main(["--out", str(tmp_path), *option])
    assert exit.value.code == 2
    assert "error: argument" in capsys.readouterr().err


# ----------------------------------------------------------------------
# the support module


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_on_a_terminal_and_erases_itself():
    stream = Terminal()
    with ProgressBar("training", stream=stream, delay=0, interval=0, width=10) as bar:
        bar(5, 10)
        assert stream.getvalue() == "\rtraining [#####.....] 5/10  50%"
        bar(10, 10)
    last = stream.getvalue().rsplit("\r", 2)
    assert last[-1] == ""
    assert last[-2].strip() == ""


@pytest.mark.parametrize(
    ("stream", "enabled"), [(io.StringIO(), True), (Terminal(), False)]
)
def test_progress_bar_hidden_off_terminal_and_when_quiet(stream, enabled):
    with ProgressBar("x", stream=stream, enabled=enabled, delay=0, interval=0) as bar:
        bar(1, 2)
    assert stream.getvalue() == ""


def test_progress_bar_waits_a_moment_before_showing():
    stream = Terminal()
    with ProgressBar("x", stream=stream, delay=60) as bar:
        bar(1, 2)
    assert stream.getvalue() == ""


def test_table_aligns_numbers_right_and_text_left():
    out = io.StringIO()
    s = Scenario("t", Path("t"), epochs=1, seed=0, quiet=False, stdout=out)
    s.table(["name", "value"], [["a", 1.5], ["long name", -0.25]])
    assert out.getvalue().splitlines() == [
        "  name       value",
        "  a            1.5",
        "  long name  -0.25",
    ]


def test_fmt():
    assert fmt(-1.3987500000000002) == "-1.39875"
    assert fmt(114.67531249999999) == "114.6753125"
    assert fmt(-0.0) == "0"
    assert fmt(float("inf")) == "inf"


def test_make_figures_runs_every_scenario(monkeypatch, tmp_path):
    """docs/make_figures.py finds every scenario (each run stubbed out here)."""
    from pathlib import Path

    from neurosim import cli

    path = Path(__file__).resolve().parent.parent / "docs" / "make_figures.py"
    spec = importlib.util.spec_from_file_location("make_figures", path)
    make_figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_figures)
    calls = []
    monkeypatch.setattr(cli, "main", lambda argv: calls.append(argv) or 0)
    monkeypatch.setattr(make_figures, "DOCS", tmp_path)
    assert make_figures.main([]) == 0
    assert [argv[1] for argv in calls] == list(cli.find_scenarios())
    assert len(calls) == len(cli.find_scenarios())

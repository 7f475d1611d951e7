"""The pipelining scenario: throughput, staleness, stashing and the delay experiment.

The scenario runs once, for two epochs, into a temporary folder; the tests
read the numbers from what its ``compute`` function returns.
"""

import itertools
from pathlib import Path

import numpy as np
import pytest

from neurosim import Trace
from neurosim.scenario import start
from tests.helpers import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def load():
    return load_scenario("pipelining")


@pytest.fixture(scope="module")
def pipelining(tmp_path_factory):
    module = load()
    out = tmp_path_factory.mktemp("pipelining")
    run = start(
        module.__file__,
        module.__doc__,
        ["--out", str(out), "--epochs", "2", "--quiet"],
        epochs=module.EPOCHS,
    )
    return module, out, module.compute(run)


def test_files_are_written(pipelining):
    _, out, result = pipelining
    for name in ("loss.png", "staleness.png", "timeline.png", "delay.png"):
        path = out / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert {p.name for p in result.files} >= {"loss.png", "trace.csv"}
    trace = Trace.read_csv(out / "trace.csv")
    assert sorted(set(trace.sample.tolist())) == [0, 1, 2, 3, 4]


def test_main_runs_and_prints(tmp_path, capsys):
    module = load()
    assert module.main(["--out", str(tmp_path), "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "throughput" in out
    assert "bit-identical" in out
    assert "forward now happens at" in out


def test_throughput_grows_with_the_samples_in_flight(pipelining):
    module, _, result = pipelining
    plain = {s.in_flight: s for s in result.settings if not s.stash}
    assert tuple(plain) == module.IN_FLIGHT
    throughput = [plain[k].throughput for k in module.IN_FLIGHT]
    assert all(b > 1.5 * a for a, b in itertools.pairwise(throughput))
    # one sample takes 5 time units from entry to its last update
    assert plain[1].throughput == pytest.approx(1 / 5)
    for s in result.settings:
        assert s.throughput <= 1 / module.INTERVAL
        assert np.all(np.isfinite(s.epoch_loss))
        assert len(s.epoch_loss) == 2


def test_staleness_zero_sequentially_and_grows_away_from_the_output(pipelining):
    _, _, result = pipelining
    by = {(s.in_flight, s.stash): s.staleness for s in result.settings}
    assert set(by[1, False].values()) == {0.0}
    for k in (2, 4, 8):
        st = by[k, False]
        assert st["output"] == 0  # an output's backward is its forward
        assert st["layer 1"] >= st["layer 2"] > 0
        assert by[k, True] == st  # stashing changes values, not the schedule
    assert by[8, False]["layer 1"] > by[4, False]["layer 1"] > by[2, False]["layer 1"]


def test_stashing_changes_what_is_learned_only_with_overlap(pipelining):
    _, _, result = pipelining
    loss = {(s.in_flight, s.stash): s.epoch_loss for s in result.settings}
    for k in (2, 4, 8):
        assert not np.array_equal(loss[k, True], loss[k, False])


def test_a_slower_connection_changes_only_the_times_sequentially(pipelining):
    module, _, result = pipelining
    run = result.sequential
    fast, slow = module.FAST, module.SLOW
    assert run.weights[fast] == run.weights[slow]  # bit for bit
    assert run.biases[fast] == run.biases[slow]
    assert run.max_weight_difference == 0
    assert np.all(run.ends[slow] > run.ends[fast])
    assert run.reorders == []


def test_a_slower_connection_changes_learning_with_overlap(pipelining):
    module, _, result = pipelining
    run = result.overlapping
    fast, slow = module.FAST, module.SLOW
    assert run.max_weight_difference > 1e-4
    assert run.weights[fast] != run.weights[slow]
    first = run.reorders[0]
    # every hidden neuron: sample 1's forward at t = 3, sample 0's update
    # moves from t = 3 (before it, ties go to the update) to t = 4 (after)
    assert set(first.neurons) == {"h1", "h2", "h3", "h4"}
    assert (first.forward, first.update) == (1, 0)
    assert first.times == ((3.0, 3.0), (3.0, 4.0))
    assert first.before == (True, False)
    assert "sample 1's forward now happens at t = 3 before sample 0's update" in (
        first.sentence
    )


def test_pipelined_fast_run_learns_what_sequential_training_learns(pipelining):
    """With delay 1, in_flight=2 and interval=2 no neuron sees stale weights."""
    _, _, result = pipelining
    fast = 1.0
    assert result.overlapping.weights[fast] == result.sequential.weights[fast]
    assert result.overlapping.ends[fast][-1] < result.sequential.ends[fast][-1]

"""The faults scenario: learning with lost messages, zero against last."""

from pathlib import Path

import numpy as np
import pytest

import neurosim
from tests.helpers import load_scenario

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = ["--seeds", "2"]  # the default 8 epochs: shorter runs learn too little


def load():
    return load_scenario("faults")


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    module = load()
    out = tmp_path_factory.mktemp("faults")
    import contextlib
    import io

    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert module.main(["--out", str(out), *OPTIONS]) == 0
    return module, out, stdout.getvalue()


def table(out: str) -> dict[float, list[str]]:
    """The rows of the first table: drop rate -> its cells."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "drop rate" in line) + 1
    rows = {}
    for line in lines[start:]:
        cells = line.split()
        if not cells or not cells[0][0].isdigit():
            break
        rows[float(cells[0])] = cells[1:]
    return rows


def test_writes_its_files(ran):
    _, out, text = ran
    for name in ("loss_vs_drop.png", "timeline.png", "trace.csv"):
        path = out / name
        assert path.is_file(), name
        assert path.stat().st_size > 1000, name
    assert "Wrote loss_vs_drop.png, timeline.png, trace.csv" in text


def test_the_table_has_every_drop_rate(ran):
    module, _, text = ran
    rows = table(text)
    assert list(rows) == list(module.DROP_RATES)
    assert rows[0.0][2:5] == ["0", "of", "1024"]  # nothing lost: 8 epochs x 8 x 16
    lost = [int(rows[p][2]) for p in module.DROP_RATES]
    assert lost == sorted(lost)
    assert lost[-1] > 0.2 * 1024


def test_drop_zero_is_a_plain_run(ran):
    module, _, text = ran
    plain = np.mean([module.train(seed, 8, None).final_loss for seed in (0, 1)])
    zero, last = table(text)[0.0][:2]
    assert zero == last == f"{plain:.4g}"
    assert "to the last bit: yes" in text


def test_loss_grows_with_the_drop_rate(ran):
    _, _, text = ran
    rows = table(text)
    zero = {p: float(cells[0]) for p, cells in rows.items()}
    assert zero[0.0] < zero[0.05] < zero[0.1] < zero[0.3]
    assert zero[0.3] > 3 * zero[0.0]
    last = {p: float(cells[1]) for p, cells in rows.items()}
    assert all(last[p] > zero[p] for p in (0.05, 0.1, 0.2, 0.3))  # with tanh


def test_lost_errors_hurt_less_than_lost_signals(ran):
    _, _, text = ran
    lines = text.splitlines()
    forward = next(line for line in lines if line.startswith("  forward signals"))
    errors = next(line for line in lines if line.startswith("  error messages"))
    f_zero, f_last = map(float, forward.split()[2:])
    e_zero, e_last = map(float, errors.split()[2:])
    assert max(e_zero, e_last) < min(f_zero, f_last)


def test_prints_the_stalled_error(ran):
    _, _, text = ran
    (line,) = [line for line in text.splitlines() if "StalledError" in line]
    assert "on_missing='error'" in line
    assert "neuron 'h1' waits in iteration 0 (forward) for 'i1'" in line


def test_trace_and_timeline_show_the_losses(ran):
    module, out, text = ran
    trace = neurosim.Trace.read_csv(out / "trace.csv")
    lost = trace.filter(fate="dropped")
    assert f"{len(lost)} of {len(trace)} messages lost" in text
    shown = module.timeline_iterations(trace)
    iteration = lost.epoch * module.N_SAMPLES + lost.sample
    kinds = set(lost.kind[np.isin(iteration, shown)])
    assert kinds == {"forward", "backward"}  # an error message among them

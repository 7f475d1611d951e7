"""The playground scenario: Playground's four sets, backprop and feedback alignment."""

import re
from pathlib import Path

import pytest

from neurosim import cli
from tests.helpers import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SETS = ("circle", "xor", "gauss", "spiral")


def load():
    return load_scenario("playground")


def run(tmp_path, *options):
    assert load().main(["--out", str(tmp_path), *options]) == 0


def assert_files(folder, *names):
    for name in names:
        data = (folder / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name


def accuracies(out):
    """``{(set, rule): (train, test)}`` read from the printed table."""
    found, name = {}, None
    for line in out.splitlines():
        match = re.match(
            r"  (\w+)?\s+(?:[\d-]+\s+\d+\s+)?(backprop|feedback alignment)\s+"
            r"([\d.]+)%\s+([\d.]+)%$",
            line,
        )
        if match:
            name = match[1] or name
            found[name, match[2]] = (float(match[3]) / 100, float(match[4]) / 100)
    return found


def test_it_writes_its_figures_and_a_table_of_every_set_and_rule(tmp_path, capsys):
    run(tmp_path, "--epochs", "2")
    out = capsys.readouterr().out
    assert "  set     network    epochs  rule                train    test" in out
    assert re.search(r"\n  spiral  2-16-16-2\s+2  backprop ", out)
    assert re.search(r"\n  gauss   2-8-8-2\s+1  backprop ", out)  # an eighth, >= 1
    table = accuracies(out)
    assert sorted(table) == sorted(
        (name, rule) for name in SETS for rule in ("backprop", "feedback alignment")
    )
    assert_files(
        tmp_path,
        "decision_maps.png",
        *(f"neurons_{name}.png" for name in SETS),
    )


def test_the_defaults_learn_the_three_easy_sets_with_both_rules(tmp_path, capsys):
    run(tmp_path, "--sets", "gauss", "circle", "xor")
    table = accuracies(capsys.readouterr().out)
    assert len(table) == 6
    for (name, rule), (train, test) in table.items():
        assert train >= 0.95, (name, rule, train)
        assert test >= 0.98, (name, rule, test)
    assert not (tmp_path / "neurons_spiral.png").exists()


def test_the_defaults_learn_the_spiral_with_both_rules(tmp_path, capsys):
    run(tmp_path, "--sets", "spiral")
    table = accuracies(capsys.readouterr().out)
    assert table["spiral", "backprop"][1] >= 0.95
    assert table["spiral", "feedback alignment"][1] >= 0.95


@pytest.mark.parametrize(
    "option", [["--noise", "-0.1"], ["--noise", "nan"], ["--sets", "moons"]]
)
def test_bad_options_exit_with_status_2(tmp_path, option, capsys):
    with pytest.raises(SystemExit) as exit:
        load().main(["--out", str(tmp_path), *option])
    assert exit.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_it_runs_from_the_command(tmp_path):
    assert "playground" in cli.find_scenarios()
    status = cli.main(
        ["run", "playground", "--out", str(tmp_path), "--epochs", "1", "--quiet"]
    )
    assert status == 0
    assert_files(tmp_path, "decision_maps.png", "neurons_xor.png")

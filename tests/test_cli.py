"""The ``neurosim`` command, run in-process through ``neurosim.cli.main``."""

import shutil
import subprocess
from pathlib import Path

import pytest

import neurosim
from neurosim import cli

ROOT = Path(__file__).resolve().parent.parent
FOUR = ("worked_example", "article_network", "perceptron", "xor")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``neurosim demo`` once for the module (the GIF takes a few seconds)."""
    out = tmp_path_factory.mktemp("demo")
    status = cli.main(["demo", "--out", str(out), "--quiet"])
    return status, out


def one_line_error(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("neurosim: error: ")
    assert "Traceback" not in err
    return lines[0]


# ----------------------------------------------------------------------
# what works


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"neurosim {neurosim.__version__}"


def test_list_names_every_scenario_with_its_first_docstring_line(capsys):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = {line.split()[0]: line for line in lines}
    for name in FOUR:
        assert name in names
        path = ROOT / "scenarios" / f"{name}.py"
        assert cli.describe(path) in names[name]
    assert "worked example" in names["worked_example"]


def test_run_by_name(tmp_path, capsys):
    status = cli.main(["run", "perceptron", "--out", str(tmp_path), "--epochs", "2"])
    assert status == 0
    assert "∂E/∂A" in capsys.readouterr().out
    assert (tmp_path / "trace.csv").is_file()
    assert (tmp_path / "loss.png").stat().st_size > 0


def test_run_by_path(tmp_path, capsys):
    path = ROOT / "scenarios" / "xor.py"
    status = cli.main(["run", str(path), "--out", str(tmp_path), "--epochs", "2"])
    assert status == 0
    assert "XOR" in capsys.readouterr().out
    assert (tmp_path / "decision_boundary.png").stat().st_size > 0


def test_run_by_file_name_finds_the_scenario(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no xor.py here: the known scenario is meant
    assert cli.main(["run", "xor.py", "--epochs", "1", "--quiet"]) == 0
    assert (tmp_path / "xor" / "decision_boundary.png").is_file()


def test_run_passes_a_scenarios_own_options(tmp_path, capsys):
    argv = ["run", "worked_example", "--out", str(tmp_path), "--epochs", "2"]
    assert cli.main([*argv, "--no-animation", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")  # --quiet: nothing at all
    assert (tmp_path / "timeline.png").is_file()
    assert not (tmp_path / "animation.gif").exists()


def test_run_a_plain_script_without_main(tmp_path, capsys):
    script = tmp_path / "hello.py"
    script.write_text('"""Says hello."""\nimport sys\nprint("hello", sys.argv[1:])\n')
    assert cli.main(["run", str(script), "--epochs", "3"]) == 0
    assert capsys.readouterr().out == "hello ['--epochs', '3']\n"


def test_demo_writes_everything_including_the_animation(demo):
    status, out = demo
    assert status == 0
    for name in ("timeline.png", "network.png", "loss.png", "animation.gif"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "animation.gif").read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    trace = neurosim.Trace.read_csv(out / "trace.csv")
    assert len(trace) == 12  # 8 forward, 4 backward messages


def test_demo_default_folder(tmp_path, monkeypatch, capsys):
    # the demo's folder is ./worked_example; skip the slow GIF by running the
    # same scenario by name (demo itself takes no --no-animation)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "worked_example", "--epochs", "1", "--no-animation"]) == 0
    out = capsys.readouterr().out
    assert "114.6753125" in out
    assert "-1.39875" in out
    assert (tmp_path / "worked_example" / "trace.csv").is_file()


def test_plot_a_saved_trace(demo, tmp_path, capsys):
    _, folder = demo
    image = tmp_path / "timeline.png"
    argv = ["plot", str(folder / "trace.csv"), "--out", str(image)]
    assert cli.main([*argv, "--epoch", "0", "--sample", "0"]) == 0
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(image) in capsys.readouterr().out


def test_plot_another_iteration_of_a_longer_trace(tmp_path, capsys):
    assert (
        cli.main(["run", "xor", "--out", str(tmp_path), "--epochs", "1", "--quiet"])
        == 0
    )
    trace = tmp_path / "trace.csv"
    image = tmp_path / "t.svg"
    assert cli.main(["plot", str(trace), "--out", str(image), "--quiet"]) == 0
    assert image.read_text().lstrip().startswith("<?xml")
    assert capsys.readouterr().out == ""


# ----------------------------------------------------------------------
# mistakes: one line, non-zero status, no traceback


def test_unknown_scenario_lists_the_known_ones(capsys):
    assert cli.main(["run", "no_such_thing"]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "no_such_thing" in line
    for name in FOUR:
        assert name in line


def test_missing_scenario_file(tmp_path, capsys):
    assert cli.main(["run", str(tmp_path / "gone.py")]) == 1
    assert "no such scenario file" in one_line_error(capsys.readouterr().err)


def test_missing_trace_file(tmp_path, capsys):
    argv = ["plot", str(tmp_path / "gone.csv"), "--out", str(tmp_path / "x.png")]
    assert cli.main(argv) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "gone.csv" in line
    assert "No such file" in line
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "content",
    [
        "this is not a trace\n",
        "",
        "record,epoch,sample,kind,source,destination,sent_at,received_at,value,old\n"
        "message,0,0,forward,a,b,0.0,one,1.0,\n",
        b"\x89PNG\r\n\x1a\n\x00\xff\xfe",
    ],
    ids=["text", "empty", "bad-number", "binary"],
)
def test_corrupt_trace_file(tmp_path, capsys, content):
    path = tmp_path / "trace.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert cli.main(["plot", str(path), "--out", str(tmp_path / "x.png")]) == 1
    assert str(path) in one_line_error(capsys.readouterr().err)


def test_plot_an_iteration_the_trace_lacks(demo, tmp_path, capsys):
    _, folder = demo
    argv = ["plot", str(folder / "trace.csv"), "--out", str(tmp_path / "x.png")]
    assert cli.main([*argv, "--epoch", "5"]) == 1
    error = one_line_error(capsys.readouterr().err)
    assert "no iteration with epoch 5" in error
    assert "it holds epochs 0, samples 0" in error  # counted from 0, as the trace


def test_plot_help_says_how_epochs_are_counted(capsys):
    assert cli.main(["plot", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--epoch N epoch, counted from 0 (default: the first)" in out
    assert "--sample N sample, counted from 0 (default: the first)" in out


def test_plot_to_an_unknown_image_format(demo, tmp_path, capsys):
    _, folder = demo
    argv = ["plot", str(folder / "trace.csv"), "--out", str(tmp_path / "x.nope")]
    assert cli.main(argv) == 1
    one_line_error(capsys.readouterr().err)


def test_output_folder_that_is_a_file(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli.main(["run", "xor", "--out", str(blocker), "--epochs", "1"]) == 1
    assert str(blocker) in one_line_error(capsys.readouterr().err)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "xor", "--epochs", "0"],
        ["run", "xor", "--seed", "minus one"],
        ["run", "xor", "--bogus"],
        ["plot"],
        ["plot", "t.csv", "--out", "x.png", "--epoch", "-1"],
        ["frobnicate"],
        [],
    ],
)
def test_bad_options_exit_2(argv, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "error:" in err
    assert "Traceback" not in err


def test_divergence_escaping_a_scenario_is_one_line(tmp_path, capsys):
    script = tmp_path / "too_fast.py"
    script.write_text(
        '"""Diverges on purpose."""\n'
        "import neurosim\n"
        "from neurosim.examples import WORKED_EXAMPLE_DATA, worked_example\n\n"
        "def main(argv):\n"
        "    net = neurosim.Network(worked_example())\n"
        "    net.train(*WORKED_EXAMPLE_DATA, learning_rate=0.1, epochs=50)\n"
        "    return 0\n"
    )
    assert cli.main(["run", str(script)]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "diverged" in line
    assert "'h1'" in line


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "neurosim.Network(neurosim.layered([2, 1])).train([[1, 2, 3]], [[1]])",
            "X has",
        ),
        ("import networkx as nx; neurosim.Network(nx.DiGraph())", "empty"),
    ],
)
def test_data_and_network_errors_are_one_line(tmp_path, capsys, body, message):
    script = tmp_path / "broken.py"
    script.write_text(f"import neurosim\n\ndef main(argv):\n    {body}\n")
    assert cli.main(["run", str(script)]) == 1
    assert message in one_line_error(capsys.readouterr().err)


def test_script_with_a_syntax_error_is_one_line(tmp_path, capsys):
    script = tmp_path / "typo.py"
    script.write_text("def main(argv):\n    return (\n")
    assert cli.main(["run", str(script)]) == 1
    assert "typo.py, line 2" in one_line_error(capsys.readouterr().err)


def test_a_bug_keeps_its_traceback(tmp_path):
    script = tmp_path / "bug.py"
    script.write_text("def main(argv):\n    return 1 / 0\n")
    with pytest.raises(ZeroDivisionError):
        cli.main(["run", str(script)])


# ----------------------------------------------------------------------
# where scenarios come from


def test_scenarios_are_found_in_the_clone():
    assert ROOT / "scenarios" in cli.scenario_dirs()
    found = cli.find_scenarios()
    for name in FOUR:
        assert found[name].name == f"{name}.py"


def test_installed_scenarios_come_first(tmp_path, monkeypatch):
    package = tmp_path / "site" / "neurosim"
    (package / "_scenarios").mkdir(parents=True)
    (package / "_scenarios" / "xor.py").write_text('"""Installed copy."""\n')
    (package / "_scenarios" / "_private.py").write_text("")
    monkeypatch.setattr(neurosim, "__file__", str(package / "__init__.py"))
    assert cli.scenario_dirs() == [package / "_scenarios"]
    assert cli.find_scenarios() == {"xor": package / "_scenarios" / "xor.py"}


# ----------------------------------------------------------------------
# the real console script


@pytest.mark.skipif(
    shutil.which("neurosim") is None, reason="neurosim is not installed"
)
def test_installed_console_script():
    result = subprocess.run(
        [shutil.which("neurosim"), "run", "no_such_thing"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    line = one_line_error(result.stderr)
    for name in FOUR:  # the scenarios are found from the installed package
        assert name in line

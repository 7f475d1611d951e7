"""The public API type-checks as users' code sees it (the package ships py.typed).

mypy (strict) reads ``tests/typed_usage.py``, which uses the public API the
way typed code does and states the types it expects with ``assert_type``,
together with a few lines of misuse that it must reject: a check that found
nothing because everything were ``Any`` would fail there.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy")

ROOT = Path(__file__).resolve().parent.parent
USAGE = ROOT / "tests" / "typed_usage.py"

MISUSE = """\
import neurosim

net = neurosim.Network(neurosim.layered([1, 1]))
net.train([[1.0]], [[1.0]], epochs="3")
history: int = net.train([[1.0]], [[1.0]])
y: str = net.predict([[1.0]])
net.train([[1.0]], [[1.0]], callbacks=[lambda h, extra: None])
"""


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory) -> str:
    misuse = tmp_path_factory.mktemp("typing") / "misuse.py"
    misuse.write_text(MISUSE)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--strict",
            "--warn-unreachable",
            "--follow-imports=silent",  # neurosim's own modules: types, no report
            "--cache-dir",
            os.devnull,
            str(USAGE),
            str(misuse),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout + result.stderr


def test_the_package_is_marked_typed():
    assert (ROOT / "neurosim" / "py.typed").is_file()


def test_typed_usage_of_the_public_api_has_no_errors(mypy_output):
    errors = [line for line in mypy_output.splitlines() if "typed_usage.py" in line]
    assert errors == []


def test_mypy_rejects_misuse_of_the_public_api(mypy_output):
    lines = {
        int(line.split(":")[1])
        for line in mypy_output.splitlines()
        if "misuse.py" in line and ": error:" in line
    }
    assert lines == {4, 5, 6, 7}, mypy_output

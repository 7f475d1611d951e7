"""The code is ruff clean (lint and format), as configured in pyproject.toml,
and the package's modules import one another in layers, without a circle."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def ruff(*args):
    exe = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(exe).exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    return subprocess.run(
        [exe, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_check():
    result = ruff("check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = ruff("format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


# ----------------------------------------------------------------------
# layering


def imports_of(path: Path) -> set[str]:
    """The neurosim modules `path` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module == "neurosim":  # from neurosim import plot
                found |= {f"neurosim.{a.name}" for a in node.names}
            else:
                found.add(node.module)
    return {name for name in found if name.split(".")[0] == "neurosim"}


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for path in sorted((ROOT / "neurosim").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph[name] = imports_of(path) - {name}
    modules = set(graph)
    return {name: {m for m in deps if m in modules} for name, deps in graph.items()}


def test_modules_import_each_other_without_a_circle():
    graph = import_graph()
    assert "neurosim.network" in graph["neurosim"]
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            circle = " -> ".join((*path[path.index(name) :], name))
            pytest.fail(f"an import circle: {circle}")
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, (*path, name))
        done.add(name)

    for name in graph:
        visit(name, ())


def test_the_scenario_toolkit_imports_the_command_never_the_reverse():
    graph = import_graph()
    assert "neurosim.cli" in graph["neurosim.scenario"]
    assert "neurosim.scenario" not in graph["neurosim.cli"]


def test_the_reference_shares_no_code_with_the_engine():
    assert import_graph()["neurosim.reference"] <= {"neurosim.errors"}


def test_the_layering_test_sees_a_circle(tmp_path):
    (tmp_path / "a.py").write_text("def f():\n    from neurosim import b\n")
    assert imports_of(tmp_path / "a.py") == {"neurosim.b"}

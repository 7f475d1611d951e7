"""The package's layering rules (cf. trio's _core layering)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "neurosim"

# module -> the neurosim modules it may import
ALLOWED = {
    "_files": set(),  # the one way a file is written
    "errors": set(),
    "activations": set(),
    "messages": set(),
    "model": set(),
    "losses": set(),
    "faults": {"errors"},
    "transport": {"faults", "messages"},
    "graph": {"errors"},
    # Trace.to_html imports the page's renderer, plot.html, which imports no
    # trace (nor does anything it imports: the circle test holds that).
    "trace": {"_files", "errors", "graph", "messages", "plot"},
    "reference": {"errors"},
    "optimizers": {"errors"},
    # the partition's side imports the neuron and the conductor's reports
    "backends": {"errors", "graph", "messages", "transport", "neuron", "simulation"},
    "plot": {"_files", "errors", "trace", "graph", "messages"},
}


def module_files(module):
    """The files of a module, or of a package (``plot/``)."""
    path = PACKAGE / f"{module}.py"
    return [path] if path.exists() else sorted((PACKAGE / module).glob("*.py"))


def neurosim_imports(path):
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
            if node.module == "neurosim":
                names = [f"neurosim.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.split(".")[1] for n in names if n.startswith("neurosim.")}
        found |= {n for n in names if n in ("trio",)}
    return found


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_module_imports_only_what_its_layer_allows(module):
    imported = set().union(*map(neurosim_imports, module_files(module)))
    assert imported - {"trio", module} <= ALLOWED[module]


@pytest.mark.parametrize(
    "module",
    [
        "_files",
        "reference",
        "plot",
        "trace",
        "graph",
        "messages",
        "model",
        "faults",
        "transport",
    ],
)
def test_no_trio_below_the_actors(module):
    for path in module_files(module):
        assert "trio" not in neurosim_imports(path)

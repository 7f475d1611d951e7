"""docs/jupyter.ipynb runs in a real Jupyter kernel (nbclient + ipykernel).

A Jupyter kernel runs every cell inside an asyncio loop: the notebook trains
with a plain ``net.train``, draws inline, and awaits ``net.train_async`` and
``net.predict_async`` at the top level of cells.
"""

import ast
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "jupyter.ipynb"


def test_the_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)


def test_the_notebook_runs_trains_plots_and_awaits(monkeypatch):
    # The kernel imports the neurosim of this checkout, whatever is installed.
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), path])))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError if a cell fails

    def outputs(fragment):
        (cell,) = [
            c for c in nb.cells if c.cell_type == "code" and fragment in c.source
        ]
        return cell.outputs

    figures = [
        o
        for c in nb.cells
        for o in c.get("outputs", ())
        if "image/png" in o.get("data", {})
    ]
    assert len(figures) == 2  # the loss, then loss and validation loss
    (result,) = outputs("await net.train_async")
    epochs, validation_loss = ast.literal_eval(result["data"]["text/plain"])
    assert 300 < epochs < 2300  # the callback stopped it before 2,000 more
    assert validation_loss <= 0.01
    (printed,) = outputs("await net.predict_async")
    y = ast.literal_eval(printed["text"])
    assert [round(v) for v in y] == [0, 1, 1, 0]  # it learned XOR

"""The README's Python tour runs as written."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_tour_runs():
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "the README has no Python example"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    history, net = namespace["history"], namespace["net"]
    assert history.loss.shape == (400,)
    assert len(history.trace) > 0
    assert net.predict(namespace["X"]).shape == (4, 1)
    assert np.isfinite(list(net.weights.values())).all()

"""The README's Python tour runs as written and prints what the README says."""

import contextlib
import io
import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_tour_runs_and_prints_what_it_shows():
    text = README.read_text(encoding="utf-8")
    # each Python block, and the text block that follows it (its output), if any
    pieces = re.findall(
        r"```python\n(.*?)```\s*(?:[^`]*?```text\n(.*?)```)?", text, re.S
    )
    assert pieces, "the README has no Python example"
    namespace: dict = {}
    for block, shown in pieces:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(README), "exec"), namespace)
        assert out.getvalue() == shown, "the README shows another output"
    assert any(shown for _, shown in pieces), "the tour prints nothing"
    history, net, X = namespace["history"], namespace["net"], namespace["X"]
    assert history.loss.shape == (1200,)
    assert len(history.trace) > 0
    # it really learned XOR: every output on the right side of 0.5, and close
    y = net.predict(X)[:, 0]
    np.testing.assert_array_equal(y > 0.5, [False, True, True, False])
    assert np.abs(y - [0, 1, 1, 0]).max() < 0.1
    assert np.isfinite(list(net.weights.values())).all()

"""Make the figures of the docs from the scenarios, so they never go stale.

Run from the repository: ``python docs/make_figures.py [NAME ...]``. Each
scenario runs with ``--out docs/figures/NAME``; the pages in ``docs/`` show
those files.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
KEEP_TRACES = {"worked_example"}  # the tutorial links to its trace.csv


def main(argv: list[str] | None = None) -> int:
    """Run the named scenarios (all by default) into ``docs/figures/``."""
    from neurosim import cli

    names = argv if argv else list(cli.find_scenarios())
    for name in names:
        out = DOCS / "figures" / name
        print(f"-- {name} -> {out.relative_to(DOCS.parent)}")
        status = cli.main(["run", name, "--out", str(out), "--quiet"])
        if status:
            return status
        trace = out / "trace.csv"
        if name not in KEEP_TRACES and trace.exists():
            trace.unlink()  # the docs show figures; one small trace is enough
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

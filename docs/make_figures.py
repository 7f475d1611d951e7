"""Make the figures of the docs from the scenarios, so they never go stale.

Run from the repository: ``python docs/make_figures.py [NAME ...]``. Each
scenario runs with ``--out docs/figures/NAME``; the pages in ``docs/`` show
those files. A few figures come from the library itself, not from a
scenario (``FIGURES``): ``datasets`` draws the data sets of
``neurosim.datasets``.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
KEEP_TRACES = {"worked_example"}  # the tutorial links to its trace.csv


def datasets_figure(out: Path) -> None:
    """The five 2-D data sets of ``neurosim.datasets``, without and with noise."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurosim import datasets
    from neurosim._files import save_figure

    makers = [
        datasets.circle,
        datasets.xor,
        datasets.gauss,
        datasets.spiral,
        datasets.moons,
    ]
    colours = ("#f59322", "#0877bd")  # Playground's orange (class 0), blue (1)
    figure, axes = plt.subplots(2, 5, figsize=(15, 6.8), layout="constrained")
    for row, noise in enumerate((0.0, 0.2)):
        for ax, make in zip(axes[row], makers, strict=True):
            data = make(n=500, noise=noise, seed=0)
            for label, colour in enumerate(colours):
                points = data.X[data.labels == label]
                ax.scatter(*points.T, s=7, color=colour, label=data.class_names[label])
            ax.set_title(f"{data.name}, noise={noise:g}", fontsize=11)
            ax.set_aspect("equal", adjustable="datalim")
            ax.tick_params(labelsize=8)
            if row == 0:
                ax.legend(
                    fontsize=8,
                    loc="upper center",
                    bbox_to_anchor=(0.5, -0.07),
                    ncols=2,
                    frameon=False,
                    handletextpad=0.2,
                    columnspacing=0.8,
                )
    figure.suptitle(
        "neurosim.datasets: 500 samples each, seed 0 (class 0 orange, class 1 blue)"
    )
    out.mkdir(parents=True, exist_ok=True)
    save_figure(figure, out / "datasets.png", dpi=90)
    plt.close(figure)


FIGURES = {"datasets": datasets_figure}


def main(argv: list[str] | None = None) -> int:
    """Make the named figures (all by default) into ``docs/figures/``."""
    from neurosim import cli

    names = argv if argv else [*cli.find_scenarios(), *FIGURES]
    for name in names:
        out = DOCS / "figures" / name
        print(f"-- {name} -> {out.relative_to(DOCS.parent)}")
        if name in FIGURES:
            FIGURES[name](out)
            continue
        status = cli.main(["run", name, "--out", str(out), "--quiet"])
        if status:
            return status
        trace = out / "trace.csv"
        if name not in KEEP_TRACES and trace.exists():
            trace.unlink()  # the docs show figures; one small trace is enough
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

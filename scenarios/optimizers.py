"""Four local optimizers on one network: SGD, momentum, AdaGrad and Adam.

A 2-8-8-1 network (tanh, tanh, identity output) learns a smooth surface,
``z = 0.8·sin(π·x1)·cos(π·x2/2)``, from 128 samples in mini-batches of 32.
Every neuron applies the optimizer to its own incoming weights and bias
(the update methods that a note on the affine layer names beside SGD,
here local to each neuron). The four runs start from the same weights and
see the same batches in the same order; only the update rule and its
learning rate differ: SGD η = 0.5, momentum η = 0.2 (μ = 0.9), AdaGrad
η = 0.4, Adam η = 0.02, each the largest rate of a sweep by factors of 2
whose loss curve stays smooth.

Writes loss.png (the four loss curves), fits.png (the target and each
optimizer's fit) and trace.csv (one iteration: Adam's step on the first
sample).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

import neurosim
from neurosim import plot, reference, scenario
from neurosim.plot.style import INK, OKABE_ITO

#: The learning rate of each optimizer: the largest of a sweep by factors of
#: 2 (seed 0, 150 epochs) whose loss curve stays smooth. One step up, SGD
#: (1.0), momentum (0.4) and Adam (0.04) oscillate and AdaGrad (0.8) stalls;
#: SGD diverges at 2. The other hyperparameters are PyTorch's defaults:
#: momentum μ = 0.9; Adam β = (0.9, 0.999), ε = 1e-8; AdaGrad ε = 1e-10.
LEARNING_RATES = {"sgd": 0.5, "momentum": 0.2, "adagrad": 0.4, "adam": 0.02}
COLORS = {  # Okabe-Ito
    "sgd": OKABE_ITO["blue"],
    "momentum": OKABE_ITO["orange"],
    "adagrad": OKABE_ITO["bluish green"],
    "adam": OKABE_ITO["vermillion"],
}
SIZES = (2, 8, 8, 1)
ACTIVATIONS = ("tanh", "tanh", "identity")
N_SAMPLES = 128
BATCH_SIZE = 32
EPOCHS = 150
GOOD_FIT = 0.98  # the R² a run must reach to count as "fitted"
TRACED = "adam"  # the optimizer whose first iteration goes to trace.csv
FITS_WSPACE = 0.16  # fits.png: the space between all panels, a fraction of its width


@dataclass(frozen=True)
class OptimizerResult:
    """One optimizer's run."""

    name: str
    learning_rate: float
    epoch_loss: np.ndarray
    reached: int | None  # first epoch (from 0) whose mean loss is below the threshold
    verdict: str


@dataclass(frozen=True)
class Result:
    """Everything the scenario computed (:func:`compute` returns it)."""

    optimizers: dict[str, OptimizerResult]
    threshold: float  # the loss of a fit with R² = GOOD_FIT
    files: list[Path]


def task(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """128 points uniform in [−1, 1]² and the surface above them."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(N_SAMPLES, 2))
    return X, surface(X)


def surface(X: np.ndarray) -> np.ndarray:
    """The target ``z = 0.8·sin(π·x1)·cos(π·x2/2)``, one column."""
    return 0.8 * np.sin(np.pi * X[:, :1]) * np.cos(0.5 * np.pi * X[:, 1:])


def _first(losses: np.ndarray, level: float) -> int | None:
    below = np.flatnonzero(losses < level)
    return int(below[0]) if len(below) else None


_ORDINALS = {2: "2nd", 3: "3rd"} | {k: f"{k}th" for k in range(4, 20)}


def verdicts(
    losses: dict[str, np.ndarray], threshold: float
) -> dict[str, tuple[int | None, str]]:
    """Per optimizer: the epoch it reached the threshold, and a one-line verdict."""
    reached = {name: _first(loss, threshold) for name, loss in losses.items()}
    final = {name: float(loss[-1]) for name, loss in losses.items()}
    epochs = len(next(iter(losses.values())))
    # Fastest first; those that never got there, by final loss.
    order = sorted(
        losses, key=lambda n: (reached[n] is None, reached[n] or 0, final[n])
    )
    lowest = min(final, key=final.get)
    lines = {}
    for rank, name in enumerate(order, start=1):
        if reached[name] is None:
            speed = f"never below {threshold:.1e} in {epochs} epochs"
        else:
            speed = f"below {threshold:.1e} (R² {GOOD_FIT:g}) in epoch {reached[name]}"
        notes = []
        if reached[name] is not None:
            notes.append("fastest" if rank == 1 else f"{_ORDINALS[rank]} fastest")
        if name == lowest:
            notes.append("lowest final loss")
        elif final[name] > 3 * final[lowest]:
            notes.append(f"{final[name] / final[lowest]:.0f}× the lowest")
        note = f", {', '.join(notes)}" if notes else ""
        lines[name] = (
            reached[name],
            f"{name} (η = {LEARNING_RATES[name]:g}): {speed}, "
            f"final loss {final[name]:.1e}{note}",
        )
    return {name: lines[name] for name in losses}


# ----------------------------------------------------------------------
# figures


_style = plot.style_axes


def loss_figure(results: dict[str, OptimizerResult], threshold: float) -> Figure:
    """The per-epoch mean loss of every optimizer, on a log axis."""
    figure = Figure(figsize=(7.5, 4.4), layout="constrained")
    ax = figure.add_subplot()
    for name, r in results.items():
        epochs = np.arange(len(r.epoch_loss))  # from 0, as plot.loss counts
        ax.plot(
            epochs,
            r.epoch_loss,
            color=COLORS[name],
            linewidth=1.9,
            label=f"{name}, η = {r.learning_rate:g}",
        )
        if r.reached is not None:
            ax.plot(
                r.reached,
                r.epoch_loss[r.reached],
                marker="o",
                markersize=6,
                color=COLORS[name],
                markeredgecolor="white",
            )
    ax.axhline(threshold, color="#999999", linewidth=0.9, linestyle="--")
    ax.annotate(
        f"R² = {GOOD_FIT:g}: fitted",
        (0, threshold),
        xycoords=("axes fraction", "data"),
        xytext=(4, -3),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=8,
        color="#777777",
    )
    ax.set_yscale("log")
    ax.set_xlim(0, max(1, len(next(iter(results.values())).epoch_loss) - 1))
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss  ½ (z − y)²")
    ax.set_title(
        f"Local optimizers on a {'-'.join(map(str, SIZES))} network "
        f"({N_SAMPLES} samples, batches of {BATCH_SIZE})",
        fontsize=11,
    )
    ax.legend(frameon=False, fontsize=9, loc="upper right")
    _style(ax)
    return figure


def fits_figure(graphs: dict, X: np.ndarray) -> Figure:
    """The target surface and what each optimizer's network makes of it."""
    grid = np.linspace(-1.0, 1.0, 61)
    x1, x2 = np.meshgrid(grid, grid)
    points = np.column_stack([x1.ravel(), x2.ravel()])
    panels = {"target": surface(points)} | {
        name: reference.predict(G, points) for name, G in graphs.items()
    }
    # The panels share y, so nothing but the layout's padding separates them,
    # and the x tick labels at ±1 overhang their panel's edges: room of about
    # 2.5 em between panels keeps one panel's "1" from reading as "1 −1" with
    # the next one's "−1".
    figure = Figure(
        figsize=(11.0, 2.55), layout=ConstrainedLayoutEngine(wspace=FITS_WSPACE)
    )
    axes = figure.subplots(1, len(panels), sharey=True)
    for ax, (name, z) in zip(axes, panels.items(), strict=True):
        image = ax.imshow(
            z.reshape(x1.shape),
            origin="lower",
            extent=(-1, 1, -1, 1),
            cmap="RdBu_r",
            vmin=-0.9,
            vmax=0.9,
        )
        if name == "target":
            ax.scatter(X[:, 0], X[:, 1], s=5, color=INK, linewidths=0)
            ax.set_title("target and samples", fontsize=10)
        else:
            ax.set_title(name, fontsize=10, color=COLORS[name])
        ax.set_xticks([-1, 0, 1])
        ax.set_yticks([-1, 0, 1])
        ax.set_xlabel("x1", fontsize=9)
    axes[0].set_ylabel("x2", fontsize=9)
    figure.colorbar(image, ax=axes, shrink=0.9, pad=0.01, aspect=15, label="z")
    return figure


# ----------------------------------------------------------------------
# the scenario


def compute(run: scenario.Scenario) -> Result:
    """Train with every optimizer, print the verdicts, write the files."""
    epochs, seed = run.epochs, run.seed
    X, Z = task(seed)
    G = neurosim.layered(SIZES, activation=list(ACTIVATIONS), seed=seed)
    threshold = (1 - GOOD_FIT) * 0.5 * float(np.var(Z))
    run.say(
        f"A {'-'.join(map(str, SIZES))} network ({', '.join(ACTIVATIONS)}; seed "
        f"{seed}) learns z = 0.8·sin(π·x1)·cos(π·x2/2) from {N_SAMPLES} samples in "
        f"batches of {BATCH_SIZE}, {epochs} epochs, from the same initial weights "
        "with each optimizer:"
    )

    losses, graphs = {}, {}
    with run.progress("training") as bar:
        for i, (name, lr) in enumerate(LEARNING_RATES.items()):
            net = neurosim.Network(G)
            losses[name] = net.train(
                X,
                Z,
                lr,
                epochs=epochs,
                batch_size=BATCH_SIZE,
                optimizer=name,
                progress=lambda done, total, i=i: bar(
                    i * total + done, len(LEARNING_RATES) * total
                ),
            ).epoch_loss
            graphs[name] = net.to_graph()

    lines = verdicts(losses, threshold)
    results = {
        name: OptimizerResult(
            name=name,
            learning_rate=LEARNING_RATES[name],
            epoch_loss=losses[name],
            reached=lines[name][0],
            verdict=lines[name][1],
        )
        for name in losses
    }
    for r in results.values():
        run.say(f"  {r.verdict}")

    # One iteration, recorded: the traced optimizer's step on the first sample,
    # online so that every message carries one number (a batch of 32 would
    # put 32 in every cell of the CSV).
    trace = (
        neurosim.Network(G)
        .train(X[:1], Z[:1], LEARNING_RATES[TRACED], optimizer=TRACED, record=True)
        .trace
    )
    run.save(loss_figure(results, threshold), "loss.png")
    run.save(fits_figure(graphs, X), "fits.png")
    run.save_trace(trace)
    return Result(optimizers=results, threshold=threshold, files=list(run.written))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenario with the options in `argv`; 0 on success."""
    run = scenario.start(
        __file__,
        __doc__,
        argv,
        epochs=EPOCHS,
        seed_help="seed of the initial weights and of the samples",
    )
    compute(run)
    return run.finish()


if __name__ == "__main__":
    scenario.run_script(main)

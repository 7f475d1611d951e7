"""Lost messages: a small network learns on unreliable connections.

A 2-4-1 tanh network learns a smooth step, ``z = 0.1 + 0.8·σ(4·x1)·σ(4·x2)``,
online (one sample per iteration, ``in_flight=1``), while each message is
lost with probability p = 0, 0.05, 0.1, 0.2 or 0.3
(``neurosim.Faults(drop=p)``). A neuron whose message never comes waits
until the iteration's deadline and goes on with 0 (``on_missing="zero"``) or
with the last value that arrived on that connection (``"last"``). Every
combination runs for a few seeds (each seed draws the samples, the initial
weights and which messages are lost); the table gives the mean final loss.
A second table loses only forward messages, or only error messages, to show
where the difference between "zero" and "last" comes from. One lossy run is
recorded message by message, and the same losses with the default
``on_missing="error"`` stop the run with a ``StalledError``.

Writes loss_vs_drop.png (final loss against the drop rate, one line per
on_missing value, every seed shown), timeline.png (two iterations of the
recorded run, lost messages marked "×") and trace.csv (that recorded run).
"""

from __future__ import annotations

from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np

import neurosim
from neurosim import plot, scenario
from neurosim.plot.style import MUTED, OKABE_ITO

SIZES = [2, 4, 1]
ACTIVATION = "tanh"
N_SAMPLES = 8
LEARNING_RATE = 1.0
DROP_RATES = (0.0, 0.05, 0.1, 0.2, 0.3)
MODES = ("zero", "last")
KIND_RATE = 0.2  # the drop rate of the forward-only / errors-only comparison
TIMELINE_RATE = 0.1  # the drop rate of the recorded run
COLORS = {"zero": OKABE_ITO["blue"], "last": OKABE_ITO["vermillion"]}


def add_options(parser):
    parser.add_argument(
        "--seeds",
        type=scenario.positive_int,
        default=3,
        metavar="N",
        help="runs per drop rate and on_missing value, seeds SEED to SEED+N-1 "
        "(default: 3)",
    )


def task(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The samples of `seed`: uniform in [-1, 1]², and their soft AND."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (N_SAMPLES, 2))
    sigma = 1.0 / (1.0 + np.exp(-4.0 * X))
    return X, 0.1 + 0.8 * sigma[:, :1] * sigma[:, 1:]


def graph(seed: int):
    return neurosim.layered(SIZES, activation=ACTIVATION, seed=seed)


class Outcome(NamedTuple):
    """One training run: its final loss and what was lost on the way."""

    final_loss: float  # the mean loss of the last epoch
    lost: int  # messages dropped (0 when not counted)
    sent: int  # messages sent, late ones included (0 when not counted)
    hit: int  # iterations with at least one lost message (0 when not counted)
    iterations: int


def train(
    seed: int, epochs: int, faults: neurosim.Faults | None, count: bool = False
) -> Outcome:
    """Train the network of `seed` on its task; `count`: the lost messages too."""
    X, Z = task(seed)
    history = neurosim.Network(graph(seed)).train(
        X,
        Z,
        learning_rate=LEARNING_RATE,
        epochs=epochs,
        faults=faults,
        record=count,
    )
    iterations = epochs * N_SAMPLES
    if history.trace is None:
        return Outcome(float(history.epoch_loss[-1]), 0, 0, 0, iterations)
    trace = history.trace
    lost = trace.fate == "dropped"
    hit = np.unique((trace.epoch * N_SAMPLES + trace.sample)[lost])
    return Outcome(
        float(history.epoch_loss[-1]),
        int(lost.sum()),
        len(trace),
        len(hit),
        iterations,
    )


def kind_drops(seed: int, epochs: int, kind: str, rate: float):
    """Each message of `kind` lost with probability `rate`, the others never."""
    rng = np.random.default_rng([seed, 7])
    G = graph(seed)
    edges = [(u, v) for u, v in G.edges if kind == "forward" or G.in_degree(u) > 0]
    return tuple(
        (u, v, kind, s)
        for s in range(epochs * N_SAMPLES)
        for u, v in edges
        if rng.uniform() < rate
    )


def main(argv: list[str] | None = None) -> int:
    run = scenario.start(
        __file__,
        __doc__,
        argv,
        epochs=8,
        seed_help="first seed of the samples, weights and losses",
        extra=add_options,
    )
    seeds = range(run.seed, run.seed + run.options.seeds)
    run.say(
        f"A {'-'.join(map(str, SIZES))} {ACTIVATION} network learns "
        f"z = 0.1 + 0.8·σ(4·x1)·σ(4·x2) from {N_SAMPLES} samples, online, "
        f"η = {LEARNING_RATE}, {run.epochs} epochs, in_flight=1, "
        f"seeds {seeds[0]} to {seeds[-1]}."
    )
    plain = [train(seed, run.epochs, None).final_loss for seed in seeds]

    # the sweep: drop rate x on_missing x seed
    results: dict[tuple[str, float], list[Outcome]] = {}
    total = len(MODES) * len(DROP_RATES) * len(seeds)
    with run.progress("training") as bar:
        done = 0
        for mode in MODES:
            for rate in DROP_RATES:
                outcomes = []
                for seed in seeds:
                    faults = neurosim.Faults(drop=rate, on_missing=mode, seed=seed)
                    # which messages are lost depends on the seed and the
                    # message alone, not on on_missing: count them once
                    count = mode == MODES[0]
                    outcomes.append(train(seed, run.epochs, faults, count))
                    done += 1
                    bar(done, total)
                results[mode, rate] = outcomes

    run.say()
    run.say(
        "Final loss (mean loss of the last epoch, mean over the seeds) "
        "when each message is lost with probability p:"
    )
    rows = []
    for rate in DROP_RATES:
        zero, last = results["zero", rate], results["last", rate]
        lost = np.mean([o.lost for o in zero])
        sent = np.mean([o.sent for o in zero])
        hit = np.mean([o.hit / o.iterations for o in zero])
        rows.append(
            [
                rate,
                f"{np.mean([o.final_loss for o in zero]):.4g}",
                f"{np.mean([o.final_loss for o in last]):.4g}",
                f"{lost:.0f} of {sent:.0f}",
                f"{hit:.0%}",
            ]
        )
    run.table(
        ["drop rate", "zero", "last", "messages lost", "iterations hit"],
        rows,
        align="rrrrr",
    )
    run.say(
        f"  without faults: {np.mean(plain):.4g} "
        "(the same runs with nothing lost, to the last bit: "
        + (
            "yes)"
            if all(
                o.final_loss == p
                for mode in MODES
                for o, p in zip(results[mode, 0.0], plain, strict=True)
            )
            else "NO)"
        )
    )

    # where the difference comes from: lose only one kind of message
    run.say()
    run.say(
        f"Only one kind of message lost, each with probability {KIND_RATE} "
        "(final loss, mean over the seeds):"
    )
    by_kind = []
    for kind, label in (("forward", "forward signals"), ("backward", "error messages")):
        row = [label]
        for mode in MODES:
            losses = [
                train(
                    seed,
                    run.epochs,
                    neurosim.Faults(
                        drops=kind_drops(seed, run.epochs, kind, KIND_RATE),
                        on_missing=mode,
                    ),
                ).final_loss
                for seed in seeds
            ]
            row.append(f"{np.mean(losses):.4g}")
        by_kind.append(row)
    run.table(["lost", "zero", "last"], by_kind, align="lrr")

    # one lossy run, recorded, and the same losses with on_missing="error"
    seed = seeds[0]
    X, Z = task(seed)
    faults = neurosim.Faults(drop=TIMELINE_RATE, on_missing="last", seed=seed)
    recorded = neurosim.Network(graph(seed)).train(
        X,
        Z,
        learning_rate=LEARNING_RATE,
        epochs=run.epochs,
        faults=faults,
        record=True,
    )
    trace = recorded.trace
    shown = timeline_iterations(trace)
    run.say()
    lost = trace.filter(sample=None, fate="dropped")
    lost_here = [
        r for r in lost.rows() if r[0] * N_SAMPLES + r[1] in shown
    ]  # (epoch, sample, kind, source, destination, ...)
    run.say(
        f"Seed {seed}, p = {TIMELINE_RATE}, on_missing='last': {len(lost)} of "
        f"{len(trace)} messages lost; iterations {shown[0]}-{shown[-1]} "
        "are drawn in timeline.png:"
    )
    for row in lost_here:
        what = "error message" if row[2] == "backward" else "signal"
        run.say(
            f"  iteration {row[0] * N_SAMPLES + row[1]}: the {what} "
            f"{row[3]} → {row[4]} sent at t = {row[5]:g} never arrived"
        )
    try:
        neurosim.Network(graph(seed)).train(
            X,
            Z,
            learning_rate=LEARNING_RATE,
            epochs=run.epochs,
            faults=neurosim.Faults(drop=TIMELINE_RATE, seed=seed),
        )
    except neurosim.StalledError as error:
        run.say(f"The same losses with on_missing='error': StalledError: {error}")
    else:  # pragma: no cover - the seed is chosen so that something is lost
        run.say("The same losses with on_missing='error': nothing was lost.")

    run.save(loss_figure(results, plain, seeds), "loss_vs_drop.png")
    run.save(timeline_figure(trace, shown, lost_here), "timeline.png")
    run.save_trace(trace)
    return run.finish()


def timeline_iterations(trace: neurosim.Trace) -> list[int]:
    """Two neighbouring iterations to draw: one that loses an error message
    after a complete forward pass, and the one before it; of those, the
    pair that loses the most messages (the first, on a tie)."""
    lost = trace.filter(fate="dropped")
    iteration = (lost.epoch * N_SAMPLES + lost.sample).tolist()
    forward = {s for s, k in zip(iteration, lost.kind, strict=True) if k == "forward"}
    errors = sorted(
        {
            s
            for s, k in zip(iteration, lost.kind, strict=True)
            if k == "backward" and s not in forward and s > 0
        }
    )
    if not errors:  # any loss at all, else the start
        errors = sorted(set(iteration) - {0}) or [1]
    best = max(errors, key=lambda s: (iteration.count(s - 1) + iteration.count(s), -s))
    return [best - 1, best]


def timeline_figure(trace: neurosim.Trace, shown: list[int], lost_rows):
    epochs = sorted({s // N_SAMPLES for s in shown})
    selected = neurosim.Trace.from_rows(  # keep only the two iterations
        [
            r
            for r in trace.rows()
            if r[0] * N_SAMPLES + r[1] in shown and r[0] in epochs
        ],
        [r for r in trace.updates.rows() if r[0] * N_SAMPLES + r[1] in shown],
        list(trace.nodes),
    )
    figure, ax = plt.subplots(figsize=(9.5, 4.6), layout="constrained")
    plot.timeline(
        selected,
        epoch=epochs if len(epochs) > 1 else epochs[0],
        sample=sorted({s % N_SAMPLES for s in shown}),
        ax=ax,
        values=False,
        color_by="sample",
    )
    signals = [f"{r[3]}→{r[4]}" for r in lost_rows if r[2] != "backward"]
    errors = [f"{r[3]}→{r[4]}" for r in lost_rows if r[2] == "backward"]
    names = "; ".join(
        f"{label} {', '.join(items)}"
        for label, items in (("signals", signals), ("errors", errors))
        if items
    )
    (e0, s0), (e1, s1) = (divmod(s, N_SAMPLES) for s in shown)
    where = f" (epoch {e0}, samples {s0}–{s1})" if e0 == e1 else ""
    ax.set_title(
        f"Iterations {shown[0]} and {shown[1]}{where}, p = {TIMELINE_RATE}, "
        f"on_missing='last'\nlost: {names or 'nothing'}",
        fontsize=10.5,
    )
    return figure


def loss_figure(results, plain, seeds):
    figure, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    rates = np.array(DROP_RATES)
    for k, mode in enumerate(MODES):
        losses = np.array([[o.final_loss for o in results[mode, r]] for r in rates])
        shift = (k - 0.5) * 0.004  # the seeds of the two modes side by side
        ax.fill_between(
            rates,
            losses.min(axis=1),
            losses.max(axis=1),
            color=COLORS[mode],
            alpha=0.15,
            linewidth=0,
        )
        for j in range(losses.shape[1]):
            ax.scatter(
                rates + shift,
                losses[:, j],
                s=14,
                color=COLORS[mode],
                alpha=0.6,
                linewidths=0,
            )
        ax.plot(
            rates,
            losses.mean(axis=1),
            color=COLORS[mode],
            marker="o",
            linewidth=2,
            label=f'on_missing="{mode}"',
        )
    ax.axhline(
        np.mean(plain),
        color=MUTED,
        linestyle="--",
        linewidth=1,
        label="no faults",
    )
    ax.set_yscale("log")
    ax.set_xticks(rates)
    ax.set_xlabel("drop rate p (probability that a message is lost)")
    ax.set_ylabel("final loss (mean of the last epoch)")
    ax.set_title(
        f"Learning on lossy connections: mean of {len(seeds)} seeds\n"
        "(dots: each seed; band: their range)",
        fontsize=11,
    )
    plot.style_axes(ax)
    ax.legend(frameon=False, fontsize=9)
    return figure


if __name__ == "__main__":
    scenario.run_script(main)

"""TensorFlow Playground's four data sets, with backprop and feedback alignment.

Circle, xor, gauss and spiral (neurosim.datasets, 500 points each, 20% held
out for testing), each with a small network of tanh hidden neurons and one
sigmoid output per class (one-hot targets, squared error as in Playground),
trained with Adam in mini-batches of 50, once with backpropagation and once
with feedback alignment (errors sent back through fixed random weights).
The spiral needs a larger network (2-16-16-2) and more epochs than the
other three (2-8-8-2): circle and xor train for half the spiral's epochs,
gauss for an eighth.

Prints the test accuracy of each set and rule. Writes decision_maps.png
(each network's decision map with the test points, backprop above,
feedback alignment below) and neurons_SET.png for each set (what every
neuron of the backprop network computes over the plane, by layer, as
Playground shows it).
"""

from __future__ import annotations

import argparse
import math
import time

import matplotlib.pyplot as plt

import neurosim
from neurosim import datasets, plot, scenario
from neurosim.plot.style import RULE_NAMES

SETS = ("circle", "xor", "gauss", "spiral")
SIZES = {
    "circle": [2, 8, 8, 2],
    "xor": [2, 8, 8, 2],
    "gauss": [2, 8, 8, 2],
    "spiral": [2, 16, 16, 2],
}
# The spiral trains for --epochs, the others (easier) for a share of them:
# with the defaults, 40 epochs for circle and xor, 10 for gauss.
SHARE = {"circle": 0.5, "xor": 0.5, "gauss": 0.125, "spiral": 1.0}
RULES = ("backprop", "feedback_alignment")
N_SAMPLES = 500
TEST = 0.2
LEARNING_RATE = 0.03
BATCH_SIZE = 50


def noise_level(text: str) -> float:
    """An ``argparse`` type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sets",
        nargs="+",
        choices=SETS,
        default=list(SETS),
        metavar="SET",
        help="the data sets to learn, of circle, xor, gauss, spiral (default: all)",
    )
    parser.add_argument(
        "--noise",
        type=noise_level,
        default=0.0,
        metavar="X",
        help="the data sets' noise, 0 to 0.5 as Playground's slider (default: 0)",
    )


def network(name: str, seed: int) -> neurosim.Network:
    """The set's network: tanh hidden neurons, sigmoid outputs."""
    G = neurosim.layered(SIZES[name], activation="tanh", seed=seed)
    for node in G.nodes:
        if G.out_degree(node) == 0:
            G.nodes[node]["activation"] = "sigmoid"
    return neurosim.Network(G)


def epochs_of(name: str, epochs: int) -> int:
    return max(1, round(epochs * SHARE[name]))


def main(argv: list[str] | None = None) -> int:
    run = scenario.start(
        __file__,
        __doc__,
        argv,
        epochs=80,
        epochs_help="epochs of the spiral; circle and xor train for half as many, "
        "gauss for an eighth",
        extra=add_options,
    )
    noise = run.options.noise
    sets = [name for name in SETS if name in run.options.sets]
    run.say(
        f"Playground's data sets: {N_SAMPLES} points each, noise {noise:g}, "
        f"{TEST:.0%} held out; Adam η = {LEARNING_RATE}, batches of {BATCH_SIZE}, "
        f"seed {run.seed}"
    )
    trained: dict[tuple[str, str], neurosim.Network] = {}
    accuracy: dict[tuple[str, str], float] = {}
    tests: dict[str, datasets.Dataset] = {}
    rows = []
    start = time.perf_counter()
    for name in sets:
        data = getattr(datasets, name)(n=N_SAMPLES, noise=noise, seed=0)
        train, test = datasets.split(data, test=TEST, seed=0)
        tests[name] = test
        epochs = epochs_of(name, run.epochs)
        for rule in RULES:
            net = network(name, run.seed)
            with run.progress(f"{name}, {RULE_NAMES[rule]}") as bar:
                history = net.train(
                    train.X,
                    train.Z,
                    learning_rate=LEARNING_RATE,
                    epochs=epochs,
                    batch_size=BATCH_SIZE,
                    optimizer="adam",
                    rule=rule,
                    shuffle=True,
                    seed=run.seed,
                    validation=(test.X, test.Z),
                    progress=bar,
                )
            trained[name, rule] = net
            accuracy[name, rule] = float(history.validation_accuracy[-1])
            first = rule == RULES[0]
            rows.append(
                [
                    name if first else "",
                    "-".join(map(str, SIZES[name])) if first else "",
                    epochs if first else "",
                    RULE_NAMES[rule],
                    f"{history.accuracy[-1]:.1%}",
                    f"{accuracy[name, rule]:.1%}",
                ]
            )
    seconds = time.perf_counter() - start
    run.say()
    run.table(
        ["set", "network", "epochs", "rule", "train", "test"],
        rows,
        align="llrlrr",
    )
    run.say(
        "  train: the last epoch, each batch scored before its update; "
        "test: the held-out points."
    )
    run.say(f"  Training took {seconds:.0f} s (wall clock).")

    # Large figures of smooth maps: a lower resolution keeps the files small.
    run.save(overview(sets, trained, accuracy, tests), "decision_maps.png", dpi=110)
    for name in sets:
        figure = plot.neuron_maps(
            trained[name, "backprop"],
            tests[name].X,
            tests[name].labels,
            title=f"{name}: what each neuron computes (backprop, "
            f"test accuracy {accuracy[name, 'backprop']:.0%})",
        )
        run.save(figure, f"neurons_{name}.png", dpi=100)
    return run.finish()


def overview(
    sets: list[str],
    trained: dict[tuple[str, str], neurosim.Network],
    accuracy: dict[tuple[str, str], float],
    tests: dict[str, datasets.Dataset],
):
    """Every network's decision map over its test points: a row per rule."""
    figure, axes = plt.subplots(
        len(RULES),
        len(sets),
        figsize=(3.3 * max(len(sets), 2), 3.9 * len(RULES) + 0.4),
        layout="constrained",
        squeeze=False,
    )
    for column, name in enumerate(sets):
        test = tests[name]
        for row, rule in enumerate(RULES):
            ax = axes[row, column]
            plot.decision_map(
                trained[name, rule],
                test.X,
                test.labels,
                ax=ax,
                class_names=test.class_names,
                title=f"{name}, {RULE_NAMES[rule]}\n"
                f"test accuracy {accuracy[name, rule]:.0%}",
                legend=row == len(RULES) - 1,
                colorbar=False,
            )
            ax.tick_params(labelsize=8)
            if row < len(RULES) - 1:
                ax.set_xlabel("")
    figure.suptitle(
        "The class each network gives over the plane (the colour of the largest "
        "output, paler where it is lower; black line: the boundary), "
        "with the held-out test points",
        fontsize=11,
    )
    return figure


if __name__ == "__main__":
    scenario.run_script(main)

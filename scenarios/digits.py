"""Handwritten digits: a 64-32-10 softmax network under three learning rules.

scikit-learn's 8×8 handwritten digits (``neurosim.datasets.digits``, 1,797
images; the ``data`` extra, ``pip install "neurosim[data]"``) are cut into a
stratified 80% to train on and 20% to test on. A 64-32-10 network (one
input per pixel, 32 ReLU hidden neurons, 10 softmax outputs, one per
digit) learns them with the cross-entropy loss, Adam (η = 0.01) and
shuffled mini-batches of 32 for 20 epochs, from the same initial weights
under each rule:

1. ``backprop``: the exact gradient;
2. ``feedback_alignment``: the errors travel back through fixed random
   weights ``B`` instead of the forward weights;
3. ``direct_feedback_alignment``: the outputs send their errors straight
   to every hidden neuron through fixed random weights (with a single
   hidden layer, the same thing as 2 but for the scale of ``B``).

It prints the test accuracy after each epoch for each rule, the wall time
per epoch and what each rule reaches, then backprop's confusion matrix on
the test set.

The pixels: ``digits()`` divides scikit-learn's grey levels 0 to 16 by 16
(0 white, 1 black). The scenario then centres each pixel on its mean over
the training images and divides every pixel by one spread, the standard
deviation of all training pixels (0.38): inputs around 0 with a spread of
about 1, computed from the training part alone. Not one spread per pixel:
some pixels are nearly always white, and their own tiny spread (0.002)
would blow a rare dark one up to several hundred. Centred inputs gain
about a point of test accuracy over the raw ``[0, 1]`` ones.

Writes accuracy.png (the test accuracy after each epoch, and the loss on
the training and the test images, for the three rules), confusion.png
(backprop's confusion matrix on the test set and the test images it gets
wrong), timeline.png (the messages of one training step on one image,
the outputs' softmax exchange among them) and trace.csv (that step, every
neuron). Without scikit-learn it writes nothing, says what to install and
exits with status 0.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

import neurosim
from neurosim import datasets, plot, rules, scenario
from neurosim.plot.style import RULE_COLORS, RULE_NAMES

RULES = ("backprop", "feedback_alignment", "direct_feedback_alignment")
LABELS, COLORS = RULE_NAMES, RULE_COLORS
HIDDEN = 32
HIDDEN_ACTIVATION = "relu"
OPTIMIZER = "adam"
LEARNING_RATE = 0.01
BATCH_SIZE = 32
EPOCHS = 20
TEST = 0.2  # the test part's share
SPLIT_SEED = 0  # the same test set for every --seed
TARGET = 0.95  # the test accuracy backprop must reach

LOSS = "cross_entropy"  # what a softmax group trains with (the default)

# the neurons drawn in timeline.png: a few inputs, a few hidden neurons, all outputs
SHOWN_INPUTS = 4
SHOWN_HIDDEN = 4
TIMELINE_SAMPLE = 0  # of the training part


@dataclass(frozen=True)
class RuleResult:
    """What one rule did (``accuracy`` and ``loss`` on the test set)."""

    name: str
    accuracy: np.ndarray  # test accuracy after each epoch
    loss: np.ndarray  # mean test loss after each epoch
    train_accuracy: np.ndarray  # per epoch, each sample before its update
    train_loss: np.ndarray  # the mean loss of each epoch, before each update
    seconds: np.ndarray  # wall time of each epoch, its test evaluation included
    predicted: np.ndarray  # the class predicted for each test sample at the end

    @property
    def final(self) -> float:
        """The test accuracy after the last epoch."""
        return float(self.accuracy[-1])


@dataclass(frozen=True)
class Result:
    """Everything the scenario computed (:func:`compute` returns it)."""

    rules: dict[str, RuleResult]
    labels: np.ndarray  # the class of each test sample
    confusion: np.ndarray  # backprop's, [true, predicted]
    trace: neurosim.Trace  # one training step, every neuron
    shown: list[list[object]]  # the lanes of timeline.png, by layer
    files: list[Path]


# ----------------------------------------------------------------------
# data, network, training


def load() -> tuple[datasets.Dataset, datasets.Dataset]:
    """The digits, split into a train and a test part (stratified).

    Raises ``ModuleNotFoundError`` without scikit-learn.
    """
    return datasets.split(datasets.digits(), test=TEST, seed=SPLIT_SEED)


def standardise(
    train_part: datasets.Dataset, test_part: datasets.Dataset
) -> tuple[datasets.Dataset, datasets.Dataset, float]:
    """Both parts with each pixel centred on its mean over the training images
    and divided by the standard deviation of all training pixels.

    The statistics come from the training part alone (the test images are
    not looked at). One spread for all pixels, not one per pixel: a few
    pixels are almost always white (a spread of 0.002), and dividing by their
    own would blow a rare dark one up to several hundred. Returns the parts
    and that spread.
    """
    mean = train_part.X.mean(axis=0)
    spread = float(train_part.X.std())
    return (
        train_part._replace(X=(train_part.X - mean) / spread),
        test_part._replace(X=(test_part.X - mean) / spread),
        spread,
    )


def network(seed: int) -> neurosim.Network:
    """The 64-32-10 network, its initial weights drawn from `seed`."""
    return neurosim.Network(
        neurosim.layered(
            [64, HIDDEN, 10],
            activation=[HIDDEN_ACTIVATION, "softmax"],
            seed=seed,
        )
    )


def make_rule(name: str, seed: int) -> rules.Rule:
    """The rule called `name`; the alignment rules draw ``B`` from `seed`."""
    if name == "feedback_alignment":
        return rules.FeedbackAlignment(seed=seed)
    if name == "direct_feedback_alignment":
        return rules.DirectFeedbackAlignment(seed=seed)
    return rules.Backprop()


def train(
    name: str,
    train_part: datasets.Dataset,
    test_part: datasets.Dataset,
    *,
    epochs: int,
    seed: int,
    progress=None,
) -> tuple[RuleResult, neurosim.Network]:
    """Train a fresh network with the rule `name`, testing after every epoch."""
    net = network(seed)
    ends = []

    def clock(history: neurosim.History) -> None:
        ends.append(time.perf_counter())

    started = time.perf_counter()
    history = net.train(
        train_part.X,
        train_part.Z,
        LEARNING_RATE,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        optimizer=OPTIMIZER,
        rule=make_rule(name, seed),
        shuffle=True,
        seed=seed,
        validation=(test_part.X, test_part.Z),
        callbacks=clock,
        progress=progress,
        loss=LOSS,
    )
    predicted = net.predict(test_part.X).argmax(axis=1)
    result = RuleResult(
        name=name,
        accuracy=history.validation_accuracy,
        loss=history.validation_loss,
        train_accuracy=history.accuracy,
        train_loss=history.epoch_loss,
        seconds=np.diff([started, *ends]),
        predicted=predicted,
    )
    return result, net


def alignment_note(nets: dict[str, neurosim.Network], seed: int) -> str | None:
    """Why feedback alignment and direct feedback alignment learn alike here.

    With one hidden layer, both send each output's ``g`` straight to every
    hidden neuron through a fixed random ``B``. From the same seed they draw
    the same numbers in the same order, each in its own default range
    (``±1/√32`` for feedback alignment, ``±1/√10`` for direct feedback
    alignment), so one ``B`` is the other times a constant; Adam scales every
    step by its own gradient's size, which cancels that constant. None when
    the two rules were not both run or their ``B`` are not proportional.
    """
    if not {"feedback_alignment", "direct_feedback_alignment"} <= set(nets):
        return None
    fa, dfa = nets["feedback_alignment"], nets["direct_feedback_alignment"]
    topology = fa.topology
    b_fa = make_rule("feedback_alignment", seed).feedback_weights(topology)
    b_dfa = make_rule("direct_feedback_alignment", seed).feedback_weights(topology)
    ratio = np.array([b_dfa[v, u] / b for (u, v), b in b_fa.items()])
    if len(b_fa) != len(b_dfa) or np.ptp(ratio) > 1e-9 * abs(ratio[0]):
        return None
    differ = max(
        max(abs(w - dfa.weights[k]) for k, w in fa.weights.items()),
        max(abs(b - dfa.biases[k]) for k, b in fa.biases.items()),
    )
    because = (
        "Adam makes a step the same size whatever its gradient's scale, so they "
        "learn alike:"
        if OPTIMIZER == "adam"
        else f"with {OPTIMIZER},"
    )
    return (
        "feedback_alignment and direct_feedback_alignment are one rule here: with "
        "a single hidden layer both send each output's g to every hidden neuron "
        "through a fixed random B, and from the same seed they draw the same B "
        f"but for a factor {ratio[0]:.4g} (their ranges ±1/√{HIDDEN} and ±1/√10); "
        f"{because} their final weights differ by at most {differ:.1g}."
    )


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Counts of (true class, predicted class): rows true, columns predicted.

    >>> confusion_matrix(
    ...     np.array([0, 0, 1, 2]),
    ...     np.array([0, 1, 1, 2]),
    ... )
    array([[1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
           [0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]])
    """
    matrix = np.zeros((10, 10), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def timeline_lanes(x: np.ndarray) -> list[list[object]]:
    """The lanes of timeline.png: the image's darkest pixels, a few hidden
    neurons, every output."""
    inputs, hidden, outputs = neurosim.graph.layered_names([64, HIDDEN, 10])
    darkest = sorted(np.argsort(-x, kind="stable")[:SHOWN_INPUTS])
    return [[inputs[k] for k in darkest], hidden[:SHOWN_HIDDEN], outputs]


def one_step(
    net: neurosim.Network, x: np.ndarray, z: np.ndarray, seed: int
) -> neurosim.Trace:
    """One online training step of a copy of `net` on one sample, recorded."""
    copy = neurosim.Network(net.to_graph())
    return copy.train(
        x[None],
        z[None],
        LEARNING_RATE,
        rule=make_rule("backprop", seed),
        record=True,
        loss=LOSS,
    ).trace


def among(trace: neurosim.Trace, lanes: list[list[object]]) -> neurosim.Trace:
    """The messages and updates of `trace` between the nodes of `lanes` only."""
    nodes = [node for layer in lanes for node in layer]
    keep = set(nodes)
    messages = [r for r in trace.rows() if r[3] in keep and r[4] in keep]
    updates = [
        r
        for r in trace.updates.rows()
        if r[2] in keep and (r[3] is None or r[3] in keep)
    ]
    return neurosim.Trace.from_rows(messages, updates, nodes)


# ----------------------------------------------------------------------
# figures


def accuracy_figure(results: dict[str, RuleResult]) -> Figure:
    """Test accuracy per epoch (left); training and test loss per epoch (right).

    A rule whose test accuracy is another's in every epoch is drawn dashed
    on top of it, and the legend says so.
    """
    figure = Figure(figsize=(11.0, 4.4), layout="constrained")
    left, right = figure.subplots(1, 2)
    n_test = len(next(iter(results.values())).predicted)
    drawn: dict[str, np.ndarray] = {}
    for name, r in results.items():
        epochs = np.arange(len(r.accuracy))
        same = next(
            (k for k, a in drawn.items() if np.array_equal(a, r.accuracy)), None
        )
        style = {"color": COLORS[name], "linewidth": 1.8}
        label = f"{LABELS[name]}: {100 * r.final:.1f}%"
        if same is not None:
            style["linestyle"] = (0, (4, 3))
            label += f" (= {LABELS[same]})"
        left.plot(epochs, 100 * r.accuracy, marker="o", markersize=3, label=label,
                  **style)  # fmt: skip
        right.plot(epochs, r.loss, label=f"{LABELS[name]}, test", **style)
        if same is None:  # a second dotted line on top would mix the colours
            right.plot(epochs, r.train_loss, alpha=0.7,
                       **{**style, "linewidth": 1.2, "linestyle": ":"})  # fmt: skip
        drawn[name] = r.accuracy
    longest = max(len(r.accuracy) for r in results.values())
    for ax in (left, right):
        ax.set_xlabel("epoch")
        ax.set_xlim(-0.5, longest - 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        plot.style_axes(ax)
    lowest = min(100 * float(r.accuracy.min()) for r in results.values())
    bottom = min(5 * np.floor(lowest / 5), 100 * TARGET - 5)
    left.axhline(100 * TARGET, color="#888888", linewidth=0.8, linestyle=":")
    left.annotate(
        f"{TARGET:.0%}",
        (longest - 0.5, 100 * TARGET),
        xytext=(-2, -10),
        textcoords="offset points",
        ha="right",
        fontsize=8,
        color="#666666",
    )
    left.set_ylim(bottom, 100)
    left.set_ylabel("test accuracy (%)")
    left.set_title(f"Test accuracy after each epoch ({n_test} test images)")
    left.legend(frameon=False, loc="lower right", fontsize=9)
    right.set_yscale("log")
    right.set_ylabel("cross-entropy (mean per image, log scale)")
    right.set_title(
        "Loss: on the test set after each epoch (solid),\n"
        "on the training images during it (dotted)",
        fontsize=11,
    )
    return figure


def confusion_figure(
    matrix: np.ndarray,
    test_part: datasets.Dataset,
    predicted: np.ndarray,
    rule: str = "backprop",
) -> Figure:
    """The confusion matrix of `rule` and the test images it gets wrong."""
    wrong = np.flatnonzero(predicted != test_part.labels)
    figure = Figure(figsize=(11.0, 5.0), layout="constrained")
    grid = figure.add_gridspec(1, 2, width_ratios=(1.0, 1.0))
    ax = figure.add_subplot(grid[0])
    total, right = int(matrix.sum()), int(np.trace(matrix))
    eye = np.eye(10, dtype=bool)
    ax.imshow(
        np.where(eye, matrix, np.nan), cmap="Blues", vmin=0, vmax=matrix.max() * 1.3
    )
    errors = np.where(~eye & (matrix > 0), matrix, np.nan)
    top = int(matrix[~eye].max())
    if top:
        ax.imshow(errors, cmap="Oranges", vmin=-top / 2, vmax=top * 1.2)
    for (i, j), count in np.ndenumerate(matrix):
        dark = i == j or (top > 1 and count > 0.6 * top)
        if count:
            ax.text(j, i, str(count), ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")  # fmt: skip
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(
        f"{rule.capitalize()} on the test set: {right} of {total} right "
        f"({100 * right / total:.1f}%)",
        fontsize=11,
    )
    images = figure.add_subfigure(grid[1])
    shown = wrong[:24]
    columns = 6
    rows = max(2, -(-len(shown) // columns))
    cells = images.subplots(rows, columns, squeeze=False)
    for cell in cells.flat:
        cell.set_axis_off()
    for cell, k in zip(cells.flat, shown, strict=False):
        cell.imshow(test_part.X[k].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        cell.set_title(
            f"{test_part.labels[k]} → {predicted[k]}", fontsize=10, color="#b34700"
        )
    more = f" (the first {len(shown)})" if len(wrong) > len(shown) else ""
    images.suptitle(
        f"The {len(wrong)} test images it gets wrong{more}: true → predicted",
        fontsize=11,
    )
    return figure


def timeline_figure(
    trace: neurosim.Trace, lanes: list[list[object]], rule: str = "backprop"
) -> Figure:
    """One training step: forward, the outputs' softmax exchange, backward."""
    figure = Figure(figsize=(11.0, 7.0), layout="constrained")
    ax = figure.subplots()
    plot.timeline(trace, ax=ax, values=False, layers=lanes)
    inputs, hidden, outputs = lanes
    ax.set_title(
        f"One training step ({rule}) on one image: {len(inputs)} of the 64 "
        f"inputs, {len(hidden)} of the {HIDDEN} hidden neurons, the "
        f"{len(outputs)} outputs\nEach output sends its e to the "
        f"{len(outputs) - 1} others (softmax), then its error z − y back",
        fontsize=11,
    )
    return figure


# ----------------------------------------------------------------------
# the scenario


def _percent(x: float) -> str:
    return f"{100 * x:.1f}%"


def compute(run: scenario.Scenario, data=None) -> Result:
    """Compute everything, print the summary, write the figures and the trace.

    `data` is the ``(train, test)`` split, :func:`load`'s by default.
    """
    say, epochs, seed = run.say, run.epochs, run.seed
    images, test_images = load() if data is None else data
    train_part, test_part, spread = standardise(images, test_images)
    n = len(train_part.labels) + len(test_part.labels)
    say(
        f"The 8×8 handwritten digits ({n:,} images, grey levels 0-16 divided by 16): "
        f"{len(train_part.labels):,} to train on, {len(test_part.labels)} to test on "
        f"(a stratified {TEST:.0%}, split seed {SPLIT_SEED}). Each pixel is centred "
        f"on its mean over the training images and divided by the spread of all "
        f"training pixels, σ = {spread:.3f}."
    )
    say(
        f"A 64-{HIDDEN}-10 network: {HIDDEN} {HIDDEN_ACTIVATION} hidden neurons, "
        f"10 softmax outputs, loss {LOSS!r}; {OPTIMIZER} η = {LEARNING_RATE:g}, "
        f"shuffled batches of {BATCH_SIZE}, {epochs} epoch{'s' * (epochs != 1)}, "
        f"the same initial weights (seed {seed}) under each rule."
    )

    chosen = tuple(getattr(run.options, "rules", None) or RULES)
    results: dict[str, RuleResult] = {}
    nets: dict[str, neurosim.Network] = {}
    with run.progress("training") as bar:
        for i, name in enumerate(chosen):
            results[name], nets[name] = train(
                name,
                train_part,
                test_part,
                epochs=epochs,
                seed=seed,
                progress=lambda done, total, i=i: bar(
                    i * total + done, len(chosen) * total
                ),
            )

    say()
    say("Test accuracy after each epoch (epochs counted from 0):")
    run.table(
        ["epoch", *chosen],
        [
            [e, *(_percent(results[name].accuracy[e]) for name in chosen)]
            for e in range(epochs)
        ],
        align="r" * (len(chosen) + 1),
    )
    say()
    say("Wall time per epoch (training and testing), seconds:")
    run.table(
        ["rule", "mean", "fastest", "slowest", "total"],
        [
            [
                name,
                f"{r.seconds.mean():.2f}",
                f"{r.seconds.min():.2f}",
                f"{r.seconds.max():.2f}",
                f"{r.seconds.sum():.1f}",
            ]
            for name, r in results.items()
        ],
        align="lrrrr",
    )
    say()
    for name, r in results.items():
        best = int(np.argmax(r.accuracy))
        say(
            f"{name}: {_percent(r.final)} of the test images right after "
            f"{epochs} epochs (best {_percent(r.accuracy[best])}, epoch {best}); "
            f"{_percent(r.train_accuracy[-1])} of the training images in the last "
            f"epoch; test loss {r.loss[-1]:.3g}."
        )
    if "backprop" in results:
        reached = results["backprop"].final >= TARGET
        say(
            f"Backprop {'reaches' if reached else 'does NOT reach'} "
            f"{TARGET:.0%} on the test set."
        )
    note = alignment_note(nets, seed)
    if note:
        say(note)

    # the confusion matrix and the timeline: backprop's (the first rule run)
    first = chosen[0]
    labels = test_part.labels
    predicted = results[first].predicted
    matrix = confusion_matrix(labels, predicted)
    say()
    say(
        f"{first}'s confusion matrix on the test set (rows: the true digit, "
        "columns: the predicted one):"
    )
    run.table(
        ["", *map(str, range(10))],
        [
            [str(d), *(int(c) if c else "." for c in row)]
            for d, row in enumerate(matrix)
        ],
        align="r" * 11,
    )
    pairs = sorted(
        ((int(matrix[i, j]), i, j) for i in range(10) for j in range(10) if i != j),
        key=lambda p: -p[0],
    )
    common = [f"{i} taken for {j} ({c}×)" for c, i, j in pairs if c > 1][:3]
    say(
        f"{int(np.trace(matrix))} of {int(matrix.sum())} right"
        + (f"; the most common mistakes: {', '.join(common)}" if common else "")
        + "."
    )

    x, z = train_part.X[TIMELINE_SAMPLE], train_part.Z[TIMELINE_SAMPLE]
    trace = one_step(nets[first], x, z, seed)
    lanes = timeline_lanes(images.X[TIMELINE_SAMPLE])
    shown = among(trace, lanes)
    kinds = {k: int((trace.kind == k).sum()) for k in neurosim.messages.KINDS}
    say()
    say(
        f"timeline.png: one online step of the trained {first} network on "
        f"training image {TIMELINE_SAMPLE} (a {train_part.labels[TIMELINE_SAMPLE]}), "
        + ", ".join(f"{count} {kind}" for kind, count in kinds.items() if count)
        + f" messages; drawn: the {len(shown)} among "
        + ", ".join(map(str, lanes[0]))
        + f" (its darkest pixels), {', '.join(map(str, lanes[1]))} and the outputs."
    )

    run.save(accuracy_figure(results), "accuracy.png")
    run.save(
        confusion_figure(matrix, test_images, predicted, LABELS[first]), "confusion.png"
    )
    run.save(timeline_figure(shown, lanes, LABELS[first]), "timeline.png", dpi=120)
    run.save_trace(trace)
    return Result(
        rules=results,
        labels=labels,
        confusion=matrix,
        trace=trace,
        shown=lanes,
        files=list(run.written),
    )


def _options(parser) -> None:
    parser.add_argument(
        "--rules",
        nargs="+",
        choices=RULES,
        default=list(RULES),
        metavar="RULE",
        help="the rules to train with, the first drawn in confusion.png and "
        f"timeline.png (default: {' '.join(RULES)})",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenario with the options in `argv`; 0 on success or a skip."""
    run = scenario.start(
        __file__,
        __doc__,
        argv,
        epochs=EPOCHS,
        seed_help="seed of the initial weights, the order of the samples in each "
        "epoch and the feedback weights B",
        extra=_options,
    )
    try:
        data = load()
    except ModuleNotFoundError as error:
        if error.name != "sklearn":
            raise
        return run.skip(
            'it needs scikit-learn for its images: pip install "neurosim[data]" '
            "(or pip install scikit-learn)"
        )
    compute(run, data)
    return run.finish()


if __name__ == "__main__":
    scenario.run_script(main)

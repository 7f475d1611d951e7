"""The article's network (inputs x1, x2; neurons 1-6) learns an AND-like class.

The article neurosim simulates (Bernacki & Włodarczyk, "Principles of
training multi-layer neural network using backpropagation") describes
training neuron by neuron on a network of two inputs and three layers of
sigmoid neurons: 1, 2, 3, then 4, 5, then 6. Here it learns a small task: the
nine points of a 3 × 3 grid over [0, 1]², class 1 where x1 + x2 > 1 (both
inputs mostly on: (1, 1), (1, 0.5), (0.5, 1)) and class 0 elsewhere, one
sample at a time (the article's iteration).

Writes timeline.png (the messages of one iteration), network.png (the weights
before and after), loss.png and trace.csv (the first epoch).
"""

from __future__ import annotations

import numpy as np

import neurosim
from neurosim import plot, scenario
from neurosim.examples import article_network

GRID = np.linspace(0.0, 1.0, 3)
X = np.array([[x1, x2] for x1 in GRID for x2 in GRID])
Z = (X.sum(axis=1, keepdims=True) > 1.0).astype(float)  # class 1: x1 + x2 > 1
LEARNING_RATE = 2.0
SHOWN = 7  # the sample drawn in timeline.png: x = (1, 0.5), class 1


def main(argv: list[str] | None = None) -> int:
    run = scenario.start(__file__, __doc__, argv, epochs=300)
    G = article_network(seed=run.seed)
    net = neurosim.Network(G)
    run.say("The network of Bernacki & Włodarczyk's article: inputs x1, x2;")
    run.say("  sigmoid neurons 1 2 3 | 4 5 | 6")
    run.paragraph(
        f"task: class z = 1 where x1 + x2 > 1, else 0, on the {len(X)} points of "
        "a 3 × 3 grid over the unit square; online training, "
        f"η = {LEARNING_RATE}, {run.epochs} epochs",
        indent=2,
    )
    # The trace of the first epoch: a separate run, identical to the first
    # epoch of the long one (the engine is deterministic), keeps the record small.
    first = neurosim.Network(G).train(X, Z, learning_rate=LEARNING_RATE, record=True)
    with run.progress("training") as bar:
        history = net.train(
            X, Z, learning_rate=LEARNING_RATE, epochs=run.epochs, progress=bar
        )
    epoch_loss = history.epoch_loss
    run.say(
        f"  mean E per sample: {epoch_loss[0]:.4g} in the first epoch, "
        f"{epoch_loss[-1]:.4g} in the last"
    )
    run.say()
    y = net.predict(X)[:, 0]
    run.table(
        ["x1", "x2", "class z", "output y6", "y6 > 0.5"],
        [
            [a, b, int(z), f"{out:.3f}", int(out > 0.5)]
            for (a, b), z, out in zip(X, Z[:, 0], y, strict=True)
        ],
        align="rrrrr",
    )
    right = int(np.sum((y > 0.5) == (Z[:, 0] > 0.5)))
    worst = np.abs(y - Z[:, 0]).max()
    run.say(
        f"  {right} of {len(X)} points classified right; largest |z − y6|: {worst:.3f}"
    )

    it = first.trace.filter(sample=SHOWN)
    forward = np.count_nonzero(it.kind == "forward")
    run.paragraph(
        f"timeline.png shows the iteration on sample {SHOWN} of the first epoch: "
        f"{forward} forward and {len(it) - forward} backward messages, "
        f"{len(it.updates)} parameter updates, from t = {it.span[0]:g} to "
        f"t = {it.span[1]:g}.",
        indent=2,
    )

    ax = plot.timeline(first.trace, epoch=0, sample=SHOWN)
    (x1, x2), z = X[SHOWN], Z[SHOWN, 0]
    ax.set_title(
        f"The article's network: one iteration, x = ({x1:g}, {x2:g}), z = {z:g}"
    )
    run.save(ax, "timeline.png")
    figure = plot.network_change(
        G, net, titles=("before", f"after {run.epochs} epochs")
    )
    run.save(figure, "network.png")
    ax = plot.loss(epoch_loss, samples_per_epoch=1)
    ax.set_title("The article's network learning the class x1 + x2 > 1")
    run.save(ax, "loss.png")
    run.save_trace(first.trace)
    return run.finish()


if __name__ == "__main__":
    scenario.run_script(main)

"""One sigmoid neuron learns AND; its derivatives, read off its messages.

The derivation of a single sigmoid perceptron's gradients: a neuron
A = σ(Z), Z = w1·x1 + w2·x2 + b, error E = ½(A − Y)², and the chain rule
from the back: ∂E/∂A = A − Y, ∂A/∂Z = σ(Z)(1 − σ(Z)), ∂Z/∂w_i = x_i,
∂Z/∂b = 1.

The scenario takes one step on one sample with the actors and reads each
factor from what the simulation recorded: the forward messages carry x_i,
the neuron's internals hold A = y, δ = Y − A and f'(Z), and its updates the
gradient ∂E/∂w_i (or ∂E/∂b) it handed to its optimizer. Beside them, the
formulas evaluated directly; they agree. Then
the neuron learns AND on all four inputs, and the truth table is printed.

Writes timeline.png (the step), network.png (before and after training),
loss.png and trace.csv (the step).
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

import neurosim
from neurosim import plot, scenario

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([[0.0], [0.0], [0.0], [1.0]])  # AND
SAMPLE = 2  # x = (1, 0): x2 = 0, so w2 must not move
LEARNING_RATE = 1.0


def perceptron(seed: int) -> nx.DiGraph:
    """Inputs x1, x2 and the neuron A (sigmoid, with a bias), random weights."""
    G = neurosim.layered([2, 1], seed=seed)
    return nx.relabel_nodes(G, {"i1": "x1", "i2": "x2", "o1": "A"})


def from_formulas(w1, w2, b, x, y):
    """The article's formulas, evaluated directly from the parameters."""
    Z = w1 * x[0] + w2 * x[1] + b
    sigma = 1.0 / (1.0 + math.exp(-Z))
    d = {
        "∂E/∂A": sigma - y,
        "∂A/∂Z": sigma * (1.0 - sigma),
        "∂Z/∂w1": x[0],
        "∂Z/∂w2": x[1],
        "∂Z/∂b": 1.0,
    }
    chain = d["∂E/∂A"] * d["∂A/∂Z"]
    d |= {"∂E/∂w1": chain * x[0], "∂E/∂w2": chain * x[1], "∂E/∂b": chain}
    return d


def from_simulation(history):
    """The same derivatives, read from one recorded step of the actors.

    x_i is the value of the forward message x_i → A; the neuron's internals
    give A (its y), δ = Y − A and f'(Z); its updates the gradient of each
    parameter that it handed to the optimizer (whatever the optimizer).
    """
    trace = history.trace
    forward = trace.filter(kind="forward")
    x = {str(u): float(v) for u, v in zip(forward.source, forward.value, strict=True)}
    internals = trace.internals  # one neuron, one iteration
    fprime, delta = float(internals.fprime[0]), float(internals.delta[0])
    updates = trace.updates
    grad = {
        "b" if u is None else "w" + str(u)[1:]: float(g)
        for u, g in zip(updates.source, updates.gradient, strict=True)
    }
    return {
        "∂E/∂A": -delta,
        "∂A/∂Z": fprime,
        "∂Z/∂w1": x["x1"],
        "∂Z/∂w2": x["x2"],
        "∂Z/∂b": grad["b"] / (-delta * fprime),
        "∂E/∂w1": grad["w1"],
        "∂E/∂w2": grad["w2"],
        "∂E/∂b": grad["b"],
    }


FORMULAS = {
    "∂E/∂A": ("A − Y", "−δ of A (its internals)"),
    "∂A/∂Z": ("σ(Z)(1 − σ(Z))", "f'(e) of A (its internals)"),
    "∂Z/∂w1": ("x1", "the forward message x1 → A"),
    "∂Z/∂w2": ("x2", "the forward message x2 → A"),
    "∂Z/∂b": ("1", "∂E/∂b ÷ (∂E/∂A · ∂A/∂Z)"),
    "∂E/∂w1": ("∂E/∂A · ∂A/∂Z · x1", "the gradient of w1 handed to the optimizer"),
    "∂E/∂w2": ("∂E/∂A · ∂A/∂Z · x2", "the gradient of w2 handed to the optimizer"),
    "∂E/∂b": ("∂E/∂A · ∂A/∂Z · 1", "the gradient of b handed to the optimizer"),
}


def main(argv: list[str] | None = None) -> int:
    run = scenario.start(__file__, __doc__, argv, epochs=500)
    G = perceptron(run.seed)
    net = neurosim.Network(G)
    w1, w2, b = net.weights["x1", "A"], net.weights["x2", "A"], net.biases["A"]
    x, y = X[SAMPLE], float(Y[SAMPLE, 0])

    f = scenario.fmt
    run.say(
        "Perceptron: one sigmoid neuron with a bias, its gradient by the chain rule"
    )
    run.say("  A = σ(Z), Z = w1·x1 + w2·x2 + b, E = ½(A − Y)²")
    run.say(f"  starting from w1 = {f(w1, 6)}, w2 = {f(w2, 6)}, b = {f(b, 6)}")
    run.say(
        f"  one step on x = ({f(x[0])}, {f(x[1])}), Y = {f(y)}, η = {LEARNING_RATE}"
    )
    step = net.train([x], [[y]], learning_rate=LEARNING_RATE, record=True)
    measured = from_simulation(step)
    expected = from_formulas(w1, w2, b, x, y)
    rows = [
        [name, formula, expected[name], measured[name], how]
        for name, (formula, how) in FORMULAS.items()
    ]
    run.say()
    run.table(
        ["", "formula", "formula value", "simulation", "read from"],
        rows,
        digits=8,
    )
    worst = max(abs(expected[k] - measured[k]) for k in FORMULAS)
    run.say(f"  largest difference: {worst:.1e}: the messages follow the formulas.")

    run.say()
    run.say(f"Learning AND for {run.epochs} epochs (η = {LEARNING_RATE}):")
    net = neurosim.Network(G)  # start again from the same weights
    with run.progress("training") as bar:
        history = net.train(
            X, Y, learning_rate=LEARNING_RATE, epochs=run.epochs, progress=bar
        )
    A = net.predict(X)[:, 0]
    run.table(
        ["x1", "x2", "AND", "A", "A > 0.5"],
        [
            [int(a), int(c), int(t), f"{out:.3f}", int(out > 0.5)]
            for (a, c), t, out in zip(X, Y[:, 0], A, strict=True)
        ],
        align="rrrrr",
    )
    solved = bool(np.all((A > 0.5) == (Y[:, 0] > 0.5)))
    run.say(
        f"  mean E per sample {history.epoch_loss[0]:.4g} (first epoch) → "
        f"{history.epoch_loss[-1]:.4g} (last); "
        + ("AND learned." if solved else "not learned yet: try more --epochs.")
    )
    w1, w2, b = net.weights["x1", "A"], net.weights["x2", "A"], net.biases["A"]
    run.say(
        f"  w1 = {w1:.4g}, w2 = {w2:.4g}, b = {b:.4g}: "
        f"A > 0.5 exactly where w1·x1 + w2·x2 > {-b:.4g}"
    )

    ax = plot.timeline(step.trace)
    ax.set_title(f"Perceptron: one step on x = (1, 0), Y = 0, η = {LEARNING_RATE}")
    run.save(ax, "timeline.png")
    figure = plot.network_change(
        G, net, titles=("before", f"after {run.epochs} epochs of AND")
    )
    run.save(figure, "network.png")
    # The epoch means, with each epoch's four samples as a light band behind.
    ax = plot.loss(history)
    ax.set_title("Perceptron learning AND: mean E per sample")
    run.save(ax, "loss.png")
    run.save_trace(step.trace)
    return run.finish()


if __name__ == "__main__":
    scenario.run_script(main)

"""Four learning rules on the article's network: how far from the gradient?

The 2-3-2-1 sigmoid network of the article (``article_network``) learns a smooth
two-dimensional step, ``z = 0.1 + 0.8·σ(4·x1)·σ(4·x2)``, with plain SGD and
each of the four rules of ``docs/concepts.md``:

1. the angle between each rule's update direction and the true negative
   gradient, layer by layer (layer 1 = neurons 1-3, layer 2 = 4-5, layer 3 =
   6), from :func:`neurosim.reference.update_directions`; one SGD step
   through the actors must move every parameter by exactly ``η·direction``;
   the angle is followed during training (feedback alignment aligns);
2. the training curves of the four rules, from the same initial weights;
3. the message timeline of one iteration under feedback alignment beside
   exact backpropagation: the forward messages are the same, the error
   messages are not, because they travel through fixed random weights ``B``.

Writes angles.png (the angles, before and during training), loss.png (the
four training curves), timeline.png (one iteration under feedback alignment
and what its error messages carried) and trace.csv (that iteration).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
from matplotlib.figure import Figure

import neurosim
from neurosim import plot, reference, rules, scenario
from neurosim.examples import article_network
from neurosim.plot.style import RULE_COLORS, RULE_NAMES

LABELS, COLORS = RULE_NAMES, RULE_COLORS
LAYERS = {1: (1, 2, 3), 2: (4, 5), 3: (6,)}  # the article's neuron numbers

N_SAMPLES = 64
LEARNING_RATE = 5.0  # sigmoids shrink every error by f' <= 1/4 per layer
BATCH_SIZE = 16
EPOCHS = 400
CHECKPOINTS = 40  # angle measurements during training (at most)
ZERO = 1e-6  # degrees: an angle below this is 0° (the same direction)


@dataclass(frozen=True)
class RuleResult:
    """What one rule did: its angles, its one-step check and its training."""

    name: str
    angles: dict[int, float]  # layer -> degrees, at the initial weights
    step_error: float  # max |Δθ_actors − η·direction| over every parameter
    epoch_loss: np.ndarray  # the mean loss of every epoch
    checkpoints: np.ndarray  # epochs at which angle_history was measured
    angle_history: dict[int, np.ndarray]  # layer -> degrees at the checkpoints
    verdict: str


@dataclass(frozen=True)
class Result:
    """Everything the scenario computed (:func:`compute` returns it)."""

    rules: dict[str, RuleResult]
    gradient_check: float  # max relative error of the gradient vs finite differences
    # feedback alignment's error messages of one iteration:
    # (sender, receiver, B, w, value carried, value backprop carried)
    messages: list[tuple[object, object, float, float, float, float]]
    files: list[Path]


# ----------------------------------------------------------------------
# the task and the rules


def task(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A smooth step up in the quadrant x1 > 0, x2 > 0 (a soft AND)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(N_SAMPLES, 2))
    sigma = 1.0 / (1.0 + np.exp(-4.0 * X))
    Z = 0.1 + 0.8 * sigma[:, :1] * sigma[:, 1:]
    return X, Z


def make_rules(seed: int) -> dict[str, rules.Rule]:
    """The four rules; the alignment rules draw their ``B`` from `seed`."""
    return {
        "backprop": rules.Backprop(),
        "article": rules.Article(),
        "feedback_alignment": rules.FeedbackAlignment(seed=seed),
        "direct_feedback_alignment": rules.DirectFeedbackAlignment(seed=seed),
    }


def _parameter_order(G: nx.DiGraph) -> dict[int, list[tuple[str, object]]]:
    """Each layer's parameters: every incoming weight, then the bias."""
    return {
        layer: [("w", (u, v)) for v in neurons for u in G.predecessors(v)]
        + [("b", v) for v in neurons]
        for layer, neurons in LAYERS.items()
    }


def _vector(params, weights: dict, biases: dict) -> np.ndarray:
    return np.array([weights[k] if kind == "w" else biases[k] for kind, k in params])


def angle(a: np.ndarray, b: np.ndarray) -> float:
    """The angle between two vectors in degrees, accurate near 0° and 180°.

    ``arccos`` of the cosine loses half the digits near 0° (``arccos(1 − ε)``
    is about ``√(2ε)``); Kahan's formula ``2·atan2(|â − b̂|, |â + b̂|)`` does not.

    >>> angle(np.array([1.0, 0.0]), np.array([1.0, 1.0]))
    45.0
    >>> angle(np.array([1e-3, 2.0]), np.array([1e-3, 2.0]))
    0.0
    """
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    return float(
        np.degrees(2 * math.atan2(np.linalg.norm(a - b), np.linalg.norm(a + b)))
    )


def directions(G: nx.DiGraph, X, Z, rule: rules.Rule, topology) -> tuple[dict, dict]:
    """The rule's full-batch update direction (what SGD adds, divided by η)."""
    return reference.update_directions(
        G, X, Z, rule=rule.name, feedback=rule.feedback_weights(topology)
    )


def layer_angles(G: nx.DiGraph, X, Z, rule: rules.Rule, topology) -> dict[int, float]:
    """Angle between the rule's direction and −∇L in each layer, in degrees."""
    dw, db = directions(G, X, Z, rule, topology)
    gw, gb = reference.gradients(G, X, Z)
    negative = {k: -g for k, g in gw.items()}, {k: -g for k, g in gb.items()}
    return {
        layer: angle(_vector(p, dw, db), _vector(p, *negative))
        for layer, p in _parameter_order(G).items()
    }


def gradient_check(G: nx.DiGraph, X, Z, h: float = 1e-6) -> float:
    """Max relative error of ``reference.gradients`` against central differences.

    The "true gradient" the angles are measured against is itself computed
    by backpropagation; this checks it from the loss alone.
    """
    gw, gb = reference.gradients(G, X, Z)

    def loss(H: nx.DiGraph) -> float:
        return float(np.mean(0.5 * np.sum((Z - reference.predict(H, X)) ** 2, axis=1)))

    errors = []
    for key, exact in [*gw.items(), *gb.items()]:
        values = []
        for sign in (1, -1):
            H = G.copy()
            attrs = H.edges[key] if key in gw else H.nodes[key]
            attrs["weight" if key in gw else "bias"] += sign * h
            values.append(loss(H))
        numeric = (values[0] - values[1]) / (2 * h)
        errors.append(abs(numeric - exact) / max(abs(exact), 1e-8))
    return max(errors)


def one_step_error(G: nx.DiGraph, X, Z, rule: rules.Rule) -> float:
    """Max over all parameters of |change made by one actor SGD step − η·direction|."""
    net = neurosim.Network(G)
    w0, b0 = net.weights, net.biases
    net.train(X, Z, LEARNING_RATE, epochs=1, batch_size=len(X), rule=rule)
    dw, db = directions(G, X, Z, rule, net.topology)
    w1, b1 = net.weights, net.biases
    return max(
        *(abs((w1[k] - w0[k]) - LEARNING_RATE * dw[k]) for k in dw),
        *(abs((b1[v] - b0[v]) - LEARNING_RATE * db[v]) for v in db),
    )


def train(G: nx.DiGraph, X, Z, rule: rules.Rule, epochs: int, progress=None):
    """Train with `rule`, measuring the layer angles every few epochs."""
    net = neurosim.Network(G)
    every = max(1, math.ceil(epochs / CHECKPOINTS))
    checkpoints, losses = [0], []
    history = {
        layer: [a] for layer, a in layer_angles(G, X, Z, rule, net.topology).items()
    }
    done = 0
    while done < epochs:
        chunk = min(every, epochs - done)
        losses.append(
            net.train(
                X, Z, LEARNING_RATE, epochs=chunk, batch_size=BATCH_SIZE, rule=rule
            ).epoch_loss
        )
        done += chunk
        checkpoints.append(done)
        for layer, a in layer_angles(net.to_graph(), X, Z, rule, net.topology).items():
            history[layer].append(a)
        if progress is not None:
            progress(done, epochs)
    return (
        np.concatenate(losses),
        np.array(checkpoints),
        {layer: np.array(a) for layer, a in history.items()},
    )


def backward_messages(G: nx.DiGraph, X, Z, rule: rules.Rule):
    """One iteration (sample 0, online) recorded under `rule` and under backprop.

    Returns both traces and, for each error message of `rule`, ``(sender,
    receiver, B, w, carried, backprop)``: the fixed feedback weight, the
    forward weight of the connection, the value the message carried and the
    value exact backpropagation carried on the same connection.
    """
    traces = {}
    for name, r in (("rule", rule), ("backprop", rules.Backprop())):
        net = neurosim.Network(G)
        traces[name] = net.train(X[:1], Z[:1], LEARNING_RATE, rule=r, record=True).trace
    exact = traces["backprop"].filter(kind="backward")
    exact_value = {
        (s, d): float(v)
        for s, d, v in zip(exact.source, exact.destination, exact.value, strict=True)
    }
    B = rule.feedback_weights(neurosim.validate(G))  # {(u, v): B_uv}
    mine = traces["rule"].filter(kind="backward")
    rows = [
        (v, u, B[u, v], G.edges[u, v]["weight"], float(value), exact_value[v, u])
        for v, u, value in zip(mine.source, mine.destination, mine.value, strict=True)
    ]
    return traces, rows


def _first(losses: np.ndarray, level: float) -> int | None:
    """The first epoch (counted from 0) whose mean loss is below `level`."""
    below = np.flatnonzero(losses < level)
    return int(below[0]) if len(below) else None


def verdicts(results: dict[str, dict], base: float) -> dict[str, str]:
    """One line per rule, from the numbers.

    ``base`` is the loss of the best constant output (½·var z), so that
    ``1 − loss/base`` is the coefficient of determination R².
    """
    final = {name: float(r["epoch_loss"][-1]) for name, r in results.items()}
    ranked = sorted(final, key=final.get)
    lines = {}
    for name, r in results.items():
        start = r["angles"]
        end = {k: float(a[-1]) for k, a in r["angle_history"].items()}
        epochs = len(r["epoch_loss"])
        if max(start.values()) < 1e-6 and max(end.values()) < 1e-6:
            direction = "is the gradient (0° in every layer, throughout)"
        else:
            change = [end[k] - start[k] for k in (1, 2)]
            trend = (
                "aligns"
                if max(change) < -5
                else "drifts off"
                if max(change) > 5
                else "stays"
            )
            direction = (
                f"{_deg(start[1])} / {_deg(start[2])} off the gradient (layers 1 / 2)"
                f" at the start, {_deg(end[1])} / {_deg(end[2])} after {epochs} "
                f"epochs: {trend}"
            )
        reached = _first(r["epoch_loss"], 0.1 * base)
        speed = (
            f"R² > 0.9 from epoch {reached}"
            if reached is not None
            else f"never R² > 0.9 in {epochs} epochs"
        )
        ratio = (
            ""
            if name == "backprop"
            else f" = {_times(final[name] / final['backprop'])} backprop's"
        )
        lines[name] = (
            f"{name}: {direction}; {speed}; final loss {final[name]:.2g}{ratio}, "
            f"{_ordinal(ranked.index(name) + 1)} of {len(results)}"
        )
    return lines


def _times(x: float) -> str:
    """A ratio with two significant digits: 0.12×, 1.0×, 32×."""
    return f"{x:.2f}×" if x < 1 else f"{x:.1f}×" if x < 10 else f"{x:.0f}×"


def _deg(a: float) -> str:
    return f"{a:.2g}°" if a < 10 else f"{a:.0f}°"


def _ordinal(k: int) -> str:
    return {1: "best", 2: "2nd", 3: "3rd"}.get(k, f"{k}th")


# ----------------------------------------------------------------------
# figures


_style = plot.style_axes


def angles_figure(results: dict[str, RuleResult]) -> Figure:
    """Bars: angle per layer and rule at the start; lines: during training.

    A bar of 0° cannot be seen, so the bars leave out what is 0° by
    construction and say so under the axis: a rule at 0° in every layer
    (backprop, the gradient itself) and a layer at 0° under every rule (the
    output layer: every rule updates it from its own ``z − y``). The angles
    left span five decades (the article's rule is 0.008° off in layer 2,
    direct feedback alignment 160°), hence the logarithmic scale.
    """
    figure = Figure(figsize=(11.5, 4.6), layout="constrained")
    grid = figure.add_gridspec(2, 2, width_ratios=(1.05, 1.0))
    bars = figure.add_subplot(grid[:, 0])
    exact = [name for name, r in results.items() if max(r.angles.values()) < ZERO]
    shown = [name for name in results if name not in exact]
    layers = [k for k in LAYERS if any(results[n].angles[k] >= ZERO for n in shown)]
    same = [k for k in LAYERS if k not in layers]
    heights = [results[n].angles[k] for n in shown for k in layers]
    smallest = min((h for h in heights if h >= ZERO), default=1.0)
    floor = 10.0 ** math.floor(math.log10(smallest) - 0.5)
    width = 0.8 / max(len(shown), 1)
    for i, name in enumerate(shown):
        x = np.arange(len(layers)) + (i - (len(shown) - 1) / 2) * width
        angles = [results[name].angles[k] for k in layers]
        drawn = bars.bar(
            x,
            [max(a - floor, 0.0) for a in angles],  # from the floor up
            width * 0.92,
            bottom=floor,
            color=COLORS[name],
            label=LABELS[name],
        )
        bars.bar_label(
            drawn,
            [_deg(a) if a >= ZERO else "0°" for a in angles],
            fontsize=7.5,
            padding=2,
            color="#444444",
        )
    bars.set_xticks(
        range(len(layers)),
        [
            f"layer {k}\nneuron{'s' * (len(LAYERS[k]) > 1)} "
            + ", ".join(map(str, LAYERS[k]))
            for k in layers
        ],
    )
    bars.set_xlim(-0.5, len(layers) - 0.5)
    bars.set_yscale("log")
    bars.set_ylim(floor, 180 * 12)  # room for the legend above the bars
    ticks = [t for t in (0.001, 0.01, 0.1, 1, 10, 90) if t >= floor]
    bars.set_yticks(ticks, [f"{t:g}°" for t in ticks])
    bars.minorticks_off()
    bars.set_ylabel("angle to −∇L (degrees, log scale)")
    bars.axhline(90, color="#999999", linewidth=0.8, linestyle=":")
    bars.set_title("Update direction vs true gradient, before training", fontsize=11)
    bars.legend(frameon=False, fontsize=8.5, loc="upper center", ncols=2)
    absent = [
        f"{LABELS[name]} in every layer"
        + (" (it is the gradient)" if name == "backprop" else "")
        for name in exact
    ]
    absent += [
        f"layer {k} (neuron{'s' * (len(LAYERS[k]) > 1)} "
        f"{', '.join(map(str, LAYERS[k]))}) under every rule"
        + (" (each updates the output from z − y)" if k == max(LAYERS) else "")
        for k in same
    ]
    if absent:
        bars.set_xlabel(
            "Not drawn, at 0°:\n" + ";\n".join(absent),
            fontsize=8.5,
            color="#555555",
            labelpad=6,
        )
    _style(bars)
    bars.spines["left"].set_bounds(floor, 180)
    bars.grid(axis="x", visible=False)

    for row, layer in enumerate((1, 2)):
        ax = figure.add_subplot(grid[row, 1])
        for name, r in results.items():
            if name == "backprop":
                continue
            ax.plot(
                r.checkpoints,
                r.angle_history[layer],
                color=COLORS[name],
                linewidth=1.8,
                label=LABELS[name],
            )
        ax.set_ylim(0, 185)
        ax.set_yticks([0, 45, 90, 135, 180])
        ax.set_xlim(0, max(r.checkpoints[-1] for r in results.values()) or 1)
        ax.set_ylabel(f"layer {layer} (°)")
        _style(ax)
        if row == 0:
            ax.set_title("… and during training (backprop stays at 0°)", fontsize=11)
            ax.tick_params(labelbottom=False)
        else:
            ax.set_xlabel("epoch")
            ax.legend(frameon=False, fontsize=8.5, loc="upper right")
    return figure


def loss_figure(results: dict[str, RuleResult], base: float) -> Figure:
    """The per-epoch mean loss of the four rules on one log axis."""
    figure = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = figure.add_subplot()
    for name, r in results.items():
        epochs = np.arange(len(r.epoch_loss))  # from 0, as plot.loss counts
        ax.plot(
            epochs, r.epoch_loss, color=COLORS[name], linewidth=1.8, label=LABELS[name]
        )
    ax.axhline(base, color="#999999", linewidth=0.9, linestyle="--")
    ax.annotate(
        "best constant output (R² = 0)",
        (1, base),
        xycoords=("axes fraction", "data"),
        xytext=(-3, 3),
        textcoords="offset points",
        ha="right",
        fontsize=8,
        color="#777777",
    )
    ax.set_yscale("log")
    ax.set_xlim(0, max(1, len(next(iter(results.values())).epoch_loss) - 1))
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss  ½ (z − y)²")
    ax.set_title(
        f"Four learning rules, same network and start (SGD, η = {LEARNING_RATE:g}, "
        f"batches of {BATCH_SIZE})",
        fontsize=11,
    )
    ax.legend(frameon=False, fontsize=9)
    _style(ax)
    return figure


def timeline_figure(trace, rows) -> Figure:
    """The timeline of one iteration, and what its error messages carried.

    `rows` are ``(sender, receiver, B, w, carried, backprop)`` as returned by
    :func:`backward_messages`.
    """
    figure = Figure(figsize=(10.0, 8.2), layout="constrained")
    top, bottom = figure.subfigures(2, 1, height_ratios=(1.25, 1.0))
    ax = top.subplots()
    plot.timeline(trace, ax=ax, values=False)
    ax.set_title(
        "One iteration under feedback alignment (sample 0): forward wave, then "
        "errors back through fixed random weights B",
        fontsize=10.5,
    )
    groups = [
        [r for r in rows if r[0] in LAYERS[3]],
        [r for r in rows if r[0] not in LAYERS[3]],
    ]
    panels = bottom.subplots(1, 2, width_ratios=(1, 2.2))
    for ax, group in zip(panels, groups, strict=True):
        y = np.arange(len(group))[::-1]
        carried = np.array([r[4] for r in group])
        exact = np.array([r[5] for r in group])
        ax.hlines(y, np.minimum(carried, exact), np.maximum(carried, exact),
                  color="#bbbbbb", linewidth=2, zorder=1)  # fmt: skip
        ax.scatter(exact, y, s=46, color=COLORS["backprop"], zorder=2,
                   label="backprop carries w·g")  # fmt: skip
        ax.scatter(carried, y, s=46, color=COLORS["feedback_alignment"], zorder=3,
                   label="feedback alignment carries B·g")  # fmt: skip
        ax.axvline(0, color="#888888", linewidth=0.8)
        ax.set_yticks(
            y,
            [
                f"{v} → {u}   B {b:+.2f}, w {w:+.2f}".replace("-", "\N{MINUS SIGN}")
                for v, u, b, w, *_ in group
            ],
        )
        ax.tick_params(axis="y", length=0, labelsize=8.5)
        ax.set_ylim(-0.6, len(group) - 0.4)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))
        _style(ax)
        ax.grid(axis="y", visible=False)
    panels[0].set_title("error messages from 6", fontsize=10)
    panels[1].set_title("error messages from 4 and 5", fontsize=10)
    panels[1].legend(frameon=False, fontsize=8.5, loc="lower right")
    bottom.supxlabel("value carried by the error message", fontsize=9.5)
    return figure


# ----------------------------------------------------------------------
# the scenario


def compute(run: scenario.Scenario) -> Result:
    """Compute everything, print the summary, write the figures and the trace."""
    say, epochs, seed = run.say, run.epochs, run.seed
    G = article_network(seed)
    X, Z = task(seed)
    topology = neurosim.validate(G)
    all_rules = make_rules(seed)
    base = 0.5 * float(np.var(Z))  # the loss of the best constant output

    say(
        f"The article's 2-3-2-1 sigmoid network (seed {seed}) learns "
        f"z = 0.1 + 0.8·σ(4·x1)·σ(4·x2) from {N_SAMPLES} samples with SGD, "
        f"η = {LEARNING_RATE:g}, batches of {BATCH_SIZE}, {epochs} epochs."
    )
    check = gradient_check(G, X, Z)
    say(f"True gradient vs central differences: max relative error {check:.1e}.")
    say()
    say(
        "Angle between each rule's update and −∇L before training (degrees), and "
        "one SGD step through the actors minus η·direction:"
    )
    angles = {name: layer_angles(G, X, Z, r, topology) for name, r in all_rules.items()}
    errors = {name: one_step_error(G, X, Z, r) for name, r in all_rules.items()}
    run.table(
        ["rule", "layer 1", "layer 2", "layer 3", "max |actor step − η·direction|"],
        [
            [name, *(angles[name][k] for k in LAYERS), errors[name]]
            for name in all_rules
        ],
        digits=3,
    )

    raw = {}
    with run.progress("training") as bar:
        for i, (name, rule) in enumerate(all_rules.items()):
            loss, checkpoints, history = train(
                G,
                X,
                Z,
                rule,
                epochs,
                progress=lambda done, total, i=i: bar(
                    i * total + done, len(all_rules) * total
                ),
            )
            raw[name] = {
                "angles": angles[name],
                "step_error": errors[name],
                "epoch_loss": loss,
                "checkpoints": checkpoints,
                "angle_history": history,
            }
    lines = verdicts(raw, base)
    results = {
        name: RuleResult(name=name, verdict=lines[name], **r) for name, r in raw.items()
    }

    traces, rows = backward_messages(G, X, Z, all_rules["feedback_alignment"])
    say()
    say(
        "Feedback alignment, one iteration (sample 0): what each error message "
        "carried, and what exact backprop carried on the same connection:"
    )
    run.table(
        ["message", "B", "w", "carried B·g", "backprop w·g"],
        [[f"{v} → {u}", b, w, carried, exact] for v, u, b, w, carried, exact in rows],
        digits=4,
    )
    say()
    for r in results.values():
        say(r.verdict)

    run.save(angles_figure(results), "angles.png")
    run.save(loss_figure(results, base), "loss.png")
    run.save(timeline_figure(traces["rule"], rows), "timeline.png")
    run.save_trace(traces["rule"])
    return Result(
        rules=results,
        gradient_check=check,
        messages=rows,
        files=list(run.written),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenario with the options in `argv`; 0 on success."""
    run = scenario.start(
        __file__,
        __doc__,
        argv,
        epochs=EPOCHS,
        seed_help="seed of the initial weights, the samples and the feedback weights B",
    )
    compute(run)
    return run.finish()


if __name__ == "__main__":
    scenario.run_script(main)

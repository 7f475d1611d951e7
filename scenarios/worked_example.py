"""A worked example by hand: one step of backpropagation on a 2-2-2 network.

The worked example that neurosim starts from: inputs i1 = 1, i2 = 1.5, targets o1 = 2.5,
o2 = 3, identity neurons, weights w1..w8 = 1.5, 2, 2, 2.5, 1.2, 2.5, 0.5, 1
and η = 0.1. The scenario takes that step with the actors and prints the
weights before and after it beside the worked example's names, then repeats
it: with the worked example's η = 0.1 the error grows until the training diverges, with
η = 0.02 it converges.

Writes timeline.png (the messages of the step), network.png (the weights
before and after it), loss.png (the error per epoch of both runs, the
diverging one up to its overflow), animation.gif (the step, animated) and
trace.csv (every message and update of the step).
"""

from __future__ import annotations

import neurosim
from neurosim import plot, scenario
from neurosim.examples import WORKED_EXAMPLE_DATA, WORKED_EXAMPLE_NAMES, worked_example

X, Z = WORKED_EXAMPLE_DATA
ARTICLE_ETA = 0.1  # the worked example's learning rate: repeating its step diverges
SMALL_ETA = 0.02  # small enough for the error to fall every step
ARTICLE_W5 = -1.3986  # what the worked example prints for w5 after the step


def add_options(parser):
    parser.add_argument(
        "--no-animation", action="store_true", help="skip animation.gif (slow)"
    )


def main(argv: list[str] | None = None) -> int:
    run = scenario.start(
        __file__,
        __doc__,
        argv,
        epochs=30,
        epochs_help=f"epochs of the η = {SMALL_ETA} run",
        seed_help="unused: the worked example fixes the weights",
        extra=add_options,
    )
    net = neurosim.Network(worked_example())
    before = net.to_graph()
    step = net.train(X, Z, learning_rate=ARTICLE_ETA, record=True)
    print_step(run, step, before, net)

    run.say()
    run.say("Repeating the step, as the worked example suggests:")
    diverging, error = repeat_until_divergence()
    converging = train_small_eta(run)
    print_repetitions(run, diverging, error, converging)

    ax = plot.timeline(step.trace)
    ax.set_title(f"Worked example: the messages of one step (η = {ARTICLE_ETA})")
    run.save(ax, "timeline.png")
    figure = plot.network_change(
        before, net, titles=("before", f"after one step (η = {ARTICLE_ETA})")
    )
    run.save(figure, "network.png")
    run.save(loss_figure(diverging, error, converging), "loss.png")
    if not run.options.no_animation:
        title = f"worked example, one step, η = {ARTICLE_ETA}"
        plot.animate(
            step.trace,
            before,
            run.path("animation.gif"),
            title=title,
            outputs=dict(zip(net.outputs, step.outputs[0], strict=True)),
            targets=dict(zip(net.outputs, Z[0], strict=True)),
        )
    run.save_trace(step.trace)
    return run.finish()


def print_step(run, step, before, net):
    """The step as the worked example writes it: forward values, E, then w1..w8."""
    trace = step.trace
    forward = trace.filter(kind="forward")
    backward = trace.filter(kind="backward")
    sent = {  # what each hidden neuron sent forward, and when
        u: (float(value), float(t))
        for u, value, t in zip(
            forward.source, forward.value, forward.sent_at, strict=True
        )
    }
    (h1, t_hidden), (h2, _) = sent["h1"], sent["h2"]
    t_outputs = float(forward.received_at.max())
    t_back = float(backward.received_at.max())
    o1, o2 = step.outputs[0]
    (i1, i2), (z1, z2) = X[0], Z[0]
    f = scenario.fmt
    run.say("Worked example: one step of backpropagation, as done by hand")
    run.say(f"  a 2-2-2 network of identity neurons, one step with η = {ARTICLE_ETA}")
    run.say(f"  inputs i1 = {f(i1)}, i2 = {f(i2)}; targets o1 = {f(z1)}, o2 = {f(z2)}")
    run.say()
    run.say("Forward pass (the values on the messages, in virtual time):")
    run.say(f"  t = 0  the inputs send i1 = {f(i1)} and i2 = {f(i2)}")
    run.say(
        f"  t = {f(t_hidden)}  h1 = i1·w1 + i2·w3 = {f(h1)}   "
        f"h2 = i1·w2 + i2·w4 = {f(h2)}"
    )
    run.say(
        f"  t = {f(t_outputs)}  o1 = h1·w5 + h2·w7 = {f(o1)}   "
        f"o2 = h1·w6 + h2·w8 = {f(o2)}"
    )
    run.say(
        f"  E = ½(o1t − o1)² + ½(o2t − o2)² = ½({f(z1)} − {f(o1)})² "
        f"+ ½({f(z2)} − {f(o2)})² = {f(step.loss[0])}"
    )
    run.paragraph(
        f"The δs leave o1 and o2 at t = {f(t_outputs)} and reach h1 and h2 at "
        f"t = {f(t_back)}; the next sample could enter at t = {f(step.ends[0])}.",
        indent=2,
    )
    run.say()
    run.say("The weights, before and after the step (∂E/∂w = (before − after) / η):")
    rows = []
    for name, (u, v) in WORKED_EXAMPLE_NAMES.items():
        old, new = before.edges[u, v]["weight"], net.weights[u, v]
        note = ""
        if name == "w5":
            note = f"the worked example prints {ARTICLE_W5}: a slip, not a rounding"
        rows.append([name, f"{u} → {v}", old, new, (old - new) / ARTICLE_ETA, note])
    run.table(["weight", "connection", "before", "after", "∂E/∂w", ""], rows)
    run.paragraph(
        "As in the worked example, the neurons have no bias (node attribute "
        "bias=None), so every step is the worked example's, not only this one.",
        indent=2,
    )


def repeat_until_divergence(limit=100):
    """Train with the worked example's η for up to `limit` epochs.

    Returns the history of the epochs before a value overflowed (the
    error's :attr:`~neurosim.DivergenceError.history`) and the error, or the
    whole run's history and None if it never did.
    """
    net = neurosim.Network(worked_example())
    try:
        return net.train(X, Z, learning_rate=ARTICLE_ETA, epochs=limit), None
    except neurosim.DivergenceError as error:
        return error.history, error


def train_small_eta(run):
    """The η = 0.02 run; its validation loss is E after each epoch's update."""
    net = neurosim.Network(worked_example())
    with run.progress(f"η = {SMALL_ETA}") as bar:
        return net.train(
            X,
            Z,
            learning_rate=SMALL_ETA,
            epochs=run.epochs,
            progress=bar,
            validation=(X, Z),
        )


def print_repetitions(run, diverging, error, converging):
    """The E of each epoch (before its update) of both runs, side by side."""
    big, small = diverging.epoch_loss, converging.epoch_loss
    shown = sorted(
        {e for e in range(len(big) + 1)}
        | {e for e in (10, 20, 50, 100, 200, 500) if e < len(small)}
        | {len(small) - 1}
    )
    rows = []
    for e in shown:
        if e < len(big):
            left = f"{big[e]:.6g}"
        else:
            left = "overflow" if error is not None and e == error.epoch else ""
        right = f"{small[e]:.6g}" if e < len(small) else ""
        rows.append([e, left, right])
    run.table(
        ["epoch", f"E, η = {ARTICLE_ETA}", f"E, η = {SMALL_ETA}"], rows, align="rrr"
    )
    run.say()
    if error is not None:
        run.paragraph(
            f"η = {ARTICLE_ETA} diverges: each step overshoots the minimum, so E "
            "grows every iteration until a value overflows (in epoch "
            f"{error.epoch}, neuron {error.neuron} computed a non-finite "
            f"{error.quantity})."
        )
    else:
        run.say(f"η = {ARTICLE_ETA} did not diverge within {len(big)} epochs.")
    last = len(small) - 1
    run.paragraph(
        f"η = {SMALL_ETA} converges: E = {small[last]:.3g} in epoch {last} (before "
        f"its update), {converging.validation_loss[-1]:.3g} after {len(small)} "
        f"epoch{'s' if len(small) > 1 else ''}."
    )


def loss_figure(diverging, error, converging):
    """E per epoch of both runs, the diverging one up to its overflow, marked."""
    up, down = plot.COLORS["backward"], plot.COLORS["forward"]
    ax = plot.loss(diverging, label=f"η = {ARTICLE_ETA}: E grows every step", color=up)
    plot.loss(converging, ax=ax, label=f"η = {SMALL_ETA}: E falls", color=down)
    epochs = len(converging.epoch_loss)
    if error is not None:
        ax.axvline(error.epoch, color=up, linestyle=":", linewidth=1.3)
        ax.annotate(
            f"epoch {error.epoch}: a value overflows\n(DivergenceError)",
            xy=(error.epoch, 0.97),
            xycoords=("data", "axes fraction"),
            xytext=(5, 0),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=9,
            color=up,
        )
        epochs = max(epochs, error.epoch + 1)
    ax.set_xlim(-0.5, epochs - 0.5)
    ax.legend(frameon=False, fontsize=9, loc="upper right")
    ax.set_title(
        f"Worked example: its η = {ARTICLE_ETA} diverges, η = {SMALL_ETA} converges",
        fontsize=12,
    )
    return ax


if __name__ == "__main__":
    scenario.run_script(main)

"""The article's worked example: one step of backpropagation on a 2-2-2 network.

Seed 000 of the source material: inputs i1 = 1, i2 = 1.5, targets o1 = 2.5,
o2 = 3, identity neurons, weights w1..w8 = 1.5, 2, 2, 2.5, 1.2, 2.5, 0.5, 1
and η = 0.1. The scenario takes that step with the actors and prints the
weights before and after it beside the article's names, then repeats it: with
the article's η = 0.1 the error grows until the training diverges, with
η = 0.02 it converges.

Writes timeline.png (the messages of the step), network.png (the weights
before and after it), loss.png (the η = 0.02 run), animation.gif (the step,
animated) and trace.csv (every message and update of the step).
"""

from __future__ import annotations

import neurosim
from neurosim import plot, scenario
from neurosim.examples import WORKED_EXAMPLE_DATA, WORKED_EXAMPLE_NAMES, worked_example

X, Z = WORKED_EXAMPLE_DATA
ARTICLE_ETA = 0.1  # the article's learning rate: repeating its step diverges
SMALL_ETA = 0.02  # small enough for the error to fall every step
ARTICLE_W5 = -1.3986  # what the article prints for w5 after the step


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
        seed_help="unused: the article fixes the weights",
        extra=add_options,
    )
    net = neurosim.Network(worked_example())
    before = net.to_graph()
    step = net.train(X, Z, learning_rate=ARTICLE_ETA, record=True)
    print_step(run, step, before, net)

    run.say()
    run.say("Repeating the step, as the article suggests:")
    diverging, error = repeat_until_divergence()
    converging = train_small_eta(run)
    print_repetitions(run, diverging, error, converging.epoch_loss)

    ax = plot.timeline(step.trace)
    ax.set_title(f"Worked example: the messages of one step (η = {ARTICLE_ETA})")
    run.save(ax, "timeline.png")
    figure = plot.network_change(
        before, net, titles=("before", f"after one step (η = {ARTICLE_ETA})")
    )
    run.save(figure, "network.png")
    ax = plot.loss(converging)
    ax.set_title(f"Worked example, η = {SMALL_ETA}: the error falls every epoch")
    run.save(ax, "loss.png")
    if not run.options.no_animation:
        title = f"worked example (seed 000), one step, η = {ARTICLE_ETA}"
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
    """The step as the article writes it: forward values, E, then w1..w8."""
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
    run.say("Worked example (seed 000 of the source material):")
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
            note = f"the article prints {ARTICLE_W5} (a rounding slip)"
        rows.append([name, f"{u} → {v}", old, new, (old - new) / ARTICLE_ETA, note])
    run.table(["weight", "connection", "before", "after", "∂E/∂w", ""], rows)
    run.paragraph(
        "As in the article, the neurons have no bias (node attribute bias=None), "
        "so every step is the article's, not only this one.",
        indent=2,
    )


def repeat_until_divergence(limit=100):
    """E of each step with the article's η until a value overflows."""
    net = neurosim.Network(worked_example())
    losses = []
    for _ in range(limit):
        try:
            history = net.train(X, Z, learning_rate=ARTICLE_ETA)
        except neurosim.DivergenceError as error:
            return losses, error
        losses.append(float(history.loss[0]))
    return losses, None


def train_small_eta(run):
    net = neurosim.Network(worked_example())
    with run.progress(f"η = {SMALL_ETA}") as bar:
        return net.train(X, Z, learning_rate=SMALL_ETA, epochs=run.epochs, progress=bar)


def print_repetitions(run, diverging, error, converging):
    shown = sorted(
        {e for e in range(len(diverging) + 1)}
        | {e for e in (10, 20, 50, 100, 200, 500) if e < len(converging)}
        | {len(converging) - 1}
    )
    rows = []
    for e in shown:
        if e < len(diverging):
            big = f"{diverging[e]:.6g}"
        else:
            big = "overflow" if e == len(diverging) and error else ""
        small = f"{converging[e]:.6g}" if e < len(converging) else ""
        rows.append([e, big, small])
    run.table(
        ["epoch", f"E, η = {ARTICLE_ETA}", f"E, η = {SMALL_ETA}"], rows, align="rrr"
    )
    run.say()
    if error is not None:
        run.paragraph(
            f"η = {ARTICLE_ETA} diverges: each step overshoots the minimum, so E "
            "grows every iteration until a value overflows (in epoch "
            f"{len(diverging)}, neuron {error.neuron} computed a non-finite "
            f"{error.quantity})."
        )
    else:
        run.say(f"η = {ARTICLE_ETA} did not diverge within {len(diverging)} steps.")
    run.say(
        f"η = {SMALL_ETA} converges: E = {converging[-1]:.3g} after "
        f"{len(converging)} epochs."
    )


if __name__ == "__main__":
    scenario.run_script(main)

"""Pipelining: several samples in the network at once, stale weights, and delays.

A 2-4-4-1 network (tanh, tanh, identity output) learns a soft step,
``z = 0.8·tanh(2·x1 − x2)``, from 32 samples with online SGD (η = 0.2). The
inputs can present a new sample every half unit of virtual time
(``interval=0.5``); one sample takes 5 units from its entry to its last
update (3 forward, 2 back),
so sequential training (``in_flight=1``) leaves the network idle most of the
time. With ``in_flight=K`` up to K samples are in the network at once, as in
a pipeline:

1. throughput (samples per unit of virtual time), final loss and staleness
   (how many of its own updates a neuron made between the forward and the
   backward step of a sample) for K = 1, 2, 4, 8, with and without weight
   stashing (``stash=True``: the error travels back through the weights the
   forward step used, as in PipeDream);
2. the delay experiment, on a 2-4-1 tanh network with a skip connection
   ``i1 → o1`` beside the path through the hidden layer: that connection is
   made slower (delay 3 instead of 1). Sequentially this changes only the
   times, and the weights stay bit-identical; with two samples in flight
   (``in_flight=2, interval=2``) it changes the order of events at a
   neuron, hence what is learned. The scenario finds, in the two traces,
   the first events whose order changed and says them in words.

Writes loss.png (the loss per epoch and against virtual time, every
setting), staleness.png (the mean staleness of each layer for each K),
timeline.png (the first five samples with four in flight, one colour per
sample), delay.png (the hidden layer's forward and update steps in both
delay runs, the changed order marked) and trace.csv (those five samples).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
from matplotlib.figure import Figure

import neurosim
from neurosim import plot, scenario
from neurosim.plot.style import OKABE_ITO

SIZES = (2, 4, 4, 1)
ACTIVATIONS = ("tanh", "tanh", "identity")
N_SAMPLES = 32
LEARNING_RATE = 0.2
EPOCHS = 10
INTERVAL = 0.5  # the inputs present at most one sample per half time unit
IN_FLIGHT = (1, 2, 4, 8)
TIMELINE_IN_FLIGHT = 4
TIMELINE_SAMPLES = 5

#: The delay experiment: a 2-4-1 network with a skip connection i1 → o1,
#: whose delay goes from FAST to SLOW. OVERLAP is the pipelined setting in
#: which the slower connection changes the order of events: sample s + 1
#: enters 2 time units after s, before s is done (3 units with delay 1, 4
#: with delay 3), so the interval, not the end of s − 2, sets every entry.
#: RECORDED iterations are traced to find the events whose order changed.
SKIP_SIZES = (2, 4, 1)
SKIP = ("i1", "o1")
FAST, SLOW = 1.0, 3.0
OVERLAP = {"in_flight": 2, "interval": 2.0}
RECORDED = 8

COLORS = {  # Okabe-Ito
    1: OKABE_ITO["black"],
    2: OKABE_ITO["blue"],
    4: OKABE_ITO["orange"],
    8: OKABE_ITO["vermillion"],
}


@dataclass(frozen=True)
class Setting:
    """One training run of the pipelining comparison."""

    in_flight: int
    stash: bool
    throughput: float  # samples per unit of virtual time
    duration: float  # virtual time of the last update
    epoch_loss: np.ndarray
    epoch_ends: np.ndarray  # virtual time at which each epoch was done
    staleness: dict[str, float]  # layer label -> mean staleness of its neurons

    @property
    def label(self) -> str:
        if self.in_flight == 1:
            return "K = 1 (sequential)"
        return f"K = {self.in_flight}" + (", stash" if self.stash else "")


@dataclass(frozen=True)
class Reorder:
    """An event whose order changed between two runs, at one or more neurons."""

    neurons: tuple  # where it changed (the same times at each)
    forward: int  # iteration whose forward step moved relative to ...
    update: int  # ... this iteration's update
    times: tuple[tuple[float, float], tuple[float, float]]  # (F, U) fast, slow
    before: tuple[bool, bool]  # did the update precede the forward? fast, slow
    sentence: str


@dataclass(frozen=True)
class DelayRun:
    """One setting of the delay experiment, with the connection fast and slow."""

    in_flight: int
    interval: float
    weights: dict[float, dict]  # delay -> {(u, v): w} after training
    biases: dict[float, dict]
    ends: dict[float, np.ndarray]  # delay -> history.ends
    final_loss: dict[float, float]
    max_weight_difference: float  # max |w_slow − w_fast| over weights and biases
    reorders: list[Reorder]  # in order of time; empty when nothing moved


@dataclass(frozen=True)
class Result:
    """Everything the scenario computed (:func:`compute` returns it)."""

    settings: list[Setting]
    sequential: DelayRun  # in_flight=1
    overlapping: DelayRun  # OVERLAP
    files: list[Path]


# ----------------------------------------------------------------------
# the task and the networks


def task(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """32 points uniform in [−1, 1]² and the soft step above them."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(N_SAMPLES, 2))
    return X, 0.8 * np.tanh(2.0 * X[:, :1] - X[:, 1:])


def network(seed: int) -> nx.DiGraph:
    """The 2-4-4-1 network of the pipelining comparison."""
    return neurosim.layered(SIZES, activation=list(ACTIVATIONS), seed=seed)


def skip_network(seed: int, delay: float) -> nx.DiGraph:
    """A 2-4-1 tanh network plus the skip connection i1 → o1 of `delay`."""
    G = neurosim.layered(SKIP_SIZES, activation=["tanh", "identity"], seed=seed)
    weight = np.random.default_rng(seed).uniform(-1, 1) / np.sqrt(SKIP_SIZES[1] + 1)
    G.add_edge(*SKIP, weight=float(weight), delay=delay)
    return G


def layer_label(G: nx.DiGraph, v) -> str:
    layer = G.nodes[v]["layer"]
    return "output" if layer == len(SIZES) - 1 else f"layer {layer}"


# ----------------------------------------------------------------------
# pipelining


def train_setting(G, X, Z, epochs, in_flight, stash, progress=None) -> Setting:
    net = neurosim.Network(G)
    history = net.train(
        X,
        Z,
        LEARNING_RATE,
        epochs=epochs,
        in_flight=in_flight,
        interval=INTERVAL,
        stash=stash,
        progress=progress,
    )
    stale = history.staleness.mean(axis=0)
    per_layer: dict[str, list[float]] = {}
    for v, value in zip(history.neurons, stale, strict=True):
        per_layer.setdefault(layer_label(G, v), []).append(float(value))
    return Setting(
        in_flight=in_flight,
        stash=stash,
        throughput=len(history.ends) / float(history.ends[-1]),
        duration=float(history.ends[-1]),
        epoch_loss=history.epoch_loss,
        epoch_ends=history.ends[N_SAMPLES - 1 :: N_SAMPLES].copy(),
        staleness={k: float(np.mean(v)) for k, v in per_layer.items()},
    )


# ----------------------------------------------------------------------
# the delay experiment


def step_times(trace, n_samples: int) -> tuple[dict, dict]:
    """``F[v][s]`` and ``U[v][s]``: each neuron's forward and update times.

    ``s`` counts iterations from 0 across epochs; F is the arrival of the
    last forward message of ``s`` at ``v``, U the time of ``v``'s update.
    """
    forward = trace.filter(kind="forward")
    F: dict = {}
    for e, s, v, t in zip(
        forward.epoch,
        forward.sample,
        forward.destination,
        forward.received_at,
        strict=True,
    ):
        i = int(e) * n_samples + int(s)
        F.setdefault(v, {})
        F[v][i] = max(F[v].get(i, -np.inf), float(t))
    U: dict = {}
    u = trace.updates
    for e, s, v, t in zip(u.epoch, u.sample, u.neuron, u.time, strict=True):
        U.setdefault(v, {})[int(e) * n_samples + int(s)] = float(t)
    return F, U


def precedes(U: dict, F: dict, s: int, r: int) -> bool:
    """Does update(s) come before forward(r) at one neuron (docs/concepts.md)?

    At equal times a backward (with its update) comes before a forward,
    unless that backward became possible only by its own forward at that
    time (an output's), which then follows the forwards of lower iterations.
    """
    if U[s] != F[r]:
        return U[s] < F[r]
    return U[s] > F[s] or s < r


def reorders(fast_trace, slow_trace, n_samples: int, limit: int = 3) -> list[Reorder]:
    """The (forward, update) pairs whose order differs between the two runs.

    For every neuron and every pair ``(forward(r), update(s))``, ``s < r``,
    whether the update came first (so that forward(r) used its result).
    Pairs that changed at several neurons at the same times are reported
    once; the first `limit`, in order of time in the slow run.
    """
    (Ff, Uf), (Fs, Us) = (
        step_times(fast_trace, n_samples),
        step_times(slow_trace, n_samples),
    )
    found: dict = {}
    for v in Ff:
        if v not in Uf:
            continue  # an input
        for r in sorted(Ff[v]):
            for s in range(r):
                if s not in Uf[v] or s not in Us[v]:
                    continue
                a = precedes(Uf[v], Ff[v], s, r)
                b = precedes(Us[v], Fs[v], s, r)
                if a != b:
                    key = (r, s, Ff[v][r], Uf[v][s], Fs[v][r], Us[v][s], a, b)
                    found.setdefault(key, []).append(v)
    ordered = sorted(found.items(), key=lambda kv: (min(kv[0][4], kv[0][5]), kv[0]))
    out = []
    for (r, s, f_fast, u_fast, f_slow, u_slow, a, b), neurons in ordered[:limit]:
        out.append(
            Reorder(
                neurons=tuple(neurons),
                forward=r,
                update=s,
                times=((f_fast, u_fast), (f_slow, u_slow)),
                before=(a, b),
                sentence=_sentence(
                    neurons, r, s, (f_fast, u_fast), (f_slow, u_slow), b
                ),
            )
        )
    return out


def _where(neurons: Sequence) -> str:
    names = [str(v) for v in neurons]
    if len(names) == 1:
        return f"at {names[0]}"
    return f"at each of {', '.join(names[:-1])} and {names[-1]}"


def _t(x: float) -> str:
    return f"t = {scenario.fmt(x)}"


def _sentence(neurons, r, s, fast, slow, after: bool) -> str:
    (f_fast, u_fast), (f_slow, u_slow) = fast, slow
    order = "after" if after else "before"
    was = "before" if after else "after"
    uses = (
        "so it now uses the weights with that update"
        if after
        else "so it now uses the weights without that update"
    )
    return (
        f"{_where(neurons)}, sample {r}'s forward now happens at {_t(f_slow)} "
        f"{order} sample {s}'s update at {_t(u_slow)} (with delay {FAST:g}: forward "
        f"at {_t(f_fast)}, {was} the update at {_t(u_fast)}), {uses}."
    )


def delay_run(X, Z, seed, epochs, in_flight, interval) -> tuple[DelayRun, dict]:
    """Train the skip network with the skip connection fast and slow.

    Returns the run and the traces of its first RECORDED iterations (a
    separate, recorded run: the engine is deterministic, so they are the
    first iterations of the long one).
    """
    weights, biases, ends, loss, traces = {}, {}, {}, {}, {}
    options = {"in_flight": in_flight, "interval": interval}
    for delay in (FAST, SLOW):
        G = skip_network(seed, delay)
        net = neurosim.Network(G)
        history = net.train(X, Z, LEARNING_RATE, epochs=epochs, **options)
        weights[delay], biases[delay] = net.weights, net.biases
        ends[delay], loss[delay] = history.ends, float(history.epoch_loss[-1])
        traces[delay] = (
            neurosim.Network(G)
            .train(X[:RECORDED], Z[:RECORDED], LEARNING_RATE, record=True, **options)
            .trace
        )
    difference = max(
        *(abs(weights[SLOW][k] - weights[FAST][k]) for k in weights[FAST]),
        *(abs(biases[SLOW][k] - biases[FAST][k]) for k in biases[FAST]),
    )
    run = DelayRun(
        in_flight=in_flight,
        interval=interval,
        weights=weights,
        biases=biases,
        ends=ends,
        final_loss=loss,
        max_weight_difference=float(difference),
        reorders=reorders(traces[FAST], traces[SLOW], RECORDED),
    )
    return run, traces


# ----------------------------------------------------------------------
# figures


_style = plot.style_axes


def loss_figure(settings: list[Setting]) -> Figure:
    """Loss per epoch (left) and against virtual time (right)."""
    figure = Figure(figsize=(11.0, 4.2), layout="constrained")
    by_epoch, by_time = figure.subplots(1, 2, sharey=True)
    for s in settings:
        style = {
            "color": COLORS[s.in_flight],
            "linewidth": 1.8,
            "linestyle": "--" if s.stash else "-",
            "label": s.label,
        }
        epochs = np.arange(len(s.epoch_loss))  # from 0, as plot.loss counts
        by_epoch.plot(epochs, s.epoch_loss, **style)
        by_time.plot(s.epoch_ends, s.epoch_loss, **style)
    by_epoch.set_yscale("log")
    by_epoch.set_xlim(0, max(1, len(settings[0].epoch_loss) - 1))
    by_epoch.set_xlabel("epoch")
    by_epoch.set_ylabel("mean loss  ½ (z − y)²")
    by_epoch.set_title("Per epoch: staleness costs little here", fontsize=11)
    by_time.set_xscale("log")
    by_time.set_xlabel("virtual time at the end of the epoch (log scale)")
    by_time.set_title("Per unit of virtual time: K samples in flight", fontsize=11)
    by_time.legend(frameon=False, fontsize=8.5, loc="lower left")
    for ax in (by_epoch, by_time):
        _style(ax)
    figure.suptitle(
        f"{'-'.join(map(str, SIZES))} tanh network, z = 0.8·tanh(2·x1 − x2), SGD "
        f"η = {LEARNING_RATE:g}, one entry per {INTERVAL:g} time units at most "
        "(dashed: weight stashing)",
        fontsize=11,
    )
    return figure


def staleness_figure(settings: list[Setting]) -> Figure:
    """Bars: mean staleness of each layer, for each K (without stashing)."""
    plain = [s for s in settings if not s.stash]
    layers = list(plain[0].staleness)
    figure = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = figure.add_subplot()
    width = 0.8 / len(plain)
    for i, s in enumerate(plain):
        x = np.arange(len(layers)) + (i - (len(plain) - 1) / 2) * width
        heights = [s.staleness[layer] for layer in layers]
        shown = [max(h, 0.04) for h in heights]  # a 0 stays visible as a stub
        bars = ax.bar(
            x,
            shown,
            width * 0.92,
            color=COLORS[s.in_flight],
            label=f"K = {s.in_flight}",
        )
        ax.bar_label(
            bars,
            [scenario.fmt(h, 3) for h in heights],
            fontsize=8,
            padding=2,
            color="#444444",
        )
    ax.set_xticks(range(len(layers)), layers)
    ax.set_ylabel("mean staleness (own updates between\nforward and backward step)")
    ax.set_title(
        f"Staleness per layer, {len(plain[0].epoch_loss)} epochs "
        f"(the same with stashing)",
        fontsize=11,
    )
    ax.legend(frameon=False, fontsize=9, title="samples in flight", title_fontsize=9)
    _style(ax)
    ax.grid(axis="x", visible=False)
    return figure


def timeline_figure(trace) -> Figure:
    figure = Figure(figsize=(11.0, 6.4), layout="constrained")
    ax = figure.add_subplot()
    plot.timeline(
        trace,
        sample=list(range(TIMELINE_SAMPLES)),
        ax=ax,
        values=False,
        color_by="sample",
    )
    ax.set_title(
        f"The first {TIMELINE_SAMPLES} samples with {TIMELINE_IN_FLIGHT} in flight "
        f"(entries at least {INTERVAL:g} apart): one colour per sample, forward "
        "solid, backward dashed",
        fontsize=10.5,
    )
    return figure


def delay_figure(run: DelayRun, traces: dict, n_samples: int) -> Figure:
    """The steps of one hidden neuron in both runs, the changed pair marked."""
    first = run.reorders[0]
    v = first.neurons[0]
    shown = range(0, first.forward + 3)
    figure = Figure(figsize=(11.0, 3.6), layout="constrained")
    ax = figure.add_subplot()
    colors = plot.SAMPLE_COLORS
    rows = {FAST: 1.0, SLOW: 0.0}
    for delay, y in rows.items():
        F, U = step_times(traces[delay], n_samples)
        for s in shown:
            c = colors[s % len(colors)]
            ax.scatter(F[v][s], y + 0.12, marker="o", s=60, color=c, zorder=3)
            ax.annotate(
                f"F{s}",
                (F[v][s], y + 0.12),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                fontsize=8,
            )
            ax.scatter(U[v][s], y - 0.12, marker="D", s=50, color=c, zorder=3)
            ax.annotate(
                f"U{s}",
                (U[v][s], y - 0.12),
                xytext=(0, -13),
                textcoords="offset points",
                ha="center",
                fontsize=8,
            )
        (f, u) = first.times[0 if delay == FAST else 1]
        ax.plot([f, u], [y + 0.12, y - 0.12], color="#CC0000", linewidth=1.4, zorder=2)
        if f == u:
            ax.annotate(
                "same time: the update comes first",
                ((f + u) / 2, y),
                xytext=(8, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                color="#CC0000",
            )
    ax.set_yticks(
        list(rows.values()),
        [f"skip delay {d:g}" for d in rows],
    )
    ax.set_ylim(-0.55, 1.55)
    ax.set_xlabel("virtual time")
    ax.set_title(
        f"Neuron {v}, in_flight={run.in_flight}, interval={run.interval:g}: "
        f"forward steps F (circles, above) and updates U (diamonds, below); red: "
        f"F{first.forward} vs U{first.update}, whose order changed",
        fontsize=10,
    )
    _style(ax)
    ax.grid(axis="y", visible=False)
    return figure


# ----------------------------------------------------------------------
# the scenario


def compute(run: scenario.Scenario) -> Result:
    """Train every setting, print the tables and sentences, write the files."""
    say, epochs, seed = run.say, run.epochs, run.seed
    X, Z = task(seed)
    G = network(seed)
    say(
        f"A {'-'.join(map(str, SIZES))} network ({', '.join(ACTIVATIONS)}; seed "
        f"{seed}) learns z = 0.8·tanh(2·x1 − x2) from {N_SAMPLES} samples, online SGD, "
        f"η = {LEARNING_RATE:g}, {epochs} epochs; a sample may enter every "
        f"{INTERVAL:g} time units, with up to K samples in flight:"
    )
    plan = [(k, stash) for k in IN_FLIGHT for stash in (False, True)]
    plan = [(k, stash) for k, stash in plan if k > 1 or not stash]
    settings = []
    with run.progress("training") as bar:
        for i, (k, stash) in enumerate(plan):
            settings.append(
                train_setting(
                    G,
                    X,
                    Z,
                    epochs,
                    k,
                    stash,
                    progress=lambda done, total, i=i: bar(
                        i * total + done, len(plan) * total
                    ),
                )
            )
    layers = list(settings[0].staleness)
    run.table(
        [
            "setting",
            "throughput",
            "virtual time",
            "final loss",
            *(f"staleness {layer}" for layer in layers),
        ],
        [
            [
                s.label,
                s.throughput,
                s.duration,
                float(s.epoch_loss[-1]),
                *(s.staleness[layer] for layer in layers),
            ]
            for s in settings
        ],
        digits=4,
    )

    say()
    say(
        f"The delay experiment: a {'-'.join(map(str, SKIP_SIZES))} tanh network "
        f"with a skip connection {SKIP[0]} → {SKIP[1]}, trained with that "
        f"connection's delay {FAST:g} and "
        f"{SLOW:g}."
    )
    sequential, _ = delay_run(X, Z, seed, epochs, in_flight=1, interval=0.0)
    same = (
        sequential.weights[FAST] == sequential.weights[SLOW]
        and sequential.biases[FAST] == sequential.biases[SLOW]
    )
    say(
        f"  in_flight=1: weights {'bit-identical' if same else 'DIFFERENT'} "
        f"(max |Δw| = {sequential.max_weight_difference:g}); the last update at "
        f"t = {scenario.fmt(float(sequential.ends[FAST][-1]))} with delay {FAST:g}, "
        f"t = {scenario.fmt(float(sequential.ends[SLOW][-1]))} with delay {SLOW:g}."
    )
    if sequential.reorders:
        say(f"  unexpected: {sequential.reorders[0].sentence}")
    overlapping, traces = delay_run(X, Z, seed, epochs, **OVERLAP)
    say(
        f"  in_flight={overlapping.in_flight}, interval={overlapping.interval:g}: max "
        f"|Δw| = {overlapping.max_weight_difference:.3g} after {epochs} epochs; "
        f"final loss {overlapping.final_loss[FAST]:.4g} with delay {FAST:g}, "
        f"{overlapping.final_loss[SLOW]:.4g} with delay {SLOW:g}."
    )
    if overlapping.reorders:
        say("  The first events whose order changed:")
        for r in overlapping.reorders:
            run.paragraph(r.sentence, indent=4)
    else:
        say("  No event changed its order.")

    timeline = neurosim.Network(G).train(
        X[:TIMELINE_SAMPLES],
        Z[:TIMELINE_SAMPLES],
        LEARNING_RATE,
        in_flight=TIMELINE_IN_FLIGHT,
        interval=INTERVAL,
        record=True,
    )
    run.save(loss_figure(settings), "loss.png")
    run.save(staleness_figure(settings), "staleness.png")
    run.save(timeline_figure(timeline.trace), "timeline.png")
    if overlapping.reorders:
        run.save(delay_figure(overlapping, traces, RECORDED), "delay.png")
    run.save_trace(timeline.trace)
    return Result(
        settings=settings,
        sequential=sequential,
        overlapping=overlapping,
        files=list(run.written),
    )


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

"""One neuron, driven window by window through a real transport.

The neuron under test is ``v`` (node 2): a sigmoid output neuron with
predecessors ``a`` (node 0, port 0) and ``b`` (node 1, port 1); it sends
forward to a successor ``s`` (node 3) and its error back to ``a`` only, and
receives errors from ``s``. The test plays every other node: it sends on
delay-0 links into ``v`` at the arrival times it wants, and reads what ``v``
handed to the transport.
"""

import math

import numpy as np
import pytest
import trio

from neurosim.activations import ACTIVATIONS
from neurosim.messages import BACKWARD, FORWARD, Link
from neurosim.neuron import Inbox, Neuron, NeuronState, Run, Wiring, run_neuron
from neurosim.rules import Article, Backprop
from neurosim.transport import Transport, link_table

W0 = np.array([0.5, -1.0, 0.25])  # w_a, w_b, b


class PlainSGD:
    """The optimizer protocol at its smallest."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    def init_state(self, size):
        return None

    def step(self, params, grad, state):
        params -= self.learning_rate * grad


def sigmoid(e):
    return 1 / (1 + math.exp(-e))


class Harness:
    def __init__(self, *, rule=None, training=True, batch=None, stash=False,
                 careful=False, on_missing="error", targets=(1.0,)):  # fmt: skip
        self.batched = batch is not None
        self.transport = Transport(batched=self.batched)
        size = batch or 1
        self.state = NeuronState("v", ACTIVATIONS["sigmoid"], W0.copy())
        self.wiring = Wiring(
            index=2,
            forward=link_table(FORWARD, [Link(3, 0, 1.5)]),
            backward=link_table(BACKWARD, [Link(0, 0, 2.0)]),
            senders=(0, 1),
            error_senders=(3,),
            output_column=0,
            weight_index=np.array([0]),
        )
        column = np.array(targets, dtype=float) if self.batched else list(targets)
        self.run = Run(
            transport=self.transport,
            batched=self.batched,
            rows=lambda s: (s * size, (s + 1) * size),
            targets=[column],
            optimizer=PlainSGD(0.5) if training else None,
            rule=rule or Backprop(),
            stash=stash,
            careful=careful,
            on_missing=on_missing,
        )
        self.neuron = Neuron(self.state, self.wiring, self.run)
        self.into_v = {
            (FORWARD, 0): link_table(FORWARD, [Link(2, 0, 0.0)]),
            (FORWARD, 1): link_table(FORWARD, [Link(2, 1, 0.0)]),
            (BACKWARD, 0): link_table(BACKWARD, [Link(2, 0, 0.0)]),
        }

    def arrive(self, kind, port, iteration, at, value, coefficient=None):
        """A message into v, arriving at `at`."""
        c = None if coefficient is None else np.array([coefficient])
        source = (0, 1)[port] if kind == FORWARD else 3
        self.transport.send(self.into_v[kind, port], source, iteration, at, value, c)

    def window(self, limit, deadlines=()):
        """Deliver everything arriving at or before `limit`; return v's report."""
        self.transport.flush()
        window, groups = self.transport.window(limit, inclusive=True)
        report = self.neuron.take([(window, g) for g in groups.get(2, ())], deadlines)
        sent = list(self.transport.outbox)
        self.transport.outbox.clear()
        return report, sent


def test_forward_waits_for_every_input_and_fires_at_the_last_arrival():
    h = Harness(training=False)
    h.arrive(FORWARD, 1, 0, 7.0, 3.0)  # b arrives first, at t=7
    _, sent = h.window(7.0)
    assert sent == []  # still waiting for a
    h.arrive(FORWARD, 0, 0, 8.0, 2.0)  # a, at t=8
    (me, done, outputs, problems), sent = h.window(8.0)
    e = 0.5 * 2.0 + (-1.0) * 3.0 + 0.25
    [(iteration, _, source, time, links, y, coefficients)] = sent
    assert (iteration, source, time, links.kind) == (0, 2, 8.0, FORWARD)
    assert y == pytest.approx(sigmoid(e), abs=1e-15)
    assert coefficients is None
    assert (me, done, problems) == (2, [(0, 8.0, 0)], [])
    assert outputs[0][1][0] == y


def test_error_message_uses_the_weight_before_the_update():
    h = Harness()
    x_a, x_b, z, delta_s = 2.0, 3.0, 1.0, 0.125
    h.arrive(FORWARD, 0, 0, 1.0, x_a)
    h.arrive(FORWARD, 1, 0, 1.0, x_b)
    _, [forward] = h.window(1.0)
    y = forward[5]
    h.arrive(BACKWARD, 0, 0, 5.0, delta_s, coefficient=1.0)  # s's error, at t=5
    (_, done, _, _), [back] = h.window(5.0)
    delta = (z - y) + delta_s  # own target error plus what came back
    g = delta * y * (1 - y)
    _, _, _, time, links, signal, coefficients = back
    assert (links.kind, time, list(links.destination)) == (BACKWARD, 5.0, [0])
    assert coefficients[0] * signal == pytest.approx(0.5 * g, rel=1e-15)  # old w_a
    np.testing.assert_allclose(
        h.state.params,
        [0.5 + 0.5 * g * x_a, -1.0 + 0.5 * g * x_b, 0.25 + 0.5 * g],
        rtol=1e-15,
    )
    assert done == [(0, 5.0, 0)]  # done when the update is done


def test_article_rule_sends_delta_without_the_derivative():
    h = Harness(rule=Article())
    h.arrive(FORWARD, 1, 0, 1.0, 0.0)
    h.arrive(FORWARD, 0, 0, 1.0, 0.0)
    _, [forward] = h.window(1.0)
    h.arrive(BACKWARD, 0, 0, 2.0, 0.0, coefficient=1.0)
    _, [back] = h.window(2.0)
    assert back[6][0] * back[5] == pytest.approx(0.5 * (1.0 - forward[5]), rel=1e-15)


def test_minibatch_messages_carry_the_whole_batch():
    h = Harness(batch=3, targets=np.zeros(3))
    xa, xb, z = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, -1.0]), np.zeros(3)
    h.arrive(FORWARD, 0, 0, 1.0, xa)
    h.arrive(FORWARD, 1, 0, 1.0, xb)
    _, [forward] = h.window(1.0)
    h.arrive(BACKWARD, 0, 0, 2.0, np.zeros(3), coefficient=1.0)  # (weight, g)
    _, [back] = h.window(2.0)
    y = forward[5]
    y_expected = 1 / (1 + np.exp(-(0.5 * xa - xb + 0.25)))
    np.testing.assert_allclose(y, y_expected, rtol=1e-15)
    g, coefficients = back[5], back[6]
    np.testing.assert_allclose(g, (z - y) * y * (1 - y), rtol=1e-15)
    assert coefficients.tolist() == [0.5]
    grad_a = -np.mean(g * xa)
    assert h.state.params[0] == pytest.approx(0.5 - 0.5 * grad_a, rel=1e-14)


def two_iterations_at_one_time(h):
    """Iteration 0's error and iteration 1's inputs arrive at t = 3 together."""
    for port, x in ((0, 1.0), (1, 2.0)):
        h.arrive(FORWARD, port, 0, 1.0, x)
    h.window(1.0)
    for port, x in ((0, -1.0), (1, 0.5)):
        h.arrive(FORWARD, port, 1, 3.0, x)
    h.arrive(BACKWARD, 0, 0, 3.0, 0.25, coefficient=1.0)
    return h.window(3.0)


def test_at_equal_times_backward_comes_before_forward():
    h = Harness(targets=(1.0, 0.0))
    (_, done, _, _), sent = two_iterations_at_one_time(h)
    # backward(0) and its update, then forward(1) with the updated weights
    assert [(s[0], s[4].kind) for s in sent] == [(0, BACKWARD), (1, FORWARD)]
    assert done == [(0, 3.0, 0)]
    h2 = Harness(targets=(1.0, 0.0))
    for port, x in ((0, 1.0), (1, 2.0)):
        h2.arrive(FORWARD, port, 0, 1.0, x)
    h2.window(1.0)
    h2.arrive(BACKWARD, 0, 0, 3.0, 0.25, coefficient=1.0)
    h2.window(3.0)  # iteration 0 done alone
    w = h2.state.params
    e1 = w[0] * -1.0 + w[1] * 0.5 + w[2]  # forward(1) sees the update of 0
    assert sent[1][5] == pytest.approx(sigmoid(e1), rel=1e-15)


def test_staleness_counts_own_updates_between_forward_and_backward():
    h = Harness(targets=(1.0, 0.0))
    for s, at in ((0, 1.0), (1, 2.0)):  # two iterations enter before any error
        for port in (0, 1):
            h.arrive(FORWARD, port, s, at, 1.0)
        h.window(at)
    h.arrive(BACKWARD, 0, 0, 4.0, 0.0, coefficient=1.0)
    (_, done0, _, _), _ = h.window(4.0)
    h.arrive(BACKWARD, 0, 1, 5.0, 0.0, coefficient=1.0)
    (_, done1, _, _), _ = h.window(5.0)
    assert done0 == [(0, 4.0, 0)]
    assert done1 == [(1, 5.0, 1)]  # the update of 0 came between


@pytest.mark.parametrize("stash", [False, True])
def test_stash_sends_back_the_weight_forward_used(stash):
    h = Harness(targets=(1.0, 0.0), stash=stash)
    for s, at in ((0, 1.0), (1, 2.0)):
        for port in (0, 1):
            h.arrive(FORWARD, port, s, at, 1.0)
        h.window(at)
    h.arrive(BACKWARD, 0, 0, 4.0, 0.0, coefficient=1.0)
    h.window(4.0)
    w_now = h.state.params[0]
    h.arrive(BACKWARD, 0, 1, 5.0, 0.0, coefficient=1.0)
    _, [back] = h.window(5.0)
    assert back[6][0] == (0.5 if stash else w_now)
    assert w_now != 0.5


def test_a_copy_of_a_message_is_ignored():
    h = Harness(training=False, careful=True)
    h.arrive(FORWARD, 0, 0, 1.0, 2.0)
    h.arrive(FORWARD, 0, 0, 1.5, 99.0)  # a second copy of a's message
    h.arrive(FORWARD, 1, 0, 2.0, 3.0)
    _, [forward] = h.window(2.0)
    assert forward[5] == pytest.approx(sigmoid(0.5 * 2.0 - 1.0 * 3.0 + 0.25), abs=1e-15)


@pytest.mark.parametrize(("on_missing", "x_b"), [("zero", 0.0), ("last", 3.0)])
def test_at_the_deadline_a_missing_input_is_zero_or_the_last_value(on_missing, x_b):
    h = Harness(training=False, careful=True, on_missing=on_missing)
    h.arrive(FORWARD, 0, 0, 1.0, 1.0)
    h.arrive(FORWARD, 1, 0, 1.0, 3.0)
    h.window(1.0)
    h.arrive(FORWARD, 0, 1, 2.0, 2.0)  # b's message of iteration 1 is lost
    (_, done, _, _), [forward] = h.window(6.0, deadlines=[(6.0, 1)])
    assert forward[3] == 6.0  # fired at the deadline
    assert done == [(1, 6.0, 0)]
    assert forward[5] == pytest.approx(sigmoid(0.5 * 2.0 - 1.0 * x_b + 0.25), abs=1e-15)


def test_waiting_names_the_senders_still_missing():
    h = Harness()
    h.arrive(FORWARD, 1, 0, 1.0, 3.0)
    h.window(1.0)
    assert h.neuron.waiting([0]) == [(0, "forward", (0,))]
    h.arrive(FORWARD, 0, 0, 2.0, 3.0)
    h.window(2.0)
    assert h.neuron.waiting([0]) == [(0, "backward", (3,))]


def both_inputs_delivered(iterations=None):
    """A forward-only neuron with reports collected, and its one delivery."""
    h = Harness(training=False)
    h.run.iterations = iterations
    reports = []
    h.run.report = reports.append
    h.arrive(FORWARD, 0, 0, 1.0, 2.0)
    h.arrive(FORWARD, 1, 0, 1.0, 3.0)
    h.transport.flush()
    window, groups = h.transport.window(1.0, inclusive=True)
    return h, reports, ([(window, g) for g in groups[2]], ())


async def test_the_task_serves_one_delivery_per_window_until_its_inbox_closes():
    h, reports, delivery = both_inputs_delivered()
    inbox = Inbox()
    async with trio.open_nursery() as nursery:
        inbox.put(delivery)  # before the task started
        nursery.start_soon(run_neuron, h.state, h.wiring, inbox, h.run)
        await trio.testing.wait_all_tasks_blocked()
        inbox.put([0])  # the watchdog's question, to a waiting task
        await trio.testing.wait_all_tasks_blocked()
        inbox.close()  # the end of the run: the task returns
    me, done, _, _ = reports[0]
    assert (me, done) == (2, [(0, 1.0, 0)])
    assert reports[1] == (2, [])
    assert len(reports) == 2


async def test_on_reliable_connections_the_task_ends_after_its_last_iteration():
    h, reports, delivery = both_inputs_delivered(iterations=1)
    inbox = Inbox()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_neuron, h.state, h.wiring, inbox, h.run)
        await trio.testing.wait_all_tasks_blocked()
        assert not inbox.ended  # waiting for its one iteration
        inbox.put(delivery)
    assert inbox.ended  # returned without a close: no wake-up spent on it
    assert reports[0][1] == [(0, 1.0, 0)]


async def test_a_waiting_neuron_can_be_cancelled():
    inbox = Inbox()
    with trio.move_on_after(1) as scope:
        scope.cancel()
        await inbox.get()
    assert scope.cancelled_caught
    inbox.put("later")  # no task waits any more: the item is kept
    assert await inbox.get() == "later"

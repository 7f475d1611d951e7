"""One neuron driven through its channels by the test (pytest-trio)."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import trio

from neurosim.activations import ACTIVATIONS
from neurosim.messages import BACKWARD, FORWARD, TARGET, Link
from neurosim.neuron import NeuronState, Run, Wiring, run_neuron
from neurosim.rules import Article, Backprop


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


def make_neuron(*, rule=None, training=True, batch=None):
    """A sigmoid output neuron v with predecessors a (port 0) and b (port 1).

    v sends forward to one successor s and its error back to a only (b is an
    input). Returns the wiring pieces and the channels the test reads.
    """
    inbox_send, inbox = trio.open_memory_channel(math.inf)
    to_s, at_s = trio.open_memory_channel(math.inf)
    to_a, at_a = trio.open_memory_channel(math.inf)
    reports_send, reports = trio.open_memory_channel(math.inf)
    state = NeuronState("v", ACTIVATIONS["sigmoid"], np.array([0.5, -1.0, 0.25]))
    wiring = Wiring(
        index=2,
        forward=(Link(destination=3, port=0, delay=1.5),),
        backward=(Link(destination=0, port=0, delay=2.0),),
        n_forward=2,
        n_backward=1,
        is_output=True,
        weight_index=np.array([0]),
    )
    sizes = [1] if batch is None else [batch]
    run = Run(
        sizes=sizes,
        labels=[(0, 0)],
        batched=batch is not None,
        optimizer=PlainSGD(0.5) if training else None,
        rule=rule or Backprop(),
        sends={3: to_s.send_nowait, 0: to_a.send_nowait},  # by node index
        report=reports_send.send_nowait,
    )
    return SimpleNamespace(
        state=state,
        wiring=wiring,
        inbox=inbox,
        run=run,
        send=inbox_send,
        at_s=at_s,
        at_a=at_a,
        reports=reports,
    )


async def test_forward_waits_for_every_input_and_fires_at_the_last_arrival():
    n = make_neuron(training=False)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_neuron, n.state, n.wiring, n.inbox, n.run)
        n.send.send_nowait((FORWARD, 1, 3.0, 7.0))  # b arrives first, at t=7
        await trio.testing.wait_all_tasks_blocked()
        assert n.at_s.statistics().current_buffer_used == 0  # still waiting for a
        n.send.send_nowait((FORWARD, 0, 2.0, 4.0))  # a, at t=4
        kind, port, y, arrival = await n.at_s.receive()
    e = 0.5 * 2.0 + (-1.0) * 3.0 + 0.25
    assert (kind, port) == (FORWARD, 0)
    assert y == pytest.approx(sigmoid(e), abs=1e-15)
    assert arrival == 7.0 + 1.5  # fired at the last arrival, plus the link's delay
    i, t_done, y_report, problem = n.reports.receive_nowait()
    assert (i, t_done, problem) == (2, 7.0, None)
    assert y_report[0] == y


async def test_error_message_uses_the_weight_before_the_update():
    n = make_neuron()
    x_a, x_b, z, delta_s = 2.0, 3.0, 1.0, 0.125
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_neuron, n.state, n.wiring, n.inbox, n.run)
        n.send.send_nowait((TARGET, 0, z, 0.0))
        n.send.send_nowait((FORWARD, 0, x_a, 1.0))
        n.send.send_nowait((FORWARD, 1, x_b, 1.0))
        _, _, y, _ = await n.at_s.receive()
        n.send.send_nowait((BACKWARD, 0, delta_s, 5.0))  # s's error comes back at t=5
        kind, port, value, arrival = await n.at_a.receive()
    assert port == 0
    delta = (z - y) + delta_s  # own target error plus what came back
    g = delta * y * (1 - y)
    assert kind == BACKWARD
    assert value == pytest.approx(0.5 * g, rel=1e-15)  # w_a = 0.5, not the new w_a
    assert arrival == 5.0 + 2.0
    np.testing.assert_allclose(
        n.state.params,
        [0.5 + 0.5 * g * x_a, -1.0 + 0.5 * g * x_b, 0.25 + 0.5 * g],
        rtol=1e-15,
    )
    assert n.reports.receive_nowait()[1] == 5.0  # done when the update is done


async def test_article_rule_sends_delta_without_the_derivative():
    n = make_neuron(rule=Article())
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_neuron, n.state, n.wiring, n.inbox, n.run)
        n.send.send_nowait((TARGET, 0, 1.0, 0.0))
        n.send.send_nowait((FORWARD, 1, 0.0, 1.0))
        n.send.send_nowait((FORWARD, 0, 0.0, 1.0))
        _, _, y, _ = await n.at_s.receive()
        n.send.send_nowait((BACKWARD, 0, 0.0, 2.0))
        _, _, value, _ = await n.at_a.receive()
    assert value == pytest.approx(0.5 * (1.0 - y), rel=1e-15)


async def test_minibatch_messages_carry_the_whole_batch():
    n = make_neuron(batch=3)
    xa, xb, z = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, -1.0]), np.zeros(3)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_neuron, n.state, n.wiring, n.inbox, n.run)
        n.send.send_nowait((TARGET, 0, z, 0.0))
        n.send.send_nowait((FORWARD, 0, xa, 1.0))
        n.send.send_nowait((FORWARD, 1, xb, 1.0))
        _, _, y, _ = await n.at_s.receive()
        n.send.send_nowait((BACKWARD, 0, (1.0, np.zeros(3)), 2.0))  # (weight, g) pairs
        _, _, (coefficient, g), _ = await n.at_a.receive()
    y_expected = 1 / (1 + np.exp(-(0.5 * xa - xb + 0.25)))
    np.testing.assert_allclose(y, y_expected, rtol=1e-15)
    np.testing.assert_allclose(g, (z - y) * y * (1 - y), rtol=1e-15)
    assert coefficient == 0.5
    grad_a = -np.mean(g * xa)
    assert n.state.params[0] == pytest.approx(0.5 - 0.5 * grad_a, rel=1e-14)

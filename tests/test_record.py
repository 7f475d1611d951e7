"""What to record is chosen up front: a Record keeps what a filter would."""

import numpy as np
import pytest

import neurosim


def run(record, batch_size=1, faults=None, in_flight=1):
    G = neurosim.layered([2, 3, 2], activation="tanh", seed=1)
    rng = np.random.default_rng(2)
    X, Z = rng.uniform(-1, 1, (4, 2)), rng.uniform(-1, 1, (4, 2))
    net = neurosim.Network(G)
    return net.train(
        X,
        Z,
        epochs=3,
        batch_size=batch_size,
        record=record,
        faults=faults,
        in_flight=in_flight,
    ).trace


def same(a, b):
    assert len(a) == len(b)
    if a.value.dtype != object:
        assert a.rows() == b.rows()
    for name in (
        "epoch",
        "sample",
        "source_index",
        "destination_index",
        "sent_at",
        "received_at",
        "fate",
    ):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), name)
    assert a.updates.rows() == b.updates.rows()


@pytest.mark.parametrize(
    "criteria",
    [
        {"epochs": 2},
        {"samples": [0, 3]},
        {"kinds": "backward"},
        {"kinds": ["forward", "update"]},
        {"neurons": "h2"},
        {"neurons": ["i1", "o2"], "epochs": [0, 2], "kinds": ["backward", "update"]},
    ],
)
@pytest.mark.parametrize("batch_size", [1, 3])
def test_a_record_keeps_what_filtering_everything_keeps(criteria, batch_size):
    everything = run(True, batch_size)
    chosen = run(neurosim.Record(**criteria), batch_size)
    names = {
        "kinds": "kind",
        "neurons": "neuron",
        "samples": "sample",
        "epochs": "epoch",
    }
    selection = {names[k]: v for k, v in criteria.items()}
    filtered = everything.filter(**selection)
    same(chosen, filtered)
    assert 0 < len(chosen) < len(everything)


def test_a_record_of_faulty_messages_keeps_their_fates():
    faults = neurosim.Faults(drop=0.2, duplicate=0.2, seed=3, on_missing="zero")
    everything = run(True, faults=faults, in_flight=2)
    chosen = run(neurosim.Record(neurons="h1", epochs=1), faults=faults, in_flight=2)
    same(chosen, everything.filter(neuron="h1", epoch=1))
    assert {"dropped", "duplicate"} <= set(chosen.fate)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("yes", "record must be True, False or a neurosim.Record"),
        (neurosim.Record(neurons="nobody"), "Record names nodes not in the network"),
    ],
)
def test_bad_records_are_refused_before_the_run(record, message):
    with pytest.raises(neurosim.DataError, match=message):
        run(record)


@pytest.mark.parametrize(
    ("criteria", "message"),
    [({"kinds": "sideways"}, "unknown kind 'sideways'"), ({"epochs": -1}, "epochs")],
)
def test_records_are_checked_when_made(criteria, message):
    with pytest.raises(neurosim.DataError, match=message):
        neurosim.Record(**criteria)

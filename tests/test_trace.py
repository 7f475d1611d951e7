"""Tests of neurosim.trace: sorting, filters, export and reload."""

from __future__ import annotations

import ast
import hashlib
import json
import random
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import neurosim
from neurosim.errors import DataError, NetworkError
from neurosim.examples import worked_example
from neurosim.graph import generations
from neurosim.plot import model_network
from neurosim.trace import CSV_COLUMNS, Trace

# The worked example (one step by hand): a 2-2-2 identity network.
LAYERS = [["i1", "i2"], ["h1", "h2"], ["o1", "o2"]]
WEIGHTS = nx.get_edge_attributes(worked_example(), "weight")


def worked_example_rows(iterations=1, samples=1, learning_rate=0.1, batch=None):
    """Rows as the engine records them: all delays 1, backprop, identity.

    Forward i->h sent 0 received 1, h->o sent 1 received 2, backward o->h sent
    2 received 3; outputs update at 2, hidden neurons at 3; the next
    iteration starts at 3. With ``batch`` (a size), values are 1-D arrays.
    """
    w = dict(WEIGHTS)
    bias = {v: 0.0 for layer in LAYERS[1:] for v in layer}
    x = {"i1": 1.0, "i2": 1.5}
    z = {"o1": 2.5, "o2": 3.0}
    messages, updates = [], []
    t0 = 0.0
    for k in range(iterations):
        epoch, sample = divmod(k, samples)
        y = dict(x)
        if batch:
            y = {u: np.full(batch, v) + np.arange(batch) for u, v in x.items()}
        for depth, layer in enumerate(LAYERS[1:]):
            for v in layer:
                y[v] = bias[v] + sum(w[u, v] * y[u] for u in LAYERS[depth])
                for u in LAYERS[depth]:
                    messages.append(
                        (
                            epoch,
                            sample,
                            "forward",
                            u,
                            v,
                            t0 + depth,
                            t0 + depth + 1,
                            y[u],
                        )
                    )
        g = {o: z[o] - y[o] for o in LAYERS[2]}
        for o in LAYERS[2]:
            for h in LAYERS[1]:
                messages.append(
                    (epoch, sample, "backward", o, h, t0 + 2, t0 + 3, w[h, o] * g[o])
                )
        for h in LAYERS[1]:
            g[h] = sum(w[h, o] * g[o] for o in LAYERS[2])
        for depth, time in ((2, t0 + 2), (1, t0 + 3)):
            for v in LAYERS[depth]:
                for u in LAYERS[depth - 1]:
                    old = w[u, v]
                    w[u, v] = old + learning_rate * float(np.mean(g[v] * y[u]))
                    updates.append((epoch, sample, v, u, old, w[u, v], time))
                old = bias[v]
                bias[v] = old + learning_rate * float(np.mean(g[v]))
                updates.append((epoch, sample, v, None, old, bias[v], time))
        t0 += 3
    return messages, updates, [n for layer in LAYERS for n in layer]


def worked_example(**kwargs) -> Trace:
    return Trace.from_rows(*worked_example_rows(**kwargs))


def assert_same(a: Trace, b: Trace) -> None:
    """Identical arrays, values compared bit for bit."""
    assert a.nodes == b.nodes
    assert [type(n) for n in a.nodes] == [type(n) for n in b.nodes]
    for name in ("epoch", "sample", "kind", "source", "destination"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist(), name
    for name in ("sent_at", "received_at"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    assert a.value.dtype == b.value.dtype
    if a.value.dtype == object:
        assert len(a.value) == len(b.value)
        for x, y in zip(a.value, b.value, strict=True):
            assert x.dtype == y.dtype == np.float64
            assert x.tobytes() == y.tobytes()
    else:
        assert a.value.tobytes() == b.value.tobytes()
    for name in ("epoch", "sample", "neuron", "source"):
        assert getattr(a.updates, name).tolist() == getattr(b.updates, name).tolist()
    for name in ("old", "new", "time"):
        left, right = getattr(a.updates, name), getattr(b.updates, name)
        assert left.tobytes() == right.tobytes(), name


# ----------------------------------------------------------------------
# construction and sorting


def test_worked_example_numbers():
    trace = worked_example()
    assert len(trace) == 12
    assert trace.nodes == ("i1", "i2", "h1", "h2", "o1", "o2")
    into_o1 = trace.filter(kind="forward", neuron="o1")
    assert into_o1.value.tolist() == [4.5, 5.75]
    w5 = trace.filter(neuron="o1", kind="update").updates
    assert w5.source[0] == "h1"
    assert w5.new[0] == pytest.approx(-1.39875)


def test_sort_is_independent_of_row_order():
    messages, updates, nodes = worked_example_rows(iterations=3)
    expected = Trace.from_rows(messages, updates, nodes)
    for seed in range(5):
        rng = random.Random(seed)
        shuffled_messages, shuffled_updates = messages[:], updates[:]
        rng.shuffle(shuffled_messages)
        rng.shuffle(shuffled_updates)
        assert_same(
            Trace.from_rows(shuffled_messages, shuffled_updates, nodes), expected
        )


def test_sort_order_follows_the_design():
    trace = worked_example(iterations=2)
    keys = list(
        zip(
            trace.epoch,
            trace.sample,
            trace.sent_at,
            [0 if k == "forward" else 1 for k in trace.kind],
            trace.source_index,
            trace.destination_index,
            strict=True,
        )
    )
    assert keys == sorted(keys)
    assert trace.kind[:4].tolist() == ["forward"] * 4
    assert trace.source[:4].tolist() == ["i1", "i1", "i2", "i2"]
    assert trace.destination[:4].tolist() == ["h1", "h2", "h1", "h2"]
    updates = trace.updates
    # Within a neuron at one time: predecessors in node order, the bias last.
    assert updates.neuron[:3].tolist() == ["o1"] * 3
    assert updates.source[:3].tolist() == ["h1", "h2", None]
    assert updates.source_index[:3].tolist() == [2, 3, -1]
    assert (np.diff(updates.time) >= 0).all()


def test_duplicate_keys_are_ordered_by_value():
    rows = [
        (0, 0, "forward", 0, 1, 0.0, 1.0, 2.0),
        (0, 0, "forward", 0, 1, 0.0, 1.0, 1.0),
    ]
    a = Trace.from_rows(rows, [], [0, 1])
    b = Trace.from_rows(rows[::-1], [], [0, 1])
    assert a.value.tolist() == b.value.tolist() == [1.0, 2.0]


def test_values_scalar_and_vector():
    assert worked_example().value.dtype == np.float64
    trace = worked_example(batch=3)
    assert trace.value.dtype == object
    assert all(v.shape == (3,) and v.dtype == np.float64 for v in trace.value)
    assert trace.value[0].tolist() == [1.0, 2.0, 3.0]


def test_arrays_are_read_only():
    trace = worked_example()
    with pytest.raises(ValueError, match="read-only"):
        trace.sent_at[0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        trace.updates.new[0] = 5.0


def test_empty_trace():
    trace = Trace.from_rows([], [], ["a", "b"])
    assert len(trace) == 0
    assert len(trace.updates) == 0
    assert trace.value.dtype == np.float64
    assert trace.iterations() == []
    assert trace.layers() == [["a", "b"]]
    assert "0 messages" in repr(trace)
    assert repr(trace.updates) == "<UpdateTable: no updates>"


@pytest.mark.parametrize(
    ("messages", "updates", "match"),
    [
        ([(0, 0, "forward", "a", "zz", 0.0, 1.0, 1.0)], [], "unknown node 'zz'"),
        ([(0, 0, "sideways", "a", "b", 0.0, 1.0, 1.0)], [], "unknown message kind"),
        ([(0, 0, "forward", "a", "b", 0.0, 1.0)], [], "8 fields"),
        ([], [(0, 0, "b", "a", 1.0, 2.0)], "7 fields"),
        ([], [(0, 0, "b", "q", 1.0, 2.0, 3.0)], "unknown node 'q'"),
        ([(0, 0, "forward", "a", "b", 0.0, 1.0, [[1.0]])], [], "1-D"),
        ([(0, 0, "forward", "a", "b", 0.0, 1.0, "x")], [], "1-D"),
    ],
)
def test_bad_rows(messages, updates, match):
    with pytest.raises(DataError, match=match):
        Trace.from_rows(messages, updates, ["a", "b"])


def test_repeated_node_is_refused():
    with pytest.raises(DataError, match="twice"):
        Trace.from_rows([], [], ["a", "a"])


# ----------------------------------------------------------------------
# accessors


def test_layers_and_iterations():
    trace = worked_example(iterations=4, samples=2)
    assert trace.layers() == LAYERS
    assert trace.iterations() == [(0, 0), (0, 1), (1, 0), (1, 1)]
    # Backward messages alone give the same layers (connections reversed).
    assert trace.filter(kind="backward").layers() == [["h1", "h2"], ["o1", "o2"]]
    # A skip connection puts a node in the layer of its longest path.
    rows = [
        (0, 0, "forward", "a", "b", 0.0, 1.0, 1.0),
        (0, 0, "forward", "b", "c", 1.0, 2.0, 1.0),
        (0, 0, "forward", "a", "c", 0.0, 1.0, 1.0),
        (0, 0, "forward", "x", "c", 0.0, 1.0, 1.0),
    ]
    assert Trace.from_rows(rows, [], ["a", "x", "b", "c"]).layers() == [
        ["a", "x"],
        ["b"],
        ["c"],
    ]


def test_layers_are_the_graph_generations():
    """One computation of layers: the trace's, the topology's and the
    figures' are neurosim.graph.generations, in the same order."""
    G = nx.DiGraph()
    G.add_nodes_from(["x2", "x1", "h2", "h1", "o"])
    edges = [("x1", "h1"), ("x2", "h1"), ("x1", "h2"), ("x2", "o"), ("h2", "o")]
    G.add_edges_from([*edges, ("h1", "o")], weight=1.0)
    expected = [["x2", "x1"], ["h2", "h1"], ["o"]]
    assert generations(G) == expected
    assert neurosim.validate(G, inputs=["x2", "x1"]).layers() == expected
    rows = [(0, 0, "forward", u, v, 0.0, 1.0, 1.0) for u, v in G.edges]
    assert Trace.from_rows(rows, [], list(G.nodes)).layers() == expected
    assert model_network._graph_layers(G) == expected
    with pytest.raises(NetworkError, match="cycle"):
        generations(nx.DiGraph([("a", "b"), ("b", "a")]))
    # No other module walks the graph in generations.
    package = Path(neurosim.__file__).parent
    walkers = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if "topological_generations(" in path.read_text(encoding="utf-8")
    }
    assert walkers == {"graph.py"}


def test_layers_cycle():
    rows = [
        (0, 0, "forward", "a", "b", 0.0, 1.0, 1.0),
        (0, 0, "forward", "b", "a", 1.0, 2.0, 1.0),
    ]
    with pytest.raises(DataError, match="cycle"):
        Trace.from_rows(rows, [], ["a", "b"]).layers()


def test_repr():
    trace = worked_example(iterations=4, samples=2)
    text = repr(trace)
    assert text == (
        "<Trace: 48 messages (32 forward, 16 backward), 48 updates, 6 nodes, "
        "4 iterations (epochs 0 to 1), virtual time 0 to 12>"
    )
    assert repr(trace.updates) == (
        "<UpdateTable: 48 updates (32 weights, 16 biases) of 4 neurons, "
        "virtual time 2 to 12>"
    )
    assert trace.span == (0.0, 12.0)


def test_rows_round_trip():
    trace = worked_example(iterations=2)
    again = Trace.from_rows(trace.rows(), trace.updates.rows(), trace.nodes)
    assert_same(trace, again)


# ----------------------------------------------------------------------
# filter


def test_filter_by_neuron():
    trace = worked_example()
    h1 = trace.filter(neuron="h1")
    assert all("h1" in (u, v) for u, v in zip(h1.source, h1.destination, strict=True))
    assert len(h1) == 2 + 2 + 2  # two in, two out, two deltas in
    assert set(h1.updates.neuron) == {"h1"}
    both = trace.filter(neuron=["i1", "o2"])
    assert len(both) == 2 + 2 + 2
    with pytest.raises(DataError, match="unknown neuron 'nope'"):
        trace.filter(neuron="nope")


def test_filter_by_kind():
    trace = worked_example()
    forward = trace.filter(kind="forward")
    assert set(forward.kind) == {"forward"}
    assert len(forward) == 8
    assert len(forward.updates) == 0
    updates = trace.filter(kind="update")
    assert len(updates) == 0
    assert len(updates.updates) == len(trace.updates) == 12
    both = trace.filter(kind={"backward", "update"})
    assert len(both) == 4
    assert len(both.updates) == 12
    with pytest.raises(DataError, match="unknown kind"):
        trace.filter(kind="sideways")


def test_filter_by_iteration_and_time():
    trace = worked_example(iterations=6, samples=3)
    assert trace.filter(epoch=1).iterations() == [(1, 0), (1, 1), (1, 2)]
    assert trace.filter(epoch=np.int64(1), sample=[0, 2]).iterations() == [
        (1, 0),
        (1, 2),
    ]
    assert trace.filter(sample=range(1, 3), epoch=0).iterations() == [(0, 1), (0, 2)]
    window = trace.filter(start=1.0, stop=3.0)
    assert window.received_at.min() >= 1.0
    assert window.received_at.max() < 3.0
    assert set(window.received_at) == {1.0, 2.0}
    assert set(window.updates.time) == {2.0}
    # The filters combine, and filtering keeps the node order.
    combined = trace.filter(neuron="h1", kind="forward", epoch=0, sample=1)
    assert len(combined) == 4
    assert combined.nodes == trace.nodes


# ----------------------------------------------------------------------
# export and reload


def int_node_trace(batch=None) -> Trace:
    rename = {"i1": 0, "i2": 1, "h1": 2, "h2": 3, "o1": 4, "o2": 5}
    messages, updates, nodes = worked_example_rows(iterations=2, batch=batch)
    messages = [(*m[:3], rename[m[3]], rename[m[4]], *m[5:]) for m in messages]
    updates = [(*u[:2], rename[u[2]], rename.get(u[3]), *u[4:]) for u in updates]
    return Trace.from_rows(messages, updates, [rename[n] for n in nodes])


def awkward_trace() -> Trace:
    """Values that a careless writer would not reload bit for bit."""
    nodes = [0, "in put", "h,1", '"q"']
    messages = [
        (0, 0, "forward", 0, "h,1", 0.1, 0.1 + 0.2, 1 / 3),
        (0, 0, "forward", "in put", "h,1", 0.0, 1e-300, -0.0),
        (0, 1, "forward", "h,1", '"q"', 2.5, 7.0, float("inf")),
        (1, 0, "backward", '"q"', "h,1", 3.0, 4.0, 5e-324),
    ]
    updates = [(0, 0, "h,1", 0, 0.1, 0.7000000000000001, 3.0)]
    return Trace.from_rows(messages, updates, nodes)


@pytest.mark.parametrize("make", [worked_example, int_node_trace, awkward_trace])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_round_trip(tmp_path, make, fmt):
    trace = make()
    path = tmp_path / f"trace.{fmt}"
    getattr(trace, f"to_{fmt}")(path)
    assert_same(getattr(Trace, f"read_{fmt}")(path), trace)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_round_trip_vector_values(tmp_path, fmt):
    trace = int_node_trace(batch=4)
    path = tmp_path / f"trace.{fmt}"
    getattr(trace, f"to_{fmt}")(path)
    again = getattr(Trace, f"read_{fmt}")(path)
    assert_same(again, trace)
    assert again.value[0].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_round_trip_nan(tmp_path):
    trace = Trace.from_rows(
        [(0, 0, "forward", 0, 1, 0.0, 1.0, float("nan"))], [], [0, 1]
    )
    for fmt in ("csv", "jsonl"):
        getattr(trace, f"to_{fmt}")(tmp_path / f"t.{fmt}")
        again = getattr(Trace, f"read_{fmt}")(tmp_path / f"t.{fmt}")
        assert np.isnan(again.value[0])


def test_csv_layout(tmp_path):
    path = tmp_path / "trace.csv"
    worked_example().to_csv(path)
    lines = path.read_text().splitlines()
    assert lines[0] == '# nodes: ["i1", "i2", "h1", "h2", "o1", "o2"]'
    assert lines[1] == ",".join(CSV_COLUMNS)
    assert lines[2] == "message,0,0,forward,i1,h1,0.0,1.0,1.0,"
    # w5 of the article: h1 -> o1, updated at t = 2.
    # w5 of the article: h1 -> o1, updated at t = 2, from 1.2 to -1.39875.
    w5 = lines[2 + 12].split(",")
    assert w5[:8] == ["update", "0", "0", "update", "h1", "o1", "2.0", "2.0"]
    assert float(w5[8]) == pytest.approx(-1.39875)
    assert w5[9] == "1.2"
    assert lines[2 + 14].startswith("update,0,0,update,,o1,2.0,2.0,")  # the bias
    assert len(lines) == 2 + 12 + 12 + 1
    digest = hashlib.sha256(path.read_bytes()[: -len(lines[-1]) - 1]).hexdigest()
    assert lines[-1] == (
        f'# end: {{"messages": 12, "updates": 12, "sha256": "{digest}"}}'
    )


def test_csv_vector_cell(tmp_path):
    path = tmp_path / "trace.csv"
    int_node_trace(batch=2).to_csv(path)
    assert '"[1.0, 2.0]"' in path.read_text().splitlines()[2]


def test_csv_without_node_line(tmp_path):
    """A hand-made file: digit-only names become ints, order of appearance."""
    path = tmp_path / "hand.csv"
    path.write_text(
        ",".join(CSV_COLUMNS)
        + "\nmessage,0,0,forward,7,b,0.0,1.0,2.5,\n"
        + "update,0,0,update,,b,1.0,1.0,0.5,0.25\n"
    )
    with pytest.raises(DataError, match=r"hand\.csv, line 4: no end line"):
        Trace.read_csv(path)
    trace = Trace.read_csv(path, check=False)
    assert trace.nodes == (7, "b")
    assert trace.source.tolist() == [7]
    assert trace.updates.source.tolist() == [None]


def test_csv_refuses_ambiguous_names(tmp_path):
    trace = Trace.from_rows([(0, 0, "forward", 1, "1", 0.0, 1.0, 1.0)], [], [1, "1"])
    with pytest.raises(DataError, match="to_jsonl"):
        trace.to_csv(tmp_path / "t.csv")
    trace.to_jsonl(tmp_path / "t.jsonl")  # JSON keeps the types apart
    assert Trace.read_jsonl(tmp_path / "t.jsonl").nodes == (1, "1")


def test_export_refuses_other_node_types(tmp_path):
    trace = Trace.from_rows([], [], [(0, 1)])
    with pytest.raises(DataError, match="ints or strs"):
        trace.to_jsonl(tmp_path / "t.jsonl")


def good_csv(tmp_path):
    path = tmp_path / "good.csv"
    worked_example().to_csv(path)
    return path.read_text().splitlines()


@pytest.mark.parametrize(
    ("line", "replacement", "match"),
    [
        (4, "message,0,0,forward,i1,h1,zero,1.0,1.0,", "'sent_at'.*not a number"),
        (5, "message,x,0,forward,i1,h1,0.0,1.0,1.0,", "not an integer"),
        (3, "message,0,0,forward,i1,h9,0.0,1.0,1.0,", "unknown node 'h9'"),
        (6, "message,0,0,forward,i1,h1,0.0,1.0", "expected 10 columns"),
        (7, "message,0,0,sideways,i1,h1,0.0,1.0,1.0,", "unknown message kind"),
        (8, "note,0,0,forward,i1,h1,0.0,1.0,1.0,", "'record'"),
        (9, 'message,0,0,forward,i1,h1,0.0,1.0,"[1.0, x]",', "unreadable list"),
        (20, "update,0,0,update,h1,o1,2.0,3.0,-1.39875,1.2", "sent_at == received"),
        (21, "update,0,0,forward,h1,o1,2.0,2.0,-1.39875,1.2", "kind 'update'"),
        (1, "# nodes: [1, ", "unreadable node list"),
        (2, "record,epoch", "header row"),
    ],
)
def test_bad_csv(tmp_path, line, replacement, match):
    lines = good_csv(tmp_path)
    lines[line - 1] = replacement
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"bad\.csv: damaged or altered"):
        Trace.read_csv(path)
    with pytest.raises(DataError, match=f"bad.csv, line {line}: .*{match}"):
        Trace.read_csv(path, check=False)


def test_bad_csv_bytes(tmp_path):
    lines = good_csv(tmp_path)
    path = tmp_path / "bad.csv"
    data = ("\n".join(lines[:5]) + "\n").encode() + b"message,\xff\xfe\n"
    path.write_bytes(data)
    with pytest.raises(DataError, match=r"bad\.csv, line 7: no end line"):
        Trace.read_csv(path)
    with pytest.raises(DataError, match=r"bad\.csv, line 6: not UTF-8"):
        Trace.read_csv(path, check=False)


@pytest.mark.parametrize(
    ("line", "replacement", "match"),
    [
        (1, '{"format": "other"}', "header"),
        (1, '{"format": "neurosim-trace", "version": 9, "nodes": []}', "version"),
        (3, "{not json", "Expecting"),
        (4, '{"record": "message"}', "'kind'"),
        (5, "[1, 2]", "expected a JSON object"),
        (
            6,
            '{"record": "message", "epoch": 0, "sample": 0, "kind": "forward", '
            '"source": "i1", "destination": "zz", "sent_at": 0, '
            '"received_at": 1, "value": 1}',
            "unknown node 'zz'",
        ),
        (
            7,
            '{"record": "message", "epoch": 0.5, "sample": 0, "kind": "forward", '
            '"source": "i1", "destination": "h1", "sent_at": 0, '
            '"received_at": 1, "value": 1}',
            "'epoch' must be an integer",
        ),
        (
            8,
            '{"record": "message", "epoch": 0, "sample": 0, "kind": "forward", '
            '"source": "i1", "destination": "h1", "sent_at": 0, '
            '"received_at": 1, "value": [1, "a"]}',
            "list of numbers",
        ),
        (20, '{"record": "update", "epoch": 0}', "missing field 'sample'"),
        (21, '{"record": "rumour"}', "'record'"),
    ],
)
def test_bad_jsonl(tmp_path, line, replacement, match):
    path = tmp_path / "good.jsonl"
    worked_example().to_jsonl(path)
    lines = path.read_text().splitlines()
    lines[line - 1] = replacement
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"bad\.jsonl: damaged or altered"):
        Trace.read_jsonl(path)
    with pytest.raises(DataError, match=f"bad.jsonl, line {line}: .*{match}"):
        Trace.read_jsonl(path, check=False)


def test_jsonl_layout(tmp_path):
    path = tmp_path / "trace.jsonl"
    int_node_trace().to_jsonl(path)
    lines = path.read_text().splitlines()
    assert json.loads(lines[0]) == {
        "format": "neurosim-trace",
        "version": 3,
        "nodes": [0, 1, 2, 3, 4, 5],
    }
    end = json.loads(lines[-1])
    assert end.keys() == {"record", "messages", "updates", "sha256"}
    assert end["record"] == "end"
    assert json.loads(lines[1])["source"] == 0
    bias = [json.loads(line) for line in lines if '"source": null' in line]
    assert bias
    assert bias[0]["record"] == "update"


def test_empty_files(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(DataError, match=r"empty\.jsonl, line 1"):
        Trace.read_jsonl(tmp_path / "empty.jsonl")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match=r"empty\.csv, line 1"):
        Trace.read_csv(tmp_path / "empty.csv")
    trace = Trace.from_rows([], [], ["a"])
    trace.to_csv(tmp_path / "none.csv")
    assert Trace.read_csv(tmp_path / "none.csv").nodes == ("a",)


# ----------------------------------------------------------------------
# pandas (optional)


def test_to_dataframe():
    pd = pytest.importorskip("pandas")
    trace = worked_example()
    frame = trace.to_dataframe()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [
        "epoch",
        "sample",
        "kind",
        "source",
        "destination",
        "sent_at",
        "received_at",
        "value",
    ]
    assert len(frame) == len(trace)
    updates = trace.updates.to_dataframe()
    assert list(updates.columns) == [
        "epoch",
        "sample",
        "neuron",
        "source",
        "old",
        "new",
        "time",
        "gradient",
    ]
    assert len(updates) == 12


def test_to_dataframe_without_pandas(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="pip install pandas"):
        worked_example().to_dataframe()


# ----------------------------------------------------------------------
# speed


def test_from_rows_is_fast_enough():
    """A 30-30-30 network, 20 samples online: 54,000 rows in well under 1 s.

    (Measured once at full size, 100-100-100 and 100 samples = 3 million
    message rows: about 5 s in engine order, 10 s shuffled.)
    """
    import time

    sizes = [30, 30, 30]
    layers = [list(range(i * 30, (i + 1) * 30)) for i in range(len(sizes))]
    messages = []
    for s in range(20):
        t = 6.0 * s
        for depth in range(2):
            for u in layers[depth]:
                for v in layers[depth + 1]:
                    messages.append(
                        (0, s, "forward", u, v, t + depth, t + depth + 1, 0.5)
                    )
                    if depth:
                        messages.append((0, s, "backward", v, u, t + 2, t + 3, 0.1))
    random.Random(0).shuffle(messages)
    start = time.perf_counter()
    trace = Trace.from_rows(messages, [], range(90))
    elapsed = time.perf_counter() - start
    assert len(trace) == 20 * 900 * 3
    assert elapsed < 2.0


def test_trace_imports_only_errors_from_neurosim():
    import neurosim.trace

    tree = ast.parse(Path(neurosim.trace.__file__).read_text())
    modules = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert {m for m in modules if m.startswith("neurosim")} == {
        "neurosim._files",  # the one way a file is written
        "neurosim.plot.html",  # Trace.to_html's page (it imports no trace)
        "neurosim.errors",
        "neurosim.graph",  # the one computation of layers
        "neurosim.messages",  # the one table of message kinds
    }
    assert "trio" not in modules

"""Hypothesis strategies: random networks the actors and the reference share."""

import networkx as nx
import numpy as np
from hypothesis import strategies as st

ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu"]
finite = st.floats(-1.5, 1.5, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def dags(draw, max_hidden=5, delays=(0.0, 0.5, 1.0, 2.0)):
    """A random DAG with skip connections, mixed activations, biases and delays.

    Nodes: inputs ``x0..``, hidden ``h0..``, outputs ``y0..`` (one output may
    feed another, so an output can also receive errors). Every non-input node
    has a predecessor and every non-output node a successor.
    """
    n_in = draw(st.integers(1, 3))
    n_hidden = draw(st.integers(0, max_hidden))
    n_out = draw(st.integers(1, 3))
    nodes = (
        [f"x{i}" for i in range(n_in)]
        + [f"h{i}" for i in range(n_hidden)]
        + [f"y{i}" for i in range(n_out)]
    )
    G = nx.DiGraph()
    G.add_nodes_from(nodes)
    outputs = nodes[n_in + n_hidden :]
    for p in range(n_in, len(nodes)):
        v = nodes[p]
        earlier = nodes[:p]
        chosen = draw(
            st.lists(st.sampled_from(earlier), min_size=1, max_size=4, unique=True)
        )
        for u in chosen:
            G.add_edge(u, v)
        G.nodes[v]["activation"] = draw(st.sampled_from(ACTIVATIONS))
        G.nodes[v]["bias"] = draw(st.one_of(finite, st.none()))  # None: no bias
    for p, u in enumerate(nodes[: n_in + n_hidden]):
        if G.out_degree(u) == 0:
            later = nodes[max(p + 1, n_in) :]
            G.add_edge(u, draw(st.sampled_from(later)))
    for u, v in G.edges:
        G.edges[u, v]["weight"] = draw(finite)
        G.edges[u, v]["delay"] = draw(st.sampled_from(list(delays)))
    return G, nodes[:n_in], outputs


@st.composite
def problems(draw, max_hidden=5, delays=(0.0, 0.5, 1.0, 2.0)):
    """A DAG with its data: ``(G, inputs, outputs, X, Z)``."""
    G, inputs, outputs = draw(dags(max_hidden, delays))
    n = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, len(inputs)))
    Z = rng.uniform(-1, 1, size=(n, len(outputs)))
    return G, inputs, outputs, X, Z


@st.composite
def classifiers(draw, max_hidden=5, delays=(0.0, 0.5, 1.0, 2.0)):
    """A random DAG whose outputs are sinks, all softmax (2 or more) or all
    sigmoid, with its data: ``(G, inputs, outputs, X, Z)``, ``Z`` in [0, 1]
    (rows summing to 1 for a softmax group)."""
    softmax = draw(st.booleans())
    n_in = draw(st.integers(1, 3))
    n_hidden = draw(st.integers(0, max_hidden))
    n_out = draw(st.integers(2 if softmax else 1, 4))
    inputs = [f"x{i}" for i in range(n_in)]
    hidden = [f"h{i}" for i in range(n_hidden)]
    outputs = [f"y{i}" for i in range(n_out)]
    G = nx.DiGraph()
    G.add_nodes_from(inputs + hidden + outputs)
    for p, v in enumerate(hidden + outputs, start=n_in):
        earlier = (inputs + hidden)[:p]  # never an output: they are sinks
        chosen = draw(
            st.lists(st.sampled_from(earlier), min_size=1, max_size=4, unique=True)
        )
        G.add_edges_from((u, v) for u in chosen)
        activation = draw(st.sampled_from(ACTIVATIONS)) if v in hidden else None
        G.nodes[v]["activation"] = activation or ("softmax" if softmax else "sigmoid")
        G.nodes[v]["bias"] = draw(st.one_of(finite, st.none()))  # None: no bias
    for p, u in enumerate(inputs + hidden):
        if G.out_degree(u) == 0:
            later = (hidden + outputs)[max(p + 1 - n_in, 0) :]
            G.add_edge(u, draw(st.sampled_from(later)))
    for u, v in G.edges:
        G.edges[u, v]["weight"] = draw(finite)
        G.edges[u, v]["delay"] = draw(st.sampled_from(list(delays)))
    n = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.uniform(-1, 1, size=(n, n_in))
    if softmax:
        Z = rng.dirichlet(np.ones(n_out), n)
        Z[: n // 2] = np.eye(n_out)[rng.integers(0, n_out, n // 2)]  # one-hot
    else:
        Z = rng.uniform(0, 1, size=(n, n_out))
        Z[rng.random((n, n_out)) < 0.3] = 1.0
    return G, inputs, outputs, X, Z

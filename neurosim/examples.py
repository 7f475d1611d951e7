"""The networks of the source documents, ready to use.

Examples
--------
>>> G = worked_example()
>>> [G.edges[e]["weight"] for e in WORKED_EXAMPLE_NAMES.values()]
[1.5, 2.0, 2.0, 2.5, 1.2, 2.5, 0.5, 1.0]
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from neurosim.graph import layered

__all__ = [
    "WORKED_EXAMPLE_DATA",
    "WORKED_EXAMPLE_NAMES",
    "article_network",
    "worked_example",
]

WORKED_EXAMPLE_NAMES = {
    "w1": ("i1", "h1"),
    "w2": ("i1", "h2"),
    "w3": ("i2", "h1"),
    "w4": ("i2", "h2"),
    "w5": ("h1", "o1"),
    "w6": ("h1", "o2"),
    "w7": ("h2", "o1"),
    "w8": ("h2", "o2"),
}
"""The worked example's weight names and the connections they label."""

WORKED_EXAMPLE_DATA = (np.array([[1.0, 1.5]]), np.array([[2.5, 3.0]]))
"""The worked example's sample: inputs ``(i1, i2)`` and targets ``(o1, o2)``."""


def worked_example() -> nx.DiGraph:
    """The worked example's 2-2-2 identity network, with its initial weights w1..w8.

    ``h1 = i1·w1 + i2·w3``, ``h2 = i1·w2 + i2·w4``, ``o1 = h1·w5 + h2·w7``,
    ``o2 = h1·w6 + h2·w8``. This is the network of the worked example of one
    backpropagation step by hand; as there, the neurons have no bias (node
    attribute ``bias=None``), so every step is the worked example's.

    Examples
    --------
    >>> worked_example().nodes["h1"]
    {'layer': 1, 'activation': 'identity', 'bias': None}
    """
    G = layered(
        [2, 2, 2],
        weights=[[[1.5, 2.0], [2.0, 2.5]], [[1.2, 2.5], [0.5, 1.0]]],
        activation="identity",
    )
    for v in ("h1", "h2", "o1", "o2"):
        G.nodes[v]["bias"] = None
    return G


def article_network(seed: int = 0) -> nx.DiGraph:
    """The article's network: 2 inputs, neurons 1-3, then 4-5, then 6; sigmoid.

    The article is Bernacki & Włodarczyk, "Principles of training
    multi-layer neural network using backpropagation". Nodes are named
    ``x1, x2`` (inputs) and ``1`` to ``6`` (neurons, as in the article);
    weights and biases are drawn from `seed` like :func:`neurosim.layered`.

    Examples
    --------
    >>> sorted(article_network().successors(1))
    [4, 5]
    """
    base = layered([2, 3, 2, 1], seed=seed)
    names = dict(
        zip(
            ["i1", "i2", "h1_1", "h1_2", "h1_3", "h2_1", "h2_2", "o1"],
            ["x1", "x2", 1, 2, 3, 4, 5, 6],
            strict=True,
        )
    )
    return nx.relabel_nodes(base, names)

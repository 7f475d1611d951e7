"""The actors train like torch.optim (skipped when PyTorch is not installed)."""

import numpy as np
import pytest

import neurosim

torch = pytest.importorskip("torch")

SIZES = [3, 4, 2]


def torch_train(
    G,
    X,
    Z,
    make_optimizer,
    epochs,
    batch_size,
    loss="squared",
    losses=None,
    sizes=SIZES,
):
    """PyTorch's training of the layered network `G` of `sizes` (tanh, then
    sigmoid or softmax outputs); each sample's loss is appended to `losses`."""
    names = neurosim.graph.layered_names(sizes)
    layers = []
    for k in range(len(sizes) - 1):
        W = [[G.edges[u, v]["weight"] for u in names[k]] for v in names[k + 1]]
        b = [G.nodes[v]["bias"] for v in names[k + 1]]
        layers.append(
            (
                torch.tensor(W, dtype=torch.float64, requires_grad=True),
                torch.tensor(b, dtype=torch.float64, requires_grad=True),
            )
        )
    optimizer = make_optimizer([p for layer in layers for p in layer])
    X, Z = torch.tensor(X), torch.tensor(Z)
    for _ in range(epochs):
        for start in range(0, len(X), batch_size):
            z = Z[start : start + batch_size]
            h = torch.tanh(
                X[start : start + batch_size] @ layers[0][0].T + layers[0][1]
            )
            e = h @ layers[1][0].T + layers[1][1]
            if loss == "softmax":
                each = torch.nn.CrossEntropyLoss(reduction="none")(e, z)
            elif loss == "binary":
                each = torch.nn.BCELoss(reduction="none")(torch.sigmoid(e), z).sum(1)
            else:
                each = 0.5 * ((z - torch.sigmoid(e)) ** 2).sum(dim=1)
            if losses is not None:
                losses.extend(each.tolist())
            optimizer.zero_grad()
            each.mean().backward()
            optimizer.step()
    weights = {}
    for k, (W, b) in enumerate(layers):
        for j, v in enumerate(names[k + 1]):
            for i, u in enumerate(names[k]):
                weights[u, v] = W[j, i].item()
            weights[v] = b[j].item()
    return weights


@pytest.mark.parametrize(
    ("name", "make_optimizer"),
    [
        ("sgd", lambda p: torch.optim.SGD(p, lr=0.1, foreach=False)),
        ("momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, foreach=False)),
        ("adagrad", lambda p: torch.optim.Adagrad(p, lr=0.01, foreach=False)),
        ("adam", lambda p: torch.optim.Adam(p, lr=0.001, foreach=False)),
    ],
)
@pytest.mark.parametrize("batch_size", [1, 3])
def test_network_trained_like_torch_optim(name, make_optimizer, batch_size):
    G = neurosim.layered(SIZES, activation=["tanh", "sigmoid"], seed=11)
    rng = np.random.default_rng(5)
    X, Z = rng.standard_normal((7, 3)), rng.uniform(0, 1, (7, 2))
    net = neurosim.Network(G)
    net.train(X, Z, epochs=4, batch_size=batch_size, optimizer=name)
    expected = torch_train(G, X, Z, make_optimizer, epochs=4, batch_size=batch_size)
    actual = {**net.weights, **net.biases}
    keys = sorted(expected, key=repr)
    np.testing.assert_allclose(
        [actual[k] for k in keys], [expected[k] for k in keys], rtol=1e-12, atol=1e-14
    )

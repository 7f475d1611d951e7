"""A network's whole state in one file: :meth:`Network.save` and :func:`neurosim.load`.

The file is an ``.npz`` archive read without pickle (``allow_pickle=False``):
numbers in arrays, and a JSON manifest (the ``manifest`` member, UTF-8
bytes) naming the format and its version. The manifest holds the graph (node
names, attributes, the edge order's extra attributes), the input and output
order, the activations by name, the optimizer and the interrupted run's
position; the arrays hold the edges, weights, delays, parameters and every
neuron's optimizer state. Values from the caller's graph are kept as JSON,
tagged where JSON alone would lose them: ``{"tuple": [...]}``,
``{"dict": {...}}``, ``{"float": "nan"}``.

The optimizers, optimizer states and rules written are neurosim's own, by
class name with their hyperparameters (a feedback-alignment rule is its seed
and scale: its feedback weights follow from them); custom ones cannot be
saved. Custom activations are saved by the name they were registered with
(:func:`neurosim.register_activation`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import zipfile
from typing import Any

import networkx as nx
import numpy as np

from neurosim import optimizers, rules
from neurosim._files import atomic_write
from neurosim.activations import ACTIVATIONS, registered_name
from neurosim.errors import DataError

__all__ = ["FORMAT", "VERSION", "read", "save"]

FORMAT = "neurosim.Network"
VERSION = 1
"""The version of the file format this module writes (and the newest it reads)."""

_OPTIMIZERS = {
    cls.__name__: cls
    for cls in (
        optimizers.SGD,
        optimizers.Momentum,
        optimizers.Adagrad,
        optimizers.Adam,
    )
}
_STATES = {
    cls.__name__: cls
    for cls in (optimizers.SGDState, optimizers.AdagradState, optimizers.AdamState)
}
_RULES = {cls.__name__: cls for cls in rules.RULES.values()}


# -- JSON for the caller's values ---------------------------------------------


def _encode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, tuple):
        return {"tuple": [_encode(x, where) for x in value]}
    if isinstance(value, list):
        return [_encode(x, where) for x in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _encode(x, where) for k, x in value.items()}}
    raise DataError(
        f"cannot save {where}: {value!r} is not a number, string, boolean, None, "
        "or a list, tuple or dict (with string keys) of them"
    )


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(x) for x in value]
    if isinstance(value, dict):
        ((tag, inner),) = value.items()
        if tag == "tuple":
            return tuple(_decode(x) for x in inner)
        if tag == "dict":
            return {k: _decode(x) for k, x in inner.items()}
        if tag == "float":
            return float(inner)
        raise ValueError(f"unknown tag {tag!r}")
    return value


def _hyperparameters(obj: object, known: dict, what: str) -> dict:
    name = type(obj).__name__
    if known.get(name) is not type(obj):
        raise DataError(
            f"cannot save the {what} {obj!r}: only neurosim's own "
            f"{what}s ({', '.join(known)}) can be saved"
        )
    if dataclasses.is_dataclass(obj):
        values = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    else:
        values = dict(vars(obj))
    return {"class": name, "options": _encode(values, f"the {what} {obj!r}")}


def _rebuild(spec: dict | None, known: dict) -> Any:
    if spec is None:
        return None
    return known[spec["class"]](**_decode(spec["options"]))


# -- saving -------------------------------------------------------------------


def save(net: Any, path: str | os.PathLike) -> None:
    """Write `net` to `path` (see :meth:`neurosim.Network.save`)."""
    manifest, arrays = _describe(net)  # every complaint before the file is touched
    data = json.dumps(manifest, allow_nan=False).encode("utf-8")
    arrays["manifest"] = np.frombuffer(data, dtype=np.uint8)

    with atomic_write(path) as file:
        np.savez(file, allow_pickle=False, **arrays)


def _describe(net: Any) -> tuple[dict, dict[str, np.ndarray]]:
    t, g = net._topology, net._graph
    names = [v for v, _ in g.nodes]
    neurons = set(t.neurons)
    index = {v: i for i, v in enumerate(names)}
    nodes = []
    for v, data in g.nodes:
        data = dict(data)
        where = f"node {v!r}"
        if v in neurons:
            state = net._states[v]
            data["bias"] = state.bias if state.has_bias else None
            if "activation" in data:
                name = registered_name(data["activation"])
                if name is None:
                    raise DataError(
                        f"cannot save {where}: its activation "
                        f"{data['activation']!r} has no name it is known by; "
                        "register it with neurosim.register_activation(name, "
                        "function, derivative)"
                    )
                data["activation"] = name
        nodes.append([_encode(v, "a node name"), _encode(data, where)])
    weights = net.weights
    edges_u, edges_v = g.u.astype(np.int64), g.v.astype(np.int64)
    weight = np.array(
        [weights[names[i], names[j]] for i, j in zip(edges_u, edges_v, strict=True)]
    )
    delay = np.full(len(weight), np.nan)
    for k in np.flatnonzero(g.has_delay).tolist():
        delay[k] = t.delays[names[edges_u[k]], names[edges_v[k]]]
    extra = {
        str(k): _encode(x, f"edge {names[edges_u[k]]!r} -> {names[edges_v[k]]!r}")
        for k, x in g.extra.items()
    }
    states = [net._states[v] for v in t.neurons]
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "graph": _encode(g.graph, "the graph's attributes"),
        "nodes": nodes,
        "inputs": [index[v] for v in t.inputs],
        "outputs": [index[v] for v in t.outputs],
        "edge_extra": extra,
        "optimizer": None,
        "optimizer_state": None,
        "rule": None,
        "position": None,
    }
    arrays = {
        "edge_u": edges_u,
        "edge_v": edges_v,
        "edge_weight": weight,
        "edge_has_delay": g.has_delay.copy(),
        "edge_delay": delay,
        "params": np.concatenate([s.params for s in states]),
        "has_bias": np.array([s.has_bias for s in states], dtype=bool),
    }
    if net._optimizer is not None:
        manifest["optimizer"] = _hyperparameters(
            net._optimizer, _OPTIMIZERS, "optimizer"
        )
        manifest["optimizer_state"] = _optimizer_state(
            [s.optimizer_state for s in states], arrays
        )
    if net._rule is not None and _RULES.get(type(net._rule).__name__) is type(
        net._rule
    ):
        manifest["rule"] = _hyperparameters(net._rule, _RULES, "rule")
    p = net._position
    if p is not None:
        manifest["position"] = {
            "epoch": p.epoch,
            "sample": p.sample,
            "epochs": p.epochs,
            "batch_size": p.batch_size,
            "samples_per_epoch": p.samples_per_epoch,
            "shuffle": p.shuffle,
            "seed": p.seed,
            "digest": p.digest,
            "shuffle_state": p.shuffle_state,
            "optimizer": _hyperparameters(p.optimizer, _OPTIMIZERS, "optimizer"),
            "rule": _hyperparameters(p.rule, _RULES, "rule"),
            "loss": p.loss,
        }
    return manifest, arrays


def _optimizer_state(states: list, arrays: dict) -> dict:
    """Each field of the neurons' states as one array, ``state.<field>``."""
    cls = type(states[0])
    if _STATES.get(cls.__name__) is not cls or any(type(s) is not cls for s in states):
        raise DataError(f"cannot save the optimizer state {states[0]!r}")
    fields = {}
    for f in dataclasses.fields(cls):
        values = [getattr(s, f.name) for s in states]
        key = f"state.{f.name}"
        if all(x is None for x in values):
            fields[f.name] = "none"
        elif all(
            x is None or (isinstance(x, np.ndarray) and x.ndim == 1) for x in values
        ):
            fields[f.name] = "array"
            present = [x is not None for x in values]
            arrays[key + ".present"] = np.array(present, dtype=bool)
            arrays[key + ".sizes"] = np.array(
                [len(x) for x in values if x is not None], dtype=np.int64
            )
            arrays[key] = np.concatenate([x for x in values if x is not None]).astype(
                np.float64, copy=False
            )
        elif all(isinstance(x, int) and not isinstance(x, bool) for x in values):
            fields[f.name] = "int"
            arrays[key] = np.array(values, dtype=np.int64)
        else:
            raise DataError(f"cannot save the optimizer state field {f.name!r}")
    return {"class": cls.__name__, "fields": fields}


# -- loading ------------------------------------------------------------------


def read(path: str | os.PathLike, network: type, position: type) -> Any:
    """The network saved at `path`, as an instance of `network`.

    The engine of :func:`neurosim.load` (which passes its ``Network`` and
    ``Position`` classes: this module does not import the network's).
    """
    shown = os.fspath(path)
    try:
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        manifest = json.loads(arrays.pop("manifest").tobytes().decode("utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(
            f"{shown} cannot be read as a saved neurosim network (damaged or cut "
            f"short?): {type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DataError(f"{shown} is not a saved neurosim network")
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise DataError(f"{shown}: the format version {version!r} is not a number")
    if version > VERSION:
        raise DataError(
            f"{shown} was written in format version {version} by a newer neurosim; "
            f"this one reads versions up to {VERSION}: upgrade neurosim to load it"
        )
    try:
        return _network(manifest, arrays, shown, network, position)
    except DataError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"{shown} is damaged: {type(exc).__name__}: {exc}") from None


def _network(
    manifest: dict, arrays: dict, shown: str, Network: type, Position: type
) -> Any:
    nodes = [(_decode(v), _decode(data)) for v, data in manifest["nodes"]]
    names = [v for v, _ in nodes]
    inputs = [names[i] for i in manifest["inputs"]]
    outputs = [names[i] for i in manifest["outputs"]]
    for v, data in nodes:
        name = data.get("activation")
        if isinstance(name, str) and name not in ACTIVATIONS:
            raise DataError(
                f"{shown}: node {v!r} has the activation {name!r}, which this "
                "program does not know: register it with "
                "neurosim.register_activation before loading"
            )
    G = nx.DiGraph()
    G.graph.update(_decode(manifest["graph"]))
    G.add_nodes_from(nodes)
    u, v = arrays["edge_u"].tolist(), arrays["edge_v"].tolist()
    weight = arrays["edge_weight"].tolist()
    has_delay = arrays["edge_has_delay"].tolist()
    delay = arrays["edge_delay"].tolist()
    extra = {int(k): _decode(x) for k, x in manifest["edge_extra"].items()}
    if not len(u) == len(v) == len(weight) == len(has_delay) == len(delay):
        raise ValueError("the edge arrays differ in length")
    for k in range(len(u)):
        data = {"weight": weight[k]}
        if has_delay[k]:
            data["delay"] = delay[k]
        data.update(extra.get(k, {}))
        G.add_edge(names[u[k]], names[v[k]], **data)
    net = Network(G, inputs=inputs, outputs=outputs)
    params, has_bias = arrays["params"], arrays["has_bias"]
    states = [net._states[x] for x in net._topology.neurons]
    sizes = [len(s.params) for s in states]
    if sum(sizes) != len(params) or len(has_bias) != len(states):
        raise ValueError("the parameters do not fit the graph")
    at = 0
    for s, n, b in zip(states, sizes, has_bias.tolist(), strict=True):
        if s.has_bias != b:
            raise ValueError(f"neuron {s.name!r}: bias presence differs")
        s.params[:] = params[at : at + n]
        at += n
    net._optimizer = _rebuild(manifest["optimizer"], _OPTIMIZERS)
    if manifest["optimizer_state"] is not None:
        _restore_state(manifest["optimizer_state"], arrays, states)
    net._rule = _rebuild(manifest["rule"], _RULES)
    p = manifest["position"]
    if p is not None:
        net._position = Position(
            p["epoch"],
            p["sample"],
            p["epochs"],
            p["batch_size"],
            p["samples_per_epoch"],
            p["shuffle"],
            p["seed"],
            _rebuild(p["optimizer"], _OPTIMIZERS),
            _rebuild(p["rule"], _RULES),
            p["digest"],
            p["shuffle_state"],
            p.get("loss", "squared"),
        )
    return net


def _restore_state(spec: dict, arrays: dict, states: list) -> None:
    cls = _STATES[spec["class"]]
    values: dict[str, list] = {}
    for name, kind in spec["fields"].items():
        key = f"state.{name}"
        if kind == "none":
            values[name] = [None] * len(states)
        elif kind == "int":
            values[name] = arrays[key].tolist()
        elif kind == "array":
            present = arrays[key + ".present"].tolist()
            sizes = arrays[key + ".sizes"].tolist()
            flat, at, column = arrays[key], 0, []
            pieces = iter(sizes)
            for here in present:
                if here:
                    n = next(pieces)
                    column.append(flat[at : at + n].copy())
                    at += n
                else:
                    column.append(None)
            if at != len(flat):
                raise ValueError(f"the optimizer state {name!r} does not fit")
            values[name] = column
        else:
            raise ValueError(f"unknown kind {kind!r} of optimizer state {name!r}")
        if len(values[name]) != len(states):
            raise ValueError(f"the optimizer state {name!r} does not fit")
    for i, s in enumerate(states):
        s.optimizer_state = cls(**{name: column[i] for name, column in values.items()})

"""neurosim: a neural network simulated as concurrent neurons passing messages.

Each neuron is a trio task; signals go forward and error messages δ come back
along the connections of a networkx graph; every neuron updates the weights
of its own inputs. :mod:`neurosim.reference` computes the same training with
plain numpy matrices, as an independent check.

The package's modules follow the data::

    graph -> model (a neuron's math) -> neuron (a trio task per neuron)
          -> transport (every message, faults) -> simulation (the conductor)
          -> network -> trace -> plot      reference (numpy) checks the numbers

Examples
--------
>>> import neurosim
>>> net = neurosim.Network(neurosim.examples.worked_example())
>>> history = net.train([[1.0, 1.5]], [[2.5, 3.0]], learning_rate=0.1)
>>> round(float(history.loss[0]), 10)
114.6753125
"""

from neurosim import backends, datasets, examples, optimizers, reference, rules
from neurosim.activations import ACTIVATIONS, Activation, register_activation
from neurosim.errors import (
    DataError,
    DivergenceError,
    NetworkBusyError,
    NetworkError,
    NeuronError,
    PartitionError,
    StalledError,
    StopTraining,
)
from neurosim.faults import Faults
from neurosim.graph import Topology, layered, validate
from neurosim.network import History, Network, Position, load
from neurosim.trace import Record, Trace

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "DataError",
    "DivergenceError",
    "Faults",
    "History",
    "Network",
    "NetworkBusyError",
    "NetworkError",
    "NeuronError",
    "PartitionError",
    "Position",
    "Record",
    "StalledError",
    "StopTraining",
    "Topology",
    "Trace",
    "__version__",
    "backends",
    "datasets",
    "examples",
    "layered",
    "load",
    "optimizers",
    "reference",
    "register_activation",
    "rules",
    "validate",
]

"""Figures of a simulation: the message timeline, the network, the loss, a GIF.

Every function draws from a :class:`~neurosim.trace.Trace` (possibly reloaded
from a file) and/or a graph, never from the running simulation: this module
does not import trio. The functions that draw on one Axes take ``ax=`` and
return it; without ``ax`` they create a figure with ``matplotlib.pyplot``, so
they show up in notebooks and with ``plt.show()`` under whatever backend the
user chose. :func:`animate` renders off screen.

The artists a test (or a user) may want to find carry a ``gid``:

- :data:`MESSAGE_GID`: one ``FancyArrowPatch`` per message drawn by
  :func:`timeline` (in ``ax.patches``);
- :data:`VALUE_GID`: one ``Text`` per value written on a message;
- :data:`WEIGHT_GID`: one ``Text`` per weight written on a connection by
  :func:`network`;
- :data:`BIAS_GID`: one ``Text`` per bias written next to a neuron by
  :func:`network` (when some bias is not zero);
- :data:`ARRIVALS_GID`: the scatter of arrivals of an aggregated timeline;
- :data:`DROPPED_GID`: the "×" markers of :func:`timeline` where lost
  messages would have arrived (one point per lost message);
- :data:`LATE_GID`: the hollow circles where late messages arrived.

Labels (values on messages, weights on connections, biases) are placed when
the figure is drawn, on the rendered geometry, so that none overlaps another
nor sits on a neuron, an arrowhead or an update mark: each takes the first
clear position along its arrow or connection (a bias, the first side of its
neuron where no connection passes). They follow when the figure is resized.

Colours and the axes' style are in :mod:`neurosim.plot.style`.

The package keeps what a figure shows apart from how it is drawn (as
networkx keeps ``drawing/layout.py`` apart from ``nx_pylab.py``):

- models, plain data without matplotlib: :mod:`~neurosim.plot.model_timeline`
  (lanes, arrows, markers, labels, legend), :mod:`~neurosim.plot.model_network`
  (layers, positions, weights), :mod:`~neurosim.plot.model_maps` (what a
  network and each neuron compute over the input plane),
  :mod:`~neurosim.plot.model_page` (what the browser page draws of a whole
  trace), :mod:`~neurosim.plot.labels` (label
  placement), :mod:`~neurosim.plot.style`;
- renderers, with matplotlib: :mod:`~neurosim.plot.mpl_timeline`,
  :mod:`~neurosim.plot.mpl_network`, :mod:`~neurosim.plot.mpl_loss`,
  :mod:`~neurosim.plot.mpl_maps`,
  :mod:`~neurosim.plot.mpl_animation`; in the browser:
  :mod:`~neurosim.plot.html` (the page that :meth:`~neurosim.Trace.to_html`
  writes, drawn by ``page/page.js``).

Importing ``neurosim.plot`` or a model module does not import matplotlib:
the renderers load when one of their names is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from neurosim.plot.model_maps import (
    DecisionMapModel,
    NeuronMap,
    NeuronMapsModel,
    decision_map_model,
    neuron_maps_model,
)
from neurosim.plot.model_timeline import TimelineModel, timeline_model
from neurosim.plot.style import (
    CLASS_COLORS,
    COLORS,
    KIND_LINESTYLES,
    SAMPLE_COLORS,
    style_axes,
)

if TYPE_CHECKING:
    from neurosim.plot._mpl import WEIGHT_CMAP  # noqa: F401 (not in __all__)
    from neurosim.plot.mpl_animation import animate
    from neurosim.plot.mpl_loss import loss
    from neurosim.plot.mpl_maps import MAP_CMAP, decision_map, neuron_maps  # noqa: F401
    from neurosim.plot.mpl_network import BIAS_GID, WEIGHT_GID, network, network_change
    from neurosim.plot.mpl_timeline import (
        ARRIVALS_GID,
        DROPPED_GID,
        LATE_GID,
        MESSAGE_GID,
        VALUE_GID,
        timeline,
    )

__all__ = [
    "ARRIVALS_GID",
    "BIAS_GID",
    "CLASS_COLORS",
    "COLORS",
    "DROPPED_GID",
    "KIND_LINESTYLES",
    "LATE_GID",
    "MESSAGE_GID",
    "SAMPLE_COLORS",
    "VALUE_GID",
    "WEIGHT_GID",
    "DecisionMapModel",
    "NeuronMap",
    "NeuronMapsModel",
    "TimelineModel",
    "animate",
    "decision_map",
    "decision_map_model",
    "loss",
    "network",
    "network_change",
    "neuron_maps",
    "neuron_maps_model",
    "style_axes",
    "timeline",
    "timeline_model",
]

# The renderers' names, loaded (with matplotlib) when first used.
_LAZY = {
    "WEIGHT_CMAP": "_mpl",
    "animate": "mpl_animation",
    "loss": "mpl_loss",
    "MAP_CMAP": "mpl_maps",
    "decision_map": "mpl_maps",
    "neuron_maps": "mpl_maps",
    "BIAS_GID": "mpl_network",
    "WEIGHT_GID": "mpl_network",
    "network": "mpl_network",
    "network_change": "mpl_network",
    "ARRIVALS_GID": "mpl_timeline",
    "DROPPED_GID": "mpl_timeline",
    "LATE_GID": "mpl_timeline",
    "MESSAGE_GID": "mpl_timeline",
    "VALUE_GID": "mpl_timeline",
    "timeline": "mpl_timeline",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'neurosim.plot' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"neurosim.plot.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

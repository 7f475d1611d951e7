"""Figures of a simulation (being split into a package; see mpl_timeline)."""

from neurosim.plot import mpl_timeline as _impl
from neurosim.plot.mpl_timeline import *  # noqa: F403
from neurosim.plot.mpl_timeline import __all__, __doc__  # noqa: F401


def __getattr__(name):
    return getattr(_impl, name)

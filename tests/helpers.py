"""What several test files share: loading a scenario script, optional packages."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_scenario(name: str) -> ModuleType:
    """``scenarios/<name>.py`` as a module (the folder is not a package).

    Each call runs the script afresh. The module is registered in
    ``sys.modules``: dataclasses look their module up there.
    """
    path = ROOT / "scenarios" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_scenario_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def require(module: str, install: str) -> ModuleType:
    """Import an optional package, or skip, except under ``CI``: there the
    gate installs it, so its absence is a failure."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is missing in CI ({install})")
        pytest.skip(f"{module} is not installed ({install})")

"""katman: a plugin-based, backend-agnostic deep learning SDK with Keras's API.

``import katman`` is cheap: it imports no framework and loads no plugin. Sub-modules load on
first attribute access, plugins on the first registry lookup, and the active backend's
framework on the first tensor.

Example:
    >>> import katman
    >>> katman.config.floatx()
    'float32'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pluggy

from katman import config, errors
from katman._version import __version__

__all__ = [
    "KerasTensor",
    "__version__",
    "activations",
    "applications",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "dtypes",
    "errors",
    "hookimpl",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "ops",
    "optimizers",
    "registry",
    "regularizers",
    "serialization",
    "symbolic",
]

hookimpl = pluggy.HookimplMarker("katman")
"""Marks a plugin's hook implementations: ``@katman.hookimpl def katman_register(registry)``."""

_LAZY_SUBMODULES = frozenset(__all__) - {
    "KerasTensor",
    "__version__",
    "config",
    "errors",
    "hookimpl",
}

if TYPE_CHECKING:
    from katman import (
        activations,
        applications,
        backend,
        callbacks,
        constraints,
        dtypes,
        initializers,
        layers,
        losses,
        metrics,
        ops,
        optimizers,
        registry,
        regularizers,
        serialization,
        symbolic,
    )
    from katman.symbolic import KerasTensor


def __getattr__(name: str) -> Any:
    if name == "KerasTensor":
        from katman.symbolic import KerasTensor

        return KerasTensor
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"katman.{name}")
    raise AttributeError(f"module 'katman' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_SUBMODULES)

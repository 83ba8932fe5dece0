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
    "Input",
    "KerasTensor",
    "Model",
    "Sequential",
    "Variable",
    "__version__",
    "activations",
    "applications",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "datasets",
    "device",
    "dtypes",
    "errors",
    "hookimpl",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "random",
    "registry",
    "regularizers",
    "saving",
    "serialization",
    "symbolic",
    "utils",
    "variables",
]

hookimpl = pluggy.HookimplMarker("katman")
"""Marks a plugin's hook implementations: ``@katman.hookimpl def katman_register(registry)``."""

# Classes at the top level, as in Keras, imported on first access.
_LAZY_CLASSES = {
    "KerasTensor": "katman.symbolic",
    "Variable": "katman.variables",
    "Input": "katman.layers.input_layer",
    "Model": "katman.models.model",
    "Sequential": "katman.models.sequential",
}

_LAZY_SUBMODULES = (
    frozenset(__all__)
    - set(_LAZY_CLASSES)
    - {
        "Variable",
        "__version__",
        "device",
        "config",
        "errors",
        "hookimpl",
    }
)

if TYPE_CHECKING:
    from katman import (
        activations,
        applications,
        backend,
        callbacks,
        constraints,
        datasets,
        dtypes,
        initializers,
        layers,
        losses,
        metrics,
        models,
        ops,
        optimizers,
        random,
        registry,
        regularizers,
        saving,
        serialization,
        symbolic,
        utils,
        variables,
    )
    from katman.layers.input_layer import Input
    from katman.models.model import Model
    from katman.models.sequential import Sequential
    from katman.symbolic import KerasTensor
    from katman.variables import Variable


def device(name: str) -> Any:
    """A context manager placing new tensors on device ``name`` (``"cpu"``, ``"gpu:1"``).

    Example:
        >>> import katman
        >>> with katman.device("cpu"):
        ...     x = katman.ops.convert_to_tensor([1.0])
    """
    from katman.backend import get_backend

    return get_backend().device_scope(name)


def __getattr__(name: str) -> Any:
    if name in _LAZY_CLASSES:
        return getattr(importlib.import_module(_LAZY_CLASSES[name]), name)
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"katman.{name}")
    raise AttributeError(f"module 'katman' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_SUBMODULES)

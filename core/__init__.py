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
    "Variable",
    "__version__",
    "activations",
    "applications",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "device",
    "dtypes",
    "errors",
    "hookimpl",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "ops",
    "optimizers",
    "random",
    "registry",
    "regularizers",
    "serialization",
    "symbolic",
    "variables",
]

hookimpl = pluggy.HookimplMarker("katman")
"""Marks a plugin's hook implementations: ``@katman.hookimpl def katman_register(registry)``."""

_LAZY_SUBMODULES = frozenset(__all__) - {
    "KerasTensor",
    "Variable",
    "__version__",
    "device",
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
        random,
        registry,
        regularizers,
        serialization,
        symbolic,
        variables,
    )
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
    if name == "KerasTensor":
        from katman.symbolic import KerasTensor

        return KerasTensor
    if name == "Variable":
        from katman.variables import Variable

        return Variable
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"katman.{name}")
    raise AttributeError(f"module 'katman' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_SUBMODULES)

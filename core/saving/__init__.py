"""Saving and loading: ``.katman`` model files, weights files, and registering user classes.

See docs/file-format.md for the format and the safety promises.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from katman.saving.model_file import (
    load_model,
    load_weights,
    model_from_json,
    save_model,
    save_weights,
)

__all__ = [
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "load_weights",
    "model_from_json",
    "register_serializable",
    "save_model",
    "save_weights",
]

# Base classes and the registry kind their subclasses are registered under.
_KINDS = (
    ("katman.layers.layer", "Layer", "layer"),
    ("katman.losses.loss", "Loss", "loss"),
    ("katman.metrics.metric", "Metric", "metric"),
    ("katman.optimizers.optimizer", "Optimizer", "optimizer"),
    ("katman.optimizers.schedules", "LearningRateSchedule", "schedule"),
    ("katman.callbacks.callback", "Callback", "callback"),
    ("katman.initializers.initializer", "Initializer", "initializer"),
    ("katman.regularizers.regularizer", "Regularizer", "regularizer"),
    ("katman.constraints.constraint", "Constraint", "constraint"),
)


def _kind_of(obj: Any) -> str:
    import importlib

    if inspect.isclass(obj):
        for module, name, kind in _KINDS:
            if issubclass(obj, getattr(importlib.import_module(module), name)):
                return kind
        raise TypeError(
            f"register_serializable: {obj.__qualname__} is not a katman layer, model, loss, "
            "metric, optimizer, schedule, callback, initializer, regularizer or constraint."
        )
    if callable(obj):
        return "function"
    raise TypeError(f"register_serializable: expected a class or a function, got {obj!r}.")


def register_serializable(package: str = "Custom", name: str | None = None) -> Callable[[Any], Any]:
    """Register a user class or function so that models using it can be saved and loaded:
    a thin face over the plugin registry (the class is registered under the plugin name
    ``package`` and serialized as ``"package>name"``).

    Example:
        >>> import katman
        >>> @katman.saving.register_serializable(package="doc")
        ... def doubled(x):
        ...     return x * 2
        >>> katman.saving.get_registered_name(doubled)
        'doc>doubled'
    """
    from katman.registry import get_registry
    from katman.registry._registry import PluginRegistrar

    if not isinstance(package, str) or not package or ">" in package:
        raise ValueError(f"register_serializable: invalid package name {package!r}.")

    def register(obj: Any) -> Any:
        kind = _kind_of(obj)
        registered = name or obj.__name__
        registry = get_registry()
        existing = registry.find(kind, registered)
        if existing is not None and existing.plugin == package:
            if existing.load() is obj:
                return obj
            registry.remove_entry(existing)  # a redefinition (a re-run cell) replaces it
        registrar = PluginRegistrar(registry, package, builtin=False)
        registrar.add(kind, registered, obj)
        registry.commit(registrar)
        return obj

    return register


def get_registered_name(obj: Any) -> str:
    """The name ``obj`` (a class or function) is serialized under, e.g. ``"Custom>MyLayer"``.

    Raises:
        ValueError: ``obj`` is not registered.
    """
    from katman.registry import get_registry

    target = obj if inspect.isclass(obj) or inspect.isfunction(obj) else type(obj)
    for kind in ("function", *(k for _, _, k in _KINDS)):
        entry = get_registry().find_object(kind, target)
        if entry is not None:
            return entry.registered_name
    raise ValueError(f"{getattr(target, '__qualname__', target)!r} is not registered.")


def get_registered_object(name: str, custom_objects: dict[str, Any] | None = None) -> Any:
    """The class or function registered as ``name`` (``"package>name"`` or a bare name)."""
    from katman.registry import get_registry

    if custom_objects and name in custom_objects:
        return custom_objects[name]
    for kind in ("function", *(k for _, _, k in _KINDS)):
        entry = get_registry().find(kind, name)
        if entry is not None:
            return entry.load()
    return None

"""The plugin manager and the registry every public namespace resolves names through.

Plugins load on first use, not at ``import katman``: the first call to :func:`get_registry`
(made by ``katman.losses.get``, ``katman.config.backend()``, the CLI, ...) loads them.
"""

from __future__ import annotations

import threading
from typing import Any

from katman.registry._builtin import BUILTIN_PLUGINS, DEFAULT_BACKEND_ORDER
from katman.registry._manager import (
    ENTRY_POINT_GROUP,
    RUNTIME,
    PluginFailure,
    PluginInfo,
    PluginLoadWarning,
    PluginManager,
)
from katman.registry._registry import KINDS, Entry, PluginRegistrar, Registry

__all__ = [
    "BUILTIN_PLUGINS",
    "DEFAULT_BACKEND_ORDER",
    "ENTRY_POINT_GROUP",
    "KINDS",
    "Entry",
    "PluginFailure",
    "PluginInfo",
    "PluginLoadWarning",
    "PluginManager",
    "PluginRegistrar",
    "Registry",
    "get_registry",
    "plugin_manager",
    "register_plugin",
]

_manager: PluginManager | None = None
_lock = threading.RLock()


def plugin_manager() -> PluginManager:
    """The process's plugin manager, created and loaded on first call."""
    global _manager
    if _manager is None:
        with _lock:
            if _manager is None:
                manager = PluginManager()
                manager.load_all()
                _manager = manager
    return _manager


def get_registry() -> Registry:
    """The process's registry, with every plugin loaded."""
    return plugin_manager().registry


def register_plugin(plugin: Any, name: str | None = None) -> str:
    """Load a plugin object (usually a module) that is not installed as an entry point.

    Args:
        plugin: an object with ``@katman.hookimpl`` functions.
        name: its plugin name; defaults to the module's ``__name__``.

    Returns:
        The name it was registered under.

    Raises:
        PluginLoadError: its ``katman_register`` hook raised (whatever the strict setting:
            an explicit registration that fails should stop the caller).

    Example:
        >>> import types, katman
        >>> plugin = types.SimpleNamespace()
        >>> @katman.hookimpl
        ... def katman_register(registry):
        ...     registry.add("activation", "doctest_identity", lambda x: x)
        >>> plugin.katman_register = katman_register
        >>> katman.registry.register_plugin(plugin, "doctest-plugin")
        'doctest-plugin'
        >>> katman.activations.get("doctest_identity")(3)
        3
    """
    name = name or getattr(plugin, "__name__", None)
    if not name:
        raise ValueError(f"register_plugin: pass a name for plugin {plugin!r}.")
    module = getattr(plugin, "__name__", type(plugin).__name__)
    with _lock:
        plugin_manager().add_plugin(plugin, PluginInfo(name, RUNTIME, module), strict=True)
    return name

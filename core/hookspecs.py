"""The hooks a katman plugin may implement.

A plugin is a module (or any object) whose functions are marked with ``@katman.hookimpl`` and
named after a hook below. katman validates every implementation when the plugin loads: an
unknown hook name or an argument the specification does not offer is an error naming the
plugin. Implementations may take any subset of a hook's arguments.

Example:
    A plugin module that adds a loss function::

        import katman

        def pseudo_huber(y_true, y_pred): ...

        @katman.hookimpl
        def katman_register(registry):
            registry.add("loss", "pseudo_huber", pseudo_huber)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from katman.registry import PluginRegistrar

hookspec = pluggy.HookspecMarker("katman")


@hookspec
def katman_register(registry: PluginRegistrar) -> None:
    """Register the objects this plugin provides.

    Called once per plugin, when the plugin loads. ``registry`` records everything added
    under this plugin's name, which is how conflicts and ``katman plugins`` name it.

    Args:
        registry: call ``registry.add(kind, name, target, ...)`` for each object, where
            ``target`` is the object itself or a lazy ``"package.module:attribute"`` path
            that is imported on first use.
    """


@hookspec(historic=True)
def katman_backend_loaded(backend: object) -> None:
    """Called once, after the active backend's framework has been imported.

    Use it for framework-specific set-up that must not run at ``import katman`` time. A plugin
    registered after that moment is called as soon as it registers.

    Args:
        backend: the active backend object (see ``katman.backend.Backend``).
    """

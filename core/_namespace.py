"""What the public namespaces (``katman.losses``, ``katman.layers``, ...) have in common.

Each is a small module that binds a :class:`Namespace` for its registry kind. Names the module
defines itself (base classes, helpers) come first; every other attribute is looked up in the
registry, so objects added by plugins appear in the namespace as if defined there.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable, Mapping
from typing import Any

from katman import serialization
from katman.errors import UnknownNameError
from katman.registry import get_registry
from katman.registry._registry import on_change, unknown_name_message


class Namespace:
    """Registry lookup, ``get``, ``serialize`` and ``deserialize`` for one kind.

    Args:
        module_name: the namespace module, usually ``__name__``.
        kind: its registry kind.
        instantiate: whether ``get("Name")`` of a class returns an instance, as Keras's
            ``optimizers.get("adam")`` does.
    """

    def __init__(
        self,
        module_name: str,
        kind: str,
        *,
        instantiate: bool = True,
        core: Mapping[str, str] | None = None,
        default: str | None = None,
    ) -> None:
        self.module_name = module_name
        self.kind = kind
        self.instantiate = instantiate
        # Names core defines for the namespace (base classes), as "module:attribute" paths,
        # imported on first access because they need the backend.
        self.core = dict(core or {})
        # What ``get(None)`` returns, by registered name (activations: "linear").
        self.default = default
        # Registered names loaded so far, published as attributes of the module: the next
        # ``katman.ops.add`` (every op call of a training step) is a plain module lookup,
        # not a call of ``__getattr__``. Any registry change withdraws them.
        self._published: set[str] = set()
        on_change(self._withdraw)

    def exports(
        self,
    ) -> tuple[
        Callable[[Any], Any],
        Callable[[Any], Any],
        Callable[..., Any],
        Callable[[str], Any],
        Callable[[], list[str]],
    ]:
        """``get, serialize, deserialize, __getattr__, __dir__`` for the namespace module."""
        return self.get, self.serialize, self.deserialize, self.getattr, self.dir

    def getattr(self, name: str) -> Any:
        """Module ``__getattr__``: a registered object, for names the module lacks."""
        if name.startswith("__"):
            raise AttributeError(f"module {self.module_name!r} has no attribute {name!r}")
        if name in self.core:
            module_name, _, attribute = self.core[name].partition(":")
            module = importlib.import_module(module_name)
            return getattr(module, attribute) if attribute else module
        registry = get_registry()
        generation = registry.generation
        entry = registry.find(self.kind, name)
        if entry is None:
            known = registry.all_names(self.kind)
            raise AttributeError(
                f"module {self.module_name!r} has no attribute {name!r}. "
                + unknown_name_message(self.kind, name, known)
            )
        loaded = entry.load()
        if registry.generation == generation:  # else a change raced this lookup: keep none
            setattr(sys.modules[self.module_name], name, loaded)
            self._published.add(name)
        return loaded

    def _withdraw(self) -> None:
        module = sys.modules.get(self.module_name)
        if module is not None:
            for name in self._published:
                vars(module).pop(name, None)
        self._published.clear()

    def dir(self) -> list[str]:
        """Module ``__dir__``: the module's public names (``__all__``) and registered ones."""
        own = getattr(sys.modules[self.module_name], "__all__", ())
        return sorted(set(own) | set(self.core) | set(get_registry().all_names(self.kind)))

    def get(self, identifier: Any) -> Any:
        """Resolve an object from a name, a serialized config or the object itself.

        Args:
            identifier: a registered name (``str``), a config ``dict`` as ``serialize``
                returns, an object (returned as is), or None (returns None, or the
                namespace's default: ``activations.get(None)`` is ``linear``).

        Raises:
            ValueError: an unknown name (the message lists the known ones) or an identifier
                of another type.
        """
        if identifier is None and self.default is not None:
            identifier = self.default
        return _get(self.kind, identifier, instantiate=self.instantiate)

    def serialize(self, obj: Any) -> Any:
        """``obj`` as plain JSON data (see ``katman.serialization``)."""
        return serialization.serialize(obj, self.kind)

    def deserialize(self, config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
        """An object rebuilt from ``serialize``'s output, resolved through the registry."""
        return serialization.deserialize(config, self.kind, custom_objects=custom_objects)


def _get(kind: str, identifier: Any, *, instantiate: bool) -> Any:
    if identifier is None:
        return None
    if isinstance(identifier, str):
        obj = get_registry().load(kind, identifier)
        return obj() if instantiate and inspect.isclass(obj) else obj
    if isinstance(identifier, dict):
        return serialization.deserialize(identifier, kind)
    if callable(identifier) or not isinstance(identifier, (int, float, bytes, list, tuple)):
        return identifier
    raise UnknownNameError(
        f"Could not interpret {kind} identifier {identifier!r}: expected a name, a config "
        f"dict or a {kind} object."
    )

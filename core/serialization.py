"""Objects to plain JSON data and back, resolving classes only through the registry.

A serialized object is ``{"class_name": ..., "registered_name": ..., "config": {...}}``. The
registered name is the bare name for built-in objects and ``"plugin>name"`` for a plugin's;
loading looks it up in the registry and nowhere else, so a config can never make katman
import a module or run code it did not register.

Example:
    >>> import katman
    >>> katman.serialization.serialize(katman.ops.add, "op")
    {'class_name': 'function', 'registered_name': 'add', 'config': 'add'}
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from typing import Any

from katman.errors import UnknownNameError
from katman.registry import get_registry

__all__ = ["FUNCTION", "deserialize", "serialize"]

# ``class_name`` of objects that are referred to by name and carry no config.
FUNCTION = "function"


def serialize(obj: Any, kind: str) -> dict[str, Any] | None:
    """``obj`` as JSON-compatible data.

    Raises:
        ValueError: ``obj`` is not registered as a ``kind``, or its config is not JSON.
    """
    if obj is None:
        return None
    entry = get_registry().find_object(kind, obj)
    if entry is None:
        what = obj if callable(obj) and not hasattr(obj, "get_config") else type(obj)
        raise ValueError(
            f"Cannot serialize {obj!r}: {getattr(what, '__qualname__', what)!r} is not a "
            f"registered {kind}. Decorate it with @katman.saving.register_serializable(), or "
            f"register it from a plugin (registry.add({kind!r}, name, obj))."
        )
    if entry.load() is obj:
        return {
            "class_name": FUNCTION,
            "registered_name": entry.registered_name,
            "config": entry.name,
        }
    if not hasattr(obj, "get_config"):
        raise ValueError(f"Cannot serialize {obj!r}: its class has no get_config() method.")
    config = obj.get_config()
    try:
        json.dumps(config)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"Cannot serialize {obj!r}: get_config() must return JSON data ({err})."
        ) from None
    return {
        "class_name": type(obj).__name__,
        "registered_name": entry.registered_name,
        "config": config,
    }


def deserialize(config: Any, kind: str, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Rebuild a ``kind`` from :func:`serialize`'s output (or from a bare registered name).

    Args:
        config: a dict as :func:`serialize` returns, or a name.
        kind: the registry kind to resolve in.
        custom_objects: names to objects, consulted before the registry (as in Keras).

    Raises:
        UnknownNameError: the name is not registered.
        ValueError: ``config`` is not shaped as :func:`serialize` writes it.
    """
    if config is None:
        return None
    custom_objects = dict(custom_objects or {})
    if isinstance(config, str):
        return custom_objects.get(config) or get_registry().load(kind, config)
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(
            f"Cannot deserialize {kind} from {config!r}: expected a name or a dict with "
            "'class_name', 'registered_name' and 'config'."
        )
    class_name = config["class_name"]
    name = config.get("registered_name") or class_name
    if class_name == FUNCTION:
        name = config.get("registered_name") or config.get("config")
    if not isinstance(name, str):
        raise ValueError(
            f"Cannot deserialize {kind}: registered_name must be a string, got {name!r}."
        )
    target = custom_objects.get(name) or custom_objects.get(class_name)
    if target is None:
        target = get_registry().load(kind, name)
    if class_name == FUNCTION:
        return target
    if not inspect.isclass(target):
        raise UnknownNameError(
            f"Cannot deserialize {kind} {name!r}: it is registered as {target!r}, not a class."
        )
    arguments = config.get("config") or {}
    if not isinstance(arguments, dict):
        raise ValueError(f"Cannot deserialize {kind} {name!r}: 'config' must be a dict.")
    if hasattr(target, "from_config"):
        if custom_objects and "custom_objects" in inspect.signature(target.from_config).parameters:
            return target.from_config(arguments, custom_objects=custom_objects)
        return target.from_config(arguments)
    return target(**arguments)

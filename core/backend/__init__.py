"""The active backend, and Keras's ``keras.backend`` helpers.

``get_backend()`` imports the active framework on first call; nothing else here does.

Example:
    >>> import katman
    >>> katman.backend.backend() in katman.registry.get_registry().names("backend")
    True
"""

from __future__ import annotations

import threading

from katman.backend._contract import Backend
from katman.backend._convert import DTYPES, host_array, host_dtype, standardize_dtype
from katman.backend._device import parse_device
from katman.config import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)

__all__ = [
    "DTYPES",
    "Backend",
    "backend",
    "epsilon",
    "floatx",
    "get_backend",
    "host_array",
    "host_dtype",
    "image_data_format",
    "parse_device",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "standardize_dtype",
]

_active: Backend | None = None
_lock = threading.Lock()


def get_backend() -> Backend:
    """The active backend object, importing its framework on the first call."""
    global _active
    if _active is None:
        with _lock:
            if _active is None:
                _active = _load()
    return _active


def _load() -> Backend:
    from katman.backend import selection
    from katman.registry import plugin_manager

    chosen = selection.resolve()
    backend_class = chosen.entry.load()
    if not (isinstance(backend_class, type) and issubclass(backend_class, Backend)):
        raise TypeError(
            f"Backend {chosen.name!r} of plugin {chosen.entry.plugin!r} must register a "
            f"subclass of katman.backend.Backend, got {backend_class!r}."
        )
    instance = backend_class()
    plugin_manager().hook.katman_backend_loaded.call_historic(kwargs={"backend": instance})
    return instance

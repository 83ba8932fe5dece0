"""Which backend this process uses, and why. Resolving imports no framework."""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass

from katman.config import config_file, read_config_file
from katman.errors import BackendNotAvailableError
from katman.registry import DEFAULT_BACKEND_ORDER, Entry, Registry, get_registry


@dataclass(frozen=True)
class Selection:
    """The chosen backend's name, the reason it was chosen, and its registry entry."""

    name: str
    reason: str
    entry: Entry


_selection: Selection | None = None
_lock = threading.Lock()


def resolve() -> Selection:
    """The active backend, resolved once and fixed for the life of the process.

    Order: ``KATMAN_BACKEND``, then the ``backend`` key of ``katman.json``, then the first
    installed of torch, jax, tensorflow.

    Raises:
        BackendNotAvailableError: the requested backend is unknown or not installed, or no
            backend is installed at all.
    """
    global _selection
    if _selection is None:
        with _lock:
            if _selection is None:
                _selection = _resolve(get_registry())
    return _selection


def is_installed(entry: Entry) -> bool:
    """Whether every module a backend requires can be imported (checked without importing)."""
    return all(
        importlib.util.find_spec(module) is not None for module in entry.metadata["requires"]
    )


def installed_backends(registry: Registry) -> list[str]:
    return [entry.name for entry in registry.entries("backend") if is_installed(entry)]


def _requested() -> tuple[str | None, str]:
    name = os.environ.get("KATMAN_BACKEND", "").strip()
    if name:
        return name, "KATMAN_BACKEND environment variable"
    name = read_config_file().get("backend")
    if name:
        return str(name), f"'backend' key of {config_file()}"
    return None, f"first installed of {', '.join(DEFAULT_BACKEND_ORDER)}"


def _resolve(registry: Registry) -> Selection:
    name, reason = _requested()
    if name is None:
        for candidate in DEFAULT_BACKEND_ORDER:
            entry = registry.find("backend", candidate)
            if entry is not None and is_installed(entry):
                return Selection(candidate, reason, entry)
        raise BackendNotAvailableError(
            "No katman backend is installed. Install one of: "
            + "; ".join(_install_hints(registry))
            + "."
        )
    entry = registry.find("backend", name)
    if entry is None:
        raise BackendNotAvailableError(
            f"Unknown backend {name!r} (from the {reason}). Registered backends: "
            f"{', '.join(registry.names('backend')) or 'none'}; installed: "
            f"{', '.join(installed_backends(registry)) or 'none'}. "
            f"Install one with: {'; '.join(_install_hints(registry))}."
        )
    if not is_installed(entry):
        missing = [m for m in entry.metadata["requires"] if importlib.util.find_spec(m) is None]
        raise BackendNotAvailableError(
            f"Backend {name!r} (from the {reason}) is not installed: module "
            f"{', '.join(map(repr, missing))} not found. Install it with: "
            f"{entry.metadata['install']}. Installed backends: "
            f"{', '.join(installed_backends(registry)) or 'none'}."
        )
    return Selection(name, reason, entry)


def _install_hints(registry: Registry) -> list[str]:
    return [f"{e.name}: {e.metadata['install']}" for e in registry.entries("backend")]

"""The exceptions katman raises for mistakes a user or a plugin author can make.

Every error here says what was received, what was expected and, where there is one, how to
fix it. They derive from the built-in exception a Keras user would catch (``ValueError``,
``ImportError``, ``TypeError``) as well as from :class:`KatmanError`, so both styles work.
"""

from __future__ import annotations

__all__ = [
    "BackendNotAvailableError",
    "KatmanError",
    "ModelFileError",
    "OpArgumentError",
    "OpNotSupportedError",
    "PluginConflictError",
    "PluginLoadError",
    "PluginValidationError",
    "ShapeError",
    "UnknownNameError",
]


class KatmanError(Exception):
    """Base class of every error katman raises on purpose."""


class UnknownNameError(KatmanError, ValueError):
    """A name that no plugin registered, e.g. ``katman.losses.get("msee")``."""


class BackendNotAvailableError(KatmanError, ImportError):
    """The requested backend is unknown, or its framework is not installed."""


class PluginLoadError(KatmanError, ImportError):
    """A plugin failed to import or to register (fatal only with ``KATMAN_STRICT_PLUGINS=1``)."""


class PluginValidationError(KatmanError, TypeError):
    """A plugin's hook implementation does not match katman's hook specifications."""


class PluginConflictError(KatmanError, ValueError):
    """Two plugins registered the same name for the same kind without ``override=True``."""


class OpNotSupportedError(KatmanError, NotImplementedError):
    """An op has neither a kernel nor a composite fallback for the active backend."""


class ModelFileError(KatmanError, ValueError):
    """A model or weights file katman refuses to load: not a katman file, corrupted,
    truncated, unsafe (paths outside the archive, links, oversized members, unknown classes)
    or inconsistent with the model. The message names the file and the problem; nothing is
    half-built."""


class ShapeError(KatmanError, ValueError):
    """An input of the wrong rank or shape for a layer, a loss or a model's data; the message
    names the object, what it expected and what it received."""


class OpArgumentError(KatmanError, ValueError):
    """An op could not run on the arguments it was given (wrong shape, dtype or value).

    The message names the op, the backend, the arguments' shapes and dtypes, and the cause.
    """

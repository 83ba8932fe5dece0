"""Models: ``Model`` (functional or subclassed), ``Sequential``, and their loading helpers.

Everything here needs the backend, so the names load on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["Functional", "Model", "Sequential", "load_model", "model_from_json"]

_NAMES = {
    "Model": "katman.models.model",
    "Sequential": "katman.models.sequential",
    "Functional": "katman.models.functional",
    "load_model": "katman.saving.model_file",
    "model_from_json": "katman.saving.model_file",
}

if TYPE_CHECKING:
    from katman.models.functional import Functional
    from katman.models.model import Model
    from katman.models.sequential import Sequential
    from katman.saving.model_file import load_model, model_from_json


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'katman.models' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

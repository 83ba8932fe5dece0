"""Random number generation from explicit seeds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from katman.backend import Backend


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    return {}

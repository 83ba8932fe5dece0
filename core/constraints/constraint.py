"""The Constraint interface: a projection applied to a weight after each optimizer update."""

from __future__ import annotations

from typing import Any


class Constraint:
    """``constraint(weight)`` returns the projected weight (same shape and dtype)."""

    def __call__(self, w: Any) -> Any:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        return cls(**config)

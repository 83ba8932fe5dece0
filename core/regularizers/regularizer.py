"""The Regularizer interface: a penalty computed from a weight, added to the loss."""

from __future__ import annotations

from typing import Any


class Regularizer:
    """``regularizer(weight)`` returns a scalar penalty that training adds to the loss."""

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(x).")

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)

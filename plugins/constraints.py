"""Built-in constraints plugin: Keras's weight constraints, written with ``katman.ops``.

A constraint maps a weight to its projection; the norm-based ones rescale the slices of the
weight along ``axis`` (for a ``Dense`` kernel ``(input_dim, units)``, ``axis=0`` rescales the
weight vector of each unit; for a ``Conv2D`` kernel use ``axis=[0, 1, 2]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import katman
from katman import ops
from katman.config import epsilon
from katman.constraints.constraint import Constraint
from katman.registry import PluginRegistrar

__all__ = ["MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"]

Axis = int | Sequence[int]


def _axis(owner: str, axis: Any) -> Axis:
    """``axis`` checked: an int or a list/tuple of ints (kept as given, for the config)."""
    values = axis if isinstance(axis, (list, tuple)) else [axis]
    if not values or not all(isinstance(a, int) and not isinstance(a, bool) for a in values):
        raise ValueError(
            f"{owner}: `axis` must be an int or a list of ints. Received: axis={axis!r}"
        )
    return axis


def _norms(w: Any, axis: Axis) -> Any:
    """The L2 norms of ``w``'s slices along ``axis``, kept as size-1 dimensions."""
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return ops.sqrt(ops.sum(ops.square(w), axis=axis, keepdims=True))


def _rescale(w: Any, norms: Any, desired: Any) -> Any:
    """``w`` with each slice's norm moved from ``norms`` to ``desired``."""
    scale = ops.divide(desired, ops.add(norms, epsilon()))
    return ops.multiply(ops.cast(w, ops.dtype(norms)), scale)


def _as_tensor(w: Any) -> Any:
    return w if hasattr(w, "shape") and hasattr(w, "dtype") else ops.convert_to_tensor(w)


class MaxNorm(Constraint):
    """Rescales each slice along ``axis`` whose L2 norm exceeds ``max_value`` down to it.

    Args:
        max_value: the largest norm allowed.
        axis: the axis (or axes) the norms are computed over.

    Example:
        >>> w = MaxNorm(max_value=1.0)(katman.ops.convert_to_tensor([[3.0], [4.0]]))  # ~[.6, .8]
    """

    def __init__(self, max_value: float = 2, axis: Axis = 0) -> None:
        self.max_value = max_value
        self.axis = _axis("MaxNorm", axis)

    def __call__(self, w: Any) -> Any:
        w = _as_tensor(w)
        norms = _norms(w, self.axis)
        return _rescale(w, norms, ops.clip(norms, 0, self.max_value))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to 0.

    Example:
        >>> w = NonNeg()(katman.ops.convert_to_tensor([-1.0, 2.0]))  # [0., 2.]
    """

    def __call__(self, w: Any) -> Any:
        return ops.maximum(_as_tensor(w), 0)


class UnitNorm(Constraint):
    """Rescales each slice along ``axis`` to L2 norm 1.

    Args:
        axis: the axis (or axes) the norms are computed over.
    """

    def __init__(self, axis: Axis = 0) -> None:
        self.axis = _axis("UnitNorm", axis)

    def __call__(self, w: Any) -> Any:
        w = _as_tensor(w)
        norms = _norms(w, self.axis)
        return _rescale(w, norms, ops.ones_like(norms))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each slice's L2 norm into ``[min_value, max_value]``, at speed ``rate``.

    The new norm is ``rate * clip(norm, min_value, max_value) + (1 - rate) * norm``:
    ``rate=1`` enforces the bounds at once, a smaller rate approaches them gradually.

    Args:
        min_value: the smallest norm allowed.
        max_value: the largest norm allowed.
        rate: how far each call moves the norm towards the interval, in ``[0, 1]``.
        axis: the axis (or axes) the norms are computed over.
    """

    def __init__(
        self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Axis = 0
    ) -> None:
        if min_value > max_value:
            raise ValueError(
                "MinMaxNorm: `min_value` must not exceed `max_value`. "
                f"Received: min_value={min_value!r}, max_value={max_value!r}"
            )
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = _axis("MinMaxNorm", axis)

    def __call__(self, w: Any) -> Any:
        w = _as_tensor(w)
        norms = _norms(w, self.axis)
        clipped = ops.clip(norms, self.min_value, self.max_value)
        desired = ops.add(ops.multiply(self.rate, clipped), ops.multiply(1 - self.rate, norms))
        return _rescale(w, norms, desired)

    def get_config(self) -> dict[str, Any]:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    registry.add("constraint", "MaxNorm", MaxNorm, aliases=("max_norm",))
    registry.add("constraint", "NonNeg", NonNeg, aliases=("non_neg",))
    registry.add("constraint", "UnitNorm", UnitNorm, aliases=("unit_norm",))
    registry.add("constraint", "MinMaxNorm", MinMaxNorm, aliases=("min_max_norm",))

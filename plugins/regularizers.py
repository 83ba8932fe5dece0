"""Built-in regularizers plugin: Keras's weight penalties, written with ``katman.ops``."""

from __future__ import annotations

import math
from typing import Any

import katman
from katman import ops
from katman.errors import ShapeError
from katman.registry import PluginRegistrar
from katman.regularizers.regularizer import Regularizer

__all__ = ["L1", "L1L2", "L2", "OrthogonalRegularizer"]


def _factor(owner: str, name: str, value: Any) -> float:
    """``value`` as a float, or a ValueError unless it is a finite non-negative number."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"{owner}: `{name}` must be a non-negative float. Received: {name}={value!r}"
        )
    return float(value)


def _scaled_sum(factor: float, values: Any) -> Any:
    """``factor * sum(values)``, in ``values``' dtype (a Python float adapts to it)."""
    return ops.multiply(factor, ops.sum(values))


class L1(Regularizer):
    """The L1 penalty ``l1 * sum(abs(x))``.

    Args:
        l1: the factor, a non-negative float (None means the default 0.01).

    Example:
        >>> penalty = L1(0.1)(katman.ops.convert_to_tensor([1.0, -2.0]))  # 0.3
    """

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = _factor("L1", "l1", 0.01 if l1 is None else l1)

    def __call__(self, x: Any) -> Any:
        return _scaled_sum(self.l1, ops.abs(x))

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """The L2 penalty ``l2 * sum(square(x))``.

    Args:
        l2: the factor, a non-negative float (None means the default 0.01).

    Example:
        >>> penalty = L2(0.1)(katman.ops.convert_to_tensor([1.0, -2.0]))  # 0.5
    """

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = _factor("L2", "l2", 0.01 if l2 is None else l2)

    def __call__(self, x: Any) -> Any:
        return _scaled_sum(self.l2, ops.square(x))

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


class L1L2(Regularizer):
    """The sum of the L1 and L2 penalties: ``l1 * sum(abs(x)) + l2 * sum(square(x))``.

    As in Keras 3, both factors default to 0 (None also means 0).

    Args:
        l1: the L1 factor, a non-negative float.
        l2: the L2 factor, a non-negative float.

    Example:
        >>> penalty = L1L2(l1=0.1, l2=0.1)(katman.ops.convert_to_tensor([1.0, -2.0]))  # 0.8
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _factor("L1L2", "l1", 0.0 if l1 is None else l1)
        self.l2 = _factor("L1L2", "l2", 0.0 if l2 is None else l2)

    def __call__(self, x: Any) -> Any:
        penalty = ops.zeros((), dtype=ops.dtype(x))
        if self.l1 != 0.0:
            penalty = ops.add(penalty, _scaled_sum(self.l1, ops.abs(x)))
        if self.l2 != 0.0:
            penalty = ops.add(penalty, _scaled_sum(self.l2, ops.square(x)))
        return penalty

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D weight towards being orthogonal.

    The penalty is ``factor * 0.5 * sum(|<u_i, u_j>|) / (n * (n - 1) / 2)`` over the pairs
    ``i != j`` of L2-normalized rows (``mode="rows"``) or columns (``mode="columns"``).

    Args:
        factor: the factor, a non-negative float.
        mode: ``"rows"`` or ``"columns"``.

    Example:
        >>> reg = OrthogonalRegularizer(factor=0.1, mode="rows")
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        self.factor = _factor("OrthogonalRegularizer", "factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(
                "OrthogonalRegularizer: `mode` must be 'rows' or 'columns'. "
                f"Received: mode={mode!r}"
            )
        self.mode = mode

    def __call__(self, x: Any) -> Any:
        shape = tuple(x.shape)
        if len(shape) != 2:
            raise ShapeError(
                f"OrthogonalRegularizer expects a rank-2 weight. Received shape {shape}."
            )
        dtype = ops.dtype(x)
        if self.mode == "rows":
            unit = ops.normalize(x, axis=1)
            product = ops.matmul(unit, ops.transpose(unit))
            size = shape[0]
        else:
            unit = ops.normalize(x, axis=0)
            product = ops.matmul(ops.transpose(unit), unit)
            size = shape[1]
        off_diagonal = ops.multiply(product, ops.subtract(1.0, ops.eye(size, dtype=dtype)))
        pairs = size * (size - 1.0) / 2.0
        total = ops.sum(ops.abs(off_diagonal))
        return ops.multiply(self.factor * 0.5 / pairs, total)

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    registry.add("regularizer", "L1", L1, aliases=("l1",))
    registry.add("regularizer", "L2", L2, aliases=("l2",))
    registry.add("regularizer", "L1L2", L1L2, aliases=("l1_l2", "l1l2"))
    registry.add(
        "regularizer",
        "OrthogonalRegularizer",
        OrthogonalRegularizer,
        aliases=("orthogonal_regularizer",),
    )

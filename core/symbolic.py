"""Symbolic tensors: a shape and a dtype, no values. Ops given one return one, computed from
the op's shape and dtype rule without running anything on the backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from katman.dtypes import standardize_dtype

__all__ = ["KerasTensor", "TensorOperators", "any_symbolic"]


class TensorOperators:
    """Python's arithmetic operators as katman ops, for objects that stand for tensors
    (``KerasTensor``, ``katman.Variable``)."""

    def __add__(self, other: Any) -> Any:
        return _op("add")(self, other)

    def __radd__(self, other: Any) -> Any:
        return _op("add")(other, self)

    def __sub__(self, other: Any) -> Any:
        return _op("subtract")(self, other)

    def __rsub__(self, other: Any) -> Any:
        return _op("subtract")(other, self)

    def __mul__(self, other: Any) -> Any:
        return _op("multiply")(self, other)

    def __rmul__(self, other: Any) -> Any:
        return _op("multiply")(other, self)

    def __truediv__(self, other: Any) -> Any:
        return _op("divide")(self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return _op("divide")(other, self)

    def __matmul__(self, other: Any) -> Any:
        return _op("matmul")(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return _op("matmul")(other, self)

    def __pow__(self, other: Any) -> Any:
        return _op("power")(self, other)

    def __neg__(self) -> Any:
        return _op("negative")(self)


class KerasTensor(TensorOperators):
    """A tensor known only by its shape (``None`` for an unknown dimension) and dtype.

    Example:
        >>> import katman
        >>> x = katman.KerasTensor((None, 3), "float16")
        >>> katman.ops.add(x, 1)
        <KerasTensor shape=(None, 3), dtype=float16>
    """

    def __init__(
        self, shape: Sequence[int | None], dtype: Any = "float32", name: str | None = None
    ):
        shape = tuple(shape)
        if not all(d is None or (isinstance(d, int) and d >= 0) for d in shape):
            raise ValueError(
                f"KerasTensor: a shape holds non-negative ints or None, got {shape!r}."
            )
        self.shape = shape
        self.dtype = standardize_dtype(dtype)
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}>"


def _op(name: str) -> Any:
    from katman.registry import get_registry

    return get_registry().load("op", name)


def any_symbolic(args: Sequence[Any], kwargs: dict[str, Any]) -> bool:
    """Whether a KerasTensor is among the arguments (one level of lists and tuples deep)."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, KerasTensor):
            return True
        if isinstance(value, (list, tuple)) and any(isinstance(v, KerasTensor) for v in value):
            return True
    return False

"""``katman.Variable``: a named, mutable tensor held by the active backend.

On torch the storage is a ``torch.nn.Parameter``, on tensorflow a ``tf.Variable``, on jax a
handle whose array is replaced on assignment; ``variable.handle`` gives it to framework code.

Example:
    >>> import katman
    >>> v = katman.Variable([1.0, 2.0], name="w")
    >>> v.assign([3.0, 4.0])
    >>> katman.ops.convert_to_numpy(v.value).tolist(), v.shape, v.dtype
    ([3.0, 4.0], (2,), 'float32')
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from katman.backend import get_backend
from katman.dtypes import standardize_dtype
from katman.symbolic import TensorOperators

__all__ = ["Variable", "value_and_grad"]

_names = itertools.count()


class Variable(TensorOperators):
    """A mutable tensor with a name, a dtype, a fixed shape and a ``trainable`` flag.

    Args:
        initializer: the initial value (anything ``convert_to_tensor`` takes), or a callable
            ``initializer(shape, dtype)`` (then ``shape`` is required).
        shape: the shape, when ``initializer`` is callable.
        dtype: the dtype (default: the value's, or ``floatx`` for callables).
        trainable: whether optimizers update it.
        name: a name (default ``variable_N``).
    """

    def __init__(
        self,
        initializer: Any,
        shape: Sequence[int] | None = None,
        dtype: Any = None,
        trainable: bool = True,
        name: str | None = None,
    ) -> None:
        from katman import ops

        backend = get_backend()
        if callable(initializer):
            if shape is None:
                raise ValueError(f"Variable {name or ''!r}: a callable initializer needs a shape.")
            initializer = initializer(tuple(shape), standardize_dtype(dtype))
        value = ops.convert_to_tensor(initializer, dtype)
        if shape is not None and tuple(value.shape) != tuple(shape):
            raise ValueError(
                f"Variable {name!r}: the initial value has shape {tuple(value.shape)}, "
                f"expected {tuple(shape)}."
            )
        self.name = name or f"variable_{next(_names)}"
        self.trainable = bool(trainable)
        self._dtype = backend.dtype_of(value)
        self._shape = tuple(int(d) for d in value.shape)
        self.handle = backend.create_variable(value, trainable=self.trainable, name=self.name)

    @property
    def value(self) -> Any:
        """The current value, as a backend tensor."""
        return get_backend().read_variable(self.handle)

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def assign(self, value: Any) -> None:
        """Replace the value; it must have the variable's shape (it is cast to its dtype).

        Raises:
            ValueError: the new value's shape differs.
        """
        if value is self.handle:
            return  # already the variable's own storage (a kernel updated it in place)
        from katman import ops

        tensor = ops.convert_to_tensor(value, self._dtype)
        if tuple(tensor.shape) != self._shape:
            raise ValueError(
                f"Variable {self.name!r} has shape {self._shape}; cannot assign a value of "
                f"shape {tuple(tensor.shape)}."
            )
        get_backend().assign_variable(self.handle, tensor)

    def assign_add(self, delta: Any) -> None:
        if get_backend().add_to_variable(self.handle, delta):
            return
        from katman import ops

        self.assign(ops.add(self.value, delta))

    def assign_sub(self, delta: Any) -> None:
        from katman import ops

        self.assign(ops.subtract(self.value, delta))

    def numpy(self) -> np.ndarray:
        from katman import ops

        return ops.convert_to_numpy(self.value)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __getitem__(self, index: Any) -> Any:
        return self.value[index]

    def __repr__(self) -> str:
        return (
            f"<katman.Variable {self.name!r} shape={self._shape} dtype={self._dtype} "
            f"trainable={self.trainable}>"
        )


def unwrap(value: Any) -> Any:
    """``value`` with katman Variables (also inside lists and tuples) replaced by their values."""
    if isinstance(value, Variable):
        return value.value
    if isinstance(value, (list, tuple)) and any(isinstance(v, Variable) for v in value):
        return type(value)(v.value if isinstance(v, Variable) else v for v in value)
    return value


def value_and_grad(
    function: Callable[[], Any], variables: Sequence[Variable]
) -> tuple[Any, list[Any]]:
    """``function()`` (a scalar reading ``variables``) and its gradient for each variable.

    Example:
        >>> import katman
        >>> w = katman.Variable([1.0, 2.0])
        >>> loss, grads = katman.variables.value_and_grad(
        ...     lambda: katman.ops.sum(katman.ops.square(w.value)), [w])
        >>> katman.ops.convert_to_numpy(grads[0]).tolist()
        [2.0, 4.0]
    """
    handles = [v.handle for v in variables]
    return get_backend().variables_value_and_grad(function, handles)

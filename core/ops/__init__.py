"""Tensor operations with Keras's ``keras.ops`` names, run by the active backend.

Each op is an :class:`Op` registered by a plugin (kind ``"op"``); ``katman.ops.NAME`` looks
it up in the registry. The first call imports the active backend's framework.

Example:
    >>> import katman
    >>> x = katman.ops.convert_to_tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> katman.ops.convert_to_numpy(katman.ops.sum(x, axis=0))
    array([4., 6.], dtype=float32)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from katman._namespace import Namespace
from katman.backend import get_backend
from katman.ops._op import Op

__all__ = ["Op", "convert_to_numpy", "convert_to_tensor", "is_tensor"]


def convert_to_tensor(x: Any, dtype: str | None = None) -> Any:
    """``x`` (scalar, nested list, NumPy array or tensor) as a tensor of the active backend.

    A Python float becomes ``katman.config.floatx()``; a Python int ``int32``; NumPy arrays
    keep their dtype unless ``dtype`` is given.
    """
    return get_backend().convert_to_tensor(x, dtype)


def convert_to_numpy(x: Any) -> np.ndarray:
    """A tensor (or anything array-like) as a NumPy array."""
    return get_backend().convert_to_numpy(x)


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a tensor of the active backend."""
    return get_backend().is_tensor(x)


_namespace = Namespace(__name__, "op", instantiate=False)
__getattr__ = _namespace.getattr
__dir__ = _namespace.dir


# The built-in ops, declared for IDEs and type checkers; at run time every name resolves
# through the registry (``__getattr__`` above). tests/test_ops.py keeps this list in sync.
if TYPE_CHECKING:
    abs: Op
    add: Op
    divide: Op
    exp: Op
    log: Op
    maximum: Op
    mean: Op
    minimum: Op
    multiply: Op
    negative: Op
    sqrt: Op
    square: Op
    subtract: Op
    sum: Op

"""Helpers every backend uses to turn host data into tensors with Keras's default dtypes."""

from __future__ import annotations

from typing import Any

import numpy as np

from katman.config import floatx
from katman.dtypes import DTYPES, standardize_dtype

__all__ = ["DTYPES", "host_array", "is_python_scalar", "standardize_dtype"]

# NumPy has no bfloat16: such arrays travel as float32 and the framework casts them.
_HOST_DTYPE = {"bfloat16": "float32"}


def host_dtype(dtype: str) -> str:
    """The NumPy dtype that carries a katman dtype on the host."""
    return _HOST_DTYPE.get(dtype, dtype)


def host_array(x: Any, dtype: str | None = None) -> tuple[np.ndarray, str]:
    """``x`` as a NumPy array plus the katman dtype its tensor must have.

    Python floats become ``floatx``, Python ints ``int32`` (as in Keras); NumPy data keeps its
    dtype unless ``dtype`` is given. The array's own dtype differs from the returned name only
    for bfloat16, which the framework casts to after conversion.

    Raises:
        TypeError: ``x`` is not numeric data.
    """
    from_numpy = isinstance(x, (np.ndarray, np.generic))
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"convert_to_tensor: expected numbers (a scalar, nested lists or an array), got "
            f"{type(x).__name__} with NumPy dtype {array.dtype}."
        )
    if dtype is not None:
        target = standardize_dtype(dtype)
    elif from_numpy:
        target = standardize_dtype(array.dtype)
    elif array.dtype.kind == "f":
        target = floatx()
    elif array.dtype.kind in "iu":
        target = "int32"
    else:
        target = "bool"
    return array.astype(host_dtype(target), copy=False), target


def is_python_scalar(x: Any) -> bool:
    return isinstance(x, (bool, int, float))

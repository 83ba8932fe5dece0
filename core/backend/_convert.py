"""Helpers every backend uses to turn host data into tensors with Keras's default dtypes."""

from __future__ import annotations

from typing import Any

import numpy as np

from katman.config import floatx

DTYPES = (
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "bool",
)

# NumPy has no bfloat16: such arrays travel as float32 and the framework casts them.
_HOST_DTYPE = {"bfloat16": "float32"}


def standardize_dtype(dtype: Any) -> str:
    """A katman dtype name from a name, a NumPy dtype or a Python type.

    Raises:
        TypeError: ``dtype`` names no dtype katman supports.
    """
    if dtype is float:
        return floatx()
    if dtype is int:
        return "int32"
    name = getattr(dtype, "name", dtype)
    if isinstance(dtype, np.dtype) or (isinstance(dtype, type) and issubclass(dtype, np.generic)):
        name = np.dtype(dtype).name
    if name not in DTYPES:
        raise TypeError(f"Unsupported dtype {dtype!r}. Expected one of: {', '.join(DTYPES)}.")
    return name


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
    host = _HOST_DTYPE.get(target, target)
    return array.astype(host, copy=False), target


def is_python_scalar(x: Any) -> bool:
    return isinstance(x, (bool, int, float))


def weak_scalar_dtype(scalar: bool | int | float, other: str) -> str:
    """The dtype a Python scalar takes next to a tensor of dtype ``other``.

    An int or bool scalar follows any numeric tensor; a float scalar follows a float tensor
    and makes an integer or bool tensor's partner ``floatx``.
    """
    if isinstance(scalar, float) and not other.startswith(("float", "bfloat")):
        return floatx()
    if isinstance(scalar, int) and not isinstance(scalar, bool) and other == "bool":
        return "int32"
    return other


def _is_float(dtype: str) -> bool:
    return dtype.startswith(("float", "bfloat"))


def result_dtype(a: str, b: str) -> str:
    """The dtype of a binary op on tensors of dtypes ``a`` and ``b``.

    Floats win over integers and bools (keeping the float's width, as JAX and Keras do);
    two floats give the wider one (bfloat16 with float16 gives float32); integers and bools
    follow NumPy.
    """
    if a == b:
        return a
    if _is_float(a) != _is_float(b):
        return a if _is_float(a) else b
    if _is_float(a):
        if {a, b} == {"bfloat16", "float16"}:
            return "float32"
        order = ("bfloat16", "float16", "float32", "float64")
        return max(a, b, key=order.index)
    return np.promote_types(a, b).name

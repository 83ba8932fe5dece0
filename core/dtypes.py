"""Dtype names and Keras's type promotion rules, shared by every backend and op.

Promotion follows the least upper bound on a lattice (the one JAX and Keras use): bools below
integers, unsigned and signed integers meeting at the next wider signed type, integers below
floats, bfloat16 and float16 meeting at float32. Python scalars are *weak*: they take the
other operand's type where that loses nothing.

Example:
    >>> from katman.dtypes import result_type
    >>> result_type("int32", "float16")
    'float16'
    >>> result_type("uint8", "int8")
    'int16'
    >>> result_type("bfloat16", float)
    'bfloat16'
"""

from __future__ import annotations

import contextlib
from typing import Any

from katman.config import floatx

__all__ = [
    "BOOL",
    "DTYPES",
    "FLOATS",
    "INTS",
    "is_float",
    "is_int",
    "result_type",
    "standardize_dtype",
]

BOOL = ("bool",)
INTS = ("uint8", "int8", "int16", "int32", "int64")
FLOATS = ("bfloat16", "float16", "float32", "float64")
# The dtypes every backend supports. The lattice below also knows the wider unsigned types.
DTYPES = (*FLOATS, *INTS, *BOOL)

_WEAK_INT, _WEAK_FLOAT = "int", "float"

# Each type and the types directly above it.
_ABOVE: dict[str, tuple[str, ...]] = {
    "bool": (_WEAK_INT,),
    _WEAK_INT: ("uint8", "int8"),
    "uint8": ("uint16", "int16"),
    "uint16": ("uint32", "int32"),
    "uint32": ("uint64", "int64"),
    "uint64": (_WEAK_FLOAT,),
    "int8": ("int16",),
    "int16": ("int32",),
    "int32": ("int64",),
    "int64": (_WEAK_FLOAT,),
    _WEAK_FLOAT: ("bfloat16", "float16"),
    "bfloat16": ("float32",),
    "float16": ("float32",),
    "float32": ("float64",),
    "float64": (),
}


def _closure(dtype: str) -> frozenset[str]:
    return frozenset({dtype}).union(*(_closure(t) for t in _ABOVE[dtype]))


# ``dtype`` and every type above it. Plain dicts, not functools caches: result_type runs inside
# kernels that torch.compile traces, and plain lookups trace cleanly.
_UPPER = {dtype: _closure(dtype) for dtype in _ABOVE}
_LUB: dict[tuple[str, ...], str] = {}


def is_float(dtype: str) -> bool:
    return dtype in FLOATS


def is_int(dtype: str) -> bool:
    return dtype in INTS


def standardize_dtype(dtype: Any) -> str:
    """A katman dtype name from a name, a NumPy dtype, a framework dtype or a Python type.

    Raises:
        TypeError: ``dtype`` names no dtype katman supports.
    """
    if dtype is None or dtype is float:
        return floatx()
    if dtype is int:
        return "int32"
    if dtype is bool:
        return "bool"
    try:
        return _STANDARD[dtype]
    except (KeyError, TypeError):  # not seen yet, or unhashable
        pass
    name = getattr(dtype, "name", None)
    if not isinstance(name, str):
        name = getattr(dtype, "__name__", None) if isinstance(dtype, type) else None
    if not isinstance(name, str):
        name = str(dtype)
    name = name.removeprefix("torch.").removeprefix("<dtype: '").removesuffix("'>")
    if name not in DTYPES:
        raise TypeError(f"Unsupported dtype {dtype!r}. Expected one of: {', '.join(DTYPES)}.")
    with contextlib.suppress(TypeError):  # unhashable: not remembered
        _STANDARD[dtype] = name
    return name


# Names already standardized, by the object given (a name, a NumPy or framework dtype).
_STANDARD: dict[Any, str] = {}
# Lattice results (weak results not yet resolved to floatx) by the dtypes combined.
_RESULTS: dict[tuple[Any, ...], str] = {}


def _lattice_name(value: Any) -> str:
    if value is bool or isinstance(value, bool):
        return "bool"
    if value is int or (isinstance(value, int) and not isinstance(value, bool)):
        return _WEAK_INT
    if value is float or isinstance(value, float):
        return _WEAK_FLOAT
    return standardize_dtype(value)


def _least_upper_bound(names: tuple[str, ...]) -> str:
    if names not in _LUB:
        common = frozenset.intersection(*(_UPPER[n] for n in names))
        _LUB[names] = next(c for c in common if common <= _UPPER[c])
    return _LUB[names]


def result_type(*dtypes: Any) -> str:
    """The dtype Keras gives an op combining ``dtypes``.

    Args:
        *dtypes: dtype names (or anything :func:`standardize_dtype` takes); the Python types
            ``int``, ``float`` and ``bool``, and Python scalars, count as weak.

    Returns:
        A dtype name. A result that is still weak becomes ``int32`` or ``floatx()``.
    """
    if not dtypes:
        return floatx()
    try:
        result = _RESULTS[dtypes]
    except (KeyError, TypeError):  # not seen yet, or unhashable
        result = _least_upper_bound(tuple(sorted({_lattice_name(d) for d in dtypes})))
        if all(isinstance(d, (str, type)) for d in dtypes):  # not values: a bounded set
            _RESULTS[dtypes] = result
    if result == _WEAK_INT:
        return "int32"
    if result == _WEAK_FLOAT:
        return floatx()
    return result

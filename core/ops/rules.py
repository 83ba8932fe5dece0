"""Output dtype rules an op declares, applied to its inputs' dtypes.

Each rule takes the dtypes of the op's tensor arguments (Python scalars appear as ``int``,
``float`` or ``bool``, as Keras treats them: weak) and returns the output dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from katman.dtypes import result_type

DtypeRule = Callable[[Sequence[Any]], str]


def promote(dtypes: Sequence[Any]) -> str:
    """The inputs' common dtype: ``int8 + float16 -> float16``."""
    return result_type(*dtypes)


def to_float(dtypes: Sequence[Any]) -> str:
    """The common dtype, made floating (``floatx`` for integers): sqrt, mean, divide."""
    return result_type(*dtypes, float)


def same_as_first(dtypes: Sequence[Any]) -> str:
    """The first input's dtype: reshape, transpose, max."""
    return result_type(dtypes[0])


def fixed(dtype: str) -> DtypeRule:
    """Always ``dtype``: comparisons give ``bool``, argmax ``int32``."""

    def rule(dtypes: Sequence[Any]) -> str:
        del dtypes
        return dtype

    rule.__name__ = f"fixed_{dtype}"
    return rule


def accumulate(dtypes: Sequence[Any]) -> str:
    """Sums and products: small integers and bools widen to int32, others keep their dtype."""
    dtype = result_type(dtypes[0])
    return "int32" if dtype in ("bool", "uint8", "int8", "int16") else dtype

"""Elementwise math, comparisons and logic."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from katman.backend import Backend
from katman.config import floatx
from katman.dtypes import is_float, result_type


def _wide_float(dtype: str) -> str:
    """hypot, heaviside: floats keep their dtype, int64 gives float64, other ints floatx."""
    if dtype == "int64":
        return "float64"
    return dtype if is_float(dtype) else floatx()


def _angle(dtype: str) -> str:
    """deg2rad, rad2deg: int64 and float64 give float64, half floats keep, others floatx."""
    if dtype in ("int64", "float64"):
        return "float64"
    return dtype if dtype in ("bfloat16", "float16") else floatx()


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    unary, binary, floating = backend.unary_kernel, backend.binary_kernel, backend.float_kernel
    convert, dtype_of = backend.convert_to_tensor, backend.dtype_of

    def identity_for(kinds: tuple[str, ...], function: Callable[[Any], Any]) -> Callable:
        """``function``, except for dtypes starting with one of ``kinds``: returned as is."""

        def kernel(x: Any) -> torch.Tensor:
            x = convert(x)
            return x if dtype_of(x).startswith(kinds) else function(x)

        return kernel

    def on_bools(
        function: Callable[[Any, Any], Any], boolean: Callable[[Any, Any], Any]
    ) -> Callable[[Any, Any], torch.Tensor]:
        """A binary kernel over the promoted inputs, with ``boolean`` for two bools."""

        def kernel(x1: Any, x2: Any) -> torch.Tensor:
            x1, x2 = backend.promote(x1, x2)
            return (boolean if dtype_of(x1) == "bool" else function)(x1, x2)

        return kernel

    def round_(x: Any, decimals: int = 0) -> torch.Tensor:
        x = convert(x)
        dtype = dtype_of(x)
        if dtype == "bool" or (not is_float(dtype) and decimals >= 0):
            return x
        if not is_float(dtype):  # integers to tens, hundreds, ...: exact in float64
            factor = 10.0**-decimals
            return (torch.round(x.to(torch.float64) / factor) * factor).to(x.dtype)
        if decimals == 0:
            return torch.round(x)
        if decimals > 0:
            factor = 10.0**decimals
            return torch.round(x * factor) / factor
        factor = 10.0**-decimals
        return torch.round(x / factor) * factor

    def clip(x: Any, x_min: Any, x_max: Any) -> torch.Tensor:
        x = convert(x)
        if dtype_of(x) == "bool":
            x = x.to(torch.int32)
        # Ties go to the bound (no gradient to x there); NaN passes through.
        if x_min is not None:
            low = convert(x_min, dtype_of(x))
            x = torch.where(x <= low, low, x)
        if x_max is not None:
            high = convert(x_max, dtype_of(x))
            x = torch.where(x >= high, high, x)
        return x

    def integer_safe(function: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """``function`` for floats; for integers, 0 where ``x2`` is 0 (as NumPy), no error."""

        def kernel(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
            if is_float(dtype_of(x1)):
                return function(x1, x2)
            zero = x2 == 0
            result = function(x1, torch.where(zero, torch.ones_like(x2), x2))
            return torch.where(zero, torch.zeros_like(result), result)

        return kernel

    def mod(x1: Any, x2: Any) -> torch.Tensor:
        x1, x2 = backend.promote(x1, x2)
        if dtype_of(x1) == "bool":
            x1, x2 = x1.to(torch.int32), x2.to(torch.int32)
        return integer_safe(torch.remainder)(x1, x2)

    def hypot(x1: Any, x2: Any) -> torch.Tensor:
        x1, x2 = backend.promote(x1, x2)
        dtype = _wide_float(dtype_of(x1))
        return torch.hypot(convert(x1, dtype), convert(x2, dtype))

    def heaviside(x1: Any, x2: Any) -> torch.Tensor:
        x1, x2 = backend.promote(x1, x2)
        dtype = _wide_float(dtype_of(x1))
        x1, x2 = convert(x1, dtype), convert(x2, dtype)
        step = torch.where(x1 < 0, torch.zeros_like(x1), torch.where(x1 > 0, 1.0, x2))
        return torch.where(torch.isnan(x1), x1, step)

    def angle(factor: float) -> Callable[[Any], torch.Tensor]:
        def kernel(x: Any) -> torch.Tensor:
            x = convert(x)
            return convert(x, _angle(dtype_of(x))) * factor

        return kernel

    def nan_to_num(
        x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
    ) -> torch.Tensor:
        x = convert(x)
        if not is_float(dtype_of(x)):
            return x
        return torch.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def isclose(
        x1: Any, x2: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> torch.Tensor:
        x1, x2 = backend.promote(x1, x2)
        dtype = result_type(dtype_of(x1), float)
        x1, x2 = convert(x1, dtype), convert(x2, dtype)
        close = (torch.abs(x1 - x2) <= atol + rtol * torch.abs(x2)) & torch.isfinite(x2)
        close = close | (x1 == x2)
        if equal_nan:
            close = close | (torch.isnan(x1) & torch.isnan(x2))
        return close

    def logical(function: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        return lambda *xs: function(*(convert(x, "bool") for x in xs))

    def signbit(x: Any) -> torch.Tensor:
        x = convert(x)
        if dtype_of(x) == "bool":
            return torch.zeros_like(x)
        return torch.signbit(x)

    def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
        condition = convert(condition, "bool")
        if x1 is None and x2 is None:
            return tuple(i.to(torch.int32) for i in torch.nonzero(condition, as_tuple=True))
        if x1 is None or x2 is None:
            raise ValueError("where: give both x1 and x2, or neither (nonzero indices).")
        x1, x2 = backend.promote(x1, x2)
        return torch.where(condition, x1, x2)

    return {
        "sin": floating(torch.sin),
        "cos": floating(torch.cos),
        "tan": floating(torch.tan),
        "arcsin": floating(torch.asin),
        "arccos": floating(torch.acos),
        "arctan": floating(torch.atan),
        "arctan2": floating(torch.atan2),
        "sinh": floating(torch.sinh),
        "cosh": floating(torch.cosh),
        "tanh": floating(torch.tanh),
        "arcsinh": floating(torch.asinh),
        "arccosh": floating(torch.acosh),
        "arctanh": floating(torch.atanh),
        "log1p": floating(torch.log1p),
        "expm1": floating(torch.expm1),
        "log2": floating(torch.log2),
        "log10": floating(torch.log10),
        "exp2": floating(torch.exp2),
        "power": on_bools(torch.pow, lambda x1, x2: x1 | ~x2),
        "floor": floating(torch.floor),
        "ceil": floating(torch.ceil),
        "round": round_,
        "trunc": identity_for(("bool", "int", "uint"), torch.trunc),
        "sign": identity_for(("bool",), torch.sign),
        "reciprocal": floating(torch.reciprocal),
        "clip": clip,
        "floor_divide": on_bools(integer_safe(torch.floor_divide), torch.logical_and),
        "mod": mod,
        "true_divide": floating(torch.true_divide),
        "absolute": identity_for(("bool",), torch.abs),
        "positive": unary(lambda x: x),
        "logaddexp": floating(torch.logaddexp),
        "hypot": hypot,
        "copysign": floating(torch.copysign),
        "deg2rad": angle(math.pi / 180),
        "rad2deg": angle(180 / math.pi),
        "heaviside": heaviside,
        "rsqrt": floating(torch.rsqrt),
        "nan_to_num": nan_to_num,
        "isnan": unary(torch.isnan),
        "isinf": unary(torch.isinf),
        "isfinite": unary(torch.isfinite),
        "isclose": isclose,
        "equal": binary(torch.eq),
        "not_equal": binary(torch.ne),
        "less": binary(torch.lt),
        "less_equal": binary(torch.le),
        "greater": binary(torch.gt),
        "greater_equal": binary(torch.ge),
        "logical_and": logical(torch.logical_and),
        "logical_or": logical(torch.logical_or),
        "logical_not": logical(torch.logical_not),
        "logical_xor": logical(torch.logical_xor),
        "signbit": signbit,
        "where": where,
    }

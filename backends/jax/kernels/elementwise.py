"""Elementwise math, comparisons and logic."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

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

        def kernel(x: Any) -> jax.Array:
            x = convert(x)
            return x if dtype_of(x).startswith(kinds) else function(x)

        return kernel

    def on_bools(
        function: Callable[[Any, Any], Any], boolean: Callable[[Any, Any], Any]
    ) -> Callable[[Any, Any], jax.Array]:
        """A binary kernel over the promoted inputs, with ``boolean`` for two bools."""

        def kernel(x1: Any, x2: Any) -> jax.Array:
            x1, x2 = backend.promote(x1, x2)
            return (boolean if dtype_of(x1) == "bool" else function)(x1, x2)

        return kernel

    def round_(x: Any, decimals: int = 0) -> jax.Array:
        x = convert(x)
        dtype = dtype_of(x)
        if dtype == "bool" or (not is_float(dtype) and decimals >= 0):
            return x
        if not is_float(dtype):  # integers to tens, hundreds, ...: exact in float64
            factor = 10.0**-decimals
            return (jnp.round(x.astype("float64") / factor) * factor).astype(dtype)
        if decimals == 0:
            return jnp.round(x)
        if decimals > 0:
            factor = 10.0**decimals
            return jnp.round(x * factor) / factor
        factor = 10.0**-decimals
        return jnp.round(x / factor) * factor

    def clip(x: Any, x_min: Any, x_max: Any) -> jax.Array:
        x = convert(x)
        if dtype_of(x) == "bool":
            x = x.astype("int32")
        # Ties go to the bound (no gradient to x there); NaN passes through.
        if x_min is not None:
            low = convert(x_min, dtype_of(x))
            x = jnp.where(x <= low, low, x)
        if x_max is not None:
            high = convert(x_max, dtype_of(x))
            x = jnp.where(x >= high, high, x)
        return x

    def integer_safe(function: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """``function`` for floats; for integers, 0 where ``x2`` is 0 (as NumPy)."""

        def kernel(x1: jax.Array, x2: jax.Array) -> jax.Array:
            if is_float(dtype_of(x1)):
                return function(x1, x2)
            zero = x2 == 0
            result = function(x1, jnp.where(zero, jnp.ones_like(x2), x2))
            return jnp.where(zero, jnp.zeros_like(result), result)

        return kernel

    def mod(x1: Any, x2: Any) -> jax.Array:
        x1, x2 = backend.promote(x1, x2)
        if dtype_of(x1) == "bool":
            x1, x2 = x1.astype("int32"), x2.astype("int32")
        return integer_safe(jnp.mod)(x1, x2)

    def hypot(x1: Any, x2: Any) -> jax.Array:
        x1, x2 = backend.promote(x1, x2)
        dtype = _wide_float(dtype_of(x1))
        return jnp.hypot(convert(x1, dtype), convert(x2, dtype))

    def heaviside(x1: Any, x2: Any) -> jax.Array:
        x1, x2 = backend.promote(x1, x2)
        dtype = _wide_float(dtype_of(x1))
        x1, x2 = convert(x1, dtype), convert(x2, dtype)
        step = jnp.where(x1 < 0, jnp.zeros_like(x1), jnp.where(x1 > 0, jnp.ones_like(x1), x2))
        return jnp.where(jnp.isnan(x1), x1, step)

    def angle(factor: float) -> Callable[[Any], jax.Array]:
        def kernel(x: Any) -> jax.Array:
            x = convert(x)
            return convert(x, _angle(dtype_of(x))) * factor

        return kernel

    def nan_to_num(
        x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
    ) -> jax.Array:
        x = convert(x)
        if not is_float(dtype_of(x)):
            return x
        return jnp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def isclose(
        x1: Any, x2: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> jax.Array:
        x1, x2 = backend.promote(x1, x2)
        dtype = result_type(dtype_of(x1), float)
        x1, x2 = convert(x1, dtype), convert(x2, dtype)
        close = (jnp.abs(x1 - x2) <= atol + rtol * jnp.abs(x2)) & jnp.isfinite(x2)
        close = close | (x1 == x2)
        if equal_nan:
            close = close | (jnp.isnan(x1) & jnp.isnan(x2))
        return close

    def logical(function: Callable[..., jax.Array]) -> Callable[..., jax.Array]:
        return lambda *xs: function(*(convert(x, "bool") for x in xs))

    def signbit(x: Any) -> jax.Array:
        x = convert(x)
        if dtype_of(x) == "bool":
            return jnp.zeros_like(x)
        return jnp.signbit(x)

    def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
        condition = convert(condition, "bool")
        if x1 is None and x2 is None:
            return tuple(i.astype("int32") for i in jnp.nonzero(condition))
        if x1 is None or x2 is None:
            raise ValueError("where: give both x1 and x2, or neither (nonzero indices).")
        x1, x2 = backend.promote(x1, x2)
        return jnp.where(condition, x1, x2)

    return {
        "sin": floating(jnp.sin),
        "cos": floating(jnp.cos),
        "tan": floating(jnp.tan),
        "arcsin": floating(jnp.arcsin),
        "arccos": floating(jnp.arccos),
        "arctan": floating(jnp.arctan),
        "arctan2": floating(jnp.arctan2),
        "sinh": floating(jnp.sinh),
        "cosh": floating(jnp.cosh),
        "tanh": floating(jnp.tanh),
        "arcsinh": floating(jnp.arcsinh),
        "arccosh": floating(jnp.arccosh),
        "arctanh": floating(jnp.arctanh),
        "log1p": floating(jnp.log1p),
        "expm1": floating(jnp.expm1),
        "log2": floating(jnp.log2),
        "log10": floating(jnp.log10),
        "exp2": floating(jnp.exp2),
        "power": on_bools(jnp.power, lambda x1, x2: x1 | ~x2),
        "floor": floating(jnp.floor),
        "ceil": floating(jnp.ceil),
        "round": round_,
        "trunc": identity_for(("bool", "int", "uint"), jnp.trunc),
        "sign": identity_for(("bool",), jnp.sign),
        "reciprocal": floating(jnp.reciprocal),
        "clip": clip,
        "floor_divide": on_bools(integer_safe(jnp.floor_divide), jnp.logical_and),
        "mod": mod,
        "true_divide": floating(jnp.true_divide),
        "absolute": identity_for(("bool",), jnp.abs),
        "positive": unary(lambda x: x),
        "logaddexp": floating(jnp.logaddexp),
        "hypot": hypot,
        "copysign": floating(jnp.copysign),
        "deg2rad": angle(math.pi / 180),
        "rad2deg": angle(180 / math.pi),
        "heaviside": heaviside,
        "rsqrt": floating(jax.lax.rsqrt),
        "nan_to_num": nan_to_num,
        "isnan": unary(jnp.isnan),
        "isinf": unary(jnp.isinf),
        "isfinite": unary(jnp.isfinite),
        "isclose": isclose,
        "equal": binary(jnp.equal),
        "not_equal": binary(jnp.not_equal),
        "less": binary(jnp.less),
        "less_equal": binary(jnp.less_equal),
        "greater": binary(jnp.greater),
        "greater_equal": binary(jnp.greater_equal),
        "logical_and": logical(jnp.logical_and),
        "logical_or": logical(jnp.logical_or),
        "logical_not": logical(jnp.logical_not),
        "logical_xor": logical(jnp.logical_xor),
        "signbit": signbit,
        "where": where,
    }

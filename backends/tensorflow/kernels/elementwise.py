"""Elementwise math, comparisons and logic."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import tensorflow as tf

from katman.backend import Backend
from katman.config import floatx
from katman.dtypes import is_float, result_type

# The integer type a float's bits are read as, for the sign bit.
_BITS = {"bfloat16": tf.int16, "float16": tf.int16, "float32": tf.int32, "float64": tf.int64}


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

        def kernel(x: Any) -> tf.Tensor:
            x = convert(x)
            return x if dtype_of(x).startswith(kinds) else function(x)

        return kernel

    def scaled(function: Callable[[Any], Any], factor: float) -> Callable[[Any], Any]:
        return lambda x: function(x) * tf.constant(factor, x.dtype)

    def exp2(x: tf.Tensor) -> tf.Tensor:
        return tf.pow(tf.constant(2, x.dtype), x)

    def on_bools(
        function: Callable[[Any, Any], Any], boolean: Callable[[Any, Any], Any]
    ) -> Callable[[Any, Any], tf.Tensor]:
        """A binary kernel over the promoted inputs, with ``boolean`` for two bools."""

        def kernel(x1: Any, x2: Any) -> tf.Tensor:
            x1, x2 = backend.promote(x1, x2)
            return (boolean if dtype_of(x1) == "bool" else function)(x1, x2)

        return kernel

    def round_(x: Any, decimals: int = 0) -> tf.Tensor:
        x = convert(x)
        dtype = dtype_of(x)
        if dtype == "bool" or (not is_float(dtype) and decimals >= 0):
            return x
        if not is_float(dtype):  # integers to tens, hundreds, ...: exact in float64
            factor = 10.0**-decimals
            return tf.cast(tf.round(tf.cast(x, tf.float64) / factor) * factor, x.dtype)
        if decimals == 0:
            return tf.round(x)
        if decimals > 0:
            factor = tf.constant(10.0**decimals, x.dtype)
            return tf.round(x * factor) / factor
        factor = tf.constant(10.0**-decimals, x.dtype)
        return tf.round(x / factor) * factor

    def trunc(x: tf.Tensor) -> tf.Tensor:
        return tf.where(x < 0, tf.math.ceil(x), tf.math.floor(x))

    def sign(x: Any) -> tf.Tensor:
        x = convert(x)
        dtype = dtype_of(x)
        if dtype == "bool":
            return x
        if dtype.startswith("uint"):
            return tf.cast(x > 0, x.dtype)
        return tf.sign(x)

    def absolute(x: Any) -> tf.Tensor:
        x = convert(x)
        return x if dtype_of(x).startswith(("bool", "uint")) else tf.abs(x)

    def clip(x: Any, x_min: Any, x_max: Any) -> tf.Tensor:
        x = convert(x)
        if dtype_of(x) == "bool":
            x = tf.cast(x, tf.int32)
        # Ties go to the bound (no gradient to x there); NaN passes through.
        if x_min is not None:
            low = convert(x_min, dtype_of(x))
            x = tf.where(x <= low, low, x)
        if x_max is not None:
            high = convert(x_max, dtype_of(x))
            x = tf.where(x >= high, high, x)
        return x

    def power(x1: tf.Tensor, x2: tf.Tensor) -> tf.Tensor:
        if dtype_of(x1).startswith("uint"):  # TF has no unsigned pow; wraps the same in int64
            return tf.cast(tf.pow(tf.cast(x1, tf.int64), tf.cast(x2, tf.int64)), x1.dtype)
        return tf.pow(x1, x2)

    def integer_safe(function: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """``function`` for floats; for integers, 0 where ``x2`` is 0 (as NumPy), no error."""

        def kernel(x1: tf.Tensor, x2: tf.Tensor) -> tf.Tensor:
            if is_float(dtype_of(x1)):
                return function(x1, x2)
            zero = x2 == 0
            result = function(x1, tf.where(zero, tf.ones_like(x2), x2))
            return tf.where(zero, tf.zeros_like(result), result)

        return kernel

    def floor_divide(x1: tf.Tensor, x2: tf.Tensor) -> tf.Tensor:
        if not is_float(dtype_of(x1)):
            return integer_safe(tf.math.floordiv)(x1, x2)
        if dtype_of(x1) in ("float16", "bfloat16"):  # no half-float remainder in TF
            wide = floor_divide(tf.cast(x1, tf.float32), tf.cast(x2, tf.float32))
            return tf.cast(wide, x1.dtype)
        # As NumPy and Python: from the exact remainder, so that 1 // 0.1 is 9 (not 10).
        remainder = tf.truncatemod(x1, x2)
        quotient = (x1 - remainder) / x2
        adjust = tf.logical_and(remainder != 0, (x2 < 0) != (remainder < 0))
        quotient = tf.where(adjust, quotient - 1, quotient)
        floored = tf.floor(quotient)
        floored = tf.where(quotient - floored > 0.5, floored + 1, floored)
        return tf.where(x2 == 0, x1 / x2, floored)

    def mod(x1: Any, x2: Any) -> tf.Tensor:
        x1, x2 = backend.promote(x1, x2)
        if dtype_of(x1) == "bool":
            x1, x2 = tf.cast(x1, tf.int32), tf.cast(x2, tf.int32)
        return integer_safe(tf.math.floormod)(x1, x2)

    def logaddexp(x1: tf.Tensor, x2: tf.Tensor) -> tf.Tensor:
        # Shifted by the (constant) larger input: exact gradients, ties included.
        largest = tf.stop_gradient(tf.maximum(x1, x2))
        shift = tf.where(tf.math.is_finite(largest), largest, tf.zeros_like(largest))
        return shift + tf.math.log1p(tf.exp(x1 - shift) + tf.exp(x2 - shift) - 1)

    def hypot(x1: Any, x2: Any) -> tf.Tensor:
        x1, x2 = backend.promote(x1, x2)
        dtype = _wide_float(dtype_of(x1))
        x1, x2 = convert(x1, dtype), convert(x2, dtype)
        # Scaled by the (constant) larger magnitude so that squares cannot overflow.
        largest = tf.stop_gradient(tf.maximum(tf.abs(x1), tf.abs(x2)))
        scale = tf.where((largest > 0) & tf.math.is_finite(largest), largest,
                         tf.ones_like(largest))  # fmt: skip
        return scale * tf.sqrt(tf.square(x1 / scale) + tf.square(x2 / scale))

    def signbit(x: Any) -> tf.Tensor:
        x = convert(x)
        dtype = dtype_of(x)
        if dtype in _BITS:
            return tf.bitcast(x, _BITS[dtype]) < 0
        if dtype == "bool" or dtype.startswith("uint"):
            return tf.zeros_like(x, dtype=tf.bool)
        return x < 0

    def copysign(x1: tf.Tensor, x2: tf.Tensor) -> tf.Tensor:
        return tf.where(signbit(x2), -tf.abs(x1), tf.abs(x1))

    def heaviside(x1: Any, x2: Any) -> tf.Tensor:
        x1, x2 = backend.promote(x1, x2)
        dtype = _wide_float(dtype_of(x1))
        x1, x2 = convert(x1, dtype), convert(x2, dtype)
        step = tf.where(x1 < 0, tf.zeros_like(x1), tf.where(x1 > 0, tf.ones_like(x1), x2))
        return tf.where(tf.math.is_nan(x1), x1, step)

    def angle(factor: float) -> Callable[[Any], tf.Tensor]:
        def kernel(x: Any) -> tf.Tensor:
            x = convert(x)
            x = convert(x, _angle(dtype_of(x)))
            return x * tf.constant(factor, x.dtype)

        return kernel

    def nan_to_num(
        x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
    ) -> tf.Tensor:
        x = convert(x)
        if not is_float(dtype_of(x)):
            return x
        posinf = x.dtype.max if posinf is None else posinf
        neginf = x.dtype.min if neginf is None else neginf
        x = tf.where(tf.math.is_nan(x), tf.constant(nan, x.dtype), x)
        x = tf.where(x == math.inf, tf.constant(posinf, x.dtype), x)
        return tf.where(x == -math.inf, tf.constant(neginf, x.dtype), x)

    def predicate(function: Callable[[Any], Any], otherwise: bool) -> Callable[[Any], Any]:
        """``function`` for floats; a constant for integers and bools, which TF refuses."""

        def kernel(x: Any) -> tf.Tensor:
            x = convert(x)
            if is_float(dtype_of(x)):
                return function(x)
            return tf.fill(tf.shape(x), otherwise)

        return kernel

    def isclose(
        x1: Any, x2: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> tf.Tensor:
        x1, x2 = backend.promote(x1, x2)
        dtype = result_type(dtype_of(x1), float)
        x1, x2 = convert(x1, dtype), convert(x2, dtype)
        tolerance = tf.constant(atol, x1.dtype) + tf.constant(rtol, x1.dtype) * tf.abs(x2)
        close = (tf.abs(x1 - x2) <= tolerance) & tf.math.is_finite(x2)
        close = close | (x1 == x2)
        if equal_nan:
            close = close | (tf.math.is_nan(x1) & tf.math.is_nan(x2))
        return close

    def ordered(function: Callable[[Any, Any], Any]) -> Callable[[Any, Any], tf.Tensor]:
        """A comparison; TF orders no bools, so they compare as int8."""

        def kernel(x1: Any, x2: Any) -> tf.Tensor:
            x1, x2 = backend.promote(x1, x2)
            if dtype_of(x1) == "bool":
                x1, x2 = tf.cast(x1, tf.int8), tf.cast(x2, tf.int8)
            return function(x1, x2)

        return kernel

    def logical(function: Callable[..., tf.Tensor]) -> Callable[..., tf.Tensor]:
        return lambda *xs: function(*(convert(x, "bool") for x in xs))

    def logical_xor(x1: tf.Tensor, x2: tf.Tensor) -> tf.Tensor:
        return tf.not_equal(x1, x2)

    def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
        condition = convert(condition, "bool")
        if x1 is None and x2 is None:
            indices = tf.cast(tf.where(condition), tf.int32)
            return tuple(tf.unstack(indices, num=condition.shape.rank, axis=1))
        if x1 is None or x2 is None:
            raise ValueError("where: give both x1 and x2, or neither (nonzero indices).")
        x1, x2 = backend.promote(x1, x2)
        return tf.where(condition, x1, x2)

    log = tf.math.log
    return {
        "sin": floating(tf.sin),
        "cos": floating(tf.cos),
        "tan": floating(tf.tan),
        "arcsin": floating(tf.asin),
        "arccos": floating(tf.acos),
        "arctan": floating(tf.atan),
        "arctan2": floating(tf.atan2),
        "sinh": floating(tf.sinh),
        "cosh": floating(tf.cosh),
        "tanh": floating(tf.tanh),
        "arcsinh": floating(tf.asinh),
        "arccosh": floating(tf.acosh),
        "arctanh": floating(tf.atanh),
        "log1p": floating(tf.math.log1p),
        "expm1": floating(tf.math.expm1),
        "log2": floating(scaled(log, 1 / math.log(2))),
        "log10": floating(scaled(log, 1 / math.log(10))),
        "exp2": floating(exp2),
        "power": on_bools(power, lambda x1, x2: x1 | ~x2),
        "floor": floating(tf.floor),
        "ceil": floating(tf.math.ceil),
        "round": round_,
        "trunc": identity_for(("bool", "int", "uint"), trunc),
        "sign": sign,
        "reciprocal": floating(tf.math.reciprocal),
        "clip": clip,
        "floor_divide": on_bools(floor_divide, tf.logical_and),
        "mod": mod,
        "true_divide": floating(tf.math.truediv),
        "absolute": absolute,
        "positive": unary(tf.identity),
        "logaddexp": floating(logaddexp),
        "hypot": hypot,
        "copysign": floating(copysign),
        "deg2rad": angle(math.pi / 180),
        "rad2deg": angle(180 / math.pi),
        "heaviside": heaviside,
        "rsqrt": floating(tf.math.rsqrt),
        "nan_to_num": nan_to_num,
        "isnan": predicate(tf.math.is_nan, False),
        "isinf": predicate(tf.math.is_inf, False),
        "isfinite": predicate(tf.math.is_finite, True),
        "isclose": isclose,
        "equal": binary(tf.equal),
        "not_equal": binary(tf.not_equal),
        "less": ordered(tf.less),
        "less_equal": ordered(tf.less_equal),
        "greater": ordered(tf.greater),
        "greater_equal": ordered(tf.greater_equal),
        "logical_and": logical(tf.logical_and),
        "logical_or": logical(tf.logical_or),
        "logical_not": logical(tf.logical_not),
        "logical_xor": logical(logical_xor),
        "signbit": signbit,
        "where": where,
    }

"""Elementwise math, comparisons and logic (``keras.ops`` names and signatures)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import katman
from katman.config import floatx
from katman.dtypes import result_type
from katman.ops import Op
from katman.ops.rules import fixed, promote, same_as_first, to_float
from katman.registry import PluginRegistrar
from katman.symbolic import KerasTensor

# Every op here is reported under the conformance area "elementwise".
_op = functools.partial(Op, area="elementwise")
_bool = fixed("bool")


# NumPy references with Keras's argument names: ``x`` for unary ops, ``x1, x2`` for binary ones.
def _unary(function: Callable[[Any], Any], name: str) -> Callable[[Any], Any]:
    def reference(x: Any) -> Any:
        return function(x)

    reference.__name__ = reference.__qualname__ = name
    return reference


def _binary(function: Callable[[Any, Any], Any], name: str) -> Callable[[Any, Any], Any]:
    def reference(x1: Any, x2: Any) -> Any:
        return function(x1, x2)

    reference.__name__ = reference.__qualname__ = name
    return reference


# Dtype rules particular to this family.
def _float_with_wide_ints(dtypes: Sequence[Any]) -> str:
    """hypot, heaviside: floats keep their dtype, int64 gives float64, other ints ``floatx``."""
    dtype = result_type(*dtypes)
    if dtype == "int64":
        return "float64"
    return dtype if dtype in ("bfloat16", "float16", "float32", "float64") else floatx()


def _angle(dtypes: Sequence[Any]) -> str:
    """deg2rad, rad2deg: int64 and float64 give float64, half floats keep, others ``floatx``."""
    dtype = result_type(dtypes[0])
    if dtype in ("int64", "float64"):
        return "float64"
    return dtype if dtype in ("bfloat16", "float16") else floatx()


def _bool_to_int32(dtypes: Sequence[Any]) -> str:
    """mod: the promoted dtype, with two bools computed as int32."""
    dtype = result_type(*dtypes)
    return "int32" if dtype == "bool" else dtype


def _first_bool_to_int32(dtypes: Sequence[Any]) -> str:
    """clip: the first input's dtype, with bool computed as int32."""
    dtype = result_type(dtypes[0])
    return "int32" if dtype == "bool" else dtype


def _branches(dtypes: Sequence[Any]) -> str:
    """where: the common dtype of the two branches (the condition does not count)."""
    return result_type(*dtypes[1:])


# References whose NumPy spelling differs from Keras's behaviour or signature.
def _float(x: Any) -> Any:
    """``x`` as a floating array (NumPy keeps integers integral where Keras does not)."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype("float64")


def reciprocal(x: Any) -> Any:
    return np.reciprocal(_float(x))


def rsqrt(x: Any) -> Any:
    return np.reciprocal(np.sqrt(_float(x)))


def round_(x: Any, decimals: int = 0) -> Any:
    x = np.asarray(x)
    if x.dtype == bool:
        return x.copy()
    return np.round(x, decimals)


def trunc(x: Any) -> Any:
    x = np.asarray(x)
    return x.copy() if x.dtype.kind in "biu" else np.trunc(x)


def sign(x: Any) -> Any:
    x = np.asarray(x)
    return x.copy() if x.dtype == bool else np.sign(x)


def absolute(x: Any) -> Any:
    x = np.asarray(x)
    return x.copy() if x.dtype == bool else np.absolute(x)


def positive(x: Any) -> Any:
    x = np.asarray(x)
    return x.copy() if x.dtype == bool else np.positive(x)


def clip(x: Any, x_min: Any, x_max: Any) -> Any:
    x = np.asarray(x)
    if x.dtype == bool:
        x = x.astype("int32")
    low = None if x_min is None else np.asarray(x_min).astype(x.dtype)
    high = None if x_max is None else np.asarray(x_max).astype(x.dtype)
    if low is not None:
        x = np.maximum(x, low)
    if high is not None:
        x = np.minimum(x, high)
    return x


def _both_bool(x1: Any, x2: Any) -> bool:
    return np.asarray(x1).dtype == bool and np.asarray(x2).dtype == bool


def power(x1: Any, x2: Any) -> Any:
    if _both_bool(x1, x2):
        return np.logical_or(x1, np.logical_not(x2))
    return np.power(x1, x2)


def floor_divide(x1: Any, x2: Any) -> Any:
    if _both_bool(x1, x2):
        return np.logical_and(x1, x2)
    return np.floor_divide(x1, x2)


def mod(x1: Any, x2: Any) -> Any:
    if _both_bool(x1, x2):
        return np.mod(np.asarray(x1, "int32"), np.asarray(x2, "int32"))
    return np.mod(x1, x2)


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Any:  # fmt: skip
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def isclose(x1: Any, x2: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Any:  # fmt: skip
    return np.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)


def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    if x1 is None and x2 is None:
        return tuple(i.astype("int32") for i in np.nonzero(condition))
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2, or neither (for the indices of nonzeros).")
    return np.where(condition, x1, x2)


def _broadcast(*shapes: Sequence[int | None]) -> tuple[int | None, ...]:
    rank = max((len(s) for s in shapes), default=0)
    out: list[int | None] = []
    for axis in range(-rank, 0):
        dims = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        known = dims - {None}
        if len(known) > 1:
            raise ValueError(f"where: shapes {', '.join(map(str, shapes))} do not broadcast.")
        out.append(known.pop() if known else (None if None in dims else 1))
    return tuple(out)


def _shape(value: Any) -> tuple[int | None, ...]:
    return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)


def _where_spec(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    if x1 is None and x2 is None:
        return tuple(KerasTensor((None,), "int32") for _ in _shape(condition))
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2, or neither (for the indices of nonzeros).")
    shape = _broadcast(_shape(condition), _shape(x1), _shape(x2))
    return KerasTensor(shape, result_type(*(getattr(v, "dtype", v) for v in (x1, x2))))


OPS = (
    # Trigonometric and hyperbolic functions.
    _op("sin", reference=_unary(np.sin, "sin"), dtype=to_float, doc="Elementwise sine."),
    _op("cos", reference=_unary(np.cos, "cos"), dtype=to_float, doc="Elementwise cosine."),
    _op("tan", reference=_unary(np.tan, "tan"), dtype=to_float, doc="Elementwise tangent."),
    _op("arcsin", reference=_unary(np.arcsin, "arcsin"), dtype=to_float,
        doc="Elementwise inverse sine, in radians."),
    _op("arccos", reference=_unary(np.arccos, "arccos"), dtype=to_float,
        doc="Elementwise inverse cosine, in radians."),
    _op("arctan", reference=_unary(np.arctan, "arctan"), dtype=to_float,
        doc="Elementwise inverse tangent, in radians."),
    _op("arctan2", reference=_binary(np.arctan2, "arctan2"), dtype=to_float,
        doc="Elementwise angle of the point ``(x2, x1)``: arctan of ``x1 / x2`` in the right "
            "quadrant."),
    _op("sinh", reference=_unary(np.sinh, "sinh"), dtype=to_float,
        doc="Elementwise hyperbolic sine."),
    _op("cosh", reference=_unary(np.cosh, "cosh"), dtype=to_float,
        doc="Elementwise hyperbolic cosine."),
    _op("tanh", reference=_unary(np.tanh, "tanh"), dtype=to_float,
        doc="Elementwise hyperbolic tangent."),
    _op("arcsinh", reference=_unary(np.arcsinh, "arcsinh"), dtype=to_float,
        doc="Elementwise inverse hyperbolic sine."),
    _op("arccosh", reference=_unary(np.arccosh, "arccosh"), dtype=to_float,
        doc="Elementwise inverse hyperbolic cosine."),
    _op("arctanh", reference=_unary(np.arctanh, "arctanh"), dtype=to_float,
        doc="Elementwise inverse hyperbolic tangent."),
    # Exponentials and logarithms.
    _op("log1p", reference=_unary(np.log1p, "log1p"), dtype=to_float,
        doc="Elementwise ``log(1 + x)``, accurate for small ``x``."),
    _op("expm1", reference=_unary(np.expm1, "expm1"), dtype=to_float,
        doc="Elementwise ``exp(x) - 1``, accurate for small ``x``."),
    _op("log2", reference=_unary(np.log2, "log2"), dtype=to_float,
        doc="Elementwise base-2 logarithm."),
    _op("log10", reference=_unary(np.log10, "log10"), dtype=to_float,
        doc="Elementwise base-10 logarithm."),
    _op("exp2", reference=_unary(np.exp2, "exp2"), dtype=to_float, doc="Elementwise ``2 ** x``."),
    _op("power", reference=power, dtype=promote,
        doc="Elementwise ``x1 ** x2``, with broadcasting."),
    # Rounding.
    _op("floor", reference=_unary(np.floor, "floor"), dtype=to_float,
        doc="Elementwise largest integer not above ``x`` (as a float)."),
    _op("ceil", reference=_unary(np.ceil, "ceil"), dtype=to_float,
        doc="Elementwise smallest integer not below ``x`` (as a float)."),
    _op("round", reference=round_, dtype=same_as_first,
        doc="Elementwise rounding to ``decimals`` decimal places (negative: to tens, hundreds, "
            "...), halves to even."),
    _op("trunc", reference=trunc, dtype=same_as_first,
        doc="Elementwise rounding towards zero."),
    _op("sign", reference=sign, dtype=same_as_first,
        doc="Elementwise sign: -1, 0 or 1 (in ``x``'s dtype)."),
    # Arithmetic.
    _op("reciprocal", reference=reciprocal, dtype=to_float, doc="Elementwise ``1 / x``."),
    _op("clip", reference=clip, dtype=_first_bool_to_int32,
        doc="``x`` limited to ``[x_min, x_max]`` elementwise (bools clip as int32)."),
    _op("floor_divide", reference=floor_divide, dtype=promote,
        differentiable=False,
        doc="Elementwise ``x1 // x2``: the quotient rounded towards minus infinity."),
    _op("mod", reference=mod, dtype=_bool_to_int32,
        doc="Elementwise remainder of ``x1 / x2``, with the sign of ``x2`` (as Python's ``%``)."),
    _op("true_divide", reference=_binary(np.true_divide, "true_divide"), dtype=to_float,
        doc="Elementwise true division ``x1 / x2`` (integers give floats)."),
    _op("absolute", reference=absolute, dtype=same_as_first,
        doc="Elementwise absolute value (as ``abs``)."),
    _op("positive", reference=positive, dtype=same_as_first,
        doc="Elementwise ``+x``: a copy of ``x``."),
    _op("logaddexp", reference=_binary(np.logaddexp, "logaddexp"), dtype=to_float,
        doc="Elementwise ``log(exp(x1) + exp(x2))``, without overflow."),
    _op("hypot", reference=_binary(np.hypot, "hypot"), dtype=_float_with_wide_ints,
        doc="Elementwise ``sqrt(x1**2 + x2**2)``, without overflow."),
    _op("copysign", reference=_binary(np.copysign, "copysign"), dtype=to_float,
        doc="Elementwise magnitude of ``x1`` with the sign (sign bit) of ``x2``."),
    _op("deg2rad", reference=_unary(np.deg2rad, "deg2rad"), dtype=_angle,
        doc="Elementwise conversion of degrees to radians."),
    _op("rad2deg", reference=_unary(np.rad2deg, "rad2deg"), dtype=_angle,
        doc="Elementwise conversion of radians to degrees."),
    _op("heaviside", reference=_binary(np.heaviside, "heaviside"),
        dtype=_float_with_wide_ints, differentiable=False,
        doc="Elementwise step function: 0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where "
            "``x1 > 0``."),
    _op("rsqrt", reference=rsqrt, dtype=to_float, doc="Elementwise ``1 / sqrt(x)``."),
    _op("nan_to_num", reference=nan_to_num, dtype=same_as_first,
        doc="``x`` with NaN replaced by ``nan``, infinities by ``posinf``/``neginf`` (default: "
            "the dtype's largest and smallest finite values)."),
    # Predicates and comparisons.
    _op("isnan", reference=_unary(np.isnan, "isnan"), dtype=_bool, differentiable=False,
        doc="Elementwise test for NaN."),
    _op("isinf", reference=_unary(np.isinf, "isinf"), dtype=_bool, differentiable=False,
        doc="Elementwise test for positive or negative infinity."),
    _op("isfinite", reference=_unary(np.isfinite, "isfinite"), dtype=_bool,
        differentiable=False, doc="Elementwise test for a finite value (neither NaN nor inf)."),
    _op("isclose", reference=isclose, dtype=_bool, differentiable=False,
        doc="Elementwise ``|x1 - x2| <= atol + rtol * |x2|`` (NaNs equal if ``equal_nan``)."),
    _op("equal", reference=_binary(np.equal, "equal"), dtype=_bool, differentiable=False,
        doc="Elementwise ``x1 == x2``."),
    _op("not_equal", reference=_binary(np.not_equal, "not_equal"), dtype=_bool,
        differentiable=False, doc="Elementwise ``x1 != x2``."),
    _op("less", reference=_binary(np.less, "less"), dtype=_bool, differentiable=False,
        doc="Elementwise ``x1 < x2``."),
    _op("less_equal", reference=_binary(np.less_equal, "less_equal"), dtype=_bool,
        differentiable=False, doc="Elementwise ``x1 <= x2``."),
    _op("greater", reference=_binary(np.greater, "greater"), dtype=_bool, differentiable=False,
        doc="Elementwise ``x1 > x2``."),
    _op("greater_equal", reference=_binary(np.greater_equal, "greater_equal"), dtype=_bool,
        differentiable=False, doc="Elementwise ``x1 >= x2``."),
    # Logic.
    _op("logical_and", reference=_binary(np.logical_and, "logical_and"), dtype=_bool,
        differentiable=False, doc="Elementwise truth of ``x1 and x2`` (nonzero is true)."),
    _op("logical_or", reference=_binary(np.logical_or, "logical_or"), dtype=_bool,
        differentiable=False, doc="Elementwise truth of ``x1 or x2`` (nonzero is true)."),
    _op("logical_not", reference=_unary(np.logical_not, "logical_not"), dtype=_bool,
        differentiable=False, doc="Elementwise truth of ``not x`` (nonzero is true)."),
    _op("logical_xor", reference=_binary(np.logical_xor, "logical_xor"), dtype=_bool,
        differentiable=False, doc="Elementwise truth of exactly one of ``x1``, ``x2``."),
    _op("signbit", reference=_unary(np.signbit, "signbit"), dtype=_bool, differentiable=False,
        doc="Elementwise test of the sign bit (true for negatives, ``-0.0`` and ``-nan``)."),
    _op("where", reference=where, dtype=_branches, output_spec=_where_spec,
        doc="Elementwise select: ``x1`` where ``condition`` is true, else ``x2``; with neither "
            "``x1`` nor ``x2``, the indices of ``condition``'s nonzero entries (int32)."),
)  # fmt: skip


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for op in OPS:
        registry.add("op", op.name, op)

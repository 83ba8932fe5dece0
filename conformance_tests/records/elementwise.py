"""Records for elementwise math, comparisons and logic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from katman.conformance.records import OpRecord
from katman.conformance.strategies import (
    FLOATS,
    MAX_DIMS,
    MAX_SIDE,
    NUMERIC,
    Sample,
    array,
    binary,
    custom,
    shapes,
    unary,
)

WITH_BOOL = (*NUMERIC, "bool")
_SPECIALS = (np.nan, -np.nan, np.inf, -np.inf)


def _pair_shapes(draw: st.DrawFn, count: int = 2) -> tuple[tuple[int, ...], ...]:
    drawn = draw(hnp.mutually_broadcastable_shapes(num_shapes=count, max_dims=MAX_DIMS,
                                                   max_side=MAX_SIDE))  # fmt: skip
    return drawn.input_shapes


def _with_specials(dtype: str, shape: Sequence[int]) -> st.SearchStrategy[np.ndarray]:
    """Arrays of ``dtype`` whose float entries are sometimes NaN (either sign) or +-inf."""
    if dtype not in FLOATS:
        return array(dtype, shape)
    width = 8 * np.dtype(dtype).itemsize
    finite = st.floats(-10.0, 10.0, width=width, allow_subnormal=False)
    return hnp.arrays(dtype, tuple(shape), elements=st.one_of(finite, st.sampled_from(_SPECIALS)))


def _nonzero(dtype: str, shape: Sequence[int], low: float, high: float) -> Any:
    """Arrays with magnitudes in ``[low, high]`` and either sign (divisors)."""
    magnitudes = array(dtype, shape, (low, high))
    signs = hnp.arrays("bool", tuple(shape))
    return st.tuples(magnitudes, signs).map(lambda ms: np.where(ms[1], -ms[0], ms[0]))


def _divisions(draw: st.DrawFn) -> Sample:
    """x1 anything, x2 mostly away from zero (zero gives 0 for integers), dtypes mixed."""
    first, second = _pair_shapes(draw)
    x1 = draw(array(draw(st.sampled_from(NUMERIC)), first))
    x2 = draw(_nonzero(draw(st.sampled_from(NUMERIC)), second, 0.5, 10.0))
    if draw(st.integers(0, 3)) == 0:
        x2 = np.where(draw(hnp.arrays("bool", second)), np.zeros_like(x2), x2)
    return Sample((x1, x2))


def _arctan2(draw: st.DrawFn) -> Sample:
    """Any x1, x2 away from zero (arctan2 jumps at the origin), dtypes mixed."""
    first, second = _pair_shapes(draw)
    x1 = draw(array(draw(st.sampled_from(NUMERIC)), first))
    x2 = draw(_nonzero(draw(st.sampled_from(NUMERIC)), second, 0.1, 10.0))
    return Sample((x1, x2))


def _power(draw: st.DrawFn) -> Sample:
    """Positive float bases (any exponent); for integer results, small non-negative exponents."""
    first, second = _pair_shapes(draw)
    base_dtype, exponent_dtype = draw(st.sampled_from(NUMERIC)), draw(st.sampled_from(NUMERIC))
    integral = base_dtype not in FLOATS and exponent_dtype not in FLOATS
    base = draw(array(base_dtype, first, (-5.0, 5.0) if integral else (0.1, 5.0)))
    exponent = draw(
        st.one_of(
            array(exponent_dtype, second, (0.0, 4.0) if integral else (-3.0, 3.0)),
            st.sampled_from((2, 3) if integral else (2, 3, 0.5, -1.5)),
        )
    )
    return Sample((base, exponent))


def _clip(draw: st.DrawFn) -> Sample:
    """Python bounds of the array's kind, x_min <= x_max."""
    dtype = draw(st.sampled_from(WITH_BOOL))
    x = draw(array(dtype, draw(shapes())))
    bound = st.floats(-10.0, 10.0, width=32) if dtype in FLOATS else st.integers(-10, 10)
    low, high = sorted((draw(bound), draw(bound)))
    return Sample((x, low, high))


def _specials(dtypes: Sequence[str], **kwargs: st.SearchStrategy) -> st.SearchStrategy[Sample]:
    def draw(data: st.DrawFn) -> Sample:
        dtype = data(st.sampled_from(dtypes))
        x = data(_with_specials(dtype, data(shapes())))
        return Sample((x,), {k: data(v) for k, v in kwargs.items()})

    return custom(draw)


def _isclose(draw: st.DrawFn) -> Sample:
    """Pairs that are often nearly equal, around the tolerance; NaN and inf included."""
    dtype = draw(st.sampled_from(NUMERIC))
    first, second = _pair_shapes(draw)
    x1 = draw(_with_specials(dtype, first))
    x2 = draw(_with_specials(dtype, second))
    rtol = draw(st.sampled_from((1e-5, 1e-3, 0.1)))
    atol = draw(st.sampled_from((1e-8, 1e-3, 0.5)))
    if dtype in FLOATS and draw(st.booleans()):
        # A slightly moved copy of x1 (broadcast to x2's shape where it fits).
        scale = draw(st.sampled_from((0.5, 1.0, 2.0))) * rtol
        x2 = (np.broadcast_to(x1, np.broadcast_shapes(x1.shape, x2.shape))
              * np.asarray(1 + scale, dtype)).astype(dtype)  # fmt: skip
    kwargs: dict[str, Any] = {"rtol": rtol, "atol": atol}
    if draw(st.booleans()):
        kwargs["equal_nan"] = draw(st.booleans())
    return Sample((x1, x2), kwargs)


def _where(draw: st.DrawFn) -> Sample:
    """A bool (or numeric) condition and two branches, broadcast together; scalars too."""
    shape_c, shape_1, shape_2 = _pair_shapes(draw, 3)
    condition = draw(array(draw(st.sampled_from(("bool", "bool", "int32", "float32"))), shape_c,
                           (-1.0, 1.0)))  # fmt: skip

    def branch(shape: tuple[int, ...]) -> Any:
        if draw(st.integers(0, 4)) == 0:
            return draw(st.sampled_from((2, -1.5)))
        return draw(array(draw(st.sampled_from(NUMERIC)), shape))

    return Sample((condition, branch(shape_1), branch(shape_2)))


def _comparison(dtypes: Sequence[str] = WITH_BOOL) -> st.SearchStrategy[Sample]:
    return binary(dtypes, domain=(-3.0, 3.0), mixed=True)


RECORDS = (
    OpRecord("sin", unary(NUMERIC)),
    OpRecord("cos", unary(NUMERIC)),
    OpRecord("tan", unary(NUMERIC, domain=(-1.4, 1.4))),
    OpRecord("arcsin", unary(NUMERIC, domain=(-0.99, 0.99))),
    OpRecord("arccos", unary(NUMERIC, domain=(-0.99, 0.99))),
    OpRecord("arctan", unary(NUMERIC)),
    OpRecord("arctan2", custom(_arctan2), grad_args=(0, 1)),
    OpRecord("sinh", unary(NUMERIC)),
    OpRecord("cosh", unary(NUMERIC)),
    OpRecord("tanh", unary(NUMERIC)),
    OpRecord("arcsinh", unary(NUMERIC)),
    OpRecord("arccosh", unary(NUMERIC, domain=(1.01, 100.0))),
    OpRecord("arctanh", unary(FLOATS, domain=(-0.99, 0.99))),
    OpRecord("log1p", unary(NUMERIC, domain=(-0.99, 100.0))),
    OpRecord("expm1", unary(NUMERIC)),
    OpRecord("log2", unary(NUMERIC, domain=(0.01, 100.0))),
    OpRecord("log10", unary(NUMERIC, domain=(0.01, 100.0))),
    OpRecord("exp2", unary(NUMERIC)),
    OpRecord("power", custom(_power), grad_args=(0, 1)),
    OpRecord("floor", unary(NUMERIC)),
    OpRecord("ceil", unary(NUMERIC)),
    OpRecord("round", unary(NUMERIC, domain=(-1000.0, 1000.0), decimals=st.integers(-2, 2))),
    OpRecord("trunc", unary(WITH_BOOL)),
    # sign jumps symmetrically at 0, where finite differences see a huge slope: values only.
    OpRecord("sign", unary(NUMERIC), grad=False),
    OpRecord("reciprocal", unary(NUMERIC, domain=(0.1, 10.0))),
    OpRecord("clip", custom(_clip)),
    OpRecord("floor_divide", custom(_divisions), grad=False),
    OpRecord("mod", custom(_divisions), grad_args=(0, 1)),
    OpRecord(
        "true_divide", binary(NUMERIC, second_domain=(0.5, 10.0), mixed=True), grad_args=(0, 1)
    ),
    OpRecord("absolute", unary(WITH_BOOL)),
    OpRecord("positive", unary(NUMERIC)),
    OpRecord("logaddexp", binary(NUMERIC, mixed=True), grad_args=(0, 1)),
    OpRecord("hypot", binary(NUMERIC, mixed=True), grad_args=(0, 1)),
    OpRecord("copysign", binary(NUMERIC, mixed=True), grad_args=(0,)),
    OpRecord("deg2rad", unary(NUMERIC, domain=(-360.0, 360.0))),
    OpRecord("rad2deg", unary(NUMERIC)),
    OpRecord("heaviside", binary(NUMERIC, domain=(-2.0, 2.0), mixed=True), grad=False),
    OpRecord("rsqrt", unary(NUMERIC, domain=(0.01, 100.0))),
    OpRecord(
        "nan_to_num",
        _specials(
            NUMERIC,
            nan=st.sampled_from((0.0, -1.0, 7.5)),
            posinf=st.sampled_from((None, 100.0)),
            neginf=st.sampled_from((None, -100.0)),
        ),
    ),
    OpRecord("isnan", _specials(WITH_BOOL), grad=False),
    OpRecord("isinf", _specials(WITH_BOOL), grad=False),
    OpRecord("isfinite", _specials(WITH_BOOL), grad=False),
    OpRecord("isclose", custom(_isclose), grad=False),
    OpRecord("equal", _comparison(), grad=False),
    OpRecord("not_equal", _comparison(), grad=False),
    OpRecord("less", _comparison(), grad=False),
    OpRecord("less_equal", _comparison(), grad=False),
    OpRecord("greater", _comparison(), grad=False),
    OpRecord("greater_equal", _comparison(), grad=False),
    OpRecord("logical_and", _comparison(), grad=False),
    OpRecord("logical_or", _comparison(), grad=False),
    OpRecord("logical_not", unary(WITH_BOOL, domain=(-2.0, 2.0)), grad=False),
    OpRecord("logical_xor", _comparison(), grad=False),
    OpRecord("signbit", _specials(WITH_BOOL), grad=False),
    OpRecord("where", custom(_where), grad_args=(1, 2)),
)

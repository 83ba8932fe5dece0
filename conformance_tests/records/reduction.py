"""Records for reductions, scans and sorting.

argmax and argmin, and median and quantile (for their gradients), draw distinct values, so
that no tie decides the answer. sort, argsort and top_k order ties the same way on every
backend (stable sorting: equal values keep their order), so their ties are drawn on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from katman.conformance.records import OpRecord
from katman.conformance.strategies import FLOATS, NUMERIC, Sample, array, custom, shapes

WITH_BOOL = (*NUMERIC, "bool")


def _values(
    draw: st.DrawFn,
    dtype: str,
    shape: Sequence[int],
    domain: tuple[float, float] = (-10.0, 10.0),
    distinct: bool = False,
) -> np.ndarray:
    """An array; with ``distinct``, no two elements are equal: integers from a range wide enough
    for that, floats on a grid of eighths (no two closer than a finite-difference step)."""
    if not distinct:
        return draw(array(dtype, shape, domain))
    if dtype.startswith(("int", "uint")):
        return draw(hnp.arrays(dtype, tuple(shape), elements=st.integers(-1000, 1000), unique=True))
    low, high = (int(np.ceil(8 * domain[0])), int(np.floor(8 * domain[1])))
    steps = draw(hnp.arrays("int32", tuple(shape), elements=st.integers(low, high), unique=True))
    return (steps / 8).astype(dtype)


def _sparse(draw: st.DrawFn, dtype: str, shape: Sequence[int]) -> np.ndarray:
    """An array with many zeros (and -0.0), for all/any/count_nonzero."""
    if dtype == "bool":
        return draw(array("bool", shape))
    choices = [0, 1, -3] if dtype.startswith("int") else [0.0, -0.0, 1.5, -2.0, 1e-3]
    return draw(hnp.arrays(dtype, tuple(shape), elements=st.sampled_from(choices)))


def _axis(draw: st.DrawFn, ndim: int, multiple: bool = True) -> Any:
    choices = [st.none(), st.integers(-ndim, ndim - 1)]
    if multiple:
        choices.append(
            st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
        )
    return draw(st.one_of(*choices))


def _reduce(
    dtypes: Sequence[str] = NUMERIC,
    domain: tuple[float, float] = (-10.0, 10.0),
    *,
    keepdims: bool = True,
    multiple_axes: bool = True,
    distinct: bool = False,
    sparse: bool = False,
    min_side: int = 1,
) -> st.SearchStrategy[Sample]:
    """An array, an ``axis`` (None, an int or, with ``multiple_axes``, a tuple) and optionally
    ``keepdims``."""

    def sample(draw: st.DrawFn) -> Sample:
        dtype = draw(st.sampled_from(dtypes))
        shape = draw(shapes(min_dims=1, min_side=min_side))
        x = _sparse(draw, dtype, shape) if sparse else _values(draw, dtype, shape, domain, distinct)
        kwargs: dict[str, Any] = {"axis": _axis(draw, x.ndim, multiple_axes)}
        if keepdims:
            kwargs["keepdims"] = draw(st.booleans())
        return Sample((x,), kwargs)

    return custom(sample)


def _extreme(draw: st.DrawFn) -> Sample:
    """max / min: a reduction, sometimes with an ``initial`` bound inside the values' range."""
    sample = draw(_reduce(WITH_BOOL))
    dtype = sample.args[0].dtype.name
    if dtype != "bool" and draw(st.booleans()):
        bound = st.integers(-10, 10) if dtype.startswith("int") else st.floats(-10.0, 10.0)
        sample.kwargs["initial"] = draw(bound)
    return sample


def _prod(draw: st.DrawFn) -> Sample:
    sample = draw(_reduce(WITH_BOOL, domain=(-2.0, 2.0)))
    dtype = sample.args[0].dtype.name
    options = [None, None, "float64"] + ([] if dtype in FLOATS else ["int32"])
    requested = draw(st.sampled_from(options))
    if requested is not None:
        sample.kwargs["dtype"] = requested
    return sample


def _average(draw: st.DrawFn) -> Sample:
    """x, axis, weights positionally (so that weights can be differentiated too): weights of
    x's shape, or 1-D along an int axis, or None; positive so that they never sum to zero."""
    dtype = draw(st.sampled_from(NUMERIC))
    x = _values(draw, dtype, draw(shapes(min_dims=1)))
    axis = draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    kind = draw(st.sampled_from(["none", "full", "axis"] if axis is not None else ["none", "full"]))
    weights = None
    if kind != "none":
        shape = x.shape if kind == "full" else (x.shape[axis],)
        weights = _values(draw, draw(st.sampled_from(FLOATS)), shape, (0.1, 2.0))
    return Sample((x, axis, weights))


def _scan(domain: tuple[float, float]) -> st.SearchStrategy[Sample]:
    def sample(draw: st.DrawFn) -> Sample:
        dtype = draw(st.sampled_from(WITH_BOOL))
        x = _values(draw, dtype, draw(shapes(min_dims=1)), domain)
        axis = draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
        kwargs: dict[str, Any] = {"axis": axis}
        options = [None, None, "float64"] + ([] if dtype in FLOATS else ["int32"])
        requested = draw(st.sampled_from(options))
        if requested is not None:
            kwargs["dtype"] = requested
        return Sample((x,), kwargs)

    return custom(sample)


def _sorting(dtypes: Sequence[str], domain: tuple[float, float]) -> st.SearchStrategy[Sample]:
    """An array (integers from a narrow range, so ties occur) and an axis (-1 by default)."""

    def sample(draw: st.DrawFn) -> Sample:
        dtype = draw(st.sampled_from(dtypes))
        values_domain = domain if dtype.startswith("int") else (-10.0, 10.0)
        x = _values(draw, dtype, draw(shapes(min_dims=1)), values_domain)
        axis = draw(st.one_of(st.just("default"), st.none(), st.integers(-x.ndim, x.ndim - 1)))
        return Sample((x,)) if axis == "default" else Sample((x,), {"axis": axis})

    return custom(sample)


def _top_k(draw: st.DrawFn) -> Sample:
    """Ties included: every backend returns equal values lower index first."""
    dtype = draw(st.sampled_from(NUMERIC))
    x = _values(
        draw, dtype, draw(shapes(min_dims=1)), (-10.0, 10.0) if dtype in FLOATS else (-3, 3)
    )
    k = draw(st.integers(1, x.shape[-1]))
    if draw(st.booleans()):
        return Sample((x, k), {"sorted": draw(st.booleans())})
    return Sample((x, k))


# Quantiles on a grid of eighths: positions (n - 1) * q are exact, so the discrete methods
# pick the same element as NumPy does (halfway ties included).
_EIGHTHS = st.integers(0, 8).map(lambda i: i / 8)


def _quantile(draw: st.DrawFn) -> Sample:
    dtype = draw(st.sampled_from(NUMERIC))
    x = _values(draw, dtype, draw(shapes(min_dims=1)), distinct=True)
    method = draw(st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]))
    fractions = st.floats(0.0, 1.0) if method == "linear" else _EIGHTHS
    if draw(st.booleans()):
        q: Any = draw(fractions)
    else:
        size = draw(st.integers(1, 3))
        q = np.array(draw(st.lists(fractions, min_size=size, max_size=size)),
                     dtype=draw(st.sampled_from(FLOATS)))  # fmt: skip
    kwargs: dict[str, Any] = {"axis": _axis(draw, x.ndim), "keepdims": draw(st.booleans())}
    if method != "linear" or draw(st.booleans()):
        kwargs["method"] = method
    return Sample((x, q), kwargs)


RECORDS = (
    OpRecord("max", custom(_extreme)),
    OpRecord("min", custom(_extreme)),
    OpRecord("amax", _reduce(WITH_BOOL)),
    OpRecord("amin", _reduce(WITH_BOOL)),
    OpRecord("prod", custom(_prod)),
    # The derivative of a standard deviation taken over a single element is 0/0: sides >= 2.
    OpRecord("std", _reduce(NUMERIC, min_side=2)),
    OpRecord("var", _reduce(NUMERIC)),
    OpRecord("argmax", _reduce(NUMERIC, multiple_axes=False, distinct=True), grad=False),
    OpRecord("argmin", _reduce(NUMERIC, multiple_axes=False, distinct=True), grad=False),
    OpRecord("all", _reduce(WITH_BOOL, sparse=True), grad=False),
    OpRecord("any", _reduce(WITH_BOOL, sparse=True), grad=False),
    OpRecord("count_nonzero", _reduce(WITH_BOOL, keepdims=False, sparse=True), grad=False),
    OpRecord("average", custom(_average), grad_args=(0, 2)),
    OpRecord("median", _reduce(NUMERIC, distinct=True)),
    OpRecord("cumsum", _scan((-10.0, 10.0))),
    OpRecord("cumprod", _scan((-2.0, 2.0))),
    OpRecord("logsumexp", _reduce(NUMERIC)),
    OpRecord("sort", _sorting(WITH_BOOL, (-3, 3))),
    OpRecord("argsort", _sorting(WITH_BOOL, (-3, 3)), grad=False),
    # Gradients of top_k's values are not checked: the harness differentiates single outputs.
    OpRecord("top_k", custom(_top_k), grad=False),
    OpRecord("quantile", custom(_quantile)),
)

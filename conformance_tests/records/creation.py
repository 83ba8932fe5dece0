"""Records for tensor creation.

Most creation ops take Python values only (shapes, bounds, dtype names): a symbolic call needs
a KerasTensor argument, so those records skip the symbolic check. None is differentiable.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from katman.conformance.records import OpRecord
from katman.conformance.strategies import FLOATS, MAX_SIDE, Sample, array, custom, shapes

ALL = (*FLOATS, "int32", "bool")
# A dtype argument: absent (None) or one of the names records draw.
DTYPE_ARGS = (None, *ALL)


def _with_dtype(data: st.DrawFn, kwargs: dict[str, Any], choices: tuple = DTYPE_ARGS) -> dict:
    dtype = data(st.sampled_from(choices))
    if dtype is not None:
        kwargs["dtype"] = dtype
    return kwargs


def _shape(data: st.DrawFn) -> Any:
    shape = data(shapes())
    if len(shape) == 1 and data(st.booleans()):
        return shape[0]
    return shape if data(st.booleans()) else list(shape)


def _scalar(data: st.DrawFn) -> Any:
    return data(st.one_of(st.booleans(), st.integers(-10, 10),
                          st.floats(-10.0, 10.0, width=32)))  # fmt: skip


def _zeros(data: st.DrawFn) -> Sample:
    return Sample((_shape(data),), _with_dtype(data, {}))


def _full(data: st.DrawFn) -> Sample:
    shape = data(shapes())
    if shape and data(st.integers(0, 3)) == 0:
        own = data(st.integers(0, len(shape)))
        dims = [1 if data(st.booleans()) else n for n in shape[len(shape) - own :]]
        fill: Any = data(array(data(st.sampled_from(ALL)), dims))
    else:
        fill = _scalar(data)
    return Sample((shape, fill), _with_dtype(data, {}))


def _like(data: st.DrawFn) -> Sample:
    x = data(array(data(st.sampled_from(ALL)), data(shapes())))
    return Sample((x,), _with_dtype(data, {}))


def _full_like(data: st.DrawFn) -> Sample:
    x = data(array(data(st.sampled_from(ALL)), data(shapes())))
    return Sample((x, _scalar(data)), _with_dtype(data, {}))


def _quarter(low: float, high: float) -> st.SearchStrategy[float]:
    """Multiples of 0.25, exact in every float dtype: the length of a range is then exact."""
    return st.integers(int(low * 4), int(high * 4)).map(lambda n: n / 4)


def _arange(data: st.DrawFn) -> Sample:
    integral = data(st.booleans())
    bound = st.integers(-10, 10) if integral else _quarter(-5.0, 5.0)
    step = (st.integers(-3, 3) if integral else _quarter(-2.0, 2.0)).filter(bool)
    form = data(st.integers(1, 3))
    args: tuple = (data(bound),) if form == 1 else (data(bound), data(bound))
    if form == 3:
        args = (*args, data(step))
    choices = (None, "int32", *FLOATS) if integral else (None, *FLOATS)
    return Sample(args, _with_dtype(data, {}, choices))


def _bounds(data: st.DrawFn, low: float, high: float) -> tuple[Any, Any, dict[str, Any]]:
    """start and stop for linspace/logspace: Python numbers, or arrays with an axis."""
    kwargs: dict[str, Any] = {}
    if data(st.integers(0, 2)) == 0:
        shape = data(shapes(min_dims=1, max_dims=2))
        dtype = data(st.sampled_from(FLOATS))
        start = data(array(dtype, shape, (low, high)))
        stop = data(array(dtype, shape[data(st.integers(0, len(shape))) :], (low, high)))
        kwargs["axis"] = data(st.integers(-len(shape) - 1, len(shape)))
        return start, stop, kwargs
    number = st.one_of(st.integers(int(low), int(high)), st.floats(low, high, width=32))
    return data(number), data(number), kwargs


def _linspace(data: st.DrawFn) -> Sample:
    start, stop, kwargs = _bounds(data, -10.0, 10.0)
    num = data(st.integers(0, 2 * MAX_SIDE))
    if data(st.booleans()):
        kwargs["endpoint"] = data(st.booleans())
    if data(st.booleans()):
        kwargs["retstep"] = True
    # int32 samples are floored: only for Python bounds, which NumPy computes in float64.
    choices = (None, *FLOATS) if "axis" in kwargs else (None, "int32", *FLOATS)
    return Sample((start, stop, num), _with_dtype(data, kwargs, choices))


def _logspace(data: st.DrawFn) -> Sample:
    start, stop, kwargs = _bounds(data, -3.0, 3.0)
    kwargs["num"] = data(st.integers(0, 2 * MAX_SIDE))
    if data(st.booleans()):
        kwargs["endpoint"] = data(st.booleans())
    if data(st.booleans()):
        kwargs["base"] = data(st.sampled_from([2, 10, 2.5, 0.5]))
    return Sample((start, stop), _with_dtype(data, kwargs, (None, *FLOATS)))


def _eye(data: st.DrawFn) -> Sample:
    side = st.integers(0, MAX_SIDE)
    args: tuple = (data(side),)
    kwargs: dict[str, Any] = {}
    if data(st.booleans()):
        args = (*args, data(side))
    if data(st.booleans()):
        kwargs["k"] = data(st.integers(-MAX_SIDE, MAX_SIDE))
    return Sample(args, _with_dtype(data, kwargs))


def _identity(data: st.DrawFn) -> Sample:
    return Sample((data(st.integers(0, MAX_SIDE)),), _with_dtype(data, {}))


def _meshgrid(data: st.DrawFn) -> Sample:
    xs = tuple(
        data(array(data(st.sampled_from(ALL)), (data(st.integers(1, MAX_SIDE)),)))
        for _ in range(data(st.integers(1, 3)))
    )
    kwargs = {"indexing": data(st.sampled_from(["xy", "ij"]))} if data(st.booleans()) else {}
    return Sample(xs, kwargs)


RECORDS = (
    OpRecord("zeros", custom(_zeros), grad=False, symbolic=False),
    OpRecord("ones", custom(_zeros), grad=False, symbolic=False),
    OpRecord("full", custom(_full), grad=False, symbolic=False),
    OpRecord("zeros_like", custom(_like), grad=False),
    OpRecord("ones_like", custom(_like), grad=False),
    OpRecord("full_like", custom(_full_like), grad=False),
    OpRecord("arange", custom(_arange), grad=False, symbolic=False),
    OpRecord("linspace", custom(_linspace), grad=False, symbolic=False),
    OpRecord("logspace", custom(_logspace), grad=False, symbolic=False),
    OpRecord("eye", custom(_eye), grad=False, symbolic=False),
    OpRecord("identity", custom(_identity), grad=False, symbolic=False),
    OpRecord("tri", custom(_eye), grad=False, symbolic=False),
    OpRecord("meshgrid", custom(_meshgrid), grad=False),
)

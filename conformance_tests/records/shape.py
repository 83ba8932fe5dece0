"""Records for shape manipulation."""

from __future__ import annotations

import itertools
import math
from typing import Any

from hypothesis import strategies as st

from katman.conformance.records import OpRecord
from katman.conformance.strategies import (
    FLOATS,
    MAX_SIDE,
    Sample,
    array,
    custom,
    shapes,
    unary,
)

# Shape ops move values around: every dtype Keras supports is fair game.
ALL = (*FLOATS, "int32", "bool")


def _array(data: st.DrawFn, shape: Any, dtypes: tuple[str, ...] = ALL) -> Any:
    return data(array(data(st.sampled_from(dtypes)), tuple(shape)))


def _axis(data: st.DrawFn, ndim: int) -> int:
    """A valid axis of an ``ndim``-D tensor, negative or not."""
    return data(st.integers(-ndim, ndim - 1))


def _axes(data: st.DrawFn, ndim: int, min_size: int = 1) -> tuple[int, ...]:
    """Distinct axes of an ``ndim``-D tensor, some given as negative numbers."""
    axes = data(st.lists(st.integers(0, ndim - 1), min_size=min_size, unique=True))
    return tuple(a - ndim if data(st.booleans()) else a for a in axes)


def _reshape(data: st.DrawFn) -> Sample:
    x = _array(data, data(shapes()))
    sizes = list(x.shape)
    groups = data(st.integers(1, max(1, len(sizes))))
    cuts = sorted(data(st.lists(st.integers(0, len(sizes)), min_size=groups - 1,
                                max_size=groups - 1)))  # fmt: skip
    bounds = [0, *cuts, len(sizes)]
    newshape = [math.prod(sizes[a:b]) for a, b in itertools.pairwise(bounds)]
    newshape = data(st.permutations(newshape))
    if newshape and data(st.booleans()):
        newshape[data(st.integers(0, len(newshape) - 1))] = -1
    if len(newshape) == 1 and data(st.booleans()):
        return Sample((x, newshape[0]))
    return Sample((x, tuple(newshape)))


def _transpose(data: st.DrawFn) -> Sample:
    x = _array(data, data(shapes()))
    if data(st.booleans()):
        return Sample((x,))
    return Sample((x,), {"axes": tuple(data(st.permutations(range(x.ndim))))})


def _expand_dims(data: st.DrawFn) -> Sample:
    x = _array(data, data(shapes()))
    if data(st.booleans()):
        return Sample((x, _axis(data, x.ndim + 1)))
    count = data(st.integers(1, 2))
    return Sample((x, _axes(data, x.ndim + count, min_size=count)[:count]))


def _squeeze(data: st.DrawFn) -> Sample:
    shape = data(st.lists(st.sampled_from([1, 1, 2, 3]), max_size=4))
    x = _array(data, shape)
    ones = [i for i, n in enumerate(shape) if n == 1]
    if not ones or data(st.booleans()):
        return Sample((x,))
    chosen = data(st.lists(st.sampled_from(ones), min_size=1, unique=True))
    if len(chosen) == 1 and data(st.booleans()):
        return Sample((x,), {"axis": chosen[0] - x.ndim if data(st.booleans()) else chosen[0]})
    return Sample((x,), {"axis": tuple(chosen)})


def _joined(data: st.DrawFn, extra: int = 0) -> tuple[list[Any], int]:
    """1-3 arrays (mixed dtypes) of one shape except along the returned axis."""
    shape = data(shapes(min_dims=1))
    axis = _axis(data, len(shape) + extra)
    xs = []
    for _ in range(data(st.integers(1, 3))):
        mine = list(shape)
        if not extra:
            mine[axis] = data(st.integers(1, MAX_SIDE))
        xs.append(_array(data, mine))
    return xs, axis


def _concatenate(data: st.DrawFn) -> Sample:
    if data(st.integers(0, 4)) == 0:
        xs = [_array(data, data(shapes())) for _ in range(data(st.integers(1, 3)))]
        return Sample((xs,), {"axis": None})
    xs, axis = _joined(data)
    return Sample((xs,), {"axis": axis})


def _stack(data: st.DrawFn) -> Sample:
    shape = data(shapes())
    xs = [_array(data, shape) for _ in range(data(st.integers(1, 3)))]
    if data(st.booleans()):
        return Sample((xs,))
    return Sample((xs,), {"axis": _axis(data, len(shape) + 1)})


def _split(data: st.DrawFn) -> Sample:
    x = _array(data, data(shapes(min_dims=1)))
    axis = _axis(data, x.ndim)
    length = x.shape[axis]
    if data(st.booleans()):
        sections = data(st.sampled_from([n for n in range(1, length + 1) if length % n == 0]))
    else:
        sections = sorted(data(st.lists(st.integers(0, length), max_size=3)))
    if axis == 0 and data(st.booleans()):
        return Sample((x, sections))
    return Sample((x, sections), {"axis": axis})


def _tile(data: st.DrawFn) -> Sample:
    x = _array(data, data(shapes()))
    if data(st.booleans()):
        return Sample((x, data(st.integers(1, 3))))
    return Sample((x, tuple(data(st.lists(st.integers(0, 3), min_size=1, max_size=4)))))


def _repeat(data: st.DrawFn) -> Sample:
    x = _array(data, data(shapes(min_dims=1)))
    if data(st.booleans()):
        return Sample((x, data(st.integers(0, 3))))
    axis = _axis(data, x.ndim)
    if data(st.booleans()):
        repeats = data(st.lists(st.integers(0, 3), min_size=x.shape[axis],
                                max_size=x.shape[axis]))  # fmt: skip
        return Sample((x, repeats), {"axis": axis})
    return Sample((x, data(st.integers(1, 3))), {"axis": axis})


def _broadcast_to(data: st.DrawFn) -> Sample:
    target = data(shapes())
    own = data(st.integers(0, len(target)))
    shape = [1 if data(st.booleans()) else n for n in target[len(target) - own :]]
    return Sample((_array(data, shape), tuple(target)))


def _flip(data: st.DrawFn) -> Sample:
    x = _array(data, data(shapes(min_dims=1)))
    choice = data(st.integers(0, 2))
    if choice == 0:
        return Sample((x,))
    if choice == 1:
        return Sample((x,), {"axis": _axis(data, x.ndim)})
    return Sample((x,), {"axis": _axes(data, x.ndim)})


def _pad(data: st.DrawFn) -> Sample:
    x = _array(data, data(shapes(min_dims=1)))
    width = st.integers(0, 3)
    form = data(st.integers(0, 3))
    if form == 0:
        pad_width: Any = data(width)
    elif form == 1:
        pad_width = ((data(width), data(width)),)
    elif form == 2:
        pad_width = (data(width), data(width))
    else:
        pad_width = tuple((data(width), data(width)) for _ in range(x.ndim))
    mode = data(st.sampled_from(["constant", "constant", "reflect", "symmetric", "edge", "wrap"]))
    kwargs: dict[str, Any] = {}
    if mode != "constant":
        kwargs["mode"] = mode
    elif data(st.booleans()):
        kwargs["constant_values"] = (
            data(st.booleans()) if x.dtype == bool
            else data(st.integers(-5, 5)) if x.dtype.kind == "i"
            else data(st.floats(-5.0, 5.0, width=32))
        )  # fmt: skip
    return Sample((x, pad_width), kwargs)


def _moveaxis(data: st.DrawFn) -> Sample:
    x = _array(data, data(shapes(min_dims=1)))
    if data(st.booleans()):
        return Sample((x, _axis(data, x.ndim), _axis(data, x.ndim)))
    source = _axes(data, x.ndim)
    destination = _axes(data, x.ndim, min_size=len(source))[: len(source)]
    return Sample((x, source, destination))


def _swapaxes(data: st.DrawFn) -> Sample:
    x = _array(data, data(shapes(min_dims=1)))
    return Sample((x, _axis(data, x.ndim), _axis(data, x.ndim)))


def _roll(data: st.DrawFn) -> Sample:
    x = _array(data, data(shapes(min_dims=1)))
    shift = st.integers(-6, 6)
    choice = data(st.integers(0, 2))
    if choice == 0:
        return Sample((x, data(shift)))
    if choice == 1:
        return Sample((x, data(shift)), {"axis": _axis(data, x.ndim)})
    axes = _axes(data, x.ndim)
    return Sample((x, tuple(data(shift) for _ in axes)), {"axis": axes})


def _hstack(data: st.DrawFn) -> Sample:
    shape = data(shapes())
    axis = 0 if len(shape) <= 1 else 1
    xs = []
    for _ in range(data(st.integers(1, 3))):
        mine = list(shape)
        if mine:
            mine[axis] = data(st.integers(1, MAX_SIDE))
        xs.append(_array(data, mine))
    return Sample((xs,))


def _vstack(data: st.DrawFn) -> Sample:
    shape = data(shapes(min_dims=1))
    xs = []
    for _ in range(data(st.integers(1, 3))):
        if len(shape) == 1 and data(st.booleans()):
            xs.append(_array(data, (data(st.integers(1, MAX_SIDE)), *shape)))
        elif len(shape) == 1:
            xs.append(_array(data, shape))
        else:
            xs.append(_array(data, (data(st.integers(1, MAX_SIDE)), *shape[1:])))
    return Sample((xs,))


def _append(data: st.DrawFn) -> Sample:
    if data(st.booleans()):
        return Sample((_array(data, data(shapes())), _array(data, data(shapes()))))
    xs, axis = _joined(data)
    while len(xs) < 2:
        xs.append(_array(data, xs[0].shape))
    return Sample((xs[0], xs[1]), {"axis": axis})


def _diag(data: st.DrawFn) -> Sample:
    x = _array(data, data(shapes(min_dims=1, max_dims=2)))
    if data(st.booleans()):
        return Sample((x,))
    return Sample((x,), {"k": data(st.integers(-4, 4))})


def _diagonal(data: st.DrawFn) -> Sample:
    x = _array(data, data(shapes(min_dims=2)))
    axis1, axis2 = _axes(data, x.ndim, min_size=2)[:2]
    return Sample((x,), {"offset": data(st.integers(-3, 3)), "axis1": axis1, "axis2": axis2})


def _triangle(data: st.DrawFn) -> Sample:
    x = _array(data, data(shapes(min_dims=2)))
    if data(st.booleans()):
        return Sample((x,))
    return Sample((x,), {"k": data(st.integers(-3, 3))})


RECORDS = (
    OpRecord("reshape", custom(_reshape)),
    OpRecord("transpose", custom(_transpose)),
    OpRecord("expand_dims", custom(_expand_dims)),
    OpRecord("squeeze", custom(_squeeze)),
    # The harness differentiates array arguments only, not arrays inside a list.
    OpRecord("concatenate", custom(_concatenate), grad=False),
    OpRecord("stack", custom(_stack), grad=False),
    # The gradient check needs one output; split returns a list.
    OpRecord("split", custom(_split), grad=False),
    OpRecord("tile", custom(_tile)),
    OpRecord("repeat", custom(_repeat)),
    OpRecord("broadcast_to", custom(_broadcast_to)),
    OpRecord("flip", custom(_flip)),
    OpRecord("pad", custom(_pad)),
    OpRecord("moveaxis", custom(_moveaxis)),
    OpRecord("swapaxes", custom(_swapaxes)),
    OpRecord("ravel", unary(ALL)),
    OpRecord("roll", custom(_roll)),
    OpRecord("hstack", custom(_hstack), grad=False),
    OpRecord("vstack", custom(_vstack), grad=False),
    OpRecord("append", custom(_append), grad_args=(0, 1)),
    OpRecord("diag", custom(_diag)),
    OpRecord("diagonal", custom(_diagonal)),
    OpRecord("tril", custom(_triangle)),
    OpRecord("triu", custom(_triangle)),
    OpRecord("size", unary(ALL), grad=False),
    OpRecord("ndim", unary(ALL), grad=False),
)

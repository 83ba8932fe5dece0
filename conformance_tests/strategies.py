"""Hypothesis strategies that draw an op's arguments: shapes, broadcasting pairs, dtypes and
values within the op's domain. Each returns a strategy of :class:`Sample`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

FLOATS = ("float32", "float64")
INTS = ("int32",)
NUMERIC = (*FLOATS, *INTS)
MAX_SIDE = 4
MAX_DIMS = 3


@dataclass
class Sample:
    """One call of an op: positional and keyword arguments (NumPy arrays and Python values)."""

    args: tuple
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return render_call("op", self)


def array(
    dtype: str,
    shape: Sequence[int],
    domain: tuple[float, float] = (-10.0, 10.0),
) -> st.SearchStrategy[np.ndarray]:
    """An array of ``dtype`` and ``shape`` with values in ``domain`` (integers rounded in)."""
    low, high = domain
    if dtype == "bool":
        elements = st.booleans()
    elif dtype.startswith(("int", "uint")):
        elements = st.integers(int(np.ceil(low)), int(np.floor(high)))
    else:
        width = 8 * np.dtype(dtype).itemsize
        elements = st.floats(
            float(np.float32(low)) if width == 32 else low,
            float(np.float32(high)) if width == 32 else high,
            width=width,
            allow_subnormal=False,
        )
    return hnp.arrays(dtype, tuple(shape), elements=elements)


def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=MAX_SIDE)  # fmt: skip


def unary(
    dtypes: Sequence[str] = FLOATS,
    domain: tuple[float, float] = (-10.0, 10.0),
    min_dims: int = 0,
    **kwargs: st.SearchStrategy,
) -> st.SearchStrategy[Sample]:
    """One array argument, plus keyword arguments drawn from ``kwargs``."""

    @st.composite
    def draw(data: st.DrawFn) -> Sample:
        dtype = data(st.sampled_from(dtypes))
        x = data(array(dtype, data(shapes(min_dims=min_dims)), domain))
        return Sample((x,), {k: data(v) for k, v in kwargs.items()})

    return draw()


def binary(
    dtypes: Sequence[str] = FLOATS,
    domain: tuple[float, float] = (-10.0, 10.0),
    second_domain: tuple[float, float] | None = None,
    mixed: bool = False,
) -> st.SearchStrategy[Sample]:
    """Two arrays of mutually broadcastable shapes (of different dtypes when ``mixed``)."""

    @st.composite
    def draw(data: st.DrawFn) -> Sample:
        pair = data(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=MAX_DIMS,
                                                      max_side=MAX_SIDE))  # fmt: skip
        first = data(st.sampled_from(dtypes))
        second = data(st.sampled_from(dtypes)) if mixed else first
        x = data(array(first, pair.input_shapes[0], domain))
        y = data(array(second, pair.input_shapes[1], second_domain or domain))
        return Sample((x, y))

    return draw()


def reduction(
    dtypes: Sequence[str] = FLOATS,
    domain: tuple[float, float] = (-10.0, 10.0),
    keepdims: bool = True,
    multiple_axes: bool = True,
) -> st.SearchStrategy[Sample]:
    """An array, an ``axis`` (None, an int or a tuple) and optionally ``keepdims``."""

    @st.composite
    def draw(data: st.DrawFn) -> Sample:
        dtype = data(st.sampled_from(dtypes))
        x = data(array(dtype, data(shapes(min_dims=1)), domain))
        choices = [st.none(), st.integers(-x.ndim, x.ndim - 1)]
        if multiple_axes:
            choices.append(st.lists(st.integers(0, x.ndim - 1), min_size=1, unique=True)
                           .map(tuple))  # fmt: skip
        kwargs: dict[str, Any] = {"axis": data(st.one_of(*choices))}
        if keepdims:
            kwargs["keepdims"] = data(st.booleans())
        return Sample((x,), kwargs)

    return draw()


def custom(function: Callable[[st.DrawFn], Sample]) -> st.SearchStrategy[Sample]:
    """A strategy from a function that draws a Sample by hand."""
    return st.composite(function)()


def render_value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"np.array({value.tolist()!r}, dtype={value.dtype.name!r})"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(render_value(v) for v in value)
        return (
            f"[{inner}]"
            if isinstance(value, list)
            else f"({inner}{',' if len(value) == 1 else ''})"
        )
    return repr(value)


def render_call(name: str, sample: Sample) -> str:
    parts = [render_value(a) for a in sample.args]
    parts += [f"{k}={render_value(v)}" for k, v in sample.kwargs.items()]
    return f"katman.ops.{name}({', '.join(parts)})"

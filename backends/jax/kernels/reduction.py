"""Reductions, scans and sorting."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.scipy.special import logsumexp as _logsumexp

from katman.backend import Backend
from katman.dtypes import result_type, standardize_dtype
from katman.ops.rules import accumulate


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a sequence of ints) as sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    for a in axis:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of bounds for a tensor of rank {ndim}.")
    return tuple(sorted({a % ndim for a in axis})) if ndim else ()


def _to_end(x: jax.Array, axes: tuple[int, ...]) -> jax.Array:
    """``x`` with ``axes`` moved to the end and flattened into one."""
    others = [i for i in range(x.ndim) if i not in axes]
    y = jnp.transpose(x, (*others, *axes))
    return y.reshape(*[x.shape[i] for i in others], math.prod(x.shape[i] for i in axes))


# Composites of many primitives run as one compiled function, not one dispatch per primitive.
_static = functools.partial(jax.jit, static_argnames=("axis", "keepdims"))
_jit_logsumexp = _static(_logsumexp)
_jit_std = _static(jnp.std)
_jit_var = _static(jnp.var)
_jit_cumsum = functools.partial(jax.jit, static_argnames=("axis", "dtype"))(jnp.cumsum)
_jit_cumprod = functools.partial(jax.jit, static_argnames=("axis", "dtype"))(jnp.cumprod)

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


@functools.partial(jax.jit, static_argnames=("axes", "method", "keepdims"))
def _quantile(
    x: jax.Array, q: jax.Array, axes: tuple[int, ...], method: str, keepdims: bool
) -> jax.Array:
    """Sorted, then indexed at (n - 1) * q, as NumPy does (jnp.quantile rounds halfway
    positions down for "nearest" where NumPy rounds them to the even index)."""
    ordered = jnp.sort(_to_end(x, axes), axis=-1)
    last = ordered.shape[-1] - 1
    position = q.reshape(-1) * last

    def take(index: jax.Array) -> jax.Array:
        return jnp.take(ordered, jnp.clip(index, 0, last).astype("int32"), axis=-1)

    if method == "linear":
        low = jnp.floor(position)
        fraction = (position - low).astype(x.dtype)
        below, above = take(low), take(low + 1)
        out = below + fraction * (above - below)
    elif method == "lower":
        out = take(jnp.floor(position))
    elif method == "higher":
        out = take(jnp.ceil(position))
    elif method == "nearest":
        out = take(jnp.round(position))  # halves go to the even index
    else:
        out = (take(jnp.floor(position)) + take(jnp.ceil(position))) / 2
    if keepdims:
        out = out.reshape(*[1 if i in axes else d for i, d in enumerate(x.shape)], -1)
    return jnp.moveaxis(out, -1, 0) if q.ndim else out[..., 0]


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    def tensor(x: Any) -> jax.Array:
        return backend.convert_to_tensor(x)

    def as_float(x: Any) -> jax.Array:
        x = tensor(x)
        return x.astype(result_type(backend.dtype_of(x), float))

    def extreme(largest: bool) -> Callable[..., jax.Array]:
        def kernel(
            x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None
        ) -> jax.Array:
            x = tensor(x)
            axes = _axes(axis, x.ndim)
            reduce = jnp.max if largest else jnp.min
            out = reduce(x, axis=axes, keepdims=keepdims)
            if initial is not None:
                bound = backend.convert_to_tensor(initial, backend.dtype_of(out))
                out = jnp.maximum(out, bound) if largest else jnp.minimum(out, bound)
            return out

        return kernel

    max_, min_ = extreme(True), extreme(False)

    def amax(x: Any, axis: Any = None, keepdims: bool = False) -> jax.Array:
        return max_(x, axis, keepdims)

    def amin(x: Any, axis: Any = None, keepdims: bool = False) -> jax.Array:
        return min_(x, axis, keepdims)

    def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> jax.Array:
        x = tensor(x)
        out = accumulate([backend.dtype_of(x)]) if dtype is None else standardize_dtype(dtype)
        x = x.astype(out)
        return jnp.prod(x, axis=_axes(axis, x.ndim), keepdims=keepdims, dtype=out)

    def std(x: Any, axis: Any = None, keepdims: bool = False) -> jax.Array:
        x = as_float(x)
        return _jit_std(x, axis=_axes(axis, x.ndim), keepdims=keepdims)

    def var(x: Any, axis: Any = None, keepdims: bool = False) -> jax.Array:
        x = as_float(x)
        return _jit_var(x, axis=_axes(axis, x.ndim), keepdims=keepdims)

    def arg_extreme(largest: bool) -> Callable[..., jax.Array]:
        def kernel(x: Any, axis: Any = None, keepdims: bool = False) -> jax.Array:
            x = tensor(x)
            reduce = jnp.argmax if largest else jnp.argmin
            return reduce(x, axis=axis, keepdims=keepdims).astype("int32")

        return kernel

    def logical(every: bool) -> Callable[..., jax.Array]:
        def kernel(x: Any, axis: Any = None, keepdims: bool = False) -> jax.Array:
            x = tensor(x).astype("bool")
            reduce = jnp.all if every else jnp.any
            return reduce(x, axis=_axes(axis, x.ndim), keepdims=keepdims)

        return kernel

    def count_nonzero(x: Any, axis: Any = None) -> jax.Array:
        x = tensor(x)
        return jnp.count_nonzero(x, axis=_axes(axis, x.ndim)).astype("int32")

    def average(x: Any, axis: Any = None, weights: Any = None) -> jax.Array:
        x = tensor(x)
        names = [backend.dtype_of(x)]
        if weights is not None:
            weights = tensor(weights)
            names.append(backend.dtype_of(weights))
        dtype = result_type(*names, float)
        x = x.astype(dtype)
        axes = _axes(axis, x.ndim)
        if weights is None:
            return jnp.mean(x, axis=axes)
        weights = weights.astype(dtype)
        if weights.ndim != x.ndim:
            if axis is None or weights.ndim != 1:
                raise ValueError(
                    "average: weights must have the shape of x, or be 1-D along an int axis; "
                    f"got weights of shape {tuple(weights.shape)} for x of shape "
                    f"{tuple(x.shape)} and axis={axis!r}."
                )
            weights = weights.reshape([-1 if i in axes else 1 for i in range(x.ndim)])
        weights = jnp.broadcast_to(weights, x.shape)
        return jnp.sum(x * weights, axis=axes) / jnp.sum(weights, axis=axes)

    def quantile(
        x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False
    ) -> jax.Array:
        if method not in _METHODS:
            raise ValueError(
                f"quantile: method must be one of {', '.join(map(repr, _METHODS))}; got {method!r}."
            )
        x = as_float(x)
        q = backend.convert_to_tensor(q, "float64")
        return _quantile(x, q, axes=_axes(axis, x.ndim), method=method, keepdims=keepdims)

    def median(x: Any, axis: Any = None, keepdims: bool = False) -> jax.Array:
        return quantile(x, 0.5, axis=axis, keepdims=keepdims)

    def scan(adding: bool) -> Callable[..., jax.Array]:
        def kernel(x: Any, axis: Any = None, dtype: Any = None) -> jax.Array:
            x = tensor(x)
            out = standardize_dtype(backend.dtype_of(x) if dtype is None else dtype)
            out = "int32" if out == "bool" else out
            function = _jit_cumsum if adding else _jit_cumprod
            return function(x.astype(out), axis=axis, dtype=out)

        return kernel

    def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> jax.Array:
        x = as_float(x)
        return _jit_logsumexp(x, axis=_axes(axis, x.ndim), keepdims=keepdims)

    def sort(x: Any, axis: Any = -1) -> jax.Array:
        return jnp.sort(tensor(x), axis=axis, stable=True)

    def argsort(x: Any, axis: Any = -1) -> jax.Array:
        x = tensor(x)
        if x.ndim == 0:
            axis = None
        return jnp.argsort(x, axis=axis, stable=True).astype("int32")

    def top_k(x: Any, k: int, sorted: bool = True) -> tuple[jax.Array, jax.Array]:
        # Always sorted: with sorted=False the order is unspecified, so sorted is as good.
        x = tensor(x)
        source = x.astype("uint8") if x.dtype == jnp.bool_ else x
        values, indices = jax.lax.top_k(source, k)
        return values.astype(x.dtype), indices.astype("int32")

    return {
        "max": max_,
        "min": min_,
        "amax": amax,
        "amin": amin,
        "prod": prod,
        "std": std,
        "var": var,
        "argmax": arg_extreme(True),
        "argmin": arg_extreme(False),
        "all": logical(True),
        "any": logical(False),
        "count_nonzero": count_nonzero,
        "average": average,
        "median": median,
        "quantile": quantile,
        "cumsum": scan(True),
        "cumprod": scan(False),
        "logsumexp": logsumexp,
        "sort": sort,
        "argsort": argsort,
        "top_k": top_k,
    }

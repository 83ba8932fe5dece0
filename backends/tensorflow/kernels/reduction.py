"""Reductions, scans and sorting."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import tensorflow as tf

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


def _dims(x: tf.Tensor) -> list[Any]:
    """``x``'s dimensions: ints where known, scalar tensors where not (inside tf.function)."""
    dynamic = tf.shape(x)
    return [dynamic[i] if d is None else d for i, d in enumerate(x.shape)]


def _to_end(x: tf.Tensor, axes: tuple[int, ...]) -> tf.Tensor:
    """``x`` with ``axes`` moved to the end and flattened into one."""
    dims = _dims(x)
    others = [i for i in range(x.ndim) if i not in axes]
    y = tf.transpose(x, [*others, *axes])
    size = math.prod(dims[i] for i in axes)
    return tf.reshape(y, tf.stack([*[dims[i] for i in others], size]))


def _cumprod(x: tf.Tensor, axis: int) -> tf.Tensor:
    """Running product along ``axis`` whose gradient stays finite where ``x`` has zeros
    (``tf.math.cumprod``'s divides by ``x``)."""

    @tf.custom_gradient
    def run(x: tf.Tensor) -> tuple[tf.Tensor, Callable[[tf.Tensor], tf.Tensor]]:
        out = tf.math.cumprod(x, axis=axis)

        def grad(upstream: tf.Tensor) -> tf.Tensor:
            # d out_i / d x_k = prod_{j <= i, j != k} x_j for i >= k. Before the first zero of a
            # slice that is out_i / x_k; at the first zero it is the running product with that
            # zero replaced by one; after it, zero.
            zero = tf.equal(x, 0)
            zeros_so_far = tf.math.cumsum(tf.cast(zero, tf.int32), axis=axis)
            before = tf.equal(zeros_so_far, 0)
            first = tf.logical_and(zero, tf.equal(zeros_so_far, 1))
            safe = tf.where(zero, tf.ones_like(x), x)
            tail = tf.math.cumsum(upstream * out, axis=axis, reverse=True) / safe
            lifted = tf.math.cumprod(tf.where(first, tf.ones_like(x), x), axis=axis)
            at_first = tf.math.cumsum(upstream * lifted, axis=axis, reverse=True)
            return tf.where(before, tail, tf.where(first, at_first, tf.zeros_like(x)))

        return out, grad

    return run(x)


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    def tensor(x: Any) -> tf.Tensor:
        return backend.convert_to_tensor(x)

    def as_float(x: Any) -> tf.Tensor:
        x = tensor(x)
        return tf.cast(x, result_type(backend.dtype_of(x), float))

    def extreme(largest: bool) -> Callable[..., tf.Tensor]:
        def kernel(
            x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None
        ) -> tf.Tensor:
            x = tensor(x)
            axes = list(_axes(axis, x.ndim))
            if x.dtype == tf.bool:
                reduce = tf.reduce_any if largest else tf.reduce_all
                combine = tf.logical_or if largest else tf.logical_and
            else:
                reduce = tf.reduce_max if largest else tf.reduce_min
                combine = tf.maximum if largest else tf.minimum
            out = reduce(x, axis=axes, keepdims=keepdims)
            if initial is not None:
                out = combine(out, backend.convert_to_tensor(initial, backend.dtype_of(out)))
            return out

        return kernel

    max_, min_ = extreme(True), extreme(False)

    def amax(x: Any, axis: Any = None, keepdims: bool = False) -> tf.Tensor:
        return max_(x, axis, keepdims)

    def amin(x: Any, axis: Any = None, keepdims: bool = False) -> tf.Tensor:
        return min_(x, axis, keepdims)

    def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> tf.Tensor:
        x = tensor(x)
        out = accumulate([backend.dtype_of(x)]) if dtype is None else standardize_dtype(dtype)
        x = tf.cast(x, out)
        return tf.reduce_prod(x, axis=list(_axes(axis, x.ndim)), keepdims=keepdims)

    def std(x: Any, axis: Any = None, keepdims: bool = False) -> tf.Tensor:
        x = as_float(x)
        return tf.math.reduce_std(x, axis=list(_axes(axis, x.ndim)), keepdims=keepdims)

    def var(x: Any, axis: Any = None, keepdims: bool = False) -> tf.Tensor:
        x = as_float(x)
        return tf.math.reduce_variance(x, axis=list(_axes(axis, x.ndim)), keepdims=keepdims)

    def arg_extreme(largest: bool) -> Callable[..., tf.Tensor]:
        def kernel(x: Any, axis: Any = None, keepdims: bool = False) -> tf.Tensor:
            x = tensor(x)
            if x.dtype == tf.bool:
                x = tf.cast(x, tf.int32)
            reduce = tf.argmax if largest else tf.argmin
            if axis is None:
                out = reduce(tf.reshape(x, [-1]), axis=0, output_type=tf.int32)
                return tf.reshape(out, [1] * x.ndim) if keepdims else out
            (axis,) = _axes(axis, x.ndim)
            out = reduce(x, axis=axis, output_type=tf.int32)
            return tf.expand_dims(out, axis) if keepdims else out

        return kernel

    def logical(every: bool) -> Callable[..., tf.Tensor]:
        def kernel(x: Any, axis: Any = None, keepdims: bool = False) -> tf.Tensor:
            x = tf.cast(tensor(x), tf.bool)
            reduce = tf.reduce_all if every else tf.reduce_any
            return reduce(x, axis=list(_axes(axis, x.ndim)), keepdims=keepdims)

        return kernel

    def count_nonzero(x: Any, axis: Any = None) -> tf.Tensor:
        x = tf.cast(tensor(x), tf.bool)
        return tf.math.count_nonzero(x, axis=list(_axes(axis, x.ndim)), dtype=tf.int32)

    def average(x: Any, axis: Any = None, weights: Any = None) -> tf.Tensor:
        x = tensor(x)
        names = [backend.dtype_of(x)]
        if weights is not None:
            weights = tensor(weights)
            names.append(backend.dtype_of(weights))
        dtype = result_type(*names, float)
        x = tf.cast(x, dtype)
        axes = list(_axes(axis, x.ndim))
        if weights is None:
            return tf.reduce_mean(x, axis=axes)
        weights = tf.cast(weights, dtype)
        if weights.ndim != x.ndim:
            if axis is None or weights.ndim != 1:
                raise ValueError(
                    "average: weights must have the shape of x, or be 1-D along an int axis; "
                    f"got weights of shape {tuple(weights.shape)} for x of shape "
                    f"{tuple(x.shape)} and axis={axis!r}."
                )
            weights = tf.reshape(weights, [-1 if i in axes else 1 for i in range(x.ndim)])
        weights = tf.broadcast_to(weights, tf.shape(x))
        return tf.reduce_sum(x * weights, axis=axes) / tf.reduce_sum(weights, axis=axes)

    def quantile(
        x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False
    ) -> tf.Tensor:
        x = as_float(x)
        q = backend.convert_to_tensor(q, "float64")
        axes = _axes(axis, x.ndim)
        ordered = tf.sort(_to_end(x, axes), axis=-1)
        last = _dims(ordered)[-1] - 1
        position = tf.reshape(q, [-1]) * tf.cast(last, tf.float64)

        def take(index: tf.Tensor) -> tf.Tensor:
            index = tf.clip_by_value(tf.cast(index, tf.int32), 0, last)
            return tf.gather(ordered, index, axis=-1)

        if method == "linear":
            low = tf.floor(position)
            fraction = tf.cast(position - low, x.dtype)
            below, above = take(low), take(low + 1)
            out = below + fraction * (above - below)
        elif method == "lower":
            out = take(tf.floor(position))
        elif method == "higher":
            out = take(tf.math.ceil(position))
        elif method == "nearest":
            out = take(tf.round(position))  # halves go to the even index, as in NumPy
        elif method == "midpoint":
            out = (take(tf.floor(position)) + take(tf.math.ceil(position))) / 2
        else:
            raise ValueError(
                "quantile: method must be one of 'linear', 'lower', 'higher', 'midpoint', "
                f"'nearest'; got {method!r}."
            )
        if keepdims:
            kept = [1 if i in axes else d for i, d in enumerate(_dims(x))]
            out = tf.reshape(out, tf.stack([*kept, tf.shape(out)[-1]]))
        if not q.shape.rank:
            return out[..., 0]
        return tf.transpose(out, [out.ndim - 1, *range(out.ndim - 1)])

    def median(x: Any, axis: Any = None, keepdims: bool = False) -> tf.Tensor:
        return quantile(x, 0.5, axis=axis, keepdims=keepdims)

    def scan(adding: bool) -> Callable[..., tf.Tensor]:
        def kernel(x: Any, axis: Any = None, dtype: Any = None) -> tf.Tensor:
            x = tensor(x)
            out = standardize_dtype(backend.dtype_of(x) if dtype is None else dtype)
            x = tf.cast(x, "int32" if out == "bool" else out)
            if axis is None:
                x, axis = tf.reshape(x, [-1]), 0
            else:
                (axis,) = _axes(axis, x.ndim)
            return tf.math.cumsum(x, axis=axis) if adding else _cumprod(x, axis)

        return kernel

    def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> tf.Tensor:
        x = as_float(x)
        return tf.math.reduce_logsumexp(x, axis=list(_axes(axis, x.ndim)), keepdims=keepdims)

    def sortable(x: tf.Tensor) -> tf.Tensor:
        return tf.cast(x, tf.int8) if x.dtype == tf.bool else x

    def sort(x: Any, axis: Any = -1) -> tf.Tensor:
        x = tensor(x)
        if axis is None:
            x, axis = tf.reshape(x, [-1]), 0
        return tf.cast(tf.sort(sortable(x), axis=axis), x.dtype)

    def argsort(x: Any, axis: Any = -1) -> tf.Tensor:
        x = tensor(x)
        if x.ndim == 0 or axis is None:
            x, axis = tf.reshape(x, [-1]), 0
        return tf.cast(tf.argsort(sortable(x), axis=axis, stable=True), tf.int32)

    def top_k(x: Any, k: int, sorted: bool = True) -> tuple[tf.Tensor, tf.Tensor]:
        # Always sorted: with sorted=False the order is unspecified, so sorted is as good.
        x = tensor(x)
        values, indices = tf.math.top_k(sortable(x), k, sorted=True)
        return tf.cast(values, x.dtype), tf.cast(indices, tf.int32)

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

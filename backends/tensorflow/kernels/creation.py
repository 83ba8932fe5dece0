"""Tensor creation."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from katman.backend import Backend, standardize_dtype
from katman.dtypes import is_int, result_type


def _shape(shape: Any) -> list[int]:
    if isinstance(shape, (int, np.integer)):
        return [int(shape)]
    return [int(n) for n in shape]


def _kind(value: Any) -> Any:
    """What ``result_type`` sees of an argument: its dtype name, or a Python scalar (weak)."""
    if tf.is_tensor(value):
        return value.dtype.name
    return value.dtype if hasattr(value, "dtype") else value


def _scalar(value: Any) -> Any:
    """A bound of arange as a Python number."""
    if tf.is_tensor(value):
        return value.numpy().item()
    if isinstance(value, (np.ndarray, np.generic)):
        return value.item()
    return value


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    tensor = backend.convert_to_tensor

    def fill(shape: Any, value: Any, dtype: str) -> tf.Tensor:
        return tf.broadcast_to(tensor(value, dtype), shape)

    def zeros(shape: Any, dtype: Any = None) -> tf.Tensor:
        return tf.zeros(_shape(shape), dtype=standardize_dtype(dtype))

    def ones(shape: Any, dtype: Any = None) -> tf.Tensor:
        return tf.ones(_shape(shape), dtype=standardize_dtype(dtype))

    def full(shape: Any, fill_value: Any, dtype: Any = None) -> tf.Tensor:
        return fill(_shape(shape), fill_value, standardize_dtype(dtype))

    def like_dtype(x: tf.Tensor, dtype: Any) -> str:
        return backend.dtype_of(x) if dtype is None else standardize_dtype(dtype)

    def zeros_like(x: Any, dtype: Any = None) -> tf.Tensor:
        x = tensor(x)
        return tf.zeros(tf.shape(x), dtype=like_dtype(x, dtype))

    def ones_like(x: Any, dtype: Any = None) -> tf.Tensor:
        x = tensor(x)
        return tf.ones(tf.shape(x), dtype=like_dtype(x, dtype))

    def full_like(x: Any, fill_value: Any, dtype: Any = None) -> tf.Tensor:
        x = tensor(x)
        return fill(tf.shape(x), fill_value, like_dtype(x, dtype))

    def arange(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> tf.Tensor:
        if dtype is None:
            dtype = result_type(*(_kind(v) for v in (start, stop, step) if v is not None))
        dtype = standardize_dtype(dtype)
        start, stop, step = _scalar(start), _scalar(stop), _scalar(step)
        if stop is None:
            start, stop = 0, start
        step = 1 if step is None else step
        count = max(0, math.ceil((stop - start) / step))
        if is_int(dtype) or dtype == "bool":
            return tf.cast(tf.range(count, dtype="int64") * int(step) + int(start), dtype)
        values = tf.range(count, dtype="float64") * float(step) + float(start)
        return tf.cast(values, dtype)

    def space(
        start: Any, stop: Any, num: int, endpoint: bool, axis: int
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """NumPy's linspace algorithm, computed in float64: the samples and the step."""
        start, stop = tensor(start, "float64"), tensor(stop, "float64")
        shape = tf.broadcast_dynamic_shape(tf.shape(start), tf.shape(stop))
        start, stop = tf.broadcast_to(start, shape), tf.broadcast_to(stop, shape)
        div = num - 1 if endpoint else num
        delta = stop - start
        steps = tf.reshape(tf.range(num, dtype="float64"), [-1] + [1] * delta.shape.rank)
        if div > 0:
            step = delta / div
            samples = tf.where(step == 0, steps / div * delta, steps * step)
        else:
            step = tf.constant(math.nan, dtype="float64")
            samples = steps * delta
        samples = samples + start
        if endpoint and num > 1:
            samples = tf.concat([samples[:-1], stop[None]], axis=0)
        rank = samples.shape.rank
        axis = axis % rank
        perm = [*range(1, axis + 1), 0, *range(axis + 1, rank)]
        return tf.transpose(samples, perm), step

    def space_dtype(start: Any, stop: Any, dtype: Any) -> str:
        if dtype is not None:
            return standardize_dtype(dtype)
        return result_type(_kind(start), _kind(stop), float)

    def linspace(
        start: Any,
        stop: Any,
        num: int = 50,
        endpoint: bool = True,
        retstep: bool = False,
        dtype: Any = None,
        axis: int = 0,
    ) -> Any:
        dtype = space_dtype(start, stop, dtype)
        samples, step = space(start, stop, num, endpoint, axis)
        if is_int(dtype):
            samples = tf.floor(samples)
        samples = tf.cast(samples, dtype)
        if retstep:
            return samples, tf.cast(step, result_type(dtype, float))
        return samples

    def logspace(
        start: Any,
        stop: Any,
        num: int = 50,
        endpoint: bool = True,
        base: float = 10,
        dtype: Any = None,
        axis: int = 0,
    ) -> tf.Tensor:
        dtype = space_dtype(start, stop, dtype)
        samples, _ = space(start, stop, num, endpoint, axis)
        return tf.cast(tf.pow(tensor(base, "float64"), samples), dtype)

    def diagonal_band(rows: int, cols: int | None, k: int, dtype: Any, lower: bool) -> tf.Tensor:
        cols = rows if cols is None else cols
        offset = tf.range(cols)[None, :] - tf.range(rows)[:, None]
        mask = offset <= k if lower else tf.equal(offset, k)
        return tf.cast(mask, standardize_dtype(dtype))

    def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> tf.Tensor:
        return diagonal_band(N, M, k, dtype, lower=False)

    def identity(n: int, dtype: Any = None) -> tf.Tensor:
        return diagonal_band(n, n, 0, dtype, lower=False)

    def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> tf.Tensor:
        return diagonal_band(N, M, k, dtype, lower=True)

    def meshgrid(*x: Any, indexing: str = "xy") -> list[tf.Tensor]:
        if indexing not in ("xy", "ij"):
            raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}.")
        xs = [tf.reshape(tensor(v), [-1]) for v in x]
        sizes = [tf.size(v) for v in xs]
        places = list(range(len(xs)))
        if indexing == "xy" and len(xs) > 1:
            sizes[0], sizes[1] = sizes[1], sizes[0]
            places[0], places[1] = 1, 0
        grids = []
        for v, place in zip(xs, places, strict=True):
            shape = [1] * len(xs)
            shape[place] = -1
            grids.append(tf.broadcast_to(tf.reshape(v, shape), tf.stack(sizes)))
        return grids

    return {
        "zeros": zeros,
        "ones": ones,
        "full": full,
        "zeros_like": zeros_like,
        "ones_like": ones_like,
        "full_like": full_like,
        "arange": arange,
        "linspace": linspace,
        "logspace": logspace,
        "eye": eye,
        "identity": identity,
        "tri": tri,
        "meshgrid": meshgrid,
    }

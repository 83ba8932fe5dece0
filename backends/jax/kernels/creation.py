"""Tensor creation."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from katman.backend import Backend, standardize_dtype
from katman.dtypes import is_int, result_type


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(n) for n in shape)


def _kind(value: Any) -> Any:
    """What ``result_type`` sees of an argument: its dtype, or a Python scalar (weak)."""
    return value.dtype if hasattr(value, "dtype") else value


def _scalar(value: Any) -> Any:
    """A bound of arange as a Python number."""
    if isinstance(value, (jax.Array, np.ndarray, np.generic)):
        return value.item()
    return value


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    tensor = backend.convert_to_tensor

    def fill(shape: Any, value: Any, dtype: str) -> jax.Array:
        return jnp.broadcast_to(tensor(value, dtype), _shape(shape))

    def zeros(shape: Any, dtype: Any = None) -> jax.Array:
        return jnp.zeros(_shape(shape), dtype=standardize_dtype(dtype))

    def ones(shape: Any, dtype: Any = None) -> jax.Array:
        return jnp.ones(_shape(shape), dtype=standardize_dtype(dtype))

    def full(shape: Any, fill_value: Any, dtype: Any = None) -> jax.Array:
        return fill(shape, fill_value, standardize_dtype(dtype))

    def like_dtype(x: jax.Array, dtype: Any) -> str:
        return backend.dtype_of(x) if dtype is None else standardize_dtype(dtype)

    def zeros_like(x: Any, dtype: Any = None) -> jax.Array:
        x = tensor(x)
        return jnp.zeros(x.shape, dtype=like_dtype(x, dtype))

    def ones_like(x: Any, dtype: Any = None) -> jax.Array:
        x = tensor(x)
        return jnp.ones(x.shape, dtype=like_dtype(x, dtype))

    def full_like(x: Any, fill_value: Any, dtype: Any = None) -> jax.Array:
        x = tensor(x)
        return fill(x.shape, fill_value, like_dtype(x, dtype))

    def arange(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> jax.Array:
        if dtype is None:
            dtype = result_type(*(_kind(v) for v in (start, stop, step) if v is not None))
        dtype = standardize_dtype(dtype)
        start, stop, step = _scalar(start), _scalar(stop), _scalar(step)
        if stop is None:
            start, stop = 0, start
        step = 1 if step is None else step
        return jnp.arange(start, stop, step, dtype=dtype)

    def space(
        start: Any, stop: Any, num: int, endpoint: bool, axis: int
    ) -> tuple[jax.Array, jax.Array]:
        """NumPy's linspace algorithm, computed in float64: the samples and the step."""
        start, stop = jnp.broadcast_arrays(tensor(start, "float64"), tensor(stop, "float64"))
        div = num - 1 if endpoint else num
        delta = stop - start
        steps = jnp.arange(num, dtype="float64").reshape((-1,) + (1,) * delta.ndim)
        if div > 0:
            step = delta / div
            samples = jnp.where(step == 0, steps / div * delta, steps * step)
        else:
            step = jnp.asarray(math.nan, dtype="float64")
            samples = steps * delta
        samples = samples + start
        if endpoint and num > 1:
            samples = jnp.concatenate([samples[:-1], stop[None]], axis=0)
        return jnp.moveaxis(samples, 0, axis), step

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
            samples = jnp.floor(samples)
        samples = samples.astype(dtype)
        if retstep:
            return samples, step.astype(result_type(dtype, float))
        return samples

    def logspace(
        start: Any,
        stop: Any,
        num: int = 50,
        endpoint: bool = True,
        base: float = 10,
        dtype: Any = None,
        axis: int = 0,
    ) -> jax.Array:
        dtype = space_dtype(start, stop, dtype)
        samples, _ = space(start, stop, num, endpoint, axis)
        return jnp.power(tensor(base, "float64"), samples).astype(dtype)

    def diagonal_band(rows: int, cols: int | None, k: int, dtype: Any, lower: bool) -> jax.Array:
        cols = rows if cols is None else cols
        offset = jnp.arange(cols)[None, :] - jnp.arange(rows)[:, None]
        mask = offset <= k if lower else offset == k
        return mask.astype(standardize_dtype(dtype))

    def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> jax.Array:
        return diagonal_band(N, M, k, dtype, lower=False)

    def identity(n: int, dtype: Any = None) -> jax.Array:
        return diagonal_band(n, n, 0, dtype, lower=False)

    def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> jax.Array:
        return diagonal_band(N, M, k, dtype, lower=True)

    def meshgrid(*x: Any, indexing: str = "xy") -> list[jax.Array]:
        if indexing not in ("xy", "ij"):
            raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}.")
        return list(jnp.meshgrid(*(jnp.ravel(tensor(v)) for v in x), indexing=indexing))

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

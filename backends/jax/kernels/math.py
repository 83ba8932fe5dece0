"""Elementwise arithmetic and basic reductions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from katman.backend import Backend
from katman.dtypes import result_type
from katman.ops.rules import accumulate


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    unary, binary, floating = backend.unary_kernel, backend.binary_kernel, backend.float_kernel

    def reduce_sum(x: Any, axis: Any = None, keepdims: bool = False) -> jax.Array:
        x = backend.convert_to_tensor(x)
        return jnp.sum(x, axis=axis, keepdims=keepdims, dtype=accumulate([backend.dtype_of(x)]))

    def reduce_mean(x: Any, axis: Any = None, keepdims: bool = False) -> jax.Array:
        x = backend.convert_to_tensor(x)
        x = backend.convert_to_tensor(x, result_type(backend.dtype_of(x), float))
        return jnp.mean(x, axis=axis, keepdims=keepdims)

    def divide_no_nan(x1: jax.Array, x2: jax.Array) -> jax.Array:
        zero = x2 == 0
        return jnp.where(zero, 0, x1 / jnp.where(zero, 1, x2))

    return {
        "add": binary(jnp.add),
        "subtract": binary(jnp.subtract),
        "multiply": binary(jnp.multiply),
        "divide": floating(jnp.true_divide),
        "divide_no_nan": floating(divide_no_nan),
        "maximum": binary(jnp.maximum),
        "minimum": binary(jnp.minimum),
        "negative": unary(jnp.negative),
        "abs": unary(jnp.abs),
        "square": unary(jnp.square),
        "sqrt": floating(jnp.sqrt),
        "exp": floating(jnp.exp),
        "log": floating(jnp.log),
        "sum": reduce_sum,
        "mean": reduce_mean,
    }

"""Elementwise arithmetic and basic reductions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from katman.backend import Backend
from katman.dtypes import result_type
from katman.ops.rules import accumulate


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    unary, binary, floating = backend.unary_kernel, backend.binary_kernel, backend.float_kernel

    def reduce_sum(x: Any, axis: Any = None, keepdims: bool = False) -> tf.Tensor:
        x = backend.convert_to_tensor(x)
        x = backend.convert_to_tensor(x, accumulate([backend.dtype_of(x)]))
        return tf.reduce_sum(x, axis=axis, keepdims=keepdims)

    def reduce_mean(x: Any, axis: Any = None, keepdims: bool = False) -> tf.Tensor:
        x = backend.convert_to_tensor(x)
        x = backend.convert_to_tensor(x, result_type(backend.dtype_of(x), float))
        return tf.reduce_mean(x, axis=axis, keepdims=keepdims)

    return {
        "add": binary(tf.add),
        "subtract": binary(tf.subtract),
        "multiply": binary(tf.multiply),
        "divide": floating(tf.math.truediv),
        "divide_no_nan": floating(tf.math.divide_no_nan),
        "maximum": binary(tf.maximum),
        "minimum": binary(tf.minimum),
        "negative": unary(tf.negative),
        "abs": unary(tf.abs),
        "square": unary(tf.square),
        "sqrt": floating(tf.sqrt),
        "exp": floating(tf.exp),
        "log": floating(tf.math.log),
        "sum": reduce_sum,
        "mean": reduce_mean,
    }

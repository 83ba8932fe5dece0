"""katman's backend contract implemented with TensorFlow."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from katman.backend import Backend, host_array, standardize_dtype


@contextmanager
def _without_optional_jax() -> Iterator[None]:
    """Hide JAX while TensorFlow imports: TFLite imports it eagerly when installed (for an
    optional converter), which would load a second framework into every TensorFlow process."""
    if "jax" in sys.modules:
        yield
        return
    sys.modules["jax"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        del sys.modules["jax"]


with _without_optional_jax():
    import tensorflow as tf


class TensorFlowBackend(Backend):
    name = "tensorflow"
    framework = "tensorflow"

    def __init__(self) -> None:
        self._kernels: dict[str, Callable[..., Any]] = {
            "add": self._binary(tf.add),
            "subtract": self._binary(tf.subtract),
            "multiply": self._binary(tf.multiply),
            "divide": self._binary(tf.math.truediv),
            "maximum": self._binary(tf.maximum),
            "minimum": self._binary(tf.minimum),
            "negative": self._unary(tf.negative),
            "abs": self._unary(tf.abs),
            "square": self._unary(tf.square),
            "sqrt": self._unary(tf.sqrt),
            "exp": self._unary(tf.exp),
            "log": self._unary(tf.math.log),
            "sum": self._reduction(tf.reduce_sum),
            "mean": self._reduction(tf.reduce_mean),
        }

    @property
    def framework_version(self) -> str:
        return tf.__version__

    @property
    def kernels(self) -> Mapping[str, Callable[..., Any]]:
        return self._kernels

    def is_tensor(self, x: Any) -> bool:
        return tf.is_tensor(x)

    def convert_to_tensor(self, x: Any, dtype: str | None = None) -> tf.Tensor:
        if tf.is_tensor(x):
            return x if dtype is None else tf.cast(x, standardize_dtype(dtype))
        array, target = host_array(x, dtype)
        return tf.cast(tf.convert_to_tensor(array), target)

    def convert_to_numpy(self, x: Any) -> np.ndarray:
        if not tf.is_tensor(x):
            return np.asarray(x)
        if x.dtype == tf.bfloat16:
            x = tf.cast(x, tf.float32)
        return np.array(x)

    def _unary(self, function: Callable[..., tf.Tensor]) -> Callable[[Any], tf.Tensor]:
        return lambda x: function(self.convert_to_tensor(x))

    def _binary(self, function: Callable[..., tf.Tensor]) -> Callable[[Any, Any], tf.Tensor]:
        return lambda x, y: function(self.convert_to_tensor(x), self.convert_to_tensor(y))

    def _reduction(self, function: Callable[..., tf.Tensor]) -> Callable[..., tf.Tensor]:
        def reduce(x: Any, axis: Any = None, keepdims: bool = False) -> tf.Tensor:
            return function(self.convert_to_tensor(x), axis=axis, keepdims=keepdims)

        return reduce

"""katman's backend contract implemented with TensorFlow."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from katman.backend import Backend, host_array, standardize_dtype

# Packages TensorFlow imports eagerly at start-up when they are installed, none of which it
# needs: TFLite imports JAX for an optional converter, and TensorFlow imports Keras's
# optimizers for SavedModel registration. Hidden while it imports, they cost no start-up time
# and leave no second framework in the process; each still imports normally afterwards.
_OPTIONAL_IMPORTS = ("jax", "keras", "tf_keras")


@contextmanager
def _hidden(modules: tuple[str, ...]) -> Iterator[None]:
    hidden = [name for name in modules if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


with _hidden(_OPTIONAL_IMPORTS):
    import tensorflow as tf


class TensorFlowBackend(Backend):
    name = "tensorflow"
    framework = "tensorflow"

    def __init__(self) -> None:
        self._kernels: dict[str, Callable[..., Any]] = {
            "add": self.binary_kernel(tf.add),
            "subtract": self.binary_kernel(tf.subtract),
            "multiply": self.binary_kernel(tf.multiply),
            "divide": self.binary_kernel(tf.math.truediv),
            "maximum": self.binary_kernel(tf.maximum),
            "minimum": self.binary_kernel(tf.minimum),
            "negative": self.unary_kernel(tf.negative),
            "abs": self.unary_kernel(tf.abs),
            "square": self.unary_kernel(tf.square),
            "sqrt": self.unary_kernel(tf.sqrt),
            "exp": self.unary_kernel(tf.exp),
            "log": self.unary_kernel(tf.math.log),
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

    def dtype_of(self, x: Any) -> str:
        return x.dtype.name

    def _reduction(self, function: Callable[..., tf.Tensor]) -> Callable[..., tf.Tensor]:
        def reduce(x: Any, axis: Any = None, keepdims: bool = False) -> tf.Tensor:
            return function(self.convert_to_tensor(x), axis=axis, keepdims=keepdims)

        return reduce

"""katman's backend contract implemented with TensorFlow."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import numpy as np

from katman.backend import Backend, host_array, parse_device, standardize_dtype
from katman.backends.tensorflow.kernels import FAMILIES

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
        self._kernels: dict[str, Callable[..., Any]] = {}
        for family in FAMILIES:
            module = importlib.import_module(f"katman.backends.tensorflow.kernels.{family}")
            self._kernels.update(module.kernels(self))

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

    def value_and_grad(self, function: Callable[..., Any], *args: Any) -> tuple[Any, tuple]:
        inputs = [self.convert_to_tensor(a) for a in args]
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            value = function(*inputs)
        grads = tape.gradient(value, inputs, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return value, tuple(_dense(g) for g in grads)

    def create_variable(self, value: Any, *, trainable: bool, name: str) -> tf.Variable:
        return tf.Variable(self.convert_to_tensor(value), trainable=trainable, name=name)

    def read_variable(self, handle: Any) -> tf.Tensor:
        return tf.convert_to_tensor(handle)

    def assign_variable(self, handle: Any, value: Any) -> None:
        handle.assign(self.convert_to_tensor(value))

    def variables_value_and_grad(
        self, function: Callable[[], Any], handles: Sequence[Any]
    ) -> tuple[Any, list[Any]]:
        with tf.GradientTape() as tape:
            tape.watch(list(handles))
            value = function()
        grads = tape.gradient(value, list(handles),
                              unconnected_gradients=tf.UnconnectedGradients.ZERO)  # fmt: skip
        return value, [_dense(g) for g in grads]

    def devices(self) -> list[str]:
        return [
            f"{d.device_type.lower()}:{i}" for i, d in enumerate(tf.config.list_logical_devices())
        ]

    def device_scope(self, name: str) -> AbstractContextManager[None]:
        kind, index = parse_device(name)
        return tf.device(f"/{kind.upper()}:{index}")

    def compile(self, function: Callable[..., Any]) -> Callable[..., Any]:
        return tf.function(function)


def _dense(gradient: Any) -> tf.Tensor:
    """Gathers give IndexedSlices gradients; callers get ordinary tensors."""
    return tf.convert_to_tensor(gradient)

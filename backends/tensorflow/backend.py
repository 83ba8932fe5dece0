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


from katman.backends.tensorflow.layer import TensorFlowLayer  # noqa: E402  (after the import)


class TensorFlowBackend(Backend):
    name = "tensorflow"
    framework = "tensorflow"

    def __init__(self) -> None:
        self._kernels: dict[str, Callable[..., Any]] = {}
        for family in FAMILIES:
            module = importlib.import_module(f"katman.backends.tensorflow.kernels.{family}")
            self._kernels.update(module.kernels(self))
        _let_tf_nest_see_variables()

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
        self, function: Callable[[], Any], handles: Sequence[Any], *, has_aux: bool = False
    ) -> tuple[Any, list[Any]]:
        with tf.GradientTape() as tape:
            tape.watch(list(handles))
            output = function()
        value = output[0] if has_aux else output
        grads = tape.gradient(
            value, list(handles), unconnected_gradients=tf.UnconnectedGradients.ZERO
        )
        grads = [_dense(g) for g in grads]
        if has_aux:
            return (value, tf.nest.map_structure(_stop, output[1])), grads
        return value, grads

    layer_base = TensorFlowLayer

    def compile_step(
        self, function: Callable[..., Any], handles: Sequence[Any], *, mode: str
    ) -> Callable[..., Any]:
        if mode == "eager":
            return function
        # Shapes may vary (the last, smaller batch): trace once for them, not per shape.
        return tf.function(
            function, reduce_retracing=True, autograph=False, jit_compile=mode == "jit" or None
        )

    def devices(self) -> list[str]:
        return [
            f"{d.device_type.lower()}:{i}" for i, d in enumerate(tf.config.list_logical_devices())
        ]

    def device_scope(self, name: str) -> AbstractContextManager[None]:
        kind, index = parse_device(name)
        return tf.device(f"/{kind.upper()}:{index}")

    def compile(self, function: Callable[..., Any]) -> Callable[..., Any]:
        return tf.function(function)


def _let_tf_nest_see_variables() -> None:
    """Teach tensorflow that a katman Variable stands for its ``tf.Variable``: ``tf.nest``
    (so ``tape.gradient(loss, model.trainable_variables)`` works as in Keras's TF guides) and
    tensor conversion."""
    from katman.variables import Variable

    def flatten(variable: Variable) -> tuple[None, tuple[tf.Variable]]:
        return None, (variable.handle,)

    def unflatten(cls: type, metadata: None, components: tuple) -> Any:
        return components[0]  # the gradient (or value) that stands in the variable's place

    Variable.__tf_flatten__ = flatten
    Variable.__tf_unflatten__ = classmethod(unflatten)

    # ``tensor * variable`` and tf functions taking a variable read its tf.Variable, so the
    # read is recorded for gradients (NumPy's __array__ would bake in a constant).
    def convert(value: Variable, dtype: Any = None, name: Any = None, as_ref: bool = False) -> Any:
        return tf.convert_to_tensor(value.handle, dtype=dtype, name=name)

    tf.register_tensor_conversion_function(Variable, convert)


def _stop(value: Any) -> Any:
    return tf.stop_gradient(value) if tf.is_tensor(value) else value


def _dense(gradient: Any) -> tf.Tensor:
    """Gathers give IndexedSlices gradients; callers get ordinary tensors."""
    return tf.convert_to_tensor(gradient)

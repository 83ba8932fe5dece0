"""katman's backend contract implemented with JAX."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from katman.backend import Backend, host_array, standardize_dtype

# katman supports float64 and int64 on every backend, as NumPy does.
jax.config.update("jax_enable_x64", True)


class JAXBackend(Backend):
    name = "jax"
    framework = "jax"

    def __init__(self) -> None:
        self._kernels: dict[str, Callable[..., Any]] = {
            "add": self._binary(jnp.add),
            "subtract": self._binary(jnp.subtract),
            "multiply": self._binary(jnp.multiply),
            "divide": self._binary(jnp.true_divide),
            "maximum": self._binary(jnp.maximum),
            "minimum": self._binary(jnp.minimum),
            "negative": self._unary(jnp.negative),
            "abs": self._unary(jnp.abs),
            "square": self._unary(jnp.square),
            "sqrt": self._unary(jnp.sqrt),
            "exp": self._unary(jnp.exp),
            "log": self._unary(jnp.log),
            "sum": self._reduction(jnp.sum),
            "mean": self._reduction(jnp.mean),
        }

    @property
    def framework_version(self) -> str:
        return jax.__version__

    @property
    def kernels(self) -> Mapping[str, Callable[..., Any]]:
        return self._kernels

    def is_tensor(self, x: Any) -> bool:
        return isinstance(x, jax.Array)

    def convert_to_tensor(self, x: Any, dtype: str | None = None) -> jax.Array:
        if isinstance(x, jax.Array):
            return x if dtype is None else x.astype(standardize_dtype(dtype))
        array, target = host_array(x, dtype)
        return jnp.asarray(array, dtype=target)

    def convert_to_numpy(self, x: Any) -> np.ndarray:
        if isinstance(x, jax.Array) and x.dtype == jnp.bfloat16:
            x = x.astype(jnp.float32)
        return np.array(x)

    def _unary(self, function: Callable[..., jax.Array]) -> Callable[[Any], jax.Array]:
        return lambda x: function(self.convert_to_tensor(x))

    def _binary(self, function: Callable[..., jax.Array]) -> Callable[[Any, Any], jax.Array]:
        return lambda x, y: function(self.convert_to_tensor(x), self.convert_to_tensor(y))

    def _reduction(self, function: Callable[..., jax.Array]) -> Callable[..., jax.Array]:
        def reduce(x: Any, axis: Any = None, keepdims: bool = False) -> jax.Array:
            return function(self.convert_to_tensor(x), axis=axis, keepdims=keepdims)

        return reduce

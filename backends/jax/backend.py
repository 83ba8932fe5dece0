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
            "add": self.binary_kernel(jnp.add),
            "subtract": self.binary_kernel(jnp.subtract),
            "multiply": self.binary_kernel(jnp.multiply),
            "divide": self.binary_kernel(jnp.true_divide),
            "maximum": self.binary_kernel(jnp.maximum),
            "minimum": self.binary_kernel(jnp.minimum),
            "negative": self.unary_kernel(jnp.negative),
            "abs": self.unary_kernel(jnp.abs),
            "square": self.unary_kernel(jnp.square),
            "sqrt": self.unary_kernel(jnp.sqrt),
            "exp": self.unary_kernel(jnp.exp),
            "log": self.unary_kernel(jnp.log),
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

    def dtype_of(self, x: Any) -> str:
        return x.dtype.name

    def _reduction(self, function: Callable[..., jax.Array]) -> Callable[..., jax.Array]:
        def reduce(x: Any, axis: Any = None, keepdims: bool = False) -> jax.Array:
            return function(self.convert_to_tensor(x), axis=axis, keepdims=keepdims)

        return reduce

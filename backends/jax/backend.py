"""katman's backend contract implemented with JAX."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from katman.backend import Backend, host_array, standardize_dtype
from katman.backends.jax.kernels import FAMILIES

# katman supports float64 and int64 on every backend, as NumPy does.
jax.config.update("jax_enable_x64", True)


class JAXBackend(Backend):
    name = "jax"
    framework = "jax"

    def __init__(self) -> None:
        self._kernels: dict[str, Callable[..., Any]] = {}
        for family in FAMILIES:
            module = importlib.import_module(f"katman.backends.jax.kernels.{family}")
            self._kernels.update(module.kernels(self))

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

    def value_and_grad(self, function: Callable[..., Any], *args: Any) -> tuple[Any, tuple]:
        inputs = [self.convert_to_tensor(a) for a in args]
        return jax.value_and_grad(function, argnums=tuple(range(len(inputs))))(*inputs)

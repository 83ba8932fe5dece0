"""katman's backend contract implemented with JAX."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from katman.backend import Backend, host_array, parse_device, standardize_dtype
from katman.backends.jax.kernels import FAMILIES

# katman supports float64 and int64 on every backend, as NumPy does.
jax.config.update("jax_enable_x64", True)


class _Handle:
    """A jax variable: jax arrays are immutable, so the handle holds the current one."""

    __slots__ = ("__weakref__", "value")

    def __init__(self, value: jax.Array) -> None:
        self.value = value


class JAXBackend(Backend):
    name = "jax"
    framework = "jax"

    def __init__(self) -> None:
        from katman.variables import Variable

        # jax functions (jnp.matmul(x, variable)) read a katman Variable's current array.
        Variable.__jax_array__ = lambda variable: variable.value
        # Assignments made while differentiating, newest scope last (variables_value_and_grad).
        self._recorders: list[dict[_Handle, jax.Array]] = []
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
        if array.dtype.name == target:
            return jax.device_put(array)  # a copy, like jnp.asarray, at a third less cost
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

    def create_variable(self, value: Any, *, trainable: bool, name: str) -> _Handle:
        return _Handle(self.convert_to_tensor(value))

    def read_variable(self, handle: Any) -> jax.Array:
        return handle.value

    def assign_variable(self, handle: Any, value: Any) -> None:
        if self._recorders and handle not in self._recorders[-1]:
            self._recorders[-1][handle] = handle.value
        handle.value = self.convert_to_tensor(value)

    def replace_variable_values(self, handles: Sequence[Any], values: Sequence[Any]) -> list[Any]:
        previous = [h.value for h in handles]
        for handle, value in zip(handles, values, strict=True):
            handle.value = value
        return previous

    def variables_value_and_grad(
        self, function: Callable[[], Any], handles: Sequence[Any], *, has_aux: bool = False
    ) -> tuple[Any, list[Any]]:
        # jax differentiates functions of values: swap the values in, call, swap back. Other
        # variables the function assigns leave it as outputs, so no tracer stays behind.
        assigned: list[_Handle] = []

        def of_values(values: list[jax.Array]) -> tuple[jax.Array, tuple]:
            saved = self.replace_variable_values(handles, values)
            recorder: dict[_Handle, jax.Array] = {}
            self._recorders.append(recorder)
            try:
                output = function()
                assigned[:] = [h for h in recorder if all(h is not g for g in handles)]
                updates = [h.value for h in assigned]
            finally:
                self._recorders.pop()
                self.replace_variable_values(list(recorder), list(recorder.values()))
                self.replace_variable_values(handles, saved)
            value, aux = output if has_aux else (output, None)
            return value, (aux, updates)

        (value, (aux, updates)), grads = jax.value_and_grad(
            of_values, has_aux=True, allow_int=True
        )([h.value for h in handles])
        for handle, update in zip(assigned, updates, strict=True):
            self.assign_variable(handle, update)
        grads = [
            g if jnp.issubdtype(h.value.dtype, jnp.floating) else jnp.zeros_like(h.value)
            for h, g in zip(handles, grads, strict=True)
        ]
        return ((value, aux) if has_aux else value), grads

    def compile_step(
        self, function: Callable[..., Any], handles: Sequence[Any], *, mode: str
    ) -> Callable[..., Any]:
        if mode == "eager":
            return function
        handles = list(handles)

        # The step as a pure function of the variables' values, which jit donates: XLA
        # updates them in place instead of keeping two copies.
        def pure(values: list[jax.Array], *args: Any) -> tuple[Any, list[jax.Array]]:
            saved = self.replace_variable_values(handles, values)
            try:
                output = function(*args)
                return output, [h.value for h in handles]
            finally:
                self.replace_variable_values(handles, saved)

        compiled = jax.jit(pure, donate_argnums=0)

        def step(*args: Any) -> Any:
            output, values = compiled([h.value for h in handles], *args)
            self.replace_variable_values(handles, values)
            return output

        return step

    def step_input(self, value: Any, *, mode: str) -> Any:
        # jit's C++ dispatch copies a NumPy argument to the device in half the time a
        # device_put from Python takes; eager steps need arrays.
        if mode != "eager" and isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            return value
        return self.convert_to_tensor(value)

    def devices(self) -> list[str]:
        return [f"{d.platform}:{d.id}".replace("cuda", "gpu") for d in jax.devices()]

    def device_scope(self, name: str) -> AbstractContextManager[None]:
        kind, index = parse_device(name)
        return jax.default_device(jax.devices(kind)[index])

    def compile(self, function: Callable[..., Any]) -> Callable[..., Any]:
        return jax.jit(function)

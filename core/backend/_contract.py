"""The contract a backend implements. A backend depends on this module and nothing else of
katman's internals; core talks to a framework only through it.

A backend is a subclass of :class:`Backend` living in its own package, registered by a plugin
with ``registry.add_backend(name, "package.module:Class", requires=..., install=...)``. Its
module may import its framework at the top: katman imports it only once the backend is chosen
and first used.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar

from katman.backend._convert import is_python_scalar
from katman.dtypes import result_type

if TYPE_CHECKING:
    import numpy as np


class Backend(abc.ABC):
    """One deep learning framework, seen through the operations katman needs.

    Class attributes:
        name: the name users select it by (``KATMAN_BACKEND``).
        framework: the framework's top-level module name, e.g. ``"torch"``.

    Requirements:
        * ``convert_to_tensor`` accepts Python scalars, nested lists, NumPy arrays and the
          framework's own tensors; a Python float becomes ``floatx``, a Python int ``int32``.
        * ``convert_to_numpy`` returns a NumPy array that does not alias device memory the
          framework may reuse.
        * ``kernels`` maps op names (``katman.ops``) to callables taking the op's arguments.
    """

    name: ClassVar[str]
    framework: ClassVar[str]

    @property
    @abc.abstractmethod
    def framework_version(self) -> str:
        """The version string of the framework actually imported."""

    @property
    @abc.abstractmethod
    def kernels(self) -> Mapping[str, Callable[..., Any]]:
        """The op kernels this backend provides, by op name."""

    @abc.abstractmethod
    def is_tensor(self, x: Any) -> bool:
        """Whether ``x`` is this framework's tensor type."""

    @abc.abstractmethod
    def convert_to_tensor(self, x: Any, dtype: str | None = None) -> Any:
        """``x`` as a framework tensor, cast to ``dtype`` (a katman dtype name) if given."""

    @abc.abstractmethod
    def convert_to_numpy(self, x: Any) -> np.ndarray:
        """``x`` (a tensor or anything array-like) as a NumPy array."""

    @abc.abstractmethod
    def dtype_of(self, x: Any) -> str:
        """The katman dtype name (``"float32"``, ...) of a tensor of this framework."""

    @abc.abstractmethod
    def value_and_grad(self, function: Callable[..., Any], *args: Any) -> tuple[Any, tuple]:
        """``function(*args)`` (a scalar tensor) and its gradients with respect to each arg.

        Arguments that do not affect the value get zero gradients, never None.
        """

    # Variables: the backend keeps a handle per variable; katman.Variable wraps it.
    @abc.abstractmethod
    def create_variable(self, value: Any, *, trainable: bool, name: str) -> Any:
        """A mutable handle holding tensor ``value`` (already of the variable's dtype).

        On torch the handle is a ``torch.nn.Parameter``; on tensorflow a ``tf.Variable``.
        """

    @abc.abstractmethod
    def read_variable(self, handle: Any) -> Any:
        """The handle's current value, as a tensor."""

    @abc.abstractmethod
    def assign_variable(self, handle: Any, value: Any) -> None:
        """Replace the handle's value with tensor ``value`` (same shape and dtype)."""

    def add_to_variable(self, handle: Any, delta: Any) -> bool:
        """Add ``delta`` to the handle's value in place, if the backend can do so directly
        (counters and metric totals grow every step); ``False`` leaves the variable as it
        was, and the caller assigns the sum instead. The default never does."""
        return False

    @abc.abstractmethod
    def variables_value_and_grad(
        self, function: Callable[[], Any], handles: Sequence[Any], *, has_aux: bool = False
    ) -> tuple[Any, list[Any]]:
        """``function()`` (a scalar that reads the variables) and its gradients with respect
        to each handle's value, in order; zeros for variables it does not use.

        With ``has_aux``, ``function`` returns ``(scalar, aux)`` and so does the value; aux
        carries no gradient history. Variables other than ``handles`` that ``function``
        assigns (a batch norm's moving statistics, a seed counter) hold their new values
        afterwards.
        """

    # Layers and compiled steps.
    #: The class every ``katman.layers.Layer`` also derives from: ``torch.nn.Module`` on torch,
    #: so that a katman model drops into framework code. It may define ``_backend_init(self)``
    #: (run first in ``Layer.__init__``), ``_track_native_variable(self, variable)`` and
    #: ``_track_native_layer(self, layer, name)`` (run as the layer tracks them).
    layer_base: ClassVar[type] = object

    def compile_step(
        self, function: Callable[..., Any], handles: Sequence[Any], *, mode: str
    ) -> Callable[..., Any]:
        """``function`` (a training, evaluation or prediction step, which reads and assigns
        only the variables ``handles``) prepared to run many times.

        ``mode`` is ``"eager"`` (plain Python calls, for debugging: ``run_eagerly=True``),
        ``"auto"`` (the backend's usual fast path) or ``"jit"`` (compile it whole:
        ``jit_compile=True``). The default runs it eagerly, or through :meth:`compile`.
        """
        return self.compile(function) if mode == "jit" else function

    def step_input(self, value: Any, *, mode: str) -> Any:
        """One leaf of a batch (host data or a tensor) as a step compiled with ``mode``
        takes it. The default converts it to a tensor; a backend whose compiled step moves
        host arrays to the device itself, more cheaply, may return NumPy arrays as they are.
        """
        return self.convert_to_tensor(value)

    def no_grad(self) -> AbstractContextManager[None]:
        """A context in which the framework records no gradient history (optimizer updates,
        metric updates, inference)."""
        return contextlib.nullcontext()

    def replace_variable_values(self, handles: Sequence[Any], values: Sequence[Any]) -> list[Any]:
        """Bind ``values`` (tensors, possibly traced) to ``handles`` without copying and return
        the previous values: what stateless calls (``Layer.stateless_call``) are made of.

        Raises:
            NotImplementedError: the backend's variables cannot hold foreign values.
        """
        raise NotImplementedError(
            f"Backend {self.name!r} does not support stateless calls; use the layer's "
            "variables directly."
        )

    # Placement and compilation.
    @abc.abstractmethod
    def devices(self) -> list[str]:
        """The devices this backend can place tensors on, as ``"cpu:0"``, ``"gpu:0"``, ..."""

    @abc.abstractmethod
    def device_scope(self, name: str) -> AbstractContextManager[None]:
        """A context in which new tensors are placed on device ``name`` (``"cpu"``, ``"gpu:1"``)."""

    @abc.abstractmethod
    def compile(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function`` compiled by the framework (jax.jit, tf.function, torch.compile)."""

    # Helpers for writing kernels; a backend may use them or not.
    def unary_kernel(self, function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """A kernel that converts its argument to a tensor, then applies ``function``."""
        return lambda x: function(self.convert_to_tensor(x))

    def binary_kernel(self, function: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """A kernel that brings both arguments to their common dtype (:meth:`promote`)."""
        return lambda x, y: function(*self.promote(x, y))

    def float_kernel(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """A kernel computing in the arguments' common float dtype (ints become ``floatx``):
        for ops whose result is a float whatever the input, such as sqrt and divide."""

        def kernel(*values: Any) -> Any:
            tensors = self.promote(*values)
            dtype = self.dtype_of(tensors[0])
            wanted = result_type(dtype, float)
            if wanted == dtype:  # promoted to a float dtype already: the usual case
                return function(*tensors)
            return function(*(self.convert_to_tensor(t, wanted) for t in tensors))

        return kernel

    def promote(self, *values: Any) -> tuple[Any, ...]:
        """``values`` as tensors of their Keras result dtype (``katman.dtypes.result_type``).

        Python scalars are weak: ``2 * float16_tensor`` stays float16.
        """
        # Runs for nearly every op of a training step, so it avoids work it can skip: a
        # scalar weighs in by its type alone, and tensors already of the result dtype pass.
        tensors: list[Any] = []
        kinds: list[Any] = []
        for value in values:
            if is_python_scalar(value):
                tensors.append(None)
                kinds.append(type(value))
            else:
                tensor = self.convert_to_tensor(value)
                tensors.append(tensor)
                kinds.append(self.dtype_of(tensor))
        dtype = result_type(*kinds)
        return tuple(
            self.convert_to_tensor(value, dtype)
            if tensor is None
            else tensor
            if kind == dtype
            else self.convert_to_tensor(tensor, dtype)
            for value, tensor, kind in zip(values, tensors, kinds, strict=True)
        )

    def __repr__(self) -> str:
        return f"<katman backend {self.name!r} ({self.framework} {self.framework_version})>"

"""The contract a backend implements. A backend depends on this module and nothing else of
katman's internals; core talks to a framework only through it.

A backend is a subclass of :class:`Backend` living in its own package, registered by a plugin
with ``registry.add_backend(name, "package.module:Class", requires=..., install=...)``. Its
module may import its framework at the top: katman imports it only once the backend is chosen
and first used.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from katman.backend._convert import is_python_scalar, result_dtype, weak_scalar_dtype

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

    # Helpers for writing kernels; a backend may use them or not.
    def unary_kernel(self, function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """A kernel that converts its argument to a tensor, then applies ``function``."""
        return lambda x: function(self.convert_to_tensor(x))

    def binary_kernel(self, function: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """A kernel that converts both arguments, typing Python scalars after the tensor."""
        return lambda x, y: function(*self.operands(x, y))

    def operands(self, x: Any, y: Any) -> tuple[Any, Any]:
        """Both arguments as tensors; a Python scalar takes the other operand's dtype when
        that loses nothing (Keras's "weak" Python scalars: ``2 * float16_tensor`` is float16);
        tensors of different dtypes meet at :func:`result_dtype`.
        """
        if is_python_scalar(x) and not is_python_scalar(y):
            y = self.convert_to_tensor(y)
            x = self.convert_to_tensor(x, weak_scalar_dtype(x, self.dtype_of(y)))
        elif is_python_scalar(y) and not is_python_scalar(x):
            x = self.convert_to_tensor(x)
            y = self.convert_to_tensor(y, weak_scalar_dtype(y, self.dtype_of(x)))
        else:
            x, y = self.convert_to_tensor(x), self.convert_to_tensor(y)
        x_dtype, y_dtype = self.dtype_of(x), self.dtype_of(y)
        if x_dtype != y_dtype:
            common = result_dtype(x_dtype, y_dtype)
            x, y = self.convert_to_tensor(x, common), self.convert_to_tensor(y, common)
        return x, y

    def __repr__(self) -> str:
        return f"<katman backend {self.name!r} ({self.framework} {self.framework_version})>"

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

    def __repr__(self) -> str:
        return f"<katman backend {self.name!r} ({self.framework} {self.framework_version})>"

"""The Initializer interface: a callable that makes a variable's first value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from katman.config import floatx
from katman.dtypes import standardize_dtype


class Initializer:
    """Makes initial values: ``initializer(shape, dtype)`` returns a tensor.

    Subclasses implement ``__call__`` and, if they take arguments, ``get_config``; the
    default ``from_config`` passes the config to the constructor.
    """

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, dtype).")

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def clone(self) -> Initializer:
        return self.__class__.from_config(self.get_config())

    @staticmethod
    def dtype_or_floatx(dtype: Any) -> str:
        """``dtype`` as a katman dtype name, ``floatx()`` when None."""
        return standardize_dtype(dtype) if dtype is not None else floatx()

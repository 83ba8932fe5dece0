"""Small datasets that ship inside katman, loaded as NumPy arrays the way Keras's loaders do.

Each dataset is a sub-module with a ``load_data()`` function returning
``(x_train, y_train), (x_test, y_test)``. The data files are package resources: no download,
no network, no pickle. Sub-modules load on first attribute access, so importing this package
costs nothing.

Available datasets:
    digits: the UCI 8x8 handwritten digits, 1,797 images in 10 classes (CC BY 4.0).

Example:
    >>> import katman.datasets
    >>> (x_train, y_train), (x_test, y_test) = katman.datasets.digits.load_data()
    >>> x_train.shape, x_test.shape
    ((1438, 8, 8), (359, 8, 8))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["digits"]

if TYPE_CHECKING:
    from katman.datasets import digits


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"katman.datasets.{name}")
    raise AttributeError(f"module 'katman.datasets' has no attribute {name!r}; datasets: {__all__}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

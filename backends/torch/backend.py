"""katman's backend contract implemented with PyTorch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from katman.backend import Backend, host_array, standardize_dtype

_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint8": torch.uint8,
    "bool": torch.bool,
}


class TorchBackend(Backend):
    name = "torch"
    framework = "torch"

    def __init__(self) -> None:
        self._kernels: dict[str, Callable[..., Any]] = {
            "add": self.binary_kernel(torch.add),
            "subtract": self.binary_kernel(torch.subtract),
            "multiply": self.binary_kernel(torch.multiply),
            "divide": self.binary_kernel(torch.true_divide),
            "maximum": self.binary_kernel(torch.maximum),
            "minimum": self.binary_kernel(torch.minimum),
            "negative": self.unary_kernel(torch.negative),
            "abs": self.unary_kernel(torch.abs),
            "square": self.unary_kernel(torch.square),
            "sqrt": self.unary_kernel(torch.sqrt),
            "exp": self.unary_kernel(torch.exp),
            "log": self.unary_kernel(torch.log),
            "sum": self._reduction(torch.sum),
            "mean": self._reduction(torch.mean),
        }

    @property
    def framework_version(self) -> str:
        return torch.__version__

    @property
    def kernels(self) -> Mapping[str, Callable[..., Any]]:
        return self._kernels

    def is_tensor(self, x: Any) -> bool:
        return isinstance(x, torch.Tensor)

    def convert_to_tensor(self, x: Any, dtype: str | None = None) -> torch.Tensor:
        if isinstance(x, torch.Tensor):
            return x if dtype is None else x.to(_DTYPES[standardize_dtype(dtype)])
        array, target = host_array(x, dtype)
        if not (array.flags.c_contiguous and array.flags.writeable):
            array = array.copy()  # torch.from_numpy needs its own writable, C-ordered memory
        return torch.from_numpy(array).to(_DTYPES[target])

    def convert_to_numpy(self, x: Any) -> np.ndarray:
        if not isinstance(x, torch.Tensor):
            return np.asarray(x)
        x = x.detach().cpu()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.numpy().copy()

    def dtype_of(self, x: Any) -> str:
        return str(x.dtype).removeprefix("torch.")

    def _reduction(self, function: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        def reduce(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
            x = self.convert_to_tensor(x)
            dims = tuple(range(x.ndim)) if axis is None else axis
            return function(x, dim=dims, keepdim=keepdims)

        return reduce

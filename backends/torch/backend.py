"""katman's backend contract implemented with PyTorch."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from katman.backend import Backend, host_array, standardize_dtype
from katman.backends.torch.dtypes import TORCH_DTYPES
from katman.backends.torch.kernels import FAMILIES


class TorchBackend(Backend):
    name = "torch"
    framework = "torch"

    def __init__(self) -> None:
        self._kernels: dict[str, Callable[..., Any]] = {}
        for family in FAMILIES:
            module = importlib.import_module(f"katman.backends.torch.kernels.{family}")
            self._kernels.update(module.kernels(self))

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
            return x if dtype is None else x.to(TORCH_DTYPES[standardize_dtype(dtype)])
        array, target = host_array(x, dtype)
        if not (array.flags.c_contiguous and array.flags.writeable):
            array = array.copy()  # torch.from_numpy needs its own writable, C-ordered memory
        return torch.from_numpy(array).to(TORCH_DTYPES[target])

    def convert_to_numpy(self, x: Any) -> np.ndarray:
        if not isinstance(x, torch.Tensor):
            return np.asarray(x)
        x = x.detach().cpu()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.numpy().copy()

    def dtype_of(self, x: Any) -> str:
        return str(x.dtype).removeprefix("torch.")

    def value_and_grad(self, function: Callable[..., Any], *args: Any) -> tuple[Any, tuple]:
        inputs = [self.convert_to_tensor(a).detach().requires_grad_(True) for a in args]
        with torch.enable_grad():
            value = function(*inputs)
            grads = torch.autograd.grad(value, inputs, allow_unused=True)
        zeros = [
            torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads, strict=True)
        ]
        return value.detach(), tuple(zeros)

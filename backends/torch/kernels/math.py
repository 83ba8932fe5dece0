"""Elementwise arithmetic and basic reductions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from katman.backend import Backend
from katman.backends.torch.dtypes import TORCH_DTYPES
from katman.dtypes import result_type
from katman.ops.rules import accumulate


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    unary, binary, floating = backend.unary_kernel, backend.binary_kernel, backend.float_kernel

    def reduce_sum(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
        x = backend.convert_to_tensor(x)
        dtype = TORCH_DTYPES[accumulate([backend.dtype_of(x)])]
        dims = tuple(range(x.ndim)) if axis is None else axis
        return torch.sum(x, dim=dims, keepdim=keepdims, dtype=dtype)

    def reduce_mean(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
        x = backend.convert_to_tensor(x)
        if not x.is_floating_point():
            x = backend.convert_to_tensor(x, result_type(backend.dtype_of(x), float))
        if axis is None and not keepdims:
            return torch.mean(x)  # a loss's reduction, every step: no dims to parse
        dims = tuple(range(x.ndim)) if axis is None else axis
        return torch.mean(x, dim=dims, keepdim=keepdims)

    def divide_no_nan(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        zero = x2 == 0
        if torch.is_grad_enabled() and (x1.requires_grad or x2.requires_grad):
            # Dividing by 1 where x2 is 0 keeps the gradient finite there.
            return (x1 / x2.masked_fill(zero, 1)).masked_fill(zero, 0)
        return (x1 / x2).masked_fill_(zero, 0)  # a metric's result, every step: one op less

    return {
        "add": binary(torch.add),
        "subtract": binary(torch.subtract),
        "multiply": binary(torch.multiply),
        "divide": floating(torch.true_divide),
        "divide_no_nan": floating(divide_no_nan),
        "maximum": binary(torch.maximum),
        "minimum": binary(torch.minimum),
        "negative": unary(torch.negative),
        "abs": unary(torch.abs),
        "square": unary(torch.square),
        "sqrt": floating(torch.sqrt),
        "exp": floating(torch.exp),
        "log": floating(torch.log),
        "sum": reduce_sum,
        "mean": reduce_mean,
    }

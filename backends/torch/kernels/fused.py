"""Multi-tensor optimizer updates (the ``katman.plugins.fused`` ops).

Each kernel updates its state arguments in place with ``torch._foreach_*`` and returns them,
so an Adam step over every variable is a handful of calls instead of a couple of dozen
small ops per variable. The step size stays a tensor: no host synchronisation per step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from katman.backend import Backend


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    matmul, add = backend.kernels["matmul"], backend.kernels["add"]

    def affine(x: Any, kernel: Any, bias: Any = None) -> torch.Tensor:
        x, kernel = backend.convert_to_tensor(x), backend.convert_to_tensor(kernel)
        bias = None if bias is None else backend.convert_to_tensor(bias)
        same = x.dtype is kernel.dtype and (bias is None or bias.dtype is x.dtype)
        if same and x.is_floating_point() and kernel.ndim == 2 and x.ndim >= 1:
            return F.linear(x, kernel.t(), bias)  # kernel.t() is a view: nothing copied
        out = matmul(x, kernel)  # mixed dtypes or shapes: the general kernels' rules
        return out if bias is None else add(out, bias)

    def adam_update(
        values: list[torch.Tensor],
        grads: list[torch.Tensor],
        momentums: list[torch.Tensor],
        velocities: list[torch.Tensor],
        velocity_hats: list[torch.Tensor] | None,
        learning_rate: Any,
        step: Any,
        beta_1: float,
        beta_2: float,
        epsilon: float,
    ) -> tuple[list[torch.Tensor], ...]:
        values = [backend.convert_to_tensor(v) for v in values]
        grads = [backend.convert_to_tensor(g) for g in grads]
        dtype = backend.dtype_of(values[0])
        step = backend.convert_to_tensor(step, dtype)
        learning_rate = backend.convert_to_tensor(learning_rate, dtype)
        # Plain torch calls: the bias correction costs a few microseconds, not a few ops.
        alpha = learning_rate * torch.sqrt(1 - beta_2**step) / (1 - beta_1**step)
        # In place throughout; the denominators are the only new buffers.
        with torch.no_grad():
            torch._foreach_lerp_(momentums, grads, 1 - beta_1)
            torch._foreach_mul_(velocities, beta_2)
            torch._foreach_addcmul_(velocities, grads, grads, 1 - beta_2)
            second = velocities
            if velocity_hats is not None:
                torch._foreach_maximum_(velocity_hats, velocities)
                second = velocity_hats
            denominators = torch._foreach_sqrt(second)
            torch._foreach_add_(denominators, epsilon)
            torch._foreach_div_(denominators, alpha)
            torch._foreach_addcdiv_(values, momentums, denominators, -1.0)
        return values, momentums, velocities, velocity_hats

    return {"affine": affine, "adam_update": adam_update}

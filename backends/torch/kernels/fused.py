"""The ``katman.plugins.fused`` ops: Dense's matmul and bias in one call, and optimizer
updates over every variable at once.

The Adam kernel updates its state arguments in place and returns them, so a step over every
variable is a few calls per tensor (or a handful in all, on the GPU) instead of a couple of
dozen small ops per variable. The step size stays a tensor: no host synchronisation per step.
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
            if x.ndim == 2 and bias is not None:
                return torch.addmm(bias, x, kernel)  # no transpose node in the graph
            return F.linear(x, kernel.t(), bias)  # kernel.t() is a view: nothing copied
        out = matmul(x, kernel)  # mixed dtypes or shapes: the general kernels' rules
        return out if bias is None else add(out, bias)

    def batch_norm_training(
        x: Any,
        scale: Any,
        offset: Any,
        moving_mean: Any,
        moving_variance: Any,
        momentum: float,
        axis: int,
        epsilon: float,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = backend.convert_to_tensor(x)
        if x.ndim < 2:
            raise ValueError(
                f"batch_norm_training: x needs a batch axis and a channel axis, got shape "
                f"{tuple(x.shape)}."
            )
        scale = None if scale is None else backend.convert_to_tensor(scale)
        offset = None if offset is None else backend.convert_to_tensor(offset)
        # torch normalizes over axis 1: a channels-last tensor seen with its channels moved
        # there is in torch's channels_last layout, which the kernels read without a copy.
        out, mean, inverse_std = torch.native_batch_norm(
            torch.movedim(x, axis, 1), scale, offset, None, None, True, 0.0, epsilon
        )
        averages = []
        with torch.no_grad():
            variance = inverse_std.pow(-2) - epsilon  # Keras's biased variance
            for average, batch in ((moving_mean, mean), (moving_variance, variance)):
                average = backend.convert_to_tensor(average)
                batch = batch.to(average.dtype)
                # In place (the averages are donated): one call instead of three ops.
                averages.append(average.lerp_(batch, 1.0 - momentum))
        return torch.movedim(out, 1, axis), averages[0], averages[1]

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
        # As torch.optim chooses: one pass over all tensors per operation where each call is
        # a kernel launch (GPU); on the CPU, each tensor through every operation while it is
        # still in cache.
        update = adam_multi_tensor if values[0].is_cuda else adam_per_tensor
        with torch.no_grad():
            update(
                values, grads, momentums, velocities, velocity_hats, alpha, beta_1, beta_2, epsilon
            )
        return values, momentums, velocities, velocity_hats

    return {
        "affine": affine,
        "batch_norm_training": batch_norm_training,
        "adam_update": adam_update,
    }


def adam_multi_tensor(
    values: list[torch.Tensor],
    grads: list[torch.Tensor],
    momentums: list[torch.Tensor],
    velocities: list[torch.Tensor],
    velocity_hats: list[torch.Tensor] | None,
    alpha: torch.Tensor,
    beta_1: float,
    beta_2: float,
    epsilon: float,
) -> None:
    """Adam's update in place, each operation once over all tensors (``torch._foreach_*``);
    ``alpha`` is the bias-corrected step size."""
    torch._foreach_lerp_(momentums, grads, 1 - beta_1)
    torch._foreach_mul_(velocities, beta_2)
    torch._foreach_addcmul_(velocities, grads, grads, 1 - beta_2)
    second = velocities
    if velocity_hats is not None:
        torch._foreach_maximum_(velocity_hats, velocities)
        second = velocity_hats
    denominators = torch._foreach_sqrt(second)  # the only new buffers
    torch._foreach_add_(denominators, epsilon)
    torch._foreach_div_(denominators, alpha)
    torch._foreach_addcdiv_(values, momentums, denominators, -1.0)


def adam_per_tensor(
    values: list[torch.Tensor],
    grads: list[torch.Tensor],
    momentums: list[torch.Tensor],
    velocities: list[torch.Tensor],
    velocity_hats: list[torch.Tensor] | None,
    alpha: torch.Tensor,
    beta_1: float,
    beta_2: float,
    epsilon: float,
) -> None:
    """The same update as :func:`adam_multi_tensor`, one tensor at a time."""
    hats = velocity_hats or [None] * len(values)
    for value, grad, m, v, hat in zip(values, grads, momentums, velocities, hats, strict=True):
        m.lerp_(grad, 1 - beta_1)
        v.mul_(beta_2).addcmul_(grad, grad, value=1 - beta_2)
        if hat is not None:
            torch.maximum(hat, v, out=hat)
            v = hat
        value.addcdiv_(m, v.sqrt().add_(epsilon).div_(alpha), value=-1.0)

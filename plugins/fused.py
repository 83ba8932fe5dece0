"""Compositions of ops that the built-in layers and optimizers run often enough for a
backend to want one kernel for each.

Each is an Op with a NumPy reference and a composite fallback written in ``katman.ops``,
which every backend can run (it traces under ``jax.jit`` and ``tf.function``). A backend
that has something faster registers a kernel under the op's name in its kernel table; the
torch backend does, because it runs eagerly and pays for every op it dispatches:

- ``affine``: a Dense layer's ``x @ kernel + bias``, one ``addmm``-style call on torch;
- ``biased_conv``: a Conv layer's convolution and bias, one call on torch (its
  convolutions add the bias as they write the output);
- ``batch_norm_training``: BatchNormalization's statistics and normalization in training,
  one fused call on torch instead of half a dozen passes over the activations;
- ``adam_update``: Adam's step for all variables at once, with ``torch._foreach_*``
  instead of a couple of dozen small ops per variable.

These ops are not part of ``katman.ops``: they are the layers' and optimizers' machinery.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from katman import config, ops
from katman.ops import Op
from katman.plugins.ops.nn import (
    batch_normalization_reference,
    conv_reference,
    moments_reference,
)


def _adam_reference(
    values: Sequence[np.ndarray],
    grads: Sequence[np.ndarray],
    momentums: Sequence[np.ndarray],
    velocities: Sequence[np.ndarray],
    velocity_hats: Sequence[np.ndarray] | None,
    learning_rate: float,
    step: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
) -> tuple[list[np.ndarray], ...]:
    alpha = learning_rate * np.sqrt(1 - beta_2**step) / (1 - beta_1**step)
    new_m = [m + (g - m) * (1 - beta_1) for g, m in zip(grads, momentums, strict=True)]
    new_v = [v + (g * g - v) * (1 - beta_2) for g, v in zip(grads, velocities, strict=True)]
    second = new_v
    new_hats = None
    if velocity_hats is not None:
        new_hats = [np.maximum(h, v) for h, v in zip(velocity_hats, new_v, strict=True)]
        second = new_hats
    new_values = [
        x - m * alpha / (np.sqrt(s) + epsilon)
        for x, m, s in zip(values, new_m, second, strict=True)
    ]
    return new_values, new_m, new_v, new_hats


def _adam_fallback(
    values: Sequence[Any],
    grads: Sequence[Any],
    momentums: Sequence[Any],
    velocities: Sequence[Any],
    velocity_hats: Sequence[Any] | None,
    learning_rate: Any,
    step: Any,
    beta_1: float,
    beta_2: float,
    epsilon: float,
) -> tuple[list[Any], ...]:
    alpha = adam_step_size(learning_rate, step, beta_1, beta_2)
    new_m = [
        ops.add(m, ops.multiply(ops.subtract(g, m), 1 - beta_1))
        for g, m in zip(grads, momentums, strict=True)
    ]
    new_v = [
        ops.add(v, ops.multiply(ops.subtract(ops.square(g), v), 1 - beta_2))
        for g, v in zip(grads, velocities, strict=True)
    ]
    second = new_v
    new_hats = None
    if velocity_hats is not None:
        new_hats = [ops.maximum(h, v) for h, v in zip(velocity_hats, new_v, strict=True)]
        second = new_hats
    new_values = [
        ops.subtract(x, ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(s), epsilon)))
        for x, m, s in zip(values, new_m, second, strict=True)
    ]
    return new_values, new_m, new_v, new_hats


def _affine_reference(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    out = np.matmul(x, kernel)
    return out if bias is None else out + bias


def _affine_fallback(x: Any, kernel: Any, bias: Any) -> Any:
    out = ops.matmul(x, kernel)
    return out if bias is None else ops.add(out, bias)


affine = Op(
    "affine",
    reference=_affine_reference,
    fallback=_affine_fallback,
    area="nn",
    doc="""``matmul(x, kernel) + bias`` (``bias`` may be None): a Dense layer's projection.

    Args:
        x: the inputs, ``(..., in)``.
        kernel: ``(in, out)``, Keras's layout.
        bias: ``(out,)`` or None.
    """,
)


def _bias_shape(bias: Any, data_format: str | None, rank: int) -> tuple[int, ...]:
    """The shape that broadcasts ``bias`` over a ``rank``-dimensional output's channels."""
    channels = tuple(bias.shape)
    if (data_format or config.image_data_format()) == "channels_first":
        return (1, *channels) + (1,) * (rank - 2)
    return channels


def _biased_conv_reference(
    x: np.ndarray,
    kernel: np.ndarray,
    bias: np.ndarray | None,
    strides: Any = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: Any = 1,
) -> np.ndarray:
    out = conv_reference(x, kernel, strides, padding, data_format, dilation_rate)
    if bias is None:
        return out
    return out + np.reshape(bias, _bias_shape(bias, data_format, out.ndim))


def _biased_conv_fallback(
    x: Any,
    kernel: Any,
    bias: Any,
    strides: Any = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: Any = 1,
) -> Any:
    out = ops.conv(x, kernel, strides, padding, data_format, dilation_rate)
    if bias is None:
        return out
    if tuple(bias.shape) != tuple(kernel.shape[-1:]):
        raise ValueError(
            f"biased_conv: the bias must have shape ({kernel.shape[-1]},), one value per output "
            f"channel; got {tuple(bias.shape)}."
        )
    return ops.add(out, ops.reshape(bias, _bias_shape(bias, data_format, len(out.shape))))


biased_conv = Op(
    "biased_conv",
    reference=_biased_conv_reference,
    fallback=_biased_conv_fallback,
    area="nn",
    doc="""``conv(x, kernel, ...) + bias`` (``bias`` may be None), the bias added on the
    channel axis that ``data_format`` names: a Conv layer's output before its activation.
    The other arguments are ``katman.ops.conv``'s.""",
)


def _batch_axes(ndim: int, axis: int) -> list[int]:
    return [i for i in range(ndim) if i != axis % ndim]


def _batch_norm_training_reference(
    x: np.ndarray,
    scale: np.ndarray | None,
    offset: np.ndarray | None,
    moving_mean: np.ndarray,
    moving_variance: np.ndarray,
    momentum: float,
    axis: int,
    epsilon: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean, variance = moments_reference(x, _batch_axes(x.ndim, axis))
    out = batch_normalization_reference(x, mean, variance, axis, offset, scale, epsilon)
    new_mean = moving_mean * momentum + mean * (1 - momentum)
    new_variance = moving_variance * momentum + variance * (1 - momentum)
    return out, new_mean.astype(moving_mean.dtype), new_variance.astype(moving_variance.dtype)


def _batch_norm_training_fallback(
    x: Any,
    scale: Any,
    offset: Any,
    moving_mean: Any,
    moving_variance: Any,
    momentum: float,
    axis: int,
    epsilon: float,
) -> tuple[Any, Any, Any]:
    if len(x.shape) < 2:
        raise ValueError(
            f"batch_norm_training: x needs a batch axis and a channel axis, got shape "
            f"{tuple(x.shape)}."
        )
    mean, variance = ops.moments(x, axes=_batch_axes(len(x.shape), axis))
    out = ops.batch_normalization(
        x, mean, variance, axis=axis, offset=offset, scale=scale, epsilon=epsilon
    )
    moving = []
    for average, batch in ((moving_mean, mean), (moving_variance, variance)):
        batch = ops.cast(ops.stop_gradient(batch), ops.dtype(average))
        moving.append(ops.add(ops.multiply(average, momentum), ops.multiply(batch, 1 - momentum)))
    return out, moving[0], moving[1]


batch_norm_training = Op(
    "batch_norm_training",
    reference=_batch_norm_training_reference,
    fallback=_batch_norm_training_fallback,
    area="nn",
    doc="""A BatchNormalization layer's training step: ``x`` normalized with its own mean
    and (biased) variance over every axis but ``axis``, then scaled and shifted; and the
    moving averages moved towards those statistics.

    The moving averages are donated, as ``adam_update``'s state: a kernel may write the
    new averages into the tensors it was given and return those, so callers assign the
    results back to their variables and do not read the old values afterwards.

    Args:
        x: the inputs.
        scale, offset: ``(channels,)`` or None.
        moving_mean, moving_variance: ``(channels,)``, the averages (donated).
        momentum: Python float; ``average * momentum + batch * (1 - momentum)``.
        axis: the channel axis.
        epsilon: added to the variance.

    Returns:
        ``(outputs, moving_mean, moving_variance)``, the averages updated (no gradient
        flows into them).
    """,
)


def adam_step_size(learning_rate: Any, step: Any, beta_1: float, beta_2: float) -> Any:
    """Adam's bias-corrected step size ``lr * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)``."""
    correction = ops.sqrt(ops.subtract(1.0, ops.power(beta_2, step)))
    return ops.divide(
        ops.multiply(learning_rate, correction), ops.subtract(1.0, ops.power(beta_1, step))
    )


adam_update = Op(
    "adam_update",
    reference=_adam_reference,
    fallback=_adam_fallback,
    area="optimizers",
    differentiable=False,
    doc="""Adam's step for lists of same-dtype variables.

    The state arguments are donated: a kernel may write the new values into the tensors it
    was given and return those same tensors, so callers assign the results back to their
    variables and do not read the old values afterwards.

    Args:
        values, grads, momentums, velocities: the variables' values, their gradients and
            the first and second moment slots, one entry per variable (state donated).
        velocity_hats: the AMSGrad maxima of the second moments, or None without AMSGrad.
        learning_rate: the learning rate, a scalar tensor of the variables' dtype.
        step: the number of the step being applied (1 for the first), a scalar tensor of
            the variables' dtype; with the betas it gives the bias correction.
        beta_1, beta_2, epsilon: Python floats.

    Returns:
        ``(values, momentums, velocities, velocity_hats)``, the new state (``velocity_hats``
        None without AMSGrad).
    """,
)

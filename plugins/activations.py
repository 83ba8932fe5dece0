"""Built-in activations plugin: Keras's activation functions, written with ``katman.ops``.

Each is a plain function of a tensor (and keyword arguments with Keras's names and
defaults); they work on symbolic tensors too, since they only call ops.
"""

from __future__ import annotations

from typing import Any

import katman
from katman import ops
from katman.errors import ShapeError
from katman.registry import PluginRegistrar

__all__ = [
    "celu",
    "elu",
    "exponential",
    "gelu",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "log_sigmoid",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "tanh",
    "tanh_shrink",
    "threshold",
]


def relu(
    x: Any, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> Any:
    """Rectified linear unit, with Keras's optional leak, cap and threshold.

    With the defaults, ``max(x, 0)``. Otherwise: ``x`` where ``threshold < x``
    (capped at ``max_value`` if given), and ``negative_slope * (x - threshold)`` below it.

    Args:
        x: the input tensor.
        negative_slope: the slope below the threshold.
        max_value: the largest output value; None for no cap.
        threshold: where the function switches from the leaky part to ``x``.

    Example:
        >>> y = relu(katman.ops.convert_to_tensor([-2.0, 0.5, 9.0]), max_value=6.0)
    """
    x = _as_tensor(x)
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return ops.leaky_relu(x, negative_slope=negative_slope)
        shifted = ops.negative(x) if threshold == 0 else ops.add(ops.negative(x), threshold)
        negative_part = ops.relu(shifted)
    clip = max_value is not None
    if threshold != 0:
        x = ops.where(ops.greater(x, threshold), x, ops.zeros_like(x))
    elif max_value == 6:
        x = ops.relu6(x)
        clip = False
    else:
        x = ops.relu(x)
    if clip:
        x = ops.clip(x, 0.0, max_value)
    if negative_slope != 0.0:
        x = ops.subtract(x, ops.multiply(negative_slope, negative_part))
    return x


def _as_tensor(x: Any) -> Any:
    """``x`` as ops take it: tensors, Variables and symbolic tensors pass unchanged."""
    return x if hasattr(x, "shape") and hasattr(x, "dtype") else ops.convert_to_tensor(x)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Any:
    """``x`` for positive inputs, ``negative_slope * x`` for negative ones.

    Args:
        x: the input tensor.
        negative_slope: the slope for negative inputs (Keras 3's default, 0.2).
    """
    return ops.leaky_relu(x, negative_slope=negative_slope)


def relu6(x: Any) -> Any:
    """``min(max(x, 0), 6)``."""
    return ops.relu6(x)


def softmax(x: Any, axis: int = -1) -> Any:
    """``exp(x) / sum(exp(x))`` along ``axis``: each slice becomes a probability vector.

    Args:
        x: the input tensor (logits).
        axis: the axis the probabilities sum to 1 along.
    """
    return ops.softmax(x, axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Any:
    """``log(softmax(x))`` along ``axis``, computed stably.

    Args:
        x: the input tensor (logits).
        axis: the softmax axis.
    """
    return ops.log_softmax(x, axis=axis)


def elu(x: Any, alpha: float = 1.0) -> Any:
    """Exponential linear unit: ``x`` if ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Args:
        x: the input tensor.
        alpha: the scale of the negative part.
    """
    return ops.elu(x, alpha=alpha)


def selu(x: Any) -> Any:
    """Scaled ELU: ``scale * elu(x, alpha)`` with the self-normalizing constants
    ``alpha ~ 1.6733`` and ``scale ~ 1.0507``."""
    return ops.selu(x)


def celu(x: Any, alpha: float = 1.0) -> Any:
    """Continuously differentiable ELU: ``max(x, 0) + min(alpha * (exp(x / alpha) - 1), 0)``.

    Args:
        x: the input tensor.
        alpha: the scale of the negative part.
    """
    return ops.celu(x, alpha=alpha)


def softplus(x: Any) -> Any:
    """``log(exp(x) + 1)``."""
    return ops.softplus(x)


def softsign(x: Any) -> Any:
    """``x / (abs(x) + 1)``."""
    return ops.softsign(x)


def squareplus(x: Any, b: float = 4) -> Any:
    """``(x + sqrt(x ** 2 + b)) / 2``, a smooth ReLU.

    Args:
        x: the input tensor.
        b: the smoothness, non-negative.
    """
    return ops.squareplus(x, b=b)


def sparse_plus(x: Any) -> Any:
    """0 for ``x <= -1``, ``(x + 1) ** 2 / 4`` for ``-1 < x < 1``, ``x`` for ``x >= 1``."""
    return ops.sparse_plus(x)


def silu(x: Any) -> Any:
    """Sigmoid linear unit (Swish): ``x * sigmoid(x)``."""
    return ops.silu(x)


def gelu(x: Any, approximate: bool = False) -> Any:
    """Gaussian error linear unit: ``x * P(X <= x)`` for ``X ~ N(0, 1)``.

    Args:
        x: the input tensor.
        approximate: use the tanh approximation instead of the exact erf form.
    """
    return ops.gelu(x, approximate=approximate)


def glu(x: Any, axis: int = -1) -> Any:
    """Gated linear unit: ``a * sigmoid(b)`` where ``x`` splits into halves ``a, b``.

    Args:
        x: the input tensor; its size along ``axis`` must be even.
        axis: the axis to split.
    """
    return ops.glu(x, axis=axis)


def tanh(x: Any) -> Any:
    """Hyperbolic tangent."""
    return ops.tanh(x)


def tanh_shrink(x: Any) -> Any:
    """``x - tanh(x)``."""
    return ops.tanh_shrink(x)


def hard_tanh(x: Any) -> Any:
    """``x`` clipped to ``[-1, 1]``."""
    return ops.hard_tanh(x)


def hard_shrink(x: Any, threshold: float = 0.5) -> Any:
    """``x`` where ``abs(x) > threshold``, else 0.

    Args:
        x: the input tensor.
        threshold: the half-width of the zeroed band.
    """
    return ops.hard_shrink(x, threshold=threshold)


def soft_shrink(x: Any, threshold: float = 0.5) -> Any:
    """``x`` moved ``threshold`` towards 0, and 0 inside ``[-threshold, threshold]``.

    Args:
        x: the input tensor.
        threshold: the half-width of the zeroed band.
    """
    return ops.soft_shrink(x, threshold=threshold)


def threshold(x: Any, threshold: float, default_value: float) -> Any:
    """``x`` where ``x > threshold``, else ``default_value``.

    Args:
        x: the input tensor.
        threshold: values at or below it are replaced.
        default_value: what replaces them.
    """
    x = _as_tensor(x)
    return ops.where(ops.greater(x, threshold), x, ops.full_like(x, default_value))


def sigmoid(x: Any) -> Any:
    """``1 / (1 + exp(-x))``."""
    return ops.sigmoid(x)


def log_sigmoid(x: Any) -> Any:
    """``log(sigmoid(x))``, computed stably."""
    return ops.log_sigmoid(x)


def sparse_sigmoid(x: Any) -> Any:
    """0 for ``x <= -1``, ``(x + 1) / 2`` in between, 1 for ``x >= 1``."""
    return ops.clip(ops.multiply(ops.add(x, 1.0), 0.5), 0.0, 1.0)


def exponential(x: Any) -> Any:
    """``exp(x)``."""
    return ops.exp(x)


def hard_sigmoid(x: Any) -> Any:
    """A piecewise-linear sigmoid: ``clip(x / 6 + 0.5, 0, 1)``."""
    return ops.hard_sigmoid(x)


def hard_silu(x: Any) -> Any:
    """Hard SiLU (hard Swish): ``x * hard_sigmoid(x)``."""
    return ops.hard_silu(x)


def mish(x: Any) -> Any:
    """``x * tanh(softplus(x))``."""
    return ops.multiply(x, ops.tanh(ops.softplus(x)))


def linear(x: Any) -> Any:
    """The identity: returns ``x`` unchanged."""
    return x


def sparsemax(x: Any, axis: int = -1) -> Any:
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis``: like
    softmax, but it can give exact zeros.

    Args:
        x: the input tensor (logits).
        axis: the axis the probabilities sum to 1 along.
    """
    x = _as_tensor(x)
    dtype = ops.dtype(x)
    ndim = len(x.shape)
    axis = axis % ndim
    if x.shape[axis] is None:
        raise ShapeError(
            f"sparsemax needs a known size along axis {axis}. Received shape {tuple(x.shape)}."
        )
    descending = ops.flip(ops.sort(x, axis=axis), axis=axis)
    cumulative = ops.cumsum(descending, axis=axis)
    ranks_shape = [1] * ndim
    ranks_shape[axis] = -1
    ranks = ops.reshape(ops.arange(1, x.shape[axis] + 1, dtype=dtype), ranks_shape)
    support = ops.greater(descending, ops.divide(ops.subtract(cumulative, 1.0), ranks))
    size = ops.sum(ops.cast(support, dtype), axis=axis, keepdims=True)
    support_sum = ops.sum(
        ops.where(support, cumulative, ops.zeros_like(cumulative)), axis=axis, keepdims=True
    )
    tau = ops.divide(ops.subtract(support_sum, 1.0), size)
    return ops.maximum(ops.subtract(x, tau), 0.0)


ACTIVATIONS = (
    relu,
    leaky_relu,
    relu6,
    softmax,
    log_softmax,
    elu,
    selu,
    celu,
    softplus,
    softsign,
    squareplus,
    sparse_plus,
    silu,
    gelu,
    glu,
    tanh,
    tanh_shrink,
    hard_tanh,
    hard_shrink,
    soft_shrink,
    threshold,
    sigmoid,
    log_sigmoid,
    sparse_sigmoid,
    exponential,
    hard_sigmoid,
    hard_silu,
    mish,
    linear,
    sparsemax,
)

# Keras's second names for some activations.
_ALIASES = {silu: ("swish",), hard_silu: ("hard_swish",)}


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for function in ACTIVATIONS:
        registry.add("activation", function.__name__, function, aliases=_ALIASES.get(function, ()))

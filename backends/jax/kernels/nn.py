"""Neural-network ops: activations, softmax, encodings, cross-entropies, normalization,
convolutions, pooling and attention."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from katman import config
from katman.backend import Backend
from katman.dtypes import result_type, standardize_dtype


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % ndim for a in axis))


def _tuple(value: Any, n: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"Expected an int or {n} ints, got {value!r}.")
    return value


def _image_format(data_format: str | None) -> str:
    fmt = config.image_data_format() if data_format is None else data_format.lower()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(
            f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}."
        )
    return fmt


def _padding(padding: str) -> str:
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
    return padding


def _same_pads(size: int, window: int, stride: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _conv_transpose_geometry(
    size: int, kernel: int, stride: int, padding: str, output_padding: int | None, dilation: int
) -> tuple[int, int]:
    """Keras's transposed-convolution output length along one axis, and its offset within
    the full transposed convolution."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (size - 1) * stride + span + extra, 0
    if output_padding is None:
        length, pad = size * stride, stride + span - 2
    else:
        length = (size - 1) * stride + span % 2 + output_padding
        pad = span + span % 2 - 2 + output_padding
    left = min(pad // 2 + pad % 2, span - 1)
    return length, span - 1 - left


def _last(x: jax.Array, fmt: str) -> jax.Array:
    """A channels-first array moved to channels-last (unchanged if already)."""
    return jnp.moveaxis(x, 1, -1) if fmt == "channels_first" else x


def _back(x: jax.Array, fmt: str) -> jax.Array:
    return jnp.moveaxis(x, -1, 1) if fmt == "channels_first" else x


def _dimension_numbers(n: int) -> lax.ConvDimensionNumbers:
    """Channels-last inputs and outputs, Keras ``(*k, in, out)`` kernels."""
    spatial = tuple(range(1, n + 1))
    image = (0, n + 1, *spatial)
    return lax.ConvDimensionNumbers(lhs_spec=image, rhs_spec=(n + 1, n, *range(n)), out_spec=image)


# --- jitted cores: losses and normalization ------------------------------------------------


def _log_probs(output: jax.Array, from_logits: bool, axis: int, eps: float) -> jax.Array:
    if from_logits:
        return jax.nn.log_softmax(output, axis=axis)
    output = output / jnp.sum(output, axis=axis, keepdims=True)
    return jnp.log(jnp.clip(output, eps, 1.0 - eps))


@functools.partial(jax.jit, static_argnames=("from_logits", "eps"))
def _binary_crossentropy(
    target: jax.Array, output: jax.Array, from_logits: bool, eps: float
) -> jax.Array:
    if from_logits:
        return -target * jax.nn.log_sigmoid(output) - (1.0 - target) * jax.nn.log_sigmoid(-output)
    output = jnp.clip(output, eps, 1.0 - eps)
    return -(target * jnp.log(output) + (1.0 - target) * jnp.log(1.0 - output))


@functools.partial(jax.jit, static_argnames=("from_logits", "axis", "eps"))
def _categorical_crossentropy(
    target: jax.Array, output: jax.Array, from_logits: bool, axis: int, eps: float
) -> jax.Array:
    return -jnp.sum(target * _log_probs(output, from_logits, axis, eps), axis=axis)


@functools.partial(jax.jit, static_argnames=("from_logits", "axis", "eps"))
def _sparse_categorical_crossentropy(
    target: jax.Array, output: jax.Array, from_logits: bool, axis: int, eps: float
) -> jax.Array:
    classes = jnp.arange(output.shape[axis], dtype=target.dtype)
    encoded = jnp.moveaxis(target[..., None] == classes, -1, axis).astype(output.dtype)
    return -jnp.sum(encoded * _log_probs(output, from_logits, axis, eps), axis=axis)


@functools.partial(jax.jit, static_argnames=("dims", "keepdims"))
def _moments(x: jax.Array, dims: tuple[int, ...], keepdims: bool) -> tuple[jax.Array, jax.Array]:
    dtype = x.dtype
    if dtype in (jnp.float16, jnp.bfloat16):
        x = x.astype("float32")  # statistics need more range than half precision has
    mean = jnp.mean(x, axis=dims, keepdims=True)
    variance = jnp.mean(jnp.square(x - mean), axis=dims, keepdims=keepdims)
    if not keepdims:
        mean = jnp.squeeze(mean, dims)
    if dtype != x.dtype:
        top = float(jnp.finfo(dtype).max)
        mean = jnp.clip(mean, -top, top).astype(dtype)
        variance = jnp.clip(variance, -top, top).astype(dtype)
    return mean, variance


@functools.partial(jax.jit, static_argnames=("epsilon",))
def _batch_normalization(
    x: jax.Array,
    mean: jax.Array,
    variance: jax.Array,
    offset: jax.Array | None,
    scale: jax.Array | None,
    epsilon: float,
) -> jax.Array:
    inv = lax.rsqrt(variance + epsilon)
    if scale is not None:
        inv = inv * scale
    shift = -mean * inv
    if offset is not None:
        shift = shift + offset
    return x * inv + shift


@functools.partial(jax.jit, static_argnames=("dims", "order", "eps"))
def _normalize(x: jax.Array, dims: tuple[int, ...], order: int, eps: float) -> jax.Array:
    if order == 2:
        inv = lax.rsqrt(jnp.sum(jnp.square(x), axis=dims, keepdims=True))
        return x * jnp.minimum(inv, 1.0 / eps)
    if len(dims) == 1:
        norm = jnp.sum(jnp.abs(x) ** order, axis=dims, keepdims=True) ** (1.0 / order)
    else:  # the matrix 1-norm: the largest sum over dims[0], across dims[1]
        column = jnp.sum(jnp.abs(x), axis=dims[0], keepdims=True)
        norm = jnp.max(column, axis=dims[1], keepdims=True)
    return x / jnp.maximum(norm, eps)


# --- jitted cores: convolutions, pooling and attention -----------------------------------------
# Static arguments are normalized tuples and strings, so each configuration compiles once.


def _conv_last(
    x: jax.Array,
    kernel: jax.Array,
    strides: tuple[int, ...],
    padding: str,
    dilation: tuple[int, ...],
) -> jax.Array:
    """Grouped convolution of channels-last ``x`` with a Keras ``(*k, C/g, O)`` kernel."""
    n = x.ndim - 2
    size = kernel.shape[:n]
    per_group = kernel.shape[-2]
    if per_group == 0 or x.shape[-1] % per_group:
        raise ValueError(
            f"conv: the input has {x.shape[-1]} channels, which the kernel's {per_group} "
            "input channels do not divide."
        )
    if padding == "same":
        pads = [
            _same_pads(x.shape[i + 1], (size[i] - 1) * dilation[i] + 1, strides[i])
            for i in range(n)
        ]
    else:
        pads = [(0, 0)] * n
    return lax.conv_general_dilated(
        x,
        kernel,
        window_strides=strides,
        padding=pads,
        rhs_dilation=dilation,
        dimension_numbers=_dimension_numbers(n),
        feature_group_count=x.shape[-1] // per_group,
    )


def _depthwise_last(
    x: jax.Array,
    kernel: jax.Array,
    strides: tuple[int, ...],
    padding: str,
    dilation: tuple[int, ...],
) -> jax.Array:
    if kernel.shape[-2] != x.shape[-1]:
        raise ValueError(
            f"depthwise_conv: the kernel expects {kernel.shape[-2]} channels, the input "
            f"has {x.shape[-1]}."
        )
    grouped = jnp.reshape(kernel, (*kernel.shape[:-2], 1, kernel.shape[-2] * kernel.shape[-1]))
    return _conv_last(x, grouped, strides, padding, dilation)


_CONV_STATIC = ("strides", "padding", "dilation", "fmt")


@functools.partial(jax.jit, static_argnames=_CONV_STATIC)
def _conv(
    x: jax.Array,
    kernel: jax.Array,
    strides: tuple[int, ...],
    padding: str,
    dilation: tuple[int, ...],
    fmt: str,
) -> jax.Array:
    return _back(_conv_last(_last(x, fmt), kernel, strides, padding, dilation), fmt)


@functools.partial(jax.jit, static_argnames=_CONV_STATIC)
def _depthwise_conv(
    x: jax.Array,
    kernel: jax.Array,
    strides: tuple[int, ...],
    padding: str,
    dilation: tuple[int, ...],
    fmt: str,
) -> jax.Array:
    return _back(_depthwise_last(_last(x, fmt), kernel, strides, padding, dilation), fmt)


@functools.partial(jax.jit, static_argnames=_CONV_STATIC)
def _separable_conv(
    x: jax.Array,
    depthwise: jax.Array,
    pointwise: jax.Array,
    strides: tuple[int, ...],
    padding: str,
    dilation: tuple[int, ...],
    fmt: str,
) -> jax.Array:
    out = _depthwise_last(_last(x, fmt), depthwise, strides, padding, dilation)
    return _back(_conv_last(out, pointwise, (1,) * len(strides), "valid", dilation), fmt)


@functools.partial(jax.jit, static_argnames=(*_CONV_STATIC, "extra"))
def _conv_transpose(
    x: jax.Array,
    kernel: jax.Array,
    strides: tuple[int, ...],
    padding: str,
    extra: tuple[int | None, ...],
    dilation: tuple[int, ...],
    fmt: str,
) -> jax.Array:
    x = _last(x, fmt)
    n = x.ndim - 2
    if kernel.shape[-1] != x.shape[-1]:
        raise ValueError(
            f"conv_transpose: the kernel expects {kernel.shape[-1]} input channels, the "
            f"input has {x.shape[-1]}."
        )
    spans = [(kernel.shape[i] - 1) * dilation[i] + 1 for i in range(n)]
    # The full transposed convolution: the strided-apart input, padded by the kernel's span
    # less one on each side, convolved with the spatially flipped kernel (in and out swap).
    image = (0, n + 1, *range(1, n + 1))
    full = lax.conv_general_dilated(
        x,
        jnp.flip(kernel, axis=tuple(range(n))),
        window_strides=(1,) * n,
        padding=[(s - 1, s - 1) for s in spans],
        lhs_dilation=strides,
        rhs_dilation=dilation,
        dimension_numbers=lax.ConvDimensionNumbers(
            lhs_spec=image, rhs_spec=(n, n + 1, *range(n)), out_spec=image
        ),
    )
    for i in range(n):
        length, start = _conv_transpose_geometry(
            x.shape[i + 1], kernel.shape[i], strides[i], padding, extra[i], dilation[i]
        )
        stop = min(start + length, full.shape[i + 1])
        full = lax.slice_in_dim(full, start, stop, axis=i + 1)
        if full.shape[i + 1] < length:
            pads = [(0, 0)] * full.ndim
            pads[i + 1] = (0, length - full.shape[i + 1])
            full = jnp.pad(full, pads)
    return _back(full, fmt)


def _tiles(x: jax.Array, size: tuple[int, ...]) -> jax.Array:
    """Channels-last ``x`` as ``(batch, out_1, size_1, out_2, size_2, ..., channels)``: each
    non-overlapping window on axes of its own; what no window covers is cropped."""
    out = [x.shape[i + 1] // k for i, k in enumerate(size)]
    x = x[(slice(None), *[slice(0, o * k) for o, k in zip(out, size, strict=True)])]
    shape = [d for o, k in zip(out, size, strict=True) for d in (o, k)]
    return x.reshape(x.shape[0], *shape, x.shape[-1])


def _tile_axes(n: int) -> tuple[int, ...]:
    return tuple(2 + 2 * i for i in range(n))


def _lowest(dtype: Any) -> float | int:
    """The identity of max: a Python scalar, which lets JAX pick its max-pooling primitive."""
    return -math.inf if jnp.issubdtype(dtype, jnp.floating) else int(jnp.iinfo(dtype).min)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _tiled_max(x: jax.Array, size: tuple[int, ...]) -> jax.Array:
    """Max pooling with stride equal to the window and no padding, whose gradient is
    elementwise: XLA's CPU backend turns reduce_window's own gradient (select_and_scatter)
    into index iotas and a scatter that cost over 100x the forward pass."""
    window = (1, *size, 1)
    return lax.reduce_window(x, _lowest(x.dtype), lax.max, window, window, "VALID")


@_tiled_max.defjvp
def _tiled_max_jvp(
    size: tuple[int, ...], primals: tuple[jax.Array], tangents: tuple[jax.Array]
) -> tuple[jax.Array, jax.Array]:
    # Each window on axes of its own, so that the gradient is a mask, not a scatter. Like
    # select_and_scatter (and torch and tensorflow), the first maximum of each window takes
    # all of it where jnp.max would split it among ties.
    out = _tiled_max(primals[0], size)
    axes = _tile_axes(len(size))
    hit = _tiles(primals[0], size) == jnp.expand_dims(out, axes)
    tangent_windows = _tiles(tangents[0], size)
    taken = jnp.zeros(out.shape, bool)
    out_tangent = jnp.zeros(out.shape, tangent_windows.dtype)
    for position in itertools.product(*[range(k) for k in size]):
        index = (slice(None), *[i for p in position for i in (slice(None), p)])
        first = hit[index] & ~taken
        taken = taken | first
        out_tangent = out_tangent + jnp.where(first, tangent_windows[index], 0)
    return out, out_tangent


@functools.partial(jax.jit, static_argnames=("size", "step", "padding", "fmt", "average"))
def _pool(
    x: jax.Array,
    size: tuple[int, ...],
    step: tuple[int, ...],
    padding: str,
    fmt: str,
    average: bool,
) -> jax.Array:
    x = _last(x, fmt)
    n = x.ndim - 2
    if padding == "same":
        pads = [_same_pads(x.shape[i + 1], size[i], step[i]) for i in range(n)]
    else:
        pads = [(0, 0)] * n
    window, strides, pads = (1, *size, 1), (1, *step, 1), [(0, 0), *pads, (0, 0)]
    if average:
        total = lax.reduce_window(x, 0.0, lax.add, window, strides, pads)
        ones = jnp.ones((1, *x.shape[1:-1], 1), x.dtype)
        out = total / lax.reduce_window(ones, 0.0, lax.add, window, strides, pads)
    elif size == step and not any(any(p) for p in pads):
        out = _tiled_max(x, size)
    else:
        out = lax.reduce_window(x, _lowest(x.dtype), lax.max, window, strides, pads)
    return _back(out, fmt)


@functools.partial(jax.jit, static_argnames=("scale", "is_causal", "cap"))
def _attention(
    q: jax.Array,
    k: jax.Array,
    v: jax.Array,
    bias: jax.Array | None,
    mask: jax.Array | None,
    scale: float,
    is_causal: bool,
    cap: float | None,
) -> jax.Array:
    b, t, heads, h = q.shape
    s, kv_heads = k.shape[1], k.shape[2]
    groups = heads // kv_heads
    logits = jnp.einsum("btkgh,bskh->bkgts", q.reshape(b, t, kv_heads, groups, h), k)
    logits = logits.reshape(b, heads, t, s) * scale
    if bias is not None:
        logits = logits + bias
    if cap is not None:
        logits = cap * jnp.tanh(logits / cap)
    keep = mask
    if is_causal:
        causal = jnp.tril(jnp.ones((t, s), dtype=bool))
        keep = causal if keep is None else keep & causal
    if keep is not None:
        floor = jnp.asarray(-0.7 * float(jnp.finfo(logits.dtype).max), logits.dtype)
        logits = jnp.where(keep, logits, floor)
    probs = jax.nn.softmax(logits, axis=-1).reshape(b, kv_heads, groups, t, s)
    return jnp.einsum("bkgts,bskh->btkgh", probs, v).reshape(b, t, heads, h)


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    def tensor(x: Any) -> jax.Array:
        return backend.convert_to_tensor(x)

    def floating(x: Any) -> jax.Array:
        x = tensor(x)
        return backend.convert_to_tensor(x, result_type(backend.dtype_of(x), float))

    def floats(*values: Any) -> list[jax.Array]:
        """``values`` (None kept) converted to their common floating dtype."""
        tensors = [None if v is None else tensor(v) for v in values]
        dtype = result_type(*(backend.dtype_of(t) for t in tensors if t is not None), float)
        return [None if t is None else backend.convert_to_tensor(t, dtype) for t in tensors]

    def like(x: Any, reference: jax.Array) -> jax.Array:
        return backend.convert_to_tensor(x, backend.dtype_of(reference))

    # --- activations ------------------------------------------------------------------------

    def relu(x: Any) -> jax.Array:
        return jax.nn.relu(tensor(x))

    def relu6(x: Any) -> jax.Array:
        x = tensor(x)
        return jnp.clip(x, jnp.zeros((), x.dtype), jnp.full((), 6, x.dtype))

    def sigmoid(x: Any) -> jax.Array:
        return jax.nn.sigmoid(floating(x))

    def softplus(x: Any) -> jax.Array:
        return jax.nn.softplus(floating(x))

    def softsign(x: Any) -> jax.Array:
        return jax.nn.soft_sign(floating(x))

    def silu(x: Any) -> jax.Array:
        return jax.nn.silu(floating(x))

    def gelu(x: Any, approximate: bool = True) -> jax.Array:
        return jax.nn.gelu(floating(x), approximate=approximate)

    def elu(x: Any, alpha: float = 1.0) -> jax.Array:
        return jax.nn.elu(floating(x), alpha=alpha)

    def selu(x: Any) -> jax.Array:
        return jax.nn.selu(floating(x))

    def leaky_relu(x: Any, negative_slope: float = 0.2) -> jax.Array:
        return jax.nn.leaky_relu(floating(x), negative_slope=negative_slope)

    def hard_sigmoid(x: Any) -> jax.Array:
        return jax.nn.hard_sigmoid(floating(x))

    def hard_silu(x: Any) -> jax.Array:
        return jax.nn.hard_silu(floating(x))

    def log_sigmoid(x: Any) -> jax.Array:
        return jax.nn.log_sigmoid(floating(x))

    def celu(x: Any, alpha: float = 1.0) -> jax.Array:
        return jax.nn.celu(floating(x), alpha=alpha)

    def glu(x: Any, axis: int = -1) -> jax.Array:
        return jax.nn.glu(floating(x), axis=axis)

    def tanh_shrink(x: Any) -> jax.Array:
        x = floating(x)
        return x - jnp.tanh(x)

    def hard_tanh(x: Any) -> jax.Array:
        x = tensor(x)
        return jnp.clip(x, jnp.full((), -1, x.dtype), jnp.ones((), x.dtype))

    def soft_shrink(x: Any, threshold: float = 0.5) -> jax.Array:
        x = floating(x)
        zero = jnp.zeros_like(x)
        # >= and <= give the same values as > and <; at threshold 0 they give x's slope of 1.
        return jnp.where(
            x >= threshold, x - threshold, jnp.where(x <= -threshold, x + threshold, zero)
        )

    def hard_shrink(x: Any, threshold: float = 0.5) -> jax.Array:
        x = floating(x)
        if isinstance(threshold, (int, float)) and threshold <= 0:
            return x  # nothing is shrunk: the identity, with its slope of 1 at 0
        return jnp.where(jnp.abs(x) > threshold, x, jnp.zeros_like(x))

    def squareplus(x: Any, b: float = 4) -> jax.Array:
        x = floating(x)
        return 0.5 * (x + jnp.sqrt(x * x + b))

    def sparse_plus(x: Any) -> jax.Array:
        x = floating(x)
        middle = 0.25 * jnp.square(x + 1.0)
        return jnp.where(x <= -1.0, jnp.zeros_like(x), jnp.where(x >= 1.0, x, middle))

    def softmax(x: Any, axis: Any = -1) -> jax.Array:
        x = floating(x)
        return jax.nn.softmax(x, axis=_axes(axis, x.ndim))

    def log_softmax(x: Any, axis: Any = -1) -> jax.Array:
        x = floating(x)
        return jax.nn.log_softmax(x, axis=_axes(axis, x.ndim))

    # --- encodings --------------------------------------------------------------------------

    def _encode(x: jax.Array, num_classes: int, axis: int) -> jax.Array:
        if axis != -1 and not 0 <= axis < x.ndim:
            raise ValueError(f"one_hot: axis must be -1 or in [0, {x.ndim}), got {axis}.")
        encoded = x[..., None] == jnp.arange(num_classes, dtype=x.dtype)
        return encoded if axis == -1 else jnp.moveaxis(encoded, -1, axis)

    def one_hot(
        x: Any, num_classes: int, axis: int = -1, dtype: str | None = None, sparse: bool = False
    ) -> jax.Array:
        if sparse:
            raise ValueError("one_hot: katman has no sparse tensors; call it with sparse=False.")
        encoded = _encode(tensor(x).astype("int64"), num_classes, axis)
        return encoded.astype(standardize_dtype(dtype))

    def multi_hot(
        inputs: Any,
        num_classes: int | None = None,
        axis: int = -1,
        dtype: str | None = None,
        sparse: bool = False,
        **kwargs: Any,
    ) -> jax.Array:
        if num_classes is None:
            num_classes = kwargs.pop("num_tokens", None)
        if num_classes is None:
            raise ValueError("multi_hot: the argument `num_classes` must be given.")
        if kwargs:
            raise TypeError(f"multi_hot: unexpected arguments {sorted(kwargs)}.")
        if sparse:
            raise ValueError("multi_hot: katman has no sparse tensors; call it with sparse=False.")
        x = tensor(inputs).astype("int64")
        encoded = _encode(x, num_classes, axis)
        reduced = jnp.any(encoded, axis=1 if x.ndim > 1 else 0)
        return reduced.astype(standardize_dtype(dtype))

    # --- losses and normalization: argument checks here, jitted cores above ---------------

    def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> jax.Array:
        output = floating(output)
        target = like(target, output)
        if target.shape != output.shape:
            raise ValueError(
                f"binary_crossentropy: target and output shapes differ: {target.shape} vs "
                f"{output.shape}."
            )
        return _binary_crossentropy(target, output, bool(from_logits), config.epsilon())

    def categorical_crossentropy(
        target: Any, output: Any, from_logits: bool = False, axis: int = -1
    ) -> jax.Array:
        output = floating(output)
        target = like(target, output)
        if target.shape != output.shape or output.ndim < 1:
            raise ValueError(
                "categorical_crossentropy: target and output need the same shape, of rank "
                f">= 1; got {target.shape} and {output.shape}."
            )
        return _categorical_crossentropy(
            target, output, bool(from_logits), axis % output.ndim, config.epsilon()
        )

    def sparse_categorical_crossentropy(
        target: Any, output: Any, from_logits: bool = False, axis: int = -1
    ) -> jax.Array:
        output = floating(output)
        target = tensor(target).astype("int64")
        if output.ndim < 1:
            raise ValueError("sparse_categorical_crossentropy: output has rank 0.")
        axis = axis % output.ndim
        if target.ndim == output.ndim and target.shape[-1] == 1:
            target = jnp.squeeze(target, -1)
        expected = output.shape[:axis] + output.shape[axis + 1 :]
        if target.shape != expected:
            raise ValueError(
                "sparse_categorical_crossentropy: target must have output's shape without the "
                f"class axis; got {target.shape} and {output.shape}."
            )
        return _sparse_categorical_crossentropy(
            target, output, bool(from_logits), axis, config.epsilon()
        )

    def moments(
        x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False
    ) -> tuple[jax.Array, jax.Array]:
        del synchronized
        x = floating(x)
        return _moments(x, _axes(axes, x.ndim), bool(keepdims))

    def batch_normalization(
        x: Any,
        mean: Any,
        variance: Any,
        axis: int,
        offset: Any = None,
        scale: Any = None,
        epsilon: float = 1e-3,
    ) -> jax.Array:
        x = floating(x)
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]

        def vector(v: Any) -> jax.Array | None:
            return None if v is None else jnp.reshape(like(v, x), shape)

        return _batch_normalization(
            x, vector(mean), vector(variance), vector(offset), vector(scale), epsilon
        )

    def normalize(
        x: Any, axis: Any = -1, order: int = 2, epsilon: float | None = None
    ) -> jax.Array:
        if not isinstance(order, int) or isinstance(order, bool) or order < 1:
            raise ValueError(f"normalize: order must be an int >= 1, got {order!r}.")
        x = floating(x)
        if x.ndim == 0:
            x = x[None]
        eps = config.epsilon() if epsilon is None else float(epsilon)
        dims = _axes(axis, x.ndim)
        if order != 2 and not (len(dims) == 1 or (len(dims) == 2 and order == 1)):
            raise ValueError(f"normalize: order {order} over axes {axis!r} is not a norm.")
        if order != 2 and len(dims) == 2:  # the matrix 1-norm: columns along axis[0]
            dims = (axis[0] % x.ndim, axis[1] % x.ndim)
        return _normalize(x, dims, order, eps)

    # --- convolutions, pooling, attention: argument checks here, jitted cores above -------

    def conv(
        inputs: Any,
        kernel: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
    ) -> jax.Array:
        fmt, padding = _image_format(data_format), _padding(padding)
        x, kernel = floats(inputs, kernel)
        n = x.ndim - 2
        return _conv(x, kernel, _tuple(strides, n), padding, _tuple(dilation_rate, n), fmt)

    def depthwise_conv(
        inputs: Any,
        kernel: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
    ) -> jax.Array:
        fmt, padding = _image_format(data_format), _padding(padding)
        x, kernel = floats(inputs, kernel)
        n = x.ndim - 2
        return _depthwise_conv(
            x, kernel, _tuple(strides, n), padding, _tuple(dilation_rate, n), fmt
        )

    def separable_conv(
        inputs: Any,
        depthwise_kernel: Any,
        pointwise_kernel: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
    ) -> jax.Array:
        fmt, padding = _image_format(data_format), _padding(padding)
        x, depthwise, pointwise = floats(inputs, depthwise_kernel, pointwise_kernel)
        n = x.ndim - 2
        return _separable_conv(
            x, depthwise, pointwise, _tuple(strides, n), padding, _tuple(dilation_rate, n), fmt
        )

    def conv_transpose(
        inputs: Any,
        kernel: Any,
        strides: Any = 1,
        padding: str = "valid",
        output_padding: Any = None,
        data_format: str | None = None,
        dilation_rate: Any = 1,
    ) -> jax.Array:
        fmt, padding = _image_format(data_format), _padding(padding)
        x, kernel = floats(inputs, kernel)
        n = x.ndim - 2
        extra = (None,) * n if output_padding is None else _tuple(output_padding, n)
        return _conv_transpose(
            x, kernel, _tuple(strides, n), padding, extra, _tuple(dilation_rate, n), fmt
        )

    def max_pool(
        inputs: Any,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
    ) -> jax.Array:
        fmt, padding = _image_format(data_format), _padding(padding)
        x = tensor(inputs)
        n = x.ndim - 2
        size = _tuple(pool_size, n)
        step = size if strides is None else _tuple(strides, n)
        return _pool(x, size, step, padding, fmt, average=False)

    def average_pool(
        inputs: Any,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
    ) -> jax.Array:
        fmt, padding = _image_format(data_format), _padding(padding)
        x = floating(inputs)
        n = x.ndim - 2
        size = _tuple(pool_size, n)
        step = size if strides is None else _tuple(strides, n)
        return _pool(x, size, step, padding, fmt, average=True)

    def dot_product_attention(
        query: Any,
        key: Any,
        value: Any,
        bias: Any = None,
        mask: Any = None,
        scale: float | None = None,
        is_causal: bool = False,
        flash_attention: bool | None = None,
        attn_logits_soft_cap: float | None = None,
    ) -> jax.Array:
        del flash_attention
        q, k, v = floats(query, key, value)
        if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
            raise ValueError(
                "dot_product_attention takes 4D (batch, length, heads, head_dim) inputs; got "
                f"{q.shape}, {k.shape}, {v.shape}."
            )
        if q.shape[2] % k.shape[2]:
            raise ValueError(
                f"dot_product_attention: {q.shape[2]} heads for {k.shape[2]} key heads."
            )
        scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
        bias = None if bias is None else like(bias, q)
        mask = None if mask is None else tensor(mask).astype(bool)
        cap = None if attn_logits_soft_cap is None else float(attn_logits_soft_cap)
        return _attention(q, k, v, bias, mask, scale, bool(is_causal), cap)

    return {
        "relu": relu,
        "relu6": relu6,
        "sigmoid": sigmoid,
        "softplus": softplus,
        "softsign": softsign,
        "silu": silu,
        "gelu": gelu,
        "elu": elu,
        "selu": selu,
        "leaky_relu": leaky_relu,
        "hard_sigmoid": hard_sigmoid,
        "hard_silu": hard_silu,
        "log_sigmoid": log_sigmoid,
        "celu": celu,
        "glu": glu,
        "tanh_shrink": tanh_shrink,
        "hard_tanh": hard_tanh,
        "soft_shrink": soft_shrink,
        "hard_shrink": hard_shrink,
        "squareplus": squareplus,
        "sparse_plus": sparse_plus,
        "softmax": softmax,
        "log_softmax": log_softmax,
        "one_hot": one_hot,
        "multi_hot": multi_hot,
        "binary_crossentropy": binary_crossentropy,
        "categorical_crossentropy": categorical_crossentropy,
        "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
        "moments": moments,
        "batch_normalization": batch_normalization,
        "normalize": normalize,
        "conv": conv,
        "depthwise_conv": depthwise_conv,
        "separable_conv": separable_conv,
        "conv_transpose": conv_transpose,
        "max_pool": max_pool,
        "average_pool": average_pool,
        "dot_product_attention": dot_product_attention,
    }

"""Neural-network ops: activations, softmax, encodings, cross-entropies, normalization,
convolutions, pooling and attention.

TensorFlow's CPU kernels leave some convolution settings out (strides together with
dilation, unequal depthwise strides, gradients of grouped convolutions, dilated transposed
convolutions); those go through equivalent formulations built from the supported ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import tensorflow as tf

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


def _moveaxis(x: tf.Tensor, source: int, destination: int) -> tf.Tensor:
    ndim = x.shape.rank
    order = [i for i in range(ndim) if i != source % ndim]
    order.insert(destination % ndim, source % ndim)
    return tf.transpose(x, order)


def _last(x: tf.Tensor, fmt: str) -> tf.Tensor:
    """A channels-first tensor moved to channels-last (unchanged if already)."""
    return _moveaxis(x, 1, -1) if fmt == "channels_first" else x


def _back(x: tf.Tensor, fmt: str) -> tf.Tensor:
    return _moveaxis(x, -1, 1) if fmt == "channels_first" else x


def _subsample(x: tf.Tensor, strides: Sequence[int]) -> tf.Tensor:
    """Every ``strides[i]``-th element along each spatial axis of a channels-last tensor."""
    if all(s == 1 for s in strides):
        return x
    return x[(slice(None), *(slice(None, None, s) for s in strides), slice(None))]


def _dilate(kernel: tf.Tensor, axis: int, rate: int) -> tf.Tensor:
    """``kernel`` with ``rate - 1`` zeros between its entries along ``axis``."""
    if rate == 1:
        return kernel
    size = kernel.shape[axis]
    spread = tf.stack([kernel] + [tf.zeros_like(kernel)] * (rate - 1), axis=axis + 1)
    shape = [*kernel.shape[:axis], size * rate, *kernel.shape[axis + 1 :]]
    spread = tf.reshape(spread, shape)
    return tf.gather(spread, tf.range((size - 1) * rate + 1), axis=axis)


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    def tensor(x: Any) -> tf.Tensor:
        return backend.convert_to_tensor(x)

    def floating(x: Any) -> tf.Tensor:
        x = tensor(x)
        return backend.convert_to_tensor(x, result_type(backend.dtype_of(x), float))

    def floats(*values: Any) -> list[tf.Tensor]:
        """``values`` (None kept) converted to their common floating dtype."""
        tensors = [None if v is None else tensor(v) for v in values]
        dtype = result_type(*(backend.dtype_of(t) for t in tensors if t is not None), float)
        return [None if t is None else backend.convert_to_tensor(t, dtype) for t in tensors]

    def like(x: Any, reference: tf.Tensor) -> tf.Tensor:
        return backend.convert_to_tensor(x, backend.dtype_of(reference))

    # --- activations ------------------------------------------------------------------------

    def relu(x: Any) -> tf.Tensor:
        x = tensor(x)
        if x.dtype.is_floating:
            return tf.nn.relu(x)  # one fused op, forward and backward
        return tf.maximum(x, tf.zeros_like(x))

    def relu6(x: Any) -> tf.Tensor:
        x = tensor(x)
        return tf.clip_by_value(x, tf.zeros((), x.dtype), tf.constant(6, x.dtype))

    def sigmoid(x: Any) -> tf.Tensor:
        return tf.sigmoid(floating(x))

    def softplus(x: Any) -> tf.Tensor:
        return tf.nn.softplus(floating(x))

    def softsign(x: Any) -> tf.Tensor:
        return tf.nn.softsign(floating(x))

    def silu(x: Any) -> tf.Tensor:
        x = floating(x)
        return x * tf.sigmoid(x)

    def gelu(x: Any, approximate: bool = True) -> tf.Tensor:
        # Written out: tf.nn.gelu's constants lose about 1e-8 in float64.
        x = floating(x)
        if approximate:
            inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
            return 0.5 * x * (1.0 + tf.tanh(inner))
        return 0.5 * x * (1.0 + tf.math.erf(x * (1.0 / math.sqrt(2.0))))

    def _elu(x: tf.Tensor, alpha: float) -> tf.Tensor:
        return tf.where(x > 0, x, alpha * tf.math.expm1(tf.minimum(x, tf.zeros_like(x))))

    def elu(x: Any, alpha: float = 1.0) -> tf.Tensor:
        return _elu(floating(x), alpha)

    def selu(x: Any) -> tf.Tensor:
        return tf.nn.selu(floating(x))

    def leaky_relu(x: Any, negative_slope: float = 0.2) -> tf.Tensor:
        x = floating(x)
        return tf.where(x >= 0, x, negative_slope * x)

    def _hard_sigmoid(x: tf.Tensor) -> tf.Tensor:
        return tf.clip_by_value(x / 6.0 + 0.5, tf.zeros((), x.dtype), tf.ones((), x.dtype))

    def hard_sigmoid(x: Any) -> tf.Tensor:
        return _hard_sigmoid(floating(x))

    def hard_silu(x: Any) -> tf.Tensor:
        x = floating(x)
        return x * _hard_sigmoid(x)

    def log_sigmoid(x: Any) -> tf.Tensor:
        return tf.math.log_sigmoid(floating(x))

    def celu(x: Any, alpha: float = 1.0) -> tf.Tensor:
        x = floating(x)
        zero = tf.zeros_like(x)
        return tf.maximum(x, zero) + tf.minimum(
            zero, alpha * tf.math.expm1(tf.minimum(x, zero) / alpha)
        )

    def glu(x: Any, axis: int = -1) -> tf.Tensor:
        x = floating(x)
        if x.shape[axis] % 2:
            raise ValueError(f"glu: axis {axis} of shape {x.shape} has an odd size.")
        a, b = tf.split(x, 2, axis=axis)
        return a * tf.sigmoid(b)

    def tanh_shrink(x: Any) -> tf.Tensor:
        x = floating(x)
        return x - tf.tanh(x)

    def hard_tanh(x: Any) -> tf.Tensor:
        x = tensor(x)
        return tf.clip_by_value(x, tf.constant(-1, x.dtype), tf.ones((), x.dtype))

    def soft_shrink(x: Any, threshold: float = 0.5) -> tf.Tensor:
        x = floating(x)
        zero = tf.zeros_like(x)
        # >= and <= give the same values as > and <; at threshold 0 they give x's slope of 1.
        return tf.where(
            x >= threshold, x - threshold, tf.where(x <= -threshold, x + threshold, zero)
        )

    def hard_shrink(x: Any, threshold: float = 0.5) -> tf.Tensor:
        x = floating(x)
        if isinstance(threshold, (int, float)) and threshold <= 0:
            return tf.identity(x)  # nothing is shrunk: the identity, with its slope of 1 at 0
        return tf.where(tf.abs(x) > threshold, x, tf.zeros_like(x))

    def squareplus(x: Any, b: float = 4) -> tf.Tensor:
        x = floating(x)
        return 0.5 * (x + tf.sqrt(x * x + b))

    def sparse_plus(x: Any) -> tf.Tensor:
        x = floating(x)
        middle = 0.25 * tf.square(x + 1.0)
        return tf.where(x <= -1.0, tf.zeros_like(x), tf.where(x >= 1.0, x, middle))

    def softmax(x: Any, axis: Any = -1) -> tf.Tensor:
        x = floating(x)
        if isinstance(axis, int):
            return tf.nn.softmax(x, axis=axis)
        dims = list(_axes(axis, x.shape.rank))
        return tf.exp(x - tf.reduce_logsumexp(x, axis=dims, keepdims=True))

    def log_softmax(x: Any, axis: Any = -1) -> tf.Tensor:
        x = floating(x)
        if isinstance(axis, int):
            return tf.nn.log_softmax(x, axis=axis)
        dims = list(_axes(axis, x.shape.rank))
        return x - tf.reduce_logsumexp(x, axis=dims, keepdims=True)

    # --- encodings --------------------------------------------------------------------------

    def _encode(x: tf.Tensor, num_classes: int, axis: int) -> tf.Tensor:
        ndim = x.shape.rank
        if axis != -1 and not 0 <= axis < ndim:
            raise ValueError(f"one_hot: axis must be -1 or in [0, {ndim}), got {axis}.")
        encoded = tf.equal(x[..., None], tf.range(num_classes, dtype=x.dtype))
        return encoded if axis == -1 else _moveaxis(encoded, -1, axis)

    def one_hot(
        x: Any, num_classes: int, axis: int = -1, dtype: str | None = None, sparse: bool = False
    ) -> tf.Tensor:
        if sparse:
            raise ValueError("one_hot: katman has no sparse tensors; call it with sparse=False.")
        encoded = _encode(tf.cast(tensor(x), tf.int64), num_classes, axis)
        return tf.cast(encoded, standardize_dtype(dtype))

    def multi_hot(
        inputs: Any,
        num_classes: int | None = None,
        axis: int = -1,
        dtype: str | None = None,
        sparse: bool = False,
        **kwargs: Any,
    ) -> tf.Tensor:
        if num_classes is None:
            num_classes = kwargs.pop("num_tokens", None)
        if num_classes is None:
            raise ValueError("multi_hot: the argument `num_classes` must be given.")
        if kwargs:
            raise TypeError(f"multi_hot: unexpected arguments {sorted(kwargs)}.")
        if sparse:
            raise ValueError("multi_hot: katman has no sparse tensors; call it with sparse=False.")
        x = tf.cast(tensor(inputs), tf.int64)
        encoded = _encode(x, num_classes, axis)
        reduced = tf.reduce_any(encoded, axis=1 if x.shape.rank > 1 else 0)
        return tf.cast(reduced, standardize_dtype(dtype))

    # --- losses -----------------------------------------------------------------------------

    def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> tf.Tensor:
        output = floating(output)
        target = like(target, output)
        if target.shape != output.shape:
            raise ValueError(
                f"binary_crossentropy: target and output shapes differ: {target.shape} vs "
                f"{output.shape}."
            )
        if from_logits:
            return -target * tf.math.log_sigmoid(output) - (1.0 - target) * tf.math.log_sigmoid(
                -output
            )
        eps = config.epsilon()
        output = tf.clip_by_value(output, eps, 1.0 - eps)
        return -(target * tf.math.log(output) + (1.0 - target) * tf.math.log(1.0 - output))

    def _log_probs(output: tf.Tensor, from_logits: bool, axis: int) -> tf.Tensor:
        if from_logits:
            return tf.nn.log_softmax(output, axis=axis)
        eps = config.epsilon()
        output = output / tf.reduce_sum(output, axis=axis, keepdims=True)
        return tf.math.log(tf.clip_by_value(output, eps, 1.0 - eps))

    def categorical_crossentropy(
        target: Any, output: Any, from_logits: bool = False, axis: int = -1
    ) -> tf.Tensor:
        output = floating(output)
        target = like(target, output)
        if target.shape != output.shape or output.shape.rank < 1:
            raise ValueError(
                "categorical_crossentropy: target and output need the same shape, of rank "
                f">= 1; got {target.shape} and {output.shape}."
            )
        return -tf.reduce_sum(target * _log_probs(output, from_logits, axis), axis=axis)

    def sparse_categorical_crossentropy(
        target: Any, output: Any, from_logits: bool = False, axis: int = -1
    ) -> tf.Tensor:
        output = floating(output)
        target = tf.cast(tensor(target), tf.int64)
        ndim = output.shape.rank
        if ndim < 1:
            raise ValueError("sparse_categorical_crossentropy: output has rank 0.")
        axis = axis % ndim
        if target.shape.rank == ndim and target.shape[-1] == 1:
            target = tf.squeeze(target, -1)
        expected = output.shape[:axis] + output.shape[axis + 1 :]
        if target.shape != expected:
            raise ValueError(
                "sparse_categorical_crossentropy: target must have output's shape without the "
                f"class axis; got {target.shape} and {output.shape}."
            )
        encoded = tf.cast(_encode(target, output.shape[axis], -1), output.dtype)
        encoded = _moveaxis(encoded, -1, axis)
        return -tf.reduce_sum(encoded * _log_probs(output, from_logits, axis), axis=axis)

    # --- normalization ----------------------------------------------------------------------

    def moments(
        x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False
    ) -> tuple[tf.Tensor, tf.Tensor]:
        del synchronized
        x = floating(x)
        dtype = x.dtype
        if dtype in (tf.float16, tf.bfloat16):
            x = tf.cast(x, tf.float32)  # statistics need more range than half precision has
        dims = list(_axes(axes, x.shape.rank))
        mean = tf.reduce_mean(x, axis=dims, keepdims=True)
        variance = tf.reduce_mean(tf.square(x - mean), axis=dims, keepdims=keepdims)
        if not keepdims:
            mean = tf.squeeze(mean, dims)
        if dtype != x.dtype:
            top = dtype.max
            mean = tf.cast(tf.clip_by_value(mean, -top, top), dtype)
            variance = tf.cast(tf.clip_by_value(variance, -top, top), dtype)
        return mean, variance

    def batch_normalization(
        x: Any,
        mean: Any,
        variance: Any,
        axis: int,
        offset: Any = None,
        scale: Any = None,
        epsilon: float = 1e-3,
    ) -> tf.Tensor:
        x = floating(x)
        shape = [1] * x.shape.rank
        shape[axis] = x.shape[axis]

        def vector(v: Any) -> tf.Tensor:
            return tf.reshape(like(v, x), shape)

        inv = tf.math.rsqrt(vector(variance) + epsilon)
        if scale is not None:
            inv = inv * vector(scale)
        shift = -vector(mean) * inv
        if offset is not None:
            shift = shift + vector(offset)
        return x * inv + shift

    def normalize(
        x: Any, axis: Any = -1, order: int = 2, epsilon: float | None = None
    ) -> tf.Tensor:
        if not isinstance(order, int) or isinstance(order, bool) or order < 1:
            raise ValueError(f"normalize: order must be an int >= 1, got {order!r}.")
        x = floating(x)
        if x.shape.rank == 0:
            x = x[None]
        ndim = x.shape.rank
        eps = config.epsilon() if epsilon is None else epsilon
        dims = list(_axes(axis, ndim))
        if order == 2:
            inv = tf.math.rsqrt(tf.reduce_sum(tf.square(x), axis=dims, keepdims=True))
            return x * tf.minimum(inv, tf.constant(1.0 / eps, x.dtype))
        if len(dims) == 1:
            norm = tf.reduce_sum(tf.abs(x) ** order, axis=dims, keepdims=True) ** (1.0 / order)
        elif len(dims) == 2 and order == 1:
            column = tf.reduce_sum(tf.abs(x), axis=axis[0] % ndim, keepdims=True)
            norm = tf.reduce_max(column, axis=axis[1] % ndim, keepdims=True)
        else:
            raise ValueError(f"normalize: order {order} over axes {axis!r} is not a norm.")
        return x / tf.maximum(norm, tf.constant(eps, x.dtype))

    # --- convolutions -----------------------------------------------------------------------

    def _pad_same(
        x: tf.Tensor, size: Sequence[int], strides: Sequence[int], dilation: Sequence[int]
    ) -> tf.Tensor:
        n = len(size)
        pads = [
            _same_pads(x.shape[i + 1], (size[i] - 1) * dilation[i] + 1, strides[i])
            for i in range(n)
        ]
        return tf.pad(x, [(0, 0), *pads, (0, 0)])

    def _conv_last(
        x: tf.Tensor, kernel: tf.Tensor, strides: Any, padding: str, dilation: Any
    ) -> tf.Tensor:
        """Grouped convolution of channels-last ``x`` with a Keras ``(*k, C/g, O)`` kernel."""
        n = x.shape.rank - 2
        strides, dilation = _tuple(strides, n), _tuple(dilation, n)
        size = kernel.shape[:n]
        channels, per_group, filters = x.shape[-1], kernel.shape[-2], kernel.shape[-1]
        if per_group == 0 or channels % per_group:
            raise ValueError(
                f"conv: the input has {channels} channels, which the kernel's {per_group} "
                "input channels do not divide."
            )
        groups = channels // per_group
        if filters % groups:
            raise ValueError(f"conv: {filters} filters cannot be split into {groups} groups.")
        if padding == "same":
            x = _pad_same(x, size, strides, dilation)
        # TensorFlow takes strides and dilation together only as a stride-1 convolution
        # followed by subsampling.
        dilated = any(d > 1 for d in dilation)
        step = (1,) * n if dilated else strides

        def convolve(inputs: tf.Tensor, filters_: tf.Tensor) -> tf.Tensor:
            if n == 3 and not dilated:
                # tf.nn.convolution's 3D gradient fails eagerly unless data_format is explicit.
                return tf.nn.conv3d(
                    inputs, filters_, (1, *step, 1), padding="VALID", data_format="NDHWC"
                )
            return tf.nn.convolution(
                inputs, filters_, strides=step, padding="VALID", dilations=dilation
            )

        if groups == 1:
            out = convolve(x, kernel)
        else:  # grouped convolutions have no CPU gradient in TensorFlow: one per group
            parts = zip(
                tf.split(x, groups, axis=-1), tf.split(kernel, groups, axis=-1), strict=True
            )
            out = tf.concat([convolve(a, b) for a, b in parts], axis=-1)
        return _subsample(out, strides) if dilated else out

    def conv(
        inputs: Any,
        kernel: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
    ) -> tf.Tensor:
        fmt, padding = _image_format(data_format), _padding(padding)
        x, kernel = floats(inputs, kernel)
        return _back(_conv_last(_last(x, fmt), kernel, strides, padding, dilation_rate), fmt)

    def _depthwise_last(
        x: tf.Tensor, kernel: tf.Tensor, strides: Any, padding: str, dilation: Any
    ) -> tf.Tensor:
        n = x.shape.rank - 2
        if kernel.shape[-2] != x.shape[-1]:
            raise ValueError(
                f"depthwise_conv: the kernel expects {kernel.shape[-2]} channels, the input "
                f"has {x.shape[-1]}."
            )
        if n not in (1, 2):  # no depthwise kernel: a grouped convolution, one group a channel
            grouped = tf.reshape(
                kernel, [*kernel.shape[:-2], 1, kernel.shape[-2] * kernel.shape[-1]]
            )
            return _conv_last(x, grouped, strides, padding, dilation)
        strides, dilation = _tuple(strides, n), _tuple(dilation, n)
        size = kernel.shape[:n]
        if padding == "same":
            x = _pad_same(x, size, strides, dilation)
        if n == 1:
            x, kernel = x[:, None], kernel[None]
            strides, dilation = (1, *strides), (1, *dilation)
        # The depthwise kernel takes equal strides without dilation only: otherwise a stride-1
        # convolution, then subsampling.
        native = all(d == 1 for d in dilation) and strides[0] == strides[1]
        out = tf.nn.depthwise_conv2d(
            x,
            kernel,
            strides=(1, *(strides if native else (1, 1)), 1),
            padding="VALID",
            dilations=dilation,
        )
        if not native:
            out = _subsample(out, strides)
        return out[:, 0] if n == 1 else out

    def depthwise_conv(
        inputs: Any,
        kernel: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
    ) -> tf.Tensor:
        fmt, padding = _image_format(data_format), _padding(padding)
        x, kernel = floats(inputs, kernel)
        return _back(_depthwise_last(_last(x, fmt), kernel, strides, padding, dilation_rate), fmt)

    def separable_conv(
        inputs: Any,
        depthwise_kernel: Any,
        pointwise_kernel: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
    ) -> tf.Tensor:
        fmt, padding = _image_format(data_format), _padding(padding)
        x, depthwise, pointwise = floats(inputs, depthwise_kernel, pointwise_kernel)
        out = _depthwise_last(_last(x, fmt), depthwise, strides, padding, dilation_rate)
        return _back(_conv_last(out, pointwise, 1, "valid", 1), fmt)

    def conv_transpose(
        inputs: Any,
        kernel: Any,
        strides: Any = 1,
        padding: str = "valid",
        output_padding: Any = None,
        data_format: str | None = None,
        dilation_rate: Any = 1,
    ) -> tf.Tensor:
        fmt, padding = _image_format(data_format), _padding(padding)
        x, kernel = floats(inputs, kernel)
        x = _last(x, fmt)
        n = x.shape.rank - 2
        if kernel.shape[-1] != x.shape[-1]:
            raise ValueError(
                f"conv_transpose: the kernel expects {kernel.shape[-1]} input channels, the "
                f"input has {x.shape[-1]}."
            )
        strides, dilation = _tuple(strides, n), _tuple(dilation_rate, n)
        extra = [None] * n if output_padding is None else _tuple(output_padding, n)
        size = kernel.shape[:n]
        # TensorFlow's CPU kernel has no dilation: spread the kernel out with zeros instead.
        for i in range(n):
            kernel = _dilate(kernel, i, dilation[i])
        spatial = x.shape[1:-1]
        full = [(spatial[i] - 1) * strides[i] + kernel.shape[i] for i in range(n)]
        shape = tf.concat([tf.shape(x)[:1], tf.constant([*full, kernel.shape[-2]])], axis=0)
        out = tf.nn.conv_transpose(x, kernel, shape, strides=strides, padding="VALID")
        for i in range(n):
            length, start = _conv_transpose_geometry(
                spatial[i], size[i], strides[i], padding, extra[i], dilation[i]
            )
            stop = min(start + length, full[i])
            index = [slice(None)] * (n + 2)
            index[i + 1] = slice(start, stop)
            out = out[tuple(index)]
            if stop - start < length:
                pads = [(0, 0)] * (n + 2)
                pads[i + 1] = (0, length - (stop - start))
                out = tf.pad(out, pads)
        return _back(out, fmt)

    # --- pooling ----------------------------------------------------------------------------

    def _pool(
        inputs: Any,
        pool_size: Any,
        strides: Any,
        padding: str,
        data_format: str | None,
        function: Callable[..., tf.Tensor],
        cast: bool,
    ) -> tf.Tensor:
        fmt, padding = _image_format(data_format), _padding(padding)
        x = _last(floating(inputs) if cast else tensor(inputs), fmt)
        n = x.shape.rank - 2
        size = _tuple(pool_size, n)
        step = size if strides is None else _tuple(strides, n)
        if n != 3:
            return _back(function(x, ksize=size, strides=step, padding=padding.upper()), fmt)
        # TensorFlow's 3D pooling has no float64 CPU kernel, and its max-pooling gradient fails
        # eagerly. Box windows are separable: pool (H, W) with depth in the batch, then depth.
        batch, depth, channels = tf.shape(x)[0], x.shape[1], x.shape[-1]
        planes = tf.reshape(x, [-1, *x.shape[2:]])
        planes = function(planes, ksize=size[1:], strides=step[1:], padding=padding.upper())
        height, width = planes.shape[1], planes.shape[2]
        stacked = tf.reshape(planes, [batch, depth, height * width, channels])
        stacked = function(
            stacked, ksize=(size[0], 1), strides=(step[0], 1), padding=padding.upper()
        )
        out = tf.reshape(stacked, [batch, stacked.shape[1], height, width, channels])
        return _back(out, fmt)

    def max_pool(
        inputs: Any,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
    ) -> tf.Tensor:
        return _pool(inputs, pool_size, strides, padding, data_format, tf.nn.max_pool, False)

    def average_pool(
        inputs: Any,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
    ) -> tf.Tensor:
        return _pool(inputs, pool_size, strides, padding, data_format, tf.nn.avg_pool, True)

    # --- attention --------------------------------------------------------------------------

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
    ) -> tf.Tensor:
        del flash_attention
        q, k, v = floats(query, key, value)
        if q.shape.rank != 4 or k.shape.rank != 4 or v.shape.rank != 4:
            raise ValueError(
                "dot_product_attention takes 4D (batch, length, heads, head_dim) inputs; got "
                f"{q.shape}, {k.shape}, {v.shape}."
            )
        _, t, heads, h = q.shape
        s, kv_heads = k.shape[1], k.shape[2]
        if heads % kv_heads:
            raise ValueError(f"dot_product_attention: {heads} heads for {kv_heads} key heads.")
        groups = heads // kv_heads
        scale = 1.0 / math.sqrt(h) if scale is None else scale
        grouped = tf.reshape(q, [-1, t, kv_heads, groups, h])
        logits = tf.einsum("btkgh,bskh->bkgts", grouped, k)
        logits = tf.reshape(logits, [-1, heads, t, s]) * scale
        if bias is not None:
            logits = logits + like(bias, logits)
        if attn_logits_soft_cap is not None:
            logits = attn_logits_soft_cap * tf.tanh(logits / attn_logits_soft_cap)
        keep = None
        if mask is not None:
            keep = tf.cast(tensor(mask), tf.bool)
        if is_causal:
            causal = tf.cast(tf.linalg.band_part(tf.ones((t, s)), -1, 0), tf.bool)
            keep = causal if keep is None else tf.logical_and(keep, causal)
        if keep is not None:
            floor = tf.fill(tf.shape(logits), tf.constant(-0.7 * logits.dtype.max, logits.dtype))
            logits = tf.where(keep, logits, floor)
        probs = tf.reshape(tf.nn.softmax(logits, axis=-1), [-1, kv_heads, groups, t, s])
        out = tf.einsum("bkgts,bskh->btkgh", probs, v)
        return tf.reshape(out, [-1, t, heads, h])

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

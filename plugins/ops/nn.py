"""Neural-network ops (``keras.ops`` names and signatures): activations, softmax, one-hot
encodings, cross-entropies, normalization statistics, convolutions, pooling and attention.

The NumPy references compute in float64 and cast to the op's output dtype; convolutions and
pooling are written with sliding windows so that they stay exact and quick on small inputs.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import katman
from katman.dtypes import result_type, standardize_dtype
from katman.ops import Op
from katman.ops.rules import same_as_first
from katman.registry import PluginRegistrar
from katman.symbolic import KerasTensor

# Every op here is reported under the conformance area "nn".
_op = functools.partial(Op, area="nn")

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# --- dtype rules ----------------------------------------------------------------------------
# A rule sees the dtypes of every tensor and Python-scalar argument, in call order; the rules
# below only look at the leading tensor arguments they are about.


def _first_float(dtypes: Sequence[Any]) -> str:
    """The first input's dtype made floating (integers become ``floatx``)."""
    return result_type(dtypes[0], float)


def _second_float(dtypes: Sequence[Any]) -> str:
    """The second input's (``output``'s) dtype made floating: the cross-entropies."""
    return result_type(dtypes[1], float)


def _two_float(dtypes: Sequence[Any]) -> str:
    """The common floating dtype of the first two inputs (``inputs`` and ``kernel``)."""
    return result_type(dtypes[0], dtypes[1], float)


def _three_float(dtypes: Sequence[Any]) -> str:
    """The common floating dtype of the first three inputs (separable conv, attention)."""
    return result_type(dtypes[0], dtypes[1], dtypes[2], float)


# --- helpers --------------------------------------------------------------------------------


def _dtype_name(x: Any) -> str:
    if isinstance(x, (bool, int, float)):
        return result_type(x)
    return standardize_dtype(np.asarray(x).dtype)


def _float_name(x: Any) -> str:
    return result_type(_dtype_name(x), float)


def _cast(value: Any, dtype: str) -> np.ndarray:
    """``value`` as an array of ``dtype`` (bfloat16 travels as float32 on the host)."""
    return np.asarray(value).astype("float32" if dtype == "bfloat16" else dtype)


def _f64(x: Any) -> np.ndarray:
    return np.asarray(x, dtype="float64")


def _elementwise(function: Any, rule: str = "float") -> Any:
    """A unary reference: ``function`` applied in float64, cast to the op's dtype."""

    def reference(x: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        dtype = _dtype_name(x) if rule == "same" else _float_name(x)
        with np.errstate(all="ignore"):
            return _cast(function(_f64(x), *args, **kwargs), dtype)

    return reference


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % ndim for a in axis)) if ndim else ()


def _image_format(data_format: str | None) -> str:
    fmt = katman.config.image_data_format() if data_format is None else data_format.lower()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(
            f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}."
        )
    return fmt


def _tuple(value: Any, n: int, name: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"{name} must be an int or {n} ints, got {value!r}.")
    return value


def _padding(padding: str) -> str:
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
    return padding


def _same_pads(size: int, window: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding: output ``ceil(size / stride)``, the odd pad at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _to_last(x: np.ndarray, fmt: str) -> np.ndarray:
    return np.moveaxis(x, 1, -1) if fmt == "channels_first" else x


def _from_last(x: np.ndarray, fmt: str) -> np.ndarray:
    return np.moveaxis(x, -1, 1) if fmt == "channels_first" else x


def _windows(
    x: np.ndarray, size: Sequence[int], strides: Sequence[int], dilation: Sequence[int]
) -> np.ndarray:
    """Windows of a channels-last array: shape ``(batch, *out, channels, *size)``."""
    n = len(size)
    span = [(k - 1) * d + 1 for k, d in zip(size, dilation, strict=True)]
    view = np.lib.stride_tricks.sliding_window_view(x, span, axis=tuple(range(1, n + 1)))
    index = (
        slice(None),
        *(slice(None, None, s) for s in strides),
        slice(None),
        *(slice(None, None, d) for d in dilation),
    )
    return view[index]


def _conv_last(
    x: np.ndarray,
    kernel: np.ndarray,
    strides: Sequence[int],
    padding: str,
    dilation: Sequence[int],
) -> np.ndarray:
    """Grouped N-d convolution of channels-last ``x`` with a ``(*k, C/groups, O)`` kernel."""
    n = x.ndim - 2
    size = kernel.shape[:n]
    channels, per_group, filters = x.shape[-1], kernel.shape[-2], kernel.shape[-1]
    if per_group == 0 or channels % per_group:
        raise ValueError(
            f"conv: the input has {channels} channels, which the kernel's {per_group} input "
            "channels do not divide."
        )
    groups = channels // per_group
    if filters % groups:
        raise ValueError(f"conv: {filters} filters cannot be split into {groups} groups.")
    if padding == "same":
        pads = [
            _same_pads(x.shape[i + 1], (size[i] - 1) * dilation[i] + 1, strides[i])
            for i in range(n)
        ]
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    win = _windows(x, size, strides, dilation)  # (B, *O, C, *k)
    out_shape = win.shape[1 : n + 1]
    win = win.reshape(x.shape[0], *out_shape, groups, per_group, *size)
    w = kernel.reshape(*size, per_group, groups, filters // groups)
    letters = "ijklmn"[:n]
    out = np.einsum(f"b...gc{letters},{letters}cgf->b...gf", win, w)
    return out.reshape(x.shape[0], *out_shape, filters)


# --- activations ----------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


def _gelu(x: np.ndarray, approximate: bool = True) -> np.ndarray:
    if approximate:
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
        return 0.5 * x * (1.0 + np.tanh(inner))
    erf = np.vectorize(math.erf, otypes=["float64"])
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _celu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return np.maximum(x, 0.0) + np.minimum(0.0, alpha * np.expm1(np.minimum(x, 0.0) / alpha))


def _hard_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.clip(x / 6.0 + 0.5, 0.0, 1.0)


def _sparse_plus(x: np.ndarray) -> np.ndarray:
    return np.where(x <= -1.0, 0.0, np.where(x >= 1.0, x, 0.25 * (x + 1.0) ** 2))


def glu_reference(x: Any, axis: int = -1) -> np.ndarray:
    dtype = _float_name(x)
    x = _f64(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} of shape {x.shape} has an odd size.")
    a, b = np.split(x, 2, axis=axis)
    return _cast(a * _sigmoid(b), dtype)


def _softmax_parts(x: Any, axis: Any) -> tuple[np.ndarray, np.ndarray, str]:
    dtype = _float_name(x)
    x = _f64(x)
    axes = _axes(axis, x.ndim)
    top = np.max(x, axis=axes, keepdims=True)
    lse = top + np.log(np.sum(np.exp(x - top), axis=axes, keepdims=True))
    return x, lse, dtype


def softmax_reference(x: Any, axis: Any = -1) -> np.ndarray:
    x, lse, dtype = _softmax_parts(x, axis)
    return _cast(np.exp(x - lse), dtype)


def log_softmax_reference(x: Any, axis: Any = -1) -> np.ndarray:
    x, lse, dtype = _softmax_parts(x, axis)
    return _cast(x - lse, dtype)


# --- encodings ------------------------------------------------------------------------------


def _one_hot_shape(shape: Sequence[Any], num_classes: int, axis: int) -> list[Any]:
    shape = list(shape)
    if axis == -1:
        shape.append(num_classes)
    elif 0 <= axis < len(shape):
        shape.insert(axis, num_classes)
    else:
        raise ValueError(f"one_hot: axis must be -1 or in [0, {len(shape)}), got {axis}.")
    return shape


def _check_sparse(sparse: bool, name: str) -> None:
    if sparse:
        raise ValueError(f"{name}: katman has no sparse tensors; call it with sparse=False.")


def one_hot_reference(
    x: Any, num_classes: int, axis: int = -1, dtype: str | None = None, sparse: bool = False
) -> np.ndarray:
    _check_sparse(sparse, "one_hot")
    x = np.asarray(x)
    _one_hot_shape(x.shape, num_classes, axis)
    encoded = x[..., None] == np.arange(num_classes)
    if axis != -1:
        encoded = np.moveaxis(encoded, -1, axis)
    return _cast(encoded, standardize_dtype(dtype))


def one_hot_spec(
    x: Any, num_classes: int, axis: int = -1, dtype: str | None = None, sparse: bool = False
) -> KerasTensor:
    _check_sparse(sparse, "one_hot")
    return KerasTensor(_one_hot_shape(x.shape, num_classes, axis), standardize_dtype(dtype))


def _multi_hot_classes(num_classes: int | None, kwargs: dict) -> int:
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if num_classes is None:
        raise ValueError("multi_hot: the argument `num_classes` must be given.")
    if kwargs:
        raise TypeError(f"multi_hot: unexpected arguments {sorted(kwargs)}.")
    return num_classes


def multi_hot_reference(
    inputs: Any,
    num_classes: int | None = None,
    axis: int = -1,
    dtype: str | None = None,
    sparse: bool = False,
    **kwargs: Any,
) -> np.ndarray:
    num_classes = _multi_hot_classes(num_classes, kwargs)
    _check_sparse(sparse, "multi_hot")
    inputs = np.asarray(inputs).astype("int64")
    encoded = one_hot_reference(inputs, num_classes, axis=axis, dtype="bool")
    reduced = np.any(encoded, axis=1 if inputs.ndim > 1 else 0)
    return _cast(reduced, standardize_dtype(dtype))


def multi_hot_spec(
    inputs: Any,
    num_classes: int | None = None,
    axis: int = -1,
    dtype: str | None = None,
    sparse: bool = False,
    **kwargs: Any,
) -> KerasTensor:
    num_classes = _multi_hot_classes(num_classes, kwargs)
    _check_sparse(sparse, "multi_hot")
    shape = _one_hot_shape(inputs.shape, num_classes, axis)
    del shape[1 if len(inputs.shape) > 1 else 0]
    return KerasTensor(shape, standardize_dtype(dtype))


# --- losses ---------------------------------------------------------------------------------


def binary_crossentropy_reference(target: Any, output: Any, from_logits: bool = False) -> Any:
    dtype = _float_name(output)
    target, output = _f64(target), _f64(output)
    if target.shape != output.shape:
        raise ValueError(
            f"binary_crossentropy: target and output shapes differ: {target.shape} vs "
            f"{output.shape}."
        )
    if from_logits:
        loss = target * np.logaddexp(0.0, -output) + (1.0 - target) * np.logaddexp(0.0, output)
    else:
        eps = katman.config.epsilon()
        output = np.clip(output, eps, 1.0 - eps)
        loss = -(target * np.log(output) + (1.0 - target) * np.log(1.0 - output))
    return _cast(loss, dtype)


def _log_probs(output: np.ndarray, from_logits: bool, axis: int) -> np.ndarray:
    if from_logits:
        top = np.max(output, axis=axis, keepdims=True)
        return output - top - np.log(np.sum(np.exp(output - top), axis=axis, keepdims=True))
    eps = katman.config.epsilon()
    output = output / np.sum(output, axis=axis, keepdims=True)
    return np.log(np.clip(output, eps, 1.0 - eps))


def categorical_crossentropy_reference(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> Any:
    dtype = _float_name(output)
    target, output = _f64(target), _f64(output)
    if target.shape != output.shape or output.ndim < 1:
        raise ValueError(
            "categorical_crossentropy: target and output need the same shape, of rank >= 1; "
            f"got {target.shape} and {output.shape}."
        )
    return _cast(-np.sum(target * _log_probs(output, from_logits, axis), axis=axis), dtype)


def sparse_categorical_crossentropy_reference(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> Any:
    dtype = _float_name(output)
    target, output = np.asarray(target).astype("int64"), _f64(output)
    if output.ndim < 1:
        raise ValueError(f"sparse_categorical_crossentropy: output has rank 0 ({output.shape}).")
    axis = axis % output.ndim
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = target[..., 0]
    classes = output.shape[axis]
    if target.shape != output.shape[:axis] + output.shape[axis + 1 :]:
        raise ValueError(
            "sparse_categorical_crossentropy: target must have output's shape without the "
            f"class axis; got {target.shape} and {output.shape}."
        )
    encoded = np.moveaxis(target[..., None] == np.arange(classes), -1, axis)
    return _cast(-np.sum(encoded * _log_probs(output, from_logits, axis), axis=axis), dtype)


# --- normalization --------------------------------------------------------------------------


def moments_reference(
    x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    del synchronized  # one process: nothing to synchronize
    dtype = _float_name(x)
    x = _f64(x)
    dims = _axes(axes, x.ndim)
    mean = np.mean(x, axis=dims, keepdims=True)
    variance = np.mean(np.square(x - mean), axis=dims, keepdims=True)
    if not keepdims:
        mean, variance = np.squeeze(mean, dims), np.squeeze(variance, dims)
    return _cast(mean, dtype), _cast(variance, dtype)


def _reduced_shape(shape: Sequence[Any], axes: Any, keepdims: bool) -> tuple[Any, ...]:
    dims = _axes(axes, len(shape))
    if keepdims:
        return tuple(1 if i in dims else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in dims)


def moments_spec(
    x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False
) -> tuple[KerasTensor, KerasTensor]:
    del synchronized
    shape = _reduced_shape(x.shape, axes, keepdims)
    dtype = result_type(x.dtype, float)
    return KerasTensor(shape, dtype), KerasTensor(shape, dtype)


def batch_normalization_reference(
    x: Any,
    mean: Any,
    variance: Any,
    axis: int,
    offset: Any = None,
    scale: Any = None,
    epsilon: float = 1e-3,
) -> np.ndarray:
    dtype = _float_name(x)
    x = _f64(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def vector(v: Any) -> np.ndarray:
        return _f64(v).reshape(shape)

    out = (x - vector(mean)) / np.sqrt(vector(variance) + epsilon)
    if scale is not None:
        out = out * vector(scale)
    if offset is not None:
        out = out + vector(offset)
    return _cast(out, dtype)


def normalize_reference(
    x: Any, axis: Any = -1, order: int = 2, epsilon: float | None = None
) -> np.ndarray:
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"normalize: order must be an int >= 1, got {order!r}.")
    dtype = _float_name(x)
    x = _f64(x)
    if x.ndim == 0:
        x = x[None]
    eps = katman.config.epsilon() if epsilon is None else epsilon
    axes = _axes(axis, x.ndim)
    if order == 2:
        norm = np.sqrt(np.sum(np.square(x), axis=axes, keepdims=True))
        return _cast(x * np.minimum(1.0 / norm, 1.0 / eps), dtype)
    if len(axes) == 1:
        norm = np.sum(np.abs(x) ** order, axis=axes, keepdims=True) ** (1.0 / order)
    elif len(axes) == 2 and order == 1:  # the matrix 1-norm: the largest column sum
        first, second = (axis[0] % x.ndim, axis[1] % x.ndim)
        column = np.sum(np.abs(x), axis=first, keepdims=True)
        norm = np.max(column, axis=second, keepdims=True)
    else:
        raise ValueError(f"normalize: order {order} over axes {axis!r} is not a norm.")
    return _cast(x / np.maximum(norm, eps), dtype)


# --- convolutions ---------------------------------------------------------------------------


def conv_reference(
    inputs: Any,
    kernel: Any,
    strides: Any = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: Any = 1,
) -> np.ndarray:
    dtype = result_type(_dtype_name(inputs), _dtype_name(kernel), float)
    fmt, padding = _image_format(data_format), _padding(padding)
    x, kernel = _to_last(_f64(inputs), fmt), _f64(kernel)
    n = x.ndim - 2
    out = _conv_last(
        x, kernel, _tuple(strides, n, "strides"), padding, _tuple(dilation_rate, n, "dilation")
    )
    return _cast(_from_last(out, fmt), dtype)


def _depthwise_as_grouped(kernel: np.ndarray) -> np.ndarray:
    """A ``(*k, C, M)`` depthwise kernel as a grouped ``(*k, 1, C * M)`` conv kernel."""
    return kernel.reshape(*kernel.shape[:-2], 1, kernel.shape[-2] * kernel.shape[-1])


def depthwise_conv_reference(
    inputs: Any,
    kernel: Any,
    strides: Any = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: Any = 1,
) -> np.ndarray:
    dtype = result_type(_dtype_name(inputs), _dtype_name(kernel), float)
    fmt, padding = _image_format(data_format), _padding(padding)
    x, kernel = _to_last(_f64(inputs), fmt), _f64(kernel)
    n = x.ndim - 2
    if kernel.shape[-2] != x.shape[-1]:
        raise ValueError(
            f"depthwise_conv: the kernel expects {kernel.shape[-2]} channels, the input has "
            f"{x.shape[-1]}."
        )
    out = _conv_last(
        x,
        _depthwise_as_grouped(kernel),
        _tuple(strides, n, "strides"),
        padding,
        _tuple(dilation_rate, n, "dilation"),
    )
    return _cast(_from_last(out, fmt), dtype)


def separable_conv_reference(
    inputs: Any,
    depthwise_kernel: Any,
    pointwise_kernel: Any,
    strides: Any = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: Any = 1,
) -> np.ndarray:
    dtype = result_type(
        _dtype_name(inputs), _dtype_name(depthwise_kernel), _dtype_name(pointwise_kernel), float
    )
    fmt = _image_format(data_format)
    depthwise = depthwise_conv_reference(
        _f64(inputs), _f64(depthwise_kernel), strides, padding, fmt, dilation_rate
    )
    out = conv_reference(depthwise, _f64(pointwise_kernel), 1, "valid", fmt, dilation_rate)
    return _cast(out, dtype)


def conv_transpose_geometry(
    size: int, kernel: int, stride: int, padding: str, output_padding: int | None, dilation: int
) -> tuple[int, int]:
    """Keras's transposed-convolution geometry along one axis: the output length, and where
    the output starts within the full (uncropped) transposed convolution, whose length is
    ``(size - 1) * stride + (kernel - 1) * dilation + 1``."""
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


def conv_transpose_reference(
    inputs: Any,
    kernel: Any,
    strides: Any = 1,
    padding: str = "valid",
    output_padding: Any = None,
    data_format: str | None = None,
    dilation_rate: Any = 1,
) -> np.ndarray:
    dtype = result_type(_dtype_name(inputs), _dtype_name(kernel), float)
    fmt, padding = _image_format(data_format), _padding(padding)
    x, kernel = _to_last(_f64(inputs), fmt), _f64(kernel)
    n = x.ndim - 2
    strides, dilation = _tuple(strides, n, "strides"), _tuple(dilation_rate, n, "dilation")
    pads = [None] * n if output_padding is None else _tuple(output_padding, n, "output_padding")
    if kernel.shape[-1] != x.shape[-1]:
        raise ValueError(
            f"conv_transpose: the kernel expects {kernel.shape[-1]} input channels, the input "
            f"has {x.shape[-1]}."
        )
    size, filters = kernel.shape[:n], kernel.shape[-2]
    spatial = x.shape[1:-1]
    full_shape = [(spatial[i] - 1) * strides[i] + (size[i] - 1) * dilation[i] + 1 for i in range(n)]
    full = np.zeros((x.shape[0], *full_shape, filters))
    for position in np.ndindex(*size):
        target = tuple(
            slice(
                position[i] * dilation[i],
                position[i] * dilation[i] + (spatial[i] - 1) * strides[i] + 1,
                strides[i],
            )
            for i in range(n)
        )
        # Each input position adds kernel[position] @ x to one output position.
        full[(slice(None), *target, slice(None))] += x @ kernel[position].T
    geometry = [
        conv_transpose_geometry(spatial[i], size[i], strides[i], padding, pads[i], dilation[i])
        for i in range(n)
    ]
    out = np.zeros((x.shape[0], *[g[0] for g in geometry], filters))
    copy = tuple(
        slice(0, max(min(length, full_shape[i] - start), 0))
        for i, (length, start) in enumerate(geometry)
    )
    source = tuple(
        slice(start, start + c.stop) for (_, start), c in zip(geometry, copy, strict=True)
    )
    out[(slice(None), *copy, slice(None))] = full[(slice(None), *source, slice(None))]
    return _cast(_from_last(out, fmt), dtype)


# --- pooling --------------------------------------------------------------------------------


def _pool(
    inputs: Any,
    pool_size: Any,
    strides: Any,
    padding: str,
    data_format: str | None,
    average: bool,
) -> np.ndarray:
    fmt, padding = _image_format(data_format), _padding(padding)
    x = _to_last(_f64(inputs), fmt)
    n = x.ndim - 2
    size = _tuple(pool_size, n, "pool_size")
    step = size if strides is None else _tuple(strides, n, "strides")
    valid = np.ones_like(x)
    if padding == "same":
        pads = [(0, 0), *(_same_pads(x.shape[i + 1], size[i], step[i]) for i in range(n)), (0, 0)]
        x = np.pad(x, pads, constant_values=0.0 if average else -np.inf)
        valid = np.pad(valid, pads)
    ones = (1,) * n
    win = _windows(x, size, step, ones)
    axes = tuple(range(-n, 0))
    if average:
        out = np.sum(win, axis=axes) / np.sum(_windows(valid, size, step, ones), axis=axes)
    else:
        out = np.max(win, axis=axes)
    return _from_last(out, fmt)


def max_pool_reference(
    inputs: Any,
    pool_size: Any,
    strides: Any = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> np.ndarray:
    out = _pool(inputs, pool_size, strides, padding, data_format, average=False)
    return _cast(out, _dtype_name(inputs))


def average_pool_reference(
    inputs: Any,
    pool_size: Any,
    strides: Any = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> np.ndarray:
    out = _pool(inputs, pool_size, strides, padding, data_format, average=True)
    return _cast(out, _float_name(inputs))


# --- attention ------------------------------------------------------------------------------


def dot_product_attention_reference(
    query: Any,
    key: Any,
    value: Any,
    bias: Any = None,
    mask: Any = None,
    scale: float | None = None,
    is_causal: bool = False,
    flash_attention: bool | None = None,
    attn_logits_soft_cap: float | None = None,
) -> np.ndarray:
    del flash_attention  # an implementation choice; the result is the same
    dtype = result_type(_dtype_name(query), _dtype_name(key), _dtype_name(value), float)
    q, k, v = _f64(query), _f64(key), _f64(value)
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError(
            "dot_product_attention takes 4D (batch, length, heads, head_dim) inputs; got "
            f"{q.shape}, {k.shape}, {v.shape}."
        )
    b, t, heads, h = q.shape
    kv_heads, s = k.shape[2], k.shape[1]
    if heads % kv_heads:
        raise ValueError(f"dot_product_attention: {heads} heads for {kv_heads} key heads.")
    groups = heads // kv_heads
    scale = 1.0 / math.sqrt(h) if scale is None else scale
    logits = np.einsum("btkgh,bskh->bkgts", q.reshape(b, t, kv_heads, groups, h), k)
    logits = logits.reshape(b, heads, t, s) * scale
    if bias is not None:
        logits = logits + _f64(bias)
    if attn_logits_soft_cap is not None:
        logits = attn_logits_soft_cap * np.tanh(logits / attn_logits_soft_cap)
    keep = np.ones((b, heads, t, s), dtype=bool)
    if mask is not None:
        keep = keep & np.asarray(mask).astype(bool)
    if is_causal:
        keep = keep & np.tril(np.ones((t, s), dtype=bool))
    logits = np.where(keep, logits, -0.7 * np.finfo("float64").max)
    probs = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    probs = probs / np.sum(probs, axis=-1, keepdims=True)
    out = np.einsum("bkgts,bskh->btkgh", probs.reshape(b, kv_heads, groups, t, s), v)
    return _cast(out.reshape(b, t, heads, h), dtype)


# --- the ops --------------------------------------------------------------------------------


def _unary(name: str, function: Any, doc: str, keep_ints: bool = False) -> Op:
    return _op(
        name,
        reference=_elementwise(function, "same" if keep_ints else "float"),
        dtype=same_as_first if keep_ints else _first_float,
        doc=doc,
    )


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def relu6_reference(x: Any) -> np.ndarray:
    return _elementwise(lambda v: np.clip(v, 0.0, 6.0), "same")(x)


def sigmoid_reference(x: Any) -> np.ndarray:
    return _elementwise(_sigmoid)(x)


def softplus_reference(x: Any) -> np.ndarray:
    return _elementwise(lambda v: np.logaddexp(0.0, v))(x)


def softsign_reference(x: Any) -> np.ndarray:
    return _elementwise(lambda v: v / (1.0 + np.abs(v)))(x)


def silu_reference(x: Any) -> np.ndarray:
    return _elementwise(lambda v: v * _sigmoid(v))(x)


def gelu_reference(x: Any, approximate: bool = True) -> np.ndarray:
    return _elementwise(_gelu)(x, approximate)


def elu_reference(x: Any, alpha: float = 1.0) -> np.ndarray:
    return _elementwise(_elu)(x, alpha)


def selu_reference(x: Any) -> np.ndarray:
    return _elementwise(lambda v: _SELU_SCALE * _elu(v, _SELU_ALPHA))(x)


def leaky_relu_reference(x: Any, negative_slope: float = 0.2) -> np.ndarray:
    return _elementwise(lambda v: np.where(v >= 0, v, negative_slope * v))(x)


def hard_sigmoid_reference(x: Any) -> np.ndarray:
    return _elementwise(_hard_sigmoid)(x)


def hard_silu_reference(x: Any) -> np.ndarray:
    return _elementwise(lambda v: v * _hard_sigmoid(v))(x)


def log_sigmoid_reference(x: Any) -> np.ndarray:
    return _elementwise(lambda v: -np.logaddexp(0.0, -v))(x)


def celu_reference(x: Any, alpha: float = 1.0) -> np.ndarray:
    return _elementwise(_celu)(x, alpha)


def tanh_shrink_reference(x: Any) -> np.ndarray:
    return _elementwise(lambda v: v - np.tanh(v))(x)


def hard_tanh_reference(x: Any) -> np.ndarray:
    return _elementwise(lambda v: np.clip(v, -1.0, 1.0), "same")(x)


def soft_shrink_reference(x: Any, threshold: float = 0.5) -> np.ndarray:
    return _elementwise(
        lambda v: np.where(v > threshold, v - threshold, np.where(v < -threshold, v + threshold, 0))
    )(x)


def hard_shrink_reference(x: Any, threshold: float = 0.5) -> np.ndarray:
    return _elementwise(lambda v: np.where(np.abs(v) > threshold, v, 0.0))(x)


def squareplus_reference(x: Any, b: float = 4) -> np.ndarray:
    return _elementwise(lambda v: 0.5 * (v + np.sqrt(v * v + b)))(x)


def sparse_plus_reference(x: Any) -> np.ndarray:
    return _elementwise(_sparse_plus)(x)


OPS: tuple[Op, ...] = (
    _unary("relu", _relu, "Rectified linear unit: ``max(x, 0)``.", keep_ints=True),
    _op(
        "relu6",
        reference=relu6_reference,
        dtype=same_as_first,
        doc="ReLU capped at 6: ``min(max(x, 0), 6)``.",
    ),
    _op(
        "sigmoid",
        reference=sigmoid_reference,
        dtype=_first_float,
        doc="Logistic sigmoid ``1 / (1 + exp(-x))``.",
    ),
    _op(
        "softplus",
        reference=softplus_reference,
        dtype=_first_float,
        doc="Softplus ``log(1 + exp(x))``.",
    ),
    _op(
        "softsign",
        reference=softsign_reference,
        dtype=_first_float,
        doc="Softsign ``x / (1 + |x|)``.",
    ),
    _op(
        "silu", reference=silu_reference, dtype=_first_float, doc="SiLU (swish) ``x * sigmoid(x)``."
    ),
    _op(
        "gelu",
        reference=gelu_reference,
        dtype=_first_float,
        doc="GELU ``x * P(X <= x)``; tanh approximation when ``approximate``.",
    ),
    _op(
        "elu",
        reference=elu_reference,
        dtype=_first_float,
        doc="ELU: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.",
    ),
    _op(
        "selu",
        reference=selu_reference,
        dtype=_first_float,
        doc="SELU: ``scale * elu(x, alpha)`` with the self-normalizing constants.",
    ),
    _op(
        "leaky_relu",
        reference=leaky_relu_reference,
        dtype=_first_float,
        doc="Leaky ReLU: ``x`` if ``x >= 0`` else ``negative_slope * x``.",
    ),
    _op(
        "hard_sigmoid",
        reference=hard_sigmoid_reference,
        dtype=_first_float,
        doc="Hard sigmoid ``relu6(x + 3) / 6``.",
    ),
    _op(
        "hard_silu",
        reference=hard_silu_reference,
        dtype=_first_float,
        doc="Hard SiLU (hard swish) ``x * relu6(x + 3) / 6``.",
    ),
    _op(
        "log_sigmoid",
        reference=log_sigmoid_reference,
        dtype=_first_float,
        doc="Log-sigmoid ``-softplus(-x)``.",
    ),
    _op(
        "celu",
        reference=celu_reference,
        dtype=_first_float,
        doc="CELU: ``x`` if ``x >= 0`` else ``alpha * (exp(x / alpha) - 1)``.",
    ),
    _op(
        "glu",
        reference=glu_reference,
        dtype=_first_float,
        doc="Gated linear unit: ``a * sigmoid(b)``, ``x`` split in halves ``a, b`` on axis.",
    ),
    _op(
        "tanh_shrink",
        reference=tanh_shrink_reference,
        dtype=_first_float,
        doc="Tanh shrink ``x - tanh(x)``.",
    ),
    _op(
        "hard_tanh",
        reference=hard_tanh_reference,
        dtype=same_as_first,
        doc="Hard tanh: ``x`` clipped to ``[-1, 1]``.",
    ),
    _op(
        "soft_shrink",
        reference=soft_shrink_reference,
        dtype=_first_float,
        doc="Soft shrink: ``x`` moved ``threshold`` towards 0, 0 within ``threshold``.",
    ),
    _op(
        "hard_shrink",
        reference=hard_shrink_reference,
        dtype=_first_float,
        doc="Hard shrink: ``x`` where ``|x| > threshold``, else 0.",
    ),
    _op(
        "squareplus",
        reference=squareplus_reference,
        dtype=_first_float,
        doc="Squareplus ``(x + sqrt(x ** 2 + b)) / 2``.",
    ),
    _op(
        "sparse_plus",
        reference=sparse_plus_reference,
        dtype=_first_float,
        doc="SparsePlus: 0 below -1, ``(x + 1) ** 2 / 4`` on [-1, 1], ``x`` above 1.",
    ),
    _op(
        "softmax",
        reference=softmax_reference,
        dtype=_first_float,
        doc="Softmax ``exp(x) / sum(exp(x))`` over ``axis`` (an int, a tuple or None).",
    ),
    _op(
        "log_softmax",
        reference=log_softmax_reference,
        dtype=_first_float,
        doc="Log-softmax ``x - logsumexp(x)`` over ``axis`` (an int, a tuple or None).",
    ),
    _op(
        "one_hot",
        reference=one_hot_reference,
        output_spec=one_hot_spec,
        differentiable=False,
        doc="One-hot encoding of integer ``x`` on a new axis (``floatx`` unless ``dtype``).",
    ),
    _op(
        "multi_hot",
        reference=multi_hot_reference,
        output_spec=multi_hot_spec,
        differentiable=False,
        doc="Multi-hot encoding: 1 for each class an example's integer labels contain.",
    ),
    _op(
        "moments",
        reference=moments_reference,
        output_spec=moments_spec,
        doc="Mean and (biased) variance of ``x`` over ``axes``.",
    ),
    _op(
        "batch_normalization",
        reference=batch_normalization_reference,
        dtype=_first_float,
        doc="``(x - mean) / sqrt(variance + epsilon) * scale + offset`` along ``axis``.",
    ),
    _op(
        "normalize",
        reference=normalize_reference,
        dtype=_first_float,
        doc="``x / max(norm(x, order), epsilon)`` over ``axis``.",
    ),
    _op(
        "binary_crossentropy",
        reference=binary_crossentropy_reference,
        dtype=_second_float,
        doc="Elementwise binary cross-entropy of probabilities (or logits).",
    ),
    _op(
        "categorical_crossentropy",
        reference=categorical_crossentropy_reference,
        dtype=_second_float,
        doc="Cross-entropy between one-hot (or soft) targets and predictions on ``axis``.",
    ),
    _op(
        "sparse_categorical_crossentropy",
        reference=sparse_categorical_crossentropy_reference,
        dtype=_second_float,
        doc="Cross-entropy between integer class targets and predictions on ``axis``.",
    ),
    _op(
        "conv",
        reference=conv_reference,
        dtype=_two_float,
        doc="N-d (grouped) convolution with a ``(*kernel_size, in/groups, out)`` kernel.",
    ),
    _op(
        "depthwise_conv",
        reference=depthwise_conv_reference,
        dtype=_two_float,
        doc="Depthwise convolution with a ``(*kernel_size, in, multiplier)`` kernel.",
    ),
    _op(
        "separable_conv",
        reference=separable_conv_reference,
        dtype=_three_float,
        doc="Depthwise convolution followed by a pointwise (1x1) convolution.",
    ),
    _op(
        "conv_transpose",
        reference=conv_transpose_reference,
        dtype=_two_float,
        doc="Transposed convolution with a ``(*kernel_size, out, in)`` kernel.",
    ),
    _op(
        "max_pool",
        reference=max_pool_reference,
        dtype=same_as_first,
        doc="Max pooling over the spatial axes.",
    ),
    _op(
        "average_pool",
        reference=average_pool_reference,
        dtype=_first_float,
        doc="Average pooling over the spatial axes ('same' padding averages real values).",
    ),
    _op(
        "dot_product_attention",
        reference=dot_product_attention_reference,
        dtype=_three_float,
        doc="Scaled dot-product attention ``softmax(q k^T * scale + bias) v``.",
    ),
)

# Other public names Keras gives some of these ops.
ALIASES: dict[str, tuple[str, ...]] = {"silu": ("swish",), "hard_silu": ("hard_swish",)}


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for op in OPS:
        registry.add("op", op.name, op, aliases=ALIASES.get(op.name, ()))

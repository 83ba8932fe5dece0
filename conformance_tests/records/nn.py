"""Records for neural-network ops.

Convolution, pooling and attention draw small inputs (batch <= 2, spatial sides <= 5, channels
<= 3) with values in [-1, 1], so float32 sums stay within tolerance and the finite-difference
gradient checks stay quick. Ops whose gradient is singular at 0 (normalize) draw values away
from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from katman.conformance.records import OpRecord
from katman.conformance.strategies import (
    FLOATS,
    NUMERIC,
    Sample,
    array,
    custom,
    shapes,
    unary,
)

# Small-valued data for convolutions, pooling and attention.
UNIT = (-1.0, 1.0)
FORMATS = (None, "channels_last", "channels_first")
# 1D and 2D mostly; 3D now and then.
SPATIAL_DIMS = st.sampled_from([1, 2, 1, 2, 3])


def _axis(draw: st.DrawFn, ndim: int, none: bool = True, multiple: bool = True) -> Any:
    choices = [st.integers(-ndim, ndim - 1)]
    if none:
        choices.append(st.none())
    if multiple:
        choices.append(
            st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
        )
    return draw(st.one_of(*choices))


def _away_from_zero(draw: st.DrawFn, dtype: str, shape: Sequence[int]) -> np.ndarray:
    """Values with magnitudes in [0.5, 10] and random signs (integers in [1, 10])."""
    magnitude = draw(array(dtype, shape, (0.5, 10.0) if dtype in FLOATS else (1, 10)))
    signs = draw(array("bool", shape))
    return np.where(signs, magnitude, -magnitude).astype(dtype)


# --- activations ----------------------------------------------------------------------------


def _glu(draw: st.DrawFn) -> Sample:
    dtype = draw(st.sampled_from(NUMERIC))
    shape = list(draw(shapes(min_dims=1)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    shape[axis] = 2 * draw(st.integers(1, 2))
    return Sample((draw(array(dtype, shape)),), {"axis": axis})


def _softmax(draw: st.DrawFn) -> Sample:
    dtype = draw(st.sampled_from(NUMERIC))
    x = draw(array(dtype, draw(shapes(min_dims=1))))
    return Sample((x,), {"axis": _axis(draw, x.ndim)})


# --- encodings ------------------------------------------------------------------------------


def _one_hot(draw: st.DrawFn) -> Sample:
    num_classes = draw(st.integers(1, 4))
    x = draw(array("int32", draw(shapes(max_dims=2)), (-1, num_classes)))
    kwargs: dict[str, Any] = {
        "axis": draw(st.sampled_from([-1, *range(x.ndim)])),
        "dtype": draw(st.sampled_from([None, "float32", "float64", "int32", "bool"])),
    }
    return Sample((x, num_classes), kwargs)


def _multi_hot(draw: st.DrawFn) -> Sample:
    num_classes = draw(st.integers(1, 4))
    x = draw(array("int32", draw(shapes(min_dims=1, max_dims=2)), (0, num_classes - 1)))
    dtype = draw(st.sampled_from([None, "float32", "int32", "bool"]))
    return Sample((x,), {"num_classes": num_classes, "dtype": dtype})


# --- losses ---------------------------------------------------------------------------------


def _binary_crossentropy(draw: st.DrawFn) -> Sample:
    dtype = draw(st.sampled_from(FLOATS))
    shape = draw(shapes())
    from_logits = draw(st.booleans())
    if draw(st.booleans()):
        target = draw(array(dtype, shape, (0.0, 1.0)))
    else:
        target = draw(array("int32", shape, (0, 1)))
    output = draw(array(dtype, shape, (-10.0, 10.0) if from_logits else (0.01, 0.99)))
    return Sample((target, output), {"from_logits": from_logits})


def _categorical_crossentropy(draw: st.DrawFn) -> Sample:
    dtype = draw(st.sampled_from(FLOATS))
    shape = draw(shapes(min_dims=1))
    from_logits = draw(st.booleans())
    target = draw(array(dtype, shape, (0.0, 1.0)))
    output = draw(array(dtype, shape, (-10.0, 10.0) if from_logits else (0.05, 1.0)))
    axis = draw(st.sampled_from([-1, *range(len(shape))]))
    return Sample((target, output), {"from_logits": from_logits, "axis": axis})


def _sparse_categorical_crossentropy(draw: st.DrawFn) -> Sample:
    dtype = draw(st.sampled_from(FLOATS))
    shape = draw(shapes(min_dims=1))
    from_logits = draw(st.booleans())
    output = draw(array(dtype, shape, (-10.0, 10.0) if from_logits else (0.05, 1.0)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    target_shape = shape[: axis % len(shape)] + shape[axis % len(shape) + 1 :]
    if axis == -1 and draw(st.booleans()):
        target_shape = (*target_shape, 1)  # labels with a trailing unit axis
    # One label past each end of the classes: such a label scores 0, as in Keras.
    target = draw(array("int32", target_shape, (-1, shape[axis])))
    return Sample((target, output), {"from_logits": from_logits, "axis": axis})


# --- normalization --------------------------------------------------------------------------


def _moments(draw: st.DrawFn) -> Sample:
    dtype = draw(st.sampled_from(NUMERIC))
    x = draw(array(dtype, draw(shapes(min_dims=1))))
    axes = draw(
        st.one_of(
            st.integers(-x.ndim, x.ndim - 1),
            st.lists(st.integers(0, x.ndim - 1), min_size=1, max_size=x.ndim, unique=True),
        )
    )
    return Sample((x, axes), {"keepdims": draw(st.booleans())})


def _batch_normalization(draw: st.DrawFn) -> Sample:
    dtype = draw(st.sampled_from(FLOATS))
    x = draw(array(dtype, draw(shapes(min_dims=1))))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    length = (x.shape[axis],)
    mean = draw(array(dtype, length))
    variance = draw(array(dtype, length, (0.1, 5.0)))
    offset = draw(st.one_of(st.none(), array(dtype, length)))
    scale = draw(st.one_of(st.none(), array(dtype, length, (-3.0, 3.0))))
    epsilon = draw(st.sampled_from([1e-3, 1e-5, 0.1]))
    return Sample((x, mean, variance, axis, offset, scale, epsilon))


def _normalize(draw: st.DrawFn) -> Sample:
    dtype = draw(st.sampled_from(NUMERIC))
    x = _away_from_zero(draw, dtype, draw(shapes(min_dims=1)))
    order = draw(st.sampled_from([1, 2, 3]))
    if order == 2:
        axis = _axis(draw, x.ndim, none=False)
    elif order == 1 and x.ndim >= 2 and draw(st.booleans()):
        axis = tuple(draw(st.permutations(range(x.ndim)))[:2])
    else:
        axis = draw(st.integers(-x.ndim, x.ndim - 1))
    kwargs: dict[str, Any] = {"axis": axis, "order": order}
    if draw(st.booleans()):
        kwargs["epsilon"] = draw(st.sampled_from([1e-7, 1e-3, 0.5]))
    return Sample((x,), kwargs)


# --- convolutions and pooling ---------------------------------------------------------------


def _spec(draw: st.DrawFn, n: int, low: int = 1, high: int = 2) -> Any:
    """An int, or a tuple of ``n`` ints, in [low, high]."""
    values = draw(st.lists(st.integers(low, high), min_size=n, max_size=n))
    return values[0] if draw(st.booleans()) else tuple(values)


def _per_axis(value: Any, n: int) -> tuple[int, ...]:
    return (value,) * n if isinstance(value, int) else tuple(value)


def _image(
    draw: st.DrawFn, dtype: str, n: int, channels: int, data_format: str | None, low: Sequence[int]
) -> np.ndarray:
    """A batch of images with at least ``low[i]`` pixels along spatial axis ``i``."""
    batch = draw(st.integers(1, 2))
    side = 5 if n < 3 else 3  # 3D images stay small: every element costs a gradient probe
    spatial = [draw(st.integers(min(lo, side), side)) for lo in low]
    if data_format == "channels_first":
        shape = (batch, channels, *spatial)
    else:
        shape = (batch, *spatial, channels)
    return draw(array(dtype, shape, UNIT))


def _window_args(draw: st.DrawFn, n: int) -> tuple[Any, Any, str]:
    """Strides and dilation (never both above 1 on one call, as Keras's layers require) and
    a padding mode."""
    if draw(st.booleans()):
        strides, dilation = _spec(draw, n), 1
    else:
        strides, dilation = 1, _spec(draw, n)
    return strides, dilation, draw(st.sampled_from(["valid", "same"]))


def _conv_sample(draw: st.DrawFn, kind: str) -> Sample:
    dtype = draw(st.sampled_from(FLOATS))
    n = draw(SPATIAL_DIMS)
    data_format = draw(st.sampled_from(FORMATS))
    size = _per_axis(_spec(draw, n, 1, 3 if n < 3 else 2), n)  # 3D spans fit in 3 pixels
    strides, dilation, padding = _window_args(draw, n)
    spans = [(k - 1) * d + 1 for k, d in zip(size, _per_axis(dilation, n), strict=True)]
    low = spans if padding == "valid" else [1] * n
    if kind == "conv":
        groups = draw(st.integers(1, 2))
        per_group = draw(st.integers(1, 3 // groups))
        channels = groups * per_group
        filters = groups * draw(st.integers(1, 2))
        kernels = [draw(array(dtype, (*size, per_group, filters), UNIT))]
    else:
        channels = draw(st.integers(1, 3))
        multiplier = draw(st.integers(1, 2))
        kernels = [draw(array(dtype, (*size, channels, multiplier), UNIT))]
        if kind == "separable_conv":
            filters = draw(st.integers(1, 3))
            kernels.append(draw(array(dtype, (*(1,) * n, channels * multiplier, filters), UNIT)))
    x = _image(draw, dtype, n, channels, data_format, low)
    return Sample(
        (x, *kernels),
        {
            "strides": strides,
            "padding": padding,
            "data_format": data_format,
            "dilation_rate": dilation,
        },
    )


def _conv_transpose(draw: st.DrawFn) -> Sample:
    dtype = draw(st.sampled_from(FLOATS))
    n = draw(SPATIAL_DIMS)
    data_format = draw(st.sampled_from(FORMATS))
    size = _spec(draw, n, 1, 3)
    strides, dilation, padding = _window_args(draw, n)
    output_padding = None
    if draw(st.booleans()):
        output_padding = tuple(draw(st.integers(0, s - 1)) for s in _per_axis(strides, n))
    channels, filters = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = draw(array(dtype, (*_per_axis(size, n), filters, channels), UNIT))
    x = _image(draw, dtype, n, channels, data_format, [1] * n)
    kwargs = {
        "strides": strides,
        "padding": padding,
        "output_padding": output_padding,
        "data_format": data_format,
        "dilation_rate": dilation,
    }
    return Sample((x, kernel), kwargs)


def _pool(draw: st.DrawFn) -> Sample:
    dtype = draw(st.sampled_from(FLOATS))
    n = draw(SPATIAL_DIMS)
    data_format = draw(st.sampled_from(FORMATS))
    padding = draw(st.sampled_from(["valid", "same"]))
    pool_size = _spec(draw, n, 1, 3)
    strides = None if draw(st.booleans()) else _spec(draw, n)
    low = _per_axis(pool_size, n) if padding == "valid" else [1] * n
    x = _image(draw, dtype, n, draw(st.integers(1, 3)), data_format, low)
    return Sample((x, pool_size, strides, padding, data_format))


# --- attention ------------------------------------------------------------------------------


def _attention(draw: st.DrawFn) -> Sample:
    dtype = draw(st.sampled_from(FLOATS))
    batch, t, s, h = (draw(st.integers(1, n)) for n in (2, 3, 3, 3))
    kv_heads = draw(st.integers(1, 2))
    heads = kv_heads * draw(st.integers(1, 2))
    query = draw(array(dtype, (batch, t, heads, h), UNIT))
    key = draw(array(dtype, (batch, s, kv_heads, h), UNIT))
    value = draw(array(dtype, (batch, s, kv_heads, h), UNIT))
    bias_shape = draw(st.sampled_from([None, (batch, heads, t, s), (1, 1, t, s), (t, s)]))
    bias = None if bias_shape is None else draw(array(dtype, bias_shape, UNIT))
    kwargs: dict[str, Any] = {
        "scale": draw(st.sampled_from([None, 0.5, 2.0])),
        "is_causal": draw(st.booleans()),
    }
    mask_shape = draw(st.sampled_from([None, (batch, heads, t, s), (batch, 1, 1, s), (t, s)]))
    if mask_shape is not None:
        mask = draw(array("bool", mask_shape))
        mask[..., 0] = True  # every query keeps a key, even under the causal mask
        kwargs["mask"] = mask
    return Sample((query, key, value, bias), kwargs)


RECORDS = (
    OpRecord("relu", unary(NUMERIC)),
    OpRecord("relu6", unary(NUMERIC)),
    OpRecord("sigmoid", unary(NUMERIC)),
    OpRecord("softplus", unary(NUMERIC)),
    OpRecord("softsign", unary(NUMERIC)),
    OpRecord("silu", unary(NUMERIC)),
    OpRecord("gelu", unary(NUMERIC, approximate=st.booleans())),
    OpRecord("elu", unary(NUMERIC, alpha=st.sampled_from([1.0, 0.5, 2.0]))),
    OpRecord("selu", unary(NUMERIC)),
    OpRecord("leaky_relu", unary(NUMERIC, negative_slope=st.sampled_from([0.2, 0.01, 0.5]))),
    OpRecord("hard_sigmoid", unary(NUMERIC)),
    OpRecord("hard_silu", unary(NUMERIC)),
    OpRecord("log_sigmoid", unary(NUMERIC)),
    OpRecord("celu", unary(NUMERIC, alpha=st.sampled_from([1.0, 0.5, 2.0]))),
    OpRecord("glu", custom(_glu)),
    OpRecord("tanh_shrink", unary(NUMERIC)),
    OpRecord("hard_tanh", unary(NUMERIC)),
    OpRecord("soft_shrink", unary(NUMERIC, threshold=st.sampled_from([0.5, 0.0, 2.0]))),
    OpRecord("hard_shrink", unary(NUMERIC, threshold=st.sampled_from([0.5, 0.0, 2.0]))),
    OpRecord("squareplus", unary(NUMERIC, b=st.sampled_from([4, 1.0, 0.25]))),
    OpRecord("sparse_plus", unary(NUMERIC, domain=(-3.0, 3.0))),
    OpRecord("softmax", custom(_softmax)),
    OpRecord("log_softmax", custom(_softmax)),
    OpRecord("one_hot", custom(_one_hot), grad=False),
    OpRecord("multi_hot", custom(_multi_hot), grad=False),
    OpRecord("binary_crossentropy", custom(_binary_crossentropy), grad_args=(0, 1)),
    OpRecord("categorical_crossentropy", custom(_categorical_crossentropy), grad_args=(0, 1)),
    OpRecord(
        "sparse_categorical_crossentropy", custom(_sparse_categorical_crossentropy), grad_args=(1,)
    ),
    # moments returns (mean, variance): the harness's gradient check takes one output only.
    OpRecord("moments", custom(_moments), grad=False),
    OpRecord("batch_normalization", custom(_batch_normalization), grad_args=(0, 1, 2, 4, 5)),
    OpRecord("normalize", custom(_normalize)),
    OpRecord("conv", custom(lambda draw: _conv_sample(draw, "conv")), grad_args=(0, 1)),
    OpRecord(
        "depthwise_conv",
        custom(lambda draw: _conv_sample(draw, "depthwise_conv")),
        grad_args=(0, 1),
    ),
    OpRecord(
        "separable_conv",
        custom(lambda draw: _conv_sample(draw, "separable_conv")),
        grad_args=(0, 1, 2),
    ),
    OpRecord("conv_transpose", custom(_conv_transpose), grad_args=(0, 1)),
    OpRecord("max_pool", custom(_pool)),
    OpRecord("average_pool", custom(_pool)),
    OpRecord("dot_product_attention", custom(_attention), grad_args=(0, 1, 2, 3)),
)

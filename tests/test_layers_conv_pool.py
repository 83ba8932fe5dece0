"""Convolution and pooling layers against Keras 3: outputs with copied weights, output-shape
rules, weights, configs and errors."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras_oracle import keras

import katman
from katman.errors import ShapeError
from katman.plugins.layers import conv, pooling

RNG = np.random.default_rng(99)


def to_numpy(x):
    return np.asarray(katman.ops.convert_to_numpy(x))


def keras_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def ours_class(name):
    return getattr(conv, name, None) or getattr(pooling, name)


def twins(name, kwargs, input_shape):
    """A Keras layer and a katman one of the same config, built on ``input_shape``, the Keras
    layer's random weights copied into the katman one."""
    theirs = getattr(keras.layers, name)(**kwargs)
    ours = ours_class(name)(**kwargs)
    theirs.build(input_shape)
    ours.build(input_shape)
    theirs.set_weights([RNG.normal(size=w.shape).astype(w.dtype) for w in theirs.get_weights()])
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def keras_outputs(theirs, x):
    """Keras's outputs for ``x``. A channels-first convolution runs as its channels-last twin
    (same config and weights) on the transposed input, its output transposed back: the same
    arithmetic, and the only layout TensorFlow's CPU convolutions take unless oneDNN is on,
    which TensorFlow enables by default only on some CPUs."""
    config = theirs.get_config()
    if config.get("data_format") != "channels_first" or "filters" not in config:
        return keras_numpy(theirs(x))
    twin = type(theirs).from_config({**config, "data_format": "channels_last"})
    moved = np.moveaxis(x, 1, -1)
    twin.build(moved.shape)
    twin.set_weights(theirs.get_weights())
    return np.moveaxis(keras_numpy(twin(moved)), -1, 1)


def check_like_keras(theirs, ours, input_shape, rtol=1e-5, atol=1e-5):
    x = RNG.normal(size=input_shape).astype("float32")
    np.testing.assert_allclose(to_numpy(ours(x)), keras_outputs(theirs, x), rtol=rtol, atol=atol)
    assert [(w.name, tuple(w.shape)) for w in ours.weights] == [
        (w.name, tuple(w.shape)) for w in theirs.weights
    ]
    open_batch = (None, *input_shape[1:])
    expected = tuple(theirs.compute_output_shape(open_batch))
    assert ours.compute_output_shape(open_batch) == expected
    assert ours(katman.layers.Input(shape=input_shape[1:])).shape == expected
    config = ours.get_config()
    assert set(config) == set(theirs.get_config())
    rebuilt = type(ours).from_config(json.loads(json.dumps(config)))
    assert json.dumps(rebuilt.get_config()) == json.dumps(config)
    assert set(type(ours).from_config(theirs.get_config()).get_config()) == set(config)


# --- convolutions -----------------------------------------------------------------------------

CONV_CASES = [
    ("Conv2D", {"filters": 3, "kernel_size": 3}, (2, 5, 5, 2)),
    (
        "Conv2D",
        {
            "filters": 4,
            "kernel_size": (3, 2),
            "strides": 2,
            "padding": "same",
            "activation": "relu",
        },
        (2, 6, 5, 3),
    ),
    (
        "Conv2D",
        {"filters": 4, "kernel_size": 3, "groups": 2, "dilation_rate": 2, "use_bias": False},
        (1, 7, 7, 4),
    ),
    ("Conv2D", {"filters": 2, "kernel_size": 2, "data_format": "channels_first"}, (2, 3, 4, 4)),
    ("Conv1D", {"filters": 2, "kernel_size": 3}, (2, 6, 3)),
    (
        "Conv1D",
        {"filters": 2, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
        (2, 7, 3),
    ),
    ("Conv3D", {"filters": 2, "kernel_size": 2, "padding": "same"}, (1, 3, 3, 3, 2)),
    (
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
        (2, 3, 3, 3),
    ),
    (
        "Conv2DTranspose",
        {"filters": 3, "kernel_size": 3, "strides": 2, "output_padding": 1},
        (1, 3, 4, 2),
    ),
    (
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 2, "data_format": "channels_first"},
        (1, 3, 3, 3),
    ),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2}, (2, 4, 3)),
    ("Conv3DTranspose", {"filters": 1, "kernel_size": 2, "strides": 2}, (1, 2, 2, 2, 2)),
]


@pytest.mark.parametrize(("name", "kwargs", "shape"), CONV_CASES)
def test_convolution_matches_keras(name, kwargs, shape):
    theirs, ours = twins(name, kwargs, shape)
    check_like_keras(theirs, ours, shape, rtol=1e-4, atol=1e-4)
    assert re.sub(r"_\d+$", "", ours.name) == re.sub(r"_\d+$", "", theirs.name)


def test_conv2d_kernel_layout_and_defaults():
    layer = conv.Conv2D(8, 3, groups=2)
    layer(np.ones((1, 5, 5, 4), "float32"))
    assert layer.name.startswith("conv2d")
    assert [(w.name, w.shape) for w in layer.weights] == [("kernel", (3, 3, 2, 8)), ("bias", (8,))]
    config = layer.get_config()
    assert config["kernel_size"] == (3, 3) and config["strides"] == (1, 1)
    assert config["data_format"] == katman.config.image_data_format()
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    transpose = conv.Conv2DTranspose(5, 2)
    transpose(np.ones((1, 3, 3, 4), "float32"))
    assert transpose.kernel.shape == (2, 2, 5, 4)  # (kh, kw, filters, channels), as Keras


def _shape_case(draw, rank, transpose):
    size = draw(st.lists(st.integers(1, 9), min_size=rank, max_size=rank))
    kernel = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    dilated = draw(st.booleans())
    strides = (
        [1] * rank if dilated else draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    )
    dilation = draw(st.lists(st.integers(1, 2), min_size=rank, max_size=rank)) if dilated else 1
    padding = draw(st.sampled_from(["valid", "same"]))
    kwargs = {
        "filters": 2,
        "kernel_size": tuple(kernel),
        "strides": tuple(strides),
        "padding": padding,
        "dilation_rate": dilation,
    }
    if transpose and draw(st.booleans()):
        kwargs["output_padding"] = tuple(draw(st.integers(0, s - 1)) for s in strides)
    fmt = draw(st.sampled_from(["channels_last", "channels_first"]))
    kwargs["data_format"] = fmt
    shape = (None, *size, 3) if fmt == "channels_last" else (None, 3, *size)
    return kwargs, shape


@st.composite
def conv_shape_cases(draw):
    name = draw(st.sampled_from(["Conv1D", "Conv2D", "Conv2DTranspose", "Conv1DTranspose"]))
    rank = 1 if name.startswith("Conv1D") else 2
    kwargs, shape = _shape_case(draw, rank, name.endswith("Transpose"))
    return name, kwargs, shape


@settings(max_examples=40, deadline=None)
@given(case=conv_shape_cases())
def test_convolution_output_shape_rule_matches_keras(case):
    name, kwargs, shape = case
    theirs = getattr(keras.layers, name)(**kwargs)
    ours = ours_class(name)(**kwargs)
    try:
        expected = tuple(theirs.compute_output_shape(shape))
    except ValueError:
        expected = None  # Keras rejects inputs smaller than the kernel
    if expected is None or any(d is not None and d <= 0 for d in expected):
        with pytest.raises(ShapeError, match="too small"):
            ours.compute_output_shape(shape)
    else:
        assert ours.compute_output_shape(shape) == expected


def test_convolution_errors_name_the_layer_and_the_shapes():
    layer = conv.Conv2D(2, 3, name="stem")
    with pytest.raises(ShapeError, match=r"'stem'.*expected rank 4.*\(5, 5, 3\)"):
        layer(np.ones((5, 5, 3), "float32"))
    assert not layer.weights
    layer(np.ones((1, 5, 5, 3), "float32"))
    with pytest.raises(ShapeError, match=r"'stem'.*axis -1 of size 3.*\(1, 5, 5, 4\)"):
        layer(np.ones((1, 5, 5, 4), "float32"))
    with pytest.raises(ShapeError, match=r"\(1, 2, 2, 3\) is too small"):
        conv.Conv2D(2, 3)(np.ones((1, 2, 2, 3), "float32"))
    with pytest.raises(ShapeError, match="groups=2"):
        conv.Conv2D(4, 1, groups=2)(np.ones((1, 2, 2, 3), "float32"))
    with pytest.raises(ValueError, match="divisible"):
        conv.Conv2D(3, 1, groups=2)
    with pytest.raises(ValueError, match="strides"):
        conv.Conv2D(3, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="padding"):
        conv.Conv2D(3, 3, padding="causal")
    with pytest.raises(ValueError, match="output_padding"):
        conv.Conv2DTranspose(3, 3, strides=2, output_padding=2)


# --- pooling ----------------------------------------------------------------------------------

POOL_CASES = [
    ("MaxPooling2D", {}, (2, 5, 5, 3)),
    ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (1, 5, 6, 2)),
    ("MaxPooling2D", {"data_format": "channels_first"}, (1, 2, 4, 5)),
    ("AveragePooling2D", {"pool_size": (2, 3)}, (2, 4, 6, 2)),
    ("AveragePooling2D", {"pool_size": 2, "strides": 1}, (1, 4, 4, 3)),
    ("MaxPooling1D", {"pool_size": 3, "padding": "same"}, (2, 7, 2)),
    ("AveragePooling1D", {"pool_size": 2}, (2, 6, 3)),
    ("MaxPooling3D", {}, (1, 4, 4, 4, 1)),
    ("AveragePooling3D", {"pool_size": 2}, (1, 4, 2, 4, 2)),
    ("GlobalAveragePooling2D", {}, (2, 3, 4, 5)),
    ("GlobalAveragePooling2D", {"keepdims": True, "data_format": "channels_first"}, (2, 3, 4, 5)),
    ("GlobalMaxPooling2D", {}, (2, 3, 4, 5)),
    ("GlobalAveragePooling1D", {}, (2, 5, 3)),
    ("GlobalMaxPooling1D", {"keepdims": True}, (2, 5, 3)),
    ("GlobalAveragePooling3D", {}, (1, 2, 3, 2, 2)),
    ("GlobalMaxPooling3D", {"data_format": "channels_first"}, (1, 2, 3, 2, 2)),
]


@pytest.mark.parametrize(("name", "kwargs", "shape"), POOL_CASES)
def test_pooling_matches_keras(name, kwargs, shape):
    theirs, ours = twins(name, kwargs, shape)
    check_like_keras(theirs, ours, shape, rtol=1e-6, atol=1e-6)
    assert re.sub(r"_\d+$", "", ours.name) == re.sub(r"_\d+$", "", theirs.name)


def numpy_average_pool_same(x, pool, strides):
    """TensorFlow's 'same' average pooling (the mean of the values inside the image) of a
    channels-last 2D batch, one window at a time."""
    height, width = x.shape[1:3]
    out_h, out_w = -(-height // strides[0]), -(-width // strides[1])
    top = max((out_h - 1) * strides[0] + pool[0] - height, 0) // 2
    left = max((out_w - 1) * strides[1] + pool[1] - width, 0) // 2
    out = np.zeros((x.shape[0], out_h, out_w, x.shape[3]), "float64")
    for i, j in itertools.product(range(out_h), range(out_w)):
        rows = slice(max(i * strides[0] - top, 0), min(i * strides[0] - top + pool[0], height))
        cols = slice(max(j * strides[1] - left, 0), min(j * strides[1] - left + pool[1], width))
        out[:, i, j] = x[:, rows, cols].mean(axis=(1, 2))
    return out


def test_average_pooling_same_padding_averages_only_real_values():
    # Keras's torch backend counts the padding in border windows; Keras on jax and
    # tensorflow (and TensorFlow itself) do not. katman follows the latter on every backend.
    x = RNG.normal(size=(2, 5, 6, 2)).astype("float32")
    layer = pooling.AveragePooling2D(pool_size=3, strides=2, padding="same")
    expected = numpy_average_pool_same(x.astype("float64"), (3, 3), (2, 2))
    np.testing.assert_allclose(to_numpy(layer(x)), expected, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((None, 5, 6, 2)) == (None, 3, 3, 2)


def numpy_max_pool_gradient(x, pool, upstream):
    """The gradient of ``sum(max_pool(x) * upstream)`` for non-overlapping 2D windows
    (strides = pool size, 'valid'): each window's first maximum, in row-major order, takes
    the window's upstream value; rows and columns no window covers get nothing."""
    grad = np.zeros_like(x)
    for b, i, j, c in itertools.product(*[range(d) for d in upstream.shape]):
        window = x[b, i * pool[0] : (i + 1) * pool[0], j * pool[1] : (j + 1) * pool[1], c]
        r, q = np.unravel_index(np.argmax(window), window.shape)
        grad[b, i * pool[0] + r, j * pool[1] + q, c] = upstream[b, i, j, c]
    return grad


@pytest.mark.parametrize("pool", [(2, 2), (3, 2)])
def test_max_pooling_gradient_goes_to_the_first_maximum_of_each_window(pool):
    # Ties are common after a ReLU (and exact in quantized data): the gradient must not be
    # split between them or duplicated. The odd sides leave cropped rows and columns.
    x = RNG.integers(0, 3, size=(2, 7, 5, 3)).astype("float32")
    upstream = RNG.normal(size=(2, 7 // pool[0], 5 // pool[1], 3)).astype("float32")
    backend = katman.backend.get_backend()

    def objective(x):
        pooled = katman.ops.max_pool(x, pool, padding="valid")
        return katman.ops.sum(katman.ops.multiply(pooled, upstream))

    _, (grad,) = backend.value_and_grad(objective, x)
    expected = numpy_max_pool_gradient(x, pool, upstream)
    np.testing.assert_allclose(to_numpy(grad), expected, rtol=1e-6, atol=1e-6)


@st.composite
def pool_shape_cases(draw):
    rank = draw(st.integers(1, 2))
    size = draw(st.lists(st.integers(1, 8), min_size=rank, max_size=rank))
    pool = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    strides = draw(st.none() | st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    padding = draw(st.sampled_from(["valid", "same"]))
    name = draw(st.sampled_from(["MaxPooling", "AveragePooling"])) + f"{rank}D"
    kwargs = {"pool_size": tuple(pool), "strides": strides and tuple(strides), "padding": padding}
    return name, kwargs, (None, *size, 2)


@settings(max_examples=30, deadline=None)
@given(case=pool_shape_cases())
def test_pooling_output_shape_rule_matches_keras(case):
    name, kwargs, shape = case
    try:
        expected = tuple(getattr(keras.layers, name)(**kwargs).compute_output_shape(shape))
    except ValueError:
        expected = None  # Keras rejects inputs smaller than the window
    ours = getattr(pooling, name)(**kwargs)
    if expected is None or any(d is not None and d <= 0 for d in expected):
        with pytest.raises(ShapeError, match="smaller than"):
            ours.compute_output_shape(shape)
    else:
        assert ours.compute_output_shape(shape) == expected


def test_global_average_pooling_1d_with_a_mask_matches_keras():
    x = RNG.normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[True, True, False, False], [True, False, True, True]])
    ours, theirs = pooling.GlobalAveragePooling1D(), keras.layers.GlobalAveragePooling1D()
    np.testing.assert_allclose(
        to_numpy(ours(x, mask=mask)), keras_numpy(theirs(x, mask=mask)), rtol=1e-6
    )
    assert ours.compute_mask(x, mask) is None


def test_pooling_errors_name_the_layer_and_the_shapes():
    layer = pooling.MaxPooling2D(name="pool")
    with pytest.raises(ShapeError, match=r"'pool'.*expected rank 4.*\(4, 4\)"):
        layer(np.ones((4, 4), "float32"))
    with pytest.raises(ShapeError, match=r"smaller than pool_size=\(3, 3\)"):
        pooling.MaxPooling2D(3)(np.ones((1, 2, 5, 1), "float32"))
    with pytest.raises(ShapeError, match="expected rank 3"):
        pooling.GlobalAveragePooling1D()(np.ones((1, 2, 5, 1), "float32"))
    with pytest.raises(ValueError, match="pool_size"):
        pooling.MaxPooling2D((2, 2, 2))
    with pytest.raises(ValueError, match="data_format"):
        pooling.GlobalMaxPooling2D(data_format="nhwc")


def test_conv_and_pool_layers_build_a_small_functional_graph():
    inputs = katman.layers.Input(shape=(8, 8, 3))
    x = conv.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = pooling.MaxPooling2D()(x)
    x = conv.Conv2DTranspose(2, 3, strides=2, padding="same")(x)
    x = pooling.GlobalAveragePooling2D()(x)
    assert x.shape == (None, 2)

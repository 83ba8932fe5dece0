"""The built-in activations against keras.activations on the same inputs, their names,
``get``, and serialization."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras_oracle import keras

import katman
from katman import activations, ops

# (name, keyword arguments) for every activation, and its options.
CASES = (
    ("relu", {}),
    ("relu", {"negative_slope": 0.1}),
    ("relu", {"max_value": 6.0}),
    ("relu", {"max_value": 2.5}),
    ("relu", {"threshold": 0.5}),
    ("relu", {"threshold": -1.0, "max_value": 3.0}),
    ("relu", {"negative_slope": 0.3, "max_value": 4.0}),
    ("relu", {"negative_slope": 0.2, "threshold": 1.0}),
    ("relu", {"negative_slope": 0.5, "max_value": 2.0, "threshold": -0.5}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.01}),
    ("relu6", {}),
    ("softmax", {}),
    ("softmax", {"axis": 0}),
    ("log_softmax", {}),
    ("log_softmax", {"axis": 1}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("selu", {}),
    ("celu", {}),
    ("celu", {"alpha": 2.0}),
    ("softplus", {}),
    ("softsign", {}),
    ("squareplus", {}),
    ("squareplus", {"b": 1.0}),
    ("sparse_plus", {}),
    ("silu", {}),
    ("swish", {}),
    ("gelu", {}),
    ("gelu", {"approximate": True}),
    ("glu", {}),
    ("glu", {"axis": 0}),
    ("tanh", {}),
    ("tanh_shrink", {}),
    ("hard_tanh", {}),
    ("hard_shrink", {}),
    ("hard_shrink", {"threshold": 1.0}),
    ("soft_shrink", {}),
    ("soft_shrink", {"threshold": 0.2}),
    ("threshold", {"threshold": 0.3, "default_value": -1.0}),
    ("sigmoid", {}),
    ("log_sigmoid", {}),
    ("sparse_sigmoid", {}),
    ("exponential", {}),
    ("hard_sigmoid", {}),
    ("hard_silu", {}),
    ("hard_swish", {}),
    ("mish", {}),
    ("linear", {}),
    ("sparsemax", {}),
    ("sparsemax", {"axis": 0}),
)

# Keras's own name table: every name its activations.get accepts.
KERAS_NAMES = sorted(keras.src.activations.ALL_OBJECTS_DICT)


def numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


def sample(shape=(6, 8), seed=0):
    """Values in [-5, 5], plus the points where piecewise activations switch."""
    values = np.random.default_rng(seed).uniform(-5, 5, size=shape).astype("float32")
    corners = np.array([-6, -3, -1, -0.5, 0, 0.3, 0.5, 1, 3, 6], dtype="float32")
    values.flat[: corners.size] = corners
    return values


def keras_result(name, x, kwargs):
    function = keras.activations.get(name)
    return np.asarray(
        keras.ops.convert_to_numpy(function(keras.ops.convert_to_tensor(x), **kwargs))
    )


@pytest.mark.parametrize(
    "name, kwargs", CASES, ids=[f"{n}-{'-'.join(map(str, k.values()))}" for n, k in CASES]
)
def test_equals_keras(name, kwargs):
    x = sample()
    got = activations.get(name)(ops.convert_to_tensor(x), **kwargs)
    assert ops.dtype(got) == "float32"
    np.testing.assert_allclose(numpy(got), keras_result(name, x, kwargs), rtol=1e-5, atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(
    slope=st.sampled_from([0.0, 0.1, 0.5]),
    max_value=st.sampled_from([None, 1.0, 6.0]),
    threshold=st.sampled_from([0.0, -1.0, 0.7]),
    seed=st.integers(0, 100),
)
def test_relu_options_equal_keras(slope, max_value, threshold, seed):
    kwargs = {"negative_slope": slope, "max_value": max_value, "threshold": threshold}
    x = sample((5, 4), seed)
    got = activations.relu(ops.convert_to_tensor(x), **kwargs)
    np.testing.assert_allclose(numpy(got), keras_result("relu", x, kwargs), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "softmax", "gelu", "mish", "sparsemax"])
def test_accepts_numpy_and_variables(name):
    x = sample((3, 4))
    function = activations.get(name)
    want = keras_result(name, x, {})
    np.testing.assert_allclose(numpy(function(katman.Variable(x))), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name", ["relu", "softmax", "gelu", "mish", "threshold", "hard_swish", "sparse_sigmoid"]
)
def test_symbolic(name):
    x = katman.KerasTensor((None, 5), "float32")
    kwargs = {"threshold": 0.0, "default_value": 0.0} if name == "threshold" else {}
    y = activations.get(name)(x, **kwargs)
    assert tuple(y.shape) == (None, 5)
    assert y.dtype == "float32"


# --- names, get, serialization -----------------------------------------------------------------


@pytest.mark.parametrize("name", KERAS_NAMES)
def test_every_keras_name_is_registered(name):
    if name == "threshold":  # not unary, but registered under the same name
        assert activations.get(name) is activations.threshold
        return
    expected = keras.src.activations.ALL_OBJECTS_DICT[name].__name__
    assert activations.get(name).__name__ == expected


def test_get():
    assert activations.get("relu") is activations.relu
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu
    custom = lambda x: x  # noqa: E731
    assert activations.get(custom) is custom
    assert activations.get(activations.tanh) is activations.tanh


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="reluu") as error:
        activations.get("reluu")
    message = str(error.value)
    for known in ("relu", "softmax", "swish"):
        assert known in message


@pytest.mark.parametrize("name", sorted({name for name, _ in CASES}))
def test_serialize_round_trip(name):
    function = activations.get(name)
    config = json.loads(json.dumps(activations.serialize(function)))
    assert activations.deserialize(config) is function
    assert activations.get(config) is function
    assert activations.deserialize(name) is function


def test_serialize_unregistered_function():
    with pytest.raises(ValueError, match="not a registered activation"):
        activations.serialize(lambda x: x)


def test_relu_options_symbolic():
    x = katman.KerasTensor((None, 5), "float16")
    y = activations.relu(x, negative_slope=0.1, max_value=2.0, threshold=0.5)
    assert (tuple(y.shape), y.dtype) == ((None, 5), "float16")


def test_float16_keeps_its_dtype():
    x = ops.convert_to_tensor(sample((4, 6)).astype("float16"))
    for name, kwargs in CASES:
        assert ops.dtype(activations.get(name)(x, **kwargs)) == "float16", name


def test_sparsemax_needs_a_known_axis():
    with pytest.raises(katman.errors.ShapeError, match="sparsemax needs a known size"):
        activations.sparsemax(katman.KerasTensor((2, None), "float32"))


def test_get_none_is_linear_as_in_keras():
    assert katman.activations.get(None) is katman.activations.get("linear")


def test_symbolic_op_with_a_concrete_tensor_argument():
    x = katman.KerasTensor((None, 3))
    out = katman.ops.greater(x, katman.ops.cast(0.3, "float32"))
    assert out.shape == (None, 3) and out.dtype == "bool"

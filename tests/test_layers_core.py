"""The core layers (Dense, Activation, Dropout, Flatten, Reshape, Embedding, Identity) against
Keras 3: outputs with copied weights, symbolic shapes, weights, configs and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras_oracle import keras

import katman
from katman.errors import ShapeError
from katman.plugins.layers import core

RNG = np.random.default_rng(1234)


def to_numpy(x):
    return np.asarray(katman.ops.convert_to_numpy(x))


def keras_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def random_weights(layer):
    """Give a built Keras layer random (non-default) weights."""
    layer.set_weights([RNG.normal(size=w.shape).astype(w.dtype) for w in layer.get_weights()])


def twins(name, kwargs, input_shape):
    """A Keras layer and a katman layer of the same config, built on ``input_shape``, with the
    Keras layer's (random) weights copied into the katman one."""
    theirs = getattr(keras.layers, name)(**kwargs)
    ours = getattr(katman.layers, name)(**kwargs)
    theirs.build(input_shape)
    ours.build(input_shape)
    random_weights(theirs)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def check_weights_like_keras(theirs, ours):
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert [w.name for w in ours.trainable_weights] == [w.name for w in theirs.trainable_weights]
    assert [w.name for w in ours.non_trainable_weights] == [
        w.name for w in theirs.non_trainable_weights
    ]


def check_config(theirs, ours):
    """Keras's config keys, JSON-able, and a from_config round trip."""
    config = ours.get_config()
    assert set(config) == set(theirs.get_config())
    json.dumps(config)
    rebuilt = type(ours).from_config(json.loads(json.dumps(config)))
    assert json.dumps(rebuilt.get_config()) == json.dumps(config)
    # Keras's own config builds the same layer.
    from_keras = type(ours).from_config(theirs.get_config())
    assert set(from_keras.get_config()) == set(config)


# --- Dense ------------------------------------------------------------------------------------

DENSE_CASES = [
    ({"units": 3}, (2, 4)),
    ({"units": 2, "activation": "relu"}, (2, 5)),
    ({"units": 4, "use_bias": False, "activation": "tanh"}, (2, 3)),
    ({"units": 3, "activation": "sigmoid"}, (2, 2, 4)),  # rank 3: on the last axis
]


@pytest.mark.parametrize(("kwargs", "shape"), DENSE_CASES)
def test_dense_matches_keras(kwargs, shape):
    theirs, ours = twins("Dense", kwargs, shape)
    x = RNG.normal(size=shape).astype("float32")
    np.testing.assert_allclose(to_numpy(ours(x)), keras_numpy(theirs(x)), rtol=1e-5, atol=1e-6)
    check_weights_like_keras(theirs, ours)
    check_config(theirs, ours)
    symbolic = ours(katman.layers.Input(shape=shape[1:]))
    assert symbolic.shape == tuple(theirs.compute_output_shape((None, *shape[1:])))
    assert ours.compute_output_shape(shape) == tuple(theirs.compute_output_shape(shape))


def test_dense_defaults_and_weight_order():
    layer = katman.layers.Dense(5)
    assert layer.name.startswith("dense")
    layer(np.ones((2, 3), "float32"))
    assert [(w.name, w.shape, w.trainable) for w in layer.weights] == [
        ("kernel", (3, 5), True),
        ("bias", (5,), True),
    ]
    np.testing.assert_array_equal(to_numpy(layer.bias), np.zeros(5, "float32"))
    config = layer.get_config()
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert config["bias_initializer"]["class_name"] == "Zeros"
    assert config["activation"] == "linear"


def test_dense_regularizers_constraints_and_losses():
    kwargs = {
        "units": 2,
        "kernel_regularizer": "l2",
        "bias_regularizer": "l1",
        "activity_regularizer": "l2",
        "kernel_constraint": "non_neg",
    }
    theirs, ours = twins("Dense", kwargs, (2, 3))
    x = RNG.normal(size=(2, 3)).astype("float32")
    ours(x)
    theirs(x)
    ours_losses = sorted(float(to_numpy(v)) for v in ours.losses)
    theirs_losses = sorted(float(keras_numpy(v)) for v in theirs.losses)
    np.testing.assert_allclose(ours_losses, theirs_losses, rtol=1e-5)
    assert ours.kernel.constraint is not None
    config = ours.get_config()
    assert config["kernel_regularizer"]["class_name"] == "L2"
    assert config["activity_regularizer"]["class_name"] == "L2"
    rebuilt = katman.layers.Dense.from_config(config)
    assert type(rebuilt.kernel_constraint).__name__ == "NonNeg"


def test_dense_mixed_precision_like_keras():
    theirs, ours = twins("Dense", {"units": 3, "dtype": "mixed_float16"}, (2, 4))
    x = RNG.normal(size=(2, 4)).astype("float32")
    out = ours(x)
    assert katman.ops.dtype(out) == "float16"
    assert ours.kernel.dtype == "float32"
    np.testing.assert_allclose(
        to_numpy(out).astype("float32"),
        keras_numpy(theirs(x)).astype("float32"),
        rtol=2e-3,
        atol=2e-3,
    )


def test_dense_errors_name_the_layer_and_the_shapes():
    layer = katman.layers.Dense(3, name="head")
    with pytest.raises(ShapeError, match=r"'head'.*rank of at least 2.*\(4,\)"):
        layer(np.ones((4,), "float32"))
    assert not layer.weights  # a failed first call builds nothing
    layer(np.ones((2, 4), "float32"))
    with pytest.raises(ShapeError, match=r"'head'.*axis -1 of size 4.*\(2, 5\)"):
        layer(np.ones((2, 5), "float32"))
    with pytest.raises(ShapeError, match=r"'head'.*axis -1 of size 4.*\(None, 6\)"):
        layer(katman.layers.Input(shape=(6,)))
    with pytest.raises(ValueError, match="units"):
        katman.layers.Dense(0)


# --- Activation, Identity ---------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "softmax", "tanh", "linear"])
def test_activation_matches_keras(activation):
    theirs = keras.layers.Activation(activation)
    ours = katman.layers.Activation(activation)
    x = RNG.normal(size=(2, 5)).astype("float32")
    np.testing.assert_allclose(to_numpy(ours(x)), keras_numpy(theirs(x)), rtol=1e-5, atol=1e-6)
    assert ours.get_config()["activation"] == theirs.get_config()["activation"]
    check_config(theirs, ours)
    assert ours(katman.layers.Input(shape=(5,))).shape == (None, 5)


def test_activation_accepts_a_callable():
    layer = katman.layers.Activation(katman.activations.get("relu"))
    np.testing.assert_array_equal(to_numpy(layer(np.array([[-1.0, 2.0]], "float32"))), [[0, 2]])
    assert layer.get_config()["activation"] == "relu"


def test_identity_returns_inputs_and_keeps_dtypes():
    layer = katman.layers.Identity()
    x = RNG.normal(size=(2, 3)).astype("float32")
    np.testing.assert_array_equal(to_numpy(layer(x)), x)
    ints = katman.layers.Input(shape=(3,), dtype="int32")
    out = layer([ints, katman.layers.Input(shape=(2,))])
    assert [(t.shape, t.dtype) for t in out] == [((None, 3), "int32"), ((None, 2), "float32")]
    check_config(keras.layers.Identity(), layer)


# --- Dropout ----------------------------------------------------------------------------------


def test_dropout_is_identity_at_inference():
    layer = katman.layers.Dropout(0.5, seed=1)
    x = RNG.normal(size=(4, 6)).astype("float32")
    np.testing.assert_array_equal(to_numpy(layer(x)), x)
    np.testing.assert_array_equal(to_numpy(layer(x, training=False)), x)
    assert layer(katman.layers.Input(shape=(6,))).shape == (None, 6)


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_dropout_in_training_keeps_the_right_fraction_and_scales(rate):
    layer = katman.layers.Dropout(rate, seed=7)
    x = np.ones((40, 50), "float32")
    out = to_numpy(layer(x, training=True))
    kept = out != 0
    assert abs(kept.mean() - (1 - rate)) < 0.05
    np.testing.assert_allclose(out[kept], 1 / (1 - rate), rtol=1e-6)


def test_dropout_seed_makes_masks_reproducible_and_calls_differ():
    x = np.ones((8, 16), "float32")
    first, second = katman.layers.Dropout(0.5, seed=42), katman.layers.Dropout(0.5, seed=42)
    a1, a2 = to_numpy(first(x, training=True)), to_numpy(first(x, training=True))
    b1 = to_numpy(second(x, training=True))
    np.testing.assert_array_equal(a1, b1)
    assert not np.array_equal(a1, a2)  # the generator moved on
    assert first.seed_generator.counter == 2


def test_dropout_state_is_a_variable_that_training_calls_advance():
    layer = katman.layers.Dropout(0.5, seed=3)
    state = layer.seed_generator.state
    assert layer.variables == [state]  # what a compiled training step carries and updates
    assert layer.weights == []
    x = np.ones((4, 4), "float32")
    layer(x)
    assert int(state.numpy()[1]) == 0  # inference draws no mask
    layer(x, training=True)
    layer(x, training=True)
    assert int(state.numpy()[1]) == 2


def test_dropout_noise_shape_broadcasts_the_mask():
    layer = katman.layers.Dropout(0.5, noise_shape=(None, 1, 6), seed=5)
    out = to_numpy(layer(np.ones((3, 4, 6), "float32"), training=True))
    assert (out == out[:, :1, :]).all()  # one mask for every step


def test_dropout_config_and_errors():
    theirs = keras.layers.Dropout(0.3, noise_shape=(None, 2), seed=9)
    ours = katman.layers.Dropout(0.3, noise_shape=(None, 2), seed=9)
    check_config(theirs, ours)
    assert ours.get_config()["noise_shape"] == [None, 2]
    assert katman.layers.Dropout(0.0).variables == []  # rate 0: no generator, as in Keras
    with pytest.raises(ValueError, match="rate"):
        katman.layers.Dropout(1.5)
    with pytest.raises(ValueError, match="noise_shape"):
        katman.layers.Dropout(0.5, noise_shape="abc")


# --- Flatten, Reshape -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [({}, (2, 3, 4)), ({"data_format": "channels_first"}, (2, 3, 2, 2)), ({}, (3,))],
)
def test_flatten_matches_keras(kwargs, shape):
    theirs, ours = keras.layers.Flatten(**kwargs), katman.layers.Flatten(**kwargs)
    x = RNG.normal(size=shape).astype("float32")
    np.testing.assert_array_equal(to_numpy(ours(x)), keras_numpy(theirs(x)))
    check_config(theirs, ours)
    if len(shape) > 1:
        symbolic = ours(katman.layers.Input(shape=shape[1:], dtype="int32"))
        assert symbolic.shape == tuple(theirs.compute_output_shape((None, *shape[1:])))
        assert symbolic.dtype == "int32"


@pytest.mark.parametrize("target", [(6, 2), (-1, 3), (2, -1, 2), (12,)])
def test_reshape_matches_keras(target):
    theirs, ours = keras.layers.Reshape(target), katman.layers.Reshape(target)
    x = RNG.normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_array_equal(to_numpy(ours(x)), keras_numpy(theirs(x)))
    assert ours.compute_output_shape((None, 3, 4)) == tuple(
        theirs.compute_output_shape((None, 3, 4))
    )
    assert ours(katman.layers.Input(shape=(3, 4))).shape == ours.compute_output_shape((None, 3, 4))
    check_config(theirs, ours)


@settings(max_examples=15)
@given(
    dims=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    split=st.integers(0, 3),
    infer=st.booleans(),
)
def test_reshape_output_shape_rule_matches_keras(dims, split, infer):
    size = int(np.prod(dims))
    target = [size] if split == 0 else [d for d in dims]
    if infer:
        target[0] = -1
    theirs, ours = keras.layers.Reshape(tuple(target)), katman.layers.Reshape(tuple(target))
    sample = (size,)
    assert ours.compute_output_shape((None, *sample)) == tuple(
        theirs.compute_output_shape((None, *sample))
    )


def test_reshape_errors():
    layer = katman.layers.Reshape((5, -1), name="reshaper")
    with pytest.raises(ShapeError, match=r"'reshaper'.*\(3, 4\).*\(5, -1\)"):
        layer(np.ones((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="target_shape"):
        katman.layers.Reshape((-1, -1))


# --- Embedding --------------------------------------------------------------------------------


EMBEDDING_CASES = [
    ({"input_dim": 6, "output_dim": 3}, (2, 4)),
    ({"input_dim": 5, "output_dim": 2, "mask_zero": True}, (3,)),
]


@pytest.mark.parametrize(("kwargs", "shape"), EMBEDDING_CASES)
def test_embedding_matches_keras(kwargs, shape):
    theirs, ours = twins("Embedding", kwargs, shape)
    x = RNG.integers(0, kwargs["input_dim"], size=shape).astype("int32")
    x.flat[0] = 0
    np.testing.assert_allclose(to_numpy(ours(x)), keras_numpy(theirs(x)), rtol=1e-6)
    check_weights_like_keras(theirs, ours)
    check_config(theirs, ours)
    mask, keras_mask = ours.compute_mask(x), theirs.compute_mask(x)
    assert (mask is None) == (keras_mask is None)
    if mask is not None:
        np.testing.assert_array_equal(to_numpy(mask), keras_numpy(keras_mask))
    symbolic = ours(katman.layers.Input(shape=shape[1:], dtype="int32"))
    assert symbolic.shape == tuple(theirs.compute_output_shape((None, *shape[1:])))
    assert symbolic.dtype == "float32"


def test_embedding_defaults_and_initial_weights():
    layer = katman.layers.Embedding(4, 2)
    config = layer.get_config()
    assert config["embeddings_initializer"]["class_name"] == "RandomUniform"
    assert config["embeddings_initializer"]["config"]["minval"] == -0.05
    table = RNG.normal(size=(4, 2)).astype("float32")
    preset = katman.layers.Embedding(4, 2, weights=[table])
    np.testing.assert_array_equal(to_numpy(preset(np.array([3, 1]))), table[[3, 1]])
    # Float indices are cast to integers, as in Keras.
    np.testing.assert_array_equal(to_numpy(preset(np.array([2.0]))), table[[2]])
    with pytest.raises(ValueError, match="output_dim"):
        katman.layers.Embedding(4, 0)


# --- registration, serialization, user layers -------------------------------------------------


def test_layers_resolve_through_the_registry_and_serialize():
    assert katman.layers.Dense is core.Dense
    registry = katman.registry.get_registry()
    assert registry.load("layer", "InputLayer") is katman.layers.InputLayer
    layer = katman.layers.Dense(2, activation="relu", name="out")
    config = katman.layers.serialize(layer)
    assert config["class_name"] == "Dense"
    rebuilt = katman.layers.deserialize(json.loads(json.dumps(config)))
    assert isinstance(rebuilt, core.Dense)
    assert rebuilt.get_config() == layer.get_config()


def test_default_names_follow_keras():
    assert core.keras_name(core.Dense) == "dense"
    assert core.keras_name(type("Conv2DTranspose", (), {})) == "conv2d_transpose"
    assert core.keras_name(type("GlobalAveragePooling2D", (), {})) == "global_average_pooling2d"


class KatmanScaledDense(katman.layers.Layer):
    """A user layer: a weight of its own, created in build, and a Dense inside."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = katman.layers.Dense(units, activation="relu")

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, inputs):
        return self.dense(katman.ops.multiply(inputs, self.scale))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class KerasScaledDense(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(units, activation="relu")

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, inputs):
        return self.dense(keras.ops.multiply(inputs, self.scale))


def test_user_layer_with_add_weight_and_a_nested_dense_matches_keras():
    x = RNG.normal(size=(3, 4)).astype("float32")
    ours, theirs = KatmanScaledDense(2), KerasScaledDense(2)
    ours(x)
    theirs(x)
    assert [w.name for w in ours.weights] == ["scale", "kernel", "bias"]
    random_weights(theirs)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(to_numpy(ours(x)), keras_numpy(theirs(x)), rtol=1e-5, atol=1e-6)
    assert ours(katman.layers.Input(shape=(4,))).shape == (None, 2)
    assert KatmanScaledDense.from_config(ours.get_config()).units == 2

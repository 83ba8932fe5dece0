"""BatchNormalization, LayerNormalization and the merging layers against Keras 3: outputs
and moving statistics with copied weights, shapes, weights, configs, masks and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from keras_oracle import keras

import katman
from katman.errors import ShapeError
from katman.plugins.layers import merging, normalization

RNG = np.random.default_rng(7)


def to_numpy(x):
    return np.asarray(katman.ops.convert_to_numpy(x))


def keras_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def normalization_twins(name, kwargs, input_shape):
    """Keras and katman layers built on ``input_shape`` sharing random positive weights."""
    theirs = getattr(keras.layers, name)(**kwargs)
    ours = getattr(normalization, name)(**kwargs)
    theirs.build(input_shape)
    ours.build(input_shape)
    weights = [RNG.uniform(0.5, 1.5, size=w.shape).astype("float32") for w in theirs.weights]
    theirs.set_weights(weights)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def check_config(theirs, ours):
    config = ours.get_config()
    assert set(config) == set(theirs.get_config())
    rebuilt = type(ours).from_config(json.loads(json.dumps(config)))
    assert json.dumps(rebuilt.get_config()) == json.dumps(config)
    assert set(type(ours).from_config(theirs.get_config()).get_config()) == set(config)


def check_weights(theirs, ours):
    names = [w.name for w in theirs.weights]
    assert [w.name for w in ours.weights] == names
    assert [w.name for w in ours.trainable_weights] == [w.name for w in theirs.trainable_weights]
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]


# --- BatchNormalization -----------------------------------------------------------------------

BN_CASES = [
    ({}, (6, 3)),
    ({"axis": 1, "momentum": 0.9}, (4, 3, 2, 2)),
    ({"center": False, "scale": False, "epsilon": 1e-2}, (5, 4)),
    ({"momentum": 0.5}, (3, 2, 4)),
    (
        {
            "renorm": True,
            "renorm_clipping": {"rmax": 1.5, "rmin": 0.5, "dmax": 0.4},
            "renorm_momentum": 0.8,
            "momentum": 0.7,
        },
        (6, 3),
    ),
]


@pytest.mark.parametrize(("kwargs", "shape"), BN_CASES)
def test_batch_normalization_matches_keras_in_training_and_inference(kwargs, shape):
    theirs, ours = normalization_twins("BatchNormalization", kwargs, shape)
    check_weights(theirs, ours)
    for _ in range(3):
        x = (RNG.normal(size=shape) * 2 + 1).astype("float32")
        np.testing.assert_allclose(
            to_numpy(ours(x, training=True)),
            keras_numpy(theirs(x, training=True)),
            rtol=1e-5,
            atol=1e-5,
        )
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-5, atol=1e-6)
    x = RNG.normal(size=shape).astype("float32")
    np.testing.assert_allclose(to_numpy(ours(x)), keras_numpy(theirs(x)), rtol=1e-5, atol=1e-5)
    open_batch = (None, *shape[1:])
    assert ours(katman.layers.Input(shape=shape[1:])).shape == open_batch
    assert ours.compute_output_shape(open_batch) == tuple(theirs.compute_output_shape(open_batch))
    check_config(theirs, ours)


def test_batch_normalization_weights_and_defaults():
    layer = normalization.BatchNormalization()
    layer(np.ones((2, 3), "float32"))
    assert [(w.name, w.trainable) for w in layer.weights] == [
        ("gamma", True),
        ("beta", True),
        ("moving_mean", False),
        ("moving_variance", False),
    ]
    np.testing.assert_array_equal(layer.get_weights()[0], np.ones(3))
    np.testing.assert_array_equal(layer.get_weights()[2], np.zeros(3))
    config = layer.get_config()
    assert (config["axis"], config["momentum"], config["epsilon"]) == (-1, 0.99, 1e-3)


def test_frozen_batch_normalization_runs_in_inference_mode_like_keras():
    theirs, ours = normalization_twins("BatchNormalization", {}, (4, 3))
    theirs.trainable = False
    ours.trainable = False
    before = ours.get_weights()
    x = (RNG.normal(size=(4, 3)) * 3).astype("float32")
    out = to_numpy(ours(x, training=True))
    np.testing.assert_allclose(out, keras_numpy(theirs(x, training=True)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, to_numpy(ours(x, training=False)), rtol=1e-6)
    for old, new in zip(before, ours.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    assert ours.trainable_weights == []


def test_batch_normalization_with_a_mask_matches_keras():
    theirs, ours = normalization_twins("BatchNormalization", {"momentum": 0.5}, (2, 4, 3))
    x = RNG.normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[True, True, False, True], [False, True, True, True]])
    np.testing.assert_allclose(
        to_numpy(ours(x, training=True, mask=mask)),
        keras_numpy(theirs(x, training=True, mask=mask)),
        rtol=1e-5,
        atol=1e-5,
    )
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-5, atol=1e-6)


def test_batch_normalization_mixed_precision_like_keras():
    kwargs = {"dtype": "mixed_float16"}
    theirs, ours = normalization_twins("BatchNormalization", kwargs, (4, 3))
    x = RNG.normal(size=(4, 3)).astype("float32")
    out = ours(x, training=True)
    assert katman.ops.dtype(out) == "float16"
    assert ours.moving_mean.dtype == "float32"
    np.testing.assert_allclose(
        to_numpy(out).astype("float32"),
        keras_numpy(theirs(x, training=True)).astype("float32"),
        rtol=2e-3,
        atol=2e-3,
    )


def test_batch_normalization_op_differentiates_whatever_its_arguments_depend_on():
    # With fixed statistics a backend may normalize in one framework call; the gradient must
    # still reach x, scale and offset, and when the statistics are computed from x (the
    # masked or renormalized training path), flow through them as well.
    ops, backend = katman.ops, katman.backend.get_backend()
    x0 = RNG.standard_normal((3, 2, 4)).astype("float32")
    stats = [RNG.standard_normal(4).astype("float32"), RNG.uniform(0.5, 2, 4).astype("float32")]
    affine = [RNG.standard_normal(4).astype("float32") for _ in range(2)]

    def spelled_out(x, mean, variance, scale, offset):
        inverse = ops.multiply(ops.rsqrt(ops.add(variance, 1e-3)), scale)
        return ops.add(ops.multiply(ops.subtract(x, mean), inverse), offset)

    def fixed(normalize):
        def loss(x, scale, offset):
            return ops.sum(ops.square(normalize(x, *stats, scale, offset)))

        return backend.value_and_grad(loss, x0, *affine)

    def from_batch(normalize, scale=affine[0], offset=affine[1]):
        def loss(x):
            mean, variance = ops.moments(x, axes=(0, 1))
            return ops.sum(ops.square(normalize(x, mean, variance, scale, offset)))

        return backend.value_and_grad(loss, x0)

    def op(x, mean, variance, scale, offset):
        return ops.batch_normalization(
            x, mean, variance, axis=-1, offset=offset, scale=scale, epsilon=1e-3
        )

    for run in (fixed, from_batch):
        value, grads = run(op)
        expected_value, expected_grads = run(spelled_out)
        np.testing.assert_allclose(to_numpy(value), to_numpy(expected_value), rtol=1e-5)
        for got, expected in zip(grads, expected_grads, strict=True):
            np.testing.assert_allclose(to_numpy(got), to_numpy(expected), rtol=1e-4, atol=1e-4)
    # The squares of a batch normalized by its own statistics sum to about its size, whatever
    # x: through the statistics, the gradient nearly cancels; with them held, it does not.
    plain = [np.ones(4, "float32"), np.zeros(4, "float32")]
    through = to_numpy(from_batch(op, *plain)[1][0])
    held = [x0.mean(axis=(0, 1)), x0.var(axis=(0, 1))]
    _, (bypassing,) = backend.value_and_grad(
        lambda x: ops.sum(ops.square(op(x, *held, *plain))), x0
    )
    assert np.abs(through).max() < 0.1 * np.abs(to_numpy(bypassing)).max()


def test_batch_normalization_errors():
    with pytest.raises(ShapeError, match=r"axis 2 is out of range.*\(4, 3\)"):
        normalization.BatchNormalization(axis=2)(np.ones((4, 3), "float32"))
    layer = normalization.BatchNormalization(name="bn")
    layer(np.ones((4, 3), "float32"))
    with pytest.raises(ShapeError, match=r"'bn'.*rank 2.*\(4, 3, 1\)"):
        layer(np.ones((4, 3, 1), "float32"))
    with pytest.raises(ShapeError, match=r"'bn'.*axis -1 of size 3.*\(4, 5\)"):
        layer(np.ones((4, 5), "float32"))
    with pytest.raises(ValueError, match="renorm_clipping"):
        normalization.BatchNormalization(renorm=True, renorm_clipping={"rmaxx": 1.0})


# --- LayerNormalization -----------------------------------------------------------------------

LN_CASES = [
    ({}, (4, 3)),
    ({"axis": [1, 2], "epsilon": 1e-2}, (2, 3, 4)),
    ({"center": False}, (2, 3, 4)),
    ({"scale": False}, (2, 5)),
]


@pytest.mark.parametrize(("kwargs", "shape"), LN_CASES)
def test_layer_normalization_matches_keras(kwargs, shape):
    theirs, ours = normalization_twins("LayerNormalization", kwargs, shape)
    check_weights(theirs, ours)
    x = (RNG.normal(size=shape) * 2 + 1).astype("float32")
    np.testing.assert_allclose(to_numpy(ours(x)), keras_numpy(theirs(x)), rtol=1e-5, atol=1e-5)
    open_batch = (None, *shape[1:])
    assert ours(katman.layers.Input(shape=shape[1:])).shape == open_batch
    check_config(theirs, ours)


def numpy_layer_norm(x, axes, gamma, beta, epsilon, rms=False):
    x = x.astype("float64")
    mean = x.mean(axis=axes, keepdims=True)
    variance = x.var(axis=axes, keepdims=True)
    if rms:
        return x / np.sqrt(variance + epsilon) * gamma
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def test_layer_normalization_over_a_middle_axis_and_rms_scaling():
    # Keras's torch backend fails on a non-trailing axis, so NumPy is the oracle here.
    x = RNG.normal(size=(2, 3, 4)).astype("float32")
    layer = normalization.LayerNormalization(axis=1)
    layer.build(x.shape)
    gamma, beta = RNG.normal(size=(3,)), RNG.normal(size=(3,))
    layer.set_weights([gamma, beta])
    expected = numpy_layer_norm(x, 1, gamma[:, None], beta[:, None], 1e-3)
    np.testing.assert_allclose(to_numpy(layer(x)), expected, rtol=1e-5, atol=1e-5)
    rms = normalization.LayerNormalization(rms_scaling=True)
    rms.build(x.shape)
    assert [w.name for w in rms.weights] == ["gamma"]
    scale = RNG.normal(size=(4,))
    rms.set_weights([scale])
    expected = numpy_layer_norm(x, -1, scale, 0, 1e-3, rms=True)
    np.testing.assert_allclose(to_numpy(rms(x)), expected, rtol=1e-5, atol=1e-5)


def test_layer_normalization_errors():
    with pytest.raises(ShapeError, match=r"axis 3 is out of range.*\(2, 3\)"):
        normalization.LayerNormalization(axis=3)(np.ones((2, 3), "float32"))
    with pytest.raises(TypeError, match="axis"):
        normalization.LayerNormalization(axis="last")
    layer = normalization.LayerNormalization(name="ln")
    layer(np.ones((2, 3), "float32"))
    with pytest.raises(ShapeError, match=r"'ln'.*rank 2.*\(2, 1, 3\)"):
        layer(np.ones((2, 1, 3), "float32"))


# --- merging ----------------------------------------------------------------------------------

MERGES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]
MERGE_SHAPES = [
    [(2, 3), (2, 3)],
    [(2, 3), (2, 1)],  # broadcast
    [(2, 4), (2, 3, 4)],  # ranks differ: the lower one gets an axis after the batch axis
    [(2, 3), (2, 3), (2, 3)],
]


@pytest.mark.parametrize("shapes", MERGE_SHAPES)
@pytest.mark.parametrize("name", MERGES)
def test_merge_matches_keras(name, shapes):
    if name == "Subtract" and len(shapes) != 2:
        shapes = shapes[:2]
    xs = [RNG.normal(size=s).astype("float32") for s in shapes]
    theirs, ours = getattr(keras.layers, name)(), getattr(merging, name)()
    np.testing.assert_allclose(to_numpy(ours(xs)), keras_numpy(theirs(xs)), rtol=1e-6)
    open_batch = [(None, *s[1:]) for s in shapes]
    expected = tuple(theirs.compute_output_shape(open_batch))
    assert ours.compute_output_shape(open_batch) == expected
    symbolic = ours([katman.layers.Input(shape=s[1:]) for s in shapes])
    assert symbolic.shape == expected
    check_config(theirs, ours)


@pytest.mark.parametrize(
    ("axis", "shapes"), [(-1, [(2, 3), (2, 4)]), (1, [(2, 1, 3), (2, 2, 3), (2, 3, 3)])]
)
def test_concatenate_matches_keras(axis, shapes):
    xs = [RNG.normal(size=s).astype("float32") for s in shapes]
    theirs, ours = keras.layers.Concatenate(axis=axis), merging.Concatenate(axis=axis)
    np.testing.assert_array_equal(to_numpy(ours(xs)), keras_numpy(theirs(xs)))
    open_batch = [(None, *s[1:]) for s in shapes]
    expected = tuple(theirs.compute_output_shape(open_batch))
    assert ours.compute_output_shape(open_batch) == expected
    assert ours([katman.layers.Input(shape=s[1:]) for s in shapes]).shape == expected
    check_config(theirs, ours)


def test_merge_masks_match_keras():
    x = [RNG.normal(size=(2, 3, 4)).astype("float32") for _ in range(2)]
    masks = [
        np.array([[True, False, False], [True, True, False]]),
        np.array([[False, False, True], [True, False, False]]),
    ]
    ours = merging.Add().compute_mask(x, masks)
    np.testing.assert_array_equal(
        to_numpy(ours), keras_numpy(keras.layers.Add().compute_mask(x, masks))
    )
    assert merging.Add().compute_mask(x, [masks[0], None]) is None
    for mask_list in (masks, [masks[0], None]):
        ours = merging.Concatenate(axis=1).compute_mask(x, mask_list)
        theirs = keras.layers.Concatenate(axis=1).compute_mask(x, mask_list)
        np.testing.assert_array_equal(to_numpy(ours), keras_numpy(theirs))


def test_merge_errors_name_the_layer_and_the_shapes():
    one = [np.ones((2, 3), "float32")]
    with pytest.raises(ShapeError, match=r"'adder'.*at least 2 inputs.*\[\(2, 3\)\]"):
        merging.Add(name="adder")(one)
    with pytest.raises(ShapeError, match=r"Add.*do not broadcast.*\(2, 3\), \(2, 4\)"):
        merging.Add()([np.ones((2, 3), "float32"), np.ones((2, 4), "float32")])
    with pytest.raises(ShapeError, match="same batch size"):
        merging.Multiply()([np.ones((2, 3), "float32"), np.ones((3, 3), "float32")])
    with pytest.raises(ShapeError, match="exactly 2 inputs"):
        merging.Subtract()([np.ones((2, 3), "float32")] * 3)
    with pytest.raises(ShapeError, match=r"list of tensors.*\(2, 3\)"):
        merging.Maximum()(np.ones((2, 3), "float32"))
    with pytest.raises(ShapeError, match=r"'joined'.*concatenation axis.*\(2, 3\), \(3, 3\)"):
        merging.Concatenate(name="joined")([np.ones((2, 3), "float32"), np.ones((3, 3), "float32")])
    with pytest.raises(ShapeError, match="at least 2 inputs"):
        merging.Concatenate()([katman.layers.Input(shape=(3,))])
    layer = merging.Add()
    layer([np.ones((2, 3), "float32")] * 2)
    with pytest.raises(ShapeError, match="do not broadcast"):  # checked on every call
        layer([np.ones((2, 3), "float32"), np.ones((2, 5), "float32")])


def test_merging_and_normalization_in_a_residual_block():
    inputs = katman.layers.Input(shape=(4,))
    x = katman.layers.Dense(4)(inputs)
    x = normalization.BatchNormalization()(x)
    x = merging.Add()([inputs, x])
    x = normalization.LayerNormalization()(x)
    both = merging.Concatenate()([x, inputs])
    assert both.shape == (None, 8)

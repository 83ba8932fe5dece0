"""The built-in regularizers and constraints against keras.regularizers and
keras.constraints: values, configs, names and argument checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras_oracle import keras

import katman
from katman import constraints, ops, regularizers


def numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


def keras_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def weights(shape, seed=0, scale=2.0):
    return np.random.default_rng(seed).normal(scale=scale, size=shape).astype("float32")


# --- regularizers ------------------------------------------------------------------------------

REGULARIZER_CASES = (
    ("L1", {}),
    ("L1", {"l1": 0.3}),
    ("L2", {}),
    ("L2", {"l2": 1.5}),
    ("L1L2", {}),
    ("L1L2", {"l1": 0.01, "l2": 0.01}),
    ("L1L2", {"l1": 0.2}),
    ("L1L2", {"l2": 0.4}),
    ("OrthogonalRegularizer", {}),
    ("OrthogonalRegularizer", {"factor": 0.5, "mode": "columns"}),
)


@pytest.mark.parametrize("name, kwargs", REGULARIZER_CASES)
@pytest.mark.parametrize("shape", [(7, 5), (4, 9)])
def test_regularizer_equals_keras(name, kwargs, shape):
    x = weights(shape)
    ours = getattr(regularizers, name)(**kwargs)
    theirs = getattr(keras.regularizers, name)(**kwargs)
    got = ours(ops.convert_to_tensor(x))
    assert tuple(got.shape) == ()
    assert ops.dtype(got) == "float32"
    np.testing.assert_allclose(
        numpy(got), keras_numpy(theirs(keras.ops.convert_to_tensor(x))), rtol=1e-5, atol=1e-7
    )


@settings(max_examples=20, deadline=None)
@given(
    l1=st.floats(0, 10),
    l2=st.floats(0, 10),
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    seed=st.integers(0, 1000),
)
def test_l1l2_on_any_shape(l1, l2, shape, seed):
    x = weights(tuple(shape), seed)
    got = regularizers.L1L2(l1=l1, l2=l2)(ops.convert_to_tensor(x))
    want = keras.regularizers.L1L2(l1=l1, l2=l2)(keras.ops.convert_to_tensor(x))
    np.testing.assert_allclose(numpy(got), keras_numpy(want), rtol=1e-5, atol=1e-6)


def test_regularizer_formulas():
    x = ops.convert_to_tensor([1.0, -2.0, 3.0])
    np.testing.assert_allclose(numpy(regularizers.L1(0.5)(x)), 3.0)
    np.testing.assert_allclose(numpy(regularizers.L2(0.5)(x)), 7.0)
    np.testing.assert_allclose(numpy(regularizers.L1L2(1.0, 0.1)(x)), 7.4, rtol=1e-6)
    np.testing.assert_allclose(numpy(regularizers.L1L2()(x)), 0.0)


def test_regularizer_on_variable_and_float16():
    x = weights((3, 4))
    variable = katman.Variable(x)
    np.testing.assert_allclose(
        numpy(regularizers.L2()(variable)), 0.01 * np.square(x).sum(), rtol=1e-5
    )
    half = ops.convert_to_tensor(x.astype("float16"))
    for cls in (regularizers.L1, regularizers.L2, regularizers.L1L2):
        assert ops.dtype(cls()(half)) == "float16"


def test_orthogonal_regularizer_is_zero_for_orthogonal_rows():
    penalty = regularizers.OrthogonalRegularizer(factor=1.0)(ops.eye(4, 6, dtype="float32"))
    np.testing.assert_allclose(numpy(penalty), 0.0, atol=1e-7)


def same_config(ours, keras_config):
    """Equal configs, up to float32 rounding: Keras keeps some factors (L1's ``l1``,
    OrthogonalRegularizer's ``factor``) as float32 tensors, katman as the float given."""
    assert ours.keys() == keras_config.keys()
    for key, value in ours.items():
        if isinstance(value, float):
            assert value == pytest.approx(keras_config[key], rel=1e-7), key
        else:
            assert value == keras_config[key], key


@pytest.mark.parametrize("name, kwargs", REGULARIZER_CASES)
def test_regularizer_config_equals_keras(name, kwargs):
    ours = getattr(regularizers, name)(**kwargs)
    config = ours.get_config()
    same_config(config, getattr(keras.regularizers, name)(**kwargs).get_config())
    assert json.loads(json.dumps(config)) == config
    assert type(ours).from_config(config).get_config() == config
    rebuilt = regularizers.deserialize(json.loads(json.dumps(regularizers.serialize(ours))))
    assert type(rebuilt) is type(ours)
    assert rebuilt.get_config() == config


# Keras's own table of regularizer names; "l1_l2" is its export name for L1L2.
REGULARIZER_NAMES = {
    name: cls.__name__
    for name, cls in keras.src.regularizers.ALL_OBJECTS_DICT.items()
    if cls is not keras.src.regularizers.Regularizer
}


@pytest.mark.parametrize("name", sorted(REGULARIZER_NAMES))
def test_regularizer_names_equal_keras(name):
    ours = regularizers.get(name)
    assert type(ours).__name__ == REGULARIZER_NAMES[name]
    same_config(ours.get_config(), keras.regularizers.get(name).get_config())


def test_l1_l2_export_name():
    assert isinstance(regularizers.get("l1_l2"), regularizers.L1L2)
    assert regularizers.get("l1_l2").get_config() == keras.regularizers.l1_l2().get_config()


def test_regularizer_get():
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.2)
    assert regularizers.get(reg) is reg
    got = regularizers.get({"class_name": "L1", "config": {"l1": 0.7}})
    assert isinstance(got, regularizers.L1)
    assert got.l1 == 0.7
    with pytest.raises(ValueError, match="l2"):
        regularizers.get("l3")


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: regularizers.L1(-0.1),
            r"L1: `l1` must be a non-negative float. Received: l1=-0.1",
        ),
        (lambda: regularizers.L2(float("nan")), "L2: `l2` must be a non-negative float"),
        (lambda: regularizers.L1L2(l2="big"), "L1L2: `l2` must be a non-negative float"),
        (lambda: regularizers.L1L2(l1=float("inf")), "L1L2: `l1` must be"),
        (
            lambda: regularizers.OrthogonalRegularizer(mode="diagonal"),
            "OrthogonalRegularizer: `mode` must be 'rows' or 'columns'",
        ),
        (
            lambda: regularizers.OrthogonalRegularizer(factor=-1),
            "OrthogonalRegularizer: `factor` must be a non-negative float",
        ),
    ],
)
def test_regularizer_argument_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_orthogonal_regularizer_needs_a_matrix():
    x = ops.convert_to_tensor(weights((2, 3, 4)))
    with pytest.raises(
        katman.errors.ShapeError, match=r"rank-2 weight. Received shape \(2, 3, 4\)"
    ):
        regularizers.OrthogonalRegularizer()(x)


def test_none_factors_mean_the_defaults():
    assert regularizers.L1(None).get_config() == {"l1": 0.01}
    assert regularizers.L2(None).get_config() == {"l2": 0.01}
    assert regularizers.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}


# --- constraints -------------------------------------------------------------------------------

CONSTRAINT_CASES = (
    ("MaxNorm", {}),
    ("MaxNorm", {"max_value": 0.5, "axis": 1}),
    ("MaxNorm", {"max_value": 3.0, "axis": [0, 1, 2]}),
    ("NonNeg", {}),
    ("UnitNorm", {}),
    ("UnitNorm", {"axis": -1}),
    ("UnitNorm", {"axis": [0, 1, 2]}),
    ("MinMaxNorm", {}),
    ("MinMaxNorm", {"min_value": 1.0, "max_value": 2.0, "rate": 0.5}),
    ("MinMaxNorm", {"min_value": 0.5, "max_value": 4.0, "rate": 1.0, "axis": [0, 1, 2]}),
)


@pytest.mark.parametrize("name, kwargs", CONSTRAINT_CASES)
@pytest.mark.parametrize("shape", [(6, 5), (3, 3, 4, 2)])
@pytest.mark.parametrize("scale", [0.1, 2.0])
def test_constraint_equals_keras(name, kwargs, shape, scale):
    axis = kwargs.get("axis", 0)
    if isinstance(axis, list) and len(shape) < 3:
        kwargs = {**kwargs, "axis": 0}
    w = weights(shape, scale=scale)
    ours = getattr(constraints, name)(**kwargs)
    theirs = getattr(keras.constraints, name)(**kwargs)
    got = ours(ops.convert_to_tensor(w))
    assert ops.dtype(got) == "float32"
    want = keras_numpy(theirs(keras.ops.convert_to_tensor(w)))
    np.testing.assert_allclose(numpy(got), want, rtol=1e-5, atol=1e-7)


def test_constraint_effects():
    w = ops.convert_to_tensor(weights((6, 5), scale=3.0))
    norms = lambda x: np.linalg.norm(numpy(x), axis=0)  # noqa: E731
    assert np.all(norms(constraints.MaxNorm(1.5)(w)) <= 1.5 + 1e-5)
    np.testing.assert_allclose(norms(constraints.UnitNorm()(w)), 1.0, rtol=1e-5)
    bounded = norms(constraints.MinMaxNorm(0.5, 0.8)(w))
    assert np.all((bounded >= 0.5 - 1e-5) & (bounded <= 0.8 + 1e-5))
    assert numpy(constraints.NonNeg()(w)).min() >= 0.0


def test_constraint_on_variable():
    w = weights((4, 3))
    got = constraints.UnitNorm()(katman.Variable(w))
    want = keras.constraints.UnitNorm()(keras.ops.convert_to_tensor(w))
    np.testing.assert_allclose(numpy(got), keras_numpy(want), rtol=1e-5)


@pytest.mark.parametrize("name, kwargs", CONSTRAINT_CASES)
def test_constraint_config_equals_keras(name, kwargs):
    ours = getattr(constraints, name)(**kwargs)
    config = ours.get_config()
    assert config == getattr(keras.constraints, name)(**kwargs).get_config()
    assert json.loads(json.dumps(config)) == config
    assert type(ours).from_config(config).get_config() == config
    rebuilt = constraints.deserialize(json.loads(json.dumps(constraints.serialize(ours))))
    assert type(rebuilt) is type(ours)
    assert rebuilt.get_config() == config


CONSTRAINT_NAMES = {
    name: cls.__name__
    for name, cls in keras.src.constraints.ALL_OBJECTS_DICT.items()
    if cls is not keras.src.constraints.Constraint
}


@pytest.mark.parametrize("name", sorted(CONSTRAINT_NAMES))
def test_constraint_names_equal_keras(name):
    ours = constraints.get(name)
    assert isinstance(ours, constraints.Constraint)
    assert type(ours).__name__ == CONSTRAINT_NAMES[name]
    assert ours.get_config() == keras.constraints.get(name).get_config()


def test_constraint_unknown_name():
    with pytest.raises(ValueError, match="max_norm"):
        constraints.get("maxnorm")


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: constraints.MaxNorm(axis="rows"), "MaxNorm: `axis` must be an int or a list"),
        (lambda: constraints.UnitNorm(axis=[0, 1.5]), "UnitNorm: `axis` must be an int"),
        (lambda: constraints.MinMaxNorm(axis=None), "MinMaxNorm: `axis` must be an int"),
        (
            lambda: constraints.MinMaxNorm(min_value=2.0, max_value=1.0),
            "MinMaxNorm: `min_value` must not exceed `max_value`",
        ),
    ],
)
def test_constraint_argument_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()

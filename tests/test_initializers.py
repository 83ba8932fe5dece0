"""The built-in initializers against Keras 3: exact values for the deterministic ones;
statistics, bounds, seeding and orthogonality for the random ones; names and configs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras_oracle import keras

import katman
from katman import initializers, ops
from katman.plugins.initializers import compute_fans

# The standard deviation of a standard normal truncated to [-2, 2].
TRUNCATED_STDDEV = 0.87962566103423978

MATRIX = (400, 300)
KERNEL = (3, 3, 16, 32)

CLASS_NAMES = (
    "Zeros",
    "Ones",
    "Constant",
    "Identity",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "LecunUniform",
    "LecunNormal",
    "Orthogonal",
)

# Every string Keras's initializers.get accepts for these classes, and Keras's lower-case
# export names.
KERAS_NAMES = (
    *CLASS_NAMES,
    "zeros",
    "ones",
    "constant",
    "identity",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "variance_scaling",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "orthogonal",
    "zero",
    "one",
    "normal",
    "uniform",
    "IdentityInitializer",
    "OrthogonalInitializer",
)

# (class name, constructor arguments) covering each random initializer's options.
RANDOM_CASES = (
    ("RandomNormal", {}),
    ("RandomNormal", {"mean": 1.0, "stddev": 0.5}),
    ("RandomUniform", {}),
    ("RandomUniform", {"minval": -2.0, "maxval": 3.0}),
    ("TruncatedNormal", {}),
    ("TruncatedNormal", {"mean": -1.0, "stddev": 2.0}),
    ("GlorotUniform", {}),
    ("GlorotNormal", {}),
    ("HeUniform", {}),
    ("HeNormal", {}),
    ("LecunUniform", {}),
    ("LecunNormal", {}),
    ("VarianceScaling", {}),
    ("VarianceScaling", {"scale": 3.0, "mode": "fan_out", "distribution": "uniform"}),
    ("VarianceScaling", {"scale": 0.5, "mode": "fan_avg", "distribution": "untruncated_normal"}),
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_in", "distribution": "normal"}),
)


def numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


def keras_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def make(name, **kwargs):
    return getattr(initializers, name)(**kwargs), getattr(keras.initializers, name)(**kwargs)


def expected_distribution(name, kwargs, shape):
    """What the initializer should sample: ("normal" | "truncated" | "uniform", mean, stddev
    of the underlying normal or (low, high) for uniform), from Keras's own fan computation."""
    if name == "RandomNormal":
        return "normal", kwargs.get("mean", 0.0), kwargs.get("stddev", 0.05)
    if name == "TruncatedNormal":
        return "truncated", kwargs.get("mean", 0.0), kwargs.get("stddev", 0.05)
    if name == "RandomUniform":
        return "uniform", kwargs.get("minval", -0.05), kwargs.get("maxval", 0.05)
    reference = getattr(keras.initializers, name)(**kwargs)
    fan_in, fan_out = keras.src.initializers.random_initializers.compute_fans(shape)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
    variance = reference.scale / max(1.0, fan[reference.mode])
    if reference.distribution == "uniform":
        limit = math.sqrt(3 * variance)
        return "uniform", -limit, limit
    if reference.distribution == "untruncated_normal":
        return "normal", 0.0, math.sqrt(variance)
    return "truncated", 0.0, math.sqrt(variance) / TRUNCATED_STDDEV


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", KERAS_NAMES)
def test_every_keras_name_resolves_to_the_same_class(name):
    ours = initializers.get(name)
    # Keras's own table (its get("Constant") fails: Constant.from_config needs a value).
    theirs = keras.src.initializers.ALL_OBJECTS_DICT[name]
    assert isinstance(ours, initializers.Initializer)
    assert type(ours).__name__ == theirs.__name__


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("glorot_uniformm")


def test_namespace_attributes_are_the_classes():
    assert initializers.GlorotUniform is type(initializers.get("glorot_uniform"))
    assert issubclass(initializers.HeNormal, initializers.VarianceScaling)


# --- deterministic initializers: exactly Keras's values ----------------------------------------


@pytest.mark.parametrize("shape", [(3,), (2, 5), (2, 3, 4), ()])
@pytest.mark.parametrize("dtype", [None, "float32", "float16", "int32"])
@pytest.mark.parametrize(
    "name, kwargs",
    [("Zeros", {}), ("Ones", {}), ("Constant", {"value": 3}), ("Constant", {"value": -0.5})],
)
def test_constant_initializers_equal_keras(name, kwargs, shape, dtype):
    ours, theirs = make(name, **kwargs)
    got, want = ours(shape, dtype=dtype), theirs(shape, dtype=dtype)
    assert ops.dtype(got) == keras.backend.standardize_dtype(want.dtype)
    np.testing.assert_array_equal(numpy(got), keras_numpy(want))


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
@pytest.mark.parametrize("dtype", [None, "float16"])
def test_identity_equals_keras(shape, gain, dtype):
    ours, theirs = make("Identity", gain=gain)
    got, want = ours(shape, dtype=dtype), theirs(shape, dtype=dtype)
    assert ops.dtype(got) == (dtype or "float32")
    np.testing.assert_array_equal(numpy(got), keras_numpy(want))


def test_default_dtype_is_floatx():
    for name in ("Zeros", "GlorotUniform", "Orthogonal", "Constant"):
        assert ops.dtype(getattr(initializers, name)()((4, 4))) == katman.config.floatx()


# --- random initializers: statistics and bounds -------------------------------------------------


@pytest.mark.parametrize("shape", [MATRIX, KERNEL], ids=["matrix", "conv_kernel"])
@pytest.mark.parametrize("name, kwargs", RANDOM_CASES)
def test_random_statistics_and_bounds(name, kwargs, shape):
    values = numpy(getattr(initializers, name)(seed=7, **kwargs)(shape))
    assert values.shape == shape
    assert values.dtype == np.float32
    kind, a, b = expected_distribution(name, kwargs, shape)
    n = values.size
    if kind == "uniform":
        mean, std = (a + b) / 2, (b - a) / math.sqrt(12)
        assert values.min() >= a
        assert values.max() <= b
        # The samples fill the interval.
        assert values.min() < a + 0.01 * (b - a)
        assert values.max() > b - 0.01 * (b - a)
    elif kind == "normal":
        mean, std = a, b
    else:  # truncated at two standard deviations of the underlying normal
        mean, std = a, b * TRUNCATED_STDDEV
        assert np.all(np.abs(values - a) <= 2 * b * (1 + 1e-6))
        assert np.abs(values - a).max() > 1.9 * b
    # Five standard errors of the estimators: never fails by chance in practice.
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(n)
    assert abs(values.std() - std) < 5 * std / math.sqrt(2 * n) + 1e-7


@pytest.mark.parametrize("name, kwargs", RANDOM_CASES)
def test_random_matches_keras_spread(name, kwargs):
    """Our samples and Keras's, from the same initializer, have the same spread and range."""
    ours, theirs = make(name, seed=3, **kwargs)
    got, want = numpy(ours(MATRIX)), keras_numpy(theirs(MATRIX))
    np.testing.assert_allclose(got.std(), want.std(), rtol=0.02)
    np.testing.assert_allclose(got.mean(), want.mean(), atol=0.02 * want.std())
    np.testing.assert_allclose(
        [got.min(), got.max()], [want.min(), want.max()], rtol=0.1, atol=1e-3 * want.std()
    )


def test_random_float16():
    values = initializers.GlorotUniform(seed=1)((64, 32), dtype="float16")
    assert ops.dtype(values) == "float16"
    assert np.abs(numpy(values)).max() <= math.sqrt(6 / 96) * 1.001


@pytest.mark.parametrize("name", ["RandomNormal", "GlorotUniform", "Orthogonal"])
def test_random_rejects_integer_dtype(name):
    with pytest.raises(ValueError, match=f"{name}.*dtype=int32"):
        getattr(initializers, name)(seed=1)((4, 4), dtype="int32")


# --- seeds -------------------------------------------------------------------------------------

SEEDED = (
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "GlorotUniform",
    "HeNormal",
    "Orthogonal",
)


@pytest.mark.parametrize("name", SEEDED)
def test_int_seed_repeats(name):
    cls = getattr(initializers, name)
    init = cls(seed=1234)
    first, second = numpy(init((6, 5))), numpy(init((6, 5)))
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, numpy(cls(seed=1234)((6, 5))))
    assert not np.array_equal(first, numpy(cls(seed=1235)((6, 5))))


@pytest.mark.parametrize("name", SEEDED)
def test_no_seed_differs_between_calls(name):
    init = getattr(initializers, name)()
    assert not np.array_equal(numpy(init((6, 5))), numpy(init((6, 5))))
    assert init.get_config()["seed"] is None


def test_seed_generator_advances_and_replays():
    def two_draws():
        init = initializers.RandomNormal(seed=katman.random.SeedGenerator(5))
        return numpy(init((4, 4))), numpy(init((4, 4)))

    a1, a2 = two_draws()
    b1, b2 = two_draws()
    assert not np.array_equal(a1, a2)
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)


@pytest.mark.parametrize("seed", ["1", 1.5, True, [1]])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="RandomUniform: `seed` must be an int"):
        initializers.RandomUniform(seed=seed)


# --- orthogonal --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(30, 30), (50, 20), (20, 50), (3, 3, 4, 8), (2, 2, 8, 4)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal(shape, gain):
    values = numpy(initializers.Orthogonal(gain=gain, seed=11)(shape))
    assert values.shape == shape
    matrix = values.reshape(-1, shape[-1])
    rows, cols = matrix.shape
    gram = matrix.T @ matrix if rows >= cols else matrix @ matrix.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-5 * gain**2)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (2, 3, 5)])
def test_orthogonal_is_the_sign_corrected_q_of_a_normal_sample(shape):
    """With an int seed the normal sample is reproducible: the result must be its unique QR
    factor Q with R's diagonal made positive (transposed for wide matrices)."""
    rows, cols = math.prod(shape[:-1]), shape[-1]
    sample = numpy(katman.random.normal((max(rows, cols), min(rows, cols)), seed=21))
    q, r = np.linalg.qr(sample.astype("float64"))
    q = q * np.sign(np.diag(r))
    expected = (q if rows >= cols else q.T).reshape(shape)
    values = numpy(initializers.Orthogonal(gain=1.5, seed=21)(shape))
    np.testing.assert_allclose(values, 1.5 * expected, atol=1e-5)


def test_orthogonal_needs_a_matrix():
    with pytest.raises(ValueError, match=r"Orthogonal initializer needs a shape of rank 2"):
        initializers.Orthogonal(seed=1)((5,))


# --- fans --------------------------------------------------------------------------------------


@settings(max_examples=30)
@given(st.lists(st.integers(1, 7), min_size=0, max_size=5))
def test_compute_fans_equals_keras(shape):
    reference = keras.src.initializers.random_initializers.compute_fans
    assert compute_fans(tuple(shape)) == reference(tuple(shape))


def test_explicit_fan_axes():
    shape = (4, 5, 6)
    ours = initializers.VarianceScaling(
        mode="fan_out", distribution="uniform", seed=1, input_axes=[0], output_axes=[1, 2]
    )
    values = numpy(ours(shape))
    assert np.abs(values).max() <= math.sqrt(3 / 30)
    assert np.abs(values).max() > 0.9 * math.sqrt(3 / 30)
    assert compute_fans(shape, [0], [1, 2]) == (4, 30)


# --- configs -----------------------------------------------------------------------------------

CONFIG_CASES = (
    ("Zeros", {}),
    ("Ones", {}),
    ("Constant", {"value": 1.5}),
    ("Constant", {"value": 2}),
    ("Identity", {"gain": 3.0}),
    ("Orthogonal", {"gain": 0.5, "seed": 4}),
    ("Orthogonal", {}),
    *((name, {**kwargs, "seed": 9}) for name, kwargs in RANDOM_CASES),
    ("RandomNormal", {}),
    ("GlorotNormal", {"seed": None, "input_axes": [0], "output_axes": [1]}),
    ("VarianceScaling", {"mode": "fan_avg", "input_axes": [0, 1], "output_axes": [2]}),
)


# Keys Keras leaves out of a config although its constructor takes them (Keras's Identity has
# no get_config, so its gain is lost on a round trip); ours keeps them.
KERAS_MISSING_KEYS = {"Identity": {"gain"}}


@pytest.mark.parametrize("name, kwargs", CONFIG_CASES)
def test_config_equals_keras_and_round_trips(name, kwargs):
    ours, theirs = make(name, **kwargs)
    config = ours.get_config()
    missing = KERAS_MISSING_KEYS.get(name, set())
    keras_view = {k: v for k, v in config.items() if k not in missing}
    assert keras_view == theirs.get_config()
    assert json.loads(json.dumps(config)) == config
    rebuilt = type(ours).from_config(config)
    assert type(rebuilt) is type(ours)
    assert rebuilt.get_config() == config
    # Keras reads our config too.
    assert type(theirs).from_config(config).get_config() == keras_view


@pytest.mark.parametrize(
    "name, kwargs", [c for c in CONFIG_CASES if "seed" in c[1] and c[1]["seed"]]
)
def test_seeded_config_rebuilds_the_same_values(name, kwargs):
    ours = getattr(initializers, name)(**kwargs)
    rebuilt = initializers.deserialize(json.loads(json.dumps(initializers.serialize(ours))))
    assert type(rebuilt) is type(ours)
    np.testing.assert_array_equal(numpy(ours((5, 4))), numpy(rebuilt((5, 4))))


def test_seed_generator_config_round_trips():
    init = initializers.HeUniform(seed=katman.random.SeedGenerator(8))
    config = init.get_config()
    assert config["seed"]["class_name"] == "SeedGenerator"
    assert json.loads(json.dumps(config)) == config
    rebuilt = initializers.HeUniform.from_config(config)
    np.testing.assert_array_equal(numpy(init((4, 4))), numpy(rebuilt((4, 4))))


def test_get_from_config_dict():
    init = initializers.get(
        {"class_name": "RandomUniform", "config": {"minval": 1.0, "maxval": 2.0}}
    )
    assert isinstance(init, initializers.RandomUniform)
    assert (init.minval, init.maxval) == (1.0, 2.0)


def test_clone():
    init = initializers.TruncatedNormal(mean=1.0, stddev=0.1, seed=3)
    clone = init.clone()
    assert clone is not init
    assert clone.get_config() == init.get_config()


# --- argument errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scale": 0.0}, "VarianceScaling: `scale` must be a positive float"),
        ({"scale": -1}, "`scale` must be a positive float"),
        ({"mode": "fan_sum"}, "`mode` must be one of"),
        ({"distribution": "cauchy"}, "`distribution` must be one of"),
    ],
)
def test_variance_scaling_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        initializers.VarianceScaling(**kwargs)


def test_identity_needs_a_matrix():
    with pytest.raises(ValueError, match="Identity initializer can only make 2-D matrices"):
        initializers.Identity()((2, 2, 2))


def test_constant_needs_a_scalar():
    with pytest.raises(ValueError, match="Constant initializer: `value` must be a Python scalar"):
        initializers.Constant([1.0, 2.0])
    assert initializers.Constant(np.float32(2.0)).get_config() == {"value": 2.0}


@pytest.mark.parametrize("shape", [(2, -1), "ab", (2.5, 3)])
def test_bad_shape(shape):
    with pytest.raises(ValueError, match="`shape` must be a tuple of non-negative ints"):
        initializers.Ones()(shape)


# --- in use ------------------------------------------------------------------------------------


def test_variable_from_initializer_name():
    variable = katman.Variable(initializers.get("glorot_uniform"), shape=(3, 4), dtype="float32")
    assert tuple(variable.shape) == (3, 4)
    assert np.abs(numpy(variable.value)).max() <= math.sqrt(6 / 7)
    zeros = katman.Variable(initializers.get("zeros"), shape=(2,), dtype="int32")
    assert ops.dtype(zeros.value) == "int32"

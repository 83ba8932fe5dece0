"""The built-in losses (plugins/losses.py) against Keras 3 on the same backend: per-sample
functions, classes with every reduction and sample weights, logits, label smoothing, labels
of shape (n,) against predictions (n, 1), shape errors, names and configs."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras_oracle import keras

import katman
from katman.errors import ShapeError, UnknownNameError

N, FEATURES, CLASSES = 5, 3, 4
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", None, "none")


def numpy(x):
    return np.asarray(katman.ops.convert_to_numpy(x))


def keras_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def make_data(kind: str, seed: int = 0, n: int = N, logits: bool = False):
    """(y_true, y_pred) float32 arrays (int labels for "sparse") of one kind of problem."""
    rng = np.random.default_rng(seed)

    def probabilities(shape):
        p = rng.uniform(0.05, 1.0, shape)
        return p / p.sum(-1, keepdims=True)

    if kind == "regression":
        y_true, y_pred = rng.normal(size=(n, FEATURES)), rng.normal(size=(n, FEATURES))
    elif kind == "positive":
        y_true, y_pred = rng.uniform(0.1, 2.0, (n, FEATURES)), rng.uniform(0.1, 2.0, (n, FEATURES))
    elif kind == "binary":
        y_true = rng.integers(0, 2, (n, FEATURES))
        y_pred = (
            rng.normal(size=(n, FEATURES)) if logits else rng.uniform(0.02, 0.98, (n, FEATURES))
        )
    elif kind == "hinge":
        y_true, y_pred = rng.choice([-1.0, 1.0], (n, FEATURES)), rng.normal(size=(n, FEATURES))
    elif kind == "categorical":
        y_true = np.eye(CLASSES)[rng.integers(0, CLASSES, n)]
        y_pred = rng.normal(size=(n, CLASSES)) if logits else probabilities((n, CLASSES))
    elif kind == "sparse":
        y_true = rng.integers(0, CLASSES, n)
        y_pred = rng.normal(size=(n, CLASSES)) if logits else probabilities((n, CLASSES))
        return y_true.astype("int32"), y_pred.astype("float32")
    elif kind == "distribution":
        y_true, y_pred = probabilities((n, CLASSES)), probabilities((n, CLASSES))
    else:
        raise AssertionError(kind)
    return y_true.astype("float32"), y_pred.astype("float32")


# (class name, function name, kind of data, constructor/function keyword variants)
LOSSES = [
    ("MeanSquaredError", "mean_squared_error", "regression", [{}]),
    ("MeanAbsoluteError", "mean_absolute_error", "regression", [{}]),
    ("MeanAbsolutePercentageError", "mean_absolute_percentage_error", "positive", [{}]),
    ("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error", "positive", [{}]),
    ("CosineSimilarity", "cosine_similarity", "regression", [{}, {"axis": 0}]),
    ("Huber", "huber", "regression", [{}, {"delta": 0.3}]),
    ("LogCosh", "log_cosh", "regression", [{}]),
    ("Hinge", "hinge", "hinge", [{}]),
    ("SquaredHinge", "squared_hinge", "hinge", [{}]),
    ("CategoricalHinge", "categorical_hinge", "categorical", [{}]),
    ("KLDivergence", "kl_divergence", "distribution", [{}]),
    ("Poisson", "poisson", "positive", [{}]),
    (
        "BinaryCrossentropy",
        "binary_crossentropy",
        "binary",
        [
            {},
            {"from_logits": True},
            {"label_smoothing": 0.2},
            {"from_logits": True, "label_smoothing": 0.1},
            {"axis": 0},
        ],
    ),
    (
        "BinaryFocalCrossentropy",
        "binary_focal_crossentropy",
        "binary",
        [
            {},
            {"from_logits": True},
            {"gamma": 0.5, "label_smoothing": 0.1},
            {"apply_class_balancing": True, "alpha": 0.4},
            {"apply_class_balancing": True, "from_logits": True},
        ],
    ),
    (
        "CategoricalCrossentropy",
        "categorical_crossentropy",
        "categorical",
        [
            {},
            {"from_logits": True},
            {"label_smoothing": 0.2},
            {"from_logits": True, "label_smoothing": 0.1},
        ],
    ),
    (
        "SparseCategoricalCrossentropy",
        "sparse_categorical_crossentropy",
        "sparse",
        [
            {},
            {"from_logits": True},
            {"ignore_class": 1},
            {"from_logits": True, "ignore_class": 2},
        ],
    ),
]

CLASS_CASES = [
    pytest.param(cls, kind, kwargs, id=f"{cls}-{'-'.join(f'{k}={v}' for k, v in kwargs.items())}")
    for cls, _, kind, variants in LOSSES
    for kwargs in variants
]
FUNCTION_CASES = [
    pytest.param(fn, kind, kwargs, id=f"{fn}-{'-'.join(f'{k}={v}' for k, v in kwargs.items())}")
    for _, fn, kind, variants in LOSSES
    for kwargs in variants
]


def data_for(kind, kwargs, seed=0, n=N):
    return make_data(kind, seed=seed, n=n, logits=kwargs.get("from_logits", False))


# --- functions ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kind", "kwargs"), FUNCTION_CASES)
def test_function_matches_keras_per_sample(name, kind, kwargs):
    y_true, y_pred = data_for(kind, kwargs)
    ours = numpy(getattr(katman.losses, name)(y_true, y_pred, **kwargs))
    theirs = keras_numpy(getattr(keras.losses, name)(y_true, y_pred, **kwargs))
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_functions_are_registered_with_keras_aliases():
    get = katman.losses.get
    assert get("mse") is get("MSE") is get("mean_squared_error") is katman.losses.mean_squared_error
    assert get("mae") is get("MAE") is katman.losses.mean_absolute_error
    assert get("mape") is katman.losses.mean_absolute_percentage_error
    assert get("msle") is katman.losses.mean_squared_logarithmic_error
    assert get("bce") is get("BCE") is katman.losses.binary_crossentropy
    assert get("kld") is get("KLD") is katman.losses.kl_divergence
    assert callable(get("categorical_crossentropy"))
    for _, fn, _, _ in LOSSES:
        assert get(fn) is getattr(katman.losses, fn)


def test_class_names_give_instances():
    loss = katman.losses.get("SparseCategoricalCrossentropy")
    assert isinstance(loss, katman.losses.SparseCategoricalCrossentropy)
    assert isinstance(loss, katman.losses.LossFunctionWrapper)
    for cls, _, _, _ in LOSSES:
        obj = katman.losses.get(cls)
        assert type(obj) is getattr(katman.losses, cls)
        assert obj.name == getattr(keras.losses, cls)().name


def test_unknown_name_lists_known_ones():
    with pytest.raises(UnknownNameError, match="mean_squared_error"):
        katman.losses.get("mean_sqared_error")


@settings(max_examples=8, deadline=None)
@given(n=st.integers(1, 6), features=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_regression_and_binary_losses_on_drawn_shapes(n, features, seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, (n, features)).astype("float32")
    y_pred = rng.uniform(0.01, 0.99, (n, features)).astype("float32")
    for name in ("mean_squared_error", "mean_absolute_error", "binary_crossentropy", "huber"):
        ours = numpy(getattr(katman.losses, name)(y_true, y_pred))
        theirs = keras_numpy(getattr(keras.losses, name)(y_true, y_pred))
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6, err_msg=name)


# --- classes --------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "kind", "kwargs"), CLASS_CASES)
def test_class_matches_keras(name, kind, kwargs, reduction):
    y_true, y_pred = data_for(kind, kwargs)
    weights = np.random.default_rng(1).uniform(0.0, 2.0, N).astype("float32")
    ours = getattr(katman.losses, name)(reduction=reduction, **kwargs)
    theirs = getattr(keras.losses, name)(reduction=reduction, **kwargs)
    # Reducing over axis 0 leaves one value per feature, not per sample.
    per_sample = kwargs.get("axis", -1) == -1
    for sample_weight in (None, weights, weights[:, None]) if per_sample else (None,):
        mine = numpy(ours(y_true, y_pred, sample_weight=sample_weight))
        expected = keras_numpy(theirs(y_true, y_pred, sample_weight=sample_weight))
        assert mine.shape == expected.shape
        np.testing.assert_allclose(mine, expected, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name",
    ["MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy", "Hinge", "LogCosh", "Huber"],
)
def test_labels_of_shape_n_against_predictions_n_by_1(name):
    y_true, y_pred = make_data("binary", seed=3, n=6)
    y_true, y_pred = y_true[:, 0], y_pred[:, :1]  # (6,) and (6, 1)
    for reduction in ("sum_over_batch_size", None):
        ours = numpy(getattr(katman.losses, name)(reduction=reduction)(y_true, y_pred))
        theirs = keras_numpy(getattr(keras.losses, name)(reduction=reduction)(y_true, y_pred))
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
        swapped = numpy(
            getattr(katman.losses, name)(reduction=reduction)(y_true[:, None], y_pred[:, 0])
        )
        np.testing.assert_allclose(swapped, theirs, rtol=1e-5, atol=1e-6)


def test_sparse_labels_with_a_trailing_unit_axis():
    y_true, y_pred = make_data("sparse", seed=4)
    ours = katman.losses.SparseCategoricalCrossentropy()(y_true[:, None], y_pred)
    theirs = keras.losses.SparseCategoricalCrossentropy()(y_true[:, None], y_pred)
    np.testing.assert_allclose(numpy(ours), keras_numpy(theirs), rtol=1e-5)


@pytest.mark.parametrize("compiled_by_name", [False, True])
def test_sparse_labels_stay_integers_in_a_half_precision_loss(compiled_by_name):
    # float16 holds integers exactly only up to 2048: label 2049 cast to the loss's dtype
    # would become 2048 and score the wrong class.
    logits = np.zeros((2, 3000), "float32")
    logits[:, 2049] = 4.0
    y_true = np.array([2049, 2048], "int32")
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    expected = -log_probs[[0, 1], y_true]
    if compiled_by_name:
        function = katman.losses.get("sparse_categorical_crossentropy")
        loss = katman.losses.LossFunctionWrapper(
            function, reduction=None, dtype="float16", from_logits=True
        )
    else:
        loss = katman.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction=None, dtype="float16"
        )
    np.testing.assert_allclose(numpy(loss(y_true, logits)), expected, rtol=2e-3)


def test_ignore_class_leaves_samples_out_of_the_average():
    y_true = np.array([0, 1, 2, 1, 3], "int32")
    _, y_pred = make_data("sparse", seed=5)
    loss = katman.losses.SparseCategoricalCrossentropy(ignore_class=1, reduction=None)
    per_sample = numpy(loss(y_true, y_pred))
    assert per_sample[1] == per_sample[3] == 0.0
    expected = -np.log(np.clip(y_pred[[0, 2, 4], [0, 2, 3]], 1e-7, 1 - 1e-7)).mean()
    mean = katman.losses.SparseCategoricalCrossentropy(ignore_class=1)(y_true, y_pred)
    np.testing.assert_allclose(numpy(mean), expected, rtol=1e-5)
    everything_ignored = katman.losses.SparseCategoricalCrossentropy(ignore_class=1)(
        np.ones(N, "int32"), y_pred
    )
    assert numpy(everything_ignored) == 0.0


def test_from_logits_agrees_with_probabilities():
    _, logits = make_data("categorical", seed=6, logits=True)
    y_true = np.eye(CLASSES, dtype="float32")[[0, 1, 2, 3, 0]]
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    a = katman.losses.CategoricalCrossentropy(from_logits=True)(y_true, logits)
    b = katman.losses.CategoricalCrossentropy()(y_true, probabilities)
    np.testing.assert_allclose(numpy(a), numpy(b), rtol=1e-5)


def test_extreme_logits_stay_finite():
    y_true = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    logits = np.array([[1000.0, -1000.0], [1000.0, -1000.0]], "float32")
    for loss in (
        katman.losses.BinaryCrossentropy(from_logits=True),
        katman.losses.CategoricalCrossentropy(from_logits=True),
        katman.losses.BinaryFocalCrossentropy(from_logits=True),
    ):
        assert np.isfinite(numpy(loss(y_true, logits)))
    assert np.isfinite(
        numpy(katman.losses.BinaryCrossentropy()(y_true, np.array([[1.0, 0.0]] * 2)))
    )


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kind", "kwargs"), CLASS_CASES)
def test_mismatched_shapes_raise_shape_error_naming_the_loss(name, kind, kwargs):
    rng = np.random.default_rng(7)
    loss = getattr(katman.losses, name)(**kwargs)
    if kind == "sparse":
        y_true, y_pred = rng.integers(0, 3, (4, 2)), rng.uniform(size=(4, 3)).astype("float32")
    else:
        y_true, y_pred = rng.uniform(size=(4, 3)), rng.uniform(size=(4, 2))
    with pytest.raises(ShapeError, match=rf"Loss {loss.name!r} \({name}\) cannot compare"):
        loss(y_true.astype("float32"), y_pred.astype("float32"))


def test_bad_arguments_are_value_errors_naming_the_loss():
    with pytest.raises(ValueError, match=r"BinaryCrossentropy.*label_smoothing"):
        katman.losses.BinaryCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"CategoricalCrossentropy.*axis"):
        katman.losses.CategoricalCrossentropy(axis=True)
    with pytest.raises(ValueError, match="reduction"):
        katman.losses.MeanSquaredError(reduction="average")
    with pytest.raises(ValueError, match=r"Huber.*delta"):
        katman.losses.Huber(delta=0.0)
    with pytest.raises(ValueError, match="ignore_class"):
        katman.losses.SparseCategoricalCrossentropy(ignore_class="void")
    with pytest.raises(ValueError, match=r"categorical_crossentropy.*label_smoothing"):
        katman.losses.categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]], label_smoothing=-0.1)


# --- configs --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kind", "kwargs"), CLASS_CASES)
def test_config_round_trip_and_keras_keys(name, kind, kwargs):
    cls = getattr(katman.losses, name)
    loss = cls(reduction="sum", name="custom", **kwargs)
    config = loss.get_config()
    json.dumps(config)
    rebuilt = cls.from_config(config)
    assert type(rebuilt) is cls and rebuilt.get_config() == config
    keras_config = getattr(keras.losses, name)(
        reduction="sum", name="custom", **kwargs
    ).get_config()
    assert {k: config[k] for k in keras_config} == keras_config
    y_true, y_pred = data_for(kind, kwargs)
    np.testing.assert_allclose(numpy(rebuilt(y_true, y_pred)), numpy(loss(y_true, y_pred)))


def test_serialize_and_deserialize_through_the_registry():
    loss = katman.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    data = katman.losses.serialize(loss)
    assert data["class_name"] == "CategoricalCrossentropy"
    rebuilt = katman.losses.deserialize(json.loads(json.dumps(data)))
    assert rebuilt.get_config() == loss.get_config()
    function = katman.losses.serialize(katman.losses.mean_squared_error)
    assert katman.losses.deserialize(function) is katman.losses.mean_squared_error
    from_dict = katman.losses.get({"class_name": "Huber", "config": {"delta": 2.0}})
    assert isinstance(from_dict, katman.losses.Huber) and from_dict.get_config()["delta"] == 2.0


def test_dtype_argument_sets_the_computation_dtype():
    loss = katman.losses.MeanSquaredError(dtype="float64")
    y_true, y_pred = make_data("regression")
    value = loss(y_true, y_pred)
    assert katman.ops.dtype(value) == "float64"


@pytest.mark.parametrize(
    ("name", "kind", "kwargs"),
    [
        ("MeanSquaredError", "regression", {}),
        ("CategoricalCrossentropy", "categorical", {"label_smoothing": 0.1}),
        ("SparseCategoricalCrossentropy", "sparse", {"ignore_class": 1}),
        ("Hinge", "hinge", {}),
        ("BinaryFocalCrossentropy", "binary", {"from_logits": True}),
    ],
    ids=["mse", "cce", "sparse-ignore", "hinge", "focal"],
)
def test_losses_run_inside_compiled_steps(name, kind, kwargs):
    """The backend's compiled step (jax.jit, tf.function with relaxed shapes, torch) gives the
    eager values, on batches of changing size."""
    loss = getattr(katman.losses, name)(**kwargs)
    step = katman.backend.get_backend().compile_step(
        lambda y_true, y_pred, weights: loss(y_true, y_pred, sample_weight=weights), [], mode="auto"
    )
    for seed, n in enumerate((5, 3, 4)):
        y_true, y_pred = data_for(kind, kwargs, seed=seed, n=n)
        weights = np.random.default_rng(seed).uniform(size=n).astype("float32")
        compiled = step(*(katman.ops.convert_to_tensor(x) for x in (y_true, y_pred, weights)))
        np.testing.assert_allclose(
            numpy(compiled), numpy(loss(y_true, y_pred, sample_weight=weights)), rtol=1e-5
        )


@pytest.mark.parametrize("name", [cls for cls, _, _, _ in LOSSES] + [fn for _, fn, _, _ in LOSSES])
def test_signature_matches_keras(name):
    ours = inspect.signature(getattr(katman.losses, name)).parameters
    theirs = inspect.signature(getattr(keras.losses, name)).parameters
    assert [(p.name, p.default) for p in ours.values()] == [
        (p.name, p.default) for p in theirs.values()
    ]

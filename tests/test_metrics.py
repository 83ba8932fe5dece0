"""The built-in metrics (plugins/metrics.py) against Keras 3 on the same backend: results over
several update_state calls with and without sample weights, reset_state, names, configs,
registry names, and updates inside compiled steps."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest
from keras_oracle import keras

import katman
from katman.errors import ShapeError, UnknownNameError

FEATURES, CLASSES = 3, 5
BATCHES = (5, 3, 4)


def numpy(x):
    return np.asarray(katman.ops.convert_to_numpy(x))


def keras_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def make_batch(kind: str, n: int, seed: int, logits: bool = False):
    """(y_true, y_pred) of one kind of problem; values only (no labels) for "values"."""
    rng = np.random.default_rng(seed)

    def probabilities(shape):
        p = rng.uniform(0.05, 1.0, shape)
        return (p / p.sum(-1, keepdims=True)).astype("float32")

    if kind == "values":
        return (rng.normal(size=(n, FEATURES)).astype("float32"),)
    if kind == "regression":
        return tuple(rng.normal(size=(2, n, FEATURES)).astype("float32"))
    if kind == "positive":
        return (
            rng.uniform(0.1, 2.0, (n, FEATURES)).astype("float32"),
            rng.uniform(0.1, 2.0, (n, FEATURES)).astype("float32"),
        )
    if kind == "binary":
        y_pred = rng.normal(size=(n, 1)) if logits else rng.uniform(0.02, 0.98, (n, 1))
        return rng.integers(0, 2, (n, 1)).astype("float32"), y_pred.astype("float32")
    if kind == "hinge":
        y_true = rng.choice([-1.0, 1.0], (n, FEATURES))
        return y_true.astype("float32"), rng.normal(size=(n, FEATURES)).astype("float32")
    if kind == "exact":  # Accuracy: exact matches half of the time
        y_true = rng.integers(0, 3, (n, 1))
        y_pred = np.where(rng.uniform(size=(n, 1)) < 0.5, y_true, rng.integers(0, 3, (n, 1)))
        return y_true.astype("float32"), y_pred.astype("float32")
    if kind == "categorical":
        y_pred = (
            rng.normal(size=(n, CLASSES)).astype("float32")
            if logits
            else probabilities((n, CLASSES))
        )
        return np.eye(CLASSES, dtype="float32")[rng.integers(0, CLASSES, n)], y_pred
    if kind in ("sparse", "sparse_column"):
        y_pred = (
            rng.normal(size=(n, CLASSES)).astype("float32")
            if logits
            else probabilities((n, CLASSES))
        )
        labels = rng.integers(0, CLASSES, n).astype("int32")
        return (labels[:, None] if kind == "sparse_column" else labels), y_pred
    if kind == "sorted_ids":
        labels = rng.integers(0, CLASSES, n).astype("int32")
        ids = np.argsort(-rng.uniform(size=(n, CLASSES)), axis=-1).astype("int32")
        return labels, ids
    if kind == "distribution":
        return probabilities((n, CLASSES)), probabilities((n, CLASSES))
    raise AssertionError(kind)


# (metric class name, kind of data, constructor keyword variants)
METRICS = [
    ("Mean", "values", [{}]),
    ("Sum", "values", [{}]),
    ("MeanSquaredError", "regression", [{}]),
    ("MeanAbsoluteError", "regression", [{}]),
    ("MeanAbsolutePercentageError", "positive", [{}]),
    ("MeanSquaredLogarithmicError", "positive", [{}]),
    ("RootMeanSquaredError", "regression", [{}]),
    ("CosineSimilarity", "regression", [{}]),
    ("LogCoshError", "regression", [{}]),
    ("Hinge", "hinge", [{}]),
    ("SquaredHinge", "hinge", [{}]),
    ("CategoricalHinge", "categorical", [{}]),
    ("KLDivergence", "distribution", [{}]),
    ("Poisson", "positive", [{}]),
    ("BinaryCrossentropy", "binary", [{}, {"from_logits": True}, {"label_smoothing": 0.2}]),
    (
        "CategoricalCrossentropy",
        "categorical",
        [{}, {"from_logits": True}, {"label_smoothing": 0.1}],
    ),
    ("SparseCategoricalCrossentropy", "sparse", [{}, {"from_logits": True}]),
    ("Accuracy", "exact", [{}]),
    ("BinaryAccuracy", "binary", [{}, {"threshold": 0.3}]),
    ("CategoricalAccuracy", "categorical", [{}]),
    ("SparseCategoricalAccuracy", "sparse", [{}]),
    ("SparseCategoricalAccuracy", "sparse_column", [{}]),
    ("TopKCategoricalAccuracy", "categorical", [{}, {"k": 2}]),
    ("SparseTopKCategoricalAccuracy", "sparse", [{}, {"k": 2}]),
    ("SparseTopKCategoricalAccuracy", "sorted_ids", [{"k": 2, "from_sorted_ids": True}]),
]
CASES = [
    pytest.param(
        name, kind, kwargs, id=f"{name}-{kind}-{'-'.join(f'{k}={v}' for k, v in kwargs.items())}"
    )
    for name, kind, variants in METRICS
    for kwargs in variants
]


def batches(kind, kwargs, seed=0):
    for i, n in enumerate(BATCHES):
        data = make_batch(kind, n, seed + i, logits=kwargs.get("from_logits", False))
        weights = np.random.default_rng(100 + seed + i).uniform(0.0, 2.0, n).astype("float32")
        yield data, weights


def run_both(ours, theirs, kind, kwargs, weighted, seed=0):
    for data, weights in batches(kind, kwargs, seed):
        extra = {"sample_weight": weights} if weighted else {}
        ours.update_state(*data, **extra)
        theirs.update_state(*data, **extra)
        np.testing.assert_allclose(
            numpy(ours.result()), keras_numpy(theirs.result()), rtol=2e-5, atol=1e-6
        )


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("name", "kind", "kwargs"), CASES)
def test_metric_matches_keras_over_several_batches(name, kind, kwargs, weighted):
    ours = getattr(katman.metrics, name)(**kwargs)
    theirs = getattr(keras.metrics, name)(**kwargs)
    assert ours.name == theirs.name
    run_both(ours, theirs, kind, kwargs, weighted)
    ours.reset_state()
    theirs.reset_state()
    np.testing.assert_allclose(numpy(ours.result()), keras_numpy(theirs.result()))
    run_both(ours, theirs, kind, kwargs, weighted, seed=10)


def test_mean_and_sum_with_per_element_weights():
    values = np.arange(12, dtype="float32").reshape(4, 3)
    weights = np.linspace(0.0, 1.0, 12).astype("float32").reshape(4, 3)
    for name in ("Mean", "Sum"):
        ours, theirs = getattr(katman.metrics, name)(), getattr(keras.metrics, name)()
        for w in (weights, weights[:, :1], weights[:, 0]):
            ours.update_state(values, sample_weight=w)
            theirs.update_state(values, sample_weight=w)
            np.testing.assert_allclose(
                numpy(ours.result()), keras_numpy(theirs.result()), rtol=1e-6
            )
        ours.update_state(2.5)
        theirs.update_state(2.5)
        np.testing.assert_allclose(numpy(ours.result()), keras_numpy(theirs.result()), rtol=1e-6)


def test_empty_mean_is_zero_and_zero_weights_give_zero():
    metric = katman.metrics.Mean()
    assert numpy(metric.result()) == 0.0
    metric.update_state([1.0, 2.0], sample_weight=[0.0, 0.0])
    assert numpy(metric.result()) == 0.0


def test_call_updates_and_returns_the_result():
    metric = katman.metrics.Mean()
    assert numpy(metric([1.0, 3.0])) == 2.0
    assert numpy(metric([5.0])) == 3.0


def test_mean_metric_wrapper_with_a_function_and_its_arguments():
    def scaled_error(y_true, y_pred, scale=1.0):
        return katman.ops.multiply(
            katman.ops.mean(katman.ops.abs(katman.ops.subtract(y_true, y_pred)), axis=-1), scale
        )

    def keras_scaled_error(y_true, y_pred, scale=1.0):
        return keras.ops.mean(keras.ops.abs(y_true - y_pred), axis=-1) * scale

    ours = katman.metrics.MeanMetricWrapper(scaled_error, name="scaled", scale=3.0)
    theirs = keras.metrics.MeanMetricWrapper(keras_scaled_error, name="scaled", scale=3.0)
    assert ours.name == "scaled"
    run_both(ours, theirs, "regression", {}, weighted=True)


def test_wrapper_default_name_and_registered_functions():
    metric = katman.metrics.MeanMetricWrapper(katman.metrics.binary_accuracy, threshold=0.6)
    assert metric.name == "mean_metric_wrapper"
    y_true, y_pred = make_batch("binary", 6, 0)
    metric.update_state(y_true, y_pred)
    expected = ((y_pred > 0.6) == y_true).mean()
    np.testing.assert_allclose(numpy(metric.result()), expected, rtol=1e-6)
    config = metric.get_config()
    json.dumps(config)
    rebuilt = katman.metrics.MeanMetricWrapper.from_config(config)
    assert rebuilt._fn is katman.metrics.binary_accuracy and rebuilt.get_config() == config
    with_loss = katman.metrics.MeanMetricWrapper(katman.losses.mean_squared_error, name="m")
    assert (
        katman.metrics.MeanMetricWrapper.from_config(with_loss.get_config())._fn
        is katman.losses.mean_squared_error
    )


def test_wrapper_brings_labels_n_to_predictions_n_by_1():
    # Keras's probabilistic metrics raise for (n,) against (n, 1); katman lines them up first.
    y_true, y_pred = make_batch("binary", 6, 1)
    metric = katman.metrics.BinaryCrossentropy()
    metric.update_state(y_true[:, 0], y_pred)
    p = np.clip(y_pred[:, 0], 1e-7, 1 - 1e-7)
    expected = -(y_true[:, 0] * np.log(p) + (1 - y_true[:, 0]) * np.log(1 - p)).mean()
    np.testing.assert_allclose(numpy(metric.result()), expected, rtol=1e-5)
    for name in ("BinaryAccuracy", "MeanSquaredError", "SparseCategoricalAccuracy"):
        ours, theirs = getattr(katman.metrics, name)(), getattr(keras.metrics, name)()
        labels = np.round(y_pred[:, 0]) if name == "SparseCategoricalAccuracy" else y_true[:, 0]
        ours.update_state(labels, y_pred)
        theirs.update_state(labels, y_pred)
        np.testing.assert_allclose(numpy(ours.result()), keras_numpy(theirs.result()), rtol=1e-6)


def test_sparse_crossentropy_ignore_class():
    y_true = np.array([0, 1, 2, 1, 4], "int32")
    y_pred = make_batch("sparse", 5, 2)[1]
    weights = np.array([1.0, 2.0, 0.5, 1.0, 3.0], "float32")
    # Weighted: Keras applies the ignore mask to the weights, as katman does.
    ours = katman.metrics.SparseCategoricalCrossentropy(ignore_class=1)
    theirs = keras.metrics.SparseCategoricalCrossentropy(ignore_class=1)
    ours.update_state(y_true, y_pred, sample_weight=weights)
    theirs.update_state(y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(numpy(ours.result()), keras_numpy(theirs.result()), rtol=1e-5)
    # Unweighted: ignored samples stay out of the mean too, as in the loss class (Keras's
    # metric counts them as zeros when no sample_weight is given).
    metric = katman.metrics.SparseCategoricalCrossentropy(ignore_class=1)
    metric.update_state(y_true, y_pred)
    kept = [0, 2, 4]
    expected = -np.log(y_pred[kept, y_true[kept]]).mean()
    np.testing.assert_allclose(numpy(metric.result()), expected, rtol=1e-5)
    loss = katman.losses.SparseCategoricalCrossentropy(ignore_class=1)(y_true, y_pred)
    np.testing.assert_allclose(numpy(metric.result()), numpy(loss), rtol=1e-5)


def test_top_k_counts_ties_in():
    y_pred = np.array([[0.5, 0.5, 0.1], [0.2, 0.3, 0.5]], "float32")
    result = katman.metrics.sparse_top_k_categorical_accuracy([1, 0], y_pred, k=1)
    assert numpy(result).tolist() == [1.0, 0.0]


# --- state, names, configs, registry ----------------------------------------------------------


@pytest.mark.parametrize(("name", "kind", "kwargs"), CASES)
def test_state_lives_in_variables_and_config_round_trips(name, kind, kwargs):
    cls = getattr(katman.metrics, name)
    metric = cls(name="custom", **kwargs)
    assert metric.variables and all(isinstance(v, katman.Variable) for v in metric.variables)
    assert not any(v.trainable for v in metric.variables)
    config = metric.get_config()
    json.dumps(config)
    rebuilt = cls.from_config(config)
    assert type(rebuilt) is cls and rebuilt.get_config() == config
    keras_config = getattr(keras.metrics, name)(name="custom", **kwargs).get_config()
    assert {k: config[k] for k in keras_config} == keras_config
    data, _ = next(batches(kind, kwargs))
    metric.update_state(*data)
    rebuilt.update_state(*data)
    np.testing.assert_allclose(numpy(rebuilt.result()), numpy(metric.result()))


def test_keras_default_names():
    for name, _, _ in METRICS:
        assert getattr(katman.metrics, name)().name == getattr(keras.metrics, name)().name


def test_registry_names_and_aliases():
    get = katman.metrics.get
    for alias, cls in [
        ("mse", "MeanSquaredError"),
        ("MSE", "MeanSquaredError"),
        ("mae", "MeanAbsoluteError"),
        ("mape", "MeanAbsolutePercentageError"),
        ("msle", "MeanSquaredLogarithmicError"),
        ("bce", "BinaryCrossentropy"),
        ("mean", "Mean"),
        ("sum", "Sum"),
        ("root_mean_squared_error", "RootMeanSquaredError"),
        ("cosine_similarity", "CosineSimilarity"),
    ]:
        assert type(get(alias)) is getattr(katman.metrics, cls), alias
    for function in (
        "binary_accuracy",
        "categorical_accuracy",
        "sparse_categorical_accuracy",
        "top_k_categorical_accuracy",
        "sparse_top_k_categorical_accuracy",
    ):
        assert get(function) is getattr(katman.metrics, function)
        assert callable(getattr(keras.metrics, function))
    # Loss functions Keras also exports from keras.metrics are the very same functions.
    for function in (
        "mean_squared_error",
        "binary_crossentropy",
        "sparse_categorical_crossentropy",
        "hinge",
    ):
        assert getattr(katman.metrics, function) is getattr(katman.losses, function)
    # "accuracy" / "acc" are left to Model.compile, which picks the right accuracy.
    for name in ("accuracy", "acc"):
        with pytest.raises(UnknownNameError):
            get(name)
    assert isinstance(get("Accuracy"), katman.metrics.Accuracy)


def test_registered_accuracy_functions_match_keras():
    y_true, y_pred = make_batch("categorical", 6, 3)
    labels = np.argmax(y_true, -1)
    pairs = [
        ("categorical_accuracy", (y_true, y_pred), {}),
        ("sparse_categorical_accuracy", (labels, y_pred), {}),
        ("top_k_categorical_accuracy", (y_true, y_pred), {"k": 2}),
        ("sparse_top_k_categorical_accuracy", (labels, y_pred), {"k": 3}),
        ("binary_accuracy", make_batch("binary", 6, 4), {"threshold": 0.4}),
    ]
    for name, args, kwargs in pairs:
        ours = numpy(getattr(katman.metrics, name)(*args, **kwargs))
        theirs = keras_numpy(getattr(keras.metrics, name)(*args, **kwargs))
        np.testing.assert_allclose(ours, theirs, err_msg=name)


def test_errors_name_the_metric():
    metric = katman.metrics.Mean(name="my_mean")
    with pytest.raises(ShapeError, match="my_mean"):
        metric.update_state(np.ones((4, 3), "float32"), sample_weight=np.ones((2,), "float32"))
    with pytest.raises(ShapeError, match=r"my_mean.*more axes"):
        metric.update_state(np.ones((4,), "float32"), sample_weight=np.ones((4, 3), "float32"))
    with pytest.raises(ValueError, match=r"TopKCategoricalAccuracy.*k"):
        katman.metrics.TopKCategoricalAccuracy(k=0)
    with pytest.raises(ValueError, match=r"MeanMetricWrapper.*callable"):
        katman.metrics.MeanMetricWrapper("mse")


# --- compiled steps -------------------------------------------------------------------------

COMPILED = [
    ("Mean", "values", {}),
    ("MeanSquaredError", "regression", {}),
    ("RootMeanSquaredError", "regression", {}),
    ("BinaryAccuracy", "binary", {}),
    ("SparseCategoricalAccuracy", "sparse_column", {}),
    ("SparseTopKCategoricalAccuracy", "sparse", {"k": 2}),
    ("TopKCategoricalAccuracy", "categorical", {"k": 2}),
    ("SparseCategoricalCrossentropy", "sparse", {"ignore_class": 1}),
    ("CategoricalCrossentropy", "categorical", {"label_smoothing": 0.1}),
]


@pytest.mark.parametrize(("name", "kind", "kwargs"), COMPILED, ids=[c[0] for c in COMPILED])
def test_updates_run_inside_compiled_steps(name, kind, kwargs):
    """The backend's compiled step (jax.jit, tf.function with relaxed shapes, torch) runs
    update_state on batches of changing size and agrees with eager updates."""
    backend = katman.backend.get_backend()
    compiled, eager = (
        getattr(katman.metrics, name)(**kwargs),
        getattr(katman.metrics, name)(**kwargs),
    )

    def update(*args):
        *data, weights = args
        compiled.update_state(*data, sample_weight=weights)

    step = backend.compile_step(update, [v.handle for v in compiled.variables], mode="auto")
    for data, weights in batches(kind, kwargs):
        step(*[katman.ops.convert_to_tensor(x) for x in (*data, weights)])
        eager.update_state(*data, sample_weight=weights)
    np.testing.assert_allclose(numpy(compiled.result()), numpy(eager.result()), rtol=1e-5)


@pytest.mark.parametrize(
    "name",
    sorted(
        {name for name, _, _ in METRICS}
        | {
            "MeanMetricWrapper",
            "binary_accuracy",
            "categorical_accuracy",
            "sparse_categorical_accuracy",
            "top_k_categorical_accuracy",
            "sparse_top_k_categorical_accuracy",
        }
    ),
)
def test_signature_matches_keras(name):
    ours = inspect.signature(getattr(katman.metrics, name)).parameters
    theirs = inspect.signature(getattr(keras.metrics, name)).parameters
    assert [(p.name, p.default) for p in ours.values()] == [
        (p.name, p.default) for p in theirs.values()
    ]

"""Built-in metrics plugin: Keras 3's reductions, accuracies and the metric forms of losses.

Every metric keeps its state in variables made with ``add_variable`` and updates them with
``katman.ops`` only, so ``update_state`` runs inside compiled training steps and never reads
values back to the host.

Example:
    >>> import katman
    >>> metric = katman.metrics.BinaryAccuracy()
    >>> metric.update_state([[1.0], [0.0]], [[0.8], [0.6]])
    >>> float(katman.ops.convert_to_numpy(metric.result()))
    0.5
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import katman
from katman import losses, ops, serialization
from katman.errors import ShapeError, UnknownNameError
from katman.losses.loss import squeeze_or_expand_to_same_rank
from katman.metrics.metric import Metric
from katman.registry import PluginRegistrar


def _zeros(shape: tuple[int, ...], dtype: str) -> Any:
    return ops.zeros(shape, dtype)


def _samplewise(
    owner: str, values: Any, sample_weight: Any, reduce: Callable[..., Any], dtype: str
) -> tuple[Any, Any]:
    """``values`` (and ``sample_weight``) brought to one value per sample, as Keras's
    ``reduce_to_samplewise_values``: axes the weights lack are reduced first, weights are
    broadcast and applied, then everything past the batch axis is reduced."""
    values = ops.cast(ops.convert_to_tensor(values), dtype)
    if sample_weight is not None:
        sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_rank, value_rank = len(sample_weight.shape), len(values.shape)
        if value_rank > weight_rank:
            values = reduce(values, axis=tuple(range(weight_rank, value_rank)))
        if weight_rank > value_rank:
            raise _weight_error(owner, sample_weight, values, "it has more axes than the values")
        try:
            # Broadcast by multiplying, which also works for dimensions unknown until run time.
            sample_weight = ops.multiply(sample_weight, ops.ones_like(values))
        except ValueError as err:
            raise _weight_error(owner, sample_weight, values, str(err)) from err
        values = ops.multiply(values, sample_weight)
        if weight_rank > 1:
            sample_weight = reduce(sample_weight, axis=tuple(range(1, weight_rank)))
    if len(values.shape) > 1:
        values = reduce(values, axis=tuple(range(1, len(values.shape))))
    return values, sample_weight


def _weight_error(owner: str, sample_weight: Any, values: Any, reason: str) -> ShapeError:
    return ShapeError(
        f"Metric {owner!r}: sample_weight of shape {tuple(sample_weight.shape)} does not "
        f"broadcast to the values of shape {tuple(values.shape)}: expected one weight per "
        f"sample, or a shape that broadcasts to the values ({reason})."
    )


# --- reductions ----------------------------------------------------------------------------


class Sum(Metric):
    """The (weighted) sum of every value seen.

    Args:
        name: the metric's name.
        dtype: the dtype of the state and the result.

    Example:
        >>> import katman
        >>> metric = katman.metrics.Sum()
        >>> metric.update_state([1.0, 3.0, 5.0], sample_weight=[1.0, 0.0, 2.0])
        >>> float(katman.ops.convert_to_numpy(metric.result()))
        11.0
    """

    def __init__(self, name: str = "sum", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), _zeros, dtype=self.dtype, name="total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values, _ = _samplewise(self.name, values, sample_weight, ops.sum, self.dtype)
        self.total.assign_add(ops.sum(values))

    def result(self) -> Any:
        return ops.cast(self.total.value, self.dtype)


class Mean(Metric):
    """The (weighted) mean of every value seen: ``sum(values * weights) / sum(weights)``.

    Values of rank > 1 count once per sample (their mean over the other axes).

    Args:
        name: the metric's name.
        dtype: the dtype of the state and the result.

    Example:
        >>> import katman
        >>> metric = katman.metrics.Mean()
        >>> metric.update_state([1.0, 3.0, 5.0], sample_weight=[1.0, 0.0, 1.0])
        >>> float(katman.ops.convert_to_numpy(metric.result()))
        3.0
    """

    def __init__(self, name: str = "mean", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), _zeros, dtype=self.dtype, name="total")
        self.count = self.add_variable((), _zeros, dtype=self.dtype, name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values = ops.convert_to_tensor(values)
        if sample_weight is None:
            weight = 1.0
        elif _is_number(sample_weight):
            weight = float(sample_weight)
        elif not ops.shape(sample_weight):
            weight = ops.cast(sample_weight, self.dtype)
        else:
            weight = None
        if tuple(values.shape) == () and weight is not None:
            # One value with one weight (the loss of a step weighted by its batch size):
            # every training step does this, so it skips the general broadcasting.
            values = ops.convert_to_tensor(values, self.dtype)  # a cast, without an op call
            self.total.assign_add(ops.multiply(values, weight))
            self.count.assign_add(weight)
            return
        values, sample_weight = _samplewise(self.name, values, sample_weight, ops.mean, self.dtype)
        self.total.assign_add(ops.sum(values))
        if sample_weight is not None:
            count = ops.sum(sample_weight)
        elif len(values.shape):
            count = ops.cast(ops.size(values), self.dtype)
        else:
            count = ops.ones((), self.dtype)
        self.count.assign_add(count)

    def result(self) -> Any:
        return ops.divide_no_nan(self.total.value, self.count.value)  # 0 before any weight


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _serialize_function(owner: str, fn: Any) -> Any:
    for kind in ("metric", "loss"):
        try:
            return serialization.serialize(fn, kind)
        except ValueError:
            continue
    raise ValueError(
        f"{owner}: cannot serialize its function {fn!r}: it is not a registered metric or "
        "loss. Register it from a plugin (registry.add('metric', name, fn)) or give the "
        "metric's class a get_config that leaves it out."
    )


def _deserialize_function(config: Any) -> Any:
    if callable(config):
        return config
    for kind in ("metric", "loss"):
        try:
            return serialization.deserialize(config, kind)
        except UnknownNameError:
            continue
    raise UnknownNameError(f"MeanMetricWrapper: unknown metric function {config!r}.")


class MeanMetricWrapper(Mean):
    """The weighted mean of ``fn(y_true, y_pred, **kwargs)`` over every sample seen.

    ``y_true`` and ``y_pred`` whose ranks differ by a trailing unit axis (labels ``(n,)``
    against predictions ``(n, 1)``) are brought to the same rank first.

    Args:
        fn: a function returning one value per sample (or per element).
        name: the metric's name.
        dtype: the dtype of the state and the result.
        **kwargs: passed on to ``fn``.

    Example:
        >>> import katman
        >>> metric = katman.metrics.MeanMetricWrapper(katman.metrics.binary_accuracy,
        ...                                           name="acc", threshold=0.7)
        >>> metric.update_state([[1.0], [1.0]], [[0.8], [0.6]])
        >>> float(katman.ops.convert_to_numpy(metric.result()))
        0.5
    """

    def __init__(
        self, fn: Callable[..., Any], name: str | None = None, dtype: Any = None, **kwargs: Any
    ) -> None:
        if not callable(fn):
            raise ValueError(f"MeanMetricWrapper: fn must be callable, got {fn!r}.")
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = squeeze_or_expand_to_same_rank(
            ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred)
        )
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict[str, Any]:
        fn = _serialize_function(type(self).__name__, self._fn)
        return {**super().get_config(), "fn": fn, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MeanMetricWrapper:
        config = dict(config)
        if "fn" in config:
            config["fn"] = _deserialize_function(config["fn"])
        return cls(**config)


class _FixedFunction(MeanMetricWrapper):
    """A MeanMetricWrapper whose function is fixed by the class: the config holds only the
    constructor's own arguments (as Keras writes them)."""

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MeanMetricWrapper:
        return cls(**config)


# --- accuracy ------------------------------------------------------------------------------


def _accuracy(y_true: Any, y_pred: Any) -> Any:
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), ops.dtype(y_pred))
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return ops.cast(ops.equal(y_true, y_pred), katman.config.floatx())


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> Any:
    """1.0 where ``y_pred > threshold`` agrees with the 0/1 label ``y_true``, else 0.0.

    Example:
        >>> import katman
        >>> katman.ops.convert_to_numpy(katman.metrics.binary_accuracy(
        ...     [[1.0], [0.0]], [[0.8], [0.6]])).tolist()
        [[1.0], [0.0]]
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    predicted = ops.cast(ops.greater(y_pred, threshold), ops.dtype(y_true))
    return ops.cast(ops.equal(y_true, predicted), katman.config.floatx())


def categorical_accuracy(y_true: Any, y_pred: Any) -> Any:
    """1.0 where the arg-max of ``y_pred`` is the arg-max of the one-hot ``y_true``."""
    y_true = ops.argmax(ops.convert_to_tensor(y_true), axis=-1)
    y_pred = ops.argmax(ops.convert_to_tensor(y_pred), axis=-1)
    return ops.cast(ops.equal(y_true, y_pred), katman.config.floatx())


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> Any:
    """1.0 where the arg-max of ``y_pred`` equals the integer label ``y_true``.

    Example:
        >>> import katman
        >>> katman.ops.convert_to_numpy(katman.metrics.sparse_categorical_accuracy(
        ...     [1, 0], [[0.2, 0.8], [0.3, 0.7]])).tolist()
        [1.0, 0.0]
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    rank = len(y_true.shape)
    squeezed = rank == len(y_pred.shape) and rank > 0 and y_true.shape[-1] == 1
    if squeezed:
        y_true = ops.squeeze(y_true, -1)
    predicted = ops.argmax(y_pred, axis=-1)
    matches = ops.equal(ops.cast(y_true, "int32"), ops.cast(predicted, "int32"))
    matches = ops.cast(matches, katman.config.floatx())
    if squeezed and rank == 1:
        return ops.reshape(matches, (1,))  # labels (1,) against one row of scores
    if len(matches.shape) > 1 and matches.shape[-1] == 1:
        matches = ops.squeeze(matches, -1)
    return matches


def _in_top_k(labels: Any, y_pred: Any, k: int) -> Any:
    """Whether each label's prediction is among the ``k`` largest of its row (ties count
    in, a NaN prediction never does)."""
    y_pred = ops.convert_to_tensor(y_pred)
    target = ops.take_along_axis(y_pred, ops.expand_dims(ops.cast(labels, "int32"), -1), -1)
    target = ops.where(ops.isnan(target), float("-inf"), target)
    above = ops.sum(ops.cast(ops.greater(y_pred, target), "int32"), axis=-1)
    return ops.less(above, k)


def _flatten_rows(labels: Any, y_pred: Any) -> tuple[Any, Any, Any]:
    """Labels as a vector and predictions as a matrix (one row per label), with the labels'
    shape to restore afterwards (None when they already were a vector)."""
    shape = ops.shape(labels) if len(labels.shape) > 1 else None
    if len(y_pred.shape) > 2:
        y_pred = ops.reshape(y_pred, (-1, y_pred.shape[-1]))
    if shape is not None:
        labels = ops.reshape(labels, (-1,))
    return labels, y_pred, shape


def _top_k_matches(labels: Any, y_pred: Any, k: int) -> Any:
    labels, y_pred, shape = _flatten_rows(labels, ops.convert_to_tensor(y_pred))
    matches = ops.cast(_in_top_k(labels, y_pred, k), katman.config.floatx())
    return matches if shape is None else ops.reshape(matches, shape)


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Any:
    """1.0 where the class of the one-hot ``y_true`` is among the ``k`` highest
    predictions."""
    labels = ops.argmax(ops.convert_to_tensor(y_true), axis=-1)
    return _top_k_matches(labels, y_pred, k)


def sparse_top_k_categorical_accuracy(
    y_true: Any, y_pred: Any, k: int = 5, from_sorted_ids: bool = False
) -> Any:
    """1.0 where the integer label ``y_true`` is among the ``k`` highest predictions; with
    ``from_sorted_ids``, ``y_pred`` holds class ids sorted by score (best first)."""
    y_pred = ops.convert_to_tensor(y_pred)
    labels = ops.convert_to_tensor(y_true)
    if not from_sorted_ids:
        return _top_k_matches(labels, y_pred, k)
    labels, y_pred, shape = _flatten_rows(ops.cast(labels, ops.dtype(y_pred)), y_pred)
    best = ops.take(y_pred, list(range(min(k, y_pred.shape[-1]))), axis=1)
    found = ops.any(ops.equal(ops.expand_dims(labels, 1), best), axis=1)
    matches = ops.cast(found, katman.config.floatx())
    return matches if shape is None else ops.reshape(matches, shape)


def _check_k(owner: str, k: Any) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"{owner}: k must be a positive int, got {k!r}.")


class Accuracy(_FixedFunction):
    """How often ``y_pred`` equals ``y_true`` exactly.

    Args:
        name: the metric's name.
        dtype: the dtype of the state and the result.
    """

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(_accuracy, name=name, dtype=dtype)


class BinaryAccuracy(_FixedFunction):
    """How often ``y_pred > threshold`` agrees with 0/1 labels.

    Args:
        name: the metric's name.
        dtype: the dtype of the state and the result.
        threshold: the probability above which a prediction counts as 1.
    """

    def __init__(
        self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5
    ) -> None:
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(_FixedFunction):
    """How often the arg-max of ``y_pred`` matches that of the one-hot ``y_true``.

    Args:
        name: the metric's name.
        dtype: the dtype of the state and the result.
    """

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(_FixedFunction):
    """How often the arg-max of ``y_pred`` equals the integer label ``y_true``.

    Args:
        name: the metric's name.
        dtype: the dtype of the state and the result.
    """

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(_FixedFunction):
    """How often the one-hot label's class is among the ``k`` highest predictions.

    Args:
        k: how many of the best predictions count.
        name: the metric's name.
        dtype: the dtype of the state and the result.
    """

    def __init__(
        self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None
    ) -> None:
        _check_k("TopKCategoricalAccuracy", k)
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(_FixedFunction):
    """How often the integer label is among the ``k`` highest predictions.

    Args:
        k: how many of the best predictions count.
        name: the metric's name.
        dtype: the dtype of the state and the result.
        from_sorted_ids: ``y_pred`` holds class ids sorted by score rather than scores.
    """

    def __init__(
        self,
        k: int = 5,
        name: str = "sparse_top_k_categorical_accuracy",
        dtype: Any = None,
        from_sorted_ids: bool = False,
    ) -> None:
        _check_k("SparseTopKCategoricalAccuracy", k)
        super().__init__(
            sparse_top_k_categorical_accuracy,
            name=name,
            dtype=dtype,
            k=k,
            from_sorted_ids=from_sorted_ids,
        )
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self) -> dict[str, Any]:
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config


# --- metric forms of losses ----------------------------------------------------------------


def _loss(name: str) -> Callable[..., Any]:
    """The loss function registered as ``name`` (resolved through the registry)."""
    return losses.get(name)


class MeanSquaredError(_FixedFunction):
    """The mean of :func:`katman.losses.mean_squared_error` over the samples seen.

    Args:
        name: the metric's name.
        dtype: the dtype of the state and the result.
    """

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(_loss("mean_squared_error"), name=name, dtype=dtype)


class MeanAbsoluteError(_FixedFunction):
    """The mean of :func:`katman.losses.mean_absolute_error` over the samples seen.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(_loss("mean_absolute_error"), name=name, dtype=dtype)


class MeanAbsolutePercentageError(_FixedFunction):
    """The mean of :func:`katman.losses.mean_absolute_percentage_error`.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(_loss("mean_absolute_percentage_error"), name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_FixedFunction):
    """The mean of :func:`katman.losses.mean_squared_logarithmic_error`.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None) -> None:
        super().__init__(_loss("mean_squared_logarithmic_error"), name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """``sqrt`` of the (weighted) mean squared error over every value seen.

    Args:
        name: the metric's name.
        dtype: the dtype of the state and the result.

    Example:
        >>> import katman
        >>> metric = katman.metrics.RootMeanSquaredError()
        >>> metric.update_state([[0.0, 0.0]], [[3.0, 5.0]])
        >>> float(katman.ops.convert_to_numpy(metric.result()))
        4.123105525970459
    """

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true = ops.convert_to_tensor(y_true, self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        squared = ops.square(ops.subtract(y_pred, y_true))
        super().update_state(squared, sample_weight=sample_weight)

    def result(self) -> Any:
        return ops.sqrt(super().result())


def _cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Any:
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), ops.dtype(y_pred))
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_true = ops.normalize(y_true, axis=axis, order=2)
    y_pred = ops.normalize(y_pred, axis=axis, order=2)
    return ops.sum(ops.multiply(y_true, y_pred), axis=axis)


class CosineSimilarity(_FixedFunction):
    """The mean cosine similarity between ``y_true`` and ``y_pred`` along ``axis`` (1 for
    the same direction; unlike the loss, not negated).

    Args:
        name: the metric's name.
        dtype: the dtype of the state and the result.
        axis: the axis along which vectors are compared.
    """

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1) -> None:
        super().__init__(_cosine_similarity, name=name, dtype=dtype, axis=axis)


class LogCoshError(_FixedFunction):
    """The mean of :func:`katman.losses.log_cosh` over the samples seen.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(self, name: str = "logcosh", dtype: Any = None) -> None:
        super().__init__(_loss("log_cosh"), name=name, dtype=dtype)


class Hinge(_FixedFunction):
    """The mean of :func:`katman.losses.hinge` over the samples seen.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(self, name: str = "hinge", dtype: Any = None) -> None:
        super().__init__(_loss("hinge"), name=name, dtype=dtype)


class SquaredHinge(_FixedFunction):
    """The mean of :func:`katman.losses.squared_hinge` over the samples seen.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(self, name: str = "squared_hinge", dtype: Any = None) -> None:
        super().__init__(_loss("squared_hinge"), name=name, dtype=dtype)


class CategoricalHinge(_FixedFunction):
    """The mean of :func:`katman.losses.categorical_hinge` over the samples seen.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None) -> None:
        super().__init__(_loss("categorical_hinge"), name=name, dtype=dtype)


class KLDivergence(_FixedFunction):
    """The mean of :func:`katman.losses.kl_divergence` over the samples seen.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(self, name: str = "kl_divergence", dtype: Any = None) -> None:
        super().__init__(_loss("kl_divergence"), name=name, dtype=dtype)


class Poisson(_FixedFunction):
    """The mean of :func:`katman.losses.poisson` over the samples seen.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(self, name: str = "poisson", dtype: Any = None) -> None:
        super().__init__(_loss("poisson"), name=name, dtype=dtype)


class BinaryCrossentropy(_FixedFunction):
    """The mean binary cross-entropy (:func:`katman.losses.binary_crossentropy`).

    Args:
        name: the metric's name.
        dtype: the dtype of the state and the result.
        from_logits: whether predictions are logits (else probabilities).
        label_smoothing: in [0, 1]; labels move towards 0.5 by this much.
    """

    def __init__(
        self,
        name: str = "binary_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(
            _loss("binary_crossentropy"),
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing


class CategoricalCrossentropy(_FixedFunction):
    """The mean categorical cross-entropy (:func:`katman.losses.categorical_crossentropy`).

    Args:
        name: the metric's name.
        dtype: the dtype of the state and the result.
        from_logits: whether predictions are logits (else probabilities).
        label_smoothing: in [0, 1], as in the loss.
        axis: the class axis.
    """

    def __init__(
        self,
        name: str = "categorical_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
    ) -> None:
        super().__init__(
            _loss("categorical_crossentropy"),
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class SparseCategoricalCrossentropy(_FixedFunction):
    """The mean categorical cross-entropy with integer labels
    (:func:`katman.losses.sparse_categorical_crossentropy`).

    Args:
        name: the metric's name.
        dtype: the dtype of the state and the result.
        from_logits: whether predictions are logits (else probabilities).
        ignore_class: a label whose samples are left out of the mean (None: keep all).
        axis: the class axis.
    """

    def __init__(
        self,
        name: str = "sparse_categorical_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        ignore_class: int | None = None,
        axis: int = -1,
    ) -> None:
        super().__init__(
            _loss("sparse_categorical_crossentropy"),
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if self.ignore_class is None:
            return super().update_state(y_true, y_pred, sample_weight)
        # Samples labelled ignore_class weigh 0, so they count neither in the total nor in
        # the count (Keras does this through the mask its loss function attaches).
        y_true, y_pred = squeeze_or_expand_to_same_rank(
            ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred)
        )
        labels = y_true
        if len(labels.shape) == len(y_pred.shape) and labels.shape[self.axis] == 1:
            labels = ops.squeeze(labels, self.axis)
        kept = ops.cast(
            ops.not_equal(labels, ops.cast(self.ignore_class, ops.dtype(labels))), self.dtype
        )
        if sample_weight is not None:
            weight = ops.cast(ops.convert_to_tensor(sample_weight), self.dtype)
            kept, weight = squeeze_or_expand_to_same_rank(kept, weight)
            kept = ops.multiply(weight, kept)
        return super().update_state(y_true, y_pred, kept)


METRIC_CLASSES = (
    (Sum, ("sum",)),
    (Mean, ("mean",)),
    (MeanMetricWrapper, ()),
    (Accuracy, ()),
    (BinaryAccuracy, ()),
    (CategoricalAccuracy, ()),
    (SparseCategoricalAccuracy, ()),
    (TopKCategoricalAccuracy, ()),
    (SparseTopKCategoricalAccuracy, ()),
    (MeanSquaredError, ("mse", "MSE")),
    (MeanAbsoluteError, ("mae", "MAE")),
    (MeanAbsolutePercentageError, ("mape", "MAPE")),
    (MeanSquaredLogarithmicError, ("msle", "MSLE")),
    (RootMeanSquaredError, ("root_mean_squared_error",)),
    (CosineSimilarity, ("cosine_similarity",)),
    (LogCoshError, ("log_cosh_error", "logcosh")),
    (Hinge, ()),
    (SquaredHinge, ()),
    (CategoricalHinge, ()),
    (KLDivergence, ()),
    (Poisson, ()),
    (BinaryCrossentropy, ("bce", "BCE")),
    (CategoricalCrossentropy, ()),
    (SparseCategoricalCrossentropy, ()),
)

METRIC_FUNCTIONS = (
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    top_k_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
)

# The loss functions Keras also exports from ``keras.metrics``, registered lazily by path.
LOSS_FUNCTIONS = (
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "log_cosh",
    "huber",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "kl_divergence",
    "poisson",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
)


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for cls, aliases in METRIC_CLASSES:
        registry.add("metric", cls.__name__, cls, aliases=aliases)
    for function in METRIC_FUNCTIONS:
        registry.add("metric", function.__name__, function)
    for name in LOSS_FUNCTIONS:
        registry.add("metric", name, f"katman.plugins.losses:{name}")

"""Built-in losses plugin: Keras 3's loss functions and the classes that wrap them.

Each function takes ``(y_true, y_pred, ...)`` and returns one loss per sample (averaged over
the last axis where Keras does); each class is a :class:`katman.losses.LossFunctionWrapper`
around its function that adds sample weights and a reduction. Probabilities are clipped to
``[epsilon, 1 - epsilon]`` (``katman.config.epsilon()``) and ``from_logits=True`` takes the
numerically stable logits path, as in Keras.

Example:
    >>> import katman
    >>> loss = katman.losses.get("mse")
    >>> katman.ops.convert_to_numpy(loss([[0.0, 1.0]], [[1.0, 1.0]])).tolist()
    [0.5]
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import katman
from katman import ops
from katman.config import epsilon
from katman.losses.loss import LossFunctionWrapper, squeeze_or_expand_to_same_rank
from katman.registry import PluginRegistrar

# --- helpers -------------------------------------------------------------------------------


def _prediction(y_pred: Any) -> Any:
    """``y_pred`` as a floating-point tensor (integer input becomes ``floatx``)."""
    y_pred = ops.convert_to_tensor(y_pred)
    if not ops.dtype(y_pred).startswith(("float", "bfloat")):
        y_pred = ops.cast(y_pred, katman.config.floatx())
    return y_pred


def _pair(y_true: Any, y_pred: Any, same_rank: bool = True) -> tuple[Any, Any]:
    """Both as tensors of ``y_pred``'s float dtype; with ``same_rank``, a trailing unit axis
    is squeezed or added so ``(n,)`` labels match ``(n, 1)`` predictions."""
    y_pred = _prediction(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), ops.dtype(y_pred))
    if same_rank:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return y_true, y_pred


def _check_label_smoothing(owner: str, label_smoothing: Any) -> float:
    value = float(label_smoothing)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{owner}: label_smoothing must be in [0, 1], got {label_smoothing!r}.")
    return value


def _check_axis(owner: str, axis: Any) -> None:
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"{owner}: axis must be an int, got {axis!r} of type {type(axis)}.")


def _to_hinge_labels(y_true: Any) -> Any:
    """Labels in {0, 1} become {-1, 1}; any other labels are left as they are."""
    binary = ops.all(ops.logical_or(ops.equal(y_true, 0.0), ops.equal(y_true, 1.0)))
    return ops.where(binary, ops.subtract(ops.multiply(y_true, 2.0), 1.0), y_true)


# --- regression ----------------------------------------------------------------------------


def mean_squared_error(y_true: Any, y_pred: Any) -> Any:
    """Per-sample ``mean(square(y_true - y_pred), axis=-1)``.

    Example:
        >>> import katman
        >>> katman.ops.convert_to_numpy(
        ...     katman.losses.mean_squared_error([[0.0, 2.0]], [[1.0, 1.0]])).tolist()
        [1.0]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(ops.square(ops.subtract(y_true, y_pred)), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Any:
    """Per-sample ``mean(abs(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(ops.abs(ops.subtract(y_true, y_pred)), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Any:
    """Per-sample ``100 * mean(abs((y_true - y_pred) / y_true), axis=-1)``; the divisor is
    at least ``epsilon``."""
    y_true, y_pred = _pair(y_true, y_pred)
    divisor = ops.maximum(ops.abs(y_true), epsilon())
    ratio = ops.abs(ops.divide(ops.subtract(y_true, y_pred), divisor))
    return ops.multiply(ops.mean(ratio, axis=-1), 100.0)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Any:
    """Per-sample ``mean(square(log(y_pred + 1) - log(y_true + 1)), axis=-1)``; values
    below ``epsilon`` count as ``epsilon``."""
    y_true, y_pred = _pair(y_true, y_pred)
    log_pred = ops.log(ops.add(ops.maximum(y_pred, epsilon()), 1.0))
    log_true = ops.log(ops.add(ops.maximum(y_true, epsilon()), 1.0))
    return ops.mean(ops.square(ops.subtract(log_pred, log_true)), axis=-1)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Any:
    """Negative cosine similarity along ``axis``: ``-sum(l2_normalize(y_true) *
    l2_normalize(y_pred))``, between -1 (same direction) and 1 (opposite)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = ops.normalize(y_true, axis=axis, order=2)
    y_pred = ops.normalize(y_pred, axis=axis, order=2)
    return ops.negative(ops.sum(ops.multiply(y_true, y_pred), axis=axis))


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Any:
    """Per-sample Huber loss: ``0.5 * e**2`` where ``|e| <= delta``, else
    ``delta * |e| - 0.5 * delta**2``, averaged over the last axis (``e = y_pred - y_true``)."""
    y_true, y_pred = _pair(y_true, y_pred)
    delta = ops.convert_to_tensor(delta, ops.dtype(y_pred))
    error = ops.subtract(y_pred, y_true)
    abs_error = ops.abs(error)
    quadratic = ops.multiply(ops.square(error), 0.5)
    linear = ops.subtract(ops.multiply(abs_error, delta), ops.multiply(ops.square(delta), 0.5))
    return ops.mean(ops.where(ops.less_equal(abs_error, delta), quadratic, linear), axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> Any:
    """Per-sample ``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed without overflow."""
    y_true, y_pred = _pair(y_true, y_pred)
    error = ops.subtract(y_pred, y_true)
    # log(cosh(x)) = x + softplus(-2x) - log(2)
    value = ops.add(error, ops.softplus(ops.multiply(error, -2.0)))
    return ops.mean(ops.subtract(value, math.log(2.0)), axis=-1)


# --- hinge ---------------------------------------------------------------------------------


def hinge(y_true: Any, y_pred: Any) -> Any:
    """Per-sample ``mean(maximum(1 - y_true * y_pred, 0), axis=-1)``; labels are -1 or 1
    (labels in {0, 1} are mapped to {-1, 1})."""
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    margin = ops.subtract(1.0, ops.multiply(_to_hinge_labels(y_true), y_pred))
    return ops.mean(ops.maximum(margin, 0.0), axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> Any:
    """Per-sample ``mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)``; labels as in
    :func:`hinge`."""
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    margin = ops.subtract(1.0, ops.multiply(_to_hinge_labels(y_true), y_pred))
    return ops.mean(ops.square(ops.maximum(margin, 0.0)), axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> Any:
    """Per-sample ``maximum(neg - pos + 1, 0)`` with ``pos = sum(y_true * y_pred)`` and
    ``neg = max((1 - y_true) * y_pred)`` over the last axis (one-hot ``y_true``)."""
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    positive = ops.sum(ops.multiply(y_true, y_pred), axis=-1)
    negative = ops.max(ops.multiply(ops.subtract(1.0, y_true), y_pred), axis=-1)
    return ops.maximum(ops.add(ops.subtract(negative, positive), 1.0), 0.0)


# --- probabilistic -------------------------------------------------------------------------


def kl_divergence(y_true: Any, y_pred: Any) -> Any:
    """Per-sample Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred), axis=-1)``;
    both are clipped to ``[epsilon, 1]``."""
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    y_true = ops.clip(y_true, epsilon(), 1.0)
    y_pred = ops.clip(y_pred, epsilon(), 1.0)
    return ops.sum(ops.multiply(y_true, ops.log(ops.divide(y_true, y_pred))), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Any:
    """Per-sample ``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    log_pred = ops.log(ops.add(y_pred, epsilon()))
    return ops.mean(ops.subtract(y_pred, ops.multiply(y_true, log_pred)), axis=-1)


def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    """Per-sample binary cross-entropy, averaged over ``axis``.

    Args:
        y_true: labels in [0, 1], the shape of ``y_pred``.
        y_pred: probabilities (clipped to ``[epsilon, 1 - epsilon]``), or logits with
            ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; labels move towards 0.5:
            ``y_true * (1 - label_smoothing) + 0.5 * label_smoothing``.
        axis: the axis averaged over.

    Example:
        >>> import katman
        >>> loss = katman.losses.binary_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])
        >>> round(float(katman.ops.convert_to_numpy(loss)[0]), 4)
        0.6931
    """
    smoothing = _check_label_smoothing("binary_crossentropy", label_smoothing)
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    if smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - smoothing), 0.5 * smoothing)
    values = ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits)
    return ops.mean(values, axis=axis)


def binary_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    """Per-sample focal binary cross-entropy (Lin et al., 2018), averaged over ``axis``:
    the cross-entropy scaled by ``(1 - p_t) ** gamma``, where ``p_t`` is the probability
    given to the true label.

    Args:
        apply_class_balancing: also weight class 1 by ``alpha`` and class 0 by
            ``1 - alpha``.
        alpha: the class-1 weight, used with ``apply_class_balancing``.
        gamma: the focusing exponent (0 gives the plain cross-entropy).
        from_logits, label_smoothing, axis: as in :func:`binary_crossentropy`.
    """
    smoothing = _check_label_smoothing("binary_focal_crossentropy", label_smoothing)
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    if smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - smoothing), 0.5 * smoothing)
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    values = ops.binary_crossentropy(y_true, y_pred, from_logits=False)
    one_minus_true = ops.subtract(1.0, y_true)
    p_t = ops.add(
        ops.multiply(y_true, y_pred), ops.multiply(one_minus_true, ops.subtract(1.0, y_pred))
    )
    values = ops.multiply(ops.power(ops.subtract(1.0, p_t), gamma), values)
    if apply_class_balancing:
        weight = ops.add(ops.multiply(y_true, alpha), ops.multiply(one_minus_true, 1.0 - alpha))
        values = ops.multiply(weight, values)
    return ops.mean(values, axis=axis)


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    """Per-sample categorical cross-entropy between one-hot (or soft) labels and
    predictions along ``axis``.

    Args:
        y_true: one-hot labels, the shape of ``y_pred``.
        y_pred: probabilities (normalized to sum to 1, then clipped to
            ``[epsilon, 1 - epsilon]``), or logits with ``from_logits=True``
            (log-softmax).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; labels become
            ``y_true * (1 - label_smoothing) + label_smoothing / num_classes``.
        axis: the class axis.

    Example:
        >>> import katman
        >>> loss = katman.losses.categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])
        >>> round(float(katman.ops.convert_to_numpy(loss)[0]), 4)
        0.6931
    """
    _check_axis("categorical_crossentropy", axis)
    smoothing = _check_label_smoothing("categorical_crossentropy", label_smoothing)
    y_true, y_pred = _pair(y_true, y_pred, same_rank=False)
    if len(y_pred.shape) and y_pred.shape[-1] == 1:
        warnings.warn(
            "categorical_crossentropy: expected y_pred of shape (batch_size, num_classes) "
            f"with num_classes > 1, got {tuple(y_pred.shape)}; for two classes use "
            "binary_crossentropy.",
            SyntaxWarning,
            stacklevel=2,
        )
    if smoothing and len(y_true.shape):
        classes = y_true.shape[axis]
        y_true = ops.add(ops.multiply(y_true, 1.0 - smoothing), smoothing / classes)
    return ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> Any:
    """Per-sample categorical cross-entropy with integer labels.

    Args:
        y_true: class indices, ``y_pred``'s shape without the class axis (a trailing unit
            axis is allowed).
        y_pred: probabilities or, with ``from_logits=True``, logits, classes along ``axis``.
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label (e.g. -1 or 255 for "void") whose samples get loss 0; the
            loss classes and metrics also leave them out of averages.
        axis: the class axis.

    Example:
        >>> import katman
        >>> loss = katman.losses.sparse_categorical_crossentropy([1], [[0.5, 0.5]])
        >>> round(float(katman.ops.convert_to_numpy(loss)[0]), 4)
        0.6931
    """
    _check_axis("sparse_categorical_crossentropy", axis)
    y_pred = _prediction(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    y_true = _squeeze_sparse_labels(y_true, y_pred, axis)
    if ignore_class is None:
        return ops.sparse_categorical_crossentropy(
            y_true, y_pred, from_logits=from_logits, axis=axis
        )
    valid = _valid_labels(y_true, ignore_class)
    y_true = ops.where(valid, y_true, ops.zeros_like(y_true))
    # Ignored positions see uniform predictions, which keep the loss and its gradient finite.
    y_pred = ops.where(ops.expand_dims(valid, axis), y_pred, ops.ones_like(y_pred))
    values = ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)
    return ops.where(valid, values, ops.zeros_like(values))


sparse_categorical_crossentropy.integer_targets = True  # type: ignore[attr-defined]


def _squeeze_sparse_labels(y_true: Any, y_pred: Any, axis: int) -> Any:
    if len(y_true.shape) == len(y_pred.shape) and len(y_true.shape) and y_true.shape[axis] == 1:
        return ops.squeeze(y_true, axis)
    return y_true


def _valid_labels(y_true: Any, ignore_class: int) -> Any:
    return ops.not_equal(y_true, ops.cast(ignore_class, ops.dtype(y_true)))


def _sparse_label_mask(y_true: Any, y_pred: Any, ignore_class: int, axis: int = -1) -> Any:
    """1.0 where ``y_true`` is not ``ignore_class``, else 0.0, in the shape
    :func:`sparse_categorical_crossentropy` returns."""
    y_pred = _prediction(y_pred)
    y_true = _squeeze_sparse_labels(ops.convert_to_tensor(y_true), y_pred, axis)
    return ops.cast(_valid_labels(y_true, ignore_class), ops.dtype(y_pred))


# --- classes -------------------------------------------------------------------------------


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors over the last axis, then reduced over the batch.

    Args:
        reduction: ``"sum_over_batch_size"`` (default), ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"`` or None / ``"none"``.
        name: the loss's name.
        dtype: the dtype computed in (default ``floatx``).

    Example:
        >>> import katman
        >>> loss = katman.losses.MeanSquaredError()
        >>> float(katman.ops.convert_to_numpy(loss([[0.0, 1.0]], [[1.0, 1.0]])))
        0.5
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors over the last axis, then reduced over the batch.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """:func:`mean_absolute_percentage_error`, reduced over the batch.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_percentage_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            mean_absolute_percentage_error, reduction=reduction, name=name, dtype=dtype
        )


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """:func:`mean_squared_logarithmic_error`, reduced over the batch.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_logarithmic_error",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            mean_squared_logarithmic_error, reduction=reduction, name=name, dtype=dtype
        )


class CosineSimilarity(LossFunctionWrapper):
    """:func:`cosine_similarity` (negative, so that minimizing aligns the vectors).

    Args:
        axis: the axis along which vectors are compared.
        reduction, name, dtype: as :class:`MeanSquaredError`.
    """

    def __init__(
        self,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "cosine_similarity",
        dtype: Any = None,
    ) -> None:
        _check_axis("CosineSimilarity", axis)
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Huber(LossFunctionWrapper):
    """:func:`huber`: quadratic for errors up to ``delta``, linear beyond.

    Args:
        delta: where the loss turns from quadratic to linear (> 0).
        reduction, name, dtype: as :class:`MeanSquaredError`.
    """

    def __init__(
        self,
        delta: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "huber_loss",
        dtype: Any = None,
    ) -> None:
        if not float(delta) > 0:
            raise ValueError(f"Huber: delta must be > 0, got {delta!r}.")
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)


class LogCosh(LossFunctionWrapper):
    """:func:`log_cosh`, reduced over the batch.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "log_cosh",
        dtype: Any = None,
    ) -> None:
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class Hinge(LossFunctionWrapper):
    """:func:`hinge`, reduced over the batch (labels -1/1, or 0/1).

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "hinge",
        dtype: Any = None,
    ) -> None:
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """:func:`squared_hinge`, reduced over the batch.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "squared_hinge",
        dtype: Any = None,
    ) -> None:
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """:func:`categorical_hinge`, reduced over the batch (one-hot labels).

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_hinge",
        dtype: Any = None,
    ) -> None:
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(LossFunctionWrapper):
    """:func:`kl_divergence`, reduced over the batch.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "kl_divergence",
        dtype: Any = None,
    ) -> None:
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """:func:`poisson`, reduced over the batch.

    Args: as :class:`MeanSquaredError`.
    """

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "poisson",
        dtype: Any = None,
    ) -> None:
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy (:func:`binary_crossentropy`), reduced over the batch.

    Args:
        from_logits: whether predictions are logits (else probabilities).
        label_smoothing: in [0, 1]; labels move towards 0.5 by this much.
        axis: the axis averaged over per sample.
        reduction, name, dtype: as :class:`MeanSquaredError`.

    Example:
        >>> import katman
        >>> loss = katman.losses.BinaryCrossentropy(from_logits=True)
        >>> round(float(katman.ops.convert_to_numpy(loss([[1.0]], [[0.0]]))), 4)
        0.6931
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_crossentropy",
        dtype: Any = None,
    ) -> None:
        _check_label_smoothing("BinaryCrossentropy", label_smoothing)
        _check_axis("BinaryCrossentropy", axis)
        super().__init__(
            binary_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Focal binary cross-entropy (:func:`binary_focal_crossentropy`), reduced over the batch.

    Args:
        apply_class_balancing: weight class 1 by ``alpha`` and class 0 by ``1 - alpha``.
        alpha: the class-1 weight.
        gamma: the focusing exponent.
        from_logits, label_smoothing, axis: as :class:`BinaryCrossentropy`.
        reduction, name, dtype: as :class:`MeanSquaredError`.
    """

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_focal_crossentropy",
        dtype: Any = None,
    ) -> None:
        _check_label_smoothing("BinaryFocalCrossentropy", label_smoothing)
        _check_axis("BinaryFocalCrossentropy", axis)
        super().__init__(
            binary_focal_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class CategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy with one-hot labels (:func:`categorical_crossentropy`),
    reduced over the batch.

    Args:
        from_logits: whether predictions are logits (else probabilities).
        label_smoothing: in [0, 1]; labels become
            ``y_true * (1 - label_smoothing) + label_smoothing / num_classes``.
        axis: the class axis.
        reduction, name, dtype: as :class:`MeanSquaredError`.
    """

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        _check_label_smoothing("CategoricalCrossentropy", label_smoothing)
        _check_axis("CategoricalCrossentropy", axis)
        super().__init__(
            categorical_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy with integer labels
    (:func:`sparse_categorical_crossentropy`), reduced over the batch.

    Args:
        from_logits: whether predictions are logits (else probabilities).
        ignore_class: a label whose samples are left out: they get loss 0 and do not count
            in ``"sum_over_batch_size"`` / ``"mean"`` averages (None: keep all).
        reduction: as :class:`MeanSquaredError`.
        axis: the class axis.
        name, dtype: as :class:`MeanSquaredError`.

    Example:
        >>> import katman
        >>> loss = katman.losses.SparseCategoricalCrossentropy(from_logits=True)
        >>> round(float(katman.ops.convert_to_numpy(loss([0, 1], [[0.0, 0.0], [0.0, 0.0]]))), 4)
        0.6931
    """

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        axis: int = -1,
        name: str = "sparse_categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        _check_axis("SparseCategoricalCrossentropy", axis)
        if ignore_class is not None and (
            isinstance(ignore_class, bool) or not isinstance(ignore_class, int)
        ):
            raise ValueError(
                f"SparseCategoricalCrossentropy: ignore_class must be an int or None, got "
                f"{ignore_class!r}."
            )
        super().__init__(
            sparse_categorical_crossentropy,
            reduction=reduction,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        if self.ignore_class is None:
            return super().__call__(y_true, y_pred, sample_weight)
        try:
            mask_weight = self._ignored_class_weight(y_true, y_pred, sample_weight)
        except ValueError:  # ShapeError and OpArgumentError included
            # Mismatched inputs: let Loss.__call__ report them.
            return super().__call__(y_true, y_pred, sample_weight)
        return super().__call__(y_true, y_pred, mask_weight)

    def _ignored_class_weight(self, y_true: Any, y_pred: Any, sample_weight: Any) -> Any:
        # As Keras's masks: averages over the batch count kept samples only, so each kept
        # one weighs total / kept; other reductions just drop the ignored ones.
        y_true = ops.convert_to_tensor(y_true, self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        mask = _sparse_label_mask(y_true, y_pred, self.ignore_class, self.axis)
        if self.reduction in ("sum_over_batch_size", "mean"):
            total = ops.cast(ops.size(mask), self.dtype)
            kept = ops.sum(mask)
            # (With nothing kept the mask is all zeros, whatever the scale.)
            mask = ops.multiply(mask, ops.divide(total, ops.maximum(kept, 1.0)))
        if sample_weight is None:
            return mask
        sample_weight = ops.convert_to_tensor(sample_weight, self.dtype)
        mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight)
        return ops.multiply(sample_weight, mask)


LOSS_CLASSES = (
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    CosineSimilarity,
    Huber,
    LogCosh,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
)

# Each function with the short names Keras's ``losses.get`` also accepts for it.
LOSS_FUNCTIONS = (
    (mean_squared_error, ("mse", "MSE")),
    (mean_absolute_error, ("mae", "MAE")),
    (mean_absolute_percentage_error, ("mape", "MAPE")),
    (mean_squared_logarithmic_error, ("msle", "MSLE")),
    (cosine_similarity, ()),
    (huber, ()),
    (log_cosh, ()),
    (hinge, ()),
    (squared_hinge, ()),
    (categorical_hinge, ()),
    (kl_divergence, ("kld", "KLD")),
    (poisson, ()),
    (binary_crossentropy, ("bce", "BCE")),
    (binary_focal_crossentropy, ()),
    (categorical_crossentropy, ()),
    (sparse_categorical_crossentropy, ()),
)


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for cls in LOSS_CLASSES:
        registry.add("loss", cls.__name__, cls)
    for function, aliases in LOSS_FUNCTIONS:
        registry.add("loss", function.__name__, function, aliases=aliases)

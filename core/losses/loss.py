"""The Loss interface, Keras's reductions and sample weighting, and the function wrapper."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from katman import ops
from katman.config import floatx
from katman.errors import OpArgumentError, ShapeError

REDUCTIONS = ("sum", "sum_over_batch_size", "mean", "mean_with_sample_weight", "none", None)


class Loss:
    """A loss: ``loss(y_true, y_pred, sample_weight=None)`` returns a scalar (or, with
    ``reduction=None``, one value per sample).

    Subclasses implement ``call(y_true, y_pred)`` returning per-sample losses; ``__call__``
    applies sample weights and the reduction.

    Args:
        name: the loss's name (the snake-cased class name by default).
        reduction: ``"sum_over_batch_size"`` (default: the weighted sum divided by the number
            of values), ``"sum"``, ``"mean"`` (same as the default),
            ``"mean_with_sample_weight"`` (divided by the sum of the weights) or None /
            ``"none"``.
        dtype: the dtype computed in (default ``floatx``).
    """

    #: True for losses whose ``y_true`` holds class indices: they keep their integer dtype
    #: instead of being cast to ``dtype`` (float32 holds integers exactly only up to 2**24).
    #: A wrapped function sets it with an ``integer_targets`` attribute of its own.
    integer_targets = False

    def __init__(
        self,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: Any = None,
    ) -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: unknown reduction {reduction!r}; expected one of "
                f"{', '.join(repr(r) for r in REDUCTIONS)}."
            )
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype or floatx()

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        y_true = ops.convert_to_tensor(y_true, None if self.integer_targets else self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, self.dtype)
        try:
            losses = self.call(y_true, y_pred)
        except Exception as err:
            if not isinstance(err, OpArgumentError) and _broadcastable(y_true, y_pred):
                raise
            raise ShapeError(
                f"Loss {self.name!r} ({type(self).__name__}) cannot compare y_true of shape "
                f"{tuple(y_true.shape)} with y_pred of shape {tuple(y_pred.shape)}: expected "
                f"matching shapes. ({err})"
            ) from err
        return reduce_weighted_values(losses, sample_weight, self.reduction, self.dtype)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred).")

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """A :class:`Loss` made from a function ``fn(y_true, y_pred, **kwargs)`` returning
    per-sample losses; the built-in loss classes are such wrappers."""

    def __init__(
        self,
        fn: Callable[..., Any],
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self.integer_targets = getattr(fn, "integer_targets", False)
        self._fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._fn_kwargs}


def squeeze_or_expand_to_same_rank(x1: Any, x2: Any, expand_rank_1: bool = True) -> tuple:
    """Bring two tensors whose ranks differ by one trailing unit axis to the same rank, as
    Keras does for labels of shape ``(n,)`` against predictions of shape ``(n, 1)``."""
    rank1, rank2 = len(x1.shape), len(x2.shape)
    if rank1 == rank2 + 1 and x1.shape[-1] == 1:
        if rank2 == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, -1)
        else:
            x1 = ops.squeeze(x1, -1)
    elif rank2 == rank1 + 1 and x2.shape[-1] == 1:
        if rank1 == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, -1)
        else:
            x2 = ops.squeeze(x2, -1)
    return x1, x2


def reduce_weighted_values(
    values: Any,
    sample_weight: Any = None,
    reduction: str | None = "sum_over_batch_size",
    dtype: Any = None,
) -> Any:
    """Multiply per-sample ``values`` by ``sample_weight`` (broadcast) and reduce them."""
    values = ops.convert_to_tensor(values, dtype)
    if sample_weight is not None:
        sample_weight = ops.convert_to_tensor(sample_weight, ops.dtype(values))
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = ops.multiply(values, sample_weight)
    shape = tuple(values.shape)
    if reduction in (None, "none") or shape in ((), (0,)):
        return values
    weighted_mean = reduction == "mean_with_sample_weight" and sample_weight is not None
    if reduction != "sum" and not weighted_mean and None not in shape and 0 not in shape:
        return ops.mean(values)  # the size is known: one op, not a sum and a division
    total = ops.sum(values)
    if reduction == "sum":
        return total
    if weighted_mean:
        divisor = ops.sum(ops.broadcast_to(sample_weight, ops.shape(values)))
    else:
        divisor = ops.maximum(ops.cast(ops.size(values), ops.dtype(total)), 1)
    return ops.divide(total, ops.maximum(divisor, _tiny(total)))


def _broadcastable(a: Any, b: Any) -> bool:
    for x, y in zip(reversed(tuple(a.shape)), reversed(tuple(b.shape)), strict=False):
        if x != y and 1 not in (x, y):
            return False
    return True


def _tiny(x: Any) -> Any:
    # Dividing by at least this keeps an all-zero weight sum from giving NaN.
    return ops.convert_to_tensor(1e-30 if ops.dtype(x) != "float16" else 1e-7, ops.dtype(x))


def _snake(name: str) -> str:
    """Keras's default object names: ``BatchNormalization`` -> ``batch_normalization``,
    ``Conv2D`` -> ``conv2d``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()

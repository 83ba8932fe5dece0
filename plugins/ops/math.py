"""Elementwise arithmetic and reductions (``keras.ops`` names and signatures)."""

from __future__ import annotations

import functools

import numpy as np

import katman
from katman.ops import Op
from katman.ops.rules import accumulate, to_float
from katman.registry import PluginRegistrar


def _reduction_reference(function: np.ufunc) -> object:
    def reference(x: np.ndarray, axis: object = None, keepdims: bool = False) -> np.ndarray:
        return function(x, axis=axis, keepdims=keepdims)

    return reference


def _divide_no_nan_reference(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x2 == 0, 0, np.true_divide(x1, x2))


def _divide_no_nan_fallback(x1: object, x2: object) -> object:
    from katman import ops

    zero = ops.equal(x2, 0)
    # Divide by 1 where x2 is 0, so the discarded quotient's gradient stays finite too.
    quotient = ops.divide(x1, ops.where(zero, 1, x2))
    return ops.where(zero, ops.zeros_like(quotient), quotient)


# Every op here is reported under the conformance area "math".
_op = functools.partial(Op, area="math")

OPS = (
    _op("add", reference=np.add, doc="Elementwise ``x1 + x2``, with broadcasting."),
    _op("subtract", reference=np.subtract, doc="Elementwise ``x1 - x2``, with broadcasting."),
    _op("multiply", reference=np.multiply, doc="Elementwise ``x1 * x2``, with broadcasting."),
    _op(
        "divide",
        reference=np.true_divide,
        dtype=to_float,
        doc="Elementwise true division ``x1 / x2``.",
    ),
    _op(
        "divide_no_nan",
        reference=_divide_no_nan_reference,
        fallback=_divide_no_nan_fallback,
        dtype=to_float,
        doc="Elementwise ``x1 / x2``, and 0 where ``x2`` is 0 (a mean of nothing, say).",
    ),
    _op("maximum", reference=np.maximum, doc="Elementwise maximum of ``x1`` and ``x2``."),
    _op("minimum", reference=np.minimum, doc="Elementwise minimum of ``x1`` and ``x2``."),
    _op("negative", reference=np.negative, doc="Elementwise ``-x``."),
    _op("abs", reference=np.abs, doc="Elementwise absolute value."),
    _op("square", reference=np.square, doc="Elementwise ``x * x``."),
    _op("sqrt", reference=np.sqrt, dtype=to_float, doc="Elementwise square root."),
    _op("exp", reference=np.exp, dtype=to_float, doc="Elementwise ``e ** x``."),
    _op("log", reference=np.log, dtype=to_float, doc="Elementwise natural logarithm."),
    _op(
        "sum",
        reference=_reduction_reference(np.sum),
        dtype=accumulate,
        doc="Sum over ``axis`` (all if None).",
    ),
    _op(
        "mean",
        reference=_reduction_reference(np.mean),
        dtype=to_float,
        doc="Mean over ``axis`` (all if None).",
    ),
)


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for op in OPS:
        registry.add("op", op.name, op)

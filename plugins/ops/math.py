"""Elementwise arithmetic and reductions (``keras.ops`` names and signatures)."""

from __future__ import annotations

import numpy as np

import katman
from katman.ops import Op
from katman.registry import PluginRegistrar


def _reduction_reference(function: np.ufunc) -> object:
    def reference(x: np.ndarray, axis: object = None, keepdims: bool = False) -> np.ndarray:
        return function(x, axis=axis, keepdims=keepdims)

    return reference


OPS = (
    Op("add", reference=np.add, doc="Elementwise ``x1 + x2``, with broadcasting."),
    Op("subtract", reference=np.subtract, doc="Elementwise ``x1 - x2``, with broadcasting."),
    Op("multiply", reference=np.multiply, doc="Elementwise ``x1 * x2``, with broadcasting."),
    Op("divide", reference=np.true_divide, doc="Elementwise true division ``x1 / x2``."),
    Op("maximum", reference=np.maximum, doc="Elementwise maximum of ``x1`` and ``x2``."),
    Op("minimum", reference=np.minimum, doc="Elementwise minimum of ``x1`` and ``x2``."),
    Op("negative", reference=np.negative, doc="Elementwise ``-x``."),
    Op("abs", reference=np.abs, doc="Elementwise absolute value."),
    Op("square", reference=np.square, doc="Elementwise ``x * x``."),
    Op("sqrt", reference=np.sqrt, doc="Elementwise square root."),
    Op("exp", reference=np.exp, doc="Elementwise ``e ** x``."),
    Op("log", reference=np.log, doc="Elementwise natural logarithm."),
    Op("sum", reference=_reduction_reference(np.sum), doc="Sum over ``axis`` (all if None)."),
    Op("mean", reference=_reduction_reference(np.mean), doc="Mean over ``axis`` (all if None)."),
)


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for op in OPS:
        registry.add("op", op.name, op)

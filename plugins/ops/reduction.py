"""Reductions, scans and sorting (``keras.ops`` names and signatures)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import katman
from katman.dtypes import result_type, standardize_dtype
from katman.ops import Op
from katman.ops.rules import accumulate, fixed, same_as_first, to_float
from katman.registry import PluginRegistrar
from katman.symbolic import KerasTensor

# Every op here is reported under the conformance area "reduction".
_op = functools.partial(Op, area="reduction")


# Shapes and dtypes shared by the references and the symbolic rules.


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a sequence of ints) as sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    for a in axis:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of bounds for an array of rank {ndim}.")
    return tuple(sorted({a % ndim for a in axis})) if ndim else ()


def _reduced_shape(shape: Sequence[int | None], axis: Any, keepdims: bool) -> tuple:
    axes = _axes(axis, len(shape))
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _float_of_first(dtypes: Sequence[Any]) -> str:
    """The first input's dtype made floating (``floatx`` for integers and bools)."""
    return to_float(dtypes[:1])


def _average_dtype(dtypes: Sequence[Any]) -> str:
    """``x`` and ``weights`` promoted together, made floating."""
    return result_type(*dtypes, float)


def _scan_dtype(x_dtype: Any, dtype: Any) -> str:
    """cumsum / cumprod: the requested dtype or the input's, with bools counted as int32."""
    out = standardize_dtype(x_dtype if dtype is None else dtype)
    return "int32" if out == "bool" else out


def _scan_rule(dtypes: Sequence[Any]) -> str:
    """cumsum / cumprod without ``dtype``: the input's dtype, bools counted as int32."""
    return _scan_dtype(result_type(dtypes[0]), None)


def _prod_dtype(x_dtype: Any, dtype: Any) -> str:
    return accumulate([standardize_dtype(x_dtype)]) if dtype is None else standardize_dtype(dtype)


# NumPy references (Keras's signatures).


def _max(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> np.ndarray:
    x = np.asarray(x)
    extra = {} if initial is None else {"initial": np.asarray(initial).astype(x.dtype)}
    return np.asarray(np.max(x, axis=axis, keepdims=keepdims, **extra), dtype=x.dtype)


def _min(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> np.ndarray:
    x = np.asarray(x)
    extra = {} if initial is None else {"initial": np.asarray(initial).astype(x.dtype)}
    return np.asarray(np.min(x, axis=axis, keepdims=keepdims, **extra), dtype=x.dtype)


def _amax(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return _max(x, axis=axis, keepdims=keepdims)


def _amin(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return _min(x, axis=axis, keepdims=keepdims)


def _prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> np.ndarray:
    x = np.asarray(x)
    out = _prod_dtype(x.dtype.name, dtype)
    return np.asarray(np.prod(x.astype(out), axis=axis, keepdims=keepdims, dtype=out))


def _std(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    x = np.asarray(x)
    return np.std(x.astype(to_float([x.dtype.name])), axis=axis, keepdims=keepdims)


def _var(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    x = np.asarray(x)
    return np.var(x.astype(to_float([x.dtype.name])), axis=axis, keepdims=keepdims)


def _argmax(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.asarray(np.argmax(x, axis=axis, keepdims=keepdims), dtype="int32")


def _argmin(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.asarray(np.argmin(x, axis=axis, keepdims=keepdims), dtype="int32")


def _all(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.asarray(np.all(x, axis=axis, keepdims=keepdims))


def _any(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.asarray(np.any(x, axis=axis, keepdims=keepdims))


def _count_nonzero(x: Any, axis: Any = None) -> np.ndarray:
    x = np.asarray(x)
    return np.asarray(np.count_nonzero(x, axis=_axes(axis, x.ndim)), dtype="int32")


def _average(x: Any, axis: Any = None, weights: Any = None) -> np.ndarray:
    x = np.asarray(x)
    names = [x.dtype.name] + ([] if weights is None else [np.asarray(weights).dtype.name])
    dtype = _average_dtype(names)
    if weights is not None:
        weights = np.asarray(weights).astype(dtype)
    return np.asarray(np.average(x.astype(dtype), axis=axis, weights=weights))


def _median(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    x = np.asarray(x)
    return np.median(x.astype(to_float([x.dtype.name])), axis=axis, keepdims=keepdims)


def _quantile(
    x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False
) -> np.ndarray:
    x = np.asarray(x)
    x = x.astype(to_float([x.dtype.name]))
    q = np.asarray(q, dtype="float64")
    return np.quantile(x, q, axis=axis, method=method, keepdims=keepdims).astype(x.dtype)


def _cumsum(x: Any, axis: Any = None, dtype: Any = None) -> np.ndarray:
    x = np.asarray(x)
    out = _scan_dtype(x.dtype.name, dtype)
    return np.cumsum(x.astype(out), axis=axis, dtype=out)


def _cumprod(x: Any, axis: Any = None, dtype: Any = None) -> np.ndarray:
    x = np.asarray(x)
    out = _scan_dtype(x.dtype.name, dtype)
    return np.cumprod(x.astype(out), axis=axis, dtype=out)


def _logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    x = np.asarray(x)
    x = x.astype(to_float([x.dtype.name]))
    axes = _axes(axis, x.ndim)
    peak = np.max(x, axis=axes, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    out = np.log(np.sum(np.exp(x - peak), axis=axes, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axes)


def _sort(x: Any, axis: Any = -1) -> np.ndarray:
    return np.sort(x, axis=axis, kind="stable")


def _argsort(x: Any, axis: Any = -1) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 0:
        axis = None
    return np.argsort(x, axis=axis, kind="stable").astype("int32")


def _top_k(x: Any, k: int, sorted: bool = True) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    # Descending, ties broken towards the lower index: a stable ascending sort of the reversed
    # last axis, read backwards.
    order = np.flip(np.argsort(np.flip(x, -1), axis=-1, kind="stable"), -1)
    indices = (x.shape[-1] - 1 - order)[..., :k]
    return np.take_along_axis(x, indices, axis=-1), indices.astype("int32")


# Symbolic rules where the dtype depends on a non-tensor argument or several outputs differ.


def _prod_spec(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> KerasTensor:
    return KerasTensor(_reduced_shape(x.shape, axis, keepdims), _prod_dtype(x.dtype, dtype))


def _scan_spec(x: Any, axis: Any = None, dtype: Any = None) -> KerasTensor:
    if axis is None:
        shape: tuple = (None,) if None in x.shape else (math.prod(x.shape),)
    else:
        _axes(axis, len(x.shape))
        shape = tuple(x.shape)
    return KerasTensor(shape, _scan_dtype(x.dtype, dtype))


def _top_k_spec(x: Any, k: int, sorted: bool = True) -> tuple[KerasTensor, KerasTensor]:
    if not x.shape:
        raise ValueError("top_k needs an input of rank 1 or more, got a scalar.")
    shape = (*x.shape[:-1], k)
    return KerasTensor(shape, x.dtype), KerasTensor(shape, "int32")


OPS = (
    _op(
        "max",
        reference=_max,
        dtype=same_as_first,
        doc="Largest value over ``axis`` (all if None), no smaller than ``initial`` if given.",
    ),
    _op(
        "min",
        reference=_min,
        dtype=same_as_first,
        doc="Smallest value over ``axis`` (all if None), no larger than ``initial`` if given.",
    ),
    _op("amax", reference=_amax, dtype=same_as_first, doc="Largest value over ``axis``."),
    _op("amin", reference=_amin, dtype=same_as_first, doc="Smallest value over ``axis``."),
    _op(
        "prod",
        reference=_prod,
        dtype=accumulate,
        output_spec=_prod_spec,
        doc="Product over ``axis`` (all if None); small integers and bools widen to int32.",
    ),
    _op(
        "std",
        reference=_std,
        dtype=to_float,
        doc="Population standard deviation over ``axis`` (all if None).",
    ),
    _op(
        "var",
        reference=_var,
        dtype=to_float,
        doc="Population variance over ``axis`` (all if None).",
    ),
    _op(
        "argmax",
        reference=_argmax,
        dtype=fixed("int32"),
        differentiable=False,
        doc="Index (int32) of the largest value along ``axis``, of the flattened input if None.",
    ),
    _op(
        "argmin",
        reference=_argmin,
        dtype=fixed("int32"),
        differentiable=False,
        doc="Index (int32) of the smallest value along ``axis``, of the flattened input if None.",
    ),
    _op(
        "all",
        reference=_all,
        dtype=fixed("bool"),
        differentiable=False,
        doc="Whether every element over ``axis`` is true (non-zero).",
    ),
    _op(
        "any",
        reference=_any,
        dtype=fixed("bool"),
        differentiable=False,
        doc="Whether some element over ``axis`` is true (non-zero).",
    ),
    _op(
        "count_nonzero",
        reference=_count_nonzero,
        dtype=fixed("int32"),
        differentiable=False,
        doc="Number (int32) of non-zero elements over ``axis`` (all if None).",
    ),
    _op(
        "average",
        reference=_average,
        dtype=_average_dtype,
        doc="Mean over ``axis`` weighted by ``weights`` (same shape, or 1-D along ``axis``).",
    ),
    _op(
        "median",
        reference=_median,
        dtype=_float_of_first,
        doc="Median over ``axis`` (all if None), the mean of the two middle values if even.",
    ),
    _op(
        "cumsum",
        reference=_cumsum,
        dtype=_scan_rule,
        output_spec=_scan_spec,
        doc="Running sum along ``axis`` (of the flattened input if None).",
    ),
    _op(
        "cumprod",
        reference=_cumprod,
        dtype=_scan_rule,
        output_spec=_scan_spec,
        doc="Running product along ``axis`` (of the flattened input if None).",
    ),
    _op(
        "logsumexp",
        reference=_logsumexp,
        dtype=to_float,
        doc="``log(sum(exp(x)))`` over ``axis`` (all if None), computed without overflow.",
    ),
    _op(
        "sort",
        reference=_sort,
        dtype=same_as_first,
        doc="Values sorted in ascending order along ``axis`` (of the flattened input if None).",
    ),
    _op(
        "argsort",
        reference=_argsort,
        dtype=fixed("int32"),
        differentiable=False,
        doc="Indices (int32) that sort ``x`` along ``axis``, ties kept in their order.",
    ),
    _op(
        "top_k",
        reference=_top_k,
        output_spec=_top_k_spec,
        doc="The ``k`` largest values along the last axis, descending, and their int32 indices.",
    ),
    _op(
        "quantile",
        reference=_quantile,
        dtype=_float_of_first,
        doc="The ``q``-th quantiles (``q`` in [0, 1]) over ``axis``, interpolated by ``method``.",
    ),
)


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for op in OPS:
        registry.add("op", op.name, op)

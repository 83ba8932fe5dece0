"""Tensor creation (``keras.ops`` names and signatures)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

import katman
from katman.config import floatx
from katman.dtypes import result_type, standardize_dtype
from katman.ops import Op
from katman.ops.rules import same_as_first
from katman.registry import PluginRegistrar
from katman.symbolic import KerasTensor

# Every op here is reported under the conformance area "creation".
_op = functools.partial(Op, area="creation")


def default_float(dtypes: Sequence[Any]) -> str:
    """``floatx``: what zeros, ones, full, eye, identity and tri give unless told a dtype."""
    del dtypes
    return floatx()


def inexact(dtypes: Sequence[Any]) -> str:
    """The common dtype of the tensor inputs, made floating: linspace and logspace."""
    return result_type(*dtypes, float)


def _kind(value: Any) -> Any:
    """What ``result_type`` sees of an argument: its dtype, or a Python scalar (weak)."""
    return value.dtype if hasattr(value, "dtype") else value


def _shape(shape: Any) -> tuple[int | None, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(None if n is None else int(n) for n in shape)


def arange_dtype(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> str:
    """arange's dtype: ``dtype``, else the common dtype of the bounds (Python ints: int32)."""
    if dtype is not None:
        return standardize_dtype(dtype)
    return result_type(*(_kind(v) for v in (start, stop, step) if v is not None))


def space_dtype(start: Any, stop: Any, dtype: Any = None) -> str:
    """linspace's and logspace's dtype: ``dtype``, else the bounds' common float dtype."""
    if dtype is not None:
        return standardize_dtype(dtype)
    return result_type(_kind(start), _kind(stop), float)


def _float64(value: Any) -> np.ndarray:
    """A bound of linspace or logspace: they compute in float64, then cast."""
    return np.asarray(value, dtype="float64")


def _like_dtype(x: Any, dtype: Any) -> str:
    return standardize_dtype(np.asarray(x).dtype if dtype is None else dtype)


# NumPy references, with Keras's signatures.
def zeros(shape: Any, dtype: Any = None) -> np.ndarray:
    return np.zeros(shape, dtype=standardize_dtype(dtype))


def ones(shape: Any, dtype: Any = None) -> np.ndarray:
    return np.ones(shape, dtype=standardize_dtype(dtype))


def full(shape: Any, fill_value: Any, dtype: Any = None) -> np.ndarray:
    return np.full(shape, fill_value, dtype=standardize_dtype(dtype))


def zeros_like(x: Any, dtype: Any = None) -> np.ndarray:
    return np.zeros(np.shape(x), dtype=_like_dtype(x, dtype))


def ones_like(x: Any, dtype: Any = None) -> np.ndarray:
    return np.ones(np.shape(x), dtype=_like_dtype(x, dtype))


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> np.ndarray:
    return np.full(np.shape(x), fill_value, dtype=_like_dtype(x, dtype))


def arange(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> np.ndarray:
    resolved = arange_dtype(start, stop, step, dtype)
    if stop is None:
        start, stop = 0, start
    return np.arange(start, stop, 1 if step is None else step, dtype=resolved)


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    resolved = space_dtype(start, stop, dtype)
    start, stop = _float64(start), _float64(stop)
    samples, step = np.linspace(start, stop, num, endpoint=endpoint, retstep=True, axis=axis)
    if np.issubdtype(resolved, np.integer):
        samples = np.floor(samples)
    samples = samples.astype(resolved)
    if retstep:
        return samples, np.asarray(step, dtype=result_type(resolved, float))
    return samples


def logspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    base: float = 10,
    dtype: Any = None,
    axis: int = 0,
) -> np.ndarray:
    resolved = space_dtype(start, stop, dtype)
    start, stop = _float64(start), _float64(stop)
    return np.logspace(start, stop, num, endpoint=endpoint, base=base, axis=axis).astype(resolved)


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> np.ndarray:
    return np.eye(N, M, k=k, dtype=standardize_dtype(dtype))


def identity(n: int, dtype: Any = None) -> np.ndarray:
    return np.identity(n, dtype=standardize_dtype(dtype))


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> np.ndarray:
    return np.tri(N, M, k=k, dtype=standardize_dtype(dtype))


def meshgrid(*x: Any, indexing: str = "xy") -> list[np.ndarray]:
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}.")
    return list(np.meshgrid(*x, indexing=indexing))


# Shapes and dtypes for symbolic calls (a KerasTensor among the arguments).
def _full_spec(shape: Any, fill_value: Any = None, dtype: Any = None) -> KerasTensor:
    return KerasTensor(_shape(shape), standardize_dtype(dtype))


def _like_dtype_spec(x: Any, dtype: Any) -> str:
    return standardize_dtype(x.dtype if dtype is None else dtype)


def _zeros_like_spec(x: Any, dtype: Any = None) -> KerasTensor:
    return KerasTensor(x.shape, _like_dtype_spec(x, dtype))


def _full_like_spec(x: Any, fill_value: Any, dtype: Any = None) -> KerasTensor:
    return KerasTensor(x.shape, _like_dtype_spec(x, dtype))


def _arange_spec(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> KerasTensor:
    values = (start, stop, step)
    if any(isinstance(v, KerasTensor) for v in values):
        shape: tuple[int | None, ...] = (None,)
    else:
        shape = np.shape(arange(start, stop, step))
    return KerasTensor(shape, arange_dtype(start, stop, step, dtype))


def _space_shape(start: Any, stop: Any, num: int, axis: int) -> list[int | None]:
    shapes = [tuple(getattr(v, "shape", np.shape(v))) for v in (start, stop)]
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + s for s in shapes]
    shape = [None if None in pair else max(pair) for pair in zip(*padded, strict=True)]
    shape.insert(axis % (rank + 1), num)
    return shape


def _linspace_spec(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    resolved = space_dtype(start, stop, dtype)
    samples = KerasTensor(_space_shape(start, stop, num, axis), resolved)
    if retstep:
        step_shape = _space_shape(start, stop, 1, 0)[1:]
        return samples, KerasTensor(step_shape, result_type(resolved, float))
    return samples


def _logspace_spec(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    base: float = 10,
    dtype: Any = None,
    axis: int = 0,
) -> KerasTensor:
    return KerasTensor(_space_shape(start, stop, num, axis), space_dtype(start, stop, dtype))


def _meshgrid_spec(*x: Any, indexing: str = "xy") -> list[KerasTensor]:
    sizes = []
    for value in x:
        shape = tuple(getattr(value, "shape", np.shape(value)))
        sizes.append(None if None in shape else int(np.prod(shape, dtype="int64")))
    if indexing == "xy" and len(sizes) > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    return [KerasTensor(sizes, standardize_dtype(_kind(v))) for v in x]


OPS = (
    _op("zeros", reference=zeros, dtype=default_float, differentiable=False,
        output_spec=lambda shape, dtype=None: _full_spec(shape, dtype=dtype),
        doc="A tensor of ``shape`` filled with 0 (dtype ``floatx`` unless given)."),
    _op("ones", reference=ones, dtype=default_float, differentiable=False,
        output_spec=lambda shape, dtype=None: _full_spec(shape, dtype=dtype),
        doc="A tensor of ``shape`` filled with 1 (dtype ``floatx`` unless given)."),
    _op("full", reference=full, dtype=default_float, differentiable=False,
        output_spec=_full_spec,
        doc="A tensor of ``shape`` filled with ``fill_value`` (dtype ``floatx`` unless given)."),
    _op("zeros_like", reference=zeros_like, dtype=same_as_first, differentiable=False,
        output_spec=_zeros_like_spec,
        doc="Zeros of the shape of ``x``, and of its dtype unless ``dtype`` is given."),
    _op("ones_like", reference=ones_like, dtype=same_as_first, differentiable=False,
        output_spec=_zeros_like_spec,
        doc="Ones of the shape of ``x``, and of its dtype unless ``dtype`` is given."),
    _op("full_like", reference=full_like, dtype=same_as_first, differentiable=False,
        output_spec=_full_like_spec,
        doc="``fill_value`` in the shape of ``x``, and its dtype unless ``dtype`` is given."),
    _op("arange", reference=arange, differentiable=False, output_spec=_arange_spec,
        doc="Evenly spaced values in ``[start, stop)`` by ``step`` (dtype from the bounds)."),
    _op("linspace", reference=linspace, dtype=inexact, differentiable=False,
        output_spec=_linspace_spec,
        doc="``num`` evenly spaced values from ``start`` to ``stop`` (inclusive by default)."),
    _op("logspace", reference=logspace, dtype=inexact, differentiable=False,
        output_spec=_logspace_spec,
        doc="``num`` values ``base ** t`` for ``t`` evenly spaced from ``start`` to ``stop``."),
    _op("eye", reference=eye, dtype=default_float, differentiable=False,
        output_spec=lambda N, M=None, k=0, dtype=None: _full_spec(
            (N, N if M is None else M), dtype=dtype),
        doc="An ``N`` x ``M`` tensor with ones on the ``k``-th diagonal, zeros elsewhere."),
    _op("identity", reference=identity, dtype=default_float, differentiable=False,
        output_spec=lambda n, dtype=None: _full_spec((n, n), dtype=dtype),
        doc="The ``n`` x ``n`` identity matrix."),
    _op("tri", reference=tri, dtype=default_float, differentiable=False,
        output_spec=lambda N, M=None, k=0, dtype=None: _full_spec(
            (N, N if M is None else M), dtype=dtype),
        doc="An ``N`` x ``M`` tensor with ones at and below the ``k``-th diagonal."),
    _op("meshgrid", reference=meshgrid, differentiable=False, output_spec=_meshgrid_spec,
        doc="Coordinate grids from 1-D tensors, with ``'xy'`` or ``'ij'`` indexing (a list)."),
)  # fmt: skip


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for op in OPS:
        registry.add("op", op.name, op)

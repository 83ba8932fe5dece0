"""Reductions, scans and sorting."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from katman.backend import Backend
from katman.backends.torch.dtypes import TORCH_DTYPES
from katman.dtypes import result_type, standardize_dtype
from katman.ops.rules import accumulate


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a sequence of ints) as sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    for a in axis:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of bounds for a tensor of rank {ndim}.")
    return tuple(sorted({a % ndim for a in axis})) if ndim else ()


def _keep(result: torch.Tensor, shape: torch.Size, axes: tuple[int, ...]) -> torch.Tensor:
    """``result`` (reduced over ``axes`` of ``shape``) reshaped to keep the reduced axes."""
    return result.reshape([1 if i in axes else d for i, d in enumerate(shape)])


def _to_end(x: torch.Tensor, axes: tuple[int, ...]) -> torch.Tensor:
    """``x`` with ``axes`` moved to the end and flattened into one."""
    others = [i for i in range(x.ndim) if i not in axes]
    y = x.permute(*others, *axes)
    return y.reshape(*[x.shape[i] for i in others], math.prod(x.shape[i] for i in axes))


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    def tensor(x: Any) -> torch.Tensor:
        return backend.convert_to_tensor(x)

    def as_float(x: Any) -> torch.Tensor:
        x = tensor(x)
        return x.to(TORCH_DTYPES[result_type(backend.dtype_of(x), float)])

    def extreme(largest: bool) -> Callable[..., torch.Tensor]:
        def kernel(
            x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None
        ) -> torch.Tensor:
            x = tensor(x)
            axes = _axes(axis, x.ndim)
            reduce = torch.amax if largest else torch.amin
            out = reduce(x, dim=axes, keepdim=keepdims) if axes else x
            if initial is not None:
                bound = backend.convert_to_tensor(initial, backend.dtype_of(out))
                out = torch.maximum(out, bound) if largest else torch.minimum(out, bound)
            return out

        return kernel

    max_, min_ = extreme(True), extreme(False)

    def amax(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
        return max_(x, axis, keepdims)

    def amin(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
        return min_(x, axis, keepdims)

    def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> torch.Tensor:
        x = tensor(x)
        out = accumulate([backend.dtype_of(x)]) if dtype is None else standardize_dtype(dtype)
        x = x.to(TORCH_DTYPES[out])
        axes = _axes(axis, x.ndim)
        if not axes:
            return x
        result = torch.prod(_to_end(x, axes), dim=-1, dtype=x.dtype)
        return _keep(result, x.shape, axes) if keepdims else result

    def moment(squared: bool) -> Callable[..., torch.Tensor]:
        def kernel(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
            x = as_float(x)
            axes = _axes(axis, x.ndim)
            reduce = torch.var if squared else torch.std
            if not axes:
                return torch.zeros_like(x)
            return reduce(x, dim=axes, correction=0, keepdim=keepdims)

        return kernel

    def arg_extreme(largest: bool) -> Callable[..., torch.Tensor]:
        def kernel(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
            x = tensor(x)
            if x.dtype == torch.bool:
                x = x.to(torch.uint8)
            reduce = torch.argmax if largest else torch.argmin
            if axis is None:
                out = reduce(x.reshape(-1))
                if keepdims:
                    out = out.reshape([1] * x.ndim)
            else:
                out = reduce(x, dim=axis, keepdim=keepdims)
            return out.to(torch.int32)

        return kernel

    def logical(every: bool) -> Callable[..., torch.Tensor]:
        def kernel(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
            x = tensor(x).to(torch.bool)
            axes = _axes(axis, x.ndim)
            if not axes:
                return x
            reduce = torch.all if every else torch.any
            return reduce(x, dim=axes, keepdim=keepdims)

        return kernel

    def count_nonzero(x: Any, axis: Any = None) -> torch.Tensor:
        x = tensor(x)
        axes = _axes(axis, x.ndim)
        if not axes:
            return (x != 0).to(torch.int32)
        return torch.count_nonzero(x, dim=axes).to(torch.int32)

    def average(x: Any, axis: Any = None, weights: Any = None) -> torch.Tensor:
        x = tensor(x)
        names = [backend.dtype_of(x)]
        if weights is not None:
            weights = tensor(weights)
            names.append(backend.dtype_of(weights))
        dtype = TORCH_DTYPES[result_type(*names, float)]
        x = x.to(dtype)
        axes = _axes(axis, x.ndim)
        if weights is None:
            return torch.mean(x, dim=axes) if axes else x
        weights = weights.to(dtype)
        if weights.ndim != x.ndim:
            if axis is None or weights.ndim != 1:
                raise ValueError(
                    "average: weights must have the shape of x, or be 1-D along an int axis; "
                    f"got weights of shape {tuple(weights.shape)} for x of shape "
                    f"{tuple(x.shape)} and axis={axis!r}."
                )
            weights = weights.reshape([-1 if i in axes else 1 for i in range(x.ndim)])
        weights = torch.broadcast_to(weights, x.shape)
        return torch.sum(x * weights, dim=axes) / torch.sum(weights, dim=axes)

    def quantile(
        x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False
    ) -> torch.Tensor:
        x = as_float(x)
        q = backend.convert_to_tensor(q, "float64")
        axes = _axes(axis, x.ndim)
        ordered = torch.sort(_to_end(x, axes), dim=-1).values
        last = ordered.shape[-1] - 1
        position = q.reshape(-1) * last

        def take(index: torch.Tensor) -> torch.Tensor:
            return torch.index_select(ordered, -1, index.clamp(0, last).to(torch.int64))

        if method == "linear":
            low = torch.floor(position)
            fraction = (position - low).to(x.dtype)
            below, above = take(low), take(low + 1)
            out = below + fraction * (above - below)
        elif method == "lower":
            out = take(torch.floor(position))
        elif method == "higher":
            out = take(torch.ceil(position))
        elif method == "nearest":
            out = take(torch.round(position))  # halves go to the even index, as in NumPy
        elif method == "midpoint":
            out = (take(torch.floor(position)) + take(torch.ceil(position))) / 2
        else:
            raise ValueError(
                "quantile: method must be one of 'linear', 'lower', 'higher', 'midpoint', "
                f"'nearest'; got {method!r}."
            )
        if keepdims:
            out = out.reshape(*[1 if i in axes else d for i, d in enumerate(x.shape)], -1)
        return torch.movedim(out, -1, 0) if q.ndim else out[..., 0]

    def median(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
        return quantile(x, 0.5, axis=axis, keepdims=keepdims)

    def scan(adding: bool) -> Callable[..., torch.Tensor]:
        def kernel(x: Any, axis: Any = None, dtype: Any = None) -> torch.Tensor:
            x = tensor(x)
            out = standardize_dtype(backend.dtype_of(x) if dtype is None else dtype)
            x = x.to(TORCH_DTYPES["int32" if out == "bool" else out])
            if axis is None:
                x, axis = x.reshape(-1), 0
            function = torch.cumsum if adding else torch.cumprod
            return function(x, dim=axis, dtype=x.dtype)

        return kernel

    def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
        x = as_float(x)
        axes = _axes(axis, x.ndim)
        return torch.logsumexp(x, dim=axes, keepdim=keepdims) if axes else x

    def sort(x: Any, axis: Any = -1) -> torch.Tensor:
        x = tensor(x)
        if axis is None:
            x, axis = x.reshape(-1), 0
        return torch.sort(x, dim=axis, stable=True).values

    def argsort(x: Any, axis: Any = -1) -> torch.Tensor:
        x = tensor(x)
        if x.ndim == 0 or axis is None:
            x, axis = x.reshape(-1), 0
        return torch.argsort(x, dim=axis, stable=True).to(torch.int32)

    def top_k(x: Any, k: int, sorted: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        # Always sorted: with sorted=False the order is unspecified, so sorted is as good. A
        # stable sort rather than torch.topk, whose order among ties is unspecified: equal
        # values come lower index first, as on the other backends.
        x = tensor(x)
        source = x.to(torch.uint8) if x.dtype == torch.bool else x
        values, indices = torch.sort(source, dim=-1, descending=True, stable=True)
        return values[..., :k].to(x.dtype), indices[..., :k].to(torch.int32)

    return {
        "max": max_,
        "min": min_,
        "amax": amax,
        "amin": amin,
        "prod": prod,
        "std": moment(False),
        "var": moment(True),
        "argmax": arg_extreme(True),
        "argmin": arg_extreme(False),
        "all": logical(True),
        "any": logical(False),
        "count_nonzero": count_nonzero,
        "average": average,
        "median": median,
        "quantile": quantile,
        "cumsum": scan(True),
        "cumprod": scan(False),
        "logsumexp": logsumexp,
        "sort": sort,
        "argsort": argsort,
        "top_k": top_k,
    }

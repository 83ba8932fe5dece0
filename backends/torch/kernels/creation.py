"""Tensor creation."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from katman.backend import Backend, standardize_dtype
from katman.backends.torch.dtypes import TORCH_DTYPES
from katman.backends.torch.placement import current_device
from katman.dtypes import is_int, result_type


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(n) for n in shape)


def _kind(value: Any) -> Any:
    """What ``result_type`` sees of an argument: its dtype name, or a Python scalar (weak)."""
    if isinstance(value, torch.Tensor):
        return str(value.dtype).removeprefix("torch.")
    return value.dtype if hasattr(value, "dtype") else value


def _scalar(value: Any) -> Any:
    """A bound of arange as a Python number."""
    if isinstance(value, (torch.Tensor, np.ndarray, np.generic)):
        return value.item()
    return value


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    tensor = backend.convert_to_tensor

    def fill(shape: Any, value: Any, dtype: str) -> torch.Tensor:
        value = tensor(value, dtype)
        return torch.broadcast_to(value, _shape(shape)).clone()

    def zeros(shape: Any, dtype: Any = None) -> torch.Tensor:
        return torch.zeros(
            _shape(shape), dtype=TORCH_DTYPES[standardize_dtype(dtype)], device=current_device()
        )

    def ones(shape: Any, dtype: Any = None) -> torch.Tensor:
        return torch.ones(
            _shape(shape), dtype=TORCH_DTYPES[standardize_dtype(dtype)], device=current_device()
        )

    def full(shape: Any, fill_value: Any, dtype: Any = None) -> torch.Tensor:
        return fill(shape, fill_value, standardize_dtype(dtype))

    def like_dtype(x: torch.Tensor, dtype: Any) -> str:
        return backend.dtype_of(x) if dtype is None else standardize_dtype(dtype)

    def zeros_like(x: Any, dtype: Any = None) -> torch.Tensor:
        x = tensor(x)
        return torch.zeros_like(x, dtype=TORCH_DTYPES[like_dtype(x, dtype)])

    def ones_like(x: Any, dtype: Any = None) -> torch.Tensor:
        x = tensor(x)
        return torch.ones_like(x, dtype=TORCH_DTYPES[like_dtype(x, dtype)])

    def full_like(x: Any, fill_value: Any, dtype: Any = None) -> torch.Tensor:
        x = tensor(x)
        return fill(x.shape, fill_value, like_dtype(x, dtype))

    def arange(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> torch.Tensor:
        if dtype is None:
            kinds = (_kind(v) for v in (start, stop, step) if v is not None)
            dtype = result_type(*kinds)
        dtype = standardize_dtype(dtype)
        start, stop, step = _scalar(start), _scalar(stop), _scalar(step)
        if stop is None:
            start, stop = 0, start
        step = 1 if step is None else step
        if math.ceil((stop - start) / step) <= 0:
            return torch.zeros((0,), dtype=TORCH_DTYPES[dtype], device=current_device())
        return torch.arange(start, stop, step, dtype=TORCH_DTYPES[dtype], device=current_device())

    def space(
        start: Any, stop: Any, num: int, endpoint: bool, axis: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """NumPy's linspace algorithm, computed in float64: the samples and the step."""
        start, stop = torch.broadcast_tensors(tensor(start, "float64"), tensor(stop, "float64"))
        div = num - 1 if endpoint else num
        delta = stop - start
        steps = torch.arange(num, dtype=torch.float64, device=delta.device)
        steps = steps.reshape((-1,) + (1,) * delta.ndim)
        if div > 0:
            step = delta / div
            samples = torch.where(step == 0, steps / div * delta, steps * step)
        else:
            step = torch.tensor(math.nan, dtype=torch.float64, device=delta.device)
            samples = steps * delta
        samples = samples + start
        if endpoint and num > 1:
            samples = torch.cat([samples[:-1], stop[None]], dim=0)
        return torch.movedim(samples, 0, axis), step

    def linspace(
        start: Any,
        stop: Any,
        num: int = 50,
        endpoint: bool = True,
        retstep: bool = False,
        dtype: Any = None,
        axis: int = 0,
    ) -> Any:
        dtype = space_dtype(start, stop, dtype)
        samples, step = space(start, stop, num, endpoint, axis)
        if is_int(dtype):
            samples = torch.floor(samples)
        samples = samples.to(TORCH_DTYPES[dtype])
        if retstep:
            return samples, step.to(TORCH_DTYPES[result_type(dtype, float)])
        return samples

    def logspace(
        start: Any,
        stop: Any,
        num: int = 50,
        endpoint: bool = True,
        base: float = 10,
        dtype: Any = None,
        axis: int = 0,
    ) -> torch.Tensor:
        dtype = space_dtype(start, stop, dtype)
        samples, _ = space(start, stop, num, endpoint, axis)
        return torch.pow(tensor(base, "float64"), samples).to(TORCH_DTYPES[dtype])

    def space_dtype(start: Any, stop: Any, dtype: Any) -> str:
        if dtype is not None:
            return standardize_dtype(dtype)
        return result_type(_kind(start), _kind(stop), float)

    def diagonal_band(rows: int, cols: int | None, k: int, dtype: Any, lower: bool) -> Any:
        cols = rows if cols is None else cols
        device = current_device()
        columns = torch.arange(cols, device=device)
        offset = columns[None, :] - torch.arange(rows, device=device)[:, None]
        mask = offset <= k if lower else offset == k
        return mask.to(TORCH_DTYPES[standardize_dtype(dtype)])

    def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:
        return diagonal_band(N, M, k, dtype, lower=False)

    def identity(n: int, dtype: Any = None) -> torch.Tensor:
        return diagonal_band(n, n, 0, dtype, lower=False)

    def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:
        return diagonal_band(N, M, k, dtype, lower=True)

    def meshgrid(*x: Any, indexing: str = "xy") -> list[torch.Tensor]:
        if indexing not in ("xy", "ij"):
            raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}.")
        xs = [torch.reshape(tensor(v), (-1,)) for v in x]
        sizes = [v.shape[0] for v in xs]
        places = list(range(len(xs)))
        if indexing == "xy" and len(xs) > 1:
            sizes[0], sizes[1] = sizes[1], sizes[0]
            places[0], places[1] = 1, 0
        grids = []
        for v, place in zip(xs, places, strict=True):
            shape = [1] * len(xs)
            shape[place] = -1
            grids.append(torch.broadcast_to(torch.reshape(v, shape), sizes))
        return grids

    return {
        "zeros": zeros,
        "ones": ones,
        "full": full,
        "zeros_like": zeros_like,
        "ones_like": ones_like,
        "full_like": full_like,
        "arange": arange,
        "linspace": linspace,
        "logspace": logspace,
        "eye": eye,
        "identity": identity,
        "tri": tri,
        "meshgrid": meshgrid,
    }

"""Shape manipulation."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from katman.backend import Backend
from katman.backends.torch.dtypes import TORCH_DTYPES


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None for all, an int or a sequence) as a tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(a % ndim if ndim else a for a in axis)


def _pad_pairs(pad_width: Any, ndim: int) -> list[tuple[int, int]]:
    """``pad_width`` in any of NumPy's forms as one (before, after) pair per axis."""
    widths = np.broadcast_to(np.asarray(pad_width, dtype="int64"), (ndim, 2))
    return [(int(b), int(a)) for b, a in widths]


def _pad_indices(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """The source index of each position of an axis padded with ``mode``."""
    return np.pad(np.arange(size), (before, after), mode=mode)


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    tensor = backend.convert_to_tensor

    def common(xs: Sequence[Any]) -> list[torch.Tensor]:
        return list(backend.promote(*xs))

    def reshape(x: Any, newshape: Any) -> torch.Tensor:
        newshape = (newshape,) if isinstance(newshape, int) else tuple(newshape)
        return torch.reshape(tensor(x), newshape)

    def transpose(x: Any, axes: Any = None) -> torch.Tensor:
        x = tensor(x)
        axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(axes)
        return torch.permute(x, axes)

    def expand_dims(x: Any, axis: Any) -> torch.Tensor:
        x = tensor(x)
        new = _axes(axis, x.ndim + (1 if isinstance(axis, int) else len(axis)))
        sizes = iter(x.shape)
        shape = [1 if i in new else next(sizes) for i in range(x.ndim + len(new))]
        return torch.reshape(x, shape)

    def squeeze(x: Any, axis: Any = None) -> torch.Tensor:
        x = tensor(x)
        if axis is None:
            drop = tuple(i for i, n in enumerate(x.shape) if n == 1)
        else:
            drop = _axes(axis, x.ndim)
            if any(x.shape[i] != 1 for i in drop):
                raise ValueError(
                    f"squeeze: cannot remove axis {axis} of shape {tuple(x.shape)}: not of size 1."
                )
        return torch.reshape(x, [n for i, n in enumerate(x.shape) if i not in drop])

    def concatenate(xs: Sequence[Any], axis: int | None = 0) -> torch.Tensor:
        xs = common(xs)
        if axis is None:
            xs, axis = [torch.reshape(x, (-1,)) for x in xs], 0
        return torch.cat(xs, dim=axis)

    def stack(x: Sequence[Any], axis: int = 0) -> torch.Tensor:
        return torch.stack(common(x), dim=axis)

    def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[torch.Tensor]:
        x = tensor(x)
        axis = axis % x.ndim
        length = x.shape[axis]
        if isinstance(indices_or_sections, int):
            if length % indices_or_sections:
                raise ValueError(
                    f"split: {indices_or_sections} sections do not divide axis {axis} of size "
                    f"{length} equally."
                )
            step = length // indices_or_sections
            points = list(range(0, length + 1, step)) if step else [0] * (indices_or_sections + 1)
        else:
            points = [0, *(int(i) for i in indices_or_sections), length]
        lead = (slice(None),) * axis
        return [x[(*lead, slice(a, b))] for a, b in itertools.pairwise(points)]

    def tile(x: Any, repeats: Any) -> torch.Tensor:
        repeats = (repeats,) if isinstance(repeats, int) else tuple(repeats)
        return torch.tile(tensor(x), repeats)

    def repeat(x: Any, repeats: Any, axis: int | None = None) -> torch.Tensor:
        x = tensor(x)
        if axis is None:
            x, axis = torch.reshape(x, (-1,)), 0
        if not isinstance(repeats, int):
            repeats = torch.as_tensor(np.asarray(repeats, dtype="int64"), device=x.device)
        return torch.repeat_interleave(x, repeats, dim=axis)

    def broadcast_to(x: Any, shape: Any) -> torch.Tensor:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return torch.broadcast_to(tensor(x), shape)

    def flip(x: Any, axis: Any = None) -> torch.Tensor:
        x = tensor(x)
        return torch.flip(x, _axes(axis, x.ndim))

    def pad(
        x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None
    ) -> torch.Tensor:
        x = tensor(x)
        pairs = _pad_pairs(pad_width, x.ndim)
        if mode == "constant":
            value = 0 if constant_values is None else constant_values
            value = tensor(value, backend.dtype_of(x)).to(x.device)
            for axis, (before, after) in enumerate(pairs):
                if before or after:
                    shape = list(x.shape)
                    pieces = []
                    for width in (before, after):
                        shape[axis] = width
                        pieces.append(torch.broadcast_to(value, shape))
                    x = torch.cat([pieces[0], x, pieces[1]], dim=axis)
            return x
        if mode not in ("reflect", "symmetric", "edge", "wrap"):
            raise ValueError(f"pad: unsupported mode {mode!r}.")
        if constant_values is not None:
            raise ValueError(
                f"pad: constant_values can only be given with mode='constant', got mode={mode!r}."
            )
        for axis, (before, after) in enumerate(pairs):
            if before or after:
                index = _pad_indices(x.shape[axis], before, after, mode)
                x = torch.index_select(x, axis, torch.as_tensor(index, device=x.device))
        return x

    def moveaxis(x: Any, source: Any, destination: Any) -> torch.Tensor:
        return torch.movedim(tensor(x), source, destination)

    def swapaxes(x: Any, axis1: int, axis2: int) -> torch.Tensor:
        return torch.swapaxes(tensor(x), axis1, axis2)

    def ravel(x: Any) -> torch.Tensor:
        return torch.reshape(tensor(x), (-1,))

    def roll(x: Any, shift: Any, axis: Any = None) -> torch.Tensor:
        x = tensor(x)
        if axis is None:
            return torch.reshape(torch.roll(torch.reshape(x, (-1,)), shift, 0), x.shape)
        return torch.roll(x, shift, axis)

    def hstack(xs: Sequence[Any]) -> torch.Tensor:
        xs = [torch.atleast_1d(x) for x in common(xs)]
        return torch.cat(xs, dim=0 if xs[0].ndim == 1 else 1)

    def vstack(xs: Sequence[Any]) -> torch.Tensor:
        return torch.cat([torch.atleast_2d(x) for x in common(xs)], dim=0)

    def append(x1: Any, x2: Any, axis: int | None = None) -> torch.Tensor:
        return concatenate([x1, x2], axis=axis)

    def diag(x: Any, k: int = 0) -> torch.Tensor:
        x = tensor(x)
        if x.ndim == 1:
            n = x.shape[0] + abs(k)
            rows, cols = np.indices((n, n))
            where = torch.as_tensor(cols - rows == k, device=x.device)
            # A zero after the last element keeps the index in range when x is empty.
            padded = torch.cat([x, torch.zeros(1, dtype=x.dtype, device=x.device)])
            index = np.minimum(np.minimum(rows, cols), x.shape[0])
            picked = padded[torch.as_tensor(index, device=x.device)]
            return torch.where(where, picked, torch.zeros((), dtype=x.dtype, device=x.device))
        if x.ndim != 2:
            raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(x.shape)}.")
        return torch.diagonal(x, k)

    def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
        return torch.diagonal(tensor(x), offset, axis1, axis2)

    def triangle(lower: bool) -> Callable[..., torch.Tensor]:
        def kernel(x: Any, k: int = 0) -> torch.Tensor:
            x = tensor(x)
            rows, cols = x.shape[-2:]
            keep = np.tri(rows, cols, k, dtype=bool)
            keep = keep if lower else ~np.tri(rows, cols, k - 1, dtype=bool)
            keep = torch.as_tensor(keep, device=x.device)
            return torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device))

        return kernel

    def size(x: Any) -> torch.Tensor:
        x = tensor(x)
        return torch.tensor(x.numel(), dtype=TORCH_DTYPES["int32"], device=x.device)

    def ndim(x: Any) -> torch.Tensor:
        x = tensor(x)
        return torch.tensor(x.ndim, dtype=TORCH_DTYPES["int32"], device=x.device)

    return {
        "reshape": reshape,
        "transpose": transpose,
        "expand_dims": expand_dims,
        "squeeze": squeeze,
        "concatenate": concatenate,
        "stack": stack,
        "split": split,
        "tile": tile,
        "repeat": repeat,
        "broadcast_to": broadcast_to,
        "flip": flip,
        "pad": pad,
        "moveaxis": moveaxis,
        "swapaxes": swapaxes,
        "ravel": ravel,
        "roll": roll,
        "hstack": hstack,
        "vstack": vstack,
        "append": append,
        "diag": diag,
        "diagonal": diagonal,
        "tril": triangle(lower=True),
        "triu": triangle(lower=False),
        "size": size,
        "ndim": ndim,
    }

"""Shape manipulation (``keras.ops`` names and signatures)."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

import katman
from katman.dtypes import result_type, standardize_dtype
from katman.ops import Op
from katman.ops.rules import fixed, same_as_first
from katman.registry import PluginRegistrar
from katman.symbolic import KerasTensor

# Every op here is reported under the conformance area "shape".
_op = functools.partial(Op, area="shape")

PAD_MODES = ("constant", "reflect", "symmetric", "edge", "wrap")


def tensors_promote(dtypes: Sequence[Any]) -> str:
    """The common dtype of the tensor inputs; Python ints such as ``axis`` do not count."""
    return result_type(*(d for d in dtypes if isinstance(d, str)))


def _common(arrays: Sequence[Any]) -> list[np.ndarray]:
    """NumPy arrays brought to their Keras common dtype (NumPy would widen int32+float32)."""
    arrays = [np.asarray(a) for a in arrays]
    dtype = result_type(*(standardize_dtype(a.dtype) for a in arrays))
    return [a.astype(dtype) for a in arrays]


def _int32(value: int) -> np.ndarray:
    return np.asarray(value, dtype="int32")


# NumPy references, with Keras's signatures.
def reshape(x: Any, newshape: Any) -> np.ndarray:
    return np.reshape(x, newshape)


def transpose(x: Any, axes: Any = None) -> np.ndarray:
    return np.transpose(x, axes)


def expand_dims(x: Any, axis: Any) -> np.ndarray:
    return np.expand_dims(x, axis)


def squeeze(x: Any, axis: Any = None) -> np.ndarray:
    return np.squeeze(x, axis=axis)


def concatenate(xs: Sequence[Any], axis: int | None = 0) -> np.ndarray:
    return np.concatenate(_common(xs), axis=axis)


def stack(x: Sequence[Any], axis: int = 0) -> np.ndarray:
    return np.stack(_common(x), axis=axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[np.ndarray]:
    return list(np.split(x, indices_or_sections, axis=axis))


def tile(x: Any, repeats: Any) -> np.ndarray:
    return np.tile(x, repeats)


def repeat(x: Any, repeats: Any, axis: int | None = None) -> np.ndarray:
    return np.repeat(x, repeats, axis=axis)


def broadcast_to(x: Any, shape: Any) -> np.ndarray:
    return np.broadcast_to(x, shape)


def flip(x: Any, axis: Any = None) -> np.ndarray:
    return np.flip(x, axis=axis)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> np.ndarray:
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}.")
    if mode != "constant":
        if constant_values is not None:
            raise ValueError(
                f"pad: constant_values can only be given with mode='constant', got mode={mode!r}."
            )
        return np.pad(x, pad_width, mode=mode)
    return np.pad(x, pad_width, constant_values=0 if constant_values is None else constant_values)


def moveaxis(x: Any, source: Any, destination: Any) -> np.ndarray:
    return np.moveaxis(x, source, destination)


def swapaxes(x: Any, axis1: int, axis2: int) -> np.ndarray:
    return np.swapaxes(x, axis1, axis2)


def ravel(x: Any) -> np.ndarray:
    return np.ravel(x)


def roll(x: Any, shift: Any, axis: Any = None) -> np.ndarray:
    return np.roll(x, shift, axis=axis)


def hstack(xs: Sequence[Any]) -> np.ndarray:
    return np.hstack(_common(xs))


def vstack(xs: Sequence[Any]) -> np.ndarray:
    return np.vstack(_common(xs))


def append(x1: Any, x2: Any, axis: int | None = None) -> np.ndarray:
    return np.append(*_common([x1, x2]), axis=axis)


def diag(x: Any, k: int = 0) -> np.ndarray:
    return np.diag(x, k=k)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> np.ndarray:
    return np.diagonal(x, offset=offset, axis1=axis1, axis2=axis2)


def tril(x: Any, k: int = 0) -> np.ndarray:
    return np.tril(x, k=k)


def triu(x: Any, k: int = 0) -> np.ndarray:
    return np.triu(x, k=k)


def size(x: Any) -> np.ndarray:
    return _int32(np.size(x))


def ndim(x: Any) -> np.ndarray:
    return _int32(np.ndim(x))


def split_spec(x: KerasTensor, indices_or_sections: Any, axis: int = 0) -> list[KerasTensor]:
    """The pieces ``split`` returns: their shapes along ``axis`` from the split points."""
    shape = list(x.shape)
    axis = axis % len(shape)
    length = shape[axis]
    if isinstance(indices_or_sections, int):
        if length is not None and length % indices_or_sections:
            raise ValueError(
                f"split: {indices_or_sections} sections do not divide axis {axis} of size "
                f"{length} equally."
            )
        sizes = [None if length is None else length // indices_or_sections] * (indices_or_sections)
    else:
        points = [0, *indices_or_sections, length]
        sizes = [
            None if length is None else len(range(length)[start:stop])
            for start, stop in itertools.pairwise(points)
        ]
    return [KerasTensor([*shape[:axis], n, *shape[axis + 1 :]], x.dtype) for n in sizes]


def concatenate_spec(xs: Sequence[Any], axis: int | None = 0) -> KerasTensor:
    """concatenate's result: dimensions other than ``axis`` agree (an unknown one takes a
    known one's size); along ``axis`` they add up."""
    shapes = [tuple(getattr(x, "shape", np.shape(x))) for x in xs]
    dtype = result_type(
        *(
            standardize_dtype(np.asarray(x).dtype if not hasattr(x, "dtype") else x.dtype)
            for x in xs
        )
    )
    if axis is None:
        sizes = [None if None in s else int(np.prod(s, dtype="int64")) for s in shapes]
        return KerasTensor((None if None in sizes else sum(sizes),), dtype)
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise ValueError(f"concatenate: the inputs differ in rank: shapes {shapes}.")
    axis = axis % rank
    out: list[int | None] = []
    for dim, sizes in enumerate(zip(*shapes, strict=True)):
        if dim == axis:
            out.append(None if None in sizes else sum(sizes))
            continue
        known = {n for n in sizes if n is not None}
        if len(known) > 1:
            raise ValueError(
                f"concatenate: shapes {shapes} differ in dimension {dim}, not only in axis {axis}."
            )
        out.append(known.pop() if known else None)
    return KerasTensor(out, dtype)


OPS = (
    _op("reshape", reference=reshape, dtype=same_as_first,
        doc="``x`` with its elements laid out in shape ``newshape`` (one entry may be -1)."),
    _op("transpose", reference=transpose, dtype=same_as_first,
        doc="``x`` with its axes permuted by ``axes`` (reversed if None)."),
    _op("expand_dims", reference=expand_dims, dtype=same_as_first,
        doc="``x`` with new axes of length 1 inserted at ``axis`` (an int or a tuple)."),
    _op("squeeze", reference=squeeze, dtype=same_as_first,
        doc="``x`` without its axes of length 1 (only those in ``axis`` if given)."),
    _op("concatenate", reference=concatenate, dtype=tensors_promote,
        output_spec=concatenate_spec,
        doc="The tensors ``xs`` joined along an existing axis (flattened first if None)."),
    _op("stack", reference=stack, dtype=tensors_promote,
        doc="The same-shape tensors ``x`` joined along a new axis ``axis``."),
    _op("split", reference=split, dtype=same_as_first, output_spec=split_spec,
        doc="A list of pieces of ``x`` along ``axis``: N equal sections, or cut at indices."),
    _op("tile", reference=tile, dtype=same_as_first,
        doc="``x`` repeated ``repeats`` times along each axis (as NumPy's tile)."),
    _op("repeat", reference=repeat, dtype=same_as_first,
        doc="Each element of ``x`` repeated ``repeats`` times along ``axis`` (flat if None)."),
    _op("broadcast_to", reference=broadcast_to, dtype=same_as_first,
        doc="``x`` broadcast to ``shape``."),
    _op("flip", reference=flip, dtype=same_as_first,
        doc="``x`` with the order of elements reversed along ``axis`` (all axes if None)."),
    _op("pad", reference=pad, dtype=same_as_first,
        doc="``x`` padded by ``pad_width``: constant, reflect, symmetric, edge or wrap mode."),
    _op("moveaxis", reference=moveaxis, dtype=same_as_first,
        doc="``x`` with axes ``source`` moved to positions ``destination``."),
    _op("swapaxes", reference=swapaxes, dtype=same_as_first,
        doc="``x`` with axes ``axis1`` and ``axis2`` interchanged."),
    _op("ravel", reference=ravel, dtype=same_as_first,
        doc="``x`` flattened to one dimension, in row-major order."),
    _op("roll", reference=roll, dtype=same_as_first,
        doc="``x`` shifted cyclically by ``shift`` along ``axis`` (flat if None)."),
    _op("hstack", reference=hstack, dtype=tensors_promote,
        doc="The tensors ``xs`` joined column-wise (along axis 1; axis 0 for 1-D tensors)."),
    _op("vstack", reference=vstack, dtype=tensors_promote,
        doc="The tensors ``xs`` joined row-wise (1-D tensors become rows)."),
    _op("append", reference=append, dtype=tensors_promote,
        doc="``x2`` appended to ``x1`` along ``axis`` (both flattened if None)."),
    _op("diag", reference=diag, dtype=same_as_first,
        doc="The ``k``-th diagonal of a 2-D ``x``, or a 2-D tensor with 1-D ``x`` on it."),
    _op("diagonal", reference=diagonal, dtype=same_as_first,
        doc="The ``offset`` diagonals of ``x`` over ``axis1`` and ``axis2``, as a last axis."),
    _op("tril", reference=tril, dtype=same_as_first,
        doc="``x`` with elements above the ``k``-th diagonal (of the last two axes) zeroed."),
    _op("triu", reference=triu, dtype=same_as_first,
        doc="``x`` with elements below the ``k``-th diagonal (of the last two axes) zeroed."),
    _op("size", reference=size, dtype=fixed("int32"), differentiable=False,
        doc="The number of elements of ``x``, as an int32 scalar."),
    _op("ndim", reference=ndim, dtype=fixed("int32"), differentiable=False,
        doc="The number of dimensions of ``x``, as an int32 scalar."),
)  # fmt: skip


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for op in OPS:
        registry.add("op", op.name, op)

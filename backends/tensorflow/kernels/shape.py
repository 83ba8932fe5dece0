"""Shape manipulation."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from katman.backend import Backend


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None for all, an int or a sequence) as a tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(a % ndim if ndim else a for a in axis)


def _shape(shape: Any) -> Any:
    """A shape as ints; sizes known only when a traced function runs (``ops.shape`` of a
    batch inside ``tf.function``) stay tensors, stacked into a shape tensor."""
    if tf.is_tensor(shape):
        return shape
    if isinstance(shape, int):
        return [shape]
    dims = [n if tf.is_tensor(n) else int(n) for n in shape]
    if any(tf.is_tensor(n) for n in dims):
        return tf.stack([tf.cast(n, tf.int32) for n in dims])
    return dims


def _pad_pairs(pad_width: Any, ndim: int) -> list[list[int]]:
    """``pad_width`` in any of NumPy's forms as one [before, after] pair per axis."""
    widths = np.broadcast_to(np.asarray(pad_width, dtype="int64"), (ndim, 2))
    return [[int(b), int(a)] for b, a in widths]


def _gather(x: tf.Tensor, index: Any, axis: int) -> tf.Tensor:
    """``tf.gather`` whose gradient is a dense tensor: gathering straight from a watched tensor
    gives ``IndexedSlices``, which the reshape in between turns dense."""
    return tf.gather(tf.reshape(x, tf.shape(x)), index, axis=axis)


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    tensor = backend.convert_to_tensor

    def common(xs: Sequence[Any]) -> list[tf.Tensor]:
        return list(backend.promote(*xs))

    def moved(x: tf.Tensor, source: Any, destination: Any) -> tf.Tensor:
        rank = x.shape.rank
        source, destination = _axes(source, rank), _axes(destination, rank)
        if len(source) != len(destination):
            raise ValueError(
                f"moveaxis: source {source} and destination {destination} differ in length."
            )
        perm = [n for n in range(rank) if n not in source]
        for position, axis in sorted(zip(destination, source, strict=True)):
            perm.insert(position, axis)
        return tf.transpose(x, perm)

    def reshape(x: Any, newshape: Any) -> tf.Tensor:
        return tf.reshape(tensor(x), _shape(newshape))

    def transpose(x: Any, axes: Any = None) -> tf.Tensor:
        return tf.transpose(tensor(x), None if axes is None else list(axes))

    def expand_dims(x: Any, axis: Any) -> tf.Tensor:
        x = tensor(x)
        rank = x.shape.rank + (1 if isinstance(axis, int) else len(axis))
        for position in sorted(_axes(axis, rank)):
            x = tf.expand_dims(x, position)
        return x

    def squeeze(x: Any, axis: Any = None) -> tf.Tensor:
        x = tensor(x)
        if axis is None:
            return tf.squeeze(x)
        return tf.squeeze(x, list(_axes(axis, x.shape.rank)))

    def concatenate(xs: Sequence[Any], axis: int | None = 0) -> tf.Tensor:
        xs = common(xs)
        if axis is None:
            xs, axis = [tf.reshape(x, [-1]) for x in xs], 0
        return tf.concat(xs, axis=axis)

    def stack(x: Sequence[Any], axis: int = 0) -> tf.Tensor:
        return tf.stack(common(x), axis=axis)

    def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[tf.Tensor]:
        x = tensor(x)
        axis = axis % x.shape.rank
        length = x.shape[axis]
        if isinstance(indices_or_sections, int):
            if length is not None and length % indices_or_sections:
                raise ValueError(
                    f"split: {indices_or_sections} sections do not divide axis {axis} of size "
                    f"{length} equally."
                )
            return tf.split(x, indices_or_sections, axis=axis)
        points = [0, *(int(i) for i in indices_or_sections), None]
        lead = (slice(None),) * axis
        return [x[(*lead, slice(a, b))] for a, b in itertools.pairwise(points)]

    def tile(x: Any, repeats: Any) -> tf.Tensor:
        x = tensor(x)
        repeats = _shape(repeats)
        rank = max(len(repeats), x.shape.rank)
        repeats = [1] * (rank - len(repeats)) + repeats
        if x.shape.rank < rank:
            x = tf.reshape(x, [1] * (rank - x.shape.rank) + x.shape.as_list())
        return tf.tile(x, repeats)

    def repeat(x: Any, repeats: Any, axis: int | None = None) -> tf.Tensor:
        x = tensor(x)
        if axis is None:
            x, axis = tf.reshape(x, [-1]), 0
        if not isinstance(repeats, int):
            repeats = [int(r) for r in np.asarray(repeats).reshape(-1)]
            if len(repeats) == 1:
                repeats = repeats[0]
        if isinstance(repeats, int):
            return tf.repeat(x, repeats, axis=axis)
        index = np.repeat(np.arange(len(repeats)), repeats)
        return _gather(x, index, axis)

    def broadcast_to(x: Any, shape: Any) -> tf.Tensor:
        return tf.broadcast_to(tensor(x), _shape(shape))

    def flip(x: Any, axis: Any = None) -> tf.Tensor:
        x = tensor(x)
        return tf.reverse(x, list(_axes(axis, x.shape.rank)))

    def pad(
        x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None
    ) -> tf.Tensor:
        x = tensor(x)
        pairs = _pad_pairs(pad_width, x.shape.rank)
        if mode == "constant":
            value = 0 if constant_values is None else constant_values
            return tf.pad(x, pairs, constant_values=tensor(value, backend.dtype_of(x)))
        if mode not in ("reflect", "symmetric", "edge", "wrap"):
            raise ValueError(f"pad: unsupported mode {mode!r}.")
        if constant_values is not None:
            raise ValueError(
                f"pad: constant_values can only be given with mode='constant', got mode={mode!r}."
            )
        for axis, (before, after) in enumerate(pairs):
            if not (before or after):
                continue
            if x.shape[axis] is not None:
                index = np.pad(np.arange(x.shape[axis]), (before, after), mode=mode)
                x = _gather(x, index, axis)
            else:  # a size known only when run: widths up to the size (one reflection)
                x = dynamic_pad(x, axis, before, after, mode)
        return x

    def dynamic_pad(x: tf.Tensor, axis: int, before: int, after: int, mode: str) -> tf.Tensor:
        if mode in ("reflect", "symmetric"):
            pairs = [[0, 0]] * x.shape.rank
            pairs[axis] = [before, after]
            return tf.pad(x, pairs, mode=mode.upper())
        lead = (slice(None),) * axis
        if mode == "edge":
            first, last = x[(*lead, slice(0, 1))], x[(*lead, slice(-1, None))]
            pieces = [tf.repeat(first, before, axis=axis), x, tf.repeat(last, after, axis=axis)]
        else:  # wrap
            head = x[(*lead, slice(-before, None))] if before else x[(*lead, slice(0, 0))]
            pieces = [head, x, x[(*lead, slice(0, after))]]
        return tf.concat(pieces, axis=axis)

    def moveaxis(x: Any, source: Any, destination: Any) -> tf.Tensor:
        return moved(tensor(x), source, destination)

    def swapaxes(x: Any, axis1: int, axis2: int) -> tf.Tensor:
        x = tensor(x)
        perm = list(range(x.shape.rank))
        perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
        return tf.transpose(x, perm)

    def ravel(x: Any) -> tf.Tensor:
        return tf.reshape(tensor(x), [-1])

    def roll(x: Any, shift: Any, axis: Any = None) -> tf.Tensor:
        x = tensor(x)
        if axis is None:
            flat = tf.roll(tf.reshape(x, [-1]), shift, axis=0)
            return tf.reshape(flat, tf.shape(x))
        if not isinstance(shift, int) and isinstance(axis, int):
            axis = [axis] * len(shift)
        elif isinstance(shift, int) and not isinstance(axis, int):
            shift = [shift] * len(axis)
        return tf.roll(x, shift, axis=axis)

    def at_least(x: tf.Tensor, rank: int) -> tf.Tensor:
        if x.shape.rank == 0:
            return tf.reshape(x, [1] * rank)
        if x.shape.rank == 1 and rank == 2:
            return x[None]
        return x

    def hstack(xs: Sequence[Any]) -> tf.Tensor:
        xs = [at_least(x, 1) for x in common(xs)]
        return tf.concat(xs, axis=0 if xs[0].shape.rank == 1 else 1)

    def vstack(xs: Sequence[Any]) -> tf.Tensor:
        return tf.concat([at_least(x, 2) for x in common(xs)], axis=0)

    def append(x1: Any, x2: Any, axis: int | None = None) -> tf.Tensor:
        return concatenate([x1, x2], axis=axis)

    def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> tf.Tensor:
        x = tensor(x)
        rank = x.shape.rank
        x = moved(x, [axis1 % rank, axis2 % rank], [rank - 2, rank - 1])
        rows, cols = tf.shape(x)[-2], tf.shape(x)[-1]
        start_row, start_col = max(0, -offset), max(0, offset)
        count = tf.maximum(0, tf.minimum(rows - start_row, cols - start_col))
        flat = tf.reshape(x, tf.concat([tf.shape(x)[:-2], [rows * cols]], axis=0))
        steps = tf.range(count)
        return _gather(flat, (steps + start_row) * cols + steps + start_col, rank - 2)

    def diag(x: Any, k: int = 0) -> tf.Tensor:
        x = tensor(x)
        if x.shape.rank == 2:
            return diagonal(x, k)
        if x.shape.rank != 1:
            raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {x.shape}.")
        length = tf.shape(x)[0]
        side = tf.range(length + abs(k))
        rows, cols = side[:, None], side[None, :]
        # A zero after the last element keeps the gather in range when x is empty.
        padded = tf.concat([x, tf.zeros([1], x.dtype)], axis=0)
        picked = _gather(padded, tf.minimum(tf.minimum(rows, cols), length), 0)
        return tf.where(tf.equal(cols - rows, k), picked, tf.zeros([], x.dtype))

    def triangle(lower: bool) -> Callable[..., tf.Tensor]:
        def kernel(x: Any, k: int = 0) -> tf.Tensor:
            x = tensor(x)
            shape = tf.shape(x)
            offset = tf.range(shape[-1])[None, :] - tf.range(shape[-2])[:, None]
            keep = offset <= k if lower else offset >= k
            return tf.where(keep, x, tf.zeros([], x.dtype))

        return kernel

    def size(x: Any) -> tf.Tensor:
        return tf.size(tensor(x), out_type=tf.int32)

    def ndim(x: Any) -> tf.Tensor:
        return tf.constant(tensor(x).shape.rank, dtype=tf.int32)

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

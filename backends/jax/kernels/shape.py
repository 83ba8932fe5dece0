"""Shape manipulation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from katman.backend import Backend


def _pad_pairs(pad_width: Any, ndim: int) -> list[tuple[int, int]]:
    """``pad_width`` in any of NumPy's forms as one (before, after) pair per axis."""
    widths = np.broadcast_to(np.asarray(pad_width, dtype="int64"), (ndim, 2))
    return [(int(b), int(a)) for b, a in widths]


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    tensor = backend.convert_to_tensor

    def common(xs: Sequence[Any]) -> list[jax.Array]:
        return list(backend.promote(*xs))

    def reshape(x: Any, newshape: Any) -> jax.Array:
        return jnp.reshape(tensor(x), newshape)

    def transpose(x: Any, axes: Any = None) -> jax.Array:
        return jnp.transpose(tensor(x), axes)

    def expand_dims(x: Any, axis: Any) -> jax.Array:
        return jnp.expand_dims(tensor(x), axis)

    def squeeze(x: Any, axis: Any = None) -> jax.Array:
        return jnp.squeeze(tensor(x), axis=axis)

    def concatenate(xs: Sequence[Any], axis: int | None = 0) -> jax.Array:
        return jnp.concatenate(common(xs), axis=axis)

    def stack(x: Sequence[Any], axis: int = 0) -> jax.Array:
        return jnp.stack(common(x), axis=axis)

    def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[jax.Array]:
        if not isinstance(indices_or_sections, int):
            indices_or_sections = [int(i) for i in indices_or_sections]
        return list(jnp.split(tensor(x), indices_or_sections, axis=axis))

    def tile(x: Any, repeats: Any) -> jax.Array:
        return jnp.tile(tensor(x), repeats)

    def repeat(x: Any, repeats: Any, axis: int | None = None) -> jax.Array:
        if not isinstance(repeats, int):
            repeats = np.asarray(repeats, dtype="int64")
            total = int(repeats.sum()) if repeats.ndim else None
            return jnp.repeat(tensor(x), repeats, axis=axis, total_repeat_length=total)
        return jnp.repeat(tensor(x), repeats, axis=axis)

    def broadcast_to(x: Any, shape: Any) -> jax.Array:
        return jnp.broadcast_to(tensor(x), shape)

    def flip(x: Any, axis: Any = None) -> jax.Array:
        return jnp.flip(tensor(x), axis=axis)

    def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> Any:
        x = tensor(x)
        pairs = _pad_pairs(pad_width, x.ndim)
        if mode == "constant":
            value = 0 if constant_values is None else constant_values
            return jnp.pad(x, pairs, constant_values=tensor(value, backend.dtype_of(x)))
        if mode not in ("reflect", "symmetric", "edge", "wrap"):
            raise ValueError(f"pad: unsupported mode {mode!r}.")
        if constant_values is not None:
            raise ValueError(
                f"pad: constant_values can only be given with mode='constant', got mode={mode!r}."
            )
        return jnp.pad(x, pairs, mode=mode)

    def moveaxis(x: Any, source: Any, destination: Any) -> jax.Array:
        return jnp.moveaxis(tensor(x), source, destination)

    def swapaxes(x: Any, axis1: int, axis2: int) -> jax.Array:
        return jnp.swapaxes(tensor(x), axis1, axis2)

    def ravel(x: Any) -> jax.Array:
        return jnp.ravel(tensor(x))

    def roll(x: Any, shift: Any, axis: Any = None) -> jax.Array:
        return jnp.roll(tensor(x), shift, axis=axis)

    def hstack(xs: Sequence[Any]) -> jax.Array:
        return jnp.hstack(common(xs))

    def vstack(xs: Sequence[Any]) -> jax.Array:
        return jnp.vstack(common(xs))

    def append(x1: Any, x2: Any, axis: int | None = None) -> jax.Array:
        return jnp.append(*common([x1, x2]), axis=axis)

    def diag(x: Any, k: int = 0) -> jax.Array:
        x = tensor(x)
        if x.ndim not in (1, 2):
            raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {x.shape}.")
        return jnp.diag(x, k=k)

    def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> jax.Array:
        return jnp.diagonal(tensor(x), offset=offset, axis1=axis1, axis2=axis2)

    def tril(x: Any, k: int = 0) -> jax.Array:
        return jnp.tril(tensor(x), k=k)

    def triu(x: Any, k: int = 0) -> jax.Array:
        return jnp.triu(tensor(x), k=k)

    def size(x: Any) -> jax.Array:
        return jnp.asarray(tensor(x).size, dtype="int32")

    def ndim(x: Any) -> jax.Array:
        return jnp.asarray(tensor(x).ndim, dtype="int32")

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
        "tril": tril,
        "triu": triu,
        "size": size,
        "ndim": ndim,
    }

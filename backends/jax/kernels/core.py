"""Core ops: casting, indexing, scatter and control flow.

Control flow uses JAX's own primitives (``lax.cond``, ``lax.while_loop``, ``lax.fori_loop``,
``lax.scan``, ``lax.map``, ``lax.switch``, ``jax.vmap``, ``jax.custom_gradient``), so every
kernel stays traceable under ``jax.jit``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from katman.backend import Backend
from katman.dtypes import result_type, standardize_dtype

_REDUCTIONS = (None, "add", "max", "min", "mul")


def _map(function: Callable[..., Any], tree: Any, *others: Any) -> Any:
    if isinstance(tree, (list, tuple)):
        items = [_map(function, t, *(o[i] for o in others)) for i, t in enumerate(tree)]
        return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)
    if isinstance(tree, dict):
        return {k: _map(function, tree[k], *(o[k] for o in others)) for k in tree}
    return function(tree, *others)


def _check_reduction(reduction: Any) -> str | None:
    name = reduction.lower() if isinstance(reduction, str) else reduction
    if name not in _REDUCTIONS:
        raise ValueError(
            f"scatter_update: invalid reduction {reduction!r}; expected one of None, 'add', "
            "'max', 'min', 'mul'."
        )
    return name


def _check_unroll(unroll: Any) -> None:
    if not isinstance(unroll, bool) and not (isinstance(unroll, int) and unroll >= 1):
        raise ValueError(f"scan: unroll must be a positive int or a bool, got {unroll!r}.")


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    convert = backend.convert_to_tensor

    def tensors(tree: Any) -> Any:
        """Every leaf of ``tree`` as a tensor (Python scalars take Keras's default dtypes)."""
        return _map(lambda v: None if v is None else convert(v), tree)

    def index_tensor(indices: Any) -> jax.Array:
        indices = convert(indices)
        if not jnp.issubdtype(indices.dtype, jnp.integer):
            raise TypeError(f"indices must be integers, got {indices.dtype}.")
        return indices

    def starts_of(start_indices: Any, ndim: int) -> list[Any]:
        if isinstance(start_indices, (list, tuple)):
            starts = list(start_indices)
        else:
            starts = list(convert(start_indices).reshape(-1))
        if len(starts) != ndim:
            raise ValueError(
                f"start_indices needs one entry per dimension of inputs ({ndim}), got "
                f"{len(starts)}."
            )
        return [s if isinstance(s, int) else convert(s, "int32") for s in starts]

    def cast(x: Any, dtype: Any) -> jax.Array:
        return convert(x, standardize_dtype(dtype))

    def shape(x: Any) -> tuple[int, ...]:
        return tuple(int(d) for d in np.shape(x))

    def stop_gradient(variable: Any) -> jax.Array:
        return jax.lax.stop_gradient(convert(variable))

    def slice_(inputs: Any, start_indices: Any, shape: Sequence[int]) -> jax.Array:
        x = convert(inputs)
        starts = starts_of(start_indices, x.ndim)
        if len(shape) != x.ndim:
            raise ValueError(f"shape needs {x.ndim} entries (one per dimension), got {shape}.")
        sizes = [
            d - b if int(s) == -1 else int(s)
            for d, b, s in zip(x.shape, starts, shape, strict=True)
        ]
        return jax.lax.dynamic_slice(x, starts, sizes)

    def slice_update(inputs: Any, start_indices: Any, updates: Any) -> jax.Array:
        x = convert(inputs)
        u = convert(updates, backend.dtype_of(x))
        if u.ndim != x.ndim:
            raise ValueError(f"updates has rank {u.ndim}, inputs has rank {x.ndim}.")
        return jax.lax.dynamic_update_slice(x, u, starts_of(start_indices, x.ndim))

    def scatter(indices: Any, values: Any, shape: Sequence[int]) -> jax.Array:
        index = index_tensor(indices)
        v = convert(values)
        zeros = jnp.zeros(tuple(int(s) for s in shape), v.dtype)
        return zeros.at[tuple(jnp.moveaxis(index, -1, 0))].add(v)

    def scatter_update(
        inputs: Any, indices: Any, updates: Any, reduction: str | None = None
    ) -> jax.Array:
        reduction = _check_reduction(reduction)
        x = convert(inputs)
        u = convert(updates, backend.dtype_of(x))
        index = index_tensor(indices)
        if reduction == "mul":
            # JAX differentiates a scatter-multiply only when no index repeats: multiply one
            # row at a time instead (a scan, so still one traced step).
            depth = index.shape[-1]
            rows = index.reshape(-1, depth)
            source = u.reshape(rows.shape[0], *x.shape[depth:])

            def multiply_row(value: jax.Array, item: tuple) -> tuple[jax.Array, None]:
                row, update = item
                return value.at[tuple(row)].multiply(update, unique_indices=True), None

            return jax.lax.scan(multiply_row, x, (rows, source))[0]
        at = x.at[tuple(jnp.moveaxis(index, -1, 0))]
        if reduction is None:
            return at.set(u)
        return {"add": at.add, "max": at.max, "min": at.min}[reduction](u)

    def positive(index: jax.Array, size: int) -> jax.Array:
        return jnp.where(index < 0, index + size, index)

    def take(x: Any, indices: Any, axis: int | None = None) -> jax.Array:
        x, index = convert(x), index_tensor(indices)
        size = x.size if axis is None else x.shape[axis]
        return jnp.take(x, positive(index, size), axis=axis)

    def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> jax.Array:
        x, index = convert(x), index_tensor(indices)
        if axis is None:
            x, axis = x.reshape(-1), 0
        if x.ndim != index.ndim:
            raise ValueError(
                f"x and indices must have the same rank, got shapes {x.shape} and {index.shape}."
            )
        return jnp.take_along_axis(x, positive(index, x.shape[axis]), axis=axis)

    def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
        pred = convert(pred)
        if pred.size != 1:
            raise ValueError(f"pred must be a scalar, got shape {pred.shape}.")
        return jax.lax.cond(
            pred.reshape(()).astype(bool),
            lambda: tensors(true_fn()),
            lambda: tensors(false_fn()),
        )

    def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
        index = convert(index, "int32")
        wrapped = [lambda *ops, b=b: tensors(b(*ops)) for b in branches]
        return jax.lax.switch(index, wrapped, *tensors(operands))

    def while_loop(
        cond: Callable[..., Any],
        body: Callable[..., Any],
        loop_vars: Any,
        maximum_iterations: int | None = None,
    ) -> Any:
        several = isinstance(loop_vars, (list, tuple))
        values = tensors(tuple(loop_vars) if several else (loop_vars,))

        def step(values: tuple) -> tuple:
            result = body(*values)
            return tensors(tuple(result) if several else (result,))

        def check(values: tuple) -> Any:
            return convert(cond(*values)).reshape(()).astype(bool)

        if maximum_iterations is None:
            values = jax.lax.while_loop(check, step, values)
        else:
            _, values = jax.lax.while_loop(
                lambda s: (s[0] < maximum_iterations) & check(s[1]),
                lambda s: (s[0] + 1, step(s[1])),
                (convert(0, "int32"), values),
            )
        return values if several else values[0]

    def fori_loop(
        lower: Any, upper: Any, body_fun: Callable[[Any, Any], Any], init_val: Any
    ) -> Any:
        # The loop index has the Keras dtype of the bounds (Python ints: int32), which JAX
        # would widen to int64.
        dtype = result_type(
            *(
                type(b) if isinstance(b, int) else backend.dtype_of(convert(b))
                for b in (lower, upper)
            )
        )
        if not isinstance(lower, int):
            lower = convert(lower, dtype)
        if not isinstance(upper, int):
            upper = convert(upper, dtype)
        return jax.lax.fori_loop(
            lower,
            upper,
            lambda i, value: tensors(body_fun(i.astype(dtype), value)),
            tensors(init_val),
        )

    def scan(
        f: Callable[[Any, Any], Any],
        init: Any,
        xs: Any = None,
        length: int | None = None,
        reverse: bool = False,
        unroll: int | bool = 1,
    ) -> tuple[Any, Any]:
        _check_unroll(unroll)
        if xs is None and length is None:
            raise ValueError("scan: give xs to scan over, or the number of steps as length.")

        def step(carry: Any, x: Any) -> tuple[Any, Any]:
            result = f(carry, x)
            if not (isinstance(result, (list, tuple)) and len(result) == 2):
                raise ValueError("scan: f must return a pair (new_carry, y).")
            return tensors(result[0]), tensors(result[1])

        return jax.lax.scan(
            step,
            tensors(init),
            None if xs is None else tensors(xs),
            length=None if length is None else int(length),
            reverse=reverse,
            unroll=unroll,
        )

    def map_(f: Callable[[Any], Any], xs: Any) -> Any:
        return jax.lax.map(lambda x: tensors(f(x)), tensors(xs))

    def vectorized_map(function: Callable[[Any], Any], elements: Any) -> Any:
        return jax.vmap(lambda x: tensors(function(x)))(tensors(elements))

    def custom_gradient(f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # ``f`` is in katman's canonical form: ``f(*args) -> (output, gradient)`` where
        # ``gradient(upstream)`` returns one gradient (or None) per argument.
        inputs = [convert(a) for a in args]

        def forward(*xs: Any) -> tuple[Any, Callable[[Any], tuple]]:
            output, gradient = f(*xs, **kwargs)

            def vjp(upstream: Any) -> tuple:
                grads = gradient(upstream)
                return tuple(
                    jnp.zeros_like(x) if g is None else convert(g, backend.dtype_of(x))
                    for x, g in zip(xs, grads, strict=True)
                )

            return tensors(output), vjp

        return jax.custom_gradient(forward)(*inputs)

    return {
        "cast": cast,
        "shape": shape,
        "stop_gradient": stop_gradient,
        "slice": slice_,
        "slice_update": slice_update,
        "scatter": scatter,
        "scatter_update": scatter_update,
        "take": take,
        "take_along_axis": take_along_axis,
        "cond": cond,
        "switch": switch,
        "while_loop": while_loop,
        "fori_loop": fori_loop,
        "scan": scan,
        "map": map_,
        "vectorized_map": vectorized_map,
        "custom_gradient": custom_gradient,
    }

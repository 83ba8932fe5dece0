"""Core ops: casting, indexing, scatter and control flow.

Control flow uses TensorFlow's own constructs (``tf.cond``, ``tf.while_loop`` with
TensorArrays, ``tf.switch_case``, ``tf.vectorized_map``, ``tf.custom_gradient``), so every kernel
runs eagerly and inside ``tf.function`` alike. A Python bool (or NumPy value) as ``pred`` or
``index`` picks the branch in Python, as ``smart_cond`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from katman.backend import Backend
from katman.dtypes import standardize_dtype

_REDUCTIONS = (None, "add", "max", "min", "mul")


def _map(function: Callable[..., Any], tree: Any, *others: Any) -> Any:
    if isinstance(tree, (list, tuple)):
        items = [_map(function, t, *(o[i] for o in others)) for i, t in enumerate(tree)]
        return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)
    if isinstance(tree, dict):
        return {k: _map(function, tree[k], *(o[k] for o in others)) for k in tree}
    return function(tree, *others)


def _leaves(tree: Any) -> list[Any]:
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item)]
    if isinstance(tree, dict):
        return [leaf for key in tree for leaf in _leaves(tree[key])]
    return [tree]


def _pack(tree: Any, leaves: list[Any]) -> Any:
    """``leaves`` (in ``_leaves`` order) arranged like ``tree``."""
    stream = iter(leaves)
    return _map(lambda _: next(stream), tree)


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


def _is_static(value: Any) -> bool:
    return isinstance(value, (bool, int, float, np.ndarray, np.generic))


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    convert = backend.convert_to_tensor

    def tensors(tree: Any) -> Any:
        """Every leaf of ``tree`` as a tensor (Python scalars take Keras's default dtypes)."""
        return _map(lambda v: None if v is None else convert(v), tree)

    def index_tensor(indices: Any) -> tf.Tensor:
        indices = convert(indices)
        if not indices.dtype.is_integer:
            raise TypeError(f"indices must be integers, got {indices.dtype.name}.")
        return indices

    def starts_of(start_indices: Any, ndim: int) -> tf.Tensor:
        if isinstance(start_indices, (list, tuple)):
            starts = tf.stack([tf.cast(s, tf.int64) for s in start_indices]) if ndim else None
            count = len(start_indices)
        else:
            starts = tf.cast(tf.reshape(convert(start_indices), [-1]), tf.int64)
            count = starts.shape[0]
        if count is not None and count != ndim:
            raise ValueError(
                f"start_indices needs one entry per dimension of inputs ({ndim}), got {count}."
            )
        return tf.zeros([0], tf.int64) if starts is None else starts

    def clamped(starts: tf.Tensor, dims: tf.Tensor, sizes: tf.Tensor) -> tf.Tensor:
        """Start indices moved so that ``sizes`` elements fit, as XLA's dynamic slices do."""
        return tf.clip_by_value(starts, 0, tf.maximum(dims - sizes, 0))

    def cast(x: Any, dtype: Any) -> tf.Tensor:
        return convert(x, standardize_dtype(dtype))

    def shape(x: Any) -> tuple[Any, ...]:
        x = convert(x)
        static = x.shape.as_list()
        if None not in static:
            return tuple(static)
        dynamic = tf.shape(x)
        return tuple(dynamic[i] if d is None else d for i, d in enumerate(static))

    def stop_gradient(variable: Any) -> tf.Tensor:
        return tf.stop_gradient(convert(variable))

    def slice_(inputs: Any, start_indices: Any, shape: Sequence[int]) -> tf.Tensor:
        x = convert(inputs)
        ndim = x.shape.rank
        if len(shape) != ndim:
            raise ValueError(f"shape needs {ndim} entries (one per dimension), got {shape}.")
        sizes = tf.constant([int(s) for s in shape], tf.int64)
        dims = tf.shape(x, out_type=tf.int64)
        starts = starts_of(start_indices, ndim)
        starts = tf.where(sizes == -1, starts, clamped(starts, dims, sizes))
        return tf.slice(x, starts, sizes)

    def slice_update(inputs: Any, start_indices: Any, updates: Any) -> tf.Tensor:
        x = convert(inputs)
        u = convert(updates, backend.dtype_of(x))
        if u.shape.rank != x.shape.rank:
            raise ValueError(f"updates has rank {u.shape.rank}, inputs has rank {x.shape.rank}.")
        dims = tf.shape(x, out_type=tf.int64)
        sizes = tf.shape(u, out_type=tf.int64)
        starts = clamped(starts_of(start_indices, x.shape.rank), dims, sizes)
        paddings = tf.stack([starts, dims - starts - sizes], axis=1)
        inside = tf.pad(tf.ones_like(u, tf.bool), paddings, constant_values=False)
        return tf.where(inside, tf.pad(u, paddings), x)

    def scatter(indices: Any, values: Any, shape: Sequence[int]) -> tf.Tensor:
        v = convert(values)
        return tf.scatter_nd(index_tensor(indices), v, [int(s) for s in shape])

    def scatter_update(
        inputs: Any, indices: Any, updates: Any, reduction: str | None = None
    ) -> tf.Tensor:
        reduction = _check_reduction(reduction)
        x = convert(inputs)
        u = convert(updates, backend.dtype_of(x))
        index = index_tensor(indices)
        if reduction is None:
            return tf.tensor_scatter_nd_update(x, index, u)
        if reduction == "add":
            return tf.tensor_scatter_nd_add(x, index, u)
        if reduction == "max":
            return tf.tensor_scatter_nd_max(x, index, u)
        if reduction == "min":
            return tf.tensor_scatter_nd_min(x, index, u)
        # mul: the product of the updates at each position, then one multiplication.
        depth = index.shape[-1]
        positions = tf.shape(x, tf.int64)[:depth]
        strides = tf.math.cumprod(positions, reverse=True, exclusive=True)
        flat_index = tf.reshape(tf.reduce_sum(tf.cast(index, tf.int64) * strides, -1), [-1])
        count = tf.reduce_prod(positions)
        slice_shape = tf.shape(x, out_type=tf.int64)[depth:]
        source = tf.reshape(u, tf.concat([[-1], slice_shape], 0))
        factors = tf.math.unsorted_segment_prod(source, flat_index, count)
        factors = tf.reshape(factors, tf.shape(x))
        return x * factors

    def positive(index: tf.Tensor, size: Any) -> tf.Tensor:
        return tf.where(index < 0, index + tf.cast(size, index.dtype), index)

    def take(x: Any, indices: Any, axis: int | None = None) -> tf.Tensor:
        x, index = convert(x), index_tensor(indices)
        if axis is None:
            x, axis = tf.reshape(x, [-1]), 0
        return tf.gather(x, positive(index, tf.shape(x)[axis]), axis=axis)

    def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> tf.Tensor:
        x, index = convert(x), index_tensor(indices)
        if axis is None:
            x, axis = tf.reshape(x, [-1]), 0
        ndim = x.shape.rank
        if ndim != index.shape.rank:
            raise ValueError(
                f"x and indices must have the same rank, got shapes {x.shape} and {index.shape}."
            )
        axis = axis % ndim
        index = tf.cast(positive(index, tf.shape(x)[axis]), tf.int64)
        # Broadcast every axis but ``axis``, then gather along it with the others as batch.
        x_shape, index_shape = tf.shape(x, tf.int64), tf.shape(index, tf.int64)
        at_axis = tf.one_hot(axis, ndim, on_value=True, off_value=False)
        common = tf.broadcast_dynamic_shape(
            tf.where(at_axis, tf.ones_like(x_shape), x_shape),
            tf.where(at_axis, tf.ones_like(index_shape), index_shape),
        )
        x = tf.broadcast_to(x, tf.where(at_axis, x_shape, common))
        index = tf.broadcast_to(index, tf.where(at_axis, index_shape, common))
        perm = [*range(axis), *range(axis + 1, ndim), axis]
        inverse = [*range(axis), ndim - 1, *range(axis, ndim - 1)]
        picked = tf.gather(
            tf.transpose(x, perm), tf.transpose(index, perm), axis=ndim - 1, batch_dims=ndim - 1
        )
        return tf.transpose(picked, inverse)

    def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
        if _is_static(pred):
            if np.size(pred) != 1:
                raise ValueError(f"pred must be a scalar, got shape {np.shape(pred)}.")
            return tensors(true_fn() if bool(np.asarray(pred).reshape(())) else false_fn())
        pred = convert(pred)
        if pred.shape.num_elements() not in (None, 1):
            raise ValueError(f"pred must be a scalar, got shape {pred.shape}.")
        return tf.cond(
            tf.cast(tf.reshape(pred, []), tf.bool),
            lambda: tensors(true_fn()),
            lambda: tensors(false_fn()),
        )

    def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
        operands = tensors(operands)
        if _is_static(index):
            chosen = min(max(int(np.asarray(index)), 0), len(branches) - 1)
            return tensors(branches[chosen](*operands))
        index = tf.clip_by_value(tf.cast(convert(index), tf.int32), 0, len(branches) - 1)
        return tf.switch_case(index, [lambda b=b: tensors(b(*operands)) for b in branches])

    def while_loop(
        cond: Callable[..., Any],
        body: Callable[..., Any],
        loop_vars: Any,
        maximum_iterations: int | None = None,
    ) -> Any:
        several = isinstance(loop_vars, (list, tuple))
        values = tensors(tuple(loop_vars) if several else (loop_vars,))

        def step(*values: Any) -> tuple:
            result = body(*values)
            return tensors(tuple(result) if several else (result,))

        def check(*values: Any) -> tf.Tensor:
            return tf.cast(tf.reshape(convert(cond(*values)), []), tf.bool)

        values = tf.while_loop(check, step, values, maximum_iterations=maximum_iterations)
        values = tuple(values)
        return values if several else values[0]

    def fori_loop(
        lower: Any, upper: Any, body_fun: Callable[[Any, Any], Any], init_val: Any
    ) -> Any:
        lower, upper = convert(lower), convert(upper)
        if lower.dtype != upper.dtype:
            lower, upper = backend.promote(lower, upper)
        _, value = tf.while_loop(
            lambda i, _: i < upper,
            lambda i, value: (i + 1, tensors(body_fun(i, value))),
            (lower, tensors(init_val)),
        )
        return value

    def output_specs(f: Callable[..., Any], *args: Any) -> Any:
        """The structure of TensorSpecs ``f`` returns for these arguments, found by tracing it
        once in a scratch graph."""
        specs = _map(lambda t: None if t is None else tf.TensorSpec(t.shape, t.dtype), args)
        traced = tf.function(lambda *a: tensors(f(*a)), autograph=False)
        return _map(
            lambda t: None if t is None else tf.TensorSpec(t.shape, t.dtype),
            traced.get_concrete_function(*specs).structured_outputs,
        )

    def scan(
        f: Callable[[Any, Any], Any],
        init: Any,
        xs: Any = None,
        length: int | None = None,
        reverse: bool = False,
        unroll: int | bool = 1,
    ) -> tuple[Any, Any]:
        _check_unroll(unroll)  # unrolling is a compiler hint; the loop runs as tf.while_loop
        if xs is None and length is None:
            raise ValueError("scan: give xs to scan over, or the number of steps as length.")
        carry = tensors(init)
        xs = None if xs is None else tensors(xs)
        first = None if xs is None else next(t for t in _leaves(xs) if t is not None)
        if length is not None:
            n = int(length)
        else:
            n = first.shape[0] if first.shape[0] is not None else tf.shape(first)[0]

        def x_at(i: Any) -> Any:
            return None if xs is None else _map(lambda t: None if t is None else t[i], xs)

        def step(carry: Any, i: Any) -> tuple[Any, Any]:
            result = f(carry, x_at(i))
            if not (isinstance(result, (list, tuple)) and len(result) == 2):
                raise ValueError("scan: f must return a pair (new_carry, y).")
            return tensors(result[0]), tensors(result[1])

        start, first_ys = 0, None
        if isinstance(n, int) and n > 0:
            # Run the first step outside the loop: it tells the outputs' dtypes and shapes.
            carry, first_ys = step(carry, n - 1 if reverse else 0)
            y_specs = _map(
                lambda t: None if t is None else tf.TensorSpec(t.shape, t.dtype), first_ys
            )
            start = 1
        else:
            x_spec = None
            if xs is not None:
                x_spec = _map(
                    lambda t: None if t is None else tf.TensorSpec(t.shape[1:], t.dtype), xs
                )
            _, y_specs = output_specs(
                lambda c, x: tuple(f(c, x)),
                _map(lambda t: tf.TensorSpec(t.shape, t.dtype), carry),
                x_spec,
            )
        y_leaves = _leaves(y_specs)
        live = [j for j, spec in enumerate(y_leaves) if spec is not None]
        arrays = [
            tf.TensorArray(y_leaves[j].dtype, size=n, element_shape=y_leaves[j].shape) for j in live
        ]
        if first_ys is not None:
            firsts = _leaves(first_ys)
            arrays = [
                a.write(n - 1 if reverse else 0, firsts[j])
                for a, j in zip(arrays, live, strict=True)
            ]

        def loop_body(k: Any, carry: Any, arrays: list[Any]) -> tuple:
            i = n - 1 - k if reverse else k
            carry, y = step(carry, i)
            ys = _leaves(y)
            return k + 1, carry, [a.write(i, ys[j]) for a, j in zip(arrays, live, strict=True)]

        _, carry, arrays = tf.while_loop(
            lambda k, *_: k < n, loop_body, (tf.constant(start), carry, arrays)
        )
        stacked: list[Any] = [None] * len(y_leaves)
        for a, j in zip(arrays, live, strict=True):
            stacked[j] = a.stack()
            if isinstance(n, int):
                stacked[j] = tf.ensure_shape(stacked[j], [n, *y_leaves[j].shape])
        return carry, _pack(y_specs, stacked)

    def map_(f: Callable[[Any], Any], xs: Any) -> Any:
        _, ys = scan(lambda carry, x: (carry, f(x)), (), xs)
        return ys

    def vectorized_map(function: Callable[[Any], Any], elements: Any) -> Any:
        return tf.vectorized_map(lambda x: tensors(function(x)), tensors(elements))

    def custom_gradient(f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # ``f`` is in katman's canonical form: ``f(*args) -> (output, gradient)`` where
        # ``gradient(upstream)`` returns one gradient (or None) per argument.
        inputs = [convert(a) for a in args]

        @tf.custom_gradient
        def run(*xs: Any) -> tuple[Any, Callable[..., list]]:
            output, gradient = f(*xs, **kwargs)
            several = isinstance(output, (list, tuple))

            def grad(*upstream: Any) -> list:
                grads = gradient(tuple(upstream) if several else upstream[0])
                return [
                    tf.zeros_like(x) if g is None else convert(g, backend.dtype_of(x))
                    for x, g in zip(xs, grads, strict=True)
                ]

            return tensors(output), grad

        return run(*inputs)

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

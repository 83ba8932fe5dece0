"""Core ops: casting, indexing, scatter and control flow.

PyTorch runs eagerly, so control flow is plain Python around the callables (what
``torch.compile`` traces best); ``vectorized_map`` uses ``torch.vmap`` and ``custom_gradient`` a
``torch.autograd.Function``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from katman.backend import Backend
from katman.dtypes import standardize_dtype

_REDUCTIONS = (None, "add", "max", "min", "mul")
_SCATTER_REDUCE = {"max": "amax", "min": "amin", "mul": "prod"}


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


class _CustomGradient(torch.autograd.Function):
    """Runs ``f`` forward without recording, and its own gradient function backward."""

    @staticmethod
    def forward(ctx: Any, f: Callable[..., Any], *args: torch.Tensor) -> Any:
        output, gradient = f(*args)
        ctx.gradient = gradient
        ctx.several = isinstance(output, (list, tuple))
        ctx.inputs = [(a.dtype, a.device, a.shape) for a in args]
        if ctx.several:
            # An output that is an input as-is would alias it; autograd wants its own tensor.
            return tuple(o.clone() if any(o is a for a in args) else o for o in output)
        return output.clone() if any(output is a for a in args) else output

    @staticmethod
    def backward(ctx: Any, *upstream: torch.Tensor) -> tuple:
        grads = ctx.gradient(tuple(upstream) if ctx.several else upstream[0])
        return (
            None,
            *(
                None if g is None else torch.as_tensor(g, dtype=dtype, device=device).expand(shape)
                for g, (dtype, device, shape) in zip(grads, ctx.inputs, strict=True)
            ),
        )


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    convert = backend.convert_to_tensor

    def tensors(tree: Any) -> Any:
        """Every leaf of ``tree`` as a tensor (Python scalars take Keras's default dtypes)."""
        return _map(lambda v: None if v is None else convert(v), tree)

    def index_tensor(indices: Any) -> torch.Tensor:
        indices = convert(indices)
        if indices.is_floating_point() or indices.dtype == torch.bool:
            raise TypeError(f"indices must be integers, got {indices.dtype}.")
        return indices.long()

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
        return [s if isinstance(s, int) else convert(s).long() for s in starts]

    def clamp(start: Any, dim: int, size: Any) -> Any:
        """``start`` moved so that ``size`` elements fit, as XLA's dynamic slices do."""
        if isinstance(start, int) and isinstance(size, int):
            return min(max(start, 0), max(dim - size, 0))
        return torch.clamp(convert(start), 0, max(dim - int(size), 0))

    def cast(x: Any, dtype: Any) -> torch.Tensor:
        return convert(x, standardize_dtype(dtype))

    def shape(x: Any) -> tuple[int, ...]:
        return tuple(convert(x).shape) if not backend.is_tensor(x) else tuple(x.shape)

    def stop_gradient(variable: Any) -> torch.Tensor:
        return convert(variable).detach()

    def slice_(inputs: Any, start_indices: Any, shape: Sequence[int]) -> torch.Tensor:
        x = convert(inputs)
        starts = starts_of(start_indices, x.ndim)
        if len(shape) != x.ndim:
            raise ValueError(f"shape needs {x.ndim} entries (one per dimension), got {shape}.")
        result = x
        for dim, (start, size) in enumerate(zip(starts, shape, strict=True)):
            length = x.shape[dim] - int(start) if int(size) == -1 else int(size)
            result = torch.narrow(result, dim, clamp(start, x.shape[dim], length), length)
        return result

    def slice_update(inputs: Any, start_indices: Any, updates: Any) -> torch.Tensor:
        x = convert(inputs)
        u = convert(updates).to(device=x.device, dtype=x.dtype)
        if u.ndim != x.ndim:
            raise ValueError(f"updates has rank {u.ndim}, inputs has rank {x.ndim}.")
        starts = [
            clamp(s, d, n)
            for s, d, n in zip(starts_of(start_indices, x.ndim), x.shape, u.shape, strict=True)
        ]
        out = x.clone()
        if all(isinstance(s, int) for s in starts):
            out[tuple(slice(s, s + n) for s, n in zip(starts, u.shape, strict=True))] = u
            return out
        ranges = [
            torch.arange(n, device=x.device) + torch.as_tensor(s, device=x.device)
            for s, n in zip(starts, u.shape, strict=True)
        ]
        return out.index_put(tuple(torch.meshgrid(*ranges, indexing="ij")), u)

    def scatter(indices: Any, values: Any, shape: Sequence[int]) -> torch.Tensor:
        index = index_tensor(indices)
        v = convert(values)
        zeros = torch.zeros(tuple(int(s) for s in shape), dtype=v.dtype, device=v.device)
        return zeros.index_put(tuple(index.to(v.device).unbind(-1)), v, accumulate=True)

    def scatter_update(
        inputs: Any, indices: Any, updates: Any, reduction: str | None = None
    ) -> torch.Tensor:
        reduction = _check_reduction(reduction)
        x = convert(inputs)
        u = convert(updates).to(device=x.device, dtype=x.dtype)
        index = index_tensor(indices).to(x.device)
        if reduction in (None, "add"):
            return x.index_put(tuple(index.unbind(-1)), u, accumulate=reduction == "add")
        # max, min, mul: reduce into the rows of x seen as (positions, *slice_shape).
        depth = index.shape[-1]
        strides = torch.tensor(
            [math.prod(x.shape[i + 1 : depth]) for i in range(depth)], device=x.device
        )
        rows = (index * strides).sum(-1).reshape(-1)
        flat = x.reshape(math.prod(x.shape[:depth]), *x.shape[depth:])
        source = u.reshape(rows.shape[0], *x.shape[depth:])
        rows = rows.reshape(-1, *([1] * (source.ndim - 1))).expand_as(source)
        out = flat.scatter_reduce(0, rows, source, _SCATTER_REDUCE[reduction], include_self=True)
        return out.reshape(x.shape)

    def positive(index: torch.Tensor, size: int) -> torch.Tensor:
        return torch.where(index < 0, index + size, index)

    def take(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
        x = convert(x)
        index = index_tensor(indices).to(x.device)
        if axis is None:
            x, axis = x.reshape(-1), 0
        axis = axis % x.ndim if x.ndim else axis
        picked = torch.index_select(x, axis, positive(index, x.shape[axis]).reshape(-1))
        return picked.reshape((*x.shape[:axis], *index.shape, *x.shape[axis + 1 :]))

    def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
        x = convert(x)
        index = index_tensor(indices).to(x.device)
        if axis is None:
            x, axis = x.reshape(-1), 0
        if x.ndim != index.ndim:
            raise ValueError(
                f"x and indices must have the same rank, got shapes {tuple(x.shape)} and "
                f"{tuple(index.shape)}."
            )
        return torch.take_along_dim(x, positive(index, x.shape[axis]), dim=axis)

    def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
        pred = convert(pred)
        if pred.numel() != 1:
            raise ValueError(f"pred must be a scalar, got shape {tuple(pred.shape)}.")
        return tensors(true_fn() if bool(pred) else false_fn())

    def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
        chosen = min(max(int(convert(index)), 0), len(branches) - 1)
        return tensors(branches[chosen](*tensors(operands)))

    def while_loop(
        cond: Callable[..., Any],
        body: Callable[..., Any],
        loop_vars: Any,
        maximum_iterations: int | None = None,
    ) -> Any:
        several = isinstance(loop_vars, (list, tuple))
        values = tensors(tuple(loop_vars) if several else (loop_vars,))
        count = 0
        while (maximum_iterations is None or count < maximum_iterations) and bool(
            convert(cond(*values))
        ):
            result = body(*values)
            values = tensors(tuple(result) if several else (result,))
            count += 1
        return values if several else values[0]

    def fori_loop(
        lower: Any, upper: Any, body_fun: Callable[[Any, Any], Any], init_val: Any
    ) -> Any:
        value = tensors(init_val)
        for i in range(int(lower), int(upper)):
            value = tensors(body_fun(i, value))
        return value

    def stack(steps: list[Any]) -> Any:
        return _map(lambda *leaves: None if leaves[0] is None else torch.stack(leaves), *steps)

    def scan(
        f: Callable[[Any, Any], Any],
        init: Any,
        xs: Any = None,
        length: int | None = None,
        reverse: bool = False,
        unroll: int | bool = 1,
    ) -> tuple[Any, Any]:
        _check_unroll(unroll)  # unrolling is a compiler hint; PyTorch runs the loop eagerly
        if xs is None and length is None:
            raise ValueError("scan: give xs to scan over, or the number of steps as length.")
        carry = tensors(init)
        xs = None if xs is None else tensors(xs)
        n = None if xs is None else next(t for t in _leaves(xs) if t is not None).shape[0]
        if length is not None and n is not None and int(length) != n:
            raise ValueError(f"scan: length={length} but xs has {n} entries on its leading axis.")
        n = int(length) if n is None else n
        ys: list[Any] = [None] * n
        for i in reversed(range(n)) if reverse else range(n):
            result = f(carry, None if xs is None else _map(lambda t, i=i: t[i], xs))
            if not (isinstance(result, (list, tuple)) and len(result) == 2):
                raise ValueError("scan: f must return a pair (new_carry, y).")
            carry, ys[i] = tensors(result[0]), tensors(result[1])
        if n == 0:
            raise ValueError("scan: cannot infer the outputs of a scan over zero steps.")
        return carry, stack(ys)

    def map_(f: Callable[[Any], Any], xs: Any) -> Any:
        xs = tensors(xs)
        n = next(leaf for leaf in _leaves(xs) if leaf is not None).shape[0]
        return stack([tensors(f(_map(lambda t, i=i: t[i], xs))) for i in range(n)])

    def vectorized_map(function: Callable[[Any], Any], elements: Any) -> Any:
        return torch.vmap(lambda x: tensors(function(x)))(tensors(elements))

    def custom_gradient(f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # ``f`` is in katman's canonical form: ``f(*args) -> (output, gradient)`` where
        # ``gradient(upstream)`` returns one gradient (or None) per argument.
        def forward(*xs: Any) -> tuple[Any, Callable[[Any], tuple]]:
            output, gradient = f(*xs, **kwargs)
            return tensors(output), gradient

        output = _CustomGradient.apply(forward, *(convert(a) for a in args))
        return output

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

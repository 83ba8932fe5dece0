"""Core ops: casting, indexing, scatter and control flow (``keras.ops`` names and signatures).

Control-flow ops (cond, while_loop, fori_loop, scan, map, vectorized_map, switch,
custom_gradient) take Python callables, built from ``katman.ops``. Their NumPy references run
the same control flow in plain Python and call the callables on NumPy arrays (results that come
back as backend tensors are copied to NumPy). Their symbolic calls trace the callables on
KerasTensors where the output depends on them; a callable that cannot run on KerasTensors gets
a clear error. Structures (tuples, lists, dicts) of tensors are accepted wherever Keras accepts
them.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import katman
from katman.config import floatx
from katman.dtypes import result_type, standardize_dtype
from katman.errors import KatmanError, OpArgumentError
from katman.ops import Op
from katman.ops.rules import same_as_first
from katman.registry import PluginRegistrar
from katman.symbolic import KerasTensor

# Every op here is reported under the conformance area "core".
_op = functools.partial(Op, area="core")

SCATTER_REDUCTIONS = (None, "add", "max", "min", "mul")


# ---------------------------------------------------------------------------------------------
# Structures of values (tuples, lists, dicts), NumPy copies and symbolic specs.


def _leaves(tree: Any) -> list[Any]:
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item)]
    if isinstance(tree, dict):
        return [leaf for key in tree for leaf in _leaves(tree[key])]
    return [tree]


def _map(function: Callable[..., Any], tree: Any, *others: Any) -> Any:
    """``function`` applied leaf by leaf to ``tree`` (and same-structured ``others``)."""
    if isinstance(tree, (list, tuple)):
        items = [_map(function, t, *(o[i] for o in others)) for i, t in enumerate(tree)]
        return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)
    if isinstance(tree, dict):
        return {k: _map(function, tree[k], *(o[k] for o in others)) for k in tree}
    return function(tree, *others)


def _has_symbolic(*trees: Any) -> bool:
    return any(isinstance(leaf, KerasTensor) for leaf in _leaves(list(trees)))


def _host_dtype(dtype: str) -> str:
    return "float32" if dtype == "bfloat16" else dtype


def _host(value: Any) -> Any:
    """A leaf as a NumPy array, Python scalars taking Keras's default dtypes."""
    if value is None or isinstance(value, np.ndarray):
        return value
    if isinstance(value, np.generic):
        return np.asarray(value)
    if isinstance(value, bool):
        return np.asarray(value)
    if isinstance(value, int):
        return np.asarray(value, dtype="int32")
    if isinstance(value, float):
        return np.asarray(value, dtype=_host_dtype(floatx()))
    return np.asarray(katman.ops.convert_to_numpy(value))


def _to_host(tree: Any) -> Any:
    return _map(_host, tree)


def _stack(trees: Sequence[Any]) -> Any:
    """Leaf-wise ``np.stack`` of same-structured trees."""
    if not trees:
        raise ValueError("cannot stack the outputs of zero iterations")
    return _map(lambda *leaves: None if leaves[0] is None else np.stack(leaves), *trees)


def _value_dtype(value: Any) -> str:
    """The dtype ``value`` has as a tensor (Python data takes Keras's defaults)."""
    if isinstance(value, (bool, int, float)):
        return result_type(type(value))
    if hasattr(value, "dtype"):
        return standardize_dtype(value.dtype)
    kind = np.asarray(value).dtype.kind
    return floatx() if kind == "f" else "bool" if kind == "b" else "int32"


def _value_shape(value: Any) -> tuple[int | None, ...]:
    shape = value.shape if hasattr(value, "shape") else np.shape(value)
    return tuple(None if d is None else int(d) for d in shape)


def _spec(value: Any) -> Any:
    """A leaf as a KerasTensor (None stays None)."""
    if value is None or isinstance(value, KerasTensor):
        return value
    return KerasTensor(_value_shape(value), _value_dtype(value))


def _trace(name: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args)`` on KerasTensors, with an error that says what to do if it fails."""
    try:
        return function(*args, **kwargs)
    except KatmanError:
        raise
    except Exception as err:
        raise OpArgumentError(
            f"Op {name!r} traces {getattr(function, '__name__', function)!r} on KerasTensors "
            f"to find the shape and dtype of its output, and that call failed: "
            f"{type(err).__name__}: {err}. Build the function from katman.ops (or Python "
            "operators on tensors) so that it can run on symbolic inputs."
        ) from err


def _traced_specs(name: str, function: Callable[..., Any], *args: Any) -> Any:
    return _map(_spec, _trace(name, function, *args))


def _same_specs(first: Any, second: Any) -> bool:
    a, b = _leaves(first), _leaves(second)
    if len(a) != len(b):
        return False
    return all(
        (x is None and y is None)
        or (x is not None and y is not None and (x.shape, x.dtype) == (y.shape, y.dtype))
        for x, y in zip(a, b, strict=True)
    )


def _with_leading(n: int | None, tree: Any) -> Any:
    return _map(lambda t: None if t is None else KerasTensor((n, *t.shape), t.dtype), tree)


def _without_leading(tree: Any) -> Any:
    return _map(lambda t: KerasTensor(t.shape[1:], t.dtype), tree)


def _leading_size(name: str, tree: Any) -> int | None:
    leaves = [leaf for leaf in _leaves(tree) if leaf is not None]
    if not leaves or len(_value_shape(leaves[0])) == 0:
        raise ValueError(f"{name}: expected tensors with a leading axis to iterate over.")
    return _value_shape(leaves[0])[0]


class _TreeOp(Op):
    """An op whose tensor arguments may sit anywhere in nested structures: a KerasTensor at
    any depth makes the call symbolic."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _has_symbolic(args, kwargs):
            return self.symbolic_call(*args, **kwargs)
        return super().__call__(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# cast, shape, stop_gradient


def _cast_reference(x: Any, dtype: Any) -> np.ndarray:
    return np.asarray(x).astype(_host_dtype(standardize_dtype(dtype)))


def _cast_spec(x: Any, dtype: Any) -> KerasTensor:
    return KerasTensor(_value_shape(x), standardize_dtype(dtype))


def _shape_reference(x: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in np.shape(x))


def _shape_spec(x: Any) -> tuple[int | None, ...]:
    return _value_shape(x)


def _stop_gradient_reference(variable: Any) -> np.ndarray:
    return np.array(variable)


# ---------------------------------------------------------------------------------------------
# slice, slice_update


def _index_list(name: str, start_indices: Any, ndim: int) -> list[int]:
    starts = [int(s) for s in np.asarray(_to_host(start_indices)).reshape(-1)]
    if len(starts) != ndim:
        raise ValueError(
            f"{name}: start_indices needs one entry per dimension of inputs ({ndim}), got "
            f"{len(starts)}."
        )
    return starts


def _clamped(start: int, dim: int, size: int) -> int:
    """A start index moved so that ``size`` elements fit, as XLA's dynamic slices do."""
    return min(max(start, 0), max(dim - size, 0))


def _slice_reference(inputs: Any, start_indices: Any, shape: Sequence[int]) -> np.ndarray:
    x = np.asarray(_host(inputs))
    starts = _index_list("slice", start_indices, x.ndim)
    if len(shape) != x.ndim:
        raise ValueError(f"slice: shape needs {x.ndim} entries (one per dimension), got {shape}.")
    sizes = [
        d - b if int(s) == -1 else int(s) for d, b, s in zip(x.shape, starts, shape, strict=True)
    ]
    starts = [_clamped(b, d, n) for b, d, n in zip(starts, x.shape, sizes, strict=True)]
    return x[tuple(builtins.slice(b, b + n) for b, n in zip(starts, sizes, strict=True))]


def _slice_spec(inputs: Any, start_indices: Any, shape: Sequence[int]) -> KerasTensor:
    in_shape = _value_shape(inputs)
    if len(shape) != len(in_shape):
        raise ValueError(
            f"slice: shape {tuple(shape)} must have one entry per dimension of inputs {in_shape}."
        )
    dynamic = isinstance(start_indices, KerasTensor)
    if not dynamic and len(start_indices) != len(in_shape):
        raise ValueError(
            f"slice: start_indices {start_indices} must have one entry per dimension of inputs "
            f"{in_shape}."
        )
    dims: list[int | None] = []
    for i, (dim, size) in enumerate(zip(in_shape, shape, strict=True)):
        if int(size) != -1:
            dims.append(int(size))
        elif dynamic or dim is None or isinstance(start_indices[i], KerasTensor):
            dims.append(None)
        else:
            dims.append(dim - int(start_indices[i]))
    return KerasTensor(dims, _value_dtype(inputs))


def _slice_update_reference(inputs: Any, start_indices: Any, updates: Any) -> np.ndarray:
    x = np.array(_host(inputs))
    u = np.asarray(_host(updates))
    if u.ndim != x.ndim:
        raise ValueError(f"slice_update: updates has rank {u.ndim}, inputs has rank {x.ndim}.")
    starts = _index_list("slice_update", start_indices, x.ndim)
    starts = [_clamped(b, d, n) for b, d, n in zip(starts, x.shape, u.shape, strict=True)]
    x[tuple(builtins.slice(b, b + n) for b, n in zip(starts, u.shape, strict=True))] = u
    return x


def _like_inputs_spec(inputs: Any, *rest: Any, **kwargs: Any) -> KerasTensor:
    del rest, kwargs
    return KerasTensor(_value_shape(inputs), _value_dtype(inputs))


# ---------------------------------------------------------------------------------------------
# scatter, scatter_update


def _scatter_key(indices: Any) -> tuple[np.ndarray, ...]:
    index = np.asarray(_host(indices)).astype("int64")
    return tuple(np.moveaxis(index, -1, 0))


def _scatter_reference(indices: Any, values: Any, shape: Sequence[int]) -> np.ndarray:
    v = np.asarray(_host(values))
    out = np.zeros(tuple(int(s) for s in shape), dtype=v.dtype)
    np.add.at(out, _scatter_key(indices), v)
    return out


def _scatter_spec(indices: Any, values: Any, shape: Sequence[int]) -> KerasTensor:
    del indices
    return KerasTensor(tuple(int(s) for s in shape), _value_dtype(values))


def _check_reduction(reduction: Any) -> str | None:
    name = reduction.lower() if isinstance(reduction, str) else reduction
    if name not in SCATTER_REDUCTIONS:
        raise ValueError(
            f"scatter_update: invalid reduction {reduction!r}; expected one of None, 'add', "
            "'max', 'min', 'mul'."
        )
    return name


def _scatter_update_reference(
    inputs: Any, indices: Any, updates: Any, reduction: str | None = None
) -> np.ndarray:
    reduction = _check_reduction(reduction)
    x = np.array(_host(inputs))
    u = np.asarray(_host(updates)).astype(x.dtype)
    key = _scatter_key(indices)
    if reduction is None:
        x[key] = u
    else:
        ufunc = {"add": np.add, "max": np.maximum, "min": np.minimum, "mul": np.multiply}
        ufunc[reduction].at(x, key, u)
    return x


def _scatter_update_spec(
    inputs: Any, indices: Any, updates: Any, reduction: str | None = None
) -> KerasTensor:
    _check_reduction(reduction)
    return _like_inputs_spec(inputs)


# ---------------------------------------------------------------------------------------------
# take, take_along_axis


def _take_reference(x: Any, indices: Any, axis: int | None = None) -> np.ndarray:
    return np.take(np.asarray(_host(x)), np.asarray(_host(indices)), axis=axis)


def _take_spec(x: Any, indices: Any, axis: int | None = None) -> KerasTensor:
    x_shape, index_shape = _value_shape(x), _value_shape(indices)
    if axis is None:
        return KerasTensor(index_shape, _value_dtype(x))
    axis = _canonical_axis("take", axis, len(x_shape))
    return KerasTensor((*x_shape[:axis], *index_shape, *x_shape[axis + 1 :]), _value_dtype(x))


def _canonical_axis(name: str, axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for a tensor of rank {ndim}.")
    return axis % ndim


def _broadcast_dim(name: str, a: int | None, b: int | None) -> int | None:
    if a == 1:
        return b
    if b == 1 or a == b:
        return a
    if a is None or b is None:
        return None
    raise ValueError(f"{name}: shapes do not broadcast ({a} against {b}).")


def _take_along_axis_reference(x: Any, indices: Any, axis: int | None = None) -> np.ndarray:
    return np.take_along_axis(np.asarray(_host(x)), np.asarray(_host(indices)), axis=axis)


def _take_along_axis_spec(x: Any, indices: Any, axis: int | None = None) -> KerasTensor:
    x_shape, index_shape = list(_value_shape(x)), list(_value_shape(indices))
    if axis is None:
        x_shape = [None if None in x_shape else math.prod(x_shape)]
        axis = 0
    if len(x_shape) != len(index_shape):
        raise ValueError(
            "take_along_axis: x and indices must have the same rank, got shapes "
            f"{tuple(x_shape)} and {tuple(index_shape)}."
        )
    axis = _canonical_axis("take_along_axis", axis, len(x_shape))
    x_shape[axis] = index_shape[axis]
    dims = [
        _broadcast_dim("take_along_axis", a, b) for a, b in zip(x_shape, index_shape, strict=True)
    ]
    return KerasTensor(dims, _value_dtype(x))


# ---------------------------------------------------------------------------------------------
# cond, switch


def _cond_reference(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    return _to_host(true_fn() if bool(_host(pred)) else false_fn())


def _cond_spec(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    if _value_shape(pred) not in ((), (1,)):
        raise ValueError(f"cond: pred must be a scalar, got shape {_value_shape(pred)}.")
    true_spec = _traced_specs("cond", true_fn)
    false_spec = _traced_specs("cond", false_fn)
    if not _same_specs(true_spec, false_spec):
        raise ValueError(
            "cond: true_fn and false_fn must return the same structure of tensors with the "
            f"same shapes and dtypes; got {true_spec} and {false_spec}."
        )
    return true_spec


def _switch_index(index: Any, count: int) -> int:
    return min(max(int(_host(index)), 0), count - 1)


def _switch_reference(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    operands = tuple(_to_host(o) for o in operands)
    return _to_host(branches[_switch_index(index, len(branches))](*operands))


def _switch_spec(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    if not branches:
        raise ValueError("switch: branches must hold at least one function.")
    operands = tuple(_map(_spec, o) for o in operands)
    specs = [_traced_specs("switch", branch, *operands) for branch in branches]
    for spec in specs[1:]:
        if not _same_specs(specs[0], spec):
            raise ValueError(
                "switch: every branch must return the same structure of tensors with the same "
                f"shapes and dtypes; got {specs[0]} and {spec}."
            )
    return specs[0]


# ---------------------------------------------------------------------------------------------
# while_loop, fori_loop


def _loop_tuple(loop_vars: Any) -> tuple[tuple, bool]:
    several = isinstance(loop_vars, (list, tuple))
    return (tuple(loop_vars) if several else (loop_vars,)), several


def _while_loop_reference(
    cond: Callable[..., Any],
    body: Callable[..., Any],
    loop_vars: Any,
    maximum_iterations: int | None = None,
) -> Any:
    values, several = _loop_tuple(loop_vars)
    values = _to_host(values)
    count = 0
    while (maximum_iterations is None or count < maximum_iterations) and bool(_host(cond(*values))):
        result = body(*values)
        values = _to_host(tuple(result) if several else (result,))
        count += 1
    return values if several else values[0]


def _while_loop_spec(
    cond: Callable[..., Any],
    body: Callable[..., Any],
    loop_vars: Any,
    maximum_iterations: int | None = None,
) -> Any:
    values, several = _loop_tuple(loop_vars)
    specs = _map(_spec, values)
    return specs if several else specs[0]


def _fori_loop_reference(
    lower: Any, upper: Any, body_fun: Callable[[Any, Any], Any], init_val: Any
) -> Any:
    value = _to_host(init_val)
    for i in range(int(_host(lower)), int(_host(upper))):
        value = _to_host(body_fun(i, value))
    return value


def _fori_loop_spec(
    lower: Any, upper: Any, body_fun: Callable[[Any, Any], Any], init_val: Any
) -> Any:
    return _map(_spec, init_val)


# ---------------------------------------------------------------------------------------------
# scan, map, vectorized_map


def _check_unroll(unroll: Any) -> None:
    if not isinstance(unroll, bool) and not (isinstance(unroll, int) and unroll >= 1):
        raise ValueError(f"scan: unroll must be a positive int or a bool, got {unroll!r}.")


def _scan_length(xs: Any, length: int | None) -> int:
    if xs is None:
        if length is None:
            raise ValueError("scan: give xs to scan over, or the number of steps as length.")
        return int(length)
    n = _leading_size("scan", xs)
    if length is not None and n is not None and int(length) != n:
        raise ValueError(f"scan: length={length} but xs has {n} entries on its leading axis.")
    return n if n is not None else int(length) if length is not None else None


def _scan_reference(
    f: Callable[[Any, Any], Any],
    init: Any,
    xs: Any = None,
    length: int | None = None,
    reverse: bool = False,
    unroll: int | bool = 1,
) -> tuple[Any, Any]:
    _check_unroll(unroll)
    n = _scan_length(xs, length)
    carry, xs = _to_host(init), None if xs is None else _to_host(xs)
    ys: list[Any] = [None] * n
    for i in reversed(range(n)) if reverse else range(n):
        carry, y = f(carry, None if xs is None else _map(lambda t, i=i: t[i], xs))
        carry, ys[i] = _to_host(carry), _to_host(y)
    return carry, _stack(ys)


def _scan_spec(
    f: Callable[[Any, Any], Any],
    init: Any,
    xs: Any = None,
    length: int | None = None,
    reverse: bool = False,
    unroll: int | bool = 1,
) -> tuple[Any, Any]:
    _check_unroll(unroll)
    n = _scan_length(xs, length)
    x = None if xs is None else _without_leading(_map(_spec, xs))
    result = _trace("scan", f, _map(_spec, init), x)
    if not (isinstance(result, (list, tuple)) and len(result) == 2):
        raise ValueError("scan: f must return a pair (new_carry, y).")
    carry, y = _map(_spec, tuple(result))
    return carry, _with_leading(n, y)


def _map_reference(f: Callable[[Any], Any], xs: Any) -> Any:
    xs = _to_host(xs)
    n = _leading_size("map", xs)
    return _stack([_to_host(f(_map(lambda t, i=i: t[i], xs))) for i in range(n)])


def _map_spec(f: Callable[[Any], Any], xs: Any) -> Any:
    n = _leading_size("map", xs)
    return _with_leading(n, _traced_specs("map", f, _without_leading(_map(_spec, xs))))


def _vectorized_map_reference(function: Callable[[Any], Any], elements: Any) -> Any:
    return _map_reference(function, elements)


def _vectorized_map_spec(function: Callable[[Any], Any], elements: Any) -> Any:
    n = _leading_size("vectorized_map", elements)
    x = _without_leading(_map(_spec, elements))
    return _with_leading(n, _traced_specs("vectorized_map", function, x))


# ---------------------------------------------------------------------------------------------
# custom_gradient


class CustomGradientError(KatmanError, TypeError):
    """A function given to custom_gradient does not return ``(output, grad_fn)``."""


def _call_grad_fn(grad_fn: Callable[..., Any], upstream: Any, args: tuple, several: bool) -> Any:
    """Call a Keras-style ``grad_fn`` whichever convention it follows: ``grad(upstream)``
    (JAX, TensorFlow), ``grad(*upstreams)`` for several outputs (TensorFlow), or
    ``grad(*args, upstream)`` with ``upstream`` keyword-only (PyTorch, backend-agnostic)."""
    try:
        params = list(inspect.signature(grad_fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    kinds = {p.name: p.kind for p in params}
    if kinds.get("upstream") is inspect.Parameter.KEYWORD_ONLY:
        return grad_fn(*args, upstream=upstream)
    if several:
        ordered = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        positional = [p for p in params if p.kind in ordered]
        if inspect.Parameter.VAR_POSITIONAL in kinds.values() or len(positional) > 1:
            return grad_fn(*upstream)
    return grad_fn(upstream)


def canonical_gradient(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` (returning ``(output, grad_fn)`` in any Keras convention) made to return
    ``(output, gradient)``, where ``gradient(upstream)`` takes the output's cotangent (a tensor,
    or a tuple for several outputs) and returns a tuple with one gradient (or None) per
    positional argument. Backend kernels of ``custom_gradient`` receive this form."""

    @functools.wraps(f)
    def forward(*args: Any, **kwargs: Any) -> tuple[Any, Callable[[Any], tuple]]:
        result = f(*args, **kwargs)
        if not (isinstance(result, (list, tuple)) and len(result) == 2 and callable(result[1])):
            raise CustomGradientError(
                "custom_gradient: the decorated function must return a pair (output, grad_fn) "
                f"with a callable grad_fn, got {result!r:.200}."
            )
        output, grad_fn = result
        several = isinstance(output, (list, tuple))

        def gradient(upstream: Any) -> tuple:
            grads = _call_grad_fn(grad_fn, upstream, args, several)
            grads = tuple(grads) if isinstance(grads, (list, tuple)) else (grads,)
            if len(grads) != len(args):
                raise ValueError(
                    f"custom_gradient: grad_fn returned {len(grads)} gradient(s) for "
                    f"{len(args)} positional argument(s)."
                )
            return grads

        return output, gradient

    return forward


def _custom_gradient_reference(f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    if not args and not kwargs:
        return lambda *a, **k: _custom_gradient_reference(f, *a, **k)
    output, _ = f(*(_to_host(a) for a in args), **kwargs)
    return _to_host(output)


def _custom_gradient_spec(f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    specs = tuple(_map(_spec, a) for a in args)
    result = _trace("custom_gradient", f, *specs, **kwargs)
    return _map(_spec, result[0])


class _CustomGradientOp(_TreeOp):
    """``custom_gradient(f)`` is a decorator; ``custom_gradient(f, *args)`` applies the
    decorated function to ``args`` at once."""

    def __call__(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not callable(f):
            raise TypeError(f"custom_gradient expects a function, got {type(f).__name__}.")
        if not args and not kwargs:

            @functools.wraps(f)
            def decorated(*a: Any, **k: Any) -> Any:
                return self(f, *a, **k)

            return decorated
        return super().__call__(canonical_gradient(f), *args, **kwargs)


# ---------------------------------------------------------------------------------------------

_tree_op = functools.partial(_TreeOp, area="core")

OPS: tuple[Op, ...] = (
    _op(
        "cast",
        reference=_cast_reference,
        output_spec=_cast_spec,
        doc="``x`` converted to ``dtype`` (floats to integers truncate toward zero).",
    ),
    _op(
        "shape",
        reference=_shape_reference,
        output_spec=_shape_spec,
        differentiable=False,
        doc="The shape of ``x`` as a tuple of ints (None for unknown symbolic dimensions).",
    ),
    _op(
        "stop_gradient",
        reference=_stop_gradient_reference,
        dtype=same_as_first,
        doc="``variable`` unchanged, but treated as a constant by differentiation.",
    ),
    _op(
        "slice",
        reference=_slice_reference,
        output_spec=_slice_spec,
        doc="The block of ``inputs`` of ``shape`` (-1: to the end) starting at "
        "``start_indices``; starts are clamped so that the block fits.",
    ),
    _op(
        "slice_update",
        reference=_slice_update_reference,
        output_spec=_like_inputs_spec,
        doc="``inputs`` with the block at ``start_indices`` replaced by ``updates`` (cast to "
        "the inputs' dtype; starts are clamped so that the block fits).",
    ),
    _op(
        "scatter",
        reference=_scatter_reference,
        output_spec=_scatter_spec,
        doc="Zeros of ``shape`` with ``values`` added at ``indices`` (shape ``(..., k)``).",
    ),
    _op(
        "scatter_update",
        reference=_scatter_update_reference,
        output_spec=_scatter_update_spec,
        doc="``inputs`` with ``updates`` written at ``indices``, or combined there by "
        "``reduction`` ('add', 'max', 'min', 'mul').",
    ),
    _op(
        "take",
        reference=_take_reference,
        output_spec=_take_spec,
        doc="Elements of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` if None).",
    ),
    _op(
        "take_along_axis",
        reference=_take_along_axis_reference,
        output_spec=_take_along_axis_spec,
        doc="Elements of ``x`` picked by ``indices`` along ``axis``, other axes broadcasting.",
    ),
    _tree_op(
        "cond",
        reference=_cond_reference,
        output_spec=_cond_spec,
        doc="``true_fn()`` if ``pred`` else ``false_fn()``.",
    ),
    _tree_op(
        "switch",
        reference=_switch_reference,
        output_spec=_switch_spec,
        doc="``branches[index](*operands)``, with ``index`` clamped into range.",
    ),
    _tree_op(
        "while_loop",
        reference=_while_loop_reference,
        output_spec=_while_loop_spec,
        doc="Repeats ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (and fewer than "
        "``maximum_iterations`` steps ran).",
    ),
    _tree_op(
        "fori_loop",
        reference=_fori_loop_reference,
        output_spec=_fori_loop_spec,
        doc="``val = body_fun(i, val)`` for ``i`` from ``lower`` to ``upper - 1``.",
    ),
    _tree_op(
        "scan",
        reference=_scan_reference,
        output_spec=_scan_spec,
        doc="Loops ``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns the last "
        "carry and the stacked ``y``.",
    ),
    _tree_op(
        "map",
        reference=_map_reference,
        output_spec=_map_spec,
        doc="``f`` applied to each slice of ``xs`` along its leading axis, results stacked.",
    ),
    _tree_op(
        "vectorized_map",
        reference=_vectorized_map_reference,
        output_spec=_vectorized_map_spec,
        doc="``function`` applied to each slice of ``elements`` along axis 0, vectorized.",
    ),
    _CustomGradientOp(
        "custom_gradient",
        reference=_custom_gradient_reference,
        output_spec=_custom_gradient_spec,
        area="core",
        doc="Decorator: ``f(*args)`` returns ``(output, grad_fn)``; the decorated function "
        "returns ``output`` and differentiates with ``grad_fn``. ``grad_fn`` may take "
        "``upstream`` positionally or as a keyword-only argument after ``*args``.",
    ),
)


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for op in OPS:
        registry.add("op", op.name, op)

"""Records for core ops: casting, indexing, scatter and control flow.

Control-flow ops take functions. The records pass :class:`Fn` objects: one function written
twice, with ``katman.ops`` (what the backend runs, and what symbolic calls trace) and with
NumPy (what the op's reference calls, on NumPy arrays), printed as their katman source in
reproducers.

Two ops have gradients that finite differences of an ordinary function cannot show:
stop_gradient (zero) and custom_gradient (whatever ``grad_fn`` says). Their samples lie on a
grid of multiples of 1/64, and their references are locally affine models that equal the op's
value on the grid and change, near it, at the rate the gradient should have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import katman
from katman.conformance.records import OpRecord
from katman.conformance.strategies import (
    FLOATS,
    NUMERIC,
    Sample,
    array,
    custom,
    render_value,
    shapes,
)

ops = katman.ops
WITH_BOOL = (*NUMERIC, "bool")
CAST_TARGETS = (
    "bfloat16", "float16", "float32", "float64",
    "uint8", "int8", "int16", "int32", "int64", "bool",
)  # fmt: skip
CAST_SOURCES = ("float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool")
GRID = 64  # samples of stop_gradient and custom_gradient are multiples of 1 / GRID


def _leaves(tree: Any) -> list[Any]:
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def _on_host(args: tuple) -> bool:
    leaves = _leaves(args)
    return bool(leaves) and all(
        v is None or isinstance(v, (np.ndarray, np.generic, bool, int, float)) for v in leaves
    )


class Fn:
    """A function with a katman implementation and a NumPy twin: called on NumPy data (by a
    reference) it runs the twin, on anything else (tensors, KerasTensors) the katman one."""

    def __init__(
        self,
        text: str,
        with_katman: Callable[..., Any],
        with_numpy: Callable[..., Any] | None = None,
    ) -> None:
        self.text = text
        self.with_katman = with_katman
        self.with_numpy = with_numpy

    def __call__(self, *args: Any) -> Any:
        if self.with_numpy is not None and _on_host(args):
            return self.with_numpy(*args)
        return self.with_katman(*args)

    def __repr__(self) -> str:
        return self.text


def _snap(x: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(x, dtype="float64") * GRID) / GRID


def _grid_array(data: st.DrawFn, dtype: str, shape: tuple, bound: int) -> np.ndarray:
    steps = data(hnp.arrays("int32", shape, elements=st.integers(-bound, bound)))
    return np.asarray(steps / GRID, dtype=dtype)


# --- cast ----------------------------------------------------------------------------------


def _cast(data: st.DrawFn) -> Sample:
    source = data(st.sampled_from(CAST_SOURCES))
    target = data(st.sampled_from(CAST_TARGETS))
    domain = (0.0, 10.0) if "uint8" in (source, target) else (-10.0, 10.0)
    x = data(array(source, data(shapes()), domain))
    if source.startswith("float") and target not in FLOATS:
        # x by keyword: the gradient check skips it (integer results have no gradient, and
        # float16/bfloat16 results round the one they have).
        return Sample((), {"x": x, "dtype": target})
    return Sample((x, target))


def _cast_reference(x: np.ndarray, dtype: str) -> np.ndarray:
    if dtype in ("bfloat16", "float16", "float32", "float64"):
        # Exact values, compared within the target's tolerance; finite differences need them.
        return np.asarray(x, dtype="float64")
    return ops.__getattr__("cast").reference(x, dtype)


# --- shape, stop_gradient ------------------------------------------------------------------


def _shape(data: st.DrawFn) -> Sample:
    # The harness compares tensors only, and shape returns Python ints: a scalar's shape, the
    # empty tuple, is the one result it can check until it learns to compare Python values.
    return Sample((data(array(data(st.sampled_from(WITH_BOOL)), ())),))


def _stop_gradient(data: st.DrawFn) -> Sample:
    dtype = data(st.sampled_from((*FLOATS, "int32")))
    shape = data(shapes())
    if dtype == "int32":
        return Sample((data(array(dtype, shape)),))
    return Sample((_grid_array(data, dtype, shape, 10 * GRID),))


def _stop_gradient_reference(variable: np.ndarray) -> np.ndarray:
    """``variable`` on the grid, constant near it: derivative zero."""
    x = np.asarray(variable)
    return _snap(x).astype(x.dtype) if x.dtype.kind == "f" else x.copy()


# --- slice, slice_update -------------------------------------------------------------------


def _starts(data: st.DrawFn, starts: list[int], dynamic: bool) -> Any:
    if dynamic:
        return np.asarray(starts, dtype="int32")
    return tuple(starts) if data(st.booleans()) else list(starts)


def _slice(data: st.DrawFn) -> Sample:
    x = data(array(data(st.sampled_from(WITH_BOOL)), data(shapes())))
    dynamic = data(st.booleans())
    starts, sizes = [], []
    for dim in x.shape:
        start = data(st.integers(0, dim - 1))
        size = data(st.integers(1, dim - start))
        starts.append(start)
        sizes.append(-1 if not dynamic and data(st.integers(0, 3)) == 0 else size)
    return Sample((x, _starts(data, starts, dynamic), sizes))


def _slice_update(data: st.DrawFn) -> Sample:
    dtype = data(st.sampled_from(WITH_BOOL))
    x = data(array(dtype, data(shapes())))
    update_shape = tuple(data(st.integers(1, d)) for d in x.shape)
    starts = [data(st.integers(0, d - n)) for d, n in zip(x.shape, update_shape, strict=True)]
    updates = data(array(dtype, update_shape))
    return Sample((x, _starts(data, starts, data(st.booleans())), updates))


# --- scatter, scatter_update ---------------------------------------------------------------


def _index_rows(data: st.DrawFn, dims: tuple[int, ...], count: int, unique: bool) -> np.ndarray:
    """``count`` index rows into an array of shape ``dims`` (shape ``(count, len(dims))``)."""
    total = int(np.prod(dims))
    flat = data(st.lists(st.integers(0, total - 1), min_size=count, max_size=count, unique=unique))
    return np.stack(np.unravel_index(np.asarray(flat, dtype="int64"), dims), -1).astype("int32")


def _scatter(data: st.DrawFn) -> Sample:
    dtype = data(st.sampled_from(NUMERIC))
    shape = data(shapes(min_dims=1))
    depth = data(st.integers(1, len(shape)))
    batch = data(st.sampled_from(((), (2,))))
    count = data(st.integers(1, 4))
    rows = _index_rows(data, shape[:depth], int(np.prod((*batch, count))), unique=False)
    indices = rows.reshape(*batch, count, depth)
    values = data(array(dtype, (*batch, count, *shape[depth:])))
    return Sample((indices, values, shape if data(st.booleans()) else list(shape)))


def _scatter_update(data: st.DrawFn) -> Sample:
    dtype = data(st.sampled_from(NUMERIC))
    reduction = data(st.sampled_from((None, "add", "max", "min", "mul")))
    x = data(array(dtype, data(shapes(min_dims=1)), (-3.0, 3.0)))
    depth = data(st.integers(1, x.ndim))
    positions = int(np.prod(x.shape[:depth]))
    # Without a reduction, two updates of one position would race: keep them apart.
    count = data(st.integers(1, positions if reduction is None else 4))
    indices = _index_rows(data, x.shape[:depth], count, unique=reduction is None)
    updates = data(array(dtype, (count, *x.shape[depth:]), (-3.0, 3.0)))
    if reduction is None and data(st.booleans()):
        return Sample((x, indices, updates))
    if reduction is not None and data(st.booleans()):
        reduction = reduction.upper()
    return Sample((x, indices, updates), {"reduction": reduction})


# --- take, take_along_axis -----------------------------------------------------------------


def _take(data: st.DrawFn) -> Sample:
    x = data(array(data(st.sampled_from(WITH_BOOL)), data(shapes())))
    axis = None if x.ndim == 0 or data(st.booleans()) else data(st.integers(-x.ndim, x.ndim - 1))
    size = x.size if axis is None else x.shape[axis]
    if data(st.integers(0, 4)) == 0:
        indices: Any = data(st.integers(-size, size - 1))
    else:
        indices = data(array("int32", data(shapes(max_dims=2)), (-size, size - 1)))
    if axis is None and data(st.booleans()):
        return Sample((x, indices))
    return Sample((x, indices), {"axis": axis})


def _take_along_axis(data: st.DrawFn) -> Sample:
    dtype = data(st.sampled_from(WITH_BOOL))
    if data(st.integers(0, 3)) == 0:
        x = data(array(dtype, data(shapes())))
        indices = data(array("int32", (data(st.integers(1, 4)),), (-x.size, x.size - 1)))
        return Sample((x, indices), {"axis": None})
    ndim = data(st.integers(1, 3))
    axis = data(st.integers(-ndim, ndim - 1))
    x_shape, index_shape = [], []
    for i in range(ndim):
        if i == axis % ndim:
            x_shape.append(data(st.integers(1, 4)))
            index_shape.append(data(st.integers(1, 4)))
            continue
        size = data(st.integers(1, 4))
        pair = data(st.sampled_from(((size, size), (size, 1), (1, size))))
        x_shape.append(pair[0])
        index_shape.append(pair[1])
    x = data(array(dtype, x_shape))
    n = x.shape[axis]
    indices = data(array("int32", index_shape, (-n, n - 1)))
    return Sample((x, indices), {"axis": axis})


# --- cond, switch --------------------------------------------------------------------------


def _cond(data: st.DrawFn) -> Sample:
    x = data(array(data(st.sampled_from(NUMERIC)), data(shapes())))
    pred = np.asarray(data(st.booleans()))
    shown = render_value(x)
    if data(st.booleans()):
        true_fn = Fn(
            f"lambda: (katman.ops.multiply({shown}, 2), katman.ops.add({shown}, {shown}))",
            lambda: (ops.multiply(x, 2), ops.add(x, x)),
        )
        false_fn = Fn(
            f"lambda: (katman.ops.subtract({shown}, 1), katman.ops.multiply({shown}, {shown}))",
            lambda: (ops.subtract(x, 1), ops.multiply(x, x)),
        )
    else:
        true_fn = Fn(f"lambda: katman.ops.multiply({shown}, 2)", lambda: ops.multiply(x, 2))
        false_fn = Fn(f"lambda: katman.ops.subtract({shown}, 1)", lambda: ops.subtract(x, 1))
    return Sample((pred, true_fn, false_fn))


SWITCH_BRANCHES = (
    Fn("lambda a, b: katman.ops.add(a, b)", lambda a, b: ops.add(a, b), np.add),
    Fn(
        "lambda a, b: katman.ops.multiply(katman.ops.multiply(a, b), b)",
        lambda a, b: ops.multiply(ops.multiply(a, b), b),
        lambda a, b: a * b * b,
    ),
    Fn("lambda a, b: katman.ops.subtract(a, b)", lambda a, b: ops.subtract(a, b), np.subtract),
)


def _switch(data: st.DrawFn) -> Sample:
    dtype = data(st.sampled_from((*FLOATS, "int32")))
    pair = data(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
    a = data(array(dtype, pair.input_shapes[0], (-3.0, 3.0)))
    b = data(array(dtype, pair.input_shapes[1], (-3.0, 3.0)))
    branches = list(SWITCH_BRANCHES[: data(st.integers(1, len(SWITCH_BRANCHES)))])
    index: Any = data(st.integers(-1, len(branches)))  # out of range clamps
    if data(st.booleans()):
        index = np.asarray(index, dtype="int32")
    return Sample((index, branches, a, b))


# --- while_loop, fori_loop -----------------------------------------------------------------


def _while_loop(data: st.DrawFn) -> Sample:
    maximum = data(st.one_of(st.none(), st.integers(0, 4)))
    if data(st.booleans()):
        # A counter and a value: a structure of loop variables.
        limit = data(st.integers(0, 4))
        x = data(array(data(st.sampled_from(FLOATS)), data(shapes())))
        cond = Fn(f"lambda i, x: i < {limit}", lambda i, x: i < limit)
        body = Fn(
            "lambda i, x: (i + 1, katman.ops.add(katman.ops.multiply(x, 0.5), 1.0))",
            lambda i, x: (i + 1, ops.add(ops.multiply(x, 0.5), 1.0)),
            lambda i, x: (i + 1, x * 0.5 + 1.0),
        )
        start = 0 if data(st.booleans()) else np.asarray(0, dtype="int32")
        return Sample((cond, body, (start, x)), {"maximum_iterations": maximum})
    # One tensor, doubled until its sum reaches a bound: values on the grid keep every sum exact.
    dtype = data(st.sampled_from(FLOATS))
    steps = data(hnp.arrays("int32", data(shapes()), elements=st.integers(GRID // 2, 2 * GRID)))
    x = np.asarray(steps / GRID, dtype=dtype)
    bound = float(data(st.integers(1, 40)))
    cond = Fn(
        f"lambda x: katman.ops.sum(x) < {bound}",
        lambda x: ops.sum(x) < bound,
        lambda x: np.sum(x) < bound,
    )
    body = Fn("lambda x: katman.ops.multiply(x, 2.0)", lambda x: ops.multiply(x, 2.0),
              lambda x: x * 2.0)  # fmt: skip
    kwargs = {} if maximum is None and data(st.booleans()) else {"maximum_iterations": maximum}
    return Sample((cond, body, x), kwargs)


FORI_BODIES = {
    "float": Fn(
        "lambda i, x: katman.ops.add(katman.ops.multiply(x, 0.5), i)",
        lambda i, x: ops.add(ops.multiply(x, 0.5), i),
        lambda i, x: x * 0.5 + i,
    ),
    "int": Fn(
        "lambda i, x: katman.ops.subtract(katman.ops.multiply(x, 2), i)",
        lambda i, x: ops.subtract(ops.multiply(x, 2), i),
        lambda i, x: x * 2 - i,
    ),
}


def _fori_loop(data: st.DrawFn) -> Sample:
    dtype = data(st.sampled_from(NUMERIC))
    x = data(array(dtype, data(shapes()), (-3.0, 3.0)))
    lower = data(st.integers(0, 2))
    upper = data(st.integers(lower - 1, lower + 3))
    body = FORI_BODIES["int" if dtype == "int32" else "float"]
    if data(st.booleans()):
        # Bounds as tensors: jax runs a while loop, which has no reverse-mode gradient, so the
        # state goes by keyword (the gradient check skips it).
        lower, upper = np.asarray(lower, "int32"), np.asarray(upper, "int32")
        return Sample((lower, upper, body), {"init_val": x})
    return Sample((lower, upper, body, x))


# --- scan, map, vectorized_map -------------------------------------------------------------

SCAN_STEP = Fn(
    "lambda c, x: (katman.ops.add(katman.ops.multiply(c, 0.5), x), katman.ops.multiply(c, x))",
    lambda c, x: (ops.add(ops.multiply(c, 0.5), x), ops.multiply(c, x)),
    lambda c, x: (c * 0.5 + x, c * x),
)
SCAN_INT_STEP = Fn(
    "lambda c, x: (katman.ops.add(c, x), katman.ops.multiply(c, x))",
    lambda c, x: (ops.add(c, x), ops.multiply(c, x)),
    lambda c, x: (c + x, c * x),
)
SCAN_PAIR_STEP = Fn(
    "lambda c, x: ((katman.ops.add(c[0], x), katman.ops.multiply(c[1], 0.5)), "
    "katman.ops.multiply(c[0], c[1]))",
    lambda c, x: ((ops.add(c[0], x), ops.multiply(c[1], 0.5)), ops.multiply(c[0], c[1])),
    lambda c, x: ((c[0] + x, c[1] * 0.5), c[0] * c[1]),
)
SCAN_NO_XS_STEP = Fn(
    "lambda c, _: (katman.ops.add(katman.ops.multiply(c, 0.5), 1.0), c)",
    lambda c, _: (ops.add(ops.multiply(c, 0.5), 1.0), c),
    lambda c, _: (c * 0.5 + 1.0, c),
)


def _scan(data: st.DrawFn) -> Sample:
    dtype = data(st.sampled_from(NUMERIC))
    shape = data(shapes(max_dims=2))
    n = data(st.integers(1, 4))
    kwargs: dict[str, Any] = {}
    if data(st.booleans()):
        kwargs["reverse"] = data(st.booleans())
    if data(st.booleans()):
        kwargs["unroll"] = data(st.sampled_from((1, 2, True, False)))
    kind = data(st.sampled_from(("xs", "pair", "length")))
    domain = (-3.0, 3.0)
    if kind == "length":
        init = data(array(data(st.sampled_from(FLOATS)), shape, domain))
        return Sample((SCAN_NO_XS_STEP, init), {"length": n, **kwargs})
    xs = data(array(dtype, (n, *shape), domain))
    if data(st.booleans()):
        kwargs["length"] = n
    if kind == "pair" and dtype != "int32":
        init = (data(array(dtype, shape, domain)), data(array(dtype, shape, domain)))
        return Sample((SCAN_PAIR_STEP, init, xs), kwargs)
    init = data(array(dtype, shape, domain))
    return Sample((SCAN_INT_STEP if dtype == "int32" else SCAN_STEP, init, xs), kwargs)


MAP_FUNCTIONS = (
    Fn(
        "lambda x: katman.ops.add(katman.ops.multiply(x, 2), 1)",
        lambda x: ops.add(ops.multiply(x, 2), 1),
        lambda x: x * 2 + 1,
    ),
    Fn(
        "lambda x: katman.ops.sum(katman.ops.multiply(x, x))",
        lambda x: ops.sum(ops.multiply(x, x)),
        lambda x: np.sum(x * x),
    ),
)
MAP_PAIR_FUNCTION = Fn(
    "lambda p: katman.ops.add(katman.ops.multiply(p[0], p[1]), p[0])",
    lambda p: ops.add(ops.multiply(p[0], p[1]), p[0]),
    lambda p: p[0] * p[1] + p[0],
)


def _mapping(data: st.DrawFn) -> Sample:
    dtype = data(st.sampled_from(NUMERIC))
    shape = (data(st.integers(1, 4)), *data(shapes(max_dims=2)))
    if data(st.integers(0, 2)) == 0:
        pair = (data(array(dtype, shape, (-3.0, 3.0))), data(array(dtype, shape, (-3.0, 3.0))))
        return Sample((MAP_PAIR_FUNCTION, pair))
    function = data(st.sampled_from(MAP_FUNCTIONS))
    return Sample((function, data(array(dtype, shape, (-3.0, 3.0)))))


# --- custom_gradient -----------------------------------------------------------------------


class GradFn(Fn):
    """A function for custom_gradient: ``f(*args) -> (output, grad_fn)``, with the NumPy
    model its record compares against (the value, and the slope ``grad_fn`` gives)."""

    def __init__(
        self,
        text: str,
        with_katman: Callable[..., Any],
        value: Callable[..., np.ndarray],
        slopes: Callable[..., tuple[np.ndarray, ...]],
    ) -> None:
        super().__init__(text, with_katman, lambda *xs: (value(*xs), None))
        self.value = value
        self.slopes = slopes

    def model(self, *xs: np.ndarray) -> np.ndarray:
        """The value on the grid, extended near it with the custom gradient as slope."""
        centers = [_snap(x) for x in xs]
        result = self.value(*centers)
        for x, center, slope in zip(xs, centers, self.slopes(*centers), strict=True):
            result = result + slope * (np.asarray(x, dtype="float64") - center)
        return result


def _reversed(t: Any) -> tuple[Any, Callable[..., Any]]:
    def grad(upstream: Any) -> Any:
        return ops.negative(upstream)

    return t, grad  # the input itself: backends must not alias it


def _tripled_square(t: Any) -> tuple[Any, Callable[..., Any]]:
    def grad(*args: Any, upstream: Any) -> Any:  # PyTorch-style: upstream by keyword
        return ops.multiply(ops.multiply(upstream, t), 6.0)

    return ops.multiply(t, t), grad


def _product(a: Any, b: Any) -> tuple[Any, Callable[..., Any]]:
    def grad(upstream: Any) -> tuple[Any, Any]:
        return ops.multiply(upstream, b), ops.multiply(upstream, a)

    return ops.multiply(a, b), grad


def _log1pexp(x: Any) -> tuple[Any, Callable[..., Any]]:
    e = ops.exp(x)

    def grad(*args: Any, upstream: Any = None) -> Any:  # Keras's backend-agnostic form
        if upstream is None:
            (upstream,) = args
        return ops.multiply(upstream, ops.subtract(1.0, ops.divide(1.0, ops.add(e, 1.0))))

    return ops.log(ops.add(e, 1.0)), grad


GRAD_FUNCTIONS = (
    GradFn("reversed_gradient", _reversed, lambda x: x, lambda x: (-np.ones_like(x),)),
    GradFn("tripled_square_gradient", _tripled_square, lambda x: x * x, lambda x: (6 * x,)),
    GradFn("log1pexp", _log1pexp, lambda x: np.log1p(np.exp(x)), lambda x: (1 / (1 + np.exp(-x)),)),
)
PRODUCT = GradFn("product", _product, lambda a, b: a * b, lambda a, b: (b, a))


def _custom_gradient(data: st.DrawFn) -> Sample:
    dtype = data(st.sampled_from(FLOATS))
    shape = data(shapes())
    x = _grid_array(data, dtype, shape, 4 * GRID)
    if data(st.integers(0, 3)) == 0:
        return Sample((PRODUCT, x, _grid_array(data, dtype, shape, 4 * GRID)))
    return Sample((data(st.sampled_from(GRAD_FUNCTIONS)), x))


def _custom_gradient_reference(f: GradFn, *xs: np.ndarray) -> np.ndarray:
    return f.model(*xs)


RECORDS = (
    OpRecord("cast", custom(_cast), reference=_cast_reference),
    OpRecord("shape", custom(_shape), grad=False),
    OpRecord("stop_gradient", custom(_stop_gradient), reference=_stop_gradient_reference),
    OpRecord("slice", custom(_slice)),
    OpRecord("slice_update", custom(_slice_update), grad_args=(0, 2)),
    OpRecord("scatter", custom(_scatter), grad_args=(1,)),
    OpRecord("scatter_update", custom(_scatter_update), grad_args=(0, 2)),
    OpRecord("take", custom(_take)),
    OpRecord("take_along_axis", custom(_take_along_axis)),
    OpRecord("cond", custom(_cond), grad=False),  # no tensor operands to differentiate
    OpRecord("switch", custom(_switch), grad_args=(2, 3)),
    OpRecord("while_loop", custom(_while_loop), grad_args=(2,)),
    OpRecord("fori_loop", custom(_fori_loop), grad_args=(3,)),
    # scan returns (carry, ys), and the harness differentiates single outputs only: its
    # gradients are checked through map and fori_loop, which run on scan on jax and tensorflow.
    OpRecord("scan", custom(_scan), grad=False),
    OpRecord("map", custom(_mapping), grad_args=(1,)),
    OpRecord("vectorized_map", custom(_mapping), grad_args=(1,)),
    OpRecord(
        "custom_gradient",
        custom(_custom_gradient),
        grad_args=(1, 2),
        reference=_custom_gradient_reference,
    ),
)

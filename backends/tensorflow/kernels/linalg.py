"""Products and linear algebra."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import tensorflow as tf

from katman.backend import Backend
from katman.dtypes import result_type
from katman.errors import OpArgumentError

# Dtypes TensorFlow's factorizations do not take: computed in float32, cast back.
_HALF = ("float16", "bfloat16")


def _axes_pair(axes: Any, ndim1: int, ndim2: int) -> Any:
    """``tensordot``'s ``axes``: an int, or a pair of ints/sequences made non-negative."""
    if isinstance(axes, int):
        return axes
    first, second = axes
    first = [first] if isinstance(first, int) else list(first)
    second = [second] if isinstance(second, int) else list(second)
    return [a % ndim1 for a in first], [a % ndim2 for a in second]


def _moveaxis(x: tf.Tensor, source: int, destination: int) -> tf.Tensor:
    ndim = x.shape.rank
    order = [i for i in range(ndim) if i != source % ndim]
    order.insert(destination % ndim, source % ndim)
    return tf.transpose(x, order)


def _swap(x: tf.Tensor) -> tf.Tensor:
    """The last two axes exchanged."""
    return tf.linalg.matrix_transpose(x)


def _broadcast_batch(a: tf.Tensor, b: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """``a`` and ``b`` with their batch dimensions (all but the last two) broadcast."""
    batch = tf.broadcast_dynamic_shape(tf.shape(a)[:-2], tf.shape(b)[:-2])
    return (tf.broadcast_to(a, tf.concat([batch, tf.shape(a)[-2:]], 0)),
            tf.broadcast_to(b, tf.concat([batch, tf.shape(b)[-2:]], 0)))  # fmt: skip


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    def tensor(x: Any) -> tf.Tensor:
        return backend.convert_to_tensor(x)

    def common(values: Sequence[Any]) -> str:
        """The Keras result dtype of ``values``; Python scalars are weak."""
        return result_type(
            *(v if isinstance(v, (bool, int, float)) else backend.dtype_of(tensor(v))
              for v in values)
        )  # fmt: skip

    def product(
        function: Callable[..., tf.Tensor], values: Sequence[Any], dtype: str | None = None
    ) -> tf.Tensor:
        """``function`` of ``values`` brought to their common dtype (or ``dtype``). Bools
        multiply as 0/1 integers and any nonzero sum is True, as in NumPy; int8 and int16
        compute in int32 (TensorFlow's matmul has no kernel for them)."""
        dtype = dtype or common(values)
        compute = "int32" if dtype in ("bool", "uint8", "int8", "int16") else dtype
        out = function(*(backend.convert_to_tensor(v, compute) for v in values))
        return tf.not_equal(out, 0) if dtype == "bool" else tf.cast(out, dtype)

    def floating(*values: Any) -> tuple[list[tf.Tensor], str]:
        """``values`` in their common float dtype (ints become floatx) as the factorizations
        take them, and the dtype the result must have."""
        tensors = [tensor(v) for v in values]
        dtype = result_type(*(backend.dtype_of(t) for t in tensors), float)
        compute = "float32" if dtype in _HALF else dtype
        return [tf.cast(t, compute) for t in tensors], dtype

    def matmul_fn(x1: tf.Tensor, x2: tf.Tensor) -> tf.Tensor:
        vector1, vector2 = x1.shape.rank == 1, x2.shape.rank == 1
        if vector1:
            x1 = x1[None, :]
        if vector2:
            x2 = x2[:, None]
        out = tf.linalg.matmul(x1, x2)
        if vector2:
            out = out[..., 0]
        if vector1:
            out = out[..., 0, :] if not vector2 else out[..., 0]
        return out

    def matmul(x1: Any, x2: Any) -> tf.Tensor:
        int8 = all(not isinstance(v, (bool, int, float)) and backend.dtype_of(tensor(v)) == "int8"
                   for v in (x1, x2))  # fmt: skip
        return product(matmul_fn, (x1, x2), "int32" if int8 else None)

    def dot_fn(x1: tf.Tensor, x2: tf.Tensor) -> tf.Tensor:
        if x1.shape.rank == 0 or x2.shape.rank == 0:
            return x1 * x2
        second = 0 if x2.shape.rank == 1 else x2.shape.rank - 2
        return tf.tensordot(x1, x2, axes=[[x1.shape.rank - 1], [second]])

    def tensordot(x1: Any, x2: Any, axes: Any = 2) -> tf.Tensor:
        x1, x2 = tensor(x1), tensor(x2)
        dims = _axes_pair(axes, x1.shape.rank, x2.shape.rank)
        return product(lambda a, b: tf.tensordot(a, b, axes=dims), (x1, x2))

    def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> tf.Tensor:
        del kwargs  # other frameworks' options (precision, ...)
        tensors = [tensor(x) for x in operands]
        dtype = "int32" if {backend.dtype_of(t) for t in tensors} == {"int8"} else None
        return product(lambda *xs: tf.einsum(subscripts, *xs), tensors, dtype)

    def outer(x1: Any, x2: Any) -> tf.Tensor:
        return product(lambda a, b: tf.reshape(a, [-1, 1]) * tf.reshape(b, [1, -1]), (x1, x2))

    def inner_fn(x1: tf.Tensor, x2: tf.Tensor) -> tf.Tensor:
        if x1.shape.rank == 0 or x2.shape.rank == 0:
            return x1 * x2
        return tf.tensordot(x1, x2, axes=[[x1.shape.rank - 1], [x2.shape.rank - 1]])

    def vdot(x1: Any, x2: Any) -> tf.Tensor:
        return product(lambda a, b: tf.reduce_sum(tf.reshape(a, [-1]) * tf.reshape(b, [-1])),
                       (x1, x2))  # fmt: skip

    def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> tf.Tensor:
        x = tensor(x)
        dtype = backend.dtype_of(x)
        dtype = "int32" if dtype in ("bool", "uint8", "int8", "int16") else dtype
        x = tf.cast(x, dtype)
        ndim = x.shape.rank
        axis1, axis2 = axis1 % ndim, axis2 % ndim
        rest = [i for i in range(ndim) if i not in (axis1, axis2)]
        x = tf.transpose(x, [*rest, axis1, axis2])
        shape = tf.shape(x)
        rows = tf.range(shape[-2])[:, None]
        cols = tf.range(shape[-1])[None, :]
        on_diagonal = tf.equal(cols - rows, offset)
        return tf.reduce_sum(tf.where(on_diagonal, x, tf.zeros_like(x)), axis=[-2, -1])

    def cross(
        x1: Any,
        x2: Any,
        axisa: int = -1,
        axisb: int = -1,
        axisc: int = -1,
        axis: int | None = None,
    ) -> tf.Tensor:
        if axis is not None:
            axisa = axisb = axisc = axis

        def compute(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
            a, b = _moveaxis(a, axisa, -1), _moveaxis(b, axisb, -1)
            sizes = (a.shape[-1], b.shape[-1])
            if any(size not in (2, 3) for size in sizes):
                raise OpArgumentError(
                    f"cross: vectors must have 2 or 3 components, got {sizes[0]} and {sizes[1]}."
                )
            a, b = (tf.concat([v, tf.zeros_like(v[..., :1])], -1) if v.shape[-1] == 2 else v
                    for v in (a, b))  # fmt: skip
            shape = tf.broadcast_dynamic_shape(tf.shape(a), tf.shape(b))
            c = tf.linalg.cross(tf.broadcast_to(a, shape), tf.broadcast_to(b, shape))
            return c[..., 2] if sizes == (2, 2) else _moveaxis(c, -1, axisc)

        dtype = common((x1, x2))
        if dtype == "bool":
            raise OpArgumentError("cross: takes numbers, not bools.")
        return product(compute, (x1, x2), dtype)

    def cholesky(x: Any, upper: bool = False) -> tf.Tensor:
        (x,), dtype = floating(x)
        factor = tf.linalg.cholesky(x)
        return tf.cast(_swap(factor) if upper else factor, dtype)

    def cholesky_inverse(x: Any, upper: bool = False) -> tf.Tensor:
        (x,), dtype = floating(x)
        factor = tf.linalg.band_part(x, 0, -1) if upper else tf.linalg.band_part(x, -1, 0)
        identity = tf.broadcast_to(tf.eye(tf.shape(x)[-1], dtype=x.dtype), tf.shape(x))
        # A = U.T @ U (or L @ L.T), so inv(A) = inv(U) @ inv(U).T (or inv(L).T @ inv(L)).
        inverse = tf.linalg.triangular_solve(factor, identity, lower=not upper)
        if upper:
            return tf.cast(tf.linalg.matmul(inverse, inverse, transpose_b=True), dtype)
        return tf.cast(tf.linalg.matmul(inverse, inverse, transpose_a=True), dtype)

    def det(x: Any) -> tf.Tensor:
        (x,), dtype = floating(x)
        return tf.cast(tf.linalg.det(x), dtype)

    def inv(x: Any) -> tf.Tensor:
        (x,), dtype = floating(x)
        return tf.cast(tf.linalg.inv(x), dtype)

    def vector_norm(x: tf.Tensor, ord: Any, axis: int, keepdims: bool) -> tf.Tensor:
        if ord is None or ord == 2:
            return tf.sqrt(tf.reduce_sum(x * x, axis=axis, keepdims=keepdims))
        if ord == float("inf"):
            return tf.reduce_max(tf.abs(x), axis=axis, keepdims=keepdims)
        if ord == float("-inf"):
            return tf.reduce_min(tf.abs(x), axis=axis, keepdims=keepdims)
        if ord == 0:
            nonzero = tf.cast(tf.not_equal(x, 0), x.dtype)
            return tf.reduce_sum(nonzero, axis=axis, keepdims=keepdims)
        if isinstance(ord, str):
            raise OpArgumentError(f"norm: ord={ord!r} is a matrix norm; axis names one axis.")
        power = tf.reduce_sum(tf.abs(x) ** ord, axis=axis, keepdims=keepdims)
        return power ** (1.0 / ord)

    def matrix_norm(x: tf.Tensor, ord: Any, rows: int, cols: int, keepdims: bool) -> tf.Tensor:
        if ord is None or ord == "fro":
            return tf.sqrt(tf.reduce_sum(x * x, axis=[rows, cols], keepdims=keepdims))
        if ord in (1, -1, float("inf"), float("-inf")):
            # 1: largest column sum, inf: largest row sum (the smallest for negative orders).
            summed, other = (rows, cols) if ord in (1, -1) else (cols, rows)
            sums = tf.reduce_sum(tf.abs(x), axis=summed, keepdims=True)
            pick = tf.reduce_max if ord in (1, float("inf")) else tf.reduce_min
            out = pick(sums, axis=other, keepdims=True)
        elif ord in (2, -2, "nuc"):
            ndim = x.shape.rank
            rest = [i for i in range(ndim) if i not in (rows, cols)]
            s, _, _ = tf.linalg.svd(tf.transpose(x, [*rest, rows, cols]))
            if ord == "nuc":
                out = tf.reduce_sum(s, axis=-1)
            else:
                out = (tf.reduce_max if ord == 2 else tf.reduce_min)(s, axis=-1)
            out = tf.expand_dims(tf.expand_dims(out, -1), -1)
            # Back to the input's axis order, reduced axes of size one.
            inverse = [0] * ndim
            for position, source in enumerate([*rest, rows, cols]):
                inverse[source] = position
            out = tf.transpose(out, inverse)
        else:
            raise OpArgumentError(f"norm: ord={ord!r} is not a matrix norm.")
        return out if keepdims else tf.squeeze(out, axis=[rows, cols])

    def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> tf.Tensor:
        (x,), dtype = floating(x)
        ndim = x.shape.rank
        if axis is None and ord is None:  # all of x, as one vector
            return tf.cast(vector_norm(x, None, list(range(ndim)), keepdims), dtype)
        if axis is None:
            axis = tuple(range(ndim))
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        if any(not -ndim <= a < ndim for a in axes):
            raise OpArgumentError(f"norm: axis {axis} is out of range for rank {ndim}.")
        axes = tuple(a % ndim for a in axes)
        if len(axes) == 1:
            out = vector_norm(x, ord, axes[0], keepdims)
        elif len(axes) == 2 and axes[0] != axes[1]:
            out = matrix_norm(x, ord, axes[0], axes[1], keepdims)
        else:
            raise OpArgumentError(f"norm: axis must be one axis or two distinct axes, got {axis}.")
        return tf.cast(out, dtype)

    def qr(x: Any, mode: str = "reduced") -> tuple[tf.Tensor, tf.Tensor]:
        if mode not in ("reduced", "complete"):
            raise OpArgumentError(f"qr: mode must be 'reduced' or 'complete', got {mode!r}.")
        (x,), dtype = floating(x)
        q, r = tf.linalg.qr(x, full_matrices=mode == "complete")
        return tf.cast(q, dtype), tf.cast(r, dtype)

    def system(a: Any, b: Any, function: Callable[..., tf.Tensor]) -> tf.Tensor:
        (a, b), dtype = floating(a, b)
        if b.shape.rank == a.shape.rank - 1:  # a stack of vectors
            return tf.cast(function(*_broadcast_batch(a, b[..., None]))[..., 0], dtype)
        return tf.cast(function(*_broadcast_batch(a, b)), dtype)

    def solve_triangular(a: Any, b: Any, lower: bool = False) -> tf.Tensor:
        def function(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
            # The other triangle is never read (masked, so that it gets no gradient either).
            a = tf.linalg.band_part(a, -1, 0) if lower else tf.linalg.band_part(a, 0, -1)
            return tf.linalg.triangular_solve(a, b, lower=lower)

        return system(a, b, function)

    def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
        (x,), dtype = floating(x)
        if not compute_uv:
            return tf.cast(tf.linalg.svd(x, compute_uv=False), dtype)
        s, u, v = tf.linalg.svd(x, full_matrices=full_matrices)
        return tf.cast(u, dtype), tf.cast(s, dtype), tf.cast(_swap(v), dtype)

    def eigh(x: Any) -> tuple[tf.Tensor, tf.Tensor]:
        (x,), dtype = floating(x)
        w, v = tf.linalg.eigh(x)
        return tf.cast(w, dtype), tf.cast(v, dtype)

    def pseudo_inverse(x: tf.Tensor, rcond: Any) -> tf.Tensor:
        """The pseudo-inverse from the SVD, singular values at most ``rcond`` times the largest
        dropped (default: NumPy's lstsq cut-off, ``eps * max(M, N)``)."""
        if rcond is None:
            rcond = max(x.shape[-2:]) * _eps(x.dtype)
        s, u, v = tf.linalg.svd(x, full_matrices=False)
        keep = s > tf.cast(rcond, s.dtype) * tf.reduce_max(s, axis=-1, keepdims=True)
        inverse = tf.where(keep, 1 / tf.where(keep, s, tf.ones_like(s)), tf.zeros_like(s))
        return tf.linalg.matmul(v * inverse[..., None, :], u, adjoint_b=True)

    def lstsq(a: Any, b: Any, rcond: float | None = None) -> tf.Tensor:
        (a, b), dtype = floating(a, b)
        if a.shape.rank != 2 or b.shape.rank not in (1, 2):
            raise OpArgumentError(
                f"lstsq: expected a of shape (M, N) and b of shape (M,) or (M, K), got "
                f"{tuple(a.shape)} and {tuple(b.shape)}."
            )
        rhs = b[:, None] if b.shape.rank == 1 else b
        x = tf.linalg.matmul(pseudo_inverse(a, rcond), rhs)
        return tf.cast(x[:, 0] if b.shape.rank == 1 else x, dtype)

    def lu_factor(x: Any) -> tuple[tf.Tensor, tf.Tensor]:
        (x,), dtype = floating(x)
        lu, permutation = tf.linalg.lu(x, output_idx_type=tf.int32)
        # TensorFlow gives the permutation (row i of L @ U is row permutation[i] of x); LAPACK's
        # pivots are the swaps that build it: at step i, row i swaps with the row that holds
        # permutation[i] by then.
        n = x.shape[-1]
        rows = tf.broadcast_to(tf.range(n, dtype=tf.int32), tf.shape(permutation))
        pivots = []
        for i in range(n):
            wanted = permutation[..., i]
            j = tf.argmax(tf.cast(tf.equal(rows, wanted[..., None]), tf.int32), axis=-1,
                          output_type=tf.int32)  # fmt: skip
            pivots.append(j)
            here = rows[..., i]
            rows += (wanted - here)[..., None] * tf.one_hot(i, n, dtype=tf.int32)
            rows += (here - wanted)[..., None] * tf.one_hot(j, n, dtype=tf.int32)
        return tf.cast(lu, dtype), tf.stack(pivots, axis=-1)

    def pinv(x: Any, rcond: float | None = None) -> tf.Tensor:
        (x,), dtype = floating(x)
        return tf.cast(pseudo_inverse(x, rcond), dtype)

    def matrix_rank(x: Any, tol: float | None = None) -> tf.Tensor:
        (x,), _ = floating(x)
        s = tf.linalg.svd(x, compute_uv=False)
        if tol is None:
            eps = _eps(s.dtype)
            threshold = tf.reduce_max(s, axis=-1, keepdims=True) * (max(x.shape[-2:]) * eps)
        else:
            threshold = tf.cast(tol, s.dtype)
        return tf.reduce_sum(tf.cast(s > threshold, tf.int32), axis=-1)

    return {
        "matmul": matmul,
        "dot": lambda x1, x2: product(dot_fn, (x1, x2)),
        "tensordot": tensordot,
        "einsum": einsum,
        "outer": outer,
        "inner": lambda x1, x2: product(inner_fn, (x1, x2)),
        "vdot": vdot,
        "trace": trace,
        "cross": cross,
        "cholesky": cholesky,
        "cholesky_inverse": cholesky_inverse,
        "det": det,
        "inv": inv,
        "norm": norm,
        "qr": qr,
        "solve": lambda a, b: system(a, b, tf.linalg.solve),
        "solve_triangular": solve_triangular,
        "svd": svd,
        "eigh": eigh,
        "lstsq": lstsq,
        "lu_factor": lu_factor,
        "pinv": pinv,
        "matrix_rank": matrix_rank,
    }


def _eps(dtype: tf.DType) -> float:
    return {tf.float16: 2.0**-10, tf.bfloat16: 2.0**-7, tf.float32: 2.0**-23}.get(dtype, 2.0**-52)

"""Products and linear algebra."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from katman.backend import Backend
from katman.dtypes import result_type
from katman.errors import OpArgumentError

# Dtypes LAPACK cannot factor: computed in float32, cast back.
_HALF = ("float16", "bfloat16")


def _axes_pair(axes: Any, ndim1: int, ndim2: int) -> Any:
    """``tensordot``'s ``axes``: an int, or a pair of ints/sequences made non-negative."""
    if isinstance(axes, int):
        return axes
    first, second = axes
    first = [first] if isinstance(first, int) else list(first)
    second = [second] if isinstance(second, int) else list(second)
    return [a % ndim1 for a in first], [a % ndim2 for a in second]


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    def tensor(x: Any) -> jax.Array:
        return backend.convert_to_tensor(x)

    def common(values: Sequence[Any]) -> str:
        """The Keras result dtype of ``values``; Python scalars are weak."""
        return result_type(
            *(v if isinstance(v, (bool, int, float)) else backend.dtype_of(tensor(v))
              for v in values)
        )  # fmt: skip

    def product(
        function: Callable[..., jax.Array], values: Sequence[Any], dtype: str | None = None
    ) -> jax.Array:
        """``function`` of ``values`` brought to their common dtype (or ``dtype``). Bools
        multiply as 0/1 integers and any nonzero sum is True, as in NumPy."""
        dtype = dtype or common(values)
        compute = "int32" if dtype == "bool" else dtype
        out = function(*(backend.convert_to_tensor(v, compute) for v in values))
        return out != 0 if dtype == "bool" else out.astype(dtype)

    def floating(*values: Any) -> tuple[list[jax.Array], str]:
        """``values`` in their common float dtype (ints become floatx) as LAPACK takes them,
        and the dtype the result must have."""
        tensors = [tensor(v) for v in values]
        dtype = result_type(*(backend.dtype_of(t) for t in tensors), float)
        compute = "float32" if dtype in _HALF else dtype
        return [t.astype(compute) for t in tensors], dtype

    def matmul(x1: Any, x2: Any) -> jax.Array:
        int8 = all(not isinstance(v, (bool, int, float)) and backend.dtype_of(tensor(v)) == "int8"
                   for v in (x1, x2))  # fmt: skip
        return product(jnp.matmul, (x1, x2), "int32" if int8 else None)

    def tensordot(x1: Any, x2: Any, axes: Any = 2) -> jax.Array:
        x1, x2 = tensor(x1), tensor(x2)
        dims = _axes_pair(axes, x1.ndim, x2.ndim)
        return product(lambda a, b: jnp.tensordot(a, b, axes=dims), (x1, x2))

    def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> jax.Array:
        tensors = [tensor(x) for x in operands]
        dtype = "int32" if {backend.dtype_of(t) for t in tensors} == {"int8"} else None
        return product(lambda *xs: jnp.einsum(subscripts, *xs, **kwargs), tensors, dtype)

    def outer(x1: Any, x2: Any) -> jax.Array:
        return product(lambda a, b: jnp.outer(a.reshape(-1), b.reshape(-1)), (x1, x2))

    def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> jax.Array:
        x = tensor(x)
        dtype = backend.dtype_of(x)
        dtype = "int32" if dtype in ("bool", "uint8", "int8", "int16") else dtype
        return jnp.trace(x, offset=offset, axis1=axis1, axis2=axis2, dtype=dtype)

    def cross(
        x1: Any,
        x2: Any,
        axisa: int = -1,
        axisb: int = -1,
        axisc: int = -1,
        axis: int | None = None,
    ) -> jax.Array:
        if common((x1, x2)) == "bool":
            raise OpArgumentError("cross: takes numbers, not bools.")
        for name, value, index in (("x1", x1, axisa if axis is None else axis),
                                   ("x2", x2, axisb if axis is None else axis)):  # fmt: skip
            size = tensor(value).shape[index]
            if size not in (2, 3):
                raise OpArgumentError(
                    f"cross: vectors must have 2 or 3 components, got {size} in {name}."
                )

        def compute(a: jax.Array, b: jax.Array) -> jax.Array:
            return jnp.cross(a, b, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)

        return product(compute, (x1, x2))

    def cholesky(x: Any, upper: bool = False) -> jax.Array:
        (x,), dtype = floating(x)
        # Read the lower triangle only, as LAPACK (and NumPy) do.
        return jnp.linalg.cholesky(x, upper=upper, symmetrize_input=False).astype(dtype)

    def cholesky_inverse(x: Any, upper: bool = False) -> jax.Array:
        (x,), dtype = floating(x)
        factor = jnp.triu(x) if upper else jnp.tril(x)
        identity = jnp.broadcast_to(jnp.eye(x.shape[-1], dtype=x.dtype), x.shape)
        # A = U.T @ U (or L @ L.T), so inv(A) = inv(U) @ inv(U).T (or inv(L).T @ inv(L)).
        inverse = jax.scipy.linalg.solve_triangular(factor, identity, lower=not upper)
        if upper:
            return (inverse @ jnp.swapaxes(inverse, -1, -2)).astype(dtype)
        return (jnp.swapaxes(inverse, -1, -2) @ inverse).astype(dtype)

    def det(x: Any) -> jax.Array:
        (x,), dtype = floating(x)
        return jnp.linalg.det(x).astype(dtype)

    def inv(x: Any) -> jax.Array:
        (x,), dtype = floating(x)
        return jnp.linalg.inv(x).astype(dtype)

    def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> jax.Array:
        (x,), dtype = floating(x)
        if isinstance(axis, list):
            axis = tuple(axis)
        return jnp.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims).astype(dtype)

    def qr(x: Any, mode: str = "reduced") -> tuple[jax.Array, jax.Array]:
        if mode not in ("reduced", "complete"):
            raise OpArgumentError(f"qr: mode must be 'reduced' or 'complete', got {mode!r}.")
        (x,), dtype = floating(x)
        q, r = jnp.linalg.qr(x, mode=mode)
        return q.astype(dtype), r.astype(dtype)

    def system(a: Any, b: Any, function: Callable[..., jax.Array]) -> jax.Array:
        (a, b), dtype = floating(a, b)
        if b.ndim == a.ndim - 1:  # a stack of vectors
            return function(a, b[..., None])[..., 0].astype(dtype)
        return function(a, b).astype(dtype)

    def solve(a: Any, b: Any) -> jax.Array:
        def function(a: jax.Array, b: jax.Array) -> jax.Array:
            batch = jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            a = jnp.broadcast_to(a, batch + a.shape[-2:])
            return jnp.linalg.solve(a, jnp.broadcast_to(b, batch + b.shape[-2:]))

        return system(a, b, function)

    def solve_triangular(a: Any, b: Any, lower: bool = False) -> jax.Array:
        def function(a: jax.Array, b: jax.Array) -> jax.Array:
            batch = jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            a = jnp.broadcast_to(jnp.tril(a) if lower else jnp.triu(a), batch + a.shape[-2:])
            b = jnp.broadcast_to(b, batch + b.shape[-2:])
            return jax.scipy.linalg.solve_triangular(a, b, lower=lower)

        return system(a, b, function)

    def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
        (x,), dtype = floating(x)
        if not compute_uv:
            return jnp.linalg.svd(x, compute_uv=False).astype(dtype)
        u, s, vh = jnp.linalg.svd(x, full_matrices=full_matrices)
        return u.astype(dtype), s.astype(dtype), vh.astype(dtype)

    def eigh(x: Any) -> tuple[jax.Array, jax.Array]:
        (x,), dtype = floating(x)
        # Read the lower triangle only, as LAPACK (and NumPy) do.
        w, v = jnp.linalg.eigh(x, symmetrize_input=False)
        return w.astype(dtype), v.astype(dtype)

    def lstsq(a: Any, b: Any, rcond: float | None = None) -> jax.Array:
        (a, b), dtype = floating(a, b)
        if a.ndim != 2 or b.ndim not in (1, 2):
            raise OpArgumentError(
                f"lstsq: expected a of shape (M, N) and b of shape (M,) or (M, K), got "
                f"{a.shape} and {b.shape}."
            )
        return jnp.linalg.lstsq(a, b, rcond=rcond)[0].astype(dtype)

    def lu_factor(x: Any) -> tuple[jax.Array, jax.Array]:
        (x,), dtype = floating(x)
        lu, pivots, _ = jax.lax.linalg.lu(x)
        return lu.astype(dtype), pivots.astype("int32")

    def pinv(x: Any, rcond: float | None = None) -> jax.Array:
        (x,), dtype = floating(x)
        return jnp.linalg.pinv(x, rtol=rcond).astype(dtype)

    def matrix_rank(x: Any, tol: float | None = None) -> jax.Array:
        (x,), _ = floating(x)
        s = jnp.linalg.svd(x, compute_uv=False)
        if tol is None:
            eps = jnp.finfo(s.dtype).eps
            threshold = s.max(axis=-1, keepdims=True) * (max(x.shape[-2:]) * eps)
        else:
            threshold = jnp.asarray(tol, dtype=s.dtype)
        return jnp.sum(s > threshold, axis=-1, dtype="int32")

    return {
        "matmul": matmul,
        "dot": lambda x1, x2: product(jnp.dot, (x1, x2)),
        "tensordot": tensordot,
        "einsum": einsum,
        "outer": outer,
        "inner": lambda x1, x2: product(jnp.inner, (x1, x2)),
        "vdot": lambda x1, x2: product(jnp.vdot, (x1, x2)),
        "trace": trace,
        "cross": cross,
        "cholesky": cholesky,
        "cholesky_inverse": cholesky_inverse,
        "det": det,
        "inv": inv,
        "norm": norm,
        "qr": qr,
        "solve": solve,
        "solve_triangular": solve_triangular,
        "svd": svd,
        "eigh": eigh,
        "lstsq": lstsq,
        "lu_factor": lu_factor,
        "pinv": pinv,
        "matrix_rank": matrix_rank,
    }

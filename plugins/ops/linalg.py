"""Products and linear algebra (``keras.ops`` names and signatures).

The products (``matmul``, ``dot``, ``tensordot``, ``einsum``, ``outer``, ``inner``, ``vdot``,
``trace``, ``cross``) follow NumPy's semantics and Keras's dtype rules: the inputs' common
dtype, except that ``int8 @ int8`` gives ``int32`` and ``trace`` widens small integers and
bools to ``int32``. The ``keras.ops.linalg`` set (``cholesky``, ``det``, ``inv``, ``solve``,
...) works on stacks of matrices ``(..., M, N)`` and computes in floating point: integer
inputs give ``floatx``.

Decompositions are unique only up to the usual freedoms (the sign of each singular or
eigenvector, the basis of a null space); the backends' LAPACK-style choices are not
normalised.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

import katman
from katman.dtypes import result_type, standardize_dtype
from katman.errors import OpArgumentError
from katman.ops import Op
from katman.ops.rules import fixed
from katman.registry import PluginRegistrar
from katman.symbolic import KerasTensor

# Every op here is reported under the conformance area "linalg".
_op = functools.partial(Op, area="linalg")

# ---------------------------------------------------------------------------------------------
# Dtype rules. Non-tensor arguments (axes, offsets, flags) appear in the dtype list as Python
# types after the tensors; each rule reads only the positions of its tensor arguments.


def pair_dtype(dtypes: Sequence[Any]) -> str:
    """The common dtype of the two operands ``x1`` and ``x2``."""
    return result_type(*dtypes[:2])


def matmul_dtype(dtypes: Sequence[Any]) -> str:
    """The operands' common dtype; ``int8 @ int8`` accumulates into ``int32``."""
    if [_name(d) for d in dtypes[:2]] == ["int8", "int8"]:
        return "int32"
    return pair_dtype(dtypes)


def einsum_dtype(dtypes: Sequence[Any]) -> str:
    """The operands' common dtype; operands that are all ``int8`` give ``int32``."""
    names = {_name(d) for d in dtypes}
    return "int32" if names == {"int8"} else result_type(*dtypes)


def trace_dtype(dtypes: Sequence[Any]) -> str:
    """The input's dtype; bools and integers narrower than 32 bits widen to ``int32``."""
    dtype = result_type(dtypes[0])
    return "int32" if dtype in ("bool", "uint8", "int8", "int16") else dtype


def float_dtype(dtypes: Sequence[Any]) -> str:
    """The input's dtype when floating; ``floatx`` for integers and bools."""
    return result_type(dtypes[0], float)


def float_pair_dtype(dtypes: Sequence[Any]) -> str:
    """The common floating dtype of ``a`` and ``b`` (``floatx`` when both are integers)."""
    return result_type(*dtypes[:2], float)


def _name(dtype: Any) -> str:
    return dtype if isinstance(dtype, str) else ""


# ---------------------------------------------------------------------------------------------
# Helpers shared by the references and the symbolic shape rules.


def _wide(x: Any) -> np.ndarray:
    """``x`` as a NumPy array in a dtype that computes its products exactly enough: floats in
    float64, integers in int64; bools stay bools."""
    x = np.asarray(x)
    if x.dtype.kind == "f":
        return x.astype("float64")
    if x.dtype.kind in "iu":
        return x.astype("int64")
    return x


def _to_float(x: Any) -> np.ndarray:
    x = np.asarray(x)
    return x.astype("float64") if x.dtype.kind != "f" else x


def _shape(x: Any) -> tuple:
    return tuple(getattr(x, "shape", np.shape(x)))


def _float_spec(dtypes: Sequence[Any]) -> str:
    return result_type(*dtypes, float)


def _dtype_of(x: Any) -> Any:
    if isinstance(x, (bool, int, float)):
        return type(x)
    return standardize_dtype(x.dtype)


def _matrix(name: str, x: Any, square: bool = False) -> tuple:
    """The shape of ``x``, checked to be a (stack of) matrices, square if asked."""
    shape = _shape(x)
    if len(shape) < 2:
        raise OpArgumentError(
            f"{name}: expected a tensor of rank >= 2 (a matrix or a stack of matrices), got "
            f"shape {shape}."
        )
    m, n = shape[-2:]
    if square and m is not None and n is not None and m != n:
        raise OpArgumentError(f"{name}: expected square matrices (..., M, M), got shape {shape}.")
    return shape


def _broadcast(name: str, *shapes: Sequence[int | None]) -> tuple:
    """NumPy broadcasting of shapes that may hold None (unknown) dimensions."""
    ndim = max((len(s) for s in shapes), default=0)
    out: list[int | None] = []
    for dims in zip(*((1,) * (ndim - len(s)) + tuple(s) for s in shapes), strict=True):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise OpArgumentError(f"{name}: shapes {', '.join(map(str, shapes))} do not broadcast.")
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def _system_shape(name: str, a: Any, b: Any) -> tuple:
    """The solution's shape for ``a x = b``: ``b`` holds vectors when it has one dimension fewer
    than ``a``, matrices otherwise."""
    a_shape = _matrix(name, a, square=True)
    b_shape = _shape(b)
    vector = len(b_shape) == len(a_shape) - 1
    if len(b_shape) < 1 or (not vector and len(b_shape) < 2):
        raise OpArgumentError(
            f"{name}: expected b of shape (..., M) or (..., M, K) for a of shape {a_shape}, got "
            f"{b_shape}."
        )
    rows = b_shape[-1] if vector else b_shape[-2]
    if rows is not None and a_shape[-1] is not None and rows != a_shape[-1]:
        raise OpArgumentError(
            f"{name}: a of shape {a_shape} and b of shape {b_shape} do not match: b needs "
            f"{a_shape[-1]} rows."
        )
    if vector:
        return (*_broadcast(name, a_shape[:-2], b_shape[:-1]), a_shape[-1])
    return (*_broadcast(name, a_shape[:-2], b_shape[:-2]), a_shape[-1], b_shape[-1])


def _solve_vectors(a: np.ndarray, b: np.ndarray) -> bool:
    return b.ndim == a.ndim - 1


# ---------------------------------------------------------------------------------------------
# Products: NumPy references with Keras's signatures.


def matmul(x1: Any, x2: Any) -> np.ndarray:
    return np.matmul(_wide(x1), _wide(x2))


def dot(x1: Any, x2: Any) -> np.ndarray:
    return np.dot(_wide(x1), _wide(x2))


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> np.ndarray:
    return np.tensordot(_wide(x1), _wide(x2), axes=axes)


def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> np.ndarray:
    del kwargs  # backend options (precision, ...) do not change the result
    return np.einsum(subscripts, *(_wide(x) for x in operands))


def outer(x1: Any, x2: Any) -> np.ndarray:
    return np.outer(_wide(x1), _wide(x2))


def inner(x1: Any, x2: Any) -> np.ndarray:
    return np.inner(_wide(x1), _wide(x2))


def vdot(x1: Any, x2: Any) -> np.ndarray:
    return np.vdot(_wide(x1), _wide(x2))


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> np.ndarray:
    return np.trace(_wide(x), offset=offset, axis1=axis1, axis2=axis2)


def cross(
    x1: Any, x2: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None
) -> np.ndarray:
    if axis is not None:
        axisa = axisb = axisc = axis
    a = np.moveaxis(_wide(x1), axisa, -1)
    b = np.moveaxis(_wide(x2), axisb, -1)
    sizes = (a.shape[-1], b.shape[-1])
    if any(size not in (2, 3) for size in sizes):
        raise OpArgumentError(
            f"cross: vectors must have 2 or 3 components, got {sizes[0]} (x1 along axis "
            f"{axisa}) and {sizes[1]} (x2 along axis {axisb})."
        )
    # 2-vectors are 3-vectors with a zero z component (NumPy deprecates them; Keras keeps them).
    a, b = (np.concatenate([v, np.zeros_like(v[..., :1])], -1) if v.shape[-1] == 2 else v
            for v in (a, b))  # fmt: skip
    c = np.cross(a, b)
    if sizes == (2, 2):
        return c[..., 2]
    return np.moveaxis(c, -1, axisc)


# ---------------------------------------------------------------------------------------------
# The linalg set.


def cholesky(x: Any, upper: bool = False) -> np.ndarray:
    factor = np.linalg.cholesky(_to_float(x))
    return np.swapaxes(factor, -1, -2) if upper else factor


def cholesky_inverse(x: Any, upper: bool = False) -> np.ndarray:
    x = _to_float(x)
    factor = np.triu(x) if upper else np.tril(x)
    product = (
        np.swapaxes(factor, -1, -2) @ factor if upper else factor @ np.swapaxes(factor, -1, -2)
    )
    return np.linalg.inv(product)


def det(x: Any) -> np.ndarray:
    return np.linalg.det(_to_float(x))


def inv(x: Any) -> np.ndarray:
    return np.linalg.inv(_to_float(x))


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    if isinstance(axis, list):
        axis = tuple(axis)
    return np.linalg.norm(_to_float(x), ord=ord, axis=axis, keepdims=keepdims)


QR_MODES = ("reduced", "complete")


def qr(x: Any, mode: str = "reduced") -> tuple[np.ndarray, np.ndarray]:
    if mode not in QR_MODES:
        raise OpArgumentError(f"qr: mode must be one of {QR_MODES}, got {mode!r}.")
    q, r = np.linalg.qr(_to_float(x), mode=mode)
    return q, r


def solve(a: Any, b: Any) -> np.ndarray:
    a, b = _to_float(a), _to_float(b)
    if _solve_vectors(a, b):
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


def solve_triangular(a: Any, b: Any, lower: bool = False) -> np.ndarray:
    a = _to_float(a)
    return solve(np.tril(a) if lower else np.triu(a), b)


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    result = np.linalg.svd(_to_float(x), full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(result) if compute_uv else result


def eigh(x: Any) -> tuple[np.ndarray, np.ndarray]:
    w, v = np.linalg.eigh(_to_float(x))
    return w, v


def lstsq(a: Any, b: Any, rcond: float | None = None) -> np.ndarray:
    return np.linalg.lstsq(_to_float(a), _to_float(b), rcond=rcond)[0]


def lu_factor(x: Any) -> tuple[np.ndarray, np.ndarray]:
    """LU with partial pivoting, as LAPACK's getrf: ``lu`` holds the unit lower factor (below
    the diagonal) and the upper factor; row ``i`` was swapped with row ``pivots[i]``."""
    x = _to_float(x)
    m, n = x.shape[-2:]
    lu = x.copy()
    pivots = np.zeros((*x.shape[:-2], min(m, n)), dtype="int32")
    for index in np.ndindex(x.shape[:-2]):
        a = lu[index]
        for k in range(min(m, n)):
            p = k + int(np.argmax(np.abs(a[k:, k])))
            pivots[(*index, k)] = p
            a[[k, p]] = a[[p, k]]
            if a[k, k] != 0:
                a[k + 1 :, k] /= a[k, k]
                a[k + 1 :, k + 1 :] -= np.outer(a[k + 1 :, k], a[k, k + 1 :])
    return lu, pivots


def pinv(x: Any, rcond: float | None = None) -> np.ndarray:
    x = _to_float(x)
    return np.linalg.pinv(x) if rcond is None else np.linalg.pinv(x, rcond=rcond)


def matrix_rank(x: Any, tol: float | None = None) -> np.ndarray:
    return np.asarray(np.linalg.matrix_rank(_to_float(np.asarray(x)), tol=tol), dtype="int32")


# ---------------------------------------------------------------------------------------------
# Symbolic shape rules, where running the reference on placeholder ones cannot work (singular
# matrices, several outputs).


def _matrix_spec(name: str) -> Any:
    def spec(x: Any, *args: Any, **kwargs: Any) -> KerasTensor:
        del args, kwargs
        return KerasTensor(_matrix(name, x, square=True), _float_spec([_dtype_of(x)]))

    spec.__name__ = f"{name}_spec"
    return spec


def _system_spec(name: str) -> Any:
    def spec(a: Any, b: Any, *args: Any, **kwargs: Any) -> KerasTensor:
        del args, kwargs
        return KerasTensor(_system_shape(name, a, b), _float_spec([_dtype_of(a), _dtype_of(b)]))

    spec.__name__ = f"{name}_spec"
    return spec


def _min(m: int | None, n: int | None) -> int | None:
    return None if m is None or n is None else min(m, n)


def qr_spec(x: Any, mode: str = "reduced") -> tuple[KerasTensor, KerasTensor]:
    if mode not in QR_MODES:
        raise OpArgumentError(f"qr: mode must be one of {QR_MODES}, got {mode!r}.")
    shape = _matrix("qr", x)
    batch, (m, n) = shape[:-2], shape[-2:]
    dtype = _float_spec([_dtype_of(x)])
    k = _min(m, n) if mode == "reduced" else m
    return KerasTensor((*batch, m, k), dtype), KerasTensor((*batch, k, n), dtype)


def svd_spec(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    shape = _matrix("svd", x)
    batch, (m, n) = shape[:-2], shape[-2:]
    k = _min(m, n)
    dtype = _float_spec([_dtype_of(x)])
    s = KerasTensor((*batch, k), dtype)
    if not compute_uv:
        return s
    u_cols, v_rows = (m, n) if full_matrices else (k, k)
    return KerasTensor((*batch, m, u_cols), dtype), s, KerasTensor((*batch, v_rows, n), dtype)


def eigh_spec(x: Any) -> tuple[KerasTensor, KerasTensor]:
    shape = _matrix("eigh", x, square=True)
    dtype = _float_spec([_dtype_of(x)])
    return KerasTensor(shape[:-1], dtype), KerasTensor(shape, dtype)


def lu_factor_spec(x: Any) -> tuple[KerasTensor, KerasTensor]:
    shape = _matrix("lu_factor", x)
    k = _min(*shape[-2:])
    return KerasTensor(shape, _float_spec([_dtype_of(x)])), KerasTensor((*shape[:-2], k), "int32")


def lstsq_spec(a: Any, b: Any, rcond: float | None = None) -> KerasTensor:
    del rcond
    a_shape, b_shape = _shape(a), _shape(b)
    if len(a_shape) != 2 or len(b_shape) not in (1, 2):
        raise OpArgumentError(
            f"lstsq: expected a of shape (M, N) and b of shape (M,) or (M, K), got {a_shape} "
            f"and {b_shape}."
        )
    if None not in (a_shape[0], b_shape[0]) and a_shape[0] != b_shape[0]:
        raise OpArgumentError(
            f"lstsq: a of shape {a_shape} and b of shape {b_shape} need the same number of rows."
        )
    return KerasTensor((a_shape[1], *b_shape[1:]), _float_spec([_dtype_of(a), _dtype_of(b)]))


def pinv_spec(x: Any, rcond: float | None = None) -> KerasTensor:
    del rcond
    shape = _matrix("pinv", x)
    return KerasTensor((*shape[:-2], shape[-1], shape[-2]), _float_spec([_dtype_of(x)]))


def matrix_rank_spec(x: Any, tol: float | None = None) -> KerasTensor:
    del tol
    return KerasTensor(_matrix("matrix_rank", x)[:-2], "int32")


def det_spec(x: Any) -> KerasTensor:
    return KerasTensor(_matrix("det", x, square=True)[:-2], _float_spec([_dtype_of(x)]))


OPS = (
    _op(
        "matmul",
        reference=matmul,
        dtype=matmul_dtype,
        doc="Matrix product of ``x1`` and ``x2`` with NumPy's rules: batch dimensions "
        "broadcast, a 1-D operand is a vector.",
    ),
    _op(
        "dot",
        reference=dot,
        dtype=pair_dtype,
        doc="NumPy's ``dot``: sums over the last axis of ``x1`` and the second-to-last of "
        "``x2`` (the last, if ``x2`` is 1-D); a scalar operand multiplies.",
    ),
    _op(
        "tensordot",
        reference=tensordot,
        dtype=pair_dtype,
        doc="Sum of products over ``axes``: the last ``axes`` of ``x1`` with the first of "
        "``x2`` (an int), or the pairs of axes in ``(axes_x1, axes_x2)``.",
    ),
    _op(
        "einsum",
        reference=einsum,
        dtype=einsum_dtype,
        doc="Einstein summation of ``operands`` as ``subscripts`` says (``'ij,jk->ik'``).",
    ),
    _op(
        "outer",
        reference=outer,
        dtype=pair_dtype,
        doc="Outer product of ``x1`` and ``x2``, both flattened: shape ``(x1.size, x2.size)``.",
    ),
    _op(
        "inner",
        reference=inner,
        dtype=pair_dtype,
        doc="Sum of products over the last axes of ``x1`` and ``x2`` (a scalar multiplies).",
    ),
    _op(
        "vdot",
        reference=vdot,
        dtype=pair_dtype,
        doc="Dot product of ``x1`` and ``x2`` flattened (they must have the same size).",
    ),
    _op(
        "trace",
        reference=trace,
        dtype=trace_dtype,
        doc="Sum along the diagonal ``offset`` of the planes ``(axis1, axis2)`` of ``x``.",
    ),
    _op(
        "cross",
        reference=cross,
        dtype=pair_dtype,
        doc="Cross product of 3-vectors (or 2-vectors, giving the z component) along "
        "``axisa``/``axisb``, the result's vectors along ``axisc`` (``axis`` sets all three).",
    ),
    _op(
        "cholesky",
        reference=cholesky,
        dtype=float_dtype,
        output_spec=_matrix_spec("cholesky"),
        doc="Cholesky factor of symmetric positive-definite matrices: lower ``L`` with "
        "``x = L @ L.T``, or upper ``U = L.T`` if ``upper``.",
    ),
    _op(
        "cholesky_inverse",
        reference=cholesky_inverse,
        dtype=float_dtype,
        output_spec=_matrix_spec("cholesky_inverse"),
        doc="Inverse of ``A = L @ L.T`` given its Cholesky factor ``x = L`` (``x = U`` with "
        "``A = U.T @ U`` if ``upper``); only that triangle of ``x`` is read.",
    ),
    _op(
        "det",
        reference=det,
        dtype=float_dtype,
        output_spec=det_spec,
        doc="Determinant of square matrices ``(..., M, M)``.",
    ),
    _op(
        "inv",
        reference=inv,
        dtype=float_dtype,
        output_spec=_matrix_spec("inv"),
        doc="Inverse of square matrices ``(..., M, M)``.",
    ),
    _op(
        "norm",
        reference=norm,
        dtype=float_dtype,
        doc="Vector norm (``axis`` an int) or matrix norm (``axis`` a pair) of order ``ord``, "
        "as NumPy's ``linalg.norm``; all of ``x`` flattened when both are None.",
    ),
    _op(
        "qr",
        reference=qr,
        dtype=float_dtype,
        output_spec=qr_spec,
        doc="QR decomposition ``x = q @ r``: ``q`` orthonormal ``(..., M, K)`` and ``r`` upper "
        "triangular ``(..., K, N)``, ``K = min(M, N)`` (``K = M`` if ``mode='complete'``).",
    ),
    _op(
        "solve",
        reference=solve,
        dtype=float_pair_dtype,
        output_spec=_system_spec("solve"),
        doc="Solution ``x`` of ``a @ x = b`` for square ``a``; ``b`` holds vectors ``(..., M)`` "
        "when it has one dimension fewer than ``a``, else matrices ``(..., M, K)``.",
    ),
    _op(
        "solve_triangular",
        reference=solve_triangular,
        dtype=float_pair_dtype,
        output_spec=_system_spec("solve_triangular"),
        doc="Solution of ``a @ x = b`` reading only the upper (or, if ``lower``, the lower) "
        "triangle of ``a``.",
    ),
    _op(
        "svd",
        reference=svd,
        dtype=float_dtype,
        output_spec=svd_spec,
        doc="Singular value decomposition ``x = u @ diag(s) @ vh``: ``(u, s, vh)``, or ``s`` "
        "alone if not ``compute_uv``; singular values in descending order.",
    ),
    _op(
        "eigh",
        reference=eigh,
        dtype=float_dtype,
        output_spec=eigh_spec,
        doc="Eigenvalues (ascending) and eigenvectors (columns) of symmetric matrices.",
    ),
    _op(
        "lstsq",
        reference=lstsq,
        dtype=float_pair_dtype,
        output_spec=lstsq_spec,
        doc="Least-squares (minimum-norm) solution of ``a @ x = b`` for ``a`` of shape "
        "``(M, N)``; singular values below ``rcond`` times the largest count as zero.",
    ),
    _op(
        "lu_factor",
        reference=lu_factor,
        dtype=float_dtype,
        output_spec=lu_factor_spec,
        doc="LU decomposition with partial pivoting, as LAPACK's getrf: ``(lu, pivots)``, "
        "``pivots`` int32 and 0-based (row ``i`` was swapped with row ``pivots[i]``).",
    ),
    _op(
        "pinv",
        reference=pinv,
        dtype=float_dtype,
        output_spec=pinv_spec,
        doc="Moore-Penrose pseudo-inverse ``(..., N, M)`` of ``(..., M, N)``, from the SVD; "
        "singular values below ``rcond`` times the largest count as zero.",
    ),
    _op(
        "matrix_rank",
        reference=matrix_rank,
        dtype=fixed("int32"),
        output_spec=matrix_rank_spec,
        differentiable=False,
        doc="Rank of matrices: the number of singular values above ``tol`` (default: the "
        "largest times ``max(M, N)`` times the dtype's epsilon).",
    ),
)


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for op in OPS:
        registry.add("op", op.name, op)

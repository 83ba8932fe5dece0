"""Records for products and linear algebra.

Products draw operands of matching shapes (broadcast batch dimensions, 1-D operands, scalars)
in float32, float64, int32 and bool, mixed, with values small enough that float32 sums of a few
products stay well inside the tolerances.

The linear algebra records draw well-conditioned matrices by construction, so that the result
is unique and stable: diagonally dominant matrices for det/inv/solve, ``B @ B.T + n I`` for
cholesky, and ``Q1 @ (S + P) @ Q2`` (orthogonal Q1, Q2; S diagonal with distinct, separated
magnitudes; P a small perturbation) where distinct singular values or eigenvalues matter.

Decompositions leave some freedom: the sign of each singular/eigen vector (and of each column
of q with its row of r), and the basis of a null space in a full SVD or a complete QR. The qr,
svd and eigh records compare against NumPy's factors moved, within exactly that freedom, as
close as possible to the backend's (per-vector signs; an orthogonal rotation of the null-space
basis). Factors that differ in anything else still fail.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import katman
from katman.conformance.records import OpRecord
from katman.conformance.strategies import FLOATS, NUMERIC, Sample, array, custom

# Products: every dtype Keras multiplies, mixed in pairs.
PRODUCT = (*FLOATS, "int32", "bool")
# Float32 sums of up to 16 products of values this size stay within the float32 tolerance.
SMALL = (-3.0, 3.0)


def _dtype(data: st.DrawFn, dtypes: tuple[str, ...] = PRODUCT) -> str:
    return data(st.sampled_from(dtypes))


def _operand(data: st.DrawFn, shape: Any, dtype: str, domain: Any = SMALL) -> np.ndarray:
    return data(array(dtype, tuple(shape), domain))


def _pair_dtypes(data: st.DrawFn, dtypes: tuple[str, ...] = PRODUCT) -> tuple[str, str]:
    first = _dtype(data, dtypes)
    return first, (first if data(st.booleans()) else _dtype(data, dtypes))


def _side(data: st.DrawFn, high: int = 4) -> int:
    return data(st.integers(1, high))


def _batches(data: st.DrawFn, count: int = 2, max_dims: int = 2) -> tuple[tuple[int, ...], ...]:
    shapes = data(hnp.mutually_broadcastable_shapes(num_shapes=count, max_dims=max_dims,
                                                    max_side=3))  # fmt: skip
    return shapes.input_shapes


def _batch(data: st.DrawFn, max_dims: int = 2) -> tuple[int, ...]:
    return tuple(data(st.lists(st.integers(1, 3), max_size=max_dims)))


# ---------------------------------------------------------------------------------------------
# Products.


def _matmul(data: st.DrawFn) -> Sample:
    batch1, batch2 = _batches(data)
    m, k, n = _side(data), _side(data), _side(data)
    shape1 = (k,) if data(st.integers(0, 4)) == 0 else (*batch1, m, k)
    shape2 = (k,) if data(st.integers(0, 4)) == 0 else (*batch2, k, n)
    # int8 @ int8 accumulates into int32.
    dtypes = ("int8", "int8") if data(st.integers(0, 5)) == 0 else _pair_dtypes(data)
    return Sample((_operand(data, shape1, dtypes[0]), _operand(data, shape2, dtypes[1])))


def _dot(data: st.DrawFn) -> Sample:
    d1, d2 = _pair_dtypes(data)
    k = _side(data)
    case = data(st.sampled_from(["scalar1", "scalar2", "vectors", "nd_vector", "nd_md"]))
    lead = tuple(data(st.lists(st.integers(1, 3), max_size=2)))
    if case == "scalar1":
        shapes = ((), (*lead, k))
    elif case == "scalar2":
        shapes = ((*lead, k), ())
    elif case == "vectors":
        shapes = ((k,), (k,))
    elif case == "nd_vector":
        shapes = ((*lead, k), (k,))
    else:
        pre = tuple(data(st.lists(st.integers(1, 3), max_size=1)))
        shapes = ((*lead, k), (*pre, k, _side(data)))
    return Sample((_operand(data, shapes[0], d1), _operand(data, shapes[1], d2)))


def _signed(data: st.DrawFn, axis: int, ndim: int) -> int:
    return axis - ndim if data(st.booleans()) else axis


def _tensordot(data: st.DrawFn) -> Sample:
    d1, d2 = _pair_dtypes(data)
    contracted = data(st.lists(st.integers(1, 4), max_size=2))
    free1 = data(st.lists(st.integers(1, 3), max_size=2))
    free2 = data(st.lists(st.integers(1, 3), max_size=2))
    if data(st.booleans()):  # an int: the last axes of x1 with the first of x2
        x1 = _operand(data, (*free1, *contracted), d1)
        x2 = _operand(data, (*contracted, *free2), d2)
        return Sample((x1, x2), {"axes": len(contracted)})
    # A pair of axis lists, in any order on either side.
    order1 = data(st.permutations(range(len(free1) + len(contracted))))
    order2 = data(st.permutations(range(len(free2) + len(contracted))))
    dims1 = [*contracted, *free1]
    dims2 = [*contracted, *free2]
    shape1 = [dims1[i] for i in order1]
    shape2 = [dims2[i] for i in order2]
    axes1 = [_signed(data, order1.index(i), len(shape1)) for i in range(len(contracted))]
    axes2 = [_signed(data, order2.index(i), len(shape2)) for i in range(len(contracted))]
    axes: Any = (axes1, axes2)
    if len(contracted) == 1 and data(st.booleans()):
        axes = (axes1[0], axes2[0])
    return Sample((_operand(data, shape1, d1), _operand(data, shape2, d2)), {"axes": axes})


EINSUM = (
    "ij,jk->ik",
    "ij,jk",
    "i,i->",
    "i,j->ij",
    "ij->ji",
    "ij->",
    "ii->i",
    "ii",
    "ij,ij->i",
    "bij,bjk->bik",
    "bij,bkj->bik",
    "...ij,...jk->...ik",
    "ij,jk,kl->il",
    "ijk,kj->i",
)


def _einsum(data: st.DrawFn) -> Sample:
    subscripts = data(st.sampled_from(EINSUM))
    inputs = subscripts.split("->")[0].split(",")
    letters = sorted(set("".join(inputs)) - {"."})
    sizes = {letter: _side(data, 3) for letter in letters}
    batches = _batches(data, count=len(inputs)) if "..." in subscripts else ((),) * len(inputs)
    int8 = data(st.integers(0, 6)) == 0
    first = _dtype(data)
    operands = []
    for spec, batch in zip(inputs, batches, strict=True):
        shape = (*batch, *(sizes[c] for c in spec.replace("...", "")))
        dtype = "int8" if int8 else (first if data(st.booleans()) else _dtype(data))
        operands.append(_operand(data, shape, dtype))
    return Sample((subscripts, *operands))


def _outer(data: st.DrawFn) -> Sample:
    d1, d2 = _pair_dtypes(data)
    shapes = [tuple(data(st.lists(st.integers(1, 4), max_size=2))) for _ in range(2)]
    return Sample((_operand(data, shapes[0], d1), _operand(data, shapes[1], d2)))


def _inner(data: st.DrawFn) -> Sample:
    d1, d2 = _pair_dtypes(data)
    k = _side(data)
    shapes = [(*data(st.lists(st.integers(1, 3), max_size=2)), k) for _ in range(2)]
    if data(st.integers(0, 4)) == 0:
        shapes[data(st.integers(0, 1))] = ()
    return Sample((_operand(data, shapes[0], d1), _operand(data, shapes[1], d2)))


def _vdot(data: st.DrawFn) -> Sample:
    d1, d2 = _pair_dtypes(data)
    shape1 = tuple(data(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    size = math.prod(shape1)
    shape2 = data(st.sampled_from([(size,), shape1[::-1], shape1]))
    return Sample((_operand(data, shape1, d1), _operand(data, shape2, d2)))


def _trace(data: st.DrawFn) -> Sample:
    shape = tuple(data(st.lists(st.integers(1, 4), min_size=2, max_size=3)))
    ndim = len(shape)
    axis1, axis2 = data(st.permutations(range(ndim)))[:2]
    kwargs: dict[str, Any] = {}
    if data(st.booleans()):
        kwargs["offset"] = data(st.integers(-3, 3))
    if data(st.booleans()) or (axis1, axis2) != (0, 1):
        kwargs["axis1"] = _signed(data, axis1, ndim)
        kwargs["axis2"] = _signed(data, axis2, ndim)
    dtype = _dtype(data, (*NUMERIC, "bool"))
    return Sample((_operand(data, shape, dtype, (-10.0, 10.0)),), kwargs)


def _cross(data: st.DrawFn) -> Sample:
    d1, d2 = _pair_dtypes(data, NUMERIC)
    size1, size2 = data(st.sampled_from([2, 3])), data(st.sampled_from([2, 3]))
    if data(st.booleans()):  # one `axis` for all: same rank, vectors at the same position
        batch = _batch(data)
        position = data(st.integers(0, len(batch)))
        shape1 = (*batch[:position], size1, *batch[position:])
        shape2 = (*batch[:position], size2, *batch[position:])
        axis = _signed(data, position, len(shape1))
        kwargs: dict[str, Any] = {"axis": axis}
    else:
        batch1, batch2 = _batches(data)
        pos1 = data(st.integers(0, len(batch1)))
        pos2 = data(st.integers(0, len(batch2)))
        shape1 = (*batch1[:pos1], size1, *batch1[pos1:])
        shape2 = (*batch2[:pos2], size2, *batch2[pos2:])
        kwargs = {"axisa": _signed(data, pos1, len(shape1)),
                  "axisb": _signed(data, pos2, len(shape2))}  # fmt: skip
        if (size1, size2) != (2, 2):
            out_ndim = max(len(batch1), len(batch2)) + 1
            kwargs["axisc"] = _signed(data, data(st.integers(0, out_ndim - 1)), out_ndim)
    return Sample((_operand(data, shape1, d1, (-10, 10)), _operand(data, shape2, d2, (-10, 10))),
                  kwargs)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Well-conditioned matrices.


def _invertible(data: st.DrawFn, dtype: str, batch: Any, n: int) -> np.ndarray:
    """Strictly diagonally dominant (hence invertible and well-conditioned), rows of either
    sign so that determinants take both signs."""
    base = data(array(dtype, (*batch, n, n), (-1.0, 1.0))).astype("float64")
    signs = np.where(data(array("bool", (*batch, n, 1))), -1.0, 1.0)
    return ((base + (n + 1) * np.eye(n)) * signs).astype(dtype)


def _spd(data: st.DrawFn, dtype: str, batch: Any, n: int) -> np.ndarray:
    """Symmetric positive definite: ``B @ B.T + n I``, exactly symmetric."""
    b = data(array("float64", (*batch, n, n), (-1.0, 1.0)))
    a = b @ np.swapaxes(b, -1, -2) + n * np.eye(n)
    return ((a + np.swapaxes(a, -1, -2)) / 2).astype(dtype)


def _rotation(data: st.DrawFn, batch: Any, n: int) -> np.ndarray:
    """An orthogonal matrix (the Q of a well-conditioned drawn matrix)."""
    g = data(array("float64", (*batch, n, n), (-1.0, 1.0)))
    return np.linalg.qr(g + 3 * np.eye(n))[0]


def _spectral(data: st.DrawFn, batch: Any, m: int, n: int, rotate_right: bool = True) -> np.ndarray:
    """``Q1 @ (S + P) @ Q2`` in float64: singular values near a permutation of 1..min(m, n),
    at least 0.2 apart and 0.6 from zero."""
    k = min(m, n)
    values = np.asarray(data(st.permutations(range(1, k + 1))), dtype="float64")
    values *= np.where(data(array("bool", (k,))), -1.0, 1.0)
    s = np.zeros((m, n))
    s[range(k), range(k)] = values
    p = data(array("float64", (*batch, m, n), (-0.1, 0.1)))
    a = _rotation(data, batch, m) @ (s + p)
    return a @ _rotation(data, batch, n) if rotate_right else a


def _square(data: st.DrawFn, max_batch: int = 2) -> tuple[tuple[int, ...], int]:
    return _batch(data, max_batch), _side(data)


def _det(data: st.DrawFn) -> Sample:
    batch, n = _square(data)
    return Sample((_invertible(data, _dtype(data, NUMERIC), batch, n),))


def _solve(data: st.DrawFn) -> Sample:
    batch, n = _square(data)
    a = _invertible(data, _dtype(data, NUMERIC), batch, n)
    shape = (*batch, n) if data(st.booleans()) else (*batch, n, _side(data))
    return Sample((a, _operand(data, shape, _dtype(data, NUMERIC), (-10.0, 10.0))))


def _solve_triangular(data: st.DrawFn) -> Sample:
    batch, n = _square(data)
    dtype = _dtype(data, FLOATS)
    # A full matrix: the triangle not asked for must be ignored.
    a = data(array("float64", (*batch, n, n), (-1.0, 1.0)))
    diagonal = data(array("float64", (*batch, n), (1.0, 2.0)))
    diagonal *= np.where(data(array("bool", (*batch, n))), -1.0, 1.0)
    a[..., range(n), range(n)] = diagonal
    shape = (*batch, n) if data(st.booleans()) else (*batch, n, _side(data))
    b = _operand(data, shape, dtype, (-10.0, 10.0))
    return Sample((a.astype(dtype), b), {"lower": data(st.booleans())})


def _cholesky(data: st.DrawFn) -> Sample:
    batch, n = _square(data)
    x = _spd(data, _dtype(data, FLOATS), batch, n)
    return Sample((x,), {"upper": True} if data(st.booleans()) else {})


def _cholesky_inverse(data: st.DrawFn) -> Sample:
    batch, n = _square(data)
    upper = data(st.booleans())
    # A factor with a positive diagonal; the other triangle holds values that must be ignored.
    x = data(array("float64", (*batch, n, n), (-1.0, 1.0)))
    x[..., range(n), range(n)] = data(array("float64", (*batch, n), (1.0, 2.0)))
    kwargs = {"upper": True} if upper else {}
    return Sample((x.astype(_dtype(data, FLOATS)),), kwargs)


def _rectangular(data: st.DrawFn) -> tuple[tuple[int, ...], int, int]:
    return _batch(data, 1), _side(data), _side(data)


def _qr(data: st.DrawFn) -> Sample:
    batch, m, n = _rectangular(data)
    # Full rank in the leading min(m, n) columns: the factors are unique up to signs.
    x = _spectral(data, batch, m, n, rotate_right=m >= n).astype(_dtype(data, FLOATS))
    return Sample((x,), {"mode": "complete"} if data(st.booleans()) else {})


def _svd(data: st.DrawFn) -> Sample:
    batch, m, n = _rectangular(data)
    x = _spectral(data, batch, m, n).astype(_dtype(data, FLOATS))
    kwargs = {}
    if data(st.booleans()):
        kwargs["full_matrices"] = False
    if data(st.integers(0, 3)) == 0:
        kwargs["compute_uv"] = False
    return Sample((x,), kwargs)


def _eigh(data: st.DrawFn) -> Sample:
    batch, n = _square(data, 1)
    values = np.asarray(data(st.lists(st.integers(-4, 4), min_size=n, max_size=n, unique=True)),
                        dtype="float64")  # fmt: skip
    q = _rotation(data, batch, n)
    p = data(array("float64", (*batch, n, n), (-0.1, 0.1)))
    a = (q * values) @ np.swapaxes(q, -1, -2) + p
    return Sample((((a + np.swapaxes(a, -1, -2)) / 2).astype(_dtype(data, FLOATS)),))


def _lstsq(data: st.DrawFn) -> Sample:
    m, n = _side(data), _side(data)
    dtype = _dtype(data, FLOATS)
    a = _spectral(data, (), m, n).astype(dtype)
    shape = (m,) if data(st.booleans()) else (m, _side(data))
    kwargs = {"rcond": 1e-3} if data(st.booleans()) else {}
    return Sample((a, _operand(data, shape, dtype, (-10.0, 10.0))), kwargs)


def _lu_factor(data: st.DrawFn) -> Sample:
    """``P.T @ L @ U`` with |L| <= 0.5 below its unit diagonal and |diag(U)| >= 1: partial
    pivoting picks the rows P says, each with a clear margin."""
    batch, n = _square(data, 1)
    lower = np.tril(data(array("float64", (*batch, n, n), (-0.5, 0.5))), -1) + np.eye(n)
    upper = np.triu(data(array("float64", (*batch, n, n), (-2.0, 2.0))), 1)
    diagonal = data(array("float64", (*batch, n), (1.0, 3.0)))
    upper[..., range(n), range(n)] = diagonal * np.where(data(array("bool", (*batch, n))), -1, 1)
    a = lower @ upper
    for index in np.ndindex(batch):
        a[index] = a[index][np.argsort(data(st.permutations(range(n))))]
    return Sample((a.astype(_dtype(data, FLOATS)),))


def _pinv(data: st.DrawFn) -> Sample:
    batch, m, n = _rectangular(data)
    x = _spectral(data, batch, m, n).astype(_dtype(data, FLOATS))
    return Sample((x,), {"rcond": 1e-3} if data(st.booleans()) else {})


def _matrix_rank(data: st.DrawFn) -> Sample:
    """Products of small integer matrices: the rank is exact in every float dtype."""
    batch, m, n = _rectangular(data)
    rank = data(st.integers(0, min(m, n)))
    b = data(array("int32", (*batch, m, rank), (-2, 2)))
    c = data(array("int32", (*batch, rank, n), (-2, 2)))
    x = (b @ c).astype(_dtype(data, FLOATS))
    return Sample((x,), {"tol": 0.5} if data(st.booleans()) else {})


def _norm(data: st.DrawFn) -> Sample:
    dtype = _dtype(data, NUMERIC)
    kind = data(st.sampled_from(["flat", "vector", "matrix"]))
    kwargs: dict[str, Any] = {}
    if kind == "flat":  # everything, as one vector
        shape = tuple(data(st.lists(st.integers(1, 4), max_size=3)))
    elif kind == "vector":
        shape = tuple(data(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
        if len(shape) > 1 or data(st.booleans()):
            kwargs["axis"] = data(st.integers(-len(shape), len(shape) - 1))
        kwargs["ord"] = data(st.sampled_from([None, 0, 1, 2, 3, np.inf, -np.inf]))
    else:
        shape = tuple(data(st.lists(st.integers(1, 4), min_size=2, max_size=3)))
        rows, cols = len(shape) - 2, len(shape) - 1
        if len(shape) > 2 or data(st.booleans()):
            rows, cols = data(st.permutations(range(len(shape))))[:2]
            kwargs["axis"] = (_signed(data, rows, len(shape)), _signed(data, cols, len(shape)))
        kwargs["ord"] = data(st.sampled_from([None, "fro", "nuc", 1, -1, 2, -2, np.inf,
                                              -np.inf]))  # fmt: skip
        if kwargs["ord"] in ("nuc", 2, -2):
            # Norms of singular values: distinct ones keep them differentiable.
            m, n = shape[rows], shape[cols]
            batch = tuple(d for i, d in enumerate(shape) if i not in (rows, cols))
            matrices = _spectral(data, batch, m, n).astype(_dtype(data, FLOATS))
            x = np.moveaxis(matrices, (-2, -1), (rows, cols))
            return Sample((x,), {**kwargs, "keepdims": data(st.booleans())})
    if data(st.booleans()):
        kwargs["keepdims"] = True
    x = _operand(data, shape, dtype, (-10.0, 10.0))
    if kwargs.get("ord") in (-1, -np.inf):
        # A minimum over entries (or columns) tied at zero has no derivative, yet moving one
        # entry either way leaves it unchanged: finite differences would see a flat function.
        x = np.where(np.abs(x) < 1, np.where(x < 0, -1, 1), x).astype(dtype)
    return Sample((x,), kwargs)


# ---------------------------------------------------------------------------------------------
# Comparison adapters for factors that are unique only up to signs and null-space bases.


def _numpy(value: Any) -> np.ndarray:
    return katman.ops.convert_to_numpy(value)


def _signs(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """+1 or -1 per column: the sign that brings each expected column nearest the actual."""
    return np.where(np.sum(expected * actual, axis=-2) < 0, -1.0, 1.0)


def _rotate_onto(basis: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``basis @ O`` for the orthogonal ``O`` nearest to ``target`` (orthogonal Procrustes): the
    target itself when it is an orthonormal basis of the same subspace."""
    if basis.shape[-1] == 0:
        return basis
    u, _, vh = np.linalg.svd(np.swapaxes(basis, -1, -2) @ target)
    return basis @ (u @ vh)


def qr_aligned(x: np.ndarray, mode: str = "reduced") -> tuple[np.ndarray, np.ndarray]:
    """NumPy's QR, the sign of each column of q (and row of r) taken from the backend's result,
    and in complete mode the basis of the complement of x's columns."""
    q, r = np.linalg.qr(x.astype("float64"), mode=mode)
    got_q = _numpy(katman.ops.qr(x, mode=mode)[0])
    k = min(x.shape[-2:])
    signs = _signs(q[..., :, :k], got_q[..., :, :k])
    q[..., :, :k] *= signs[..., None, :]
    r[..., :k, :] *= signs[..., :, None]
    q[..., :, k:] = _rotate_onto(q[..., :, k:], got_q[..., :, k:])
    return q, r


def svd_aligned(x: np.ndarray, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """NumPy's SVD, each singular pair's sign (and the null-space bases of a full SVD) taken
    from the backend's result; singular values compared as they are."""
    expected = np.linalg.svd(x.astype("float64"), full_matrices=full_matrices,
                             compute_uv=compute_uv)  # fmt: skip
    if not compute_uv:
        return expected
    u, s, vh = expected
    got_u, _, got_vh = (_numpy(t) for t in katman.ops.svd(x, full_matrices=full_matrices))
    k = s.shape[-1]
    signs = _signs(u[..., :, :k], got_u[..., :, :k])
    u[..., :, :k] *= signs[..., None, :]
    vh[..., :k, :] *= signs[..., :, None]
    u[..., :, k:] = _rotate_onto(u[..., :, k:], got_u[..., :, k:])
    v_null = _rotate_onto(np.swapaxes(vh[..., k:, :], -1, -2),
                          np.swapaxes(got_vh[..., k:, :], -1, -2))  # fmt: skip
    vh[..., k:, :] = np.swapaxes(v_null, -1, -2)
    return u, s, vh


def eigh_aligned(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NumPy's eigendecomposition, each eigenvector's sign taken from the backend's result."""
    w, v = np.linalg.eigh(x.astype("float64"))
    _, got_v = katman.ops.eigh(x)
    return w, v * _signs(v, _numpy(got_v))[..., None, :]


# Factorizations lose a few digits to rounding (more for float32 inputs).
LINALG_RTOL = {"float32": 1e-4, "float64": 1e-9}

RECORDS = (
    OpRecord("matmul", custom(_matmul), grad_args=(0, 1)),
    OpRecord("dot", custom(_dot), grad_args=(0, 1)),
    OpRecord("tensordot", custom(_tensordot), grad_args=(0, 1)),
    OpRecord("einsum", custom(_einsum), grad_args=(1, 2, 3)),
    OpRecord("outer", custom(_outer), grad_args=(0, 1)),
    OpRecord("inner", custom(_inner), grad_args=(0, 1)),
    OpRecord("vdot", custom(_vdot), grad_args=(0, 1)),
    OpRecord("trace", custom(_trace)),
    OpRecord("cross", custom(_cross), grad_args=(0, 1)),
    OpRecord("det", custom(_det), rtol=LINALG_RTOL),
    OpRecord("inv", custom(_det), rtol=LINALG_RTOL),
    OpRecord("solve", custom(_solve), grad_args=(0, 1), rtol=LINALG_RTOL),
    OpRecord("solve_triangular", custom(_solve_triangular), grad_args=(0, 1), rtol=LINALG_RTOL),
    # The gradient of a factor of a symmetric matrix depends on how the perturbation is made
    # symmetric; finite differences of one entry at a time are not that.
    OpRecord("cholesky", custom(_cholesky), grad=False, rtol=LINALG_RTOL),
    OpRecord("cholesky_inverse", custom(_cholesky_inverse), rtol=LINALG_RTOL),
    OpRecord("norm", custom(_norm), rtol=LINALG_RTOL),
    # Several outputs: the gradient check takes one.
    OpRecord("qr", custom(_qr), grad=False, reference=qr_aligned, rtol=LINALG_RTOL),
    OpRecord("svd", custom(_svd), grad=False, reference=svd_aligned, rtol=LINALG_RTOL),
    OpRecord("eigh", custom(_eigh), grad=False, reference=eigh_aligned, rtol=LINALG_RTOL),
    OpRecord("lu_factor", custom(_lu_factor), grad=False, rtol=LINALG_RTOL),
    OpRecord("lstsq", custom(_lstsq), grad_args=(0, 1), rtol=LINALG_RTOL),
    OpRecord("pinv", custom(_pinv), rtol=LINALG_RTOL),
    OpRecord("matrix_rank", custom(_matrix_rank), grad=False),
)

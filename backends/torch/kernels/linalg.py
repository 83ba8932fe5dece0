"""Products and linear algebra."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from katman.backend import Backend
from katman.backends.torch.dtypes import TORCH_DTYPES
from katman.dtypes import INTS, result_type
from katman.errors import OpArgumentError

# Dtypes torch's CPU linear algebra (LAPACK) cannot factor: computed in float32, cast back.
_HALF = ("float16", "bfloat16")


def _axes_pair(axes: Any, ndim1: int, ndim2: int) -> tuple[list[int], list[int]]:
    """``tensordot``'s ``axes`` (an int or a pair of ints/sequences) as two lists of
    non-negative axes."""
    if isinstance(axes, int):
        return list(range(ndim1 - axes, ndim1)), list(range(axes))
    first, second = axes
    first = [first] if isinstance(first, int) else list(first)
    second = [second] if isinstance(second, int) else list(second)
    return [a % ndim1 for a in first], [a % ndim2 for a in second]


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    def tensor(x: Any) -> torch.Tensor:
        return backend.convert_to_tensor(x)

    def cast(x: torch.Tensor, dtype: str) -> torch.Tensor:
        return x.to(TORCH_DTYPES[dtype])

    def common(values: Sequence[Any]) -> str:
        """The Keras result dtype of ``values``; Python scalars are weak."""
        return result_type(
            *(v if isinstance(v, (bool, int, float)) else backend.dtype_of(tensor(v))
              for v in values)
        )  # fmt: skip

    def product(
        function: Callable[..., torch.Tensor], values: Sequence[Any], dtype: str | None = None
    ) -> torch.Tensor:
        """``function`` of ``values`` brought to their common dtype (or ``dtype``). Bools
        multiply as 0/1 integers and any nonzero sum is True, as in NumPy."""
        dtype = dtype or common(values)
        tensors = [backend.convert_to_tensor(v) for v in values]
        compute = "int32" if dtype == "bool" else dtype
        if tensors[0].device.type != "cpu" and compute in INTS:
            compute = "float64"  # GPUs multiply floats only; exact below 2**53
        out = function(*(cast(t, compute) for t in tensors))
        return out != 0 if dtype == "bool" else cast(out, dtype)

    def floating(*values: Any) -> tuple[list[torch.Tensor], str]:
        """``values`` in their common float dtype (ints become floatx) as LAPACK takes them,
        and the dtype the result must have."""
        tensors = [tensor(v) for v in values]
        dtype = result_type(*(backend.dtype_of(t) for t in tensors), float)
        compute = "float32" if dtype in _HALF else dtype
        return [cast(t, compute) for t in tensors], dtype

    def matmul(x1: Any, x2: Any) -> torch.Tensor:
        x1, x2 = tensor(x1), tensor(x2)
        if x1.dtype is x2.dtype and x1.is_floating_point():
            return torch.matmul(x1, x2)  # nothing to promote: every layer's case
        dtypes = (backend.dtype_of(x1), backend.dtype_of(x2))
        dtype = "int32" if dtypes == ("int8", "int8") else None
        return product(torch.matmul, (x1, x2), dtype)

    def dot_fn(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        if x1.ndim == 0 or x2.ndim == 0:
            return x1 * x2
        if x2.ndim == 1:
            return torch.matmul(x1, x2)
        return torch.tensordot(x1, x2, dims=([x1.ndim - 1], [x2.ndim - 2]))

    def dot(x1: Any, x2: Any) -> torch.Tensor:
        return product(dot_fn, (x1, x2))

    def tensordot(x1: Any, x2: Any, axes: Any = 2) -> torch.Tensor:
        x1, x2 = tensor(x1), tensor(x2)
        dims = _axes_pair(axes, x1.ndim, x2.ndim)
        return product(lambda a, b: torch.tensordot(a, b, dims=dims), (x1, x2))

    def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> torch.Tensor:
        del kwargs  # other frameworks' options (precision, ...)
        tensors = [tensor(x) for x in operands]
        dtype = "int32" if {backend.dtype_of(t) for t in tensors} == {"int8"} else None
        return product(lambda *xs: torch.einsum(subscripts, *xs), tensors, dtype)

    def outer(x1: Any, x2: Any) -> torch.Tensor:
        return product(lambda a, b: a.reshape(-1, 1) * b.reshape(1, -1), (x1, x2))

    def inner_fn(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        if x1.ndim == 0 or x2.ndim == 0:
            return x1 * x2
        return torch.tensordot(x1, x2, dims=([x1.ndim - 1], [x2.ndim - 1]))

    def inner(x1: Any, x2: Any) -> torch.Tensor:
        return product(inner_fn, (x1, x2))

    def vdot(x1: Any, x2: Any) -> torch.Tensor:
        return product(lambda a, b: torch.sum(a.reshape(-1) * b.reshape(-1)), (x1, x2))

    def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
        x = tensor(x)
        dtype = backend.dtype_of(x)
        dtype = "int32" if dtype in ("bool", "uint8", "int8", "int16") else dtype
        diagonal = torch.diagonal(x, offset=offset, dim1=axis1, dim2=axis2)
        return torch.sum(diagonal, dim=-1, dtype=TORCH_DTYPES[dtype])

    def cross(
        x1: Any,
        x2: Any,
        axisa: int = -1,
        axisb: int = -1,
        axisc: int = -1,
        axis: int | None = None,
    ) -> torch.Tensor:
        if axis is not None:
            axisa = axisb = axisc = axis

        def compute(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            a, b = torch.movedim(a, axisa, -1), torch.movedim(b, axisb, -1)
            sizes = (a.shape[-1], b.shape[-1])
            if any(size not in (2, 3) for size in sizes):
                raise OpArgumentError(
                    f"cross: vectors must have 2 or 3 components, got {sizes[0]} and {sizes[1]}."
                )
            a, b = (torch.nn.functional.pad(v, (0, 1)) if v.shape[-1] == 2 else v
                    for v in (a, b))  # fmt: skip
            a, b = torch.broadcast_tensors(a, b)
            c = torch.linalg.cross(a, b, dim=-1)
            return c[..., 2] if sizes == (2, 2) else torch.movedim(c, -1, axisc)

        x1, x2 = tensor(x1), tensor(x2)
        dtype = result_type(backend.dtype_of(x1), backend.dtype_of(x2))
        if dtype == "bool":
            raise OpArgumentError("cross: takes numbers, not bools.")
        # torch's CPU cross has no float16 kernel.
        return product(compute, (x1, x2), "float32" if dtype in _HALF else dtype).to(
            TORCH_DTYPES[dtype]
        )

    def cholesky(x: Any, upper: bool = False) -> torch.Tensor:
        (x,), dtype = floating(x)
        return cast(torch.linalg.cholesky(x, upper=upper), dtype)

    def cholesky_inverse(x: Any, upper: bool = False) -> torch.Tensor:
        (x,), dtype = floating(x)
        x = torch.triu(x) if upper else torch.tril(x)
        return cast(torch.cholesky_inverse(x, upper=upper), dtype)

    def det(x: Any) -> torch.Tensor:
        (x,), dtype = floating(x)
        return cast(torch.linalg.det(x), dtype)

    def inv(x: Any) -> torch.Tensor:
        (x,), dtype = floating(x)
        return cast(torch.linalg.inv(x), dtype)

    def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
        (x,), dtype = floating(x)
        if isinstance(axis, list):
            axis = tuple(axis)
        return cast(torch.linalg.norm(x, ord=ord, dim=axis, keepdim=keepdims), dtype)

    def qr(x: Any, mode: str = "reduced") -> tuple[torch.Tensor, torch.Tensor]:
        if mode not in ("reduced", "complete"):
            raise OpArgumentError(f"qr: mode must be 'reduced' or 'complete', got {mode!r}.")
        (x,), dtype = floating(x)
        q, r = torch.linalg.qr(x, mode=mode)
        return cast(q, dtype), cast(r, dtype)

    def system(a: Any, b: Any, function: Callable[..., torch.Tensor]) -> torch.Tensor:
        (a, b), dtype = floating(a, b)
        if b.ndim == a.ndim - 1:  # a stack of vectors
            return cast(function(a, b.unsqueeze(-1)).squeeze(-1), dtype)
        return cast(function(a, b), dtype)

    def solve(a: Any, b: Any) -> torch.Tensor:
        return system(a, b, torch.linalg.solve)

    def solve_triangular(a: Any, b: Any, lower: bool = False) -> torch.Tensor:
        def function(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            a = torch.tril(a) if lower else torch.triu(a)  # the other triangle is never read
            return torch.linalg.solve_triangular(a, b, upper=not lower)

        return system(a, b, function)

    def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
        (x,), dtype = floating(x)
        if not compute_uv:
            return cast(torch.linalg.svdvals(x), dtype)
        u, s, vh = torch.linalg.svd(x, full_matrices=full_matrices)
        return cast(u, dtype), cast(s, dtype), cast(vh, dtype)

    def eigh(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
        (x,), dtype = floating(x)
        w, v = torch.linalg.eigh(x)
        return cast(w, dtype), cast(v, dtype)

    def lstsq(a: Any, b: Any, rcond: float | None = None) -> torch.Tensor:
        (a, b), dtype = floating(a, b)
        if a.ndim != 2 or b.ndim not in (1, 2):
            raise OpArgumentError(
                f"lstsq: expected a of shape (M, N) and b of shape (M,) or (M, K), got "
                f"{tuple(a.shape)} and {tuple(b.shape)}."
            )
        rhs = b.unsqueeze(-1) if b.ndim == 1 else b
        if a.device.type == "cpu":
            # The SVD-based driver gives NumPy's minimum-norm solution and meaning of rcond.
            x = torch.linalg.lstsq(a, rhs, rcond=rcond, driver="gelsd").solution
        else:  # GPUs have only the QR-based driver, which has no rcond
            x = torch.linalg.pinv(a, rtol=rcond) @ rhs
        return cast(x.squeeze(-1) if b.ndim == 1 else x, dtype)

    def lu_factor(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
        (x,), dtype = floating(x)
        lu, pivots = torch.linalg.lu_factor(x)
        return cast(lu, dtype), (pivots - 1).to(torch.int32)  # torch counts rows from 1

    def pinv(x: Any, rcond: float | None = None) -> torch.Tensor:
        (x,), dtype = floating(x)
        return cast(torch.linalg.pinv(x, rtol=rcond), dtype)

    def matrix_rank(x: Any, tol: float | None = None) -> torch.Tensor:
        (x,), _ = floating(x)
        s = torch.linalg.svdvals(x)
        if tol is None:
            eps = torch.finfo(s.dtype).eps
            threshold = s.amax(dim=-1, keepdim=True) * (max(x.shape[-2:]) * eps)
        else:
            threshold = torch.as_tensor(tol, dtype=s.dtype, device=s.device)
        return torch.sum(s > threshold, dim=-1, dtype=torch.int32)

    return {
        "matmul": matmul,
        "dot": dot,
        "tensordot": tensordot,
        "einsum": einsum,
        "outer": outer,
        "inner": inner,
        "vdot": vdot,
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

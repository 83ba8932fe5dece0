"""The checks every op record goes through on the active backend: values against the NumPy
reference, the symbolic shape and dtype against the real result, gradients against finite
differences of the reference in float64. A failure's message ends with a reproducer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import katman
from katman.conformance.records import OpRecord
from katman.conformance.strategies import Sample, render_call

__all__ = ["Sample", "render_call"]
from katman.errors import OpNotSupportedError
from katman.symbolic import KerasTensor

# Tolerances by the result's dtype: (rtol, atol).
TOLERANCE = {
    "float16": (1e-2, 1e-2),
    "bfloat16": (5e-2, 5e-2),
    "float32": (1e-5, 1e-5),
    "float64": (1e-10, 1e-10),
}
GRAD_TOLERANCE = (1e-4, 1e-6)
FD_STEP = 1e-6


class ConformanceFailure(AssertionError):
    """A check failed; the message says which, and how to reproduce it."""


def flatten(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in flatten(item)]
    return [value]


def _map(value: Any, function: Callable[[Any], Any]) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value)(_map(v, function) for v in value)
    return function(value)


def to_tensors(sample: Sample) -> tuple[tuple, dict]:
    def convert(value: Any) -> Any:
        return katman.ops.convert_to_tensor(value) if isinstance(value, np.ndarray) else value

    return _map(sample.args, convert), {k: _map(v, convert) for k, v in sample.kwargs.items()}


def to_symbolic(sample: Sample) -> tuple[tuple, dict]:
    def convert(value: Any) -> Any:
        return (
            KerasTensor(value.shape, value.dtype.name) if isinstance(value, np.ndarray) else value
        )

    return _map(sample.args, convert), {k: _map(v, convert) for k, v in sample.kwargs.items()}


def reproducer(name: str, sample: Sample) -> str:
    backend = katman.config.backend()
    return (
        f'\nReproduce with:\n  KATMAN_BACKEND={backend} python -c "import numpy as np, katman; '
        f'print({render_call(name, sample)})"'
    )


def _call(name: str, sample: Sample, thunk: Callable[[], Any]) -> Any:
    """Run ``thunk``; an exception other than "unsupported" becomes a failure with a reproducer."""
    try:
        return thunk()
    except OpNotSupportedError:
        raise
    except Exception as err:
        raise ConformanceFailure(
            f"{name} raised {type(err).__name__}: {err}" + reproducer(name, sample)
        ) from err


def check_values_and_specs(record: OpRecord, sample: Sample) -> None:
    """Run the op; compare values, dtypes and (if asked) the symbolic result."""
    op = katman.ops.__getattr__(record.name)
    reference = record.reference or op.reference
    args, kwargs = to_tensors(sample)
    actual = flatten(_call(record.name, sample, lambda: op(*args, **kwargs)))
    with np.errstate(all="ignore"):
        expected = flatten(reference(*sample.args, **sample.kwargs))
    backend = katman.backend.get_backend()
    problems = []
    if len(actual) != len(expected):
        problems.append(f"{len(actual)} outputs, the reference has {len(expected)}")
    for index, (got, want) in enumerate(zip(actual, expected, strict=False)):
        dtype = backend.dtype_of(got)
        got_np, want_np = katman.ops.convert_to_numpy(got), np.asarray(want)
        if got_np.shape != want_np.shape:
            problems.append(f"output {index}: shape {got_np.shape}, expected {want_np.shape}")
            continue
        if dtype in TOLERANCE:
            rtol, atol = TOLERANCE[dtype]
            rtol = record.rtol.get(dtype, rtol)
            close = np.allclose(got_np.astype("float64"), want_np.astype("float64"),
                                rtol=rtol, atol=atol, equal_nan=True)  # fmt: skip
        else:
            close = np.array_equal(got_np, want_np)
        if not close:
            problems.append(f"output {index} ({dtype}): got {got_np!r}, expected {want_np!r}")
    if record.symbolic:
        sym_args, sym_kwargs = to_symbolic(sample)
        specs = flatten(_call(record.name, sample, lambda: op(*sym_args, **sym_kwargs)))
        for index, (spec, got) in enumerate(zip(specs, actual, strict=False)):
            real = (tuple(katman.ops.convert_to_numpy(got).shape), backend.dtype_of(got))
            if (spec.shape, spec.dtype) != real:
                problems.append(
                    f"output {index}: symbolic shape/dtype {spec.shape}/{spec.dtype}, real "
                    f"{real[0]}/{real[1]}"
                )
    if problems:
        raise ConformanceFailure(
            f"{record.name}: " + "; ".join(problems) + reproducer(record.name, sample)
        )


def check_gradients(record: OpRecord, sample: Sample) -> None:
    """The backend's gradient of ``sum(op(...) * w)`` against central finite differences of the
    NumPy reference, in float64, skipping points where the function has a kink."""
    op = katman.ops.__getattr__(record.name)
    reference = record.reference or op.reference
    args = [a.astype("float64") if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
            for a in sample.args]  # fmt: skip
    positions = [i for i in record.grad_args if i < len(args) and isinstance(args[i], np.ndarray)
                 and args[i].dtype.kind == "f"]  # fmt: skip
    if not positions:
        return
    with np.errstate(all="ignore"):
        out = np.asarray(reference(*args, **sample.kwargs), dtype="float64")
    weights = np.random.default_rng(0).uniform(0.5, 1.5, size=out.shape)

    def change(values: list[np.ndarray]) -> float:
        """How much the weighted sum of outputs moves, taken elementwise against ``out`` so
        that large unchanged outputs cost no precision."""
        call = list(args)
        for position, value in zip(positions, values, strict=True):
            call[position] = value
        with np.errstate(all="ignore"):
            moved = np.asarray(reference(*call, **sample.kwargs), dtype="float64") - out
        return float(np.sum(moved * weights))

    def objective(*tensors: Any) -> Any:
        call = list(to_tensors(Sample(tuple(args), {}))[0])
        for position, tensor in zip(positions, tensors, strict=True):
            call[position] = tensor
        result = op(*call, **sample.kwargs)
        return katman.ops.sum(katman.ops.multiply(result, weights))

    backend = katman.backend.get_backend()
    _, grads = _call(
        record.name,
        sample,
        lambda: backend.value_and_grad(objective, *[args[p] for p in positions]),
    )
    problems = []
    for slot, (position, grad) in enumerate(zip(positions, grads, strict=True)):
        grad = katman.ops.convert_to_numpy(grad)
        base = [args[p].copy() for p in positions]
        for index in np.ndindex(args[position].shape):
            plus, minus = [b.copy() for b in base], [b.copy() for b in base]
            plus[slot][index] += FD_STEP
            minus[slot][index] -= FD_STEP
            right = change(plus) / FD_STEP
            left = -change(minus) / FD_STEP
            if not np.isclose(left, right, rtol=1e-3, atol=1e-4):
                continue  # a kink (abs at 0, max at a tie): no derivative to compare
            numeric = (right + left) / 2
            rtol, atol = GRAD_TOLERANCE
            if not np.isclose(grad[index], numeric, rtol=rtol, atol=atol + 1e-6 * abs(numeric)):
                problems.append(f"d/d arg{position}{list(index)}: {grad[index]!r} vs {numeric!r}")
    if problems:
        raise ConformanceFailure(
            f"{record.name} gradient: " + "; ".join(problems[:5]) + reproducer(record.name, sample)
        )

"""The Op interface: one named operation, its NumPy reference, and where its kernels live."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from katman.dtypes import standardize_dtype
from katman.errors import KatmanError, OpArgumentError, OpNotSupportedError
from katman.ops.rules import DtypeRule, promote
from katman.symbolic import KerasTensor
from katman.variables import Variable, unwrap

# Sizes an unknown (None) dimension takes when a symbolic call probes the NumPy reference;
# output dimensions that differ between the two probes are unknown too.
_PROBE_SIZES = (2, 3)


class Op:
    """A named operation that runs on whichever backend is active.

    The kernel is found, once per process, in this order: the op's own ``kernels`` entry for
    the active backend, the backend's kernel table, the composite ``fallback``.

    Args:
        name: the public name, as in ``katman.ops.NAME``.
        reference: a NumPy implementation, the oracle of the conformance suite.
        fallback: an implementation written with other ``katman.ops``, used by backends that
            have no kernel of their own.
        kernels: kernels a plugin brings for particular backends, by backend name; a value may
            be a lazy ``"package.module:function"`` path.
        doc: the docstring users see.
        dtype: the output dtype rule (see ``katman.ops.rules``); default: the inputs'
            common dtype.
        output_spec: the shape and dtype rule for symbolic calls, taking the op's arguments
            (with KerasTensors) and returning KerasTensor(s). Default: run ``reference`` on
            placeholder arrays of the inputs' shapes and apply ``dtype``.
        area: the group the conformance suite reports the op under (``"math"``, ...).
        differentiable: whether the conformance suite checks its gradients.

    Example:
        >>> import katman
        >>> double = katman.ops.Op("double", reference=lambda x: 2 * x,
        ...                        fallback=lambda x: katman.ops.add(x, x))
        >>> katman.ops.convert_to_numpy(double(katman.ops.convert_to_tensor([1.0, 2.0])))
        array([2., 4.], dtype=float32)
    """

    def __init__(
        self,
        name: str,
        *,
        reference: Callable[..., Any] | None = None,
        fallback: Callable[..., Any] | None = None,
        kernels: Mapping[str, Callable[..., Any] | str] | None = None,
        doc: str | None = None,
        dtype: DtypeRule = promote,
        output_spec: Callable[..., Any] | None = None,
        area: str = "misc",
        differentiable: bool = True,
    ) -> None:
        self.name = name
        self.reference = reference
        self.fallback = fallback
        self.kernels = dict(kernels or {})
        self.__doc__ = doc
        self.dtype_rule = dtype
        self.output_spec = output_spec
        self.area = area
        self.differentiable = differentiable
        self._kernel: Callable[..., Any] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        in_args = _find_special(args)
        in_kwargs = _find_special(kwargs.values()) if kwargs else _PLAIN
        if in_args == _SYMBOLIC or in_kwargs == _SYMBOLIC:
            return self.symbolic_call(*args, **kwargs)
        kernel = self._kernel or self._resolve()
        if in_args == _VARIABLE:
            args = tuple([unwrap(a) for a in args])
        if in_kwargs == _VARIABLE:
            kwargs = {k: unwrap(v) for k, v in kwargs.items()}
        try:
            return kernel(*args, **kwargs)
        except KatmanError:
            raise
        except Exception as err:
            raise self._argument_error(args, kwargs, err) from err

    def _argument_error(
        self, args: tuple, kwargs: dict, cause: Exception, *, symbolic: bool = False
    ) -> OpArgumentError:
        from katman.config import backend

        where = "symbolic inputs" if symbolic else f"backend {backend()!r}"
        described = ", ".join(
            [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
        )
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        return OpArgumentError(
            f"Op {self.name!r} cannot run on ({described}) with {where}: "
            f"{type(cause).__name__}: {reason}"
        )

    def symbolic_call(self, *args: Any, **kwargs: Any) -> Any:
        """The KerasTensor(s) this op returns for these arguments, computed without a backend."""
        if self.output_spec is None and self.reference is None:
            raise OpNotSupportedError(
                f"Op {self.name!r} cannot take symbolic inputs: it has neither an output_spec "
                "nor a NumPy reference to infer shapes from."
            )
        try:
            if self.output_spec is not None:
                return self.output_spec(*args, **kwargs)
            probes = [self._probe(size, args, kwargs) for size in _PROBE_SIZES]
        except KatmanError:
            raise
        except Exception as err:
            raise self._argument_error(args, kwargs, err, symbolic=True) from err
        shape = tuple(a if a == b else None for a, b in zip(*probes, strict=True))
        return KerasTensor(shape, self.dtype_rule(input_dtypes(args, kwargs)))

    def _probe(self, size: int, args: tuple, kwargs: dict) -> tuple[int, ...]:
        def placeholder(value: Any) -> Any:
            if isinstance(value, KerasTensor):
                shape = tuple(size if d is None else d for d in value.shape)
                return np.ones(shape, dtype="float32" if value.dtype == "bfloat16" else value.dtype)
            if isinstance(value, (list, tuple)):
                return type(value)(placeholder(v) for v in value)
            if isinstance(value, Variable) or _is_backend_tensor(value):
                # A concrete argument beside symbolic ones: its values, as NumPy sees them.
                from katman.backend import get_backend

                return get_backend().convert_to_numpy(unwrap(value))
            return value

        with np.errstate(all="ignore"):
            result = self.reference(
                *[placeholder(a) for a in args], **{k: placeholder(v) for k, v in kwargs.items()}
            )
        return np.shape(result)

    def kernel_for(self, backend: Any) -> Callable[..., Any] | None:
        """The callable this op runs on ``backend``, or None if it has none."""
        from katman.registry._registry import import_path

        own = self.kernels.get(backend.name)
        if own is not None:
            return import_path(own) if isinstance(own, str) else own
        return backend.kernels.get(self.name) or self.fallback

    def _resolve(self) -> Callable[..., Any]:
        from katman.backend import get_backend

        backend = get_backend()
        kernel = self.kernel_for(backend)
        if kernel is None:
            raise OpNotSupportedError(
                f"Op {self.name!r} has no kernel for backend {backend.name!r} and no composite "
                f"fallback. It has kernels for: {', '.join(sorted(self.kernels)) or 'no backend'}."
                " Register a kernel for this backend or give the op a fallback."
            )
        self._kernel = kernel
        return kernel

    def __repr__(self) -> str:
        return f"<katman op {self.name!r}>"


def _is_backend_tensor(value: Any) -> bool:
    if isinstance(value, (np.ndarray, np.generic, int, float, bool, str)) or value is None:
        return False
    from katman.backend import get_backend

    return get_backend().is_tensor(value)


# What ``_find_special`` reports, in increasing precedence; ``_SEQUENCE`` is a list or
# tuple, looked into one level deep.
_PLAIN, _VARIABLE, _SYMBOLIC, _SEQUENCE = 0, 1, 2, 3
# The kind of each argument type seen so far: one dict lookup per argument instead of
# three isinstance checks, as this runs for every argument of every op call.
_KINDS: dict[type, int] = {}


def _kind(cls: type) -> int:
    if issubclass(cls, KerasTensor):
        kind = _SYMBOLIC
    elif issubclass(cls, Variable):
        kind = _VARIABLE
    elif issubclass(cls, (list, tuple)):
        kind = _SEQUENCE
    else:
        kind = _PLAIN
    _KINDS[cls] = kind
    return kind


def _find_special(values: Any) -> int:
    """Whether a KerasTensor (symbolic call) or a Variable (to unwrap) is among ``values``,
    one level of lists and tuples deep."""
    found = _PLAIN
    kinds = _KINDS
    for value in values:
        kind = kinds.get(type(value))
        if kind is None:
            kind = _kind(type(value))
        if kind == _PLAIN:
            continue
        if kind == _SEQUENCE:
            for item in value:
                inner = kinds.get(type(item))
                if inner is None:
                    inner = _kind(type(item))
                if inner == _SYMBOLIC:
                    return _SYMBOLIC
                if inner == _VARIABLE:
                    found = _VARIABLE
        elif kind == _SYMBOLIC:
            return _SYMBOLIC
        else:
            found = _VARIABLE
    return found


def input_dtypes(args: tuple, kwargs: dict) -> list[Any]:
    """Dtypes of the tensor-like arguments, Python scalars as their (weak) types."""
    dtypes: list[Any] = []
    for value in (*args, *kwargs.values()):
        if isinstance(value, (list, tuple)):
            dtypes.extend(input_dtypes(tuple(value), {}))
        elif isinstance(value, (bool, int, float)):
            dtypes.append(type(value))
        elif hasattr(value, "dtype"):
            dtypes.append(standardize_dtype(value.dtype))
    return dtypes


def describe(value: Any) -> str:
    """A short description of an argument for error messages: ``float32[2, 3]``, ``1.5``."""
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value[:6]) + (", ..." if len(value) > 6 else "")
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        try:
            name = standardize_dtype(dtype)
        except TypeError:
            name = str(dtype)
        return f"{name}[{', '.join('?' if d is None else str(d) for d in tuple(shape))}]"
    if callable(value):
        return getattr(value, "__name__", "function")
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

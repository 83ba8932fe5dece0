"""The Op interface: one named operation, its NumPy reference, and where its kernels live."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from katman.errors import OpNotSupportedError


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
    ) -> None:
        self.name = name
        self.reference = reference
        self.fallback = fallback
        self.kernels = dict(kernels or {})
        self.__doc__ = doc
        self._kernel: Callable[..., Any] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        kernel = self._kernel or self._resolve()
        return kernel(*args, **kwargs)

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

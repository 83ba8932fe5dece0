"""Where the torch backend puts new tensors.

Keras's torch backend places everything on the first GPU when torch sees one; katman does
the same, so a model trains on CUDA without any device code. ``katman.device(...)`` scopes
override the default for the tensors created inside them.

Each device is kept with its type as a string: reading ``torch.device.type`` costs about
0.4 µs, and host tensors are checked on every conversion.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch

_Placement = tuple[torch.device, str]


def _placement(device: torch.device | str) -> _Placement:
    device = torch.device(device)
    return device, device.type


_default: _Placement = _placement("cuda" if torch.cuda.is_available() else "cpu")
_scoped: ContextVar[_Placement | None] = ContextVar("katman_torch_device", default=None)


def set_default_device(device: torch.device | str) -> torch.device:
    """Make ``device`` the device outside every scope; returns the previous one."""
    global _default
    previous, _default = _default[0], _placement(device)
    return previous


def current_device() -> torch.device:
    """The innermost scope's device, else the default (the first GPU, or the CPU)."""
    return (_scoped.get() or _default)[0]


@contextmanager
def placed_on(device: torch.device) -> Iterator[None]:
    """katman's kernels and torch's own factory functions create tensors on ``device``."""
    token = _scoped.set(_placement(device))
    try:
        with device:
            yield
    finally:
        _scoped.reset(token)


def to_device(tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A host tensor cast to ``dtype`` on the current device.

    A host-to-GPU copy from ordinary (pageable) memory waits for the GPU's queue to drain.
    Copying through pinned memory instead lets the copy queue behind the work already
    launched, so a training step does not stall the GPU between batches.
    """
    device, kind = _scoped.get() or _default
    if kind == "cpu":
        return tensor.to(dtype)
    if kind == "cuda":
        return tensor.pin_memory().to(device, dtype, non_blocking=True)
    return tensor.to(device, dtype)


def from_host(tensor: torch.Tensor) -> torch.Tensor:
    """A CPU tensor (a torch DataLoader's batch, say) moved to the current device when that
    is another one; any other tensor as it is."""
    if not tensor.is_cpu:
        return tensor
    device, kind = _scoped.get() or _default
    if kind == "cpu":
        return tensor
    return tensor.to(device, non_blocking=tensor.is_pinned())


def scalar(value: float | int, dtype: torch.dtype) -> torch.Tensor:
    """A Python number as a 0-d tensor on the current device (filled there: no copy).
    ``scalar_tensor`` takes half the time of ``torch.tensor`` (1.5 against 2.9 µs)."""
    device, _ = _scoped.get() or _default
    return torch.scalar_tensor(value, dtype=dtype, device=device)

"""katman's backend contract implemented with PyTorch."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import torch

from katman.backend import Backend, host_array, parse_device, standardize_dtype
from katman.backends.torch.dtypes import TORCH_DTYPES
from katman.backends.torch.kernels import FAMILIES
from katman.backends.torch.layer import TorchLayer
from katman.backends.torch.placement import current_device, from_host, placed_on, scalar, to_device
from katman.config import floatx

_NAMES = {torch_dtype: name for name, torch_dtype in TORCH_DTYPES.items()}
_FLOATS = frozenset(("float16", "bfloat16", "float32", "float64"))
_INTS = frozenset(("int32", "int64"))


class TorchBackend(Backend):
    name = "torch"
    framework = "torch"

    def __init__(self) -> None:
        self._kernels: dict[str, Callable[..., Any]] = {}
        for family in FAMILIES:
            module = importlib.import_module(f"katman.backends.torch.kernels.{family}")
            self._kernels.update(module.kernels(self))

    @property
    def framework_version(self) -> str:
        return torch.__version__

    @property
    def kernels(self) -> Mapping[str, Callable[..., Any]]:
        return self._kernels

    def is_tensor(self, x: Any) -> bool:
        return isinstance(x, torch.Tensor)

    def convert_to_tensor(self, x: Any, dtype: str | None = None) -> torch.Tensor:
        if isinstance(x, torch.Tensor):
            x = from_host(x)
            if dtype is None:
                return x
            wanted = TORCH_DTYPES.get(dtype) or TORCH_DTYPES[standardize_dtype(dtype)]
            return x if x.dtype is wanted else x.to(wanted)
        # Python numbers (learning rates, epsilons, step counters) skip the round trip
        # through NumPy where torch gives the same value.
        if type(x) is float and (dtype is None or dtype in _FLOATS):
            return scalar(x, TORCH_DTYPES[dtype or floatx()])
        if type(x) is int and (dtype in _FLOATS or dtype in _INTS) and -(2**31) <= x < 2**31:
            return scalar(x, TORCH_DTYPES[dtype])
        array, target = host_array(x, dtype)
        if not (array.flags.c_contiguous and array.flags.writeable):
            array = array.copy()  # torch.from_numpy needs its own writable, C-ordered memory
        return to_device(torch.from_numpy(array), TORCH_DTYPES[target])

    def promote(self, *values: Any) -> tuple[Any, ...]:
        # Most of a step's op calls combine tensors of one dtype, whose result dtype is
        # theirs: only their placement can need work.
        if values and isinstance(values[0], torch.Tensor):
            dtype = values[0].dtype
            if all(isinstance(v, torch.Tensor) and v.dtype is dtype for v in values):
                return tuple([from_host(v) for v in values])
        return super().promote(*values)

    def convert_to_numpy(self, x: Any) -> np.ndarray:
        if not isinstance(x, torch.Tensor):
            return np.asarray(x)
        x = x.detach().cpu()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.numpy().copy()

    def dtype_of(self, x: Any) -> str:
        return _NAMES.get(x.dtype) or standardize_dtype(x.dtype)

    def value_and_grad(self, function: Callable[..., Any], *args: Any) -> tuple[Any, tuple]:
        inputs = [self.convert_to_tensor(a).detach().requires_grad_(True) for a in args]
        with torch.enable_grad():
            value = function(*inputs)
            if not value.requires_grad:  # nothing reached the value: every gradient is zero
                return value.detach(), tuple(torch.zeros_like(x) for x in inputs)
            grads = torch.autograd.grad(value, inputs, allow_unused=True)
        zeros = [
            torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads, strict=True)
        ]
        return value.detach(), tuple(zeros)

    def create_variable(self, value: Any, *, trainable: bool, name: str) -> torch.nn.Parameter:
        tensor = self.convert_to_tensor(value).detach()
        strides = _variable_strides(tensor.shape)
        stored = torch.empty_strided(
            tensor.shape, strides, dtype=tensor.dtype, device=current_device()
        )
        stored.copy_(tensor)
        return torch.nn.Parameter(stored, requires_grad=trainable and stored.is_floating_point())

    def read_variable(self, handle: Any) -> torch.Tensor:
        return handle

    def assign_variable(self, handle: Any, value: Any) -> None:
        value = self.convert_to_tensor(value)
        if not torch.is_grad_enabled():  # the usual case (optimizer, metrics): no context
            handle.copy_(value)
            return
        with torch.no_grad():
            handle.copy_(value)

    def add_to_variable(self, handle: Any, delta: Any) -> bool:
        # Only where the in-place sum is exactly what assigning ``handle + delta`` gives:
        # a Python number of the variable's kind, or a tensor just like it.
        if type(delta) is float:
            if not handle.is_floating_point():
                return False
        elif type(delta) is int:
            if handle.dtype is torch.bool:
                return False
        else:
            same = isinstance(delta, torch.Tensor) and delta.dtype is handle.dtype
            if not (same and delta.shape == handle.shape and delta.device == handle.device):
                return False
        if not torch.is_grad_enabled():
            handle.add_(delta)
            return True
        with torch.no_grad():
            handle.add_(delta)
        return True

    def variables_value_and_grad(
        self, function: Callable[[], Any], handles: Sequence[Any], *, has_aux: bool = False
    ) -> tuple[Any, list[Any]]:
        wanted = [h for h in handles if h.is_floating_point()]
        frozen = [h for h in wanted if not h.requires_grad]
        for handle in frozen:
            handle.requires_grad_(True)
        try:
            with torch.enable_grad():
                output = function()
                value = output[0] if has_aux else output
                grads = iter(
                    torch.autograd.grad(value, wanted, allow_unused=True) if wanted else ()
                )
        finally:
            for handle in frozen:
                handle.requires_grad_(False)
        result = []
        for handle in handles:
            grad = next(grads) if handle.is_floating_point() else None
            result.append(torch.zeros_like(handle) if grad is None else grad)
        if has_aux:
            return (value.detach(), _detached(output[1])), result
        return value.detach(), result

    def devices(self) -> list[str]:
        gpus = [f"gpu:{i}" for i in range(torch.cuda.device_count())]
        return ["cpu:0", *gpus]

    def device_scope(self, name: str) -> AbstractContextManager[None]:
        kind, index = parse_device(name)
        return placed_on(torch.device("cpu" if kind == "cpu" else f"cuda:{index}"))

    layer_base = TorchLayer

    def compile_step(
        self, function: Callable[..., Any], handles: Sequence[Any], *, mode: str
    ) -> Callable[..., Any]:
        # torch runs eagerly by default: compiling is opt-in (jit_compile=True).
        return torch.compile(function) if mode == "jit" else function

    def no_grad(self) -> AbstractContextManager[None]:
        return torch.no_grad()

    def compile(self, function: Callable[..., Any]) -> Callable[..., Any]:
        return torch.compile(function)


def _variable_strides(shape: torch.Size) -> tuple[int, ...]:
    """The memory order of a variable of ``shape``: row-major, except for rank 4 and 5.

    Those are, in katman's layers, convolution kernels ``(*window, in, out)``, which torch's
    convolutions read as ``(out, in, *window)`` in channels-last memory: the output channels
    outermost, the input channels innermost. Stored in that order, the kernel's permutation
    for each call is a view instead of a copy, and its gradient comes back in the same order,
    which the optimizer's elementwise updates then read densely.
    """
    order = list(range(len(shape)))  # axes from the outermost in memory
    if len(shape) in (4, 5):
        order = [order[-1], *order[:-1]]
    strides = [0] * len(shape)
    step = 1
    for axis in reversed(order):
        strides[axis] = step
        step *= max(shape[axis], 1)
    return tuple(strides)


def _detached(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, (list, tuple)):
        return type(value)(_detached(v) for v in value)
    if isinstance(value, dict):
        return {k: _detached(v) for k, v in value.items()}
    return value

"""The torch backend puts new tensors on its default device (the first GPU when torch sees
one) or on the device of the innermost ``katman.device`` scope.

This machine has no GPU, so the default device is swapped for torch's ``meta`` device: a
kernel that forgot the placement makes a CPU tensor, and mixing it with ``meta`` tensors
fails as mixing it with CUDA tensors would. torch is installed whatever backend is active.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from katman.backends.torch import placement
from katman.backends.torch.backend import TorchBackend


@pytest.fixture
def on_meta():
    previous = placement.set_default_device("meta")
    yield TorchBackend()
    placement.set_default_device(previous)


def test_host_data_variables_and_creation_kernels_land_on_the_default_device(on_meta):
    backend, kernels = on_meta, on_meta.kernels
    made = {
        "array": backend.convert_to_tensor(np.ones((2, 3), np.float32)),
        "list": backend.convert_to_tensor([1, 2]),
        "float": backend.convert_to_tensor(0.5),
        "int": backend.convert_to_tensor(3, "int32"),
        "variable": backend.create_variable(np.zeros(4), trainable=True, name="v"),
        "cpu tensor": backend.convert_to_tensor(torch.ones(2)),  # a DataLoader's batch
        "zeros": kernels["zeros"]((2,)),
        "ones": kernels["ones"]((2,), "int32"),
        "full": kernels["full"]((2,), 7.0),
        "arange": kernels["arange"](4),
        "linspace": kernels["linspace"](0.0, 1.0, 5),
        "eye": kernels["eye"](3),
        "tri": kernels["tri"](3),
    }
    elsewhere = {name: str(t.device) for name, t in made.items() if t.device.type != "meta"}
    assert not elsewhere


def test_a_training_step_stays_on_the_default_device(on_meta):
    # Dense forward, loss and gradients: every operand must be on one device.
    backend, kernels = on_meta, on_meta.kernels
    kernel = backend.create_variable(np.ones((3, 2), np.float32), trainable=True, name="k")
    bias = backend.create_variable(np.zeros(2, np.float32), trainable=True, name="b")
    x = backend.convert_to_tensor(np.ones((4, 3), np.float32))

    def loss():
        y = kernels["affine"](x, kernel, bias)
        return kernels["mean"](kernels["square"](kernels["subtract"](y, 1.0)))

    value, grads = backend.variables_value_and_grad(loss, [kernel, bias])
    assert {t.device.type for t in (value, *grads)} == {"meta"}


def test_a_device_scope_overrides_the_default_and_restores_it(on_meta):
    backend = on_meta
    with backend.device_scope("cpu"):
        assert placement.current_device() == torch.device("cpu")
        inside = backend.convert_to_tensor(np.ones(2))
        made_by_torch = torch.zeros(2)  # torch's own factories follow the scope too
    assert inside.device.type == made_by_torch.device.type == "cpu"
    assert placement.current_device() == torch.device("meta")
    assert backend.convert_to_tensor(np.ones(2)).device.type == "meta"

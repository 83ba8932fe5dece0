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


def test_dropout_with_a_seed_on_the_device_never_reads_the_seed_back(on_meta):
    # A meta tensor has no data: reading the seed on the host would raise.
    backend = on_meta
    seed = backend.convert_to_tensor([7, 3], "int64")
    x = backend.convert_to_tensor(np.ones((4, 5), np.float32))
    assert backend.kernels["dropout"](x, 0.5, seed=seed).device.type == "meta"


def test_counter_uniform_draws_are_uniform_and_follow_the_seed():
    from katman.backends.torch.kernels.random import counter_uniform

    def draw(base, counter, shape=(200_000,)):
        return counter_uniform(torch.tensor([base, counter]), shape).numpy()

    first = draw(1234, 5)
    assert first.dtype == np.float32 and first.min() >= 0.0 and first.max() < 1.0
    assert abs(first.mean() - 0.5) < 0.005 and abs(first.var() - 1 / 12) < 0.002
    np.testing.assert_array_equal(draw(1234, 5), first)
    for other in (draw(1234, 6), draw(1235, 5)):
        assert abs(np.corrcoef(first, other)[0, 1]) < 0.01
        # The next counter's stream is not this one shifted by a position.
        assert abs(np.corrcoef(first[1:], other[:-1])[0, 1]) < 0.01
    counts = np.histogram(first, bins=10, range=(0, 1))[0]
    assert counts.min() > 0.95 * len(first) / 10
    assert draw(9, 0, (3, 4)).shape == (3, 4)

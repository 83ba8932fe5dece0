"""The torch backend stores convolution kernels in the memory order torch's convolutions
read them, so a call permutes a view instead of copying the kernel. The layout is invisible:
values, results and gradients are those of a plainly stored kernel. torch is installed
whatever backend is active.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from katman.backends.torch.backend import TorchBackend

# (Keras kernel shape, torch's convolution, its channels-last memory format)
CASES = [
    ((3, 3, 4, 8), F.conv2d, torch.channels_last),
    ((3, 1, 3, 2, 5), F.conv3d, torch.channels_last_3d),
]


@pytest.mark.parametrize(("shape", "torch_conv", "layout"), CASES)
def test_conv_kernels_are_stored_as_torch_reads_them_and_compute_as_before(
    shape, torch_conv, layout
):
    backend = TorchBackend()
    rng = np.random.default_rng(0)
    n = len(shape) - 2
    kernel_np = rng.standard_normal(shape).astype(np.float32)
    x_np = rng.standard_normal((2, *[6] * n, shape[-2])).astype(np.float32)

    kernel = backend.create_variable(kernel_np, trainable=True, name="kernel")
    np.testing.assert_array_equal(kernel.detach().numpy(), kernel_np)
    # Output channels outermost, input channels innermost: torch's (out, in, *window) view
    # of it is dense channels-last, so the convolution reads it without a copy.
    assert kernel.permute(n + 1, n, *range(n)).is_contiguous(memory_format=layout)

    x = backend.convert_to_tensor(x_np)

    def loss():
        y = backend.kernels["conv"](x, kernel, strides=1, padding="same")
        return backend.kernels["sum"](backend.kernels["square"](y))

    value, (grad,) = backend.variables_value_and_grad(loss, [kernel])

    reference = torch.from_numpy(kernel_np).requires_grad_(True)
    first = torch.from_numpy(x_np).movedim(-1, 1)
    y = torch_conv(first, reference.permute(n + 1, n, *range(n)), padding="same")
    expected = y.square().sum()
    expected.backward()
    torch.testing.assert_close(value, expected.detach(), rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(grad, reference.grad, rtol=1e-5, atol=1e-4)
    # The gradient comes back in the kernel's order: the optimizer's updates read it densely.
    assert grad.stride() == kernel.stride()


def test_other_variables_are_row_major_and_empty_shapes_are_fine():
    backend = TorchBackend()
    for shape in [(), (5,), (3, 4), (2, 3, 4), (3, 3, 0, 8), (0, 2, 2, 2, 2)]:
        values = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
        variable = backend.create_variable(values, trainable=True, name="v")
        assert tuple(variable.shape) == shape
        np.testing.assert_array_equal(variable.detach().numpy(), values)
        if len(shape) < 4:
            assert variable.is_contiguous()

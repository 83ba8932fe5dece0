"""The fused ops of ``katman.plugins.fused``: the active backend's kernel (torch has its
own) and the composite fallback both follow the NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

from katman import ops
from katman.backend import get_backend
from katman.plugins.fused import adam_update, affine, batch_norm_training, biased_conv


@pytest.mark.parametrize(
    ("x_shape", "with_bias", "dtypes"),
    [
        ((5, 3), True, ("float32", "float32")),
        ((5, 3), False, ("float32", "float32")),
        ((2, 4, 3), True, ("float32", "float32")),
        ((3,), True, ("float32", "float32")),
        ((5, 3), True, ("float16", "float32")),
        ((5, 3), True, ("int32", "float32")),
    ],
)
def test_affine_matches_its_reference_on_kernel_and_fallback(x_shape, with_bias, dtypes):
    rng = np.random.default_rng(3)
    x = rng.integers(-3, 4, size=x_shape).astype(dtypes[0])
    kernel = rng.normal(size=(3, 2)).astype(dtypes[1])
    bias = rng.normal(size=(2,)).astype(dtypes[1]) if with_bias else None
    expected = affine.reference(x.astype("float64"), kernel.astype("float64"), bias)

    def tensor(a):
        return None if a is None else ops.convert_to_tensor(a)

    for function in (affine, affine.fallback):
        got = function(tensor(x), tensor(kernel), tensor(bias))
        assert ops.dtype(got) == "float32"
        np.testing.assert_allclose(ops.convert_to_numpy(got), expected, rtol=1e-5, atol=1e-5)


def adam_state(seed, amsgrad):
    """Values, gradients, moments, second moments and (with amsgrad) their maxima, float32
    arrays of odd shapes, scalars included."""
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,), (), (2, 1, 3)]
    values, grads = ([rng.normal(size=s).astype("float32") for s in shapes] for _ in "ab")
    moments, seconds, hats = (
        [np.abs(rng.normal(size=s)).astype("float32") for s in shapes] for _ in "abc"
    )
    return values, grads, moments, seconds, hats if amsgrad else None


def assert_adam_state(updated, expected, to_numpy):
    for got, want in zip(updated, expected, strict=True):
        if want is None:
            assert got is None
            continue
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(to_numpy(g), w, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_fused_adam_update_matches_its_reference_on_kernel_and_fallback(amsgrad):
    # The active backend's own kernel (torch has a multi-tensor one) and the composite
    # fallback both follow the NumPy reference, scalars and odd shapes included.
    values, grads, moments, seconds, hats = adam_state(7, amsgrad)
    scalars = (0.003, 4.0, 0.85, 0.99, 1e-6)
    expected = adam_update.reference(values, grads, moments, seconds, hats, *scalars)

    def run(function):
        def tensors(arrays):
            return None if arrays is None else [ops.convert_to_tensor(a.copy()) for a in arrays]

        learning_rate, step = (ops.convert_to_tensor(s) for s in scalars[:2])
        state = [tensors(a) for a in (values, grads, moments, seconds, hats)]
        return function(*state, learning_rate, step, *scalars[2:])

    for result in (run(adam_update), run(adam_update.fallback)):
        assert_adam_state(result, expected, ops.convert_to_numpy)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_torch_adam_paths_for_cpu_and_gpu_agree_with_the_reference(amsgrad):
    # torch's kernel goes tensor by tensor on the CPU and multi-tensor on CUDA; both paths
    # run here on CPU tensors (torch is installed whatever the active backend).
    import torch

    from katman.backends.torch.kernels.fused import adam_multi_tensor, adam_per_tensor

    values, grads, moments, seconds, hats = adam_state(11, amsgrad)
    learning_rate, step, beta_1, beta_2, epsilon = 0.003, 4.0, 0.85, 0.99, 1e-6
    expected = adam_update.reference(
        values, grads, moments, seconds, hats, learning_rate, step, beta_1, beta_2, epsilon
    )
    alpha = learning_rate * np.sqrt(1 - beta_2**step) / (1 - beta_1**step)
    for update in (adam_multi_tensor, adam_per_tensor):
        state = [
            None if arrays is None else [torch.tensor(a) for a in arrays]
            for arrays in (values, grads, moments, seconds, hats)
        ]
        update(*state, torch.tensor(alpha, dtype=torch.float32), beta_1, beta_2, epsilon)
        updated = (state[0], state[2], state[3], state[4])
        assert_adam_state(updated, expected, lambda tensor: tensor.numpy())


@pytest.mark.parametrize(
    ("x_shape", "kernel_shape", "data_format", "padding", "with_bias"),
    [
        ((2, 6, 5, 3), (3, 2, 3, 4), "channels_last", "valid", True),
        ((2, 3, 6, 5), (3, 2, 3, 4), "channels_first", "same", True),
        ((2, 7, 3), (3, 3, 2), "channels_last", "same", False),
        ((2, 3, 7), (2, 3, 2), "channels_first", "valid", True),
    ],
)
def test_biased_conv_matches_its_reference_on_kernel_and_fallback(
    x_shape, kernel_shape, data_format, padding, with_bias
):
    rng = np.random.default_rng(5)
    x = rng.normal(size=x_shape).astype("float32")
    kernel = rng.normal(size=kernel_shape).astype("float32")
    bias = rng.normal(size=kernel_shape[-1:]).astype("float32") if with_bias else None
    arguments = {"strides": 1, "padding": padding, "data_format": data_format}
    expected = biased_conv.reference(x, kernel, bias, **arguments)

    def tensor(a):
        return None if a is None else ops.convert_to_tensor(a)

    for function in (biased_conv, biased_conv.fallback):
        got = function(tensor(x), tensor(kernel), tensor(bias), **arguments)
        np.testing.assert_allclose(ops.convert_to_numpy(got), expected, rtol=1e-4, atol=1e-4)


def test_biased_conv_names_a_bias_of_the_wrong_shape():
    x = ops.convert_to_tensor(np.ones((1, 4, 4, 2), "float32"))
    kernel = ops.convert_to_tensor(np.ones((3, 3, 2, 5), "float32"))
    with pytest.raises(ValueError, match="biased_conv"):
        biased_conv(x, kernel, ops.convert_to_tensor(np.ones((4,), "float32")))


@pytest.mark.parametrize(
    ("shape", "axis", "affine_params"),
    [
        ((16, 3), -1, True),
        ((4, 5, 6, 3), -1, True),
        ((4, 3, 5, 6), 1, True),
        ((6, 7, 2), -1, False),
    ],
)
def test_batch_norm_training_matches_its_reference_and_the_fallbacks_gradients(
    shape, axis, affine_params
):
    rng = np.random.default_rng(5)
    channels = shape[axis]
    x = (rng.normal(size=shape) * 3 + 2).astype("float32")
    scale = rng.uniform(0.5, 2, size=channels).astype("float32") if affine_params else None
    offset = rng.normal(size=channels).astype("float32") if affine_params else None
    moving_mean = rng.normal(size=channels).astype("float32")
    moving_variance = rng.uniform(0.5, 2, size=channels).astype("float32")
    weights = rng.normal(size=shape).astype("float32")  # makes every output's gradient differ
    settings = (0.9, axis, 1e-3)  # momentum, axis, epsilon
    expected = batch_norm_training.reference(
        x, scale, offset, moving_mean, moving_variance, *settings
    )

    def tensor(a):
        return None if a is None else ops.convert_to_tensor(a)

    gradients = []
    for function in (batch_norm_training, batch_norm_training.fallback):
        # Fresh copies each time: a kernel may update the averages it is given in place
        # (and a tensor made from a NumPy array may share its memory).
        averages = (tensor(moving_mean.copy()), tensor(moving_variance.copy()))
        got = function(tensor(x), tensor(scale), tensor(offset), *averages, *settings)
        for value, reference in zip(got, expected, strict=True):
            np.testing.assert_allclose(ops.convert_to_numpy(value), reference, rtol=1e-4, atol=1e-4)

        def loss(x, *params, function=function):
            params = list(params) if affine_params else [None, None]
            averages = (tensor(moving_mean.copy()), tensor(moving_variance.copy()))
            out, _, _ = function(x, *params, *averages, *settings)
            return ops.sum(ops.multiply(out, weights))

        args = [x, scale, offset] if affine_params else [x]
        _, grads = get_backend().value_and_grad(loss, *args)
        gradients.append([ops.convert_to_numpy(g) for g in grads])
    for kernel_grad, fallback_grad in zip(*gradients, strict=True):
        assert np.abs(fallback_grad).max() > 1e-3
        np.testing.assert_allclose(kernel_grad, fallback_grad, rtol=1e-3, atol=1e-4)


def test_batch_norm_training_names_an_input_without_a_channel_axis():
    x = ops.convert_to_tensor(np.ones(4, np.float32))
    average = ops.convert_to_tensor(np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="batch_norm_training: x needs a batch axis"):
        batch_norm_training(x, None, None, average, average, 0.9, -1, 1e-3)

"""The backend contract on the active backend: variables, gradients, devices, compilation,
symbolic tensors, and the errors an op raises for bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

import katman
from katman import ops
from katman.errors import OpArgumentError


def test_variable_holds_assigns_and_refuses_wrong_shapes():
    v = katman.Variable([1.0, 2.0], name="w")
    assert (v.name, v.shape, v.dtype, v.trainable, v.ndim) == ("w", (2,), "float32", True, 1)
    v.assign(np.array([3.0, 4.0]))
    v.assign_add([1.0, 1.0])
    v.assign_sub(0.5)
    np.testing.assert_allclose(v.numpy(), [3.5, 4.5])
    assert v.dtype == "float32"  # float64 input was cast to the variable's dtype
    with pytest.raises(ValueError, match=r"Variable 'w' has shape \(2,\); cannot assign .* \(3,\)"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="needs a shape"):
        katman.Variable(lambda shape, dtype: np.zeros(shape))
    created = katman.Variable(
        lambda shape, dtype: np.ones(shape, dtype), shape=(2, 3), dtype="float64"
    )
    assert (created.shape, created.dtype) == ((2, 3), "float64")
    assert np.asarray(created).sum() == 6


def test_value_and_grad_of_variables():
    w = katman.Variable([1.0, -2.0, 3.0])
    b = katman.Variable(0.5)
    counter = katman.Variable(3, trainable=False)
    x = np.array([2.0, 1.0, -1.0], dtype="float32")

    def loss():
        prediction = ops.add(ops.sum(ops.multiply(w.value, x)), b.value)
        return ops.square(prediction)

    value, (grad_w, grad_b, grad_counter) = katman.variables.value_and_grad(loss, [w, b, counter])
    prediction = (np.array([1.0, -2.0, 3.0]) * x).sum() + 0.5
    np.testing.assert_allclose(ops.convert_to_numpy(value), prediction**2, rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(grad_w), 2 * prediction * x, rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(grad_b), 2 * prediction, rtol=1e-6)
    assert ops.convert_to_numpy(grad_counter).tolist() == 0
    np.testing.assert_allclose(w.numpy(), [1.0, -2.0, 3.0])  # reading for gradients changes nothing


def test_value_and_grad_of_tensors():
    backend = katman.backend.get_backend()
    _, (gx, gy) = backend.value_and_grad(
        lambda x, y: ops.sum(ops.multiply(ops.exp(x), 2.0)), np.array([0.0, 1.0]), np.array([3.0])
    )
    np.testing.assert_allclose(ops.convert_to_numpy(gx), 2 * np.exp([0.0, 1.0]))
    assert ops.convert_to_numpy(gy).tolist() == [0.0]


def test_devices_and_device_scope():
    backend = katman.backend.get_backend()
    assert backend.devices()[0] == "cpu:0"
    with katman.device("cpu"):
        x = ops.add(ops.convert_to_tensor([1.0]), 1.0)
    assert ops.convert_to_numpy(x).tolist() == [2.0]
    with pytest.raises(ValueError, match="Unknown device 'npu'"):
        katman.device("npu")


def test_compiled_function_matches_eager():
    backend = katman.backend.get_backend()

    def step(x, y):
        return ops.mean(ops.square(ops.subtract(x, y)), axis=-1)

    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    y = np.zeros((4, 3), dtype="float32")
    compiled = backend.compile(step)
    np.testing.assert_allclose(
        ops.convert_to_numpy(compiled(ops.convert_to_tensor(x), ops.convert_to_tensor(y))),
        ops.convert_to_numpy(step(x, y)),
        rtol=1e-6,
    )


@pytest.mark.parametrize("mode", ["eager", "auto", "jit"])
def test_a_compiled_step_takes_its_batch_as_step_input_gives_it(mode):
    # Whatever step_input returns for a host batch (a tensor, or the NumPy array itself
    # where the compiled step moves it), the step computes the same values; an eager step
    # always gets tensors.
    backend = katman.backend.get_backend()
    batch = (np.arange(6, dtype="float32").reshape(2, 3), np.array([1, 0], dtype="int64"))
    inputs = tuple(backend.step_input(value, mode=mode) for value in batch)
    if mode == "eager":
        assert all(backend.is_tensor(value) for value in inputs)
    for value, given in zip(inputs, batch, strict=True):
        assert backend.is_tensor(value) or isinstance(value, np.ndarray)
        np.testing.assert_array_equal(ops.convert_to_numpy(value), given)
    weight = katman.Variable(np.ones((3,), "float32"))

    def step(batch):
        x, y = batch
        with backend.no_grad():  # as training steps assign (optimizer, metrics)
            weight.assign(ops.add(weight.value, ops.sum(x, axis=0)))
        return ops.add(ops.sum(x), ops.cast(ops.sum(y), "float32"))

    compiled = backend.compile_step(step, [weight.handle], mode=mode)
    assert float(ops.convert_to_numpy(compiled(inputs))) == 16.0
    np.testing.assert_array_equal(ops.convert_to_numpy(weight.value), [4.0, 6.0, 8.0])


def test_symbolic_tensors_flow_through_ops_without_a_backend_call():
    x = katman.KerasTensor((None, 3), "float16")
    y = ops.add(x, 1)
    assert (y.shape, y.dtype) == ((None, 3), "float16")
    assert ops.sum(x, axis=0).shape == (3,)
    assert ops.mean(katman.KerasTensor((2, None), "int32"), axis=0).dtype == "float32"
    z = (x * 2.0 - x) / 3
    assert (z.shape, z.dtype) == ((None, 3), "float16")
    with pytest.raises(ValueError, match="non-negative ints or None"):
        katman.KerasTensor((2, -1))


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: ops.add(np.ones((2, 3)), np.ones(4)),
         r"Op 'add' cannot run on \(float64\[2, 3\], float64\[4\]\) with backend"),
        (lambda: ops.sum(np.ones((2, 3)), axis=5),
         r"Op 'sum' cannot run on \(float64\[2, 3\], axis=5\)"),
        (lambda: ops.add(katman.KerasTensor((2, 3)), katman.KerasTensor((4,))),
         r"Op 'add' cannot run on \(float32\[2, 3\], float32\[4\]\) with symbolic inputs"),
        (lambda: ops.multiply(np.ones(2), "text"), r"Op 'multiply' cannot run on .*'text'"),
    ],
)  # fmt: skip
def test_bad_arguments_name_the_op_and_what_it_got(call, pattern):
    with pytest.raises(OpArgumentError, match=pattern) as caught:
        call()
    assert isinstance(caught.value, ValueError)
    assert caught.value.__cause__ is not None

"""What a training step reuses from one call to the next stays right when things change:
in-place additions to counters and totals, the walk over a model's layers, the input shape
a layer last accepted, and a loss reduced over an empty batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import katman
from katman import layers, ops
from katman.backends.torch.backend import TorchBackend
from katman.errors import ShapeError
from katman.layers import InputSpec


def test_assign_add_gives_what_assigning_the_sum_gives():
    v = katman.Variable([1.0, 2.0], name="w")
    v.assign_add(0.5)
    v.assign_add(2)
    v.assign_add(ops.convert_to_tensor(np.array([1.0, 1.0], "float32")))
    np.testing.assert_allclose(v.numpy(), [4.5, 5.5])
    assert v.dtype == "float32"
    counter = katman.Variable(0, dtype="int64", trainable=False)
    for _ in range(3):
        counter.assign_add(1)
    assert (int(counter.numpy()), counter.dtype) == (3, "int64")
    for delta in (np.ones((2, 2), "float32"), ops.convert_to_tensor(np.ones((2, 2), "float32"))):
        with pytest.raises(ValueError, match=r"Variable 'w' has shape \(2,\); cannot assign"):
            v.assign_add(delta)
    np.testing.assert_allclose(v.numpy(), [4.5, 5.5])


def test_torch_adds_in_place_only_where_that_equals_assigning_the_sum():
    backend = TorchBackend()
    w = backend.create_variable(np.array([1.0, 2.0], "float32"), trainable=True, name="w")
    with torch.enable_grad():  # a parameter that requires grad, while gradients are recorded
        assert backend.add_to_variable(w, 0.5)
    assert w.tolist() == [1.5, 2.5] and w.grad_fn is None
    counter = backend.create_variable(np.int64(3), trainable=False, name="counter")
    assert backend.add_to_variable(counter, 1) and int(counter) == 4
    flag = backend.create_variable(np.bool_(True), trainable=False, name="flag")
    refused = [
        (counter, 0.5),  # a float into an int: the sum is rounded by the general path
        (flag, 1),
        (w, torch.ones(2, dtype=torch.float64)),
        (w, torch.ones(1)),  # broadcast: the general path checks the shape
        (w, [1.0, 1.0]),
    ]
    for handle, delta in refused:
        assert not backend.add_to_variable(handle, delta), (handle, delta)
    assert (w.tolist(), int(counter), bool(flag)) == ([1.5, 2.5], 4, True)


def test_weight_lists_follow_layers_added_and_removed_after_training():
    model = katman.Sequential([katman.Input((4,)), layers.Dense(3), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 4), "float32"), np.zeros((8, 2), "float32")
    model.fit(x, y, epochs=1, verbose=0)
    assert [w.shape for w in model.trainable_weights] == [(4, 3), (3,), (3, 2), (2,)]
    model.pop()
    assert [w.shape for w in model.trainable_weights] == [(4, 3), (3,)]
    model.add(layers.Dense(5, kernel_regularizer="l2"))
    model(x)
    assert [w.shape for w in model.trainable_weights] == [(4, 3), (3,), (3, 5), (5,)]
    assert len(model.losses) == 1  # the new layer's penalty


class Penalty(layers.Layer):
    """No weights: adds the mean of its input to the losses and returns the input."""

    def call(self, inputs):
        self.add_loss(ops.mean(inputs))
        return inputs


class GrowsWhenAsked(layers.Layer):
    """Passes its input through until ``grow`` is set; from then on, through a layer held
    from that call on."""

    def __init__(self, make) -> None:
        super().__init__()
        self.make = make
        self.grow = False
        self.extra = None

    def call(self, inputs):
        if self.grow and self.extra is None:
            self.extra = self.make()
        return inputs if self.extra is None else self.extra(inputs)


@pytest.mark.parametrize(
    ("make", "weights", "losses"),
    [(lambda: layers.Dense(2, activity_regularizer="l1"), [(2, 2), (2,)], 1), (Penalty, [], 1)],
)
def test_a_layer_held_after_the_first_walk_is_found_by_the_next(make, weights, losses):
    grows = GrowsWhenAsked(make)
    outer = katman.Sequential([katman.Input((2,)), grows])
    x = np.ones((3, 2), "float32")
    outer(x)
    assert outer.trainable_weights == [] and outer.losses == []
    grows.grow = True
    outer(x)
    assert [w.shape for w in outer.trainable_weights] == weights
    assert len(outer.losses) == losses


def test_a_layer_rechecks_input_shapes_after_accepting_one():
    dense = layers.Dense(3)
    dense(np.ones((2, 4), "float32"))
    dense(np.ones((5, 4), "float32"))  # another batch size fits the same spec
    with pytest.raises(ShapeError, match="axis -1 of size 4"):
        dense(np.ones((2, 5), "float32"))
    assert tuple(dense(np.ones((2, 4), "float32")).shape) == (2, 3)
    dense.input_spec = InputSpec(ndim=3)
    with pytest.raises(ShapeError, match="expected rank 3"):
        dense(np.ones((2, 4), "float32"))


def test_losses_over_an_empty_batch_are_zero():
    loss = katman.losses.SparseCategoricalCrossentropy()
    value = loss(np.zeros((0, 3), "int32"), np.full((0, 3, 4), 0.25, "float32"))
    assert float(ops.convert_to_numpy(value)) == 0.0
    y_pred = np.random.default_rng(0).dirichlet(np.ones(4), size=(2, 3)).astype("float32")
    y_true = np.array([[0, 1, 2], [3, 0, 1]], "int32")
    picked = np.take_along_axis(y_pred, y_true[..., None], -1)[..., 0]
    value = loss(y_true, y_pred)
    np.testing.assert_allclose(ops.convert_to_numpy(value), -np.log(picked).mean(), rtol=1e-5)

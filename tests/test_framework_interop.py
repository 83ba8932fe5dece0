"""A katman model inside each framework's own code, and ``train_step`` overridden the way
Keras's "customizing fit" guide writes it for that framework. Each test runs the check
written for the active backend's framework (CI runs the suite once per backend)."""

from __future__ import annotations

import numpy as np

import katman
from katman import layers

BACKEND = katman.config.backend()
MODULE_CHECKS = {}
GUIDE_CHECKS = {}


def check(table, name):
    def register(function):
        table[name] = function
        return function

    return register


def regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], "float32") + 0.3).astype("float32")


def small_model():
    return katman.Sequential(
        [katman.Input(shape=(4,)), layers.Dense(8, activation="relu"), layers.Dense(1)]
    )


def logs_of(model, x, y):
    return model.evaluate(x, y, verbose=0, return_dict=True)


# -- torch -----------------------------------------------------------------------------------
@check(MODULE_CHECKS, "torch")
def torch_module_with_torch_optimizer():
    import torch

    model = small_model()
    assert isinstance(model, torch.nn.Module)
    parameters = list(model.parameters())
    assert len(parameters) == 4
    assert {id(p) for p in parameters} == {id(v.handle) for v in model.weights}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = (torch.from_numpy(a) for a in regression_data())
    first = None
    for _ in range(20):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        first = first if first is not None else loss.item()
    assert loss.item() < first / 2
    assert "layers_0.torch_params.variable" in "".join(model.state_dict()) or model.state_dict()


@check(GUIDE_CHECKS, "torch")
def torch_guide_train_step():
    import torch

    class CustomModel(katman.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable_weights = list(self.trainable_weights)
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    check_guide_model(CustomModel)


# -- jax -------------------------------------------------------------------------------------
@check(MODULE_CHECKS, "jax")
def jax_stateless_call_composes_with_jit_and_grad():
    import jax
    import jax.numpy as jnp

    model = small_model()
    x, y = regression_data()
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    @jax.jit
    def loss_fn(trainable, x, y):
        y_pred, _ = model.stateless_call(trainable, non_trainable, x)
        return jnp.mean((y_pred - y) ** 2)

    before = [np.array(v) for v in trainable]
    grads = jax.grad(loss_fn)(trainable, x, y)
    assert [g.shape for g in grads] == [v.shape for v in model.trainable_variables]
    start = loss_fn(trainable, x, y)
    for _ in range(30):
        grads = jax.grad(loss_fn)(trainable, x, y)
        trainable = [w - 0.05 * g for w, g in zip(trainable, grads, strict=True)]
    assert loss_fn(trainable, x, y) < start / 2
    for variable, original in zip(model.trainable_variables, before, strict=True):
        np.testing.assert_array_equal(variable.numpy(), original)  # untouched: stateless


@check(GUIDE_CHECKS, "jax")
def jax_guide_train_step():
    import jax

    class CustomModel(katman.Model):
        def compute_loss_and_updates(
            self, trainable_variables, non_trainable_variables, x, y, training=False
        ):
            y_pred, non_trainable_variables = self.stateless_call(
                trainable_variables, non_trainable_variables, x, training=training
            )
            loss = self.compute_loss(x, y, y_pred)
            return loss, (y_pred, non_trainable_variables)

        def train_step(self, state, data):
            trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = (
                state
            )
            x, y = data
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (loss, (y_pred, non_trainable_variables)), grads = grad_fn(
                trainable_variables, non_trainable_variables, x, y, training=True
            )
            trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable_variables
            )
            new_metrics_vars, logs = [], {}
            for metric in self.metrics:
                start = len(new_metrics_vars)
                this_metric_vars = metrics_variables[start : start + len(metric.variables)]
                if metric.name == "loss":
                    this_metric_vars = metric.stateless_update_state(this_metric_vars, loss)
                else:
                    this_metric_vars = metric.stateless_update_state(this_metric_vars, y, y_pred)
                logs[metric.name] = metric.stateless_result(this_metric_vars)
                new_metrics_vars += this_metric_vars
            state = (
                trainable_variables,
                non_trainable_variables,
                optimizer_variables,
                new_metrics_vars,
            )
            return logs, state

    check_guide_model(CustomModel)


# -- tensorflow ------------------------------------------------------------------------------
@check(MODULE_CHECKS, "tensorflow")
def tensorflow_module_and_gradient_tape():
    import tensorflow as tf

    model = small_model()
    assert isinstance(model, tf.Module)
    x, y = regression_data()
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - y) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    assert [tuple(g.shape) for g in grads] == [v.shape for v in model.trainable_variables]
    checkpoint = tf.train.Checkpoint(model=model)
    assert len(checkpoint._trackable_children()) == 1


@check(GUIDE_CHECKS, "tensorflow")
def tensorflow_guide_train_step():
    import tensorflow as tf

    class CustomModel(katman.Model):
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)
            self.optimizer.apply(gradients, trainable_vars)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    check_guide_model(CustomModel)


def check_guide_model(model_class):
    """The guide's model: built from a graph, compiled, fit; it must learn."""
    inputs = katman.Input(shape=(4,))
    outputs = layers.Dense(1)(layers.Dense(8, activation="relu")(inputs))
    model = model_class(inputs, outputs)
    assert isinstance(model, model_class)
    model.compile(optimizer=katman.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    x, y = regression_data(128)
    start = logs_of(model, x, y)["loss"]
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert ("loss" in history.history and "mean_absolute_error" in history.history) or (
        "mae" in history.history
    )
    assert logs_of(model, x, y)["loss"] < start / 2


def test_model_works_inside_framework_code():
    MODULE_CHECKS[BACKEND]()


def test_train_step_written_as_in_the_keras_guide():
    GUIDE_CHECKS[BACKEND]()

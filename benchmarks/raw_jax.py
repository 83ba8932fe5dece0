"""The benchmark's models and training written by hand in JAX: parameters as a list of
arrays, a ``jax.jit``-compiled step with a hand-written Adam whose whole state (parameters,
moments, batch-normalization statistics, step count, dropout key, loss sum) is donated, and
NumPy batches sliced per step as ``fit`` does. JAX's defaults are kept (``jax_enable_x64``
off; arrays on the default device, the GPU when JAX has one).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import workload
from benchmarks.workload import BATCH_SIZE, BETA_1, BETA_2, EPSILON, LEARNING_RATE, NUM_CLASSES

State = dict[str, Any]


def _conv(x: jax.Array, kernel: jax.Array, bias: jax.Array) -> jax.Array:
    y = jax.lax.conv_general_dilated(
        x, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    return jax.nn.relu(y + bias)


def _max_pool(x: jax.Array) -> jax.Array:
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def _conv_bn(
    x: jax.Array, kernel: jax.Array, bn: list[jax.Array], stride: int, training: bool
) -> tuple[jax.Array, list[jax.Array]]:
    """A bias-free "same" convolution and batch normalization; also the BN's moving
    statistics, updated from the batch when training (Keras's rule and defaults)."""
    gamma, beta, moving_mean, moving_variance = bn
    y = jax.lax.conv_general_dilated(
        x, kernel, (stride, stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    if training:
        mean, variance = y.mean(axis=(0, 1, 2)), y.var(axis=(0, 1, 2))
        keep = workload.BN_MOMENTUM
        moving_mean = moving_mean * keep + mean * (1.0 - keep)
        moving_variance = moving_variance * keep + variance * (1.0 - keep)
    else:
        mean, variance = moving_mean, moving_variance
    y = (y - mean) * jax.lax.rsqrt(variance + workload.BN_EPSILON) * gamma + beta
    return y, [gamma, beta, moving_mean, moving_variance]


def resnet(
    layers: dict[str, list[jax.Array]], x: jax.Array, training: bool, model: str = "resnet"
) -> tuple[jax.Array, dict[str, list[jax.Array]]]:
    """The ResNet's probabilities and its layers with updated BN statistics. ``layers``
    maps each name of :func:`workload.resnet_layers` to its weights."""
    out = dict(layers)

    def conv_bn(h: jax.Array, name: str, bn_name: str, stride: int) -> jax.Array:
        h, out[bn_name] = _conv_bn(h, layers[name][0], layers[bn_name], stride, training)
        return h

    size = workload.RESNET_SIZES[model]
    h = jax.nn.relu(conv_bn(x, "stem_conv", "stem_bn", 1))
    for stage in range(len(size.stages)):
        for block in range(size.blocks):
            prefix, stride = f"s{stage}b{block}", size.block_stride(stage, block)
            shortcut = h
            if f"{prefix}_proj" in layers:
                shortcut = conv_bn(h, f"{prefix}_proj", f"{prefix}_proj_bn", stride)
            y = jax.nn.relu(conv_bn(h, f"{prefix}_conv1", f"{prefix}_bn1", stride))
            y = conv_bn(y, f"{prefix}_conv2", f"{prefix}_bn2", 1)
            h = jax.nn.relu(y + shortcut)
    kernel, bias = layers["head"]
    return jax.nn.softmax(h.mean(axis=(1, 2)) @ kernel + bias), out


def forward(
    params: Any, x: jax.Array, key: jax.Array | None, *, model: str
) -> tuple[jax.Array, Any]:
    """Class probabilities and the parameters, the ResNet's with its BN statistics updated;
    dropout (convnet) is applied and BN (resnet) normalizes with the batch's statistics
    when ``key`` is given (training)."""
    if model in workload.RESNETS:
        return resnet(params, x, training=key is not None, model=model)
    return _probabilities(params, x, key, model=model), params


def _probabilities(
    params: list[jax.Array], x: jax.Array, key: jax.Array | None, *, model: str
) -> jax.Array:
    if model in workload.MLPS:
        h = jax.nn.relu(x @ params[0] + params[1])
        h = jax.nn.relu(h @ params[2] + params[3])
        return jax.nn.softmax(h @ params[4] + params[5])
    h = _max_pool(_conv(x, params[0], params[1]))
    h = _max_pool(_conv(h, params[2], params[3]))
    h = h.reshape(h.shape[0], -1)
    if key is not None:
        keep = jax.random.bernoulli(key, 0.5, h.shape)
        h = jnp.where(keep, h / 0.5, 0.0)
    return jax.nn.softmax(h @ params[4] + params[5])


def cross_entropy(probabilities: jax.Array, labels: jax.Array) -> jax.Array:
    """Keras's sparse categorical cross-entropy of probabilities."""
    probabilities = probabilities / probabilities.sum(axis=-1, keepdims=True)
    probabilities = jnp.clip(probabilities, EPSILON, 1.0 - EPSILON)
    picked = jnp.take_along_axis(jnp.log(probabilities), labels[:, None].astype(jnp.int32), 1)
    return -jnp.mean(picked)


def train_step(state: State, x: jax.Array, y: jax.Array, *, model: str) -> tuple[State, Any]:
    key, dropout_key = jax.random.split(state["key"])

    def loss_of(params: Any) -> tuple[jax.Array, Any]:
        probabilities, params = forward(params, x, dropout_key, model=model)
        return cross_entropy(probabilities, y), params

    (loss, updated), grads = jax.value_and_grad(loss_of, has_aux=True)(state["params"])
    step = state["step"] + 1
    t = step.astype(jnp.float32)
    alpha = LEARNING_RATE * jnp.sqrt(1.0 - BETA_2**t) / (1.0 - BETA_1**t)
    m = jax.tree.map(lambda m, g: m + (g - m) * (1.0 - BETA_1), state["m"], grads)
    v = jax.tree.map(lambda v, g: v + (g * g - v) * (1.0 - BETA_2), state["v"], grads)
    # ``updated`` holds the ResNet's new BN statistics; their gradient is zero, so Adam
    # leaves them exactly as the forward pass set them.
    params = jax.tree.map(
        lambda p, m_, v_: p - alpha * m_ / (jnp.sqrt(v_) + EPSILON), updated, m, v
    )
    new_state = {
        "params": params,
        "m": m,
        "v": v,
        "step": step,
        "key": key,
        "loss_sum": state["loss_sum"] + loss,
    }
    return new_state, loss


def startup() -> None:
    key = jax.random.PRNGKey(0)
    for shapes in (
        [(784, 512), (512, 512), (512, NUM_CLASSES)],
        [(3, 3, 1, 32), (3, 3, 32, 64), (5 * 5 * 64, NUM_CLASSES)],
    ):
        params = []
        for shape in shapes:
            key, sub = jax.random.split(key)
            params += [jax.random.uniform(sub, shape), jnp.zeros(shape[-1])]
        jax.block_until_ready(params)


class Runner:
    def __init__(self, model: str, weights: list[np.ndarray]) -> None:
        params: Any = [jnp.asarray(w) for w in weights]
        if model in workload.RESNETS:
            params = {name: arrays for name, arrays in workload.by_layer(model, params)}
        self.state: State = {
            "params": params,
            "m": jax.tree.map(jnp.zeros_like, params),
            "v": jax.tree.map(jnp.zeros_like, params),
            "step": jnp.zeros((), jnp.int32),
            "key": jax.random.PRNGKey(0),
            "loss_sum": jnp.zeros((), jnp.float32),
        }
        self.step = jax.jit(partial(train_step, model=model), donate_argnums=0)
        self.forward = jax.jit(partial(forward, key=None, model=model))

    def _predict(self, params: Any, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.forward(params, x)[0])

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        return self._predict(self.state["params"], x)

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int, on_epoch_end: Callable) -> float:
        steps = len(x) // BATCH_SIZE
        mean = 0.0
        for _ in range(epochs):
            self.state["loss_sum"] = jnp.zeros((), jnp.float32)
            order = np.random.permutation(len(x))
            for step in range(steps):
                index = order[step * BATCH_SIZE : (step + 1) * BATCH_SIZE]
                self.state, _ = self.step(self.state, x[index], y[index])
            mean = float(self.state["loss_sum"]) / steps
            on_epoch_end()
        return mean

    def train_on_batch(self, x: np.ndarray, y: np.ndarray) -> float:
        self.state, loss = self.step(self.state, x, y)
        return float(loss)

    def predict(self, x: np.ndarray) -> np.ndarray:
        params = self.state["params"]
        outputs = [
            self._predict(params, x[start : start + BATCH_SIZE])
            for start in range(0, len(x), BATCH_SIZE)
        ]
        return np.concatenate(outputs)

    def sync(self) -> None:
        jax.block_until_ready(self.state["params"])

"""The benchmark's models and training written by hand in JAX: parameters as a list of
arrays, a ``jax.jit``-compiled step with a hand-written Adam whose whole state (parameters,
moments, step count, dropout key, loss sum) is donated, and NumPy batches sliced per step as
``fit`` does. JAX's defaults are kept (``jax_enable_x64`` off).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.workload import BATCH_SIZE, BETA_1, BETA_2, EPSILON, LEARNING_RATE, NUM_CLASSES

State = dict[str, Any]


def _conv(x: jax.Array, kernel: jax.Array, bias: jax.Array) -> jax.Array:
    y = jax.lax.conv_general_dilated(
        x, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    return jax.nn.relu(y + bias)


def _max_pool(x: jax.Array) -> jax.Array:
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def forward(
    params: list[jax.Array], x: jax.Array, key: jax.Array | None, *, model: str
) -> jax.Array:
    """Class probabilities; dropout (convnet) is applied when ``key`` is given."""
    if model == "mlp":
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

    def loss_of(params: list[jax.Array]) -> jax.Array:
        return cross_entropy(forward(params, x, dropout_key, model=model), y)

    loss, grads = jax.value_and_grad(loss_of)(state["params"])
    step = state["step"] + 1
    t = step.astype(jnp.float32)
    alpha = LEARNING_RATE * jnp.sqrt(1.0 - BETA_2**t) / (1.0 - BETA_1**t)
    m = [m + (g - m) * (1.0 - BETA_1) for m, g in zip(state["m"], grads, strict=True)]
    v = [v + (g * g - v) * (1.0 - BETA_2) for v, g in zip(state["v"], grads, strict=True)]
    params = [
        p - alpha * m_ / (jnp.sqrt(v_) + EPSILON)
        for p, m_, v_ in zip(state["params"], m, v, strict=True)
    ]
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
        params = [jnp.asarray(w) for w in weights]
        self.state: State = {
            "params": params,
            "m": [jnp.zeros_like(p) for p in params],
            "v": [jnp.zeros_like(p) for p in params],
            "step": jnp.zeros((), jnp.int32),
            "key": jax.random.PRNGKey(0),
            "loss_sum": jnp.zeros((), jnp.float32),
        }
        self.step = jax.jit(partial(train_step, model=model), donate_argnums=0)
        self.forward = jax.jit(partial(forward, key=None, model=model))

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.forward(self.state["params"], x))

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
            np.asarray(self.forward(params, x[start : start + BATCH_SIZE]))
            for start in range(0, len(x), BATCH_SIZE)
        ]
        return np.concatenate(outputs)

    def sync(self) -> None:
        jax.block_until_ready(self.state["params"])

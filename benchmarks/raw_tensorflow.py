"""The benchmark's models and training written by hand in TensorFlow, without Keras: layers
as tf ops on ``tf.Variable``s, a ``tf.function`` step (no AutoGraph, batch dimension left
open so it traces once) with ``GradientTape`` and a hand-written Adam, and NumPy batches
sliced per step as ``fit`` does.

TensorFlow imports Keras (and JAX) at start-up when they are installed; they are hidden while
it imports, as katman's TensorFlow backend does, so this process holds TensorFlow alone.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

from benchmarks import workload
from benchmarks.workload import BATCH_SIZE, BETA_1, BETA_2, EPSILON, LEARNING_RATE, NUM_CLASSES

_HIDDEN = [name for name in ("jax", "keras", "tf_keras") if name not in sys.modules]
for _name in _HIDDEN:
    sys.modules[_name] = None  # type: ignore[assignment]  # makes `import name` fail
try:
    import tensorflow as tf
finally:
    for _name in _HIDDEN:
        if sys.modules.get(_name, 0) is None:
            del sys.modules[_name]


def forward(params: list[tf.Variable], x: tf.Tensor, *, model: str, training: bool) -> tf.Tensor:
    """Class probabilities; dropout (convnet) only when ``training``."""
    if model in workload.MLPS:
        h = tf.nn.relu(tf.matmul(x, params[0]) + params[1])
        h = tf.nn.relu(tf.matmul(h, params[2]) + params[3])
        return tf.nn.softmax(tf.matmul(h, params[4]) + params[5])
    h = tf.nn.relu(tf.nn.conv2d(x, params[0], 1, "VALID") + params[1])
    h = tf.nn.max_pool2d(h, 2, 2, "VALID")
    h = tf.nn.relu(tf.nn.conv2d(h, params[2], 1, "VALID") + params[3])
    h = tf.nn.max_pool2d(h, 2, 2, "VALID")
    h = tf.reshape(h, (-1, 5 * 5 * 64))
    if training:
        h = tf.nn.dropout(h, rate=0.5)
    return tf.nn.softmax(tf.matmul(h, params[4]) + params[5])


def cross_entropy(probabilities: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Keras's sparse categorical cross-entropy of probabilities."""
    probabilities = probabilities / tf.reduce_sum(probabilities, axis=-1, keepdims=True)
    probabilities = tf.clip_by_value(probabilities, EPSILON, 1.0 - EPSILON)
    picked = tf.gather(tf.math.log(probabilities), tf.cast(labels, tf.int32), batch_dims=1)
    return -tf.reduce_mean(picked)


def startup() -> None:
    for shapes in (
        [(784, 512), (512, 512), (512, NUM_CLASSES)],
        [(3, 3, 1, 32), (3, 3, 32, 64), (5 * 5 * 64, NUM_CLASSES)],
    ):
        for shape in shapes:
            tf.Variable(tf.random.uniform(shape))
            tf.Variable(tf.zeros(shape[-1]))


class Runner:
    def __init__(self, model: str, weights: list[np.ndarray]) -> None:
        self.model = model
        self.params = [tf.Variable(w) for w in weights]
        self.m = [tf.Variable(tf.zeros_like(w)) for w in weights]
        self.v = [tf.Variable(tf.zeros_like(w)) for w in weights]
        self.iterations = tf.Variable(0, dtype=tf.int64)
        self.loss_sum = tf.Variable(0.0)
        spec = [
            tf.TensorSpec((None, *workload.INPUT_SHAPES[model]), tf.float32),
            tf.TensorSpec((None,), tf.int32),
        ]
        self.step = tf.function(self._step, input_signature=spec, autograph=False)
        self.forward = tf.function(
            lambda x: forward(self.params, x, model=model, training=False),
            input_signature=spec[:1],
            autograph=False,
        )

    def _step(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = cross_entropy(forward(self.params, x, model=self.model, training=True), y)
        grads = tape.gradient(loss, self.params)
        self.iterations.assign_add(1)
        t = tf.cast(self.iterations, tf.float32)
        alpha = LEARNING_RATE * tf.sqrt(1.0 - BETA_2**t) / (1.0 - BETA_1**t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m.assign_add((g - m) * (1.0 - BETA_1))
            v.assign_add((tf.square(g) - v) * (1.0 - BETA_2))
            p.assign_sub(alpha * m / (tf.sqrt(v) + EPSILON))
        self.loss_sum.assign_add(loss)
        return loss

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x).numpy()

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int, on_epoch_end: Callable) -> float:
        steps = len(x) // BATCH_SIZE
        mean = 0.0
        for _ in range(epochs):
            self.loss_sum.assign(0.0)
            order = np.random.permutation(len(x))
            for step in range(steps):
                index = order[step * BATCH_SIZE : (step + 1) * BATCH_SIZE]
                self.step(x[index], y[index])
            mean = float(self.loss_sum.numpy()) / steps
            on_epoch_end()
        return mean

    def train_on_batch(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.step(x, y).numpy())

    def predict(self, x: np.ndarray) -> np.ndarray:
        outputs = [
            self.forward(x[start : start + BATCH_SIZE]).numpy()
            for start in range(0, len(x), BATCH_SIZE)
        ]
        return np.concatenate(outputs)

    def sync(self) -> None:
        self.params[-1].numpy()

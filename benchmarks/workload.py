"""What every variant of the training benchmark runs: the models, the data, the initial
weights and the step counts, defined once so that katman, the raw framework and Keras 3 all
train the same function on the same arrays.

Only NumPy is imported here: a variant's process imports its own framework and nothing else.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

BATCH_SIZE = 128
LEARNING_RATE = 1e-3
#: Keras's epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON] before the log, and
#: Adam adds it to the root of the second moment.
EPSILON = 1e-7
BETA_1, BETA_2 = 0.9, 0.999
NUM_CLASSES = 10
#: the models every run measures; the ResNets are measured on request (``--models``) and
#: ``resnet`` also with ``--gpu``
MODELS = ("mlp", "convnet")
RESNETS = ("resnet", "tiny_resnet")
GPU_MODELS = (*MODELS, "resnet")
ALL_MODELS = (*MODELS, "tiny_mlp", *RESNETS)
#: The width of both hidden layers of the MLPs. ``tiny_mlp`` takes the same inputs and
#: labels as ``mlp`` through layers 32 times narrower: its CPU step is mostly the per-step
#: work on the host (the batch's slicing and transfer, dispatch, the loss, the optimizer's
#: and the loop's own Python), which is what a GPU step of ``mlp`` is made of.
MLP_WIDTHS = {"mlp": 512, "tiny_mlp": 16}
MLPS = tuple(MLP_WIDTHS)
#: Input shape of one sample, per model (channels last, as Keras).
INPUT_SHAPES = {
    "mlp": (784,),
    "tiny_mlp": (784,),
    "convnet": (28, 28, 1),
    "resnet": (32, 32, 3),
    "tiny_resnet": (4, 4, 3),
}


@dataclass(frozen=True)
class ResNetSize:
    """A ResNet-style model: a 3x3 stem convolution of ``stem`` filters, then per stage
    (filters, stride of its first block) ``blocks`` basic blocks (two 3x3 convolutions with
    batch normalization; a 1x1 projection where the shape changes), global average pooling
    and a softmax Dense. Convolutions have no bias, as in ResNet."""

    stem: int
    stages: tuple[tuple[int, int], ...]
    blocks: int = 2

    def block_stride(self, stage: int, block: int) -> int:
        return self.stages[stage][1] if block == 0 else 1


#: ``resnet`` is the GPU comparison's model. ``tiny_resnet`` has the same layers, eight
#: times narrower, on 4x4 inputs: its arithmetic is small enough that a CPU step is mostly
#: the per-layer work on the host, which is what a GPU step of ``resnet`` is made of.
RESNET_SIZES = {
    "resnet": ResNetSize(stem=64, stages=((64, 1), (128, 2), (256, 2))),
    "tiny_resnet": ResNetSize(stem=8, stages=((8, 1), (16, 2), (32, 2))),
}
#: Keras's BatchNormalization defaults, which every variant uses.
BN_MOMENTUM, BN_EPSILON = 0.99, 1e-3


@dataclass(frozen=True)
class Plan:
    """How long each measurement runs, per model.

    ``fit`` trains ``epochs`` epochs of ``steps`` batches; the first epoch (tracing and
    compiling) is left out and the median of the rest divided by their steps.
    ``train_on_batch`` calls are timed after ``warmup`` untimed ones; ``predict`` runs once
    untimed on a few batches of both shapes it will see, then once timed on
    ``predict_samples`` samples.
    """

    steps: int
    epochs: int
    batches: int
    warmup: int
    predict_samples: int

    def to_json(self) -> dict[str, int]:
        return asdict(self)


DEFAULT_PLANS = {
    "mlp": Plan(steps=20, epochs=6, batches=30, warmup=3, predict_samples=10_000),
    "tiny_mlp": Plan(steps=100, epochs=6, batches=100, warmup=10, predict_samples=10_000),
    "convnet": Plan(steps=8, epochs=6, batches=8, warmup=2, predict_samples=10_000),
    "resnet": Plan(steps=4, epochs=4, batches=4, warmup=1, predict_samples=1_000),
    "tiny_resnet": Plan(steps=30, epochs=6, batches=30, warmup=3, predict_samples=10_000),
}
QUICK_PLANS = {
    "mlp": Plan(steps=3, epochs=2, batches=3, warmup=1, predict_samples=1_000),
    "tiny_mlp": Plan(steps=3, epochs=2, batches=3, warmup=1, predict_samples=1_000),
    "convnet": Plan(steps=2, epochs=2, batches=2, warmup=1, predict_samples=300),
    "resnet": Plan(steps=2, epochs=2, batches=2, warmup=1, predict_samples=200),
    "tiny_resnet": Plan(steps=2, epochs=2, batches=2, warmup=1, predict_samples=200),
}
#: On a GPU a step takes a millisecond or a few: more steps per epoch keep the clock's
#: resolution and the epoch-end synchronisation small against the epoch.
GPU_PLANS = {
    "mlp": Plan(steps=100, epochs=6, batches=100, warmup=10, predict_samples=10_000),
    "tiny_mlp": Plan(steps=100, epochs=6, batches=100, warmup=10, predict_samples=10_000),
    "convnet": Plan(steps=100, epochs=6, batches=100, warmup=10, predict_samples=10_000),
    "resnet": Plan(steps=40, epochs=6, batches=40, warmup=5, predict_samples=10_000),
    "tiny_resnet": Plan(steps=100, epochs=6, batches=100, warmup=10, predict_samples=10_000),
}


def training_data(model: str, plan: Plan) -> dict[str, np.ndarray]:
    """Random MNIST-shaped arrays: ``x`` and ``y`` for ``fit`` (exactly ``plan.steps`` full
    batches, so no step retraces for a smaller last batch), ``batches`` for
    ``train_on_batch``, ``x_predict`` for ``predict``, ``x_check``/``y_check`` for the
    initial-loss check."""
    rng = np.random.default_rng(1234)
    shape = INPUT_SHAPES[model]
    samples = plan.steps * BATCH_SIZE
    x = rng.random((samples, *shape), dtype=np.float32)
    y = rng.integers(0, NUM_CLASSES, size=samples).astype(np.int32)
    return {
        "x": x,
        "y": y,
        "x_predict": rng.random((plan.predict_samples, *shape), dtype=np.float32),
        "x_check": x[:BATCH_SIZE],
        "y_check": y[:BATCH_SIZE],
    }


def train_batches(data: dict[str, np.ndarray], count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` consecutive batches of the fit data (cycling), for ``train_on_batch``."""
    steps = len(data["x"]) // BATCH_SIZE
    out = []
    for index in range(count):
        start = (index % steps) * BATCH_SIZE
        out.append((data["x"][start : start + BATCH_SIZE], data["y"][start : start + BATCH_SIZE]))
    return out


def predict_warmup(samples: int) -> int:
    """How many samples to predict untimed so that both batch shapes of the timed run (full
    batches and the smaller last one) are traced first."""
    return BATCH_SIZE + samples % BATCH_SIZE if samples % BATCH_SIZE else BATCH_SIZE


def resnet_layers(model: str = "resnet") -> list[tuple[str, str, tuple[int, ...]]]:
    """The ResNet's layers with weights in build order: ``(name, kind, shape)`` with kind
    ``conv`` (kernel ``(h, w, in, out)``), ``bn`` (``(channels,)``) or ``dense``."""
    size = RESNET_SIZES[model]
    layers = [("stem_conv", "conv", (3, 3, 3, size.stem)), ("stem_bn", "bn", (size.stem,))]
    channels = size.stem
    for stage, (filters, stride) in enumerate(size.stages):
        for block in range(size.blocks):
            prefix = f"s{stage}b{block}"
            layers += [
                (f"{prefix}_conv1", "conv", (3, 3, channels, filters)),
                (f"{prefix}_bn1", "bn", (filters,)),
                (f"{prefix}_conv2", "conv", (3, 3, filters, filters)),
                (f"{prefix}_bn2", "bn", (filters,)),
            ]
            if block == 0 and (stride != 1 or channels != filters):
                layers += [
                    (f"{prefix}_proj", "conv", (1, 1, channels, filters)),
                    (f"{prefix}_proj_bn", "bn", (filters,)),
                ]
            channels = filters
    return [*layers, ("head", "dense", (channels, NUM_CLASSES))]


def by_layer(model: str, weights: list[np.ndarray]) -> list[tuple[str, list[np.ndarray]]]:
    """:func:`initial_weights` grouped by layer: ``(layer name, its weights)`` in build
    order. The layer names are those every variant's model uses."""
    weights = iter(weights)
    if model in RESNETS:
        counts = {"conv": 1, "bn": 4, "dense": 2}
        names = [(name, counts[kind]) for name, kind, _ in resnet_layers(model)]
    else:
        names = [(name, 2) for name in LAYER_NAMES[model]]
    return [(name, [next(weights) for _ in range(count)]) for name, count in names]


#: the names of the MLP's and the convnet's layers with weights, in build order
LAYER_NAMES = {
    "mlp": ("dense_1", "dense_2", "dense_3"),
    "tiny_mlp": ("dense_1", "dense_2", "dense_3"),
    "convnet": ("conv_1", "conv_2", "dense"),
}


def mlp_shapes(model: str) -> list[tuple[int, int]]:
    """The ``(in, out)`` kernel shapes of an MLP's three Dense layers."""
    width = MLP_WIDTHS[model]
    return [(784, width), (width, width), (width, NUM_CLASSES)]


def initial_weights(model: str) -> list[np.ndarray]:
    """The starting weights in Keras's layout, layer after layer in build order: kernels
    glorot-uniform from a fixed seed, biases zero; batch normalization's gamma 1, beta 0,
    moving mean 0 and moving variance 1.

    MLPs: the three Dense kernels of :func:`mlp_shapes`, each ``(in, out)``. Convnet: Conv2D
    kernels as ``(height, width, in, out)``, then the Dense 1600-10 kernel whose rows follow
    Keras's ``Flatten`` of a channels-last ``(5, 5, 64)`` map. ResNet: :func:`resnet_layers`.
    """
    rng = np.random.default_rng(42)

    def glorot(shape: tuple[int, ...]) -> np.ndarray:
        receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape).astype(np.float32)

    if model in RESNETS:
        weights = []
        for _, kind, shape in resnet_layers(model):
            if kind == "bn":
                ones, zeros = np.ones(shape, np.float32), np.zeros(shape, np.float32)
                weights += [ones, zeros, zeros.copy(), ones.copy()]
            else:
                weights.append(glorot(shape))
                if kind == "dense":
                    weights.append(np.zeros(shape[-1], dtype=np.float32))
        return weights
    if model in MLPS:
        shapes = mlp_shapes(model)
    else:
        shapes = [(3, 3, 1, 32), (3, 3, 32, 64), (5 * 5 * 64, NUM_CLASSES)]
    weights = []
    for shape in shapes:
        weights += [glorot(shape), np.zeros(shape[-1], dtype=np.float32)]
    return weights


def cross_entropy(probabilities: Any, labels: np.ndarray) -> float:
    """Keras's sparse categorical cross-entropy of probabilities, in NumPy (float64): the
    check that every variant computes the same function from the same weights."""
    p = np.asarray(probabilities, dtype=np.float64)
    p = p / p.sum(axis=-1, keepdims=True)
    p = np.clip(p, EPSILON, 1.0 - EPSILON)
    return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))


def per_step(epoch_seconds: list[float], steps: int) -> float:
    """Seconds per step from each epoch's duration: the median epoch after the first, so
    that one epoch slowed by another process does not move the result."""
    return statistics.median(epoch_seconds[1:]) / steps


def measure(
    model: str, plan: Plan, runner: Any, pause: Callable[[], None] | None = None
) -> dict[str, float]:
    """Time ``runner`` (a variant's model, built from :func:`initial_weights`) the same way
    for every variant; seconds per fit step, per ``train_on_batch`` call and per ``predict``.

    ``runner`` has ``predict_on_batch(x)``, ``fit(x, y, epochs, on_epoch_end)`` (returns the
    last epoch's mean loss), ``train_on_batch(x, y)`` (returns the loss as a float),
    ``predict(x)`` and ``sync()`` (waits for queued work). ``pause``, if given, is called
    before ``fit`` and at the end of every epoch, outside the timed regions: the parent
    process uses it to interleave the variants' epochs.
    """
    pause = pause or (lambda: None)
    data = training_data(model, plan)
    batches = train_batches(data, plan.warmup + plan.batches)
    initial_loss = cross_entropy(runner.predict_on_batch(data["x_check"]), data["y_check"])

    epoch_seconds: list[float] = []
    resumed = [0.0]

    def on_epoch_end() -> None:
        runner.sync()
        epoch_seconds.append(time.perf_counter() - resumed[0])
        pause()
        resumed[0] = time.perf_counter()

    pause()
    resumed[0] = time.perf_counter()
    fit_loss = runner.fit(data["x"], data["y"], plan.epochs, on_epoch_end)
    if len(epoch_seconds) != plan.epochs:
        raise RuntimeError(f"fit ran {len(epoch_seconds)} epochs, expected {plan.epochs}.")
    first_epoch = epoch_seconds[0]

    for x, y in batches[: plan.warmup]:
        runner.train_on_batch(x, y)
    start = time.perf_counter()
    for x, y in batches[plan.warmup :]:
        runner.train_on_batch(x, y)
    train_on_batch = (time.perf_counter() - start) / plan.batches

    x_predict = data["x_predict"]
    runner.predict(x_predict[: predict_warmup(len(x_predict))])
    start = time.perf_counter()
    predictions = runner.predict(x_predict)
    predict = time.perf_counter() - start
    if predictions.shape != (len(x_predict), NUM_CLASSES):
        raise RuntimeError(f"predict returned shape {predictions.shape}.")
    return {
        "fit_step": per_step(epoch_seconds, plan.steps),
        "first_epoch": first_epoch,
        "train_on_batch": train_on_batch,
        "predict": predict,
        "initial_loss": initial_loss,
        "fit_loss": fit_loss,
    }

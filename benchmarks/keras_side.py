"""The katman and Keras 3 variants: one Keras program, run with ``import katman`` or
``import keras`` (the backend comes from KATMAN_BACKEND or KERAS_BACKEND, set by the parent).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks import workload
from benchmarks.workload import BATCH_SIZE, LEARNING_RATE, NUM_CLASSES


def build_model(keras: ModuleType, model: str) -> Any:
    """The benchmark's model written with Keras's API; layers with weights carry the names
    of :func:`workload.named_weights`."""
    layers = keras.layers
    if model in workload.RESNETS:
        return build_resnet(keras, model)
    if model in workload.MLPS:
        width = workload.MLP_WIDTHS[model]
        stack = [
            keras.Input(shape=workload.INPUT_SHAPES[model]),
            layers.Dense(width, activation="relu", name="dense_1"),
            layers.Dense(width, activation="relu", name="dense_2"),
            layers.Dense(NUM_CLASSES, activation="softmax", name="dense_3"),
        ]
    else:
        stack = [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu", name="conv_1"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu", name="conv_2"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(NUM_CLASSES, activation="softmax", name="dense"),
        ]
    return keras.Sequential(stack)


def build_resnet(keras: ModuleType, model: str = "resnet") -> Any:
    """A ResNet-style model (:data:`workload.RESNET_SIZES`) with the functional API."""
    layers = keras.layers

    def conv_bn(x: Any, name: str, bn_name: str, filters: int, size: int, stride: int) -> Any:
        x = layers.Conv2D(filters, size, strides=stride, padding="same", use_bias=False, name=name)(
            x
        )
        return layers.BatchNormalization(name=bn_name)(x)

    size = workload.RESNET_SIZES[model]
    inputs = keras.Input(shape=workload.INPUT_SHAPES[model])
    x = conv_bn(inputs, "stem_conv", "stem_bn", size.stem, 3, 1)
    x = layers.Activation("relu")(x)
    for stage, (filters, _) in enumerate(size.stages):
        for block in range(size.blocks):
            prefix = f"s{stage}b{block}"
            stride = size.block_stride(stage, block)
            shortcut = x
            if stride != 1 or x.shape[-1] != filters:
                shortcut = conv_bn(x, f"{prefix}_proj", f"{prefix}_proj_bn", filters, 1, stride)
            y = conv_bn(x, f"{prefix}_conv1", f"{prefix}_bn1", filters, 3, stride)
            y = layers.Activation("relu")(y)
            y = conv_bn(y, f"{prefix}_conv2", f"{prefix}_bn2", filters, 3, 1)
            x = layers.Activation("relu")(layers.Add()([y, shortcut]))
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs)


def startup(library: str) -> None:
    """Import the library and build both models (what a fresh process pays before training)."""
    keras = importlib.import_module(library)
    build_model(keras, "mlp")
    build_model(keras, "convnet")


class Runner:
    """``fit``, ``train_on_batch`` and ``predict`` of a compiled Keras-API model."""

    def __init__(self, library: str, model: str, weights: list[np.ndarray]) -> None:
        self.keras = importlib.import_module(library)
        self.model = build_model(self.keras, model)
        for name, arrays in workload.by_layer(model, weights):
            self.model.get_layer(name).set_weights(arrays)
        self.model.compile(
            optimizer=self.keras.optimizers.Adam(learning_rate=LEARNING_RATE),
            loss="sparse_categorical_crossentropy",
        )

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict_on_batch(x))

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int, on_epoch_end: Callable) -> float:
        clock = type(
            "EpochClock",
            (self.keras.callbacks.Callback,),
            {"on_epoch_end": lambda self, epoch, logs=None: on_epoch_end()},
        )
        history = self.model.fit(
            x, y, batch_size=BATCH_SIZE, epochs=epochs, verbose=0, callbacks=[clock()]
        )
        return float(history.history["loss"][-1])

    def train_on_batch(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.model.train_on_batch(x, y))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(x, batch_size=BATCH_SIZE, verbose=0))

    def sync(self) -> None:
        """Wait for queued work (jax dispatches asynchronously): read a weight."""
        self.keras.ops.convert_to_numpy(self.model.trainable_variables[-1])

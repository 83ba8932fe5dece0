"""The katman and Keras 3 variants: one Keras program, run with ``import katman`` or
``import keras`` (the backend comes from KATMAN_BACKEND or KERAS_BACKEND, set by the parent).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.workload import BATCH_SIZE, LEARNING_RATE, NUM_CLASSES


def build_model(keras: ModuleType, model: str) -> Any:
    """The benchmark's model written with Keras's API."""
    layers = keras.layers
    if model == "mlp":
        stack = [
            keras.Input(shape=(784,)),
            layers.Dense(512, activation="relu"),
            layers.Dense(512, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ]
    else:
        stack = [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ]
    return keras.Sequential(stack)


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
        self.model.set_weights(weights)
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

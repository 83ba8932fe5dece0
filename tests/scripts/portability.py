"""Models saved on one backend and loaded on another (tests/test_portability.py).

Three models — a Sequential, a functional model with a skip connection, and a subclassed
model made of registered classes (defined here, so that a loading process imports this
module to know them) — are built, trained a few steps and saved; with each file go the
model's predictions on fixed inputs and the losses of the next training steps, taken by the
original model with its optimizer state. A process on any backend then loads each file,
checks its predictions, and checks that training continued from the loaded optimizer state
follows the same losses.

Usage::

    KATMAN_BACKEND=torch python tests/scripts/portability.py save DIR
    KATMAN_BACKEND=jax python tests/scripts/portability.py check DIR [DIR ...]

``save`` writes ``DIR/<model>.katman``, ``DIR/<model>.predictions.npy`` and
``DIR/<model>.losses.npy`` for each model; ``check`` loads them and exits non-zero (listing
the failures) if any model differs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

import katman
from katman import layers, ops

PACKAGE = "portability"
PREDICTION_TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}
LOSS_TOLERANCE = {"rtol": 1e-4, "atol": 1e-6}
BATCH = 8
STEPS_BEFORE_SAVE = 6
STEPS_AFTER_SAVE = 5


# -- the registered classes of the subclassed model --------------------------------------------
@katman.saving.register_serializable(package=PACKAGE)
class Gate(layers.Layer):
    """``inputs * sigmoid(gate)``: one learned gate per feature."""

    def build(self, input_shape: Any) -> None:
        self.gate = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="gate")

    def call(self, inputs: Any) -> Any:
        return inputs * ops.sigmoid(self.gate)


@katman.saving.register_serializable(package=PACKAGE)
class GatedResidual(katman.Model):
    """``head(norm(x + gate(dense(x))))``, with an explicit config."""

    def __init__(self, units: int, features: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units, self.features = units, features
        self.dense = layers.Dense(units, activation="tanh")
        self.gate = Gate()
        self.norm = layers.LayerNormalization()
        self.head = layers.Dense(features)

    def call(self, inputs: Any) -> Any:
        return self.head(self.norm(inputs + self.gate(self.dense(inputs))))

    def get_config(self) -> dict[str, Any]:
        return {"units": self.units, "features": self.features, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> GatedResidual:
        return cls(**config)


# -- the models and their data -------------------------------------------------------------
def sequential() -> katman.Model:
    model = katman.Sequential(
        [
            katman.Input(shape=(8,)),
            layers.Dense(16, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(3, activation="softmax"),
        ],
        name="portable_sequential",
    )
    model.compile(
        optimizer=katman.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def functional() -> katman.Model:
    inputs = katman.Input(shape=(8,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    hidden = layers.Dense(8)(hidden)
    skip = layers.Add()([hidden, inputs])
    outputs = layers.Dense(2)(layers.LayerNormalization()(skip))
    model = katman.Model(inputs, outputs, name="portable_functional")
    model.compile(optimizer=katman.optimizers.SGD(0.05, momentum=0.9, nesterov=True), loss="mse")
    return model


def subclassed() -> katman.Model:
    model = GatedResidual(units=8, features=2, name="portable_subclassed")
    model.compile(optimizer=katman.optimizers.RMSprop(0.01, momentum=0.5), loss="mae")
    return model


MODELS = {"sequential": sequential, "functional": functional, "subclassed": subclassed}


def data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The same inputs and targets in every process."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(BATCH * (STEPS_BEFORE_SAVE + STEPS_AFTER_SAVE), 8)).astype("float32")
    if name == "sequential":
        return x, rng.integers(0, 3, size=(len(x),)).astype("int32")
    return x, rng.normal(size=(len(x), 2)).astype("float32")


def batches(name: str, first: int, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    x, y = data(name)
    spans = [slice(i * BATCH, (i + 1) * BATCH) for i in range(first, first + count)]
    return [(x[span], y[span]) for span in spans]


def train(model: katman.Model, name: str, first: int, count: int) -> np.ndarray:
    """Train one step per batch; the loss of each step."""
    losses = [
        model.train_on_batch(x, y, return_dict=True)["loss"] for x, y in batches(name, first, count)
    ]
    return np.asarray(losses, dtype="float64")


def predictions(model: katman.Model, name: str) -> np.ndarray:
    x, _ = data(name)
    return np.asarray(model.predict(x, batch_size=len(x), verbose=0))


# -- the two sides ---------------------------------------------------------------------------
def save(folder: Path) -> None:
    """Build, train, save each model; record its predictions and next losses."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in MODELS.items():
        model = make()
        train(model, name, 0, STEPS_BEFORE_SAVE)
        model.save(folder / f"{name}.katman")
        np.save(folder / f"{name}.predictions.npy", predictions(model, name))
        np.save(
            folder / f"{name}.losses.npy", train(model, name, STEPS_BEFORE_SAVE, STEPS_AFTER_SAVE)
        )


def check(folder: Path, name: str) -> None:
    """Load ``folder``'s model ``name`` on the active backend and compare it with what the
    saving process recorded.

    Raises:
        AssertionError: predictions or continued losses differ beyond float32 tolerance.
    """
    model = katman.models.load_model(folder / f"{name}.katman")
    expected = np.load(folder / f"{name}.predictions.npy")
    np.testing.assert_allclose(
        predictions(model, name),
        expected,
        **PREDICTION_TOLERANCE,
        err_msg=f"{folder.name}/{name}: predictions differ on {katman.config.backend()}",
    )
    np.testing.assert_allclose(
        train(model, name, STEPS_BEFORE_SAVE, STEPS_AFTER_SAVE),
        np.load(folder / f"{name}.losses.npy"),
        **LOSS_TOLERANCE,
        err_msg=f"{folder.name}/{name}: continued training differs on {katman.config.backend()}",
    )


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("save", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "save":
        save(Path(argv[1]))
        return 0
    failures = []
    for folder in map(Path, argv[1:]):
        for name in MODELS:
            try:
                check(folder, name)
                outcome = "equal"
            except AssertionError as err:
                failures.append(str(err))
                outcome = "DIFFERENT"
            print(f"{folder} {name} on {katman.config.backend()}: {outcome}", flush=True)
    print("\n".join(failures) or "all equal", file=sys.stderr if failures else sys.stdout)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

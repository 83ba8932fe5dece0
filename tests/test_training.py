"""Training on the active backend: compile/fit/evaluate/predict with Keras's options,
callbacks, custom steps, frozen layers, and the loss curve against Keras 3 itself."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from keras_oracle import keras

import katman
from katman import layers, ops


def blobs(n=240, seed=0):
    """Three separable Gaussian blobs in 4 dimensions."""
    rng = np.random.default_rng(seed)
    centers = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], "float32")
    y = rng.integers(0, 3, n)
    x = centers[y] + rng.normal(0, 0.5, (n, 4)).astype("float32")
    return x.astype("float32"), y.astype("int64")


def classifier(**compile_args):
    model = katman.Sequential(
        [
            katman.Input(shape=(4,)),
            layers.Dense(16, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        **(
            {
                "optimizer": katman.optimizers.Adam(0.01),
                "loss": "sparse_categorical_crossentropy",
                "metrics": ["accuracy"],
            }
            | compile_args
        )
    )
    return model


def test_fit_learns_and_reports_history():
    katman.utils.set_random_seed(1)
    x, y = blobs()
    model = classifier()
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0, validation_split=0.25)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 8 and history.epoch == list(range(8))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy > 0.9 and loss < 0.5
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs == pytest.approx({"loss": loss, "accuracy": accuracy})
    probs = model.predict(x, batch_size=50, verbose=0)
    assert probs.shape == (240, 3)
    np.testing.assert_allclose(probs.sum(-1), 1, rtol=1e-5)
    assert (probs.argmax(-1) == y).mean() == pytest.approx(accuracy, abs=1e-6)


def test_validation_data_and_freq():
    x, y = blobs()
    model = classifier()
    history = model.fit(
        x, y, epochs=4, verbose=0, validation_data=(x[:40], y[:40]), validation_freq=2
    )
    assert len(history.history["loss"]) == 4 and len(history.history["val_loss"]) == 2


def test_sample_and_class_weights_change_the_loss():
    x, y = blobs(60)
    model = classifier(optimizer=katman.optimizers.SGD(0.0))
    plain = model.evaluate(x, y, verbose=0)[0]
    zeroed = np.where(y == 0, 0.0, 1.0).astype("float32")
    weighted = model.evaluate(x, y, sample_weight=zeroed, verbose=0)[0]
    expected = model.compute_loss(y=y, y_pred=model(x), sample_weight=zeroed)
    assert weighted == pytest.approx(float(ops.convert_to_numpy(expected)), rel=1e-5)
    assert weighted != pytest.approx(plain)
    before = model.get_weights()
    history = model.fit(
        x,
        y,
        class_weight={0: 0.0, 1: 1.0, 2: 1.0},
        epochs=1,
        verbose=0,
        shuffle=False,
        batch_size=60,
    )
    assert history.history["loss"][0] == pytest.approx(weighted, rel=1e-5)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)  # learning rate 0


def test_generators_and_steps_per_epoch():
    x, y = blobs(64)

    def batches():
        while True:
            for start in range(0, 64, 16):
                yield x[start : start + 16], y[start : start + 16]

    model = classifier()
    history = model.fit(batches(), steps_per_epoch=4, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert model.optimizer.iterations.numpy() == 12

    class Indexable:
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return x[index * 16 : (index + 1) * 16], y[index * 16 : (index + 1) * 16]

    model.fit(Indexable(), epochs=1, verbose=0)
    assert model.optimizer.iterations.numpy() == 16
    assert model.predict(iter([(x[:8],), (x[8:10],)]), verbose=0).shape == (10, 3)


def test_initial_epoch_and_batch_methods():
    x, y = blobs(64)
    model = classifier()
    history = model.fit(x, y, epochs=3, initial_epoch=2, verbose=0)
    assert history.epoch == [2]
    logs = model.train_on_batch(x[:16], y[:16], return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    loss, accuracy = model.test_on_batch(x[:16], y[:16])
    assert 0 <= accuracy <= 1 and loss > 0
    assert model.predict_on_batch(x[:5]).shape == (5, 3)


def test_progress_bar_output(capsys):
    x, y = blobs(64)
    model = classifier()
    model.fit(x, y, epochs=2, batch_size=16, verbose=1)
    text = capsys.readouterr().out
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "4/4" in text and "━" in text and "step" in text
    assert "accuracy: " in text and "loss: " in text
    model.evaluate(x, y, verbose=1)
    assert "loss: " in capsys.readouterr().out


def test_callbacks(tmp_path):
    x, y = blobs(96)
    seen = []
    csv_path = tmp_path / "log.csv"
    model = classifier()
    model.fit(
        x,
        y,
        epochs=3,
        verbose=0,
        validation_split=0.25,
        callbacks=[
            katman.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e)),
            katman.callbacks.CSVLogger(csv_path),
        ],
    )
    assert seen == [0, 1, 2]
    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}


def test_early_stopping_restores_best_weights():
    x, y = blobs(64)
    model = classifier()
    snapshots = []

    class Spy(katman.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append((logs["loss"], self.model.get_weights()))

    # Learning rate far too high: the loss gets worse, so training stops early.
    model.compile(optimizer=katman.optimizers.SGD(50.0), loss="sparse_categorical_crossentropy")
    stopper = katman.callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    history = model.fit(x, y, epochs=20, verbose=0, callbacks=[Spy(), stopper])
    assert len(history.history["loss"]) < 20
    best = min(snapshots, key=lambda item: item[0])
    for restored, expected in zip(model.get_weights(), best[1], strict=True):
        np.testing.assert_array_equal(restored, expected)


def test_terminate_on_nan():
    x, y = blobs(64)
    model = classifier(optimizer=katman.optimizers.SGD(1e30), loss="mse")
    history = model.fit(
        x,
        np.eye(3)[y] * 1e20,
        epochs=5,
        batch_size=8,
        verbose=0,
        callbacks=[katman.callbacks.TerminateOnNaN()],
    )
    assert len(history.history.get("loss", [])) <= 1


def test_frozen_layer_does_not_train():
    x, y = blobs(64)
    model = classifier()
    model.layers[0].trainable = False
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    frozen = model.layers[0].get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    for before, after in zip(frozen, model.layers[0].get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


def test_regularization_and_add_loss_join_the_loss():
    class Penalized(layers.Layer):
        def call(self, inputs):
            self.add_loss(ops.sum(inputs) * 0.0 + 2.0)
            return inputs

    inputs = katman.Input(shape=(4,))
    hidden = layers.Dense(3, kernel_regularizer=katman.regularizers.L2(0.5))(inputs)
    model = katman.Model(inputs, Penalized()(hidden))
    model.compile(optimizer=katman.optimizers.SGD(0.0), loss="mse")
    x, target = np.ones((8, 4), "float32"), np.zeros((8, 3), "float32")
    loss = model.evaluate(x, target, verbose=0)
    kernel = model.layers[1].kernel.numpy()
    prediction = model.predict(x, verbose=0)
    expected = np.mean(prediction**2) + 0.5 * np.sum(kernel**2) + 2.0
    assert loss == pytest.approx(expected, rel=1e-5)


def test_multi_output_losses_and_metrics():
    inputs = katman.Input(shape=(4,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    model = katman.Model(
        inputs,
        {
            "cls": layers.Dense(3, activation="softmax", name="cls")(hidden),
            "reg": layers.Dense(1, name="reg")(hidden),
        },
    )
    model.compile(
        optimizer="adam",
        loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
        loss_weights={"cls": 1.0, "reg": 0.5},
        metrics={"cls": ["accuracy"]},
    )
    x, y = blobs(64)
    history = model.fit(x, {"cls": y, "reg": x[:, :1]}, epochs=2, verbose=0)
    assert {"loss", "cls_loss", "reg_loss", "cls_accuracy"} <= set(history.history)
    logs = model.evaluate(x, {"cls": y, "reg": x[:, :1]}, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"], rel=1e-4)


def test_custom_train_step_with_katman_ops():
    class Custom(katman.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)
            self.calls = 0

        def call(self, inputs):
            return self.dense(inputs)

        def train_step(self, data):
            self.calls += 1
            return super().train_step(data)

    model = Custom()
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    model.fit(np.ones((16, 2), "float32"), np.ones((16, 1), "float32"), batch_size=4, verbose=0)
    assert model.calls == 4


def test_run_eagerly_and_compiled_steps_agree():
    x, y = blobs(64)
    results = []
    for eager in (True, False):
        katman.utils.set_random_seed(3)
        model = classifier(optimizer=katman.optimizers.SGD(0.1), run_eagerly=eager)
        model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
        results.append(model.get_weights())
    for eager, compiled in zip(*results, strict=True):
        np.testing.assert_allclose(eager, compiled, rtol=1e-5, atol=1e-6)


def test_dropout_draws_new_masks_in_compiled_steps():
    inputs = katman.Input(shape=(64,))
    dropout = layers.Dropout(0.5, seed=1)
    model = katman.Model(inputs, dropout(inputs))
    model.compile(optimizer="sgd", loss="mse")
    ones, target = np.ones((1, 64), "float32"), np.arange(64, dtype="float32")[None]
    losses = [model.train_on_batch(ones, target) for _ in range(3)]  # depends on the mask
    assert len(set(losses)) == 3  # a new mask each step, though the step is compiled
    assert dropout.seed_generator.counter == 3
    model.evaluate(ones, target, verbose=0)
    assert dropout.seed_generator.counter == 3  # no draws outside training


def test_loss_curve_follows_keras():
    """The same model, initial weights, data and optimizer in Keras 3 and katman: the
    per-step losses agree."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = rng.integers(0, 3, 64)

    def build(lib):
        model = lib.Sequential(
            [
                lib.Input(shape=(5,)),
                lib.layers.Dense(8, activation="tanh"),
                lib.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(
            optimizer=lib.optimizers.Adam(0.01),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    reference, ours = build(keras), build(katman)
    ours.set_weights(reference.get_weights())
    for step in range(6):
        batch = slice(step * 8, step * 8 + 8)
        expected = reference.train_on_batch(x[batch], y[batch], return_dict=True)
        got = ours.train_on_batch(x[batch], y[batch], return_dict=True)
        assert got["loss"] == pytest.approx(float(expected["loss"]), rel=1e-4)
        assert got["accuracy"] == pytest.approx(float(expected["accuracy"]), rel=1e-6)
    for a, b in zip(reference.get_weights(), ours.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    hist_ref = reference.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    hist_ours = ours.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_allclose(hist_ours.history["loss"], hist_ref.history["loss"], rtol=1e-4)


def test_user_written_layer_trains():
    class Affine(layers.Layer):
        """y = x * scale + shift, one pair per feature."""

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")
            self.shift = self.add_weight(shape=(input_shape[-1],), initializer="zeros")

        def call(self, inputs):
            return inputs * self.scale + self.shift

    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 3)).astype("float32")
    y = x * np.array([2.0, -1.0, 0.5], "float32") + np.array([1.0, 0.0, -2.0], "float32")
    layer = Affine()
    model = katman.Sequential([katman.Input(shape=(3,)), layer])
    model.compile(optimizer=katman.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    np.testing.assert_allclose(layer.scale.numpy(), [2.0, -1.0, 0.5], atol=1e-2)
    np.testing.assert_allclose(layer.shift.numpy(), [1.0, 0.0, -2.0], atol=1e-2)

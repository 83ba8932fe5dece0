"""ModelCheckpoint: file names from templates, save_best_only decisions (checked against Keras
3's ModelCheckpoint driven with the same logs), weights-only files, batch-frequency saves,
and checkpoints that load back to the same weights and predictions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import katman
from katman import layers

ModelCheckpoint = katman.callbacks.ModelCheckpoint


def make_model(seed: int = 11) -> katman.Model:
    # Named layers: a model built again in this process has the same layer names.
    katman.utils.set_random_seed(seed)
    model = katman.Sequential(
        [
            layers.Input((4,)),
            layers.Dense(8, activation="relu", name="hidden"),
            layers.Dropout(0.1, name="dropout"),
            layers.Dense(1, name="out"),
        ]
    )
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def data(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x @ np.array([[0.5], [-1.0], [2.0], [0.1]], "float32")).astype("float32")


def fit(model, callbacks, epochs=3, **kwargs):
    x, y = data()
    return model.fit(x, y, batch_size=8, epochs=epochs, callbacks=callbacks, verbose=0, **kwargs)


class Snapshots(katman.callbacks.Callback):
    """The model's weights after each epoch and after each batch (counted across epochs)."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[list[np.ndarray]] = []
        self.batches: list[list[np.ndarray]] = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(self.model.get_weights())

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(self.model.get_weights())


def inject(key: str, values: list[float]) -> katman.callbacks.Callback:
    """Puts ``values[epoch]`` in the epoch's logs under ``key`` (before later callbacks)."""
    return katman.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: logs.update({key: values[epoch]})
    )


def assert_weights_equal(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert np.array_equal(a, b)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


# -- file names ----------------------------------------------------------------------------
def test_templates_fill_in_the_epoch_and_log_values(tmp_path):
    x, y = data(16)
    model = make_model()
    history = fit(
        model,
        [
            ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{val_loss:.3f}.katman"),
            ModelCheckpoint(
                str(
                    tmp_path
                    / "w"
                    / "{epoch}-{loss:.2f}-{mean_absolute_error:.4f}.weights.safetensors"
                ),
                save_weights_only=True,
            ),
        ],
        validation_data=(x, y),
    )
    logs = history.history
    assert names(tmp_path) == sorted(
        ["w"] + [f"ckpt-{e + 1:02d}-{logs['val_loss'][e]:.3f}.katman" for e in range(3)]
    )
    assert names(tmp_path / "w") == sorted(
        f"{e + 1}-{logs['loss'][e]:.2f}-{logs['mean_absolute_error'][e]:.4f}.weights.safetensors"
        for e in range(3)
    )


def test_a_template_key_missing_from_the_logs_is_a_clear_error(tmp_path):
    with pytest.raises(KeyError, match=r"val_loss.*available: .*loss"):
        fit(make_model(), [ModelCheckpoint(tmp_path / "{epoch}-{val_loss}.katman")], epochs=1)


def test_a_fixed_path_is_overwritten_by_each_save(tmp_path):
    model = make_model()
    snapshots = Snapshots()
    fit(
        model,
        [snapshots, ModelCheckpoint(tmp_path / "last.weights.safetensors", save_weights_only=True)],
    )
    assert names(tmp_path) == ["last.weights.safetensors"]
    fresh = make_model(seed=3)
    fresh.load_weights(tmp_path / "last.weights.safetensors")
    assert_weights_equal(fresh.get_weights(), snapshots.epochs[-1])


# -- save_best_only ------------------------------------------------------------------------
# (monitor, mode, threshold, values per epoch, 1-based epochs that must be saved)
BEST_CASES = [
    ("score", "min", None, [3.0, 2.0, 2.5, 1.0, 1.0], [1, 2, 4]),
    ("score", "max", None, [3.0, 2.0, 2.5, 4.0, 4.0], [1, 4]),
    ("score", "max", 2.2, [1.0, 2.0, 2.5, 2.4, 3.0], [3, 5]),
    ("score", "min", 0.5, [1.0, 2.0, 0.7, 0.4, 0.3], [4, 5]),
    ("loss", "auto", None, [0.9, 0.8, 0.85, 0.7, 0.75], [1, 2, 4]),
    ("val_loss", "auto", None, [0.9, 1.0, 0.85, 0.85, 0.1], [1, 3, 5]),
    ("val_accuracy", "auto", None, [0.5, 0.4, 0.6, 0.6, 0.7], [1, 3, 5]),
    ("auc", "auto", 0.55, [0.5, 0.4, 0.6, 0.6, 0.7], [3, 5]),
]


@pytest.mark.parametrize(("monitor", "mode", "threshold", "values", "saved"), BEST_CASES)
def test_save_best_only_saves_exactly_the_improvements(
    tmp_path, monitor, mode, threshold, values, saved
):
    model = make_model()
    snapshots = Snapshots()
    checkpoint = ModelCheckpoint(
        tmp_path / "best-{epoch}.katman",
        monitor=monitor,
        mode=mode,
        save_best_only=True,
        initial_value_threshold=threshold,
    )
    fit(model, [inject(monitor, values), snapshots, checkpoint], epochs=len(values))
    assert names(tmp_path) == sorted(f"best-{e}.katman" for e in saved)
    for epoch in saved:  # each file holds the weights of the epoch it is named after
        loaded = katman.models.load_model(tmp_path / f"best-{epoch}.katman")
        assert_weights_equal(loaded.get_weights(), snapshots.epochs[epoch - 1])
    assert checkpoint.best == values[saved[-1] - 1]


def test_save_best_only_to_one_path_keeps_the_best_epoch(tmp_path):
    model = make_model()
    snapshots = Snapshots()
    values = [0.5, 0.3, 0.4, 0.35]
    fit(
        model,
        [
            inject("val_loss", values),
            snapshots,
            ModelCheckpoint(
                tmp_path / "best.weights.safetensors", save_best_only=True, save_weights_only=True
            ),
        ],
        epochs=4,
    )
    fresh = make_model(seed=1)
    fresh.load_weights(tmp_path / "best.weights.safetensors")
    assert_weights_equal(fresh.get_weights(), snapshots.epochs[1])


def keras_saved_epochs(folder: Path, monitor, mode, threshold, values) -> list[str]:
    """The epochs Keras 3's own ModelCheckpoint saves for the same logs."""
    from keras_oracle import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(folder / "{epoch}.keras"),
        monitor=monitor,
        mode=mode,
        save_best_only=True,
        initial_value_threshold=threshold,
    )
    checkpoint.set_model(model)
    for epoch, value in enumerate(values):
        checkpoint.on_epoch_begin(epoch)
        checkpoint.on_epoch_end(epoch, {"loss": 1.0, monitor: value})
    return sorted(p.name.removesuffix(".keras") for p in folder.iterdir())


@settings(max_examples=15, deadline=None)
@given(
    mode=st.sampled_from(["min", "max"]),
    values=st.lists(st.sampled_from([0.1, 0.2, 0.3, 0.4]), min_size=1, max_size=6),
    threshold=st.sampled_from([None, 0.15, 0.25, 0.35]),
)
def test_save_best_only_decides_as_keras_does(tmp_path_factory, mode, values, threshold):
    ours, theirs = tmp_path_factory.mktemp("katman"), tmp_path_factory.mktemp("keras")
    # Both callbacks driven through their hooks with the same logs (fit would only add
    # the same calls, more slowly).
    checkpoint = ModelCheckpoint(
        ours / "{epoch}.weights.safetensors",
        monitor="val_score",
        mode=mode,
        save_best_only=True,
        save_weights_only=True,
        initial_value_threshold=threshold,
    )
    checkpoint.set_model(built_model())
    for epoch, value in enumerate(values):
        checkpoint.on_epoch_begin(epoch)
        checkpoint.on_epoch_end(epoch, {"loss": 1.0, "val_score": value})
    saved = sorted(p.name.removesuffix(".weights.safetensors") for p in ours.iterdir())
    assert saved == keras_saved_epochs(theirs, "val_score", mode, threshold, values)


_BUILT: list[katman.Model] = []


def built_model() -> katman.Model:
    if not _BUILT:
        _BUILT.append(make_model())
        _BUILT[0].build((None, 4))
    return _BUILT[0]


def test_a_missing_monitor_warns_and_saves_as_keras_does(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "{epoch}.katman", save_best_only=True)
    with pytest.warns(UserWarning, match="'val_loss'.*loss"):
        fit(make_model(), [checkpoint], epochs=2)
    assert names(tmp_path) == ["1.katman", "2.katman"]


# -- weights only, batch frequency, loading ------------------------------------------------
def test_save_weights_only_files_load_with_load_weights(tmp_path):
    model = make_model()
    snapshots = Snapshots()
    fit(
        model,
        [
            snapshots,
            ModelCheckpoint(tmp_path / "{epoch}.weights.safetensors", save_weights_only=True),
        ],
    )
    assert names(tmp_path) == [f"{e}.weights.safetensors" for e in (1, 2, 3)]
    for epoch in (1, 2, 3):
        fresh = make_model(seed=100 + epoch)
        fresh.load_weights(tmp_path / f"{epoch}.weights.safetensors")
        assert_weights_equal(fresh.get_weights(), snapshots.epochs[epoch - 1])
    with pytest.raises(katman.errors.ModelFileError):
        katman.models.load_model(tmp_path / "1.weights.safetensors")


def test_integer_save_freq_saves_after_every_n_batches_across_epochs(tmp_path):
    model = make_model()
    snapshots = Snapshots()
    losses = []
    spy = katman.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: losses.append(float(np.asarray(logs["loss"])))
    )
    checkpoint = ModelCheckpoint(
        tmp_path / "b-{epoch}-{batch}-{loss:.5f}.weights.safetensors",
        save_weights_only=True,
        save_freq=4,
    )
    fit(model, [spy, snapshots, checkpoint])  # 5 batches per epoch, 15 in all
    # After global batches 4, 8 and 12: (epoch 1, batch 4), (2, 3), (3, 2), 1-based.
    expected = {(1, 4): 4, (2, 3): 8, (3, 2): 12}
    assert names(tmp_path) == sorted(
        f"b-{e}-{b}-{losses[g - 1]:.5f}.weights.safetensors" for (e, b), g in expected.items()
    )
    for (epoch, batch), seen in expected.items():
        fresh = make_model(seed=seen)
        fresh.load_weights(
            tmp_path / f"b-{epoch}-{batch}-{losses[seen - 1]:.5f}.weights.safetensors"
        )
        assert_weights_equal(fresh.get_weights(), snapshots.batches[seen - 1])


def test_integer_save_freq_names_files_as_keras_does(tmp_path):
    from keras_oracle import keras

    keras_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    theirs = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "keras" / "{epoch}-{batch}.weights.h5"), save_weights_only=True, save_freq=3
    )
    theirs.set_model(keras_model)
    for epoch in range(3):
        theirs.on_epoch_begin(epoch)
        for batch in range(5):
            theirs.on_train_batch_end(batch, {"loss": 0.5})
        theirs.on_epoch_end(epoch, {"loss": 0.5})
    ours = tmp_path / "katman"
    fit(
        make_model(),
        [
            ModelCheckpoint(
                ours / "{epoch}-{batch}.weights.safetensors", save_weights_only=True, save_freq=3
            )
        ],
    )
    expected = sorted(n.removesuffix(".weights.h5") for n in names(tmp_path / "keras"))
    assert expected == ["1-3", "2-1", "2-4", "3-2", "3-5"]
    assert [n.removesuffix(".weights.safetensors") for n in names(ours)] == expected


def test_a_model_checkpoint_loads_with_the_same_predictions_and_optimizer(tmp_path):
    model = make_model()
    fit(model, [ModelCheckpoint(tmp_path / "model-{epoch}.katman")], epochs=2)
    loaded = katman.models.load_model(tmp_path / "model-2.katman")
    x, _ = data()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(loaded.optimizer).__name__ == "Adam"
    assert len(loaded.optimizer.variables) == len(model.optimizer.variables)
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables, strict=True):
        assert np.array_equal(
            katman.ops.convert_to_numpy(a.value), katman.ops.convert_to_numpy(b.value)
        )


def test_verbose_reports_each_decision(tmp_path, capsys):
    checkpoint = ModelCheckpoint(
        tmp_path / "best.katman", monitor="score", mode="min", save_best_only=True, verbose=1
    )
    fit(make_model(), [inject("score", [0.5, 0.6]), checkpoint], epochs=2)
    out = capsys.readouterr().out
    assert "Epoch 1: score improved from None to 0.50000, saving model to" in out
    assert "Epoch 2: score did not improve from 0.50000" in out


# -- arguments -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"filepath": "model.keras"}, "must end in '.katman'"),
        ({"filepath": "model.weights.safetensors"}, "must end in '.katman'"),
        ({"filepath": "model.katman", "save_weights_only": True}, "'.weights.safetensors'"),
        ({"filepath": "m.katman", "mode": "maximum"}, "mode must be"),
        ({"filepath": "m.katman", "save_freq": "batch"}, "save_freq"),
        ({"filepath": "m.katman", "save_freq": 0}, "save_freq"),
        ({"filepath": "m.katman", "save_freq": True}, "save_freq"),
    ],
)
def test_invalid_arguments_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        ModelCheckpoint(**arguments)


def test_a_directory_as_filepath_is_refused(tmp_path):
    (tmp_path / "ckpt.katman").mkdir()
    with pytest.raises(IsADirectoryError, match="directory"):
        fit(make_model(), [ModelCheckpoint(tmp_path / "ckpt.katman")], epochs=1)


def test_config_round_trips():
    checkpoint = ModelCheckpoint(
        "ckpt-{epoch:02d}.weights.safetensors",
        monitor="val_accuracy",
        save_best_only=True,
        save_weights_only=True,
        save_freq=10,
        initial_value_threshold=0.5,
    )
    config = checkpoint.get_config()
    assert json.loads(json.dumps(config)) == config
    assert ModelCheckpoint(**config).get_config() == config
    rebuilt = katman.callbacks.deserialize(katman.callbacks.serialize(checkpoint))
    assert isinstance(rebuilt, ModelCheckpoint)
    assert rebuilt.get_config() == config

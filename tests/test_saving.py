"""Saving and loading on the active backend: ``model.save`` / ``load_model`` for Sequential,
functional (a skip connection, named inputs and outputs) and subclassed models; compile
settings and optimizer state (training continues exactly as the original would); weights
files; ``get_weights``/``set_weights``; ``custom_objects``; JSON; Lambda layers; the archive's
members; and the errors users meet."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import katman
from katman import layers, ops
from katman.errors import ModelFileError
from katman.registry import get_registry

PACKAGE = "test_saving"


# -- user classes and functions, registered as a user would ----------------------------------
@katman.saving.register_serializable(package=PACKAGE)
class Scale(layers.Layer):
    """One learned factor per feature."""

    def build(self, input_shape: Any) -> None:
        self.factor = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="factor")

    def call(self, inputs: Any) -> Any:
        return inputs * self.factor


@katman.saving.register_serializable(package=PACKAGE)
class Residual(katman.Model):
    """``x + inner(x)`` for a layer given to the constructor: the config must serialize that
    layer, so the class defines get_config/from_config."""

    def __init__(self, inner: layers.Layer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inner = inner
        self.scale = Scale()

    def call(self, inputs: Any) -> Any:
        return self.scale(inputs + self.inner(inputs))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "inner": layers.serialize(self.inner)}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Residual:
        config = dict(config)
        inner = layers.deserialize(config.pop("inner"), custom_objects=custom_objects)
        return cls(inner, **config)


@katman.saving.register_serializable(package=PACKAGE)
class TwoLayer(katman.Model):
    """Plain JSON constructor arguments: Model.get_config captures them by itself."""

    def __init__(self, units: int, rate: float = 0.25, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units, self.rate = units, rate
        self.hidden = layers.Dense(units, activation="relu")
        # Seeded: a loaded model continues the same dropout masks only then (a SeedGenerator
        # made with seed=None draws its base seed afresh, and the file keeps its counter only).
        self.dropout = layers.Dropout(rate, seed=7)
        self.out = layers.Dense(2)

    def call(self, inputs: Any, training: bool = False) -> Any:
        return self.out(self.dropout(self.hidden(inputs), training=training))


@katman.saving.register_serializable(package=PACKAGE)
def halve(x: Any, factor: float = 2.0) -> Any:
    return x / factor


@katman.saving.register_serializable(package=PACKAGE)
def absolute_error(y_true: Any, y_pred: Any) -> Any:
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)


# -- models and data ------------------------------------------------------------------------
RNG = np.random.default_rng(0)
X = RNG.random((16, 6), dtype="float32")
Y = RNG.random((16, 2), dtype="float32")
XF = {"a": RNG.random((16, 4), dtype="float32"), "b": RNG.random((16, 2), dtype="float32")}
YF = {"score": RNG.random((16, 1), dtype="float32"), "probs": RNG.integers(0, 3, (16, 1))}


def sequential() -> katman.Model:
    model = katman.Sequential(
        [
            katman.Input(shape=(6,)),
            layers.Dense(8, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(2),
        ]
    )
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def functional() -> katman.Model:
    a = katman.Input(shape=(4,), name="a")
    b = katman.Input(shape=(2,), name="b")
    hidden = layers.Dense(4, activation="relu", name="hidden")(a)
    skip = layers.Add(name="skip")([hidden, a])
    merged = layers.Concatenate(name="merged")([skip, b])
    outputs = {
        "score": layers.Dense(1, name="score")(merged),
        "probs": layers.Dense(3, activation="softmax", name="probs")(merged),
    }
    model = katman.Model(inputs={"a": a, "b": b}, outputs=outputs)
    model.compile(
        optimizer=katman.optimizers.SGD(0.05, momentum=0.9),
        loss={"score": "mse", "probs": "sparse_categorical_crossentropy"},
        loss_weights={"score": 1.0, "probs": 0.5},
        metrics={"score": ["mae"], "probs": ["accuracy"]},
    )
    return model


def residual() -> katman.Model:
    model = Residual(layers.Dense(6, activation="tanh"), name="residual")
    model.compile(optimizer=katman.optimizers.RMSprop(0.01), loss="mse")
    model.build((None, 6))
    return model


def two_layer() -> katman.Model:
    model = TwoLayer(5, rate=0.25, name="two_layer")
    model.compile(optimizer="adam", loss=absolute_error, metrics=["mse"])
    return model


def data(make: Any) -> tuple[Any, Any]:
    return {functional: (XF, YF), residual: (X, X)}.get(make, (X, Y))


def trained(make: Any) -> tuple[katman.Model, Any, Any]:
    """A model trained for one epoch (4 steps), with its data."""
    model = make()
    x, y = data(make)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    return model, x, y


def scrambled(make: Any, seed: int = 1) -> tuple[katman.Model, Any]:
    """A built model whose every weight (moving statistics too) is set to random values: as
    distinct from a fresh instance as a trained one, without the cost of training."""
    model = make()
    x, _ = data(make)
    if not model.built:
        model(x)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) for w in model.weights])
    return model, x


def outputs(model: katman.Model, x: Any) -> Any:
    """The model's outputs as NumPy arrays (a direct call: no compiled predict step)."""
    result = model(x)
    if isinstance(result, dict):
        return {key: ops.convert_to_numpy(value) for key, value in result.items()}
    return ops.convert_to_numpy(result)


MAKERS = [sequential, functional, residual, two_layer]


def assert_same_outputs(first: Any, second: Any) -> None:
    if isinstance(first, dict):
        assert set(first) == set(second)
        for key in first:
            np.testing.assert_array_equal(first[key], second[key])
    else:
        np.testing.assert_array_equal(first, second)


def continue_training(model: katman.Model, x: Any, y: Any) -> dict[str, list[float]]:
    return model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history


@pytest.fixture
def unregister() -> Iterator[Any]:
    """A function removing one of this module's layer classes from the registry, as in a
    process that never imported it; the registrations come back after the test."""

    def remove(cls: type) -> None:
        registry = get_registry()
        registry.remove_entry(registry.find("layer", f"{PACKAGE}>{cls.__name__}"))

    yield remove
    for cls in (Scale, Residual):
        katman.saving.register_serializable(package=PACKAGE)(cls)


# -- round trips ------------------------------------------------------------------------------
@pytest.mark.parametrize("make", MAKERS, ids=lambda f: f.__name__)
def test_save_and_load_restores_predictions_compile_settings_and_training(make, tmp_path):
    model, x, y = trained(make)
    path = tmp_path / "model.katman"
    model.save(path)
    loaded = katman.models.load_model(path)
    assert type(loaded) is type(model) and loaded.name == model.name
    assert_same_outputs(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert [w.shape for w in loaded.weights] == [w.shape for w in model.weights]
    # Compile settings: the same loss, metrics and optimizer (class and config).
    assert loaded.get_compile_config() == model.get_compile_config()
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    # The optimizer's state (moments, iteration count) came along: continuing to train the
    # loaded model gives exactly the losses and metrics that continuing the original gives.
    for mine, theirs in zip(model.optimizer.variables, loaded.optimizer.variables, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert int(loaded.optimizer.iterations.numpy()) == 4
    assert continue_training(loaded, x, y) == continue_training(model, x, y)


def test_load_model_is_in_both_namespaces(tmp_path):
    model = katman.Sequential([katman.Input(shape=(6,)), layers.Dense(2)])
    katman.saving.save_model(model, tmp_path / "m.katman")
    for load_model in (katman.models.load_model, katman.saving.load_model):
        loaded = load_model(tmp_path / "m.katman")
        for old, new in zip(model.get_weights(), loaded.get_weights(), strict=True):
            np.testing.assert_array_equal(old, new)


def test_subclassed_config_comes_from_the_constructor_arguments(tmp_path):
    model, _ = scrambled(two_layer)
    assert model.get_config() == {"units": 5, "rate": 0.25, "name": "two_layer"}
    model.save(tmp_path / "m.katman")
    loaded = katman.models.load_model(tmp_path / "m.katman")
    assert (loaded.units, loaded.rate, loaded.name) == (5, 0.25, "two_layer")


def test_subclassed_model_with_objects_in_its_constructor_needs_get_config(tmp_path):
    class Wrapper(katman.Model):
        def __init__(self, inner: layers.Layer) -> None:
            super().__init__()
            self.inner = inner

        def call(self, inputs: Any) -> Any:
            return self.inner(inputs)

    katman.saving.register_serializable(package=PACKAGE)(Wrapper)
    try:
        model = Wrapper(layers.Dense(2))
        model.build((None, 3))
        with pytest.raises(NotImplementedError, match="define get_config"):
            model.save(tmp_path / "m.katman")
        assert not list(tmp_path.iterdir())  # nothing written, not even a temporary
    finally:
        get_registry().remove_entry(get_registry().find("layer", f"{PACKAGE}>Wrapper"))


def test_load_without_compile_and_save_without_optimizer(tmp_path):
    model, x = scrambled(sequential)
    model.save(tmp_path / "full.katman")
    bare = katman.models.load_model(tmp_path / "full.katman", compile=False)
    assert not bare.compiled
    assert_same_outputs(outputs(model, x), outputs(bare, x))
    model.save(tmp_path / "light.katman", include_optimizer=False)
    with zipfile.ZipFile(tmp_path / "light.katman") as archive:
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.safetensors"]
    assert not katman.models.load_model(tmp_path / "light.katman").compiled


def test_compile_config_round_trip_on_a_fresh_model():
    model = functional()
    twin = functional()
    twin.compile_from_config(model.get_compile_config())
    assert twin.get_compile_config() == model.get_compile_config()
    assert katman.Sequential().get_compile_config() == {}


def test_a_registered_loss_function_is_saved_by_name(tmp_path):
    model = katman.Sequential([katman.Input(shape=(6,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss=absolute_error)
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "m.katman")
    loaded = katman.models.load_model(tmp_path / "m.katman")
    assert loaded.get_compile_config()["loss"]["registered_name"] == f"{PACKAGE}>absolute_error"
    assert loaded.evaluate(X, Y, verbose=0) == model.evaluate(X, Y, verbose=0)


def test_saving_with_an_unregistered_loss_function_says_how_to_fix_it(tmp_path):
    def local_loss(y_true: Any, y_pred: Any) -> Any:
        return ops.mean(ops.square(y_true - y_pred), axis=-1)

    model = katman.Sequential([katman.Input(shape=(6,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss=local_loss)
    with pytest.raises(ValueError, match=r"register_serializable.*include_optimizer=False"):
        model.save(tmp_path / "m.katman")
    model.save(tmp_path / "m.katman", include_optimizer=False)


# -- weights ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make", MAKERS, ids=lambda f: f.__name__)
def test_save_weights_and_load_weights(make, tmp_path):
    # A fresh instance of the same architecture (its layers' generated names differ) finds
    # every weight, the moving statistics too.
    model, x = scrambled(make)
    path = tmp_path / "model.weights.safetensors"
    model.save_weights(path)
    fresh, _ = scrambled(make, seed=2)
    fresh.load_weights(path)
    assert_same_outputs(outputs(model, x), outputs(fresh, x))
    for old, new in zip(model.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    # Also from a .katman file.
    model.save(tmp_path / "model.katman")
    other, _ = scrambled(make, seed=3)
    other.load_weights(tmp_path / "model.katman")
    assert_same_outputs(outputs(model, x), outputs(other, x))


def test_load_weights_into_another_architecture_fails_and_changes_nothing(tmp_path):
    model, _ = scrambled(sequential)
    model.save_weights(tmp_path / "m.weights.safetensors")
    wider = katman.Sequential([katman.Input(shape=(6,)), layers.Dense(9), layers.Dense(2)])
    before = wider.get_weights()
    with pytest.raises(ModelFileError, match=r"does not match|needs"):
        wider.load_weights(tmp_path / "m.weights.safetensors")
    for old, new in zip(before, wider.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_get_weights_and_set_weights():
    model, x = scrambled(functional)
    weights = model.get_weights()
    assert all(isinstance(w, np.ndarray) for w in weights)
    assert [w.shape for w in weights] == [tuple(v.shape) for v in model.weights]
    twin = functional()
    twin.set_weights(weights)
    assert_same_outputs(outputs(model, x), outputs(twin, x))
    with pytest.raises(ValueError, match="got 1 arrays"):
        twin.set_weights(weights[:1])
    with pytest.raises(ValueError, match="shape"):
        twin.set_weights(weights[::-1])


# -- custom_objects -------------------------------------------------------------------------
def test_custom_objects_stand_in_for_registration(tmp_path, unregister):
    model = katman.Sequential([katman.Input(shape=(6,)), Scale(), layers.Dense(2)])
    model.save(tmp_path / "seq.katman")
    inputs = katman.Input(shape=(6,))
    graph = katman.Model(inputs, layers.Add()([Scale()(inputs), inputs]))
    graph.save(tmp_path / "graph.katman")
    text = model.to_json()
    unregister(Scale)

    with pytest.raises(ModelFileError, match=f"{PACKAGE}>Scale"):
        katman.models.load_model(tmp_path / "seq.katman")
    # Keyed by the class name, or by the registered name, as Keras accepts them.
    for custom_objects in ({"Scale": Scale}, {f"{PACKAGE}>Scale": Scale}):
        for saved, original in (("seq", model), ("graph", graph)):
            loaded = katman.models.load_model(
                tmp_path / f"{saved}.katman", custom_objects=custom_objects
            )
            assert any(isinstance(layer, Scale) for layer in loaded.layers)
            assert_same_outputs(outputs(original, X), outputs(loaded, X))
    with pytest.raises(ModelFileError, match=f"{PACKAGE}>Scale"):
        katman.models.model_from_json(text)
    loaded = katman.models.model_from_json(text, custom_objects={"Scale": Scale})
    assert isinstance(loaded.layers[0], Scale)


def test_custom_objects_for_a_subclassed_model(tmp_path, unregister):
    model, x = scrambled(residual)
    model.save(tmp_path / "m.katman")
    unregister(Scale)
    unregister(Residual)
    with pytest.raises(ModelFileError, match=f"{PACKAGE}>Residual"):
        katman.models.load_model(tmp_path / "m.katman")
    loaded = katman.models.load_model(
        tmp_path / "m.katman", custom_objects={"Residual": Residual, "Scale": Scale}
    )
    assert isinstance(loaded, Residual)
    assert_same_outputs(outputs(model, x), outputs(loaded, x))


# -- JSON -------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", MAKERS, ids=lambda f: f.__name__)
def test_to_json_and_model_from_json(make):
    model, x = scrambled(make)
    text = model.to_json()
    assert isinstance(json.loads(text), dict)
    clone = katman.models.model_from_json(text)
    assert type(clone) is type(model)
    assert clone.to_json() == text
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert not clone.compiled
    clone.set_weights(model.get_weights())
    assert_same_outputs(outputs(model, x), outputs(clone, x))


def test_model_from_json_refuses_what_is_not_a_model():
    with pytest.raises(ModelFileError, match="JSON"):
        katman.models.model_from_json("[1, 2")
    with pytest.raises(ModelFileError, match="Unknown layer"):
        katman.models.model_from_json('{"class_name": "os.system", "config": {}}')


# -- Lambda layers ------------------------------------------------------------------------------
def test_lambda_with_a_builtin_op_and_a_registered_function(tmp_path):
    model = katman.Sequential(
        [
            katman.Input(shape=(6,)),
            layers.Lambda(ops.square),
            layers.Lambda(halve, arguments={"factor": 4.0}),
            layers.Dense(2),
        ]
    )
    model.save(tmp_path / "m.katman")
    loaded = katman.models.load_model(tmp_path / "m.katman")
    assert loaded.layers[0].function is ops.square
    assert loaded.layers[1].function is halve and loaded.layers[1].arguments == {"factor": 4.0}
    assert_same_outputs(outputs(model, X), outputs(loaded, X))
    np.testing.assert_allclose(
        ops.convert_to_numpy(loaded.layers[1](ops.convert_to_tensor(X))), X / 4.0
    )


def test_lambda_with_an_anonymous_function_cannot_be_saved(tmp_path):
    model = katman.Sequential([katman.Input(shape=(6,)), layers.Lambda(lambda t: t * 2)])
    message = "not registered, and katman never stores code.*register_serializable"
    with pytest.raises(ValueError, match=message):
        model.save(tmp_path / "m.katman")
    with pytest.raises(ValueError, match=message):
        model.to_json()
    assert not list(tmp_path.iterdir())


# -- the file itself ----------------------------------------------------------------------------
def test_the_file_is_a_zip_with_the_documented_members(tmp_path):
    model, _, _ = trained(sequential)  # trained: the optimizer has state to save
    model.save(tmp_path / "m.katman")
    with zipfile.ZipFile(tmp_path / "m.katman") as archive:
        assert archive.namelist() == [
            "metadata.json",
            "config.json",
            "compile.json",
            "model.weights.safetensors",
            "optimizer.safetensors",
        ]
        for name in ("model.weights.safetensors", "optimizer.safetensors"):
            assert archive.getinfo(name).compress_type == zipfile.ZIP_STORED
        metadata = json.loads(archive.read("metadata.json"))
        config = json.loads(archive.read("config.json"))
    assert {"format", "format_version", "katman_version", "backend", "floatx"} <= set(metadata)
    assert metadata["format"] == "katman" and metadata["format_version"] == 1
    assert metadata["katman_version"] == katman.__version__
    assert metadata["backend"] == katman.config.backend()
    assert metadata["floatx"] == katman.config.floatx()
    assert config["class_name"] == "Sequential"


def test_unbuilt_models_cannot_be_saved(tmp_path):
    model = katman.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        model.save(tmp_path / "m.katman")
    with pytest.raises(ValueError, match="not built"):
        model.save_weights(tmp_path / "m.weights.safetensors")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m", "m.katman.zip"])
def test_save_refuses_other_suffixes(tmp_path, name):
    model = katman.Sequential([katman.Input(shape=(6,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"must end in '\.katman'"):
        model.save(tmp_path / name)


@pytest.mark.parametrize("name", ["m.katman", "m.weights.h5", "m.safetensors"])
def test_save_weights_refuses_other_suffixes(tmp_path, name):
    model = katman.Sequential([katman.Input(shape=(6,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"must end in '\.weights\.safetensors'"):
        model.save_weights(tmp_path / name)
    with pytest.raises(ValueError, match=r"must end in '\.weights\.safetensors'"):
        model.load_weights(tmp_path / name.replace(".katman", ".bin"))


def test_load_model_points_weights_files_and_keras_files_elsewhere(tmp_path):
    model = katman.Sequential([katman.Input(shape=(6,)), layers.Dense(2)])
    model.save_weights(tmp_path / "m.weights.safetensors")
    with pytest.raises(ModelFileError, match=r"weights file.*load_weights\(\)"):
        katman.models.load_model(tmp_path / "m.weights.safetensors")
    (tmp_path / "m.keras").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    with pytest.raises(ModelFileError, match=r"not Keras's \.keras"):
        katman.models.load_model(tmp_path / "m.keras")
    with pytest.raises(ModelFileError, match="No such file"):
        katman.models.load_model(tmp_path / "missing.katman")


def test_overwrite_false_refuses_to_replace_a_file(tmp_path):
    model, x = scrambled(sequential)
    model.save(tmp_path / "m.katman")
    model.save_weights(tmp_path / "m.weights.safetensors")
    before = (tmp_path / "m.katman").read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(tmp_path / "m.katman", overwrite=False)
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save_weights(tmp_path / "m.weights.safetensors", overwrite=False)
    assert (tmp_path / "m.katman").read_bytes() == before
    katman.saving.save_model(model, tmp_path / "new.katman", overwrite=False)
    model.set_weights([w * 2 for w in model.get_weights()])
    model.save(tmp_path / "m.katman", overwrite=True)
    assert_same_outputs(
        outputs(model, x), outputs(katman.models.load_model(tmp_path / "m.katman"), x)
    )


def test_safe_mode_cannot_be_turned_off(tmp_path):
    model = katman.Sequential([katman.Input(shape=(6,)), layers.Dense(2)])
    model.save(tmp_path / "m.katman")
    with pytest.raises(ValueError, match="no unsafe mode"):
        katman.models.load_model(tmp_path / "m.katman", safe_mode=False)

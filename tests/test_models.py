"""Models on the active backend: Sequential, functional graphs (several inputs and outputs,
shared layers, skip connections, nesting), subclassing, summary, get_layer, configs, and the
errors users meet while building them."""

from __future__ import annotations

import numpy as np
import pytest

import katman
from katman import layers, ops
from katman.errors import ShapeError, UnknownNameError


def numpy(x):
    return ops.convert_to_numpy(x)


def dense_model():
    return katman.Sequential(
        [katman.Input(shape=(6,)), layers.Dense(5, activation="relu"), layers.Dense(3)]
    )


class Scale(layers.Layer):
    """A user-written layer: one weight per feature."""

    def build(self, input_shape):
        self.factor = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="factor")

    def call(self, inputs):
        return inputs * self.factor


# -- Sequential ------------------------------------------------------------------------------
def test_sequential_from_list_builds_with_input():
    model = dense_model()
    assert model.built
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dense"]
    assert model.count_params() == 6 * 5 + 5 + 5 * 3 + 3
    assert [w.shape for w in model.weights] == [(6, 5), (5,), (5, 3), (3,)]
    assert model.predict(np.ones((4, 6), "float32"), verbose=0).shape == (4, 3)


def test_sequential_add_pop_and_deferred_build():
    model = katman.Sequential()
    model.add(layers.Dense(4))
    model.add(layers.Dense(2))
    assert not model.built
    with pytest.raises(ValueError, match="not built"):
        model.count_params()
    out = model(np.ones((3, 7), "float32"))
    assert tuple(out.shape) == (3, 2) and model.built
    assert model.count_params() == 7 * 4 + 4 + 4 * 2 + 2
    popped = model.pop()
    assert popped.units == 2 and len(model.layers) == 1
    assert tuple(model(np.ones((3, 7), "float32")).shape) == (3, 4)
    with pytest.raises(IndexError):
        katman.Sequential().pop()


def test_sequential_input_shape_on_first_layer():
    model = katman.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(1)])
    assert model.built and model.input_shape == (None, 3)


def test_sequential_rejects_non_layers_and_duplicate_names():
    model = katman.Sequential()
    with pytest.raises(TypeError, match="katman layer"):
        model.add("dense")
    model.add(layers.Dense(2, name="d"))
    with pytest.raises(ValueError, match="named 'd'"):
        model.add(layers.Dense(2, name="d"))


# -- functional -------------------------------------------------------------------------------
def test_functional_multi_input_multi_output_dict():
    a = katman.Input(shape=(4,), name="a")
    b = katman.Input(shape=(2,), name="b")
    merged = layers.Concatenate()([layers.Dense(3)(a), b])
    outputs = {
        "score": layers.Dense(1, name="score")(merged),
        "probs": layers.Dense(3, activation="softmax", name="probs")(merged),
    }
    model = katman.Model(inputs=[a, b], outputs=outputs)
    result = model.predict([np.ones((5, 4), "float32"), np.ones((5, 2), "float32")], verbose=0)
    assert set(result) == {"score", "probs"}
    assert result["score"].shape == (5, 1) and result["probs"].shape == (5, 3)
    np.testing.assert_allclose(result["probs"].sum(-1), 1.0, rtol=1e-5)
    by_name = model({"a": np.ones((2, 4), "float32"), "b": np.ones((2, 2), "float32")})
    assert tuple(by_name["probs"].shape) == (2, 3)


def test_shared_layer_and_resnet_block():
    inputs = katman.Input(shape=(8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    shortcut = x
    y = layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    y = layers.Conv2D(4, 3, padding="same")(y)
    x = layers.Add()([y, shortcut])
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(2)(x)
    model = katman.Model(inputs, outputs, name="tiny_resnet")
    assert model.predict(np.random.rand(3, 8, 8, 3).astype("float32"), verbose=0).shape == (3, 2)
    shared = layers.Dense(2, name="shared")
    left, right = katman.Input(shape=(3,)), katman.Input(shape=(3,))
    twin = katman.Model([left, right], layers.Add()([shared(left), shared(right)]))
    assert sum(layer.name == "shared" for layer in twin.layers) == 1
    x = np.random.rand(4, 3).astype("float32")
    np.testing.assert_allclose(
        twin.predict([x, x], verbose=0), 2 * numpy(shared(x)), rtol=1e-5, atol=1e-6
    )


class Gate(layers.Layer):
    """A user-written layer taking a second tensor by keyword."""

    def call(self, inputs, gate=None):
        return inputs if gate is None else inputs * gate


def test_functional_passes_masks_along_the_graph_and_tensors_given_by_keyword():
    tokens = katman.Input(shape=(4,), dtype="int32")
    embedded = layers.Embedding(5, 3, mask_zero=True, name="embed")(tokens)
    scaled = layers.Activation("linear")(embedded)  # no mask logic of its own: passes it on
    pooled = layers.GlobalAveragePooling1D()(scaled)  # averages the unmasked steps only
    weights = katman.Input(shape=(3,))
    outputs = Gate()(pooled, gate=weights)
    model = katman.Model([tokens, weights], outputs)

    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]], dtype="int32")
    gate = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]], dtype="float32")
    table = numpy(model.get_layer("embed").embeddings)
    expected = np.stack([table[[1, 2]].mean(0), table[[3]].mean(0)]) * gate
    for _ in range(2):  # the second call runs the same plan again
        np.testing.assert_allclose(numpy(model([ids, gate])), expected, rtol=1e-5, atol=1e-6)
    unmasked = np.stack([table[ids[0]].mean(0), table[ids[1]].mean(0)]) * gate
    assert not np.allclose(expected, unmasked)


def test_model_called_on_model_and_nested():
    encoder = dense_model()
    inputs = katman.Input(shape=(6,))
    outputs = layers.Dense(1)(encoder(inputs))
    model = katman.Model(inputs, outputs)
    x = np.random.rand(2, 6).astype("float32")
    np.testing.assert_allclose(
        model.predict(x, verbose=0), numpy(model.layers[-1](encoder(x))), rtol=1e-5
    )
    assert model.count_params() == encoder.count_params() + 4
    stacked = katman.Sequential([encoder, layers.Dense(2)])
    assert tuple(stacked(x).shape) == (2, 2)


def test_functional_config_round_trip_predicts_the_same():
    a = katman.Input(shape=(4,), name="x")
    h = layers.Dense(5, activation="tanh")(a)
    out = layers.Add()([layers.Dense(5)(h), h])
    model = katman.Model(a, out)
    clone = katman.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = np.random.rand(3, 4).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    sequential = dense_model()
    copy = katman.Sequential.from_config(sequential.get_config())
    assert [w.shape for w in copy.weights] == [w.shape for w in sequential.weights]


def test_functional_rejects_tensors_not_from_inputs():
    with pytest.raises(ValueError, match=r"katman\.Input"):
        katman.Model(katman.KerasTensor((None, 3)), katman.Input(shape=(3,)))
    a, b = katman.Input(shape=(3,)), katman.Input(shape=(3,))
    with pytest.raises(ValueError, match="not among the model's inputs"):
        katman.Model(a, layers.Add()([a, b]))


# -- subclassing --------------------------------------------------------------------------------
class TwoTower(katman.Model):
    def __init__(self):
        super().__init__(name="two_tower")
        self.hidden = layers.Dense(4, activation="relu")
        self.blocks = [Scale(), layers.Dense(2)]

    def call(self, inputs, training=None):
        x = self.hidden(inputs)
        for block in self.blocks:
            x = block(x)
        return x


def test_subclassed_model_tracks_layers_and_weights():
    model = TwoTower()
    assert not model.built
    model.build((None, 3))
    assert model.built
    assert [w.name for w in model.weights].count("factor") == 1
    assert model.count_params() == 3 * 4 + 4 + 4 + 4 * 2 + 2
    assert len(model.layers) == 3
    out = model(np.ones((2, 3), "float32"))
    assert tuple(out.shape) == (2, 2)


# -- summary and get_layer --------------------------------------------------------------------
def test_summary_layout(capsys):
    model = dense_model()
    model.summary()
    text = capsys.readouterr().out
    assert 'Model: "' in text
    assert "Layer (type)" in text and "Output Shape" in text and "Param #" in text
    assert "(Dense)" in text and "(None, 5)" in text and "(None, 3)" in text
    assert "Total params: 53" in text
    assert "Trainable params: 53" in text and "Non-trainable params: 0" in text
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    assert any("Total params" in line for line in lines)


def test_summary_counts_non_trainable():
    model = katman.Sequential(
        [katman.Input(shape=(4,)), layers.BatchNormalization(), layers.Dense(2)]
    )
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Non-trainable params: 8" in text and "Trainable params: 18" in text


def test_get_layer():
    model = dense_model()
    first = model.layers[0]
    assert model.get_layer(name=first.name) is first
    assert model.get_layer(index=-1) is model.layers[-1]
    with pytest.raises(ValueError, match="no layer named 'nope'.*" + first.name):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="out of range"):
        model.get_layer(index=7)
    with pytest.raises(ValueError, match="exactly one"):
        model.get_layer()


# -- errors -------------------------------------------------------------------------------------
def test_wrong_rank_and_shape_errors_name_the_layer():
    dense = layers.Dense(3, name="proj")
    dense(np.ones((2, 4), "float32"))
    with pytest.raises(ShapeError, match="proj") as info:
        dense(np.ones((2, 5), "float32"))
    assert "4" in str(info.value) and "(2, 5)" in str(info.value)
    conv = layers.Conv2D(2, 3, name="conv")
    with pytest.raises(ShapeError, match=r"conv.*rank 4"):
        conv(np.ones((2, 8, 8), "float32"))
    model = dense_model()
    with pytest.raises(ShapeError, match="expected shape \\(None, 6\\)"):
        model.predict(np.ones((2, 7), "float32"), verbose=0)


def test_unknown_names_in_compile_list_the_known_ones():
    model = dense_model()
    with pytest.raises(UnknownNameError, match="adam"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(UnknownNameError, match="mean_squared_error"):
        model.compile(optimizer="sgd", loss="mean_squared_erorr")
    model.compile(optimizer="sgd", loss="mse", metrics=["accuracyy"])
    with pytest.raises(UnknownNameError, match="accuracy"):
        model.fit(np.ones((4, 6)), np.ones((4, 3)), verbose=0)


def test_fit_with_mismatched_lengths():
    model = dense_model()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ShapeError, match=r"x has 10 .*y has 9"):
        model.fit(np.ones((10, 6)), np.ones((9, 3)), verbose=0)


def test_loss_with_mismatched_shapes_names_the_loss():
    model = dense_model()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ShapeError, match="mean_squared_error"):
        model.fit(np.ones((4, 6)), np.ones((4, 5)), verbose=0)


def test_fit_before_compile():
    with pytest.raises(RuntimeError, match="compile"):
        dense_model().fit(np.ones((2, 6)), np.ones((2, 3)))

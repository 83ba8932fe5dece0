"""The built-in learning-rate schedules against Keras 3's, step by step."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras_oracle import keras

import katman
from katman import ops
from katman.backend import get_backend
from katman.errors import UnknownNameError

schedules = katman.optimizers.schedules
STEPS = [*range(12), 14, 17, 25]

# (schedule class name, constructor arguments), the same for katman and Keras.
CASES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5}),
    (
        "ExponentialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5, "staircase": True},
    ),
    ("PiecewiseConstantDecay", {"boundaries": [3, 7], "values": [1.0, 0.5, 0.1]}),
    ("PiecewiseConstantDecay", {"boundaries": [5], "values": [0.2, 0.02]}),
    ("PiecewiseConstantDecay", {"boundaries": [1, 2, 10, 20], "values": [5.0, 4.0, 3.0, 2.0, 1.0]}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 5}),
    (
        "PolynomialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 5, "end_learning_rate": 0.01, "power": 2.0},
    ),
    (
        "PolynomialDecay",
        {
            "initial_learning_rate": 0.1,
            "decay_steps": 4,
            "end_learning_rate": 0.01,
            "power": 0.5,
            "cycle": True,
        },
    ),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5}),
    (
        "InverseTimeDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5, "staircase": True},
    ),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 10}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "alpha": 0.1}),
    (
        "CosineDecay",
        {"initial_learning_rate": 0.0, "decay_steps": 10, "warmup_target": 0.1, "warmup_steps": 5},
    ),
    (
        "CosineDecay",
        {
            "initial_learning_rate": 0.01,
            "decay_steps": 8,
            "alpha": 0.2,
            "warmup_target": 0.1,
            "warmup_steps": 3,
        },
    ),
    (
        "CosineDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 10, "warmup_target": 0.2, "warmup_steps": 0},
    ),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 3}),
    (
        "CosineDecayRestarts",
        {
            "initial_learning_rate": 0.1,
            "first_decay_steps": 4,
            "t_mul": 1.0,
            "m_mul": 0.5,
            "alpha": 0.1,
        },
    ),
    (
        "CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 2, "t_mul": 1.5, "m_mul": 0.8},
    ),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


def _compare(name, kwargs, steps):
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    for step in steps:
        # As the optimizer calls it: with its int64 step counter.
        mine = ops.convert_to_numpy(ours(ops.convert_to_tensor(step, "int64")))
        expected = keras.ops.convert_to_numpy(theirs(keras.ops.convert_to_tensor(step, "int64")))
        assert ops.dtype(mine) == "float32"
        np.testing.assert_allclose(
            mine, expected, rtol=1e-5, atol=1e-7, err_msg=f"{name}({kwargs}) at step {step}"
        )


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_values_match_keras(name, kwargs):
    _compare(name, kwargs, STEPS)


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_python_int_steps(name, kwargs):
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    for step in (0, 4, 13):
        np.testing.assert_allclose(
            ops.convert_to_numpy(ours(step)),
            keras.ops.convert_to_numpy(theirs(step)),
            rtol=1e-5,
            atol=1e-7,
        )


@settings(max_examples=8, deadline=None)
@given(
    initial=st.floats(0.001, 1.0),
    decay_steps=st.integers(1, 20),
    end=st.floats(0.0, 0.001),
    power=st.floats(0.25, 3.0),
    cycle=st.booleans(),
)
def test_polynomial_decay_matches_keras(initial, decay_steps, end, power, cycle):
    kwargs = {
        "initial_learning_rate": initial,
        "decay_steps": decay_steps,
        "end_learning_rate": end,
        "power": power,
        "cycle": cycle,
    }
    _compare("PolynomialDecay", kwargs, [0, 1, decay_steps - 1, decay_steps, 2 * decay_steps + 1])


@settings(max_examples=8, deadline=None)
@given(
    first=st.integers(1, 10),
    t_mul=st.sampled_from([1.0, 1.5, 2.0, 3.0]),
    m_mul=st.floats(0.1, 1.0),
    alpha=st.floats(0.0, 0.5),
)
def test_cosine_decay_restarts_matches_keras(first, t_mul, m_mul, alpha):
    kwargs = {
        "initial_learning_rate": 0.1,
        "first_decay_steps": first,
        "t_mul": t_mul,
        "m_mul": m_mul,
        "alpha": alpha,
    }
    _compare("CosineDecayRestarts", kwargs, [0, 1, first, 2 * first + 1, 7 * first + 3])


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_config_matches_keras_and_round_trips(name, kwargs):
    cls = getattr(schedules, name)
    ours = cls(**kwargs)
    config = ours.get_config()
    assert config == getattr(keras.optimizers.schedules, name)(**kwargs).get_config()
    json.dumps(config)
    rebuilt = cls.from_config(config)
    assert type(rebuilt) is cls and rebuilt.get_config() == config
    again = schedules.deserialize(json.loads(json.dumps(schedules.serialize(ours))))
    assert type(again) is cls and again.get_config() == config
    np.testing.assert_allclose(ops.convert_to_numpy(again(7)), ops.convert_to_numpy(ours(7)))


def test_namespace_resolves_schedules():
    assert schedules.ExponentialDecay.__name__ == "ExponentialDecay"
    assert issubclass(schedules.CosineDecay, schedules.LearningRateSchedule)
    assert {"CosineDecay", "PiecewiseConstantDecay", "ExponentialDecay"} <= set(dir(schedules))
    with pytest.raises(AttributeError, match="ExponentialDecay"):
        _ = schedules.ExponentialDecy
    with pytest.raises(UnknownNameError, match="CosineDecayRestarts"):
        schedules.get("NoSuchDecay")


@pytest.mark.parametrize(
    ("name", "kwargs", "needle"),
    [
        (
            "ExponentialDecay",
            {"initial_learning_rate": 0.1, "decay_steps": 0, "decay_rate": 0.5},
            "decay_steps",
        ),
        (
            "InverseTimeDecay",
            {"initial_learning_rate": 0.1, "decay_steps": -1, "decay_rate": 0.5},
            "decay_steps",
        ),
        ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 0}, "decay_steps"),
        ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 0}, "decay_steps"),
        (
            "CosineDecay",
            {"initial_learning_rate": 0.1, "decay_steps": 5, "warmup_steps": -2},
            "warmup_steps",
        ),
        (
            "CosineDecayRestarts",
            {"initial_learning_rate": 0.1, "first_decay_steps": 0},
            "first_decay_steps",
        ),
        ("PiecewiseConstantDecay", {"boundaries": [1, 2], "values": [0.1, 0.2]}, "boundaries"),
    ],
)
def test_bad_arguments_are_clear_errors(name, kwargs, needle):
    with pytest.raises(ValueError, match=needle) as info:
        getattr(schedules, name)(**kwargs)
    assert name in str(info.value)


def test_single_value_piecewise_is_constant():
    schedule = schedules.PiecewiseConstantDecay([], [0.3])
    for step in (0, 5, 100):
        assert float(ops.convert_to_numpy(schedule(step))) == pytest.approx(0.3)


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_traces_in_a_compiled_function(name, kwargs):
    # No Python branch on the step's value: the schedule runs inside jax.jit / tf.function.
    schedule = getattr(schedules, name)(**kwargs)
    compiled = get_backend().compile_step(lambda step: schedule(step), [], mode="auto")
    for step in (0, 3, 12):
        tensor = ops.convert_to_tensor(step, "int64")
        np.testing.assert_allclose(
            ops.convert_to_numpy(compiled(tensor)),
            ops.convert_to_numpy(schedule(tensor)),
            rtol=1e-5,
            atol=1e-7,
        )

"""The built-in optimizers against Keras 3's: same variables, same gradients, same steps.

Each case builds a katman optimizer and the Keras one from the same arguments, applies the
same few gradient sets to variables holding the same NumPy values, and compares the variables,
``iterations`` and (where the state layout is Keras's) every optimizer variable after each step.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from keras_oracle import keras

import katman
from katman import ops
from katman.backend import get_backend
from katman.errors import UnknownNameError

SHAPES = [(3, 2), (4,)]
STEPS = 5
RTOL, ATOL = 1e-5, 1e-6


class Schedule:
    """A schedule argument, built from katman's or Keras's schedules namespace."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        self.name, self.kwargs = name, kwargs

    def build(self, schedules: Any) -> Any:
        return getattr(schedules, self.name)(**self.kwargs)

    def __repr__(self) -> str:
        return f"{self.name}({self.kwargs})"


EXPONENTIAL = Schedule("ExponentialDecay", initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5)
COSINE = Schedule(
    "CosineDecay", initial_learning_rate=0.0, decay_steps=4, warmup_target=0.1, warmup_steps=2
)

# (optimizer class name, constructor arguments): each differs from Keras's by nothing.
CASES = [
    ("SGD", {}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"learning_rate": 0.1, "weight_decay": 0.1}),
    ("SGD", {"learning_rate": 0.1, "clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "clipvalue": 0.1}),
    ("SGD", {"learning_rate": 0.1, "global_clipnorm": 0.5}),
    ("SGD", {"learning_rate": EXPONENTIAL, "momentum": 0.5}),
    ("Adam", {}),
    ("Adam", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-5}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    ("Adam", {"learning_rate": 0.01, "weight_decay": 0.05}),
    ("Adam", {"learning_rate": 0.01, "clipnorm": 0.5}),
    ("Adam", {"learning_rate": 0.01, "global_clipnorm": 0.5}),
    ("Adam", {"learning_rate": 0.01, "clipvalue": 0.2}),
    ("Adam", {"learning_rate": COSINE}),
    ("Adam", {"learning_rate": 0.01, "loss_scale_factor": 4.0}),
    ("Adam", {"learning_rate": 0.01, "gradient_accumulation_steps": 2}),
    ("SGD", {"learning_rate": 0.1, "use_ema": True, "ema_momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "use_ema": True, "ema_overwrite_frequency": 2}),
    ("AdamW", {}),
    ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.9}),
    ("RMSprop", {"learning_rate": 0.01, "centered": True}),
    ("RMSprop", {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.5, "centered": True}),
    ("RMSprop", {"learning_rate": 0.01, "clipnorm": 0.3, "weight_decay": 0.01}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-3}),
    ("Adamax", {"learning_rate": 0.01}),
    ("Nadam", {"learning_rate": 0.01}),
    ("Nadam", {"learning_rate": EXPONENTIAL, "beta_1": 0.8}),
    ("Lion", {"learning_rate": 0.01}),
    ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9, "weight_decay": 0.1}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.5, "epsilon": 1e-3}),
    ("Ftrl", {"learning_rate": 0.1}),
    (
        "Ftrl",
        {
            "learning_rate": 0.1,
            "learning_rate_power": -0.3,
            "l1_regularization_strength": 0.01,
            "l2_regularization_strength": 0.02,
            "l2_shrinkage_regularization_strength": 0.03,
            "beta": 0.1,
        },
    ),
    ("Adafactor", {"learning_rate": 0.01}),
    ("Adafactor", {"learning_rate": 0.5, "clip_threshold": 0.5, "beta_2_decay": -0.5}),
    ("Adafactor", {"learning_rate": EXPONENTIAL, "relative_step": False}),
]


def _resolve(kwargs: dict[str, Any], schedules: Any) -> dict[str, Any]:
    return {k: v.build(schedules) if isinstance(v, Schedule) else v for k, v in kwargs.items()}


def _data(seed: int = 0) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=s).astype("float32") for s in SHAPES]
    grads = [[rng.normal(size=s).astype("float32") for s in SHAPES] for _ in range(STEPS)]
    return values, grads


def _numpy(x: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


def _check_step(ours: Any, theirs: Any, ours_vars: list, theirs_vars: list, step: int) -> None:
    for mine, keras_var in zip(ours_vars, theirs_vars, strict=True):
        np.testing.assert_allclose(
            ops.convert_to_numpy(mine.value),
            _numpy(keras_var),
            rtol=RTOL,
            atol=ATOL,
            err_msg=f"variable {mine.name} after step {step}",
        )
    step = ours.iterations  # a Variable, or a tensor with gradient accumulation (as Keras)
    assert int(ops.convert_to_numpy(getattr(step, "value", step))) == int(_numpy(theirs.iterations))


def _run_pair(name: str, kwargs: dict[str, Any], constraint: bool = False) -> tuple[Any, Any]:
    ours = getattr(katman.optimizers, name)(**_resolve(kwargs, katman.optimizers.schedules))
    theirs = getattr(keras.optimizers, name)(**_resolve(kwargs, keras.optimizers.schedules))
    values, grads = _data()
    ours_vars = [katman.Variable(v, name=f"w{i}") for i, v in enumerate(values)]
    theirs_vars = [keras.Variable(v, name=f"w{i}") for i, v in enumerate(values)]
    if constraint:
        for variable in ours_vars:
            variable.constraint = lambda x: ops.clip(x, -0.5, 0.5)
        for variable in theirs_vars:
            variable.constraint = lambda x: keras.ops.clip(x, -0.5, 0.5)
    for step, grad_set in enumerate(grads, start=1):
        ours.apply([ops.convert_to_tensor(g) for g in grad_set], ours_vars)
        theirs.apply([keras.ops.convert_to_tensor(g) for g in grad_set], theirs_vars)
        _check_step(ours, theirs, ours_vars, theirs_vars, step)
    return ours, theirs


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=lambda c: repr(c))
def test_matches_keras(name, kwargs):
    ours, theirs = _run_pair(name, kwargs)
    # Same state, in the same order (iterations, learning rate, the slots).
    assert len(ours.variables) == len(theirs.variables)
    for mine, keras_var in zip(ours.variables, theirs.variables, strict=True):
        assert mine.shape == tuple(keras_var.shape)
        np.testing.assert_allclose(
            ops.convert_to_numpy(mine.value),
            _numpy(keras_var),
            rtol=RTOL,
            atol=ATOL,
            err_msg=mine.name,
        )


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_constraint_applied_after_the_update(name):
    ours, _ = _run_pair(name, {"learning_rate": 0.5}, constraint=True)
    assert ours.iterations.numpy() == STEPS


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
        ("Adam", {"learning_rate": 0.01, "amsgrad": True, "weight_decay": 0.1}),
        ("Nadam", {"learning_rate": 0.01, "global_clipnorm": 1.0}),
        ("Adafactor", {"learning_rate": 0.01}),
        ("RMSprop", {"learning_rate": COSINE, "momentum": 0.5, "centered": True}),
        (
            "Adam",
            {
                "learning_rate": Schedule(
                    "PiecewiseConstantDecay", boundaries=[1], values=[0.1, 0.01]
                )
            },
        ),
    ],
    ids=lambda c: repr(c),
)
def test_compiled_step_matches_eager(name, kwargs):
    # The update traces under the backend's compiler (jax.jit, tf.function).
    values, grads = _data(1)
    cls = getattr(katman.optimizers, name)
    eager_opt = cls(**_resolve(kwargs, katman.optimizers.schedules))
    compiled_opt = cls(**_resolve(kwargs, katman.optimizers.schedules))
    eager_vars = [katman.Variable(v) for v in values]
    compiled_vars = [katman.Variable(v) for v in values]
    compiled_opt.build(compiled_vars)
    handles = [v.handle for v in compiled_vars + compiled_opt.variables]

    def step(grad_set: list) -> None:
        compiled_opt.apply(grad_set, compiled_vars)

    compiled = get_backend().compile_step(step, handles, mode="auto")
    for grad_set in grads[:3]:
        tensors = [ops.convert_to_tensor(g) for g in grad_set]
        eager_opt.apply(tensors, eager_vars)
        compiled(tensors)
    for mine, reference in zip(compiled_vars, eager_vars, strict=True):
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=RTOL, atol=ATOL)
    assert int(compiled_opt.iterations.numpy()) == 3


ALL = [
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adamax",
    "Nadam",
    "Lion",
    "Adadelta",
    "Ftrl",
    "Adafactor",
]


@pytest.mark.parametrize("name", ALL)
def test_defaults_and_config_keys_match_keras(name):
    ours = getattr(katman.optimizers, name)()
    theirs = getattr(keras.optimizers, name)()
    config = ours.get_config()
    keras_config = theirs.get_config()
    assert set(config) == set(keras_config)
    for key, value in keras_config.items():
        if key == "name":
            continue
        assert config[key] == pytest.approx(value), key
    # Keras numbers the second and later instances ("adam_2"); the base name is the same.
    assert re.fullmatch(rf"{config['name']}(_\d+)?", keras_config["name"])


@pytest.mark.parametrize("name", ALL)
def test_config_round_trip(name):
    cls = getattr(katman.optimizers, name)
    optimizer = cls(learning_rate=0.05, clipnorm=1.5, use_ema=True, ema_momentum=0.9, name="opt")
    config = optimizer.get_config()
    rebuilt = cls.from_config(config)
    assert type(rebuilt) is cls
    assert rebuilt.get_config() == config
    again = katman.optimizers.deserialize(katman.optimizers.serialize(optimizer))
    assert type(again) is cls and again.get_config() == config


def test_config_round_trip_with_schedule():
    schedule = katman.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True)
    optimizer = katman.optimizers.SGD(learning_rate=schedule, momentum=0.5)
    rebuilt = katman.optimizers.SGD.from_config(optimizer.get_config())
    assert isinstance(rebuilt._schedule, katman.optimizers.schedules.ExponentialDecay)
    assert rebuilt.get_config() == optimizer.get_config()


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("sgd", "SGD"),
        ("adam", "Adam"),
        ("rmsprop", "RMSprop"),
        ("adamw", "AdamW"),
        ("adagrad", "Adagrad"),
        ("adamax", "Adamax"),
        ("nadam", "Nadam"),
        ("lion", "Lion"),
        ("adadelta", "Adadelta"),
        ("ftrl", "Ftrl"),
        ("adafactor", "Adafactor"),
        ("Adam", "Adam"),
    ],
)
def test_get_by_name(alias, name):
    optimizer = katman.optimizers.get(alias)
    assert type(optimizer) is getattr(katman.optimizers, name)
    assert type(optimizer) is katman.optimizers.get(name).__class__


def test_get_unknown_name_lists_known_ones():
    with pytest.raises(UnknownNameError) as info:
        katman.optimizers.get("adamm")
    message = str(info.value)
    assert "adamm" in message and "adam" in message and "rmsprop" in message


@pytest.mark.parametrize(
    ("name", "kwargs", "needle"),
    [
        ("SGD", {"momentum": 1.5}, "momentum"),
        ("SGD", {"momentum": -0.1}, "momentum"),
        ("Adam", {"beta_1": 2.0}, "beta_1"),
        ("AdamW", {"weight_decay": None}, "weight_decay"),
        ("RMSprop", {"rho": -1.0}, "rho"),
        ("Lion", {"beta_1": 0.0}, "beta_1"),
        ("Adagrad", {"initial_accumulator_value": -1.0}, "initial_accumulator_value"),
        ("Ftrl", {"learning_rate_power": 0.5}, "learning_rate_power"),
        ("Ftrl", {"l1_regularization_strength": -1.0}, "l1_regularization_strength"),
        ("Adafactor", {"clip_threshold": 0.0}, "clip_threshold"),
        ("Adam", {"clipnorm": 1.0, "clipvalue": 1.0}, "clipnorm"),
    ],
)
def test_bad_arguments_are_clear_errors(name, kwargs, needle):
    with pytest.raises(ValueError, match=needle) as info:
        getattr(katman.optimizers, name)(**kwargs)
    assert name in str(info.value)


def test_unknown_keyword_is_an_error():
    with pytest.raises(TypeError, match="momentun"):
        katman.optimizers.SGD(momentun=0.9)


def test_slots_follow_keras_order_and_names():
    optimizer = katman.optimizers.Adam()
    variables = [
        katman.Variable(np.zeros(s, "float32"), name=f"v{i}") for i, s in enumerate(SHAPES)
    ]
    optimizer.build(variables)
    names = [v.name for v in optimizer.variables]
    assert names == [
        "iteration",
        "learning_rate",
        "v0_momentum",
        "v0_velocity",
        "v1_momentum",
        "v1_velocity",
    ]


def test_adam_updates_variables_of_different_dtypes_as_separately_built_optimizers():
    values = [np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3), np.arange(4.0) / 4]
    grads = [np.full((2, 3), 0.5), np.linspace(1, -1, 4)]
    together = [
        katman.Variable(values[0], dtype="float32"),
        katman.Variable(values[1], dtype="float16"),
    ]
    apart = [
        katman.Variable(values[0], dtype="float32"),
        katman.Variable(values[1], dtype="float16"),
    ]
    joint = katman.optimizers.Adam(learning_rate=0.1)
    single = [katman.optimizers.Adam(learning_rate=0.1) for _ in apart]
    for _ in range(3):
        tensors = [ops.convert_to_tensor(g, v.dtype) for g, v in zip(grads, together, strict=True)]
        joint.apply(tensors, together)
        for optimizer, grad, variable in zip(single, grads, apart, strict=True):
            optimizer.apply([ops.convert_to_tensor(grad, variable.dtype)], [variable])
    for a, b in zip(together, apart, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(ops.convert_to_numpy(a.value), ops.convert_to_numpy(b.value))


def test_adam_update_step_updates_one_variable_as_apply_does():
    # Keras's per-variable entry point gives what apply() gives for that variable.
    values, grad = np.array([0.5, -1.0, 2.0], "float32"), np.array([0.1, 0.2, -0.3], "float32")
    stepped, applied = katman.Variable(values), katman.Variable(values)
    by_step, by_apply = katman.optimizers.Adam(0.1), katman.optimizers.Adam(0.1)
    by_step.build([stepped])
    by_step.update_step(ops.convert_to_tensor(grad), stepped, ops.convert_to_tensor(0.1))
    by_apply.apply([ops.convert_to_tensor(grad)], [applied])
    np.testing.assert_array_equal(
        ops.convert_to_numpy(stepped.value), ops.convert_to_numpy(applied.value)
    )
    assert not np.array_equal(ops.convert_to_numpy(stepped.value), values)

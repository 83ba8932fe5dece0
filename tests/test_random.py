"""katman.random on the active backend: Keras's signatures, seeds (ints, SeedGenerator, None),
default dtypes, argument checks and symbolic calls. The distributions themselves are checked
by the conformance suite (conformance_tests/test_random.py)."""

from __future__ import annotations

import ast
import importlib.util
import inspect
from pathlib import Path

import numpy as np
import pytest
from conftest import clean_env, run_python

import katman
import katman.random as random
from katman import ops

FUNCTIONS = (
    "normal",
    "uniform",
    "truncated_normal",
    "randint",
    "categorical",
    "dropout",
    "shuffle",
    "gamma",
    "binomial",
    "beta",
)

# One call of each function, given a seed.
CALLS = {
    "normal": lambda seed: random.normal((3, 4), seed=seed),
    "uniform": lambda seed: random.uniform((3, 4), seed=seed),
    "truncated_normal": lambda seed: random.truncated_normal((3, 4), seed=seed),
    "randint": lambda seed: random.randint((3, 4), 0, 1000, seed=seed),
    "categorical": lambda seed: random.categorical(np.zeros((2, 50), "float32"), 6, seed=seed),
    "dropout": lambda seed: random.dropout(np.ones((3, 40), "float32"), 0.5, seed=seed),
    "shuffle": lambda seed: random.shuffle(np.arange(40), seed=seed),
    "gamma": lambda seed: random.gamma((3, 4), 2.0, seed=seed),
    "binomial": lambda seed: random.binomial((3, 4), 1000, 0.5, seed=seed),
    "beta": lambda seed: random.beta((3, 4), 2.0, 3.0, seed=seed),
}


def numpy(x):
    return ops.convert_to_numpy(x)


def dtype_of(x):
    return katman.backend.get_backend().dtype_of(x)


def keras_signatures() -> dict[str, list[tuple[str, object]]]:
    """Parameter names and defaults of keras.random's functions, read from Keras's source
    (importing keras would import a framework)."""
    spec = importlib.util.find_spec("keras")
    if spec is None or spec.origin is None:
        pytest.skip("keras is not installed")
    source = Path(spec.origin).parent / "src" / "random" / "random.py"
    tree = ast.parse(source.read_text())
    signatures = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            args = node.args.args
            defaults = [None] * (len(args) - len(node.args.defaults)) + [
                ast.literal_eval(d) for d in node.args.defaults
            ]
            signatures[node.name] = [
                (a.arg, d if i >= len(args) - len(node.args.defaults) else inspect.Parameter.empty)
                for i, (a, d) in enumerate(zip(args, defaults, strict=True))
            ]
    return signatures


# -- the API --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", FUNCTIONS)
def test_signatures_match_keras(name):
    expected = keras_signatures()[name]
    parameters = inspect.signature(getattr(random, name)).parameters.values()
    assert [(p.name, p.default) for p in parameters] == expected


def test_namespace_lists_keras_names():
    assert set(FUNCTIONS) | {"SeedGenerator"} <= set(random.__all__)
    assert katman.random is random


def test_import_loads_no_framework(home):
    code = (
        "import sys, katman.random\n"
        "print(sorted(m for m in ('torch', 'jax', 'tensorflow', 'keras') if m in sys.modules))"
    )
    result = run_python(code, clean_env(KATMAN_HOME=str(home)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_is_an_op_of_area_random(name):
    op = getattr(ops, name)
    assert isinstance(op, ops.Op) and op.area == "random" and not op.differentiable
    assert op.__doc__


# -- seeds ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", FUNCTIONS)
def test_same_int_seed_same_numbers_other_seed_other_numbers(name):
    call = CALLS[name]
    first, again, other = numpy(call(7)), numpy(call(7)), numpy(call(8))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_seed_generator_gives_new_numbers_each_call_and_replays(name):
    call = CALLS[name]
    generator = random.SeedGenerator(42)
    first, second = numpy(call(generator)), numpy(call(generator))
    assert not np.array_equal(first, second)
    replay = random.SeedGenerator(42)
    np.testing.assert_array_equal(numpy(call(replay)), first)
    np.testing.assert_array_equal(numpy(call(replay)), second)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_seed_none_draws_fresh_numbers(name):
    call = CALLS[name]
    assert not np.array_equal(numpy(call(None)), numpy(call(None)))


def seeds_of(generator, count):
    return [tuple(numpy(generator.next()).tolist()) for _ in range(count)]


def test_seed_generator_sequence():
    generator = random.SeedGenerator(3)
    seeds = seeds_of(generator, 100)
    assert generator.counter == 100
    assert len(set(seeds)) == 100
    assert all(0 <= base < 2**63 for base, _ in seeds)
    assert seeds_of(random.SeedGenerator(3), 3) == seeds[:3]
    assert seeds_of(random.SeedGenerator(4), 1)[0] != seeds[0]


def test_seed_generator_state_is_a_variable():
    generator = random.SeedGenerator(3)
    first = numpy(random.normal((4,), seed=generator))
    generator.state.assign(generator.state.numpy() * [1, 0])  # back to the first seed
    np.testing.assert_array_equal(numpy(random.normal((4,), seed=generator)), first)
    assert not generator.state.trainable


def test_seed_generator_config_round_trip():
    generator = random.SeedGenerator(seed=11, name="noise")
    generator.next()
    config = generator.get_config()
    assert config == {"seed": 11, "name": "noise"}
    rebuilt = random.SeedGenerator.from_config(config)
    assert rebuilt.name == "noise" and rebuilt.counter == 0
    assert seeds_of(rebuilt, 1) == seeds_of(random.SeedGenerator(11), 1)


def test_seed_generator_without_seed_draws_one():
    generator = random.SeedGenerator()
    assert generator.get_config()["seed"] is None
    assert isinstance(generator.seed, int)
    assert generator.name.startswith("seed_generator")


@pytest.mark.parametrize("seed", [1.5, "3", [1, 2], True])
def test_seed_generator_rejects_non_int_seeds(seed):
    with pytest.raises(ValueError, match="seed"):
        random.SeedGenerator(seed)


def test_seed_generator_rejects_unknown_keywords():
    with pytest.raises(ValueError, match="unrecognized"):
        random.SeedGenerator(1, backend="torch")


def test_draw_seed():
    assert random.draw_seed(5) == 5
    assert random.draw_seed(np.int64(5)) == 5
    assert random.draw_seed(-1) == 2**63 - 1
    np.testing.assert_array_equal(
        numpy(random.draw_seed(random.SeedGenerator(1))), numpy(random.SeedGenerator(1).next())
    )
    assert numpy(random.draw_seed(None)).shape == (2,)
    with pytest.raises(ValueError, match="SeedGenerator"):
        random.draw_seed(1.0)
    with pytest.raises(ValueError, match="SeedGenerator"):
        random.normal((2,), seed="a")


def test_large_and_negative_int_seeds():
    for seed in (2**40, 2**70, -5):
        np.testing.assert_array_equal(
            numpy(random.normal((4,), seed=seed)), numpy(random.normal((4,), seed=seed))
        )
    assert not np.array_equal(
        numpy(random.normal((8,), seed=5)), numpy(random.normal((8,), seed=5 + 2**32))
    )


def test_ops_need_an_int_seed_or_pair():
    with pytest.raises((TypeError, ValueError), match="seed"):
        ops.normal((2,), seed=random.SeedGenerator(1))


# -- dtypes and shapes ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["normal", "uniform", "truncated_normal", "gamma", "binomial", "beta"]
)
def test_float_samplers_default_to_floatx(name):
    original = katman.config.floatx()
    assert dtype_of(CALLS[name](1)) == original
    try:
        katman.config.set_floatx("float64")
        assert dtype_of(CALLS[name](1)) == "float64"
    finally:
        katman.config.set_floatx(original)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_float_dtypes(dtype):
    for result in (
        random.normal((2, 3), dtype=dtype, seed=1),
        random.uniform((2, 3), dtype=dtype, seed=1),
        random.truncated_normal((2, 3), dtype=dtype, seed=1),
        random.gamma((2, 3), 1.5, dtype=dtype, seed=1),
        random.beta((2, 3), 1.5, 2.0, dtype=dtype, seed=1),
        random.binomial((2, 3), 10, 0.5, dtype=dtype, seed=1),
    ):
        assert dtype_of(result) == dtype
        assert numpy(result).shape == (2, 3)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
def test_randint_dtypes_and_range(dtype):
    result = random.randint((50,), 3, 9, dtype=dtype, seed=2)
    assert dtype_of(result) == dtype
    values = numpy(result)
    assert values.min() >= 3 and values.max() < 9


def test_integer_defaults():
    assert dtype_of(random.randint((2,), 0, 5, seed=1)) == "int32"
    assert dtype_of(random.categorical(np.zeros((2, 3)), 4, seed=1)) == "int32"
    assert dtype_of(random.categorical(np.zeros((2, 3)), 4, dtype="int64", seed=1)) == "int64"
    assert dtype_of(random.binomial((2,), 5, 0.5, dtype="int32", seed=1)) == "int32"


def test_shape_may_be_an_int_or_empty():
    assert numpy(random.normal(5, seed=1)).shape == (5,)
    assert numpy(random.uniform((), seed=1)).shape == ()
    assert numpy(random.randint([2, 0], 0, 3, seed=1)).shape == (2, 0)
    assert numpy(random.normal((np.int64(2), 3), seed=1)).shape == (2, 3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: random.uniform((2,), dtype="int32"), "floating point"),
        (lambda: random.normal((2,), dtype="bool"), "floating point"),
        (lambda: random.randint((2,), 0, 5, dtype="float32"), "integer"),
        (lambda: random.randint((2,), 5, 5), "greater than"),
        (lambda: random.categorical(np.zeros(3), 2), "2-D"),
        (lambda: random.categorical(np.zeros((2, 3)), 2, dtype="float32"), "integer"),
        (lambda: random.dropout(np.ones(3), 1.5), "rate"),
        (lambda: random.normal((2, -1)), "shape"),
        (lambda: random.normal("abc"), "shape"),
        (lambda: random.normal((2, True)), "shape"),
        (lambda: random.normal((2.0, 3)), "shape"),
    ],
)
def test_bad_arguments_are_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -- semantics ------------------------------------------------------------------------------
def test_dropout():
    x = np.arange(1, 41, dtype="float32").reshape(4, 10)
    np.testing.assert_array_equal(numpy(random.dropout(x, 0.0, seed=1)), x)
    np.testing.assert_array_equal(numpy(random.dropout(x, 1.0, seed=1)), np.zeros_like(x))
    out = numpy(random.dropout(x, 0.25, seed=1))
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.75, rtol=1e-6)
    # noise_shape (None, 1): whole rows kept or dropped.
    rows = numpy(random.dropout(x, 0.5, noise_shape=(None, 1), seed=3)) != 0
    assert (rows == rows[:, :1]).all()
    assert dtype_of(random.dropout(np.ones((2, 2), "float16"), 0.5, seed=1)) == "float16"
    assert dtype_of(random.dropout(np.ones((2, 2), "int32"), 0.5, seed=1)) == "float32"


def test_shuffle_moves_whole_slices():
    x = np.arange(12).reshape(4, 3)
    rows = numpy(random.shuffle(x, seed=5))
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, x.tolist()))
    columns = numpy(random.shuffle(x, axis=1, seed=5))
    assert sorted(map(tuple, columns.T.tolist())) == sorted(map(tuple, x.T.tolist()))
    assert dtype_of(random.shuffle(x.astype("int32"), seed=5)) == "int32"


def test_supports():
    assert (
        numpy(random.truncated_normal((1000,), mean=1.0, stddev=0.5, seed=1)) - 1.0
    ).__abs__().max() <= 1.0 + 1e-6
    values = numpy(random.uniform((1000,), minval=-2.0, maxval=-1.0, seed=1))
    assert values.min() >= -2.0 and values.max() < -1.0
    values = numpy(random.binomial((1000,), np.array([3.0, 7.0]).repeat(500), 0.5, seed=1))
    assert values.min() >= 0 and values[:500].max() <= 3 and values[500:].max() <= 7
    values = numpy(random.beta((1000,), 0.5, 0.5, seed=1))
    assert values.min() >= 0 and values.max() <= 1
    assert numpy(random.gamma((1000,), 0.5, seed=1)).min() >= 0
    picks = numpy(random.categorical(np.log(np.array([[0.0, 1.0, 0.0]]) + 1e-30), 50, seed=1))
    assert (picks == 1).all()


def test_parameters_may_be_tensors():
    alpha = ops.convert_to_tensor(np.array([0.5, 2.0, 8.0], "float32"))
    values = numpy(random.gamma((4000, 3), alpha, seed=1))
    np.testing.assert_allclose(values.mean(axis=0), [0.5, 2.0, 8.0], rtol=0.1)
    mean = ops.convert_to_tensor(np.array([-10.0, 10.0], "float32"))
    values = numpy(random.normal((2000, 2), mean=mean, stddev=0.5, seed=1))
    np.testing.assert_allclose(values.mean(axis=0), [-10.0, 10.0], atol=0.1)


def test_float64_parameters_keep_their_precision():
    wide = numpy(random.uniform((100,), minval=0.1, maxval=0.1 + 1e-12, dtype="float64", seed=1))
    assert wide.min() >= 0.1 and wide.max() < 0.1 + 1e-12


def test_symbolic_calls():
    x = katman.KerasTensor((None, 8), "float16")
    assert (random.dropout(x, 0.5, seed=1).shape, random.dropout(x, 0.5, seed=1).dtype) == (
        (None, 8),
        "float16",
    )
    shuffled = random.shuffle(x, seed=1)
    assert (shuffled.shape, shuffled.dtype) == ((None, 8), "float16")
    picks = random.categorical(katman.KerasTensor((None, 5)), 3, dtype="int64", seed=1)
    assert (picks.shape, picks.dtype) == ((None, 3), "int64")
    alpha = katman.KerasTensor((3,), "float32")
    sample = random.gamma((2, 3), alpha, dtype="float64", seed=1)
    assert (sample.shape, sample.dtype) == ((2, 3), "float64")
    sample = random.beta((2, 3), alpha, 1.0, seed=1)
    assert (sample.shape, sample.dtype) == ((2, 3), "float32")
    sample = random.binomial((4,), 10, katman.KerasTensor(()), seed=1)
    assert (sample.shape, sample.dtype) == ((4,), "float32")
    spec = ops.normal.symbolic_call((2, 3), dtype="bfloat16", seed=1)
    assert (spec.shape, spec.dtype) == ((2, 3), "bfloat16")

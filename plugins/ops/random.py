"""Random number generation from explicit integer seeds (``keras.random`` names and signatures).

These ops are the layer under ``katman.random``: each takes ``seed`` as a plain Python int and
returns the same numbers for the same seed on the same backend. ``katman.random`` resolves
``SeedGenerator`` objects and ``seed=None`` to such an int before calling them.

The NumPy references draw from ``numpy.random.default_rng(seed)``: they document what each op
samples and give the shapes and dtypes, but no backend reproduces their numbers, so the
conformance suite checks these ops statistically (``katman.conformance.test_random``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

import katman
from katman.config import floatx
from katman.dtypes import result_type, standardize_dtype
from katman.ops import Op
from katman.registry import PluginRegistrar
from katman.symbolic import KerasTensor

# Every op here is reported under the conformance area "random"; none has a gradient.
_op = functools.partial(Op, area="random", differentiable=False)


def _float_dtype(dtype: Any) -> str:
    return standardize_dtype(dtype) if dtype is not None else floatx()


def _shape(shape: Any) -> tuple[int, ...]:
    return (shape,) if isinstance(shape, int) else tuple(shape)


def _noise_shape(shape: Sequence[Any], noise_shape: Sequence[Any] | None) -> tuple[Any, ...]:
    if noise_shape is None:
        return tuple(shape)
    return tuple(d if n is None else n for d, n in zip(shape, noise_shape, strict=True))


# -- NumPy references ---------------------------------------------------------------------
def normal(
    shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = None, seed: Any = None
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sample = rng.standard_normal(_shape(shape)) * stddev + mean
    return np.asarray(sample).astype(_float_dtype(dtype))


def uniform(
    shape: Any, minval: Any = 0.0, maxval: Any = 1.0, dtype: Any = None, seed: Any = None
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sample = rng.random(_shape(shape)) * (np.asarray(maxval) - minval) + minval
    return np.asarray(sample).astype(_float_dtype(dtype))


def truncated_normal(
    shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = None, seed: Any = None
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sample = rng.standard_normal(_shape(shape))
    outside = np.abs(sample) > 2.0
    while outside.any():  # redraw what fell more than two standard deviations away
        sample[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(sample) > 2.0
    return np.asarray(sample * stddev + mean).astype(_float_dtype(dtype))


def randint(
    shape: Any, minval: Any, maxval: Any, dtype: Any = "int32", seed: Any = None
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(int(minval), int(maxval), _shape(shape)).astype(standardize_dtype(dtype))


def categorical(
    logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logits = np.asarray(logits, dtype="float64")
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=-1, keepdims=True)
    rows = [rng.choice(len(p), size=num_samples, p=p) for p in probabilities]
    return np.asarray(rows, dtype=standardize_dtype(dtype)).reshape(len(rows), num_samples)


def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> np.ndarray:
    inputs = np.asarray(inputs)
    dtype = result_type(standardize_dtype(inputs.dtype), float)
    inputs = inputs.astype(dtype)
    if rate >= 1.0:
        return np.zeros_like(inputs)
    rng = np.random.default_rng(seed)
    keep = rng.random(_noise_shape(inputs.shape, noise_shape)) >= rate
    return np.where(keep, inputs / (1.0 - rate), 0).astype(dtype)


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> np.ndarray:
    x = np.asarray(x)
    rng = np.random.default_rng(seed)
    return np.take(x, rng.permutation(x.shape[axis]), axis=axis)


def gamma(shape: Any, alpha: Any, dtype: Any = None, seed: Any = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.gamma(alpha, size=_shape(shape)).astype(_float_dtype(dtype))


def binomial(
    shape: Any, counts: Any, probabilities: Any, dtype: Any = None, seed: Any = None
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sample = rng.binomial(np.asarray(counts).astype("int64"), probabilities, _shape(shape))
    return sample.astype(_float_dtype(dtype))


def beta(shape: Any, alpha: Any, beta: Any, dtype: Any = None, seed: Any = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.beta(alpha, beta, _shape(shape)).astype(_float_dtype(dtype))


# -- shapes and dtypes of symbolic calls -------------------------------------------------
def _sampled_spec(default: str, position: int) -> Any:
    """The spec of an op whose result has the asked ``shape`` and its ``dtype`` argument
    (found by keyword or at ``position``), ``default`` when that is None."""

    def spec(shape: Any, *args: Any, **kwargs: Any) -> KerasTensor:
        dtype = kwargs.get("dtype", args[position - 1] if len(args) >= position else None)
        return KerasTensor(_shape(shape), standardize_dtype(dtype) if dtype else default())

    return spec


def _categorical_spec(
    logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None
) -> KerasTensor:
    del seed
    return KerasTensor((logits.shape[0], num_samples), standardize_dtype(dtype))


def _dropout_spec(
    inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None
) -> KerasTensor:
    del rate, noise_shape, seed
    return KerasTensor(inputs.shape, result_type(standardize_dtype(inputs.dtype), float))


def _shuffle_spec(x: Any, axis: int = 0, seed: Any = None) -> KerasTensor:
    del axis, seed
    return KerasTensor(x.shape, x.dtype)


def _float_rule(dtypes: Sequence[Any]) -> str:
    """Used only when there is no ``output_spec``: every sampler here has one."""
    del dtypes
    return floatx()


def _int_rule(dtypes: Sequence[Any]) -> str:
    del dtypes
    return "int32"


OPS = (
    _op(
        "normal",
        reference=normal,
        dtype=_float_rule,
        output_spec=_sampled_spec(floatx, 3),
        doc="Samples of shape ``shape`` from a normal distribution ``N(mean, stddev**2)``.",
    ),
    _op(
        "uniform",
        reference=uniform,
        dtype=_float_rule,
        output_spec=_sampled_spec(floatx, 3),
        doc="Samples of shape ``shape`` drawn uniformly from ``[minval, maxval)``.",
    ),
    _op(
        "truncated_normal",
        reference=truncated_normal,
        dtype=_float_rule,
        output_spec=_sampled_spec(floatx, 3),
        doc="Normal samples of shape ``shape``, redrawn until within two stddevs of ``mean``.",
    ),
    _op(
        "randint",
        reference=randint,
        dtype=_int_rule,
        output_spec=_sampled_spec(lambda: "int32", 3),
        doc="Integers of shape ``shape`` drawn uniformly from ``[minval, maxval)``.",
    ),
    _op(
        "categorical",
        reference=categorical,
        dtype=_int_rule,
        output_spec=_categorical_spec,
        doc="``num_samples`` class indices per row of 2-D ``logits`` (unnormalized log-probs).",
    ),
    _op(
        "dropout",
        reference=dropout,
        output_spec=_dropout_spec,
        doc="Zeroes each entry with probability ``rate``, scales the rest by ``1 / (1 - rate)``.",
    ),
    _op(
        "shuffle",
        reference=shuffle,
        output_spec=_shuffle_spec,
        doc="``x`` with its slices along ``axis`` in a uniformly random order.",
    ),
    _op(
        "gamma",
        reference=gamma,
        dtype=_float_rule,
        output_spec=_sampled_spec(floatx, 2),
        doc="Samples of shape ``shape`` from a Gamma distribution of shape ``alpha``, scale 1.",
    ),
    _op(
        "binomial",
        reference=binomial,
        dtype=_float_rule,
        output_spec=_sampled_spec(floatx, 3),
        doc="Successes in ``counts`` trials of probability ``probabilities``, shape ``shape``.",
    ),
    _op(
        "beta",
        reference=beta,
        dtype=_float_rule,
        output_spec=_sampled_spec(floatx, 3),
        doc="Samples of shape ``shape`` from a Beta distribution with parameters ``alpha, beta``.",
    ),
)


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for op in OPS:
        registry.add("op", op.name, op)

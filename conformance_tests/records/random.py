"""Records for the random samplers (``katman.ops.normal``, ...).

No backend reproduces NumPy's random numbers, so these ops are not compared value for value
with a reference. A :class:`RandomRecord` says instead how to check one sampler
(``katman.conformance.test_random`` runs the checks):

* ``op``: an :class:`OpRecord` whose small hypothesis-drawn calls (shapes, dtypes,
  parameters, an int ``seed``) must give the asked shape and dtype, agree with the symbolic
  result, stay within the distribution's ``support``, and repeat exactly with the same seed.
  Its ``reference`` replays the op itself, so the generic harness can run it too: for a
  sampler, "the expected values" are those the same seed gave;
* ``large``: one big call (tens of thousands of draws) with fixed seeds: the same seed twice
  gives identical arrays, another seed different ones, and the ``moments`` of the result
  (means, variances, frequencies) lie within a few standard errors of their analytic values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

import katman
from katman.conformance.records import OpRecord
from katman.conformance.strategies import Sample, array, shapes
from katman.dtypes import result_type

FLOAT_OUTPUTS = ("float16", "bfloat16", "float32", "float64")
INT_OUTPUTS = ("uint8", "int8", "int16", "int32", "int64")
# Draws in each moment check's big sample.
N = 20_000
# Seeds take any int; the kernels reduce them to [0, 2**63).
SEEDS = st.integers(-(2**64), 2**64)


@dataclass(frozen=True)
class Moment:
    """One statistic of a big sample against its analytic value."""

    label: str
    observed: float
    expected: float
    stderr: float

    @property
    def z(self) -> float:
        return (
            abs(self.observed - self.expected) / self.stderr
            if self.stderr > 0
            else (0.0 if self.observed == self.expected else math.inf)
        )


@dataclass(frozen=True)
class RandomRecord:
    """How the suite checks one sampler.

    Args:
        op: small calls (hypothesis-drawn, ``seed`` among the keyword arguments).
        expected: the ``(shape, dtype)`` a call asks for.
        support: a problem with a call's result (a value the distribution cannot take, a
            broken permutation, ...), or None.
        large: a big call, without ``seed`` (the test supplies fixed ones).
        moments: statistics of the big call's result (as float64 NumPy) vs analytic values.
        examples: the share of the hypothesis profile's examples drawn for the small calls
            (less for samplers that are slow to compile for each new shape).
    """

    op: OpRecord
    expected: Callable[[Sample], tuple[tuple[int, ...], str]]
    support: Callable[[Sample, np.ndarray], str | None]
    large: Sample
    moments: Callable[[Sample, np.ndarray], list[Moment]]
    examples: float = 1.0

    @property
    def name(self) -> str:
        return self.op.name


# -- small calls ---------------------------------------------------------------------------
def _replay(name: str) -> Callable[..., Any]:
    """A "reference" that runs the op itself: with the same seed it must give the same values."""

    def reference(*args: Any, **kwargs: Any) -> np.ndarray:
        def convert(value: Any) -> Any:
            return katman.ops.convert_to_tensor(value) if isinstance(value, np.ndarray) else value

        op = katman.ops.__getattr__(name)
        args = tuple(convert(a) for a in args)
        return katman.ops.convert_to_numpy(op(*args, **{k: convert(v) for k, v in kwargs.items()}))

    return reference


def _float_dtypes() -> st.SearchStrategy[str | None]:
    return st.sampled_from((None, *FLOAT_OUTPUTS))


def _asked_float(sample: Sample) -> str:
    return sample.kwargs.get("dtype") or katman.config.floatx()


def _location_scale(data: st.DrawFn) -> Sample:
    shape = data(shapes(min_dims=0))
    kwargs = {
        "mean": data(st.integers(-8, 8)) / 4,
        "stddev": data(st.integers(1, 12)) / 4,
        "dtype": data(_float_dtypes()),
        "seed": data(SEEDS),
    }
    return Sample((shape,), kwargs)


def _uniform_call(data: st.DrawFn) -> Sample:
    shape = data(shapes(min_dims=0))
    low = data(st.integers(-8, 8)) / 2
    kwargs = {
        "minval": low,
        "maxval": low + data(st.integers(1, 10)) / 2,
        "dtype": data(_float_dtypes()),
        "seed": data(SEEDS),
    }
    return Sample((shape,), kwargs)


def _randint_call(data: st.DrawFn) -> Sample:
    shape = data(shapes(min_dims=0))
    dtype = data(st.sampled_from(INT_OUTPUTS))
    low = data(st.integers(0 if dtype == "uint8" else -50, 50))
    high = low + data(st.integers(1, 60))
    return Sample((shape, low, high), {"dtype": dtype, "seed": data(SEEDS)})


def _categorical_call(data: st.DrawFn) -> Sample:
    rows, classes = data(st.integers(1, 3)), data(st.integers(1, 4))
    logits = data(
        array(data(st.sampled_from(("float32", "float64"))), (rows, classes), (-5.0, 5.0))
    )
    kwargs = {"dtype": data(st.sampled_from(("int32", "int64"))), "seed": data(SEEDS)}
    return Sample((logits, data(st.sampled_from((1, 5)))), kwargs)


def _dropout_call(data: st.DrawFn) -> Sample:
    shape = data(shapes(min_dims=1))
    dtype = data(st.sampled_from(("float32", "float64", "float16", "int32")))
    magnitude = data(array(dtype, shape, (1.0, 10.0)))
    signs = data(array("bool", shape))
    x = np.where(signs, magnitude, -magnitude).astype(dtype)
    rate = data(st.sampled_from((0.0, 0.1, 0.5, 0.9, 1.0)))
    noise_shape = None
    if data(st.booleans()):
        noise_shape = tuple(data(st.sampled_from((None, 1, d))) for d in shape)
    return Sample((x, rate), {"noise_shape": noise_shape, "seed": data(SEEDS)})


def _shuffle_call(data: st.DrawFn) -> Sample:
    shape = data(shapes(min_dims=1))
    dtype = data(st.sampled_from(("float32", "float64", "int32")))
    # Distinct values, so that a shuffled slice is recognized.
    x = np.random.default_rng(0).permutation(int(np.prod(shape))).reshape(shape).astype(dtype)
    return Sample((x,), {"axis": data(st.integers(0, len(shape) - 1)), "seed": data(SEEDS)})


def _parameter(data: st.DrawFn, shape: Sequence[int], low: float, high: float) -> np.ndarray:
    """A parameter array broadcastable to ``shape``: its trailing dims, some set to 1."""
    rank = data(st.integers(0, len(shape)))
    dims = tuple(d if data(st.booleans()) else 1 for d in shape[len(shape) - rank :])
    return data(array(data(st.sampled_from(("float32", "float64"))), dims, (low, high)))


# The Gamma-based samplers draw their shape from these few, and fewer examples: jax compiles
# them once per shape, at seconds a time. Parameters of every broadcastable shape are drawn.
_FEW_SHAPES = st.sampled_from(((), (3,), (2, 3)))


def _gamma_call(data: st.DrawFn) -> Sample:
    shape = data(_FEW_SHAPES)
    alpha = _parameter(data, shape, 0.2, 10.0)
    return Sample((shape, alpha), {"dtype": data(_float_dtypes()), "seed": data(SEEDS)})


def _beta_call(data: st.DrawFn) -> Sample:
    shape = data(_FEW_SHAPES)
    alpha, beta = _parameter(data, shape, 0.2, 10.0), _parameter(data, shape, 0.2, 10.0)
    return Sample((shape, alpha, beta), {"dtype": data(_float_dtypes()), "seed": data(SEEDS)})


def _binomial_call(data: st.DrawFn) -> Sample:
    shape = data(_FEW_SHAPES)
    counts = np.round(_parameter(data, shape, 0.0, 30.0))
    probabilities = _parameter(data, shape, 0.0, 1.0)
    dtype = data(st.sampled_from((None, "float32", "float64", "float16", "int32", "int64")))
    return Sample((shape, counts, probabilities), {"dtype": dtype, "seed": data(SEEDS)})


# -- what a call asks for, and what its values may be -------------------------------------
def _sampled(sample: Sample) -> tuple[tuple[int, ...], str]:
    return tuple(sample.args[0]), _asked_float(sample)


def _randint_expected(sample: Sample) -> tuple[tuple[int, ...], str]:
    return tuple(sample.args[0]), sample.kwargs["dtype"]


def _categorical_expected(sample: Sample) -> tuple[tuple[int, ...], str]:
    logits, num_samples = sample.args
    return (logits.shape[0], num_samples), sample.kwargs["dtype"]


def _dropout_expected(sample: Sample) -> tuple[tuple[int, ...], str]:
    x = sample.args[0]
    return x.shape, result_type(x.dtype.name, float)


def _shuffle_expected(sample: Sample) -> tuple[tuple[int, ...], str]:
    x = sample.args[0]
    return x.shape, x.dtype.name


def _epsilon(dtype: str) -> float:
    return {"float16": 1e-3, "bfloat16": 8e-3, "float32": 1.2e-7}.get(dtype, 2.3e-16)


def _finite(sample: Sample, values: np.ndarray) -> str | None:
    del sample
    return None if np.isfinite(values).all() else "non-finite values"


def _uniform_support(sample: Sample, values: np.ndarray) -> str | None:
    low, high = sample.kwargs["minval"], sample.kwargs["maxval"]
    outside = values[(values < low) | (values >= high)]
    return f"values outside [{low}, {high}): {outside[:5]}" if outside.size else None


def _truncated_support(sample: Sample, values: np.ndarray) -> str | None:
    mean, stddev = sample.kwargs["mean"], sample.kwargs["stddev"]
    bound = 2 * stddev + 4 * _epsilon(_asked_float(sample)) * (abs(mean) + 2 * stddev)
    outside = values[~(np.abs(values - mean) <= bound)]
    return f"values beyond two stddevs of {mean}: {outside[:5]}" if outside.size else None


def _randint_support(sample: Sample, values: np.ndarray) -> str | None:
    _, low, high = sample.args
    outside = values[(values < low) | (values >= high)]
    return f"values outside [{low}, {high}): {outside[:5]}" if outside.size else None


def _categorical_support(sample: Sample, values: np.ndarray) -> str | None:
    classes = sample.args[0].shape[1]
    outside = values[(values < 0) | (values >= classes)]
    return f"class indices outside [0, {classes}): {outside[:5]}" if outside.size else None


def _dropout_support(sample: Sample, values: np.ndarray) -> str | None:
    x, rate = sample.args
    dtype = result_type(x.dtype.name, float)
    x = x.astype("float64")
    kept = values != 0
    if rate == 1.0 and kept.any():
        return "rate=1 kept some entries"
    if rate == 0.0 and not np.array_equal(values, x):
        return "rate=0 changed the input"
    if 0.0 < rate < 1.0:
        scaled = x / (1.0 - rate)
        if not np.allclose(values[kept], scaled[kept], rtol=4 * _epsilon(dtype), atol=0):
            return f"kept entries are not inputs / (1 - rate): {values[kept][:5]}"
    noise_shape = sample.kwargs.get("noise_shape")
    if noise_shape is not None:
        # The mask is one draw per entry of noise_shape, broadcast over its size-1 axes.
        for axis, size in enumerate(noise_shape):
            if size == 1 and not (kept == np.take(kept, [0], axis=axis)).all():
                return f"the mask varies along axis {axis}, where noise_shape is 1"
    return None


def _is_slice_permutation(x: np.ndarray, values: np.ndarray, axis: int) -> bool:
    before = np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)
    after = np.moveaxis(values, axis, 0).reshape(x.shape[axis], -1)
    return sorted(map(tuple, before.tolist())) == sorted(map(tuple, after.tolist()))


def _shuffle_support(sample: Sample, values: np.ndarray) -> str | None:
    x, axis = sample.args[0], sample.kwargs["axis"]
    if _is_slice_permutation(x, values, axis):
        return None
    return f"not a permutation of the slices along axis {axis}"


def _nonnegative(sample: Sample, values: np.ndarray) -> str | None:
    del sample
    bad = values[~(values >= 0) | ~np.isfinite(values)]
    return f"values outside [0, inf): {bad[:5]}" if bad.size else None


def _beta_support(sample: Sample, values: np.ndarray) -> str | None:
    del sample
    bad = values[~((values >= 0) & (values <= 1))]
    return f"values outside [0, 1]: {bad[:5]}" if bad.size else None


def _binomial_support(sample: Sample, values: np.ndarray) -> str | None:
    counts = np.broadcast_to(sample.args[1], values.shape)
    bad = values[~((values >= 0) & (values <= counts) & (values == np.round(values)))]
    return f"values not integers in [0, counts]: {bad[:5]}" if bad.size else None


# -- moments of the big calls --------------------------------------------------------------
def mean_and_variance(
    values: np.ndarray, mean: float, variance: float, label: str = ""
) -> list[Moment]:
    """The sample mean and variance of ``values`` against ``mean`` and ``variance``.

    The mean's standard error is ``sqrt(variance / n)``; the variance's comes from the
    sample's fourth central moment, ``sqrt((m4 - s2**2) / n)``.
    """
    values = np.asarray(values, dtype="float64").ravel()
    n = values.size
    centered = values - values.mean()
    s2 = float(np.mean(centered**2))
    m4 = float(np.mean(centered**4))
    prefix = f"{label} " if label else ""
    return [
        Moment(f"{prefix}mean", float(values.mean()), mean, math.sqrt(variance / n)),
        Moment(f"{prefix}variance", s2, variance, math.sqrt(max(m4 - s2**2, 0.0) / n)),
    ]


def frequency(hits: np.ndarray, probability: float, label: str) -> Moment:
    """How often ``hits`` (booleans) is true, against ``probability``."""
    n = hits.size
    return Moment(
        label, float(np.mean(hits)), probability, math.sqrt(probability * (1 - probability) / n)
    )


def _normal_moments(sample: Sample, values: np.ndarray) -> list[Moment]:
    mean, stddev = sample.kwargs["mean"], sample.kwargs["stddev"]
    return mean_and_variance(values, mean, stddev**2)


def _uniform_moments(sample: Sample, values: np.ndarray) -> list[Moment]:
    low, high = sample.kwargs["minval"], sample.kwargs["maxval"]
    quarter = [frequency(values < low + (high - low) / 4, 0.25, "fraction in first quarter")]
    return mean_and_variance(values, (low + high) / 2, (high - low) ** 2 / 12) + quarter


def _truncated_moments(sample: Sample, values: np.ndarray) -> list[Moment]:
    mean, stddev = sample.kwargs["mean"], sample.kwargs["stddev"]
    # Standard normal truncated to [-2, 2]: mean 0, variance 1 - 4 phi(2) / (Phi(2) - Phi(-2)).
    density = math.exp(-2.0) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    variance = 1 - 4 * density / mass
    inside = frequency(
        np.abs(values - mean) <= stddev,
        math.erf(1 / math.sqrt(2)) / mass,
        "fraction within one stddev",
    )
    return [*mean_and_variance(values, mean, stddev**2 * variance), inside]


def _randint_moments(sample: Sample, values: np.ndarray) -> list[Moment]:
    _, low, high = sample.args
    width = high - low
    moments = mean_and_variance(values, (low + high - 1) / 2, (width**2 - 1) / 12)
    moments += [frequency(values == v, 1 / width, f"frequency of {v}") for v in range(low, high)]
    return moments


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _categorical_moments(sample: Sample, values: np.ndarray) -> list[Moment]:
    probabilities = _softmax(sample.args[0].astype("float64"))
    return [
        frequency(values[row] == k, float(p), f"row {row} class {k} frequency")
        for row, row_probabilities in enumerate(probabilities)
        for k, p in enumerate(row_probabilities)
    ]


def _dropout_moments(sample: Sample, values: np.ndarray) -> list[Moment]:
    x, rate = sample.args
    x = x.astype("float64")
    # Each output is x / (1 - rate) with probability 1 - rate, else 0: the mean is mean(x)
    # and the second moment mean(x**2) / (1 - rate). (That survivors are exactly
    # x / (1 - rate) is the support check's business.)
    mean = float(np.mean(x))
    variance = float(np.mean(x**2)) / (1 - rate) - mean**2
    return [
        frequency(values != 0, 1 - rate, "fraction kept"),
        *mean_and_variance(values, mean, variance, "output"),
    ]


def _shuffle_moments(sample: Sample, values: np.ndarray) -> list[Moment]:
    x = sample.args[0]
    n = x.shape[0]
    if not _is_slice_permutation(x, values, 0):
        return [Moment("rows are a permutation of the input's rows", 0.0, 1.0, 0.0)]
    position = values[:, 0].astype("float64")  # the original index of each output row
    index = np.arange(n, dtype="float64")
    correlation = float(np.corrcoef(position, index)[0, 1])
    stayed = position[: n // 2] < n // 2
    return [
        Moment("correlation of new and old positions", correlation, 0.0, 1 / math.sqrt(n - 1)),
        frequency(stayed, 0.5, "first-half rows staying in the first half"),
    ]


def _per_column(function: Callable[[np.ndarray, int], list[Moment]]) -> Any:
    def moments(sample: Sample, values: np.ndarray) -> list[Moment]:
        return [
            m for column in range(values.shape[-1]) for m in function(values[:, column], column)
        ]

    return moments


def _gamma_moments(sample: Sample, values: np.ndarray) -> list[Moment]:
    alpha = np.broadcast_to(sample.args[1], values.shape[-1:])

    def column(v: np.ndarray, c: int) -> list[Moment]:
        return mean_and_variance(v, float(alpha[c]), float(alpha[c]), f"alpha={alpha[c]}")

    return _per_column(column)(sample, values)


def _beta_moments(sample: Sample, values: np.ndarray) -> list[Moment]:
    a = np.broadcast_to(sample.args[1], values.shape[-1:])
    b = np.broadcast_to(sample.args[2], values.shape[-1:])

    def column(v: np.ndarray, c: int) -> list[Moment]:
        total = float(a[c] + b[c])
        mean = float(a[c]) / total
        variance = float(a[c] * b[c]) / (total**2 * (total + 1))
        return mean_and_variance(v, mean, variance, f"a={a[c]}, b={b[c]}")

    return _per_column(column)(sample, values)


def _binomial_moments(sample: Sample, values: np.ndarray) -> list[Moment]:
    counts = np.broadcast_to(sample.args[1], values.shape[-1:])
    p = np.broadcast_to(sample.args[2], values.shape[-1:])

    def column(v: np.ndarray, c: int) -> list[Moment]:
        n, q = float(counts[c]), float(p[c])
        return mean_and_variance(v, n * q, n * q * (1 - q), f"counts={n:g}, p={q}")

    return _per_column(column)(sample, values)


# -- the records ---------------------------------------------------------------------------
def _record(name: str, draw: Callable[[st.DrawFn], Sample], *, symbolic: bool) -> OpRecord:
    return OpRecord(
        name, st.composite(draw)(), grad=False, reference=_replay(name), symbolic=symbolic
    )


_SHUFFLE_INPUT = np.stack([np.arange(N), -np.arange(N)], axis=1).astype("int32")

RANDOM_RECORDS = (
    RandomRecord(
        _record("normal", _location_scale, symbolic=False),
        expected=_sampled,
        support=_finite,
        large=Sample(((N,),), {"mean": 1.5, "stddev": 2.0, "dtype": "float32"}),
        moments=_normal_moments,
    ),
    RandomRecord(
        _record("uniform", _uniform_call, symbolic=False),
        expected=_sampled,
        support=_uniform_support,
        large=Sample(((N,),), {"minval": -1.0, "maxval": 3.0, "dtype": "float32"}),
        moments=_uniform_moments,
    ),
    RandomRecord(
        _record("truncated_normal", _location_scale, symbolic=False),
        expected=_sampled,
        support=_truncated_support,
        large=Sample(((N,),), {"mean": -1.0, "stddev": 0.5, "dtype": "float32"}),
        moments=_truncated_moments,
    ),
    RandomRecord(
        _record("randint", _randint_call, symbolic=False),
        expected=_randint_expected,
        support=_randint_support,
        large=Sample(((N,), -3, 7), {"dtype": "int32"}),
        moments=_randint_moments,
    ),
    RandomRecord(
        _record("categorical", _categorical_call, symbolic=True),
        expected=_categorical_expected,
        support=_categorical_support,
        large=Sample(
            (
                np.array(
                    [[0.0, 1.0, 2.0, -1.0], [3.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
                    dtype="float32",
                ),
                N,
            ),
            {"dtype": "int32"},
        ),
        moments=_categorical_moments,
    ),
    RandomRecord(
        _record("dropout", _dropout_call, symbolic=True),
        expected=_dropout_expected,
        support=_dropout_support,
        large=Sample((np.linspace(1.0, 2.0, N, dtype="float32"), 0.3), {}),
        moments=_dropout_moments,
    ),
    RandomRecord(
        _record("shuffle", _shuffle_call, symbolic=True),
        expected=_shuffle_expected,
        support=_shuffle_support,
        large=Sample((_SHUFFLE_INPUT,), {"axis": 0}),
        moments=_shuffle_moments,
    ),
    RandomRecord(
        _record("gamma", _gamma_call, symbolic=True),
        expected=_sampled,
        support=_nonnegative,
        large=Sample(((N, 2), np.array([0.5, 3.0], dtype="float32")), {"dtype": "float32"}),
        moments=_gamma_moments,
        examples=0.25,
    ),
    RandomRecord(
        _record("binomial", _binomial_call, symbolic=True),
        expected=_sampled,
        support=_binomial_support,
        large=Sample(
            (
                (N, 2),
                np.array([10.0, 50.0], dtype="float32"),
                np.array([0.3, 0.9], dtype="float32"),
            ),
            {"dtype": "float32"},
        ),
        moments=_binomial_moments,
        examples=0.25,
    ),
    RandomRecord(
        _record("beta", _beta_call, symbolic=True),
        expected=_sampled,
        support=_beta_support,
        large=Sample(
            ((N, 2), np.array([0.5, 2.0], dtype="float32"), np.array([0.5, 5.0], dtype="float32")),
            {"dtype": "float32"},
        ),
        moments=_beta_moments,
        examples=0.25,
    ),
)

# The op records alone, in the form every family module gives (for the generic harness).
RECORDS = tuple(record.op for record in RANDOM_RECORDS)

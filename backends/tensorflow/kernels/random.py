"""Random number generation from explicit seeds.

Every kernel takes ``seed`` as a Python int and calls TensorFlow's stateless samplers
(``tf.random.stateless_*``) with it as an int32 pair: ``[seed, 0]`` for seeds below
``2**31``, the low and high 32 bits of larger ones. Samplers that need several independent
streams split that pair with ``tf.random.experimental.stateless_split``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from katman.backend import Backend
from katman.config import floatx
from katman.dtypes import is_float, result_type, standardize_dtype

# Samplers TensorFlow lacks in bfloat16 (and, for some, float16) run in float32, then cast.
_HALF = ("float16", "bfloat16")


def _seed(seed: Any) -> tf.Tensor:
    if tf.is_tensor(seed) and seed.shape == (2,):
        return tf.cast(seed, tf.int32)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(
            f"seed must be a Python int, got {type(seed).__name__} {seed!r} "
            "(katman.random's functions also take a SeedGenerator or None)."
        )
    seed %= 2**63

    def signed(bits: int) -> int:
        return bits - 2**32 if bits >= 2**31 else bits

    return tf.constant([signed(seed & 0xFFFFFFFF), signed(seed >> 32)], dtype=tf.int32)


def _shape(shape: Any) -> Any:
    if tf.is_tensor(shape):
        return shape
    return [int(shape)] if isinstance(shape, int) else [int(d) for d in shape]


def _float_dtype(dtype: Any) -> str:
    return standardize_dtype(dtype) if dtype is not None else floatx()


def _compute_dtype(dtype: str) -> str:
    return "float32" if dtype in _HALF else dtype


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    def parameter(value: Any, dtype: str, shape: Any = None) -> tf.Tensor:
        value = backend.convert_to_tensor(value, dtype)
        return value if shape is None else tf.broadcast_to(value, shape)

    def affine(sample: tf.Tensor, scale: Any, shift: Any, dtype: str) -> tf.Tensor:
        """``sample * scale + shift`` in ``sample``'s dtype, returned in ``dtype``."""
        compute = sample.dtype.name
        return tf.cast(sample * parameter(scale, compute) + parameter(shift, compute), dtype)

    def normal(
        shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = None, seed: Any = None
    ) -> tf.Tensor:
        dtype = _float_dtype(dtype)
        sample = tf.random.stateless_normal(_shape(shape), _seed(seed), dtype=dtype)
        return affine(sample, stddev, mean, dtype)

    def uniform(
        shape: Any, minval: Any = 0.0, maxval: Any = 1.0, dtype: Any = None, seed: Any = None
    ) -> tf.Tensor:
        dtype = _float_dtype(dtype)
        compute = _compute_dtype(dtype)
        low, high = parameter(minval, compute), parameter(maxval, compute)
        sample = tf.random.stateless_uniform(_shape(shape), _seed(seed), dtype=compute)
        result = tf.cast(sample * (high - low) + low, dtype)
        # Rounding may land on maxval; keep the interval half-open.
        high, low = tf.cast(high, dtype), tf.cast(low, dtype)
        return tf.where(result < high, result, tf.broadcast_to(low, tf.shape(result)))

    def truncated_normal(
        shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = None, seed: Any = None
    ) -> tf.Tensor:
        dtype = _float_dtype(dtype)
        sample = tf.random.stateless_truncated_normal(_shape(shape), _seed(seed), dtype=dtype)
        return affine(sample, stddev, mean, dtype)

    def randint(
        shape: Any, minval: Any, maxval: Any, dtype: Any = "int32", seed: Any = None
    ) -> tf.Tensor:
        dtype = standardize_dtype(dtype)
        compute = dtype if dtype in ("int32", "int64") else "int64"
        sample = tf.random.stateless_uniform(
            _shape(shape), _seed(seed), minval=int(minval), maxval=int(maxval), dtype=compute
        )
        return tf.cast(sample, dtype)

    def categorical(
        logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None
    ) -> tf.Tensor:
        logits = backend.convert_to_tensor(logits)
        if not is_float(backend.dtype_of(logits)) or backend.dtype_of(logits) in _HALF:
            logits = tf.cast(logits, "float32")
        samples = tf.random.stateless_categorical(
            logits, int(num_samples), _seed(seed), dtype=tf.int64
        )
        return tf.cast(samples, standardize_dtype(dtype))

    def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> tf.Tensor:
        inputs = backend.convert_to_tensor(inputs)
        dtype = result_type(backend.dtype_of(inputs), float)
        inputs = tf.cast(inputs, dtype)
        if rate == 0.0:
            return inputs
        if rate >= 1.0:
            return tf.zeros_like(inputs)
        if noise_shape is None:
            noise_shape = tf.shape(inputs)
        else:
            dims = tf.unstack(tf.shape(inputs), num=len(noise_shape))
            noise_shape = tf.stack(
                [d if n is None else n for d, n in zip(dims, noise_shape, strict=True)]
            )
        draws = tf.random.stateless_uniform(noise_shape, _seed(seed), dtype=tf.float32)
        keep = tf.broadcast_to(draws >= rate, tf.shape(inputs))
        return tf.where(keep, inputs / tf.cast(1.0 - rate, dtype), tf.zeros_like(inputs))

    def shuffle(x: Any, axis: int = 0, seed: Any = None) -> tf.Tensor:
        x = backend.convert_to_tensor(x)
        # float64 keys: ties (which argsort would break by position) are vanishingly rare.
        keys = tf.random.stateless_uniform([tf.shape(x)[axis]], _seed(seed), dtype=tf.float64)
        return tf.gather(x, tf.argsort(keys), axis=axis)

    def gamma(shape: Any, alpha: Any, dtype: Any = None, seed: Any = None) -> tf.Tensor:
        dtype = _float_dtype(dtype)
        compute = _compute_dtype(dtype)
        shape = _shape(shape)
        sample = tf.random.stateless_gamma(
            shape, _seed(seed), alpha=parameter(alpha, compute, shape), dtype=compute
        )
        return tf.cast(sample, dtype)

    def binomial(
        shape: Any, counts: Any, probabilities: Any, dtype: Any = None, seed: Any = None
    ) -> tf.Tensor:
        dtype = _float_dtype(dtype)
        if dtype in ("float16", "float32", "float64", "int32", "int64"):
            output = dtype
        else:
            output = "float32" if is_float(dtype) else "int64"
        shape = _shape(shape)
        sample = tf.random.stateless_binomial(
            shape,
            _seed(seed),
            counts=parameter(counts, "float64", shape),
            probs=parameter(probabilities, "float64", shape),
            output_dtype=output,
        )
        return tf.cast(sample, dtype)

    def beta(shape: Any, alpha: Any, beta: Any, dtype: Any = None, seed: Any = None) -> tf.Tensor:
        dtype = _float_dtype(dtype)
        shape = _shape(shape)
        # Beta(a, b) is X / (X + Y) for independent X ~ Gamma(a), Y ~ Gamma(b): two streams.
        # float64 keeps small shape parameters from underflowing both gammas to zero.
        first, second = tf.unstack(tf.random.experimental.stateless_split(_seed(seed), 2))
        x = tf.random.stateless_gamma(
            shape, first, alpha=parameter(alpha, "float64", shape), dtype="float64"
        )
        y = tf.random.stateless_gamma(
            shape, second, alpha=parameter(beta, "float64", shape), dtype="float64"
        )
        return tf.cast(x / (x + y), dtype)

    return {
        "normal": normal,
        "uniform": uniform,
        "truncated_normal": truncated_normal,
        "randint": randint,
        "categorical": categorical,
        "dropout": dropout,
        "shuffle": shuffle,
        "gamma": gamma,
        "binomial": binomial,
        "beta": beta,
    }

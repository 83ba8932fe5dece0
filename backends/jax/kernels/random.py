"""Random number generation from explicit seeds.

Every kernel takes ``seed`` as a Python int and turns it into a ``jax.random.key`` (a traced
integer scalar, or a key, works as a seed too, so the kernels stay usable under
``jax.jit``). Most samplers are one jitted function of the key and the distribution's
parameters, compiled once per output shape and dtype: eagerly, a call is one dispatch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from katman.backend import Backend
from katman.config import floatx
from katman.dtypes import is_float, result_type, standardize_dtype

# Samplers that are inaccurate or missing in the half types run in float32, then cast.
_HALF = ("float16", "bfloat16")

_static = functools.partial(jax.jit, static_argnames=("shape", "dtype", "compute"))


def _key(seed: Any) -> jax.Array:
    if isinstance(seed, jax.Array):
        if jnp.issubdtype(seed.dtype, jax.dtypes.prng_key):
            return seed
        if jnp.issubdtype(seed.dtype, jnp.integer) and seed.ndim == 0:
            return jax.random.key(seed)
        if jnp.issubdtype(seed.dtype, jnp.integer) and seed.shape == (2,):
            # A SeedGenerator's [base, counter] pair; traced, it keeps jit-compiled steps random.
            return jax.random.fold_in(jax.random.key(seed[0]), seed[1].astype(jnp.uint32))
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(
            f"seed must be a Python int, got {type(seed).__name__} {seed!r} "
            "(katman.random's functions also take a SeedGenerator or None)."
        )
    return jax.random.key(seed % 2**63)


def _shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int) else tuple(int(d) for d in shape)


def _float_dtype(dtype: Any) -> str:
    return standardize_dtype(dtype) if dtype is not None else floatx()


def _compute_dtype(dtype: str) -> str:
    return "float32" if dtype in _HALF else dtype


# -- the jitted samplers: parameters are tensors, shapes and dtypes static ----------------
@_static
def _normal(key: Any, mean: Any, stddev: Any, shape: Any, dtype: str, compute: str) -> Any:
    sample = jax.random.normal(key, shape, dtype=compute)
    return (sample * stddev.astype(compute) + mean.astype(compute)).astype(dtype)


@_static
def _truncated_normal(
    key: Any, mean: Any, stddev: Any, shape: Any, dtype: str, compute: str
) -> Any:
    sample = jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype=compute)
    return (sample * stddev.astype(compute) + mean.astype(compute)).astype(dtype)


@_static
def _uniform(key: Any, low: Any, high: Any, shape: Any, dtype: str, compute: str) -> Any:
    low, high = low.astype(compute), high.astype(compute)
    sample = jax.random.uniform(key, shape, dtype=compute)
    result = (sample * (high - low) + low).astype(dtype)
    # Rounding may land on maxval; keep the interval half-open.
    fallback = jnp.broadcast_to(low, shape).astype(dtype)
    return jnp.where(result < high.astype(dtype), result, fallback)


@functools.partial(jax.jit, static_argnames=("num_samples", "dtype"))
def _categorical(key: Any, logits: Any, num_samples: int, dtype: str) -> Any:
    # One draw per (sample, row), then rows first: shape (batch, num_samples).
    shape = (num_samples, logits.shape[0])
    return jax.random.categorical(key, logits, axis=-1, shape=shape).T.astype(dtype)


@functools.partial(jax.jit, static_argnames=("noise_shape",))
def _dropout(key: Any, inputs: Any, rate: Any, noise_shape: Any) -> Any:
    keep = jax.random.bernoulli(key, 1.0 - rate, noise_shape)
    keep = jnp.broadcast_to(keep, inputs.shape)
    scaled = inputs / (1.0 - rate).astype(inputs.dtype)
    return jnp.where(keep, scaled, jnp.zeros_like(inputs))


@functools.partial(jax.jit, static_argnames=("axis",))
def _shuffle(key: Any, x: Any, axis: int) -> Any:
    order = jax.random.permutation(key, x.shape[axis])
    return jnp.take(x, order, axis=axis)


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    def tensor(value: Any, dtype: str | None = None) -> jax.Array:
        """A parameter as a tensor; Python numbers go straight to ``dtype`` (no rounding
        through floatx on the way to float64)."""
        return backend.convert_to_tensor(value, dtype)

    def normal(
        shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = None, seed: Any = None
    ) -> jax.Array:
        dtype = _float_dtype(dtype)
        compute = _compute_dtype(dtype)
        return _normal(
            _key(seed),
            tensor(mean, compute),
            tensor(stddev, compute),
            shape=_shape(shape),
            dtype=dtype,
            compute=compute,
        )

    def uniform(
        shape: Any, minval: Any = 0.0, maxval: Any = 1.0, dtype: Any = None, seed: Any = None
    ) -> jax.Array:
        dtype = _float_dtype(dtype)
        compute = _compute_dtype(dtype)
        return _uniform(
            _key(seed),
            tensor(minval, compute),
            tensor(maxval, compute),
            shape=_shape(shape),
            dtype=dtype,
            compute=compute,
        )

    def truncated_normal(
        shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = None, seed: Any = None
    ) -> jax.Array:
        dtype = _float_dtype(dtype)
        compute = _compute_dtype(dtype)
        return _truncated_normal(
            _key(seed),
            tensor(mean, compute),
            tensor(stddev, compute),
            shape=_shape(shape),
            dtype=dtype,
            compute=compute,
        )

    def randint(
        shape: Any, minval: Any, maxval: Any, dtype: Any = "int32", seed: Any = None
    ) -> jax.Array:
        dtype = standardize_dtype(dtype)
        return jax.random.randint(_key(seed), _shape(shape), int(minval), int(maxval), dtype=dtype)

    def categorical(
        logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None
    ) -> jax.Array:
        logits = tensor(logits)
        if not is_float(backend.dtype_of(logits)):
            logits = logits.astype(floatx())
        return _categorical(
            _key(seed), logits, num_samples=int(num_samples), dtype=standardize_dtype(dtype)
        )

    def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> jax.Array:
        inputs = tensor(inputs)
        inputs = inputs.astype(result_type(backend.dtype_of(inputs), float))
        if rate == 0.0:
            return inputs
        if rate >= 1.0:
            return jnp.zeros_like(inputs)
        if noise_shape is None:
            noise_shape = inputs.shape
        else:
            noise_shape = [
                d if n is None else n for d, n in zip(inputs.shape, noise_shape, strict=True)
            ]
        # float32 unless the inputs are float64: the mask's uniforms take the rate's
        # precision, and 64-bit ones cost twice the random bits.
        rate = jnp.asarray(rate, "float64" if inputs.dtype == jnp.float64 else "float32")
        return _dropout(_key(seed), inputs, rate, noise_shape=_shape(noise_shape))

    def shuffle(x: Any, axis: int = 0, seed: Any = None) -> jax.Array:
        return _shuffle(_key(seed), tensor(x), axis=int(axis))

    def broadcast(value: Any, dtype: str, shape: tuple[int, ...]) -> jax.Array:
        # jax.random's Gamma-based samplers compile once per argument shape, for seconds:
        # broadcasting the parameters first means one compilation per output shape.
        return jnp.broadcast_to(tensor(value, dtype), shape)

    def gamma(shape: Any, alpha: Any, dtype: Any = None, seed: Any = None) -> jax.Array:
        dtype, shape = _float_dtype(dtype), _shape(shape)
        compute = _compute_dtype(dtype)
        alpha = broadcast(alpha, compute, shape)
        return jax.random.gamma(_key(seed), alpha, shape, dtype=compute).astype(dtype)

    def binomial(
        shape: Any, counts: Any, probabilities: Any, dtype: Any = None, seed: Any = None
    ) -> jax.Array:
        dtype, shape = _float_dtype(dtype), _shape(shape)
        compute = _compute_dtype(dtype) if is_float(dtype) else "float64"
        counts = broadcast(counts, compute, shape)
        probabilities = broadcast(probabilities, compute, shape)
        sample = jax.random.binomial(_key(seed), counts, probabilities, shape, dtype=compute)
        return sample.astype(dtype)

    def beta(shape: Any, alpha: Any, beta: Any, dtype: Any = None, seed: Any = None) -> jax.Array:
        dtype, shape = _float_dtype(dtype), _shape(shape)
        compute = _compute_dtype(dtype)
        alpha, beta = broadcast(alpha, compute, shape), broadcast(beta, compute, shape)
        return jax.random.beta(_key(seed), alpha, beta, shape, dtype=compute).astype(dtype)

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

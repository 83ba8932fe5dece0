"""Built-in initializers plugin: Keras's weight initializers, written with ``katman.ops``.

Random initializers take a ``seed``: an int makes every call return the same values; None
gives each call new values (drawn from a :class:`katman.random.SeedGenerator` the
initializer makes when it is built); a ``SeedGenerator`` is used as given.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

import katman
from katman import ops
from katman import random as krandom
from katman.dtypes import is_float
from katman.initializers.initializer import Initializer
from katman.registry import PluginRegistrar

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
]

# The standard deviation of a standard normal truncated to [-2, 2]: dividing by it makes a
# truncated normal's stddev, after truncation, the one asked for.
_TRUNCATED_STDDEV = 0.87962566103423978

_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


def _standardize_shape(owner: str, shape: Any) -> tuple[int, ...]:
    """``shape`` as a tuple of non-negative ints, or a ValueError naming ``owner``."""
    try:
        dims = (shape,) if hasattr(shape, "__index__") else tuple(shape)
        dims = tuple(operator.index(d) for d in dims)
    except TypeError:
        dims = None
    if dims is None or any(d < 0 for d in dims):
        raise ValueError(
            f"{owner}: `shape` must be a tuple of non-negative ints. Received: shape={shape!r}"
        )
    return dims


def compute_fans(
    shape: Sequence[int],
    input_axes: Sequence[int] | None = None,
    output_axes: Sequence[int] | None = None,
) -> tuple[int, int]:
    """The numbers of input and output units ``(fan_in, fan_out)`` of a weight shape.

    A vector has ``fan_in == fan_out == shape[0]``; a matrix ``(fan_in, fan_out)``; a
    convolution kernel ``(*spatial, in_channels, out_channels)`` multiplies both channel
    counts by the receptive field size. With both ``input_axes`` and ``output_axes`` given,
    the fans are the products of the dimensions on those axes.

    Example:
        >>> compute_fans((3, 3, 16, 32))
        (144, 288)
    """
    shape = tuple(int(d) for d in shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


# --- deterministic initializers -------------------------------------------------------------


class Zeros(Initializer):
    """Fills the tensor with 0.

    Example:
        >>> values = Zeros()((2, 3))
    """

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        shape = _standardize_shape(type(self).__name__, shape)
        return ops.zeros(shape, dtype=self.dtype_or_floatx(dtype))


class Ones(Initializer):
    """Fills the tensor with 1.

    Example:
        >>> values = Ones()((2, 3))
    """

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        shape = _standardize_shape(type(self).__name__, shape)
        return ops.ones(shape, dtype=self.dtype_or_floatx(dtype))


class Constant(Initializer):
    """Fills the tensor with one scalar value.

    Args:
        value: a Python (or NumPy) scalar, cast to the requested dtype.

    Example:
        >>> values = Constant(0.5)((2, 3))
    """

    def __init__(self, value: float = 0.0) -> None:
        if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
            value = value.item()
        if not isinstance(value, (int, float, bool)):
            raise ValueError(
                "Constant initializer: `value` must be a Python scalar (int, float or bool). "
                f"Received: value={value!r} (of type {type(value).__name__})"
            )
        self.value = value

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        shape = _standardize_shape(type(self).__name__, shape)
        return ops.full(shape, self.value, dtype=self.dtype_or_floatx(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class Identity(Initializer):
    """The identity matrix (ones on the main diagonal), times ``gain``; 2-D shapes only.

    Args:
        gain: the factor the matrix is multiplied by.

    Example:
        >>> values = Identity(gain=2.0)((3, 3))
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        shape = _standardize_shape("Identity initializer", shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity initializer can only make 2-D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        dtype = self.dtype_or_floatx(dtype)
        return ops.multiply(ops.cast(self.gain, dtype), ops.eye(shape[0], shape[1], dtype=dtype))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


# --- random initializers --------------------------------------------------------------------


class _RandomInitializer(Initializer):
    """Holds the ``seed`` of a random initializer (see the module's docstring)."""

    def __init__(self, seed: int | krandom.SeedGenerator | dict | None = None) -> None:
        name = type(self).__name__
        self._init_seed = seed
        if seed is None:
            seed = krandom.SeedGenerator()
        elif isinstance(seed, dict):
            if seed.get("class_name") != "SeedGenerator":
                raise ValueError(
                    f"{name}: a `seed` given as a dict must be a serialized SeedGenerator. "
                    f"Received: seed={seed!r}"
                )
            seed = krandom.SeedGenerator.from_config(seed.get("config") or {})
        elif isinstance(seed, bool) or not isinstance(seed, (int, krandom.SeedGenerator)):
            raise ValueError(
                f"{name}: `seed` must be an int, a katman.random.SeedGenerator or None. "
                f"Received: seed={seed!r}"
            )
        self.seed = seed

    def _float_dtype(self, dtype: Any) -> str:
        dtype = self.dtype_or_floatx(dtype)
        if not is_float(dtype):
            raise ValueError(
                f"{type(self).__name__} makes floating point values only. Received: dtype={dtype}"
            )
        return dtype

    def get_config(self) -> dict[str, Any]:
        seed = self._init_seed
        if isinstance(seed, krandom.SeedGenerator):
            seed = {"class_name": "SeedGenerator", "config": seed.get_config()}
        return {"seed": seed}


class RandomNormal(_RandomInitializer):
    """Samples from a normal distribution.

    Args:
        mean: the distribution's mean.
        stddev: its standard deviation.
        seed: an int (same values on every call), a ``SeedGenerator`` or None (new values
            on every call).

    Example:
        >>> values = RandomNormal(mean=0.0, stddev=1.0, seed=1)((2, 2))
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None) -> None:
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        shape = _standardize_shape(type(self).__name__, shape)
        return krandom.normal(
            shape,
            mean=self.mean,
            stddev=self.stddev,
            dtype=self._float_dtype(dtype),
            seed=self.seed,
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(_RandomInitializer):
    """Samples from a normal distribution, redrawing values farther than two standard
    deviations from the mean.

    Args:
        mean: the mean of the normal distribution before truncation.
        stddev: its standard deviation before truncation.
        seed: an int, a ``SeedGenerator`` or None (see :class:`RandomNormal`).

    Example:
        >>> values = TruncatedNormal(stddev=1.0, seed=1)((2, 2))
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None) -> None:
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        shape = _standardize_shape(type(self).__name__, shape)
        return krandom.truncated_normal(
            shape,
            mean=self.mean,
            stddev=self.stddev,
            dtype=self._float_dtype(dtype),
            seed=self.seed,
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(_RandomInitializer):
    """Samples uniformly from ``[minval, maxval)``.

    Args:
        minval: the lower bound (included).
        maxval: the upper bound (excluded).
        seed: an int, a ``SeedGenerator`` or None (see :class:`RandomNormal`).

    Example:
        >>> values = RandomUniform(minval=-1.0, maxval=1.0, seed=1)((2, 2))
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Any = None) -> None:
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        shape = _standardize_shape(type(self).__name__, shape)
        return krandom.uniform(
            shape,
            minval=self.minval,
            maxval=self.maxval,
            dtype=self._float_dtype(dtype),
            seed=self.seed,
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(_RandomInitializer):
    """Samples with a variance scaled to the weight's fans: ``scale / n``.

    ``n`` is ``fan_in``, ``fan_out`` or their mean (``mode``; see :func:`compute_fans`).
    ``distribution="truncated_normal"`` (or ``"normal"``) draws from a normal truncated at
    two standard deviations, with the stddev after truncation ``sqrt(scale / n)``;
    ``"untruncated_normal"`` from a plain normal with that stddev; ``"uniform"`` from
    ``[-limit, limit]`` with ``limit = sqrt(3 * scale / n)``.

    Args:
        scale: the scaling factor, positive.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``.
        seed: an int, a ``SeedGenerator`` or None (see :class:`RandomNormal`).
        input_axes: axes whose sizes multiply into ``fan_in`` (with ``output_axes``).
        output_axes: axes whose sizes multiply into ``fan_out`` (with ``input_axes``).

    Example:
        >>> init = VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform", seed=1)
        >>> values = init((3, 3, 16, 32))
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: Any = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ) -> None:
        name = type(self).__name__
        if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not scale > 0:
            raise ValueError(f"{name}: `scale` must be a positive float. Received: scale={scale!r}")
        if mode not in _MODES:
            raise ValueError(f"{name}: `mode` must be one of {_MODES}. Received: mode={mode!r}")
        if isinstance(distribution, str):
            distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(
                f"{name}: `distribution` must be one of {_DISTRIBUTIONS} (or 'normal'). "
                f"Received: distribution={distribution!r}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        shape = _standardize_shape(type(self).__name__, shape)
        dtype = self._float_dtype(dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        variance = self.scale / max(1.0, fan[self.mode])
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(variance) / _TRUNCATED_STDDEV
            return krandom.truncated_normal(shape, 0.0, stddev, dtype=dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return krandom.normal(shape, 0.0, math.sqrt(variance), dtype=dtype, seed=self.seed)
        limit = math.sqrt(3.0 * variance)
        return krandom.uniform(shape, -limit, limit, dtype=dtype, seed=self.seed)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _FixedVarianceScaling(VarianceScaling):
    """A :class:`VarianceScaling` whose scale, mode and distribution are fixed by the class."""

    _SCALE = 1.0
    _MODE = "fan_in"
    _DISTRIBUTION = "truncated_normal"

    def __init__(
        self,
        seed: Any = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ) -> None:
        super().__init__(
            scale=self._SCALE,
            mode=self._MODE,
            distribution=self._DISTRIBUTION,
            seed=seed,
            input_axes=input_axes,
            output_axes=output_axes,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        return {key: config[key] for key in ("seed", "input_axes", "output_axes")}


class GlorotUniform(_FixedVarianceScaling):
    """Glorot (Xavier) uniform: ``U[-limit, limit]``, ``limit = sqrt(6 / (fan_in + fan_out))``.

    Args:
        seed: an int, a ``SeedGenerator`` or None (see :class:`RandomNormal`).
        input_axes, output_axes: as in :class:`VarianceScaling`.

    Example:
        >>> values = GlorotUniform(seed=1)((4, 5))
    """

    _MODE = "fan_avg"
    _DISTRIBUTION = "uniform"


class GlorotNormal(_FixedVarianceScaling):
    """Glorot (Xavier) normal: a truncated normal with stddev ``sqrt(2 / (fan_in + fan_out))``.

    Args:
        seed: an int, a ``SeedGenerator`` or None (see :class:`RandomNormal`).
        input_axes, output_axes: as in :class:`VarianceScaling`.
    """

    _MODE = "fan_avg"


class HeUniform(_FixedVarianceScaling):
    """He uniform: ``U[-limit, limit]`` with ``limit = sqrt(6 / fan_in)``.

    Args:
        seed: an int, a ``SeedGenerator`` or None (see :class:`RandomNormal`).
        input_axes, output_axes: as in :class:`VarianceScaling`.
    """

    _SCALE = 2.0
    _DISTRIBUTION = "uniform"


class HeNormal(_FixedVarianceScaling):
    """He normal: a truncated normal with stddev ``sqrt(2 / fan_in)``.

    Args:
        seed: an int, a ``SeedGenerator`` or None (see :class:`RandomNormal`).
        input_axes, output_axes: as in :class:`VarianceScaling`.
    """

    _SCALE = 2.0


class LecunUniform(_FixedVarianceScaling):
    """LeCun uniform: ``U[-limit, limit]`` with ``limit = sqrt(3 / fan_in)``.

    Args:
        seed: an int, a ``SeedGenerator`` or None (see :class:`RandomNormal`).
        input_axes, output_axes: as in :class:`VarianceScaling`.
    """

    _DISTRIBUTION = "uniform"


class LecunNormal(_FixedVarianceScaling):
    """LeCun normal: a truncated normal with stddev ``sqrt(1 / fan_in)``.

    Args:
        seed: an int, a ``SeedGenerator`` or None (see :class:`RandomNormal`).
        input_axes, output_axes: as in :class:`VarianceScaling`.
    """


class Orthogonal(_RandomInitializer):
    """An orthogonal matrix (times ``gain``), from the QR decomposition of a normal matrix.

    The shape is seen as a matrix ``(prod(shape[:-1]), shape[-1])``: with more rows than
    columns its columns are orthonormal, otherwise its rows. The signs of ``R``'s diagonal
    are folded into ``Q`` so that the result is uniformly distributed.

    Args:
        gain: the factor the matrix is multiplied by.
        seed: an int, a ``SeedGenerator`` or None (see :class:`RandomNormal`).

    Example:
        >>> values = Orthogonal(seed=1)((4, 4))
    """

    def __init__(self, gain: float = 1.0, seed: Any = None) -> None:
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        shape = _standardize_shape("Orthogonal initializer", shape)
        if len(shape) < 2:
            raise ValueError(
                "Orthogonal initializer needs a shape of rank 2 or more. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        dtype = self._float_dtype(dtype)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        sample = krandom.normal((max(rows, cols), min(rows, cols)), dtype=dtype, seed=self.seed)
        q, r = ops.qr(sample)
        q = ops.multiply(q, ops.sign(ops.diag(r)))
        if rows < cols:
            q = ops.transpose(q)
        return ops.multiply(ops.cast(self.gain, dtype), ops.reshape(q, shape))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "gain": self.gain}


def _snake_case(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


# Keras's extra names for some initializers, besides the snake_case form of the class name.
_EXTRA_ALIASES = {
    Zeros: ("zero",),
    Ones: ("one",),
    RandomNormal: ("normal",),
    RandomUniform: ("uniform",),
    Identity: ("IdentityInitializer",),
    Orthogonal: ("OrthogonalInitializer",),
}

INITIALIZERS = (
    Zeros,
    Ones,
    Constant,
    Identity,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
    LecunUniform,
    LecunNormal,
    Orthogonal,
)


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for cls in INITIALIZERS:
        aliases = (_snake_case(cls.__name__), *_EXTRA_ALIASES.get(cls, ()))
        registry.add("initializer", cls.__name__, cls, aliases=aliases)

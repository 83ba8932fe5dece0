"""Random numbers with ``keras.random``'s API: samplers and :class:`SeedGenerator`.

Every function takes a ``seed``:

* an ``int``: the same numbers on every call with that seed (on the same backend; backends
  do not produce the same numbers as each other);
* a :class:`SeedGenerator`: a new seed from its deterministic sequence on each call, so
  repeated calls differ, and a generator built with the same seed replays the same calls;
* ``None`` (the default): a fresh seed from a process-wide generator, itself seeded from
  Python's ``random`` module when first used. Such calls are **not reproducible**; pass an
  int or a ``SeedGenerator`` wherever reproducibility matters.

Each function resolves the seed to an int and calls the op of the same name
(``katman.ops.normal``, ...), whose kernel samples with the framework's own generator.

Example:
    >>> import katman.random
    >>> a = katman.random.normal((2, 3), seed=42)
    >>> b = katman.random.normal((2, 3), seed=42)
    >>> bool((katman.ops.convert_to_numpy(a) == katman.ops.convert_to_numpy(b)).all())
    True
    >>> generator = katman.random.SeedGenerator(1337)
    >>> first = katman.random.uniform((2,), seed=generator)
    >>> second = katman.random.uniform((2,), seed=generator)  # different numbers
"""

from __future__ import annotations

import itertools
import operator
import random as _python_random
import threading
from collections.abc import Sequence
from typing import Any

from katman import config, ops
from katman.dtypes import is_float, is_int, standardize_dtype

__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "draw_seed",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]

# Seeds handed to the ops lie in [0, 2**63): every backend accepts that range.
_SEED_RANGE = 2**63
_MASK64 = 2**64 - 1


def _mix64(value: int) -> int:
    """SplitMix64's finalizer: a bijection on 64-bit ints that scatters nearby inputs."""
    value &= _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


_names = itertools.count()


class SeedGenerator:
    """A deterministic sequence of seeds, for random calls that should differ from one call
    to the next yet be reproducible.

    Passing an int as ``seed`` gives the same numbers on every call; passing a
    ``SeedGenerator`` gives a new seed each call, drawn from a sequence fixed by the
    generator's own ``seed``: two generators made with the same seed yield the same seeds.

    The generator's state is a non-trainable :class:`katman.Variable` (its base seed and a
    counter), so a layer
    that owns one keeps drawing new seeds inside a compiled training step, and saving the
    model saves where the sequence stands. Each seed is a pair of int64 numbers (the
    generator's base and the counter) that every backend's random kernels accept.

    Args:
        seed: an int fixing the sequence; None draws one from Python's ``random`` module (the
            sequence is then not reproducible, unless ``random.seed`` was called before).
        name: a name for the generator; one is made up if not given.

    Example:
        >>> import katman.random
        >>> generator = katman.random.SeedGenerator(seed=42)
        >>> noise = katman.random.normal((2, 3), seed=generator)
        >>> more = katman.random.normal((2, 3), seed=generator)  # other numbers
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        if kwargs:
            raise ValueError(f"SeedGenerator: unrecognized keyword arguments: {kwargs}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(
                f"SeedGenerator: `seed` must be an int or None. Received: seed={seed!r}"
            )
        from katman.variables import Variable

        self.name = name if name is not None else _auto_name()
        self._initial_seed = seed
        self._seed = _default_seed() if seed is None else seed
        self._base = _mix64(self._seed) % _SEED_RANGE
        # The whole state, saved with the model: [base seed, seeds handed out so far].
        self.state = Variable(
            ops.convert_to_tensor([self._base, 0], "int64"),
            trainable=False,
            name=f"{self.name}_state",
        )

    @property
    def seed(self) -> int:
        """The int the sequence derives from (drawn at construction if None was given)."""
        return self._seed

    @property
    def counter(self) -> int:
        """How many seeds the generator has handed out."""
        return int(self.state.numpy()[1])

    def next(self) -> Any:
        """The next seed: an int64 tensor ``[base, counter]``, and the counter advances."""
        seed = ops.add(self.state.value, ops.convert_to_tensor([0, 0], "int64"))  # a copy
        self.state.assign(ops.add(seed, ops.convert_to_tensor([0, 1], "int64")))
        return seed

    def get_config(self) -> dict[str, Any]:
        """``{"seed": ..., "name": ...}``; ``seed`` is the one given (None stays None)."""
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SeedGenerator:
        """A generator rebuilt from :meth:`get_config`, at the start of its sequence."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name!r} seed={self._initial_seed!r}>"


def _auto_name() -> str:
    index = next(_names)
    return "seed_generator" if index == 0 else f"seed_generator_{index}"


def _default_seed() -> int:
    return _python_random.randint(1, 10**9)


_global_generator: SeedGenerator | None = None
_global_lock = threading.Lock()


def global_seed_generator() -> SeedGenerator:
    """The process-wide generator that ``seed=None`` draws from, created on first use."""
    global _global_generator
    if _global_generator is None:
        with _global_lock:
            if _global_generator is None:
                _global_generator = SeedGenerator(name="global_seed_generator")
    return _global_generator


def reset_global_seed_generator(seed: int | None = None) -> None:
    """Restart the global generator (what ``seed=None`` draws from) from ``seed``."""
    global _global_generator
    with _global_lock:
        _global_generator = SeedGenerator(seed, name="global_seed_generator")


def draw_seed(seed: int | SeedGenerator | None) -> Any:
    """The seed a random call uses: ``seed`` itself if an int (reduced to ``[0, 2**63)``),
    the generator's next seed (a pair tensor), or the global generator's next for None.

    Raises:
        ValueError: ``seed`` is of another type.
    """
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        return global_seed_generator().next()
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed % _SEED_RANGE
    if _is_int_scalar(seed):  # a NumPy integer, or a 0-d integer tensor
        return int(seed) % _SEED_RANGE
    raise ValueError(
        "`seed` must be an int, a katman.random.SeedGenerator or None. "
        f"Received: seed={seed!r} (of type {type(seed).__name__})"
    )


def _is_int_scalar(value: Any) -> bool:
    """A 0-d integer array (NumPy's or a framework's), which is as good as an int."""
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is None or dtype is None or tuple(shape) != ():
        return False
    try:
        return is_int(standardize_dtype(dtype))
    except (TypeError, ValueError):
        return False


def _shape(function: str, shape: Any) -> tuple[int, ...]:
    """``shape`` (an int or a sequence of ints, NumPy's included) as a tuple of ints."""
    if not isinstance(shape, (str, bytes)):
        try:
            dims = (shape,) if hasattr(shape, "__index__") else tuple(shape)
            if not any(isinstance(d, bool) for d in dims):
                dims = tuple(operator.index(d) for d in dims)
                if all(d >= 0 for d in dims):
                    return dims
        except TypeError:
            pass
    raise ValueError(
        f"katman.random.{function}: `shape` must be a tuple of non-negative ints. "
        f"Received: shape={shape!r}"
    )


def _float_dtype(function: str, dtype: Any) -> str:
    dtype = standardize_dtype(dtype) if dtype is not None else config.floatx()
    if not is_float(dtype):
        raise ValueError(
            f"katman.random.{function} requires a floating point `dtype`. Received: dtype={dtype}"
        )
    return dtype


def normal(
    shape: Sequence[int],
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: str | None = None,
    seed: int | SeedGenerator | None = None,
) -> Any:
    """Samples from a normal (Gaussian) distribution.

    Args:
        shape: the shape of the result.
        mean: the distribution's mean.
        stddev: its standard deviation.
        dtype: a float dtype; default ``katman.config.floatx()``.
        seed: an int, a :class:`SeedGenerator` or None (see the module's docstring).
    """
    dtype = _float_dtype("normal", dtype)
    return ops.normal(
        _shape("normal", shape), mean=mean, stddev=stddev, dtype=dtype, seed=draw_seed(seed)
    )


def uniform(
    shape: Sequence[int],
    minval: Any = 0.0,
    maxval: Any = 1.0,
    dtype: str | None = None,
    seed: int | SeedGenerator | None = None,
) -> Any:
    """Samples drawn uniformly from ``[minval, maxval)``.

    Args:
        shape: the shape of the result.
        minval: the lower bound (included).
        maxval: the upper bound (excluded).
        dtype: a float dtype; default ``katman.config.floatx()``.
        seed: an int, a :class:`SeedGenerator` or None (see the module's docstring).
    """
    dtype = _float_dtype("uniform", dtype)
    return ops.uniform(
        _shape("uniform", shape), minval=minval, maxval=maxval, dtype=dtype, seed=draw_seed(seed)
    )


def truncated_normal(
    shape: Sequence[int],
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: str | None = None,
    seed: int | SeedGenerator | None = None,
) -> Any:
    """Samples from a normal distribution truncated to two standard deviations around the
    mean: the values are those of ``normal``, redrawn where they fall farther away.

    Args:
        shape: the shape of the result.
        mean: the mean of the normal distribution before truncation.
        stddev: its standard deviation before truncation.
        dtype: a float dtype; default ``katman.config.floatx()``.
        seed: an int, a :class:`SeedGenerator` or None (see the module's docstring).
    """
    dtype = _float_dtype("truncated_normal", dtype)
    return ops.truncated_normal(
        _shape("truncated_normal", shape),
        mean=mean,
        stddev=stddev,
        dtype=dtype,
        seed=draw_seed(seed),
    )


def randint(
    shape: Sequence[int],
    minval: int,
    maxval: int,
    dtype: str = "int32",
    seed: int | SeedGenerator | None = None,
) -> Any:
    """Integers drawn uniformly from ``[minval, maxval)``.

    Args:
        shape: the shape of the result.
        minval: the lower bound (included).
        maxval: the upper bound (excluded); greater than ``minval``.
        dtype: an integer dtype; default ``"int32"``.
        seed: an int, a :class:`SeedGenerator` or None (see the module's docstring).
    """
    dtype = standardize_dtype(dtype if dtype is not None else "int32")
    if not is_int(dtype):
        raise ValueError(
            f"katman.random.randint requires an integer `dtype`. Received: dtype={dtype}"
        )
    if int(maxval) <= int(minval):
        raise ValueError(
            f"katman.random.randint: `maxval` must be greater than `minval`. Received: "
            f"minval={minval!r}, maxval={maxval!r}"
        )
    return ops.randint(
        _shape("randint", shape),
        minval=int(minval),
        maxval=int(maxval),
        dtype=dtype,
        seed=draw_seed(seed),
    )


def categorical(
    logits: Any,
    num_samples: int,
    dtype: str = "int32",
    seed: int | SeedGenerator | None = None,
) -> Any:
    """Class indices drawn from categorical distributions, one per row of ``logits``.

    Args:
        logits: a 2-D tensor ``(batch_size, num_classes)`` of unnormalized log-probabilities.
        num_samples: how many independent draws per row.
        dtype: an integer dtype; default ``"int32"``.
        seed: an int, a :class:`SeedGenerator` or None (see the module's docstring).

    Returns:
        A ``(batch_size, num_samples)`` tensor of indices in ``[0, num_classes)``.
    """
    dtype = standardize_dtype(dtype if dtype is not None else "int32")
    if not is_int(dtype):
        raise ValueError(
            f"katman.random.categorical requires an integer `dtype`. Received: dtype={dtype}"
        )
    shape = getattr(logits, "shape", None)
    if shape is None:
        logits = ops.convert_to_tensor(logits)
        shape = logits.shape
    if len(shape) != 2:
        raise ValueError(
            "katman.random.categorical: `logits` must be a 2-D tensor "
            f"(batch_size, num_classes). Received shape {tuple(shape)}"
        )
    return ops.categorical(logits, int(num_samples), dtype=dtype, seed=draw_seed(seed))


def dropout(
    inputs: Any,
    rate: float,
    noise_shape: Sequence[int | None] | None = None,
    seed: int | SeedGenerator | None = None,
) -> Any:
    """``inputs`` with each entry set to zero with probability ``rate`` and the others
    scaled by ``1 / (1 - rate)``, so that the expected value is unchanged.

    Args:
        inputs: a tensor; integer inputs become ``floatx``.
        rate: the probability of dropping an entry, in ``[0, 1]``.
        noise_shape: the shape of the keep/drop mask, broadcast to ``inputs``' shape (e.g.
            ``(batch, 1, features)`` drops the same features at every time step); None
            entries take ``inputs``' size. Default: ``inputs``' shape.
        seed: an int, a :class:`SeedGenerator` or None (see the module's docstring).
    """
    rate = float(rate)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"katman.random.dropout: `rate` must be in [0, 1]. Received: {rate}")
    if noise_shape is not None:
        noise_shape = tuple(noise_shape)
    return ops.dropout(inputs, rate, noise_shape=noise_shape, seed=draw_seed(seed))


def shuffle(x: Any, axis: int = 0, seed: int | SeedGenerator | None = None) -> Any:
    """``x`` with its slices along ``axis`` in a uniformly random order (each slice moves
    whole: shuffling the rows of a matrix keeps every row intact).

    Args:
        x: a tensor.
        axis: the axis to shuffle along.
        seed: an int, a :class:`SeedGenerator` or None (see the module's docstring).
    """
    return ops.shuffle(x, axis=int(axis), seed=draw_seed(seed))


def gamma(
    shape: Sequence[int],
    alpha: Any,
    dtype: str | None = None,
    seed: int | SeedGenerator | None = None,
) -> Any:
    """Samples from a Gamma distribution with shape parameter ``alpha`` and scale 1.

    Args:
        shape: the shape of the result.
        alpha: the shape parameter (positive), a float or a tensor broadcastable to ``shape``.
        dtype: a float dtype; default ``katman.config.floatx()``.
        seed: an int, a :class:`SeedGenerator` or None (see the module's docstring).
    """
    dtype = _float_dtype("gamma", dtype)
    return ops.gamma(_shape("gamma", shape), alpha, dtype=dtype, seed=draw_seed(seed))


def binomial(
    shape: Sequence[int],
    counts: Any,
    probabilities: Any,
    dtype: str | None = None,
    seed: int | SeedGenerator | None = None,
) -> Any:
    """Samples from a binomial distribution: successes in ``counts`` independent trials,
    each succeeding with probability ``probabilities``.

    Args:
        shape: the shape of the result.
        counts: the number of trials, a number or a tensor broadcastable to ``shape``.
        probabilities: the success probability, broadcastable with ``counts`` and ``shape``.
        dtype: the result's dtype; default ``katman.config.floatx()`` (integer dtypes are
            accepted too).
        seed: an int, a :class:`SeedGenerator` or None (see the module's docstring).
    """
    dtype = standardize_dtype(dtype) if dtype is not None else config.floatx()
    if not (is_float(dtype) or is_int(dtype)):
        raise ValueError(
            f"katman.random.binomial requires a numeric `dtype`. Received: dtype={dtype}"
        )
    return ops.binomial(
        _shape("binomial", shape), counts, probabilities, dtype=dtype, seed=draw_seed(seed)
    )


def beta(
    shape: Sequence[int],
    alpha: Any,
    beta: Any,
    dtype: str | None = None,
    seed: int | SeedGenerator | None = None,
) -> Any:
    """Samples from a Beta distribution with parameters ``alpha`` and ``beta``.

    Args:
        shape: the shape of the result.
        alpha: the first (positive) parameter, a float or a tensor broadcastable to ``shape``.
        beta: the second (positive) parameter, broadcastable with ``alpha`` and ``shape``.
        dtype: a float dtype; default ``katman.config.floatx()``.
        seed: an int, a :class:`SeedGenerator` or None (see the module's docstring).
    """
    dtype = _float_dtype("beta", dtype)
    return ops.beta(_shape("beta", shape), alpha, beta, dtype=dtype, seed=draw_seed(seed))

"""Random number generation from explicit seeds.

Every kernel takes ``seed`` as a Python int (or a SeedGenerator's int64 pair) and draws
from its own ``torch.Generator``
seeded with it (``manual_seed``), so it neither reads nor advances torch's global generator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from katman.backend import Backend
from katman.backends.torch.dtypes import TORCH_DTYPES
from katman.backends.torch.placement import current_device
from katman.config import floatx
from katman.dtypes import result_type, standardize_dtype

# Samplers that torch implements for float32 and float64 only run in float32 for the half types.
_HALF = ("float16", "bfloat16")
# The normal CDF at -2 and 2: truncated normal samples are inverse-CDF draws between them.
_CDF_LOW = 0.5 * math.erfc(2.0 / math.sqrt(2.0))
_CDF_HIGH = 1.0 - _CDF_LOW


def _generator(seed: Any, device: Any = None) -> torch.Generator:
    if isinstance(seed, torch.Tensor) and seed.shape == (2,):
        # A SeedGenerator's [base, counter] pair: one int that differs for every counter.
        base, counter = (int(v) for v in seed.tolist())
        seed = (base ^ (counter * 0x9E3779B97F4A7C15)) % 2**63
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(
            f"seed must be a Python int, got {type(seed).__name__} {seed!r} "
            "(katman.random's functions also take a SeedGenerator or None)."
        )
    device = current_device() if device is None else device
    generator = torch.Generator(device=device)
    # The CPU generator (a Mersenne Twister) keeps 32 bits of its seed: fold the high half of
    # the seed into them rather than drop it. Seeds below 2**32 are used as they are.
    seed %= 2**63
    generator.manual_seed((seed ^ (seed >> 32)) & 0xFFFFFFFF)
    return generator


def _signed(value: int) -> int:
    """A 64-bit constant as the int64 with the same bits."""
    return value - 2**64 if value >= 2**63 else value


_GOLDEN = _signed(0x9E3779B97F4A7C15)
_MIX_1, _MIX_2 = _signed(0xBF58476D1CE4E5B9), _signed(0x94D049BB133111EB)


def _shift_right(z: torch.Tensor, bits: int) -> torch.Tensor:
    """A logical right shift of int64 bits (torch's ``>>`` copies the sign bit)."""
    return (z >> bits) & ((1 << (64 - bits)) - 1)


def counter_uniform(seed: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """float32 draws in [0, 1) computed where ``seed`` (a SeedGenerator's int64
    ``[base, counter]`` pair) lives, with no read of the seed back to the host.

    ``torch.Generator`` takes its seed as a host integer: reading a GPU seed stops the
    CPU until the GPU's queue drains, once per dropout layer per step. Here each draw is
    SplitMix64's output for (seed, position) instead: a counter-based generator whose
    24 high bits make the float.
    """
    # The key is hashed so that consecutive counters start far apart in the sequence.
    key = _mix(_mix(seed[1] * _GOLDEN) ^ seed[0])
    positions = torch.arange(math.prod(shape), dtype=torch.int64, device=seed.device)
    z = _mix(positions * _GOLDEN + key)
    return (_shift_right(z, 40).to(torch.float32) * 2.0**-24).reshape(shape)


def _mix(z: torch.Tensor) -> torch.Tensor:
    """SplitMix64's finalizer (int64 arithmetic wraps around)."""
    z = (z ^ _shift_right(z, 30)) * _MIX_1
    z = (z ^ _shift_right(z, 27)) * _MIX_2
    return z ^ _shift_right(z, 31)


def _on_device(seed: Any) -> bool:
    return isinstance(seed, torch.Tensor) and seed.shape == (2,) and not seed.is_cpu


def _shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int) else tuple(int(d) for d in shape)


def _float_dtype(dtype: Any) -> str:
    return standardize_dtype(dtype) if dtype is not None else floatx()


def _compute_dtype(dtype: str) -> str:
    return "float32" if dtype in _HALF else dtype


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    def parameter(
        value: Any, dtype: str, device: Any, shape: Sequence[int] | None = None
    ) -> torch.Tensor:
        """A distribution parameter (number or tensor) as a ``dtype`` tensor on ``device``,
        broadcast to ``shape`` if given. Python numbers go straight to ``dtype``."""
        value = backend.convert_to_tensor(value, dtype).to(device)
        return value if shape is None else torch.broadcast_to(value, shape)

    def affine(sample: torch.Tensor, scale: Any, shift: Any, dtype: str) -> torch.Tensor:
        """``sample * scale + shift``, computed in ``sample``'s dtype, returned in ``dtype``."""
        compute = backend.dtype_of(sample)
        scale = parameter(scale, compute, sample.device)
        shift = parameter(shift, compute, sample.device)
        return (sample * scale + shift).to(TORCH_DTYPES[dtype])

    def normal(
        shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = None, seed: Any = None
    ) -> torch.Tensor:
        dtype = _float_dtype(dtype)
        generator = _generator(seed)
        sample = torch.randn(
            _shape(shape),
            generator=generator,
            dtype=TORCH_DTYPES[_compute_dtype(dtype)],
            device=generator.device,
        )
        return affine(sample, stddev, mean, dtype)

    def uniform(
        shape: Any, minval: Any = 0.0, maxval: Any = 1.0, dtype: Any = None, seed: Any = None
    ) -> torch.Tensor:
        dtype = _float_dtype(dtype)
        generator = _generator(seed)
        compute = _compute_dtype(dtype)
        sample = torch.rand(
            _shape(shape), generator=generator, dtype=TORCH_DTYPES[compute], device=generator.device
        )
        low = parameter(minval, compute, sample.device)
        high = parameter(maxval, compute, sample.device)
        result = (sample * (high - low) + low).to(TORCH_DTYPES[dtype])
        # Rounding to a narrower dtype may land on maxval; keep the interval half-open.
        return torch.where(result < high.to(result.dtype), result, low.to(result.dtype))

    def truncated_normal(
        shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = None, seed: Any = None
    ) -> torch.Tensor:
        dtype = _float_dtype(dtype)
        generator = _generator(seed)
        # Inverse CDF of a uniform draw between the CDF at -2 and at 2, in float64.
        u = torch.empty(_shape(shape), dtype=torch.float64, device=generator.device)
        u.uniform_(_CDF_LOW, _CDF_HIGH, generator=generator)
        sample = torch.clamp(math.sqrt(2.0) * torch.erfinv(2.0 * u - 1.0), -2.0, 2.0)
        return affine(sample.to(TORCH_DTYPES[_compute_dtype(dtype)]), stddev, mean, dtype)

    def randint(
        shape: Any, minval: Any, maxval: Any, dtype: Any = "int32", seed: Any = None
    ) -> torch.Tensor:
        generator = _generator(seed)
        return torch.randint(
            int(minval),
            int(maxval),
            _shape(shape),
            generator=generator,
            dtype=TORCH_DTYPES[standardize_dtype(dtype)],
            device=generator.device,
        )

    def categorical(
        logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None
    ) -> torch.Tensor:
        logits = backend.convert_to_tensor(logits)
        generator = _generator(seed, logits.device)
        probabilities = torch.softmax(logits.to(torch.float64), dim=-1)
        samples = torch.multinomial(
            probabilities, int(num_samples), replacement=True, generator=generator
        )
        return samples.to(TORCH_DTYPES[standardize_dtype(dtype)])

    def dropout(
        inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None
    ) -> torch.Tensor:
        inputs = backend.convert_to_tensor(inputs)
        dtype = result_type(backend.dtype_of(inputs), float)
        inputs = inputs.to(TORCH_DTYPES[dtype])
        if rate == 0.0:
            return inputs
        if rate >= 1.0:
            return torch.zeros_like(inputs)
        if noise_shape is None:
            noise_shape = inputs.shape
        else:
            noise_shape = [
                d if n is None else n for d, n in zip(inputs.shape, noise_shape, strict=True)
            ]
        if _on_device(seed):
            draws = counter_uniform(seed.to(inputs.device), _shape(noise_shape))
        else:
            generator = _generator(seed, inputs.device)
            draws = torch.rand(_shape(noise_shape), generator=generator, device=inputs.device)
        keep = torch.broadcast_to(draws >= rate, inputs.shape)
        return torch.where(keep, inputs / (1.0 - rate), torch.zeros_like(inputs))

    def shuffle(x: Any, axis: int = 0, seed: Any = None) -> torch.Tensor:
        x = backend.convert_to_tensor(x)
        generator = _generator(seed, x.device)
        order = torch.randperm(x.shape[axis], generator=generator, device=x.device)
        return torch.index_select(x, axis, order)

    def gamma(shape: Any, alpha: Any, dtype: Any = None, seed: Any = None) -> torch.Tensor:
        dtype = _float_dtype(dtype)
        generator = _generator(seed)
        concentration = parameter(alpha, _compute_dtype(dtype), generator.device, _shape(shape))
        sample = torch._standard_gamma(concentration.contiguous(), generator=generator)
        return sample.to(TORCH_DTYPES[dtype])

    def binomial(
        shape: Any, counts: Any, probabilities: Any, dtype: Any = None, seed: Any = None
    ) -> torch.Tensor:
        dtype = _float_dtype(dtype)
        generator = _generator(seed)
        shape = _shape(shape)
        count = parameter(counts, "float64", generator.device, shape).contiguous()
        probability = parameter(probabilities, "float64", generator.device, shape).contiguous()
        sample = torch.binomial(count, probability, generator=generator)
        return sample.to(TORCH_DTYPES[dtype])

    def beta(
        shape: Any, alpha: Any, beta: Any, dtype: Any = None, seed: Any = None
    ) -> torch.Tensor:
        dtype = _float_dtype(dtype)
        generator = _generator(seed)
        compute = _compute_dtype(dtype)
        # A Beta(a, b) draw is the first coordinate of a Dirichlet(a, b) draw.
        shape = _shape(shape)
        concentration = torch.stack(
            [
                parameter(alpha, compute, generator.device, shape),
                parameter(beta, compute, generator.device, shape),
            ],
            dim=-1,
        )
        sample = torch._sample_dirichlet(concentration.contiguous(), generator=generator)
        return sample[..., 0].to(TORCH_DTYPES[dtype])

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

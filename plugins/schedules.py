"""Built-in schedules plugin: Keras 3's learning-rate schedules.

Each schedule maps the optimizer's step (a tensor) to a learning rate with ``katman.ops``
only, without Python branches on tensor values, so it traces inside compiled training steps.
Pass one as an optimizer's ``learning_rate``; it resolves as
``katman.optimizers.schedules.NAME``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import katman
from katman import ops
from katman.optimizers.schedules import LearningRateSchedule
from katman.registry import PluginRegistrar

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
]


def _check_steps(owner: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a number > 0, got {value!r}.")


def _start(initial_learning_rate: Any, step: Any) -> tuple[Any, str, Any]:
    """The initial rate as a tensor, its dtype, and ``step`` cast to that dtype."""
    initial = ops.convert_to_tensor(initial_learning_rate)
    dtype = ops.dtype(initial)
    return initial, dtype, ops.cast(step, dtype)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with ``staircase``
    the exponent is floored, so the rate drops every ``decay_steps`` steps.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: the steps over which the rate is multiplied by ``decay_rate`` (> 0).
        decay_rate: the factor per ``decay_steps``.
        staircase: decay in discrete intervals.
        name: a name for the schedule.

    Example:
        >>> import katman
        >>> schedule = katman.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
        >>> round(float(katman.ops.convert_to_numpy(schedule(20))), 6)
        0.025
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ) -> None:
        _check_steps("ExponentialDecay", "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: Any) -> Any:
        initial, dtype, step = _start(self.initial_learning_rate, step)
        p = ops.divide(step, ops.cast(self.decay_steps, dtype))
        if self.staircase:
            p = ops.floor(p)
        return ops.multiply(initial, ops.power(ops.cast(self.decay_rate, dtype), p))

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """A constant rate per interval: ``values[0]`` while ``step <= boundaries[0]``,
    ``values[i]`` while ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after
    the last boundary.

    Args:
        boundaries: increasing step numbers.
        values: the rates, one more than ``boundaries``.
        name: a name for the schedule.

    Example:
        >>> import katman
        >>> schedule = katman.optimizers.schedules.PiecewiseConstantDecay([10], [1.0, 0.5])
        >>> float(katman.ops.convert_to_numpy(schedule(11)))
        0.5
    """

    def __init__(
        self,
        boundaries: Sequence[Any],
        values: Sequence[Any],
        name: str = "PiecewiseConstant",
    ) -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"PiecewiseConstantDecay: expected one value more than boundaries, got "
                f"{len(boundaries)} boundaries {list(boundaries)} and {len(values)} values "
                f"{list(values)}."
            )
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step: Any) -> Any:
        step = ops.convert_to_tensor(step)
        values = [ops.convert_to_tensor(v) for v in self.values]
        dtype = ops.dtype(values[0])
        values = [ops.cast(v, dtype) for v in values]
        if not self.boundaries:
            return values[0]
        boundaries = [ops.cast(b, ops.dtype(step)) for b in self.boundaries]

        def masked(condition: Any, value: Any) -> Any:
            return ops.multiply(ops.cast(condition, dtype), value)

        # The indicator of each interval times its value, summed: one term is non-zero.
        result = masked(ops.less_equal(step, boundaries[0]), values[0])
        result = ops.add(result, masked(ops.greater(step, boundaries[-1]), values[-1]))
        for low, high, value in zip(boundaries[:-1], boundaries[1:], values[1:-1], strict=True):
            inside = ops.logical_and(ops.greater(step, low), ops.less_equal(step, high))
            result = ops.add(result, masked(inside, value))
        return result

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """A polynomial ramp from ``initial_learning_rate`` to ``end_learning_rate`` over
    ``decay_steps``: ``(initial - end) * (1 - step / decay_steps) ** power + end``.

    Without ``cycle`` the rate stays at ``end_learning_rate`` after ``decay_steps``; with it
    ``decay_steps`` grows to the first multiple of itself not below ``step``.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: the length of the ramp (> 0).
        end_learning_rate: the final rate.
        power: the polynomial's power (1: linear).
        cycle: restart the ramp (from a lower rate) past ``decay_steps``.
        name: a name for the schedule.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        _check_steps("PolynomialDecay", "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: Any) -> Any:
        initial, dtype, step = _start(self.initial_learning_rate, step)
        end = ops.cast(self.end_learning_rate, dtype)
        decay_steps = ops.cast(self.decay_steps, dtype)
        if self.cycle:
            # The first multiple of decay_steps at or above step (1 at step 0).
            multiplier = ops.where(
                ops.equal(step, 0), ops.ones_like(step), ops.ceil(ops.divide(step, decay_steps))
            )
            decay_steps = ops.multiply(decay_steps, multiplier)
        else:
            step = ops.minimum(step, decay_steps)
        remaining = ops.subtract(1.0, ops.divide(step, decay_steps))
        scale = ops.power(remaining, ops.cast(self.power, dtype))
        return ops.add(ops.multiply(ops.subtract(initial, end), scale), end)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; with
    ``staircase`` the ratio ``step / decay_steps`` is floored.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: how often the decay is applied (> 0).
        decay_rate: the decay rate.
        staircase: decay in discrete intervals.
        name: a name for the schedule.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ) -> None:
        _check_steps("InverseTimeDecay", "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: Any) -> Any:
        initial, dtype, step = _start(self.initial_learning_rate, step)
        p = ops.divide(step, ops.cast(self.decay_steps, dtype))
        if self.staircase:
            p = ops.floor(p)
        denominator = ops.add(1.0, ops.multiply(ops.cast(self.decay_rate, dtype), p))
        return ops.divide(initial, denominator)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


def _cosine(fraction: Any, alpha: Any, dtype: str) -> Any:
    """``(1 - alpha) * 0.5 * (1 + cos(pi * fraction)) + alpha``."""
    angle = ops.multiply(ops.cast(math.pi, dtype), fraction)
    cosine = ops.multiply(0.5, ops.add(1.0, ops.cos(angle)))
    return ops.add(ops.multiply(ops.subtract(1.0, alpha), cosine), alpha)


class CosineDecay(LearningRateSchedule):
    """Cosine annealing, after an optional linear warmup.

    Without warmup (``warmup_target=None``): ``initial_learning_rate * ((1 - alpha) * 0.5 *
    (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)``. With it, the rate rises
    linearly from ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then
    decays from ``warmup_target`` as above over the next ``decay_steps``.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: the length of the decay (> 0).
        alpha: the final rate as a fraction of the decay's starting rate.
        name: a name for the schedule.
        warmup_target: the rate reached at the end of the warmup (None: no warmup).
        warmup_steps: the length of the warmup.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        _check_steps("CosineDecay", "decay_steps", decay_steps)
        if (
            isinstance(warmup_steps, bool)
            or not isinstance(warmup_steps, (int, float))
            or (warmup_steps < 0)
        ):
            raise ValueError(
                f"CosineDecay: warmup_steps must be a number >= 0, got {warmup_steps!r}."
            )
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step: Any) -> Any:
        initial, dtype, step = _start(self.initial_learning_rate, step)
        decay_steps = ops.cast(self.decay_steps, dtype)
        alpha = ops.cast(self.alpha, dtype)
        if self.warmup_target is None:
            fraction = ops.divide(ops.minimum(step, decay_steps), decay_steps)
            return ops.multiply(initial, _cosine(fraction, alpha, dtype))
        target = ops.cast(self.warmup_target, dtype)
        warmup_steps = ops.cast(self.warmup_steps, dtype)
        step = ops.minimum(step, ops.add(decay_steps, warmup_steps))
        # Both branches are computed and one selected; the warmup's divisor is kept non-zero
        # (with no warmup steps its branch is never selected).
        warmup_fraction = ops.divide(step, ops.maximum(warmup_steps, 1.0))
        warming = ops.add(ops.multiply(ops.subtract(target, initial), warmup_fraction), initial)
        fraction = ops.divide(ops.subtract(step, warmup_steps), decay_steps)
        decaying = ops.multiply(target, _cosine(fraction, alpha, dtype))
        return ops.where(ops.less(step, warmup_steps), warming, decaying)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine annealing with warm restarts (SGDR): the first period lasts
    ``first_decay_steps``, each next one ``t_mul`` times longer and starting from ``m_mul``
    times the previous peak rate.

    Args:
        initial_learning_rate: the rate at step 0.
        first_decay_steps: the length of the first period (> 0).
        t_mul: the growth factor of the periods' lengths.
        m_mul: the factor of the periods' starting rates.
        alpha: the minimum rate as a fraction of ``initial_learning_rate``.
        name: a name for the schedule.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ) -> None:
        _check_steps("CosineDecayRestarts", "first_decay_steps", first_decay_steps)
        _check_steps("CosineDecayRestarts", "t_mul", t_mul)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step: Any) -> Any:
        initial, dtype, step = _start(self.initial_learning_rate, step)
        fraction = ops.divide(step, ops.cast(self.first_decay_steps, dtype))
        t_mul = ops.cast(self.t_mul, dtype)
        if self.t_mul == 1.0:
            restarts = ops.floor(fraction)
            fraction = ops.subtract(fraction, restarts)
        else:
            # Periods grow geometrically: the restart index solves
            # (1 - t_mul**i) / (1 - t_mul) <= fraction.
            restarts = ops.floor(
                ops.divide(
                    ops.log(ops.subtract(1.0, ops.multiply(fraction, ops.subtract(1.0, t_mul)))),
                    ops.log(t_mul),
                )
            )
            growth = ops.power(t_mul, restarts)
            elapsed = ops.divide(ops.subtract(1.0, growth), ops.subtract(1.0, t_mul))
            fraction = ops.divide(ops.subtract(fraction, elapsed), growth)
        peak = ops.power(ops.cast(self.m_mul, dtype), restarts)
        cosine = ops.multiply(
            ops.multiply(0.5, peak),
            ops.add(1.0, ops.cos(ops.multiply(ops.cast(math.pi, dtype), fraction))),
        )
        alpha = ops.cast(self.alpha, dtype)
        return ops.multiply(initial, ops.add(ops.multiply(ops.subtract(1.0, alpha), cosine), alpha))

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for cls in (
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    ):
        registry.add("schedule", cls.__name__, cls)

"""Built-in optimizers plugin: Keras 3's optimizers, their update rules and defaults.

Each optimizer builds on :class:`katman.optimizers.Optimizer`, which owns the learning rate
(or schedule), the step counter, decoupled weight decay, clipping, constraints, moving
averages and gradient accumulation. An optimizer here only creates its slots in ``build`` and
writes one variable's update in ``update_step``, with ``katman.ops`` and ``Variable.assign``
and without Python branches on tensor values, so the step traces under ``jax.jit`` and
``tf.function``.

Arguments every optimizer takes besides its own (see ``Optimizer``): ``weight_decay``,
``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``use_ema``, ``ema_momentum``,
``ema_overwrite_frequency``, ``loss_scale_factor``, ``gradient_accumulation_steps``, ``name``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import katman
from katman import ops
from katman.config import floatx
from katman.optimizers.optimizer import Optimizer
from katman.plugins.fused import adam_update
from katman.registry import PluginRegistrar
from katman.variables import Variable

__all__ = [
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lion",
    "Nadam",
    "RMSprop",
]


def _filled(value: float) -> Callable[[tuple[int, ...], str], Any]:
    """An initializer ``(shape, dtype) -> tensor`` filling with ``value``."""

    def initializer(shape: tuple[int, ...], dtype: str) -> Any:
        return ops.full(shape, value, dtype=dtype)

    return initializer


def _blend(decay: Any, old: Any, new: Any) -> Any:
    """The moving-average update ``decay * old + (1 - decay) * new``."""
    keep = 1 - decay if _is_number(decay) else ops.subtract(1.0, decay)
    return ops.add(ops.multiply(decay, old), ops.multiply(keep, new))


def _check_range(owner: str, name: str, value: Any, low: float, high: float) -> None:
    """Raise a ValueError unless ``low <= value <= high``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{owner}: {name} must be a number in [{low}, {high}], got {value!r}.")


def _check_non_negative(owner: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{owner}: {name} must be a number >= 0, got {value!r}.")


class _SlotOptimizer(Optimizer):
    """Adds Keras's ``add_optimizer_variables``: slots per variable, interleaved by variable
    (``m0, v0, m1, v1, ...``) so that ``variables`` lists the state in Keras's order."""

    def add_optimizer_variables(
        self,
        variables: Sequence[Variable],
        names: str | Sequence[str],
        initializer: Any = "zeros",
    ) -> Any:
        """One slot named ``name`` per variable; a list, or a tuple of lists for several names.

        ``initializer`` is one for all names or a list with one per name; ``"zeros"`` and
        numbers fill with that value.
        """
        single = isinstance(names, str)
        name_list = [names] if single else list(names)
        inits = list(initializer) if isinstance(initializer, (list, tuple)) else [initializer]
        if len(inits) == 1:
            inits = inits * len(name_list)
        if len(inits) != len(name_list):
            raise ValueError(
                f"{type(self).__name__}: got {len(inits)} initializers for "
                f"{len(name_list)} slot names {name_list}; pass one, or one per name."
            )
        inits = [_as_initializer(i) for i in inits]
        slots: tuple[list[Variable], ...] = tuple([] for _ in name_list)
        for variable in variables:
            for slot_list, name, init in zip(slots, name_list, inits, strict=True):
                slot_list.append(self.add_variable_from_reference(variable, name, init))
        return slots[0] if single else slots

    def _slot(self, slots: list[Variable], variable: Variable) -> Variable:
        return slots[self._get_variable_index(variable)]

    def _local_step(self, dtype: str) -> Any:
        """The number of the step being applied (1 for the first), as ``dtype``."""
        return ops.cast(ops.add(self._step(), 1), dtype)


def _as_dtype(tensor: Any, dtype: str) -> Any:
    # Gradients nearly always have their variable's dtype: checking costs less than a cast op.
    return tensor if ops.dtype(tensor) == dtype else ops.cast(tensor, dtype)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_initializer(initializer: Any) -> Any:
    """``"zeros"`` and numbers as fill initializers; anything else as given (a name or an
    initializer object, resolved by ``katman.initializers.get``)."""
    if isinstance(initializer, str) and initializer == "zeros":
        return _filled(0.0)
    if _is_number(initializer):
        return _filled(float(initializer))
    return initializer


class SGD(_SlotOptimizer):
    """Gradient descent, with optional (Nesterov) momentum.

    Without momentum: ``w -= learning_rate * g``. With it, a velocity
    ``m = momentum * m - learning_rate * g`` is added to ``w``; Nesterov's form adds
    ``momentum * m - learning_rate * g`` instead.

    Args:
        learning_rate: a float or a ``LearningRateSchedule``.
        momentum: in ``[0, 1]``; 0 is plain gradient descent.
        nesterov: use Nesterov momentum.
        weight_decay: decoupled weight decay (see ``Optimizer``); the remaining keyword
            arguments are ``Optimizer``'s.

    Example:
        >>> import katman
        >>> w = katman.Variable([1.0, 2.0])
        >>> katman.optimizers.SGD(learning_rate=0.1).apply([[1.0, 1.0]], [w])
        >>> katman.ops.convert_to_numpy(w.value)
        array([0.9, 1.9], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: Any = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        _check_range("SGD", "momentum", momentum, 0.0, 1.0)
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables: Sequence[Variable]) -> None:
        if self.built:
            return
        super().build(variables)
        self.momentums: list[Variable] = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient: Any, variable: Variable, learning_rate: Any) -> None:
        step = ops.multiply(gradient, learning_rate)
        if self.momentum == 0:
            variable.assign(ops.subtract(variable.value, step))
            return
        m = self._slot(self.momentums, variable)
        velocity = ops.subtract(ops.multiply(m.value, self.momentum), step)
        m.assign(velocity)
        if self.nesterov:
            velocity = ops.subtract(ops.multiply(velocity, self.momentum), step)
        variable.assign(ops.add(variable.value, velocity))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(_SlotOptimizer):
    """Adam: moving averages of the gradient (``m``) and its square (``v``), bias-corrected.

    ``w -= lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)`` at step
    ``t``; with ``amsgrad`` the running maximum of ``v`` replaces ``v``.

    Args:
        learning_rate: a float or a ``LearningRateSchedule``.
        beta_1: decay of the gradient average.
        beta_2: decay of the squared-gradient average.
        epsilon: added to the denominator for stability.
        amsgrad: use the AMSGrad variant.
        weight_decay: decoupled weight decay; the remaining keyword arguments are
            ``Optimizer``'s.

    Example:
        >>> import katman
        >>> w = katman.Variable([1.0, 2.0])
        >>> katman.optimizers.Adam(learning_rate=0.1).apply([[1.0, -1.0]], [w])
        >>> katman.ops.convert_to_numpy(w.value).round(3)
        array([0.9, 2.1], dtype=float32)
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        weight_decay: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        owner = type(self).__name__
        _check_range(owner, "beta_1", beta_1, 0.0, 1.0)
        _check_range(owner, "beta_2", beta_2, 0.0, 1.0)
        _check_non_negative(owner, "epsilon", epsilon)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def build(self, variables: Sequence[Variable]) -> None:
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"]
        )
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(variables, "velocity_hat")

    def update_step(self, gradient: Any, variable: Variable, learning_rate: Any) -> None:
        # Keras's per-variable entry point; apply() goes through update_all instead.
        self.update_all([gradient], [variable], learning_rate)

    def update_all(self, grads: list[Any], variables: list[Variable], learning_rate: Any) -> None:
        # One fused update per dtype: the step size is computed once per group, and a
        # backend with a multi-tensor kernel runs the whole group in a few calls.
        groups: dict[str, list[int]] = {}
        for position, variable in enumerate(variables):
            groups.setdefault(variable.dtype, []).append(position)
        for dtype, positions in groups.items():
            chosen = [variables[i] for i in positions]
            slots = [self._get_variable_index(v) for v in chosen]
            hats = [self._velocity_hats[i] for i in slots] if self.amsgrad else None
            state = [
                [v.value for v in chosen],
                [_as_dtype(grads[i], dtype) for i in positions],
                [self._momentums[i].value for i in slots],
                [self._velocities[i].value for i in slots],
                [h.value for h in hats] if hats is not None else None,
            ]
            new_values, new_m, new_v, new_hats = adam_update(
                *state,
                ops.cast(learning_rate, dtype),
                self._local_step(dtype),
                self.beta_1,
                self.beta_2,
                self.epsilon,
            )
            for variable, value in zip(chosen, new_values, strict=True):
                variable.assign(value)
            for i, m, v in zip(slots, new_m, new_v, strict=True):
                self._momentums[i].assign(m)
                self._velocities[i].assign(v)
            for hat, value in zip(hats or (), new_hats or (), strict=True):
                hat.assign(value)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (on by default): each step first multiplies the
    variables by ``1 - learning_rate * weight_decay``, then applies Adam's update.

    Args:
        learning_rate, beta_1, beta_2, epsilon, amsgrad: as for :class:`Adam`.
        weight_decay: the decay rate (required; default 0.004). The remaining keyword
            arguments are ``Optimizer``'s.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ) -> None:
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float, got None.")
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            **kwargs,
        )


class RMSprop(_SlotOptimizer):
    """RMSprop: divide the gradient by a moving root-mean-square of recent gradients.

    ``v = rho * v + (1 - rho) * g**2``; the increment is ``lr * g / sqrt(v + epsilon)``
    (``centered``: ``v - mean_g**2`` in place of ``v``, with ``mean_g`` a moving average of
    ``g``); with ``momentum`` the increments feed a velocity that is subtracted.

    Args:
        learning_rate: a float or a ``LearningRateSchedule``.
        rho: decay of the moving averages.
        momentum: momentum of the increments (0: none).
        epsilon: added inside the square root.
        centered: normalise by the variance estimate instead of the second moment.
        weight_decay: decoupled weight decay; the remaining keyword arguments are
            ``Optimizer``'s.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        _check_range("RMSprop", "rho", rho, 0.0, 1.0)
        _check_non_negative("RMSprop", "momentum", momentum)
        _check_non_negative("RMSprop", "epsilon", epsilon)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, variables: Sequence[Variable]) -> None:
        if self.built:
            return
        super().build(variables)
        self._velocities = self.add_optimizer_variables(variables, "velocity")
        self._momentums: list[Variable] = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(variables, "momentum")
        self._average_gradients: list[Variable] = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(variables, "average_gradient")

    def update_step(self, gradient: Any, variable: Variable, learning_rate: Any) -> None:
        rho = self.rho
        velocity = self._slot(self._velocities, variable)
        velocity.assign(_blend(rho, velocity.value, ops.square(gradient)))
        denominator = velocity.value
        if self.centered:
            average = self._slot(self._average_gradients, variable)
            average.assign(_blend(rho, average.value, gradient))
            denominator = ops.subtract(denominator, ops.square(average.value))
        increment = ops.divide(
            ops.multiply(learning_rate, gradient), ops.sqrt(ops.add(denominator, self.epsilon))
        )
        if self.momentum > 0:
            momentum = self._slot(self._momentums, variable)
            momentum.assign(ops.add(ops.multiply(self.momentum, momentum.value), increment))
            increment = momentum.value
        variable.assign(ops.subtract(variable.value, increment))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adagrad(_SlotOptimizer):
    """Adagrad: per-coordinate learning rates from the running sum of squared gradients.

    ``a += g**2``; ``w -= lr * g / sqrt(a + epsilon)``.

    Args:
        learning_rate: a float or a ``LearningRateSchedule``.
        initial_accumulator_value: the starting value of ``a`` (>= 0).
        epsilon: added inside the square root.
        weight_decay: decoupled weight decay; the remaining keyword arguments are
            ``Optimizer``'s.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        _check_non_negative("Adagrad", "initial_accumulator_value", initial_accumulator_value)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, variables: Sequence[Variable]) -> None:
        if self.built:
            return
        super().build(variables)
        self._accumulators = self.add_optimizer_variables(
            variables, "accumulator", initializer=float(self.initial_accumulator_value)
        )

    def update_step(self, gradient: Any, variable: Variable, learning_rate: Any) -> None:
        accumulator = self._slot(self._accumulators, variable)
        accumulator.assign(ops.add(accumulator.value, ops.square(gradient)))
        update = ops.divide(
            ops.multiply(learning_rate, gradient),
            ops.sqrt(ops.add(accumulator.value, self.epsilon)),
        )
        variable.assign(ops.subtract(variable.value, update))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


class Adamax(_SlotOptimizer):
    """Adamax: Adam with the infinity norm in place of the squared-gradient average.

    ``m += (g - m) * (1 - beta_1)``; ``u = max(beta_2 * u, |g|)``;
    ``w -= lr * m / ((1 - beta_1**t) * (u + epsilon))``.

    Args:
        learning_rate: a float or a ``LearningRateSchedule``.
        beta_1: decay of the gradient average.
        beta_2: decay of the infinity norm.
        epsilon: added to the denominator.
        weight_decay: decoupled weight decay; the remaining keyword arguments are
            ``Optimizer``'s.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        _check_range("Adamax", "beta_1", beta_1, 0.0, 1.0)
        _check_range("Adamax", "beta_2", beta_2, 0.0, 1.0)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, variables: Sequence[Variable]) -> None:
        if self.built:
            return
        super().build(variables)
        self._m, self._u = self.add_optimizer_variables(variables, ["momentum", "norm"])

    def update_step(self, gradient: Any, variable: Variable, learning_rate: Any) -> None:
        dtype = variable.dtype
        beta_1_power = ops.power(ops.cast(self.beta_1, dtype), self._local_step(dtype))
        m = self._slot(self._m, variable)
        u = self._slot(self._u, variable)
        m.assign(ops.add(m.value, ops.multiply(ops.subtract(gradient, m.value), 1 - self.beta_1)))
        u.assign(ops.maximum(ops.multiply(self.beta_2, u.value), ops.abs(gradient)))
        update = ops.divide(
            ops.multiply(learning_rate, m.value),
            ops.multiply(ops.subtract(1.0, beta_1_power), ops.add(u.value, self.epsilon)),
        )
        variable.assign(ops.subtract(variable.value, update))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Nadam(_SlotOptimizer):
    """Nadam: Adam with Nesterov momentum (Dozat's schedule ``u_t = beta_1 * (1 - 0.5 *
    0.96**t)``, whose running product is kept in a state variable).

    Args:
        learning_rate: a float or a ``LearningRateSchedule``.
        beta_1: decay of the gradient average.
        beta_2: decay of the squared-gradient average.
        epsilon: added to the denominator.
        weight_decay: decoupled weight decay; the remaining keyword arguments are
            ``Optimizer``'s.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        _check_range("Nadam", "beta_1", beta_1, 0.0, 1.0)
        _check_range("Nadam", "beta_2", beta_2, 0.0, 1.0)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, variables: Sequence[Variable]) -> None:
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"]
        )
        dtype = variables[0].dtype if variables else floatx()
        self._u_product = self.add_variable((), _filled(1.0), dtype, "u_product")

    def _u(self, step: Any) -> Any:
        """``beta_1 * (1 - 0.5 * 0.96**step)``, in ``step``'s dtype."""
        decay = ops.power(ops.cast(0.96, ops.dtype(step)), step)
        return ops.multiply(self.beta_1, ops.subtract(1.0, ops.multiply(0.5, decay)))

    def update_all(self, grads: list[Any], variables: list[Variable], learning_rate: Any) -> None:
        # The product of the u_t's advances once per step, before the variables' updates.
        t = self._local_step(self._u_product.dtype)
        self._u_product.assign(ops.multiply(self._u_product.value, self._u(t)))
        super().update_all(grads, variables, learning_rate)

    def update_step(self, gradient: Any, variable: Variable, learning_rate: Any) -> None:
        dtype = variable.dtype
        t = self._local_step(dtype)
        u_t = self._u(t)
        u_next = self._u(ops.add(t, 1.0))
        u_product = ops.cast(self._u_product.value, dtype)
        u_product_next = ops.multiply(u_product, u_next)
        beta_2_power = ops.power(ops.cast(self.beta_2, dtype), t)
        m = self._slot(self._momentums, variable)
        v = self._slot(self._velocities, variable)
        m.assign(ops.add(m.value, ops.multiply(ops.subtract(gradient, m.value), 1 - self.beta_1)))
        v.assign(
            ops.add(
                v.value,
                ops.multiply(ops.subtract(ops.square(gradient), v.value), 1 - self.beta_2),
            )
        )
        m_hat = ops.add(
            ops.divide(ops.multiply(u_next, m.value), ops.subtract(1.0, u_product_next)),
            ops.divide(
                ops.multiply(ops.subtract(1.0, u_t), gradient), ops.subtract(1.0, u_product)
            ),
        )
        v_hat = ops.divide(v.value, ops.subtract(1.0, beta_2_power))
        update = ops.divide(
            ops.multiply(m_hat, learning_rate), ops.add(ops.sqrt(v_hat), self.epsilon)
        )
        variable.assign(ops.subtract(variable.value, update))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Lion(_SlotOptimizer):
    """Lion (evolved sign momentum): ``w -= lr * sign(beta_1 * m + (1 - beta_1) * g)``, then
    ``m = beta_2 * m + (1 - beta_2) * g``.

    Args:
        learning_rate: a float or a ``LearningRateSchedule``.
        beta_1: interpolation for the update's sign, in ``(0, 1]``.
        beta_2: decay of the momentum.
        weight_decay: decoupled weight decay; the remaining keyword arguments are
            ``Optimizer``'s.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
        weight_decay: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        _check_range("Lion", "beta_1", beta_1, 0.0, 1.0)
        if beta_1 == 0:
            raise ValueError(
                "Lion: beta_1 must be in (0, 1] (with 0 Lion degenerates to sign descent), got 0."
            )
        _check_range("Lion", "beta_2", beta_2, 0.0, 1.0)
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def build(self, variables: Sequence[Variable]) -> None:
        if self.built:
            return
        super().build(variables)
        self._momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient: Any, variable: Variable, learning_rate: Any) -> None:
        m = self._slot(self._momentums, variable)
        direction = ops.add(
            ops.multiply(m.value, self.beta_1), ops.multiply(gradient, 1.0 - self.beta_1)
        )
        variable.assign(
            ops.subtract(variable.value, ops.multiply(learning_rate, ops.sign(direction)))
        )
        m.assign(_blend(self.beta_2, m.value, gradient))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


class Adadelta(_SlotOptimizer):
    """Adadelta: step sizes from moving averages of squared gradients and squared updates.

    ``a = rho * a + (1 - rho) * g**2``; ``d = -sqrt(s + eps) / sqrt(a + eps) * g``;
    ``s = rho * s + (1 - rho) * d**2``; ``w += lr * d``.

    Args:
        learning_rate: a float or a ``LearningRateSchedule``.
        rho: decay of the moving averages.
        epsilon: added inside the square roots.
        weight_decay: decoupled weight decay; the remaining keyword arguments are
            ``Optimizer``'s.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        _check_range("Adadelta", "rho", rho, 0.0, 1.0)
        self.rho = rho
        self.epsilon = epsilon

    def build(self, variables: Sequence[Variable]) -> None:
        if self.built:
            return
        super().build(variables)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            variables, ["accumulated_grad", "accumulated_delta_var"]
        )

    def update_step(self, gradient: Any, variable: Variable, learning_rate: Any) -> None:
        rho = self.rho
        grads = self._slot(self._accumulated_grads, variable)
        deltas = self._slot(self._accumulated_delta_vars, variable)
        grads.assign(_blend(rho, grads.value, ops.square(gradient)))
        delta = ops.negative(
            ops.divide(
                ops.multiply(ops.sqrt(ops.add(deltas.value, self.epsilon)), gradient),
                ops.sqrt(ops.add(grads.value, self.epsilon)),
            )
        )
        deltas.assign(_blend(rho, deltas.value, ops.square(delta)))
        variable.assign(ops.add(variable.value, ops.multiply(learning_rate, delta)))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Ftrl(_SlotOptimizer):
    """FTRL-proximal ("follow the regularized leader"), with L1, L2 and L2-shrinkage
    regularization, as in Keras.

    Args:
        learning_rate: a float or a ``LearningRateSchedule``.
        learning_rate_power: how the step shrinks with the accumulator (<= 0).
        initial_accumulator_value: starting value of the accumulators (>= 0).
        l1_regularization_strength: L1 strength (>= 0).
        l2_regularization_strength: L2 strength (>= 0).
        l2_shrinkage_regularization_strength: L2 shrinkage strength (>= 0).
        beta: FTRL's beta (added to L2 as ``beta / (2 * lr)``).
        weight_decay: decoupled weight decay; the remaining keyword arguments are
            ``Optimizer``'s.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
        weight_decay: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        for name, value in (
            ("initial_accumulator_value", initial_accumulator_value),
            ("l1_regularization_strength", l1_regularization_strength),
            ("l2_regularization_strength", l2_regularization_strength),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength),
        ):
            _check_non_negative("Ftrl", name, value)
        if not _is_number(learning_rate_power) or learning_rate_power > 0:
            raise ValueError(
                f"Ftrl: learning_rate_power must be a number <= 0, got {learning_rate_power!r}."
            )
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, variables: Sequence[Variable]) -> None:
        if self.built:
            return
        super().build(variables)
        self._accumulators, self._linears = self.add_optimizer_variables(
            variables,
            ["accumulator", "linear"],
            initializer=[float(self.initial_accumulator_value), "zeros"],
        )

    def update_step(self, gradient: Any, variable: Variable, learning_rate: Any) -> None:
        accumulator = self._slot(self._accumulators, variable)
        linear = self._slot(self._linears, variable)
        power = -self.learning_rate_power
        beta_term = ops.divide(self.beta, ops.multiply(2.0, learning_rate))
        l2 = ops.add(self.l2_regularization_strength, beta_term)
        shrunk = ops.add(
            gradient, ops.multiply(2 * self.l2_shrinkage_regularization_strength, variable.value)
        )
        new_accumulator = ops.add(accumulator.value, ops.square(gradient))
        sigma = ops.divide(
            ops.subtract(ops.power(new_accumulator, power), ops.power(accumulator.value, power)),
            learning_rate,
        )
        linear.assign(
            ops.add(linear.value, ops.subtract(shrunk, ops.multiply(sigma, variable.value)))
        )
        quadratic = ops.add(
            ops.divide(ops.power(new_accumulator, power), learning_rate), ops.multiply(2.0, l2)
        )
        l1 = self.l1_regularization_strength
        clipped = ops.clip(linear.value, -l1, l1)
        variable.assign(ops.divide(ops.subtract(clipped, linear.value), quadratic))
        accumulator.assign(new_accumulator)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }


class Adafactor(_SlotOptimizer):
    """Adafactor: Adam-like steps with a factored second moment (row and column averages
    of the squared gradient for variables of rank >= 2), a relative step size and update
    clipping, as in Keras.

    Args:
        learning_rate: a float or a ``LearningRateSchedule``.
        beta_2_decay: exponent of the second-moment decay ``1 - t**beta_2_decay``.
        epsilon_1: added to the squared gradient.
        epsilon_2: lower bound of the variable's RMS in the relative step.
        clip_threshold: the update's RMS is clipped to this.
        relative_step: with a constant learning rate, cap it at ``1 / sqrt(t)``.
        weight_decay: decoupled weight decay; the remaining keyword arguments are
            ``Optimizer``'s.
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_2_decay: float = -0.8,
        epsilon_1: float = 1e-30,
        epsilon_2: float = 1e-3,
        clip_threshold: float = 1.0,
        relative_step: bool = True,
        weight_decay: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        if not _is_number(clip_threshold) or clip_threshold <= 0:
            raise ValueError(
                f"Adafactor: clip_threshold must be a number > 0, got {clip_threshold!r}."
            )
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, variables: Sequence[Variable]) -> None:
        if self.built:
            return
        super().build(variables)
        self._r: list[Variable] = []
        self._c: list[Variable] = []
        self._v: list[Variable] = []
        for variable in variables:
            if len(variable.shape) >= 2:
                # Factor over the last two axes: row averages (drop the last axis) and
                # column averages (drop the one before it).
                shape, dtype, name = variable.shape, variable.dtype, variable.name
                row_shape, column_shape = shape[:-1], shape[:-2] + shape[-1:]
                self._r.append(self.add_variable(row_shape, _filled(0.0), dtype, f"{name}_row"))
                self._c.append(
                    self.add_variable(column_shape, _filled(0.0), dtype, f"{name}_column")
                )
            else:
                # Unfactored: placeholders keep the state list in Keras's order.
                self._r.append(self.add_variable((), _filled(0), "int32", f"{variable.name}_row"))
                self._c.append(
                    self.add_variable((), _filled(0), "int32", f"{variable.name}_column")
                )
            self._v.append(self.add_variable_from_reference(variable, "velocity", _filled(0.0)))

    @staticmethod
    def _rms(x: Any) -> Any:
        return ops.sqrt(ops.mean(ops.square(x)))

    def update_step(self, gradient: Any, variable: Variable, learning_rate: Any) -> None:
        dtype = variable.dtype
        t = self._local_step(dtype)
        inverse_sqrt_t = ops.divide(1.0, ops.sqrt(t))
        lr = learning_rate
        if self._schedule is None and self.relative_step:
            lr = ops.minimum(lr, inverse_sqrt_t)
        index = self._get_variable_index(variable)
        r, c, v = self._r[index], self._c[index], self._v[index]
        rho = ops.minimum(lr, inverse_sqrt_t)
        alpha = ops.multiply(
            ops.maximum(ops.cast(self.epsilon_2, dtype), self._rms(variable.value)), rho
        )
        squared = ops.add(ops.square(gradient), self.epsilon_1)
        beta_2 = ops.subtract(1.0, ops.power(t, ops.cast(self.beta_2_decay, dtype)))
        if variable.ndim >= 2:
            r.assign(_blend(beta_2, r.value, ops.mean(squared, axis=-1)))
            c.assign(_blend(beta_2, c.value, ops.mean(squared, axis=-2)))
            rows = ops.divide(r.value, ops.mean(r.value, axis=-1, keepdims=True))
            v.assign(ops.multiply(ops.expand_dims(rows, -1), ops.expand_dims(c.value, -2)))
        else:
            v.assign(_blend(beta_2, v.value, squared))
        u = ops.divide(gradient, ops.sqrt(v.value))
        u = ops.divide(u, ops.maximum(1.0, ops.divide(self._rms(u), self.clip_threshold)))
        variable.assign(ops.subtract(variable.value, ops.multiply(alpha, u)))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        }


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    # Keras's string names are the lower-cased class names ("adam", "rmsprop", "adamw").
    for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, Nadam, Lion, Adadelta, Ftrl, Adafactor):
        registry.add("optimizer", cls.__name__, cls, aliases=(cls.__name__.lower(),))

"""The Optimizer interface: gradients in, variables updated, with Keras's shared features
(learning rate or schedule, weight decay, gradient clipping, constraints, moving averages)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from katman import ops
from katman.backend import get_backend
from katman.config import floatx
from katman.losses.loss import _snake
from katman.optimizers.schedules import LearningRateSchedule
from katman.variables import Variable


class Optimizer:
    """Updates trainable variables from their gradients.

    Subclasses create their slots in ``build(variables)`` (calling ``super().build`` first)
    with :meth:`add_variable_from_reference`, and implement
    ``update_step(gradient, variable, learning_rate)``.

    Args:
        learning_rate: a float or a :class:`LearningRateSchedule`.
        weight_decay: decoupled weight decay: each step multiplies variables by
            ``1 - learning_rate * weight_decay`` before the update.
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient's values to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together to this global L2 norm.
        use_ema: keep an exponential moving average of the variables;
            ``finalize_variable_values`` (called at the end of ``fit``) copies it into them.
        ema_momentum: the average's momentum.
        ema_overwrite_frequency: also copy the average into the variables every this many
            steps.
        loss_scale_factor: the loss is multiplied by it (gradients are divided back).
        gradient_accumulation_steps: apply accumulated gradients every this many steps.
        name: the optimizer's name.
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: unknown arguments {sorted(kwargs)}; see the "
                "optimizer's documentation for the ones it takes."
            )
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                f"{type(self).__name__}: pass at most one of clipnorm, clipvalue and "
                f"global_clipnorm; got clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}."
            )
        if gradient_accumulation_steps is not None and gradient_accumulation_steps < 2:
            raise ValueError(
                f"{type(self).__name__}: gradient_accumulation_steps must be at least 2, "
                f"got {gradient_accumulation_steps}."
            )
        self.name = name or _snake(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables: list[Variable] = []
        self._trainable_variables: list[Variable] = []
        self._index: dict[int, int] = {}
        self._excluded_ids: set[int] = set()
        self._excluded_names: tuple[str, ...] = ()
        self._iterations = self._add_state(0, "int64", "iteration")
        if isinstance(learning_rate, LearningRateSchedule):
            self._schedule: LearningRateSchedule | None = learning_rate
            self._learning_rate = None
        elif callable(learning_rate):
            raise TypeError(
                f"{type(self).__name__}: learning_rate must be a float or a "
                f"LearningRateSchedule, got {learning_rate!r}."
            )
        else:
            self._schedule = None
            self._learning_rate = self._add_state(float(learning_rate), floatx(), "learning_rate")

    def _add_state(self, value: Any, dtype: str, name: str) -> Variable:
        variable = Variable(ops.convert_to_tensor(value, dtype), trainable=False, name=name)
        self._variables.append(variable)
        return variable

    # -- building --------------------------------------------------------------------------
    def build(self, variables: Sequence[Variable]) -> None:
        """Create the state for ``variables``; subclasses add their slots after this."""
        self._trainable_variables = list(variables)
        self._index = {id(v): i for i, v in enumerate(variables)}
        if self.use_ema:
            # Zeros at first; the first update copies the variables in (momentum 0).
            self._averages = [self.add_variable_from_reference(v, "average") for v in variables]
        if self.gradient_accumulation_steps:
            self._accumulators = [
                self.add_variable_from_reference(v, "gradient_accumulator") for v in variables
            ]
        self.built = True

    def add_variable(
        self,
        shape: Sequence[int],
        initializer: Any = "zeros",
        dtype: Any = None,
        name: str | None = None,
    ) -> Variable:
        """A new state variable of ``shape``."""
        from katman import initializers

        variable = Variable(
            initializers.get(initializer),
            shape=tuple(shape),
            dtype=dtype or floatx(),
            trainable=False,
            name=name,
        )
        self._variables.append(variable)
        return variable

    def add_variable_from_reference(
        self, reference_variable: Variable, name: str | None = None, initializer: Any = "zeros"
    ) -> Variable:
        """A state variable shaped and typed like ``reference_variable`` (a slot)."""
        return self.add_variable(
            reference_variable.shape,
            initializer,
            reference_variable.dtype,
            f"{reference_variable.name}_{name or 'slot'}",
        )

    @property
    def iterations(self) -> Any:
        """The number of optimizer steps applied (a Variable; with gradient accumulation, the
        number of calls divided by the accumulation steps, as a tensor)."""
        if self.gradient_accumulation_steps:
            return ops.floor_divide(self._iterations.value, self.gradient_accumulation_steps)
        return self._iterations

    def _step(self) -> Any:
        step = self.iterations
        return step.value if isinstance(step, Variable) else step

    def _get_variable_index(self, variable: Variable) -> int:
        return self._index[id(variable)]

    @property
    def variables(self) -> list[Variable]:
        """The optimizer's state: iterations, learning rate, then the slots."""
        return list(self._variables)

    # -- the learning rate -----------------------------------------------------------------
    @property
    def learning_rate(self) -> Any:
        """The current learning rate (the schedule's value at the current step)."""
        if self._schedule is not None:
            return self._schedule(self._step())
        return self._learning_rate.value

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if self._schedule is not None or isinstance(value, LearningRateSchedule):
            raise TypeError(
                f"{type(self).__name__}: the learning rate follows a schedule (or the new value "
                "is one); a schedule is fixed at construction."
            )
        self._learning_rate.assign(ops.cast(value, self._learning_rate.dtype))

    # -- applying gradients ----------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Variable]]) -> Any:
        """``apply`` for ``(gradient, variable)`` pairs; returns ``iterations``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])
        return self.iterations

    def apply(
        self, grads: Sequence[Any], trainable_variables: Sequence[Variable] | None = None
    ) -> None:
        """Update ``trainable_variables`` (default: those given to ``build``) with ``grads``.

        Raises:
            ValueError: the number of gradients and variables differ.
        """
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    f"{type(self).__name__}.apply: pass trainable_variables on the first call "
                    "(or call build(variables) first)."
                )
            trainable_variables = self._trainable_variables
        elif not self.built:
            self.build(trainable_variables)
        trainable_variables = list(trainable_variables)
        grads = list(grads)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                f"{type(self).__name__}.apply: got {len(grads)} gradients for "
                f"{len(trainable_variables)} variables; expected one gradient per variable."
            )
        pairs = [(g, v) for g, v in zip(grads, trainable_variables, strict=True) if g is not None]
        if not pairs:
            return
        grads, variables = [g for g, _ in pairs], [v for _, v in pairs]
        if self.loss_scale_factor is not None:
            grads = [ops.divide(g, self.loss_scale_factor) for g in grads]
        if self.gradient_accumulation_steps:
            self._accumulate(grads, variables)
        else:
            self._update(grads, variables)
        if self.use_ema:
            self._update_averages(variables)
        self._iterations.assign_add(1)
        for variable in variables:
            constraint = getattr(variable, "constraint", None)
            if constraint is not None:
                variable.assign(constraint(variable.value))

    def _update(self, grads: list[Any], variables: list[Variable]) -> None:
        grads = self._clip_gradients(grads)
        learning_rate = self.learning_rate
        self._apply_weight_decay(variables, learning_rate)
        self.update_all(grads, variables, learning_rate)

    def _accumulate(self, grads: list[Any], variables: list[Variable]) -> None:
        # Sum gradients into the accumulators; every n-th call apply their mean and reset.
        # Both outcomes are computed and one is selected, so compiled steps stay static.
        steps = self.gradient_accumulation_steps
        accumulators = [self._accumulators[self._get_variable_index(v)] for v in variables]
        sums = [ops.add(a.value, g) for a, g in zip(accumulators, grads, strict=True)]
        apply_now = ops.equal(ops.mod(ops.add(self._iterations.value, 1), steps), 0)
        skip = {id(self._iterations), *(id(a) for a in accumulators)}
        kept = [s for s in self._variables if id(s) not in skip]
        # Copies: on torch a variable's value is the live parameter itself.
        before = [ops.add(v.value, 0) for v in (*variables, *kept)]
        self._update([ops.divide(total, steps) for total in sums], variables)
        for variable, old in zip((*variables, *kept), before, strict=True):
            variable.assign(ops.where(apply_now, variable.value, old))
        for accumulator, total in zip(accumulators, sums, strict=True):
            accumulator.assign(ops.where(apply_now, ops.zeros_like(total), total))

    def update_all(self, grads: list[Any], variables: list[Variable], learning_rate: Any) -> None:
        """Update every variable; optimizers with a faster multi-variable form override it."""
        for grad, variable in zip(grads, variables, strict=True):
            lr = ops.cast(learning_rate, variable.dtype)
            self.update_step(ops.cast(grad, variable.dtype), variable, lr)

    def update_step(self, gradient: Any, variable: Variable, learning_rate: Any) -> None:
        raise NotImplementedError(
            f"{type(self).__name__} must implement update_step(gradient, variable, learning_rate)."
        )

    def _clip_gradients(self, grads: list[Any]) -> list[Any]:
        if self.clipnorm is not None and self.clipnorm > 0:
            return [clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm is not None and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue is not None and self.clipvalue > 0:
            return [ops.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def exclude_from_weight_decay(
        self, var_list: Sequence[Variable] | None = None, var_names: Sequence[str] | None = None
    ) -> None:
        """Leave these variables (or those whose name matches one of the regular expressions
        ``var_names``) out of weight decay."""
        self._excluded_ids |= {id(v) for v in var_list or ()}
        self._excluded_names = tuple(var_names or ())

    def _apply_weight_decay(self, variables: list[Variable], learning_rate: Any) -> None:
        if not self.weight_decay:
            return
        for variable in variables:
            if id(variable) in self._excluded_ids or any(
                re.search(pattern, variable.name) for pattern in self._excluded_names
            ):
                continue
            factor = ops.multiply(ops.cast(learning_rate, variable.dtype), self.weight_decay)
            variable.assign(ops.subtract(variable.value, ops.multiply(variable.value, factor)))

    def _update_averages(self, variables: list[Variable]) -> None:
        # Runs before ``iterations`` advances: momentum is 0 on the very first step.
        first = ops.equal(self._step(), 0)
        for variable in variables:
            average = self._averages[self._get_variable_index(variable)]
            momentum = ops.where(first, 0.0, self.ema_momentum)
            momentum = ops.cast(momentum, variable.dtype)
            average.assign(
                ops.add(
                    ops.multiply(average.value, momentum),
                    ops.multiply(variable.value, 1 - momentum),
                )
            )
        if self.ema_overwrite_frequency:
            step = ops.add(self._step(), 1)
            overwrite = ops.equal(ops.mod(step, self.ema_overwrite_frequency), 0)
            for variable in variables:
                average = self._averages[self._get_variable_index(variable)]
                variable.assign(ops.where(overwrite, average.value, variable.value))

    def finalize_variable_values(self, var_list: Sequence[Variable]) -> None:
        """With ``use_ema``, copy the moving averages into the variables (end of training)."""
        if self.use_ema and self.built:
            for variable in var_list:
                if id(variable) in self._index:
                    variable.assign(self._averages[self._get_variable_index(variable)].value)

    # -- stateless form, for jax-style training steps --------------------------------------
    def stateless_apply(
        self,
        optimizer_variables: Sequence[Any],
        grads: Sequence[Any],
        trainable_variables: Sequence[Any],
    ) -> tuple[list[Any], list[Any]]:
        """Values in, values out: returns ``(new trainable values, new optimizer values)``."""
        backend = get_backend()
        handles = [v.handle for v in self._trainable_variables]
        state = [v.handle for v in self._variables]
        saved = backend.replace_variable_values(handles, list(trainable_variables))
        saved_state = backend.replace_variable_values(state, list(optimizer_variables))
        try:
            self.apply(grads, self._trainable_variables)
            return (
                [v.value for v in self._trainable_variables],
                [v.value for v in self._variables],
            )
        finally:
            backend.replace_variable_values(handles, saved)
            backend.replace_variable_values(state, saved_state)

    # -- configuration ---------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        from katman.optimizers import schedules

        if self._schedule is not None:
            learning_rate: Any = schedules.serialize(self._schedule)
        else:
            learning_rate = float(ops.convert_to_numpy(self._learning_rate.value))
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Optimizer:
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            from katman.optimizers import schedules

            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def clip_by_norm(values: Any, clip_norm: float) -> Any:
    """``values`` scaled down so that their L2 norm is at most ``clip_norm``."""
    squares = ops.sum(ops.square(values))
    positive = ops.greater(squares, 0)
    norm = ops.where(positive, ops.sqrt(ops.where(positive, squares, 1.0)), squares)
    return ops.divide(ops.multiply(values, clip_norm), ops.maximum(norm, clip_norm))


def clip_by_global_norm(values: list[Any], clip_norm: float) -> list[Any]:
    """``values`` scaled together so that their joint L2 norm is at most ``clip_norm``."""
    total = ops.sqrt(sum(ops.sum(ops.square(ops.cast(v, "float32"))) for v in values))
    scale = ops.divide(clip_norm, ops.maximum(total, clip_norm))
    return [ops.multiply(v, ops.cast(scale, ops.dtype(v))) for v in values]

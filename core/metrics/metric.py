"""The Metric interface: state held in variables, updated batch by batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from katman import ops
from katman.backend import get_backend
from katman.config import floatx
from katman.losses.loss import _snake
from katman.variables import Variable


class Metric:
    """A stateful measurement: ``update_state`` accumulates, ``result`` reads,
    ``reset_state`` starts over. Its state lives in non-trainable variables, so it updates
    inside compiled steps.

    Subclasses create their state with :meth:`add_variable` in ``__init__`` and implement
    ``update_state(...)`` and ``result()``.

    Args:
        dtype: the dtype of the state and result (default ``floatx``).
        name: the name under which training logs report it.
    """

    def __init__(self, dtype: Any = None, name: str | None = None) -> None:
        self.name = name or _snake(type(self).__name__)
        self._dtype = dtype or floatx()
        self._metric_variables: list[Variable] = []
        self._submetrics: list[Metric] = []

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Metric) and name != "_submetrics":
            self.__dict__.setdefault("_submetrics", []).append(value)
        super().__setattr__(name, value)

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def variables(self) -> list[Variable]:
        """The state: this metric's variables, then those of metrics it holds."""
        found = list(self._metric_variables)
        for metric in self._submetrics:
            found.extend(v for v in metric.variables if all(v is not f for f in found))
        return found

    def add_variable(
        self,
        shape: Sequence[int] = (),
        initializer: Any = "zeros",
        dtype: Any = None,
        aggregation: str = "sum",
        name: str | None = None,
    ) -> Variable:
        """A non-trainable state variable, reset to ``initializer`` by ``reset_state``."""
        from katman import initializers

        init = initializers.get(initializer)
        variable = Variable(
            init,
            shape=tuple(shape),
            dtype=dtype or self._dtype,
            trainable=False,
            name=f"{self.name}_{name or 'variable'}",
        )
        variable.aggregation = aggregation
        self._metric_variables.append(variable)
        return variable

    def add_weight(
        self,
        shape: Sequence[int] = (),
        initializer: Any = "zeros",
        dtype: Any = None,
        name: str | None = None,
    ) -> Variable:
        return self.add_variable(shape, initializer, dtype, name=name)

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def reset_state(self) -> None:
        """Set every state variable back to zero."""
        for variable in self._metric_variables:
            variable.assign(ops.zeros(variable.shape, variable.dtype))
        for metric in self._submetrics:
            metric.reset_state()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Update with one batch and return the result so far."""
        self.update_state(*args, **kwargs)
        return self.result()

    # Stateless forms, for jax-style training steps: state values in, state values out.
    def stateless_update_state(
        self, metric_variables: Sequence[Any], *args: Any, **kwargs: Any
    ) -> list[Any]:
        return self._stateless(metric_variables, lambda: self.update_state(*args, **kwargs))[1]

    def stateless_result(self, metric_variables: Sequence[Any]) -> Any:
        return self._stateless(metric_variables, self.result)[0]

    def stateless_reset_state(self) -> list[Any]:
        return self._stateless([v.value for v in self.variables], self.reset_state)[1]

    def _stateless(self, values: Sequence[Any], function: Any) -> tuple[Any, list[Any]]:
        backend = get_backend()
        handles = [v.handle for v in self.variables]
        saved = backend.replace_variable_values(handles, list(values))
        try:
            output = function()
            return output, [v.value for v in self.variables]
        finally:
            backend.replace_variable_values(handles, saved)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"

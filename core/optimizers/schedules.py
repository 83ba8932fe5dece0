"""Learning-rate schedules: the learning rate as a function of the optimizer's step.

``LearningRateSchedule`` is the interface; the concrete schedules (``ExponentialDecay``, ...)
come from plugins (registry kind ``"schedule"``) and resolve here by name.
"""

from __future__ import annotations

from typing import Any

from katman._namespace import Namespace


class LearningRateSchedule:
    """``schedule(step)`` returns the learning rate for optimizer step ``step`` (a tensor).

    Subclasses implement ``__call__`` and ``get_config``.
    """

    def __call__(self, step: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(step).")

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement get_config().")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        return cls(**config)


__all__ = ["LearningRateSchedule", "deserialize", "get", "serialize"]

get, serialize, deserialize, __getattr__, __dir__ = Namespace(__name__, "schedule").exports()

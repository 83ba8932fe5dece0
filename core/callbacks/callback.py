"""The Callback interface: hooks the training, evaluation and prediction loops call."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Callback:
    """Override any of the ``on_*`` hooks; each receives ``logs``, a dict of the current
    metric values (floats) where the loop has them.

    Attributes:
        model: the model being trained (set by the loop).
        params: ``{"epochs": ..., "steps": ..., "verbose": ...}`` for the current loop.
    """

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    # Keras 2 names, still called by some user code.
    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.on_train_batch_begin(batch, logs)

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.on_train_batch_end(batch, logs)

    def get_config(self) -> dict[str, Any]:
        return {}


_HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class CallbackList(Callback):
    """Several callbacks called in order, as one.

    Args:
        callbacks: the user's callbacks.
        model: the model they observe.
        add_history: append a ``History`` callback (from the registry) if none is given.
        add_progbar: append a ``ProgbarLogger`` if none is given and ``verbose`` is set.
        params: the loop's parameters (``epochs``, ``steps``, ``verbose``).
    """

    def __init__(
        self,
        callbacks: Iterable[Callback] | None = None,
        *,
        model: Any = None,
        add_history: bool = False,
        add_progbar: bool = False,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        from katman import callbacks as namespace

        self.callbacks = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks: expected katman.callbacks.Callback instances, got "
                    f"{type(callback).__name__} {callback!r}."
                )
        names = {type(c).__name__ for c in self.callbacks}
        if add_progbar and "ProgbarLogger" not in names:
            self.callbacks.insert(0, namespace.get("ProgbarLogger"))
        if add_history and "History" not in names:
            self.history = namespace.get("History")
            self.callbacks.append(self.history)
        else:
            self.history = next((c for c in self.callbacks if type(c).__name__ == "History"), None)
        if model is not None:
            self.set_model(model)
        if params is not None:
            self.set_params(params)

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        for callback in self.callbacks:
            callback.set_params(params)


def _dispatch(hook: str) -> Any:
    # Every hook gets its logs argument (a dict), as Keras passes it: functions given to
    # LambdaCallback take it positionally.
    arity = (
        1
        if hook.endswith(
            ("train_begin", "train_end", "test_begin", "test_end", "predict_begin", "predict_end")
        )
        else 2
    )

    def call_all(self: CallbackList, *args: Any) -> None:
        args = args + ({},) * (arity - len(args))
        if args[-1] is None:
            args = (*args[:-1], {})
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    call_all.__name__ = hook
    return call_all


for _hook in _HOOKS:
    setattr(CallbackList, _hook, _dispatch(_hook))

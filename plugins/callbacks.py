"""Built-in callbacks: History, ProgbarLogger, EarlyStopping, LambdaCallback, TerminateOnNaN,
CSVLogger, LearningRateScheduler and ReduceLROnPlateau."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np

import katman
from katman import ops
from katman.callbacks import Callback
from katman.registry import PluginRegistrar
from katman.utils.progbar import Progbar


def _float(value: Any) -> float:
    return float(np.asarray(ops.convert_to_numpy(value)))


class History(Callback):
    """Records each epoch's logs: ``history.history["loss"]`` is the loss per epoch.
    ``fit`` adds one and returns it."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and a progress bar with live metrics (``verbose`` 1), or one line
    per epoch (``verbose`` 2). ``fit``, ``evaluate`` and ``predict`` add one when verbose."""

    def __init__(self) -> None:
        super().__init__()
        self._bar: Progbar | None = None
        self._seen = 0

    def _verbose(self) -> int:
        return int(self.params.get("verbose", 1))

    def _start(self) -> None:
        self._bar = Progbar(self.params.get("steps"), verbose=self._verbose())
        self._seen = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._epochs = self.params.get("epochs", 1)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self._verbose():
            print(f"Epoch {epoch + 1}/{self._epochs}")
        self._start()

    def on_test_begin(self, logs: dict | None = None) -> None:
        # Only evaluate() itself reports here: validation inside fit runs without callbacks.
        self._start()

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._start()

    def _batch_end(self, batch: int, logs: dict | None) -> None:
        self._seen = batch + 1
        if self._bar is None:
            return
        target = self._bar.target
        finishing = target is not None and self._seen >= target
        if self._verbose() == 1 and (finishing or self._bar._dynamic):
            values = [(k, _float(v)) for k, v in sorted((logs or {}).items()) if k != "outputs"]
            self._bar.update(self._seen, values, finalize=False)

    on_train_batch_end = _batch_end
    on_test_batch_end = _batch_end
    on_predict_batch_end = _batch_end

    def _finish(self, logs: dict | None) -> None:
        if self._bar is not None:
            values = [(k, v) for k, v in sorted((logs or {}).items()) if k != "outputs"]
            self._bar.update(self._seen, values, finalize=True)
            self._bar = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._finish(logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        self._finish(logs)

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._finish(logs)


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has stopped improving.

    Args:
        monitor: the logged quantity (``"val_loss"``).
        min_delta: the least change that counts as an improvement.
        patience: epochs without improvement before stopping.
        verbose: print a message when stopping.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names).
        baseline: stop if the quantity does not beat this.
        restore_best_weights: restore the weights of the best epoch when stopping (and at
            the end of training).
        start_from_epoch: epochs to wait before monitoring.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}.")
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.mode = mode
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._maximize = mode == "max" or (mode == "auto" and _higher_is_better(monitor))

    def _better(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        if self._maximize:
            return value - self.min_delta > reference
        return value + self.min_delta < reference

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_weights: list[Any] | None = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            available = ", ".join(sorted(logs or {})) or "none"
            raise ValueError(
                f"EarlyStopping: monitor {self.monitor!r} is not in the logs (available: "
                f"{available})."
            )
        if epoch < self.start_from_epoch:
            return
        value = float(value)
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._better(value, self.best):
            self.best = value
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(
                    f"Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def get_config(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor,
            "min_delta": self.min_delta,
            "patience": self.patience,
            "verbose": self.verbose,
            "mode": self.mode,
            "baseline": self.baseline,
            "restore_best_weights": self.restore_best_weights,
            "start_from_epoch": self.start_from_epoch,
        }


def _higher_is_better(monitor: str) -> bool:
    name = monitor.removeprefix("val_")
    return any(k in name for k in ("acc", "auc", "precision", "recall", "f1", "iou"))


class LambdaCallback(Callback):
    """A callback made of functions: ``on_epoch_end(epoch, logs)``, ``on_batch_end(batch,
    logs)``, ``on_train_begin(logs)``, ... (any hook name, plus Keras's ``on_batch_*``)."""

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        super().__init__()
        for name, function in hooks.items():
            target = {
                "on_batch_begin": "on_train_batch_begin",
                "on_batch_end": "on_train_batch_end",
            }.get(name, name)
            if not target.startswith("on_") or not hasattr(Callback, target):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}.")
            if function is not None:
                setattr(self, target, function)


class TerminateOnNaN(Callback):
    """Stops training as soon as the loss is NaN or infinite."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(_float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Writes each epoch's logs as a row of a CSV file (``append`` continues an existing one)."""

    def __init__(
        self, filename: str | os.PathLike, separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = append
        self._file: Any = None
        self._writer: Any = None
        self._keys: list[str] | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        exists = (
            self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        )
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self._keys = None
        self._append_header = not exists

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(
                self._file, fieldnames=["epoch", *self._keys], delimiter=self.separator
            )
            if self._append_header:
                self._writer.writeheader()
        row = {"epoch": epoch, **{k: logs.get(k, "NA") for k in self._keys}}
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of each epoch to
    ``schedule(epoch, current_lr)``."""

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        current = _float(self.model.optimizer.learning_rate)
        try:
            value = self.schedule(epoch, current)
        except TypeError:
            value = self.schedule(epoch)
        value = float(value)
        self.model.optimizer.learning_rate = value
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {value}.")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = _float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs (not below ``min_lr``)."""

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be below 1, got {factor}.")
        self.monitor, self.factor, self.patience = monitor, factor, patience
        self.verbose, self.mode, self.min_delta = verbose, mode, min_delta
        self.cooldown, self.min_lr = cooldown, min_lr
        self._maximize = mode == "max" or (mode == "auto" and _higher_is_better(monitor))

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.best: float | None = None
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _float(self.model.optimizer.learning_rate)
        value = logs.get(self.monitor)
        if value is None:
            return
        value = float(value)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        improved = self.best is None or (
            value > self.best + self.min_delta
            if self._maximize
            else value < self.best - self.min_delta
        )
        if improved:
            self.best, self.wait = value, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = logs["learning_rate"]
                new = max(old * self.factor, self.min_lr)
                if old > new:
                    self.model.optimizer.learning_rate = new
                    if self.verbose:
                        print(
                            f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}."
                        )
                self.cooldown_counter, self.wait = self.cooldown, 0


CALLBACKS = (
    History,
    ProgbarLogger,
    EarlyStopping,
    LambdaCallback,
    TerminateOnNaN,
    CSVLogger,
    LearningRateScheduler,
    ReduceLROnPlateau,
)


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for callback in CALLBACKS:
        registry.add("callback", callback.__name__, callback)

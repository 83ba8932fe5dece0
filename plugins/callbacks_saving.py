"""Built-in callbacks that write files during ``fit``: ModelCheckpoint (the model or its
weights, every epoch or every N batches, optionally only when a monitored quantity improves)
and BackupAndRestore (a training checkpoint that a killed run resumes from exactly)."""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from typing import Any

import numpy as np

import katman
from katman import ops
from katman.callbacks import Callback
from katman.errors import ModelFileError
from katman.registry import PluginRegistrar
from katman.saving.checkpoint import read_training_checkpoint, write_training_checkpoint

_MODEL_SUFFIX = ".katman"
_WEIGHTS_SUFFIX = ".weights.safetensors"


def _check_save_freq(owner: str, save_freq: Any, allow_false: bool = False) -> None:
    if save_freq == "epoch" or (allow_false and save_freq is False):
        return
    if isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1:
        raise ValueError(
            f"{owner}: save_freq must be 'epoch' or a positive number of batches, got "
            f"{save_freq!r}."
        )


def _scalar(value: Any) -> Any:
    """A log value as a Python float when it is a scalar (logs hold tensors mid-epoch)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        array = np.asarray(ops.convert_to_numpy(value))
    except (TypeError, ValueError):
        return value
    return float(array) if array.ndim == 0 else array


def _higher_is_better(monitor: str) -> bool:
    name = monitor.removeprefix("val_")
    return any(k in name for k in ("acc", "auc", "precision", "recall", "f1", "iou"))


class ModelCheckpoint(Callback):
    """Saves the model (``model.save``) or its weights (``model.save_weights``) during
    ``fit``: after every epoch or every ``save_freq`` batches, or only when ``monitor``
    improves. Each save is atomic, so a crash never leaves a damaged file.

    Args:
        filepath: where to save; may hold ``{epoch}`` (1-based), ``{batch}`` (1-based, with
            an integer ``save_freq``) and any log key, with format specs, e.g.
            ``"ckpt-{epoch:02d}-{val_loss:.3f}.katman"``. It must end in ``.katman``, or in
            ``.weights.safetensors`` with ``save_weights_only``.
        monitor: the logged quantity ``save_best_only`` compares (``"val_loss"``).
        verbose: 1 prints a line for each save (or skipped save).
        save_best_only: save only when ``monitor`` improves on the best value seen.
        save_weights_only: save the weights only.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names, else min).
        save_freq: ``"epoch"``, or an int: save after every that many batches (counted
            across epochs).
        initial_value_threshold: the best value to beat at first (with ``save_best_only``).

    Example:
        >>> import katman
        >>> checkpoint = katman.callbacks.ModelCheckpoint(
        ...     "best.katman", monitor="val_accuracy", save_best_only=True
        ... )
        >>> checkpoint.mode, checkpoint.save_freq
        ('auto', 'epoch')
    """

    def __init__(
        self,
        filepath: str | os.PathLike,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__()
        self.filepath = os.fspath(filepath)
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"ModelCheckpoint: mode must be 'auto', 'min' or 'max', got {mode!r}.")
        _check_save_freq("ModelCheckpoint", save_freq)
        if save_weights_only and not self.filepath.endswith(_WEIGHTS_SUFFIX):
            raise ValueError(
                f"ModelCheckpoint: with save_weights_only=True the filepath must end in "
                f"'{_WEIGHTS_SUFFIX}', got {self.filepath!r}."
            )
        if not save_weights_only and not self.filepath.endswith(_MODEL_SUFFIX):
            raise ValueError(
                f"ModelCheckpoint: the filepath must end in '{_MODEL_SUFFIX}' (a whole model), "
                f"or in '{_WEIGHTS_SUFFIX}' with save_weights_only=True; got {self.filepath!r}."
            )
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = mode
        self.save_freq = save_freq
        self.initial_value_threshold = initial_value_threshold
        self.best: float | None = initial_value_threshold
        self._maximize = mode == "max" or (mode == "auto" and _higher_is_better(monitor))
        self._batches_since_save = 0
        self._current_epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        return value > self.best if self._maximize else value < self.best

    def _file_path(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> str:
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as err:
            available = ", ".join(sorted(fields))
            raise KeyError(
                f"ModelCheckpoint: cannot fill the filepath {self.filepath!r}: no value for "
                f"{err} (available: {available})."
            ) from None

    def _should_save(self, epoch: int, logs: dict[str, Any], filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            available = ", ".join(sorted(logs)) or "none"
            warnings.warn(
                f"ModelCheckpoint: save_best_only needs {self.monitor!r} in the logs, which "
                f"hold {available}; saving anyway.",
                stacklevel=3,
            )
            return True
        if isinstance(current, np.ndarray):
            warnings.warn(
                f"ModelCheckpoint: {self.monitor!r} is not a scalar (shape "
                f"{current.shape}); saving as if save_best_only were False.",
                stacklevel=3,
            )
            return True
        current = float(current)
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._improved(current):
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save(self, epoch: int, batch: int | None, logs: dict | None) -> None:
        logs = {key: _scalar(value) for key, value in (logs or {}).items()}
        filepath = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IsADirectoryError(
                f"ModelCheckpoint: {filepath!r} is a directory; give a file path."
            )
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def get_config(self) -> dict[str, Any]:
        return {
            "filepath": self.filepath,
            "monitor": self.monitor,
            "verbose": self.verbose,
            "save_best_only": self.save_best_only,
            "save_weights_only": self.save_weights_only,
            "mode": self.mode,
            "save_freq": self.save_freq,
            "initial_value_threshold": self.initial_value_threshold,
        }


class BackupAndRestore(Callback):
    """Backs up the whole training state so that an interrupted ``fit`` (an exception, a
    killed process) continues exactly where the last backup stood when it is run again.

    The backup is a training checkpoint (``katman.saving.checkpoint``): weights, the seed
    generators' state, the optimizer's and the metrics' state, the epoch, the step within
    it and the epoch's shuffle seed; so a resumed run trains on the same batches in the same
    order and ends with the same weights as an uninterrupted one. At the start of ``fit``
    an existing backup is restored; a damaged one raises ``katman.errors.ModelFileError``
    rather than silently starting over.

    Args:
        backup_dir: the folder holding the backup (``latest.katman-checkpoint``); use it for
            nothing else.
        save_freq: ``"epoch"`` (back up at the end of each epoch), an int (back up every
            that many batches, counted across epochs) or False (never back up; only
            restore).
        double_checkpoint: keep the previous backup too
            (``previous.katman-checkpoint``); if the latest cannot be read, the previous one
            is restored (with a warning).
        delete_checkpoint: delete the backup when ``fit`` finishes (the folder too, if it
            is then empty). With False, a later ``fit`` resumes after the last epoch.

    Example:
        >>> import katman
        >>> backup = katman.callbacks.BackupAndRestore("backup", save_freq=100)
        >>> backup.backup_path.endswith("latest.katman-checkpoint")
        True
    """

    LATEST = "latest.katman-checkpoint"
    PREVIOUS = "previous.katman-checkpoint"

    def __init__(
        self,
        backup_dir: str | os.PathLike,
        save_freq: str | int = "epoch",
        double_checkpoint: bool = False,
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError(
                "BackupAndRestore: backup_dir must be a folder path, got an empty one."
            )
        _check_save_freq("BackupAndRestore", save_freq, allow_false=True)
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._batches_seen = 0

    @property
    def backup_path(self) -> str:
        """The latest backup's file."""
        return os.path.join(self.backup_dir, self.LATEST)

    @property
    def previous_backup_path(self) -> str:
        """The previous backup's file (with ``double_checkpoint``)."""
        return os.path.join(self.backup_dir, self.PREVIOUS)

    def _remove_temporaries(self) -> None:
        # Saves write ".<name>.<8 random characters>.tmp" and rename it; one outlives its
        # save only when the process was killed while writing. The folder is this
        # callback's alone, so any such file is a leftover.
        pattern = re.compile(
            rf"\.({re.escape(self.LATEST)}|{re.escape(self.PREVIOUS)})\.[A-Za-z0-9_]{{8}}\.tmp"
        )
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.backup_dir):
                if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.remove(entry.path)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._batches_seen = 0
        self._remove_temporaries()
        latest, previous = self.backup_path, self.previous_backup_path
        has_previous = self.double_checkpoint and os.path.exists(previous)
        if not os.path.exists(latest) and not has_previous:
            return
        if not self.model.built:
            raise ValueError(
                f"BackupAndRestore: model {self.model.name!r} must be built before fit() to "
                "restore its backup; call it on a batch of data (or build it) first."
            )
        if not os.path.exists(latest):  # killed between moving the latest and rewriting it
            state = read_training_checkpoint(self.model, previous)
        else:
            try:
                state = read_training_checkpoint(self.model, latest)
            except ModelFileError as err:
                if not has_previous:
                    raise
                warnings.warn(
                    f"BackupAndRestore: {err} Restoring the previous backup instead.",
                    stacklevel=2,
                )
                state = read_training_checkpoint(self.model, previous)
        self.model._training_state = state

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch" or self.save_freq is False:
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self._save()

    def _save(self) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self.backup_path):
            os.replace(self.backup_path, self.previous_backup_path)
        write_training_checkpoint(self.model, self.backup_path)

    def on_train_end(self, logs: dict | None = None) -> None:
        if not self.delete_checkpoint:
            return
        for path in (self.backup_path, self.previous_backup_path):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        self._remove_temporaries()
        with contextlib.suppress(OSError):  # only if nothing else is in it
            os.rmdir(self.backup_dir)

    def get_config(self) -> dict[str, Any]:
        return {
            "backup_dir": self.backup_dir,
            "save_freq": self.save_freq,
            "double_checkpoint": self.double_checkpoint,
            "delete_checkpoint": self.delete_checkpoint,
        }


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for callback in (ModelCheckpoint, BackupAndRestore):
        registry.add("callback", callback.__name__, callback)

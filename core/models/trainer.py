"""``compile``, ``fit``, ``evaluate``, ``predict`` and the ``*_on_batch`` methods.

Each step (train, test, predict) is written once, with katman ops and the backend contract,
and handed to the backend's ``compile_step``: jax runs it jit-compiled with the model's state
donated, tensorflow as a ``tf.function``, torch eagerly (or ``torch.compile`` with
``jit_compile=True``). Logs stay tensors during an epoch; they become floats only where a
callback or the progress bar reads them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from katman import ops
from katman.backend import get_backend
from katman.callbacks.callback import CallbackList
from katman.layers.node import flatten, map_structure
from katman.models.compile_utils import CompileLoss, CompileMetrics
from katman.models.data import ArrayBatches, make_batches, unpack_x_y_sample_weight


class Trainer:
    """The training API of :class:`katman.Model`."""

    compiled = False
    optimizer: Any = None
    stop_training = False
    run_eagerly = False
    jit_compile: bool | str = "auto"
    _compile_loss: Any = None
    _compile_metrics: Any = None
    _output_loss_trackers: list[Any] = []

    def _reset_trainer(self) -> None:
        self._step_functions: dict[str, Callable[..., Any]] = {}

    # -- compile ---------------------------------------------------------------------------
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        loss_weights: Any = None,
        metrics: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: bool | str = "auto",
        auto_scale_loss: bool = True,
    ) -> None:
        """Configure the model for training.

        Args:
            optimizer: an optimizer, its name or config.
            loss: a loss for the output (name, function, Loss), or one per output (list, or
                dict by output name).
            loss_weights: weights of the per-output losses in the total.
            metrics: metrics to report (names, functions, Metric objects; ``"accuracy"``
                picks the right accuracy for the loss), per output as a list of lists or dict.
            weighted_metrics: metrics computed with the sample weights.
            run_eagerly: run steps as plain Python, for debugging.
            steps_per_execution: accepted for compatibility (steps run one at a time).
            jit_compile: ``"auto"`` (the backend's usual fast path), True (compile the whole
                step: XLA on tensorflow, torch.compile on torch) or False.
        """
        from katman import metrics as metrics_namespace
        from katman import optimizers

        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        output_names = self._output_names_for_compile()
        self._compile_loss = (
            CompileLoss(loss, loss_weights, output_names) if loss is not None else None
        )
        self._compile_metrics = CompileMetrics(metrics, weighted_metrics, output_names)
        self._loss_tracker = metrics_namespace.get("Mean")
        self._loss_tracker.name = "loss"
        self._output_loss_trackers = []
        if self._compile_loss is not None and len(output_names) > 1:
            for name in output_names:
                tracker = metrics_namespace.get("Mean")
                tracker.name = f"{name}_loss"
                self._output_loss_trackers.append(tracker)
        self.run_eagerly = bool(run_eagerly)
        self.jit_compile = jit_compile
        self.steps_per_execution = steps_per_execution
        self._compile_arguments = {
            "loss": loss,
            "loss_weights": loss_weights,
            "metrics": metrics,
            "weighted_metrics": weighted_metrics,
            "run_eagerly": run_eagerly,
            "jit_compile": jit_compile,
        }
        self._reset_trainer()
        self.compiled = True

    def _output_names_for_compile(self) -> list[str]:
        names = getattr(self, "output_names", None)
        return list(names) if names else ["output"]

    def _require_compiled(self, method: str) -> None:
        if not self.compiled:
            raise RuntimeError(
                f"Model {self.name!r} must be compiled before {method}(): call "
                "model.compile(optimizer=..., loss=...) first."
            )

    # -- losses and metrics ----------------------------------------------------------------
    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> Any:
        """The total loss: the compiled loss plus the layers' losses (regularization,
        ``add_loss``). Subclasses may override it."""
        total = None
        if self._compile_loss is not None:
            total, parts = self._compile_loss(y, y_pred, sample_weight)
            for tracker, part in zip(self._output_loss_trackers, parts, strict=False):
                if part is not None:
                    tracker.update_state(part, sample_weight=batch_size_of(y_pred))
        for extra in self.losses:
            extra = ops.cast(extra, "float32")
            total = extra if total is None else ops.add(total, extra)
        if total is None:
            raise ValueError(
                f"Model {self.name!r} has no loss to optimize: pass loss= to compile(), or "
                "add losses in the model's layers (add_loss)."
            )
        return total

    @property
    def metrics(self) -> list[Any]:
        """The loss tracker, then the compiled metrics (and per-output loss trackers)."""
        if not self.compiled:
            return []
        found = [self._loss_tracker, *self._output_loss_trackers]
        if self._compile_metrics is not None:
            found.append(self._compile_metrics)
        return found

    @property
    def metrics_names(self) -> list[str]:
        return list(_flat_logs({m.name: m.result() for m in self.metrics}))

    def compute_metrics(
        self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None
    ) -> dict[str, Any]:
        """Update the compiled metrics with a batch; return every metric's current value."""
        if y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict[str, Any]:
        return _flat_logs({metric.name: metric.result() for metric in self.metrics})

    def _ordered_logs(self, logs: dict[str, Any]) -> dict[str, Any]:
        """Flat logs in the order of ``metrics_names`` (loss first): a compiled step may
        return its dict in another order (jax sorts the keys)."""
        logs = _flat_logs(logs)
        order = [m.name for m in self.metrics if not isinstance(m, CompileMetrics)]
        if self._compile_metrics is not None:
            order += [m.name for m in self._compile_metrics.metrics]
        ranked = {name: index for index, name in enumerate(order)}
        return dict(sorted(logs.items(), key=lambda item: ranked.get(item[0], len(ranked))))

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    # -- steps -----------------------------------------------------------------------------
    def train_step(self, data: Any) -> dict[str, Any]:
        """One optimization step on a batch ``(x, y, sample_weight)``; returns the logs.
        Override it to customize ``fit`` (as in Keras's guides)."""
        backend = get_backend()
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        trainable = self.trainable_variables

        def forward() -> tuple[Any, Any]:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
            return loss, y_pred

        (loss, y_pred), grads = backend.variables_value_and_grad(
            forward, [v.handle for v in trainable], has_aux=True
        )
        with backend.no_grad():
            self.optimizer.apply(grads, trainable)
            self._loss_tracker.update_state(loss, sample_weight=batch_size_of(x))
            return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data: Any) -> dict[str, Any]:
        """One evaluation step on a batch; returns the logs."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with get_backend().no_grad():
            y_pred = self(x, training=False)
            loss = self.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False
            )
            self._loss_tracker.update_state(loss, sample_weight=batch_size_of(x))
            return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data: Any) -> Any:
        """The model's outputs for a batch."""
        x, _, _ = unpack_x_y_sample_weight(data)
        with get_backend().no_grad():
            return self(x, training=False)

    def _state_variables(self) -> list[Any]:
        state = list(self.variables)
        if self.optimizer is not None:
            state += self.optimizer.variables
        for metric in self.metrics:
            state += metric.variables
        seen: set[int] = set()
        unique = []
        for variable in state:
            if id(variable) not in seen:
                seen.add(id(variable))
                unique.append(variable)
        return unique

    def _step_mode(self) -> str:
        if self.run_eagerly:
            return "eager"
        return "jit" if self.jit_compile is True else "auto"

    def _step_function(self, kind: str) -> Callable[..., Any]:
        function = self._step_functions.get(kind)
        if function is None:
            if kind == "train" and _takes_state(self.train_step):
                step = self._stateless_train_step
            else:
                step = getattr(self, f"{kind}_step")
            handles = [v.handle for v in self._state_variables()]
            function = get_backend().compile_step(step, handles, mode=self._step_mode())
            self._step_functions[kind] = function
        return function

    def _stateless_train_step(self, data: Any) -> Any:
        # A train_step(state, data) as Keras's jax guide writes it: values in, values out.
        backend = get_backend()
        groups = [
            self.trainable_variables,
            self.non_trainable_variables,
            self.optimizer.variables,
            [v for m in self.metrics for v in m.variables],
        ]
        state = tuple([v.value for v in group] for group in groups)
        logs, new_state = self.train_step(state, data)
        for group, values in zip(groups, new_state, strict=True):
            backend.replace_variable_values([v.handle for v in group], list(values))
        return logs

    def _prepare(self, batch: tuple, *, training: bool) -> tuple:
        """Build what the first batch reveals (model weights, optimizer slots, metrics)
        before any step is compiled; the batch as the step takes it."""
        x, y, _ = unpack_x_y_sample_weight(batch)
        needs_build = not self.built or (
            self.compiled
            and self._compile_metrics is not None
            and not self._compile_metrics.built
            and y is not None
        )
        if needs_build:
            x, y, _ = unpack_x_y_sample_weight(_to_tensors(batch))
            with get_backend().no_grad():
                y_pred = self(x, training=False)
            if self.compiled and y is not None:
                self._compile_metrics.build(y, y_pred)
            self._step_functions.clear()
        if training and not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)
            self._step_functions.clear()
        backend, mode = get_backend(), self._step_mode()
        return map_structure(lambda value: backend.step_input(value, mode=mode), batch)

    # -- fit -------------------------------------------------------------------------------
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: Sequence[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool | str = True,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
    ) -> Any:
        """Train for ``epochs`` epochs; returns the ``History``.

        Raises:
            katman.errors.ShapeError: x, y and sample_weight differ in length.
        """
        self._require_compiled("fit")
        data = make_batches(
            x,
            y,
            sample_weight,
            batch_size=batch_size,
            shuffle=shuffle,
            class_weight=class_weight,
            steps=steps_per_epoch,
        )
        if validation_split and validation_data is None:
            if not isinstance(data, ArrayBatches):
                raise ValueError(
                    "fit: validation_split needs arrays for x and y; pass validation_data for "
                    "datasets and generators."
                )
            data, validation = data.split(validation_split)
            validation.shuffle = False
            validation.batch_size = validation_batch_size or data.batch_size
        elif validation_data is not None:
            if is_batch_tuple(validation_data):
                vx, vy, vsw = unpack_x_y_sample_weight(validation_data)
                validation = make_batches(
                    vx,
                    vy,
                    vsw,
                    batch_size=validation_batch_size or batch_size,
                    steps=validation_steps,
                    caller="fit(validation_data)",
                )
            else:
                validation = make_batches(
                    validation_data, steps=validation_steps, caller="fit(validation_data)"
                )
        else:
            validation = None
        verbose = 1 if verbose == "auto" else int(verbose)
        steps = data.num_batches
        callback_list = CallbackList(
            callbacks,
            model=self,
            add_history=True,
            add_progbar=verbose != 0,
            params={"epochs": epochs, "steps": steps, "verbose": verbose},
        )
        self.stop_training = False
        # Build everything now (model, optimizer slots, metrics), so that callbacks such as
        # BackupAndRestore find the complete state in on_train_begin. A dataset that can be
        # iterated again gives its first batch for it; a one-shot generator cannot.
        first = None
        if isinstance(data, ArrayBatches):
            first = next(iter(data)) if data.num_batches else None
        elif not data._one_shot:
            first = next(iter(data), None)
        if first is not None:
            self._prepare(first, training=True)
        # Where training stands; BackupAndRestore may move it forward in on_train_begin.
        self._training_state = {
            "epoch": initial_epoch,
            "step": 0,
            "shuffle_seed": int(np.random.randint(0, 2**31 - 1)),
        }
        callback_list.on_train_begin()
        state = self._training_state
        start_epoch, start_step = state["epoch"], state["step"]
        data.seed = state["shuffle_seed"]
        epoch_logs: dict[str, Any] = {}
        for epoch in range(start_epoch, epochs):
            data.epoch, data.skip = epoch, start_step if epoch == start_epoch else 0
            if data.skip == 0:
                self.reset_metrics()  # a resumed epoch keeps the metrics it restored
            callback_list.on_epoch_begin(epoch)
            logs: dict[str, Any] = {}
            for step, batch in enumerate(data, start=data.skip):
                batch = self._prepare(batch, training=True)
                callback_list.on_train_batch_begin(step)
                logs = self._ordered_logs(self._step_function("train")(batch))
                self._training_state.update(epoch=epoch, step=step + 1)
                callback_list.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = to_floats(logs) if logs else to_floats(self.get_metrics_result())
            if validation is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_batches(validation, callback_list=None)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            self._training_state.update(epoch=epoch + 1, step=0)
            callback_list.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        if self.optimizer is not None:
            self.optimizer.finalize_variable_values(self.trainable_variables)
        callback_list.on_train_end(epoch_logs)
        return callback_list.history

    # -- evaluate --------------------------------------------------------------------------
    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: Sequence[Any] | None = None,
        return_dict: bool = False,
    ) -> Any:
        """The loss and metrics over the data: a float (loss only), a list in
        ``metrics_names`` order, or a dict with ``return_dict=True``."""
        self._require_compiled("evaluate")
        data = make_batches(
            x, y, sample_weight, batch_size=batch_size, steps=steps, caller="evaluate"
        )
        verbose = 1 if verbose == "auto" else int(verbose)
        callback_list = CallbackList(
            callbacks,
            model=self,
            add_progbar=verbose != 0,
            params={"epochs": 1, "steps": data.num_batches, "verbose": verbose},
        )
        logs = self._evaluate_batches(data, callback_list)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _evaluate_batches(self, data: Any, callback_list: CallbackList | None) -> dict:
        self.reset_metrics()
        if callback_list is not None:
            callback_list.on_test_begin()
        logs: dict[str, Any] = {}
        for step, batch in enumerate(data):
            batch = self._prepare(batch, training=False)
            if callback_list is not None:
                callback_list.on_test_batch_begin(step)
            logs = self._ordered_logs(self._step_function("test")(batch))
            if callback_list is not None:
                callback_list.on_test_batch_end(step, logs)
        logs = to_floats(logs) if logs else to_floats(self.get_metrics_result())
        if callback_list is not None:
            callback_list.on_test_end(logs)
        return logs

    # -- predict ---------------------------------------------------------------------------
    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: Sequence[Any] | None = None,
    ) -> Any:
        """The model's outputs for ``x``, batch by batch, as NumPy arrays."""
        data = make_batches(x, batch_size=batch_size, steps=steps, caller="predict")
        verbose = 1 if verbose == "auto" else int(verbose)
        callback_list = CallbackList(
            callbacks,
            model=self,
            add_progbar=verbose != 0,
            params={"epochs": 1, "steps": data.num_batches, "verbose": verbose},
        )
        callback_list.on_predict_begin()
        outputs: list[Any] = []
        queued = None
        for step, batch in enumerate(data):
            batch = self._prepare(batch, training=False)
            callback_list.on_predict_batch_begin(step)
            predictions = self._step_function("predict")(batch)
            # Read the previous batch back only now that this one is queued: an asynchronous
            # framework (jax, a GPU) computes while the host copies, and at most one batch
            # of outputs waits on the device.
            if queued is not None:
                outputs.append(map_structure(ops.convert_to_numpy, queued))
            queued = predictions
            callback_list.on_predict_batch_end(step, {"outputs": predictions})
        if queued is not None:
            outputs.append(map_structure(ops.convert_to_numpy, queued))
        callback_list.on_predict_end()
        if not outputs:
            raise ValueError("predict: the data yielded no batches.")
        return _concatenate(outputs)

    # -- single batches --------------------------------------------------------------------
    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: dict | None = None,
        return_dict: bool = False,
    ) -> Any:
        """One training step on one batch; returns the logs (as ``evaluate`` does)."""
        self._require_compiled("train_on_batch")
        self.reset_metrics()
        batch = next(
            iter(
                make_batches(
                    x,
                    y,
                    sample_weight,
                    batch_size=batch_size_of_any(x),
                    class_weight=class_weight,
                    caller="train_on_batch",
                )
            )
        )
        batch = self._prepare(batch, training=True)
        logs = self._ordered_logs(self._step_function("train")(batch))
        return _logs_result(to_floats(logs), return_dict)

    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        """One evaluation step on one batch (metrics are reset first)."""
        self._require_compiled("test_on_batch")
        self.reset_metrics()
        batch = next(
            iter(
                make_batches(
                    x, y, sample_weight, batch_size=batch_size_of_any(x), caller="test_on_batch"
                )
            )
        )
        batch = self._prepare(batch, training=False)
        logs = self._ordered_logs(self._step_function("test")(batch))
        return _logs_result(to_floats(logs), return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """The model's outputs for one batch, as NumPy arrays."""
        batch = self._prepare((x,), training=False)
        return map_structure(ops.convert_to_numpy, self._step_function("predict")(batch))


def batch_size_of(x: Any) -> Any:
    """The number of samples in batch ``x`` (a tensor where the size is only known when
    the step runs)."""
    return ops.shape(flatten(x)[0])[0]


def is_batch_tuple(value: Any) -> bool:
    return isinstance(value, tuple) and 2 <= len(value) <= 3


def batch_size_of_any(x: Any) -> int:
    from katman.models.data import to_numpy

    return max(1, int(flatten(to_numpy(x))[0].shape[0]))


def _to_tensors(batch: tuple) -> tuple:
    convert = get_backend().convert_to_tensor
    return map_structure(convert, batch)


def _takes_state(method: Any) -> bool:
    parameters = list(inspect.signature(method).parameters)
    return len(parameters) == 2 and parameters[0] == "state"


def _flat_logs(logs: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            flat.update(_flat_logs(value))
        else:
            flat[key] = value
    return flat


def to_floats(logs: dict[str, Any]) -> dict[str, Any]:
    """Logs with scalar tensors as Python floats (what epoch-level callbacks receive)."""
    result = {}
    for key, value in _flat_logs(logs).items():
        try:
            array = np.asarray(ops.convert_to_numpy(value))
            result[key] = float(array) if array.ndim == 0 else array
        except (TypeError, ValueError):
            result[key] = value
    return result


def _logs_result(logs: dict[str, Any], return_dict: bool) -> Any:
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _concatenate(batches: list[Any]) -> Any:
    first = batches[0]
    if isinstance(first, np.ndarray):
        return np.concatenate(batches, axis=0)
    if isinstance(first, (list, tuple)):
        return type(first)(_concatenate([b[i] for b in batches]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _concatenate([b[k] for b in batches]) for k in first}
    return batches

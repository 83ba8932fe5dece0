"""What ``compile`` makes of its ``loss`` and ``metrics`` arguments, for models with one or
several outputs."""

from __future__ import annotations

from typing import Any

from katman import ops
from katman.layers.node import flatten
from katman.losses.loss import Loss, LossFunctionWrapper
from katman.metrics.metric import Metric


def _per_output(argument: Any, output_names: list[str], what: str) -> list[Any]:
    """``argument`` (one value, a list in output order, or a dict by output name) as one
    entry per output."""
    count = len(output_names)
    if isinstance(argument, dict):
        unknown = sorted(set(argument) - set(output_names))
        if unknown:
            raise ValueError(
                f"compile: {what} names unknown outputs {unknown}; the model's outputs are "
                f"{output_names}."
            )
        return [argument.get(name) for name in output_names]
    if isinstance(argument, (list, tuple)) and count > 1:
        if len(argument) != count:
            raise ValueError(
                f"compile: {what} has {len(argument)} entries for {count} outputs "
                f"({output_names}); pass one per output, or a dict by output name."
            )
        return list(argument)
    return [argument] * count


def resolve_loss(identifier: Any) -> Loss | None:
    """A Loss from a name, a config, a function or a Loss."""
    from katman import losses

    if identifier is None:
        return None
    loss = losses.get(identifier)
    if isinstance(loss, Loss):
        return loss
    if callable(loss):
        return LossFunctionWrapper(loss, name=getattr(loss, "__name__", "loss"))
    raise ValueError(f"compile: could not interpret loss {identifier!r}.")


class CompileLoss:
    """The model's training loss: one loss per output, weighted and summed.

    Args:
        loss: a loss (name, function, Loss) for all outputs, a list per output, or a dict
            by output name.
        loss_weights: a float per output (list or dict), or None for 1.0 each.
        output_names: the model's output names.
    """

    def __init__(self, loss: Any, loss_weights: Any, output_names: list[str]) -> None:
        self.output_names = output_names
        count = len(output_names)
        per_output = _per_output(loss, output_names, "loss")
        self.losses = [resolve_loss(item) for item in per_output]
        if loss_weights is None:
            self.weights = [1.0] * count
        else:
            weights = _per_output(loss_weights, output_names, "loss_weights")
            self.weights = [1.0 if w is None else float(w) for w in weights]

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> tuple[Any, list]:
        """The total loss and the per-output losses."""
        trues = _by_output(y_true, self.output_names, "y")
        preds = _by_output(y_pred, self.output_names, "y_pred")
        weights = (
            _by_output(sample_weight, self.output_names, "sample_weight")
            if isinstance(sample_weight, (list, tuple, dict)) and len(self.output_names) > 1
            else [sample_weight] * len(self.output_names)
        )
        total = None
        parts = []
        for loss, weight, true, pred, sw in zip(
            self.losses, self.weights, trues, preds, weights, strict=True
        ):
            if loss is None or true is None:
                parts.append(None)
                continue
            value = loss(true, pred, sw)
            parts.append(value)
            value = ops.multiply(value, weight) if weight != 1.0 else value
            total = value if total is None else ops.add(total, value)
        return total, parts


def _by_output(value: Any, output_names: list[str], what: str) -> list[Any]:
    if len(output_names) == 1:
        if isinstance(value, dict) and len(value) == 1:
            return list(value.values())
        if isinstance(value, (list, tuple)) and len(value) == 1:
            return [value[0]]
        return [value]
    if isinstance(value, dict):
        return [value.get(name) for name in output_names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(output_names):
            raise ValueError(
                f"The model has {len(output_names)} outputs ({output_names}) but `{what}` has "
                f"{len(value)} entries."
            )
        return list(value)
    raise ValueError(
        f"The model has {len(output_names)} outputs ({output_names}); `{what}` must be a list "
        f"or a dict by output name, got {type(value).__name__}."
    )


def resolve_metric(identifier: Any, y_true: Any, y_pred: Any, loss: Any = None) -> Metric:
    """A Metric from what ``compile(metrics=...)`` accepts; ``"accuracy"`` and
    ``"crossentropy"`` pick the binary, categorical or sparse form from the shapes."""
    from katman import metrics

    if isinstance(identifier, Metric):
        return identifier
    if identifier in ("accuracy", "acc", "crossentropy", "ce"):
        true_rank, pred_rank = len(y_true.shape), len(y_pred.shape)
        true_last = y_true.shape[-1] if true_rank else 1
        pred_last = y_pred.shape[-1] if pred_rank else 1
        binary = pred_last == 1
        sparse = true_rank < pred_rank or (true_last == 1 and pred_last > 1)
        kind = "Binary" if binary else "SparseCategorical" if sparse else "Categorical"
        suffix = "Accuracy" if identifier in ("accuracy", "acc") else "Crossentropy"
        return metrics.get({"class_name": kind + suffix, "config": {"name": identifier}})
    found = metrics.get(identifier)
    if isinstance(found, Metric):
        return found
    if callable(found):
        from katman.registry import get_registry

        wrapper = get_registry().load("metric", "MeanMetricWrapper")
        return wrapper(found, name=getattr(found, "__name__", "metric"))
    raise ValueError(f"compile: could not interpret metric {identifier!r}.")


class CompileMetrics(Metric):
    """The metrics given to ``compile``, per output, built on the first batch (when the
    shapes that ``"accuracy"`` depends on are known).

    Args:
        metrics: metrics for every output (a list), or per output (a list of lists, or a
            dict by output name).
        weighted_metrics: the same, computed with the sample weights.
        output_names: the model's output names.
    """

    def __init__(self, metrics: Any, weighted_metrics: Any, output_names: list[str]) -> None:
        super().__init__(name="compile_metrics")
        self.output_names = output_names
        self._given = (metrics, weighted_metrics)
        self._metrics: list[list[Metric]] = []
        self._weighted: list[list[Metric]] = []
        self.built = False

    def build(self, y_true: Any, y_pred: Any) -> None:
        trues = _by_output(y_true, self.output_names, "y")
        preds = _by_output(y_pred, self.output_names, "y_pred")
        metrics, weighted = self._given
        self._metrics = self._resolve(metrics, trues, preds, "metrics")
        self._weighted = self._resolve(weighted, trues, preds, "weighted_metrics")
        multiple = len(self.output_names) > 1
        seen: set[str] = set()
        for index, group in enumerate(self._metrics + self._weighted):
            output = self.output_names[index % len(self.output_names)]
            for metric in group:
                if multiple:
                    metric.name = f"{output}_{metric.name}"
                if group in self._weighted and metric.name in seen:
                    metric.name = f"weighted_{metric.name}"
                seen.add(metric.name)
        self.built = True

    def _resolve(self, given: Any, trues: list, preds: list, what: str) -> list[list[Metric]]:
        count = len(self.output_names)
        if given is None:
            return [[] for _ in range(count)]
        if isinstance(given, dict):
            per_output = _per_output(given, self.output_names, what)
        elif (
            count > 1
            and isinstance(given, (list, tuple))
            and any(isinstance(g, (list, tuple)) for g in given)
        ):
            per_output = _per_output(list(given), self.output_names, what)
        else:
            per_output = [given] * count
        resolved = []
        for index, group in enumerate(per_output):
            group = [] if group is None else group
            group = group if isinstance(group, (list, tuple)) else [group]
            metrics = []
            for identifier in group:
                metric = resolve_metric(identifier, trues[index], preds[index])
                if count > 1 and isinstance(identifier, Metric):
                    metric = type(metric).from_config(metric.get_config())
                metrics.append(metric)
            resolved.append(metrics)
        return resolved

    @property
    def metrics(self) -> list[Metric]:
        return [m for group in self._metrics + self._weighted for m in group]

    @property
    def variables(self) -> list[Any]:
        return [v for metric in self.metrics for v in metric.variables]

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if not self.built:
            self.build(y_true, y_pred)
        trues = _by_output(y_true, self.output_names, "y")
        preds = _by_output(y_pred, self.output_names, "y_pred")
        for index, (true, pred) in enumerate(zip(trues, preds, strict=True)):
            if true is None:
                continue
            for metric in self._metrics[index]:
                metric.update_state(true, pred)
            for metric in self._weighted[index]:
                metric.update_state(true, pred, sample_weight=sample_weight)

    def result(self) -> dict[str, Any]:
        return {metric.name: metric.result() for metric in self.metrics}

    def reset_state(self) -> None:
        for metric in self.metrics:
            metric.reset_state()


__all__ = ["CompileLoss", "CompileMetrics", "flatten", "resolve_loss", "resolve_metric"]

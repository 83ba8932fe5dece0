"""Training checkpoints: everything a killed ``fit`` needs to continue exactly where it
stopped — weights, the seed generators' state, the optimizer's and the metrics' state, and
where in which epoch training stood (with the epoch's shuffle seed). BackupAndRestore writes
and reads them; the file is a zip like a ``.katman`` file, without the architecture."""

from __future__ import annotations

import os
from typing import Any

from katman._version import __version__
from katman.errors import ModelFileError
from katman.saving import tensors
from katman.saving.archive import Archive, write_archive
from katman.saving.model_file import (
    OPTIMIZER,
    WEIGHTS,
    _tensor_writer,
    assign_from,
    model_variables,
    optimizer_variables,
)

FORMAT = "katman-training-checkpoint"
FORMAT_VERSION = 1
METRICS = "metrics.safetensors"
MEMBERS = ("metadata.json", "training.json", WEIGHTS, OPTIMIZER, METRICS)


def metric_variables(model: Any) -> dict[str, Any]:
    variables = [v for metric in model.metrics for v in metric.variables]
    return {f"metrics/{i}": v for i, v in enumerate(variables)}


def write_training_checkpoint(model: Any, path: str | os.PathLike) -> None:
    """Write the training state of ``model`` (during ``fit``) to ``path``, atomically."""
    writers = {WEIGHTS: _tensor_writer(model_variables(model))}
    if model.optimizer is not None and model.optimizer.built:
        writers[OPTIMIZER] = _tensor_writer(optimizer_variables(model.optimizer))
    writers[METRICS] = _tensor_writer(metric_variables(model))
    state = dict(getattr(model, "_training_state", {}) or {})
    write_archive(
        path,
        {
            "metadata.json": {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "katman_version": __version__,
            },
            "training.json": state,
        },
        writers,
    )


def read_training_checkpoint(model: Any, path: str | os.PathLike) -> dict[str, Any]:
    """Restore ``model``'s training state from ``path``; returns where training stood
    (``{"epoch", "step", "shuffle_seed"}``).

    Raises:
        ModelFileError: not a checkpoint, corrupted, or not matching the model.
    """
    with Archive(
        path, MEMBERS, ("metadata.json", "training.json", WEIGHTS), "training checkpoint"
    ) as archive:
        metadata = archive.read_json("metadata.json")
        if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
            raise ModelFileError(f"{archive.source} is not a katman training checkpoint.")
        if metadata.get("format_version") != FORMAT_VERSION:
            raise ModelFileError(
                f"{archive.source} has checkpoint format version "
                f"{metadata.get('format_version')!r}; this katman reads {FORMAT_VERSION}."
            )
        state = archive.read_json("training.json")
        if not isinstance(state, dict) or not all(
            isinstance(state.get(k), int) and not isinstance(state.get(k), bool)
            for k in ("epoch", "step", "shuffle_seed")
        ):
            raise ModelFileError(f"{archive.source}: training.json lacks epoch/step/seed.")
        assign_from(
            tensors.TensorIndex(archive.tensor_buffer(WEIGHTS), archive.source),
            model_variables(model),
            f"model {model.name!r}",
        )
        buffer = archive.tensor_buffer(OPTIMIZER)
        if buffer is not None:
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            assign_from(
                tensors.TensorIndex(buffer, archive.source),
                optimizer_variables(model.optimizer),
                "optimizer",
            )
        buffer = archive.tensor_buffer(METRICS)
        if buffer is not None and metric_variables(model):
            assign_from(
                tensors.TensorIndex(buffer, archive.source), metric_variables(model), "metrics"
            )
        return {k: state[k] for k in ("epoch", "step", "shuffle_seed")}

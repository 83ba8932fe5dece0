"""Saving and loading models: the ``.katman`` file (architecture, compile settings,
weights, optimizer state) and weights-only ``.weights.safetensors`` files.

Variables are stored under paths made of the names the model tracks its layers by (a
functional model's layer names, a subclassed model's attribute names), so a file written on
one backend loads on any other.
"""

from __future__ import annotations

import contextlib
import datetime
import inspect
import json
import os
import re
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from katman import ops, serialization
from katman._version import __version__
from katman.errors import ModelFileError, UnknownNameError
from katman.saving import tensors
from katman.saving.archive import Archive, atomic_write, write_archive

FORMAT = "katman"
FORMAT_VERSION = 1
WEIGHTS = "model.weights.safetensors"
OPTIMIZER = "optimizer.safetensors"
WEIGHTS_SUFFIX = ".weights.safetensors"
# When this process began saving: temporaries last written before it (and not for
# STALE_AFTER seconds) belong to saves that were killed. See remove_stale_temporaries.
_FIRST_USE = time.time()
STALE_AFTER = 60.0


# -- which variables, under which names --------------------------------------------------
def model_variables(model: Any) -> dict[str, Any]:
    """The model's state (weights and seed generators' state) by stable path:
    ``model/<child name>/.../<index>``, where a child's name is the attribute that holds it in
    a subclassed layer or model, and in a Sequential or functional model (whose layers are
    known by names often generated from a process-wide counter) its class name in snake case,
    numbered in order as Keras does: ``dense``, ``dense_1``, ... So another instance of the
    same architecture, made in any process, finds its weights under the same paths.

    Raises:
        ValueError: two layers tracked under the same name in one parent.
    """
    found: dict[str, Any] = {}
    seen_layers: set[int] = set()
    seen_variables: set[int] = set()

    def visit(layer: Any, path: str) -> None:
        if id(layer) in seen_layers:
            return
        seen_layers.add(id(layer))
        own = [
            *layer._trainable_vars,
            *layer._non_trainable_vars,
            *(generator.state for generator in layer._seed_generators),
        ]
        for index, variable in enumerate(own):
            if id(variable) not in seen_variables:
                seen_variables.add(id(variable))
                key = f"{path}/{index}"
                if key in found:  # a child name holding "/" can spell another's path
                    raise ValueError(
                        f"Two variables of model {model.name!r} would be stored as {key!r}; "
                        "rename the attributes or dict keys holding layers whose names "
                        "contain '/'."
                    )
                found[key] = variable
        names = _child_names(layer)
        if len(set(names)) != len(names):
            duplicate = next(n for n in names if names.count(n) > 1)
            raise ValueError(
                f"{type(layer).__name__} {layer.name!r} holds two layers named {duplicate!r}; "
                "give the layers unique names to save the model."
            )
        for child, name in zip(layer._tracked_layers, names, strict=True):
            visit(child, f"{path}/{name}")

    visit(model, "model")
    return found


def _child_names(layer: Any) -> list[str]:
    from katman.losses.loss import _snake
    from katman.models.functional import Functional
    from katman.models.sequential import Sequential

    if not isinstance(layer, (Functional, Sequential)):
        return list(layer._tracked_layer_names)
    names: list[str] = []
    counts: dict[str, int] = {}
    for child in layer._tracked_layers:
        base = _snake(type(child).__name__)
        name = base
        while name in names:
            counts[base] = counts.get(base, 0) + 1
            name = f"{base}_{counts[base]}"
        names.append(name)
    return names


def optimizer_variables(optimizer: Any) -> dict[str, Any]:
    return {f"optimizer/{i}": v for i, v in enumerate(optimizer.variables)}


def _arrays(variables: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], list[str]]:
    arrays, raw16 = {}, []
    for key, variable in variables.items():
        array = ops.convert_to_numpy(variable.value)
        if variable.dtype == "bfloat16":  # stored as its raw 16 bits
            array = _bfloat16_bits(array)
            raw16.append(key)
        arrays[key] = array
    return arrays, raw16


def _bfloat16_bits(array: np.ndarray) -> np.ndarray:
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)
    rounded = bits + 0x7FFF + ((bits >> 16) & 1)  # round to nearest even
    return (rounded >> 16).astype(np.uint16)


def _from_bfloat16_bits(array: np.ndarray) -> np.ndarray:
    return (array.astype(np.uint32) << 16).view(np.float32)


def _tensor_writer(variables: Mapping[str, Any]) -> Any:
    arrays, raw16 = _arrays(variables)
    return lambda stream: tensors.write(stream, arrays, {"format": FORMAT}, bfloat16=raw16)


def assign_from(index: tensors.TensorIndex, variables: Mapping[str, Any], what: str) -> None:
    """Check that ``index`` holds exactly ``variables`` (names, shapes, dtypes), then assign.

    Raises:
        ModelFileError: missing, unexpected or mismatched tensors; nothing is assigned then.
    """
    stored, expected = set(index.names()), set(variables)
    if stored != expected:
        missing, extra = sorted(expected - stored), sorted(stored - expected)
        raise ModelFileError(
            f"{index.source} does not match the {what}: "
            + (f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unexpected {extra[:5]}{' ...' if len(extra) > 5 else ''}" if extra else "")
            + "."
        )
    for key, variable in variables.items():
        code, shape = index.spec(key)
        want = "BF16" if variable.dtype == "bfloat16" else tensors.CODES[np.dtype(variable.dtype)]
        if shape != tuple(variable.shape) or code != want:
            raise ModelFileError(
                f"{index.source}: tensor {key!r} is {code}{list(shape)}, but the {what} needs "
                f"{want}{list(variable.shape)} for variable {variable.name!r}."
            )
    for key, variable in variables.items():
        array = index.array(key)
        if variable.dtype == "bfloat16":
            array = _from_bfloat16_bits(array)
        variable.assign(array)


# -- configs -------------------------------------------------------------------------------
def model_config(model: Any) -> dict[str, Any]:
    """The model's architecture as registry-resolved JSON data."""
    from katman import layers

    config = layers.serialize(model)
    build = model.get_build_config()
    if build is not None:
        config["build_config"] = _jsonable(build)
    return config


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def compile_config(model: Any) -> dict[str, Any] | None:
    """What ``compile`` was given, as JSON data (objects through the registry)."""
    from katman import losses, metrics, optimizers

    if not model.compiled:
        return None
    given = model._compile_arguments

    def encode(value: Any, namespace: Any, what: str) -> Any:
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        if isinstance(value, (list, tuple)):
            return [encode(v, namespace, what) for v in value]
        if isinstance(value, dict):
            return {k: encode(v, namespace, what) for k, v in value.items()}
        try:
            return namespace.serialize(value)
        except ValueError as err:
            if inspect.isfunction(value):  # a user function, registered as a "function"
                with contextlib.suppress(ValueError):
                    return serialization.serialize(value, "function")
            raise ValueError(
                f"Cannot save the compile settings of model {model.name!r}: the {what} "
                f"{value!r} is not registered ({err}). Register it with "
                "katman.saving.register_serializable, or save with include_optimizer=False."
            ) from None

    return {
        "optimizer": optimizers.serialize(model.optimizer),
        "loss": encode(given["loss"], losses, "loss"),
        "loss_weights": given["loss_weights"],
        "metrics": encode(given["metrics"], metrics, "metric"),
        "weighted_metrics": encode(given["weighted_metrics"], metrics, "metric"),
        "run_eagerly": given["run_eagerly"],
        "jit_compile": given["jit_compile"],
    }


# -- save ----------------------------------------------------------------------------------
def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Delete the temporaries that killed saves of ``path`` left next to it.

    A save writes ``.<name>.<random>.tmp`` in the target's folder and renames it over the
    target; the temporary outlives the save only when its process is killed. One is stale
    when it was last written before this process began saving and at least
    ``STALE_AFTER`` seconds ago: a save still running in another process keeps writing its
    temporary until its final flush, so it is never taken for stale. Only plain files
    matching the pattern exactly are removed. Returns the paths removed.
    """
    target = Path(path)
    pattern = re.compile(re.escape(f".{target.name}.") + r"[A-Za-z0-9_]{8}\.tmp")
    deadline = min(_FIRST_USE, time.time() - STALE_AFTER)
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_mtime < deadline:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def save_model(
    model: Any, filepath: str | os.PathLike, overwrite: bool = True, include_optimizer: bool = True
) -> None:
    """Write ``model`` to a ``.katman`` file: a zip of JSON and safetensors (see
    docs/file-format.md), written to a temporary file and renamed, so an interrupted save
    never damages an existing file. A killed save leaves its temporary
    (``.<name>.<random>.tmp``, next to the file) behind; a later save of the same path
    removes it (see :func:`remove_stale_temporaries`).

    Raises:
        ValueError: the path does not end in ``.katman``, or part of the model (a layer,
            a Lambda's function, a compile argument) is not registered and so cannot be
            stored without code.
        FileExistsError: the file exists and ``overwrite`` is False.
    """
    from katman.config import backend, floatx

    path = Path(filepath)
    if path.suffix != ".katman":
        raise ValueError(
            f"save: {str(path)!r} must end in '.katman' (use save_weights for "
            "'.weights.safetensors' files)."
        )
    if path.exists() and not overwrite:
        raise FileExistsError(f"save: {str(path)!r} exists and overwrite=False.")
    if not model.built:
        raise ValueError(
            f"save: model {model.name!r} is not built yet; call it on data (or build it) "
            "before saving."
        )
    json_members: dict[str, Any] = {
        "metadata.json": {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "katman_version": __version__,
            "backend": backend(),
            "floatx": floatx(),
            "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        },
        "config.json": model_config(model),
    }
    writers = {WEIGHTS: _tensor_writer(model_variables(model))}
    if include_optimizer and model.compiled:
        json_members["compile.json"] = compile_config(model)
        if model.optimizer is not None and model.optimizer.built:
            writers[OPTIMIZER] = _tensor_writer(optimizer_variables(model.optimizer))
    remove_stale_temporaries(path)
    write_archive(path, json_members, writers)


# -- load ----------------------------------------------------------------------------------
def load_model(
    filepath: str | os.PathLike,
    custom_objects: Mapping[str, Any] | None = None,
    compile: bool = True,
    safe_mode: bool = True,
) -> Any:
    """Rebuild a model saved with ``model.save``: architecture, weights, and (with
    ``compile``) the compile settings and optimizer state. Classes resolve only through the
    registry (and ``custom_objects``); nothing in the file is executed.

    Raises:
        ModelFileError: the file is not a katman model, is corrupted, truncated or unsafe,
            names unknown classes, or its tensors do not fit the architecture.
    """
    if not safe_mode:
        raise ValueError(
            "load_model: katman has no unsafe mode; model files never carry code to run."
        )
    try:
        archive = Archive(filepath)
    except ModelFileError as err:
        raise ModelFileError(f"{err}{_format_hint(filepath)}") from None
    with archive:
        try:
            return _load(archive, custom_objects, compile)
        except ModelFileError:
            raise
        except Exception as err:
            # Whatever a hostile or damaged file makes the rebuilding fail with (a layer's
            # ValueError, a framework's RuntimeError or out-of-memory error, ...) is a
            # problem of the file: the caller gets katman's error and no model.
            raise ModelFileError(
                f"Cannot load {archive.source}: {type(err).__name__}: {err}"
            ) from err


def _format_hint(filepath: str | os.PathLike) -> str:
    name = os.fspath(filepath)
    if name.endswith(WEIGHTS_SUFFIX):
        return (
            " It looks like a weights file: build the model, then call "
            "model.load_weights() with it."
        )
    if name.endswith((".keras", ".h5", ".hdf5")):
        return " katman reads its own .katman files, not Keras's .keras or HDF5 files."
    return ""


def _load(archive: Archive, custom_objects: Mapping[str, Any] | None, compile: bool) -> Any:
    metadata = archive.read_json("metadata.json")
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError(f"{archive.source} is not a katman model (no katman metadata).")
    version = metadata.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(
            f"{archive.source}: metadata.json's format_version must be a positive integer, "
            f"got {version!r}."
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{archive.source} has format version {version!r}; this katman reads up to "
            f"{FORMAT_VERSION}. Upgrade katman to load it."
        )
    config = archive.read_json("config.json")
    if not isinstance(config, dict):
        raise ModelFileError(f"{archive.source}: config.json must hold a JSON object.")
    build = config.pop("build_config", None)
    if build is not None and not isinstance(build, dict):
        raise ModelFileError(f"{archive.source}: config.json's build_config must be an object.")
    model = _model_from_config(config, custom_objects)
    if not isinstance(model, _model_class()):
        what = model.__name__ if isinstance(model, type) else type(model).__name__
        raise ModelFileError(f"{archive.source} holds a {what}, not a model.")
    if not model.built and isinstance(build, dict) and build.get("input_shape") is not None:
        shape = build["input_shape"]
        model.build(tuple(shape) if _is_shape(shape) else [tuple(s) for s in shape])
    weights = archive.tensor_buffer(WEIGHTS)
    if weights is None:
        raise ModelFileError(f"{archive.source} has no weights ({WEIGHTS}).")
    assign_from(
        tensors.TensorIndex(weights, f"{archive.source} [{WEIGHTS}]"),
        model_variables(model),
        f"architecture of model {model.name!r}",
    )
    settings = archive.read_json("compile.json") if compile else None
    if compile and "compile.json" in archive.members:
        _check_compile_settings(settings, archive.source)
        compile_from_config(model, settings, custom_objects)
        state = archive.tensor_buffer(OPTIMIZER)
        if state is not None:
            model.optimizer.build(model.trainable_variables)
            assign_from(
                tensors.TensorIndex(state, f"{archive.source} [{OPTIMIZER}]"),
                optimizer_variables(model.optimizer),
                f"optimizer of model {model.name!r}",
            )
    return model


def _model_class() -> type:
    from katman.models.model import Model

    return Model


# Metric names ``compile`` resolves from the loss and the shapes, not from the registry.
_SHAPE_DEPENDENT_METRICS = ("accuracy", "acc", "crossentropy", "ce")


def _check_compile_settings(settings: Any, source: str) -> None:
    """compile.json is an object naming an optimizer; its metric names are registered ones
    (``compile`` resolves them only at the first ``fit``, so a file could otherwise name
    anything there).

    Raises:
        ModelFileError: anything else.
    """
    from katman.registry import get_registry

    if not isinstance(settings, dict) or not isinstance(settings.get("optimizer"), (str, dict)):
        raise ModelFileError(
            f"{source}: compile.json must be an object naming an optimizer, got "
            f"{str(settings)[:100]!r}."
        )
    registry = get_registry()

    def check(value: Any) -> None:
        if isinstance(value, str):
            if value not in _SHAPE_DEPENDENT_METRICS and registry.find("metric", value) is None:
                raise ModelFileError(f"{source}: compile.json names unknown metric {value!r}.")
        elif isinstance(value, (list, dict)):
            for item in value.values() if isinstance(value, dict) else value:
                if not (isinstance(item, dict) and "class_name" in item):
                    check(item)

    for key in ("metrics", "weighted_metrics"):
        check(settings.get(key))


def compile_from_config(
    model: Any, config: Mapping[str, Any], custom_objects: Mapping[str, Any] | None = None
) -> None:
    """Compile ``model`` with the settings :func:`compile_config` returned.

    Raises:
        ValueError: an unknown optimizer, loss or metric (``UnknownNameError``).
    """
    from katman import losses, metrics, optimizers

    settings = dict(config)
    if "optimizer" not in settings:
        raise ValueError(f"compile settings {sorted(settings)} lack an 'optimizer'.")
    kept = ("loss_weights", "run_eagerly", "jit_compile")
    model.compile(
        optimizer=optimizers.deserialize(settings.pop("optimizer"), custom_objects),
        loss=_decode(settings.pop("loss", None), losses, custom_objects),
        metrics=_decode(settings.pop("metrics", None), metrics, custom_objects),
        weighted_metrics=_decode(settings.pop("weighted_metrics", None), metrics, custom_objects),
        **{k: v for k, v in settings.items() if k in kept},
    )


def _model_from_config(config: dict[str, Any], custom_objects: Mapping[str, Any] | None) -> Any:
    """``layers.deserialize(config)``, except that ``custom_objects`` also reaches the model
    class's ``from_config``, so that the layers inside the model resolve through them too
    (``serialization.deserialize`` does not pass them on)."""
    from katman import layers
    from katman.registry import get_registry

    name = config.get("registered_name") or config.get("class_name")
    if custom_objects and isinstance(name, str) and isinstance(config.get("config"), dict):
        target = custom_objects.get(name) or custom_objects.get(config.get("class_name"))
        if target is None:
            target = get_registry().load("layer", name)
        from_config = getattr(target, "from_config", None)
        if (
            inspect.isclass(target)
            and from_config is not None
            and "custom_objects" in inspect.signature(from_config).parameters
        ):
            return from_config(dict(config["config"]), custom_objects=custom_objects)
    return layers.deserialize(config, custom_objects=custom_objects)


def _decode(value: Any, namespace: Any, custom_objects: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, list):
        return [_decode(v, namespace, custom_objects) for v in value]
    if isinstance(value, dict) and value.get("class_name") == serialization.FUNCTION:
        try:
            return namespace.deserialize(value, custom_objects)
        except UnknownNameError:  # a user function registered with register_serializable
            return serialization.deserialize(value, "function", custom_objects)
    if isinstance(value, dict) and "class_name" in value:
        return namespace.deserialize(value, custom_objects)
    if isinstance(value, dict):
        return {k: _decode(v, namespace, custom_objects) for k, v in value.items()}
    raise ModelFileError(f"Unexpected value {value!r} in compile.json.")


def _is_shape(value: Any) -> bool:
    return isinstance(value, list) and all(d is None or isinstance(d, int) for d in value)


# -- weights only ----------------------------------------------------------------------------
def save_weights(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write the model's weights (and random state) to a ``.weights.safetensors`` file,
    atomically.

    Raises:
        ValueError: another suffix, or the model is not built.
    """
    path = Path(filepath)
    if not path.name.endswith(WEIGHTS_SUFFIX):
        raise ValueError(f"save_weights: {str(path)!r} must end in '{WEIGHTS_SUFFIX}'.")
    if path.exists() and not overwrite:
        raise FileExistsError(f"save_weights: {str(path)!r} exists and overwrite=False.")
    if not model.built:
        raise ValueError(f"save_weights: model {model.name!r} is not built yet.")
    remove_stale_temporaries(path)
    with atomic_write(path) as temporary, open(temporary, "wb") as stream:
        _tensor_writer(model_variables(model))(stream)


def load_weights(model: Any, filepath: str | os.PathLike) -> None:
    """Assign weights saved by ``save_weights`` (or the weights of a ``.katman`` file).

    Raises:
        ModelFileError: unreadable, corrupted, or not matching the model's variables.
    """
    path = Path(filepath)
    source = f"weights file {str(path)!r}"
    if not path.name.endswith(WEIGHTS_SUFFIX) and path.suffix != ".katman":
        raise ModelFileError(
            f"load_weights: {str(path)!r} must end in '{WEIGHTS_SUFFIX}' (or '.katman')."
        )
    if path.suffix == ".katman":
        with Archive(path) as archive:
            buffer = archive.tensor_buffer(WEIGHTS)
            if buffer is None:
                raise ModelFileError(f"{archive.source} has no weights.")
            assign_from(
                tensors.TensorIndex(buffer, f"{archive.source} [{WEIGHTS}]"),
                model_variables(model),
                f"model {model.name!r}",
            )
        return
    try:
        data = np.memmap(path, dtype=np.uint8, mode="c") if path.stat().st_size else b""
    except OSError as err:
        raise ModelFileError(f"Cannot open {source}: {err.strerror}.") from None
    assign_from(tensors.TensorIndex(data, source), model_variables(model), f"model {model.name!r}")


# -- JSON ------------------------------------------------------------------------------------
def model_to_json(model: Any, **kwargs: Any) -> str:
    """The architecture as a JSON string (``model.to_json()``)."""
    return json.dumps(model_config(model), **kwargs)


def model_from_json(json_string: str, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """A model (untrained: fresh weights) from ``model.to_json()``'s output.

    Raises:
        ModelFileError: not JSON, or not a registered model architecture.
    """

    try:
        config = json.loads(json_string)
        if not isinstance(config, dict):
            raise ValueError("expected a JSON object")
        build = config.pop("build_config", None)
        model = _model_from_config(config, custom_objects)
        if not isinstance(model, _model_class()):
            raise ValueError(f"the JSON describes a {type(model).__name__}, not a model")
        if not model.built and isinstance(build, dict) and build.get("input_shape"):
            shape = build["input_shape"]
            model.build(tuple(shape) if _is_shape(shape) else [tuple(s) for s in shape])
        return model
    except ModelFileError:
        raise
    except Exception as err:  # as in load_model: any failure to rebuild is the JSON's
        raise ModelFileError(
            f"Cannot build a model from JSON: {type(err).__name__}: {err}"
        ) from err

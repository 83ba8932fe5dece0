"""Saving and loading models: the ``.katman`` file (architecture, compile settings,
weights, optimizer state) and weights-only ``.weights.safetensors`` files.

Variables are stored under paths made of the names the model tracks its layers by (a
functional model's layer names, a subclassed model's attribute names), so a file written on
one backend loads on any other.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from katman import ops
from katman._version import __version__
from katman.errors import KatmanError, ModelFileError
from katman.saving import tensors
from katman.saving.archive import Archive, atomic_write, write_archive

FORMAT = "katman"
FORMAT_VERSION = 1
WEIGHTS = "model.weights.safetensors"
OPTIMIZER = "optimizer.safetensors"


# -- which variables, under which names --------------------------------------------------
def model_variables(model: Any) -> dict[str, Any]:
    """The model's state (weights and seed generators' state) by stable path:
    ``model/<tracked layer name>/.../<index>``.

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
                found[f"{path}/{index}"] = variable
        names = layer._tracked_layer_names
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
def save_model(
    model: Any, filepath: str | os.PathLike, overwrite: bool = True, include_optimizer: bool = True
) -> None:
    """Write ``model`` to a ``.katman`` file: a zip of JSON and safetensors (see
    docs/file-format.md), written to a temporary file and renamed, so an interrupted save
    never damages an existing file.

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
    with Archive(filepath) as archive:
        try:
            return _load(archive, custom_objects, compile)
        except ModelFileError:
            raise
        except (
            KatmanError,
            ValueError,
            TypeError,
            KeyError,
            IndexError,
            AttributeError,
            RecursionError,
            OverflowError,
            NotImplementedError,
        ) as err:
            raise ModelFileError(
                f"Cannot load {archive.source}: {type(err).__name__}: {err}"
            ) from err


def _load(archive: Archive, custom_objects: Mapping[str, Any] | None, compile: bool) -> Any:
    from katman import layers, losses, metrics, optimizers

    metadata = archive.read_json("metadata.json")
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError(f"{archive.source} is not a katman model (no katman metadata).")
    version = metadata.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{archive.source} has format version {version!r}; this katman reads up to "
            f"{FORMAT_VERSION}. Upgrade katman to load it."
        )
    config = archive.read_json("config.json")
    if not isinstance(config, dict):
        raise ModelFileError(f"{archive.source}: config.json must hold a JSON object.")
    build = config.pop("build_config", None)
    model = layers.deserialize(config, custom_objects=custom_objects)
    if not hasattr(model, "compile"):
        raise ModelFileError(f"{archive.source} holds a {type(model).__name__}, not a model.")
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
    if isinstance(settings, dict):
        settings = dict(settings)
        model.compile(
            optimizer=optimizers.deserialize(settings.pop("optimizer"), custom_objects),
            loss=_decode(settings.pop("loss", None), losses, custom_objects),
            metrics=_decode(settings.pop("metrics", None), metrics, custom_objects),
            weighted_metrics=_decode(
                settings.pop("weighted_metrics", None), metrics, custom_objects
            ),
            **{
                k: v
                for k, v in settings.items()
                if k in ("loss_weights", "run_eagerly", "jit_compile")
            },
        )
        state = archive.tensor_buffer(OPTIMIZER)
        if state is not None:
            model.optimizer.build(model.trainable_variables)
            assign_from(
                tensors.TensorIndex(state, f"{archive.source} [{OPTIMIZER}]"),
                optimizer_variables(model.optimizer),
                f"optimizer of model {model.name!r}",
            )
    return model


def _decode(value: Any, namespace: Any, custom_objects: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, list):
        return [_decode(v, namespace, custom_objects) for v in value]
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
    if not path.name.endswith(".weights.safetensors"):
        raise ValueError(f"save_weights: {str(path)!r} must end in '.weights.safetensors'.")
    if path.exists() and not overwrite:
        raise FileExistsError(f"save_weights: {str(path)!r} exists and overwrite=False.")
    if not model.built:
        raise ValueError(f"save_weights: model {model.name!r} is not built yet.")
    with atomic_write(path) as temporary, open(temporary, "wb") as stream:
        _tensor_writer(model_variables(model))(stream)


def load_weights(model: Any, filepath: str | os.PathLike) -> None:
    """Assign weights saved by ``save_weights`` (or the weights of a ``.katman`` file).

    Raises:
        ModelFileError: unreadable, corrupted, or not matching the model's variables.
    """
    path = Path(filepath)
    source = f"weights file {str(path)!r}"
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
    from katman import layers

    try:
        config = json.loads(json_string)
        if not isinstance(config, dict):
            raise ValueError("expected a JSON object")
        build = config.pop("build_config", None)
        model = layers.deserialize(config, custom_objects=custom_objects)
        if not model.built and isinstance(build, dict) and build.get("input_shape"):
            shape = build["input_shape"]
            model.build(tuple(shape) if _is_shape(shape) else [tuple(s) for s in shape])
        return model
    except ModelFileError:
        raise
    except (KatmanError, ValueError, TypeError, KeyError, RecursionError) as err:
        raise ModelFileError(
            f"Cannot build a model from JSON: {type(err).__name__}: {err}"
        ) from err

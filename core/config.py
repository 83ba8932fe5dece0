"""Process-wide settings: the active backend, default float type, epsilon, image layout.

Each environment variable katman reads is declared once, in :data:`ENVIRONMENT`, with its
help text. Defaults come from ``$KATMAN_HOME/katman.json`` (``~/.katman/katman.json``), which
holds the same keys as Keras's ``keras.json``; katman reads that file but never writes it.

Example:
    >>> import katman
    >>> katman.config.floatx()
    'float32'
    >>> katman.config.set_epsilon(1e-6); katman.config.epsilon()
    1e-06
    >>> katman.config.set_epsilon(1e-7)
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from katman.errors import KatmanError

__all__ = [
    "ENVIRONMENT",
    "backend",
    "config_file",
    "epsilon",
    "floatx",
    "image_data_format",
    "katman_home",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
]


@dataclass(frozen=True)
class EnvVar:
    name: str
    help: str


ENVIRONMENT = (
    EnvVar("KATMAN_BACKEND", "Backend to use: torch, jax, tensorflow or a plugin's backend."),
    EnvVar("KATMAN_HOME", "Folder holding katman.json (default: ~/.katman)."),
    EnvVar("KATMAN_STRICT_PLUGINS", "1: a plugin that fails to load is fatal."),
    EnvVar("KATMAN_DISABLE_PLUGIN_AUTOLOAD", "1: load built-in plugins only, no entry points."),
    EnvVar("KATMAN_BLOCK_PLUGINS", "Comma-separated plugin names never to load."),
)

_FLOAT_TYPES = ("float16", "bfloat16", "float32", "float64")
_IMAGE_FORMATS = ("channels_last", "channels_first")

# Values set in this process; unset keys fall back to katman.json, then to the defaults.
_overrides: dict[str, Any] = {}
_DEFAULTS = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last"}


def env_flag(name: str) -> bool:
    """Whether the environment variable ``name`` is set to a true value (1, true, yes, on)."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def env_list(name: str) -> tuple[str, ...]:
    """The comma-separated environment variable ``name`` as a tuple of stripped items."""
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def katman_home() -> Path:
    """The folder holding ``katman.json``: ``$KATMAN_HOME``, else ``~/.katman``."""
    home = os.environ.get("KATMAN_HOME")
    return Path(home).expanduser() if home else Path.home() / ".katman"


def config_file() -> Path:
    """Path of the user's configuration file (it need not exist)."""
    return katman_home() / "katman.json"


def read_config_file() -> dict[str, Any]:
    """The contents of ``katman.json``, or ``{}`` when there is none.

    The file is read once per process (per ``KATMAN_HOME``): settings are looked up on hot
    paths such as every tensor conversion.

    Raises:
        KatmanError: the file exists but is not a JSON object.
    """
    return dict(_read(config_file()))


@functools.lru_cache(maxsize=8)
def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise KatmanError(f"Cannot read the katman configuration file {path}: {err}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise KatmanError(
            f"The katman configuration file {path} is not valid JSON ({err}). "
            'Fix or delete it; expected an object such as {"backend": "torch"}.'
        ) from None
    if not isinstance(data, dict):
        raise KatmanError(
            f"The katman configuration file {path} must hold a JSON object, "
            f"got {type(data).__name__}."
        )
    return data


def _get(key: str) -> Any:
    if key in _overrides:
        return _overrides[key]
    return _file_setting(os.environ.get("KATMAN_HOME"), os.environ.get("HOME"), key)


@functools.lru_cache(maxsize=64)
def _file_setting(katman_home: str | None, home: str | None, key: str) -> Any:
    # Keyed by the variables that locate the file: floatx() runs on every conversion of a
    # Python float, and building the file's path each time cost more than the conversion.
    value = _read(config_file()).get(key, _DEFAULTS[key])
    try:
        _VALIDATORS[key](value)
    except ValueError as err:
        raise KatmanError(f"Invalid {key!r} in {config_file()}: {err}") from None
    return value


def floatx() -> str:
    """The default float dtype, as a string (``'float32'`` unless changed)."""
    return _get("floatx")


def set_floatx(value: str) -> None:
    """Set the default float dtype: one of float16, bfloat16, float32, float64."""
    _check_floatx(value)
    _overrides["floatx"] = value


def _check_floatx(value: Any) -> None:
    if value not in _FLOAT_TYPES:
        raise ValueError(f"set_floatx: expected one of {', '.join(_FLOAT_TYPES)}, got {value!r}.")


def epsilon() -> float:
    """The fuzz factor used to avoid division by zero (``1e-7`` unless changed)."""
    return float(_get("epsilon"))


def set_epsilon(value: float) -> None:
    """Set the fuzz factor: a number strictly between 0 and 1."""
    _check_epsilon(value)
    _overrides["epsilon"] = float(value)


def _check_epsilon(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError(f"set_epsilon: expected a number between 0 and 1, got {value!r}.")


def image_data_format() -> str:
    """The default image layout: ``'channels_last'`` (NHWC) or ``'channels_first'`` (NCHW)."""
    return _get("image_data_format")


def set_image_data_format(value: str) -> None:
    """Set the default image layout: ``'channels_last'`` or ``'channels_first'``."""
    _check_image_data_format(value)
    _overrides["image_data_format"] = value


def _check_image_data_format(value: Any) -> None:
    if value not in _IMAGE_FORMATS:
        raise ValueError(
            f"set_image_data_format: expected one of {', '.join(_IMAGE_FORMATS)}, got {value!r}."
        )


_VALIDATORS = {
    "floatx": _check_floatx,
    "epsilon": _check_epsilon,
    "image_data_format": _check_image_data_format,
}


def backend() -> str:
    """Name of the active backend, resolved as docs/backends.md describes.

    The name is fixed for the life of the process. Resolving it imports no framework.

    Raises:
        BackendNotAvailableError: the requested backend is unknown or not installed.
    """
    from katman.backend import selection

    return selection.resolve().name

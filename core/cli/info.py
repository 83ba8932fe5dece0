"""``katman info``: versions, the active backend and why, backends and plugins."""

from __future__ import annotations

import argparse
import platform
from importlib import metadata

from katman import config
from katman._version import __version__
from katman.backend import selection
from katman.errors import KatmanError
from katman.registry import BUILTIN_PLUGINS, plugin_manager

HELP = "Show katman's version, the active backend and why it was chosen, and plugins."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    manager = plugin_manager()
    registry = manager.registry
    print(f"katman {__version__} (Python {platform.python_version()}, {platform.system()})")
    status = 0
    try:
        chosen = selection.resolve()
        print(f"active backend: {chosen.name} (chosen by the {chosen.reason})")
    except KatmanError as err:
        print(f"active backend: none: {err}")
        status = 1
    print("backends:")
    for entry in registry.entries("backend"):
        versions = ", ".join(_version(module) for module in entry.metadata["requires"])
        state = "installed" if selection.is_installed(entry) else "not installed"
        print(
            f"  {entry.name:<12} {state:<14} {versions:<28} "
            f"plugin {entry.plugin}; install: {entry.metadata['install']}"
        )
    settings = f"floatx={config.floatx()} epsilon={config.epsilon()}"
    print(f"settings: {settings} image_data_format={config.image_data_format()}")
    file_state = "present" if config.config_file().exists() else "absent"
    print(f"config file: {config.config_file()} ({file_state})")
    builtin = sum(name in BUILTIN_PLUGINS for name in manager.plugin_info)
    print(
        f"plugins: {len(manager.plugin_info)} loaded ({builtin} built-in, "
        f"{len(manager.plugin_info) - builtin} third-party), {len(manager.failures)} failed"
        + (" (see: katman plugins)" if manager.failures else "")
    )
    return status


def _version(module: str) -> str:
    """``module version`` of an installed framework, read without importing it."""
    for distribution in metadata.packages_distributions().get(module, [module]):
        try:
            return f"{module} {metadata.version(distribution)}"
        except metadata.PackageNotFoundError:
            continue
    return f"{module} -"

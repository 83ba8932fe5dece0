"""Finding, validating and loading plugins: built-ins first, then the ``katman`` entry points."""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from katman import hookspecs
from katman.config import env_flag, env_list
from katman.errors import KatmanError, PluginLoadError, PluginValidationError
from katman.registry._builtin import BUILTIN_PLUGINS
from katman.registry._registry import PluginRegistrar, Registry

ENTRY_POINT_GROUP = "katman"
BUILTIN = "built-in"
ENTRY_POINT = "entry point"
RUNTIME = "runtime"


class PluginLoadWarning(UserWarning):
    """A plugin failed to load; katman carries on without it."""


@dataclass(frozen=True)
class PluginInfo:
    """Where a plugin came from, as ``katman plugins`` reports it."""

    name: str
    source: str  # BUILTIN, ENTRY_POINT or RUNTIME
    module: str
    distribution: str | None = None
    version: str | None = None

    @property
    def origin(self) -> str:
        if self.distribution:
            return f"{self.distribution} {self.version}"
        return self.source


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, and why."""

    info: PluginInfo
    cause: str
    error: BaseException = field(repr=False, compare=False)

    @property
    def entry_point(self) -> str:
        return f"{self.info.name} = {self.info.module}"

    def describe(self) -> str:
        return (
            f"Plugin {self.info.name!r} (entry point '{self.entry_point}' in "
            f"{self.info.origin}) failed to load: {self.cause}"
        )


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus katman's registry and its loading rules.

    Args:
        strict: a plugin that fails to load raises instead of warning
            (default: ``KATMAN_STRICT_PLUGINS``).
        autoload: load third-party plugins from entry points
            (default: not ``KATMAN_DISABLE_PLUGIN_AUTOLOAD``).
        blocked: plugin names never to load (default: ``KATMAN_BLOCK_PLUGINS``).
    """

    def __init__(
        self,
        *,
        strict: bool | None = None,
        autoload: bool | None = None,
        blocked: tuple[str, ...] | list[str] | None = None,
    ) -> None:
        super().__init__("katman")
        self.add_hookspecs(hookspecs)
        self.strict = env_flag("KATMAN_STRICT_PLUGINS") if strict is None else strict
        self.autoload = (
            not env_flag("KATMAN_DISABLE_PLUGIN_AUTOLOAD") if autoload is None else autoload
        )
        blocked = env_list("KATMAN_BLOCK_PLUGINS") if blocked is None else blocked
        for name in blocked:
            self.set_blocked(name)
        self.registry = Registry()
        self.plugin_info: dict[str, PluginInfo] = {}
        self.failures: list[PluginFailure] = []

    def load_all(self) -> None:
        """Load the built-in plugins, then (unless autoload is off) the entry points."""
        self.load_builtins()
        if self.autoload:
            self.load_entry_points()

    def load_builtins(self) -> None:
        for name, module in BUILTIN_PLUGINS.items():
            if not self.is_blocked(name):
                self.add_plugin(importlib.import_module(module), PluginInfo(name, BUILTIN, module))

    def load_entry_points(self) -> None:
        for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if self.is_blocked(entry_point.name):
                continue
            info = _entry_point_info(entry_point)
            if info.name in self.plugin_info:
                taken = self.plugin_info[info.name]
                error = KatmanError(f"the name is already used by {taken.origin}")
                self._fail(info, error, strict=self.strict)
                continue
            try:
                plugin = entry_point.load()
            except Exception as err:
                self._fail(info, err, strict=self.strict)
                continue
            self.add_plugin(plugin, info)

    def add_plugin(self, plugin: Any, info: PluginInfo, *, strict: bool | None = None) -> bool:
        """Validate ``plugin``'s hooks, then register what its ``katman_register`` adds.

        Returns:
            False if the plugin failed (and was reported), True once it is loaded.

        Raises:
            PluginValidationError: a hook implementation has an unknown name or arguments.
            PluginConflictError: it registers a name another plugin already has.
            PluginLoadError: its ``katman_register`` raised and strict mode is on (``strict``
                overrides the manager's setting for this plugin).
        """
        self._validate(plugin, info)
        registrar = self.registry.stage(info.name, builtin=info.source == BUILTIN)
        try:
            self._call_register(info.name, registrar)
        except KatmanError:
            self.unregister(name=info.name)
            raise
        except Exception as err:
            self.unregister(name=info.name)
            self._fail(info, err, strict=self.strict if strict is None else strict)
            return False
        try:
            self.registry.commit(registrar)
        except KatmanError:
            self.unregister(name=info.name)
            raise
        self.plugin_info[info.name] = info
        return True

    def _validate(self, plugin: Any, info: PluginInfo) -> None:
        try:
            self.register(plugin, name=info.name)
            self.check_pending()
        except (pluggy.PluginValidationError, ValueError) as err:
            if self.get_plugin(info.name) is not None:
                self.unregister(name=info.name)
            detail = "; ".join(line.strip() for line in str(err).splitlines() if line.strip())
            raise PluginValidationError(
                f"Plugin {info.name!r} ({info.module}, {info.origin}) is invalid: {detail}. "
                f"Valid hooks: {', '.join(_hook_names())}. Fix the plugin or block it with "
                f"KATMAN_BLOCK_PLUGINS={info.name}."
            ) from err

    def _call_register(self, plugin_name: str, registrar: PluginRegistrar) -> None:
        # Called plugin by plugin (not through pluggy's broadcast) so that everything added is
        # attributed to the plugin that added it.
        for impl in self.hook.katman_register.get_hookimpls():
            if impl.plugin_name == plugin_name:
                impl.function(*[registrar for _ in impl.argnames])

    def _fail(self, info: PluginInfo, error: BaseException, *, strict: bool) -> None:
        failure = PluginFailure(info, f"{type(error).__name__}: {error}", error)
        if strict:
            raise PluginLoadError(failure.describe() + " (KATMAN_STRICT_PLUGINS is set)") from error
        self.failures.append(failure)
        warnings.warn(failure.describe(), PluginLoadWarning, stacklevel=3)


def _entry_point_info(entry_point: EntryPoint) -> PluginInfo:
    dist = entry_point.dist
    return PluginInfo(
        name=entry_point.name,
        source=ENTRY_POINT,
        module=entry_point.value,
        distribution=dist.name if dist else None,
        version=dist.version if dist else None,
    )


def _hook_names() -> list[str]:
    return sorted(name for name in dir(hookspecs) if name.startswith("katman_"))

"""The registry: every named object katman knows, by kind, with the plugin that added it."""

from __future__ import annotations

import difflib
import importlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from katman.errors import PluginConflictError, PluginLoadError, UnknownNameError

KINDS = (
    "layer",
    "optimizer",
    "loss",
    "metric",
    "callback",
    "initializer",
    "regularizer",
    "constraint",
    "activation",
    "schedule",
    "application",
    "op",
    "function",
    "backend",
    "data_adapter",
    "model_format",
)

# Separates a plugin's name from an object's name in serialized configs, as in Keras.
PREFIX_SEPARATOR = ">"


@dataclass
class Entry:
    """One registered object: what it is called, who registered it, where it lives.

    ``target`` is the object, or a lazy ``"package.module:attribute"`` path imported by
    :meth:`load` on first use (so registering costs no import).
    """

    kind: str
    name: str
    target: Any
    plugin: str
    builtin: bool = False
    aliases: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    override: bool = False
    overrides: Entry | None = None
    _loaded: Any = field(default=None, init=False, repr=False)
    _is_loaded: bool = field(default=False, init=False, repr=False)

    @property
    def is_lazy(self) -> bool:
        return isinstance(self.target, str)

    @property
    def registered_name(self) -> str:
        """The name written into serialized configs: bare for built-ins, prefixed otherwise."""
        if self.builtin:
            return self.name
        return f"{self.plugin}{PREFIX_SEPARATOR}{self.name}"

    @property
    def path(self) -> str:
        """Import path of the target, whether or not it has been loaded."""
        if self.is_lazy:
            return self.target
        module = getattr(self.target, "__module__", None) or type(self.target).__module__
        qualname = getattr(self.target, "__qualname__", None) or type(self.target).__qualname__
        return f"{module}:{qualname}"

    def load(self) -> Any:
        """The registered object, importing it first if it was registered lazily.

        Raises:
            PluginLoadError: the lazy path does not import; the message names the plugin.
        """
        if not self._is_loaded:
            self._loaded = import_path(self.target, self) if self.is_lazy else self.target
            self._is_loaded = True
        return self._loaded


def import_path(path: str, entry: Entry | None = None) -> Any:
    """Import ``"package.module:attribute.sub"`` and return the attribute."""
    module_name, _, attribute = path.partition(":")
    owner = f" ({entry.kind} {entry.name!r} of plugin {entry.plugin!r})" if entry else ""
    try:
        obj = importlib.import_module(module_name)
        for part in filter(None, attribute.split(".")):
            obj = getattr(obj, part)
    except Exception as err:
        raise PluginLoadError(
            f"Cannot import {path!r}{owner}: {type(err).__name__}: {err}"
        ) from err
    return obj


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UnknownNameError(f"Unknown registry kind {kind!r}. Known kinds: {', '.join(KINDS)}.")


def _check_target(kind: str, name: str, target: Any) -> None:
    if not isinstance(name, str) or not name or PREFIX_SEPARATOR in name:
        raise TypeError(
            f"A {kind} name must be a non-empty string without {PREFIX_SEPARATOR!r}, got {name!r}."
        )
    if isinstance(target, str) and (":" not in target or target.startswith(":")):
        raise ValueError(
            f"A lazy {kind} target must look like 'package.module:attribute', got {target!r} "
            f"for {name!r}."
        )


# Called after any registry changes: caches that readers cannot check on each lookup (the
# public namespaces publish what they load as module attributes) drop what they hold.
_change_listeners: list[Callable[[], None]] = []


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener()`` after every change to any registry."""
    _change_listeners.append(listener)


class Registry:
    """Names to objects, per kind. Thread-safe; filled by plugins through :meth:`stage`."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}
        self._lock = threading.RLock()
        # Bumped by every change, so readers may cache lookups until it moves.
        self.generation = 0

    def _changed(self) -> None:
        self.generation += 1
        for listener in list(_change_listeners):
            listener()

    # -- reading -----------------------------------------------------------------------
    def names(self, kind: str) -> list[str]:
        """Sorted names (without aliases) registered for ``kind``."""
        check_kind(kind)
        return sorted(self._entries[kind])

    def entries(self, kind: str | None = None) -> Iterator[Entry]:
        """Every entry, or those of one kind, in registration order."""
        kinds = KINDS if kind is None else (kind,)
        for each in kinds:
            check_kind(each)
            yield from list(self._entries[each].values())

    def find(self, kind: str, name: str) -> Entry | None:
        """The entry called ``name`` (its name, an alias or its registered name), or None."""
        check_kind(kind)
        table = self._entries[kind]
        if name in table:
            return table[name]
        plugin, sep, bare = name.rpartition(PREFIX_SEPARATOR)
        for entry in table.values():
            if name in entry.aliases:
                return entry
            if sep and entry.name == bare and entry.plugin == plugin:
                return entry
        return None

    def get(self, kind: str, name: str) -> Entry:
        """The entry called ``name``.

        Raises:
            UnknownNameError: nothing of that kind is called ``name``; the message lists the
                close matches and every known name.
        """
        entry = self.find(kind, name)
        if entry is None:
            raise UnknownNameError(unknown_name_message(kind, name, self.all_names(kind)))
        return entry

    def load(self, kind: str, name: str) -> Any:
        """Shorthand for ``get(kind, name).load()``."""
        return self.get(kind, name).load()

    def all_names(self, kind: str) -> list[str]:
        """Names and aliases of ``kind``, sorted."""
        names = set(self._entries[kind])
        for entry in self._entries[kind].values():
            names.update(entry.aliases)
        return sorted(names)

    def find_object(self, kind: str, obj: Any) -> Entry | None:
        """The entry whose target is ``obj``, else the one whose target is ``obj``'s class.

        Lazy entries are matched by import path, so the search loads nothing.
        """
        for candidate in (obj, type(obj)):
            path = _path_of(candidate)
            for entry in self._entries[kind].values():
                if entry._is_loaded or not entry.is_lazy:
                    if entry.load() is candidate:
                        return entry
                elif path is not None and entry.target == path:
                    return entry
        return None

    # -- writing -----------------------------------------------------------------------
    def stage(self, plugin: str, *, builtin: bool) -> PluginRegistrar:
        """A registrar that collects one plugin's additions until :meth:`commit`."""
        return PluginRegistrar(self, plugin, builtin=builtin)

    def commit(self, registrar: PluginRegistrar) -> None:
        """Add a plugin's staged entries, all or none.

        An entry marked ``override=True`` wins over one of the same name without it, whichever
        plugin loaded first; the loser is kept as ``overrides`` so removing the winner restores it.

        Raises:
            PluginConflictError: an entry's name (or alias) is taken by another plugin and
                neither entry says ``override=True`` (or both do).
        """
        with self._lock:
            for entry in registrar.staged:
                self._check_conflict(entry)
            for entry in registrar.staged:
                existing = self._taken_by(entry)
                if existing is not None and existing.override and not entry.override:
                    existing.overrides = existing.overrides or entry
                    continue
                if existing is not None:
                    del self._entries[existing.kind][existing.name]
                    entry.overrides = existing
                self._entries[entry.kind][entry.name] = entry
            self._changed()

    def remove_entry(self, entry: Entry) -> None:
        """Drop one entry (a user class registered again under the same name replaces it)."""
        with self._lock:
            if self._entries[entry.kind].get(entry.name) is entry:
                del self._entries[entry.kind][entry.name]
            self._changed()

    def remove_plugin(self, plugin: str) -> list[Entry]:
        """Drop every entry a plugin added, restoring what its entries had overridden."""
        with self._lock:
            removed = [e for e in self.entries() if e.plugin == plugin]
            for entry in removed:
                del self._entries[entry.kind][entry.name]
                previous = entry.overrides
                if previous is not None and previous.plugin != plugin:
                    self._entries[previous.kind][previous.name] = previous
            for entry in self.entries():
                if entry.overrides is not None and entry.overrides.plugin == plugin:
                    entry.overrides = None
            self._changed()
            return removed

    def _taken_by(self, entry: Entry) -> Entry | None:
        for name in (entry.name, *entry.aliases):
            existing = self.find(entry.kind, name)
            if existing is not None:
                return existing
        return None

    def _check_conflict(self, entry: Entry) -> None:
        existing = self._taken_by(entry)
        if existing is None or existing.override != entry.override:
            return
        both = " Both say override=True; only one may." if entry.override else ""
        raise PluginConflictError(
            f"{entry.kind} {entry.name!r} is registered by both plugin {existing.plugin!r} "
            f"({existing.path}) and plugin {entry.plugin!r} ({entry.path}).{both} Rename one, "
            f"block one with KATMAN_BLOCK_PLUGINS, or pass override=True in the plugin that "
            f"should win."
        )


def _path_of(obj: Any) -> str | None:
    """``"module:qualname"`` of a function or class; None for other objects."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}:{qualname}"
    return None


def unknown_name_message(kind: str, name: Any, known: list[str]) -> str:
    close = difflib.get_close_matches(str(name), known, n=3)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    listing = ", ".join(known) if known else "none (no plugin registered any)"
    return f"Unknown {kind} {name!r}.{hint} Known {kind} names: {listing}."


class PluginRegistrar:
    """What a plugin's ``katman_register`` hook receives: adds objects under its name."""

    def __init__(self, registry: Registry, plugin: str, *, builtin: bool) -> None:
        self.plugin = plugin
        self.builtin = builtin
        self.staged: list[Entry] = []
        self._registry = registry

    def add(
        self,
        kind: str,
        name: str,
        target: Any,
        *,
        aliases: tuple[str, ...] | list[str] = (),
        override: bool = False,
        **metadata: Any,
    ) -> None:
        """Register ``target`` as the ``kind`` called ``name``.

        Args:
            kind: one of :data:`KINDS`, e.g. ``"loss"``.
            name: the public name, e.g. ``"MeanSquaredError"`` or ``"mean_squared_error"``.
            target: the object, or a lazy ``"package.module:attribute"`` import path.
            aliases: other names that resolve to it (``"mse"``).
            override: win over an entry another plugin registers under the same name.
            **metadata: kind-specific facts (see :meth:`add_backend`).
        """
        check_kind(kind)
        _check_target(kind, name, target)
        entry = Entry(
            kind=kind,
            name=name,
            target=target,
            plugin=self.plugin,
            builtin=self.builtin,
            aliases=tuple(aliases),
            metadata=metadata,
            override=override,
        )
        for staged in self.staged:
            shared = {name, *entry.aliases} & {staged.name, *staged.aliases}
            if staged.kind == kind and shared:
                raise PluginConflictError(
                    f"Plugin {self.plugin!r} registers {kind} {min(shared)!r} twice."
                )
        self.staged.append(entry)

    def add_backend(
        self,
        name: str,
        target: str,
        *,
        requires: tuple[str, ...] | list[str],
        install: str,
        deviations: str | None = None,
        override: bool = False,
    ) -> None:
        """Register a backend.

        Args:
            name: what users put in ``KATMAN_BACKEND``.
            target: lazy path of the :class:`katman.backend.Backend` subclass.
            requires: top-level modules that must be importable for the backend to be
                available (checked without importing them).
            install: the command that installs them, shown in error messages.
            deviations: lazy path of a ``{op or "op:check": reason}`` dict of the backend's
                known deviations, read by the conformance suite.
        """
        if not requires:
            raise ValueError(f"Backend {name!r} must name the modules it requires.")
        self.add(
            "backend",
            name,
            target,
            override=override,
            requires=tuple(requires),
            install=install,
            deviations=deviations,
        )

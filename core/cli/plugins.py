"""``katman plugins``: every plugin, where it came from, what it registered, what failed."""

from __future__ import annotations

import argparse
import json
from typing import Any

from katman.registry import PluginManager, plugin_manager

HELP = "List loaded plugins with their origin and registered objects, and failed plugins."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def run(args: argparse.Namespace) -> int:
    report = collect(plugin_manager())
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render(report))
    return 0


def collect(manager: PluginManager) -> dict[str, Any]:
    """The plugins report as plain data (what ``--json`` prints)."""
    registered: dict[str, dict[str, list[str]]] = {name: {} for name in manager.plugin_info}
    for entry in manager.registry.entries():
        registered.setdefault(entry.plugin, {}).setdefault(entry.kind, []).append(entry.name)
    plugins = [
        {
            "name": info.name,
            "source": info.source,
            "module": info.module,
            "distribution": info.distribution,
            "version": info.version,
            "registered": {kind: sorted(names) for kind, names in registered[name].items()},
        }
        for name, info in manager.plugin_info.items()
    ]
    failures = [
        {
            "name": failure.info.name,
            "entry_point": failure.entry_point,
            "distribution": failure.info.distribution,
            "version": failure.info.version,
            "cause": failure.cause,
        }
        for failure in manager.failures
    ]
    return {"plugins": plugins, "failed": failures}


def render(report: dict[str, Any]) -> str:
    lines = [f"{len(report['plugins'])} plugins loaded"]
    for plugin in report["plugins"]:
        origin = plugin["source"]
        if plugin["distribution"]:
            origin = f"{plugin['distribution']} {plugin['version']}"
        lines.append(f"  {plugin['name']}  [{origin}]  {plugin['module']}")
        for kind, names in plugin["registered"].items():
            lines.append(f"      {kind} ({len(names)}): {', '.join(names)}")
    if report["failed"]:
        lines.append(f"{len(report['failed'])} plugins failed to load")
        for failure in report["failed"]:
            origin = failure["distribution"] or "unknown distribution"
            if failure["version"]:
                origin += f" {failure['version']}"
            lines.append(
                f"  {failure['name']}  [{origin}]  entry point '{failure['entry_point']}': "
                f"{failure['cause']}"
            )
    return "\n".join(lines)

"""``katman ops``: every registered op and, per installed backend, how it runs there."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from katman.backend import selection
from katman.registry import get_registry

HELP = "List the registered ops and which backends run them (--markdown: the docs table)."

# Run in a fresh process per backend: the backend is fixed for the life of a process.
_PROBE = """
import json, katman
backend = katman.backend.get_backend()
support = {}
for entry in katman.registry.get_registry().entries("op"):
    op = entry.load()
    if op.kernels.get(backend.name) is not None or backend.kernels.get(op.name) is not None:
        support[entry.name] = "kernel"
    elif op.fallback is not None:
        support[entry.name] = "fallback"
print(json.dumps(support))
"""
_MARK = {"kernel": "✓", "fallback": "fallback", None: "—"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--markdown", action="store_true", help="print the docs/ops page")


def run(args: argparse.Namespace) -> int:
    registry = get_registry()
    backends = selection.installed_backends(registry)
    support = {name: _probe(name) for name in backends}
    ops = [(entry.name, entry.load().area) for entry in registry.entries("op")]
    ops.sort(key=lambda item: (item[1], item[0]))
    if args.markdown:
        print(_markdown(ops, backends, support))
    else:
        width = max(len(name) for name, _ in ops)
        print(f"{'op':<{width}}  {'area':<12}" + "".join(f"{b:<12}" for b in backends))
        for name, area in ops:
            marks = "".join(f"{_MARK[support[b].get(name)]:<12}" for b in backends)
            print(f"{name:<{width}}  {area:<12}{marks}")
    return 0


def _probe(backend: str) -> dict[str, str]:
    env = {**os.environ, "KATMAN_BACKEND": backend}
    result = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                            text=True, check=True)  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def keras_op_names() -> tuple[str, set[str]] | None:
    """Keras's version and the public names of ``keras.ops``, read from its source files."""
    spec = importlib.util.find_spec("keras")
    if spec is None or spec.origin is None:
        return None
    text = (Path(spec.origin).parent / "ops" / "__init__.py").read_text(encoding="utf-8")
    names = set(re.findall(r"import \w+ as (\w+)", text)) - {"image", "linalg", "nn", "numpy"}
    return metadata.version("keras"), names


def _markdown(ops: list[tuple[str, str]], backends: list[str], support: dict) -> str:
    names = {name for name, _ in ops}
    lines = [
        "# Ops coverage",
        "",
        "Generated from the registry by `katman ops --markdown > docs/ops-coverage.md`; a test",
        "keeps this page in sync. ✓: a kernel of the backend; fallback: the op's composite",
        "implementation in other ops; —: not available on that backend.",
        "",
    ]
    keras = keras_op_names()
    if keras is not None:
        version, keras_names = keras
        lines += [
            f"katman.ops has {len(ops)} ops, {len(names & keras_names)} of the "
            f"{len(keras_names)} names in `keras.ops` {version}.",
            "",
        ]
    lines.append("| op | area | " + " | ".join(backends) + " |")
    lines.append("|---|---|" + "---|" * len(backends))
    for name, area in ops:
        marks = " | ".join(_MARK[support[b].get(name)] for b in backends)
        lines.append(f"| `{name}` | {area} | {marks} |")
    return "\n".join(lines)

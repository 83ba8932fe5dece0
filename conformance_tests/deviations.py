"""Known deviations of the active backend: ``{"op": reason}`` or ``{"op:check": reason}``
(checks: ``values``, ``gradients``), declared by the backend's registration as
``add_backend(..., deviations="package.module:DEVIATIONS")``. A declared deviation turns a
failure into an expected one; one that no longer fails is reported as stale."""

from __future__ import annotations

import functools

from katman.backend import selection
from katman.registry._registry import import_path


@functools.cache
def declared() -> dict[str, str]:
    path = selection.resolve().entry.metadata.get("deviations")
    return dict(import_path(path)) if path else {}


def reason_for(op: str, check: str) -> str | None:
    table = declared()
    return table.get(f"{op}:{check}") or table.get(op)
